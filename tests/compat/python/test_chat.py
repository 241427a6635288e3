"""Chat completions through an OpenAI-kind upstream, as openai-python sees them."""

from __future__ import annotations

import json

import pytest

from helpers import ALPHA, BETA, check_chunk_invariants, collect, header, reply, sse_events, user


def test_health(gateway_http):
    r = gateway_http.get("/healthz")
    assert r.status_code == 200, r.text


def test_chat_non_stream(client, alpha):
    alpha.script(reply(text="Hello from alpha", prompt_tokens=11, completion_tokens=7))
    r = client.chat.completions.create(model=ALPHA, messages=user("hi"))

    assert r.object == "chat.completion"
    assert r.id
    assert isinstance(r.created, int)
    assert "gpt-4o-mini" in r.model
    assert len(r.choices) == 1
    choice = r.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello from alpha"
    assert choice.finish_reason == "stop"
    assert r.usage is not None
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (11, 7, 18)


def test_chat_forwards_messages_and_bare_model_name(client, alpha):
    """The upstream gets the provider's own model id and the user's messages."""
    r = client.chat.completions.create(
        model=ALPHA,
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "ping"}],
        temperature=0.2,
        max_tokens=50,
    )
    assert r.choices[0].message.content == "You said: ping"
    [req] = alpha.model_requests()
    assert req["path"].endswith("/chat/completions")
    body = req["body"]
    assert body["model"] == "gpt-4o-mini", "the provider prefix must be stripped before forwarding"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][-1]["content"] in ("ping", [{"type": "text", "text": "ping"}])
    assert body.get("temperature") == 0.2


def test_bare_model_id_resolves_when_unambiguous(client, beta):
    beta.script(reply(text="from beta"))
    r = client.chat.completions.create(model="claude-sonnet-4-5", messages=user("hi"))
    assert r.choices[0].message.content == "from beta"
    assert len(beta.model_requests()) == 1


def test_stream_text_with_usage(client, alpha):
    text = "The quick brown fox jumps over the lazy dog."
    alpha.script(reply(text=text, prompt_tokens=12, completion_tokens=9))
    stream = client.chat.completions.create(
        model=ALPHA, messages=user("tell me"), stream=True, stream_options={"include_usage": True}
    )
    got = collect(stream)
    chunks = got["chunks"]

    assert got["content"] == text
    assert got["finish"] == ["stop"]
    check_chunk_invariants(chunks)
    last = chunks[-1]
    assert last.choices == [], f"the usage chunk must have choices: [] (got {last!r})"
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens, last.usage.total_tokens) == (12, 9, 21)
    # usage appears once, at the end
    assert [c for c in chunks[:-1] if c.usage is not None and c.usage.total_tokens] == []


@pytest.mark.parametrize("model", [ALPHA, BETA])
def test_stream_without_include_usage_has_no_usage_chunk(client, stack, model):
    fake = stack.alpha if model == ALPHA else stack.beta
    fake.script(reply(text="short answer"))
    chunks = list(client.chat.completions.create(model=model, messages=user("x"), stream=True))
    got = collect(chunks)
    assert got["content"] == "short answer"
    assert got["finish"] == ["stop"]
    check_chunk_invariants(chunks)
    assert all(c.choices for c in chunks), "no choices:[] usage chunk unless include_usage was asked for"


def test_stream_raw_sse_framing(gateway_http, alpha):
    """What every SSE decoder needs: data-only frames, choices always an array,
    no id:/retry: lines, [DONE] at the end (clients.md §0 rules 1, 2, 5)."""
    alpha.script(reply(text="framing check", prompt_tokens=3, completion_tokens=2))
    with gateway_http.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": ALPHA,
            "messages": user("x"),
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    lines = [l for l in raw.replace("\r\n", "\n").split("\n") if l]
    bad = [l for l in lines if not (l.startswith("data:") or l.startswith(":"))]
    assert bad == [], f"only data: lines and comments are safe for OpenAI SDKs, got {bad}"
    assert not any(l.startswith(": ping") for l in lines), "': ping' comments stop Continue's parser"
    events = sse_events(raw)
    assert events[-1] == "[DONE]"
    assert events.count("[DONE]") == 1
    objs = [json.loads(e) for e in events[:-1]]
    for o in objs:
        assert isinstance(o.get("choices"), list), f"choices must always be an array: {o}"
    usage = objs[-1]
    assert usage["choices"] == []
    assert usage["usage"] == {**usage["usage"], "prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_stream_through_alias(client, alpha, beta):
    alpha.script(reply(text="alias stream"))
    got = collect(client.chat.completions.create(model="smart", messages=user("x"), stream=True))
    assert got["content"] == "alias stream"
    assert len(alpha.model_requests()) == 1
    assert beta.model_requests() == []


def test_upstream_auth_uses_provider_key(client, alpha):
    client.chat.completions.create(model=ALPHA, messages=user("x"))
    [req] = alpha.model_requests()
    assert header(req, "authorization") == "Bearer sk-alpha-test"
