"""The Responses door (`/v1/responses`) through the official OpenAI Python SDK, as Codex CLI and
SDK users reach it: in front of chat upstreams (an OpenAI-compatible one, "alpha", and an
Anthropic one, "beta": the gateway translates), and in front of an upstream that serves the
Responses API itself ("native" on the gamma fake, `responses_api = true`: passed through)."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from helpers import ALPHA, ALPHA_KEY, BETA, reply

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "strict": False,
}
TIME = {
    "type": "function",
    "name": "get_time",
    "description": "Current time in a timezone",
    "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
    "strict": False,
}


def assert_counted_to_three(events: list[Any], final: Any) -> None:
    """The stream of `reply(text="one two three", reasoning="Counting.")` as the SDK reads it."""
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in types
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == final.output_text == "one two three"
    assert [o.type for o in final.output] == ["reasoning", "message"]
    assert final.output[0].summary[0].text == "Counting."
    assert final.usage is not None and final.usage.total_tokens > 0


@pytest.mark.parametrize("model", [ALPHA, BETA])
def test_create_returns_a_response_with_output_text_and_usage(client, alpha, beta, model):
    upstream = alpha if model == ALPHA else beta
    upstream.script(reply(text="Hello from upstream", prompt_tokens=12, completion_tokens=3))
    r = client.responses.create(model=model, instructions="Be brief.", input="hi", max_output_tokens=64)
    assert r.object == "response" and r.status == "completed"
    assert r.id.startswith("resp_")
    assert r.output_text == "Hello from upstream"
    assert (r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens) == (12, 3, 15)
    assert r.instructions == "Be brief."
    [req] = upstream.model_requests()
    body = req["body"]
    if model == ALPHA:
        assert req["path"].endswith("/chat/completions")
        assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    else:
        assert req["path"].endswith("/messages")
        assert body["system"] in ("Be brief.", [{"type": "text", "text": "Be brief."}])


def test_stream_emits_the_event_sequence_and_a_final_response(client, alpha):
    alpha.script(reply(text="one two three", reasoning="Counting.", chunks=3))
    with client.responses.stream(model=ALPHA, input="count to three") as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert_counted_to_three(events, final)


@pytest.mark.parametrize("model", [ALPHA, BETA])
def test_streamed_function_calls_round_trip_with_their_outputs(client, alpha, beta, model):
    upstream = alpha if model == ALPHA else beta
    upstream.script(
        reply(
            text="",
            tool_calls=[
                {"name": "get_weather", "arguments": {"city": "Paris"}},
                {"name": "get_time", "arguments": {"timezone": "Europe/Paris"}},
            ],
        ),
        reply(text="Sunny, and it is noon."),
    )
    question = {"role": "user", "content": "Weather and time in Paris?"}
    with client.responses.stream(model=model, input=[question], tools=[WEATHER, TIME]) as stream:
        done_items = [e.item for e in stream if e.type == "response.output_item.done"]
        first = stream.get_final_response()
    calls = [o for o in first.output if o.type == "function_call"]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"timezone": "Europe/Paris"}),
    ]
    # What Codex reads: the whole call in output_item.done.
    assert [(i.name, i.arguments, i.call_id) for i in done_items if i.type == "function_call"] == [
        (c.name, c.arguments, c.call_id) for c in calls
    ]
    second = client.responses.create(
        model=model,
        tools=[WEATHER, TIME],
        input=[
            question,
            *[c.model_dump(exclude_none=True) for c in calls],
            {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny"},
            {"type": "function_call_output", "call_id": calls[1].call_id, "output": "12:00"},
        ],
    )
    assert second.output_text == "Sunny, and it is noon."
    sent = upstream.model_requests()[1]["body"]["messages"]
    if model == ALPHA:
        assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
        assert [tc["id"] for tc in sent[1]["tool_calls"]] == [c.call_id for c in calls]
        assert [(m["tool_call_id"], m["content"]) for m in sent[2:]] == [
            (calls[0].call_id, "sunny"),
            (calls[1].call_id, "12:00"),
        ]
    else:
        assert [b["type"] for b in sent[2]["content"]] == ["tool_result", "tool_result"]


def test_previous_response_id_continues_and_responses_can_be_read_back(client, alpha):
    alpha.script(reply(text="Nice to meet you, Ada."), reply(text="You are Ada."))
    first = client.responses.create(model=ALPHA, input="My name is Ada.")
    second = client.responses.create(model=ALPHA, input="Who am I?", previous_response_id=first.id)
    assert second.output_text == "You are Ada."
    sent = alpha.model_requests()[1]["body"]["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("user", "My name is Ada."),
        ("assistant", "Nice to meet you, Ada."),
        ("user", "Who am I?"),
    ]
    got = client.responses.retrieve(second.id)
    assert got.id == second.id and got.output_text == "You are Ada."
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=ALPHA, input="again", previous_response_id=first.id)
    assert e.value.body["param"] == "previous_response_id"


def test_structured_output_reaches_the_upstream_as_a_response_format(client, alpha):
    alpha.script(reply(text='{"city": "Paris"}'))
    r = client.responses.create(
        model=ALPHA,
        input="Where is the Louvre?",
        text={"format": {"type": "json_schema", "name": "place", "strict": True, "schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}}},
    )
    assert json.loads(r.output_text) == {"city": "Paris"}
    body = alpha.model_requests()[0]["body"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "place"


def test_a_mid_stream_failure_ends_in_response_failed(client, alpha):
    alpha.script({"reset_after_events": {"reply": {"text": "one two three four five"}, "after": 3}})
    with client.responses.stream(model=ALPHA, input="hi") as stream:
        events = list(stream)
    types = [e.type for e in events]
    assert types[-2:] == ["error", "response.failed"]
    assert events[-1].response.status == "failed"
    assert events[-1].response.error is not None


def test_bad_input_is_a_400_naming_the_item(client, alpha):
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=ALPHA, input=[{"type": "function_call_output", "output": "x"}])
    assert e.value.body["param"] == "input[0].call_id"
    with pytest.raises(openai.NotFoundError) as e:
        client.responses.create(model="nope/none", input="hi")
    assert e.value.body["code"] == "model_not_found"
    assert alpha.model_requests() == []


def test_a_responses_body_on_chat_completions_gets_a_chat_answer(stack, alpha):
    alpha.script(reply(text="chat answer"))
    r = stack.gateway.http().post(
        "/v1/chat/completions",
        json={"model": ALPHA, "input": [{"role": "user", "content": [{"type": "input_text", "text": "hello"}]}]},
    )
    assert r.status_code == 200, r.text
    body: Any = r.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == "chat answer"
    assert alpha.model_requests()[0]["body"]["messages"] == [{"role": "user", "content": "hello"}]


# A provider that serves the Responses API itself, behind an alias, on a gateway of its own.
NATIVE_CONFIG = """
[[providers]]
name = "native"
kind = "openai"
base_url = "{gamma}"
api_key = "env:ALPHA_KEY"
models = ["gpt-5"]
responses_api = true

