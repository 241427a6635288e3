// The one way the UI talks to the gateway: same-origin fetch with the key the user gave (if the
// gateway wants one), JSON in and out, and errors in the gateway's `{"error": {...}}` shape.

import type { ErrorCode } from "./generated/ErrorCode";
import type { ApiErrorShape } from "./types";

const KEY_STORAGE = "switchyard.apiKey";

export function getKey(): string | null {
  try {
    return localStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function setKey(key: string | null): void {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key.trim());
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // storage disabled: the key lives for this page only
  }
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: string | undefined;
  readonly param: string | null;
  readonly code: string | null;

  constructor(status: number, body: ApiErrorShape) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.type = body.type;
    this.param = body.param ?? null;
    this.code = body.code ?? null;
  }

  /** The gateway wants a (different) key. */
  get needsKey(): boolean {
    return this.status === 401 && (hasCode(this, "missing_api_key") || hasCode(this, "invalid_api_key"));
  }
}

/** Whether `e` is an error the gateway answered with `code`. The codes are generated from the
 * gateway's own table, so a code it no longer sends fails to type-check here. */
export function hasCode(e: unknown, code: ErrorCode): boolean {
  return (e as { code?: unknown } | null)?.code === code;
}

type Listener = (e: ApiError) => void;
const authListeners = new Set<Listener>();

/** Called whenever a call is refused for want of a key. */
export function onAuthNeeded(fn: Listener): () => void {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

/** Opens the key prompt again (after it was dismissed). */
export function askForKey(e: ApiError): void {
  for (const fn of authListeners) fn(e);
}

export function authHeaders(): Record<string, string> {
  const key = getKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** Reads an error answer; anything that is not our JSON shape still becomes an ApiError. */
export async function errorFrom(res: Response): Promise<ApiError> {
  let body: ApiErrorShape = { message: `${res.status} ${res.statusText}`.trim() };
  try {
    const text = await res.text();
    try {
      const json = JSON.parse(text) as { error?: ApiErrorShape };
      if (json?.error?.message) body = json.error;
      else if (text) body = { message: text.slice(0, 500) };
    } catch {
      if (text) body = { message: text.slice(0, 500) };
    }
  } catch {
    // body unreadable: keep the status line
  }
  const err = new ApiError(res.status, body);
  if (err.needsKey) for (const fn of authListeners) fn(err);
  return err;
}

export interface RequestOptions {
  signal?: AbortSignal;
  query?: Record<string, string | number | undefined | null>;
}

export function withQuery(path: string, query?: RequestOptions["query"]): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

export async function api<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...authHeaders() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: opts.signal,
      credentials: "same-origin",
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, { message: "The gateway cannot be reached. Is `switchyard serve` running?", code: "unreachable" });
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string, opts?: RequestOptions) => api<T>("GET", path, undefined, opts);
export const post = <T>(path: string, body?: unknown) => api<T>("POST", path, body ?? {});
export const patch = <T>(path: string, body: unknown) => api<T>("PATCH", path, body);
export const put = <T>(path: string, body: unknown) => api<T>("PUT", path, body);
export const del = (path: string) => api<void>("DELETE", path);

/** Path segments are user data (names, model ids): encode each, keep the `/` in `provider/model`. */
export const seg = (s: string) => encodeURIComponent(s);
export const segs = (s: string) => s.split("/").map(encodeURIComponent).join("/");
