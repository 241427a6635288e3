import type { ModelCard } from "../api/types";
import { formatContext } from "../lib/format";
import { describeStrategy } from "../lib/trail";

/** `alias · least latency` or `pool · in order`; the members and what the route asks in the
 * tooltip. */
export function routeTitle(model: ModelCard, targets: string[]): string {
  const r = model.routing;
  const kind = r?.kind === "pool" ? "Capability pool" : r?.kind === "model_pool" ? "Pool of the providers that serve it" : "Alias";
  const lines = [`${kind}, ${targets.length} member${targets.length === 1 ? "" : "s"}${r ? `, chosen ${describeStrategy(r.strategy)}` : ""}:`, ...targets.map((t) => `• ${t}`)];
  if (r?.require) lines.push(`Every member: ${r.require}`);
  if (r?.fallback === "local") lines.push("Offline: falls back to a local model");
  return lines.join("\n");
}

function RouteBadge({ model, targets }: { model: ModelCard; targets: string[] }) {
  const kind = model.routing?.kind === "pool" || model.routing?.kind === "model_pool" ? "pool" : "alias";
  return (
    <span className="badge alias" title={routeTitle(model, targets)} data-testid="route-badge">
      {kind} · {model.routing ? describeStrategy(model.routing.strategy) : targets.length}
    </span>
  );
}

export function ModelBadges({ model }: { model: ModelCard }) {
  const c = model.capabilities;
  const ctx = formatContext(c?.context_window);
  return (
    <span className="badges">
      {model.assistant && (
        <span className="badge assistant" title={`Assistant: ${model.assistant.model} with MCP tools${model.assistant.description ? ` — ${model.assistant.description}` : ""}`}>
          assistant
        </span>
      )}
      {model.targets && !model.assistant && <RouteBadge model={model} targets={model.targets} />}
      {c?.vision && <span className="badge vision" title="Accepts images">vision</span>}
      {c?.tools && <span className="badge tools" title="Tool calling">tools</span>}
      {c?.reasoning && <span className="badge reasoning" title="Reasoning model">reasoning</span>}
      {c?.embeddings && <span className="badge" title="Embeddings model">embeddings</span>}
      {ctx && <span className="badge" title="Context window">{ctx}</span>}
    </span>
  );
}
