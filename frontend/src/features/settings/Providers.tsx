// Providers: the configured ones (test, refresh models, set a key, enable, remove) and adding
// one from the catalog's presets or by hand. A key typed here goes to the OS keychain through
// the gateway and is never shown again.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import {
  createProvider,
  deleteProvider,
  invalidateConfig,
  refreshProviderModels,
  setProviderKey,
  testProvider,
  updateProvider,
  useCatalog,
  useProviders,
  useSettings,
  type NewProvider,
} from "../../api/config";
import type { Preset, ProviderTest, ProviderView } from "../../api/types";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { ErrorBanner, errorMessage, fieldOf } from "../../components/ErrorBanner";
import { useToast } from "../../components/Toast";
import { formatMs } from "../../lib/format";

function TestResult({ result }: { result: ProviderTest | null }) {
  if (!result) return null;
  if (result.ok === true)
    return (
      <span className="badge ok" data-testid="test-result">
        connected · {result.models} models · {formatMs(result.latency_ms)}
      </span>
    );
  if (result.ok === null) return <span className="small muted">{result.error}</span>;
  return (
    <span className="small" style={{ color: "var(--danger)" }} data-testid="test-result">
      {result.error}
    </span>
  );
}

function ProviderCard({ p, secretStore, initialTest }: { p: ProviderView; secretStore: string; initialTest?: ProviderTest | null }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [test, setTest] = useState<ProviderTest | null>(initialTest ?? null);
  const [keyOpen, setKeyOpen] = useState(false);
  const [key, setKeyValue] = useState("");
  const [confirm, setConfirm] = useState(false);

  const runTest = useMutation({ mutationFn: () => testProvider(p.name), onSuccess: setTest, onError: (e) => setTest({ ok: false, error: errorMessage(e) }) });
  const refresh = useMutation({
    mutationFn: () => refreshProviderModels(p.name),
    onSuccess: (r) => {
      toast(`${p.name}: ${r.models} models`);
      invalidateConfig(qc);
    },
  });
  const saveKey = useMutation({
    mutationFn: () => setProviderKey(p.name, key),
    onSuccess: () => {
      setKeyValue("");
      setKeyOpen(false);
      toast(`The key for ${p.name} is in ${secretStore}; it will not be shown again.`);
      invalidateConfig(qc);
      runTest.mutate();
    },
  });
  const toggle = useMutation({ mutationFn: () => updateProvider(p.name, { enabled: !p.enabled }), onSuccess: () => invalidateConfig(qc) });
  const remove = useMutation({
    mutationFn: () => deleteProvider(p.name),
    onSuccess: () => {
      setConfirm(false);
      toast(`Removed ${p.name}`);
      invalidateConfig(qc);
    },
  });
  const models = [...new Set([...(p.models ?? []), ...(p.discovered_models ?? [])])];

  return (
    <section className="card" aria-labelledby={`prov-${p.name}`} data-testid={`provider-${p.name}`}>
      <div className="card-head">
        <h3 id={`prov-${p.name}`}>
          {p.name} <span className="badge">{p.preset ?? p.kind}</span> {!p.enabled && <span className="badge warn">disabled</span>}
        </h3>
        <label className="check small">
          <input type="checkbox" checked={p.enabled} onChange={() => toggle.mutate()} disabled={toggle.isPending} /> enabled
        </label>
      </div>
      <dl className="facts">
        <div style={{ gridColumn: "span 2" }}>
          <dt>Base URL</dt>
          <dd className="mono small">{p.base_url ?? "—"}</dd>
        </div>
        <div>
          <dt>Key</dt>
          <dd className="small">
            {p.api_key.status === "none" && <span className="muted">none</span>}
            {p.api_key.status === "set" && (
              <span>
                <span className="badge ok">set</span> <span className="mono">{p.api_key.ref}</span>
              </span>
            )}
            {p.api_key.status === "unavailable" && (
              <span style={{ color: "var(--danger)" }} title={p.api_key.problem}>
                unavailable: {p.api_key.problem}
              </span>
            )}
          </dd>
        </div>
        <div>
          <dt>Models</dt>
          <dd className="small" title={models.join(", ")}>
            {models.length ? `${models.length}: ${models.slice(0, 3).join(", ")}${models.length > 3 ? ", …" : ""}` : <span className="muted">none yet</span>}
          </dd>
        </div>
      </dl>
      <div className="row">
        <button type="button" className="btn sm" onClick={() => runTest.mutate()} disabled={runTest.isPending}>
          {runTest.isPending ? "Testing…" : "Test connection"}
        </button>
        <button type="button" className="btn sm" onClick={() => refresh.mutate()} disabled={refresh.isPending}>
          {refresh.isPending ? "Refreshing…" : "Refresh models"}
        </button>
        <button type="button" className="btn sm" onClick={() => setKeyOpen((o) => !o)} aria-expanded={keyOpen}>
          {p.api_key.status === "none" ? "Add key" : "Replace key"}
        </button>
        <span className="spacer" />
        <button type="button" className="btn sm danger" onClick={() => setConfirm(true)}>
          Remove
        </button>
      </div>
      <div style={{ marginTop: 8 }}>
        <TestResult result={test} />
        <ErrorBanner error={refresh.error} />
      </div>
      {keyOpen && (
        <form
          style={{ marginTop: 10 }}
          onSubmit={(e) => {
            e.preventDefault();
            if (key.trim()) saveKey.mutate();
          }}
        >
          <div className="field">
            <label htmlFor={`key-${p.name}`}>API key for {p.name}</label>
            <div className="row" style={{ flexWrap: "nowrap" }}>
              <input
                id={`key-${p.name}`}
                type="password"
                autoComplete="off"
                value={key}
                onChange={(e) => setKeyValue(e.target.value)}
                aria-invalid={!!saveKey.error}
                placeholder="paste the key, or env:VAR"
              />
              <button type="submit" className="btn primary" disabled={!key.trim() || saveKey.isPending}>
                Save
              </button>
            </div>
            <span className="hint">Goes to {secretStore}; the config file only refers to it, and it is never shown again.</span>
            {saveKey.error && <span className="field-error">{errorMessage(saveKey.error)}</span>}
          </div>
        </form>
      )}
      {confirm && (
        <ConfirmDelete
          title={`Remove ${p.name}?`}
          message="Requests for its models will fail, and aliases that name it must be changed first. A key it keeps in the keychain is deleted with it."
          error={remove.error}
          pending={remove.isPending}
          onConfirm={() => remove.mutate()}
          onClose={() => setConfirm(false)}
          confirmLabel="Remove"
        />
      )}
    </section>
  );
}

