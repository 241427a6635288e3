// The general-settings form and the PATCH it makes: only the fields that changed, in the
// config file's own shape.

import type { Settings } from "../../api/types";

export interface Form {
  host: string;
  port: string;
  logEnabled: boolean;
  capture: boolean;
  retention: string;
  maxBodyMiB: string;
  maxDbMb: string;
  requireKey: boolean;
}

/** `127.0.0.1:7137` / `[::1]:7137` into host and port. */
export function splitListen(listen: string): { host: string; port: string } {
  const m = /^\[(.+)\]:(\d+)$/.exec(listen) ?? /^([^:]+):(\d+)$/.exec(listen);
  return m ? { host: m[1], port: m[2] } : { host: listen, port: "" };
}

export function joinListen(host: string, port: string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

const MiB = 1024 * 1024;

export function toForm(s: Settings): Form {
  const { host, port } = splitListen(s.listen);
  return {
    host,
    port,
    logEnabled: s.log.enabled,
    capture: s.log.capture_bodies,
    retention: String(s.log.retention_days),
    maxBodyMiB: String(Math.round((s.log.max_body_bytes / MiB) * 100) / 100),
    maxDbMb: String(s.log.max_db_mb),
    requireKey: s.access.require_key,
  };
}

/** Only what changed, in the config file's own shape. */
export function settingsChange(before: Form, after: Form): Record<string, unknown> {
  const change: Record<string, unknown> = {};
  if (before.host !== after.host || before.port !== after.port) change.listen = joinListen(after.host, after.port);
  const log: Record<string, unknown> = {};
  if (before.logEnabled !== after.logEnabled) log.enabled = after.logEnabled;
  if (before.capture !== after.capture) log.capture_bodies = after.capture;
  if (before.retention !== after.retention) log.retention_days = Number(after.retention);
  if (before.maxBodyMiB !== after.maxBodyMiB) log.max_body_bytes = Math.round(Number(after.maxBodyMiB) * MiB);
  if (before.maxDbMb !== after.maxDbMb) log.max_db_mb = Number(after.maxDbMb);
  if (Object.keys(log).length) change.log = log;
  if (before.requireKey !== after.requireKey) change.access = { require_key: after.requireKey };
  return change;
}

