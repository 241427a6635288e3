import { describe, expect, it } from "vitest";
import {
  describeOutcome,
  describeStrategy,
  describeTrail,
  fromAttempts,
  hadFailover,
  offlineAnswer,
  parseAttemptsHeader,
  tried,
  worthShowing,
} from "./trail";

describe("routing trail", () => {
  it("reads the strategy as a fact of the route, and a skipped member as neither ok nor failed", () => {
    const trail = parseAttemptsHeader("strategy=least_latency; beta/claude-sonnet-4-5=ok; alpha/gpt-4o-mini=skipped(context)");
    expect(trail.strategy).toBe("least_latency");
    expect(trail.fellBack).toBe(false);
    expect(trail.steps).toEqual([
      { target: "beta/claude-sonnet-4-5", outcome: "ok", ok: true },
      { target: "alpha/gpt-4o-mini", outcome: "skipped(context)", ok: false, skipped: "context" },
    ]);
    // A skip is no failover: only one member was sent the request, and it answered.
    expect(tried(trail).map((s) => s.target)).toEqual(["beta/claude-sonnet-4-5"]);
    expect(hadFailover(trail)).toBe(false);
    expect(worthShowing(trail)).toBe(true);
    expect(describeTrail(trail)).toBe("beta/claude-sonnet-4-5 → alpha/gpt-4o-mini (skipped: context too small)");
  });

  it("marks the local models tried offline, after fallback=local", () => {
    const trail = parseAttemptsHeader("strategy=ordered; alpha/gpt-4o-mini=connect_error; fallback=local; ollama/llama3.2=ok");
    expect(trail.fellBack).toBe(true);
    expect(trail.steps.map((s) => [s.target, s.fallback ?? false])).toEqual([
      ["alpha/gpt-4o-mini", false],
      ["ollama/llama3.2", true],
    ]);
    expect(offlineAnswer(trail)).toBe("ollama/llama3.2");
    expect(describeTrail(trail)).toBe("alpha/gpt-4o-mini (could not connect) → offline: ollama/llama3.2");
  });

  it("still reads the comma-separated header of older gateways and log rows", () => {
    const trail = parseAttemptsHeader("dead/m=connect_error, alpha/gpt-4o-mini=ok");
    expect(trail.strategy).toBeNull();
    expect(trail.steps).toEqual([
      { target: "dead/m", outcome: "connect_error", ok: false },
      { target: "alpha/gpt-4o-mini", outcome: "ok", ok: true },
    ]);
    expect(hadFailover(trail)).toBe(true);
    expect(describeTrail(trail)).toBe("dead/m (could not connect) → alpha/gpt-4o-mini");
  });

  it("keeps `=` inside a model id", () => {
    expect(parseAttemptsHeader("p/model=v2=503").steps).toEqual([{ target: "p/model=v2", outcome: "503", ok: false }]);
    expect(parseAttemptsHeader("strategy=weighted; p/a=b=ok").steps).toEqual([{ target: "p/a=b", outcome: "ok", ok: true }]);
  });

  it("has nothing to show for a pinned model that answered at once, or no header", () => {
    expect(worthShowing(parseAttemptsHeader("alpha/m=ok"))).toBe(false);
    expect(hadFailover(parseAttemptsHeader("alpha/m=ok"))).toBe(false);
    expect(parseAttemptsHeader(null)).toEqual({ strategy: null, fellBack: false, steps: [] });
    expect(parseAttemptsHeader("")).toEqual({ strategy: null, fellBack: false, steps: [] });
    // A route that chose is worth a line even when its first choice answered.
    expect(worthShowing(parseAttemptsHeader("strategy=round_robin; alpha/m=ok"))).toBe(true);
  });

  it("reads the request log's strategy and attempts", () => {
    const trail = fromAttempts(
      [
        { target: "v/m", outcome: "skipped(image)", elapsed_ms: 0 },
        { target: "a/m", outcome: "429", status: 429, elapsed_ms: 3, message: "slow down" },
        { target: "b/m", outcome: "connect_error", elapsed_ms: 1 },
        { target: "ollama/l", outcome: "ok", status: 200, elapsed_ms: 9, fallback: true },
      ],
      "cheapest",
    );
    expect(trail.strategy).toBe("cheapest");
    expect(trail.fellBack).toBe(true);
    expect(trail.steps[0]).toEqual({ target: "v/m", outcome: "skipped(image)", ok: false, skipped: "image", elapsedMs: 0 });
    expect(trail.steps[1]).toEqual({ target: "a/m", outcome: "429", ok: false, status: 429, elapsedMs: 3, message: "slow down" });
    expect(offlineAnswer(trail)).toBe("ollama/l");
    expect(describeTrail(trail)).toBe("v/m (skipped: no image input) → a/m (HTTP 429) → b/m (could not connect) → offline: ollama/l");
    expect(fromAttempts(undefined)).toEqual({ strategy: null, fellBack: false, steps: [] });
  });

  it("words outcomes and strategies for people", () => {
    expect(describeOutcome("timeout")).toBe("timed out");
    expect(describeOutcome("circuit_open")).toBe("circuit open, skipped");
    expect(describeOutcome("skipped(image)")).toBe("skipped: no image input");
    expect(describeOutcome("skipped(tools)")).toBe("skipped: no tools");
    expect(describeOutcome("skipped(context)")).toBe("skipped: context too small");
    expect(describeOutcome("skipped(new_reason)")).toBe("skipped: new reason");
    expect(describeOutcome("some_new_reason")).toBe("some new reason");
    expect(describeStrategy("least_latency")).toBe("least latency");
    expect(describeStrategy("ordered")).toBe("in order");
    expect(describeStrategy("newest_first")).toBe("newest first");
  });
});
