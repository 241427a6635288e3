import { describe, expect, it } from "vitest";
import { buildTimeline, imagesIn, responseCompletion } from "./timeline";

describe("peek timeline", () => {
  it("shows the conversation, the tools offered, the attempts and the answer in order", () => {
    const items = buildTimeline({
      outcome: "ok",
      error: null,
      request_body: {
        model: "smart",
        tools: [{ type: "function", function: { name: "get_weather" } }],
        messages: [
          { role: "system", content: "be nice" },
          { role: "user", content: [{ type: "text", text: "weather?" }, { type: "image_url", image_url: { url: "media:req_1-req-0.png" } }] },
          { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
          { role: "tool", tool_call_id: "c1", content: "sunny" },
        ],
      },
      attempts: [
        { target: "dead/m", outcome: "connect_error", elapsed_ms: 1, message: "refused" },
        { target: "alpha/m", outcome: "ok", status: 200, elapsed_ms: 3 },
      ],
      response_body: { choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "It is sunny.", reasoning_content: "tool said sunny" } }] },
    });
    expect(items.map((i) => (i.kind === "message" ? `message:${i.role}` : i.kind))).toEqual([
      "tools",
      "message:system",
      "message:user",
      "message:assistant",
      "message:tool",
      "attempt",
      "attempt",
      "reasoning",
      "answer",
    ]);
    expect(items[0]).toEqual({ kind: "tools", names: ["get_weather"] });
    expect(items[3]).toMatchObject({ toolCalls: [{ id: "c1", name: "get_weather", arguments: '{"city":"Paris"}' }] });
    expect(items[4]).toMatchObject({ toolCallId: "c1", text: "sunny" });
    expect(items[5]).toMatchObject({ ok: false, outcome: "could not connect", message: "refused" });
    expect(items[8]).toMatchObject({ text: "It is sunny.", finishReason: "stop" });
    expect(imagesIn(items)).toEqual(["media:req_1-req-0.png"]);
  });

  it("ends with the error of a failed request", () => {
    const items = buildTimeline({
      outcome: "error",
      error: "context length exceeded",
      request_body: { messages: [{ role: "user", content: "Too long" }] },
      attempts: [{ target: "local/m", outcome: "400", status: 400 }],
      response_body: { error: { message: "context length exceeded" } },
    });
    expect(items.at(-1)).toEqual({ kind: "error", message: "context length exceeded" });
    expect(items.find((i) => i.kind === "attempt")).toMatchObject({ outcome: "HTTP 400" });
  });

  it("leads the attempts with the route's strategy, and keeps skipped and offline members apart", () => {
    const items = buildTimeline({
      outcome: "ok",
      error: null,
      strategy: "least_latency",
      request_body: { messages: [{ role: "user", content: "hi" }] },
      attempts: [
        { target: "small/m", outcome: "skipped(context)", elapsed_ms: 0 },
        { target: "cloud/m", outcome: "connect_error", elapsed_ms: 2 },
        { target: "ollama/llama3.2", outcome: "ok", status: 200, elapsed_ms: 40, fallback: true },
      ],
      response_body: null,
    });
    expect(items.slice(1)).toEqual([
      { kind: "route", strategy: "least_latency" },
      { kind: "attempt", target: "small/m", ok: false, skipped: "context", outcome: "skipped: context too small" },
      { kind: "attempt", target: "cloud/m", ok: false, outcome: "could not connect", elapsedMs: 2 },
      { kind: "attempt", target: "ollama/llama3.2", ok: true, fallback: true, outcome: "answered", status: 200, elapsedMs: 40 },
    ]);
  });

  it("reads an embeddings request and a stream stored as SSE text", () => {
    expect(buildTimeline({ outcome: "ok", error: null, request_body: { input: ["a", "b"] }, attempts: [], response_body: null })[0]).toMatchObject({
      role: "input",
      text: "a\nb",
    });
    const c = responseCompletion('data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n');
    expect(c).toMatchObject({ choices: [{ message: { content: "hi" } }] });
  });

  it("copes with no bodies", () => {
    expect(buildTimeline({ outcome: "ok", error: null, request_body: null, attempts: [], response_body: null })).toEqual([]);
  });
});
