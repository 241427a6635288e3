// Settings → Routing: how the gateway chooses. The `[routing]` defaults (the strategy of a bare
// model id several providers serve, the offline fallback), then every alias and capability pool
// with its strategy and its members as the next request would try them, with live figures read
// again every few seconds while this page is open, and the bare ids served by several providers.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useAliases } from "../../api/config";
import { useModels } from "../../api/gateway";
import { invalidateRouting, rebuildPools, saveRoutingSettings, usePools, useRouting } from "../../api/routing";
import type { RouteView, RoutingTable, Strategy } from "../../api/types";
import { ErrorBanner, errorMessage } from "../../components/ErrorBanner";
import { useToast } from "../../components/Toast";
import { describeStrategy } from "../../lib/trail";
import { AliasCard, NewAlias } from "./Aliases";
import { PoolCard, PoolEditor } from "./Pools";
import { RouteMembers } from "./RouteMembers";
import { STRATEGIES } from "./routing";

function Defaults({ table }: { table: RoutingTable }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [strategy, setStrategy] = useState<Strategy>(table.default_strategy);
  const [offline, setOffline] = useState(table.offline_fallback);
  useEffect(() => {
    setStrategy(table.default_strategy);
    setOffline(table.offline_fallback);
  }, [table.default_strategy, table.offline_fallback]);
  const dirty = strategy !== table.default_strategy || offline !== table.offline_fallback;
  const save = useMutation({
    mutationFn: () => saveRoutingSettings({ default_strategy: strategy === "ordered" ? null : strategy, offline_fallback: offline ? true : null }),
    onSuccess: () => {
      toast("Saved the routing defaults");
      invalidateRouting(qc);
    },
  });
  return (
    <form
      className="card"
      aria-label="Routing defaults"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <h2>Defaults</h2>
      <div className="row" style={{ alignItems: "flex-end", gap: 16 }}>
        <div className="field" style={{ marginBottom: 0 }}>
          <label htmlFor="routing-default">Strategy of a model several providers serve</label>
          <select id="routing-default" value={strategy} onChange={(e) => setStrategy(e.target.value as Strategy)}>
            {STRATEGIES.filter((s) => s.id !== "weighted" || strategy === "weighted").map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <label className="check" style={{ paddingBottom: 6 }}>
          <input type="checkbox" checked={offline} onChange={(e) => setOffline(e.target.checked)} /> Offline, every alias and pool falls back to a local model
        </label>
        <span className="spacer" />
        <button type="submit" className="btn primary sm" disabled={!dirty || save.isPending}>
          Save
        </button>
      </div>
      {save.error && (
        <div className="banner error" role="alert" style={{ marginTop: 10, marginBottom: 0 }}>
          <div className="grow">{errorMessage(save.error)}</div>
        </div>
      )}
    </form>
  );
}

function SharedModel({ route }: { route: RouteView }) {
  return (
    <section className="card route-card" aria-labelledby={`shared-${route.name}`} data-testid={`model-pool-${route.name}`}>
      <div className="card-head">
        <h3 id={`shared-${route.name}`} className="mono">
          {route.name}
        </h3>
        <span className="badge alias" title="Its strategy: [routing] default_strategy">
          pool · {describeStrategy(route.strategy)}
        </span>
      </div>
      <RouteMembers route={route} />
    </section>
  );
}

export function Routing() {
  const qc = useQueryClient();
  const toast = useToast();
  const table = useRouting();
  const aliases = useAliases();
  const pools = usePools();
  const models = useModels();
  const [adding, setAdding] = useState(false);
  const routes = table.data?.routes ?? [];
  const route = (kind: string, name: string) => routes.find((r) => r.kind === kind && r.name === name);
  const shared = routes.filter((r) => r.kind === "model_pool");
  const targets = (models.data ?? []).filter((m) => m.provider && !m.assistant).map((m) => m.id);
  const rebuild = useMutation({
    mutationFn: rebuildPools,
    onSuccess: (r) => {
      invalidateRouting(qc);
      toast(r.errors.length ? `Pools rebuilt; not read: ${r.errors.join("; ")}` : "Pools rebuilt from every provider's model list");
    },
  });

  return (
    <div className="stack routing">
      <ErrorBanner error={table.error} onRetry={() => table.refetch()} title="Routing table" />
      {table.data && <Defaults table={table.data} />}

      <div className="section-head">
        <h2>Aliases</h2>
        <span className="small muted">A name clients use, over targets you pick.</span>
      </div>
      <div className="card">
        <NewAlias targets={targets} />
      </div>
      <ErrorBanner error={aliases.error} />
      {aliases.data?.length === 0 && <p className="muted">No aliases yet. An alias gives clients one stable name with failover behind it.</p>}
      {aliases.data?.map((a) => (
        <AliasCard key={a.name} alias={a} route={route("alias", a.name)} targetsAvailable={targets} />
      ))}

      <div className="section-head">
        <h2>Pools</h2>
        <span className="small muted">A name over every model that meets a requirement.</span>
        <span className="spacer" />
        <button type="button" className="btn sm" onClick={() => rebuild.mutate()} disabled={rebuild.isPending} title="Read every provider's model list again and rebuild the pools">
          {rebuild.isPending ? "Rebuilding…" : "Rebuild pools"}
        </button>
        <button type="button" className="btn sm primary" onClick={() => setAdding((a) => !a)} aria-expanded={adding}>
          New pool
        </button>
      </div>
      <ErrorBanner error={rebuild.error} />
      {adding && (
        <div className="card">
          <h3>New pool</h3>
          <PoolEditor onDone={() => setAdding(false)} />
        </div>
      )}
      <ErrorBanner error={pools.error} />
      {pools.data?.length === 0 && !adding && <p className="muted">No pools yet. A pool sends each request to a model that can serve it, chosen by its strategy.</p>}
      {pools.data?.map((p) => (
        <PoolCard key={p.name} pool={p} route={route("pool", p.name)} />
      ))}

      {shared.length > 0 && (
        <>
          <div className="section-head">
            <h2>Models several providers serve</h2>
            <span className="small muted">Asked for by its bare id, such a model is a pool of its providers.</span>
          </div>
          {shared.map((r) => (
            <SharedModel key={r.name} route={r} />
          ))}
        </>
      )}
    </div>
  );
}
