// The tool loop of one request (assistants and agent mode) as a timeline: which model answered
// each round and what it asked for, each tool call with its arguments, then its result, status
// and duration.

import type { AgentStep } from "../../api/types";
import { formatCount, formatMs, prettyArguments } from "../../lib/format";
import { stepItems, type StepItem } from "./steps";

const RESULT_BADGE = { ok: "ok", error: "error", denied: "error", cancelled: "warn" } as const;

function Step({ item }: { item: StepItem }) {
  switch (item.kind) {
    case "start":
      return (
        <li className="system" data-testid="step-start">
          <div className="t-head">
            Tool loop{item.assistant ? ` · assistant ${item.assistant}` : " · agent mode"} · <span className="mono">{item.model}</span>
            {item.maxIterations ? ` · up to ${item.maxIterations} rounds` : ""}
          </div>
          <div className="small muted">
            {item.tools.length ? (
              <>
                {item.tools.length} tool{item.tools.length === 1 ? "" : "s"} offered: <span className="mono">{item.tools.join(", ")}</span>
              </>
            ) : (
              "No MCP tools were offered."
            )}
          </div>
        </li>
      );
    case "model":
      return (
        <li className="assistant" data-testid="step-model">
          <div className="t-head">
            Round {item.round} · model <span className="mono">{item.target}</span>
            {item.ms !== undefined ? ` · ${formatMs(item.ms)}` : ""}
            {item.finishReason ? ` · finish: ${item.finishReason}` : ""}
            {item.tokens && (item.tokens.prompt !== undefined || item.tokens.completion !== undefined)
              ? ` · ${formatCount(item.tokens.prompt)} in / ${formatCount(item.tokens.completion)} out`
              : ""}
          </div>
          {item.content && <div className="t-body">{item.content}</div>}
          {item.toolCalls.length > 0 && (
            <div className="small muted" style={{ marginTop: 4 }}>
              Asked for: <span className="mono">{item.toolCalls.join(", ")}</span>
            </div>
          )}
        </li>
      );
    case "tool": {
      const r = item.result;
      return (
        <li className={r?.isError ? "attempt-fail" : "tool"} data-testid="step-tool">
          <div className="t-head">
            Tool call · <span className="mono">{item.name}</span>
            {item.id ? <span className="faint"> · {item.id}</span> : null}
          </div>
          {item.arguments !== undefined && <div className="t-body mono">{prettyArguments(item.arguments)}</div>}
          <div className="t-head" style={{ marginTop: 6 }}>
            Result{" "}
            {r ? (
              <>
                <span className={`badge ${RESULT_BADGE[r.status]}`} data-testid="step-status">
                  {r.status}
                </span>
                {r.ms !== undefined && r.status !== "denied" ? ` · ${formatMs(r.ms)}` : ""}
              </>
            ) : (
              <span className="badge warn">none recorded</span>
            )}
          </div>
          {r?.content && (
            <div className="t-body" style={r.isError ? { color: "var(--danger)" } : undefined}>
              {r.content}
            </div>
          )}
        </li>
      );
    }
    case "budget":
      return (
        <li className="reasoning" data-testid="step-budget">
          <div className="t-head">Budget · round {item.round}</div>
          <div className="small" style={{ color: "var(--warn)" }}>
            {item.note}
          </div>
        </li>
      );
  }
}

export function StepsView({ steps }: { steps: AgentStep[] }) {
  const items = stepItems(steps);
  if (!items.length) return <p className="muted">This request did not run the tool loop.</p>;
  return (
    <ol className="timeline" data-testid="steps">
      {items.map((it, i) => (
        <Step key={i} item={it} />
      ))}
    </ol>
  );
}
