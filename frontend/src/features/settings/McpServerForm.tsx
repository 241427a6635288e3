// Adding or changing an MCP server: a command (stdio) with its arguments, environment and
// working directory, or a URL (streamable HTTP, or the older SSE transport) with headers. Rows
// marked secret go to the OS keychain; the config file keeps a `keychain:` reference.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError, hasCode } from "../../api/client";
import { createMcpServer, invalidateMcp, updateMcpServer } from "../../api/mcp";
import type { McpServer, McpTransport } from "../../api/types";
import { ErrorBanner, errorMessage } from "../../components/ErrorBanner";
import { Segmented } from "../../components/Tabs";
import { changeBody, createBody, emptyForm, emptyRow, fieldOfParam, FormError, formFromServer, splitCommandLine, type KvRow, type McpForm } from "./mcpForm";

interface Problem {
  field: string;
  key?: string;
  message: string;
}

function problemOf(e: unknown, creating: boolean): Problem | null {
  if (e instanceof FormError) return { field: e.field, key: e.key, message: e.message };
  if (!(e instanceof ApiError)) return null;
  const at = fieldOfParam(e.param);
  if (at) return { ...at, message: e.message };
  if (creating && hasCode(e, "conflict")) return { field: "name", message: e.message };
  return null;
}

