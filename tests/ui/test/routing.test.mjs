// Routing in the browser, against its own gateway and two fake OpenAI upstreams: a capability
// pool made in Settings → Routing lists its members; an alias's strategy and weights changed
// there reach the config; a chat answer through an alias shows the strategy and the member
// skipped because its context window is too small, in the playground and in peek, and an
// answer from a local model when every member is unreachable; the model
// picker shows aliases and pools apart; and the first-run offer makes the `smart` pool. Pages
// are saved as screenshots (light and dark, 1280×860 and 900×700) under tests/ui/screenshots/.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Proc, requireBin } from '../../lib/processes.mjs';
import { api, assertNoPageErrors, pickModel, send, settled, until } from '../lib/page.mjs';
import { FAKE_BIN, GATEWAY_BIN, launchBrowser, openPage, screenshot, shootVariants, startGateway } from '../lib/stack.mjs';

const SIZES = [
  [1280, 860],
  [900, 700],
];

// `beta/small-model` says it has a 64-token context window, so a long prompt skips it. `dead`
// refuses connections; the fakes listen on loopback, so they count as local models, and `away`
// falls back to one of them.
const config = (ep) => `listen = "127.0.0.1:0"

[[providers]]
name = "alpha"
kind = "openai"
base_url = "${ep.openai[0]}"
models = ["gpt-4o-mini", "gpt-4o"]

[[providers]]
name = "beta"
kind = "openai"
base_url = "${ep.openai[1]}"
models = ["small-model", "gpt-4o-mini"]

[providers.capabilities.small-model]
context_window = 64
tools = true

[[providers]]
name = "dead"
kind = "openai"
base_url = "${ep.refused}"
models = ["gone-model"]

[[aliases]]
name = "away"
targets = ["dead/gone-model"]
fallback = "local"

[[aliases]]
name = "roomy"
strategy = "least_latency"
targets = ["beta/small-model", "alpha/gpt-4o-mini"]

[[aliases]]
name = "split"
targets = ["alpha/gpt-4o-mini", "beta/gpt-4o-mini"]
`;

const ctx = {};


before(async () => {
  requireBin(GATEWAY_BIN, 'switchyard');
  requireBin(FAKE_BIN, 'switchyard-fake');
  ctx.dir = mkdtempSync(path.join(tmpdir(), 'switchyard-ui-routing-'));
  ctx.fake = new Proc('switchyard-fake', [FAKE_BIN, '--openai', '2', '--anthropic', '0'], { env: process.env, keepStdin: true });
  const endpoints = JSON.parse(await ctx.fake.waitForLine((l) => l.trim().startsWith('{'), 'JSON endpoints line'));
  ctx.gateway = await startGateway(path.join(ctx.dir, 'gw'), config(endpoints));
  ctx.browser = await launchBrowser();
});

