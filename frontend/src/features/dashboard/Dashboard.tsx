// The dashboard: what went through the gateway over 24h / 7d / 30d (from the request log), the
// live counters and provider health (polled), and how to point clients at this gateway.

import { useMemo, useState } from "react";
import { Link } from "react-router";
import { useProviders, useSettings } from "../../api/config";
import { useGatewayInfo, useHealth, useLatency, useModels, useStats, useStatsz, useTokenSeries } from "../../api/gateway";
import type { StatsGroup } from "../../api/types";
import { EChart } from "../../components/EChart";
import { ErrorBanner } from "../../components/ErrorBanner";
import { describeState, McpStatePill } from "../../components/McpState";
import { num, OneLine, Table } from "../../components/Table";
import { Segmented } from "../../components/Tabs";
import { formatCost, formatCount, formatMs, formatPercent } from "../../lib/format";
import { densify, latencyOption, trafficOption } from "./charts";
import { UsageGuides } from "./UsageGuides";

type Window = "24h" | "7d" | "30d";

function Kpi({ label, value, sub, testId }: { label: string; value: string; sub?: string; testId: string }) {
  return (
    <div className="kpi">
      <div className="label">{label}</div>
      <div className="value" data-testid={testId}>
        {value}
      </div>
      {sub && <div className="sub">{sub}</div>}
    </div>
  );
}

function GroupTable({ title, rows, keyLabel, nullLabel, testId }: { title: string; rows: StatsGroup[]; keyLabel: string; nullLabel: string; testId: string }) {
  return (
    <div className="card">
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="muted">No requests in this window.</p>
      ) : (
        <Table testId={testId} head={[keyLabel, num("Requests"), num("Errors"), num("p50"), num("p95"), num("TTFT p50"), num("Tokens in / out"), num("Cost")]}>
          {rows.map((r) => (
            <tr key={r.key ?? "(none)"}>
              <td className="mono">{r.key ?? <span className="faint">{nullLabel}</span>}</td>
              <td className="num">{r.requests}</td>
              <td className="num" style={r.errors ? { color: "var(--danger)" } : undefined}>
                {r.errors}
              </td>
              <td className="num">{formatMs(r.latency_p50_ms)}</td>
              <td className="num">{formatMs(r.latency_p95_ms)}</td>
              <td className="num">{formatMs(r.ttft_p50_ms)}</td>
              <td className="num">
                {formatCount(r.prompt_tokens)} / {formatCount(r.completion_tokens)}
              </td>
              <td className="num">{formatCost(r.cost_usd)}</td>
            </tr>
          ))}
        </Table>
      )}
    </div>
  );
}

function Health() {
  const health = useHealth();
  const statsz = useStatsz();
  return (
    <div className="card">
      <div className="card-head">
        <h2>Provider health</h2>
        {statsz.data && (
          <span className="small muted" data-testid="live-counters">
            {statsz.data.in_flight} in flight · up {formatMs(statsz.data.uptime_s * 1000)}
          </span>
        )}
      </div>
      <ErrorBanner error={health.error} />
      {health.data?.length === 0 && <p className="muted">No providers yet.</p>}
      <Table>
        {health.data?.map((p) => (
          <tr key={p.name}>
            <td>
              <strong>{p.name}</strong> <span className="faint small">{p.kind}</span>
              {!p.enabled && <span className="badge warn">disabled</span>}
              {p.problem && (
                <div className="small" style={{ color: "var(--danger)" }}>
                  {p.problem}
                </div>
              )}
            </td>
            <td>
              {p.targets.map((t) => (
                <div key={t.target} className="row" style={{ flexWrap: "nowrap" }}>
                  <span className={`pill ${t.circuit}`} title={`circuit ${t.circuit.replace("_", "-")}`}>
                    {t.circuit.replace("_", "-")}
                  </span>
                  <span className="mono small">{t.target}</span>
                </div>
              ))}
            </td>
            <td className="small muted" style={{ maxWidth: 360 }}>
              {p.targets
                .filter((t) => t.last_error)
                .map((t) => (
                  <OneLine key={t.target} title={t.last_error ?? ""}>
                    last error: {t.last_error}
                  </OneLine>
                ))}
            </td>
          </tr>
        ))}
      </Table>
    </div>
  );
}

