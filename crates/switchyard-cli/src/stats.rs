//! `switchyard stats`: totals, then per model and per provider, over a window of the request log.

use std::process::ExitCode;

use switchyard_core::store::{GroupStats, Stats};

use crate::logdb::{Common, Failure, Log, Window, block_on, parse_window_arg};
use crate::output::{self, Table};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How far back to look: 24h, 7d, 30d…
    #[arg(long, default_value = "24h", value_parser = parse_window_arg)]
    window: Window,
    #[command(flatten)]
    common: Common,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let stats = block_on(async {
        let log = Log::open(&args.common).await?;
        let (since, until) = args.window.range();
        let stats = log.store.stats(&args.window.text, since, until).await;
        log.close().await;
        Ok(stats?)
    })?;
    let text = if args.common.json {
        output::json(&stats)?
    } else {
        render(&stats)
    };
    Ok(output::emit(&text))
}

fn render(s: &Stats) -> String {
    let mut out = format!(
        "Last {} ({} to {} UTC)\n\n",
        s.window,
        output::utc(s.since),
        output::utc(s.until)
    );
    let t = &s.total;
    if t.requests == 0 {
        out.push_str("No requests in this window.\n");
        return out;
    }
    let lines = [
        ("requests", t.requests.to_string()),
        ("errors", t.errors.to_string()),
        ("client-closed", t.client_closed.to_string()),
        ("latency p50", output::ms(t.latency_p50_ms)),
        ("latency p95", output::ms(t.latency_p95_ms)),
        ("latency p99", output::ms(t.latency_p99_ms)),
        ("TTFT p50", output::ms(t.ttft_p50_ms)),
        (
            "tokens",
            format!(
                "{} prompt, {} completion, {} cached, {} reasoning",
                t.prompt_tokens, t.completion_tokens, t.cached_tokens, t.reasoning_tokens
            ),
        ),
        ("cost", output::cost(Some(t.cost_usd))),
    ];
    for (name, value) in lines {
        out.push_str(&format!("{name:<14} {value}\n"));
    }
    out.push('\n');
    group_table("MODEL", &s.by_model, &mut out);
    out.push('\n');
    group_table("PROVIDER", &s.by_provider, &mut out);
    out
}

fn group_table(title: &str, groups: &[GroupStats], out: &mut String) {
    let mut table = Table::new(&[
        (title, false),
        ("REQUESTS", true),
        ("ERRORS", true),
        ("CLOSED", true),
        ("P50", true),
        ("P95", true),
        ("P99", true),
        ("TTFT P50", true),
        ("PROMPT", true),
        ("COMPLETION", true),
        ("COST", true),
    ]);
    for g in groups {
        table.row(vec![
            g.key.clone().unwrap_or_else(|| "(none)".to_owned()),
            g.requests.to_string(),
            g.errors.to_string(),
            g.client_closed.to_string(),
            output::ms(g.latency_p50_ms),
            output::ms(g.latency_p95_ms),
            output::ms(g.latency_p99_ms),
            output::ms(g.ttft_p50_ms),
            g.prompt_tokens.to_string(),
            g.completion_tokens.to_string(),
            output::cost(Some(g.cost_usd)),
        ]);
    }
    table.render(out);
}
