// ECharts, with only the charts and components the UI uses (a fraction of the full bundle), in
// the page's colours. Imported by the lazily loaded dashboard and peek pages only.

import { BarChart, HeatmapChart, LineChart, SankeyChart } from "echarts/charts";
import {
  CalendarComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
} from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import { useEffect, useRef } from "react";
import { useResolvedTheme } from "../lib/theme";

echarts.use([
  BarChart,
  LineChart,
  HeatmapChart,
  SankeyChart,
  CalendarComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type EChartsOption = echarts.EChartsCoreOption;

export interface Palette {
  fg: string;
  muted: string;
  faint: string;
  border: string;
  bg: string;
  elev: string;
  accent: string;
  ok: string;
  warn: string;
  danger: string;
  series: string[];
}

export function palette(): Palette {
  const s = getComputedStyle(document.documentElement);
  const v = (n: string) => s.getPropertyValue(n).trim();
  return {
    fg: v("--fg"),
    muted: v("--fg-muted"),
    faint: v("--fg-faint"),
    border: v("--border"),
    bg: v("--bg"),
    elev: v("--bg-elev"),
    accent: v("--accent"),
    ok: v("--ok"),
    warn: v("--warn"),
    danger: v("--danger"),
    series: [v("--accent"), v("--ok"), v("--warn"), "#8a3ffc", v("--hl-type"), v("--danger"), v("--hl-keyword")],
  };
}

export function EChart({
  option,
  className = "chart",
  label,
  onClick,
}: {
  /** Built from the palette, so charts follow the theme. */
  option: (p: Palette) => EChartsOption;
  className?: string;
  /** What the chart shows, for screen readers. */
  label: string;
  onClick?: (params: { name?: string; data?: unknown; value?: unknown }) => void;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const theme = useResolvedTheme();
  const clickRef = useRef(onClick);
  clickRef.current = onClick;

  useEffect(() => {
    if (!el.current) return;
    const c = echarts.init(el.current, undefined, { renderer: "canvas" });
    chart.current = c;
    c.on("click", (p) => clickRef.current?.(p as { name?: string; data?: unknown; value?: unknown }));
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    const p = palette();
    const reduced = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;
    chart.current?.setOption(
      {
        backgroundColor: "transparent",
        animation: !reduced,
        animationDuration: 400,
        textStyle: { color: p.fg, fontFamily: "inherit" },
        color: p.series,
        ...option(p),
      },
      { notMerge: true },
    );
  }, [option, theme]);

  return <div ref={el} className={className} role="img" aria-label={label} />;
}
