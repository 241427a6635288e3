"""The client's own key stays at the gateway; upstreams get the provider's key."""

from __future__ import annotations

import json

from helpers import ALPHA, BETA, CLIENT_KEY, EMBED, header, user


def test_client_key_never_reaches_upstreams(client, alpha, beta):
    client.chat.completions.create(model=ALPHA, messages=user("x"))
    list(client.chat.completions.create(model=ALPHA, messages=user("x"), stream=True))
    client.chat.completions.create(model=BETA, messages=user("x"))
    list(client.chat.completions.create(model=BETA, messages=user("x"), stream=True))
    client.embeddings.create(model=EMBED, input="x")

    a_reqs, b_reqs = alpha.model_requests(), beta.model_requests()
    assert len(a_reqs) == 3 and len(b_reqs) == 2
    for req in a_reqs + b_reqs:
        leaked = {k: v for k, v in req["headers"].items() if CLIENT_KEY in str(v)}
        assert leaked == {}, f"client key forwarded upstream in {req['path']}: {leaked}"
        assert CLIENT_KEY not in json.dumps(req["body"])
    for req in a_reqs:
        assert header(req, "authorization") == "Bearer sk-alpha-test"
    for req in b_reqs:
        assert header(req, "x-api-key") == "sk-beta-test"
        assert header(req, "authorization") is None, "Anthropic upstreams authenticate with x-api-key only"
