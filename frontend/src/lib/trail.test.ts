import { describe, expect, it } from "vitest";
import { describeOutcome, describeTrail, fromAttempts, hadFailover, parseAttemptsHeader } from "./trail";

describe("failover trail", () => {
  it("parses the header the gateway sends", () => {
    const steps = parseAttemptsHeader("dead/m=connect_error, alpha/gpt-4o-mini=ok");
    expect(steps).toEqual([
      { target: "dead/m", outcome: "connect_error", ok: false },
      { target: "alpha/gpt-4o-mini", outcome: "ok", ok: true },
    ]);
    expect(hadFailover(steps)).toBe(true);
    expect(describeTrail(steps)).toBe("dead/m (could not connect) → alpha/gpt-4o-mini");
  });

  it("keeps `=` inside a model id", () => {
    expect(parseAttemptsHeader("p/model=v2=503")).toEqual([{ target: "p/model=v2", outcome: "503", ok: false }]);
  });

  it("treats one clean attempt as no failover, and a missing header as none", () => {
    expect(hadFailover(parseAttemptsHeader("alpha/m=ok"))).toBe(false);
    expect(parseAttemptsHeader(null)).toEqual([]);
    expect(parseAttemptsHeader("")).toEqual([]);
  });

  it("reads the request log's attempts", () => {
    const steps = fromAttempts([
      { target: "a/m", outcome: "429", status: 429, elapsed_ms: 3, message: "slow down" },
      { target: "b/m", outcome: "ok", status: 200, elapsed_ms: 9 },
    ]);
    expect(steps[0]).toEqual({ target: "a/m", outcome: "429", ok: false, status: 429, elapsedMs: 3, message: "slow down" });
    expect(describeTrail(steps)).toBe("a/m (HTTP 429) → b/m");
  });

  it("words outcomes for people", () => {
    expect(describeOutcome("timeout")).toBe("timed out");
    expect(describeOutcome("circuit_open")).toBe("circuit open, skipped");
    expect(describeOutcome("some_new_reason")).toBe("some new reason");
  });
});
