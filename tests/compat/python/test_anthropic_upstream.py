"""Chat completions served by an Anthropic-kind upstream ("beta"): the gateway
translates Messages <-> Chat Completions, and the OpenAI SDK must not notice."""

from __future__ import annotations

import json

from helpers import (
    BETA,
    anthropic_raw_stream,
    PLAIN_TOOLS,
    STRICT_TOOLS,
    TIME_CALL,
    WEATHER_CALL,
    GetTime,
    GetWeather,
    check_chunk_invariants,
    collect,
    extra,
    header,
    reply,
    tool_calls_as_json,
    user,
)

THOUGHT = "The user greets me in French, so I answer in French."


def test_non_stream_text_and_reasoning(client, beta):
    beta.script(reply(text="Bonjour !", reasoning=THOUGHT, prompt_tokens=20, completion_tokens=6))
    r = client.chat.completions.create(model=BETA, messages=user("Salut"))

    assert r.object == "chat.completion"
    assert "claude-sonnet-4-5" in r.model
    msg = r.choices[0].message
    assert msg.role == "assistant"
    assert msg.content == "Bonjour !"
    assert extra(msg, "reasoning_content") == THOUGHT
    assert r.choices[0].finish_reason == "stop"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (20, 6, 26)


def test_request_is_translated_to_messages_api(client, beta):
    r = client.chat.completions.create(
        model=BETA,
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "ping"}],
    )
    assert r.choices[0].message.content == "You said: ping"
    [req] = beta.model_requests()
    assert req["path"].split("?")[0].endswith("/v1/messages")
    assert header(req, "x-api-key") == "sk-beta-test"
    assert header(req, "anthropic-version"), "Anthropic requires an anthropic-version header"
    body = req["body"]
    assert body["model"] == "claude-sonnet-4-5"
    assert isinstance(body.get("max_tokens"), int) and body["max_tokens"] > 0, "Anthropic requires max_tokens"
    system = body.get("system")
    system_text = system if isinstance(system, str) else "".join(b.get("text", "") for b in system or [])
    assert system_text == "be brief", f"system message must become the top-level system field, got {system!r}"
    assert [m["role"] for m in body["messages"]] == ["user"]


def test_stream_text_and_reasoning(client, beta):
    text = "Bonjour, comment puis-je vous aider ?"
    beta.script(reply(text=text, reasoning=THOUGHT, prompt_tokens=20, completion_tokens=9))
    stream = client.chat.completions.create(
        model=BETA, messages=user("Salut"), stream=True, stream_options={"include_usage": True}
    )
    got = collect(stream)
    chunks = got["chunks"]

    assert got["reasoning"] == THOUGHT
    assert got["content"] == text
    assert got["finish"] == ["stop"]
    check_chunk_invariants(chunks)
    kinds = [
        "r" if extra(c.choices[0].delta, "reasoning_content") else "c"
        for c in chunks
        if c.choices and (c.choices[0].delta.content or extra(c.choices[0].delta, "reasoning_content"))
    ]
    assert "".join(kinds).startswith("r") and "rc" in "".join(kinds) and "cr" not in "".join(kinds), (
        f"reasoning deltas must all come before content deltas: {''.join(kinds)}"
    )
    last = chunks[-1]
    assert last.choices == []
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (20, 9, 29)


def test_stream_helper_parallel_tool_calls(client, beta):
    beta.script(reply(reasoning="Two lookups needed.", tool_calls=[WEATHER_CALL, TIME_CALL]))
    with client.chat.completions.stream(
        model=BETA, messages=user("What's the weather and time in Paris?"), tools=STRICT_TOOLS
    ) as stream:
        events = list(stream)
        final = stream.get_final_completion()

    chunks = [e.chunk for e in events if e.type == "chunk"]
    check_chunk_invariants(chunks)
    assert collect(chunks)["reasoning"] == "Two lookups needed."
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert [tc.function.name for tc in calls] == ["get_weather", "get_time"]
    assert [tc.function.parsed_arguments for tc in calls] == [
        GetWeather(city="Paris"),
        GetTime(timezone="Europe/Paris"),
    ]
    ids = [tc.id for tc in calls]
    assert all(ids) and len(set(ids)) == 2, f"tool call ids must be present and distinct: {ids}"
    assert all(tc.type == "function" for tc in calls)

    [req] = beta.model_requests()
    tools = req["body"]["tools"]
    assert [t["name"] for t in tools] == ["get_weather", "get_time"]
    assert all(t["input_schema"]["type"] == "object" for t in tools)


def test_non_stream_tool_call(client, beta):
    beta.script(reply(tool_calls=[WEATHER_CALL]))
    r = client.chat.completions.create(model=BETA, messages=user("weather?"), tools=PLAIN_TOOLS)
    assert r.choices[0].finish_reason == "tool_calls"
    assert tool_calls_as_json(r.choices[0].message) == [("get_weather", {"city": "Paris"})]
    assert r.choices[0].message.tool_calls[0].id


