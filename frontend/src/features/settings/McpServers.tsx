// MCP servers: the configured ones with their state (running, failed and why, idle until
// used…), their tools with a switch each, and adding, changing, enabling, restarting and
// removing them. Every change goes through the admin API into the config file.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useSettings } from "../../api/config";
import { deleteMcpServer, invalidateMcp, mcpKeys, restartMcpServer, setMcpTool, updateMcpServer, useMcpServers, useServerTools } from "../../api/mcp";
import { get, seg } from "../../api/client";
import type { McpServer, McpTool } from "../../api/types";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { ErrorBanner, errorMessage } from "../../components/ErrorBanner";
import { describeState, McpStatePill } from "../../components/McpState";
import { useToast } from "../../components/Toast";
import { McpServerForm } from "./McpServerForm";

function ToolRow({ server, tool }: { server: string; tool: McpTool }) {
  const qc = useQueryClient();
  // What the user switched to, shown from the click itself (the mutation's own state arrives a
  // tick later, and a controlled switch would flip back in between) until the list is read back.
  const [wanted, setWanted] = useState<boolean>();
  const flip = useMutation({
    mutationFn: (enabled: boolean) => setMcpTool(server, tool.tool, enabled),
    onSuccess: () => invalidateMcp(qc),
    onSettled: () => setWanted(undefined),
  });
  const enabled = wanted ?? tool.enabled;
  return (
    <li className={`mcp-tool${enabled ? "" : " off"}`} data-testid={`tool-${tool.tool}`}>
      <label className="check">
        <input
          type="checkbox"
          role="switch"
          checked={enabled}
          disabled={wanted !== undefined}
          onChange={(e) => {
            setWanted(e.target.checked);
            flip.mutate(e.target.checked);
          }}
          aria-label={`${tool.tool} enabled`}
        />
        <span className="mono">{tool.tool}</span>
      </label>
      {tool.description && <div className="small muted mcp-tool-desc">{tool.description}</div>}
      {flip.error && <div className="small field-error">{errorMessage(flip.error)}</div>}
    </li>
  );
}

function ServerTools({ server }: { server: McpServer }) {
  const qc = useQueryClient();
  const tools = useServerTools(server.name, true);
  // Listing the tools may have started the server: show its new state now, not at the next poll.
  useEffect(() => {
    if (tools.dataUpdatedAt || tools.errorUpdatedAt) void qc.invalidateQueries({ queryKey: mcpKeys.servers });
  }, [qc, tools.dataUpdatedAt, tools.errorUpdatedAt]);
  if (tools.isPending) return <p className="small muted">Starting {server.name} and listing its tools…</p>;
  if (tools.error) return <ErrorBanner error={tools.error} onRetry={() => tools.refetch()} />;
  const list = tools.data ?? [];
  const on = list.filter((t) => t.enabled).length;
  return (
    <div data-testid="mcp-tools">
      <p className="small muted">
        {list.length === 0 ? "This server offers no tools." : `${on} of ${list.length} tools reach models. A switched-off tool is never offered or run.`}
      </p>
      <ul className="mcp-tools">
        {list.map((t) => (
          <ToolRow key={t.tool} server={server.name} tool={t} />
        ))}
      </ul>
    </div>
  );
}

