// Capability pools: a name over every enabled model that meets a requirement (image or audio
// input, tools, reasoning, a least context window), optionally limited to some providers and
// model patterns, ordered per request by a strategy. Created, edited and deleted through
// /admin/pools; the members shown are the routing table's, live.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useProviders } from "../../api/config";
import { createPool, deletePool, invalidateRouting, savePool, type PoolBody } from "../../api/routing";
import type { Pool, RouteView, Strategy } from "../../api/types";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { errorMessage, fieldOf } from "../../components/ErrorBanner";
import { useToast } from "../../components/Toast";
import { RouteMembers } from "./RouteMembers";
import { emptyPoolForm, poolBody, poolForm, STRATEGIES, strategyLabel, type PoolForm } from "./routing";

/** The pool form, for a new pool (`pool` absent) or to change one. */
export function PoolEditor({ pool, onDone }: { pool?: Pool; onDone?: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const providers = useProviders();
  const id = useId();
  const [form, setForm] = useState<PoolForm>(() => (pool ? poolForm(pool) : emptyPoolForm()));
  const [local, setLocal] = useState<{ error: string; field: string } | null>(null);
  const set = <K extends keyof PoolForm>(k: K, v: PoolForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const submit = useMutation({
    mutationFn: (body: PoolBody) => (pool ? savePool(pool.name, body) : createPool(form.name.trim(), body)),
    onSuccess: (saved) => {
      toast(`${pool ? "Saved" : "Created"} the pool ${saved.name}: ${saved.members.length} member${saved.members.length === 1 ? "" : "s"}`);
      invalidateRouting(qc);
      if (!pool) setForm(emptyPoolForm());
      onDone?.();
    },
  });
  const bad = local?.field ?? fieldOf(submit.error, ["name", "require", "min_context", "strategy", "providers", "models", "fallback"]);
  const toggleProvider = (name: string) => set("providers", form.providers.includes(name) ? form.providers.filter((p) => p !== name) : [...form.providers, name]);
  return (
    <form
      className="pool-form"
      aria-label={pool ? `Edit the pool ${pool.name}` : "New pool"}
      onSubmit={(e) => {
        e.preventDefault();
        // The form's own checks first; what only the gateway knows comes back from it.
        const built = poolBody(form, pool);
        if ("error" in built) {
          setLocal(built);
          return;
        }
        setLocal(null);
        submit.mutate(built.body);
      }}
    >
      <div className="form-grid">
        {!pool && (
          <div className="field">
            <label htmlFor={`${id}-name`}>Name</label>
            <input id={`${id}-name`} type="text" placeholder="e.g. vision" value={form.name} onChange={(e) => set("name", e.target.value)} aria-invalid={bad === "name"} />
          </div>
        )}
        <div className="field">
          <label htmlFor={`${id}-strategy`}>Strategy</label>
          <select id={`${id}-strategy`} value={form.strategy} onChange={(e) => set("strategy", e.target.value as Strategy)}>
            {STRATEGIES.filter((s) => s.id !== "weighted" || form.strategy === "weighted").map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
          </select>
          <span className="hint">{STRATEGIES.find((s) => s.id === form.strategy)?.hint}</span>
        </div>
        <div className="field">
          <label htmlFor={`${id}-ctx`}>Least context window (tokens)</label>
          <input
            id={`${id}-ctx`}
            type="text"
            inputMode="numeric"
            placeholder="any"
            value={form.minContext}
            onChange={(e) => set("minContext", e.target.value)}
            aria-invalid={bad === "min_context"}
          />
        </div>
      </div>
      <fieldset className="field plain">
        <legend className="label">Every member must</legend>
        <div className="row">
          <label className="check">
            <input type="checkbox" checked={form.image} onChange={(e) => set("image", e.target.checked)} /> take image input
          </label>
          <label className="check">
            <input type="checkbox" checked={form.audio} onChange={(e) => set("audio", e.target.checked)} /> take audio input
          </label>
          <label className="check">
            <input type="checkbox" checked={form.tools} onChange={(e) => set("tools", e.target.checked)} /> call tools
          </label>
          <label className="check">
            <input type="checkbox" checked={form.reasoning} onChange={(e) => set("reasoning", e.target.checked)} /> reason
          </label>
        </div>
      </fieldset>
      <fieldset className="field plain">
        <legend className="label">Only from these providers (none ticked: every provider)</legend>
        <div className="row">
          {(providers.data ?? []).map((p) => (
            <label key={p.name} className="check">
              <input type="checkbox" checked={form.providers.includes(p.name)} onChange={() => toggleProvider(p.name)} /> <span className="mono">{p.name}</span>
            </label>
          ))}
          {form.providers
            .filter((name) => !(providers.data ?? []).some((p) => p.name === name))
            .map((name) => (
              <label key={name} className="check" title="Not configured now">
                <input type="checkbox" checked onChange={() => toggleProvider(name)} /> <span className="mono faint">{name}</span>
              </label>
            ))}
        </div>
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-models`}>Model patterns</label>
        <input
          id={`${id}-models`}
          type="text"
          placeholder="every model, or e.g. gpt-*, claude-*"
          value={form.models}
          onChange={(e) => set("models", e.target.value)}
          aria-invalid={bad === "models"}
        />
        <span className="hint">Model ids without the provider; * matches any run of characters, ? any one.</span>
      </div>
      <label className="check" style={{ marginBottom: 12 }}>
        <input type="checkbox" checked={form.fallback === "local"} onChange={(e) => set("fallback", e.target.checked ? "local" : "none")} /> Offline, fall back to a local model
      </label>
      {(local || submit.error) && (
        <div className="banner error" role="alert">
          <div className="grow">{local ? local.error : errorMessage(submit.error)}</div>
        </div>
      )}
      <div className="row">
        <button type="submit" className="btn primary" disabled={submit.isPending || (!pool && !form.name.trim())}>
          {pool ? "Save pool" : "Create pool"}
        </button>
        {onDone && (
          <button type="button" className="btn" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

export function PoolCard({ pool, route }: { pool: Pool; route: RouteView | undefined }) {
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const remove = useMutation({
    mutationFn: () => deletePool(pool.name),
    onSuccess: () => {
      setConfirm(false);
      invalidateRouting(qc);
    },
  });
  return (
    <section className="card route-card" aria-labelledby={`pool-${pool.name}`} data-testid={`pool-${pool.name}`}>
      <div className="card-head">
        <h3 id={`pool-${pool.name}`} className="mono">
          {pool.name}
        </h3>
        <span className="badge alias">pool</span>
        <button type="button" className="btn sm" onClick={() => setEditing((e) => !e)} aria-expanded={editing}>
          {editing ? "Close" : "Edit"}
        </button>
        <button type="button" className="btn sm danger" onClick={() => setConfirm(true)}>
          Delete
        </button>
      </div>
      <dl className="facts">
        <div>
          <dt>Requires</dt>
          <dd className="small">{route ? (route.require ?? "any model") : "…"}</dd>
        </div>
        <div>
          <dt>Strategy</dt>
          <dd className="small">{strategyLabel(pool.strategy)}</dd>
        </div>
        <div>
          <dt>Providers</dt>
          <dd className="small mono">{pool.providers.length ? pool.providers.join(", ") : "every one"}</dd>
        </div>
        <div>
          <dt>Models</dt>
          <dd className="small mono">{pool.models.length ? pool.models.join(", ") : "every one"}</dd>
        </div>
        <div>
          <dt>Offline</dt>
          <dd className="small">{pool.fallback === "local" ? "a local model" : "no fallback"}</dd>
        </div>
      </dl>
      {editing && (
        <div className="pool-edit">
          <PoolEditor pool={pool} onDone={() => setEditing(false)} />
        </div>
      )}
      <h4 className="route-live-head">Now</h4>
      <RouteMembers route={route} />
      {confirm && (
        <ConfirmDelete
          title={`Delete the pool ${pool.name}?`}
          message={<>Clients that ask for “{pool.name}” will get a model-not-found error.</>}
          error={remove.error}
          pending={remove.isPending}
          onConfirm={() => remove.mutate()}
          onClose={() => setConfirm(false)}
        />
      )}
    </section>
  );
}
