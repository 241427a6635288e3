// Assistants: a model with a system prompt and MCP tools, served as a model id of its own (it
// shows in /v1/models and the playground's picker). The gateway runs its tool loop.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link } from "react-router";
import { ApiError, hasCode } from "../../api/client";
import { useModels } from "../../api/gateway";
import { createAssistant, deleteAssistant, invalidateMcp, updateAssistant, useAgentTools, useAssistants, useMcpServers, type AssistantFields } from "../../api/mcp";
import type { Assistant } from "../../api/types";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { ErrorBanner } from "../../components/ErrorBanner";
import { useToast } from "../../components/Toast";
import { DEFAULT_MAX_ITERATIONS } from "../playground/agent";
import { chatModels, groupModels } from "../playground/conversation";

interface Form {
  name: string;
  description: string;
  model: string;
  system: string;
  servers: string[];
  /** `null`: every enabled tool of the servers. */
  tools: string[] | null;
  max_iterations: number;
}

const emptyForm = (): Form => ({ name: "", description: "", model: "", system: "", servers: [], tools: null, max_iterations: DEFAULT_MAX_ITERATIONS });

const formOf = (a: Assistant): Form => ({
  name: a.name,
  description: a.description ?? "",
  model: a.model,
  system: a.system ?? "",
  servers: a.servers,
  tools: a.tools,
  max_iterations: a.max_iterations,
});

/** Every field, so that a change also clears what was emptied. */
function bodyOf(f: Form): AssistantFields {
  return {
    description: f.description.trim() || null,
    model: f.model,
    system: f.system.trim() ? f.system : null,
    servers: f.servers,
    tools: f.tools,
    max_iterations: f.max_iterations,
  };
}

/** `assistants[3].servers[0]` → `servers`. */
function fieldOf(e: unknown): string | null {
  if (!(e instanceof ApiError) || !e.param) return null;
  const m = /^(?:assistants(?:\[\d+\])?\.)?([a-z_]+)/.exec(e.param);
  return m ? m[1] : null;
}

