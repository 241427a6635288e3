//! The core's layers, checked. Each top-level module belongs to one layer, and a module may use
//! its own layer and the ones below, never one above; nor may the modules form a cycle, whatever
//! their layers. A new module has to be placed in `LAYERS` first. `docs/architecture.md` draws
//! the same table.
//!
//! The check reads the sources: every `crate::…` path (in `use` lines and inline) names the
//! module it reaches into. Comments are skipped, so doc links do not count.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a check over our own sources: a file it cannot read is a failure to report"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Lowest first.
const LAYERS: &[(&str, &[&str])] = &[
    ("errors and files", &["error", "files"]),
    ("config", &["config", "catalog"]),
    (
        "providers, store, mcp, secrets",
        &[
            "secrets",
            "access",
            "record",
            "providers",
            "discovery",
            "capabilities",
            "store",
            "mcp",
            "onboarding",
        ],
    ),
    ("routing", &["routing", "metrics"]),
    ("server", &["server"]),
];

/// Third-party crates that only one module may use.
const CONFINED: &[(&str, &str)] = &[("sqlx", "store"), ("rmcp", "mcp"), ("keyring", "secrets")];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`server/messages/mod.rs` → `server`), or `None` for
/// `lib.rs`.
fn top_module(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    if first == "lib.rs" {
        return None;
    }
    Some(first.trim_end_matches(".rs").to_owned())
}

/// How many `super::` it takes to reach the crate root from the top of `file`.
fn depth(file: &Path) -> usize {
    let rel = file.strip_prefix(src()).unwrap();
    let parts = rel.components().count();
    if rel.file_name().is_some_and(|n| n == "mod.rs") {
        parts - 1
    } else {
        parts
    }
}

/// The line without its comment. A `//` inside a string that follows `:` (a URL) is kept.
fn code_of(line: &str) -> &str {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") {
        return "";
    }
    let mut from = 0;
    while let Some(i) = line[from..].find("//") {
        let at = from + i;
        if at == 0 || line.as_bytes()[at - 1] != b':' {
            return &line[..at];
        }
        from = at + 2;
    }
    line
}

fn ident_at(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first path segment of each item of a `{a::b, c, d::{e, f}}` group starting at `text`
/// (just after the `{`).
fn group_heads(text: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut at_item_start = true;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        let c = bytes[i] as char;
        match c {
            '{' => depth += 1,
            '}' => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            ',' if depth == 0 => at_item_start = true,
            c if c.is_whitespace() => {}
            _ => {
                if at_item_start && depth == 0 {
                    heads.push(ident_at(&text[i..]).to_owned());
                    at_item_start = false;
                }
            }
        }
        i += 1;
    }
    heads
}

/// Each module `file` reaches into through the crate root, with the line it does so on.
fn references(file: &Path) -> Vec<(String, usize)> {
    let text = fs::read_to_string(file).unwrap();
    // Groups span lines, so the code (comments removed) is read as one string, remembering
    // where each line starts.
    let mut code = String::new();
    let mut line_starts = Vec::new();
    for line in text.lines() {
        line_starts.push(code.len());
        code.push_str(code_of(line));
        code.push('\n');
    }
    let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset);
    let climb = "super::".repeat(depth(file));
    let mut found = Vec::new();
    for root in ["crate::", climb.as_str()] {
        let mut from = 0;
        while let Some(i) = code[from..].find(root) {
            let at = from + i;
            from = at + root.len();
            // `foo::super::` or a longer `super::` chain that merely contains this one.
            if at > 0 {
                let before = code.as_bytes()[at - 1] as char;
                if before.is_ascii_alphanumeric() || before == '_' || before == ':' {
                    continue;
                }
            }
            let rest = &code[from..];
            if let Some(group) = rest.strip_prefix('{') {
                for head in group_heads(group) {
                    found.push((head, line_of(at)));
                }
            } else {
                found.push((ident_at(rest).to_owned(), line_of(at)));
            }
        }
    }
    found
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

