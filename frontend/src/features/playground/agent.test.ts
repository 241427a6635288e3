import { describe, expect, it } from "vitest";
import type { ModelCard, ToolCard } from "../../api/types";
import { ChatAssembler, SseParser } from "../../lib/sse";
import {
  agentFrom,
  agentRequest,
  applyNote,
  approvalView,
  cardsFrom,
  decide,
  decisionFailed,
  defaultAgent,
  segments,
  settleCards,
  withDecisions,
} from "./agent";

const chunk = (o: object) => `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", model: "alpha/m", ...o })}\n\n`;
const text = (t: string) => chunk({ choices: [{ index: 0, delta: { content: t } }] });
const note = (n: object) => chunk({ choices: [], switchyard: n });

/** Feeds an SSE text to the parser and assembler in small network-sized pieces, as the playground does. */
function stream(sse: string, pieces = 7): ChatAssembler {
  const parser = new SseParser();
  const a = new ChatAssembler();
  for (let i = 0; i < sse.length; i += pieces) for (const ev of parser.push(sse.slice(i, i + pieces))) a.pushData(ev.data);
  for (const ev of parser.flush()) a.pushData(ev.data);
  return a;
}

/** What the gateway streams for one echo call: text, the call, its result, the final text. */
const echoStream = [
  text("Let me ask "),
  text("the echo tool."),
  note({ type: "tool_call", round: 1, id: "call_0", name: "everything__echo", arguments: { message: "hi" } }),
  note({ type: "tool_result", round: 1, id: "call_0", name: "everything__echo", status: "ok", is_error: false, content: "Echo: hi", ms: 12.5 }),
  text("\n\n"),
  text("Tool said: Echo: hi"),
  chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
  "data: [DONE]\n\n",
].join("");

describe("agent mode: stream events into tool cards", () => {
  it("reads switchyard events beside the text, where they happened", () => {
    const a = stream(echoStream);
    expect(a.choice().content).toBe("Let me ask the echo tool.\n\nTool said: Echo: hi");
    expect(a.done).toBe(true);
    const cards = cardsFrom(a.notes);
    expect(cards).toEqual([
      {
        id: "call_0",
        round: 1,
        name: "everything__echo",
        arguments: { message: "hi" },
        at: "Let me ask the echo tool.".length,
        status: "ok",
        is_error: false,
        content: "Echo: hi",
        ms: 12.5,
      },
    ]);
    // The answer reads: text, the card, then the text after it.
    const parts = segments(a.choice().content, cards);
    expect(parts.map((p) => (p.kind === "text" ? p.text : p.cards.map((c) => c.name)))).toEqual([
      "Let me ask the echo tool.",
      ["everything__echo"],
      "Tool said: Echo: hi",
    ]);
  });

  it("shows a call as running until its result comes, then its status; errors stay errors", () => {
    let cards = applyNote([], { type: "tool_call", round: 1, id: "a", name: "s__one", arguments: {} }, 0);
    cards = applyNote(cards, { type: "tool_call", round: 1, id: "b", name: "s__two", arguments: { x: 1 } }, 0);
    expect(cards.map((c) => c.status)).toEqual(["running", "running"]);
    // Results arrive as the calls finish, in any order.
    cards = applyNote(cards, { type: "tool_result", round: 1, id: "b", name: "s__two", status: "error", is_error: true, content: "boom", ms: 4 }, 0);
    expect(cards.map((c) => c.status)).toEqual(["running", "error"]);
    cards = applyNote(cards, { type: "tool_result", round: 1, id: "a", name: "s__one", is_error: false, content: "fine" }, 0);
    expect(cards.map((c) => [c.status, c.is_error])).toEqual([
      ["ok", false],
      ["error", true],
    ]);
    // The same call id in a later round is another call.
    cards = applyNote(cards, { type: "tool_call", round: 2, id: "a", name: "s__one", arguments: {} }, 20);
    expect(cards).toHaveLength(3);
    // Events it does not know change nothing; a repeated announcement neither.
    expect(applyNote(cards, { type: "something_new" }, 0)).toBe(cards);
    expect(applyNote(cards, { type: "tool_call", round: 2, id: "a", name: "s__one" }, 0)).toBe(cards);
  });

  it("cancels what was still running or waiting when the stream ends", () => {
    const cards = cardsFrom([
      { at: 0, note: { type: "tool_call", round: 1, id: "a", name: "s__slow", arguments: {} } },
      { at: 0, note: { type: "tool_call", round: 1, id: "b", name: "s__fast", arguments: {} } },
      { at: 0, note: { type: "tool_result", round: 1, id: "b", name: "s__fast", status: "ok", content: "done" } },
    ]);
    expect(settleCards(cards).map((c) => c.status)).toEqual(["cancelled", "ok"]);
  });
});

