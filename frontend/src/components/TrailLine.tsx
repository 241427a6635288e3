// One line that tells how a request was routed: the strategy of its alias or pool, each member
// in the order it came (answered, failed with why, or skipped with why), and, when every member
// was unreachable, the local model that answered offline.

import { describeOutcome, describeStrategy, hadFailover, offlineAnswer, type Trail, type TrailStep } from "../lib/trail";

function Step({ s }: { s: TrailStep }) {
  const kind = s.ok ? "ok" : s.skipped !== undefined ? "skipped" : "failed";
  return (
    <span className={`trail-step ${kind}`} data-outcome={kind}>
      <span className="mono">{s.target}</span>
      {!s.ok && <span className="why"> ({describeOutcome(s.outcome)})</span>}
    </span>
  );
}

export function TrailLine({ trail, testId = "failover-trail" }: { trail: Trail; testId?: string }) {
  const offline = offlineAnswer(trail);
  const online = trail.steps.filter((s) => !s.fallback);
  const local = trail.steps.filter((s) => s.fallback);
  const label = hadFailover(trail) ? "failover" : trail.strategy ? "route" : "trail";
  return (
    <span className="trail" data-testid={testId} title="How the gateway routed this request: the members in the order it took them">
      {trail.strategy && (
        <span className="badge alias" title="The strategy of the alias or pool that chose" data-testid="trail-strategy">
          {describeStrategy(trail.strategy)}
        </span>
      )}
      {offline && (
        <span className="badge warn" title="Every member was unreachable, so a local model answered" data-testid="trail-offline">
          answered offline by {offline}
        </span>
      )}
      <span className="trail-steps">
        <span className="trail-label">{label}: </span>
        {online.map((s, i) => (
          <span key={`${s.target}-${i}`}>
            {i > 0 && <span aria-hidden="true"> → </span>}
            <Step s={s} />
          </span>
        ))}
        {local.length > 0 && (
          <>
            <span aria-hidden="true"> → </span>offline:{" "}
            {local.map((s, i) => (
              <span key={`${s.target}-${i}`}>
                {i > 0 && <span aria-hidden="true"> → </span>}
                <Step s={s} />
              </span>
            ))}
          </>
        )}
      </span>
    </span>
  );
}
