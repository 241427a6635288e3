// The days with traffic, as a calendar heatmap of the last months; a click filters by day.

import { useMemo } from "react";
import type { TrafficDay } from "../../api/types";
import { EChart, type Palette } from "../../components/EChart";

const DAY = 86_400_000;

export function TrafficCalendar({ days, selected, onSelect }: { days: TrafficDay[]; selected: string | null; onSelect: (day: string | null) => void }) {
  const option = useMemo(() => {
    const end = new Date();
    const start = new Date(end.getTime() - 7 * 26 * DAY);
    const range = [start.toISOString().slice(0, 10), end.toISOString().slice(0, 10)];
    const max = Math.max(1, ...days.map((d) => d.requests));
    const byDay = new Map(days.map((d) => [d.day, d]));
    return (p: Palette) => ({
      tooltip: {
        backgroundColor: p.elev,
        borderColor: p.border,
        textStyle: { color: p.fg },
        formatter: (x: { value: [string, number] }) => {
          const d = byDay.get(x.value[0]);
          return `${x.value[0]}: ${d?.requests ?? 0} requests${d?.errors ? `, ${d.errors} errors` : ""}`;
        },
      },
      visualMap: { show: false, min: 0, max, inRange: { color: [p.elev, p.accent] } },
      calendar: {
        range,
        cellSize: ["auto", 13],
        top: 22,
        left: 28,
        right: 6,
        bottom: 4,
        splitLine: { show: false },
        itemStyle: { color: p.bg, borderColor: p.elev, borderWidth: 2 },
        dayLabel: { color: p.faint, fontSize: 9, firstDay: 1, nameMap: ["S", "M", "T", "W", "T", "F", "S"] },
        monthLabel: { color: p.muted, fontSize: 10 },
        yearLabel: { show: false },
      },
      series: [
        {
          type: "heatmap",
          coordinateSystem: "calendar",
          data: days.map((d) => [d.day, d.requests]),
          itemStyle: { borderColor: p.elev, borderWidth: 1 },
          emphasis: { itemStyle: { borderColor: p.fg, borderWidth: 1 } },
        },
        ...(selected
          ? [
              {
                type: "heatmap",
                coordinateSystem: "calendar",
                data: [[selected, byDay.get(selected)?.requests ?? 0]],
                itemStyle: { borderColor: p.warn, borderWidth: 2 },
              },
            ]
          : []),
      ],
    });
  }, [days, selected]);
  return (
    <EChart
      className="chart calendar"
      option={option}
      label={`Calendar of the days with traffic: ${days.length} days`}
      onClick={(e) => {
        const day = Array.isArray(e.value) ? String(e.value[0]) : null;
        if (day) onSelect(day === selected ? null : day);
      }}
    />
  );
}
