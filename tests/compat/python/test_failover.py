"""Aliases fail over in order on connect errors, 5xx and 429, never on 4xx.

These tests use `fresh_client` (a gateway of their own) so that health state
left by other tests (circuit breakers, cool-downs) cannot change the outcome.
"""

from __future__ import annotations

import openai
import pytest

from helpers import collect, reply, user

ATTEMPTS = "x-switchyard-attempts"


def test_resilient_skips_refused_target(fresh_client, alpha):
    raw = fresh_client.chat.completions.with_raw_response.create(model="resilient", messages=user("still there?"))
    r = raw.parse()
    assert r.choices[0].message.content == "You said: still there?"
    attempts = raw.headers.get(ATTEMPTS)
    assert attempts, f"missing {ATTEMPTS} header: {dict(raw.headers)}"
    assert "dead/gpt-4o-mini-dead" in attempts and "alpha/gpt-4o-mini" in attempts, attempts
    assert attempts.index("dead/") < attempts.index("alpha/"), f"targets must be tried in order: {attempts}"
    [req] = alpha.model_requests()
    assert req["body"]["model"] == "gpt-4o-mini"


def test_attempts_header_on_plain_success(client):
    raw = client.chat.completions.with_raw_response.create(model="alpha/gpt-4o-mini", messages=user("x"))
    assert "alpha/gpt-4o-mini" in (raw.headers.get(ATTEMPTS) or ""), dict(raw.headers)


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param({"error": {"status": 503, "message": "upstream is down", "retry_after": "1"}}, id="503"),
        pytest.param({"error": {"status": 500, "message": "internal upstream error"}}, id="500"),
        pytest.param({"error": {"status": 429, "message": "rate limited", "retry_after": "1"}}, id="429"),
        pytest.param({"html_error": {"status": 502}}, id="502-html"),
        pytest.param("reset_before_headers", id="reset"),
    ],
)
def test_smart_fails_over_to_beta(fresh_client, alpha, beta, failure):
    alpha.script(failure)
    beta.script(reply(text="beta to the rescue"))
    raw = fresh_client.chat.completions.with_raw_response.create(model="smart", messages=user("x"))
    assert raw.status_code == 200
    assert raw.parse().choices[0].message.content == "beta to the rescue"
    assert len(alpha.model_requests()) == 1
    assert len(beta.model_requests()) == 1
    attempts = raw.headers.get(ATTEMPTS) or ""
    assert "alpha/gpt-4o-mini" in attempts and "beta/claude-sonnet-4-5" in attempts, attempts


def test_smart_stream_fails_over_before_first_byte(fresh_client, alpha, beta):
    alpha.script({"error": {"status": 503, "message": "upstream is down"}})
    beta.script(reply(text="streamed by beta", reasoning="thinking"))
    got = collect(fresh_client.chat.completions.create(model="smart", messages=user("x"), stream=True))
    assert got["content"] == "streamed by beta"
    assert got["reasoning"] == "thinking"
    assert got["finish"] == ["stop"]


@pytest.mark.parametrize("status, exc", [(400, openai.BadRequestError), (401, openai.AuthenticationError)])
def test_client_errors_are_not_failed_over(fresh_client, alpha, beta, status, exc):
    alpha.script({"error": {"status": status, "message": f"scripted {status}"}})
    beta.script(reply(text="must not be used"))
    with pytest.raises(exc) as ei:
        fresh_client.chat.completions.create(model="smart", messages=user("x"))
    assert ei.value.status_code == status
    assert f"scripted {status}" in ei.value.message
    assert len(alpha.model_requests()) == 1
    assert beta.model_requests() == [], "a 4xx from the first target must not be retried on the next"