after(async () => {
  await ctx.browser?.close();
  await ctx.gateway?.stop();
  await ctx.fake?.stop();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

test('a chat answer through an alias shows its strategy and the member it skipped, and peek shows the same', async () => {
  const page = await openPage(ctx.browser, { width: 1280, height: 860 });
  await page.goto(`${ctx.gateway.ui}playground`);

  // The picker: aliases and pools in their own groups, with kind, strategy and members.
  await page.getByTestId('model-picker').click();
  const list = page.getByRole('listbox', { name: 'Models' });
  const aliases = list.getByRole('group', { name: 'Aliases' });
  const roomy = aliases.getByRole('option', { name: /roomy/ });
  assert.match(await roomy.getByTestId('route-badge').innerText(), /^alias · least latency$/);
  assert.match(await roomy.innerText(), /2 members: beta\/small-model, alpha\/gpt-4o-mini/);
  // gpt-4o-mini is served by alpha and beta: asked for by its bare id, it is a pool of both.
  const shared = list.getByRole('group', { name: 'Pools' }).getByRole('option', { name: /^gpt-4o-mini/ });
  assert.match(await shared.getByTestId('route-badge').innerText(), /^pool · /);
  assert.match(await shared.getByTestId('route-badge').getAttribute('title'), /alpha\/gpt-4o-mini[\s\S]*beta\/gpt-4o-mini/);
  await screenshot(page, 'routing-model-picker-light-1280x860');
  await page.keyboard.press('Escape');

  await pickModel(page, 'roomy');
  // Well past 64 tokens: beta/small-model cannot take it.
  const long = `Please summarise this: ${'the quick brown fox jumps over the lazy dog '.repeat(20)}`.trim();
  await send(page, long);
  const answer = page.getByTestId('msg-assistant').last();
  await answer.getByText('You said: Please summarise this').waitFor();
  await settled(page);
  const trail = answer.getByTestId('failover-trail');
  assert.equal(await trail.getByTestId('trail-strategy').innerText(), 'least latency');
  const skipped = trail.locator('[data-outcome=skipped]');
  assert.equal(await skipped.count(), 1);
  assert.equal(await skipped.innerText(), 'beta/small-model (skipped: context too small)');
  assert.match(await trail.locator('[data-outcome=ok]').innerText(), /^alpha\/gpt-4o-mini$/);
  assert.match(await answer.getByTestId('message-meta').innerText(), /⇢ alpha\/gpt-4o-mini/);
  await page.waitForURL(/\/ui\/playground\/ses_/);
  const session = page.url();

  // The same request in peek: the route's strategy, then the skipped member, then the answer.
  await answer.getByTestId('message-meta').getByRole('link', { name: /^req_/ }).click();
  const detail = page.getByTestId('request-detail');
  await detail.waitFor();
  const facts = detail.getByTestId('detail-trail');
  assert.equal(await facts.getByTestId('trail-strategy').innerText(), 'least latency');
  assert.equal(await facts.locator('[data-outcome=skipped]').innerText(), 'beta/small-model (skipped: context too small)');
  assert.match(await detail.getByTestId('timeline-route').innerText(), /Route · strategy\s*least latency/);
  const heads = (await detail.getByTestId('timeline-attempt').allInnerTexts()).map((s) => s.split('\n')[0].trim());
  assert.equal(heads.length, 2, JSON.stringify(heads));
  assert.ok(heads.includes('Skipped · beta/small-model · skipped: context too small'), JSON.stringify(heads));
  assert.ok(heads.some((h) => h.startsWith('Attempt · alpha/gpt-4o-mini · answered')), JSON.stringify(heads));
  for (const [url, name, ready] of [
    [session, 'routing-chat-trail', 'failover-trail'],
    [page.url(), 'routing-peek-detail', 'detail-trail'],
  ]) {
    await shootVariants(ctx.browser, url, name, { sizes: SIZES, prepare: (p) => p.getByTestId(ready).first().waitFor() });
  }

  // Every member unreachable: a local model answers, and the answer says so.
  await page.goto(`${ctx.gateway.ui}playground`);
  await pickModel(page, 'away');
  await send(page, 'is anyone there?');
  const offline = page.getByTestId('msg-assistant').last();
  await offline.getByText('You said: is anyone there?').waitFor();
  await settled(page);
  const by = (await offline.getByTestId('message-meta').innerText()).match(/⇢ (\S+)/)?.[1];
  assert.ok(by && !by.startsWith('dead/'), `answered by a local model: ${by}`);
  assert.equal(await offline.getByTestId('trail-offline').innerText(), `answered offline by ${by}`);
  // Each pass over the members failed to connect (retry.rounds passes, 2 by default).
  const failed = await offline.locator('[data-outcome=failed]').allInnerTexts();
  assert.ok(failed.length >= 1, 'the unreachable member is in the trail');
  for (const f of failed) assert.equal(f, 'dead/gone-model (could not connect)');
  await screenshot(page, 'routing-chat-offline-light-1280x860');
  assertNoPageErrors(page);
  await page.context().close();
});

test('Settings → Routing makes a capability pool and lists its members, live', async () => {
  const page = await openPage(ctx.browser, { width: 1280, height: 860 });
  await page.goto(`${ctx.gateway.ui}settings/routing`);
  // Every alias and shared model from GET /admin/routing, members in order with figures.
  await page.getByTestId('alias-roomy').getByTestId('route-member').first().waitFor();
  await page.getByTestId('model-pool-gpt-4o-mini').getByTestId('route-member').nth(1).waitFor();

  await page.getByRole('button', { name: 'New pool' }).click();
  const form = page.getByRole('form', { name: 'New pool' });
  await form.getByLabel('Name').fill('tooling');
  await form.getByRole('checkbox', { name: 'call tools' }).check();
  await form.getByRole('checkbox', { name: 'beta' }).check();
  await form.getByLabel('Least context window (tokens)').fill('lots');
  await form.getByRole('button', { name: 'Create pool' }).click();
  // The form's own check, before anything is sent.
  await form.getByRole('alert').filter({ hasText: 'The least context window is a number of tokens above 0.' }).waitFor();
  await form.getByLabel('Least context window (tokens)').fill('');
  await form.getByRole('button', { name: 'Create pool' }).click();

  const card = page.getByTestId('pool-tooling');
  await card.getByTestId('route-member').first().waitFor();
  const pool = (await api(page, '/admin/pools/tooling')).body;
  assert.equal(pool.require.tools, true);
  assert.deepEqual(pool.providers, ['beta']);
  assert.ok(pool.members.includes('beta/small-model'), `beta/small-model meets "tools": ${JSON.stringify(pool.members)}`);
  assert.ok(pool.members.every((m) => m.startsWith('beta/')), `only beta's models: ${JSON.stringify(pool.members)}`);
  const shown = await card.getByTestId('member-target').allInnerTexts();
  assert.deepEqual([...shown].sort(), [...pool.members].sort());
  assert.match(await card.locator('dl').innerText(), /Requires\s*tools/);

  // A name that is taken comes back as the gateway's own message.
  await page.getByRole('button', { name: 'New pool' }).click();
  const again = page.getByRole('form', { name: 'New pool' });
  await again.getByLabel('Name').fill('tooling');
  await again.getByRole('button', { name: 'Create pool' }).click();
  await again.getByRole('alert').filter({ hasText: /tooling.*already exists/ }).waitFor();
  await again.getByRole('button', { name: 'Cancel' }).click();

  // Edit: ask for image input too, through PUT; delete, after confirming.
  await card.getByRole('button', { name: 'Edit' }).click();
  const edit = card.getByRole('form', { name: 'Edit the pool tooling' });
  await edit.getByRole('checkbox', { name: 'take image input' }).check();
  await edit.getByRole('button', { name: 'Save pool' }).click();
  await until(page, '/admin/pools/tooling', (p) => p.require.input.includes('image') && p.require.tools === true);
  await card.locator('dl').filter({ hasText: /input image/ }).waitFor();

  // Rebuild answers with the pools as they are now.
  await page.getByRole('button', { name: 'Rebuild pools' }).click();
  await page.getByText(/^Pools rebuilt/).waitFor();

  await shootVariants(ctx.browser, `${ctx.gateway.ui}settings/routing`, 'settings-routing', {
    sizes: SIZES,
    prepare: (p) => p.getByTestId('pool-tooling').waitFor(),
  });

  await screenshot(page, 'settings-routing-full-light-1280', { fullPage: true });
  await card.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await card.waitFor({ state: 'detached' });
  assert.equal((await api(page, '/admin/pools/tooling')).status, 404);
  assertNoPageErrors(page);
  await page.context().close();
});

test("an alias's strategy, weights and fallback change in Settings → Routing and reach the config", async () => {
  const page = await openPage(ctx.browser, { width: 900, height: 700 });
  await page.goto(`${ctx.gateway.ui}settings/routing`);
  const alias = page.getByTestId('alias-split');
  await alias.getByTestId('alias-target').first().waitFor();
  // Ordered: no weights to set.
  assert.equal(await alias.getByRole('spinbutton').count(), 0);
  await alias.getByRole('combobox', { name: 'Strategy of split' }).selectOption('weighted');
  await alias.getByRole('spinbutton', { name: 'Weight of alpha/gpt-4o-mini' }).fill('3');
  await alias.getByRole('checkbox', { name: 'Offline, fall back to a local model' }).check();
  await screenshot(page, 'settings-routing-alias-weighted-light-900x700');
  await alias.getByRole('button', { name: 'Save', exact: true }).click();
  const saved = await until(page, '/admin/aliases/split', (a) => a.strategy === 'weighted');
  assert.deepEqual(saved.targets, ['alpha/gpt-4o-mini', 'beta/gpt-4o-mini']);
  assert.deepEqual(saved.weights, [3, 1]);
  assert.equal(saved.fallback, 'local');
  // The live table shows the weights, heaviest first.
  await alias.getByTestId('route-members-split').getByRole('columnheader', { name: 'Weight' }).waitFor();

  // Every weight 0 is refused before anything is sent.
  await alias.getByRole('spinbutton', { name: 'Weight of alpha/gpt-4o-mini' }).fill('0');
  await alias.getByRole('spinbutton', { name: 'Weight of beta/gpt-4o-mini' }).fill('0');
  await alias.getByRole('alert').filter({ hasText: 'at least one target with a weight above 0' }).waitFor();
  assert.equal(await alias.getByRole('button', { name: 'Save', exact: true }).isDisabled(), true);
  await alias.getByRole('button', { name: 'Undo' }).click();

  // Back to another strategy: the file says so.
  await alias.getByRole('combobox', { name: 'Strategy of split' }).selectOption('round_robin');
  await alias.getByRole('button', { name: 'Save', exact: true }).click();
  await until(page, '/admin/aliases/split', (a) => a.strategy === 'round_robin');
  const routing = (await api(page, '/admin/routing')).body;
  assert.equal(routing.routes.find((r) => r.kind === 'alias' && r.name === 'split').strategy, 'round_robin');

  // The [routing] defaults, through PATCH /admin/settings.
  const defaults = page.getByRole('form', { name: 'Routing defaults' });
  await defaults.getByLabel('Strategy of a model several providers serve').selectOption('least_busy');
  await defaults.getByRole('button', { name: 'Save' }).click();
  await until(page, '/admin/routing', (r) => r.default_strategy === 'least_busy');
  assertNoPageErrors(page);
  await page.context().close();
});

test('first run offers a ready smart pool, made with one click', async () => {
  const page = await openPage(ctx.browser, { width: 1280, height: 860 });
  await page.goto(`${ctx.gateway.ui}playground`);
  const offer = page.getByTestId('smart-pool-offer');
  await offer.waitFor();
  await shootVariants(ctx.browser, `${ctx.gateway.ui}playground`, 'playground-smart-offer', {
    sizes: SIZES,
    prepare: (p) => p.getByTestId('smart-pool-offer').waitFor(),
  });
  await offer.getByRole('button', { name: 'Create the smart pool' }).click();
  await offer.getByText(/Made smart over \d+ models? that call tools/).waitFor();
  const smart = (await api(page, '/admin/pools/smart')).body;
  assert.equal(smart.strategy, 'least_latency');
  assert.equal(smart.require.tools, true);
  assert.deepEqual(smart.require.output, ['text']);
  assert.ok(smart.members.includes('beta/small-model'), JSON.stringify(smart.members));
  await offer.getByRole('button', { name: 'Use it' }).click();
  await page.getByTestId('model-picker').filter({ hasText: 'smart' }).waitFor();
  // Once smart exists, nothing is offered.
  await page.reload();
  await page.getByRole('heading', { name: /^Ask / }).waitFor();
  assert.equal(await page.getByTestId('smart-pool-offer').count(), 0);
  assertNoPageErrors(page);
  await page.context().close();
});
