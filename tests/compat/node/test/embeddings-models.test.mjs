// Embeddings (the Node SDK's default base64 decoding) and the model list.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { EMBED, startStack } from '../lib/stack.mjs';

let stack;
let client;
before(async () => {
  stack = await startStack();
  client = stack.client();
});
after(() => stack?.stop());
beforeEach(() => stack.resetFakes());

const INPUTS = ['hello world', 'switchyard routes requests'];

test('embeddings: the default (base64) request decodes to the same floats as encoding_format=float', async () => {
  const floats = await client.embeddings.create({ model: EMBED, input: INPUTS, encoding_format: 'float' });
  // No encoding_format: the SDK sends base64 and decodes little-endian float32 unconditionally.
  const dflt = await client.embeddings.create({ model: EMBED, input: INPUTS });
  assert.equal(floats.object, 'list');
  assert.deepEqual(dflt.data.map((d) => d.index), [0, 1]);
  for (const [i, f] of floats.data.entries()) {
    assert.equal(f.embedding.length, 8);
    assert.ok(f.embedding.every((x) => typeof x === 'number' && Number.isFinite(x)));
    assert.deepEqual(dflt.data[i].embedding, f.embedding.map(Math.fround), `vector ${i} differs`);
  }
  assert.notDeepEqual(floats.data[0].embedding, floats.data[1].embedding);
});

test('embeddings: a single string input, bare model id', async () => {
  const r = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'one input' });
  assert.equal(r.data.length, 1);
  assert.equal(r.data[0].embedding.length, 8);
  assert.ok(r.data[0].embedding.every(Number.isFinite));
  assert.equal(typeof r.usage.prompt_tokens, 'number');
});

test('models.list contains provider ids and aliases', async () => {
  const ids = new Map();
  for await (const m of client.models.list()) ids.set(m.id, m);
  for (const want of ['alpha/gpt-4o-mini', 'alpha/text-embedding-3-small', 'beta/claude-sonnet-4-5', 'smart', 'resilient']) {
    assert.ok(ids.has(want), `${want} missing from ${[...ids.keys()]}`);
  }
  assert.equal(ids.get('alpha/gpt-4o-mini').provider, 'alpha');
  assert.equal(ids.get('beta/claude-sonnet-4-5').provider, 'beta');
  for (const m of ids.values()) {
    assert.equal(m.object, 'model');
    assert.equal(typeof m.id, 'string');
  }
});
