// The gateway in front of `switchyard-fake` upstreams, and the real Codex CLI and Claude Code
// (from node_modules) run against it the way a user runs them: one process per turn, each with a
// throwaway home so nothing from this machine's own configuration leaks in.
//
// Binaries: $SWITCHYARD_BIN / $SWITCHYARD_FAKE_BIN, defaulting to
// <repo>/target/debug/{switchyard,switchyard-fake}.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Fake, Proc, requireBin } from '../../lib/processes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../..');
const GATEWAY_BIN = process.env.SWITCHYARD_BIN || path.join(REPO, 'target/debug/switchyard');
const FAKE_BIN = process.env.SWITCHYARD_FAKE_BIN || path.join(REPO, 'target/debug/switchyard-fake');
export const CODEX_BIN = path.join(here, '../node_modules/.bin/codex');
export const CLAUDE_BIN = path.join(here, '../node_modules/.bin/claude');

// Gateway model names. `side` takes Claude Code's small-model background requests (titles,
// topic checks), so they never consume what a test scripted for the main conversation.
export const OPENAI_MODEL = 'oa/gpt-5-mini';
export const ANTHROPIC_MODEL = 'an/claude-sonnet-4-5';
export const SIDE_MODEL = 'side/claude-haiku-4-5';

// What the clients send as their key: the gateway runs without client keys here, so any
// value passes, and the fakes must see the gateway's provider keys instead.
export const CLIENT_KEY = 'sk-client-dummy';
const OA_KEY = 'sk-oa-upstream';
const AN_KEY = 'sk-an-upstream';

