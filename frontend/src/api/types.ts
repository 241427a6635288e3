// The gateway's HTTP API, as the UI reads it. Every answer's shape is generated from the Rust
// views into ./generated (`make types`; `make check-types` fails when they drift) and re-exported
// here under the names the UI uses. Written by hand below: the shapes the UI owns (chat
// messages, params, filters) and the JSON the gateway keeps whole without reading it (a
// request's attempts and tool-loop steps).

import type * as Gen from "./generated";

export type {
  Alias,
  Assistant,
  ClientKey,
  CreatedKey,
  DiscoveredModel,
  Discovery,
  Fallback,
  GatewayInfo,
  KeyList,
  LatencyHistogram,
  McpServer,
  McpToolList,
  MemberView,
  Pool,
  PoolsRebuilt,
  Preset,
  ProviderHealth,
  ProviderTest,
  ProviderView,
  RequestPage,
  RequestSummary,
  Requirement,
  RouteCard,
  RouteView,
  RoutingTable,
  SessionSummary,
  Settings,
  Stats,
  Statsz,
  Strategy,
  TokenSeries,
  TrafficDay,
} from "./generated";

export type StatsGroup = Gen.GroupStats;
export type CircuitState = Gen.CircuitState;
export type McpServerStatus = Gen.ServerStatus;
export type McpTransport = Gen.ServerStatus["transport"];
export type McpState = Gen.ServerStatus["state"];
export type McpTool = Gen.ToolInfo;

export interface ApiErrorShape {
  message: string;
  type?: string;
  param?: string | null;
  code?: string | null;
}

export type CapabilitySource = Gen.Source;
export type Capabilities = Gen.CapabilityCard;
export type AssistantCard = Gen.AssistantCard;

/** `GET /v1/models`: `capabilities` and `assistant` are open JSON on the wire type; the gateway
 * fills them from `CapabilityCard` and `AssistantCard`. */
export type ModelCard = Omit<Gen.ModelCard, "capabilities" | "assistant"> & {
  capabilities?: Capabilities;
  /** An assistant (a model with a system prompt and MCP tools, served by the gateway's tool loop). */
  assistant?: AssistantCard;
};

export interface AttemptRecord {
  target: string;
  outcome: string;
  status?: number;
  elapsed_ms?: number;
  message?: string;
  /** Tried as the offline fallback, after every member failed to connect. */
  fallback?: boolean;
}

/** One request in full; `attempts` and `steps` are the JSON the log keeps. */
export type RequestDetail = Omit<Gen.RequestDetail, "attempts" | "steps"> & {
  attempts: AttemptRecord[];
  /** The tool loop's trail (assistants and agent mode), in order; empty otherwise. */
  steps?: AgentStep[];
};

export type ToolResultStatus = "ok" | "error" | "denied" | "cancelled";

/** One entry of a request's `steps`. */
export type AgentStep =
  | { type: "start"; assistant: string | null; model: string; tools: string[]; max_iterations: number }
  | {
      type: "model";
      round: number;
      target: string;
      ms: number;
      finish_reason: string | null;
      content: string | null;
      tool_calls: string[];
      usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
    }
  | { type: "tool_call"; round: number; id: string; name: string; arguments: unknown }
  | { type: "tool_result"; round: number; id: string; name: string; status?: ToolResultStatus; is_error?: boolean; content?: string; ms?: number }
  | { type: "budget"; round: number; note: string };

export interface RequestFilters {
  since?: string;
  until?: string;
  model?: string;
  provider?: string;
  status?: string;
  client?: string;
  outcome?: string;
}

// ---- playground sessions (the UI owns `params` and `messages`) ----

export type ContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string; detail?: string } };

export interface MessageMeta {
  request_id?: string;
  target?: string;
  attempts?: string;
  tokens?: { prompt?: number; completion?: number; reasoning?: number; cached?: number };
  latency_ms?: number;
  ttft_ms?: number;
  model?: string;
  finish_reason?: string | null;
  error?: string;
  stopped?: boolean;
}

export interface ChatMessage {
  role: "user" | "assistant" | "system" | "tool";
  content: string | ContentPart[];
  reasoning?: string;
  tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
  /** Agent mode: the gateway's tool calls, in the order they came (UI only, never sent). */
  tool_cards?: ToolCard[];
  meta?: MessageMeta;
}

export type ToolCardStatus = "running" | "awaiting_approval" | ToolResultStatus;

/** One MCP tool call the gateway's loop made while answering, as the playground shows it. */
export interface ToolCard {
  id: string;
  round: number;
  name: string;
  arguments: unknown;
  /** Where it happened: the length of the answer's text when the call was announced. */
  at: number;
  status: ToolCardStatus;
  /** Set while (or after) the call waited for the user's approval. */
  approval_id?: string;
  /** What the user answered, once sent. */
  decision?: "approve" | "decline";
  /** Sending the answer failed (e.g. nothing waits any more). */
  decision_error?: string;
  content?: string;
  is_error?: boolean;
  ms?: number;
}

/** Agent mode in the playground: the `agent` object of the chat request. */
export interface AgentSettings {
  enabled: boolean;
  /** Empty: every enabled server. */
  servers: string[];
  /** `null`: every enabled tool of those servers. */
  tools: string[] | null;
  max_iterations: number;
  approval: boolean;
}

export interface ChatParams {
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  seed?: number;
  reasoning_effort?: "low" | "medium" | "high";
  stop?: string[];
}

/** A saved chat: the gateway keeps `params` and `messages` whole, in the UI's shapes. */
export type Session = Omit<Gen.SessionView, "params" | "messages"> & {
  params: ChatParams;
  messages: ChatMessage[];
};
