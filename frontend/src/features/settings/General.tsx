// The gateway's own settings: where it listens, what the request log keeps and for how long,
// and whether keys are required. The answer says when a change waits for a restart.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { configKeys, updateSettings, useSettings } from "../../api/config";
import { ErrorBanner, errorMessage, fieldOf } from "../../components/ErrorBanner";
import { settingsChange, toForm, type Form } from "./general";

export function General() {
  const settings = useSettings();
  const qc = useQueryClient();
  const [form, setForm] = useState<Form | null>(null);
  const [restart, setRestart] = useState(false);
  useEffect(() => {
    if (settings.data && !form) setForm(toForm(settings.data));
  }, [settings.data, form]);
  const save = useMutation({
    mutationFn: (change: Record<string, unknown>) => updateSettings(change),
    onSuccess: (s) => {
      qc.setQueryData(configKeys.settings, s);
      setForm(toForm(s));
      setRestart((r) => r || !!s.restart_required);
    },
  });
  if (!settings.data || !form) return <ErrorBanner error={settings.error} />;
  const s = settings.data;
  const before = toForm(s);
  const change = settingsChange(before, form);
  const dirty = Object.keys(change).length > 0;
  const bad = fieldOf(save.error, ["listen", "retention_days", "max_body_bytes", "max_db_mb", "capture_bodies", "require_key", "enabled"]);
  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm({ ...form, [k]: v });

  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (dirty) save.mutate(change);
      }}
    >
      {restart && (
        <div className="banner warn" role="status" data-testid="restart-required">
          <div className="grow">Saved. The new address and log settings take effect when the gateway restarts.</div>
        </div>
      )}
      <div className="card">
        <h2>Listening</h2>
        <p className="small muted">
          Now on <span className="mono">{s.listening_on ?? s.listen}</span>. The gateway listens on this machine only (loopback).
        </p>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="g-host">Bind address</label>
            <select id="g-host" value={form.host} onChange={(e) => set("host", e.target.value)} aria-invalid={bad === "listen"}>
              {[...new Set(["127.0.0.1", "::1", "localhost", form.host])].map((h) => (
                <option key={h} value={h}>
                  {h}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="g-port">Port</label>
            <input id="g-port" type="number" min={0} max={65535} value={form.port} onChange={(e) => set("port", e.target.value)} aria-invalid={bad === "listen"} />
            <span className="hint">Needs a restart.</span>
          </div>
        </div>
      </div>
      <div className="card">
        <h2>Request log</h2>
        <label className="check" style={{ marginBottom: 8 }}>
          <input type="checkbox" checked={form.logEnabled} onChange={(e) => set("logEnabled", e.target.checked)} /> Keep a request log (peek and the dashboard read it)
        </label>
        <label className="check" style={{ marginBottom: 12 }}>
          <input type="checkbox" checked={form.capture} onChange={(e) => set("capture", e.target.checked)} disabled={!form.logEnabled} /> Capture request and response bodies
        </label>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="g-retention">Keep requests for (days)</label>
            <input id="g-retention" type="number" min={1} value={form.retention} onChange={(e) => set("retention", e.target.value)} aria-invalid={bad === "retention_days"} />
          </div>
          <div className="field">
            <label htmlFor="g-body">Cut bodies at (MiB)</label>
            <input id="g-body" type="number" min={0} step={0.25} value={form.maxBodyMiB} onChange={(e) => set("maxBodyMiB", e.target.value)} aria-invalid={bad === "max_body_bytes"} />
          </div>
          <div className="field">
            <label htmlFor="g-db">Database size limit (MB)</label>
            <input id="g-db" type="number" min={1} value={form.maxDbMb} onChange={(e) => set("maxDbMb", e.target.value)} aria-invalid={bad === "max_db_mb"} />
          </div>
        </div>
        <p className="small muted">
          Stored in <span className="mono">{s.data_dir}</span>. Log settings take effect at the next start.
        </p>
      </div>
      <div className="card">
        <h2>Access</h2>
        <label className="check">
          <input type="checkbox" checked={form.requireKey} onChange={(e) => set("requireKey", e.target.checked)} /> Require a client key from every caller, on this machine too
        </label>
        <p className="small muted">With keys required, this page asks for an admin key as well. Secrets are kept in {s.secrets.store}.</p>
      </div>
      {save.error && <div className="banner error">{errorMessage(save.error)}</div>}
      <div className="row">
        <button type="submit" className="btn primary" disabled={!dirty || save.isPending}>
          {save.isPending ? "Saving…" : "Save"}
        </button>
        <button type="button" className="btn" disabled={!dirty} onClick={() => setForm(before)}>
          Undo changes
        </button>
      </div>
    </form>
  );
}
