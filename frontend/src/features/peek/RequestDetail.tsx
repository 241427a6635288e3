// One logged request: its facts, then tabs for the timeline, the raw request and response
// (pretty JSON; a stream reassembled), its images, and the token flow.

import { useState } from "react";
import { useSettings } from "../../api/config";
import type { RequestDetail as Detail } from "../../api/types";
import { JsonBlock } from "../../components/CodeBlock";
import { Segmented, Tabs } from "../../components/Tabs";
import { TrailLine } from "../../components/TrailLine";
import { formatCost, formatCount, formatMs, formatTime } from "../../lib/format";
import { looksLikeSse, parseSse, reassembleSse } from "../../lib/sse";
import { describeStrategy, fromAttempts, worthShowing } from "../../lib/trail";
import { MediaImage } from "./MediaImage";
import { stepCounts, stepItems } from "./steps";
import { StepsView } from "./StepsView";
import { buildTimeline, imagesIn, type TimelineItem } from "./timeline";
import { TokenFlowView } from "./TokenFlowView";

type Tab = "timeline" | "steps" | "request" | "response" | "media" | "flow";

export function statusClass(status: number) {
  return status >= 500 || status === 499 ? "err" : status >= 400 ? "warn" : "ok";
}

function Item({ item, dataDir }: { item: TimelineItem; dataDir?: string }) {
  switch (item.kind) {
    case "tools":
      return (
        <li className="tool">
          <div className="t-head">Tools offered</div>
          <div className="mono small">{item.names.join(", ")}</div>
        </li>
      );
    case "message":
      return (
        <li className={item.role === "tool" ? "tool" : item.role}>
          <div className="t-head">
            {item.role === "tool" ? `Tool result${item.toolCallId ? ` · ${item.toolCallId}` : ""}` : item.role}
            {item.name ? ` · ${item.name}` : ""}
          </div>
          {item.text && <div className="t-body">{item.text}</div>}
          {item.images.length > 0 && (
            <div className="row" style={{ marginTop: 6 }}>
              {item.images.map((src, i) => (
                <MediaImage key={i} src={src} dataDir={dataDir} size={120} />
              ))}
            </div>
          )}
          {item.toolCalls.map((c, i) => (
            <div key={c.id || i} className="t-body mono" style={{ marginTop: 6 }}>
              <strong>call {c.name}</strong>
              {c.id ? <span className="faint"> · {c.id}</span> : null}
              {"\n"}
              {c.arguments}
            </div>
          ))}
        </li>
      );
    case "route":
      return (
        <li className="tool" data-testid="timeline-route">
          <div className="t-head">
            Route · strategy <span className="badge alias">{describeStrategy(item.strategy)}</span>
          </div>
        </li>
      );
    case "attempt":
      return (
        <li className={item.ok ? "assistant" : item.skipped !== undefined ? "attempt-skipped" : "attempt-fail"} data-testid="timeline-attempt">
          <div className="t-head">
            {item.skipped !== undefined ? "Skipped" : item.fallback ? "Offline fallback" : "Attempt"} · <span className="mono">{item.target}</span> · {item.outcome}
            {item.elapsedMs !== undefined ? ` · ${formatMs(item.elapsedMs)}` : ""}
          </div>
          {item.message && <div className="small muted">{item.message}</div>}
        </li>
      );
    case "reasoning":
      return (
        <li className="reasoning">
          <details>
            <summary className="t-head" style={{ cursor: "pointer" }}>
              Reasoning ({formatCount(item.text.length)} characters)
            </summary>
            <div className="t-body">{item.text}</div>
          </details>
        </li>
      );
    case "answer":
      return (
        <li className="assistant">
          <div className="t-head">Answer{item.finishReason ? ` · finish: ${item.finishReason}` : ""}</div>
          {item.text && (
            <div className="t-body" data-testid="answer-text">
              {item.text}
            </div>
          )}
          {item.toolCalls.map((c, i) => (
            <div key={c.id || i} className="t-body mono" style={{ marginTop: 6 }}>
              <strong>call {c.name}</strong>
              {c.id ? <span className="faint"> · {c.id}</span> : null}
              {"\n"}
              {c.arguments}
            </div>
          ))}
        </li>
      );
    case "error":
      return (
        <li className="attempt-fail">
          <div className="t-head">Error</div>
          <div className="t-body" style={{ color: "var(--danger)" }}>
            {item.message}
          </div>
        </li>
      );
  }
}

function ResponseBody({ r }: { r: Detail }) {
  const [view, setView] = useState<"reassembled" | "events">("reassembled");
  const body = r.response_body;
  if (body === null || body === undefined) return <p className="muted">No response body was captured (log.capture_bodies is off, or there was none).</p>;
  if (typeof body === "string" && looksLikeSse(body)) {
    const re = reassembleSse(body);
    return (
      <>
        <div className="row" style={{ marginBottom: 6 }}>
          <span className="small muted">
            A stream of {re.events.length} events{re.done ? ", ended by [DONE]" : ", without [DONE]"}.
          </span>
          <span className="spacer" />
          <Segmented
            label="Stream view"
            value={view}
            onChange={setView}
            options={[
              { id: "reassembled", label: "Reassembled" },
              { id: "events", label: "Events" },
            ]}
          />
        </div>
        {view === "reassembled" ? (
          <JsonBlock value={re.completion} title="reassembled completion" />
        ) : (
          <JsonBlock
            value={parseSse(body).map((e) => {
              try {
                return JSON.parse(e.data);
              } catch {
                return e.data;
              }
            })}
            title="events (data)"
          />
        )}
      </>
    );
  }
  return (
    <>
      {r.stream && (
        <p className="small muted">
          Streamed to the client; the gateway stored the stream reassembled, as the equivalent whole completion.
        </p>
      )}
      <JsonBlock value={body} title="response body" />
    </>
  );
}