/** MCP servers, live from /statsz: running, idle until used, or failed and why. */
function McpHealth() {
  const statsz = useStatsz();
  const servers = statsz.data?.mcp_servers;
  if (!servers) return null;
  return (
    <div className="card" data-testid="mcp-health" style={{ marginTop: 16 }}>
      <div className="card-head">
        <h2>MCP servers</h2>
        <Link className="btn sm" to="/settings/mcp">
          Manage
        </Link>
      </div>
      {servers.length === 0 ? (
        <p className="muted">
          None yet. <Link to="/settings/mcp">Add an MCP server</Link> to give models tools in agent mode and assistants.
        </p>
      ) : (
        <Table>
          {servers.map((s) => (
            <tr key={s.name} data-testid={`mcp-health-${s.name}`}>
              <td>
                <strong className="mono">{s.name}</strong> <span className="faint small">{s.transport}</span>
              </td>
              <td>
                <McpStatePill status={s} />
              </td>
              <td className="small muted">{describeState(s)}</td>
              <td className="small" style={{ maxWidth: 420, color: s.error ? "var(--danger)" : undefined }}>
                {s.error && <OneLine title={s.error}>{s.error}</OneLine>}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </div>
  );
}

export default function Dashboard() {
  const [win, setWin] = useState<Window>("24h");
  const stats = useStats(win);
  const latency = useLatency(win);
  const tokens = useTokenSeries(win);
  const providers = useProviders();
  const models = useModels();
  const settings = useSettings();
  const info = useGatewayInfo();

  const t = stats.data?.total;
  const points = useMemo(
    () => (tokens.data && stats.data ? densify(tokens.data, stats.data.since, stats.data.until) : []),
    [tokens.data, stats.data],
  );
  const traffic = useMemo(() => trafficOption(points, tokens.data?.bucket_ms ?? 0), [points, tokens.data?.bucket_ms]);
  const latencyChart = useMemo(() => (latency.data ? latencyOption(latency.data) : null), [latency.data]);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Dashboard</h1>
        <span className="small muted" title="Figures refresh every few seconds">
          {stats.isFetching ? "updating…" : "live"}
        </span>
        <Segmented
          label="Time window"
          value={win}
          onChange={setWin}
          options={[
            { id: "24h", label: "24 hours" },
            { id: "7d", label: "7 days" },
            { id: "30d", label: "30 days" },
          ]}
        />
      </div>
      {providers.data?.length === 0 && (
        <div className="banner info">
          <div className="grow">No provider is connected yet, so there is nothing to route.</div>
          <Link className="btn sm primary" to="/welcome">
            Connect one
          </Link>
        </div>
      )}
      <ErrorBanner error={stats.error} onRetry={() => stats.refetch()} />
      <div className="kpis">
        <Kpi testId="kpi-requests" label="Requests" value={t ? String(t.requests) : "—"} sub={t?.client_closed ? `${t.client_closed} closed by the client` : undefined} />
        <Kpi testId="kpi-errors" label="Errors" value={t ? String(t.errors) : "—"} sub={t ? `${formatPercent(t.errors, t.requests)} of requests` : undefined} />
        <Kpi
          testId="kpi-tokens"
          label="Tokens"
          value={t ? formatCount(t.prompt_tokens + t.completion_tokens) : "—"}
          sub={t ? `${formatCount(t.prompt_tokens)} in · ${formatCount(t.completion_tokens)} out` : undefined}
        />
        <Kpi testId="kpi-cost" label="Cost (estimate)" value={t ? formatCost(t.cost_usd) : "—"} sub="from the prices in the config" />
        <Kpi testId="kpi-latency" label="Latency p50" value={formatMs(t?.latency_p50_ms)} sub={t ? `p95 ${formatMs(t.latency_p95_ms)} · p99 ${formatMs(t.latency_p99_ms)}` : undefined} />
        <Kpi testId="kpi-ttft" label="Time to first token p50" value={formatMs(t?.ttft_p50_ms)} sub={t ? `p95 ${formatMs(t.ttft_p95_ms)} · streamed requests` : undefined} />
      </div>
      <div className="grid two">
        <div className="card">
          <h2>Traffic and tokens</h2>
          {points.length ? <EChart option={traffic} label="Requests and tokens over time" /> : <p className="muted">No traffic in this window.</p>}
        </div>
        <div className="card">
          <h2>Latency distribution</h2>
          {latencyChart && latency.data?.buckets.some((b) => b.count > 0) ? (
            <EChart option={latencyChart} label="Requests per latency bucket" />
          ) : (
            <p className="muted">No requests in this window.</p>
          )}
        </div>
      </div>
      <div style={{ height: 16 }} />
      <GroupTable title="By model" keyLabel="Model (as requested)" nullLabel="no model (e.g. GET /v1/models)" rows={stats.data?.by_model ?? []} testId="by-model" />
      <GroupTable title="By provider" keyLabel="Provider (that answered)" nullLabel="none answered" rows={stats.data?.by_provider ?? []} testId="by-provider" />
      <div style={{ height: 16 }} />
      <Health />
      <McpHealth />
      <div style={{ height: 16 }} />
      <UsageGuides models={models.data ?? []} keyRequired={settings.data?.access.keys_required ?? false} endpoints={info.data?.endpoints} />
    </div>
  );
}
