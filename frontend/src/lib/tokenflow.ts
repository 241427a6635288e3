// The token flow of one request, for peek's Sankey: input tokens by role and source → the model
// → output tokens as text, reasoning and tool calls. Usage gives totals (and sometimes the
// reasoning share); how the totals split is estimated from the bodies (about four characters a
// token, a flat figure per image), and the result says which parts are estimates.

import { looksLikeSse, reassembleSse } from "./sse";

export interface FlowInput {
  model: string | null;
  requested_model: string | null;
  endpoint?: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cached_tokens: number | null;
  reasoning_tokens: number | null;
  request_body: unknown;
  response_body: unknown;
}

export interface FlowNode {
  name: string;
  side: "input" | "model" | "output";
  value: number;
}

export interface FlowLink {
  source: string;
  target: string;
  value: number;
}

export interface TokenFlow {
  nodes: FlowNode[];
  links: FlowLink[];
  model: string;
  input: { total: number; fromUsage: boolean; splitEstimated: boolean };
  output: { total: number; fromUsage: boolean; splitEstimated: boolean };
  /** Plain sentences for the UI: what was measured and what was estimated. */
  notes: string[];
}

/** Tokens for a piece of text: about four characters each. */
export function estimateTokens(text: string): number {
  return text ? Math.ceil(text.length / 4) : 0;
}

/** OpenAI's figure for a low-detail image; a high-detail 1024×1024 image is about 765. */
export function estimateImageTokens(detail: string | undefined): number {
  return detail === "low" ? 85 : 765;
}

const MESSAGE_OVERHEAD = 4;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v));

const ROLE_NAMES: Record<string, string> = {
  system: "System",
  developer: "System",
  user: "User",
  assistant: "Assistant",
  tool: "Tool",
  function: "Tool",
};

/** Estimated input tokens per `Role · source`, in the order they first appear. */
export function inputShares(body: unknown): Map<string, number> {
  const shares = new Map<string, number>();
  const add = (key: string, n: number) => {
    if (n > 0) shares.set(key, (shares.get(key) ?? 0) + n);
  };
  if (!isObj(body)) return shares;
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      if (!isObj(m)) continue;
      const role = ROLE_NAMES[String(m.role)] ?? "Other";
      const textKey = role === "Tool" ? "Tool · results" : `${role} · text`;
      add(textKey, MESSAGE_OVERHEAD);
      const content = m.content;
      if (typeof content === "string") add(textKey, estimateTokens(content));
      else if (Array.isArray(content)) {
        for (const part of content) {
          if (!isObj(part)) continue;
          if (part.type === "image_url" || part.type === "input_image" || part.type === "image") {
            const detail = isObj(part.image_url) ? (part.image_url.detail as string | undefined) : undefined;
            add(`${role} · images`, estimateImageTokens(detail));
          } else if (part.type === "input_audio") {
            add(`${role} · audio`, estimateTokens(str(part.input_audio)));
          } else {
            add(textKey, estimateTokens(str(part.text ?? part)));
          }
        }
      }
      if (Array.isArray(m.tool_calls)) {
        for (const call of m.tool_calls) {
          const f = isObj(call) && isObj(call.function) ? call.function : {};
          add(`${role} · tool calls`, estimateTokens(str(f.name)) + estimateTokens(str(f.arguments)));
        }
      }
    }
  } else if ("input" in body) {
    const input = body.input;
    const texts = Array.isArray(input) ? input.map(str) : [str(input)];
    add("Input · text", texts.reduce((n, t) => n + estimateTokens(t), 0));
  } else if (typeof body.prompt === "string") {
    add("User · text", estimateTokens(body.prompt));
  }
  if (Array.isArray(body.tools) && body.tools.length) add("Tools · definitions", estimateTokens(JSON.stringify(body.tools)));
  return shares;
}

export interface OutputShares {
  text: number;
  reasoning: number;
  toolCalls: number;
}

/** Characters of text, reasoning and tool calls in a response body (JSON, or SSE text). */
export function outputChars(body: unknown): OutputShares | null {
  let completion: unknown = body;
  if (typeof body === "string") {
    if (looksLikeSse(body)) completion = reassembleSse(body).completion;
    else {
      try {
        completion = JSON.parse(body);
      } catch {
        return null;
      }
    }
  }
  if (!isObj(completion) || !Array.isArray(completion.choices)) return null;
  const out: OutputShares = { text: 0, reasoning: 0, toolCalls: 0 };
  for (const c of completion.choices) {
    const m = isObj(c) && isObj(c.message) ? c.message : null;
    if (!m) continue;
    out.text += str(m.content).length;
    out.reasoning += str(m.reasoning_content ?? m.reasoning).length;
    if (Array.isArray(m.tool_calls)) {
      for (const call of m.tool_calls) {
        const f = isObj(call) && isObj(call.function) ? call.function : {};
        out.toolCalls += str(f.name).length + str(f.arguments).length;
      }
    }
  }
  return out;
}

