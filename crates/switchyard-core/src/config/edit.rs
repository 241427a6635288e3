//! Changes to the config file that keep what the user wrote: comments, order and formatting
//! survive because edits go through `toml_edit`, one entry or field at a time. Every edit is
//! validated as a whole file before it is written, atomically, next to the old one.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{Map, Value};
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table};

use super::{Config, ConfigError, ConfigIssue};

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the change was refused: {}", render(.0))]
    Invalid(Vec<ConfigIssue>),
    #[error("{0}")]
    Io(String),
}

fn render(issues: &[ConfigIssue]) -> String {
    issues
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A config document being edited.
#[derive(Debug)]
pub struct ConfigDoc {
    doc: DocumentMut,
}

impl ConfigDoc {
    pub fn parse(text: &str) -> Result<Self, EditError> {
        text.parse::<DocumentMut>()
            .map(|doc| Self { doc })
            .map_err(|e| {
                EditError::Invalid(vec![ConfigIssue {
                    path: String::new(),
                    message: e.message().to_owned(),
                }])
            })
    }

    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// The entry of an array of tables (`providers`, `aliases`, `keys`) with this name.
    pub fn entry(&self, array: &str, name: &str) -> Option<&Table> {
        self.doc
            .get(array)?
            .as_array_of_tables()?
            .iter()
            .find(|t| t.get("name").and_then(Item::as_str) == Some(name))
    }

    pub fn names(&self, array: &str) -> Vec<String> {
        self.doc
            .get(array)
            .and_then(Item::as_array_of_tables)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.get("name").and_then(Item::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn entry_mut(&mut self, array: &str, name: &str) -> Option<&mut Table> {
        self.doc
            .get_mut(array)?
            .as_array_of_tables_mut()?
            .iter_mut()
            .find(|t| t.get("name").and_then(Item::as_str) == Some(name))
    }

    /// Adds `[[array]] name = …` with these fields; refuses a name already taken.
    pub fn insert_entry(
        &mut self,
        array: &str,
        name: &str,
        fields: &Map<String, Value>,
    ) -> Result<(), EditError> {
        if self.entry(array, name).is_some() {
            return Err(EditError::Conflict(format!(
                "{array}: {name:?} already exists"
            )));
        }
        let mut table = Table::new();
        table.insert("name", toml_edit::value(name));
        merge_fields(&mut table, fields)?;
        let slot = self
            .doc
            .entry(array)
            .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
        let Some(list) = slot.as_array_of_tables_mut() else {
            return Err(EditError::Conflict(format!(
                "`{array}` in the file is not a list of [[{array}]] tables"
            )));
        };
        list.push(table);
        Ok(())
    }

    /// Sets (or with `null`, removes) fields of an existing entry; nested objects merge.
    pub fn update_entry(
        &mut self,
        array: &str,
        name: &str,
        fields: &Map<String, Value>,
    ) -> Result<(), EditError> {
        if fields.contains_key("name") {
            return Err(EditError::Conflict(
                "a name cannot be changed; remove the entry and add it again".into(),
            ));
        }
        let table = self
            .entry_mut(array, name)
            .ok_or_else(|| EditError::NotFound(format!("{array}: no entry named {name:?}")))?;
        merge_fields(table, fields)
    }

    /// Removes an entry; `false` when there was none.
    pub fn remove_entry(&mut self, array: &str, name: &str) -> bool {
        let Some(list) = self
            .doc
            .get_mut(array)
            .and_then(Item::as_array_of_tables_mut)
        else {
            return false;
        };
        let before = list.len();
        list.retain(|t| t.get("name").and_then(Item::as_str) != Some(name));
        before != list.len()
    }

    /// Sets top-level settings and `[section]` tables from a JSON object; `null` removes.
    pub fn update_settings(&mut self, fields: &Map<String, Value>) -> Result<(), EditError> {
        for key in fields.keys() {
            if matches!(key.as_str(), "providers" | "aliases" | "pools" | "keys") {
                return Err(EditError::Conflict(format!(
                    "`{key}` has its own endpoints; settings cannot replace it"
                )));
            }
        }
        merge_fields(self.doc.as_table_mut(), fields)
    }
}

fn merge_fields(table: &mut Table, fields: &Map<String, Value>) -> Result<(), EditError> {
    for (key, value) in fields {
        match value {
            Value::Null => {
                table.remove(key);
            }
            Value::Object(inner) => {
                let existing = table.get_mut(key);
                match existing {
                    Some(Item::Table(t)) => merge_fields(t, inner)?,
                    Some(Item::Value(toml_edit::Value::InlineTable(t))) => {
                        let mut as_table = t.clone().into_table();
                        merge_fields(&mut as_table, inner)?;
                        *t = as_table.into_inline_table();
                    }
                    _ => {
                        let mut t = Table::new();
                        merge_fields(&mut t, inner)?;
                        // Small nested settings read best inline; bigger ones as [sections].
                        if t.len() <= 4 && t.iter().all(|(_, v)| !v.is_table()) {
                            table.insert(key, Item::Value(t.into_inline_table().into()));
                        } else {
                            t.set_implicit(false);
                            table.insert(key, Item::Table(t));
                        }
                    }
                }
            }
            other => {
                let v = to_toml(other).ok_or_else(|| {
                    EditError::Invalid(vec![ConfigIssue {
                        path: key.clone(),
                        message: "this value cannot be written to TOML".into(),
                    }])
                })?;
                // Keep the comment that sat on the old value's line.
                match table.get_mut(key).and_then(Item::as_value_mut) {
                    Some(old) => {
                        let decor = old.decor().clone();
                        *old = v;
                        *old.decor_mut() = decor;
                    }
                    None => {
                        table.insert(key, Item::Value(v));
                    }
                }
            }
        }
    }
    Ok(())
}

fn to_toml(value: &Value) -> Option<toml_edit::Value> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64()?.into(),
        },
        Value::String(s) => s.as_str().into(),
        Value::Array(items) => {
            let mut a = Array::new();
            for item in items {
                a.push(to_toml(item)?);
            }
            a.into()
        }
        Value::Object(map) => {
            let mut t = InlineTable::new();
            for (k, v) in map {
                if let Some(v) = to_toml(v) {
                    t.insert(k, v);
                }
            }
            t.into()
        }
    })
}

