// How to use this gateway: cURL, Python and Node for each endpoint, and setup cards for the
// coding tools, all with this page's own origin and a model that exists here.

import { useState } from "react";
import { Link } from "react-router";
import type { ModelCard } from "../../api/types";
import { CodeBlock } from "../../components/CodeBlock";
import { CopyButton } from "../../components/CopyButton";
import { Segmented, Tabs } from "../../components/Tabs";
import { baseUrl, ENDPOINTS, snippet, toolSetups, type EndpointId, type Lang } from "../../lib/snippets";

const LANGS: { id: Lang; label: string; hl: string }[] = [
  { id: "curl", label: "cURL", hl: "bash" },
  { id: "python", label: "Python", hl: "python" },
  { id: "node", label: "Node", hl: "javascript" },
];

/** Text with `code` spans, as the setup cards write them. */
function Prose({ text }: { text: string }) {
  return (
    <>
      {text.split("`").map((part, i) => (i % 2 ? <code key={i}>{part}</code> : <span key={i}>{part}</span>))}
    </>
  );
}

export function UsageGuides({ models, keyRequired, endpoints }: { models: ModelCard[]; keyRequired: boolean; endpoints?: string[] }) {
  const [endpoint, setEndpoint] = useState<EndpointId>("chat");
  const [lang, setLang] = useState<Lang>("curl");
  const origin = window.location.origin;
  const chatModel = models.find((m) => m.capabilities?.chat !== false && !m.capabilities?.embeddings && !m.targets)?.id ?? models.find((m) => m.capabilities?.chat)?.id ?? null;
  const embeddingModel = models.find((m) => m.capabilities?.embeddings)?.id ?? null;
  const ctx = { origin, model: chatModel, embeddingModel, keyRequired, endpoints };
  const code = snippet(endpoint, lang, ctx);
  const ep = ENDPOINTS.find((e) => e.id === endpoint)!;

  return (
    <>
      <div className="card" id="usage">
        <div className="card-head">
          <h2>Use this gateway</h2>
          <span className="small muted">
            Base URL <code data-testid="base-url">{baseUrl(origin)}</code>
          </span>
          <CopyButton text={baseUrl(origin)} label="Copy base URL" />
        </div>
        {keyRequired ? (
          <p className="small muted">
            This gateway requires a client key: create one in <Link to="/settings/keys">Settings → Client keys</Link> and export it as <code>SWITCHYARD_API_KEY</code>.
          </p>
        ) : (
          <p className="small muted">No key is needed from this machine; SDKs that insist on one can send any text.</p>
        )}
        <Tabs label="Endpoint" value={endpoint} onChange={setEndpoint} tabs={ENDPOINTS.map((e) => ({ id: e.id, label: e.title }))} />
        <div className="row" style={{ marginBottom: 6 }}>
          <span className="mono small">
            {ep.method} {ep.path}
          </span>
          <span className="spacer" />
          <Segmented label="Language" value={lang} onChange={setLang} options={LANGS.map((l) => ({ id: l.id, label: l.label }))} />
        </div>
        {code ? (
          <CodeBlock code={code} language={LANGS.find((l) => l.id === lang)!.hl} title={LANGS.find((l) => l.id === lang)!.label} />
        ) : (
          <p className="muted">
            {endpoint === "embeddings" ? "No embeddings model is configured here; add one to a provider's models to get this snippet." : "Add a provider first: there is no model to put in the snippet."}
          </p>
        )}
      </div>
      <div className="card">
        <h2>Set up your tools</h2>
        <p className="small muted">
          The exact values to paste, with this gateway's address and {chatModel ? <code>{chatModel}</code> : "one of its models"}.{" "}
          {keyRequired ? "Use a client key where a key is asked for." : `Where a tool insists on a key, "switchyard" (or any text) will do: this gateway needs none from this machine.`}
        </p>
        <div className="grid tools">
          {toolSetups(ctx).map((t) => (
            <section key={t.id} className="card" aria-labelledby={`tool-${t.id}`} data-testid={`setup-${t.id}`}>
              <h3 id={`tool-${t.id}`}>{t.name}</h3>
              {t.blocker && (
                <div className="banner warn" role="note">
                  <div className="grow">
                    <Prose text={t.blocker} />
                  </div>
                </div>
              )}
              <p className="small muted">
                <Prose text={t.where} />
              </p>
              <table className="table">
                <tbody>
                  {t.fields.map((f) => (
                    <tr key={f.label}>
                      <th style={{ width: "38%" }}>{f.label}</th>
                      <td className="mono small" style={{ overflowWrap: "anywhere" }}>
                        {f.value}
                      </td>
                      <td style={{ width: 1 }}>
                        <CopyButton text={f.value} label="Copy" />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {t.file && <CodeBlock code={t.file.text} language={t.file.language} title={t.file.path} />}
              {t.notes.map((n) => (
                <p key={n} className="small muted" style={{ margin: "6px 0 0" }}>
                  <Prose text={n} />
                </p>
              ))}
            </section>
          ))}
        </div>
      </div>
    </>
  );
}
