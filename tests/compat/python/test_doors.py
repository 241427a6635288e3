"""Legacy completions and moderations through the OpenAI Python SDK, rerank through the Cohere
Python SDK (`ClientV2`, which posts to /v2/rerank) and plain HTTP (/v1/rerank)."""

from __future__ import annotations

import cohere
import openai
import pytest

from helpers import ALPHA, BETA, CLIENT_KEY

# gamma serves the default moderation model, so requests without `model` reach it.
MODERATION = """
[[providers]]
name = "gamma"
kind = "openai"
base_url = "{gamma}"
models = ["omni-moderation-latest"]
"""

DOCS = ["a blue whale", "the red fox", "a red car"]


def test_completion_is_renamed_for_the_upstream_and_names_the_model_that_answered(client, alpha):
    r = client.completions.create(model=ALPHA, prompt="Say hi", max_tokens=5, stop=["\n"])
    assert r.object == "text_completion"
    assert r.model == "gpt-4o-mini", "the model that answered, as chat names it"
    assert r.choices[0].text == "You said: Say hi"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.completion_tokens > 0
    [req] = alpha.model_requests()
    assert req["path"].endswith("/completions")
    assert req["body"]["model"] == "gpt-4o-mini"
    assert req["body"]["max_tokens"] == 5


def test_completion_stream_with_usage(client):
    chunks = list(
        client.completions.create(
            model=ALPHA, prompt="count", stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "You said: count"
    assert all(c.object == "text_completion" for c in chunks)
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0


def test_completion_stream_failure_raises_in_the_sdk(client, alpha):
    alpha.script({"error_event_after": {"reply": {"text": "one two three four"}, "after": 2}})
    got = []
    with pytest.raises(openai.APIError) as e:
        for c in client.completions.create(model=ALPHA, prompt="x", stream=True):
            got.append(c.choices[0].text)
    assert "".join(got) == "one two "
    assert "error" in str(e.value).lower()


def test_completion_on_an_anthropic_model_points_to_chat(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model=BETA, prompt="hi")
    assert "/v1/chat/completions" in e.value.message and "claude-sonnet-4-5" in e.value.message


def test_moderations_default_to_omni_moderation_latest(fresh_gateway, gamma):
    with fresh_gateway(extra_config=MODERATION).client() as c:
        r = c.moderations.create(input=["I will kill the process", "a quiet afternoon"])
        assert r.model == "omni-moderation-latest"
        assert [m.flagged for m in r.results] == [True, False]
        assert r.results[0].categories.violence is True
        assert 0 <= r.results[1].category_scores.violence < 0.5
        parts = c.moderations.create(
            model="gamma/omni-moderation-latest",
            input=[
                {"type": "text", "text": "I hate mondays"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
        )
        assert len(parts.results) == 1 and parts.results[0].categories.hate is True
    assert [r["body"]["model"] for r in gamma.model_requests()] == ["omni-moderation-latest"] * 2


def test_moderations_without_a_model_and_no_default_ask_for_one(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.moderations.create(input="hi")
    assert e.value.param == "model"


def test_rerank_through_the_cohere_sdk(stack, alpha):
    co = cohere.ClientV2(api_key=CLIENT_KEY, base_url=stack.gateway.root)
    r = co.rerank(model=ALPHA, query="red fox", documents=DOCS, top_n=2)
    assert [x.index for x in r.results] == [1, 2]
    assert r.results[0].relevance_score > r.results[1].relevance_score
    [req] = alpha.model_requests()
    assert req["path"].endswith("/rerank")
    assert req["body"]["model"] == "gpt-4o-mini"
    with pytest.raises(cohere.core.ApiError) as e:
        co.rerank(model=ALPHA, query="red fox", documents=DOCS, top_n=0)
    assert e.value.status_code == 400


def test_rerank_over_http_returns_documents_and_checks_its_input(gateway_http):
    docs = [{"text": d} for d in DOCS]
    body = {"model": ALPHA, "query": "red fox", "documents": docs, "return_documents": True}
    r = gateway_http.post("/v1/rerank", json=body)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["index"] for x in results] == [1, 2, 0]
    assert results[0]["document"] == {"text": "the red fox"}
    r = gateway_http.post("/v1/rerank", json={"model": ALPHA, "query": "q", "documents": []})
    assert r.status_code == 400 and r.json()["error"]["param"] == "documents"
