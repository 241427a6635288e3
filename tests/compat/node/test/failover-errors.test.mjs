// Failover through aliases, and errors surfacing as the SDK's own classes.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import OpenAI from 'openai';
import { ALPHA, BETA, reply, startStack, user, withFreshGateway } from '../lib/stack.mjs';

let stack;
let client;
before(async () => {
  stack = await startStack();
  client = stack.client();
});
after(() => stack?.stop());
beforeEach(() => stack.resetFakes());

const LONG_TEXT = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');

test('alias "resilient": refused target skipped, x-switchyard-attempts names both', async () => {
  await withFreshGateway(stack, async (c) => {
    const { data, response } = await c.chat.completions
      .create({ model: 'resilient', messages: user('still there?') })
      .withResponse();
    assert.equal(data.choices[0].message.content, 'You said: still there?');
    const attempts = response.headers.get('x-switchyard-attempts') ?? '';
    assert.ok(attempts.includes('dead/gpt-4o-mini-dead') && attempts.includes('alpha/gpt-4o-mini'), attempts);
  });
});

test('alias "smart": a 503 on alpha is answered by beta (stream)', async () => {
  await stack.alpha.script({ error: { status: 503, message: 'upstream is down', retry_after: '1' } });
  await stack.beta.script(reply({ text: 'beta to the rescue' }));
  await withFreshGateway(stack, async (c) => {
    const stream = c.chat.completions.stream({ model: 'smart', messages: user('x') });
    const final = await stream.finalChatCompletion();
    assert.equal(final.choices[0].message.content, 'beta to the rescue');
  });
  assert.equal((await stack.alpha.requests()).length, 1);
  assert.equal((await stack.beta.requests()).length, 1);
});

test('alias "smart": a 400 on alpha is not failed over (BadRequestError)', async () => {
  await stack.alpha.script({ error: { status: 400, message: 'scripted bad request' } });
  await withFreshGateway(stack, async (c) => {
    await assert.rejects(c.chat.completions.create({ model: 'smart', messages: user('x') }), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 400);
      assert.match(err.message, /scripted bad request/);
      return true;
    });
  });
  assert.deepEqual(await stack.beta.requests(), [], 'beta must not be tried after a 4xx');
});

test('unknown model: NotFoundError with code model_not_found', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: user('x') }), (err) => {
    assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err}`);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
    return true;
  });
});

test('all targets failing: InternalServerError naming every attempt', async () => {
  // Default scripts: both stay down through every retry round of the gateway.
  await stack.alpha.default({ error: { status: 503, message: 'alpha is down' } });
  await stack.beta.default({ error: { status: 503, message: 'beta is down' } });
  await withFreshGateway(stack, async (c) => {
    await assert.rejects(c.chat.completions.create({ model: 'smart', messages: user('x') }), (err) => {
      assert.ok(err instanceof OpenAI.InternalServerError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 503);
      assert.match(err.message, /alpha\/gpt-4o-mini/);
      assert.match(err.message, /beta\/claude-sonnet-4-5/);
      return true;
    });
  });
});

for (const [label, model, fake] of [
  ['OpenAI upstream', ALPHA, 'alpha'],
  ['Anthropic upstream', BETA, 'beta'],
]) {
  test(`mid-stream upstream error: APIError from the SSE frame (${label})`, async () => {
    await stack[fake].script({ error_event_after: { reply: { text: LONG_TEXT }, after: 6 } });
    const stream = await client.chat.completions.create({ model, messages: user('x'), stream: true });
    let received = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) received += chunk.choices[0]?.delta?.content ?? '';
      })(),
      (err) => {
        assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err}`);
        assert.equal(err.status, undefined, 'after the first byte the error must arrive as an SSE frame');
        return true;
      },
    );
    assert.ok(received.length > 0, 'the error was meant to come after some content');
    assert.notEqual(received, LONG_TEXT);
  });

  test(`mid-stream error also rejects the stream() helper (${label})`, async () => {
    await stack[fake].script({ error_event_after: { reply: { text: LONG_TEXT }, after: 6 } });
    const stream = client.chat.completions.stream({ model, messages: user('x') });
    await assert.rejects(stream.finalChatCompletion(), (err) => {
      assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err}`);
      return true;
    });
  });
}
