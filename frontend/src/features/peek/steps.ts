// A request's tool-loop trail (`steps`) as a timeline: the start, each model round, each tool
// call with its result beside it, and a budget that ran out. Pure: built from the log's detail.

import type { AgentStep, ToolResultStatus } from "../../api/types";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

export interface ToolResultView {
  status: ToolResultStatus;
  isError: boolean;
  content: string;
  ms?: number;
}

export type StepItem =
  | { kind: "start"; assistant: string | null; model: string; tools: string[]; maxIterations: number | null }
  | {
      kind: "model";
      round: number;
      target: string;
      ms?: number;
      finishReason: string | null;
      content: string;
      toolCalls: string[];
      tokens: { prompt?: number; completion?: number } | null;
    }
  | { kind: "tool"; round: number; id: string; name: string; arguments: unknown; result: ToolResultView | null }
  | { kind: "budget"; round: number; note: string };

const STATUSES: ToolResultStatus[] = ["ok", "error", "denied", "cancelled"];

function resultOf(s: Obj): ToolResultView {
  const isError = s.is_error === true;
  const given = str(s.status) as ToolResultStatus;
  const status: ToolResultStatus = STATUSES.includes(given) ? given : isError ? "error" : "ok";
  const ms = num(s.ms);
  return { status, isError: isError || status !== "ok", content: str(s.content), ...(ms !== undefined ? { ms } : {}) };
}

export function stepItems(steps: AgentStep[] | unknown): StepItem[] {
  if (!Array.isArray(steps)) return [];
  const items: StepItem[] = [];
  for (const s of steps) {
    if (!isObj(s)) continue;
    switch (s.type) {
      case "start":
        items.push({
          kind: "start",
          assistant: s.assistant ? str(s.assistant) : null,
          model: str(s.model),
          tools: Array.isArray(s.tools) ? s.tools.map(str) : [],
          maxIterations: num(s.max_iterations) ?? null,
        });
        break;
      case "model": {
        const u = isObj(s.usage) ? s.usage : null;
        const ms = num(s.ms);
        items.push({
          kind: "model",
          round: num(s.round) ?? 0,
          target: str(s.target),
          ...(ms !== undefined ? { ms } : {}),
          finishReason: s.finish_reason ? str(s.finish_reason) : null,
          content: str(s.content),
          toolCalls: Array.isArray(s.tool_calls) ? s.tool_calls.map(str) : [],
          tokens: u ? { prompt: num(u.prompt_tokens), completion: num(u.completion_tokens) } : null,
        });
        break;
      }
      case "tool_call":
        items.push({ kind: "tool", round: num(s.round) ?? 0, id: str(s.id), name: str(s.name), arguments: s.arguments ?? {}, result: null });
        break;
      case "tool_result": {
        const round = num(s.round) ?? 0;
        const id = str(s.id);
        // Beside its call when there is one; on its own otherwise.
        const call = [...items].reverse().find((i): i is Extract<StepItem, { kind: "tool" }> => i.kind === "tool" && i.id === id && i.round === round && !i.result);
        if (call) call.result = resultOf(s);
        else items.push({ kind: "tool", round, id, name: str(s.name), arguments: undefined, result: resultOf(s) });
        break;
      }
      case "budget":
        items.push({ kind: "budget", round: num(s.round) ?? 0, note: str(s.note) });
        break;
      default:
        break;
    }
  }
  return items;
}

/** How many model rounds and tool calls the trail holds, for the tab's label. */
export function stepCounts(items: StepItem[]): { rounds: number; calls: number } {
  return { rounds: items.filter((i) => i.kind === "model").length, calls: items.filter((i) => i.kind === "tool").length };
}
