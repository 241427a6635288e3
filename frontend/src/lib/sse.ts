// Server-sent events: an incremental parser (the playground feeds it network chunks) and the
// reassembly of OpenAI chat-completion chunks into one completion (the playground's live
// message, and peek's view of a stream stored as SSE text). No I/O here.

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Parses the `text/event-stream` format incrementally, as the WHATWG spec describes it. */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id: string | undefined;
  private sawData = false;

  /** Feeds more text; returns the events completed by it. */
  push(text: string): SseEvent[] {
    this.buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (m[0] === "\r" && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  /** Ends the stream: a last event without its blank line still counts. */
  flush(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buffer) {
      const ev = this.line(this.buffer);
      this.buffer = "";
      if (ev) out.push(ev);
    }
    const ev = this.line("");
    if (ev) out.push(ev);
    return out;
  }

  private line(line: string): SseEvent | null {
    if (line === "") {
      if (!this.sawData) {
        this.event = "";
        return null;
      }
      const ev: SseEvent = { event: this.event || "message", data: this.data.join("\n") };
      if (this.id !== undefined) ev.id = this.id;
      this.data = [];
      this.event = "";
      this.sawData = false;
      return ev;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        this.sawData = true;
        break;
      case "event":
        this.event = value;
        break;
      case "id":
        this.id = value;
        break;
      default:
        break;
    }
    return null;
  }
}

export function parseSse(text: string): SseEvent[] {
  const p = new SseParser();
  return [...p.push(text), ...p.flush()];
}

/** Does this text look like an SSE stream (rather than JSON)? */
export function looksLikeSse(text: string): boolean {
  return /^(\s*(:[^\n]*|data:[^\n]*|event:[^\n]*)\r?\n)/.test(text);
}

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
}

export interface ApiErrorBody {
  message: string;
  type?: string;
  param?: string | null;
  code?: string | null;
}

interface ChunkDelta {
  role?: string;
  content?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  tool_calls?: Array<{
    index?: number;
    id?: string;
    type?: string;
    function?: { name?: string; arguments?: string };
  }>;
}

export interface ChatChunk {
  id?: string;
  model?: string;
  created?: number;
  choices?: Array<{ index?: number; delta?: ChunkDelta; finish_reason?: string | null }>;
  usage?: Usage | null;
  error?: ApiErrorBody;
  /** Switchyard's own events (agent mode: tool calls, approvals, results), on chunks with no choices. */
  switchyard?: Record<string, unknown>;
}

/** A `switchyard` event and the length of choice 0's text when it came. */
export interface StreamNote {
  at: number;
  note: Record<string, unknown>;
}

/** One choice being put together from deltas. */
export interface AssembledChoice {
  content: string;
  reasoning: string;
  toolCalls: ToolCall[];
  finishReason: string | null;
  role: string;
}

/** Folds chat-completion chunks into the whole answer they describe. */
export class ChatAssembler {
  id: string | undefined;
  model: string | undefined;
  created: number | undefined;
  usage: Usage | undefined;
  error: ApiErrorBody | undefined;
  done = false;
  chunks = 0;
  /** Switchyard's own events, in order (see `ChatChunk.switchyard`). */
  notes: StreamNote[] = [];
  private choices = new Map<number, AssembledChoice>();

  /** Takes one SSE `data` payload; ignores what is not JSON. */
  pushData(data: string): void {
    const trimmed = data.trim();
    if (trimmed === "[DONE]") {
      this.done = true;
      return;
    }
    let chunk: ChatChunk;
    try {
      chunk = JSON.parse(trimmed) as ChatChunk;
    } catch {
      return;
    }
    this.push(chunk);
  }

  push(chunk: ChatChunk): void {
    this.chunks += 1;
    if (chunk.error) {
      this.error = chunk.error;
      return;
    }
    this.id ??= chunk.id;
    this.model ??= chunk.model;
    this.created ??= chunk.created;
    if (chunk.usage) this.usage = chunk.usage;
    if (chunk.switchyard && typeof chunk.switchyard === "object" && !Array.isArray(chunk.switchyard)) {
      this.notes.push({ at: this.choice().content.length, note: chunk.switchyard });
    }
    for (const c of chunk.choices ?? []) {
      const index = c.index ?? 0;
      let choice = this.choices.get(index);
      if (!choice) {
        choice = { content: "", reasoning: "", toolCalls: [], finishReason: null, role: "assistant" };
        this.choices.set(index, choice);
      }
      const d = c.delta ?? {};
      if (d.role) choice.role = d.role;
      if (d.content) choice.content += d.content;
      if (d.reasoning_content) choice.reasoning += d.reasoning_content;
      else if (d.reasoning) choice.reasoning += d.reasoning;
      for (const t of d.tool_calls ?? []) {
        const at = t.index ?? choice.toolCalls.length;
        let call = choice.toolCalls[at];
        if (!call) {
          call = { id: "", type: "function", function: { name: "", arguments: "" } };
          choice.toolCalls[at] = call;
        }
        if (t.id) call.id = t.id;
        if (t.function?.name) call.function.name += t.function.name;
        if (t.function?.arguments) call.function.arguments += t.function.arguments;
      }
      if (c.finish_reason) choice.finishReason = c.finish_reason;
    }
  }

  choice(index = 0): AssembledChoice {
    return (
      this.choices.get(index) ?? {
        content: "",
        reasoning: "",
        toolCalls: [],
        finishReason: null,
        role: "assistant",
      }
    );
  }

  /** The equivalent non-streamed `chat.completion`. */
  completion(): Record<string, unknown> {
    const indexes = [...this.choices.keys()].sort((a, b) => a - b);
    return {
      id: this.id,
      object: "chat.completion",
      created: this.created,
      model: this.model,
      choices: indexes.map((i) => {
        const c = this.choice(i);
        const message: Record<string, unknown> = { role: c.role, content: c.content };
        if (c.reasoning) message.reasoning_content = c.reasoning;
        const calls = c.toolCalls.filter(Boolean);
        if (calls.length) message.tool_calls = calls;
        return { index: i, message, finish_reason: c.finishReason };
      }),
      ...(this.usage ? { usage: this.usage } : {}),
    };
  }
}

export interface Reassembled {
  events: SseEvent[];
  completion: Record<string, unknown>;
  /** The stream ended with `[DONE]`. */
  done: boolean;
  error?: ApiErrorBody;
}

/** A whole SSE text (as a log stores it) into its events and the completion they add up to. */
export function reassembleSse(text: string): Reassembled {
  const events = parseSse(text);
  const a = new ChatAssembler();
  for (const ev of events) a.pushData(ev.data);
  return { events, completion: a.completion(), done: a.done, ...(a.error ? { error: a.error } : {}) };
}
