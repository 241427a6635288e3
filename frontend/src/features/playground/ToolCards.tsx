// Agent mode's tool calls inside an answer: a card per call with its arguments, then its result,
// status and duration; a call that waits for the user has Approve / Decline buttons.

import type { ToolCard } from "../../api/types";
import { formatMs, prettyArguments } from "../../lib/format";
import { approvalView } from "./agent";

const STATUS_LABEL: Record<ToolCard["status"], string> = {
  running: "running…",
  awaiting_approval: "waiting for you",
  ok: "ok",
  error: "error",
  denied: "declined",
  cancelled: "cancelled",
};

const STATUS_BADGE: Record<ToolCard["status"], string> = {
  running: "",
  awaiting_approval: "warn",
  ok: "ok",
  error: "error",
  denied: "error",
  cancelled: "warn",
};

export function ToolCallCard({ card, onAnswer }: { card: ToolCard; onAnswer?: (approvalId: string, approve: boolean) => void }) {
  const view = approvalView(card);
  const failed = card.is_error || card.status === "error" || card.status === "denied" || card.status === "cancelled";
  const [server, tool] = card.name.includes("__") ? [card.name.slice(0, card.name.indexOf("__")), card.name.slice(card.name.indexOf("__") + 2)] : ["", card.name];
  return (
    <section className={`tool-card ${card.status}${failed ? " failed" : ""}`} aria-label={`Tool call ${card.name}`} data-testid="tool-card" data-status={card.status}>
      <div className="tool-card-head">
        <span className="tool-card-name mono" title={card.name}>
          {server && <span className="faint">{server} · </span>}
          <strong>{tool}</strong>
        </span>
        <span className={`badge ${STATUS_BADGE[card.status]}`} data-testid="tool-status">
          {card.status === "running" && <span className="spinner" aria-hidden="true" />}
          {STATUS_LABEL[card.status]}
        </span>
        {card.ms !== undefined && card.status !== "denied" && (
          <span className="small faint" title="How long the tool took" data-testid="tool-ms">
            {formatMs(card.ms)}
          </span>
        )}
        {view === "approved" && <span className="small faint">approved by you</span>}
      </div>
      <pre className="tool-card-args" aria-label="Arguments">
        {prettyArguments(card.arguments)}
      </pre>
      {view === "ask" && (
        <div className="tool-card-approval" role="group" aria-label={`Approve ${card.name}?`}>
          <span className="grow">Run this tool call?</span>
          <button type="button" className="btn sm primary" onClick={() => onAnswer?.(card.approval_id!, true)} disabled={!onAnswer}>
            Approve
          </button>
          <button type="button" className="btn sm danger" onClick={() => onAnswer?.(card.approval_id!, false)} disabled={!onAnswer}>
            Decline
          </button>
        </div>
      )}
      {view === "sending" && <div className="tool-card-approval small muted">{card.decision === "approve" ? "Approving…" : "Declining…"}</div>}
      {card.decision_error && (
        <div className="small" role="alert" style={{ color: "var(--danger)" }}>
          {card.decision_error}
        </div>
      )}
      {card.content !== undefined && card.content !== "" && (
        <pre className={`tool-card-result${failed ? " error" : ""}`} aria-label="Result" data-testid="tool-result">
          {card.content}
        </pre>
      )}
    </section>
  );
}

export function ToolCardList({ cards, onAnswer }: { cards: ToolCard[]; onAnswer?: (approvalId: string, approve: boolean) => void }) {
  return (
    <div className="tool-cards">
      {cards.map((c) => (
        <ToolCallCard key={`${c.round}:${c.id}`} card={c} onAnswer={onAnswer} />
      ))}
    </div>
  );
}
