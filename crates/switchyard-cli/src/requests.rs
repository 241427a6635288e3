//! `switchyard requests`: the newest requests in the log, one line each, and
//! `switchyard requests show ID`: everything the log holds about one of them.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::Value;
use switchyard_core::store::{RequestDetail, RequestFilter, RequestPage, RequestSummary};

use crate::logdb::{Common, Failure, Log, Since, block_on, parse_since_arg};
use crate::output::{self, Table};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    show: Option<Show>,
    /// Only requests started since this time: unix ms, or a window back from now like 24h
    #[arg(long, value_parser = parse_since_arg)]
    since: Option<Since>,
    /// Only requests for this model (as requested, or as sent upstream)
    #[arg(long)]
    model: Option<String>,
    /// Only requests answered by this provider
    #[arg(long)]
    provider: Option<String>,
    /// Only requests that ended with this HTTP status (499: the client went away)
    #[arg(long)]
    status: Option<u16>,
    /// How many to list, 1-500 [default: 50]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=500))]
    limit: Option<u32>,
    /// Continue an earlier listing: the `next_cursor` it ended with
    #[arg(long)]
    cursor: Option<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Subcommand)]
enum Show {
    /// Everything about one request: summary, attempts, bodies, media files
    Show {
        /// The request id (the `x-switchyard-request-id` response header)
        id: String,
    },
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    match &args.show {
        Some(Show::Show { id }) => {
            let filtered = args.since.is_some()
                || args.model.is_some()
                || args.provider.is_some()
                || args.status.is_some()
                || args.limit.is_some()
                || args.cursor.is_some();
            if filtered {
                return Err(Failure::Usage(
                    "`requests show ID` takes only --json and --config; the filters are for the list"
                        .to_owned(),
                ));
            }
            show(id, &args.common)
        }
        None => list(args),
    }
}

fn list(args: &Args) -> Result<ExitCode, Failure> {
    let filter = RequestFilter {
        since: args.since.map(Since::to_ms),
        model: args.model.clone(),
        provider: args.provider.clone(),
        status: args.status,
        cursor: args.cursor.clone(),
        limit: Some(args.limit.unwrap_or(50)),
        ..RequestFilter::default()
    };
    let page = block_on(async {
        let log = Log::open(&args.common).await?;
        let page = log.store.list_requests(&filter).await;
        log.close().await;
        Ok(page?)
    })?;
    if args.common.json {
        return Ok(output::emit(&output::json(&page)?));
    }
    let code = output::emit(&render_list(&page));
    if let Some(cursor) = &page.next_cursor {
        crate::note(&format!("more: add --cursor {cursor}"));
    }
    Ok(code)
}

fn render_list(page: &RequestPage) -> String {
    if page.requests.is_empty() {
        return "No requests match.\n".to_owned();
    }
    let mut table = Table::new(&[
        ("TIME (UTC)", false),
        ("ID", false),
        ("STATUS", true),
        ("ENDPOINT", false),
        ("MODEL", false),
        ("LATENCY", true),
        ("TOKENS IN+OUT", true),
    ]);
    for r in &page.requests {
        table.row(vec![
            output::utc(r.started_at),
            r.id.clone(),
            r.status.to_string(),
            r.endpoint.clone(),
            route(r),
            output::ms(Some(r.latency_ms)),
            match (r.prompt_tokens, r.completion_tokens) {
                (None, None) => "-".to_owned(),
                (p, c) => format!("{}+{}", p.unwrap_or(0), c.unwrap_or(0)),
            },
        ]);
    }
    let mut out = String::new();
    table.render(&mut out);
    out
}

/// `requested → provider/model` (once when they are the same), or whichever half is known.
fn route(r: &RequestSummary) -> String {
    let requested = r.requested_model.as_deref().unwrap_or("-");
    match (&r.provider, &r.model) {
        (Some(p), Some(m)) if requested == format!("{p}/{m}") => requested.to_owned(),
        (Some(p), Some(m)) => format!("{requested} → {p}/{m}"),
        (Some(p), None) => format!("{requested} → {p}"),
        _ => requested.to_owned(),
    }
}

fn show(id: &str, common: &Common) -> Result<ExitCode, Failure> {
    let (detail, db) = block_on(async {
        let log = Log::open(common).await?;
        let detail = log.store.get_request(id).await;
        let db = log.db.clone();
        log.close().await;
        Ok((detail?, db))
    })?;
    let Some(detail) = detail else {
        return Err(Failure::NotFound {
            id: id.to_owned(),
            db,
        });
    };
    let text = if common.json {
        output::json(&detail)?
    } else {
        let media_dir = db.parent().map(|d| d.join("media")).unwrap_or_default();
        render_detail(&detail, &media_dir)
    };
    Ok(output::emit(&text))
}

