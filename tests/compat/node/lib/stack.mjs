// Starts `switchyard-fake` and `switchyard serve` for one test file and hands
// out official `openai` clients pointed at the gateway.
//
// Binaries: $SWITCHYARD_BIN / $SWITCHYARD_FAKE_BIN, defaulting to
// <repo>/target/debug/{switchyard,switchyard-fake}.

import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../../..');
export const GATEWAY_BIN = process.env.SWITCHYARD_BIN || path.join(REPO, 'target/debug/switchyard');
export const FAKE_BIN = process.env.SWITCHYARD_FAKE_BIN || path.join(REPO, 'target/debug/switchyard-fake');

export const CLIENT_KEY = 'sk-client-secret';
export const ALPHA_KEY = 'sk-alpha-test';
export const BETA_KEY = 'sk-beta-test';
export const ALPHA = 'alpha/gpt-4o-mini';
export const BETA = 'beta/claude-sonnet-4-5';
export const EMBED = 'alpha/text-embedding-3-small';

const START_TIMEOUT_MS = 30_000;
const URL_RE = /http:\/\/[^\s"'<>]+/;

// Every child we start, so that an abrupt exit of the test process still stops them.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
});

class Proc {
  constructor(name, argv, { env, keepStdin }) {
    this.name = name;
    this.lines = [];
    this.stderr = [];
    this.waiters = [];
    this.child = spawn(argv[0], argv.slice(1), {
      env,
      // The fake exits when its stdin closes: keep it a pipe so it dies with us.
      stdio: [keepStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    live.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        live.delete(this.child);
        this.exitStatus = signal ?? code;
        resolve();
        this.#notify();
      });
      this.child.on('error', (err) => {
        this.spawnError = err;
        live.delete(this.child);
        resolve();
        this.#notify();
      });
    });
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.#notify();
    });
    readline.createInterface({ input: this.child.stderr }).on('line', (line) => {
      this.stderr.push(line);
      if (this.stderr.length > 500) this.stderr.shift();
    });
  }

  #notify() {
    for (const w of [...this.waiters]) w();
  }

  log() {
    return (
      `--- ${this.name} stdout ---\n${this.lines.slice(-40).join('\n')}\n` +
      `--- ${this.name} stderr ---\n${this.stderr.slice(-80).join('\n')}`
    );
  }

  waitForLine(pred, what) {
    return new Promise((resolve, reject) => {
      let seen = 0;
      const done = (fn, v) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        fn(v);
      };
      const check = () => {
        while (seen < this.lines.length) {
          const line = this.lines[seen++];
          if (pred(line)) return done(resolve, line);
        }
        if (this.spawnError) return done(reject, new Error(`${this.name}: ${this.spawnError.message}`));
        if (this.exitStatus !== undefined) {
          return done(reject, new Error(`${this.name} exited (${this.exitStatus}) before ${what}\n${this.log()}`));
        }
      };
      const timer = setTimeout(
        () => done(reject, new Error(`${this.name}: no ${what} within ${START_TIMEOUT_MS} ms\n${this.log()}`)),
        START_TIMEOUT_MS,
      );
      this.waiters.push(check);
      check();
    });
  }

  async stop() {
    if (this.exitStatus === undefined && !this.spawnError) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    this.child.stdin?.destroy();
  }
}

/** Control handle for one fake upstream (its /__testkit endpoints). */
export class Fake {
  constructor(name, baseURL) {
    this.name = name;
    this.baseURL = baseURL;
    this.root = baseURL.replace(/\/+$/, '').replace(/\/v1$/, '');
  }

