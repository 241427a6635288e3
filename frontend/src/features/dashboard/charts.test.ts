import { describe, expect, it } from "vitest";
import { densify, latencyLabels } from "./charts";

describe("dashboard charts", () => {
  it("labels latency buckets, the last one open-ended", () => {
    const labels = latencyLabels({
      window: "24h",
      buckets: [
        { le_ms: 5, count: 1 },
        { le_ms: 1000, count: 0 },
        { le_ms: 60000, count: 0 },
        { le_ms: null, count: 2 },
      ],
    });
    expect(labels).toEqual(["≤ 5 ms", "≤ 1 s", "≤ 1 min", "> 1 min"]);
  });

  it("fills quiet buckets with zeros", () => {
    const pts = densify(
      { window: "3h", bucket_ms: 3_600_000, points: [{ at: 7_200_000, requests: 2, prompt_tokens: 5, completion_tokens: 1, cached_tokens: 0, reasoning_tokens: 0, cost_usd: 0 }] },
      0,
      10_000_000,
    );
    expect(pts.map((p) => [p.at, p.requests])).toEqual([
      [0, 0],
      [3_600_000, 0],
      [7_200_000, 2],
    ]);
  });
});
