// Settings → Routing as data: the strategies in words, an alias's targets and weights as the
// config file takes them, and the pool form to and from the admin API's shape. Pure; tested
// beside.

import type { AliasChange, PoolBody, TargetEntry } from "../../api/routing";
import type { Alias, Fallback, Pool, Strategy } from "../../api/types";

export const STRATEGIES: { id: Strategy; label: string; hint: string }[] = [
  { id: "ordered", label: "Ordered", hint: "as listed; the next one when one fails" },
  { id: "round_robin", label: "Round robin", hint: "each request starts one member further on" },
  { id: "weighted", label: "Weighted", hint: "the first member is drawn by weight" },
  { id: "least_latency", label: "Least latency", hint: "the fastest lately (time to first token for streams)" },
  { id: "least_busy", label: "Least busy", hint: "the fewest requests in flight" },
  { id: "cheapest", label: "Cheapest", hint: "the lowest known price; unknown prices last" },
];

export const strategyLabel = (s: string) => STRATEGIES.find((x) => x.id === s)?.label ?? s.replace(/_/g, " ");

/** One alias target being edited. */
export interface TargetRow {
  id: string;
  weight: number;
}

export function targetRows(a: Pick<Alias, "targets" | "weights">): TargetRow[] {
  return a.targets.map((id, i) => ({ id, weight: a.weights[i] ?? 1 }));
}

/** The `PUT /admin/aliases/{name}` body: a target keeps its table form only when its weight is
 * not the default 1, and a default strategy or fallback is removed from the file. */
export function aliasChange(rows: TargetRow[], strategy: Strategy, fallback: Fallback): AliasChange {
  const targets: TargetEntry[] = rows.map((r) => (r.weight === 1 ? r.id : { model: r.id, weight: r.weight }));
  return { targets, strategy: strategy === "ordered" ? null : strategy, fallback: fallback === "none" ? null : fallback };
}

/** A weight typed in the form: a whole number from 0 (failover only) up. */
export function parseWeight(text: string): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** What a weighted alias would refuse before the gateway does. */
export function weightProblem(rows: TargetRow[], strategy: Strategy): string | null {
  if (strategy === "weighted" && rows.length > 0 && rows.every((r) => r.weight === 0)) {
    return "A weighted alias needs at least one target with a weight above 0.";
  }
  return null;
}

/** The pool form's fields, as typed. */
export interface PoolForm {
  name: string;
  image: boolean;
  audio: boolean;
  tools: boolean;
  reasoning: boolean;
  /** Tokens, as typed; empty asks nothing. */
  minContext: string;
  strategy: Strategy;
  providers: string[];
  /** Model-id patterns, separated by commas or spaces (`gpt-*, claude-*`). */
  models: string;
  fallback: Fallback;
}

export const emptyPoolForm = (): PoolForm => ({
  name: "",
  image: false,
  audio: false,
  tools: false,
  reasoning: false,
  minContext: "",
  strategy: "least_latency",
  providers: [],
  models: "",
  fallback: "none",
});

export function poolForm(p: Pool): PoolForm {
  return {
    name: p.name,
    image: p.require.input.includes("image"),
    audio: p.require.input.includes("audio"),
    tools: p.require.tools === true,
    reasoning: p.require.reasoning === true,
    minContext: p.require.min_context === null ? "" : String(p.require.min_context),
    strategy: p.strategy,
    providers: [...p.providers],
    models: p.models.join(", "),
    fallback: p.fallback,
  };
}

/** The pool as the admin API takes it, or what is wrong with the form. Every field is sent, so
 * that one unticked or emptied here is removed from the file (`null`). Requirements the form
 * does not show (`output`, `min_output`, other input modalities) are kept as they were. */
export function poolBody(f: PoolForm, before?: Pool): { body: PoolBody } | { error: string; field: string } {
  let minContext: number | null = null;
  if (f.minContext.trim()) {
    const n = Number(f.minContext.trim().replace(/[_,]/g, ""));
    if (!Number.isSafeInteger(n) || n <= 0) return { error: "The least context window is a number of tokens above 0.", field: "min_context" };
    minContext = n;
  }
  const kept = (before?.require.input ?? []).filter((m) => m !== "image" && m !== "audio");
  const input = [...kept, ...(f.image ? ["image"] : []), ...(f.audio ? ["audio"] : [])];
  const models = f.models
    .split(/[\s,]+/)
    .map((m) => m.trim())
    .filter(Boolean);
  const output = before?.require.output ?? [];
  return {
    body: {
      require: {
        input: input.length ? input : null,
        output: output.length ? output : null,
        tools: f.tools ? true : null,
        reasoning: f.reasoning ? true : null,
        min_context: minContext,
        min_output: before?.require.min_output ?? null,
      },
      strategy: f.strategy,
      providers: f.providers.length ? f.providers : null,
      models: models.length ? models : null,
      fallback: f.fallback === "none" ? null : f.fallback,
    },
  };
}

/** The ready-made `smart` pool first run offers: chat models that call tools, fastest first. */
export const SMART_POOL: PoolBody & { name: string } = {
  name: "smart",
  require: { input: null, output: ["text"], tools: true, reasoning: null, min_context: null, min_output: null },
  strategy: "least_latency",
  providers: null,
  models: null,
  fallback: null,
};

/** `0.125` → "12.5%"; whole percents without a decimal. */
export function formatRate(rate: number): string {
  const pct = Math.round(rate * 1000) / 10;
  return `${pct}%`;
}