  async #call(method, route, body) {
    const res = await fetch(this.root + route, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${this.name} ${method} ${route}: ${res.status} ${text}`);
    return text;
  }

  /** Queue scripted answers (FIFO, one per model request). */
  script(...scripts) {
    return this.#call('POST', '/__testkit/script', scripts.length === 1 ? scripts[0] : scripts);
  }

  /** Set the script used when the queue is empty (e.g. an upstream that stays down). */
  default(script) {
    return this.#call('POST', '/__testkit/default', script);
  }

  reset() {
    return this.#call('POST', '/__testkit/reset');
  }

  /** Recorded model requests: {method, path, headers (lower-case names), body (parsed JSON)}. */
  async requests() {
    const all = JSON.parse(await this.#call('GET', '/__testkit/requests'));
    return all
      .filter((r) => !String(r.path ?? '').startsWith('/__testkit'))
      .filter((r) => String(r.method ?? 'POST').toUpperCase() === 'POST')
      .map((r) => {
        const raw = r.headers ?? {};
        const pairs = Array.isArray(raw) ? raw : Object.entries(raw);
        const headers = Object.fromEntries(pairs.map(([k, v]) => [String(k).toLowerCase(), v]));
        let body = r.body;
        if (typeof body === 'string') {
          try {
            body = JSON.parse(body);
          } catch {
            // not JSON: keep the text
          }
        }
        return { ...r, headers, body };
      });
  }
}

const configFor = (ep) => `listen = "127.0.0.1:0"

[[providers]]
name = "alpha"
kind = "openai"
base_url = "${ep.openai[0]}"
api_key = "env:ALPHA_KEY"
models = ["gpt-4o-mini", "text-embedding-3-small"]

[[providers]]
name = "beta"
kind = "anthropic"
base_url = "${ep.anthropic[0]}"
api_key = "env:BETA_KEY"
models = ["claude-sonnet-4-5"]

[[providers]]
name = "dead"
kind = "openai"
base_url = "${ep.refused}"
models = ["gpt-4o-mini-dead"]

[[aliases]]
name = "smart"
targets = ["alpha/gpt-4o-mini", "beta/claude-sonnet-4-5"]

[[aliases]]
name = "resilient"
targets = ["dead/gpt-4o-mini-dead", "alpha/gpt-4o-mini"]
`;

function requireBin(bin, what) {
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(
      `${what} not found at ${bin}: build it (cargo build -p switchyard-cli -p switchyard-testkit --bins) ` +
        'or set SWITCHYARD_BIN / SWITCHYARD_FAKE_BIN',
    );
  }
}

/** A running gateway. */
export class Gateway {
  constructor(proc, baseURL) {
    this.proc = proc;
    this.baseURL = baseURL;
    this.root = baseURL.replace(/\/v1$/, '');
  }

  client(opts = {}) {
    return new OpenAI({ baseURL: this.baseURL, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 30_000, ...opts });
  }

  stop() {
    return this.proc.stop();
  }
}

async function startGateway(dir, endpoints) {
  mkdirSync(path.join(dir, 'home'), { recursive: true });
  const cfg = path.join(dir, 'switchyard.toml');
  writeFileSync(cfg, configFor(endpoints));
  const env = { ...process.env, SWITCHYARD_HOME: path.join(dir, 'home'), ALPHA_KEY, BETA_KEY };
  for (const k of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'OPENAI_BASE_URL', 'ANTHROPIC_BASE_URL']) delete env[k];
  const proc = new Proc('switchyard', [GATEWAY_BIN, 'serve', '--config', cfg, '--listen', '127.0.0.1:0'], {
    env,
    keepStdin: false,
  });
  try {
    const line = await proc.waitForLine((l) => URL_RE.test(l), 'ready line with a URL');
    let url = line.match(URL_RE)[0].replace(/[/.,;]+$/, '');
    if (!url.endsWith('/v1')) url += '/v1';
    return new Gateway(proc, url);
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

/** Fakes + one gateway. Call `stop()` in `after`. */
export async function startStack() {
  requireBin(GATEWAY_BIN, 'switchyard');
  requireBin(FAKE_BIN, 'switchyard-fake');
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-compat-'));
  const fake = new Proc('switchyard-fake', [FAKE_BIN, '--openai', '1', '--anthropic', '1'], {
    env: process.env,
    keepStdin: true,
  });
  let gateway;
  try {
    const endpoints = JSON.parse(await fake.waitForLine((l) => l.trim().startsWith('{'), 'JSON endpoints line'));
    gateway = await startGateway(path.join(dir, 'main'), endpoints);
    const extra = [];
    return {
      endpoints,
      gateway,
      alpha: new Fake('alpha', endpoints.openai[0]),
      beta: new Fake('beta', endpoints.anthropic[0]),
      client: (opts) => gateway.client(opts),
      async resetFakes() {
        await Promise.all([this.alpha.reset(), this.beta.reset()]);
      },
      /** A gateway of its own (same config and fakes): no health state from other tests. */
      async freshGateway() {
        const g = await startGateway(path.join(dir, `fresh-${extra.length}`), endpoints);
        extra.push(g);
        return g;
      },
      log: () => gateway.proc.log(),
      async stop() {
        await Promise.all([gateway, ...extra].map((g) => g.stop()));
        await fake.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await gateway?.stop();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Runs `fn` with a fresh gateway's client and stops that gateway afterwards. */
export async function withFreshGateway(stack, fn) {
  const g = await stack.freshGateway();
  try {
    return await fn(g.client(), g);
  } catch (err) {
    err.message += `\n${g.proc.log()}`;
    throw err;
  } finally {
    await g.stop();
  }
}

export const user = (text) => [{ role: 'user', content: text }];
export const reply = (r) => ({ reply: r });

export const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_time',
      description: 'Current time in a timezone',
      parameters: { type: 'object', properties: { timezone: { type: 'string' } }, required: ['timezone'] },
    },
  },
];
export const WEATHER_CALL = { name: 'get_weather', arguments: { city: 'Paris' } };
export const TIME_CALL = { name: 'get_time', arguments: { timezone: 'Europe/Paris' } };

/** Concatenated content / reasoning of streamed chunks. */
export function collect(chunks) {
  const withChoice = chunks.filter((c) => c.choices?.length);
  return {
    content: withChoice.map((c) => c.choices[0].delta?.content ?? '').join(''),
    reasoning: withChoice.map((c) => c.choices[0].delta?.reasoning_content ?? '').join(''),
    finish: withChoice.map((c) => c.choices[0].finish_reason).filter(Boolean),
  };
}
