import { describe, expect, it } from "vitest";
import type { Pool } from "../../api/types";
import { aliasChange, emptyPoolForm, formatRate, parseWeight, poolBody, poolForm, targetRows, weightProblem } from "./routing";

const pool = (over: Partial<Pool> = {}): Pool => ({
  name: "vision",
  require: { input: ["text", "image"], output: ["text"], tools: true, reasoning: null, min_context: 100000, min_output: 4096 },
  strategy: "least_latency",
  providers: ["alpha"],
  models: ["gpt-*", "claude-*"],
  fallback: "local",
  members: ["alpha/gpt-4o"],
  ...over,
});

describe("alias edits", () => {
  it("writes a target as a table only when its weight is not the default", () => {
    const rows = targetRows({ targets: ["a/m", "b/m"], weights: [3, 1] });
    expect(rows).toEqual([
      { id: "a/m", weight: 3 },
      { id: "b/m", weight: 1 },
    ]);
    expect(aliasChange(rows, "weighted", "local")).toEqual({ targets: [{ model: "a/m", weight: 3 }, "b/m"], strategy: "weighted", fallback: "local" });
  });

  it("removes a default strategy and fallback from the file instead of writing them", () => {
    expect(aliasChange([{ id: "a/m", weight: 1 }], "ordered", "none")).toEqual({ targets: ["a/m"], strategy: null, fallback: null });
    expect(aliasChange([{ id: "a/m", weight: 1 }], "least_latency", "none").strategy).toBe("least_latency");
  });

  it("takes whole weights from 0 up, and refuses a weighted alias with no weight above 0", () => {
    expect(parseWeight("3")).toBe(3);
    expect(parseWeight(" 0 ")).toBe(0);
    expect(parseWeight("-1")).toBeNull();
    expect(parseWeight("1.5")).toBeNull();
    expect(parseWeight("")).toBeNull();
    const zero = [{ id: "a/m", weight: 0 }];
    expect(weightProblem(zero, "weighted")).toMatch(/at least one target with a weight above 0/);
    expect(weightProblem(zero, "ordered")).toBeNull();
  });
});

describe("pool form", () => {
  it("round-trips a pool, keeping requirements the form does not show", () => {
    const p = pool();
    const f = poolForm(p);
    expect(f).toMatchObject({ name: "vision", image: true, audio: false, tools: true, minContext: "100000", providers: ["alpha"], models: "gpt-*, claude-*", fallback: "local" });
    const built = poolBody(f, p);
    expect(built).toEqual({
      body: {
        require: { input: ["text", "image"], output: ["text"], tools: true, reasoning: null, min_context: 100000, min_output: 4096 },
        strategy: "least_latency",
        providers: ["alpha"],
        models: ["gpt-*", "claude-*"],
        fallback: "local",
      },
    });
  });

  it("sends null for what was unticked or emptied, so the file loses it", () => {
    const f = { ...poolForm(pool({ require: { input: ["image"], output: [], tools: true, reasoning: null, min_context: null, min_output: null } })), image: false, tools: false };
    const built = poolBody({ ...f, providers: [], models: "  ", fallback: "none" }, pool());
    expect("body" in built && built.body).toMatchObject({
      require: { input: ["text"], tools: null, min_context: null },
      providers: null,
      models: null,
      fallback: null,
    });
    const fresh = poolBody({ ...emptyPoolForm(), name: "any", models: "llama*  qwen*" });
    expect("body" in fresh && fresh.body.require.input).toBeNull();
    expect("body" in fresh && fresh.body.models).toEqual(["llama*", "qwen*"]);
  });

  it("names the field when the least context window is not a number of tokens", () => {
    expect(poolBody({ ...emptyPoolForm(), minContext: "lots" })).toEqual({ error: "The least context window is a number of tokens above 0.", field: "min_context" });
    expect(poolBody({ ...emptyPoolForm(), minContext: "0" })).toMatchObject({ field: "min_context" });
    expect(poolBody({ ...emptyPoolForm(), minContext: "128,000" })).toMatchObject({ body: { require: { min_context: 128000 } } });
  });

  it("shows an error rate as a percent", () => {
    expect(formatRate(0)).toBe("0%");
    expect(formatRate(0.125)).toBe("12.5%");
    expect(formatRate(1)).toBe("100%");
  });
});