function KvRows({
  id,
  label,
  noun,
  rows,
  onChange,
  keyPlaceholder,
  problem,
  secretStore,
}: {
  id: string;
  label: string;
  /** One row: "variable", "header". */
  noun: string;
  rows: KvRow[];
  onChange: (rows: KvRow[]) => void;
  keyPlaceholder: string;
  problem: Problem | null;
  secretStore: string;
}) {
  const set = (i: number, change: Partial<KvRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...change } : r)));
  return (
    <fieldset className="kv" aria-label={label} data-testid={`${id}-rows`}>
      <legend>{label}</legend>
      {rows.length === 0 && <p className="small faint">None.</p>}
      {rows.map((r, i) => {
        const bad = problem !== null && problem.key !== undefined && problem.key === r.key.trim();
        return (
          <div className="kv-row" key={i}>
            <input type="text" aria-label={`${label} ${i + 1} name`} placeholder={keyPlaceholder} value={r.key} onChange={(e) => set(i, { key: e.target.value })} aria-invalid={bad} spellCheck={false} />
            <input
              type={r.secret ? "password" : "text"}
              aria-label={`${label} ${i + 1} value`}
              autoComplete="off"
              spellCheck={false}
              placeholder={r.stored ? `in ${secretStore} — type to replace` : r.secret ? "secret value, or env:VAR" : "value"}
              value={r.value}
              onChange={(e) => set(i, { value: e.target.value })}
              aria-invalid={bad}
            />
            <label className="check small" title={`Stored in ${secretStore}; the config file only refers to it`}>
              <input type="checkbox" aria-label={`${label} ${i + 1} secret`} checked={r.secret} onChange={(e) => set(i, { secret: e.target.checked })} />
              secret
            </label>
            <button type="button" className="btn sm ghost" aria-label={`Remove ${noun} ${r.key || i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
              ×
            </button>
          </div>
        );
      })}
      {problem && <div className="field-error small">{problem.message}</div>}
      <button type="button" className="btn sm" onClick={() => onChange([...rows, emptyRow()])}>
        Add {noun}
      </button>
    </fieldset>
  );
}

export function McpServerForm({
  original,
  existing,
  secretStore,
  onDone,
  onCancel,
}: {
  /** The server being changed; none to add one. */
  original?: McpServer;
  existing: string[];
  secretStore: string;
  onDone: (s: McpServer) => void;
  onCancel: () => void;
}) {
  const qc = useQueryClient();
  const creating = !original;
  const [form, setForm] = useState<McpForm>(() => (original ? formFromServer(original) : emptyForm()));
  const save = useMutation({
    mutationFn: () => (original ? updateMcpServer(original.name, changeBody(form, original)) : createMcpServer(createBody(form))),
    onSuccess: (s) => {
      void invalidateMcp(qc);
      onDone(s);
    },
  });
  const problem = problemOf(save.error, creating);
  const at = (field: string) => (problem?.field === field ? problem : null);
  const set = <K extends keyof McpForm>(k: K, v: McpForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const text = (k: "name" | "command" | "cwd" | "url" | "call_timeout_ms") => ({
    id: `mcp-${k}`,
    value: form[k],
    onChange: (e: { target: { value: string } }) => set(k, e.target.value),
    "aria-invalid": problem?.field === k,
  });
  const fieldError = (k: string) => (problem?.field === k ? <span className="field-error">{problem.message}</span> : null);
  const nameTaken = creating && existing.includes(form.name.trim());
  const splittable = form.transport === "stdio" && /\s/.test(form.command.trim()) && !form.args.trim();

  return (
    <form
      className="mcp-form"
      data-testid="mcp-form"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <div className="form-grid">
        <div className="field">
          <label htmlFor="mcp-name">Name</label>
          <input type="text" required disabled={!creating} placeholder="everything" spellCheck={false} {...text("name")} aria-invalid={problem?.field === "name" || nameTaken} />
          {nameTaken ? <span className="field-error">There is a server with this name already.</span> : fieldError("name")}
          <span className="hint">Its tools reach models as {form.name.trim() || "name"}__TOOL.</span>
        </div>
        <div className="field">
          <span className="label">Transport</span>
          <Segmented
            label="Transport"
            value={form.transport}
            onChange={(t: McpTransport) => set("transport", t)}
            options={[
              { id: "stdio", label: "Command (stdio)" },
              { id: "http", label: "HTTP" },
              { id: "sse", label: "SSE" },
            ]}
          />
          <span className="hint">
            {form.transport === "stdio"
              ? "The gateway starts the server as a child process."
              : form.transport === "http"
                ? "A running server, over streamable HTTP."
                : "A running server, over the older HTTP+SSE transport."}
          </span>
          {fieldError("transport")}
        </div>
      </div>
      {form.transport === "stdio" ? (
        <>
          <div className="form-grid">
            <div className="field">
              <label htmlFor="mcp-command">Command</label>
              <input type="text" required placeholder="npx" spellCheck={false} {...text("command")} />
              {fieldError("command")}
              {splittable && (
                <button
                  type="button"
                  className="btn sm ghost"
                  style={{ alignSelf: "flex-start" }}
                  onClick={() => {
                    const { command, args } = splitCommandLine(form.command);
                    setForm((f) => ({ ...f, command, args: args.join("\n") }));
                  }}
                >
                  Split into command and arguments
                </button>
              )}
            </div>
            <div className="field">
              <label htmlFor="mcp-args">Arguments</label>
              <textarea
                id="mcp-args"
                rows={Math.min(6, Math.max(2, form.args.split("\n").length))}
                placeholder={"-y\n@modelcontextprotocol/server-everything"}
                spellCheck={false}
                value={form.args}
                onChange={(e) => set("args", e.target.value)}
                aria-invalid={problem?.field === "args"}
              />
              <span className="hint">One per line.</span>
              {fieldError("args")}
            </div>
            <div className="field">
              <label htmlFor="mcp-cwd">Working directory (optional)</label>
              <input type="text" placeholder="~/projects" spellCheck={false} {...text("cwd")} />
              {fieldError("cwd")}
            </div>
          </div>
          <KvRows id="env" label="Environment" noun="variable" rows={form.env} onChange={(rows) => set("env", rows)} keyPlaceholder="API_TOKEN" problem={at("env")} secretStore={secretStore} />
        </>
      ) : (
        <>
          <div className="field">
            <label htmlFor="mcp-url">URL</label>
            <input type="url" required placeholder={form.transport === "http" ? "http://127.0.0.1:3001/mcp" : "http://127.0.0.1:3001/sse"} spellCheck={false} {...text("url")} />
            {fieldError("url")}
          </div>
          <KvRows id="headers" label="Headers" noun="header" rows={form.headers} onChange={(rows) => set("headers", rows)} keyPlaceholder="Authorization" problem={at("headers")} secretStore={secretStore} />
        </>
      )}
      <div className="field" style={{ maxWidth: 260, marginTop: 12 }}>
        <label htmlFor="mcp-call_timeout_ms">Call timeout, ms (optional)</label>
        <input type="text" inputMode="numeric" placeholder="120000" {...text("call_timeout_ms")} />
        {fieldError("call_timeout_ms")}
      </div>
      {save.error && !problem && <ErrorBanner error={save.error} />}
      {save.error && problem && !["name", "transport", "command", "args", "cwd", "url", "env", "headers", "call_timeout_ms"].includes(problem.field) && (
        <div className="banner error" role="alert">
          <div className="grow">{errorMessage(save.error)}</div>
        </div>
      )}
      <div className="row">
        <button type="submit" className="btn primary" disabled={save.isPending || !form.name.trim() || nameTaken}>
          {save.isPending ? "Saving…" : creating ? "Add server" : "Save changes"}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <span className="small muted">{creating ? "It starts when its tools are first listed or used." : "A changed server restarts on its next use."}</span>
      </div>
    </form>
  );
}
