// Streams one chat completion from `/v1/chat/completions`, measuring time to first token and
// reading the gateway's headers (request id, answering target, failover trail).

import { ChatAssembler, SseParser } from "../lib/sse";
import { authHeaders, errorFrom } from "./client";

export interface StreamResult {
  assembler: ChatAssembler;
  requestId: string | null;
  target: string | null;
  attempts: string | null;
  /** From sending to the first content, reasoning or tool-call delta. */
  ttftMs: number | null;
  /** From sending to the end of the stream. */
  latencyMs: number;
  aborted: boolean;
}

export interface StreamCallbacks {
  /** The response headers arrived: the gateway has picked its target. */
  onStart?: (info: { requestId: string | null; target: string | null; attempts: string | null }) => void;
  /** More of the answer arrived. Called at most once per animation frame's worth of chunks. */
  onUpdate?: (a: ChatAssembler) => void;
  signal?: AbortSignal;
  now?: () => number;
}

export async function streamChat(body: Record<string, unknown>, cb: StreamCallbacks = {}): Promise<StreamResult> {
  const now = cb.now ?? (() => performance.now());
  const started = now();
  const res = await fetch("/v1/chat/completions", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream", ...authHeaders() },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    signal: cb.signal,
  });
  const info = {
    requestId: res.headers.get("x-switchyard-request-id"),
    target: res.headers.get("x-switchyard-target"),
    attempts: res.headers.get("x-switchyard-attempts"),
  };
  if (!res.ok) {
    const err = await errorFrom(res);
    throw Object.assign(err, { requestId: info.requestId });
  }
  cb.onStart?.(info);
  const assembler = new ChatAssembler();
  const parser = new SseParser();
  let ttftMs: number | null = null;
  let aborted = false;
  const sawOutput = () => {
    const c = assembler.choice();
    return c.content.length > 0 || c.reasoning.length > 0 || c.toolCalls.length > 0;
  };
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  try {
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        const events = done ? [...parser.push(decoder.decode()), ...parser.flush()] : parser.push(decoder.decode(value, { stream: true }));
        for (const ev of events) assembler.pushData(ev.data);
        if (ttftMs === null && sawOutput()) ttftMs = now() - started;
        if (events.length) cb.onUpdate?.(assembler);
        if (done) break;
      }
    }
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") aborted = true;
    else throw e;
  }
  return { assembler, ...info, ttftMs, latencyMs: now() - started, aborted };
}
