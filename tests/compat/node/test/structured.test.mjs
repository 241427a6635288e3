// Structured output through the Vercel AI SDK (`ai` + `@ai-sdk/openai` pointed at the gateway), the
// client whose generateObject got prose back when the target was a Claude model. Its chat model
// sends `response_format: {type: "json_schema"}` and its Responses model `text.format`; the
// gateway hands both to Claude 4.5 ("beta") as `output_config.format`. The fake answers an
// unscripted request for a schema with JSON made from it (strings "example", integers 1,
// numbers 1.5).

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { generateObject, streamObject } from 'ai';
import { z } from 'zod';
import { BETA, CLIENT_KEY, startStack } from '../lib/stack.mjs';

let stack;
let openai;
before(async () => {
  stack = await startStack();
  openai = createOpenAI({ baseURL: stack.gateway.baseURL, apiKey: CLIENT_KEY });
});
after(() => stack?.stop());
beforeEach(() => stack.resetFakes());

const person = z.object({ name: z.string(), age: z.number().int() });
const PROMPT = 'Who is in the picture?';

/** The one request beta got, checked for the person schema under output_config.format. */
async function checkClaudeGotTheSchema() {
  const reqs = await stack.beta.requests();
  assert.equal(reqs.length, 1, JSON.stringify(reqs));
  const body = reqs[0].body;
  const format = body.output_config?.format;
  assert.ok(format, `no output_config.format in what Claude got: ${JSON.stringify(body)}`);
  assert.equal(format.type, 'json_schema');
  assert.deepEqual(Object.keys(format.schema.properties).sort(), ['age', 'name']);
  assert.equal(format.schema.properties.name.type, 'string');
  assert.equal(format.schema.properties.age.type, 'integer');
  assert.equal(body.tools, undefined, 'Claude 4.5 takes the schema natively, not as a tool');
  return body;
}

test('generateObject through the chat model returns the object from Claude', async () => {
  const { object, finishReason } = await generateObject({
    model: openai.chat(BETA),
    schema: person,
    prompt: PROMPT,
    maxRetries: 0,
  });
  assert.deepEqual(object, { name: 'example', age: 1 });
  assert.equal(finishReason, 'stop');
  const sent = (await stack.beta.requests())[0];
  assert.equal(sent.path.split('?')[0], '/v1/messages');
  await checkClaudeGotTheSchema();
});

test('generateObject with z.number() gets the number the schema allows', async () => {
  // z.number() is JSON schema "number", which the fake fills with 1.5 (integers get 1).
  const { object } = await generateObject({
    model: openai.chat(BETA),
    schema: z.object({ name: z.string(), age: z.number() }),
    prompt: PROMPT,
    maxRetries: 0,
  });
  assert.deepEqual(object, { name: 'example', age: 1.5 });
  const [req] = await stack.beta.requests();
  assert.equal(req.body.output_config.format.schema.properties.age.type, 'number');
});

test('streamObject through the chat model streams the object from Claude', async () => {
  const result = streamObject({ model: openai.chat(BETA), schema: person, prompt: PROMPT, maxRetries: 0 });
  const partials = [];
  for await (const partial of result.partialObjectStream) partials.push(partial);
  assert.ok(partials.length > 0, 'no partial objects');
  assert.deepEqual(await result.object, { name: 'example', age: 1 });
  const body = await checkClaudeGotTheSchema();
  assert.equal(body.stream, true);
});

test('generateObject through the Responses model (text.format) returns the object from Claude', async () => {
  const { object } = await generateObject({ model: openai.responses(BETA), schema: person, prompt: PROMPT, maxRetries: 0 });
  assert.deepEqual(object, { name: 'example', age: 1 });
  await checkClaudeGotTheSchema();
});