export function RequestDetail({ r }: { r: Detail }) {
  const steps = r.steps ?? [];
  // A request that ran the tool loop opens on its steps.
  const [tab, setTab] = useState<Tab>(steps.length ? "steps" : "timeline");
  const counts = stepCounts(stepItems(steps));
  const settings = useSettings();
  const dataDir = settings.data?.data_dir;
  const items = buildTimeline(r);
  const images = [...new Set([...imagesIn(items), ...r.media.map((m) => `media:${m}`)])];
  const answered = r.provider ? `${r.provider}/${r.model}` : null;
  const trail = fromAttempts(r.attempts, r.strategy);

  return (
    <div className="card" data-testid="request-detail">
      <div className="card-head">
        <h2 className="mono" style={{ fontSize: 14 }}>
          {r.id}
        </h2>
        <span className={`status ${statusClass(r.status)}`}>{r.status}</span>
        <span className={`badge ${r.outcome === "ok" ? "ok" : r.outcome === "error" ? "error" : "warn"}`}>{r.outcome.replace("_", " ")}</span>
      </div>
      <dl className="facts">
        <div>
          <dt>Endpoint</dt>
          <dd className="mono small">
            {r.method} {r.endpoint}
          </dd>
        </div>
        <div>
          <dt>Model asked for</dt>
          <dd className="mono small">{r.requested_model ?? "—"}</dd>
        </div>
        <div>
          <dt>Answered by</dt>
          <dd className="mono small">{answered ?? "—"}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(r.started_at)}</dd>
        </div>
        <div>
          <dt>Latency</dt>
          <dd>{formatMs(r.latency_ms)}</dd>
        </div>
        <div>
          <dt>First token</dt>
          <dd>{r.stream ? formatMs(r.ttft_ms) : "not streamed"}</dd>
        </div>
        <div>
          <dt>Tokens in / out</dt>
          <dd data-testid="detail-tokens">
            {r.prompt_tokens ?? "—"} / {r.completion_tokens ?? "—"}
            {r.cached_tokens ? ` · ${r.cached_tokens} cached` : ""}
            {r.reasoning_tokens ? ` · ${r.reasoning_tokens} reasoning` : ""}
          </dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{formatCost(r.cost_usd)}</dd>
        </div>
        {worthShowing(trail) && (
          <div style={{ gridColumn: "1 / -1" }}>
            <dt>Routing</dt>
            <dd className="small">
              <TrailLine trail={trail} testId="detail-trail" />
            </dd>
          </div>
        )}
        <div style={{ gridColumn: "span 2" }}>
          <dt>Client</dt>
          <dd className="small" style={{ overflowWrap: "anywhere" }}>
            {r.key_name ? `key ${r.key_name} · ` : ""}
            {r.client ?? "—"}
          </dd>
        </div>
      </dl>
      {r.error && (
        <div className="banner error">
          <div className="grow">{r.error}</div>
        </div>
      )}
      <Tabs
        label="Request views"
        value={tab}
        onChange={setTab}
        tabs={[
          { id: "timeline", label: "Timeline" },
          ...(steps.length ? [{ id: "steps" as const, label: `Tool loop (${counts.rounds} round${counts.rounds === 1 ? "" : "s"}, ${counts.calls} call${counts.calls === 1 ? "" : "s"})` }] : []),
          { id: "request", label: "Request" },
          { id: "response", label: "Response" },
          { id: "media", label: `Media${images.length ? ` (${images.length})` : ""}` },
          { id: "flow", label: "Token flow" },
        ]}
      />
      {tab === "timeline" &&
        (items.length ? (
          <ol className="timeline" data-testid="timeline">
            {items.map((it, i) => (
              <Item key={i} item={it} dataDir={dataDir} />
            ))}
          </ol>
        ) : (
          <p className="muted">No bodies were captured for this request.</p>
        ))}
      {tab === "steps" && <StepsView steps={steps} />}
      {tab === "request" && (
        <>
          {r.request_truncated && <div className="banner warn">The request body was cut at log.max_body_bytes.</div>}
          {r.request_body === null ? <p className="muted">No request body was captured.</p> : <JsonBlock value={r.request_body} title="request body" />}
        </>
      )}
      {tab === "response" && (
        <>
          {r.response_truncated && <div className="banner warn">The response body was cut at log.max_body_bytes.</div>}
          <ResponseBody r={r} />
        </>
      )}
      {tab === "media" &&
        (images.length ? (
          <div className="row" style={{ alignItems: "flex-start" }}>
            {images.map((src) => (
              <MediaImage key={src} src={src} dataDir={dataDir} size={320} />
            ))}
          </div>
        ) : (
          <p className="muted">This request carried no images.</p>
        ))}
      {tab === "flow" && <TokenFlowView request={r} />}
    </div>
  );
}
