// Starts `switchyard-fake` and `switchyard serve` (with its built-in UI) for the browser tests,
// and a headless Chromium driven by playwright-core.
//
// Binaries: $SWITCHYARD_BIN / $SWITCHYARD_FAKE_BIN, defaulting to
// <repo>/target/debug/{switchyard,switchyard-fake}. Browser: $SWITCHYARD_CHROMIUM, else
// /usr/bin/chromium (Debian) or the installed Google Chrome (macOS).

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Fake, Proc, requireBin } from '../../lib/processes.mjs';

export { Fake };

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../..');
export const GATEWAY_BIN = process.env.SWITCHYARD_BIN || path.join(REPO, 'target/debug/switchyard');
export const FAKE_BIN = process.env.SWITCHYARD_FAKE_BIN || path.join(REPO, 'target/debug/switchyard-fake');
export const SCREENSHOTS = path.join(REPO, 'tests/ui/screenshots');

const URL_RE = /http:\/\/[^\s"'<>]+/;

export function chromiumPath() {
  const candidates = [
    process.env.SWITCHYARD_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `no Chromium found (tried ${candidates.join(', ')}): install it (make deps-chromium) or set SWITCHYARD_CHROMIUM to a Chrome/Chromium binary`,
    );
  }
  return found;
}



/** A gateway on a free port, with its own home and config. */
export async function startGateway(dir, config, extraEnv = {}) {
  mkdirSync(path.join(dir, 'home'), { recursive: true });
  const cfg = path.join(dir, 'switchyard.toml');
  writeFileSync(cfg, config);
  const env = { ...process.env, SWITCHYARD_HOME: path.join(dir, 'home'), ...extraEnv };
  for (const k of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'OPENAI_BASE_URL', 'ANTHROPIC_BASE_URL', 'GEMINI_API_KEY', 'GROQ_API_KEY', 'OPENROUTER_API_KEY', 'MISTRAL_API_KEY']) {
    if (!(k in extraEnv)) delete env[k];
  }
  const proc = new Proc('switchyard', [GATEWAY_BIN, 'serve', '--config', cfg, '--listen', '127.0.0.1:0'], { env, keepStdin: false });
  try {
    const line = await proc.waitForLine((l) => URL_RE.test(l), 'ready line with a URL');
    const url = line.match(URL_RE)[0].replace(/[/.,;]+$/, '');
    const root = url.replace(/\/v1$/, '');
    return { proc, root, ui: `${root}/ui/`, stop: () => proc.stop(), log: () => proc.log() };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

export const configFor = (ep) => `listen = "127.0.0.1:0"

[[providers]]
name = "alpha"
kind = "openai"
base_url = "${ep.openai[0]}"
api_key = "env:ALPHA_KEY"
models = ["gpt-4o-mini"]

[[providers]]
name = "dead"
kind = "openai"
base_url = "${ep.refused}"
models = ["gpt-4o-mini-dead"]

[[aliases]]
name = "resilient"
targets = ["dead/gpt-4o-mini-dead", "alpha/gpt-4o-mini"]
`;

/** Fakes (two OpenAI upstreams: one configured, one for the test that adds a provider) and a gateway. */
export async function startStack() {
  requireBin(GATEWAY_BIN, 'switchyard');
  requireBin(FAKE_BIN, 'switchyard-fake');
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-ui-'));
  const fake = new Proc('switchyard-fake', [FAKE_BIN, '--openai', '2', '--anthropic', '0'], { env: process.env, keepStdin: true });
  const gateways = [];
  const stop = async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const endpoints = JSON.parse(await fake.waitForLine((l) => l.trim().startsWith('{'), 'JSON endpoints line'));
    const gateway = await startGateway(path.join(dir, 'main'), configFor(endpoints), { ALPHA_KEY: 'sk-alpha-test' });
    gateways.push(gateway);
    return {
      dir,
      endpoints,
      gateway,
      alpha: new Fake('alpha', endpoints.openai[0]),
      spare: new Fake('spare', endpoints.openai[1]),
      /** Another gateway on the same fakes (e.g. an empty one for onboarding). */
      async extraGateway(name, config, env) {
        const g = await startGateway(path.join(dir, name), config, env);
        gateways.push(g);
        return g;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** For a test file: its own stack and browser, started before its first test and stopped after
 * its last. Read them as `ctx.stack` and `ctx.browser` inside the tests. */
export function stackForFile() {
  const ctx = { stack: undefined, browser: undefined };
  before(async () => {
    ctx.stack = await startStack();
    ctx.browser = await launchBrowser();
  });
  after(async () => {
    await ctx.browser?.close();
    await ctx.stack?.stop();
  });
  return ctx;
}

export const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export async function launchBrowser() {
  // No session bus for the browser: it has no use for one here, and the throwaway bus that
  // with-keyring.sh starts would otherwise fill the log with portal warnings.
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: BROWSER_ARGS,
    env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:' },
  });
}

/** A page that fails the test on uncaught errors and keeps the console for error messages. */
export async function openPage(browser, { width = 1280, height = 800, colorScheme = 'light' } = {}) {
  // Reduced motion: charts draw at once, so what a test reads (and a screenshot shows) is final.
  const context = await browser.newContext({ viewport: { width, height }, colorScheme, reducedMotion: 'reduce' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']).catch(() => {});
  const page = await context.newPage();
  page.errors = [];
  page.consoleLines = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
  page.setDefaultTimeout(10_000);
  return page;
}

/** Saves `<name>.png` under tests/ui/screenshots/. `fullPage`: the whole page, however long
 * (the app scrolls inside <main>, so the window is stretched to fit it first). */
export async function screenshot(page, name, { fullPage = false } = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  const viewport = page.viewportSize();
  if (fullPage && viewport) {
    const height = await page.evaluate(() => {
      const main = document.querySelector('main');
      return Math.ceil((main?.scrollHeight ?? 0) + (main?.getBoundingClientRect().top ?? 0));
    });
    await page.setViewportSize({ width: viewport.width, height: Math.min(Math.max(height, viewport.height), 12000) });
    await page.waitForTimeout(200);
  }
  await page.screenshot({ path: file, animations: 'disabled' });
  if (fullPage && viewport) await page.setViewportSize(viewport);
  return file;
}

/** The same page in the other colour scheme and/or size, for screenshots. */
export async function shootVariants(browser, url, name, { sizes = [[1280, 800]], prepare } = {}) {
  const files = [];
  for (const [width, height] of sizes) {
    for (const colorScheme of ['light', 'dark']) {
      const page = await openPage(browser, { width, height, colorScheme });
      await page.goto(url);
      if (prepare) await prepare(page);
      files.push(await screenshot(page, `${name}-${colorScheme}-${width}x${height}`));
      await page.context().close();
    }
  }
  return files;
}
