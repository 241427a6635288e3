// Claude Code (`claude -p`) with ANTHROPIC_BASE_URL pointed at the gateway: a prompt through an
// Anthropic upstream (passed through) and an OpenAI upstream (translated), and a Bash tool round
// trip that Claude Code really runs.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { ANTHROPIC_MODEL, OPENAI_MODEL, conversation, reply, startStack, textOf } from '../lib/stack.mjs';

let stack;
before(async () => {
  stack = await startStack();
});
after(() => stack?.stop());
beforeEach(() => stack.resetFakes());

for (const [label, model, fake, kind] of [
  ['an Anthropic upstream (passed through)', ANTHROPIC_MODEL, 'an', 'anthropic'],
  ['an OpenAI upstream (translated)', OPENAI_MODEL, 'oa', 'openai'],
]) {
  test(`claude -p answers with the upstream's text through ${label}`, async () => {
    stack.captureAs(`claude-prompt-${kind}`);
    const text = `Switchyard relayed this from the ${kind} fake.`;
    await stack[fake].script(reply({ text, prompt_tokens: 40, completion_tokens: 9 }));
    const out = await stack.claude('Say something relayed.', { model, cwd: stack.workdir('claude') });
    assert.equal(out.code, 0, out.log());
    assert.equal(out.result?.is_error, false, out.log());
    assert.equal(out.result.result, text, out.log());

    const reqs = await conversation(stack[fake]);
    assert.ok(reqs.length >= 1, `no conversation request reached the ${kind} fake\n${out.log()}`);
    const body = reqs.at(-1).body;
    const user = body.messages.filter((m) => m.role === 'user').map((m) => textOf(m.content)).join('\n');
    assert.match(user, /Say something relayed\./);
    if (kind === 'anthropic') {
      assert.equal(reqs.at(-1).headers['x-api-key'], 'sk-an-upstream', 'the gateway sends its own provider key');
      assert.equal(body.model, 'claude-sonnet-4-5');
    } else {
      assert.equal(reqs.at(-1).headers.authorization, 'Bearer sk-oa-upstream');
      assert.equal(body.model, 'gpt-5-mini');
      // For a non-Claude model Claude Code sends its environment note as a `system` turn after
      // the user's message. The gateway once refused that (400), and Claude Code then retried
      // with the note folded into the user message: it must reach the upstream as it was sent.
      const roles = body.messages.map((m) => m.role);
      assert.deepEqual(roles, ['system', 'user', 'system'], out.log());
      assert.match(textOf(body.messages[2].content), /Primary working directory/);
      // Claude Code's first system block is a billing header only Anthropic reads; other
      // models would take it for an instruction.
      assert.doesNotMatch(textOf(body.messages[0].content), /x-anthropic-billing-header/);
      // Claude Code asks other models for adaptive thinking at effort "high".
      assert.equal(body.reasoning_effort, 'high', JSON.stringify(body).slice(0, 400));
    }
    if (kind === 'anthropic') {
      const system = (body.system ?? []).map((b) => b.text).join('\n');
      assert.match(system, /x-anthropic-billing-header/, 'passed through to Anthropic as sent');
    }
  });
}

for (const [label, model, fake, kind] of [
  ['an Anthropic upstream', ANTHROPIC_MODEL, 'an', 'anthropic'],
  ['an OpenAI upstream', OPENAI_MODEL, 'oa', 'openai'],
]) {
  test(`claude -p runs the Bash tool the model asks for and sends its output back (${label})`, async () => {
    stack.captureAs(`claude-tool-${kind}`);
    const cwd = stack.workdir('claude-tool');
    await stack[fake].script(
      reply({
        text: 'I will run it.',
        tool_calls: [
          {
            name: 'Bash',
            arguments: { command: 'echo "switchyard-$((6*7))" | tee proof.txt', description: 'Print and save a marker' },
          },
        ],
      }),
      reply({ text: 'The command printed switchyard-42.' }),
    );
    const out = await stack.claude('Run the marker command.', { model, cwd, args: ['--allowedTools', 'Bash'] });
    assert.equal(out.code, 0, out.log());
    assert.equal(out.result?.result, 'The command printed switchyard-42.', out.log());
    assert.equal(readFileSync(path.join(cwd, 'proof.txt'), 'utf8').trim(), 'switchyard-42', 'Claude Code ran the command');

    const reqs = await conversation(stack[fake]);
    assert.equal(reqs.length, 2, out.log());
    const offered = reqs[0].body.tools.map((t) => t.function?.name ?? t.name);
    assert.ok(offered.includes('Bash'), `Claude Code offers its Bash tool: ${offered}`);
    const msgs = reqs[1].body.messages;
    if (kind === 'anthropic') {
      const last = msgs.at(-1);
      assert.equal(last.role, 'user');
      const result = last.content.find((b) => b.type === 'tool_result');
      assert.ok(result, `second request carries a tool_result: ${JSON.stringify(last)}`);
      const use = msgs.at(-2).content.find((b) => b.type === 'tool_use');
      assert.equal(result.tool_use_id, use.id);
      assert.match(textOf(result.content), /switchyard-42/);
    } else {
      const call = msgs.find((m) => m.role === 'assistant' && m.tool_calls?.length).tool_calls[0];
      assert.equal(call.function.name, 'Bash');
      const result = msgs.find((m) => m.role === 'tool');
      assert.equal(result.tool_call_id, call.id);
      assert.match(textOf(result.content), /switchyard-42/);
    }
  });
}
