// The UI in a real browser, served by the gateway's own /ui/, in front of a fake upstream:
// stream a chat, find it in peek with its bodies and token flow, add a provider and chat with
// its model, and check the dashboard's figures against the requests made. Every page is
// saved as a screenshot (light and dark) under tests/ui/screenshots/.
//
// Run through `make ui-test` (it builds the binaries and the UI and provides a keychain).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { api, assertNoPageErrors, pickModel, send, settled, until } from '../lib/page.mjs';
import { GATEWAY_BIN, openPage, screenshot, shootVariants, stackForFile } from '../lib/stack.mjs';

/** What the tests sent to /v1, to hold the dashboard to. */
const made = { requests: 0, errors: 0, byModel: new Map() };
const shared = {};

const count = (model, { error = false } = {}) => {
  made.requests += 1;
  if (error) made.errors += 1;
  made.byModel.set(model, (made.byModel.get(model) ?? 0) + 1);
};

const ctx = stackForFile();

test('the first screen is up in under a second, and the theme toggles', async (t) => {
  const page = await openPage(ctx.browser);
  // Times in the page's own clock, from the start of the navigation: when the chat is on
  // screen, and when the model list has filled the picker.
  await page.addInitScript(() => {
    new MutationObserver(() => {
      if (!window.__shellAt && document.querySelector('[data-testid=composer]')) window.__shellAt = performance.now();
      if (!window.__modelsAt && /\//.test(document.querySelector('[data-testid=model-picker]')?.textContent ?? '')) window.__modelsAt = performance.now();
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  await page.goto(`${ctx.stack.gateway.ui}playground`);
  await page.getByTestId('model-picker').filter({ hasText: '/' }).waitFor();
  const { shell, models, fcp } = await page.evaluate(() => ({
    shell: Math.round(window.__shellAt),
    models: Math.round(window.__modelsAt),
    fcp: Math.round(performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? 0),
  }));
  t.diagnostic(`first contentful paint ${fcp} ms, chat on screen ${shell} ms, models listed ${models} ms`);
  assert.ok(shell < 1000, `the first screen took ${shell} ms`);
  assert.ok(models < 1000, `the model list took ${models} ms`);

  // System → light → dark → system; the choice survives a reload.
  const theme = () => page.evaluate(() => document.documentElement.dataset.theme ?? 'system');
  const toggle = page.getByRole('button', { name: /^Theme: / });
  assert.equal(await theme(), 'system');
  await toggle.click();
  assert.equal(await theme(), 'light');
  await toggle.click();
  assert.equal(await theme(), 'dark');
  await page.reload();
  assert.equal(await theme(), 'dark');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(17, 20, 24)');
  await page.getByRole('button', { name: /^Theme: / }).click();
  assert.equal(await theme(), 'system');
  assertNoPageErrors(page);
  await page.context().close();
});

test('the playground streams an answer, with its facts, and saves the chat', async () => {
  const page = await openPage(ctx.browser);
  await page.goto(`${ctx.stack.gateway.ui}playground`);
  await pickModel(page, 'alpha/gpt-4o-mini');
  await page.getByRole('textbox', { name: 'System prompt', exact: true }).fill('Answer with words only.');
  const words = 'one two three four five six seven eight';
  await ctx.stack.alpha.script({ reply: { text: words, reasoning: 'They want the numbers spelled out.', chunk_delay_ms: 120 } });
  // Record the answer's text each time the page changes it, to see it grow.
  await page.evaluate(() => {
    window.__seen = [];
    new MutationObserver(() => {
      const el = [...document.querySelectorAll('[data-testid=msg-assistant] .md')].pop();
      if (el && el.innerText !== window.__seen.at(-1)) window.__seen.push(el.innerText);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await send(page, 'Count to eight');
  count('alpha/gpt-4o-mini');
  await page.getByRole('button', { name: 'Stop' }).waitFor();
  const answer = page.getByTestId('msg-assistant').last();
  await answer.getByText(words).waitFor();
  await settled(page);
  const seen = await page.evaluate(() => window.__seen);
  const growing = seen.filter((t, i) => i === 0 || t.length > seen[i - 1].length);
  assert.ok(growing.length >= 3, `the answer should arrive in pieces, saw ${JSON.stringify(seen)}`);
  assert.ok(words.startsWith(seen[0].trim()) && seen[0].trim().length < words.length, `first piece ${JSON.stringify(seen[0])}`);

  // Reasoning is there, collapsed.
  const reasoning = answer.locator('details.reasoning');
  assert.equal(await reasoning.getAttribute('open'), null);
  await reasoning.locator('summary').click();
  await answer.getByText('They want the numbers spelled out.').waitFor();

  // Tokens, timings, who answered, and the way to peek.
  const meta = await answer.getByTestId('message-meta').innerText();
  assert.match(meta, /alpha\/gpt-4o-mini/);
  assert.match(meta, /\d+ in · \d+ out/);
  assert.match(meta, /TTFT \d/);
  assert.match(meta, /total/);
  const link = answer.getByTestId('message-meta').getByRole('link', { name: /^req_/ });
  shared.firstRequest = (await link.innerText()).trim();

  // The chat became a session, listed under its first words.
  await page.waitForURL(/\/ui\/playground\/ses_/);
  await page.locator('.pg-session-list').getByText('Count to eight').waitFor();
  shared.sessionUrl = page.url();
  const sessionId = decodeURIComponent(page.url().split('/').pop());
  const saved = await api(page, `/admin/sessions/${sessionId}`);
  assert.equal(saved.status, 200);
  assert.equal(saved.body.system, 'Answer with words only.');
  assert.equal(saved.body.messages.length, 2);
  assert.equal(saved.body.messages[1].content, words);
  assert.equal(saved.body.messages[1].meta.request_id, shared.firstRequest);
  assertNoPageErrors(page);
  await page.context().close();
});

test('Esc stops an answer; regenerate and edit-and-resend replace it', async () => {
  const page = await openPage(ctx.browser);
  await page.goto(shared.sessionUrl);
  await page.getByTestId('msg-assistant').first().waitFor();
  await ctx.stack.alpha.script({ reply: { text: 'a b c d e f g h i j k l m n o p q r s t', chunk_delay_ms: 250 } });
  await send(page, 'Say the alphabet');
  count('alpha/gpt-4o-mini');
  const last = page.getByTestId('msg-assistant').last();
  await last.getByText(/^a b/).waitFor();
  await page.keyboard.press('Escape');
  await last.getByText('stopped').waitFor();
  await settled(page);
  const stoppedText = await last.locator('.md').innerText();
  assert.ok(stoppedText.length < 'a b c d e f g h i j k l m n o p q r s t'.length, `stopped early: ${stoppedText}`);

  // Regenerate the stopped answer: the fake now says its default.
  await last.getByRole('button', { name: 'Regenerate' }).click();
  count('alpha/gpt-4o-mini');
  await page.getByTestId('msg-assistant').last().getByText('You said: Say the alphabet').waitFor();
  await settled(page);
  assert.equal(await page.getByTestId('msg-assistant').count(), 2);

  // Edit the first question and send it again: what followed it goes.
  await page.getByTestId('msg-user').first().getByRole('button', { name: 'Edit' }).click();
  const editor = page.getByLabel('Edit message');
  await editor.fill('Count to three');
  await editor.press('Enter');
  count('alpha/gpt-4o-mini');
  await page.getByTestId('msg-assistant').last().getByText('You said: Count to three').waitFor();
  await settled(page);
  assert.equal(await page.getByTestId('msg-user').count(), 1);
  assert.equal(await page.getByTestId('msg-assistant').count(), 1);
  assertNoPageErrors(page);
  await page.context().close();
});

test('saved chats can be searched, renamed and deleted', async () => {
  const page = await openPage(ctx.browser);
  await page.goto(shared.sessionUrl);
  const list = page.locator('.pg-session-list');
  await list.getByText('Count to eight').waitFor();

  // Rename the open chat.
  await page.getByRole('button', { name: 'Rename Count to eight' }).click();
  const title = page.getByLabel('Chat title');
  await title.fill('Numbers');
  await title.press('Enter');
  await list.getByText('Numbers', { exact: true }).waitFor();
  const id = decodeURIComponent(shared.sessionUrl.split('/').pop());
  assert.equal((await api(page, `/admin/sessions/${id}`)).body.title, 'Numbers');

  // Search goes through the messages too.
  const search = page.getByRole('searchbox', { name: 'Search chats' });
  await search.fill('no chat says this');
  await list.getByText(/No chat mentions/).waitFor();
  await search.fill('Count to three');
  await list.getByText('Numbers', { exact: true }).waitFor();
  await search.fill('');

  // Delete another one, after a confirmation.
  const made = await api(page, '/admin/sessions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Throwaway', messages: [{ role: 'user', content: 'bye' }] }),
  });
  assert.equal(made.status, 201);
  await page.reload();
  await list.getByText('Throwaway').waitFor();
  await page.getByRole('button', { name: 'Delete Throwaway' }).click();
  await page.getByRole('dialog', { name: 'Delete this chat?' }).getByRole('button', { name: 'Delete' }).click();
  await list.getByText('Throwaway').waitFor({ state: 'detached' });
  assert.equal((await api(page, `/admin/sessions/${made.body.id}`)).status, 404);
  assertNoPageErrors(page);
  await page.context().close();

  // At 800×600 the chat list is an overlay behind a button; Esc closes it.
  const small = await openPage(ctx.browser, { width: 800, height: 600 });
  await small.goto(shared.sessionUrl);
  const listBox = small.getByRole('complementary', { name: 'Saved chats' });
  assert.equal(await listBox.isVisible(), false);
  await small.getByRole('button', { name: 'Chats' }).click();
  await listBox.getByText('Numbers', { exact: true }).waitFor();
  await screenshot(small, 'playground-chat-list-open-light-800x600');
  await small.keyboard.press('Escape');
  await listBox.waitFor({ state: 'hidden' });
  await small.getByRole('button', { name: 'Parameters' }).click();
  await small.getByRole('textbox', { name: 'System prompt', exact: true }).waitFor();
  await small.getByRole('button', { name: 'Close parameters' }).click();
  await small.getByRole('textbox', { name: 'System prompt', exact: true }).waitFor({ state: 'hidden' });
  assertNoPageErrors(small);
  await small.context().close();
});

test('an alias shows its failover trail, and a refused request shows the gateway\'s message', async () => {
  const page = await openPage(ctx.browser);
  await page.goto(`${ctx.stack.gateway.ui}playground`);
  await pickModel(page, 'resilient');
  await send(page, 'hello through the alias');
  count('resilient');
  const answer = page.getByTestId('msg-assistant').last();
  await answer.getByText('You said: hello through the alias').waitFor();
  const trail = await answer.getByTestId('failover-trail').innerText();
  assert.match(trail, /dead\/gpt-4o-mini-dead \(could not connect\) → alpha\/gpt-4o-mini/);
  await settled(page);

  // Markdown: a highlighted code block with its own copy button.
  await pickModel(page, 'alpha/gpt-4o-mini');
  await ctx.stack.alpha.script({ reply: { text: 'Run this:\n\n```python\nprint("hi")\n```\n\n- a **bold** point' } });
  await send(page, 'show me code');
  count('alpha/gpt-4o-mini');
  const code = page.getByTestId('msg-assistant').last().locator('.code');
  await code.locator('.hljs-built_in, .hljs-string').first().waitFor();
  assert.equal(await code.locator('.code-head span').first().innerText(), 'python');
  await page.getByTestId('msg-assistant').last().locator('strong', { hasText: 'bold' }).waitFor();
  await settled(page);
  await code.getByRole('button', { name: 'Copy' }).click();
  await code.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'print("hi")');

  await ctx.stack.alpha.script({ error: { status: 400, message: 'context length exceeded' } });
  await send(page, 'this one is refused');
  count('alpha/gpt-4o-mini', { error: true });
  await page.getByTestId('msg-assistant').last().getByRole('alert').filter({ hasText: 'context length exceeded' }).waitFor();
  await settled(page);

  // A vision model takes an image from the attach button.
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAYAAADED76LAAAAGklEQVR4nGP8z8Dwn4EIwMjAwMDEQAUwqhAAVTgCAqAe4bsAAAAASUVORK5CYII=',
    'base64',
  );
  await page.locator('input[type=file]').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: png });
  await page.getByRole('img', { name: 'Attachment 1' }).waitFor();
  await send(page, 'what is in this picture?');
  count('alpha/gpt-4o-mini');
  await page.getByTestId('msg-assistant').last().getByText('You said: what is in this picture?').waitFor();
  await page.getByTestId('msg-user').last().getByRole('img').waitFor();
  await settled(page);
  shared.imageSession = page.url();
  assertNoPageErrors(page);
  await page.context().close();

  await shootVariants(ctx.browser, shared.sessionUrl, 'playground', {
    sizes: [
      [1280, 800],
      [800, 600],
    ],
    prepare: (p) => p.getByTestId('msg-assistant').first().waitFor(),
  });
  await shootVariants(ctx.browser, shared.imageSession, 'playground-failover-error-image', {
    prepare: async (p) => {
      await p.getByTestId('msg-assistant').last().waitFor();
      await p.locator('.pg-messages').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    },
  });
  await shootVariants(ctx.browser, `${ctx.stack.gateway.ui}playground`, 'playground-new-chat-model-picker', {
    prepare: async (p) => {
      await p.getByTestId('model-picker').filter({ hasText: '/' }).waitFor();
      await p.getByTestId('model-picker').click();
      await p.getByRole('option').first().waitFor();
    },
  });
});

test('peek finds the chat request with its bodies, attempts and token flow', async () => {
  const id = shared.firstRequest;
  assert.ok(id, 'the first test recorded a request id');
  const page = await openPage(ctx.browser);
  await page.goto(`${ctx.stack.gateway.ui}peek`);
  await page.getByTestId('request-list').locator(`a[href*="${id}"]`).click();
  await page.waitForURL(new RegExp(`/ui/peek/${id}`));
  const detail = page.getByTestId('request-detail');
  await detail.getByRole('heading', { name: id }).waitFor();

  const timeline = detail.getByTestId('timeline');
  await timeline.getByText('Answer with words only.').waitFor();
  await timeline.getByText('Count to eight').waitFor();
  await timeline.getByText(/Attempt · alpha\/gpt-4o-mini · answered/).waitFor();
  await timeline.getByText(/Reasoning \(/).waitFor();
  assert.equal((await detail.getByTestId('answer-text').innerText()).trim(), 'one two three four five six seven eight');
  const tokens = await detail.getByTestId('detail-tokens').innerText();
  const [prompt, completion] = tokens.split('/').map((s) => Number.parseInt(s, 10));
  assert.ok(prompt > 0 && completion > 0, `tokens: ${tokens}`);

  await detail.getByRole('tab', { name: 'Request' }).click();
  const request = await detail.locator('pre').first().innerText();
  assert.match(request, /"stream": true/);
  assert.match(request, /"content": "Count to eight"/);
  assert.match(request, /"include_usage": true/);

  await detail.getByRole('tab', { name: 'Response' }).click();
  await detail.getByText(/Streamed to the client; the gateway stored the stream reassembled/).waitFor();
  assert.match(await detail.locator('pre').first().innerText(), /"content": "one two three four five six seven eight"/);

  await detail.getByRole('tab', { name: 'Token flow' }).click();
  const flow = detail.getByTestId('token-flow');
  await flow.locator('canvas').waitFor();
  const summary = await flow.innerText();
  assert.match(summary, new RegExp(`${prompt} input tokens \\(reported\\)`));
  assert.match(summary, new RegExp(`${completion} output tokens \\(reported\\)`));
  // System and user text share the input: the split is an estimate, and the page says so.
  assert.match(await flow.getByTestId('token-flow-notes').innerText(), /split of the \d+ input tokens by role and source is estimated/);

  // Filters: the alias request, then a status.
  await page.goto(`${ctx.stack.gateway.ui}peek?model=resilient`);
  await page.getByTestId('request-list').getByRole('link').first().waitFor();
  assert.equal(await page.getByTestId('request-list').getByRole('link').count(), 1);
  await page.goto(`${ctx.stack.gateway.ui}peek?status=400`);
  await page.getByTestId('request-list').getByRole('link').first().click();
  await page.getByTestId('timeline').getByText('context length exceeded').first().waitFor();

  // The image request: its image is listed on the media tab.
  const rows = await api(page, '/admin/requests?limit=20');
  const image = (
    await Promise.all(rows.body.requests.map((r) => api(page, `/admin/requests/${r.id}`)))
  ).find((d) => d.body.media?.length)?.body;
  assert.ok(image, 'a logged request carries the image');
  await page.goto(`${ctx.stack.gateway.ui}peek/${image.id}`);
  await page.getByRole('tab', { name: /Media \(1\)/ }).click();
  // The image itself, fetched from /admin/media and decoded by the browser.
  const shown = page.getByRole('img', { name: image.media[0] }).first();
  await shown.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await shown.elementHandle());
  await page.getByText(image.media[0]).first().waitFor();
  assertNoPageErrors(page);
  await page.context().close();

  await shootVariants(ctx.browser, `${ctx.stack.gateway.ui}peek/${id}`, 'peek', {
    sizes: [
      [1280, 800],
      [800, 600],
    ],
    prepare: (p) => p.getByTestId('timeline').waitFor(),
  });
  await shootVariants(ctx.browser, `${ctx.stack.gateway.ui}peek/${id}`, 'peek-token-flow', {
    prepare: async (p) => {
      await p.getByRole('tab', { name: 'Token flow' }).click();
      await p.getByTestId('token-flow').locator('canvas').waitFor();
      await p.waitForTimeout(300);
    },
  });
});

test('settings adds a provider from a preset, and its models reach the picker', async () => {
  const page = await openPage(ctx.browser);
  await page.goto(`${ctx.stack.gateway.ui}settings/providers`);
  await page.getByTestId('provider-alpha').waitFor();
  await page.getByRole('button', { name: 'Add a provider' }).click();
  await page.getByRole('button', { name: /^vLLM/ }).click();
  // A refusal names its field: that field is marked, with the gateway's message.
  await page.getByLabel('Name', { exact: true }).fill('alpha');
  await page.getByLabel('Base URL', { exact: true }).fill(ctx.stack.spare.baseURL);
  await page.getByRole('button', { name: 'Add provider' }).click();
  await page.getByText('A provider named "alpha" exists already.').waitFor();
  assert.equal(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Name', { exact: true }).fill('lab');
  await page.getByLabel('Base URL', { exact: true }).fill(ctx.stack.spare.baseURL);
  await page.getByRole('button', { name: 'Add provider' }).click();
  const card = page.getByTestId('provider-lab');
  await card.getByTestId('test-result').filter({ hasText: /connected · 1 models/ }).waitFor();

  // A key goes to the keychain and is never shown again.
  const secret = 'sk-lab-secret-123456';
  await card.getByRole('button', { name: 'Add key' }).click();
  await card.getByLabel('API key for lab').fill(secret);
  await card.getByRole('button', { name: 'Save' }).click();
  await card.getByText(/keychain:/).waitFor();
  assert.equal(await page.getByText(secret).count(), 0);
  const view = await api(page, '/admin/providers/lab');
  assert.equal(view.body.api_key.status, 'set');
  assert.match(view.body.api_key.ref, /^keychain:/);
  assert.ok(!JSON.stringify(view.body).includes(secret));
  await screenshot(page, 'settings-providers-after-add-light-1280x800');

  // The provider's discovered model shows up in the playground's picker and answers.
  await page.getByRole('link', { name: 'Playground' }).click();
  let found = false;
  for (let i = 0; i < 20 && !found; i++) {
    await page.getByTestId('model-picker').click();
    await page.getByRole('searchbox', { name: 'Search models' }).fill('lab/');
    found = (await page.getByRole('option', { name: /lab\/fake-model/ }).count()) > 0;
    if (!found) {
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
      await page.reload();
    }
  }
  assert.ok(found, 'lab/fake-model is in the picker');
  await page.getByRole('option', { name: /lab\/fake-model/ }).click();
  await send(page, 'hi lab');
  count('lab/fake-model');
  await page.getByTestId('msg-assistant').last().getByText('You said: hi lab').waitFor();
  await settled(page);
  assert.match(await page.getByTestId('msg-assistant').last().getByTestId('message-meta').innerText(), /lab\/fake-model/);

  // Models and their sources.
  await page.goto(`${ctx.stack.gateway.ui}settings/models`);
  await page.getByTestId('models-table').getByText('lab/fake-model').waitFor();

  // Aliases (in Settings → Routing; the old address leads there): move the second target to
  // the top from the keyboard, then save.
  await page.goto(`${ctx.stack.gateway.ui}settings/aliases`);
  await page.waitForURL(/\/settings\/routing$/);
  const alias = page.getByTestId('alias-resilient');
  await alias.getByTestId('alias-target').first().waitFor();
  const handle = alias.getByRole('button', { name: /^Move alpha\/gpt-4o-mini/ });
  await handle.focus();
  await page.keyboard.press('Space');
  await page.waitForTimeout(150);
  await page.keyboard.press('ArrowUp');
  await page.waitForTimeout(150);
  await page.keyboard.press('Space');
  await alias.getByRole('button', { name: 'Save', exact: true }).click();
  await until(page, '/admin/aliases/resilient', (r) => r.targets[0] === 'alpha/gpt-4o-mini');
  const targets = await alias.getByTestId('alias-target').allInnerTexts();
  assert.match(targets[0], /alpha\/gpt-4o-mini/);

  // Client keys: the key is shown once.
  await page.goto(`${ctx.stack.gateway.ui}settings/keys`);
  await page.getByLabel('Name (the app that will use it)').fill('ci-script');
  await page.getByRole('button', { name: 'Create key' }).click();
  const shown = (await page.getByTestId('new-key-value').innerText()).trim();
  assert.match(shown, /^sk-sy-/);
  await page.getByTestId('keys-table').getByText('ci-script').waitFor();
  await screenshot(page, 'settings-keys-new-key-light-1280x800');
  await page.getByRole('button', { name: 'I have stored it' }).click();
  assert.equal(await page.getByText(shown).count(), 0);

  // General: a log setting waits for a restart, and the page says so.
  await page.goto(`${ctx.stack.gateway.ui}settings/general`);
  await page.getByLabel('Keep requests for (days)').fill('14');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('restart-required').waitFor();
  const settings = await api(page, '/admin/settings');
  assert.equal(settings.body.log.retention_days, 14);
  assertNoPageErrors(page);
  await page.context().close();

  for (const tab of ['providers', 'models', 'routing', 'keys', 'general']) {
    await shootVariants(ctx.browser, `${ctx.stack.gateway.ui}settings/${tab}`, `settings-${tab}`, {
      prepare: (p) => p.getByRole('tab', { selected: true }).waitFor(),
    });
  }
  await shootVariants(ctx.browser, `${ctx.stack.gateway.ui}settings/providers?add=1`, 'settings-add-provider', {
    prepare: async (p) => {
      await p.getByRole('button', { name: /^OpenAI/ }).first().click();
    },
  });
});

test('the dashboard figures match the requests just made', async () => {
  const page = await openPage(ctx.browser);
  await page.goto(`${ctx.stack.gateway.ui}dashboard`);
  // Rows are written a few milliseconds after each response: wait for all of them.
  await until(page, '/admin/requests?limit=500', (r) => r.requests.length >= made.requests);
  const log = (await api(page, '/admin/requests?limit=500')).body.requests;
  assert.equal(log.length, made.requests, `the log holds exactly the /v1 requests the tests made: ${log.map((r) => `${r.method} ${r.endpoint} ${r.requested_model}`).join(', ')}`);
  const errors = log.filter((r) => r.outcome === 'error').length;
  assert.equal(errors, made.errors);
  const tokens = log.reduce((n, r) => n + (r.prompt_tokens ?? 0) + (r.completion_tokens ?? 0), 0);

  await page.reload();
  const kpi = (id) => page.getByTestId(id).innerText();
  await page.getByTestId('kpi-requests').filter({ hasText: String(made.requests) }).waitFor();
  assert.equal(await kpi('kpi-requests'), String(made.requests));
  assert.equal(await kpi('kpi-errors'), String(made.errors));
  const shownTokens = await kpi('kpi-tokens');
  assert.equal(shownTokens, tokens < 1000 ? String(tokens) : shownTokens, 'tokens');
  if (tokens >= 1000) assert.match(shownTokens, /^\d+(\.\d+)?k$/);

  const byModel = page.getByTestId('by-model');
  for (const [model, n] of made.byModel) {
    const row = byModel.locator('tr', { has: page.getByText(model, { exact: true }) });
    assert.equal((await row.locator('td').nth(1).innerText()).trim(), String(n), `requests for ${model}`);
  }
  await page.getByTestId('by-provider').getByText('alpha', { exact: true }).waitFor();
  await page.getByTestId('live-counters').waitFor();

  // Usage guides use this very origin and a model that exists.
  assert.equal(await page.getByTestId('base-url').innerText(), `${ctx.stack.gateway.root}/v1`);
  const curl = await page.locator('#usage pre').first().innerText();
  assert.match(curl, new RegExp(`curl ${ctx.stack.gateway.root.replace(/[.]/g, '\\.')}/v1/chat/completions`));
  assert.match(curl, /"model": "(alpha|lab|dead)\//);
  await page.getByTestId('setup-cursor').getByText("Cursor's servers cannot reach localhost.").waitFor();

  // Live: a request made elsewhere shows up without a reload.
  const reply = await api(page, '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'alpha/gpt-4o-mini', messages: [{ role: 'user', content: 'from outside' }] }),
  });
  assert.equal(reply.status, 200);
  count('alpha/gpt-4o-mini');
  await page.getByTestId('kpi-requests').filter({ hasText: new RegExp(`^${made.requests}$`) }).waitFor({ timeout: 15_000 });
  assertNoPageErrors(page);
  await page.context().close();

  await shootVariants(ctx.browser, `${ctx.stack.gateway.ui}dashboard`, 'dashboard', {
    sizes: [
      [1280, 800],
      [800, 600],
    ],
    prepare: async (p) => {
      await p.getByTestId('kpi-requests').filter({ hasText: String(made.requests) }).waitFor();
      await p.waitForTimeout(300);
    },
  });
  const full = await openPage(ctx.browser, { width: 1280, height: 800 });
  await full.goto(`${ctx.stack.gateway.ui}dashboard`);
  await full.getByTestId('kpi-requests').filter({ hasText: String(made.requests) }).waitFor();
  await full.waitForTimeout(300);
  await screenshot(full, 'dashboard-full-light-1280', { fullPage: true });
  await full.context().close();
});

test('with no provider, onboarding offers what discovery found and adds it', async () => {
  const empty = await ctx.stack.extraGateway('empty', 'listen = "127.0.0.1:0"\n', { OPENAI_API_KEY: 'sk-test-from-env' });
  const page = await openPage(ctx.browser);
  await page.goto(empty.ui);
  await page.getByRole('heading', { name: 'Welcome to Switchyard' }).waitFor();
  const option = page.getByRole('checkbox', { name: /OpenAI from OPENAI_API_KEY/ });
  await option.waitFor();
  assert.ok(await option.isChecked());
  await shootVariants(ctx.browser, empty.ui, 'onboarding', {
    prepare: (p) => p.getByRole('checkbox', { name: /OpenAI from OPENAI_API_KEY/ }).waitFor(),
  });
  // Only the key: a local runtime that happens to answer on this machine stays out of it.
  for (const box of await page.getByRole('checkbox').all()) {
    const label = await box.evaluate((el) => el.closest('label')?.innerText ?? '');
    if (!label.includes('OPENAI_API_KEY')) await box.uncheck();
  }
  await page.getByRole('button', { name: 'Add selected' }).click();
  await page.waitForURL(/\/ui\/playground/);
  const providers = await api(page, '/admin/providers');
  const openai = providers.body.data.find((p) => p.name === 'openai');
  assert.ok(openai, `openai was added: ${JSON.stringify(providers.body.data.map((p) => p.name))}`);
  assert.match(openai.api_key.ref, /^keychain:/);
  assertNoPageErrors(page);
  await page.context().close();
});

test('a gateway that requires keys gets one from the user, once', async () => {
  const dir = path.join(ctx.stack.dir, 'locked');
  const cfg = path.join(ctx.stack.dir, 'locked.toml');
  writeFileSync(cfg, `listen = "127.0.0.1:0"\n\n[access]\nrequire_key = true\n\n[[providers]]\nname = "alpha"\nkind = "openai"\nbase_url = "${ctx.stack.endpoints.openai[0]}"\nmodels = ["gpt-4o-mini"]\n`);
  const key = execFileSync(GATEWAY_BIN, ['keys', 'create', 'ui', '--role', 'admin', '--config', cfg], { encoding: 'utf8', env: { ...process.env, SWITCHYARD_HOME: dir } }).trim();
  assert.match(key, /^sk-sy-/);
  const { readFileSync } = await import('node:fs');
  const locked = await ctx.stack.extraGateway('locked', readFileSync(cfg, 'utf8'));
  const page = await openPage(ctx.browser);
  await page.goto(`${locked.ui}playground`);
  const dialog = page.getByRole('dialog', { name: 'This gateway needs a key' });
  await dialog.waitFor();
  await screenshot(page, 'key-prompt-light-1280x800');
  await dialog.getByLabel('Key').fill(key);
  await dialog.getByRole('button', { name: 'Use this key' }).click();
  await page.getByTestId('model-picker').filter({ hasText: 'alpha/gpt-4o-mini' }).waitFor();
  await send(page, 'hello with a key');
  await page.getByTestId('msg-assistant').last().getByText('You said: hello with a key').waitFor();
  // Kept for the next visit.
  await page.reload();
  await page.getByTestId('model-picker').filter({ hasText: 'alpha/gpt-4o-mini' }).waitFor();
  assert.equal(await page.getByRole('dialog').count(), 0);
  assertNoPageErrors(page);
  await page.context().close();
});
