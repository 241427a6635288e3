// First run: no provider yet. Offers what the gateway found on this machine (local runtimes
// answering on their usual ports, provider keys in its environment) and adds the chosen ones
// with one POST /admin/discover.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useNavigate } from "react-router";
import { applyDiscovery, invalidateConfig, useCatalog, useDiscovery } from "../../api/config";
import { ErrorBanner } from "../../components/ErrorBanner";
import { useToast } from "../../components/Toast";

export function OnboardingPanel({ onDone }: { onDone?: (added: string[]) => void }) {
  const discovery = useDiscovery();
  const catalog = useCatalog();
  const qc = useQueryClient();
  const toast = useToast();
  const [runtimes, setRuntimes] = useState<Set<string>>(new Set());
  const [envKeys, setEnvKeys] = useState<Set<string>>(new Set());
  const d = discovery.data;
  const configured = new Set(d?.configured_presets ?? []);
  const offeredRuntimes = (d?.runtimes ?? []).filter((r) => !configured.has(r.preset));
  const offeredKeys = (d?.env_keys ?? []).filter((k) => !configured.has(k.preset));

  useEffect(() => {
    if (!d) return;
    setRuntimes(new Set(offeredRuntimes.map((r) => r.preset)));
    setEnvKeys(new Set(offeredKeys.map((k) => k.env_var)));
    // Everything found starts ticked, each time a new survey arrives.
  }, [d]);

  const name = (preset: string) => catalog.data?.find((p) => p.id === preset)?.display_name ?? preset;
  const add = useMutation({
    mutationFn: () => applyDiscovery({ runtimes: [...runtimes], env_keys: [...envKeys] }),
    onSuccess: (r) => {
      invalidateConfig(qc);
      toast(r.added.length ? `Added ${r.added.join(", ")}` : "Nothing was added");
      onDone?.(r.added);
    },
  });
  const toggle = (set: Set<string>, setter: (s: Set<string>) => void, v: string) => {
    const next = new Set(set);
    if (next.has(v)) next.delete(v);
    else next.add(v);
    setter(next);
  };
  const nothing = d && offeredRuntimes.length === 0 && offeredKeys.length === 0;

  return (
    <div className="card" aria-busy={discovery.isPending}>
      <h2>Connect a model provider</h2>
      <p className="muted">Switchyard forwards your requests to providers: a local runtime on this machine, or a cloud API with its key.</p>
      <ErrorBanner error={discovery.error} onRetry={() => discovery.refetch()} />
      {discovery.isPending && <p className="muted">Looking for local runtimes and keys…</p>}
      {offeredRuntimes.length > 0 && (
        <>
          <h3>Local runtimes answering on this machine</h3>
          <ul className="option-list">
            {offeredRuntimes.map((r) => (
              <li key={r.preset}>
                <label className="check">
                  <input type="checkbox" checked={runtimes.has(r.preset)} onChange={() => toggle(runtimes, setRuntimes, r.preset)} />
                  <span>
                    <strong>{name(r.preset)}</strong> <span className="mono muted">{r.base_url}</span>
                    <br />
                    <span className="small muted">
                      {r.models.length} model{r.models.length === 1 ? "" : "s"}
                      {r.models.length > 0 && `: ${r.models.slice(0, 5).map((m) => m.id).join(", ")}${r.models.length > 5 ? ", …" : ""}`}
                    </span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
        </>
      )}
      {offeredKeys.length > 0 && (
        <>
          <h3>Provider keys in the gateway's environment</h3>
          <ul className="option-list">
            {offeredKeys.map((k) => (
              <li key={k.env_var}>
                <label className="check">
                  <input type="checkbox" checked={envKeys.has(k.env_var)} onChange={() => toggle(envKeys, setEnvKeys, k.env_var)} />
                  <span>
                    <strong>{name(k.preset)}</strong> from <code>{k.env_var}</code>
                  </span>
                </label>
              </li>
            ))}
          </ul>
          <p className="small muted">Chosen keys are copied into {d?.secret_store ?? "the secret store"}; the config file only refers to them.</p>
        </>
      )}
      {nothing && (
        <p className="muted">
          No local runtime (Ollama, LM Studio, llama.cpp, vLLM, Jan) answered on its usual port, and no provider key (such as <code>OPENAI_API_KEY</code>) is set in the
          gateway's environment.
        </p>
      )}
      <ErrorBanner error={add.error} />
      <div className="row">
        {(offeredRuntimes.length > 0 || offeredKeys.length > 0) && (
          <button type="button" className="btn primary" disabled={add.isPending || runtimes.size + envKeys.size === 0} onClick={() => add.mutate()}>
            {add.isPending ? "Adding…" : "Add selected"}
          </button>
        )}
        <Link className="btn" to="/settings/providers?add=1">
          Add a provider by hand
        </Link>
        <button type="button" className="btn ghost" onClick={() => discovery.refetch()} disabled={discovery.isFetching}>
          Look again
        </button>
      </div>
    </div>
  );
}

export function Onboarding() {
  const navigate = useNavigate();
  return (
    <div className="page onboarding">
      <div className="page-head">
        <h1>Welcome to Switchyard</h1>
      </div>
      <p className="muted">One OpenAI-compatible endpoint on this machine for every model you use. Start by connecting a provider.</p>
      <OnboardingPanel onDone={(added) => added.length && navigate("/playground")} />
    </div>
  );
}
