// The system prompt and the sampling parameters. Unset parameters are not sent, so the
// provider's defaults apply; "Reset" unsets one.

import type { ReactNode } from "react";
import type { ChatParams, ModelCard } from "../../api/types";
import { formatCount } from "../../lib/format";
import { describeStrategy } from "../../lib/trail";

function NumberParam({
  id,
  label,
  hint,
  value,
  onChange,
  min,
  max,
  step,
  range,
}: {
  id: string;
  label: string;
  hint?: string;
  value: number | undefined;
  onChange: (v: number | undefined) => void;
  min?: number;
  max?: number;
  step?: number;
  range?: boolean;
}) {
  return (
    <div className="field">
      <div className="row" style={{ justifyContent: "space-between" }}>
        <label htmlFor={id} className="label" style={{ fontWeight: 550, fontSize: 12.5, color: "var(--fg-muted)" }}>
          {label}
        </label>
        {value !== undefined ? (
          <button type="button" className="btn sm ghost" onClick={() => onChange(undefined)} aria-label={`Reset ${label} to the provider's default`}>
            Reset
          </button>
        ) : (
          <span className="small faint">default</span>
        )}
      </div>
      {range && (
        <input
          type="range"
          aria-label={`${label} slider`}
          min={min}
          max={max}
          step={step}
          value={value ?? (min ?? 0)}
          onChange={(e) => onChange(Number(e.target.value))}
          style={{ opacity: value === undefined ? 0.4 : 1 }}
        />
      )}
      <input
        id={id}
        type="number"
        min={min}
        max={max}
        step={step}
        value={value ?? ""}
        placeholder="provider default"
        onChange={(e) => onChange(e.target.value === "" ? undefined : Number(e.target.value))}
      />
      {hint && <span className="hint">{hint}</span>}
    </div>
  );
}

export function ParamsPanel({
  model,
  system,
  onSystem,
  params,
  onParams,
  onClose,
  children,
}: {
  model: ModelCard | undefined;
  system: string;
  onSystem: (s: string) => void;
  params: ChatParams;
  onParams: (p: ChatParams) => void;
  onClose?: () => void;
  /** Shown above the system prompt (agent mode's settings). */
  children?: ReactNode;
}) {
  const set = <K extends keyof ChatParams>(k: K, v: ChatParams[K]) => {
    const next = { ...params };
    if (v === undefined) delete next[k];
    else next[k] = v;
    onParams(next);
  };
  const c = model?.capabilities;
  return (
    <aside className="pg-side" aria-label="System prompt and parameters">
      <div className="row" style={{ marginBottom: 8 }}>
        <h2 style={{ margin: 0, flex: 1 }}>Parameters</h2>
        {onClose && (
          <button type="button" className="btn sm ghost pg-toggle side" onClick={onClose} aria-label="Close parameters">
            ×
          </button>
        )}
      </div>
      {model && (
        <div className="small muted" style={{ marginBottom: 12 }}>
          <div className="mono" style={{ color: "var(--fg)" }}>
            {model.id}
          </div>
          {model.targets && !model.assistant && (
            <div>
              {model.routing?.kind === "alias" || !model.routing ? "Alias" : "Pool"}
              {model.routing ? ` (${describeStrategy(model.routing.strategy)})` : ""}: {model.targets.join(model.routing && model.routing.strategy !== "ordered" ? ", " : " → ")}
              {model.routing?.require ? ` · every member: ${model.routing.require}` : ""}
            </div>
          )}
          {model.assistant && <div>Assistant on {model.assistant.model}{model.assistant.description ? ` — ${model.assistant.description}` : ""}</div>}
          {c && (
            <div>
              In: {c.input.join(", ") || "text"} · out: {c.output.join(", ") || "text"}
              {c.context_window ? ` · ${formatCount(c.context_window)} context` : ""}
              {c.max_output ? ` · ${formatCount(c.max_output)} max out` : ""}
              {c.price_per_million ? ` · $${c.price_per_million.input}/$${c.price_per_million.output} per M` : ""}
            </div>
          )}
        </div>
      )}
      {children}
      <div className="field">
        <label htmlFor="system-prompt">System prompt</label>
        <textarea id="system-prompt" rows={5} value={system} placeholder="You are a helpful assistant." onChange={(e) => onSystem(e.target.value)} />
      </div>
      <NumberParam id="p-temperature" label="Temperature" range min={0} max={2} step={0.05} value={params.temperature} onChange={(v) => set("temperature", v)} />
      <NumberParam id="p-top-p" label="Top P" range min={0} max={1} step={0.01} value={params.top_p} onChange={(v) => set("top_p", v)} />
      <NumberParam
        id="p-max-tokens"
        label="Max tokens"
        min={1}
        max={c?.max_output ?? undefined}
        step={1}
        value={params.max_tokens}
        onChange={(v) => set("max_tokens", v)}
        hint={c?.max_output ? `This model writes at most ${formatCount(c.max_output)}.` : undefined}
      />
      <NumberParam id="p-seed" label="Seed" step={1} value={params.seed} onChange={(v) => set("seed", v)} hint="Same seed, same answer — where the provider supports it." />
      {(c?.reasoning || params.reasoning_effort) && (
        <div className="field">
          <label htmlFor="p-effort">Reasoning effort</label>
          <select
            id="p-effort"
            value={params.reasoning_effort ?? ""}
            onChange={(e) => set("reasoning_effort", (e.target.value || undefined) as ChatParams["reasoning_effort"])}
          >
            <option value="">provider default</option>
            <option value="low">low</option>
            <option value="medium">medium</option>
            <option value="high">high</option>
          </select>
        </div>
      )}
      <div className="field">
        <label htmlFor="p-stop">Stop sequences</label>
        <input
          id="p-stop"
          type="text"
          placeholder="comma-separated, up to 4"
          value={(params.stop ?? []).join(", ")}
          onChange={(e) => {
            const list = e.target.value.split(",").map((s) => s.trim());
            set("stop", list.some(Boolean) ? list : undefined);
          }}
        />
      </div>
    </aside>
  );
}
