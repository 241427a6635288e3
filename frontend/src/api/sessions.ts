// Playground sessions, saved by the gateway (`/admin/sessions`). The UI owns the shape of
// `messages` and `params` (see types.ts); the gateway stores them whole.

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { del, get, patch, post, seg } from "./client";
import type { ChatMessage, ChatParams, Session, SessionSummary } from "./types";

export const sessionKeys = {
  list: (q: string) => ["sessions", q] as const,
  all: ["sessions"] as const,
  one: (id: string) => ["session", id] as const,
};

export function useSessions(q: string) {
  return useQuery<SessionSummary[]>({
    queryKey: sessionKeys.list(q),
    queryFn: ({ signal }) =>
      get<{ data: SessionSummary[] }>("/admin/sessions", { signal, query: { q: q || undefined, limit: 200 } }).then((r) => r.data),
    placeholderData: keepPreviousData,
  });
}

export function useSession(id: string | undefined) {
  return useQuery({
    queryKey: sessionKeys.one(id ?? ""),
    queryFn: ({ signal }) => get<Session>(`/admin/sessions/${seg(id!)}`, { signal }),
    enabled: !!id,
    staleTime: Infinity,
  });
}

export interface SessionFields {
  title?: string;
  model?: string | null;
  system?: string | null;
  params?: ChatParams;
  messages?: ChatMessage[];
}

export const createSession = (f: SessionFields) => post<Session>("/admin/sessions", f);
export const updateSession = (id: string, f: SessionFields) => patch<Session>(`/admin/sessions/${seg(id)}`, f);
export const deleteSession = (id: string) => del(`/admin/sessions/${seg(id)}`);