describe("agent mode: approvals", () => {
  const waiting = (): ToolCard[] =>
    cardsFrom([
      { at: 5, note: { type: "tool_call", round: 1, id: "c1", name: "everything__echo", arguments: { message: "one" } } },
      { at: 5, note: { type: "approval_required", round: 1, id: "c1", approval_id: "apr_1", name: "everything__echo", arguments: { message: "one" } } },
    ]);

  it("asks, shows the answer on its way, then what the gateway did with it", () => {
    let cards = waiting();
    expect(cards[0].status).toBe("awaiting_approval");
    expect(approvalView(cards[0])).toBe("ask");
    cards = decide(cards, "apr_1", "approve");
    expect(approvalView(cards[0])).toBe("sending");
    cards = applyNote(cards, { type: "tool_result", round: 1, id: "c1", name: "everything__echo", status: "ok", content: "Echo: one", ms: 2 }, 5);
    expect(cards[0].status).toBe("ok");
    expect(approvalView(cards[0])).toBe("approved");
  });

  it("a declined call ends denied, as an error", () => {
    let cards = decide(waiting(), "apr_1", "decline");
    cards = applyNote(cards, { type: "tool_result", round: 1, id: "c1", name: "everything__echo", status: "denied", is_error: true, content: "The user declined this tool call.", ms: 0 }, 5);
    expect(cards[0]).toMatchObject({ status: "denied", is_error: true, decision: "decline" });
    expect(approvalView(cards[0])).toBe("declined");
  });

  it("brings the buttons back with the reason when the answer is not taken", () => {
    const cards = decisionFailed(decide(waiting(), "apr_1", "approve"), "apr_1", "The gateway is no longer waiting for this call.");
    expect(approvalView(cards[0])).toBe("ask");
    expect(cards[0].decision_error).toMatch(/no longer waiting/);
  });

  it("keeps the user's decisions when the stream's events are folded again", () => {
    const cards = withDecisions(waiting(), new Map([["apr_1", "decline" as const]]));
    expect(cards[0].decision).toBe("decline");
    expect(withDecisions(waiting(), new Map())[0].decision).toBeUndefined();
  });

  it("a call stopped while it waited shows no buttons", () => {
    expect(approvalView(settleCards(waiting())[0])).toBe("none");
  });
});

describe("agent mode: the request", () => {
  const plain = { id: "alpha/m", object: "model", owned_by: "alpha", provider: "alpha" } as ModelCard;
  const assistant = {
    ...plain,
    id: "researcher",
    provider: null,
    assistant: { model: "alpha/m", description: null, servers: ["web"], tools: null, max_iterations: 6 },
  } as ModelCard;

  it("is left out when agent mode is off", () => {
    expect(agentRequest(defaultAgent(), plain)).toBeNull();
  });

  it("names only what the user narrowed: all servers and tools are the gateway's default", () => {
    expect(agentRequest({ ...defaultAgent(), enabled: true }, plain)).toEqual({ max_iterations: 10 });
    expect(agentRequest({ enabled: true, servers: ["everything"], tools: ["everything__echo"], max_iterations: 3, approval: true }, plain)).toEqual({
      servers: ["everything"],
      tools: ["everything__echo"],
      max_iterations: 3,
      approval: true,
    });
  });

  it("an assistant runs its own loop: only approval is sent", () => {
    expect(agentRequest({ ...defaultAgent(), enabled: true, servers: ["x"] }, assistant)).toBeNull();
    expect(agentRequest({ ...defaultAgent(), approval: true }, assistant)).toEqual({ approval: true });
  });

  it("reads saved settings forgivingly", () => {
    expect(agentFrom(undefined)).toEqual(defaultAgent());
    expect(agentFrom({ enabled: true, servers: ["a", 3], tools: "x", max_iterations: 500, approval: "yes" })).toEqual({
      enabled: true,
      servers: ["a"],
      tools: null,
      max_iterations: 10,
      approval: false,
    });
  });
});
