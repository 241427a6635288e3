// MCP in a real browser: add a real MCP server (@modelcontextprotocol/server-everything over
// stdio) in settings and see it run with its tools, switch a tool off, then let the fake model
// call its echo tool from the playground's agent mode — with the call shown as a card, approved
// or declined by the user — and read the loop back in peek. Assistants are made in settings and
// chosen like models. Its own gateway and fake, so the main suite's request counts stay its own.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { api, assertNoPageErrors, pickModel, send, settled, until } from '../lib/page.mjs';
import { openPage, REPO, screenshot, shootVariants, stackForFile } from '../lib/stack.mjs';

const EVERYTHING = path.join(REPO, 'tests/ui/node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const MODEL = 'alpha/gpt-4o-mini';
const SECRET = 'tok-ui-secret-8431';

const shared = {};

const ctx = stackForFile();

/** Cards of the last answer, as the user reads them. */
function lastCards(page) {
  return page.getByTestId('msg-assistant').last().getByTestId('tool-card');
}

async function agentOn(page) {
  await page.getByRole('button', { name: 'Agent', exact: true }).click();
  const panel = page.getByTestId('agent-panel');
  // The tools agent mode offers are listed once the server has started.
  await panel.getByText('everything__echo', { exact: true }).waitFor({ timeout: 20_000 });
  return panel;
}

test('an MCP server added in settings starts and lists its tools; a refusal marks its field; a tool can be switched off', async () => {
  const page = await openPage(ctx.browser);
  await page.goto(`${ctx.stack.gateway.ui}settings/mcp`);
  await page.getByRole('heading', { name: 'No MCP servers yet' }).waitFor();
  await page.getByRole('button', { name: 'Add an MCP server' }).click();
  const form = page.getByTestId('mcp-form');

  // An HTTP server whose URL the gateway refuses: the URL field says why.
  await form.getByLabel('Name', { exact: true }).fill('broken');
  await form.getByRole('button', { name: 'HTTP', exact: true }).click();
  await form.getByLabel('URL', { exact: true }).fill('ftp://example.com/mcp');
  await form.getByRole('button', { name: 'Add server' }).click();
  await form.getByText(/is not an http:\/\/ or https:\/\/ URL/).waitFor();
  assert.equal(await form.getByLabel('URL', { exact: true }).getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'settings-mcp-add-refused-light-1280x800');

  // The real one: node runs server-everything over stdio, with a secret in its environment.
  await form.getByLabel('Name', { exact: true }).fill('everything');
  await form.getByRole('button', { name: 'Command (stdio)' }).click();
  await form.getByLabel('Command', { exact: true }).fill('node');
  await form.getByLabel('Arguments', { exact: true }).fill(`${EVERYTHING}\nstdio`);
  await form.getByRole('button', { name: 'Add variable' }).click();
  await form.getByLabel('Environment 1 name').fill('EVERYTHING_TOKEN');
  await form.getByLabel('Environment 1 secret').check();
  await form.getByLabel('Environment 1 value').fill(SECRET);
  assert.equal(await form.getByLabel('Environment 1 value').getAttribute('type'), 'password');
  await screenshot(page, 'settings-mcp-add-light-1280x800');
  await form.getByRole('button', { name: 'Add server' }).click();

  // Its tools open at once, which starts it: running, with the echo tool listed and described.
  const card = page.getByTestId('mcp-server-everything');
  await card.getByTestId('tool-echo').waitFor({ timeout: 20_000 });
  await card.getByTestId('mcp-state').and(page.locator('[data-state=running]')).waitFor();
  await card.getByTestId('tool-echo').getByText('Echoes back the input string').waitFor();
  assert.match(await card.getByTestId('mcp-state-text').innerText(), /running · \d+ tools/);

  // The secret went to the keychain: the config keeps a reference, and the page never shows it.
  const view = await api(page, '/admin/mcp/servers/everything');
  assert.equal(view.status, 200);
  assert.match(view.body.env.EVERYTHING_TOKEN, /^keychain:/);
  assert.ok(!JSON.stringify(view.body).includes(SECRET));
  assert.equal(await page.getByText(SECRET).count(), 0);
  await card.getByText('keychain', { exact: true }).waitFor();
  assert.equal(view.body.status.state, 'running');

  // Switch get-sum off: the row says so, and agent mode no longer offers it.
  const sum = card.getByTestId('tool-get-sum');
  await sum.getByRole('switch').uncheck();
  // Saved, and the list read back from the server shows it off.
  await until(page, '/admin/mcp/servers/everything', (s) => s.disabled_tools.includes('get-sum'));
  await page.waitForFunction(() => {
    const input = document.querySelector('[data-testid=tool-get-sum] input');
    return input && !input.disabled && !input.checked;
  });
  await sum.and(page.locator('.off')).waitFor();
  const tools = await api(page, '/admin/mcp/servers/everything/tools');
  assert.equal(tools.body.data.find((t) => t.tool === 'get-sum').enabled, false);
  const after = await api(page, '/admin/mcp/servers/everything');
  assert.deepEqual(after.body.disabled_tools, ['get-sum']);
  const offered = await api(page, '/admin/mcp/tools');
  const names = offered.body.data.map((t) => t.name);
  assert.ok(names.includes('everything__echo'), names.join(', '));
  assert.ok(!names.includes('everything__get-sum'), names.join(', '));
  await screenshot(page, 'settings-mcp-tools-light-1280x800');

  // Edit: a row without a name is refused before sending; a new plain variable is added, and
  // the stored secret stays as it was (its reference, never its value, is in the form).
  await card.getByRole('button', { name: 'Edit' }).click();
  const edit = card.getByTestId('mcp-form');
  assert.equal(await edit.getByLabel('Environment 1 value').inputValue(), '');
  assert.match(await edit.getByLabel('Environment 1 value').getAttribute('placeholder'), /type to replace/);
  await edit.getByRole('button', { name: 'Add variable' }).click();
  await edit.getByLabel('Environment 2 value').fill('eu');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await edit.getByText('A variable needs a name.').waitFor();
  await edit.getByLabel('Environment 2 name').fill('REGION');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await edit.waitFor({ state: 'detached' });
  const edited = (await api(page, '/admin/mcp/servers/everything')).body;
  assert.equal(edited.env.REGION, 'eu');
  assert.equal(edited.env.EVERYTHING_TOKEN, view.body.env.EVERYTHING_TOKEN);
  assert.deepEqual(edited.disabled_tools, ['get-sum']);
  await card.getByText('REGION').waitFor();

  // Restart: the same server comes back with a new process.
  await card.getByTestId('tool-echo').waitFor();
  const pid = (await api(page, '/admin/mcp/servers/everything')).body.status.pid;
  await card.getByRole('button', { name: 'Restart' }).click();
  await page.waitForFunction(
    async (old) => {
      const s = await fetch('/admin/mcp/servers/everything').then((r) => r.json());
      return s.status.state === 'running' && s.status.pid && s.status.pid !== old;
    },
    pid,
    { timeout: 20_000 },
  );
  assertNoPageErrors(page);
  await page.context().close();

  await shootVariants(ctx.browser, `${ctx.stack.gateway.ui}settings/mcp`, 'settings-mcp', {
    prepare: (p) => p.getByTestId('mcp-server-everything').getByTestId('mcp-state').waitFor(),
  });
});

test('agent mode: the model calls the echo tool, the card shows the call and its result, then the answer', async () => {
  const page = await openPage(ctx.browser);
  await page.goto(`${ctx.stack.gateway.ui}playground`);
  await pickModel(page, MODEL);
  const panel = await agentOn(page);
  // A switched-off tool is not offered.
  assert.equal(await panel.getByText('everything__get-sum', { exact: true }).count(), 0);

  await ctx.stack.alpha.script(
    { reply: { text: 'Let me ask the echo tool.', tool_calls: [{ name: 'everything__echo', arguments: { message: 'hi from the UI' } }] } },
    { reply: { chunk_delay_ms: 40 } },
  );
  await send(page, 'Echo something for me');
  const answer = page.getByTestId('msg-assistant').last();
  const card = lastCards(page).first();
  await card.getByTestId('tool-result').filter({ hasText: 'Echo: hi from the UI' }).waitFor();
  await answer.getByText('Tool said: Echo: hi from the UI').waitFor();
  await settled(page);

  // The card: the tool's name, its arguments pretty-printed, the status and how long it took.
  assert.equal(await card.getAttribute('data-status'), 'ok');
  assert.match(await card.locator('.tool-card-name').innerText(), /everything · echo/);
  assert.equal(await card.getByLabel('Arguments').innerText(), '{\n  "message": "hi from the UI"\n}');
  assert.match(await card.getByTestId('tool-ms').innerText(), /\d+(\.\d+)? (ms|s)/);
  // Where it happened: after the first round's text, before the answer that read its result.
  const order = await answer.evaluate((el) => {
    const text = el.querySelector('.msg-body').innerText;
    return [text.indexOf('Let me ask the echo tool.'), text.indexOf('Echo: hi from the UI'), text.indexOf('Tool said:')];
  });
  assert.ok(order[0] >= 0 && order[0] < order[1] && order[1] < order[2], `order ${order}`);

  // The gateway offered the enabled tools only, and fed the result back to the model.
  const upstream = (await ctx.stack.alpha.requests()).slice(-2);
  const offered = upstream[0].body.tools.map((t) => t.function.name);
  assert.ok(offered.includes('everything__echo') && !offered.includes('everything__get-sum'), offered.join(', '));
  const fedBack = upstream[1].body.messages.at(-1);
  assert.equal(fedBack.role, 'tool');
  assert.equal(fedBack.content, 'Echo: hi from the UI');

  // The chat keeps its cards: saved with the message, and shown again after a reload.
  await page.waitForURL(/\/ui\/playground\/ses_/);
  const sessionId = decodeURIComponent(page.url().split('/').pop());
  const saved = await api(page, `/admin/sessions/${sessionId}`);
  assert.equal(saved.body.messages[1].tool_cards[0].status, 'ok');
  assert.equal(saved.body.params.agent.enabled, true);
  shared.agentSession = page.url();
  await page.reload();
  await lastCards(page).first().getByTestId('tool-result').filter({ hasText: 'Echo: hi from the UI' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Agent', exact: true }).getAttribute('aria-pressed'), 'true');

  // Peek tells the loop: the rounds, the call with its arguments, the result with status and time.
  await answer.getByTestId('message-meta').getByRole('link', { name: /^req_/ }).click();
  const steps = page.getByTestId('steps');
  await steps.waitFor();
  assert.equal(await page.getByRole('tab', { selected: true }).innerText(), 'Tool loop (2 rounds, 1 call)');
  await steps.getByText(`Tool loop · agent mode · ${MODEL}`, { exact: false }).waitFor();
  const call = steps.getByTestId('step-tool');
  assert.match(await call.innerText(), /Tool call · everything__echo/);
  assert.match(await call.innerText(), /"message": "hi from the UI"/);
  assert.match(await call.innerText(), /Result ok · \d/);
  assert.match(await call.innerText(), /Echo: hi from the UI/);
  assert.equal(await steps.getByTestId('step-model').count(), 2);
  await screenshot(page, 'peek-tool-loop-light-1280x800');
  assertNoPageErrors(page);
  await page.context().close();

  await shootVariants(ctx.browser, shared.agentSession, 'playground-agent', {
    prepare: (p) => p.getByTestId('tool-card').first().waitFor(),
  });
});

test('approval mode: one call approved, the next declined; stopping cancels a call that waits', async () => {
  const page = await openPage(ctx.browser);
  await page.goto(`${ctx.stack.gateway.ui}playground`);
  await pickModel(page, MODEL);
  const panel = await agentOn(page);
  await panel.getByLabel('Ask before each tool call').check();

  await ctx.stack.alpha.script(
    {
      reply: {
        text: 'Two calls.',
        tool_calls: [
          { name: 'everything__echo', arguments: { message: 'first' } },
          { name: 'everything__echo', arguments: { message: 'second' } },
        ],
      },
    },
    { reply: { text: 'One ran, one was declined.' } },
  );
  await send(page, 'Echo twice, with my permission');
  const cards = lastCards(page);
  const first = cards.nth(0);
  const second = cards.nth(1);

  // The first call waits for the user; nothing has run yet.
  await first.getByRole('button', { name: 'Approve' }).waitFor();
  assert.equal(await first.getAttribute('data-status'), 'awaiting_approval');
  assert.equal(await first.getByTestId('tool-result').count(), 0);
  await screenshot(page, 'playground-agent-approval-light-1280x800');
  await first.getByRole('button', { name: 'Approve' }).click();

  // Then the second: declined.
  await second.getByRole('button', { name: 'Decline' }).waitFor();
  await second.getByRole('button', { name: 'Decline' }).click();

  await first.getByTestId('tool-result').filter({ hasText: 'Echo: first' }).waitFor();
  await second.getByTestId('tool-result').filter({ hasText: 'The user declined this tool call.' }).waitFor();
  await page.getByTestId('msg-assistant').last().getByText('One ran, one was declined.').waitFor();
  await settled(page);
  assert.equal(await first.getAttribute('data-status'), 'ok');
  assert.match(await first.innerText(), /approved by you/);
  assert.equal(await second.getAttribute('data-status'), 'denied');
  assert.equal(await second.getByTestId('tool-status').innerText(), 'declined');
  assert.ok(await second.evaluate((el) => el.classList.contains('failed')), 'a declined call is styled as failed');
  // No buttons left once answered.
  assert.equal(await cards.getByRole('button', { name: /Approve|Decline/ }).count(), 0);

  // The model got the one result and the refusal.
  const [last] = (await ctx.stack.alpha.requests()).slice(-1);
  const results = last.body.messages.filter((m) => m.role === 'tool').map((m) => m.content);
  assert.deepEqual(results, ['Echo: first', 'The user declined this tool call.']);

  // Stop while a call waits: the call shows as cancelled, without its buttons.
  await ctx.stack.alpha.script({ reply: { text: '', tool_calls: [{ name: 'everything__echo', arguments: { message: 'never' } }] } });
  await send(page, 'One more, which I will stop');
  const waiting = lastCards(page).first();
  await waiting.getByRole('button', { name: 'Approve' }).waitFor();
  await page.getByRole('button', { name: 'Stop' }).click();
  await settled(page);
  assert.equal(await waiting.getAttribute('data-status'), 'cancelled');
  assert.equal(await waiting.getByRole('button', { name: 'Approve' }).count(), 0);
  await page.getByTestId('msg-assistant').last().getByText('stopped').waitFor();
  assertNoPageErrors(page);
  await page.context().close();
});

test('an assistant made in settings is a model of its own, marked in the picker, and runs its tools', async () => {
  const page = await openPage(ctx.browser);
  await page.goto(`${ctx.stack.gateway.ui}settings/assistants`);
  await page.getByRole('button', { name: 'New assistant' }).click();
  const form = page.getByTestId('assistant-form');
  await form.getByLabel('Name (the model id clients ask for)').fill('echoer');
  await form.getByLabel('Model', { exact: true }).selectOption(MODEL);
  await form.getByLabel('Description (optional)').fill('Repeats things through the echo tool');
  await form.getByLabel('System prompt').fill('Use the echo tool for everything.');
  await form.getByRole('checkbox', { name: 'everything' }).check();
  await form.getByLabel('Max iterations').fill('4');
  await form.getByRole('button', { name: 'Create assistant' }).click();
  const card = page.getByTestId('assistant-echoer');
  await card.getByText('all of everything').waitFor();
  const made = await api(page, '/admin/assistants/echoer');
  assert.deepEqual(
    { model: made.body.model, servers: made.body.servers, tools: made.body.tools, max_iterations: made.body.max_iterations, system: made.body.system },
    { model: MODEL, servers: ['everything'], tools: null, max_iterations: 4, system: 'Use the echo tool for everything.' },
  );
  await screenshot(page, 'settings-assistants-light-1280x800');

  // In the playground's picker, under Assistants, with its badge.
  await page.getByRole('link', { name: 'Playground' }).click();
  await page.getByTestId('model-picker').click();
  const group = page.getByRole('group', { name: 'Assistants' });
  await group.getByRole('option', { name: /echoer/ }).waitFor();
  assert.match(await group.getByRole('option', { name: /echoer/ }).innerText(), /assistant/);
  await page.keyboard.press('Escape');
  await pickModel(page, 'echoer');
  assert.match(await page.getByTestId('model-picker').innerText(), /assistant/);
  assert.equal(await page.getByRole('button', { name: 'Agent', exact: true }).getAttribute('aria-pressed'), 'true');
  await page.getByTestId('assistant-info').getByText(/the tools of everything/).waitFor();

  await ctx.stack.alpha.script(
    { reply: { text: '', tool_calls: [{ name: 'everything__echo', arguments: { message: 'from the assistant' } }] } },
    { reply: {} },
  );
  await send(page, 'Say something');
  await lastCards(page).first().getByTestId('tool-result').filter({ hasText: 'Echo: from the assistant' }).waitFor();
  await page.getByTestId('msg-assistant').last().getByText('Tool said: Echo: from the assistant').waitFor();
  await settled(page);
  // The assistant's system prompt went first; the request named the assistant, not an agent object.
  const upstream = (await ctx.stack.alpha.requests()).slice(-2);
  assert.equal(upstream[0].body.messages[0].role, 'system');
  assert.equal(upstream[0].body.messages[0].content, 'Use the echo tool for everything.');
  assertNoPageErrors(page);
  await page.context().close();

  await shootVariants(ctx.browser, `${ctx.stack.gateway.ui}settings/assistants`, 'settings-assistants', {
    prepare: (p) => p.getByTestId('assistant-echoer').waitFor(),
  });
});

test('a server that cannot start shows as failed, with what it said; agent mode names it', async () => {
  const page = await openPage(ctx.browser);
  await page.goto(`${ctx.stack.gateway.ui}settings/mcp`);
  await page.getByRole('button', { name: 'Add an MCP server' }).click();
  const form = page.getByTestId('mcp-form');
  await form.getByLabel('Name', { exact: true }).fill('crashy');
  await form.getByLabel('Command', { exact: true }).fill('node');
  await form.getByLabel('Arguments', { exact: true }).fill("-e\nconsole.error('no luck today'); process.exit(3)");
  await form.getByRole('button', { name: 'Add server' }).click();
  const card = page.getByTestId('mcp-server-crashy');
  // Listing its tools tried to start it: the list says it could not, the card says why.
  await card.getByRole('alert').filter({ hasText: /could not start/ }).first().waitFor({ timeout: 20_000 });
  await card.getByTestId('mcp-state').and(page.locator('[data-state=failed]')).waitFor();
  const why = await card.getByTestId('mcp-error').innerText();
  assert.match(why, /no luck today|exit/i, why);
  await screenshot(page, 'settings-mcp-failed-light-1280x800');

  // In the playground, agent mode lists the tools of the servers that run and names the one that does not.
  await page.goto(`${ctx.stack.gateway.ui}playground`);
  await pickModel(page, MODEL);
  const panel = await agentOn(page);
  await panel.getByRole('alert').filter({ hasText: /^crashy: / }).waitFor();
  await page.getByRole('button', { name: 'Agent', exact: true }).click();

  // Gone again, so that the rest of the suite sees one server.
  await page.goto(`${ctx.stack.gateway.ui}settings/mcp`);
  await card.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete crashy?' }).getByRole('button', { name: 'Delete' }).click();
  await card.waitFor({ state: 'detached' });
  assertNoPageErrors(page);
  await page.context().close();
});

test('the dashboard shows the MCP server and its state; disabling and deleting it go through settings', async () => {
  const page = await openPage(ctx.browser);
  await page.goto(`${ctx.stack.gateway.ui}dashboard`);
  const row = page.getByTestId('mcp-health-everything');
  await row.getByTestId('mcp-state').and(page.locator('[data-state=running]')).waitFor();
  assert.match(await row.innerText(), /running · \d+ tools/);

  // Switched off in settings, it says so there and on the dashboard.
  await page.goto(`${ctx.stack.gateway.ui}settings/mcp`);
  const card = page.getByTestId('mcp-server-everything');
  await card.getByRole('switch', { name: 'everything enabled' }).uncheck();
  await card.getByTestId('mcp-state').and(page.locator('[data-state=disabled]')).waitFor();
  assert.equal((await api(page, '/admin/mcp/servers/everything')).body.enabled, false);
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await row.getByTestId('mcp-state').and(page.locator('[data-state=disabled]')).waitFor();
  await page.getByTestId('mcp-health').scrollIntoViewIfNeeded();
  await screenshot(page, 'dashboard-mcp-light-1280x800');

  // Deleting it is refused while an assistant uses it, and the dialog says why.
  await page.goto(`${ctx.stack.gateway.ui}settings/mcp`);
  await card.getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete everything?' });
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await dialog.getByRole('alert').filter({ hasText: /assistants\[0\]\.servers\[0\]/ }).waitFor();
  await dialog.getByRole('button', { name: 'Keep it' }).click();

  // The assistant goes first, then the server.
  await page.goto(`${ctx.stack.gateway.ui}settings/assistants`);
  await page.getByTestId('assistant-echoer').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete echoer?' }).getByRole('button', { name: 'Delete' }).click();
  await page.getByTestId('assistant-echoer').waitFor({ state: 'detached' });
  await page.goto(`${ctx.stack.gateway.ui}settings/mcp`);
  await card.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete everything?' }).getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: 'No MCP servers yet' }).waitFor();
  assert.equal((await api(page, '/admin/mcp/servers')).body.data.length, 0);
  assert.equal((await api(page, '/admin/assistants')).body.data.length, 0);
  assertNoPageErrors(page);
  await page.context().close();
});