function AssistantForm({ original, onDone, onCancel }: { original?: Assistant; onDone: (a: Assistant) => void; onCancel: () => void }) {
  const qc = useQueryClient();
  const models = useModels();
  const servers = useMcpServers(false);
  const [form, setForm] = useState<Form>(() => (original ? formOf(original) : emptyForm()));
  const tools = useAgentTools(form.servers, form.tools !== null);
  const groups = useMemo(() => groupModels(chatModels(models.data ?? []).filter((m) => !m.assistant)), [models.data]);
  const save = useMutation({
    mutationFn: () => (original ? updateAssistant(original.name, bodyOf(form)) : createAssistant({ name: form.name.trim(), ...bodyOf(form) })),
    onSuccess: (a) => {
      void invalidateMcp(qc);
      onDone(a);
    },
  });
  const bad = fieldOf(save.error) ?? (save.error instanceof ApiError && hasCode(save.error, "conflict") && !original ? "name" : null);
  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm((f) => ({ ...f, [k]: v }));
  const err = (k: string) => (bad === k ? <span className="field-error">{(save.error as Error).message}</span> : null);
  const offered = tools.data?.data ?? [];
  const id = original ? `as-${original.name}` : "as-new";

  return (
    <form
      data-testid="assistant-form"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${id}-name`}>Name (the model id clients ask for)</label>
          <input id={`${id}-name`} type="text" required disabled={!!original} value={form.name} onChange={(e) => set("name", e.target.value)} aria-invalid={bad === "name"} placeholder="researcher" spellCheck={false} />
          {err("name")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-model`}>Model</label>
          <select id={`${id}-model`} required value={form.model} onChange={(e) => set("model", e.target.value)} aria-invalid={bad === "model"}>
            <option value="">choose the model that answers…</option>
            {form.model && !groups.some((g) => g.models.some((m) => m.id === form.model)) && <option value={form.model}>{form.model}</option>}
            {groups.map((g) => (
              <optgroup key={g.group} label={g.group}>
                {g.models.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.id}
                    {m.capabilities && !m.capabilities.tools ? " (no tool calling listed)" : ""}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
          {err("model")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-description`}>Description (optional)</label>
          <input id={`${id}-description`} type="text" value={form.description} onChange={(e) => set("description", e.target.value)} placeholder="Looks things up before it answers" />
        </div>
      </div>
      <div className="field">
        <label htmlFor={`${id}-system`}>System prompt</label>
        <textarea id={`${id}-system`} rows={4} value={form.system} onChange={(e) => set("system", e.target.value)} placeholder="You are a careful researcher. Use the tools to check facts." />
      </div>
      <fieldset className="agent-list" aria-invalid={bad === "servers"}>
        <legend>MCP servers</legend>
        {servers.data?.length === 0 && (
          <p className="small muted">
            No MCP servers yet: <Link to="/settings/mcp">add one</Link>.
          </p>
        )}
        <div className="row">
          {servers.data?.map((s) => (
            <label key={s.name} className="check small">
              <input
                type="checkbox"
                checked={form.servers.includes(s.name)}
                onChange={(e) =>
                  setForm((f) => {
                    const list = e.target.checked ? [...f.servers, s.name] : f.servers.filter((x) => x !== s.name);
                    return { ...f, servers: list, tools: f.tools?.filter((t) => list.length === 0 || list.some((n) => t.startsWith(`${n}__`))) ?? null };
                  })
                }
              />
              <span className="mono">{s.name}</span>
              {!s.enabled && <span className="badge warn">disabled</span>}
            </label>
          ))}
        </div>
        {err("servers")}
      </fieldset>
      <fieldset className="agent-list" style={{ marginTop: 10 }}>
        <legend>Tools</legend>
        <label className="check small">
          <input type="checkbox" checked={form.tools !== null} onChange={(e) => set("tools", e.target.checked ? [] : null)} />
          Only some tools
        </label>
        {form.tools === null && <p className="small faint">{form.servers.length ? "Every enabled tool of these servers." : "Choose servers above, or only some tools."}</p>}
        {form.tools !== null && (
          <>
            {tools.isPending && <p className="small muted">Listing tools…</p>}
            <ErrorBanner error={tools.error} />
            {tools.data?.errors.map((e) => (
              <div key={e.server} className="small" style={{ color: "var(--danger)" }}>
                {e.server}: {e.error}
              </div>
            ))}
            <div className="agent-list tools">
              {offered.map((t) => (
                <label key={t.name} className="check small" title={t.description ?? undefined}>
                  <input
                    type="checkbox"
                    checked={form.tools!.includes(t.name)}
                    onChange={(e) => set("tools", e.target.checked ? [...form.tools!, t.name] : form.tools!.filter((x) => x !== t.name))}
                  />
                  <span className="mono">{t.name}</span>
                </label>
              ))}
            </div>
          </>
        )}
        {err("tools")}
      </fieldset>
      <div className="field" style={{ maxWidth: 220, marginTop: 12 }}>
        <label htmlFor={`${id}-max`}>Max iterations</label>
        <input
          id={`${id}-max`}
          type="number"
          min={1}
          max={100}
          value={form.max_iterations}
          onChange={(e) => set("max_iterations", Math.min(100, Math.max(1, Math.round(Number(e.target.value) || 1))))}
          aria-invalid={bad === "max_iterations"}
        />
        <span className="hint">Model rounds before it must answer without tools.</span>
        {err("max_iterations")}
      </div>
      {save.error && !bad && <ErrorBanner error={save.error} />}
      <div className="row">
        <button type="submit" className="btn primary" disabled={save.isPending || !form.name.trim() || !form.model}>
          {save.isPending ? "Saving…" : original ? "Save changes" : "Create assistant"}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function AssistantCard({ a }: { a: Assistant }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const remove = useMutation({
    mutationFn: () => deleteAssistant(a.name),
    onSuccess: () => {
      setConfirm(false);
      toast(`Deleted ${a.name}`);
      void invalidateMcp(qc);
    },
  });
  return (
    <section className="card" aria-labelledby={`assistant-${a.name}`} data-testid={`assistant-${a.name}`}>
      <div className="card-head">
        <h3 id={`assistant-${a.name}`}>
          <span className="mono">{a.name}</span> <span className="badge assistant">assistant</span>
        </h3>
        {!editing && (
          <>
            <button type="button" className="btn sm" onClick={() => setEditing(true)}>
              Edit
            </button>
            <button type="button" className="btn sm danger" onClick={() => setConfirm(true)}>
              Delete
            </button>
          </>
        )}
      </div>
      {editing ? (
        <AssistantForm
          original={a}
          onDone={() => {
            setEditing(false);
            toast(`Saved ${a.name}`);
          }}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <>
          {a.description && <p className="small muted">{a.description}</p>}
          <dl className="facts">
            <div>
              <dt>Model</dt>
              <dd className="mono small">{a.model}</dd>
            </div>
            <div>
              <dt>Tools</dt>
              <dd className="small">{a.tools ? a.tools.join(", ") || "none" : a.servers.length ? `all of ${a.servers.join(", ")}` : "none chosen"}</dd>
            </div>
            <div>
              <dt>Max iterations</dt>
              <dd className="small">{a.max_iterations}</dd>
            </div>
            {a.system && (
              <div style={{ gridColumn: "1 / -1" }}>
                <dt>System prompt</dt>
                <dd className="small" style={{ whiteSpace: "pre-wrap" }}>
                  {a.system}
                </dd>
              </div>
            )}
          </dl>
        </>
      )}
      {confirm && (
        <ConfirmDelete
          title={`Delete ${a.name}?`}
          message={<>Clients that ask for “{a.name}” will get a model-not-found error.</>}
          error={remove.error}
          pending={remove.isPending}
          onConfirm={() => remove.mutate()}
          onClose={() => setConfirm(false)}
        />
      )}
    </section>
  );
}

export function Assistants() {
  const assistants = useAssistants();
  const toast = useToast();
  const [adding, setAdding] = useState(false);
  return (
    <div className="stack">
      {adding ? (
        <div className="card" data-testid="add-assistant">
          <h2>New assistant</h2>
          <AssistantForm
            onDone={(a) => {
              setAdding(false);
              toast(`Created ${a.name}: pick it in the playground's model list`);
            }}
            onCancel={() => setAdding(false)}
          />
        </div>
      ) : (
        <div className="row">
          <p className="small muted" style={{ margin: 0, flex: 1 }}>
            An assistant is a model with a system prompt and MCP tools, served under a model id of its own: any client can use it, and the gateway runs the tools.
          </p>
          <button type="button" className="btn primary" onClick={() => setAdding(true)}>
            New assistant
          </button>
        </div>
      )}
      <ErrorBanner error={assistants.error} onRetry={() => assistants.refetch()} />
      {assistants.isSuccess && assistants.data.length === 0 && !adding && <p className="muted">No assistants yet.</p>}
      <div className="grid two">
        {assistants.data?.map((a) => (
          <AssistantCard key={a.name} a={a} />
        ))}
      </div>
    </div>
  );
}
