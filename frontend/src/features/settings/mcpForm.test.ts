import { describe, expect, it } from "vitest";
import type { McpServer } from "../../api/types";
import { changeBody, createBody, emptyForm, fieldOfParam, FormError, formFromServer, rowsToMap, splitCommandLine } from "./mcpForm";

const server = (extra: Partial<McpServer> = {}): McpServer => ({
  name: "docs",
  transport: "stdio",
  enabled: true,
  disabled_tools: [],
  call_timeout_ms: 120000,
  command: "npx",
  args: ["-y", "docs-mcp"],
  env: { REGION: "eu", TOKEN: "keychain:mcp.docs.TOKEN", HOME_DIR: "env:HOME" },
  cwd: null,
  status: null,
  ...extra,
});

describe("MCP server form: env and header rows", () => {
  it("sends a secret row as {secret} for the keychain, and a plain one as text", () => {
    expect(
      rowsToMap(
        [
          { key: "API_TOKEN", value: "tok-123", secret: true },
          { key: "REGION", value: "eu", secret: false },
          { key: "", value: "", secret: false },
        ],
        "env",
      ),
    ).toEqual({ API_TOKEN: { secret: "tok-123" }, REGION: "eu" });
  });

  it("keeps a stored secret's reference unless a new value is typed, and never wraps a reference", () => {
    expect(
      rowsToMap(
        [
          { key: "TOKEN", value: "", secret: true, stored: "keychain:mcp.docs.TOKEN" },
          { key: "OTHER", value: "new-secret", secret: true, stored: "keychain:mcp.docs.OTHER" },
          { key: "FROM_ENV", value: "env:MY_TOKEN", secret: true },
        ],
        "env",
      ),
    ).toEqual({ TOKEN: "keychain:mcp.docs.TOKEN", OTHER: { secret: "new-secret" }, FROM_ENV: "env:MY_TOKEN" });
  });

  it("refuses a value without a name and a name given twice, naming the row", () => {
    expect(() => rowsToMap([{ key: " ", value: "x", secret: false }], "headers")).toThrow("A header needs a name.");
    try {
      rowsToMap(
        [
          { key: "A", value: "1", secret: false },
          { key: "A", value: "2", secret: true },
        ],
        "env",
      );
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FormError);
      expect(e).toMatchObject({ field: "env", key: "A", message: "The variable A is given twice." });
    }
  });
});

describe("MCP server form: request bodies", () => {
  it("adds a stdio server with what was filled in", () => {
    const f = { ...emptyForm(), name: " everything ", command: "node", args: "/opt/e/dist/index.js\n\n stdio ", env: [{ key: "TOKEN", value: "s3cret", secret: true }] };
    expect(createBody(f)).toEqual({
      name: "everything",
      transport: "stdio",
      command: "node",
      args: ["/opt/e/dist/index.js", "stdio"],
      env: { TOKEN: { secret: "s3cret" } },
    });
  });

  it("adds an HTTP server with a secret header", () => {
    const f = { ...emptyForm(), name: "remote", transport: "http" as const, url: "https://mcp.example.com/mcp", headers: [{ key: "Authorization", value: "Bearer abc", secret: true }], call_timeout_ms: "30000" };
    expect(createBody(f)).toEqual({
      name: "remote",
      transport: "http",
      url: "https://mcp.example.com/mcp",
      headers: { Authorization: { secret: "Bearer abc" } },
      call_timeout_ms: 30000,
    });
    expect(() => createBody({ ...f, call_timeout_ms: "soon" })).toThrow(FormError);
  });

  it("reads a server back into the form: stored secrets stay hidden, references are plain", () => {
    const f = formFromServer(server());
    expect(f.args).toBe("-y\ndocs-mcp");
    expect(f.env).toEqual([
      { key: "REGION", value: "eu", secret: false },
      { key: "TOKEN", value: "", secret: true, stored: "keychain:mcp.docs.TOKEN" },
      { key: "HOME_DIR", value: "env:HOME", secret: false },
    ]);
  });

  it("a change names removed rows with null, since tables merge key by key", () => {
    const before = server();
    const f = formFromServer(before);
    f.env = f.env.filter((r) => r.key !== "REGION");
    f.args = "";
    f.call_timeout_ms = "";
    expect(changeBody(f, before)).toEqual({
      transport: "stdio",
      command: "npx",
      args: null,
      env: { TOKEN: "keychain:mcp.docs.TOKEN", HOME_DIR: "env:HOME", REGION: null },
      cwd: null,
      call_timeout_ms: null,
    });
  });

  it("switching to HTTP removes the command's fields", () => {
    const before = server();
    const f = { ...formFromServer(before), transport: "sse" as const, url: "http://127.0.0.1:9/sse" };
    expect(changeBody(f, before)).toEqual({
      transport: "sse",
      url: "http://127.0.0.1:9/sse",
      headers: null,
      command: null,
      args: null,
      env: null,
      cwd: null,
      call_timeout_ms: 120000,
    });
  });

  it("splits a pasted command line", () => {
    expect(splitCommandLine(`npx -y @modelcontextprotocol/server-everything "a b"`)).toEqual({
      command: "npx",
      args: ["-y", "@modelcontextprotocol/server-everything", "a b"],
    });
  });
});

describe("MCP server form: refusals", () => {
  it("finds the field (and row) a refusal's param names", () => {
    expect(fieldOfParam("mcp_servers[2].url")).toEqual({ field: "url" });
    expect(fieldOfParam("env.API_KEY")).toEqual({ field: "env", key: "API_KEY" });
    expect(fieldOfParam("mcp_servers[0].headers.X-Api-Key")).toEqual({ field: "headers", key: "X-Api-Key" });
    expect(fieldOfParam("name")).toEqual({ field: "name" });
    expect(fieldOfParam(null)).toBeNull();
    expect(fieldOfParam("")).toBeNull();
  });
});
