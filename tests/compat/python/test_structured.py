"""Structured output across the translations, through the clients whose users reported prose
instead of JSON when the target was a Claude model: the OpenAI SDK's `.parse()` / `.stream()`
with a pydantic `response_format`, LangChain's `ChatOpenAI(...).with_structured_output(Model)`
(default method: json_schema), and the Anthropic SDK's `output_config.format` going the other
way, to an OpenAI-compatible model.

Claude 4.5 ("beta", claude-sonnet-4-5) gets `output_config.format` natively; an older Claude
("old", claude-3-5-haiku on the same fake) gets a forced tool whose call comes back as the
message content. The fakes answer an unscripted request for a schema with JSON made from it:
strings "example", integers 1, so `Person` comes back as `Person(name="example", age=1)`."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from conftest import start_gateway
from helpers import ALPHA, BETA, CLIENT_KEY, collect, user


class Person(BaseModel):
    name: str
    age: int


EXPECTED = Person(name="example", age=1)
PERSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
ASK = user("Who is in the picture? Answer as JSON.")

OLD = "old/claude-3-5-haiku-20241022"
OLD_PROVIDER = """
[[providers]]
name = "old"
kind = "anthropic"
base_url = "{beta}"
api_key = "env:BETA_KEY"
models = ["claude-3-5-haiku-20241022"]
"""


@pytest.fixture(scope="module")
def old_gw(stack: Any) -> Any:
    """A gateway that also serves an older Claude (no native structured output) from beta."""
    gw = start_gateway(stack.workdir / "structured-old", stack.endpoints, extra_config=OLD_PROVIDER)
    stack.extra.append(gw)
    yield gw
    gw.proc.stop()


@pytest.fixture
def old_client(old_gw: Any) -> Any:
    c = old_gw.client()
    yield c
    c.close()


def schema_of(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema a Claude request asks for natively (`output_config.format`)."""
    fmt = (body.get("output_config") or {}).get("format")
    assert fmt is not None, f"no output_config.format in the request Claude got: {body}"
    assert fmt["type"] == "json_schema", fmt
    return fmt["schema"]


def assert_person_schema(schema: dict[str, Any]) -> None:
    assert schema["type"] == "object", schema
    props = schema["properties"]
    assert set(props) == {"name", "age"}, schema
    assert props["name"]["type"] == "string" and props["age"]["type"] == "integer", schema
    assert sorted(schema["required"]) == ["age", "name"], schema


# --------------------------------------------------------------------------- OpenAI SDK, Claude 4.5


def test_parse_returns_the_pydantic_instance_from_claude(client, beta):
    completion = client.chat.completions.parse(model=BETA, messages=ASK, response_format=Person)
    msg = completion.choices[0].message
    assert msg.parsed == EXPECTED
    assert isinstance(msg.parsed, Person)
    assert json.loads(msg.content) == {"name": "example", "age": 1}
    assert not msg.tool_calls
    assert completion.choices[0].finish_reason == "stop"
    [req] = beta.model_requests()
    body = req["body"]
    assert_person_schema(schema_of(body))
    assert "tools" not in body and "tool_choice" not in body, "Claude 4.5 takes the schema natively"


def test_stream_helper_parses_the_final_message_from_claude(client, beta):
    with client.chat.completions.stream(model=BETA, messages=ASK, response_format=Person) as stream:
        chunks = [event.chunk for event in stream if event.type == "chunk"]
        final = stream.get_final_completion()
    assert final.choices[0].message.parsed == EXPECTED
    got = collect(chunks)
    assert json.loads(got["content"]) == {"name": "example", "age": 1}
    assert got["finish"] == ["stop"]
    assert not any(c.choices and c.choices[0].delta.tool_calls for c in chunks)
    [req] = beta.model_requests()
    assert_person_schema(schema_of(req["body"]))


def test_json_object_to_claude_comes_back_as_json_content(client, beta):
    r = client.chat.completions.create(
        model=BETA, messages=ASK, response_format={"type": "json_object"}
    )
    msg = r.choices[0].message
    assert isinstance(json.loads(msg.content), dict), msg.content
    assert not msg.tool_calls
    assert r.choices[0].finish_reason == "stop"
    [req] = beta.model_requests()
    body = req["body"]
    assert body["tool_choice"] == {"type": "tool", "name": "json_response"}, body
    assert [t["name"] for t in body["tools"]] == ["json_response"], body