struct Graph {
    /// module → modules it uses → one place it does so (`file:line`).
    edges: BTreeMap<String, BTreeMap<String, String>>,
    modules: BTreeSet<String>,
}

fn graph() -> Graph {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut modules = BTreeSet::new();
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in &files {
        if let Some(m) = top_module(file) {
            modules.insert(m);
        }
    }
    for file in &files {
        let Some(from) = top_module(file) else {
            continue;
        };
        let rel = file.strip_prefix(src()).unwrap().display().to_string();
        for (to, line) in references(file) {
            if to != from && modules.contains(&to) {
                edges
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| format!("src/{rel}:{line}"));
            }
        }
    }
    Graph { edges, modules }
}

#[test]
fn every_module_has_a_layer() {
    let g = graph();
    let unplaced: Vec<_> = g.modules.iter().filter(|m| layer_of(m).is_none()).collect();
    assert!(
        unplaced.is_empty(),
        "top-level modules with no layer: {unplaced:?}; add each to LAYERS in tests/layers.rs \
         and to the diagram in docs/architecture.md"
    );
    for (_, mods) in LAYERS {
        for m in *mods {
            assert!(
                g.modules.contains(*m),
                "LAYERS names {m:?}, which no longer exists"
            );
        }
    }
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let g = graph();
    let mut upward = Vec::new();
    for (from, tos) in &g.edges {
        let (Some(low), _) = (layer_of(from), ()) else {
            continue;
        };
        for (to, place) in tos {
            if let Some(high) = layer_of(to)
                && high > low
            {
                upward.push(format!(
                    "{place}: `{from}` ({}) uses `{to}` ({})",
                    LAYERS[low].0, LAYERS[high].0
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a higher layer (move the type down, or the code up):\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_modules_form_no_cycle() {
    let g = graph();
    // Depth-first search; a back edge is a cycle, reported with the path that closes it.
    fn visit(
        g: &Graph,
        m: &str,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == m) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(m.to_owned());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        stack.push(m.to_owned());
        for to in g.edges.get(m).into_iter().flat_map(|t| t.keys()) {
            if let Some(cycle) = visit(g, to, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(m.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for m in &g.modules {
        if let Some(cycle) = visit(&g, m, &mut Vec::new(), &mut done) {
            let places: Vec<_> = cycle
                .windows(2)
                .map(|w| format!("  {} → {}  ({})", w[0], w[1], g.edges[&w[0]][&w[1]]))
                .collect();
            panic!(
                "the core's modules import each other in a cycle:\n{}",
                places.join("\n")
            );
        }
    }
}

#[test]
fn confined_crates_stay_in_their_module() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut strays = Vec::new();
    for file in &files {
        let module = top_module(file).unwrap_or_default();
        let text = fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = code_of(line);
            for (krate, owner) in CONFINED {
                let used = code.match_indices(krate).any(|(i, _)| {
                    let before = code[..i].chars().next_back();
                    let after = &code[i + krate.len()..];
                    !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                        && (after.starts_with("::") || after.starts_with('_'))
                });
                if used && module != *owner {
                    let rel = file.strip_prefix(src()).unwrap().display();
                    strays.push(format!("src/{rel}:{}: {krate} outside `{owner}`", n + 1));
                }
            }
        }
    }
    assert!(strays.is_empty(), "{}", strays.join("\n"));
}

/// The check itself: a reference inside a `{…}` group spanning lines is found, and a doc link
/// is not.
#[test]
fn references_are_read_through_groups_and_past_comments() {
    assert_eq!(
        group_heads("a::B, c, d::{e, f},\n    g::H}\nuse x;"),
        ["a", "c", "d", "g"]
    );
    assert_eq!(code_of("/// [`crate::server::Gateway`]"), "");
    assert_eq!(
        code_of("let u = \"http://x\"; // crate::server"),
        "let u = \"http://x\"; "
    );
    let g = graph();
    assert!(
        g.edges["server"].contains_key("routing"),
        "the server's use of routing was not seen: {:?}",
        g.edges["server"]
    );
}
