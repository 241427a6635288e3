// Models and what they can do, with where each fact came from (configured here, discovered
// from the provider, or inferred from the name); an override is one PATCH, and clearing it
// hands the field back to discovery.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { invalidateConfig, updateModel, type CapabilityOverride } from "../../api/config";
import { useModels } from "../../api/gateway";
import type { Capabilities, ModelCard } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { ErrorBanner, errorMessage } from "../../components/ErrorBanner";
import { num, Table } from "../../components/Table";
import { formatCount } from "../../lib/format";

const SOURCE_TITLE: Record<string, string> = {
  configured: "set in the config",
  discovered: "reported by the provider",
  inferred: "guessed from the model's name",
};

function Src({ caps, field }: { caps: Capabilities; field: string }) {
  const s = caps.source?.[field];
  if (!s) return null;
  return (
    <sup className="faint" title={SOURCE_TITLE[s] ?? s} style={{ marginLeft: 2, fontSize: 10 }}>
      {s === "configured" ? "cfg" : s === "discovered" ? "disc" : "inf"}
    </sup>
  );
}

const yes = (b: boolean) => (b ? "yes" : "—");

type Tri = "auto" | "yes" | "no";

function EditModel({ model, onClose }: { model: ModelCard; onClose: () => void }) {
  const qc = useQueryClient();
  const c = model.capabilities!;
  const configured = (f: string) => c.source?.[f] === "configured";
  const tri = (f: string, v: boolean): Tri => (configured(f) ? (v ? "yes" : "no") : "auto");
  const [vision, setVision] = useState<Tri>(configured("input") ? (c.vision ? "yes" : "no") : "auto");
  const [tools, setTools] = useState<Tri>(tri("tools", c.tools));
  const [reasoning, setReasoning] = useState<Tri>(tri("reasoning", c.reasoning));
  const [ctx, setCtx] = useState(configured("context_window") && c.context_window ? String(c.context_window) : "");
  const [maxOut, setMaxOut] = useState(configured("max_output") && c.max_output ? String(c.max_output) : "");
  const save = useMutation({
    mutationFn: () => {
      const change: CapabilityOverride = {};
      const b = (t: Tri) => (t === "auto" ? null : t === "yes");
      if (vision !== "auto" || configured("input")) change.input = vision === "auto" ? null : vision === "yes" ? ["text", "image"] : ["text"];
      if (tools !== "auto" || configured("tools")) change.tools = b(tools);
      if (reasoning !== "auto" || configured("reasoning")) change.reasoning = b(reasoning);
      if (ctx || configured("context_window")) change.context_window = ctx ? Number(ctx) : null;
      if (maxOut || configured("max_output")) change.max_output = maxOut ? Number(maxOut) : null;
      return updateModel(model.id, change);
    },
    onSuccess: () => {
      invalidateConfig(qc);
      onClose();
    },
  });
  const triSelect = (id: string, label: string, value: Tri, set: (t: Tri) => void, auto: boolean) => (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => set(e.target.value as Tri)}>
        <option value="auto">as discovered ({auto ? "yes" : "no"})</option>
        <option value="yes">yes</option>
        <option value="no">no</option>
      </select>
    </div>
  );
  return (
    <Dialog title={`Capabilities of ${model.id}`} onClose={onClose}>
      <p className="small muted">An override is written to the config and wins over what the provider reports. “As discovered” removes it.</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <div className="form-grid">
          {triSelect("cap-vision", "Accepts images", vision, setVision, c.vision)}
          {triSelect("cap-tools", "Tool calling", tools, setTools, c.tools)}
          {triSelect("cap-reasoning", "Reasoning", reasoning, setReasoning, c.reasoning)}
          <div className="field">
            <label htmlFor="cap-ctx">Context window (tokens)</label>
            <input id="cap-ctx" type="number" min={1} value={ctx} placeholder={c.context_window ? `${c.context_window} (discovered)` : "unknown"} onChange={(e) => setCtx(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="cap-max">Max output (tokens)</label>
            <input id="cap-max" type="number" min={1} value={maxOut} placeholder={c.max_output ? `${c.max_output} (discovered)` : "unknown"} onChange={(e) => setMaxOut(e.target.value)} />
          </div>
        </div>
        {save.error && <div className="banner error">{errorMessage(save.error)}</div>}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={save.isPending}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function Models() {
  const models = useModels();
  const [q, setQ] = useState("");
  const [editing, setEditing] = useState<ModelCard | null>(null);
  const rows = useMemo(
    () => (models.data ?? []).filter((m) => !m.targets && !m.assistant && m.capabilities && m.id.toLowerCase().includes(q.trim().toLowerCase())),
    [models.data, q],
  );
  return (
    <div className="card">
      <div className="card-head">
        <h2>Models</h2>
        <input type="search" placeholder="Filter models" aria-label="Filter models" value={q} onChange={(e) => setQ(e.target.value)} style={{ maxWidth: 260 }} />
      </div>
      <p className="small muted">
        Sources: <sup>cfg</sup> set in the config · <sup>disc</sup> reported by the provider · <sup>inf</sup> guessed from the name.
      </p>
      <ErrorBanner error={models.error} />
      {models.isSuccess && rows.length === 0 && <p className="muted">{q ? "No model matches." : "No models yet: add a provider."}</p>}
      <Table testId="models-table" head={["Model", "In", "Out", "Tools", "Reasoning", num("Context"), num("Max out"), num("$ / M in · out"), ""]}>
        {rows.map((m) => {
          const c = m.capabilities!;
          return (
            <tr key={m.id}>
              <td className="mono">{m.id}</td>
              <td>
                {c.input.join(", ")}
                <Src caps={c} field="input" />
              </td>
              <td>
                {c.output.join(", ")}
                <Src caps={c} field="output" />
              </td>
              <td>
                {yes(c.tools)}
                <Src caps={c} field="tools" />
              </td>
              <td>
                {yes(c.reasoning)}
                <Src caps={c} field="reasoning" />
              </td>
              <td className="num">
                {c.context_window ? formatCount(c.context_window) : "—"}
                <Src caps={c} field="context_window" />
              </td>
              <td className="num">
                {c.max_output ? formatCount(c.max_output) : "—"}
                <Src caps={c} field="max_output" />
              </td>
              <td className="num">
                {c.price_per_million ? `${c.price_per_million.input} · ${c.price_per_million.output}` : "—"}
                <Src caps={c} field="price" />
              </td>
              <td>
                {m.provider && (
                  <button type="button" className="btn sm" onClick={() => setEditing(m)} aria-label={`Edit capabilities of ${m.id}`}>
                    Edit
                  </button>
                )}
              </td>
            </tr>
          );
        })}
      </Table>
      {editing && <EditModel model={editing} onClose={() => setEditing(null)} />}
    </div>
  );
}
