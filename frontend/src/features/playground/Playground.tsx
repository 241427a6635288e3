// The playground: pick a model, chat with it in a stream, and keep the chat as a session.
// A session is created with the first message and saved again after every answer; model,
// system prompt and parameters are saved as they change.

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { streamChat } from "../../api/chat";
import { ApiError, hasCode } from "../../api/client";
import { useModels } from "../../api/gateway";
import { answerApproval } from "../../api/mcp";
import { createSession, sessionKeys, updateSession, useSession, type SessionFields } from "../../api/sessions";
import type { AgentSettings, ChatMessage, ChatParams, Session } from "../../api/types";
import { ErrorBanner, errorMessage } from "../../components/ErrorBanner";
import { OnboardingPanel } from "../onboarding/Onboarding";
import { SmartPoolOffer } from "../onboarding/SmartPool";
import { agentFrom, agentRequest, cardsFrom, decide, decisionFailed, isAssistant, settleCards, withDecisions } from "./agent";
import { AgentPanel } from "./AgentPanel";
import { Composer } from "./Composer";
import { acceptsImages, beforeAnswer, buildRequest, chatModels, cleanParams, editAt, textOf, titleFrom, userMessage } from "./conversation";
import { MessageView } from "./MessageView";
import { ModelPicker } from "./ModelPicker";
import { ParamsPanel } from "./ParamsPanel";
import { SessionList } from "./SessionList";

const LAST_MODEL = "switchyard.playground.model";
const LAST_AGENT = "switchyard.playground.agent";

interface Draft {
  model: string | null;
  system: string;
  params: ChatParams;
  agent: AgentSettings;
  messages: ChatMessage[];
}

function lastModel(): string | null {
  try {
    return localStorage.getItem(LAST_MODEL);
  } catch {
    return null;
  }
}

function lastAgent(): AgentSettings {
  try {
    return agentFrom(JSON.parse(localStorage.getItem(LAST_AGENT) ?? "null"));
  } catch {
    return agentFrom(null);
  }
}

const emptyDraft = (): Draft => ({ model: lastModel(), system: "", params: {}, agent: lastAgent(), messages: [] });

const fromSession = (s: Session): Draft => ({
  model: s.model ?? lastModel(),
  system: s.system ?? "",
  params: (s.params ?? {}) as ChatParams,
  agent: agentFrom((s.params as { agent?: unknown } | null)?.agent),
  messages: Array.isArray(s.messages) ? s.messages : [],
});

/** A session's `params`: the sampling parameters, and agent mode's settings when in use. */
const sessionParams = (d: Pick<Draft, "params" | "agent">): ChatParams & { agent?: AgentSettings } => ({
  ...cleanParams(d.params),
  ...(d.agent.enabled || d.agent.approval ? { agent: d.agent } : {}),
});

