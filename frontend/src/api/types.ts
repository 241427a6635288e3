// The gateway's HTTP API, as the UI reads it. Written by hand from the Rust handlers
// (server/models.rs, admin.rs, admin_config.rs, sessions.rs); `docs/admin-api.md` is the
// reference for the request log. Keep field names exactly as the server sends them.

export interface ApiErrorShape {
  message: string;
  type?: string;
  param?: string | null;
  code?: string | null;
}

export type CapabilitySource = "configured" | "discovered" | "inferred";

export interface Capabilities {
  chat: boolean;
  embeddings: boolean;
  vision: boolean;
  audio: boolean;
  image_generation?: boolean;
  tools: boolean;
  reasoning: boolean;
  input: string[];
  output: string[];
  context_window: number | null;
  max_output: number | null;
  price_per_million: { input: number; output: number; cached_input?: number | null } | null;
  source: Record<string, CapabilitySource>;
}

export interface ModelCard {
  id: string;
  object: "model";
  owned_by: string;
  provider: string | null;
  display_name?: string;
  targets?: string[];
  capabilities?: Capabilities;
  /** An assistant (a model with a system prompt and MCP tools, served by the gateway's tool loop). */
  assistant?: AssistantCard;
}

export interface AssistantCard {
  model: string;
  description: string | null;
  servers: string[];
  tools: string[] | null;
  max_iterations: number;
}

export interface RequestSummary {
  id: string;
  started_at: number;
  method: string;
  endpoint: string;
  client: string | null;
  key_name: string | null;
  requested_model: string | null;
  provider: string | null;
  model: string | null;
  stream: boolean;
  status: number;
  outcome: "ok" | "error" | "client_closed";
  error: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cached_tokens: number | null;
  reasoning_tokens: number | null;
  cost_usd: number | null;
}

export interface AttemptRecord {
  target: string;
  outcome: string;
  status?: number;
  elapsed_ms?: number;
  message?: string;
}

export interface RequestDetail extends RequestSummary {
  attempts: AttemptRecord[];
  request_body: unknown;
  response_body: unknown;
  request_truncated: boolean;
  response_truncated: boolean;
  media: string[];
  /** The tool loop's trail (assistants and agent mode), in order; empty otherwise. */
  steps?: AgentStep[];
}

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

export interface RequestPage {
  requests: RequestSummary[];
  next_cursor: string | null;
}

export interface RequestFilters {
  since?: string;
  until?: string;
  model?: string;
  provider?: string;
  status?: string;
  client?: string;
  outcome?: string;
}

export interface TrafficDay {
  day: string;
  requests: number;
  errors: number;
}

export interface StatsGroup {
  key: string | null;
  requests: number;
  errors: number;
  client_closed: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
  ttft_p50_ms: number | null;
  ttft_p95_ms: number | null;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
}

export interface Stats {
  window: string;
  since: number;
  until: number;
  total: StatsGroup;
  by_model: StatsGroup[];
  by_provider: StatsGroup[];
}

export interface LatencyHistogram {
  window: string;
  buckets: { le_ms: number | null; count: number }[];
}

export interface TokenSeries {
  window: string;
  bucket_ms: number;
  points: {
    at: number;
    requests: number;
    prompt_tokens: number;
    completion_tokens: number;
    cached_tokens: number;
    reasoning_tokens: number;
    cost_usd: number;
  }[];
}

export type CircuitState = "closed" | "half_open" | "open";

export interface ProviderHealth {
  name: string;
  kind: string;
  enabled: boolean;
  problem: string | null;
  targets: { target: string; circuit: CircuitState; last_error: string | null }[];
}

export interface Statsz {
  uptime_s: number;
  requests: number;
  errors: number;
  in_flight: number;
  tokens: number;
  models: { model: string; requests: number; errors: number }[];
  circuits: { target: string; state: CircuitState }[];
  log: { written: number; dropped: number; queue_overflow: number; queue_depth: number };
  mcp_servers?: McpServerStatus[];
}

// ---- MCP servers, their tools, assistants (server/admin_mcp.rs) ----

export type McpTransport = "stdio" | "http" | "sse";
export type McpState = "idle" | "starting" | "running" | "failed" | "exited" | "disabled";

