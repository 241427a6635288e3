// Client keys: who may call this gateway. A new key is shown once, here, and never again.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { createKey, invalidateConfig, revokeKey, useClientKeys } from "../../api/config";
import { useModels } from "../../api/gateway";
import type { ClientKey, CreatedKey } from "../../api/types";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { CopyButton } from "../../components/CopyButton";
import { ErrorBanner, errorMessage, fieldOf } from "../../components/ErrorBanner";
import { Table } from "../../components/Table";

const ROLES = [
  { id: "user", label: "user", hint: "An app: uses models, never the admin API." },
  { id: "read-only", label: "read-only", hint: "A dashboard: reads models and the admin API, changes nothing." },
  { id: "admin", label: "admin", hint: "Everything, changes included." },
];

export function Keys() {
  const keys = useClientKeys();
  const models = useModels();
  const qc = useQueryClient();
  const [form, setForm] = useState({ name: "", role: "user", models: "" });
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [revoking, setRevoking] = useState<ClientKey | null>(null);
  const create = useMutation({
    mutationFn: () => {
      const list = form.models
        .split(",")
        .map((m) => m.trim())
        .filter(Boolean);
      return createKey({ name: form.name.trim(), role: form.role, ...(list.length ? { models: list } : {}) });
    },
    onSuccess: (k) => {
      setCreated(k);
      setForm({ name: "", role: "user", models: "" });
      invalidateConfig(qc);
    },
  });
  const revoke = useMutation({
    mutationFn: (name: string) => revokeKey(name),
    onSuccess: () => {
      setRevoking(null);
      invalidateConfig(qc);
    },
  });
  const bad = fieldOf(create.error, ["name", "role", "models"]);
  return (
    <div className="stack">
      {created && (
        <div className="card" role="alert" data-testid="new-key">
          <h2>The key for {created.name}</h2>
          <p className="muted">{created.note}</p>
          <div className="secret-once">
            <code data-testid="new-key-value">{created.key}</code>
            <CopyButton text={created.key} className="btn sm" />
          </div>
          <div className="row" style={{ marginTop: 10 }}>
            <button type="button" className="btn" onClick={() => setCreated(null)}>
              I have stored it
            </button>
          </div>
        </div>
      )}
      <div className="card">
        <h2>New key</h2>
        <p className="small muted">
          {keys.data?.require_key
            ? "This gateway requires a key from every client."
            : "Keys are optional from this machine; they name your apps in the request log and limit what each may do. Require them in General."}
        </p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <div className="form-grid">
            <div className="field">
              <label htmlFor="key-name">Name (the app that will use it)</label>
              <input id="key-name" type="text" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} aria-invalid={bad === "name"} placeholder="cursor" />
            </div>
            <div className="field">
              <label htmlFor="key-role">Role</label>
              <select id="key-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })} aria-invalid={bad === "role"}>
                {ROLES.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.label}
                  </option>
                ))}
              </select>
              <span className="hint">{ROLES.find((r) => r.id === form.role)?.hint}</span>
            </div>
            <div className="field">
              <label htmlFor="key-models">Models it may use (optional)</label>
              <input id="key-models" type="text" list="key-model-ids" value={form.models} onChange={(e) => setForm({ ...form, models: e.target.value })} aria-invalid={bad === "models"} placeholder="all" />
              <datalist id="key-model-ids">
                {models.data?.map((m) => (
                  <option key={m.id} value={m.id} />
                ))}
              </datalist>
              <span className="hint">Comma-separated model or alias ids.</span>
            </div>
          </div>
          {create.error && <div className="banner error">{errorMessage(create.error)}</div>}
          <button type="submit" className="btn primary" disabled={!form.name.trim() || create.isPending}>
            Create key
          </button>
        </form>
      </div>
      <div className="card">
        <h2>Keys</h2>
        <ErrorBanner error={keys.error} />
        {keys.data?.data.length === 0 ? (
          <p className="muted">No client keys yet.</p>
        ) : (
          <Table testId="keys-table" head={["Name", "Role", "Models", "Key starts", "Created", ""]}>
            {keys.data?.data.map((k) => (
              <tr key={k.name}>
                <td>{k.name}</td>
                <td>{k.role}</td>
                <td className="small">{k.models?.join(", ") ?? "all"}</td>
                <td className="mono">{k.prefix}</td>
                <td className="small">{k.created ?? "—"}</td>
                <td>
                  <button type="button" className="btn sm danger" onClick={() => setRevoking(k)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </div>
      {revoking && (
        <ConfirmDelete
          title={`Revoke ${revoking.name}?`}
          message="Requests with this key will be refused from now on. This cannot be undone; a new key can be created."
          error={revoke.error}
          pending={revoke.isPending}
          onConfirm={() => revoke.mutate(revoking.name)}
          onClose={() => setRevoking(null)}
          confirmLabel="Revoke"
        />
      )}
    </div>
  );
}