type Choice = { preset: Preset | null; kind: "openai" | "anthropic" };

function AddProvider({ existing, secretStore, onAdded, onCancel }: { existing: string[]; secretStore: string; onAdded: (name: string, test: ProviderTest | null) => void; onCancel: () => void }) {
  const catalog = useCatalog();
  const qc = useQueryClient();
  const [choice, setChoice] = useState<Choice | null>(null);
  const [form, setForm] = useState({ name: "", base_url: "", api_key: "", api_version: "", models: "" });
  const pick = (c: Choice) => {
    setChoice(c);
    let name = c.preset?.id ?? "custom";
    for (let i = 2; existing.includes(name); i++) name = `${c.preset?.id ?? "custom"}-${i}`;
    setForm({
      name,
      base_url: c.preset && !c.preset.needs_base_url ? c.preset.base_url : "",
      api_key: "",
      api_version: c.preset?.api_version ?? "",
      models: "",
    });
    add.reset();
  };
  const add = useMutation({
    mutationFn: async () => {
      const p = choice!.preset;
      const body: NewProvider = { name: form.name.trim() };
      if (p) body.preset = p.id;
      else body.kind = choice!.kind;
      if (!p || form.base_url.trim() !== p.base_url) body.base_url = form.base_url.trim();
      if (form.api_key.trim()) body.api_key = form.api_key.trim();
      if (p?.kind === "azure" && form.api_version.trim()) body.api_version = form.api_version.trim();
      const models = form.models
        .split(",")
        .map((m) => m.trim())
        .filter(Boolean);
      if (models.length) body.models = models;
      const created = await createProvider(body);
      let test: ProviderTest | null = null;
      try {
        test = await testProvider(created.name);
      } catch (e) {
        test = { ok: false, error: errorMessage(e) };
      }
      return { created, test };
    },
    onSuccess: ({ created, test }) => {
      invalidateConfig(qc);
      // Discovery runs in the background after an add: ask again shortly for its models.
      setTimeout(() => invalidateConfig(qc), 1500);
      onAdded(created.name, test);
    },
  });
  const bad = fieldOf(add.error, ["name", "base_url", "api_key", "api_version", "models", "preset"]);
  const p = choice?.preset ?? null;
  const field = (k: keyof typeof form) => ({
    id: `add-${k}`,
    value: form[k],
    onChange: (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value })),
    "aria-invalid": bad === k,
  });

  return (
    <div className="card" data-testid="add-provider">
      <div className="card-head">
        <h2>Add a provider</h2>
        <button type="button" className="btn sm ghost" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ErrorBanner error={catalog.error} />
      <div className="preset-grid" role="group" aria-label="Presets">
        {catalog.data?.map((preset) => (
          <button key={preset.id} type="button" className="preset" aria-pressed={choice?.preset?.id === preset.id} onClick={() => pick({ preset, kind: preset.kind === "anthropic" ? "anthropic" : "openai" })}>
            <div className="name">{preset.display_name}</div>
            <div className="small muted">{preset.local ? "local runtime" : preset.kind === "azure" ? "Azure deployments" : "cloud API"}</div>
          </button>
        ))}
        <button type="button" className="preset" aria-pressed={!!choice && !choice.preset && choice.kind === "openai"} onClick={() => pick({ preset: null, kind: "openai" })}>
          <div className="name">OpenAI-compatible</div>
          <div className="small muted">any other URL</div>
        </button>
        <button type="button" className="preset" aria-pressed={!!choice && !choice.preset && choice.kind === "anthropic"} onClick={() => pick({ preset: null, kind: "anthropic" })}>
          <div className="name">Anthropic-compatible</div>
          <div className="small muted">any other URL</div>
        </button>
      </div>
      {choice && (
        <form
          style={{ marginTop: 16 }}
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate();
          }}
        >
          <h3>{p?.display_name ?? (choice.kind === "openai" ? "OpenAI-compatible provider" : "Anthropic-compatible provider")}</h3>
          {p?.docs_url && (
            <p className="small muted">
              <a href={p.docs_url} target="_blank" rel="noreferrer">
                Documentation
              </a>
              {p.key_url && (
                <>
                  {" · "}
                  <a href={p.key_url} target="_blank" rel="noreferrer">
                    Get a key
                  </a>
                </>
              )}
            </p>
          )}
          <div className="form-grid">
            <div className="field">
              <label htmlFor="add-name">Name</label>
              <input type="text" required {...field("name")} />
              <span className="hint">Models are called {form.name || "name"}/MODEL.</span>
            </div>
            <div className="field">
              <label htmlFor="add-base_url">Base URL</label>
              <input type="url" required={!p || p.needs_base_url} placeholder={p?.base_url ?? "http://127.0.0.1:8000/v1"} {...field("base_url")} />
              {p && !p.needs_base_url && <span className="hint">The preset's address; change it for a proxy or another port.</span>}
            </div>
            {(!p || p.key_required || !p.local) && (
              <div className="field">
                <label htmlFor="add-api_key">API key{p && !p.key_required ? " (optional)" : ""}</label>
                <input type="password" autoComplete="off" placeholder={p?.key_env[0] ? `the key, or env:${p.key_env[0]}` : "the key, or env:VAR"} {...field("api_key")} />
                <span className="hint">Stored in {secretStore}, never in the config file, and never shown again.</span>
              </div>
            )}
            {p?.kind === "azure" && (
              <div className="field">
                <label htmlFor="add-api_version">API version</label>
                <input type="text" placeholder="2024-10-21" {...field("api_version")} />
              </div>
            )}
            <div className="field">
              <label htmlFor="add-models">{p?.kind === "azure" ? "Deployments" : "Models (optional)"}</label>
              <input type="text" placeholder={p?.kind === "azure" ? "gpt-4o, gpt-4o-mini" : "discovered from the provider"} {...field("models")} />
              <span className="hint">{p?.kind === "azure" ? "Comma-separated deployment names." : "Comma-separated, to add models the provider does not list."}</span>
            </div>
          </div>
          {add.error && bad && <div className="field-error small" style={{ marginBottom: 8 }}>{errorMessage(add.error)}</div>}
          {add.error && !bad && <ErrorBanner error={add.error} />}
          <div className="row">
            <button type="submit" className="btn primary" disabled={add.isPending || !form.name.trim()}>
              {add.isPending ? "Adding…" : "Add provider"}
            </button>
            <span className="small muted">The connection is tested right after.</span>
          </div>
        </form>
      )}
    </div>
  );
}

