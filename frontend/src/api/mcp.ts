// The admin API over MCP servers, their tools, assistants and agent-mode approvals
// (`/admin/mcp/...`, `/admin/assistants`, `/admin/agent/approvals`). Reads are hooks; writes
// are plain functions the forms call through useMutation, then invalidate what they changed.

import { useQuery, type QueryClient } from "@tanstack/react-query";
import { del, get, patch, post, put, seg } from "./client";
import { keys as logKeys } from "./gateway";
import type { Assistant, McpServer, McpTool, McpToolList, McpTransport } from "./types";

export const mcpKeys = {
  servers: ["mcp-servers"] as const,
  serverTools: (name: string) => ["mcp-server-tools", name] as const,
  allServerTools: ["mcp-server-tools"] as const,
  tools: (servers: string[]) => ["mcp-tools", servers] as const,
  allTools: ["mcp-tools"] as const,
  assistants: ["assistants"] as const,
};

/** Server states change on their own (a start, a crash, a retry): poll while on screen. */
export function useMcpServers(pollMs: number | false = 3000) {
  return useQuery({
    queryKey: mcpKeys.servers,
    queryFn: ({ signal }) => get<{ data: McpServer[] }>("/admin/mcp/servers", { signal }).then((r) => r.data),
    refetchInterval: pollMs,
  });
}

/** One server's tools, enabled or not. Asking starts the server, so only when `enabled`. */
export function useServerTools(name: string, enabled: boolean) {
  return useQuery({
    queryKey: mcpKeys.serverTools(name),
    queryFn: ({ signal }) => get<{ data: McpTool[] }>(`/admin/mcp/servers/${seg(name)}/tools`, { signal }).then((r) => r.data),
    enabled,
    retry: false,
  });
}

/** The enabled tools of these servers (all enabled servers when empty), and the servers that
 * could not start. What agent mode offers. */
export function useAgentTools(servers: string[], enabled: boolean) {
  return useQuery({
    queryKey: mcpKeys.tools(servers),
    queryFn: ({ signal }) =>
      get<McpToolList>("/admin/mcp/tools", { signal, query: { servers: servers.length ? servers.join(",") : undefined } }),
    enabled,
    staleTime: 15_000,
    retry: false,
  });
}

export function useAssistants() {
  return useQuery({
    queryKey: mcpKeys.assistants,
    queryFn: ({ signal }) => get<{ data: Assistant[] }>("/admin/assistants", { signal }).then((r) => r.data),
  });
}

/** A value of `env` or `headers` as the API takes it: a string (plain, or a reference), or a
 * secret for the keychain. `null` removes the key (in a change). */
export type McpValueIn = string | { secret: string } | null;

export interface McpServerFields {
  transport?: McpTransport;
  command?: string | null;
  args?: string[] | null;
  env?: Record<string, McpValueIn> | null;
  cwd?: string | null;
  url?: string | null;
  headers?: Record<string, McpValueIn> | null;
  enabled?: boolean;
  disabled_tools?: string[];
  call_timeout_ms?: number | null;
}

export const createMcpServer = (s: McpServerFields & { name: string }) => post<McpServer>("/admin/mcp/servers", s);
export const updateMcpServer = (name: string, change: McpServerFields) => patch<McpServer>(`/admin/mcp/servers/${seg(name)}`, change);
export const deleteMcpServer = (name: string) => del(`/admin/mcp/servers/${seg(name)}`);
export const restartMcpServer = (name: string) => post<McpServer>(`/admin/mcp/servers/${seg(name)}/restart`);
/** `tool`: the server's own name for it, without the `server__` prefix. */
export const setMcpTool = (server: string, tool: string, enabled: boolean) =>
  put<{ server: string; tool: string; enabled: boolean }>(`/admin/mcp/servers/${seg(server)}/tools/${seg(tool)}`, { enabled });

export type AssistantFields = Partial<Omit<Assistant, "name">>;

export const createAssistant = (a: AssistantFields & { name: string }) => post<Assistant>("/admin/assistants", a);
export const updateAssistant = (name: string, change: AssistantFields) => patch<Assistant>(`/admin/assistants/${seg(name)}`, change);
export const deleteAssistant = (name: string) => del(`/admin/assistants/${seg(name)}`);

/** Answers a tool call agent mode holds for the user (404 when nothing waits any more). */
export const answerApproval = (approvalId: string, approve: boolean) => post<void>(`/admin/agent/approvals/${seg(approvalId)}`, { approve });

/** After an MCP change: the servers, their tools, what agent mode offers, and the model list
 * (assistants are models) and `/statsz`. */
export function invalidateMcp(qc: QueryClient): Promise<unknown> {
  return Promise.all(
    [mcpKeys.servers, mcpKeys.allServerTools, mcpKeys.allTools, mcpKeys.assistants, logKeys.models, logKeys.statsz].map((k) =>
      qc.invalidateQueries({ queryKey: k }),
    ),
  );
}
