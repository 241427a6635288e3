// What the browser tests do on a page: call the gateway as the page does, pick a model, send a
// message and wait for the answer to settle, and fail on uncaught errors.

import assert from 'node:assert/strict';

/** JSON from the gateway, fetched by the page itself (same origin, as the UI does). */
export async function api(page, path, init) {
  return page.evaluate(
    async ([p, i]) => {
      const res = await fetch(p, i);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    [path, init],
  );
}

/** The gateway's answer at `path` once `ok` holds for it, read again every 100 ms for up to
 * `timeout` ms. (Not `page.waitForFunction(async …)`: it takes the predicate's promise for a
 * truthy answer and returns at once.) */
export async function until(page, path, ok, { timeout = 10_000 } = {}) {
  let last;
  for (const end = Date.now() + timeout; Date.now() < end; await page.waitForTimeout(100)) {
    last = (await api(page, path)).body;
    if (ok(last)) return last;
  }
  assert.fail(`${path} never got there: ${JSON.stringify(last)}`);
}

export async function pickModel(page, id) {
  await page.getByTestId('model-picker').click();
  await page.getByRole('searchbox', { name: 'Search models' }).fill(id);
  await page.getByRole('listbox', { name: 'Models' }).getByText(id, { exact: true }).click();
  await page.getByTestId('model-picker').filter({ hasText: id }).waitFor();
}

export async function send(page, text) {
  const composer = page.getByTestId('composer');
  await composer.fill(text);
  await composer.press('Enter');
}

/** Waits until no answer is streaming (the Send button is back). */
export async function settled(page) {
  await page.getByRole('button', { name: 'Send', exact: true }).waitFor();
}

export function assertNoPageErrors(page) {
  assert.deepEqual(page.errors, [], `uncaught errors in the page:\n${page.errors.join('\n')}`);
}