def test_logprobs_to_claude_is_a_400_naming_the_param(client, beta):
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(model=BETA, messages=ASK, logprobs=True)
    assert exc.value.status_code == 400
    assert exc.value.param == "logprobs", exc.value.body
    assert beta.model_requests() == [], "refused before reaching the upstream"


# --------------------------------------------------------------------------- LangChain


def chat_openai(gateway: Any, **kw: Any) -> ChatOpenAI:
    return ChatOpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0, timeout=30, **kw)


def test_langchain_with_structured_output_gets_the_model_from_claude(stack, beta):
    structured = chat_openai(stack.gateway, model=BETA).with_structured_output(Person)
    person = structured.invoke("Who is in the picture?")
    assert isinstance(person, Person)
    assert person == EXPECTED
    [req] = beta.model_requests()
    assert_person_schema(schema_of(req["body"]))


# LangChain's own chunk serialisation warns about its `parsed` field; nothing the gateway sent.
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")
def test_langchain_with_structured_output_streamed(stack, beta):
    structured = chat_openai(stack.gateway, model=BETA, streaming=True).with_structured_output(Person)
    parts = list(structured.stream("Who is in the picture?"))
    assert parts, "the stream yielded nothing"
    assert parts[-1] == EXPECTED
    [req] = beta.model_requests()
    assert req["body"].get("stream") is True
    assert_person_schema(schema_of(req["body"]))


# --------------------------------------------------------------------------- older Claude: a forced tool


def test_parse_through_an_older_claude_uses_a_forced_tool(old_client, beta):
    completion = old_client.chat.completions.parse(model=OLD, messages=ASK, response_format=Person)
    msg = completion.choices[0].message
    assert msg.parsed == EXPECTED
    assert not msg.tool_calls, "the forced tool's call is the answer, not a call for the client"
    assert completion.choices[0].finish_reason == "stop"
    [req] = beta.model_requests()
    body = req["body"]
    assert body["model"] == "claude-3-5-haiku-20241022"
    assert "output_config" not in body, "claude-3-5-haiku has no native structured output"
    assert body["tool_choice"]["type"] == "tool", body
    [tool] = body["tools"]
    assert tool["name"] == body["tool_choice"]["name"] == "Person", body
    assert_person_schema(tool["input_schema"])


def test_stream_through_an_older_claude_streams_the_json_as_content(old_client, beta):
    with old_client.chat.completions.stream(model=OLD, messages=ASK, response_format=Person) as stream:
        chunks = [event.chunk for event in stream if event.type == "chunk"]
        final = stream.get_final_completion()
    assert final.choices[0].message.parsed == EXPECTED
    got = collect(chunks)
    assert json.loads(got["content"]) == {"name": "example", "age": 1}
    assert got["finish"] == ["stop"]
    assert not any(c.choices and c.choices[0].delta.tool_calls for c in chunks)
    [req] = beta.model_requests()
    assert req["body"]["tool_choice"] == {"type": "tool", "name": "Person"}


def test_langchain_through_an_older_claude(old_gw, beta):
    person = chat_openai(old_gw, model=OLD).with_structured_output(Person).invoke("Who?")
    assert person == EXPECTED
    [req] = beta.model_requests()
    assert req["body"]["tool_choice"] == {"type": "tool", "name": "Person"}


def test_reasoning_effort_with_a_schema_on_an_older_claude_is_a_400(old_client, beta):
    # A forced tool cannot be combined with extended thinking, so the gateway says which field
    # it cannot honour instead of dropping one of them.
    with pytest.raises(openai.BadRequestError) as exc:
        old_client.chat.completions.parse(
            model=OLD, messages=ASK, response_format=Person, reasoning_effort="low"
        )
    assert exc.value.param == "response_format", exc.value.body
    assert beta.model_requests() == []


# --------------------------------------------------------------------------- Anthropic SDK -> OpenAI model


def test_anthropic_sdk_output_config_reaches_an_openai_model_as_response_format(stack, alpha):
    claude = anthropic.Anthropic(base_url=stack.gateway.root, api_key=CLIENT_KEY, max_retries=0, timeout=30)
    try:
        msg = claude.messages.create(
            model=ALPHA,
            max_tokens=200,
            messages=ASK,
            output_config={"format": {"type": "json_schema", "schema": PERSON_SCHEMA}},
        )
    finally:
        claude.close()
    assert [b.type for b in msg.content] == ["text"]
    assert Person.model_validate_json(msg.content[0].text) == EXPECTED
    assert msg.stop_reason == "end_turn"
    [req] = alpha.model_requests()
    body = req["body"]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": PERSON_SCHEMA},
    }, body
    assert "output_config" not in body
