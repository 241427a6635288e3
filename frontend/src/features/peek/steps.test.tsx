import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { AgentStep } from "../../api/types";
import { stepCounts, stepItems } from "./steps";
import { StepsView } from "./StepsView";

/** The trail of an agent-mode request: one echo call approved, one declined, then the answer. */
const steps: AgentStep[] = [
  { type: "start", assistant: null, model: "alpha/gpt-4o-mini", tools: ["everything__echo", "everything__get-sum"], max_iterations: 10 },
  {
    type: "model",
    round: 1,
    target: "alpha/gpt-4o-mini",
    ms: 41.2,
    finish_reason: "tool_calls",
    content: "Let me check.",
    tool_calls: ["everything__echo", "everything__echo"],
    usage: { prompt_tokens: 120, completion_tokens: 9 },
  },
  { type: "tool_call", round: 1, id: "call_0", name: "everything__echo", arguments: { message: "yes" } },
  { type: "tool_call", round: 1, id: "call_1", name: "everything__echo", arguments: { message: "no" } },
  { type: "tool_result", round: 1, id: "call_1", name: "everything__echo", status: "denied", is_error: true, content: "The user declined this tool call.", ms: 0 },
  { type: "tool_result", round: 1, id: "call_0", name: "everything__echo", status: "ok", is_error: false, content: "Echo: yes", ms: 8.4 },
  { type: "model", round: 2, target: "alpha/gpt-4o-mini", ms: 30, finish_reason: "stop", content: "Tool said: Echo: yes", tool_calls: [], usage: null },
];

/** Markup to text, one line per block, for reading like a person would. */
const text = (html: string) =>
  html
    .replace(/<\/(li|div)>/g, "\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&amp;/g, "&")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

describe("peek: the tool loop's steps", () => {
  it("pairs each call with its result, whatever order the results came in", () => {
    const items = stepItems(steps);
    expect(items.map((i) => i.kind)).toEqual(["start", "model", "tool", "tool", "model"]);
    const tools = items.filter((i) => i.kind === "tool");
    expect(tools.map((t) => [t.id, t.result?.status])).toEqual([
      ["call_0", "ok"],
      ["call_1", "denied"],
    ]);
    expect(stepCounts(items)).toEqual({ rounds: 2, calls: 2 });
  });

  it("reads as a timeline: rounds with their model and timing, calls with arguments, results with status and ms", () => {
    const lines = text(renderToStaticMarkup(<StepsView steps={steps} />));
    expect(lines).toEqual([
      "Tool loop · agent mode · alpha/gpt-4o-mini · up to 10 rounds",
      "2 tools offered: everything__echo, everything__get-sum",
      "Round 1 · model alpha/gpt-4o-mini · 41 ms · finish: tool_calls · 120 in / 9 out",
      "Let me check.",
      "Asked for: everything__echo, everything__echo",
      "Tool call · everything__echo · call_0",
      "{",
      '"message": "yes"',
      "}",
      "Result ok · 8.4 ms",
      "Echo: yes",
      "Tool call · everything__echo · call_1",
      "{",
      '"message": "no"',
      "}",
      "Result denied",
      "The user declined this tool call.",
      "Round 2 · model alpha/gpt-4o-mini · 30 ms · finish: stop",
      "Tool said: Echo: yes",
    ]);
  });

  it("marks failed calls, a missing result and a budget that ran out", () => {
    const html = renderToStaticMarkup(
      <StepsView
        steps={[
          { type: "tool_call", round: 3, id: "c", name: "s__slow", arguments: "{}" },
          { type: "tool_call", round: 3, id: "d", name: "s__bad", arguments: {} },
          { type: "tool_result", round: 3, id: "d", name: "s__bad", status: "error", is_error: true, content: "no such file", ms: 2 },
          { type: "budget", round: 3, note: "the iteration budget ran out while the model still wanted tools" },
        ]}
      />,
    );
    expect(text(html)).toContain("Result none recorded");
    expect(html).toMatch(/<li class="attempt-fail"[^>]*>.*s__bad/);
    expect(html).toContain('<span class="badge error" data-testid="step-status">error</span>');
    expect(text(html)).toContain("the iteration budget ran out while the model still wanted tools");
  });

  it("says so when a request ran no loop", () => {
    expect(text(renderToStaticMarkup(<StepsView steps={[]} />))).toEqual(["This request did not run the tool loop."]);
  });
});
