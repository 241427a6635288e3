// The token-flow Sankey of one request, with what was measured and what was estimated.

import { useMemo } from "react";
import type { RequestDetail } from "../../api/types";
import { EChart, type Palette } from "../../components/EChart";
import { tokenFlow } from "../../lib/tokenflow";

export function TokenFlowView({ request }: { request: RequestDetail }) {
  const flow = useMemo(() => tokenFlow(request), [request]);
  const option = useMemo(() => {
    if (!flow) return null;
    return (p: Palette) => ({
      tooltip: {
        backgroundColor: p.elev,
        borderColor: p.border,
        textStyle: { color: p.fg },
        formatter: (x: { dataType: string; data: { source?: string; target?: string; value?: number; name?: string }; value: number }) =>
          x.dataType === "edge" ? `${x.data.source} → ${x.data.target}: ${x.data.value} tokens` : `${x.data.name}: ${x.value} tokens`,
      },
      series: [
        {
          type: "sankey",
          left: 8,
          right: 140,
          top: 12,
          bottom: 12,
          nodeAlign: "justify",
          nodeGap: 14,
          draggable: false,
          emphasis: { focus: "adjacency" },
          label: { color: p.fg, fontSize: 12, formatter: (x: { name: string; value: number }) => `${x.name}  ${x.value}` },
          lineStyle: { color: "gradient", opacity: 0.35, curveness: 0.5 },
          data: flow.nodes.map((n, i) => ({
            name: n.name,
            itemStyle: { color: n.side === "model" ? p.accent : n.side === "input" ? p.series[(i % 4) + 1] : n.name === "Reasoning" ? p.warn : n.name === "Tool calls" ? p.series[4] : p.ok },
          })),
          links: flow.links,
        },
      ],
    });
  }, [flow]);

  if (!flow || !option) {
    return <p className="muted">No tokens to show: the upstream reported no usage and the bodies were not captured (or this endpoint has none).</p>;
  }
  return (
    <div data-testid="token-flow">
      <div className="row small muted" style={{ marginBottom: 6 }}>
        <span>
          <strong style={{ color: "var(--fg)" }}>{flow.input.total}</strong> input tokens {flow.input.fromUsage ? "(reported)" : "(estimated)"}
        </span>
        <span>→ {flow.model} →</span>
        <span>
          <strong style={{ color: "var(--fg)" }}>{flow.output.total}</strong> output tokens {flow.output.fromUsage ? "(reported)" : "(estimated)"}
        </span>
      </div>
      <EChart className="chart tall" option={option} label={`Token flow: ${flow.input.total} input tokens to ${flow.model} to ${flow.output.total} output tokens`} />
      {flow.notes.length > 0 && (
        <div className="banner info" role="note" data-testid="token-flow-notes">
          <div className="grow small">
            {flow.notes.map((n) => (
              <div key={n}>{n}</div>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}
