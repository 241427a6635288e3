// Child processes for the end-to-end suites (tests/compat/node, tests/ui): the gateway and the
// fake upstreams, started and stopped the same way everywhere. No dependencies beyond Node.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import readline from 'node:readline';

const START_TIMEOUT_MS = 30_000;

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

export class Proc {
  constructor(name, argv, { env, keepStdin }) {
    this.name = name;
    this.lines = [];
    this.stderr = [];
    this.waiters = [];
    this.child = spawn(argv[0], argv.slice(1), { env, stdio: [keepStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
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
    return `--- ${this.name} stdout ---\n${this.lines.slice(-40).join('\n')}\n--- ${this.name} stderr ---\n${this.stderr.slice(-80).join('\n')}`;
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
        if (this.exitStatus !== undefined) return done(reject, new Error(`${this.name} exited (${this.exitStatus}) before ${what}\n${this.log()}`));
      };
      const timer = setTimeout(() => done(reject, new Error(`${this.name}: no ${what} within ${START_TIMEOUT_MS} ms\n${this.log()}`)), START_TIMEOUT_MS);
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

/** Fails with a hint when a binary the suite needs was not built. */
export function requireBin(bin, what) {
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(
      `${what} not found at ${bin}: build it (make build) or set SWITCHYARD_BIN / SWITCHYARD_FAKE_BIN`,
    );
  }
}
