// The routing trail: the `x-switchyard-attempts` header
// (`strategy=least_latency; beta/m=skipped(context); dead/m=connect_error; fallback=local; ollama/llama3.2=ok`)
// and the request log's `strategy` and `attempts`, in one shape for the UI. The route's facts
// (how it chose, whether it fell back offline) are kept apart from the steps (each member
// tried, or skipped because it cannot serve the request).

export interface TrailStep {
  target: string;
  outcome: string;
  ok: boolean;
  /** Left out without being tried: `image`, `tools` or `context` (the part inside `skipped(…)`). */
  skipped?: string;
  /** Tried as the offline fallback, after every member failed to connect. */
  fallback?: boolean;
  status?: number;
  elapsedMs?: number;
  message?: string;
}

export interface Trail {
  /** The strategy of the alias or pool the request went through; `null` for a pinned model. */
  strategy: string | null;
  /** Every member failed to connect and local models were tried. */
  fellBack: boolean;
  steps: TrailStep[];
}

const SKIPPED = /^skipped\((.*)\)$/;

function step(target: string, outcome: string, fallback: boolean): TrailStep {
  const skip = SKIPPED.exec(outcome);
  return {
    target,
    outcome,
    ok: outcome === "ok",
    ...(skip ? { skipped: skip[1] } : {}),
    ...(fallback ? { fallback: true } : {}),
  };
}

/** Parses `x-switchyard-attempts`: `;`-separated (a `,`-separated header from an older gateway
 * or log row still reads). Targets may contain `=` (model ids do), so the outcome is what
 * follows the last one. `strategy=…` and `fallback=local` are facts of the route, not steps. */
export function parseAttemptsHeader(header: string | null | undefined): Trail {
  const trail: Trail = { strategy: null, fellBack: false, steps: [] };
  if (!header) return trail;
  const parts = header
    .split(header.includes(";") ? ";" : ",")
    .map((part) => part.trim())
    .filter(Boolean);
  for (const part of parts) {
    if (part.startsWith("strategy=")) {
      trail.strategy = part.slice("strategy=".length) || null;
      continue;
    }
    if (part === "fallback=local") {
      trail.fellBack = true;
      continue;
    }
    const eq = part.lastIndexOf("=");
    const target = eq === -1 ? part : part.slice(0, eq);
    const outcome = eq === -1 ? "" : part.slice(eq + 1);
    trail.steps.push(step(target, outcome, trail.fellBack));
  }
  return trail;
}

export interface AttemptLike {
  target: string;
  outcome: string;
  status?: number;
  elapsed_ms?: number;
  message?: string;
  fallback?: boolean;
}

/** The request log's `strategy` and `attempts`. */
export function fromAttempts(attempts: AttemptLike[] | undefined, strategy: string | null = null): Trail {
  const steps = (attempts ?? []).map((a) => ({
    ...step(a.target, a.outcome, a.fallback === true),
    ...(a.status !== undefined ? { status: a.status } : {}),
    ...(a.elapsed_ms !== undefined ? { elapsedMs: a.elapsed_ms } : {}),
    ...(a.message !== undefined ? { message: a.message } : {}),
  }));
  return { strategy, fellBack: steps.some((s) => s.fallback), steps };
}

/** The members actually sent the request (skipped ones were not). */
export function tried(trail: Trail): TrailStep[] {
  return trail.steps.filter((s) => s.skipped === undefined);
}

/** More than one target was tried, or the only one failed. */
export function hadFailover(trail: Trail): boolean {
  const t = tried(trail);
  return t.length > 1 || t.some((s) => !s.ok);
}

/** Whether the trail says more than "the one model asked for answered": a route chose, a
 * member was skipped, one failed over, or the answer came from a local model offline. */
export function worthShowing(trail: Trail): boolean {
  return trail.strategy !== null || trail.fellBack || trail.steps.some((s) => s.skipped !== undefined) || hadFailover(trail);
}

/** The local model that answered offline, if one did. */
export function offlineAnswer(trail: Trail): string | null {
  return trail.steps.find((s) => s.fallback && s.ok)?.target ?? null;
}

const STRATEGY_WORDS: Record<string, string> = {
  ordered: "in order",
  round_robin: "round robin",
  weighted: "weighted",
  least_latency: "least latency",
  least_busy: "least busy",
  cheapest: "cheapest",
};

/** `least_latency` → "least latency"; an unknown one keeps its name, spaced. */
export function describeStrategy(strategy: string): string {
  return STRATEGY_WORDS[strategy] ?? strategy.replace(/_/g, " ");
}

const SKIP_WORDS: Record<string, string> = {
  image: "no image input",
  tools: "no tools",
  context: "context too small",
  audio: "no audio input",
};

const OUTCOME_WORDS: Record<string, string> = {
  connect_error: "could not connect",
  timeout: "timed out",
  circuit_open: "circuit open, skipped",
  ok: "answered",
};

/** A person's reading of one outcome: `connect_error` → "could not connect", `429` → "HTTP 429",
 * `skipped(context)` → "skipped: context too small". */
export function describeOutcome(outcome: string): string {
  const skip = SKIPPED.exec(outcome);
  if (skip) return `skipped: ${SKIP_WORDS[skip[1]] ?? skip[1].replace(/_/g, " ")}`;
  if (OUTCOME_WORDS[outcome]) return OUTCOME_WORDS[outcome];
  if (/^\d{3}$/.test(outcome)) return `HTTP ${outcome}`;
  return outcome.replace(/_/g, " ");
}

/** `dead/m (could not connect) → beta/m (skipped: no tools) → alpha/gpt-4o-mini`: the steps in
 * order, with the local models tried offline after `offline:`. */
export function describeTrail(trail: Trail): string {
  const words = (s: TrailStep) => (s.ok ? s.target : `${s.target} (${describeOutcome(s.outcome)})`);
  const online = trail.steps.filter((s) => !s.fallback).map(words);
  const offline = trail.steps.filter((s) => s.fallback).map(words);
  return [...online, ...(offline.length ? [`offline: ${offline.join(" → ")}`] : [])].join(" → ");
}
