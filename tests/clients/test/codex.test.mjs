// Codex CLI (`codex exec`) with a custom model provider pointed at the gateway's Responses door:
// prompts through an OpenAI chat upstream and an Anthropic upstream (both translated from the
// Responses API), and a shell tool turn that Codex really runs.

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

/** The agent's final message as `codex exec --json` reports it. */
const agentMessages = (events) =>
  events.filter((e) => e.type === 'item.completed' && e.item?.type === 'agent_message').map((e) => e.item.text);

for (const [label, model, fake, kind] of [
  ['an OpenAI chat upstream', OPENAI_MODEL, 'oa', 'openai'],
  ['an Anthropic upstream', ANTHROPIC_MODEL, 'an', 'anthropic'],
]) {
  test(`codex exec completes a prompt through ${label}`, async () => {
    stack.captureAs(`codex-prompt-${kind}`);
    const text = `Switchyard relayed this from the ${kind} fake.`;
    await stack[fake].script(reply({ text, prompt_tokens: 50, completion_tokens: 9 }));
    const out = await stack.codex('Say something relayed.', { model, cwd: stack.workdir('codex') });
    assert.equal(out.code, 0, out.log());
    assert.deepEqual(agentMessages(out.events), [text], out.log());
    const done = out.events.find((e) => e.type === 'turn.completed');
    assert.ok(done, `no turn.completed event\n${out.log()}`);
    assert.ok(!out.events.some((e) => e.type === 'turn.failed' || e.type === 'error'), out.log());

    const reqs = await conversation(stack[fake]);
    assert.equal(reqs.length, 1, out.log());
    const body = reqs[0].body;
    const user = body.messages.filter((m) => m.role === 'user').map((m) => textOf(m.content)).join('\n');
    assert.match(user, /Say something relayed\./);
    assert.equal(body.stream, true);
    if (kind === 'openai') {
      assert.equal(body.model, 'gpt-5-mini');
      assert.equal(reqs[0].headers.authorization, 'Bearer sk-oa-upstream');
    } else {
      assert.equal(body.model, 'claude-sonnet-4-5');
      assert.equal(reqs[0].headers['x-api-key'], 'sk-an-upstream');
    }
  });
}

for (const [label, model, fake, kind] of [
  ['an OpenAI chat upstream', OPENAI_MODEL, 'oa', 'openai'],
  ['an Anthropic upstream', ANTHROPIC_MODEL, 'an', 'anthropic'],
]) {
  test(`codex exec runs the exec_command call the model makes and sends its output back (${label})`, async () => {
    stack.captureAs(`codex-tool-${kind}`);
    const cwd = stack.workdir('codex-tool');
    await stack[fake].script(
      reply({
        text: 'Running the marker command.',
        tool_calls: [{ name: 'exec_command', arguments: { cmd: 'echo "switchyard-$((6*7))" | tee proof.txt' } }],
      }),
      reply({ text: 'The command printed switchyard-42.' }),
    );
    const out = await stack.codex('Run the marker command.', { model, cwd });
    assert.equal(out.code, 0, out.log());
    assert.equal(readFileSync(path.join(cwd, 'proof.txt'), 'utf8').trim(), 'switchyard-42', `Codex ran the command\n${out.log()}`);
    const ran = out.events.find((e) => e.type === 'item.completed' && e.item?.type === 'command_execution');
    assert.ok(ran, `no command_execution item\n${out.log()}`);
    assert.match(ran.item.command, /switchyard-\$\(\(6\*7\)\)/);
    assert.match(ran.item.aggregated_output, /switchyard-42/);
    assert.deepEqual(
      agentMessages(out.events),
      ['Running the marker command.', 'The command printed switchyard-42.'],
      out.log(),
    );

    const reqs = await conversation(stack[fake]);
    assert.equal(reqs.length, 2, out.log());
    const offered = reqs[0].body.tools.map((t) => t.function?.name ?? t.name);
    assert.ok(offered.includes('exec_command'), `exec_command offered: ${offered}`);
    // Codex groups its sub-agent tools in a namespace; chat models get each member as a function.
    assert.ok(offered.includes('multi_agent_v1__spawn_agent'), `namespace members offered: ${offered}`);
    const msgs = reqs[1].body.messages;
    if (kind === 'openai') {
      const call = msgs.find((m) => m.role === 'assistant' && m.tool_calls?.length).tool_calls[0];
      assert.equal(call.function.name, 'exec_command');
      const result = msgs.find((m) => m.role === 'tool');
      assert.equal(result.tool_call_id, call.id);
      assert.match(textOf(result.content), /switchyard-42/);
    } else {
      const use = msgs.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((b) => b.type === 'tool_use');
      assert.equal(use.name, 'exec_command');
      const result = msgs.at(-1).content.find((b) => b.type === 'tool_result');
      assert.equal(result.tool_use_id, use.id);
      assert.match(textOf(result.content), /switchyard-42/);
    }
  });
}