fn render_detail(d: &RequestDetail, media_dir: &std::path::Path) -> String {
    let s = &d.summary;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let lines = [
        ("id", s.id.clone()),
        (
            "time",
            format!(
                "{}.{:03} UTC",
                output::utc(s.started_at),
                s.started_at.rem_euclid(1000)
            ),
        ),
        ("endpoint", format!("{} {}", s.method, s.endpoint)),
        ("client", opt(&s.client)),
        ("key", opt(&s.key_name)),
        ("model", route(s)),
        (
            "strategy",
            d.strategy.clone().unwrap_or_else(|| "-".to_owned()),
        ),
        ("stream", if s.stream { "yes" } else { "no" }.to_owned()),
        ("status", format!("{} ({})", s.status, s.outcome)),
        ("error", opt(&s.error)),
        ("latency", output::ms(Some(s.latency_ms))),
        ("TTFT", output::ms(s.ttft_ms)),
        (
            "tokens",
            format!(
                "{} prompt, {} completion, {} cached, {} reasoning",
                output::count(s.prompt_tokens),
                output::count(s.completion_tokens),
                output::count(s.cached_tokens),
                output::count(s.reasoning_tokens)
            ),
        ),
        ("cost", output::cost(s.cost_usd)),
    ];
    let mut out = String::new();
    for (name, value) in lines {
        out.push_str(&format!("{name:<9} {value}\n"));
    }

    out.push_str("\nattempts\n");
    match d.attempts.as_array().filter(|a| !a.is_empty()) {
        None => out.push_str("  (none: no upstream was called)\n"),
        Some(attempts) => {
            let mut table = Table::new(&[
                ("  #", true),
                ("TARGET", false),
                ("OUTCOME", false),
                ("TIME", true),
                ("MESSAGE", false),
            ]);
            for (i, a) in attempts.iter().enumerate() {
                let field = |k: &str| match a.get(k) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                let outcome = if a.get("fallback") == Some(&Value::Bool(true)) {
                    format!("{} (offline fallback)", field("outcome"))
                } else {
                    field("outcome")
                };
                table.row(vec![
                    (i + 1).to_string(),
                    field("target"),
                    outcome,
                    format!("{} ms", field("elapsed_ms")),
                    field("message"),
                ]);
            }
            table.render(&mut out);
        }
    }

    body(
        "request body",
        d.request_body.as_ref(),
        d.request_truncated,
        &mut out,
    );
    body(
        "response body",
        d.response_body.as_ref(),
        d.response_truncated,
        &mut out,
    );

    if !d.media.is_empty() {
        out.push_str("\nmedia\n");
        for file in &d.media {
            out.push_str(&format!("  {}\n", media_dir.join(file).display()));
        }
    }
    out
}

fn body(title: &str, value: Option<&Value>, truncated: bool, out: &mut String) {
    let note = if truncated {
        " (truncated: only the first part was kept)"
    } else {
        ""
    };
    out.push_str(&format!("\n{title}{note}\n"));
    match value {
        None => out.push_str("(not captured)\n"),
        // Not JSON (or cut short): shown as stored.
        Some(Value::String(text)) => {
            out.push_str(text);
            out.push('\n');
        }
        Some(v) => {
            out.push_str(&serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()));
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use switchyard_core::store::RequestDetail;

    use super::render_detail;

    #[test]
    fn a_detail_names_the_strategy_and_marks_offline_fallbacks() {
        let detail: RequestDetail = serde_json::from_value(json!({
            "id": "req_1", "started_at": 0, "method": "POST", "endpoint": "/v1/chat/completions",
            "client": null, "key_name": null, "requested_model": "smart", "provider": "ollama",
            "model": "qwen3", "stream": false, "status": 200, "outcome": "ok", "error": null,
            "latency_ms": 12.0, "ttft_ms": null, "prompt_tokens": null, "completion_tokens": null,
            "cached_tokens": null, "reasoning_tokens": null, "cost_usd": null,
            "attempts": [
                {"target": "cloud/gpt-4o", "outcome": "connect_error", "elapsed_ms": 1, "message": "refused"},
                {"target": "ollama/qwen3", "outcome": "ok", "elapsed_ms": 11, "fallback": true},
                {"target": "cloud/gpt-4o-mini", "outcome": "skipped(context)", "elapsed_ms": 0}
            ],
            "strategy": "least_latency", "request_body": null, "response_body": null,
            "request_truncated": false, "response_truncated": false, "media": [], "steps": []
        }))
        .unwrap();
        let text = render_detail(&detail, std::path::Path::new("/nowhere"));
        assert!(text.contains("\nstrategy  least_latency\n"), "{text}");
        let attempts = text.split("\nattempts\n").nth(1).unwrap();
        let line = |target: &str| {
            attempts
                .lines()
                .find(|l| l.contains(target))
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            line("ollama/qwen3").contains("ok (offline fallback)"),
            "{text}"
        );
        assert!(line("cloud/gpt-4o ").contains("connect_error"), "{text}");
        assert!(!line("cloud/gpt-4o ").contains("fallback"), "{text}");
        assert!(
            line("cloud/gpt-4o-mini").contains("skipped(context)"),
            "{text}"
        );
    }
}
