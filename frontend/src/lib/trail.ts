// The failover trail: the `x-switchyard-attempts` header (`dead/m=connect_error, alpha/m=ok`)
// and the request log's `attempts` array, in one shape for the UI.

export interface TrailStep {
  target: string;
  outcome: string;
  ok: boolean;
  status?: number;
  elapsedMs?: number;
  message?: string;
}

/** Parses `x-switchyard-attempts`. Targets may contain `=` (model ids do), so the outcome is
 * what follows the last one. */
export function parseAttemptsHeader(header: string | null | undefined): TrailStep[] {
  if (!header) return [];
  return header
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const eq = part.lastIndexOf("=");
      const target = eq === -1 ? part : part.slice(0, eq);
      const outcome = eq === -1 ? "" : part.slice(eq + 1);
      return { target, outcome, ok: outcome === "ok" };
    });
}

export function fromAttempts(
  attempts: { target: string; outcome: string; status?: number; elapsed_ms?: number; message?: string }[] | undefined,
): TrailStep[] {
  return (attempts ?? []).map((a) => ({
    target: a.target,
    outcome: a.outcome,
    ok: a.outcome === "ok",
    ...(a.status !== undefined ? { status: a.status } : {}),
    ...(a.elapsed_ms !== undefined ? { elapsedMs: a.elapsed_ms } : {}),
    ...(a.message !== undefined ? { message: a.message } : {}),
  }));
}

/** More than one target was tried, or the only one failed. */
export function hadFailover(steps: TrailStep[]): boolean {
  return steps.length > 1 || steps.some((s) => !s.ok);
}

const OUTCOME_WORDS: Record<string, string> = {
  connect_error: "could not connect",
  timeout: "timed out",
  circuit_open: "circuit open, skipped",
  ok: "answered",
};

/** A person's reading of one outcome: `connect_error` → "could not connect", `429` → "HTTP 429". */
export function describeOutcome(outcome: string): string {
  if (OUTCOME_WORDS[outcome]) return OUTCOME_WORDS[outcome];
  if (/^\d{3}$/.test(outcome)) return `HTTP ${outcome}`;
  return outcome.replace(/_/g, " ");
}

/** `dead/m (could not connect) → alpha/gpt-4o-mini`. */
export function describeTrail(steps: TrailStep[]): string {
  return steps.map((s) => (s.ok ? s.target : `${s.target} (${describeOutcome(s.outcome)})`)).join(" → ");
}
