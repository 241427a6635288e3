// ECharts options for the dashboard, built from the API's answers and the page's palette.

import type { EChartsOption, Palette } from "../../components/EChart";
import type { LatencyHistogram, TokenSeries } from "../../api/types";
import { formatCount } from "../../lib/format";

const axis = (p: Palette) => ({
  axisLine: { lineStyle: { color: p.border } },
  axisLabel: { color: p.muted },
  splitLine: { lineStyle: { color: p.border, opacity: 0.6 } },
});

const tooltip = (p: Palette) => ({
  trigger: "axis" as const,
  backgroundColor: p.elev,
  borderColor: p.border,
  textStyle: { color: p.fg },
});

const bound = (ms: number | null) => (ms === null ? "?" : ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${ms / 1000} s` : `${ms / 60_000} min`);

/** Bucket labels: `≤ 5 ms`, …, `> 1 min`. */
export function latencyLabels(h: LatencyHistogram): string[] {
  let prev: number | null = null;
  return h.buckets.map((b) => {
    const label = b.le_ms === null ? `> ${bound(prev)}` : `≤ ${bound(b.le_ms)}`;
    prev = b.le_ms;
    return label;
  });
}

export function latencyOption(h: LatencyHistogram) {
  return (p: Palette): EChartsOption => ({
    grid: { left: 40, right: 12, top: 16, bottom: 48 },
    tooltip: { ...tooltip(p), formatter: (items: { name: string; value: number }[]) => `${items[0].name}: ${items[0].value} requests` },
    xAxis: { type: "category", data: latencyLabels(h), ...axis(p), axisLabel: { color: p.muted, rotate: 35, fontSize: 10 } },
    yAxis: { type: "value", minInterval: 1, ...axis(p) },
    series: [{ type: "bar", data: h.buckets.map((b) => b.count), itemStyle: { color: p.accent, borderRadius: [3, 3, 0, 0] } }],
  });
}

/** Fills the buckets without traffic with zeros, so the line does not jump across gaps. */
export function densify(series: TokenSeries, since: number, until: number): TokenSeries["points"] {
  const step = series.bucket_ms;
  if (!step) return series.points;
  const byAt = new Map(series.points.map((pt) => [pt.at, pt]));
  const out: TokenSeries["points"] = [];
  const start = Math.floor(since / step) * step;
  for (let at = start; at <= until; at += step) {
    out.push(byAt.get(at) ?? { at, requests: 0, prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, reasoning_tokens: 0, cost_usd: 0 });
    if (out.length > 2000) break;
  }
  return out;
}

export function trafficOption(points: TokenSeries["points"], bucketMs: number) {
  const label = (at: number) => {
    const d = new Date(at);
    return bucketMs >= 86_400_000
      ? d.toLocaleDateString(undefined, { month: "short", day: "numeric" })
      : d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  };
  return (p: Palette): EChartsOption => ({
    grid: { left: 44, right: 32, top: 36, bottom: 28 },
    legend: { top: 0, textStyle: { color: p.muted } },
    tooltip: tooltip(p),
    xAxis: { type: "category", data: points.map((pt) => label(pt.at)), ...axis(p) },
    yAxis: [
      { type: "value", ...axis(p), axisLabel: { color: p.muted, formatter: (v: number) => formatCount(v) } },
      { type: "value", minInterval: 1, ...axis(p), splitLine: { show: false } },
    ],
    series: [
      { name: "Input tokens", type: "bar", stack: "tokens", data: points.map((pt) => pt.prompt_tokens), itemStyle: { color: p.accent } },
      { name: "Output tokens", type: "bar", stack: "tokens", data: points.map((pt) => pt.completion_tokens), itemStyle: { color: p.ok } },
      { name: "Requests", type: "line", yAxisIndex: 1, symbolSize: 4, data: points.map((pt) => pt.requests), itemStyle: { color: p.warn } },
    ],
  });
}