function ServerCard({ s, open, onOpen, secretStore }: { s: McpServer; open: boolean; onOpen: (open: boolean) => void; secretStore: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState(false);
  // As for a tool's switch: shown from the click until the server list is read back.
  const [wanted, setWanted] = useState<boolean>();
  const toggle = useMutation({
    mutationFn: (enabled: boolean) => updateMcpServer(s.name, { enabled }),
    onSuccess: () => invalidateMcp(qc),
    onSettled: () => setWanted(undefined),
  });
  const enabled = wanted ?? s.enabled;
  const restart = useMutation({
    mutationFn: async () => {
      await restartMcpServer(s.name);
      // Started again at once, so that the state shown is the new session's.
      await get(`/admin/mcp/servers/${seg(s.name)}/tools`).catch(() => undefined);
    },
    onSuccess: () => toast(`Restarted ${s.name}`),
    onSettled: () => {
      qc.removeQueries({ queryKey: mcpKeys.serverTools(s.name) });
      void invalidateMcp(qc);
    },
  });
  const remove = useMutation({
    mutationFn: () => deleteMcpServer(s.name),
    onSuccess: () => {
      setConfirm(false);
      toast(`Removed ${s.name}`);
      void invalidateMcp(qc);
    },
  });
  const st = s.status;
  const where = s.transport === "stdio" ? [s.command, ...(s.args ?? [])].join(" ") : (s.url ?? "");
  const values = Object.entries((s.transport === "stdio" ? s.env : s.headers) ?? {});

  return (
    <section className="card" aria-labelledby={`mcp-${s.name}`} data-testid={`mcp-server-${s.name}`}>
      <div className="card-head">
        <h3 id={`mcp-${s.name}`}>
          <span className="mono">{s.name}</span> <span className="badge">{s.transport}</span>
        </h3>
        {st && <McpStatePill status={st} />}
        <label className="check small">
          <input
            type="checkbox"
            role="switch"
            checked={enabled}
            onChange={(e) => {
              setWanted(e.target.checked);
              toggle.mutate(e.target.checked);
            }}
            disabled={wanted !== undefined}
            aria-label={`${s.name} enabled`}
          /> enabled
        </label>
      </div>
      {st?.error && (st.state === "failed" || st.state === "exited") && (
        <div className="banner error" role="alert" data-testid="mcp-error">
          <div className="grow">
            {st.error}
            {st.retry_in_s ? <span className="small muted"> · next try in {st.retry_in_s} s</span> : null}
          </div>
        </div>
      )}
      {editing ? (
        <McpServerForm
          original={s}
          existing={[]}
          secretStore={secretStore}
          onDone={() => {
            setEditing(false);
            toast(`Saved ${s.name}`);
          }}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <>
          <dl className="facts">
            <div style={{ gridColumn: "span 2" }}>
              <dt>{s.transport === "stdio" ? "Command" : "URL"}</dt>
              <dd className="mono small" style={{ overflowWrap: "anywhere" }}>
                {where || "—"}
              </dd>
            </div>
            <div>
              <dt>State</dt>
              <dd className="small" data-testid="mcp-state-text">
                {st ? describeState(st) : "—"}
              </dd>
            </div>
            <div>
              <dt>Server</dt>
              <dd className="small">
                {st?.server_info?.name ? `${st.server_info.name}${st.server_info.version ? ` ${st.server_info.version}` : ""}` : "—"}
                {st?.pid ? <span className="faint"> · pid {st.pid}</span> : null}
                {st?.restarts ? <span className="faint"> · {st.restarts} restarts</span> : null}
              </dd>
            </div>
            {values.length > 0 && (
              <div style={{ gridColumn: "span 2" }}>
                <dt>{s.transport === "stdio" ? "Environment" : "Headers"}</dt>
                <dd className="small mono" style={{ overflowWrap: "anywhere" }}>
                  {values.map(([k, v]) => (
                    <span key={k} className="kv-fact" title={v}>
                      {k}
                      {v.startsWith("keychain:") ? <span className="badge ok">keychain</span> : v.startsWith("env:") ? <span className="faint">={v}</span> : null}
                    </span>
                  ))}
                </dd>
              </div>
            )}
          </dl>
          <div className="row">
            <button type="button" className="btn sm" aria-expanded={open} onClick={() => onOpen(!open)} disabled={!s.enabled}>
              {open ? "Hide tools" : `Tools${st?.tools !== null && st?.tools !== undefined ? ` (${st.tools})` : ""}`}
            </button>
            <button type="button" className="btn sm" onClick={() => setEditing(true)}>
              Edit
            </button>
            <button type="button" className="btn sm" onClick={() => restart.mutate()} disabled={restart.isPending || !s.enabled}>
              {restart.isPending ? "Restarting…" : "Restart"}
            </button>
            <span className="spacer" />
            <button type="button" className="btn sm danger" onClick={() => setConfirm(true)}>
              Delete
            </button>
          </div>
          <ErrorBanner error={toggle.error ?? restart.error} />
          {open && s.enabled && (
            <div style={{ marginTop: 10 }}>
              <ServerTools server={s} />
            </div>
          )}
          {s.disabled_tools.length > 0 && !open && <p className="small faint" style={{ marginTop: 6 }}>Switched off: {s.disabled_tools.join(", ")}</p>}
        </>
      )}
      {confirm && (
        <ConfirmDelete
          title={`Delete ${s.name}?`}
          message="Its tools go from agent mode, and a process it runs is stopped. Assistants that use it must be changed first. Secrets it keeps in the keychain are deleted with it."
          error={remove.error}
          pending={remove.isPending}
          onConfirm={() => remove.mutate()}
          onClose={() => setConfirm(false)}
        />
      )}
    </section>
  );
}

export function McpServers() {
  const servers = useMcpServers();
  const settings = useSettings();
  const [adding, setAdding] = useState(false);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const secretStore = settings.data?.secrets.store ?? "the secret store";
  const setOpenFor = (name: string, on: boolean) =>
    setOpen((o) => {
      const next = new Set(o);
      if (on) next.add(name);
      else next.delete(name);
      return next;
    });
  const list = servers.data ?? [];
  return (
    <div className="stack">
      {adding ? (
        <div className="card" data-testid="add-mcp-server">
          <div className="card-head">
            <h2>Add an MCP server</h2>
          </div>
          <McpServerForm
            existing={list.map((s) => s.name)}
            secretStore={secretStore}
            onDone={(s) => {
              setAdding(false);
              // Listing its tools starts it: the card shows it running, or why it is not.
              setOpenFor(s.name, true);
            }}
            onCancel={() => setAdding(false)}
          />
        </div>
      ) : (
        <div className="row">
          <p className="small muted grow" style={{ margin: 0, flex: 1 }}>
            MCP servers give models tools: agent mode in the playground and assistants use them, and the gateway runs each call.
          </p>
          <button type="button" className="btn primary" onClick={() => setAdding(true)}>
            Add an MCP server
          </button>
        </div>
      )}
      <ErrorBanner error={servers.error} onRetry={() => servers.refetch()} />
      {servers.isSuccess && list.length === 0 && !adding && (
        <div className="card empty">
          <h2>No MCP servers yet</h2>
          <p>Add one by its command (e.g. npx -y @modelcontextprotocol/server-everything) or by the URL of a running server.</p>
        </div>
      )}
      <div className="stack">
        {list.map((s) => (
          <ServerCard key={s.name} s={s} open={open.has(s.name)} onOpen={(on) => setOpenFor(s.name, on)} secretStore={secretStore} />
        ))}
      </div>
    </div>
  );
}