function usageReasoning(body: unknown): number | null {
  if (!isObj(body) || !isObj(body.usage)) return null;
  const d = body.usage.completion_tokens_details;
  return isObj(d) && typeof d.reasoning_tokens === "number" ? d.reasoning_tokens : null;
}

/** Splits `total` in proportion to `weights`, in whole tokens that add up to `total`. */
export function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (total <= 0 || sum <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (w / sum) * total);
  const floors = exact.map(Math.floor);
  let left = total - floors.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    floors[i] += 1;
    left -= 1;
  }
  return floors;
}

export function tokenFlow(r: FlowInput): TokenFlow | null {
  const notes: string[] = [];
  let model = r.model ?? r.requested_model ?? "model";

  // ---- input ----
  const shares = inputShares(r.request_body);
  const keys = [...shares.keys()];
  const estimates = keys.map((k) => shares.get(k) ?? 0);
  const estimatedTotal = estimates.reduce((a, b) => a + b, 0);
  const inputFromUsage = r.prompt_tokens !== null && r.prompt_tokens !== undefined;
  const inputTotal = inputFromUsage ? (r.prompt_tokens as number) : estimatedTotal;
  let inputValues: number[];
  let inputLabels: string[];
  if (keys.length === 0) {
    inputLabels = inputTotal > 0 ? ["Input"] : [];
    inputValues = inputTotal > 0 ? [inputTotal] : [];
  } else {
    inputLabels = keys;
    inputValues = apportion(inputTotal, estimates);
  }
  const inputSplitEstimated = inputLabels.length > 1;
  if (!inputFromUsage && inputTotal > 0) notes.push("The upstream reported no input tokens: the input total is estimated from the request body (about 4 characters a token).");
  if (inputSplitEstimated) notes.push(`The split of the ${inputTotal} input tokens by role and source is estimated from the request body (about 4 characters a token; ${estimateImageTokens(undefined)} per image).`);
  if (r.cached_tokens) notes.push(`${r.cached_tokens} of the input tokens were read from the provider's prompt cache.`);

  // ---- output ----
  const chars = outputChars(r.response_body);
  const outputFromUsage = r.completion_tokens !== null && r.completion_tokens !== undefined;
  const outputTotal = outputFromUsage
    ? (r.completion_tokens as number)
    : chars
      ? Math.ceil((chars.text + chars.reasoning + chars.toolCalls) / 4)
      : 0;
  const knownReasoning = (r.reasoning_tokens || null) ?? usageReasoning(r.response_body);
  const out: OutputShares = { text: 0, reasoning: 0, toolCalls: 0 };
  let outputSplitEstimated = false;
  if (knownReasoning && knownReasoning > 0) {
    out.reasoning = Math.min(knownReasoning, outputTotal);
    const rest = outputTotal - out.reasoning;
    const [text, tools] = chars && chars.text + chars.toolCalls > 0 ? apportion(rest, [chars.text, chars.toolCalls]) : [rest, 0];
    out.text = text;
    out.toolCalls = tools;
    outputSplitEstimated = text > 0 && tools > 0;
  } else if (chars && chars.text + chars.reasoning + chars.toolCalls > 0) {
    const [text, reasoning, tools] = apportion(outputTotal, [chars.text, chars.reasoning, chars.toolCalls]);
    out.text = text;
    out.reasoning = reasoning;
    out.toolCalls = tools;
    outputSplitEstimated = [text, reasoning, tools].filter((n) => n > 0).length > 1;
  } else {
    out.text = outputTotal;
  }
  if (!outputFromUsage && outputTotal > 0) notes.push("The upstream reported no output tokens: the output total is estimated from the response body.");
  if (outputSplitEstimated) {
    notes.push(
      knownReasoning
        ? "Reasoning tokens come from the usage; the rest is split between text and tool calls by their length in the response."
        : "The usage does not split the output: text, reasoning and tool calls are estimated from their length in the response.",
    );
  }

  if (inputTotal <= 0 && outputTotal <= 0) return null;
  const labels = new Set([...inputLabels, "Text", "Reasoning", "Tool calls"]);
  if (labels.has(model)) model = `${model} (model)`;

  const nodes: FlowNode[] = [];
  const links: FlowLink[] = [];
  inputLabels.forEach((name, i) => {
    if (inputValues[i] > 0) {
      nodes.push({ name, side: "input", value: inputValues[i] });
      links.push({ source: name, target: model, value: inputValues[i] });
    }
  });
  nodes.push({ name: model, side: "model", value: Math.max(inputTotal, outputTotal) });
  for (const [name, value] of [
    ["Text", out.text],
    ["Reasoning", out.reasoning],
    ["Tool calls", out.toolCalls],
  ] as const) {
    if (value > 0) {
      nodes.push({ name, side: "output", value });
      links.push({ source: model, target: name, value });
    }
  }
  return {
    nodes,
    links,
    model,
    input: { total: inputTotal, fromUsage: inputFromUsage, splitEstimated: inputSplitEstimated },
    output: { total: outputTotal, fromUsage: outputFromUsage, splitEstimated: outputSplitEstimated },
    notes,
  };
}
