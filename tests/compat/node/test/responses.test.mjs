// The Responses API with the openai Node SDK (what the AI SDK and JS agents call), translated for
// chat upstreams of both kinds: create, the stream helper with its final response, a function-call
// round trip, and previous_response_id.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { ALPHA, BETA, WEATHER_CALL, reply, startStack } from '../lib/stack.mjs';

let stack;
let client;
before(async () => {
  stack = await startStack();
  client = stack.client();
});
after(() => stack?.stop());
beforeEach(() => stack.resetFakes());

const WEATHER = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

for (const [label, model, fake] of [
  ['an OpenAI upstream', ALPHA, 'alpha'],
  ['an Anthropic upstream', BETA, 'beta'],
]) {
  test(`responses.create answers with output_text and usage through ${label}`, async () => {
    await stack[fake].script(reply({ text: 'Hello from the upstream', prompt_tokens: 12, completion_tokens: 4 }));
    const r = await client.responses.create({ model, instructions: 'Be brief.', input: 'hi' });
    assert.equal(r.object, 'response');
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, 'Hello from the upstream');
    assert.deepEqual([r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens], [12, 4, 16]);
  });

  test(`responses.stream delivers deltas and a final response through ${label}`, async () => {
    await stack[fake].script(reply({ text: 'one two three' }));
    const stream = client.responses.stream({ model, input: 'count' });
    const deltas = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    assert.equal(deltas.join(''), 'one two three');
    assert.equal(final.output_text, 'one two three');
    assert.equal(final.status, 'completed');
  });
}

test('a function call comes back as an item, and its output continues the conversation', async () => {
  await stack.alpha.script(reply({ tool_calls: [WEATHER_CALL] }), reply({ text: 'Sunny in Paris.' }));
  const first = await client.responses.create({ model: ALPHA, input: 'Weather in Paris?', tools: [WEATHER] });
  const call = first.output.find((i) => i.type === 'function_call');
  assert.ok(call, JSON.stringify(first.output));
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });

  const second = await client.responses.create({
    model: ALPHA,
    previous_response_id: first.id,
    input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"sky":"clear"}' }],
    tools: [WEATHER],
  });
  assert.equal(second.output_text, 'Sunny in Paris.');
  // The upstream got the whole conversation: the question, the call and its output, paired.
  const sent = (await stack.alpha.requests()).at(-1).body;
  const roles = sent.messages.map((m) => m.role);
  assert.deepEqual(roles, ['user', 'assistant', 'tool']);
  assert.equal(sent.messages[1].tool_calls[0].id, call.call_id);
  assert.equal(sent.messages[2].tool_call_id, call.call_id);
});
