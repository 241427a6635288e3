import type { ModelCard } from "../api/types";
import { formatContext } from "../lib/format";

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
      {model.targets && (
        <span className="badge alias" title={`Alias: tries ${model.targets.join(" → ")}`}>
          alias · {model.targets.length}
        </span>
      )}
      {c?.vision && <span className="badge vision" title="Accepts images">vision</span>}
      {c?.tools && <span className="badge tools" title="Tool calling">tools</span>}
      {c?.reasoning && <span className="badge reasoning" title="Reasoning model">reasoning</span>}
      {c?.embeddings && <span className="badge" title="Embeddings model">embeddings</span>}
      {ctx && <span className="badge" title="Context window">{ctx}</span>}
    </span>
  );
}
