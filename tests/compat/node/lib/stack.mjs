// Starts `switchyard-fake` and `switchyard serve` for one test file and hands
// out official `openai` clients pointed at the gateway.
//
// Binaries: $SWITCHYARD_BIN / $SWITCHYARD_FAKE_BIN, defaulting to
// <repo>/target/debug/{switchyard,switchyard-fake}.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { Fake, Proc, requireBin } from '../../../lib/processes.mjs';

export { Fake };

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

const URL_RE = /http:\/\/[^\s"'<>]+/;

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
