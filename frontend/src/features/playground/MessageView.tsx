// One message of the conversation: markdown for answers, reasoning collapsed above, the tool
// calls, and a line of facts (tokens, latency, time to first token, who answered, how it was
// routed: strategy, failover, skipped members, offline fallback; and a link to it in peek).

import { lazy, Suspense, useState } from "react";
import { Link } from "react-router";
import type { ChatMessage } from "../../api/types";
import { CopyButton } from "../../components/CopyButton";
import { formatCount, formatMs } from "../../lib/format";
import { TrailLine } from "../../components/TrailLine";
import { parseAttemptsHeader, worthShowing } from "../../lib/trail";
import { segments } from "./agent";
import { imagesOf, textOf } from "./conversation";
import { ToolCardList } from "./ToolCards";

const Markdown = lazy(() => import("../../components/Markdown"));

function Plain({ text }: { text: string }) {
  return <div style={{ whiteSpace: "pre-wrap" }}>{text}</div>;
}

export function MessageMeta({ message }: { message: ChatMessage }) {
  const m = message.meta;
  if (!m) return null;
  const trail = parseAttemptsHeader(m.attempts);
  const t = m.tokens;
  return (
    <div className="msg-meta" data-testid="message-meta">
      {m.target && (
        <span title="The provider and model that answered">
          <span aria-hidden="true">⇢ </span>
          <span className="mono">{m.target}</span>
        </span>
      )}
      {t && (t.prompt !== undefined || t.completion !== undefined) && (
        <span title="Tokens in (prompt) / out (completion)">
          {formatCount(t.prompt)} in · {formatCount(t.completion)} out
          {t.reasoning ? ` (${formatCount(t.reasoning)} reasoning)` : ""}
          {t.cached ? ` · ${formatCount(t.cached)} cached` : ""}
        </span>
      )}
      {m.ttft_ms !== undefined && m.ttft_ms !== null && <span title="Time to first token">TTFT {formatMs(m.ttft_ms)}</span>}
      {m.latency_ms !== undefined && <span title="From sending to the last token">{formatMs(m.latency_ms)} total</span>}
      {worthShowing(trail) && <TrailLine trail={trail} />}
      {m.stopped && <span className="badge warn">stopped</span>}
      {m.finish_reason && m.finish_reason !== "stop" && m.finish_reason !== "tool_calls" && (
        <span className="badge warn" title="Why the model stopped">
          {m.finish_reason}
        </span>
      )}
      {m.request_id && (
        <Link to={`/peek/${encodeURIComponent(m.request_id)}`} title="Open this request in peek">
          {m.request_id}
        </Link>
      )}
    </div>
  );
}

function AnswerText({ text }: { text: string }) {
  return (
    <Suspense fallback={<Plain text={text} />}>
      <Markdown text={text} />
    </Suspense>
  );
}

export function MessageView({
  message,
  streaming,
  onRegenerate,
  onEdit,
  onApproval,
  busy,
}: {
  message: ChatMessage;
  streaming: boolean;
  onRegenerate?: () => void;
  onEdit?: (text: string) => void;
  /** Agent mode: answers a tool call that waits for the user. */
  onApproval?: (approvalId: string, approve: boolean) => void;
  busy: boolean;
}) {
  const [editing, setEditing] = useState<string | null>(null);
  const text = textOf(message.content);
  const images = imagesOf(message.content);
  const error = message.meta?.error;
  const role = message.role === "assistant" ? "Assistant" : message.role === "user" ? "You" : message.role;

  return (
    <article className={`msg ${message.role}${error ? " error" : ""}`} aria-label={`${role} message`} data-testid={`msg-${message.role}`}>
      <div className="msg-role">
        <span>{role}</span>
        <span className="msg-actions">
          {text && !streaming && <CopyButton text={text} />}
          {onEdit && editing === null && (
            <button type="button" className="btn sm ghost" disabled={busy} onClick={() => setEditing(text)}>
              Edit
            </button>
          )}
          {onRegenerate && (
            <button type="button" className="btn sm ghost" disabled={busy} onClick={onRegenerate}>
              Regenerate
            </button>
          )}
        </span>
      </div>
      {editing !== null ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            onEdit?.(editing);
            setEditing(null);
          }}
        >
          <textarea
            aria-label="Edit message"
            value={editing}
            autoFocus
            rows={Math.min(12, Math.max(3, editing.split("\n").length + 1))}
            onChange={(e) => setEditing(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") {
                e.preventDefault();
                e.stopPropagation();
                setEditing(null);
              } else if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
                e.preventDefault();
                onEdit?.(editing);
                setEditing(null);
              }
            }}
          />
          <div className="row" style={{ marginTop: 6 }}>
            <button type="submit" className="btn primary sm" disabled={!editing.trim() && images.length === 0}>
              Save and send
            </button>
            <button type="button" className="btn sm" onClick={() => setEditing(null)}>
              Cancel
            </button>
            <span className="small faint">The answers after this message will be replaced.</span>
          </div>
        </form>
      ) : (
        <div className="msg-body">
          {message.reasoning && (
            <details className="reasoning">
              <summary>
                {streaming && !text ? "Reasoning…" : "Reasoning"} <span className="faint">({formatCount(message.reasoning.length)} characters)</span>
              </summary>
              <div className="reasoning-text">{message.reasoning}</div>
            </details>
          )}
          {message.role === "assistant" ? (
            <>
              {message.tool_cards?.length
                ? segments(text, message.tool_cards).map((part, i) =>
                    part.kind === "cards" ? <ToolCardList key={i} cards={part.cards} onAnswer={onApproval} /> : part.text ? <AnswerText key={i} text={part.text} /> : null,
                  )
                : text && <AnswerText text={text} />}
              {streaming && <span className="cursor muted" aria-hidden="true" />}
            </>
          ) : (
            text
          )}
          {message.tool_calls?.map((c) => (
            <div key={c.id || c.function.name} className="code">
              <div className="code-head">
                <span>tool call · {c.function.name}</span>
              </div>
              <pre>{c.function.arguments}</pre>
            </div>
          ))}
          {images.length > 0 && (
            <div className="msg-images">
              {images.map((src, i) => (
                <img key={i} src={src} alt={`Attached image ${i + 1}`} />
              ))}
            </div>
          )}
          {error && (
            <div className="banner error" role="alert" style={{ margin: text ? "8px 0 0" : 0 }}>
              <div className="grow">{error}</div>
            </div>
          )}
        </div>
      )}
      <MessageMeta message={message} />
    </article>
  );
}
