import { describe, expect, it } from "vitest";
import { apportion, inputShares, outputChars, tokenFlow, type FlowInput } from "./tokenflow";

const base: FlowInput = {
  model: "gpt-4o-mini",
  requested_model: "smart",
  prompt_tokens: null,
  completion_tokens: null,
  cached_tokens: null,
  reasoning_tokens: null,
  request_body: null,
  response_body: null,
};

describe("apportion", () => {
  it("splits a total in proportion, in whole tokens that add up", () => {
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(apportion(7, [0, 5])).toEqual([0, 7]);
    expect(apportion(5, [0, 0])).toEqual([0, 0]);
    const parts = apportion(1234, [3.3, 7.7, 11, 0.01]);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(1234);
  });
});

describe("inputShares", () => {
  it("groups by role and source: text, images, tool results, tool calls, tool definitions", () => {
    const shares = inputShares({
      model: "m",
      messages: [
        { role: "system", content: "x".repeat(40) },
        { role: "user", content: [{ type: "text", text: "y".repeat(8) }, { type: "image_url", image_url: { url: "media:a.png", detail: "low" } }] },
        { role: "assistant", content: null, tool_calls: [{ id: "1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
        { role: "tool", tool_call_id: "1", content: "sunny" },
      ],
      tools: [{ type: "function", function: { name: "get_weather" } }],
    });
    expect(Object.fromEntries(shares)).toEqual({
      "System · text": 4 + 10,
      "User · text": 4 + 2,
      "User · images": 85,
      "Assistant · text": 4,
      "Assistant · tool calls": 3 + 4,
      "Tool · results": 4 + 2,
      "Tools · definitions": 14,
    });
  });

  it("reads an embeddings request's input", () => {
    expect(Object.fromEntries(inputShares({ model: "e", input: ["abcd", "efgh"] }))).toEqual({ "Input · text": 2 });
  });
});

describe("outputChars", () => {
  it("measures text, reasoning and tool calls of a completion", () => {
    expect(
      outputChars({
        choices: [{ message: { content: "abcd", reasoning_content: "12345678", tool_calls: [{ function: { name: "f", arguments: "{}" } }] } }],
      }),
    ).toEqual({ text: 4, reasoning: 8, toolCalls: 3 });
  });

  it("reassembles a stream stored as SSE text", () => {
    const sse = 'data: {"choices":[{"index":0,"delta":{"content":"ab"}}]}\n\ndata: {"choices":[{"index":0,"delta":{"content":"cd"}}]}\n\ndata: [DONE]\n\n';
    expect(outputChars(sse)).toEqual({ text: 4, reasoning: 0, toolCalls: 0 });
  });

  it("has nothing to say about an error body or no body", () => {
    expect(outputChars({ error: { message: "nope" } })).toBeNull();
    expect(outputChars(null)).toBeNull();
    expect(outputChars("not json")).toBeNull();
  });
});

describe("tokenFlow", () => {
  it("scales the estimated input split to the reported prompt tokens and says it is estimated", () => {
    const flow = tokenFlow({
      ...base,
      prompt_tokens: 42,
      completion_tokens: 4,
      request_body: { messages: [{ role: "system", content: "be nice" }, { role: "user", content: "hello there" }] },
      response_body: { choices: [{ message: { role: "assistant", content: "You said: hello there" } }] },
    });
    expect(flow).not.toBeNull();
    const f = flow!;
    const inputs = f.nodes.filter((n) => n.side === "input");
    expect(inputs.map((n) => n.name)).toEqual(["System · text", "User · text"]);
    expect(inputs.reduce((a, n) => a + n.value, 0)).toBe(42);
    expect(f.input).toEqual({ total: 42, fromUsage: true, splitEstimated: true });
    expect(f.output).toEqual({ total: 4, fromUsage: true, splitEstimated: false });
    expect(f.links).toContainEqual({ source: "gpt-4o-mini", target: "Text", value: 4 });
    expect(f.notes.join(" ")).toMatch(/estimated from the request body/);
  });

  it("takes reasoning tokens from the usage and splits the rest by length", () => {
    const f = tokenFlow({
      ...base,
      prompt_tokens: 10,
      completion_tokens: 100,
      reasoning_tokens: 60,
      request_body: { messages: [{ role: "user", content: "hi" }] },
      response_body: { choices: [{ message: { content: "x".repeat(30), reasoning_content: "r", tool_calls: [{ function: { name: "f", arguments: "x".repeat(9) } }] } }] },
    })!;
    const out = Object.fromEntries(f.nodes.filter((n) => n.side === "output").map((n) => [n.name, n.value]));
    expect(out).toEqual({ Text: 30, Reasoning: 60, "Tool calls": 10 });
    expect(f.input.splitEstimated).toBe(false);
    expect(f.output.splitEstimated).toBe(true);
    expect(f.notes.join(" ")).toMatch(/Reasoning tokens come from the usage/);
  });

  it("estimates the reasoning share from the text when the usage does not give it", () => {
    const f = tokenFlow({
      ...base,
      prompt_tokens: 5,
      completion_tokens: 20,
      reasoning_tokens: 0,
      request_body: { messages: [{ role: "user", content: "hi" }] },
      response_body: { choices: [{ message: { content: "x".repeat(25), reasoning_content: "y".repeat(75) } }] },
    })!;
    const out = Object.fromEntries(f.nodes.filter((n) => n.side === "output").map((n) => [n.name, n.value]));
    expect(out).toEqual({ Text: 5, Reasoning: 15 });
    expect(f.notes.join(" ")).toMatch(/does not split the output/);
  });

  it("estimates totals from the bodies when the upstream reported no usage", () => {
    const f = tokenFlow({
      ...base,
      request_body: { messages: [{ role: "user", content: "x".repeat(16) }] },
      response_body: { choices: [{ message: { content: "y".repeat(8) } }] },
    })!;
    expect(f.input).toEqual({ total: 8, fromUsage: false, splitEstimated: false });
    expect(f.output.total).toBe(2);
    expect(f.notes.some((n) => n.includes("reported no input tokens"))).toBe(true);
  });

  it("returns nothing when there is nothing to draw, and keeps node names unique", () => {
    expect(tokenFlow(base)).toBeNull();
    const f = tokenFlow({ ...base, model: "Text", prompt_tokens: 1, completion_tokens: 1, response_body: { choices: [{ message: { content: "a" } }] } })!;
    expect(f.model).toBe("Text (model)");
    expect(new Set(f.nodes.map((n) => n.name)).size).toBe(f.nodes.length);
  });

  it("notes cached input tokens", () => {
    const f = tokenFlow({ ...base, prompt_tokens: 100, cached_tokens: 80, completion_tokens: 1, request_body: { messages: [{ role: "user", content: "hi" }] } })!;
    expect(f.notes.join(" ")).toMatch(/80 of the input tokens were read from the provider's prompt cache/);
  });
});
