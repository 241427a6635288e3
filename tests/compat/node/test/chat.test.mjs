// Chat completions with the openai Node SDK, through OpenAI- and Anthropic-kind upstreams.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { ALPHA, BETA, CLIENT_KEY, TIME_CALL, TOOLS, WEATHER_CALL, collect, reply, startStack, user } from '../lib/stack.mjs';

let stack;
let client;
before(async () => {
  stack = await startStack();
  client = stack.client();
});
after(() => stack?.stop());
beforeEach(() => stack.resetFakes());

/** The invariants the Node stream helper and other clients rely on (clients.md §0, §3a). */
function checkChunks(chunks) {
  assert.ok(chunks.length > 0, 'no chunks');
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'chunk ids differ within one stream');
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.ok(Array.isArray(c.choices), `choices must be an array: ${JSON.stringify(c)}`);
  }
  const withChoice = chunks.filter((c) => c.choices.length);
  assert.equal(withChoice[0].choices[0].delta.role, 'assistant', 'first delta must carry role');
  for (const c of withChoice.slice(1)) assert.ok(!c.choices[0].delta.role, `role repeated: ${JSON.stringify(c)}`);
  for (const c of withChoice) {
    const d = c.choices[0].delta;
    const kinds = [d.content, d.reasoning_content, d.tool_calls?.length].filter(Boolean);
    assert.ok(kinds.length <= 1, `one kind of content per delta: ${JSON.stringify(c)}`);
  }
}

test('chat non-stream: content, usage, model', async () => {
  await stack.alpha.script(reply({ text: 'Hello from alpha', prompt_tokens: 11, completion_tokens: 7 }));
  const r = await client.chat.completions.create({ model: ALPHA, messages: user('hi') });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.model, /gpt-4o-mini/);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, 'Hello from alpha');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.deepEqual(
    [r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens],
    [11, 7, 18],
  );
});

test('chat non-stream through the Anthropic upstream, with reasoning_content', async () => {
  await stack.beta.script(reply({ text: 'Bonjour !', reasoning: 'Answer in French.', prompt_tokens: 20, completion_tokens: 6 }));
  const r = await client.chat.completions.create({ model: BETA, messages: user('Salut') });
  assert.match(r.model, /claude-sonnet-4-5/);
  assert.equal(r.choices[0].message.content, 'Bonjour !');
  assert.equal(r.choices[0].message.reasoning_content, 'Answer in French.');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.usage.total_tokens, 26);
});

for (const [label, model, fake] of [
  ['OpenAI upstream', ALPHA, 'alpha'],
  ['Anthropic upstream', BETA, 'beta'],
]) {
  test(`stream() + finalChatCompletion(), text (${label})`, async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    await stack[fake].script(reply({ text, reasoning: 'Quoting a pangram.', prompt_tokens: 12, completion_tokens: 9 }));
    const stream = client.chat.completions.stream({
      model,
      messages: user('tell me'),
      stream_options: { include_usage: true },
    });
    const chunks = [];
    let contentEvents = '';
    stream.on('content', (delta) => {
      contentEvents += delta;
    });
    for await (const chunk of stream) chunks.push(chunk);
    const final = await stream.finalChatCompletion();

    checkChunks(chunks);
    const got = collect(chunks);
    assert.equal(got.content, text);
    assert.equal(contentEvents, text);
    assert.deepEqual(got.finish, ['stop']);
    if (fake === 'beta') assert.equal(got.reasoning, 'Quoting a pangram.');
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, [], 'the usage chunk must have choices: []');
    assert.deepEqual(
      [last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens],
      [12, 9, 21],
    );
    assert.equal(final.choices[0].message.content, text);
    assert.equal(final.choices[0].message.role, 'assistant');
    assert.equal(final.choices[0].finish_reason, 'stop');
  });

  test(`stream() + finalChatCompletion(), parallel tool calls (${label})`, async () => {
    await stack[fake].script(reply({ tool_calls: [WEATHER_CALL, TIME_CALL] }));
    const stream = client.chat.completions.stream({
      model,
      messages: user("What's the weather and time in Paris?"),
      tools: TOOLS,
    });
    const chunks = [];
    const done = [];
    stream.on('tool_calls.function.arguments.done', (e) => done.push([e.name, e.arguments]));
    for await (const chunk of stream) chunks.push(chunk);
    const final = await stream.finalChatCompletion();

    checkChunks(chunks);
    const choice = final.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    const calls = choice.message.tool_calls;
    assert.deepEqual(
      calls.map((tc) => [tc.type, tc.function.name, JSON.parse(tc.function.arguments)]),
      [
        ['function', 'get_weather', { city: 'Paris' }],
        ['function', 'get_time', { timezone: 'Europe/Paris' }],
      ],
    );
    assert.ok(calls.every((tc) => tc.id), 'tool call ids must be present');
    assert.equal(new Set(calls.map((tc) => tc.id)).size, 2, 'tool call ids must be distinct');
    assert.deepEqual(
      done.map(([n, a]) => [n, JSON.parse(a)]),
      [
        ['get_weather', { city: 'Paris' }],
        ['get_time', { timezone: 'Europe/Paris' }],
      ],
    );
  });
}

test("the client's key never reaches an upstream", async () => {
  await client.chat.completions.create({ model: ALPHA, messages: user('x') });
  await client.chat.completions.create({ model: BETA, messages: user('x') });
  const [a, b] = [await stack.alpha.requests(), await stack.beta.requests()];
  assert.equal(a.length, 1);
  assert.equal(b.length, 1);
  for (const r of [...a, ...b]) {
    assert.ok(!JSON.stringify(r.headers).includes(CLIENT_KEY), `client key forwarded: ${JSON.stringify(r.headers)}`);
  }
  assert.equal(a[0].headers.authorization, 'Bearer sk-alpha-test');
  assert.equal(b[0].headers['x-api-key'], 'sk-beta-test');
});
