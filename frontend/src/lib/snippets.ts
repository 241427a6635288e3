// Copy-paste snippets for this gateway: cURL, Python and Node for each endpoint, and setup cards
// for the coding tools people point at a local gateway. Everything uses the real origin the UI
// was loaded from and a model that exists here; a key appears only as an environment variable.

export type Lang = "curl" | "python" | "node";
export type EndpointId = "chat" | "stream" | "embeddings" | "models";

export interface SnippetContext {
  /** `http://127.0.0.1:7137`, no trailing slash. */
  origin: string;
  /** A chat model that exists here. */
  model: string | null;
  /** An embeddings model that exists here, if any. */
  embeddingModel: string | null;
  /** The gateway wants a client key (`access.keys_required`). */
  keyRequired: boolean;
}

export const KEY_ENV = "SWITCHYARD_API_KEY";
/** What clients that insist on some key may send while keys are optional (any non-`sk-sy-` text). */
export const PLACEHOLDER_KEY = "switchyard";

export const ENDPOINTS: { id: EndpointId; title: string; method: string; path: string }[] = [
  { id: "chat", title: "Chat completions", method: "POST", path: "/v1/chat/completions" },
  { id: "stream", title: "Chat completions, streamed", method: "POST", path: "/v1/chat/completions" },
  { id: "embeddings", title: "Embeddings", method: "POST", path: "/v1/embeddings" },
  { id: "models", title: "List models", method: "GET", path: "/v1/models" },
];

export function baseUrl(origin: string): string {
  return `${origin.replace(/\/+$/, "")}/v1`;
}

const q = (s: string) => JSON.stringify(s);

/** The snippet, or null when the endpoint needs a model this gateway does not have. */
export function snippet(endpoint: EndpointId, lang: Lang, ctx: SnippetContext): string | null {
  const base = baseUrl(ctx.origin);
  const model = endpoint === "embeddings" ? ctx.embeddingModel : ctx.model;
  if (endpoint !== "models" && !model) return null;
  const m = model ?? "";
  switch (lang) {
    case "curl":
      return curl(endpoint, base, m, ctx.keyRequired);
    case "python":
      return python(endpoint, base, m, ctx.keyRequired);
    case "node":
      return node(endpoint, base, m, ctx.keyRequired);
  }
}

