// Agent mode as data: the `agent` object a chat request carries, and the tool cards an answer
// shows, folded from the gateway's `switchyard` stream events (tool_call, approval_required,
// tool_result) and the user's approvals. Pure functions, tested beside.

import type { AgentSettings, ModelCard, ToolCard, ToolCardStatus } from "../../api/types";

export const DEFAULT_MAX_ITERATIONS = 10;

export const defaultAgent = (): AgentSettings => ({
  enabled: false,
  servers: [],
  tools: null,
  max_iterations: DEFAULT_MAX_ITERATIONS,
  approval: false,
});

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Reads saved agent settings (a session's `params.agent`, local storage) forgivingly. */
export function agentFrom(v: unknown): AgentSettings {
  const d = defaultAgent();
  if (!isObj(v)) return d;
  const list = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : null);
  const max = num(v.max_iterations);
  return {
    enabled: v.enabled === true,
    servers: list(v.servers) ?? [],
    tools: list(v.tools),
    max_iterations: max !== undefined && max >= 1 && max <= 100 ? Math.round(max) : d.max_iterations,
    approval: v.approval === true,
  };
}

/** An assistant model runs the tool loop by itself. */
export const isAssistant = (m: ModelCard | undefined): boolean => !!m?.assistant;

/**
 * The `agent` object for a chat request, or `null` when the loop is off. An assistant needs
 * none, except to ask before each call or to change its budget. Servers and tools left at
 * "all" are left out, so the gateway uses every enabled one.
 */
export function agentRequest(a: AgentSettings, model: ModelCard | undefined): Record<string, unknown> | null {
  if (isAssistant(model)) {
    const out: Record<string, unknown> = {};
    if (a.approval) out.approval = true;
    return Object.keys(out).length ? out : null;
  }
  if (!a.enabled) return null;
  const out: Record<string, unknown> = {};
  if (a.servers.length) out.servers = a.servers;
  if (a.tools) out.tools = a.tools;
  out.max_iterations = a.max_iterations;
  if (a.approval) out.approval = true;
  return out;
}

const RESULT_STATUSES: ToolCardStatus[] = ["ok", "error", "denied", "cancelled"];

function find(cards: ToolCard[], round: number, id: string): number {
  for (let i = cards.length - 1; i >= 0; i--) if (cards[i].id === id && cards[i].round === round) return i;
  return -1;
}

function upsert(cards: ToolCard[], note: Obj, at: number, change: Partial<ToolCard>): ToolCard[] {
  const round = num(note.round) ?? 0;
  const id = str(note.id);
  const i = find(cards, round, id);
  if (i === -1) {
    const card: ToolCard = { id, round, name: str(note.name), arguments: note.arguments ?? {}, at, status: "running", ...change };
    return [...cards, card];
  }
  const next = cards.slice();
  next[i] = { ...cards[i], ...change };
  return next;
}

/**
 * Folds one `switchyard` event into the cards. `at` is the length of the answer's text when the
 * event came, so a card sits where the model made the call. Unknown events change nothing.
 */
export function applyNote(cards: ToolCard[], note: unknown, at: number): ToolCard[] {
  if (!isObj(note)) return cards;
  switch (note.type) {
    case "tool_call":
      if (find(cards, num(note.round) ?? 0, str(note.id)) !== -1) return cards;
      return upsert(cards, note, at, {});
    case "approval_required":
      return upsert(cards, note, at, { status: "awaiting_approval", approval_id: str(note.approval_id) });
    case "tool_result": {
      const isError = note.is_error === true;
      const given = str(note.status) as ToolCardStatus;
      const status: ToolCardStatus = RESULT_STATUSES.includes(given) ? given : isError ? "error" : "ok";
      return upsert(cards, note, at, {
        status,
        is_error: isError || status !== "ok",
        content: str(note.content),
        ...(num(note.ms) !== undefined ? { ms: num(note.ms) } : {}),
      });
    }
    default:
      return cards;
  }
}

/** The cards a stream's events describe, in order. */
export function cardsFrom(notes: { at: number; note: unknown }[]): ToolCard[] {
  return notes.reduce<ToolCard[]>((cards, n) => applyNote(cards, n.note, n.at), []);
}

/** The user answered an approval (the answer is on its way to the gateway). */
export function decide(cards: ToolCard[], approvalId: string, decision: "approve" | "decline"): ToolCard[] {
  return cards.map((c) => (c.approval_id === approvalId ? { ...c, decision, decision_error: undefined } : c));
}

/** The gateway did not take the answer (e.g. nothing waits any more): the buttons come back. */
export function decisionFailed(cards: ToolCard[], approvalId: string, message: string): ToolCard[] {
  return cards.map((c) => (c.approval_id === approvalId ? { ...c, decision: undefined, decision_error: message } : c));
}

/** Keeps what the user decided across re-folds of the stream's events. */
export function withDecisions(cards: ToolCard[], decisions: ReadonlyMap<string, "approve" | "decline">): ToolCard[] {
  if (!decisions.size) return cards;
  return cards.map((c) => {
    const d = c.approval_id ? decisions.get(c.approval_id) : undefined;
    return d ? { ...c, decision: d } : c;
  });
}

/** What a card's approval buttons should show. */
export type ApprovalView = "none" | "ask" | "sending" | "approved" | "declined";

export function approvalView(c: ToolCard): ApprovalView {
  if (!c.approval_id) return "none";
  if (c.status === "awaiting_approval") return c.decision ? "sending" : "ask";
  if (c.status === "denied") return "declined";
  if (c.status === "cancelled" && !c.decision) return "none";
  return c.decision === "decline" ? "declined" : "approved";
}

/** The stream ended (or was stopped): calls still running or waiting were cancelled. */
export function settleCards(cards: ToolCard[]): ToolCard[] {
  return cards.map((c) =>
    c.status === "running" || c.status === "awaiting_approval" ? { ...c, status: "cancelled", is_error: true } : c,
  );
}

/** The answer's text cut where its cards go: text, cards, text… (cards in their order). */
export function segments(text: string, cards: ToolCard[]): ({ kind: "text"; text: string } | { kind: "cards"; cards: ToolCard[] })[] {
  const out: ({ kind: "text"; text: string } | { kind: "cards"; cards: ToolCard[] })[] = [];
  let from = 0;
  for (const c of cards) {
    const at = Math.max(from, Math.min(text.length, c.at));
    if (at > from) {
      const piece = trimLines(text.slice(from, at));
      if (piece.trim()) out.push({ kind: "text", text: piece });
      from = at;
    }
    const last = out[out.length - 1];
    if (last?.kind === "cards") last.cards.push(c);
    else out.push({ kind: "cards", cards: [c] });
  }
  const rest = trimLines(text.slice(from));
  if (rest.trim() || out.length === 0) out.push({ kind: "text", text: rest });
  return out;
}

/** The blank lines between rounds belong to neither side of a card. */
const trimLines = (t: string) => t.replace(/^(?:[ \t]*\r?\n)+/, "").replace(/(?:\r?\n[ \t]*)+$/, "");
