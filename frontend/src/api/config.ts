// The admin API over the configuration: catalog, discovery, providers, models, aliases, client
// keys and settings. Reads are hooks; writes are plain functions the forms call through
// useMutation, then invalidate what they changed.

import { useQuery, type QueryClient } from "@tanstack/react-query";
import { del, get, patch, post, put, seg, segs } from "./client";
import { keys as logKeys } from "./gateway";
import type {
  Alias,
  CreatedKey,
  Discovery,
  KeyList,
  ModelCard,
  Preset,
  ProviderTest,
  ProviderView,
  Settings,
} from "./types";

export const configKeys = {
  catalog: ["catalog"] as const,
  discover: ["discover"] as const,
  providers: ["providers"] as const,
  aliases: ["aliases"] as const,
  keys: ["client-keys"] as const,
  settings: ["settings"] as const,
};

export function useCatalog() {
  return useQuery({
    queryKey: configKeys.catalog,
    queryFn: ({ signal }) => get<{ data: Preset[] }>("/admin/catalog", { signal }).then((r) => r.data),
    staleTime: Infinity,
  });
}

export function useDiscovery(enabled = true) {
  return useQuery({
    queryKey: configKeys.discover,
    queryFn: ({ signal }) => get<Discovery>("/admin/discover", { signal }),
    enabled,
    staleTime: 30_000,
  });
}

export function useProviders() {
  return useQuery({
    queryKey: configKeys.providers,
    queryFn: ({ signal }) => get<{ data: ProviderView[] }>("/admin/providers", { signal }).then((r) => r.data),
  });
}

export function useAliases() {
  return useQuery({
    queryKey: configKeys.aliases,
    queryFn: ({ signal }) => get<{ data: Alias[] }>("/admin/aliases", { signal }).then((r) => r.data),
  });
}

export function useClientKeys() {
  return useQuery({
    queryKey: configKeys.keys,
    queryFn: ({ signal }) => get<KeyList>("/admin/keys", { signal }),
  });
}

export function useSettings() {
  return useQuery({
    queryKey: configKeys.settings,
    queryFn: ({ signal }) => get<Settings>("/admin/settings", { signal }),
  });
}

export const applyDiscovery = (pick: { runtimes: string[]; env_keys: string[] }) =>
  post<{ added: string[] }>("/admin/discover", pick);

export interface NewProvider {
  name?: string;
  preset?: string;
  kind?: string;
  base_url?: string;
  api_key?: string;
  api_version?: string;
  models?: string[];
}

export const createProvider = (p: NewProvider) => post<ProviderView>("/admin/providers", p);
export const updateProvider = (name: string, change: Partial<NewProvider> & { enabled?: boolean }) =>
  patch<ProviderView>(`/admin/providers/${seg(name)}`, change);
export const deleteProvider = (name: string) => del(`/admin/providers/${seg(name)}`);
export const setProviderKey = (name: string, apiKey: string) =>
  put<ProviderView>(`/admin/providers/${seg(name)}/key`, { api_key: apiKey });
export const testProvider = (name: string) => post<ProviderTest>(`/admin/providers/${seg(name)}/test`);
export const refreshProviderModels = (name: string) =>
  post<{ ok: boolean; models: number }>(`/admin/providers/${seg(name)}/models/refresh`);

export interface CapabilityOverride {
  input?: string[] | null;
  output?: string[] | null;
  tools?: boolean | null;
  reasoning?: boolean | null;
  context_window?: number | null;
  max_output?: number | null;
}

/** `id` is `provider/model`. */
export const updateModel = (id: string, change: CapabilityOverride) => patch<ModelCard>(`/admin/models/${segs(id)}`, change);

export const createAlias = (a: Pick<Alias, "name" | "targets">) => post<Alias>("/admin/aliases", a);
export const deleteAlias = (name: string) => del(`/admin/aliases/${seg(name)}`);

export const createKey = (k: { name: string; role: string; models?: string[] | null }) => post<CreatedKey>("/admin/keys", k);
export const revokeKey = (name: string) => del(`/admin/keys/${seg(name)}`);

export const updateSettings = (change: Record<string, unknown>) => patch<Settings>("/admin/settings", change);

/** After a config change: everything that reads the config or the model list. */
export function invalidateConfig(qc: QueryClient) {
  for (const k of [configKeys.providers, configKeys.aliases, configKeys.keys, configKeys.settings, configKeys.discover, logKeys.models, logKeys.health]) {
    void qc.invalidateQueries({ queryKey: k });
  }
}
