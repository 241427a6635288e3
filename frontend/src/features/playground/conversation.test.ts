import { describe, expect, it } from "vitest";
import type { ChatMessage, ModelCard } from "../../api/types";
import {
  beforeAnswer,
  buildRequest,
  chatModels,
  cleanParams,
  editAt,
  groupModels,
  imagesOf,
  routeKind,
  matchesQuery,
  textOf,
  titleFrom,
  userMessage,
} from "./conversation";

const card = (id: string, extra: Partial<ModelCard> = {}, caps: object = {}): ModelCard =>
  ({
    id,
    object: "model",
    owned_by: id.split("/")[0],
    provider: id.includes("/") ? id.split("/")[0] : null,
    capabilities: { chat: true, embeddings: false, vision: false, tools: false, reasoning: false, ...caps },
    ...extra,
  }) as ModelCard;

describe("conversation", () => {
  it("builds user messages with images as content parts", () => {
    expect(userMessage("hi", [])).toEqual({ role: "user", content: "hi" });
    const m = userMessage("what is this?", ["data:image/png;base64,AAAA"]);
    expect(m.content).toEqual([
      { type: "text", text: "what is this?" },
      { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
    ]);
    expect(textOf(m.content)).toBe("what is this?");
    expect(imagesOf(m.content)).toEqual(["data:image/png;base64,AAAA"]);
  });

  it("sends only what the API takes: system first, no reasoning or meta, no failed answers", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "one" },
      { role: "assistant", content: "", meta: { error: "boom" } },
      { role: "user", content: "two" },
      { role: "assistant", content: "answer", reasoning: "because", meta: { request_id: "req_1", latency_ms: 5 } },
    ];
    expect(buildRequest("m", "be brief", messages, { temperature: 0.2, max_tokens: 0 })).toEqual({
      model: "m",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "one" },
        { role: "user", content: "two" },
        { role: "assistant", content: "answer" },
      ],
      temperature: 0.2,
    });
    expect(buildRequest("m", "  ", [], {}).messages).toEqual([]);
  });

  it("leaves unset parameters out", () => {
    expect(cleanParams({ temperature: Number.NaN, top_p: 1, seed: 4.4, stop: ["", "END"], reasoning_effort: "high" })).toEqual({
      top_p: 1,
      seed: 4,
      stop: ["END"],
      reasoning_effort: "high",
    });
  });

  it("titles a session from the first message", () => {
    expect(titleFrom("  hello\n there ")).toBe("hello there");
    expect(titleFrom("")).toBe("New chat");
    const long = titleFrom("word ".repeat(30), 20);
    expect(long.endsWith("…")).toBe(true);
    expect(long.length).toBeLessThanOrEqual(21);
  });

  it("regenerates and edits by cutting the conversation", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: [{ type: "text", text: "a" }, { type: "image_url", image_url: { url: "data:x" } }] },
      { role: "assistant", content: "b" },
      { role: "user", content: "c" },
      { role: "assistant", content: "d" },
    ];
    expect(beforeAnswer(messages, 3)).toHaveLength(3);
    const edited = editAt(messages, 0, "a2");
    expect(edited).toHaveLength(1);
    expect(edited[0].content).toEqual([
      { type: "text", text: "a2" },
      { type: "image_url", image_url: { url: "data:x" } },
    ]);
    expect(editAt(messages, 1, "x")).toBe(messages);
  });

  it("lists chat models, aliases first, then by provider, and searches them", () => {
    const models = [
      card("alpha/gpt-4o-mini"),
      card("alpha/text-embedding-3-small", {}, { chat: false, embeddings: true }),
      card("beta/claude"),
      card("smart", { targets: ["alpha/gpt-4o-mini"], provider: null, owned_by: "switchyard" }),
    ];
    const chat = chatModels(models);
    expect(chat.map((m) => m.id)).toEqual(["alpha/gpt-4o-mini", "beta/claude", "smart"]);
    expect(groupModels(chat).map((g) => g.group)).toEqual(["Aliases", "alpha", "beta"]);
    expect(chat.filter((m) => matchesQuery(m, "alpha 4o")).map((m) => m.id)).toEqual(["alpha/gpt-4o-mini"]);
  });

  it("puts assistants in a group of their own, first, and finds them by description", () => {
    const assistant = card("researcher", {
      provider: null,
      owned_by: "switchyard",
      assistant: { model: "alpha/gpt-4o-mini", description: "Looks things up", servers: ["web"], tools: null, max_iterations: 10 },
    });
    const groups = groupModels([card("alpha/gpt-4o-mini"), card("smart", { targets: ["alpha/gpt-4o-mini"], provider: null }), assistant]);
    expect(groups.map((g) => g.group)).toEqual(["Assistants", "Aliases", "alpha"]);
    expect(matchesQuery(assistant, "looks up")).toBe(true);
  });

  it("lists pools apart from aliases and from single models", () => {
    const alias = card("fast", { provider: null, targets: ["alpha/gpt-4o-mini", "beta/m"], routing: { kind: "alias", strategy: "least_latency" } });
    const pool = card("vision", { provider: null, targets: ["alpha/gpt-4o"], routing: { kind: "pool", strategy: "ordered", require: "input image" } });
    const shared = card("gpt-4o-mini", { provider: null, targets: ["alpha/gpt-4o-mini", "beta/gpt-4o-mini"], routing: { kind: "model_pool", strategy: "ordered" } });
    const groups = groupModels([card("alpha/gpt-4o-mini"), pool, shared, alias]);
    expect(groups.map((g) => [g.group, g.models.map((m) => m.id)])).toEqual([
      ["Aliases", ["fast"]],
      ["Pools", ["vision", "gpt-4o-mini"]],
      ["alpha", ["alpha/gpt-4o-mini"]],
    ]);
    expect(routeKind(card("alpha/gpt-4o-mini"))).toBeNull();
  });

  it("sends agent mode's options with the request, and only then", () => {
    const agent = { servers: ["everything"], max_iterations: 4, approval: true };
    expect(buildRequest("m", null, [{ role: "user", content: "hi" }], {}, agent)).toEqual({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      agent,
    });
    expect(buildRequest("m", null, [], {}, null)).not.toHaveProperty("agent");
  });

  it("keeps tool cards at home: an agent answer goes back as its text", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: "echo hi" },
      {
        role: "assistant",
        content: "Tool said: Echo: hi",
        tool_cards: [{ id: "call_0", round: 1, name: "everything__echo", arguments: { message: "hi" }, at: 0, status: "ok", content: "Echo: hi", ms: 3 }],
      },
    ];
    expect(buildRequest("m", null, messages, {}).messages).toEqual([
      { role: "user", content: "echo hi" },
      { role: "assistant", content: "Tool said: Echo: hi" },
    ]);
  });
});
