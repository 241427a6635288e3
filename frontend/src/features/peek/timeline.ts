// One request as a timeline: the conversation it carried (system, user, assistant turns with
// their tool calls, tool results), how it was routed and the targets the gateway tried or
// skipped, then the answer — reasoning, text, tool calls — or the error. Pure: built from the
// request log's detail.

import type { RequestDetail } from "../../api/types";
import { looksLikeSse, reassembleSse } from "../../lib/sse";
import { describeOutcome, fromAttempts } from "../../lib/trail";

export interface ToolCallView {
  id: string;
  name: string;
  arguments: string;
}

export type TimelineItem =
  | { kind: "message"; role: string; text: string; images: string[]; toolCalls: ToolCallView[]; toolCallId?: string; name?: string }
  | { kind: "tools"; names: string[] }
  | { kind: "route"; strategy: string }
  | {
      kind: "attempt";
      target: string;
      ok: boolean;
      /** Left out without being tried (`image`, `tools`, `context`). */
      skipped?: string;
      /** A local model tried offline. */
      fallback?: boolean;
      outcome: string;
      status?: number;
      elapsedMs?: number;
      message?: string;
    }
  | { kind: "reasoning"; text: string }
  | { kind: "answer"; text: string; toolCalls: ToolCallView[]; finishReason: string | null }
  | { kind: "error"; message: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const s = (v: unknown) => (typeof v === "string" ? v : v === null || v === undefined ? "" : JSON.stringify(v));

function toolCalls(v: unknown): ToolCallView[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((c) => {
    const f = isObj(c.function) ? c.function : {};
    return { id: s(c.id), name: s(f.name), arguments: s(f.arguments) };
  });
}

function content(v: unknown): { text: string; images: string[] } {
  if (typeof v === "string") return { text: v, images: [] };
  if (!Array.isArray(v)) return { text: s(v), images: [] };
  const texts: string[] = [];
  const images: string[] = [];
  for (const p of v) {
    if (!isObj(p)) continue;
    if (p.type === "image_url" && isObj(p.image_url)) images.push(s(p.image_url.url));
    else if (p.type === "image_url" && typeof p.image_url === "string") images.push(p.image_url);
    else if (typeof p.text === "string") texts.push(p.text);
    else texts.push(JSON.stringify(p));
  }
  return { text: texts.join("\n"), images };
}

/** The completion a response body describes: JSON as is, a stored SSE text reassembled. */
export function responseCompletion(body: unknown): Obj | null {
  if (typeof body === "string") {
    if (looksLikeSse(body)) return reassembleSse(body).completion;
    try {
      const parsed = JSON.parse(body);
      return isObj(parsed) ? parsed : null;
    } catch {
      return null;
    }
  }
  return isObj(body) ? body : null;
}

export function buildTimeline(r: Pick<RequestDetail, "request_body" | "response_body" | "attempts" | "error" | "outcome"> & { strategy?: string | null }): TimelineItem[] {
  const items: TimelineItem[] = [];
  const req = r.request_body;
  if (isObj(req)) {
    if (Array.isArray(req.tools) && req.tools.length) {
      items.push({
        kind: "tools",
        names: req.tools.filter(isObj).map((t) => (isObj(t.function) ? s(t.function.name) : s(t.name ?? t.type))),
      });
    }
    if (Array.isArray(req.messages)) {
      for (const m of req.messages) {
        if (!isObj(m)) continue;
        const c = content(m.content);
        items.push({
          kind: "message",
          role: s(m.role) || "user",
          text: c.text,
          images: c.images,
          toolCalls: toolCalls(m.tool_calls),
          ...(m.tool_call_id ? { toolCallId: s(m.tool_call_id) } : {}),
          ...(m.name ? { name: s(m.name) } : {}),
        });
      }
    } else if ("input" in req) {
      const input = req.input;
      items.push({ kind: "message", role: "input", text: Array.isArray(input) ? input.map(s).join("\n") : s(input), images: [], toolCalls: [] });
    }
  }
  if (r.strategy) items.push({ kind: "route", strategy: r.strategy });
  for (const s of fromAttempts(r.attempts).steps) {
    items.push({
      kind: "attempt",
      target: s.target,
      ok: s.ok,
      ...(s.skipped !== undefined ? { skipped: s.skipped } : {}),
      ...(s.fallback ? { fallback: true } : {}),
      outcome: describeOutcome(s.outcome),
      ...(s.status !== undefined ? { status: s.status } : {}),
      ...(s.elapsedMs !== undefined && s.skipped === undefined ? { elapsedMs: s.elapsedMs } : {}),
      ...(s.message ? { message: s.message } : {}),
    });
  }
  const completion = responseCompletion(r.response_body);
  const choices = completion && Array.isArray(completion.choices) ? completion.choices.filter(isObj) : [];
  for (const c of choices) {
    const m = isObj(c.message) ? c.message : {};
    const reasoning = s(m.reasoning_content ?? m.reasoning);
    if (reasoning) items.push({ kind: "reasoning", text: reasoning });
    items.push({ kind: "answer", text: content(m.content).text, toolCalls: toolCalls(m.tool_calls), finishReason: c.finish_reason ? s(c.finish_reason) : null });
  }
  const bodyError = completion && isObj(completion.error) ? s(completion.error.message) : "";
  if (r.outcome !== "ok" || bodyError) {
    const message = r.error || bodyError;
    if (message) items.push({ kind: "error", message });
  }
  return items;
}

/** Images a request carried: stored files (`media:NAME`) and inline data: URLs. */
export function imagesIn(items: TimelineItem[]): string[] {
  return items.flatMap((i) => (i.kind === "message" ? i.images : []));
}
