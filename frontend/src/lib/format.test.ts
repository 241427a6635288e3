import { describe, expect, it } from "vitest";
import { formatAgo, formatBytes, formatContext, formatCost, formatCount, formatMs, formatPercent } from "./format";

describe("format", () => {
  it("durations", () => {
    expect(formatMs(0.4567)).toBe("0.46 ms");
    expect(formatMs(4.13)).toBe("4.1 ms");
    expect(formatMs(226.9)).toBe("227 ms");
    expect(formatMs(1534)).toBe("1.53 s");
    expect(formatMs(75_000)).toBe("1 min 15 s");
    expect(formatMs(null)).toBe("—");
  });
  it("counts", () => {
    expect(formatCount(999)).toBe("999");
    expect(formatCount(1500)).toBe("1.5k");
    expect(formatCount(12_345)).toBe("12.3k");
    expect(formatCount(2_000_000)).toBe("2M");
  });
  it("money", () => {
    expect(formatCost(0)).toBe("$0");
    expect(formatCost(1.71e-5)).toBe("$0.000017");
    expect(formatCost(3.456)).toBe("$3.46");
    expect(formatCost(null)).toBe("—");
  });
  it("sizes, percents, context windows", () => {
    expect(formatBytes(1_048_576)).toBe("1 MiB");
    expect(formatPercent(1, 3)).toBe("33%");
    expect(formatPercent(0, 0)).toBe("0%");
    expect(formatContext(128_000)).toBe("128k ctx");
    expect(formatContext(1_000_000)).toBe("1M ctx");
    expect(formatContext(null)).toBeNull();
    expect(formatContext(64)).toBe("64 ctx");
  });
  it("relative times", () => {
    const now = 1_000_000_000_000;
    expect(formatAgo(now - 1000, now)).toBe("just now");
    expect(formatAgo(now - 90_000, now)).toBe("1 min ago");
    expect(formatAgo(new Date(now - 3 * 3_600_000).toISOString(), now)).toBe("3 h ago");
  });
});