[[aliases]]
name = "codex"
targets = ["native/gpt-5"]
"""


@pytest.fixture
def native_client(fresh_gateway):
    c = fresh_gateway(extra_config=NATIVE_CONFIG).client()
    try:
        yield c
    finally:
        c.close()


def test_a_responses_upstream_answers_create_and_stream_as_it_sent_them(native_client, gamma):
    gamma.script(reply(text="Hello natively", prompt_tokens=7, completion_tokens=2))
    r = native_client.responses.create(model="codex", instructions="Be brief.", input="hi")
    assert r.object == "response" and r.status == "completed"
    assert r.output_text == "Hello natively"
    assert r.model == "gpt-5"
    assert (r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens) == (7, 2, 9)
    [req] = gamma.model_requests()
    assert req["path"].endswith("/responses")
    assert req["headers"]["authorization"] == f"Bearer {ALPHA_KEY}"
    assert req["body"]["model"] == "gpt-5"
    assert (req["body"]["instructions"], req["body"]["input"]) == ("Be brief.", "hi")

    gamma.script(reply(text="one two three", reasoning="Counting.", chunks=3))
    with native_client.responses.stream(model="codex", input="count to three") as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert_counted_to_three(events, final)
    assert gamma.model_requests()[1]["body"]["stream"] is True


def test_a_function_call_round_trips_through_a_responses_upstream(native_client, gamma):
    gamma.script(reply(text="", tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}]))
    question = {"role": "user", "content": "Weather in Paris?"}
    with native_client.responses.stream(model="codex", input=[question], tools=[WEATHER]) as stream:
        done_items = [e.item for e in stream if e.type == "response.output_item.done"]
        first = stream.get_final_response()
    [call] = [o for o in first.output if o.type == "function_call"]
    assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "Paris"})
    assert call.call_id.startswith("call_") and call.id.startswith("fc_")
    assert [(i.name, i.arguments, i.call_id) for i in done_items if i.type == "function_call"] == [
        (call.name, call.arguments, call.call_id)
    ]
    # The tools reach the upstream in Responses form, not translated to chat.
    assert gamma.model_requests()[0]["body"]["tools"] == [WEATHER]

    second = native_client.responses.create(
        model="codex",
        tools=[WEATHER],
        input=[
            question,
            call.model_dump(exclude_none=True),
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
    )
    # The fake model reads the tool output back.
    assert second.output_text == "Tool said: sunny"
    sent = gamma.model_requests()[1]["body"]["input"]
    assert [i.get("type", "message") for i in sent] == ["message", "function_call", "function_call_output"]
    assert sent[1]["call_id"] == sent[2]["call_id"] == call.call_id


def test_previous_response_id_is_expanded_for_a_responses_upstream(native_client, gamma):
    first = native_client.responses.create(model="codex", input="My name is Ada.")
    assert first.output_text == "You said: My name is Ada."
    second = native_client.responses.create(model="codex", input="Who am I?", previous_response_id=first.id)
    assert second.output_text == "You said: Who am I?"
    body = gamma.model_requests()[1]["body"]
    # The upstream never saw the gateway's kept id: it gets the conversation instead.
    assert "previous_response_id" not in body
    texts = [(i["role"], i["content"][0]["text"]) for i in body["input"]]
    assert texts == [
        ("user", "My name is Ada."),
        ("assistant", "You said: My name is Ada."),
        ("user", "Who am I?"),
    ]
    with native_client.responses.stream(model="codex", input="Again?", previous_response_id=second.id) as stream:
        final = stream.get_final_response()
    assert final.output_text == "You said: Again?"
    assert [i["content"][0]["text"] for i in gamma.model_requests()[2]["body"]["input"]][-2:] == [
        "You said: Who am I?",
        "Again?",
    ]