/// The config file on disk, edited by one writer at a time.
pub struct ConfigFile {
    path: PathBuf,
    unusable: UnusableCheck,
    lock: tokio::sync::Mutex<()>,
}

/// What is wrong with a provider's settings that the gateway cannot run, if anything.
type UnusableCheck = Box<dyn Fn(&super::ProviderConfig) -> Option<String> + Send + Sync>;

impl std::fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What the file looked like when last read, to notice edits made by others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl ConfigFile {
    /// `usable` says whether the gateway can run a provider's settings (its CA file, its
    /// proxy). The providers layer knows, so whoever opens the file passes `providers::check`.
    pub fn new<E: std::fmt::Display + 'static>(
        path: PathBuf,
        usable: fn(&super::ProviderConfig) -> Result<(), E>,
    ) -> Self {
        Self {
            path,
            unusable: Box::new(move |p| usable(p).err().map(|e| e.to_string())),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn stamp(&self) -> Option<Stamp> {
        let meta = std::fs::metadata(&self.path).ok()?;
        Some(Stamp {
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }

    /// Reads and validates the file as it is now.
    pub async fn load(&self) -> Result<Config, ConfigError> {
        let _guard = self.lock.lock().await;
        Config::load(&self.path)
    }

    /// Applies `change` to the document, validates the result as a whole and writes it.
    /// Nothing is written when either step fails. A missing file starts empty.
    pub async fn edit<R>(
        &self,
        change: impl FnOnce(&mut ConfigDoc) -> Result<R, EditError>,
    ) -> Result<(R, Config), EditError> {
        let _guard = self.lock.lock().await;
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(EditError::Io(format!(
                    "cannot read {}: {e}",
                    self.path.display()
                )));
            }
        };
        let mut doc = ConfigDoc::parse(&text)?;
        let result = change(&mut doc)?;
        let new_text = doc.text();
        let config = Config::from_file_text(&new_text, &self.path).map_err(EditError::Invalid)?;
        // Valid TOML the gateway cannot run (an unreadable CA file, say) is refused too.
        let unusable: Vec<ConfigIssue> = config
            .providers
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                (self.unusable)(p).map(|message| ConfigIssue {
                    path: format!("providers[{i}]"),
                    message,
                })
            })
            .collect();
        if !unusable.is_empty() {
            return Err(EditError::Invalid(unusable));
        }
        write_atomically(&self.path, new_text.as_bytes())
            .map_err(|e| EditError::Io(format!("cannot write {}: {e}", self.path.display())))?;
        Ok((result, config))
    }
}

