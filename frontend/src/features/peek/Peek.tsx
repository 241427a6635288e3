// Peek: the request log. A calendar of the days with traffic, a filterable list (filters live
// in the URL, so a view can be shared), and one request in full.

import { useMemo } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { useRequest, useRequests, useTrafficDays } from "../../api/gateway";
import type { RequestFilters } from "../../api/types";
import { ErrorBanner } from "../../components/ErrorBanner";
import { formatAgo, formatMs } from "../../lib/format";
import { TrafficCalendar } from "./Calendar";
import { RequestDetail, statusClass } from "./RequestDetail";

const FILTERS = ["model", "provider", "status", "outcome", "client"] as const;
const DAY = 86_400_000;

export default function Peek() {
  const { requestId } = useParams();
  const [params, setParams] = useSearchParams();
  const day = params.get("day");
  const filters = useMemo<RequestFilters>(() => {
    const f: RequestFilters = {};
    for (const k of FILTERS) {
      const v = params.get(k);
      if (v) f[k] = v;
    }
    if (day) {
      const start = Date.parse(`${day}T00:00:00Z`);
      if (!Number.isNaN(start)) {
        f.since = String(start);
        f.until = String(start + DAY);
      }
    }
    return f;
  }, [params, day]);

  const days = useTrafficDays();
  const list = useRequests(filters, !day);
  const detail = useRequest(requestId);
  const rows = list.data?.pages.flatMap((p) => p.requests) ?? [];
  const search = params.toString() ? `?${params.toString()}` : "";

  const set = (k: string, v: string | null) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const filtered = FILTERS.some((k) => params.get(k)) || !!day;

  return (
    <div className="page">
      <div className="page-head">
        <h1>Peek</h1>
        <span className="small muted">Every request to /v1, with its bodies, attempts and tokens.</span>
      </div>
      <div className={`peek${requestId ? " has-detail" : ""}`}>
        <div className="peek-list">
          <div className="card">
            <div className="card-head">
              <h2>Days with traffic</h2>
              {day && (
                <button type="button" className="btn sm" onClick={() => set("day", null)}>
                  {day} ×
                </button>
              )}
            </div>
            <ErrorBanner error={days.error} />
            <TrafficCalendar days={days.data ?? []} selected={day} onSelect={(d) => set("day", d)} />
          </div>
          <div className="card">
            <form className="filters" aria-label="Filter requests" onSubmit={(e) => e.preventDefault()}>
              <input type="search" aria-label="Model" placeholder="model" defaultValue={params.get("model") ?? ""} onChange={(e) => set("model", e.target.value.trim() || null)} />
              <input
                type="search"
                aria-label="Provider"
                placeholder="provider"
                defaultValue={params.get("provider") ?? ""}
                onChange={(e) => set("provider", e.target.value.trim() || null)}
              />
              <input type="search" aria-label="Status" placeholder="status" inputMode="numeric" defaultValue={params.get("status") ?? ""} onChange={(e) => set("status", e.target.value.trim() || null)} />
              <select aria-label="Outcome" value={params.get("outcome") ?? ""} onChange={(e) => set("outcome", e.target.value || null)}>
                <option value="">any outcome</option>
                <option value="ok">ok</option>
                <option value="error">error</option>
                <option value="client_closed">client closed</option>
              </select>
              <input type="search" aria-label="Client or key" placeholder="client or key" defaultValue={params.get("client") ?? ""} onChange={(e) => set("client", e.target.value.trim() || null)} />
            </form>
            <ErrorBanner error={list.error} onRetry={() => list.refetch()} />
            {list.isSuccess && rows.length === 0 && (
              <div className="empty">
                {filtered ? (
                  <p>No request matches these filters.</p>
                ) : (
                  <>
                    <h2>No requests yet</h2>
                    <p>
                      Send one from the <Link to="/playground">playground</Link>, or point a client at this gateway (<Link to="/dashboard#usage">how</Link>).
                    </p>
                  </>
                )}
              </div>
            )}
            <ul className="req-list" aria-label="Requests" data-testid="request-list">
              {rows.map((r) => (
                <li key={r.id}>
                  <Link to={`/peek/${encodeURIComponent(r.id)}${search}`} aria-current={r.id === requestId ? "page" : undefined}>
                    <span className={`status ${statusClass(r.status)}`}>{r.status}</span>
                    <span className="model mono">{r.requested_model ?? r.endpoint}</span>
                    <span className="small muted nowrap">{formatMs(r.latency_ms)}</span>
                    <span className="when">
                      {formatAgo(r.started_at)} · {r.method} {r.endpoint}
                      {r.provider ? ` · ${r.provider}` : ""}
                      {r.stream ? " · stream" : ""}
                      {r.prompt_tokens !== null ? ` · ${r.prompt_tokens}→${r.completion_tokens ?? 0} tok` : ""}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
            {list.hasNextPage && (
              <button type="button" className="btn" style={{ width: "100%", marginTop: 8 }} onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage}>
                {list.isFetchingNextPage ? "Loading…" : "Older requests"}
              </button>
            )}
          </div>
        </div>
        <div className="peek-detail">
          {requestId && (
            <Link className="btn sm peek-back" to={`/peek${search}`} style={{ marginBottom: 8 }}>
              ← All requests
            </Link>
          )}
          {!requestId && (
            <div className="card empty">
              <p>Pick a request to see its timeline, bodies, images and token flow.</p>
            </div>
          )}
          {requestId && detail.isPending && <div className="card muted">Loading {requestId}…</div>}
          {requestId && <ErrorBanner error={detail.error} />}
          {detail.data && <RequestDetail key={detail.data.id} r={detail.data} />}
        </div>
      </div>
    </div>
  );
}
