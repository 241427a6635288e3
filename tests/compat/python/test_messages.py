"""The Anthropic Messages door (`/v1/messages`) through the official Anthropic Python SDK, as
Claude Code and SDK users reach it: in front of an OpenAI-compatible upstream ("alpha", the
gateway translates) and an Anthropic one ("beta", the request passes through natively)."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from helpers import ALPHA, BETA, BETA_KEY, CLIENT_KEY, header, reply

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
TIME_TOOL = {
    "name": "get_time",
    "description": "Current time in a timezone",
    "input_schema": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
}
HI = [{"role": "user", "content": "hi"}]


def claude_client(gateway: Any, **kw: Any) -> anthropic.Anthropic:
    kw.setdefault("api_key", CLIENT_KEY)
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 30)
    # The SDK appends /v1/messages itself, as Claude Code does with ANTHROPIC_BASE_URL.
    return anthropic.Anthropic(base_url=gateway.root, **kw)


@pytest.fixture
def claude(stack: Any) -> Any:
    c = claude_client(stack.gateway)
    yield c
    c.close()


@pytest.fixture
def fresh_claude(fresh_gateway: Any) -> Any:
    """A client of a gateway of its own, for tests that fail upstreams (circuit breakers)."""
    c = claude_client(fresh_gateway())
    yield c
    c.close()


def test_create_through_an_openai_upstream(claude, alpha):
    alpha.script(reply(text="Hello from alpha", prompt_tokens=12, completion_tokens=3))
    msg = claude.messages.create(
        model=ALPHA,
        max_tokens=100,
        system=[{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
        messages=HI,
        metadata={"user_id": "user-7"},
    )
    assert isinstance(msg, anthropic.types.Message)
    assert msg.role == "assistant" and msg.type == "message"
    assert msg.id.startswith("msg_")
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == "Hello from alpha"
    assert msg.stop_reason == "end_turn"
    assert (msg.usage.input_tokens, msg.usage.output_tokens) == (12, 3)
    [req] = alpha.model_requests()
    assert req["path"].endswith("/chat/completions")
    body = req["body"]
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert body["user"] == "user-7"
    assert body["max_tokens"] == 100


def test_create_through_an_anthropic_upstream_is_native(claude, beta):
    beta.script(reply(text="Bonjour", reasoning="They speak French.", signature="sig-native"))
    # `beta.messages` is what Claude Code uses: `?beta=true` and an `anthropic-beta` header.
    msg = claude.beta.messages.create(
        model=BETA,
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=HI,
        betas=["interleaved-thinking-2025-05-14"],
    )
    assert [b.type for b in msg.content] == ["thinking", "text"]
    assert msg.content[0].thinking == "They speak French."
    assert msg.content[0].signature == "sig-native"
    assert msg.content[1].text == "Bonjour"
    [req] = beta.model_requests()
    assert req["path"].split("?")[0] == "/v1/messages"
    assert header(req, "x-api-key") == BETA_KEY
    assert header(req, "anthropic-beta") == "interleaved-thinking-2025-05-14"
    assert header(req, "anthropic-version") == claude.default_headers["anthropic-version"], "forwarded unchanged"
    assert req["body"]["model"] == "claude-sonnet-4-5"
    assert req["body"]["thinking"] == {"type": "enabled", "budget_tokens": 1024}


def test_stream_thinking_and_text_from_an_openai_upstream(claude, alpha):
    alpha.script(reply(text="The answer is 42.", reasoning="Six times seven.", prompt_tokens=9, completion_tokens=7))
    with claude.messages.stream(
        model=ALPHA,
        max_tokens=200,
        thinking={"type": "enabled", "budget_tokens": 2048},
        messages=[{"role": "user", "content": "6*7?"}],
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[0] == "message_start"
    assert "thinking" in kinds and "text" in kinds
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "Six times seven."
    assert final.content[1].text == "The answer is 42."
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (9, 7)


def test_stream_text_from_an_anthropic_upstream(claude, beta):
    text = "Streaming natively from beta"
    beta.script(reply(text=text, prompt_tokens=14, completion_tokens=5))
    with claude.messages.stream(model=BETA, max_tokens=100, messages=HI) as stream:
        got = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert got == text
    assert final.usage.input_tokens == 14
    assert final.usage.output_tokens == 5
    assert beta.model_requests()[0]["body"]["stream"] is True


@pytest.mark.parametrize("model", [ALPHA, BETA])
def test_streamed_tool_use_round_trip_with_two_results(claude, alpha, beta, model):
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
    with claude.messages.stream(
        model=model, max_tokens=300, tools=[WEATHER_TOOL, TIME_TOOL], messages=[question]
    ) as stream:
        first = stream.get_final_message()
    assert first.stop_reason == "tool_use"
    calls = [b for b in first.content if b.type == "tool_use"]
    assert [(c.name, c.input) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"timezone": "Europe/Paris"}),
    ]
    second = claude.messages.create(
        model=model,
        max_tokens=300,
        tools=[WEATHER_TOOL, TIME_TOOL],
        messages=[
            question,
            {"role": "assistant", "content": first.content},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": calls[0].id, "content": "sunny"},
                    {"type": "tool_result", "tool_use_id": calls[1].id, "content": [{"type": "text", "text": "12:00"}]},
                ],
            },
        ],
    )
    assert second.content[-1].text == "Sunny, and it is noon."
    sent = upstream.model_requests()[1]["body"]["messages"]
    if model == ALPHA:
        assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
        assert [(m["tool_call_id"], m["content"]) for m in sent[2:]] == [(calls[0].id, "sunny"), (calls[1].id, "12:00")]
    else:
        assert [b["type"] for b in sent[2]["content"]] == ["tool_result", "tool_result"]


def test_images_reach_an_openai_upstream(claude, alpha):
    msg = claude.messages.create(
        model=ALPHA,
        max_tokens=50,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                    {"type": "text", "text": "what is this?"},
                ],
            }
        ],
    )
    assert msg.content[0].text == "You said: what is this?"
    content = alpha.model_requests()[0]["body"]["messages"][0]["content"]
    assert content[0] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}


def test_stop_sequences_are_reported(claude, alpha):
    alpha.script(reply(text="alpha beta STOP gamma"))
    msg = claude.messages.create(model=ALPHA, max_tokens=50, stop_sequences=["STOP"], messages=HI)
    assert msg.content[0].text == "alpha beta "
    assert (msg.stop_reason, msg.stop_sequence) == ("stop_sequence", "STOP")


def test_count_tokens_estimated_and_counted_upstream(claude, alpha, beta):
    estimated = claude.messages.count_tokens(model=ALPHA, messages=[{"role": "user", "content": "x" * 400}])
    assert estimated.input_tokens == 101  # 400 characters and a little per message, over 4
    assert alpha.model_requests() == []
    counted = claude.beta.messages.count_tokens(
        model=BETA, messages=HI, tools=[WEATHER_TOOL], betas=["pdfs-2024-09-25"]
    )
    [req] = beta.model_requests()
    assert req["path"].split("?")[0] == "/v1/messages/count_tokens"
    assert req["body"]["model"] == "claude-sonnet-4-5"
    # The SDK adds the token-counting beta to ours; both arrive.
    assert header(req, "anthropic-beta") == "pdfs-2024-09-25,token-counting-2024-11-01"
    assert counted.input_tokens > 0


def test_models_list_in_anthropic_shape(claude):
    models = list(claude.models.list())
    ids = [m.id for m in models]
    assert "claude-sonnet-4-5" in ids and "smart" in ids
    assert all(m.type == "model" and m.created_at for m in models)
    assert "alpha/text-embedding-3-small" not in ids and "text-embedding-3-small" not in ids
    one = claude.models.retrieve("claude-sonnet-4-5")
    assert one.display_name == "beta/claude-sonnet-4-5"


# ----------------------------------------------------------------------------- errors


def test_unknown_model_is_not_found(claude):
    with pytest.raises(anthropic.NotFoundError) as e:
        claude.messages.create(model="no-such-model", max_tokens=10, messages=HI)
    assert e.value.body["type"] == "error"
    assert e.value.body["error"]["type"] == "not_found_error"


@pytest.mark.parametrize(
    "messages,field",
    [([], "messages"), ([{"role": "robot", "content": "x"}], "messages[0].role")],
)
def test_bad_requests_are_bad_request_errors(claude, alpha, messages, field):
    with pytest.raises(anthropic.BadRequestError) as e:
        claude.messages.create(model=ALPHA, max_tokens=10, messages=messages)
    assert e.value.body["error"]["type"] == "invalid_request_error"
    assert field in e.value.body["error"]["message"]
    assert alpha.model_requests() == []


def test_missing_max_tokens_is_a_bad_request(claude):
    with pytest.raises(anthropic.BadRequestError) as e:
        claude.post("/v1/messages", body={"model": ALPHA, "messages": HI}, cast_to=object)
    assert "max_tokens" in e.value.body["error"]["message"]


def test_a_wrong_gateway_key_is_an_authentication_error(stack):
    with claude_client(stack.gateway, api_key="sk-sy-this-key-does-not-exist") as c:
        with pytest.raises(anthropic.AuthenticationError) as e:
            c.messages.create(model=ALPHA, max_tokens=10, messages=HI)
    assert e.value.body["error"]["type"] == "authentication_error"


def test_an_overloaded_anthropic_upstream_is_an_overloaded_error(fresh_claude, beta):
    overloaded = {"error": {"status": 529, "message": "Overloaded"}}
    beta.script(overloaded, overloaded)
    with pytest.raises(anthropic.OverloadedError) as e:
        fresh_claude.messages.create(model=BETA, max_tokens=10, messages=HI)
    assert e.value.body["error"]["type"] == "overloaded_error"


def test_every_target_failing_is_an_internal_server_error(fresh_claude, alpha, beta):
    alpha.script(*[{"error": {"status": 500, "message": "alpha broke"}}] * 2)
    beta.script(*[{"error": {"status": 500, "message": "beta broke"}}] * 2)
    with pytest.raises(anthropic.InternalServerError) as e:
        fresh_claude.messages.create(model="smart", max_tokens=10, messages=HI)
    assert e.value.body["error"]["type"] == "api_error"
    assert "alpha broke" in e.value.body["error"]["message"]
    assert "beta broke" in e.value.body["error"]["message"]


@pytest.mark.parametrize("model,fake_name,kind", [(ALPHA, "alpha", "api_error"), (BETA, "beta", "overloaded_error")])
def test_a_failure_mid_stream_raises(claude, stack, model, fake_name, kind):
    getattr(stack, fake_name).script({"error_event_after": {"reply": {"text": "one two three four five"}, "after": 4}})
    text = []
    with pytest.raises(anthropic.APIStatusError) as e:
        with claude.messages.stream(model=model, max_tokens=50, messages=HI) as stream:
            for piece in stream.text_stream:
                text.append(piece)
    assert text, "the stream had started"
    assert e.value.body["error"]["type"] == kind
