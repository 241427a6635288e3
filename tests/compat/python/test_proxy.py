"""`/proxy/{provider}/…` through the official SDKs pointed at it as their base URL: the provider's
own API answers, with the gateway's upstream key put in and the client's key kept out."""

from __future__ import annotations

from typing import Any

import anthropic
import openai

from helpers import ALPHA_KEY, BETA_KEY, CLIENT_KEY, header, reply, user


def openai_via_proxy(stack: Any, provider: str) -> Any:
    return openai.OpenAI(
        base_url=f"{stack.gateway.root}/proxy/{provider}", api_key=CLIENT_KEY, max_retries=0, timeout=30
    )


def test_openai_sdk_chat_through_the_proxy_gets_the_upstreams_answer(stack, alpha):
    alpha.script(reply(text="straight from alpha"))
    with openai_via_proxy(stack, "alpha") as c:
        r = c.chat.completions.create(model="gpt-4o-mini", messages=user("hi"))
    assert r.choices[0].message.content == "straight from alpha"
    [req] = alpha.model_requests()
    assert req["path"].endswith("/chat/completions")
    assert req["body"]["model"] == "gpt-4o-mini", "the provider's own model name, untouched"
    assert header(req, "authorization") == f"Bearer {ALPHA_KEY}"
    assert CLIENT_KEY not in str(req["headers"]), "the client's gateway key stays at the gateway"


def test_openai_sdk_stream_and_model_list_through_the_proxy(stack, alpha):
    alpha.script(reply(text="one two three"))
    with openai_via_proxy(stack, "alpha") as c:
        stream = c.chat.completions.create(model="gpt-4o-mini", messages=user("count"), stream=True)
        text = "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices)
        models = [m.id for m in c.models.list()]
    assert text == "one two three"
    # The provider's own list, not the gateway's (which names models `alpha/...`).
    direct = [m["id"] for m in alpha.http.get("/v1/models").json()["data"]]
    assert models == direct and all(not m.startswith("alpha/") for m in models)


def test_anthropic_sdk_through_the_proxy_reaches_the_anthropic_provider(stack, beta):
    beta.script(reply(text="hello from beta"))
    with anthropic.Anthropic(
        base_url=f"{stack.gateway.root}/proxy/beta", api_key=CLIENT_KEY, max_retries=0, timeout=30
    ) as c:
        m = c.messages.create(model="claude-sonnet-4-5", max_tokens=50, messages=user("hi"))
    assert m.content[0].text == "hello from beta"
    [req] = beta.model_requests()
    assert header(req, "x-api-key") == BETA_KEY
    assert header(req, "anthropic-version"), "the SDK's version header is passed on"