export default function Playground() {
  const { sessionId } = useParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const models = useModels();
  const chat = useMemo(() => chatModels(models.data ?? []), [models.data]);
  const session = useSession(sessionId);

  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [streaming, setStreaming] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [panels, setPanels] = useState({ sessions: false, side: false });
  const abortRef = useRef<AbortController | null>(null);
  /** The user's answers to the current answer's approvals (approval id → decision). */
  const decisions = useRef(new Map<string, "approve" | "decline">());
  /** The session the draft reflects: "" for a new chat, null before anything is loaded. */
  const loadedFor = useRef<string | null>(null);
  const savedSettings = useRef<string>("");
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);

  const settingsKey = (d: Pick<Draft, "model" | "system" | "params" | "agent">) => JSON.stringify([d.model, d.system, sessionParams(d)]);

  // Load the session named in the URL (or start afresh), unless the draft already is it.
  useEffect(() => {
    const key = sessionId ?? "";
    if (loadedFor.current === key) return;
    if (!sessionId) {
      abortRef.current?.abort();
      const d = emptyDraft();
      setDraft(d);
      savedSettings.current = settingsKey(d);
      loadedFor.current = "";
      return;
    }
    if (session.data?.id === sessionId) {
      abortRef.current?.abort();
      const d = fromSession(session.data);
      setDraft(d);
      savedSettings.current = settingsKey(d);
      loadedFor.current = sessionId;
    }
  }, [sessionId, session.data]);

  // On a small screen the panels are overlays: a new chat or another session closes them, and so does Esc.
  useEffect(() => setPanels({ sessions: false, side: false }), [sessionId]);
  useEffect(() => {
    if (!panels.sessions && !panels.side) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape" && !abortRef.current) setPanels({ sessions: false, side: false });
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [panels]);

  // A model that exists: the draft's, else the last used, else the first.
  useEffect(() => {
    if (!chat.length) return;
    setDraft((d) => (d.model && chat.some((m) => m.id === d.model) ? d : { ...d, model: chat.find((m) => m.id === lastModel())?.id ?? chat[0].id }));
  }, [chat]);

  const model = chat.find((m) => m.id === draft.model);

  const save = useCallback(
    async (fields: SessionFields & { messages: ChatMessage[] }): Promise<string | null> => {
      try {
        const id = loadedFor.current;
        let s: Session;
        if (id) s = await updateSession(id, fields);
        else {
          const first = fields.messages.find((m) => m.role === "user");
          s = await createSession({ title: titleFrom(first ? textOf(first.content) : ""), ...fields });
          loadedFor.current = s.id;
          navigate(`/playground/${encodeURIComponent(s.id)}`);
        }
        qc.setQueryData(sessionKeys.one(s.id), s);
        void qc.invalidateQueries({ queryKey: sessionKeys.all });
        savedSettings.current = settingsKey({ model: s.model, system: s.system ?? "", params: s.params, agent: agentFrom((s.params as { agent?: unknown }).agent) });
        setSaveError(null);
        return s.id;
      } catch (e) {
        setSaveError(e);
        return null;
      }
    },
    [navigate, qc],
  );

  // Model, system prompt and parameters of a saved chat are saved as they change.
  useEffect(() => {
    if (!loadedFor.current || loadedFor.current !== sessionId || streaming) return;
    const key = settingsKey(draft);
    if (key === savedSettings.current) return;
    const t = setTimeout(() => {
      void save({ model: draft.model, system: draft.system || null, params: sessionParams(draft), messages: draft.messages });
    }, 700);
    return () => clearTimeout(t);
  }, [draft, sessionId, streaming, save]);

  const setLast = (update: (m: ChatMessage) => ChatMessage) =>
    setDraft((d) => {
      const messages = d.messages.slice();
      messages[messages.length - 1] = update(messages[messages.length - 1]);
      return { ...d, messages };
    });

  /** Asks for an answer to `history` and appends it. */
  const run = async (history: ChatMessage[]) => {
    if (!draft.model) return;
    const modelId = draft.model;
    const system = draft.system;
    const params = draft.params;
    const agent = agentRequest(draft.agent, chat.find((m) => m.id === modelId));
    try {
      localStorage.setItem(LAST_MODEL, modelId);
      localStorage.setItem(LAST_AGENT, JSON.stringify(draft.agent));
    } catch {
      // not remembered
    }
    decisions.current = new Map();
    stickToBottom.current = true;
    setDraft((d) => ({ ...d, messages: [...history, { role: "assistant", content: "", meta: {} }] }));
    setStreaming(true);
    const fields = { model: modelId, system: system || null, params: sessionParams(draft) };
    await save({ ...fields, messages: history });
    const ctrl = new AbortController();
    abortRef.current = ctrl;
    let answer: ChatMessage;
    try {
      const r = await streamChat(buildRequest(modelId, system, history, params, agent), {
        signal: ctrl.signal,
        onStart: (info) => setLast((m) => ({ ...m, meta: { ...m.meta, request_id: info.requestId ?? undefined, target: info.target ?? undefined, attempts: info.attempts ?? undefined } })),
        onUpdate: (a) => {
          const c = a.choice();
          const cards = a.notes.length ? withDecisions(cardsFrom(a.notes), decisions.current) : undefined;
          setLast((m) => ({
            ...m,
            content: c.content,
            reasoning: c.reasoning || undefined,
            tool_calls: c.toolCalls.length ? c.toolCalls.filter(Boolean) : undefined,
            tool_cards: cards?.length ? cards : undefined,
          }));
        },
      });
      const a = r.assembler;
      const c = a.choice();
      const u = a.usage;
      const cards = settleCards(withDecisions(cardsFrom(a.notes), decisions.current));
      answer = {
        role: "assistant",
        content: c.content,
        ...(c.reasoning ? { reasoning: c.reasoning } : {}),
        ...(c.toolCalls.length ? { tool_calls: c.toolCalls.filter(Boolean) } : {}),
        ...(cards.length ? { tool_cards: cards } : {}),
        meta: {
          request_id: r.requestId ?? undefined,
          target: r.target ?? undefined,
          attempts: r.attempts ?? undefined,
          model: a.model,
          latency_ms: Math.round(r.latencyMs * 10) / 10,
          ...(r.ttftMs !== null ? { ttft_ms: Math.round(r.ttftMs * 10) / 10 } : {}),
          ...(u
            ? {
                tokens: {
                  prompt: u.prompt_tokens,
                  completion: u.completion_tokens,
                  ...(u.completion_tokens_details?.reasoning_tokens ? { reasoning: u.completion_tokens_details.reasoning_tokens } : {}),
                  ...(u.prompt_tokens_details?.cached_tokens ? { cached: u.prompt_tokens_details.cached_tokens } : {}),
                },
              }
            : {}),
          finish_reason: c.finishReason,
          ...(r.aborted ? { stopped: true } : {}),
          ...(a.error ? { error: a.error.message } : !r.aborted && !a.done ? { error: "The stream ended before the gateway said it was done." } : {}),
        },
      };
    } catch (e) {
      const aborted = e instanceof DOMException && e.name === "AbortError";
      answer = {
        role: "assistant",
        content: "",
        meta: aborted
          ? { stopped: true, error: "Stopped before the answer began." }
          : { error: errorMessage(e), ...(e instanceof ApiError && (e as ApiError & { requestId?: string }).requestId ? { request_id: (e as ApiError & { requestId?: string }).requestId } : {}) },
      };
    }
    abortRef.current = null;
    const messages = [...history, answer];
    setDraft((d) => ({ ...d, messages }));
    setStreaming(false);
    await save({ ...fields, messages });
  };

  const stop = () => abortRef.current?.abort();

  /** Agent mode: the user approved or declined a tool call the gateway holds. */
  const onApproval = async (approvalId: string, approve: boolean) => {
    const decision = approve ? "approve" : "decline";
    decisions.current.set(approvalId, decision);
    setLast((m) => ({ ...m, tool_cards: decide(m.tool_cards ?? [], approvalId, decision) }));
    try {
      await answerApproval(approvalId, approve);
    } catch (e) {
      decisions.current.delete(approvalId);
      const message = e instanceof ApiError && e.status === 404 ? "The gateway is no longer waiting for this call." : `Not sent: ${errorMessage(e)}`;
      setLast((m) => ({ ...m, tool_cards: decisionFailed(m.tool_cards ?? [], approvalId, message) }));
    }
  };

  useEffect(() => {
    if (!streaming) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") stop();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [streaming]);

  // Follow the answer as it grows, unless the user scrolled up to read.
  useEffect(() => {
    const el = scroller.current;
    if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
  }, [draft.messages]);

  const send = (text: string, images: string[]) => void run([...draft.messages, userMessage(text, images)]);
  const newChat = () => {
    setPanels({ sessions: false, side: false });
    if (sessionId) navigate("/playground");
    else {
      abortRef.current?.abort();
      setDraft((d) => ({ ...emptyDraft(), model: d.model }));
    }
  };

  const lastIndex = draft.messages.length - 1;
  const noModels = models.isSuccess && chat.length === 0;
  const loadingSession = !!sessionId && session.isPending;

  return (
    <div className={`pg${panels.sessions ? " sessions-open" : ""}${panels.side ? " side-open" : ""}`}>
      <SessionList currentId={sessionId} onNew={newChat} onClose={() => setPanels((p) => ({ ...p, sessions: false }))} />
      <section className="pg-chat" aria-label="Chat">
        <div className="pg-chat-head">
          <button type="button" className="btn sm pg-toggle sessions" aria-expanded={panels.sessions} onClick={() => setPanels((p) => ({ ...p, sessions: !p.sessions }))}>
            Chats
          </button>
          <ModelPicker models={chat} value={draft.model} onChange={(id) => setDraft((d) => ({ ...d, model: id }))} />
          <button
            type="button"
            className={`btn sm agent-toggle${draft.agent.enabled || isAssistant(model) ? " on" : ""}`}
            aria-pressed={draft.agent.enabled || isAssistant(model)}
            disabled={isAssistant(model)}
            title={isAssistant(model) ? "An assistant always runs its MCP tools" : "Agent mode: the gateway runs MCP tools for the model"}
            onClick={() => {
              const enabled = !draft.agent.enabled;
              setDraft((d) => ({ ...d, agent: { ...d.agent, enabled } }));
              if (enabled) setPanels((p) => ({ ...p, side: true }));
            }}
          >
            Agent
          </button>
          <span className="spacer" />
          <button type="button" className="btn sm pg-toggle side" aria-expanded={panels.side} onClick={() => setPanels((p) => ({ ...p, side: !p.side }))}>
            Parameters
          </button>
        </div>
        <div
          className="pg-messages"
          ref={scroller}
          onScroll={(e) => {
            const el = e.currentTarget;
            stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          }}
          aria-live="polite"
          aria-busy={streaming}
        >
          <div className="pg-messages-inner">
            <ErrorBanner error={models.error} onRetry={() => models.refetch()} title="Models" />
            {session.error && <ErrorBanner error={session.error} title="This chat" />}
            {saveError ? (
              <div className="banner warn" role="status">
                <div className="grow">
                  {hasCode(saveError, "no_database") ? "This gateway runs without a database: this chat is not saved." : `This chat could not be saved: ${errorMessage(saveError)}`}
                </div>
                <button type="button" className="btn sm ghost" onClick={() => setSaveError(null)} aria-label="Dismiss">
                  ×
                </button>
              </div>
            ) : null}
            {noModels && (
              <div style={{ maxWidth: 720, margin: "0 auto" }}>
                <OnboardingPanel />
              </div>
            )}
            {!noModels && draft.messages.length === 0 && !loadingSession && (
              <div className="empty">
                <h2>Ask {draft.model ?? "a model"} anything</h2>
                <p>
                  Answers stream in; each one shows its tokens, timings and the provider that answered.
                  <br />
                  Chats are saved here and every request is in <Link to="/peek">Peek</Link>.
                </p>
                <SmartPoolOffer onUse={(id) => setDraft((d) => ({ ...d, model: id }))} />
              </div>
            )}
            {draft.messages.map((m, i) => (
              <MessageView
                key={i}
                message={m}
                busy={streaming}
                streaming={streaming && i === lastIndex}
                onRegenerate={m.role === "assistant" && i === lastIndex && !streaming ? () => void run(beforeAnswer(draft.messages, i)) : undefined}
                onEdit={m.role === "user" ? (text) => void run(editAt(draft.messages, i, text)) : undefined}
                onApproval={streaming && i === lastIndex ? (id, approve) => void onApproval(id, approve) : undefined}
              />
            ))}
          </div>
        </div>
        <Composer
          onSend={send}
          onStop={stop}
          streaming={streaming}
          disabled={!draft.model || noModels}
          disabledReason={noModels ? "Connect a provider first" : "Choose a model"}
          vision={acceptsImages(model)}
          modelName={draft.model}
        />
      </section>
      <ParamsPanel
        model={model}
        system={draft.system}
        onSystem={(system) => setDraft((d) => ({ ...d, system }))}
        params={draft.params}
        onParams={(params) => setDraft((d) => ({ ...d, params }))}
        onClose={() => setPanels((p) => ({ ...p, side: false }))}
      >
        <AgentPanel agent={draft.agent} model={model} onChange={(agent) => setDraft((d) => ({ ...d, agent }))} />
      </ParamsPanel>
    </div>
  );
}