function curl(endpoint: EndpointId, base: string, model: string, key: boolean): string {
  const auth = key ? ` \\\n  -H "Authorization: Bearer $${KEY_ENV}"` : "";
  if (endpoint === "models") return `curl ${base}/models${auth}`;
  const json = (body: object) => JSON.stringify(body, null, 2).replace(/'/g, "'\\''");
  if (endpoint === "embeddings") {
    return `curl ${base}/embeddings${auth} \\\n  -H "Content-Type: application/json" \\\n  -d '${json({ model, input: "The quick brown fox" })}'`;
  }
  const body: Record<string, unknown> = { model, messages: [{ role: "user", content: "Say hello in five words." }] };
  if (endpoint === "stream") {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return `curl ${endpoint === "stream" ? "-N " : ""}${base}/chat/completions${auth} \\\n  -H "Content-Type: application/json" \\\n  -d '${json(body)}'`;
}

function python(endpoint: EndpointId, base: string, model: string, key: boolean): string {
  const head = [
    ...(key ? ["import os", ""] : []),
    "from openai import OpenAI  # pip install openai",
    "",
    `client = OpenAI(base_url=${q(base)}, api_key=${key ? `os.environ[${q(KEY_ENV)}]` : q(PLACEHOLDER_KEY)})`,
    "",
  ];
  const body = {
    chat: [
      "reply = client.chat.completions.create(",
      `    model=${q(model)},`,
      '    messages=[{"role": "user", "content": "Say hello in five words."}],',
      ")",
      "print(reply.choices[0].message.content)",
    ],
    stream: [
      "stream = client.chat.completions.create(",
      `    model=${q(model)},`,
      '    messages=[{"role": "user", "content": "Say hello in five words."}],',
      "    stream=True,",
      ")",
      "for chunk in stream:",
      "    if chunk.choices and chunk.choices[0].delta.content:",
      '        print(chunk.choices[0].delta.content, end="", flush=True)',
    ],
    embeddings: [
      `result = client.embeddings.create(model=${q(model)}, input="The quick brown fox")`,
      "print(len(result.data[0].embedding))",
    ],
    models: ["for model in client.models.list():", "    print(model.id)"],
  }[endpoint];
  return [...head, ...body].join("\n");
}

function node(endpoint: EndpointId, base: string, model: string, key: boolean): string {
  const head = [
    'import OpenAI from "openai"; // npm install openai',
    "",
    `const client = new OpenAI({ baseURL: ${q(base)}, apiKey: ${key ? `process.env.${KEY_ENV}` : q(PLACEHOLDER_KEY)} });`,
    "",
  ];
  const body = {
    chat: [
      "const reply = await client.chat.completions.create({",
      `  model: ${q(model)},`,
      '  messages: [{ role: "user", content: "Say hello in five words." }],',
      "});",
      "console.log(reply.choices[0].message.content);",
    ],
    stream: [
      "const stream = await client.chat.completions.create({",
      `  model: ${q(model)},`,
      '  messages: [{ role: "user", content: "Say hello in five words." }],',
      "  stream: true,",
      "});",
      "for await (const chunk of stream) {",
      '  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");',
      "}",
    ],
    embeddings: [
      `const result = await client.embeddings.create({ model: ${q(model)}, input: "The quick brown fox" });`,
      "console.log(result.data[0].embedding.length);",
    ],
    models: ["for await (const model of client.models.list()) console.log(model.id);"],
  }[endpoint];
  return [...head, ...body].join("\n");
}

// ---- setup cards ----

export interface SetupField {
  label: string;
  value: string;
}

export interface ToolSetup {
  id: string;
  name: string;
  /** Where the values go, in the tool's own words. */
  where: string;
  fields: SetupField[];
  /** A file to paste, when the tool is configured by file. */
  file?: { path: string; language: string; text: string };
  /** Things that are true and that people trip on. */
  notes: string[];
  /** Set when this gateway cannot serve the tool yet, or the tool cannot reach it. */
  blocker?: string;
}

export interface SetupContext extends SnippetContext {
  /** Front doors the gateway serves (`GET /` `endpoints`); undefined: the OpenAI ones only. */
  endpoints?: string[];
}

const serves = (ctx: SetupContext, path: string) => ctx.endpoints?.includes(path) ?? false;

export function toolSetups(ctx: SetupContext): ToolSetup[] {
  const base = baseUrl(ctx.origin);
  const model = ctx.model ?? "MODEL";
  const keyValue = ctx.keyRequired ? "<your client key>" : PLACEHOLDER_KEY;
  const keyEnv = ctx.keyRequired ? `$${KEY_ENV}` : PLACEHOLDER_KEY;
  const port = (() => {
    try {
      return new URL(ctx.origin).port || "80";
    } catch {
      return "7137";
    }
  })();
  return [
    {
      id: "cursor",
      name: "Cursor",
      where: "Cursor Settings → Models → API Keys: OpenAI API Key, then “Override OpenAI Base URL”; add the model name under Models.",
      fields: [
        { label: "Override OpenAI Base URL", value: base },
        { label: "OpenAI API Key", value: keyValue },
        { label: "Model name", value: model },
      ],
      notes: [
        "Cursor sends every model request from Cursor's own servers, not from your computer, so they cannot reach a gateway on localhost: with this base URL the check fails.",
        "It works only if the gateway is reachable from the internet (a tunnel to this port), and then with client keys required — this gateway refuses to listen beyond loopback by design.",
      ],
      blocker: "Cursor's servers cannot reach localhost.",
    },
    {
      id: "cline",
      name: "Cline",
      where: "Cline (VS Code) → Settings → API Provider: “OpenAI Compatible”.",
      fields: [
        { label: "Base URL", value: base },
        { label: "API Key", value: keyValue },
        { label: "Model ID", value: model },
      ],
      notes: ["Cline calls from your editor, so localhost works. Use a model with tool calling for agent tasks."],
    },
    {
      id: "continue",
      name: "Continue",
      where: "Continue → config.yaml (`~/.continue/config.yaml`): add a model.",
      fields: [
        { label: "provider", value: "openai" },
        { label: "apiBase", value: base },
        { label: "model", value: model },
      ],
      file: {
        path: "~/.continue/config.yaml",
        language: "yaml",
        text: [
          "models:",
          "  - name: Switchyard",
          "    provider: openai",
          `    model: ${model}`,
          `    apiBase: ${base}`,
          `    apiKey: ${ctx.keyRequired ? `\${{ secrets.${KEY_ENV} }}` : PLACEHOLDER_KEY}`,
          "    roles: [chat, edit, apply]",
        ].join("\n"),
      },
      notes: [],
    },
    {
      id: "codex",
      name: "Codex CLI",
      where: "`~/.codex/config.toml`: a model provider, selected with `model_provider`.",
      fields: [
        { label: "base_url", value: base },
        { label: "env_key", value: KEY_ENV },
        { label: "model", value: model },
      ],
      file: {
        path: "~/.codex/config.toml",
        language: "toml",
        text: [
          `model = ${q(model)}`,
          'model_provider = "switchyard"',
          "",
          "[model_providers.switchyard]",
          'name = "Switchyard"',
          `base_url = ${q(base)}`,
          `env_key = ${q(KEY_ENV)}`,
          'wire_api = "responses"',
        ].join("\n"),
      },
      notes: [
        `Codex reads the key from the variable named by env_key: \`export ${KEY_ENV}=${ctx.keyRequired ? "<your client key>" : PLACEHOLDER_KEY}\`.`,
        "Current Codex releases speak only the Responses API (`wire_api = \"responses\"`).",
      ],
      ...(serves(ctx, "/v1/responses") ? {} : { blocker: "Codex needs /v1/responses, which this gateway does not serve yet." }),
    },
    {
      id: "claude-code",
      name: "Claude Code",
      where: "Environment variables for `claude` (or the `env` block of `~/.claude/settings.json`).",
      fields: [
        { label: "ANTHROPIC_BASE_URL", value: ctx.origin },
        { label: "ANTHROPIC_AUTH_TOKEN", value: keyEnv },
        { label: "ANTHROPIC_MODEL", value: model },
      ],
      file: {
        path: "shell",
        language: "bash",
        text: [`export ANTHROPIC_BASE_URL=${ctx.origin}`, `export ANTHROPIC_AUTH_TOKEN=${keyEnv}`, `export ANTHROPIC_MODEL=${model}`, "claude"].join("\n"),
      },
      notes: ["Claude Code speaks Anthropic's Messages API (POST /v1/messages), with the gateway's origin as base URL — no /v1."],
      ...(serves(ctx, "/v1/messages") ? {} : { blocker: "Claude Code needs /v1/messages, which this gateway does not serve yet." }),
    },
    {
      id: "open-webui",
      name: "Open WebUI",
      where: "Admin Panel → Settings → Connections → OpenAI API: add a connection (or the environment variables below).",
      fields: [
        { label: "URL", value: base },
        { label: "Key", value: keyValue },
      ],
      file: {
        path: "docker",
        language: "bash",
        text: [
          "docker run -d --network=host \\",
          `  -e OPENAI_API_BASE_URL=${base} \\`,
          `  -e OPENAI_API_KEY=${keyEnv} \\`,
          "  -v open-webui:/app/backend/data --name open-webui \\",
          "  ghcr.io/open-webui/open-webui:main",
        ].join("\n"),
      },
      notes: [
        "Inside a container, localhost is the container itself. The gateway listens on loopback only, so run Open WebUI with `--network=host` (Linux), then open it at http://localhost:8080.",
        `With Docker Desktop (macOS, Windows) use \`http://host.docker.internal:${port}/v1\` instead, and add \`"host.docker.internal"\` to \`access.allowed_hosts\` in the config: the gateway refuses Host names it does not know.`,
      ],
    },
    {
      id: "opencode",
      name: "OpenCode",
      where: "`opencode.json` (in the project, or `~/.config/opencode/opencode.json`): a custom provider.",
      fields: [
        { label: "npm", value: "@ai-sdk/openai-compatible" },
        { label: "options.baseURL", value: base },
        { label: "model", value: `switchyard/${model}` },
      ],
      file: {
        path: "opencode.json",
        language: "json",
        text: JSON.stringify(
          {
            $schema: "https://opencode.ai/config.json",
            provider: {
              switchyard: {
                npm: "@ai-sdk/openai-compatible",
                name: "Switchyard",
                options: { baseURL: base, apiKey: ctx.keyRequired ? `{env:${KEY_ENV}}` : PLACEHOLDER_KEY },
                models: { [model]: { name: model } },
              },
            },
            model: `switchyard/${model}`,
          },
          null,
          2,
        ),
      },
      notes: [],
    },
  ];
}
