// The MCP server form as data: the form from a server, the rows of `env` and `headers` (a row
// marked secret goes to the keychain as {"secret": …}), the request bodies for adding and
// changing a server, and which field a refusal's `param` names. Pure functions, tested beside.

import type { McpServerFields, McpValueIn } from "../../api/mcp";
import type { McpServer, McpTransport } from "../../api/types";

/** One row of `env` or `headers`. */
export interface KvRow {
  key: string;
  value: string;
  secret: boolean;
  /** The reference the server keeps for a secret already stored (`keychain:…`): sent back as
   * is unless a new value is typed. */
  stored?: string;
}

export interface McpForm {
  name: string;
  transport: McpTransport;
  command: string;
  /** One argument per line. */
  args: string;
  env: KvRow[];
  cwd: string;
  url: string;
  headers: KvRow[];
  /** Empty: the gateway's default. */
  call_timeout_ms: string;
}

export const emptyRow = (): KvRow => ({ key: "", value: "", secret: false });

export const emptyForm = (): McpForm => ({
  name: "",
  transport: "stdio",
  command: "",
  args: "",
  env: [],
  cwd: "",
  url: "",
  headers: [],
  call_timeout_ms: "",
});

/** `keychain:NAME` and `env:VAR` are references the gateway resolves, never secrets in themselves. */
export const isReference = (v: string) => /^(keychain|env):\S/.test(v);

function rowsFrom(map: Record<string, string> | undefined): KvRow[] {
  return Object.entries(map ?? {}).map(([key, v]) =>
    v.startsWith("keychain:") ? { key, value: "", secret: true, stored: v } : { key, value: v, secret: false },
  );
}

export function formFromServer(s: McpServer): McpForm {
  return {
    name: s.name,
    transport: s.transport,
    command: s.command ?? "",
    args: (s.args ?? []).join("\n"),
    env: rowsFrom(s.env),
    cwd: s.cwd ?? "",
    url: s.url ?? "",
    headers: rowsFrom(s.headers),
    call_timeout_ms: s.call_timeout_ms ? String(s.call_timeout_ms) : "",
  };
}

export function argsOf(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** Splits `npx -y pkg "a b"` into a command and its arguments (double or single quotes group). */
export function splitCommandLine(line: string): { command: string; args: string[] } {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] ?? m[2] ?? m[3]);
  return { command: words[0] ?? "", args: words.slice(1) };
}

export class FormError extends Error {
  readonly field: string;
  readonly key: string | undefined;
  constructor(field: string, message: string, key?: string) {
    super(message);
    this.name = "FormError";
    this.field = field;
    this.key = key;
  }
}

/**
 * Rows as the API takes them. A secret row with a typed value becomes `{"secret": value}` (the
 * gateway stores it in the keychain); a stored secret left blank keeps its reference; a
 * reference typed by hand (`env:VAR`) is sent as it is. Rows with neither key nor value are
 * left out; a value without a key, or a key twice, is refused here.
 */
export function rowsToMap(rows: KvRow[], field: "env" | "headers"): Record<string, McpValueIn> {
  const out: Record<string, McpValueIn> = {};
  const what = field === "env" ? "variable" : "header";
  for (const r of rows) {
    const key = r.key.trim();
    if (!key) {
      if (r.value || r.stored) throw new FormError(field, `A ${what} needs a name.`, "");
      continue;
    }
    if (key in out) throw new FormError(field, `The ${what} ${key} is given twice.`, key);
    if (r.value === "" && r.stored) out[key] = r.stored;
    else if (r.secret && r.value !== "" && !isReference(r.value)) out[key] = { secret: r.value };
    else out[key] = r.value;
  }
  return out;
}

function timeoutOf(text: string): number | null {
  const t = text.trim();
  if (!t) return null;
  const n = Number(t);
  if (!Number.isInteger(n) || n <= 0) throw new FormError("call_timeout_ms", "The call timeout is a whole number of milliseconds.");
  return n;
}

/** The body of `POST /admin/mcp/servers`: only what was filled in. */
export function createBody(f: McpForm): McpServerFields & { name: string } {
  const body: McpServerFields & { name: string } = { name: f.name.trim(), transport: f.transport };
  if (f.transport === "stdio") {
    body.command = f.command.trim();
    const args = argsOf(f.args);
    if (args.length) body.args = args;
    const env = rowsToMap(f.env, "env");
    if (Object.keys(env).length) body.env = env;
    if (f.cwd.trim()) body.cwd = f.cwd.trim();
  } else {
    body.url = f.url.trim();
    const headers = rowsToMap(f.headers, "headers");
    if (Object.keys(headers).length) body.headers = headers;
  }
  const timeout = timeoutOf(f.call_timeout_ms);
  if (timeout !== null) body.call_timeout_ms = timeout;
  return body;
}

/** `map` plus `null` for each key the server had and the form no longer has (a change merges
 * tables key by key, so a removed key must be named). */
function withRemovals(map: Record<string, McpValueIn>, before: Record<string, string> | undefined): Record<string, McpValueIn> {
  const out = { ...map };
  for (const k of Object.keys(before ?? {})) if (!(k in out)) out[k] = null;
  return out;
}

/** The body of `PATCH /admin/mcp/servers/{name}`: every field of the form, `null` for what
 * goes (the other transport's fields when it changes, removed rows, a cleared timeout). */
export function changeBody(f: McpForm, before: McpServer): McpServerFields {
  const body: McpServerFields = { transport: f.transport };
  const switched = (before.transport === "stdio") !== (f.transport === "stdio");
  if (f.transport === "stdio") {
    body.command = f.command.trim();
    const args = argsOf(f.args);
    body.args = args.length ? args : null;
    const env = switched ? rowsToMap(f.env, "env") : withRemovals(rowsToMap(f.env, "env"), before.env);
    if (Object.keys(env).length) body.env = env;
    else if (switched) body.env = null;
    body.cwd = f.cwd.trim() || null;
    if (switched) {
      body.url = null;
      body.headers = null;
    }
  } else {
    body.url = f.url.trim();
    const headers = switched ? rowsToMap(f.headers, "headers") : withRemovals(rowsToMap(f.headers, "headers"), before.headers);
    if (Object.keys(headers).length) body.headers = headers;
    else if (switched) body.headers = null;
    if (switched) {
      body.command = null;
      body.args = null;
      body.env = null;
      body.cwd = null;
    }
  }
  body.call_timeout_ms = timeoutOf(f.call_timeout_ms);
  return body;
}

/**
 * The form field a refusal names: `param` as the admin API gives it (`url`, `env.API_KEY`,
 * `mcp_servers[2].headers.Authorization`), as the field and, for a row, its key.
 */
export function fieldOfParam(param: string | null | undefined): { field: string; key?: string } | null {
  if (!param) return null;
  const p = param.replace(/^mcp_servers(\[\d+\])?\./, "");
  const dot = p.indexOf(".");
  const field = dot === -1 ? p : p.slice(0, dot);
  const key = dot === -1 ? undefined : p.slice(dot + 1);
  if (!field) return null;
  return key === undefined ? { field } : { field, key };
}
