import { describe, expect, it } from "vitest";
import { ChatAssembler, SseParser, looksLikeSse, parseSse, reassembleSse } from "./sse";

describe("SseParser", () => {
  it("parses events split anywhere across chunks", () => {
    const text = 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser();
      const events = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut)), ...p.flush()];
      expect(events.map((e) => e.data)).toEqual(['{"a":1}', '{"b":2}', "[DONE]"]);
    }
  });

  it("handles CRLF, CR, comments, event names, ids and multi-line data", () => {
    const events = parseSse(": keep-alive\r\n\r\nevent: ping\r\nid: 7\r\ndata: one\rdata: two\r\r");
    expect(events).toEqual([{ event: "ping", id: "7", data: "one\ntwo" }]);
  });

  it("does not split a CRLF that arrives in two pieces", () => {
    const p = new SseParser();
    expect(p.push("data: x\r")).toEqual([]);
    expect(p.push("\n\r\n")).toEqual([{ event: "message", data: "x" }]);
  });

  it("keeps a value's leading spaces after the first and accepts fields without a colon", () => {
    expect(parseSse("data:  two spaces\n\n")[0].data).toBe(" two spaces");
    expect(parseSse("data\n\n")[0].data).toBe("");
  });

  it("flushes a final event that lacks its blank line", () => {
    const p = new SseParser();
    expect(p.push("data: last")).toEqual([]);
    expect(p.flush()).toEqual([{ event: "message", data: "last" }]);
  });

  it("tells SSE text from JSON", () => {
    expect(looksLikeSse('data: {"x":1}\n\n')).toBe(true);
    expect(looksLikeSse(": comment\ndata: 1\n\n")).toBe(true);
    expect(looksLikeSse('{"data": 1}')).toBe(false);
  });
});

const chunk = (delta: object, extra: object = {}) =>
  JSON.stringify({ id: "c1", model: "m", created: 1, choices: [{ index: 0, delta, finish_reason: null }], ...extra });

describe("ChatAssembler", () => {
  it("joins content and reasoning, and keeps the usage chunk", () => {
    const a = new ChatAssembler();
    a.pushData(chunk({ role: "assistant", content: "" }));
    a.pushData(chunk({ reasoning_content: "think " }));
    a.pushData(chunk({ reasoning_content: "hard" }));
    a.pushData(chunk({ content: "You " }));
    a.pushData(chunk({ content: "said" }));
    a.pushData(JSON.stringify({ id: "c1", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }));
    a.pushData(JSON.stringify({ id: "c1", choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } }));
    a.pushData("[DONE]");
    expect(a.choice()).toMatchObject({ content: "You said", reasoning: "think hard", finishReason: "stop" });
    expect(a.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3 });
    expect(a.done).toBe(true);
    expect(a.completion()).toMatchObject({
      object: "chat.completion",
      model: "m",
      choices: [{ message: { role: "assistant", content: "You said", reasoning_content: "think hard" } }],
      usage: { prompt_tokens: 5 },
    });
  });

  it("puts tool calls together by index", () => {
    const a = new ChatAssembler();
    a.pushData(chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }] }));
    a.pushData(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }));
    a.pushData(chunk({ tool_calls: [{ index: 1, id: "call_2", function: { name: "get_time", arguments: "{}" } }] }));
    a.pushData(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }));
    expect(a.choice().toolCalls).toEqual([
      { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
      { id: "call_2", type: "function", function: { name: "get_time", arguments: "{}" } },
    ]);
  });

  it("accepts `reasoning` as another name for reasoning_content", () => {
    const a = new ChatAssembler();
    a.pushData(chunk({ reasoning: "hmm" }));
    expect(a.choice().reasoning).toBe("hmm");
  });

  it("records an in-stream error frame and skips what is not JSON", () => {
    const a = new ChatAssembler();
    a.pushData(chunk({ content: "partial" }));
    a.pushData("{not json");
    a.pushData(JSON.stringify({ error: { message: "upstream went away", type: "server_error" } }));
    expect(a.error?.message).toBe("upstream went away");
    expect(a.done).toBe(false);
    expect(a.choice().content).toBe("partial");
  });
});

describe("reassembleSse", () => {
  it("turns a stored stream into the equivalent completion", () => {
    const text = [chunk({ content: "Hel" }), chunk({ content: "lo" }), "[DONE]"].map((d) => `data: ${d}\n\n`).join("");
    const r = reassembleSse(text);
    expect(r.events).toHaveLength(3);
    expect(r.done).toBe(true);
    expect(r.completion).toMatchObject({ choices: [{ message: { content: "Hello" } }] });
  });
});