def test_tool_result_turn_is_translated(client, beta):
    """An agent loop's second turn: assistant tool_calls + a tool message must reach
    Anthropic as tool_use / tool_result blocks with matching ids."""
    beta.script(reply(text="It is 18C and sunny in Paris."))
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc123",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc123", "content": "18C and sunny"},
    ]
    r = client.chat.completions.create(model=BETA, messages=messages, tools=PLAIN_TOOLS)
    assert r.choices[0].message.content == "It is 18C and sunny in Paris."

    [req] = beta.model_requests()
    msgs = req["body"]["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"], msgs
    tool_use = [b for b in msgs[1]["content"] if b.get("type") == "tool_use"]
    assert tool_use == [{**tool_use[0], "id": "call_abc123", "name": "get_weather", "input": {"city": "Paris"}}]
    results = [b for b in msgs[2]["content"] if b.get("type") == "tool_result"]
    assert len(results) == 1 and results[0]["tool_use_id"] == "call_abc123"
    content = results[0]["content"]
    text = content if isinstance(content, str) else "".join(b.get("text", "") for b in content)
    assert text == "18C and sunny"


def test_request_options_are_translated(client, beta):
    """Options users set must survive the trip to the Messages API."""
    png = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    client.chat.completions.create(
        model=BETA,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this image?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
                ],
            }
        ],
        max_completion_tokens=123,
        stop=["END"],
        temperature=0.3,
        tools=PLAIN_TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    client.chat.completions.create(
        model=BETA, messages=user("x"), max_tokens=77, tools=PLAIN_TOOLS, tool_choice="required"
    )
    first, second = (r["body"] for r in beta.model_requests())
    assert first["max_tokens"] == 123
    assert first["stop_sequences"] == ["END"]
    assert first["temperature"] == 0.3
    assert first["tool_choice"] == {**first["tool_choice"], "type": "tool", "name": "get_weather"}
    image = [b for b in first["messages"][0]["content"] if b.get("type") == "image"]
    assert image and image[0]["source"] == {"type": "base64", "media_type": "image/png", "data": png}
    assert second["max_tokens"] == 77
    assert second["tool_choice"]["type"] == "any"


def test_max_tokens_stop_is_finish_reason_length(client, beta):
    beta.script(
        reply(text="cut off", finish_reason="max_tokens"),
        reply(text="cut off too", finish_reason="max_tokens"),
    )
    r = client.chat.completions.create(model=BETA, messages=user("x"))
    assert r.choices[0].finish_reason == "length"
    got = collect(client.chat.completions.create(model=BETA, messages=user("x"), stream=True))
    assert got["finish"] == ["length"]


def test_stream_helper_with_two_thinking_blocks(client, beta):
    """Claude's interleaved thinking gives several thinking blocks in one answer.
    openai-python's `.stream()` accumulator merges list deltas by `index`, so any
    non-standard list field in a delta must carry one (or not be a list)."""
    beta.script(
        anthropic_raw_stream(
            [
                {"thinking": "First thought.", "signature": "sig1"},
                {"thinking": " Second thought.", "signature": "sig2"},
                {"text": "Done."},
            ]
        )
    )
    with client.chat.completions.stream(model=BETA, messages=user("think twice")) as stream:
        chunks = [e.chunk for e in stream if e.type == "chunk"]
        final = stream.get_final_completion()
    assert collect(chunks)["reasoning"] == "First thought. Second thought."
    assert final.choices[0].message.content == "Done."
    assert final.choices[0].finish_reason == "stop"


def test_tool_use_after_thinking_stream_helper(client, beta):
    """Thinking, then text, then two tool_use blocks (what Claude sends with tools)."""
    beta.script(
        anthropic_raw_stream(
            [
                {"thinking": "Need two lookups.", "signature": "sig1"},
                {"text": "Let me check."},
                {"tool_use": "get_weather", "id": "toolu_01", "input": {"city": "Paris"}},
                {"tool_use": "get_time", "id": "toolu_02", "input": {"timezone": "Europe/Paris"}},
            ],
            stop_reason="tool_use",
        )
    )
    with client.chat.completions.stream(model=BETA, messages=user("weather?"), tools=STRICT_TOOLS) as stream:
        chunks = [e.chunk for e in stream if e.type == "chunk"]
        final = stream.get_final_completion()
    check_chunk_invariants(chunks)
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me check."
    assert [(tc.id, tc.function.name, tc.function.parsed_arguments) for tc in choice.message.tool_calls] == [
        ("toolu_01", "get_weather", GetWeather(city="Paris")),
        ("toolu_02", "get_time", GetTime(timezone="Europe/Paris")),
    ]