export interface McpServerStatus {
  name: string;
  transport: McpTransport;
  enabled: boolean;
  state: McpState;
  error: string | null;
  retry_in_s: number | null;
  tools: number | null;
  restarts: number;
  pid: number | null;
  server_info: { name?: string; version?: string; [k: string]: unknown } | null;
}

export interface McpServer {
  name: string;
  transport: McpTransport;
  enabled: boolean;
  disabled_tools: string[];
  call_timeout_ms: number;
  command?: string;
  args?: string[];
  /** Values as the config file has them: plain, or a `keychain:`/`env:` reference. */
  env?: Record<string, string>;
  cwd?: string | null;
  url?: string;
  headers?: Record<string, string>;
  status: McpServerStatus | null;
}

export interface McpTool {
  /** `server__tool`: what models call. */
  name: string;
  server: string;
  /** The server's own name for it. */
  tool: string;
  description: string | null;
  input_schema: unknown;
  enabled: boolean;
}

export interface McpToolList {
  data: McpTool[];
  errors: { server: string; error: string }[];
}

export interface Assistant {
  name: string;
  description: string | null;
  model: string;
  system: string | null;
  servers: string[];
  tools: string[] | null;
  max_iterations: number;
}

export interface Preset {
  id: string;
  display_name: string;
  kind: "openai" | "anthropic" | "azure";
  base_url: string;
  auth: string;
  key_env: string[];
  key_required: boolean;
  local: boolean;
  needs_base_url: boolean;
  models: string;
  api_version: string | null;
  docs_url?: string | null;
  key_url?: string | null;
}

export interface DiscoveredModel {
  id: string;
  context_window: number | null;
  vision: boolean | null;
  tools: boolean | null;
  reasoning: boolean | null;
}

export interface Discovery {
  runtimes: { preset: string; base_url: string; models: DiscoveredModel[] }[];
  env_keys: { env_var: string; preset: string }[];
  configured_presets: string[];
  secret_store: string;
}

export interface ProviderView {
  name: string;
  preset: string | null;
  kind: string;
  base_url: string | null;
  auth: string;
  api_key: { ref: string | null; status: "none" | "set" | "unavailable"; problem?: string };
  models: string[];
  discovered_models: string[] | null;
  enabled: boolean;
  api_version: string | null;
  proxy: string | null;
  tls: { ca_file: string | null; accept_invalid_certs: boolean };
}

export interface ProviderTest {
  ok: boolean | null;
  latency_ms?: number;
  models?: number;
  error?: string;
}

export interface Alias {
  name: string;
  targets: string[];
}

export interface ClientKey {
  name: string;
  role: "admin" | "user" | "read-only";
  models: string[] | null;
  prefix: string;
  created: string | null;
}

export interface KeyList {
  data: ClientKey[];
  require_key: boolean;
}

export interface CreatedKey extends ClientKey {
  key: string;
  note: string;
}

export interface Settings {
  listen: string;
  listening_on: string | null;
  data_dir: string;
  config_file: string | null;
  reload_error: string | null;
  access: {
    require_key: boolean;
    keys_required: boolean;
    cors_origins: string[];
    allowed_hosts: string[];
  };
  secrets: { store: string };
  log: {
    enabled: boolean;
    capture_bodies: boolean;
    max_body_bytes: number;
    retention_days: number;
    max_db_mb: number;
  };
  timeouts: { connect_ms: number; first_token_ms: number; idle_ms: number; total_ms: number };
  retry: { rounds: number; backoff_ms: number; max_backoff_ms: number };
  limits: { max_body_bytes: number; shutdown_grace_ms: number };
  restart_required?: boolean;
}

/** `GET /`: what this gateway is. `endpoints`, when a gateway sends it, lists its front doors. */
export interface GatewayInfo {
  name: string;
  version: string;
  openai_base_url: string;
  ui: string;
  endpoints?: string[];
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

export interface SessionSummary {
  id: string;
  title: string;
  model: string | null;
  created_at: string;
  updated_at: string;
  message_count: number;
}

export interface Session {
  id: string;
  title: string;
  model: string | null;
  system: string | null;
  params: ChatParams;
  messages: ChatMessage[];
  created_at: string;
  updated_at: string;
}