/// Writes to a temporary file beside `path`, syncs it and renames it over `path`, keeping the
/// old file's permissions. A crash leaves either the old file or the new one, never half.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    crate::files::create_dir(dir)?;
    let mut tmp = tempfile_in(dir)?;
    tmp.1.write_all(bytes)?;
    tmp.1.sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(&tmp.0, meta.permissions())?;
    }
    std::fs::rename(&tmp.0, path)?;
    Ok(())
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    for attempt in 0..16u32 {
        let name = format!(
            ".switchyard-config-{}-{attempt}.tmp",
            std::process::id() ^ fastrand::u32(..)
        );
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("cannot create a temporary file"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FILE: &str = r#"# My gateway
listen = "127.0.0.1:7137"  # the usual port

[[providers]]
name = "alpha"   # my main one
kind = "openai"
base_url = "http://127.0.0.1:9/v1"
models = ["m1"]

# fallbacks below
[[aliases]]
name = "smart"
targets = ["alpha/m1"]
"#;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn edits_keep_comments_and_order() {
        let mut doc = ConfigDoc::parse(FILE).unwrap();
        doc.update_entry(
            "providers",
            "alpha",
            &obj(json!({"models": ["m1", "m2"], "timeouts": {"total_ms": 5000}})),
        )
        .unwrap();
        doc.insert_entry("providers", "local", &obj(json!({"preset": "ollama"})))
            .unwrap();
        doc.update_settings(&obj(
            json!({"listen": "127.0.0.1:8000", "log": {"retention_days": 7}}),
        ))
        .unwrap();
        let text = doc.text();
        assert!(
            text.starts_with("# My gateway\nlisten = \"127.0.0.1:8000\"  # the usual port"),
            "{text}"
        );
        assert!(text.contains("name = \"alpha\"   # my main one"), "{text}");
        assert!(text.contains("# fallbacks below"), "{text}");
        assert!(text.contains("models = [\"m1\", \"m2\"]"), "{text}");
        assert!(text.contains("timeouts = { total_ms = 5000 }"), "{text}");
        let alpha = text.find("name = \"alpha\"").unwrap();
        let local = text.find("name = \"local\"").unwrap();
        assert!(alpha < local);
        let config = Config::from_toml(&text).unwrap();
        assert_eq!(config.providers.len(), 2);
        assert_eq!(config.log.settings.retention.as_secs(), 7 * 86_400);
    }

    #[test]
    fn entries_are_found_removed_and_guarded() {
        let mut doc = ConfigDoc::parse(FILE).unwrap();
        assert!(doc.entry("providers", "alpha").is_some());
        assert!(matches!(
            doc.insert_entry("providers", "alpha", &Map::new()),
            Err(EditError::Conflict(_))
        ));
        assert!(matches!(
            doc.update_entry("providers", "nope", &Map::new()),
            Err(EditError::NotFound(_))
        ));
        assert!(matches!(
            doc.update_entry("providers", "alpha", &obj(json!({"name": "beta"}))),
            Err(EditError::Conflict(_))
        ));
        doc.update_entry("providers", "alpha", &obj(json!({"models": null})))
            .unwrap();
        assert!(!doc.text().contains("models = [\"m1\"]"));
        assert!(doc.remove_entry("aliases", "smart"));
        assert!(!doc.remove_entry("aliases", "smart"));
        assert_eq!(doc.names("providers"), vec!["alpha".to_owned()]);
    }

    #[tokio::test]
    async fn invalid_edits_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, FILE).unwrap();
        let file = ConfigFile::new(path.clone(), |_| Ok::<(), String>(()));
        let err = file
            .edit(|doc| {
                doc.update_entry("providers", "alpha", &obj(json!({"base_url": "ftp://x"})))
            })
            .await
            .unwrap_err();
        match err {
            EditError::Invalid(issues) => {
                assert_eq!(issues[0].path, "providers[0].base_url", "{issues:?}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), FILE);
        let ((), config) = file
            .edit(|doc| doc.update_entry("providers", "alpha", &obj(json!({"enabled": false}))))
            .await
            .unwrap();
        assert!(!config.providers[0].enabled);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("enabled = false")
        );
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary files are left behind");
    }
}
