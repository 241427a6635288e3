// The admin API over routing: the live routing table (`GET /admin/routing`, polled while a page
// shows it), capability pools (`/admin/pools`), aliases' strategy, weights and fallback
// (`PUT /admin/aliases/{name}`), and the `[routing]` settings (through `PATCH /admin/settings`).

import { useQuery, type QueryClient } from "@tanstack/react-query";
import { del, get, patch, post, put, seg } from "./client";
import { invalidateConfig } from "./config";
import type { Fallback, Pool, PoolsRebuilt, RoutingTable, Strategy } from "./types";

export const routingKeys = {
  table: ["routing"] as const,
  pools: ["pools"] as const,
};

/** How often the live figures are read again while they are on screen. */
export const ROUTING_LIVE_MS = 3000;

export function useRouting(live = true) {
  return useQuery({
    queryKey: routingKeys.table,
    queryFn: ({ signal }) => get<RoutingTable>("/admin/routing", { signal }),
    refetchInterval: live ? ROUTING_LIVE_MS : false,
  });
}

export function usePools() {
  return useQuery({
    queryKey: routingKeys.pools,
    queryFn: ({ signal }) => get<{ data: Pool[] }>("/admin/pools", { signal }).then((r) => r.data),
  });
}

/** An alias target as the config file takes it: a plain id, or a table with its weight. */
export type TargetEntry = string | { model: string; weight: number };

/** `PUT /admin/aliases/{name}`: the fields given replace the file's; `null` removes one (its
 * default applies). */
export interface AliasChange {
  targets?: TargetEntry[];
  strategy?: Strategy | null;
  fallback?: Fallback | null;
}

export const saveAlias = (name: string, change: AliasChange) => put<unknown>(`/admin/aliases/${seg(name)}`, change);

/** A pool as `POST /admin/pools` and `PUT /admin/pools/{name}` take it; `null` removes a field. */
export interface PoolBody {
  require: {
    input: string[] | null;
    output: string[] | null;
    tools: boolean | null;
    reasoning: boolean | null;
    min_context: number | null;
    min_output: number | null;
  };
  strategy: Strategy | null;
  providers: string[] | null;
  models: string[] | null;
  fallback: Fallback | null;
}

export const createPool = (name: string, body: PoolBody) => post<Pool>("/admin/pools", { name, ...body });
export const savePool = (name: string, body: PoolBody) => put<Pool>(`/admin/pools/${seg(name)}`, body);
export const deletePool = (name: string) => del(`/admin/pools/${seg(name)}`);
export const rebuildPools = () => post<PoolsRebuilt>("/admin/pools/rebuild");

/** `[routing]` in the config file, written through the settings endpoint. */
export const saveRoutingSettings = (change: { default_strategy: Strategy | null; offline_fallback: boolean | null }) =>
  patch<unknown>("/admin/settings", { routing: change });

/** After a routing change: the routing table, the pools, and everything the config feeds. */
export function invalidateRouting(qc: QueryClient) {
  invalidateConfig(qc);
  for (const k of [routingKeys.table, routingKeys.pools]) void qc.invalidateQueries({ queryKey: k });
}
