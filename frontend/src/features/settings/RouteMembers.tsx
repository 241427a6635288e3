// A route's members in the order the next request would try them, with what the router knows
// of each now: latency and time to first token (moving estimates), error rate, requests in
// flight, circuit state and the last error. Read from `GET /admin/routing`, polled while shown.

import type { RouteView } from "../../api/types";
import { num, OneLine, Table } from "../../components/Table";
import { formatMs } from "../../lib/format";
import { formatRate } from "./routing";

const CIRCUIT_WORDS = { closed: "closed", open: "open", half_open: "half open" } as const;

export function RouteMembers({ route, weighted }: { route: RouteView | undefined; weighted?: boolean }) {
  if (!route) return <p className="small muted">Not routable now (see the config file's error above, or save first).</p>;
  if (route.members.length === 0) {
    return (
      <p className="small muted" data-testid={`route-empty-${route.name}`}>
        No member now{route.require ? `: no enabled model meets “${route.require}”` : ""}. Requests to it are answered 503 until one does.
      </p>
    );
  }
  return (
    <>
      <Table
        testId={`route-members-${route.name}`}
        head={["#", "Member", ...(weighted ? [num("Weight")] : []), num("Latency"), num("TTFT"), num("Errors"), num("In flight"), "Circuit", "Last error"]}
      >
        {route.members.map((m, i) => (
          <tr key={m.target} data-testid="route-member">
            <td className="faint">{i + 1}</td>
            <td className="mono nowrap">
              <span data-testid="member-target">{m.target}</span>
              {m.local && (
                <span className="badge" style={{ marginLeft: 6 }} title="Served by a local runtime">
                  local
                </span>
              )}
            </td>
            {weighted && <td className="num">{m.weight}</td>}
            <td className="num" title={`${m.requests} requests, ${m.failures} failed`}>
              {m.latency_ms === null ? "—" : formatMs(m.latency_ms)}
            </td>
            <td className="num">{m.ttft_ms === null ? "—" : formatMs(m.ttft_ms)}</td>
            <td className="num">{m.requests === 0 ? "—" : formatRate(m.error_rate)}</td>
            <td className="num">{m.in_flight}</td>
            <td>
              <span className={`pill ${m.circuit}`}>{CIRCUIT_WORDS[m.circuit]}</span>
            </td>
            <td style={{ maxWidth: 260 }}>{m.last_error ? <OneLine title={m.last_error}>{m.last_error}</OneLine> : <span className="faint">—</span>}</td>
          </tr>
        ))}
      </Table>
      {route.fallback.length > 0 && (
        <p className="small muted" style={{ marginBottom: 0 }}>
          Offline, it falls back to <span className="mono">{route.fallback.join(", ")}</span>.
        </p>
      )}
    </>
  );
}
