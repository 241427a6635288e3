import { describe, expect, it } from "vitest";
import { ENDPOINTS, baseUrl, snippet, toolSetups, type SnippetContext } from "./snippets";

const ctx: SnippetContext = { origin: "http://127.0.0.1:7137", model: "alpha/gpt-4o-mini", embeddingModel: null, keyRequired: false };

describe("snippets", () => {
  it("uses the real origin + /v1 and a model that exists", () => {
    expect(baseUrl("http://127.0.0.1:7137/")).toBe("http://127.0.0.1:7137/v1");
    const curl = snippet("chat", "curl", ctx)!;
    expect(curl).toContain("curl http://127.0.0.1:7137/v1/chat/completions");
    expect(curl).toContain('"model": "alpha/gpt-4o-mini"');
    expect(curl).not.toContain("Authorization");
    const body = curl.slice(curl.indexOf("-d '") + 4, curl.lastIndexOf("'"));
    expect(JSON.parse(body)).toEqual({ model: "alpha/gpt-4o-mini", messages: [{ role: "user", content: "Say hello in five words." }] });
  });

  it("streams with -N and asks for usage", () => {
    const curl = snippet("stream", "curl", ctx)!;
    expect(curl.startsWith("curl -N ")).toBe(true);
    expect(curl).toContain('"include_usage": true');
  });

  it("puts the key in an environment variable when keys are required", () => {
    const k = { ...ctx, keyRequired: true };
    expect(snippet("models", "curl", k)).toBe('curl http://127.0.0.1:7137/v1/models \\\n  -H "Authorization: Bearer $SWITCHYARD_API_KEY"');
    expect(snippet("chat", "python", k)).toContain('api_key=os.environ["SWITCHYARD_API_KEY"]');
    expect(snippet("chat", "python", k)).toMatch(/^import os\n/);
    expect(snippet("chat", "node", k)).toContain("apiKey: process.env.SWITCHYARD_API_KEY");
  });

  it("uses a placeholder key when none is needed (the SDKs insist on one)", () => {
    expect(snippet("chat", "python", ctx)).toContain('OpenAI(base_url="http://127.0.0.1:7137/v1", api_key="switchyard")');
    expect(snippet("stream", "node", ctx)).toContain("stream: true");
  });

  it("offers no embeddings snippet without an embeddings model, and quotes shell-hostile text", () => {
    expect(snippet("embeddings", "curl", ctx)).toBeNull();
    expect(snippet("models", "python", { ...ctx, model: null })).toContain("client.models.list()");
    const s = snippet("embeddings", "curl", { ...ctx, embeddingModel: "it's/odd" })!;
    expect(s).toContain(`"model": "it'\\''s/odd"`);
  });

  it("has a snippet for every endpoint in every language", () => {
    const full = { ...ctx, embeddingModel: "alpha/text-embedding-3-small" };
    for (const e of ENDPOINTS) for (const lang of ["curl", "python", "node"] as const) expect(snippet(e.id, lang, full)).toBeTruthy();
  });
});

describe("setup cards", () => {
  const cards = toolSetups(ctx);
  const card = (id: string) => cards.find((c) => c.id === id)!;

  it("covers the seven tools", () => {
    expect(cards.map((c) => c.name)).toEqual(["Cursor", "Cline", "Continue", "Codex CLI", "Claude Code", "Open WebUI", "OpenCode"]);
  });

  it("tells the truth about Cursor and localhost", () => {
    expect(card("cursor").blocker).toMatch(/cannot reach localhost/);
    expect(card("cursor").fields[0]).toEqual({ label: "Override OpenAI Base URL", value: "http://127.0.0.1:7137/v1" });
  });

  it("gives files with the exact values", () => {
    expect(card("continue").file!.text).toContain("apiBase: http://127.0.0.1:7137/v1");
    expect(card("codex").file!.text).toContain('base_url = "http://127.0.0.1:7137/v1"');
    const oc = JSON.parse(card("opencode").file!.text);
    expect(oc.provider.switchyard.options.baseURL).toBe("http://127.0.0.1:7137/v1");
    expect(oc.model).toBe("switchyard/alpha/gpt-4o-mini");
    expect(card("claude-code").fields[0].value).toBe("http://127.0.0.1:7137");
    expect(card("open-webui").notes.join(" ")).toContain("host.docker.internal:7137");
  });

  it("says which front doors are missing, and stops saying it once the gateway serves them", () => {
    expect(card("codex").blocker).toMatch(/\/v1\/responses/);
    expect(card("claude-code").blocker).toMatch(/\/v1\/messages/);
    const later = toolSetups({ ...ctx, endpoints: ["/v1/chat/completions", "/v1/responses", "/v1/messages"] });
    expect(later.find((c) => c.id === "codex")!.blocker).toBeUndefined();
    expect(later.find((c) => c.id === "claude-code")!.blocker).toBeUndefined();
  });
});
