// The playground's conversation as data: what is sent upstream, what is saved in a session,
// titles, and the edits (regenerate, edit and resend). Pure functions, tested beside.

import type { ChatMessage, ChatParams, ContentPart, ModelCard } from "../../api/types";

/** The text of a message, images left out. */
export function textOf(content: ChatMessage["content"]): string {
  if (typeof content === "string") return content;
  return content
    .filter((p): p is Extract<ContentPart, { type: "text" }> => p.type === "text")
    .map((p) => p.text)
    .join("\n");
}

export function imagesOf(content: ChatMessage["content"]): string[] {
  if (typeof content === "string") return [];
  return content.filter((p): p is Extract<ContentPart, { type: "image_url" }> => p.type === "image_url").map((p) => p.image_url.url);
}

/** A user message: plain text, or OpenAI content parts when it carries images. */
export function userMessage(text: string, images: string[]): ChatMessage {
  if (!images.length) return { role: "user", content: text };
  const parts: ContentPart[] = [];
  if (text) parts.push({ type: "text", text });
  for (const url of images) parts.push({ type: "image_url", image_url: { url } });
  return { role: "user", content: parts };
}

/** Parameters as the API takes them: unset ones are left out, so the provider's defaults apply. */
export function cleanParams(p: ChatParams): ChatParams {
  const out: ChatParams = {};
  if (isNum(p.temperature)) out.temperature = p.temperature;
  if (isNum(p.top_p)) out.top_p = p.top_p;
  if (isNum(p.max_tokens) && p.max_tokens > 0) out.max_tokens = Math.round(p.max_tokens);
  if (isNum(p.seed)) out.seed = Math.round(p.seed);
  if (p.reasoning_effort) out.reasoning_effort = p.reasoning_effort;
  const stop = (p.stop ?? []).filter((s) => s.length > 0);
  if (stop.length) out.stop = stop.slice(0, 4);
  return out;
}

const isNum = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n);

/** The chat request for `messages` (the UI's own fields — reasoning, meta, tool cards, failed
 * answers — stay home). `agent`: agent mode's options, when on. */
export function buildRequest(
  model: string,
  system: string | null,
  messages: ChatMessage[],
  params: ChatParams,
  agent: Record<string, unknown> | null = null,
): Record<string, unknown> {
  const wire: Record<string, unknown>[] = [];
  if (system && system.trim()) wire.push({ role: "system", content: system });
  for (const m of messages) {
    // An answer that failed or was stopped before it began says nothing to the model.
    if (m.role === "assistant" && !textOf(m.content) && !m.tool_calls?.length) continue;
    const w: Record<string, unknown> = { role: m.role, content: m.content };
    if (m.tool_calls?.length) w.tool_calls = m.tool_calls;
    wire.push(w);
  }
  return { model, messages: wire, ...cleanParams(params), ...(agent ? { agent } : {}) };
}

/** A session title from the first thing the user said. */
export function titleFrom(text: string, max = 60): string {
  const line = text.replace(/\s+/g, " ").trim();
  if (!line) return "New chat";
  if (line.length <= max) return line;
  const cut = line.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** The messages to send again to regenerate the answer at `index` (the answer and everything
 * after it go). */
export function beforeAnswer(messages: ChatMessage[], index: number): ChatMessage[] {
  return messages.slice(0, index);
}

/** Replaces the user message at `index` with new text (keeping its images) and drops what
 * followed it. */
export function editAt(messages: ChatMessage[], index: number, text: string): ChatMessage[] {
  const old = messages[index];
  if (!old || old.role !== "user") return messages;
  return [...messages.slice(0, index), userMessage(text, imagesOf(old.content))];
}

/** Models the playground can chat with: everything that outputs text (aliases too). */
export function chatModels(models: ModelCard[]): ModelCard[] {
  return models.filter((m) => m.capabilities?.chat !== false && !(m.capabilities?.embeddings && !m.capabilities?.chat));
}

export function acceptsImages(model: ModelCard | undefined): boolean {
  return !!model?.capabilities?.vision;
}

/** Assistants first, then aliases, then by provider; each group in the order the gateway lists them. */
/** `alias`, `pool` (a capability pool, or a bare id several providers serve) or `null` for a
 * single model or an assistant. */
export function routeKind(m: ModelCard): "alias" | "pool" | null {
  if (m.assistant) return null;
  if (m.routing) return m.routing.kind === "alias" ? "alias" : "pool";
  return m.targets ? "alias" : null;
}

/** Assistants first, then aliases, then pools (each a route over several members), then each
 * provider's own models. */
export function groupModels(models: ModelCard[]): { group: string; models: ModelCard[] }[] {
  const groups = new Map<string, ModelCard[]>();
  for (const m of models) {
    const kind = routeKind(m);
    const g = m.assistant ? "Assistants" : kind === "alias" ? "Aliases" : kind === "pool" ? "Pools" : (m.provider ?? m.owned_by ?? "Other");
    groups.set(g, [...(groups.get(g) ?? []), m]);
  }
  const order = ["Assistants", "Aliases", "Pools"];
  const rank = (g: string) => (order.includes(g) ? order.indexOf(g) : order.length);
  const out = [...groups.entries()].map(([group, ms]) => ({ group, models: ms }));
  return out.sort((a, b) => rank(a.group) - rank(b.group));
}

export function matchesQuery(m: ModelCard, q: string): boolean {
  const needle = q.trim().toLowerCase();
  if (!needle) return true;
  const hay = [m.id, m.display_name ?? "", m.assistant?.description ?? ""].join(" ").toLowerCase();
  return needle.split(/\s+/).every((w) => hay.includes(w));
}
