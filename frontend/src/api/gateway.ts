// Reads of the gateway's model list, request log, stats and health, as TanStack Query hooks.

import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { get, seg } from "./client";
import type {
  GatewayInfo,
  LatencyHistogram,
  ModelCard,
  ProviderHealth,
  RequestDetail,
  RequestFilters,
  RequestPage,
  Stats,
  Statsz,
  TokenSeries,
  TrafficDay,
} from "./types";

export const keys = {
  models: ["models"] as const,
  info: ["info"] as const,
  requests: (f: RequestFilters) => ["requests", f] as const,
  request: (id: string) => ["request", id] as const,
  days: ["traffic-days"] as const,
  stats: (w: string) => ["stats", w] as const,
  latency: (w: string) => ["stats-latency", w] as const,
  tokens: (w: string) => ["stats-tokens", w] as const,
  health: ["health"] as const,
  statsz: ["statsz"] as const,
};

export const LIVE_MS = 5000;

/** The model list as `/v1/models` has it, read through `/admin/models` so that the UI's own
 * look-ups stay out of the request log (and out of the dashboard's figures). */
export function useModels() {
  return useQuery({
    queryKey: keys.models,
    queryFn: ({ signal }) => get<{ data: ModelCard[] }>("/admin/models", { signal }).then((r) => r.data),
    staleTime: 10_000,
  });
}

export function useGatewayInfo() {
  return useQuery({
    queryKey: keys.info,
    queryFn: ({ signal }) => get<GatewayInfo>("/", { signal }),
    staleTime: Infinity,
  });
}

export function useRequests(filters: RequestFilters, live: boolean) {
  return useInfiniteQuery({
    queryKey: keys.requests(filters),
    queryFn: ({ pageParam, signal }) =>
      get<RequestPage>("/admin/requests", { signal, query: { ...filters, limit: 50, cursor: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: live ? LIVE_MS : false,
    placeholderData: keepPreviousData,
  });
}

export function useRequest(id: string | undefined) {
  return useQuery({
    queryKey: keys.request(id ?? ""),
    queryFn: ({ signal }) => get<RequestDetail>(`/admin/requests/${seg(id!)}`, { signal }),
    enabled: !!id,
    staleTime: Infinity,
    retry: (n, e) => n < 4 && (e as { status?: number }).status === 404,
    retryDelay: 250,
  });
}

export function useTrafficDays() {
  return useQuery({
    queryKey: keys.days,
    queryFn: ({ signal }) => get<{ days: TrafficDay[] }>("/admin/traffic/days", { signal }).then((r) => r.days),
    refetchInterval: LIVE_MS * 6,
  });
}

export function useStats(window: string) {
  return useQuery<Stats>({
    queryKey: keys.stats(window),
    queryFn: ({ signal }) => get<Stats>("/admin/stats", { signal, query: { window } }),
    refetchInterval: LIVE_MS,
    placeholderData: keepPreviousData,
  });
}

export function useLatency(window: string) {
  return useQuery<LatencyHistogram>({
    queryKey: keys.latency(window),
    queryFn: ({ signal }) => get<LatencyHistogram>("/admin/stats/latency", { signal, query: { window } }),
    refetchInterval: LIVE_MS,
    placeholderData: keepPreviousData,
  });
}

export function useTokenSeries(window: string) {
  const bucket = window === "24h" ? "1h" : window === "7d" ? "6h" : "1d";
  return useQuery<TokenSeries>({
    queryKey: keys.tokens(window),
    queryFn: ({ signal }) => get<TokenSeries>("/admin/stats/tokens", { signal, query: { window, bucket } }),
    refetchInterval: LIVE_MS,
    placeholderData: keepPreviousData,
  });
}

export function useHealth() {
  return useQuery({
    queryKey: keys.health,
    queryFn: ({ signal }) => get<{ providers: ProviderHealth[] }>("/admin/health/providers", { signal }).then((r) => r.providers),
    refetchInterval: LIVE_MS,
  });
}

export function useStatsz() {
  return useQuery({
    queryKey: keys.statsz,
    queryFn: ({ signal }) => get<Statsz>("/statsz", { signal }),
    refetchInterval: 2000,
  });
}
