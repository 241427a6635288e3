// An MCP server's state as a coloured pill (running, starting, failed…), with its error and
// the time to the next start in the title.

import type { McpServerStatus } from "../api/types";

const TONE: Record<McpServerStatus["state"], string> = {
  running: "ok",
  starting: "warn",
  idle: "idle",
  failed: "err",
  exited: "warn",
  disabled: "idle",
};

export function describeState(s: McpServerStatus): string {
  const parts: string[] = [s.state];
  if (s.state === "running" && s.tools !== null) parts.push(`${s.tools} tool${s.tools === 1 ? "" : "s"}`);
  if (s.state === "idle") parts.push("starts when first used");
  if (s.retry_in_s) parts.push(`retry in ${s.retry_in_s} s`);
  return parts.join(" · ");
}

export function McpStatePill({ status }: { status: McpServerStatus }) {
  return (
    <span className={`pill mcp ${TONE[status.state] ?? "idle"}`} title={status.error ? `${describeState(status)}: ${status.error}` : describeState(status)} data-testid="mcp-state" data-state={status.state}>
      {status.state}
    </span>
  );
}
