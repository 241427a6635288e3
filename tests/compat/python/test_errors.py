"""Errors must land in the SDK's own exception classes with a useful message."""

from __future__ import annotations

import json

import openai
import pytest

from helpers import ALPHA, BETA, sse_events, user

LONG_TEXT = " ".join(f"word{i}" for i in range(40))


@pytest.mark.parametrize("model", ["no-such-model", "nope/gpt-4o-mini"])
def test_unknown_model_is_not_found(client, alpha, beta, model):
    with pytest.raises(openai.NotFoundError) as ei:
        client.chat.completions.create(model=model, messages=user("x"))
    e = ei.value
    assert e.status_code == 404
    assert e.code == "model_not_found"
    assert model in e.message
    assert isinstance(e.body, dict) and {"message", "type", "code"} <= set(e.body)
    assert alpha.model_requests() == [] and beta.model_requests() == []


def test_missing_model_field_is_a_json_400(gateway_http):
    r = gateway_http.post("/v1/chat/completions", json={"messages": user("x")})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert isinstance(err["message"], str) and err["message"]


def test_upstream_401_is_authentication_error(client, alpha):
    alpha.script({"error": {"status": 401, "message": "Incorrect API key provided"}})
    with pytest.raises(openai.AuthenticationError) as ei:
        client.chat.completions.create(model=ALPHA, messages=user("x"))
    assert ei.value.status_code == 401
    assert "Incorrect API key provided" in ei.value.message


def test_upstream_400_passes_through(client, alpha):
    msg = "This model's maximum context length is 128000 tokens."
    alpha.script({"error": {"status": 400, "message": msg}})
    with pytest.raises(openai.BadRequestError) as ei:
        client.chat.completions.create(model=ALPHA, messages=user("x"))
    assert ei.value.status_code == 400
    assert msg in ei.value.message


def test_anthropic_upstream_400_passes_through(client, beta):
    beta.script({"error": {"status": 400, "message": "messages: text content blocks must be non-empty"}})
    with pytest.raises(openai.BadRequestError) as ei:
        client.chat.completions.create(model=BETA, messages=user("x"))
    assert ei.value.status_code == 400
    assert "text content blocks must be non-empty" in ei.value.message


def test_anthropic_overloaded_is_a_server_error(client, beta):
    # A default script: the upstream stays overloaded through the gateway's retry rounds.
    beta.default({"error": {"status": 529, "message": "Overloaded"}})
    with pytest.raises(openai.InternalServerError) as ei:
        client.chat.completions.create(model=BETA, messages=user("x"))
    assert ei.value.status_code >= 500


def test_all_targets_failing_is_internal_server_error(fresh_client, alpha, beta):
    # Default scripts: both stay down through every retry round of the gateway.
    alpha.default({"error": {"status": 503, "message": "alpha is down"}})
    beta.default({"error": {"status": 503, "message": "beta is down"}})
    with pytest.raises(openai.InternalServerError) as ei:
        fresh_client.chat.completions.create(model="smart", messages=user("x"))
    e = ei.value
    assert e.status_code == 503
    for target in ("alpha/gpt-4o-mini", "beta/claude-sonnet-4-5"):
        assert target in e.message, f"the error must describe every attempt; {target} missing: {e.message!r}"
    assert e.response.headers.get("x-switchyard-attempts"), dict(e.response.headers)
    assert len(alpha.model_requests()) >= 1 and len(beta.model_requests()) >= 1


@pytest.mark.parametrize("fake_name, model", [("alpha", ALPHA), ("beta", BETA)])
def test_mid_stream_error_event_raises_api_error(client, stack, fake_name, model):
    fake = getattr(stack, fake_name)
    fake.script({"error_event_after": {"reply": {"text": LONG_TEXT}, "after": 6}})
    received = []
    with pytest.raises(openai.APIError) as ei:
        for chunk in client.chat.completions.create(model=model, messages=user("x"), stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
    assert received, "the error was meant to come after some content had streamed"
    assert not isinstance(ei.value, openai.APIStatusError), "after the first byte the error must be an SSE frame"
    assert "".join(received) != LONG_TEXT


@pytest.mark.parametrize("fake_name, model", [("alpha", ALPHA), ("beta", BETA)])
def test_mid_stream_reset_raises_api_error(client, stack, fake_name, model):
    """A dropped upstream connection must not look like a complete answer."""
    fake = getattr(stack, fake_name)
    fake.script({"reset_after_events": {"reply": {"text": LONG_TEXT}, "after": 6}})
    with pytest.raises(openai.APIError):
        for _ in client.chat.completions.create(model=model, messages=user("x"), stream=True):
            pass


def test_mid_stream_error_has_no_fake_done(gateway_http, alpha):
    alpha.script({"error_event_after": {"reply": {"text": LONG_TEXT}, "after": 6}})
    with gateway_http.stream(
        "POST", "/v1/chat/completions", json={"model": ALPHA, "messages": user("x"), "stream": True}
    ) as r:
        assert r.status_code == 200
        raw = r.read().decode()
    events = sse_events(raw)
    assert "[DONE]" not in events, f"a failed stream must not end with [DONE]:\n{raw}"
    errors = [json.loads(e) for e in events if e.startswith("{") and "error" in json.loads(e)]
    assert len(errors) == 1, raw
    err = errors[0]["error"]
    assert isinstance(err.get("message"), str) and err["message"]


def test_unknown_model_not_found_for_stream_and_embeddings(client):
    with pytest.raises(openai.NotFoundError) as ei:
        client.chat.completions.create(model="no-such-model", messages=user("x"), stream=True)
    assert ei.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError) as ei:
        client.embeddings.create(model="no-such-embedder", input="x")
    assert ei.value.code == "model_not_found"
