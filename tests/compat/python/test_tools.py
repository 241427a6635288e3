"""Tool calls through an OpenAI-kind upstream, with the SDK's streaming helper."""

from __future__ import annotations

import json

import pytest

from helpers import (
    ALPHA,
    PLAIN_TOOLS,
    STRICT_TOOLS,
    TIME_CALL,
    WEATHER_CALL,
    GetTime,
    GetWeather,
    check_chunk_invariants,
    reply,
    tool_calls_as_json,
    user,
)


def run_stream_helper(client, model, tools=STRICT_TOOLS, text="What's the weather and time in Paris?"):
    with client.chat.completions.stream(model=model, messages=user(text), tools=tools) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    return events, final


def test_stream_helper_single_tool_call(client, alpha):
    alpha.script(reply(tool_calls=[WEATHER_CALL]))
    events, final = run_stream_helper(client, ALPHA)

    check_chunk_invariants([e.chunk for e in events if e.type == "chunk"])
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    [tc] = choice.message.tool_calls
    assert tc.id
    assert tc.type == "function"
    assert tc.function.name == "get_weather"
    assert json.loads(tc.function.arguments) == {"city": "Paris"}
    assert tc.function.parsed_arguments == GetWeather(city="Paris")

    done = [e for e in events if e.type == "tool_calls.function.arguments.done"]
    assert [(e.name, e.parsed_arguments) for e in done] == [("get_weather", GetWeather(city="Paris"))]

    [req] = alpha.model_requests()
    assert [t["function"]["name"] for t in req["body"]["tools"]] == ["get_weather", "get_time"]


def test_stream_helper_parallel_tool_calls(client, alpha):
    alpha.script(reply(tool_calls=[WEATHER_CALL, TIME_CALL]))
    events, final = run_stream_helper(client, ALPHA)

    check_chunk_invariants([e.chunk for e in events if e.type == "chunk"])
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


@pytest.mark.parametrize("model", [ALPHA, "smart"])
def test_non_stream_tool_call(client, alpha, model):
    alpha.script(reply(tool_calls=[WEATHER_CALL, TIME_CALL]))
    r = client.chat.completions.create(model=model, messages=user("weather?"), tools=PLAIN_TOOLS)
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert tool_calls_as_json(choice.message) == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"timezone": "Europe/Paris"}),
    ]
    assert all(tc.id and tc.type == "function" for tc in choice.message.tool_calls)