export function Providers() {
  const providers = useProviders();
  const settings = useSettings();
  const [params, setParams] = useSearchParams();
  const adding = params.get("add") === "1";
  const [tests, setTests] = useState<Record<string, ProviderTest | null>>({});
  const secretStore = settings.data?.secrets.store ?? "the secret store";
  const setAdding = (on: boolean) => {
    const next = new URLSearchParams(params);
    if (on) next.set("add", "1");
    else next.delete("add");
    setParams(next, { replace: true });
  };
  return (
    <div className="stack">
      <ErrorBanner error={providers.error} onRetry={() => providers.refetch()} />
      {!adding && (
        <div className="row">
          <button type="button" className="btn primary" onClick={() => setAdding(true)}>
            Add a provider
          </button>
          <span className="small muted">Keys go to {secretStore}.</span>
        </div>
      )}
      {adding && (
        <AddProvider
          existing={providers.data?.map((p) => p.name) ?? []}
          secretStore={secretStore}
          onCancel={() => setAdding(false)}
          onAdded={(name, test) => {
            setTests((t) => ({ ...t, [name]: test }));
            setAdding(false);
          }}
        />
      )}
      {providers.data?.length === 0 && !adding && (
        <div className="card empty">
          <h2>No providers yet</h2>
          <p>Add one from the presets, or let the gateway offer what it found on this machine.</p>
        </div>
      )}
      <div className="grid two">
        {providers.data?.map((p) => (
          <ProviderCard key={p.name} p={p} secretStore={secretStore} initialTest={tests[p.name]} />
        ))}
      </div>
    </div>
  );
}
