"""/v1/models as model pickers (Cursor, Continue, Open WebUI...) read it."""

from __future__ import annotations

from helpers import extra


def test_models_list(client):
    page = client.models.list()
    models = {m.id: m for m in page}
    for want in (
        "alpha/gpt-4o-mini",
        "alpha/text-embedding-3-small",
        "beta/claude-sonnet-4-5",
        "dead/gpt-4o-mini-dead",
        "smart",
        "resilient",
    ):
        assert want in models, f"{want} missing from /v1/models: {sorted(models)}"
    for m in models.values():
        assert m.object == "model"
        assert isinstance(m.created, int)
        assert isinstance(m.owned_by, str)
    assert extra(models["alpha/gpt-4o-mini"], "provider") == "alpha"
    assert extra(models["beta/claude-sonnet-4-5"], "provider") == "beta"
    assert len(page.data) == len(models), "model ids must be unique"


def test_models_raw_shape(gateway_http):
    r = gateway_http.get("/v1/models")
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list"
    assert isinstance(body["data"], list) and body["data"]
    assert all(isinstance(m["id"], str) and "provider" in m for m in body["data"])


def test_models_retrieve_provider_id_and_alias(client):
    m = client.models.retrieve("alpha/gpt-4o-mini")
    assert m.id == "alpha/gpt-4o-mini"
    assert extra(m, "provider") == "alpha"
    assert client.models.retrieve("smart").id == "smart"
