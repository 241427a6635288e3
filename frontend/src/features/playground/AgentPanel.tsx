// Agent mode's settings in the playground's side panel: which MCP servers and tools the
// gateway's tool loop may use, its iteration budget, and whether each call waits for the user.
// An assistant model brings its own servers and tools; only approval and the budget apply.

import { Link } from "react-router";
import { useAgentTools, useMcpServers } from "../../api/mcp";
import type { AgentSettings, ModelCard } from "../../api/types";
import { errorMessage } from "../../components/ErrorBanner";
import { McpStatePill } from "../../components/McpState";
import { isAssistant } from "./agent";

function toggle(list: string[], item: string, on: boolean): string[] {
  return on ? (list.includes(item) ? list : [...list, item]) : list.filter((x) => x !== item);
}

export function AgentPanel({ agent, onChange, model }: { agent: AgentSettings; onChange: (a: AgentSettings) => void; model: ModelCard | undefined }) {
  const assistant = isAssistant(model) ? model!.assistant! : null;
  const active = agent.enabled || !!assistant;
  const servers = useMcpServers(active ? 5000 : false);
  const usable = (servers.data ?? []).filter((s) => s.enabled);
  const tools = useAgentTools(agent.servers, agent.enabled && !assistant);
  const offered = tools.data?.data ?? [];
  const set = (change: Partial<AgentSettings>) => onChange({ ...agent, ...change });

  const setServer = (name: string, on: boolean) => {
    const all = usable.map((s) => s.name);
    const current = agent.servers.length ? agent.servers : all;
    let next = toggle(current, name, on);
    if (next.length === all.length && all.every((n) => next.includes(n))) next = [];
    // Tools picked from a server that is no longer offered go with it.
    const keep = agent.tools?.filter((t) => next.length === 0 || next.some((s) => t.startsWith(`${s}__`))) ?? null;
    set({ servers: next, tools: keep });
  };
  const setTool = (name: string, on: boolean) => {
    const all = offered.map((t) => t.name);
    const next = toggle(agent.tools ?? all, name, on);
    set({ tools: all.every((n) => next.includes(n)) ? null : next });
  };

  return (
    <section className="agent-panel" aria-label="Agent mode" data-testid="agent-panel">
      <label className="check agent-switch">
        <input
          type="checkbox"
          checked={active}
          disabled={!!assistant}
          onChange={(e) => set({ enabled: e.target.checked })}
        />
        <span>
          <strong>Agent</strong> <span className="small muted">— the gateway runs MCP tools for the model</span>
        </span>
      </label>
      {assistant && (
        <p className="small muted" data-testid="assistant-info">
          <span className="mono">{model!.id}</span> is an assistant: {assistant.model} with{" "}
          {assistant.tools?.length ? `${assistant.tools.length} chosen tools` : assistant.servers.length ? `the tools of ${assistant.servers.join(", ")}` : "every enabled tool"}
          , at most {assistant.max_iterations} rounds.
        </p>
      )}
      {active && (
        <>
          {!assistant && (
            <>
              {servers.isSuccess && usable.length === 0 && (
                <p className="small muted">
                  No MCP server is enabled. <Link to="/settings/mcp">Add one in Settings</Link>.
                </p>
              )}
              {usable.length > 0 && (
                <fieldset className="agent-list">
                  <legend>Servers</legend>
                  {usable.map((s) => (
                    <label key={s.name} className="check small">
                      <input
                        type="checkbox"
                        checked={agent.servers.length === 0 || agent.servers.includes(s.name)}
                        onChange={(e) => setServer(s.name, e.target.checked)}
                      />
                      <span className="mono grow">{s.name}</span>
                      {s.status && <McpStatePill status={s.status} />}
                    </label>
                  ))}
                </fieldset>
              )}
              {tools.error && <div className="small field-error">{errorMessage(tools.error)}</div>}
              {tools.data?.errors.map((e) => (
                <div key={e.server} className="small" role="alert" style={{ color: "var(--danger)" }}>
                  {e.server}: {e.error}
                </div>
              ))}
              {tools.isPending && agent.enabled && <p className="small muted">Starting the servers and listing their tools…</p>}
              {offered.length > 0 && (
                <fieldset className="agent-list tools">
                  <legend>
                    Tools <span className="faint">({agent.tools === null ? `all ${offered.length}` : `${agent.tools.length} of ${offered.length}`})</span>
                  </legend>
                  {offered.map((t) => (
                    <label key={t.name} className="check small" title={t.description ?? undefined}>
                      <input type="checkbox" checked={agent.tools === null || agent.tools.includes(t.name)} onChange={(e) => setTool(t.name, e.target.checked)} />
                      <span className="mono grow">{t.name}</span>
                    </label>
                  ))}
                </fieldset>
              )}
              {agent.tools?.length === 0 && <p className="small" style={{ color: "var(--warn)" }}>No tool is chosen: the model answers without tools.</p>}
            </>
          )}
          <div className="field" style={{ marginTop: 8 }}>
            <label htmlFor="agent-max">Max iterations</label>
            <input
              id="agent-max"
              type="number"
              min={1}
              max={100}
              step={1}
              value={agent.max_iterations}
              disabled={!!assistant}
              onChange={(e) => {
                const n = Number(e.target.value);
                if (Number.isFinite(n)) set({ max_iterations: Math.min(100, Math.max(1, Math.round(n))) });
              }}
            />
            <span className="hint">{assistant ? "The assistant's own budget applies." : "Model rounds before the gateway asks for an answer without tools."}</span>
          </div>
          <label className="check small">
            <input type="checkbox" checked={agent.approval} onChange={(e) => set({ approval: e.target.checked })} />
            Ask before each tool call
          </label>
        </>
      )}
    </section>
  );
}