// A client turn that hangs is a failure, not a stuck suite.
const CLIENT_TIMEOUT_MS = 120_000;
const URL_RE = /http:\/\/[^\s"'<>]+/;

const configFor = (ep) => `listen = "127.0.0.1:0"

[[providers]]
name = "oa"
kind = "openai"
base_url = "${ep.openai[0]}"
api_key = "env:OA_KEY"
models = ["gpt-5-mini"]

[[providers]]
name = "an"
kind = "anthropic"
base_url = "${ep.anthropic[0]}"
api_key = "env:AN_KEY"
models = ["claude-sonnet-4-5"]

[[providers]]
name = "side"
kind = "anthropic"
base_url = "${ep.anthropic[1]}"
api_key = "env:AN_KEY"
models = ["claude-haiku-4-5"]
`;

/** A minimal environment: nothing of the caller's own client configuration or credentials. */
function baseEnv(extra) {
  const env = {};
  for (const k of ['PATH', 'LANG', 'LC_ALL', 'TMPDIR', 'SYSTEMROOT']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  return { ...env, TERM: 'dumb', NO_COLOR: '1', CI: 'true', ...extra };
}

/** Runs a client to completion; resolves with its exit code and output whatever the code. */
function run(bin, args, { env, cwd }) {
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      args,
      { env, cwd, timeout: CLIENT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        resolve({ code: err ? (err.code ?? err.signal ?? 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

/** Fakes + one gateway for a test file. Call `stop()` in `after`. */
export async function startStack() {
  requireBin(GATEWAY_BIN, 'switchyard');
  requireBin(FAKE_BIN, 'switchyard-fake');
  requireBin(CODEX_BIN, 'codex (npm ci in tests/clients)');
  requireBin(CLAUDE_BIN, 'claude (npm ci in tests/clients)');
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-clients-'));
  const fake = new Proc('switchyard-fake', [FAKE_BIN, '--openai', '1', '--anthropic', '2'], {
    env: process.env,
    keepStdin: true,
  });
  let gateway;
  let capture;
  try {
    const endpoints = JSON.parse(await fake.waitForLine((l) => l.trim().startsWith('{'), 'JSON endpoints line'));
    mkdirSync(path.join(dir, 'gateway'), { recursive: true });
    const cfg = path.join(dir, 'switchyard.toml');
    writeFileSync(cfg, configFor(endpoints));
    gateway = new Proc('switchyard', [GATEWAY_BIN, 'serve', '--config', cfg, '--listen', '127.0.0.1:0'], {
      env: baseEnv({ HOME: dir, SWITCHYARD_HOME: path.join(dir, 'gateway'), OA_KEY, AN_KEY, RUST_LOG: 'info' }),
      keepStdin: false,
    });
    const line = await gateway.waitForLine((l) => URL_RE.test(l), 'ready line with a URL');
    const gatewayRoot = line.match(URL_RE)[0].replace(/[/.,;]+$/, '').replace(/\/v1$/, '');
    capture = process.env.SWITCHYARD_CLIENTS_CAPTURE ? await startCapture(gatewayRoot, process.env.SWITCHYARD_CLIENTS_CAPTURE) : undefined;
    const root = capture?.root ?? gatewayRoot;
    let turns = 0;
    const stack = {
      root,
      dir,
      oa: new Fake('oa', endpoints.openai[0]),
      an: new Fake('an', endpoints.anthropic[0]),
      side: new Fake('side', endpoints.anthropic[1]),
      async resetFakes() {
        await Promise.all([this.oa.reset(), this.an.reset(), this.side.reset()]);
      },
      /** A fresh, empty working directory for one client turn. */
      workdir(name) {
        const wd = path.join(dir, `${name}-${++turns}`);
        mkdirSync(wd, { recursive: true });
        return wd;
      },
      /** `claude -p PROMPT --output-format json ARGS...` in `cwd`; resolves with the parsed result. */
      async claude(prompt, { model, cwd, args = [] }) {
        const home = path.join(dir, `claude-home-${++turns}`);
        mkdirSync(home, { recursive: true });
        const env = baseEnv({
          HOME: home,
          CLAUDE_CONFIG_DIR: path.join(home, '.claude'),
          ANTHROPIC_BASE_URL: root,
          ANTHROPIC_API_KEY: CLIENT_KEY,
          ANTHROPIC_MODEL: model,
          ANTHROPIC_SMALL_FAST_MODEL: SIDE_MODEL,
          ANTHROPIC_DEFAULT_HAIKU_MODEL: SIDE_MODEL,
          CLAUDE_CODE_SUBAGENT_MODEL: model,
          DISABLE_TELEMETRY: '1',
          DISABLE_ERROR_REPORTING: '1',
          DISABLE_AUTOUPDATER: '1',
          DISABLE_BUG_COMMAND: '1',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          CLAUDE_CODE_MAX_RETRIES: '0',
        });
        const out = await run(
          CLAUDE_BIN,
          ['-p', prompt, '--output-format', 'json', '--model', model, '--no-session-persistence', ...args],
          { env, cwd },
        );
        let result;
        try {
          result = JSON.parse(out.stdout.trim().split('\n').pop());
        } catch {
          result = undefined;
        }
        return { ...out, result, log: () => clientLog('claude', out, gateway) };
      },
      /** `codex exec --json PROMPT` with a custom provider pointing at the gateway. */
      async codex(prompt, { model, cwd, args = [] }) {
        const home = path.join(dir, `codex-home-${++turns}`);
        const codexHome = path.join(home, '.codex');
        mkdirSync(codexHome, { recursive: true });
        writeFileSync(path.join(codexHome, 'config.toml'), codexConfig(root, model));
        const env = baseEnv({ HOME: home, CODEX_HOME: codexHome, SWITCHYARD_API_KEY: CLIENT_KEY });
        const out = await run(
          CODEX_BIN,
          ['exec', '--json', '--skip-git-repo-check', '--ephemeral', '--sandbox', 'danger-full-access', '-C', cwd, ...args, prompt],
          { env, cwd },
        );
        const events = out.stdout
          .split('\n')
          .filter((l) => l.trim().startsWith('{'))
          .map((l) => {
            try {
              return JSON.parse(l);
            } catch {
              return {};
            }
          });
        return { ...out, events, log: () => clientLog('codex', out, gateway) };
      },
      log: () => gateway.log(),
      /** Names the files the capture proxy (if on) writes for the next requests. */
      captureAs(label) {
        if (capture) capture.label = label;
      },
      async stop() {
        capture?.server.close();
        await gateway.stop();
        await fake.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (err) {
    capture?.server.close();
    await gateway?.stop();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * With SWITCHYARD_CLIENTS_CAPTURE=DIR: a recording proxy between the clients and the gateway that
 * writes each request (method, URL, headers, body) to DIR as JSON, to see exactly what the
 * clients send. Answers are passed back unchanged, streamed.
 */
async function startCapture(target, outDir) {
  mkdirSync(outDir, { recursive: true });
  const state = { label: 'start', n: 0 };
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      // not JSON: keep the text
    }
    const file = path.join(outDir, `${state.label}-${String(++state.n).padStart(2, '0')}.json`);
    writeFileSync(file, JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }, null, 2));
    const headers = { ...req.headers };
    delete headers.host;
    delete headers['content-length'];
    try {
      const up = await fetch(target + req.url, {
        method: req.method,
        headers,
        body: ['GET', 'HEAD'].includes(req.method) ? undefined : raw,
      });
      const out = {};
      up.headers.forEach((v, k) => {
        if (!['content-length', 'content-encoding', 'transfer-encoding'].includes(k)) out[k] = v;
      });
      res.writeHead(up.status, out);
      const answer = [];
      if (up.body) {
        for await (const c of up.body) {
          answer.push(Buffer.from(c));
          res.write(c);
        }
      }
      res.end();
      const response = { status: up.status, headers: out, body: Buffer.concat(answer).toString('utf8') };
      writeFileSync(file, JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body, response }, null, 2));
    } catch (err) {
      res.writeHead(502).end(String(err));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.server = server;
  state.root = `http://127.0.0.1:${server.address().port}`;
  return state;
}

/** Codex's user configuration: one custom provider, the gateway, speaking the Responses API. */
function codexConfig(root, model) {
  return `model = "${model}"
model_provider = "switchyard"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[model_providers.switchyard]
name = "Switchyard"
base_url = "${root}/v1"
env_key = "SWITCHYARD_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[feedback]
enabled = false
`;
}

function clientLog(name, out, gateway) {
  return `--- ${name} exit ${out.code} stdout ---\n${out.stdout.slice(-6000)}\n--- ${name} stderr ---\n${out.stderr.slice(-6000)}\n${gateway.log()}`;
}

export const reply = (r) => ({ reply: r });

/** The text of a message's content, whether a string or blocks (tool results nest theirs). */
export const textOf = (content) =>
  typeof content === 'string' ? content : (content ?? []).map((b) => b.text ?? textOf(b.content) ?? '').join('');

/** The model requests a fake received (chat or Messages), oldest first. */
export async function conversation(fake) {
  return (await fake.requests()).filter((r) => /\/(messages|chat\/completions)$/.test(String(r.path).split('?')[0]));
}
