"""The admin config API and live reload through the real binary: providers, models, aliases,
client keys and settings changed over HTTP are written to the config file (comments and order
kept) and served at once; refused changes leave the file byte for byte as it was; edits made
to the file by hand are picked up without a restart, and a broken one keeps the last good
config serving. Each test starts a gateway of its own on its own config file."""

from __future__ import annotations

import re
import stat
import threading
import time
from typing import Any, Callable

import httpx
import openai
import pytest

from helpers import ADMIN_KEY_NAME, ALPHA, BETA, check_chunk_invariants, collect, header, key_hash, openai_error, user

RELOAD_WAIT_S = 5.0  # the gateway polls its file every 0.5 s
FILE_SECRETS = '\n[secrets]\nbackend = "file"\n'


def wait_for(what: str, probe: Callable[[], Any], timeout: float = RELOAD_WAIT_S) -> Any:
    """Polls `probe` until it returns something truthy; fails naming `what`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {timeout} s (last: {last!r})")


def model_ids(gw: Any) -> set[str]:
    with gw.http() as h:
        r = h.get("/v1/models")
        assert r.status_code == 200, r.text
        return {m["id"] for m in r.json()["data"]}


def target_of(gw: Any, model: str, key: str | None = None) -> tuple[int, str | None]:
    """Sends a chat for `model`; the status and which provider/model answered."""
    with gw.http(key) as h:
        r = h.post("/v1/chat/completions", json={"model": model, "messages": user("route me")})
        return r.status_code, r.headers.get("x-switchyard-target")


def refused(r: httpx.Response, param: str | None, status: int = 400) -> dict[str, Any]:
    assert r.status_code == status, f"expected {status} for {r.request.method} {r.request.url.path}, got {r.status_code}: {r.text}"
    err = openai_error(r)
    assert err["type"] == "invalid_request_error", err
    if param is not None:
        assert err["param"] == param, err
    return err


# --------------------------------------------------------------------------- providers


def test_a_provider_added_over_the_api_is_discovered_served_and_removed(fresh_gateway, gamma):
    gw = fresh_gateway(extra_env={"GAMMA_KEY": "sk-gamma-e2e"})
    with gw.admin() as h:
        r = h.post(
            "/admin/providers",
            json={"name": "gam", "kind": "openai", "base_url": gamma.base_url + "/", "api_key": "env:GAMMA_KEY"},
        )
        assert r.status_code == 201, r.text
        view = r.json()
        assert view["name"] == "gam" and view["kind"] == "openai"
        assert view["base_url"] == gamma.base_url.rstrip("/")
        assert view["api_key"] == {"ref": "env:GAMMA_KEY", "status": "set"}, view["api_key"]
        text = gw.config_path.read_text()
        assert 'api_key = "env:GAMMA_KEY"' in text and "sk-gamma-e2e" not in text, text

        # It lists no models: the gateway asks the upstream, and serves what it has.
        wait_for("gam/fake-model in /v1/models", lambda: "gam/fake-model" in model_ids(gw))
        r = h.get("/admin/providers/gam/models")
        assert r.status_code == 200
        assert [m["id"] for m in r.json()["data"]] == ["gam/fake-model"]
        assert h.get("/admin/providers/gam").json()["discovered_models"] == ["fake-model"]
        assert h.post("/admin/providers/gam/test").json()["ok"] is True
        assert h.post("/admin/providers/gam/models/refresh").json() == {"ok": True, "models": 1}

        c = gw.client()
        out = c.chat.completions.create(model="gam/fake-model", messages=user("via the new provider"))
        assert out.choices[0].message.content == "You said: via the new provider"
        chunks = list(c.chat.completions.create(model="gam/fake-model", messages=user("streamed"), stream=True))
        check_chunk_invariants(chunks)
        assert collect(chunks)["content"] == "You said: streamed"
        reqs = gamma.model_requests()
        assert len(reqs) == 2
        assert all(header(q, "authorization") == "Bearer sk-gamma-e2e" for q in reqs), [q["headers"] for q in reqs]

        names = [p["name"] for p in h.get("/admin/providers").json()["data"]]
        assert names == ["alpha", "beta", "dead", "gam"], names

        r = h.delete("/admin/providers/gam")
        assert r.status_code == 204, r.text
        assert h.get("/admin/providers/gam").status_code == 404
        assert "gam/fake-model" not in model_ids(gw)
        with pytest.raises(openai.NotFoundError):
            c.chat.completions.create(model="gam/fake-model", messages=user("gone"))
        assert 'name = "gam"' not in gw.config_path.read_text()
        assert h.delete("/admin/providers/gam").status_code == 404


def test_a_provider_whose_key_is_missing_says_so(fresh_gateway, gamma):
    gw = fresh_gateway()
    with gw.admin() as h:
        r = h.post(
            "/admin/providers",
            json={"name": "nokey", "kind": "openai", "base_url": gamma.base_url, "api_key": "env:SWITCHYARD_E2E_UNSET", "models": ["fake-model"]},
        )
        assert r.status_code == 201, r.text
        key = r.json()["api_key"]
        assert key["ref"] == "env:SWITCHYARD_E2E_UNSET" and key["status"] == "unavailable", key
        assert "SWITCHYARD_E2E_UNSET" in key.get("problem", ""), key
        t = h.post("/admin/providers/nokey/test").json()
        assert t["ok"] is False and t["error"], t
    assert gamma.requests() == [], "no request goes out without the key"


def test_a_literal_provider_key_goes_to_the_secret_store_never_to_the_file(fresh_gateway, gamma):
    literal = "sk-literal-canary-4f1d2a"
    rotated = "sk-rotated-canary-9b3e7c"
    gw = fresh_gateway(extra_config=FILE_SECRETS)
    secrets_file = gw.workdir / "home" / "secrets.toml"
    with gw.admin() as h:
        r = h.post(
            "/admin/providers",
            json={"name": "lit", "kind": "openai", "base_url": gamma.base_url, "api_key": literal, "models": ["fake-model"]},
        )
        assert r.status_code == 201, r.text
        assert r.json()["api_key"] == {"ref": "keychain:provider.lit", "status": "set"}
        assert literal not in r.text
        text = gw.config_path.read_text()
        assert 'api_key = "keychain:provider.lit"' in text and literal not in text, text
        assert literal in secrets_file.read_text()
        assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600, oct(secrets_file.stat().st_mode)

        c = gw.client()
        c.chat.completions.create(model="lit/fake-model", messages=user("x"))
        assert header(gamma.model_requests()[-1], "authorization") == f"Bearer {literal}"

        r = h.put("/admin/providers/lit/key", json={"api_key": rotated})
        assert r.status_code == 200, r.text
        assert rotated not in r.text and literal not in r.text
        c.chat.completions.create(model="lit/fake-model", messages=user("x"))
        assert header(gamma.model_requests()[-1], "authorization") == f"Bearer {rotated}"
        for path in ("/admin/providers", "/admin/providers/lit", "/admin/settings"):
            body = h.get(path).text
            assert rotated not in body and literal not in body, path
        assert rotated not in gw.config_path.read_text()

        assert h.delete("/admin/providers/lit").status_code == 204
        assert rotated not in secrets_file.read_text(), "deleting the provider removes the key it owned"
    out = gw.proc.output()
    assert literal not in out and rotated not in out


def test_model_capabilities_can_be_overridden_and_cleared(fresh_gateway):
    gw = fresh_gateway()
    with gw.admin() as h:
        r = h.patch(f"/admin/models/{ALPHA}", json={"context_window": 12345, "tools": False, "input": ["text"]})
        assert r.status_code == 200, r.text
        caps = r.json()["capabilities"]
        assert caps["context_window"] == 12345 and caps["tools"] is False and caps["input"] == ["text"], caps
        assert caps["source"]["context_window"] == "configured", caps
        # What a model picker reads.
        card = gw.client().models.retrieve(ALPHA)
        seen = (card.model_extra or {})["capabilities"]
        assert seen["context_window"] == 12345 and seen["tools"] is False, seen
        assert "12345" in gw.config_path.read_text()
        r = h.patch(f"/admin/models/{ALPHA}", json={"context_window": None, "tools": None, "input": None})
        assert r.status_code == 200, r.text
        caps = r.json()["capabilities"]
        assert caps["context_window"] is None and caps["source"].get("context_window") != "configured", caps
        refused(h.patch(f"/admin/models/{ALPHA}", json={"context_window": 0}), "providers[0].capabilities.gpt-4o-mini")
        assert h.patch("/admin/models/nope/x", json={"tools": True}).status_code == 404


# --------------------------------------------------------------------------- aliases


def test_aliases_create_reorder_and_delete(fresh_gateway, alpha, beta):
    gw = fresh_gateway()
    with gw.admin() as h:
        r = h.post("/admin/aliases", json={"name": "duo", "targets": [ALPHA, BETA]})
        assert r.status_code == 201, r.text
        assert r.json() == {
            "name": "duo",
            "targets": [ALPHA, BETA],
            "weights": [1, 1],
            "strategy": "ordered",
            "fallback": "none",
        }
        assert "duo" in model_ids(gw)
        assert target_of(gw, "duo") == (200, ALPHA)

        r = h.put("/admin/aliases/duo", json={"targets": [BETA, ALPHA]})
        assert r.status_code == 200, r.text
        assert h.get("/admin/aliases/duo").json()["targets"] == [BETA, ALPHA]
        assert target_of(gw, "duo") == (200, BETA)
        assert len(alpha.model_requests()) == 1 and len(beta.model_requests()) == 1

        # PUT creates, too.
        r = h.put("/admin/aliases/solo", json={"targets": [BETA]})
        assert r.status_code == 201, r.text
        names = [a["name"] for a in h.get("/admin/aliases").json()["data"]]
        assert names == ["smart", "resilient", "duo", "solo"], names

        refused(h.post("/admin/aliases", json={"name": "duo", "targets": [ALPHA]}), None, status=409)
        refused(h.post("/admin/aliases", json={"name": "alpha/gpt-4o-mini", "targets": [ALPHA]}), "aliases[4].name")

        assert h.delete("/admin/aliases/duo").status_code == 204
        assert h.get("/admin/aliases/duo").status_code == 404
        assert h.delete("/admin/aliases/duo").status_code == 404
        assert "duo" not in model_ids(gw)
        with pytest.raises(openai.NotFoundError):
            gw.client().chat.completions.create(model="duo", messages=user("x"))
        text = gw.config_path.read_text()
        assert 'name = "duo"' not in text and 'name = "solo"' in text


# --------------------------------------------------------------------------- client keys


def test_keys_created_over_the_api_work_until_revoked(fresh_gateway, alpha, beta):
    gw = fresh_gateway()
    adm = gw.admin()
    r = adm.post("/admin/keys", json={"name": "cursor"})
    assert r.status_code == 201, r.text
    made = r.json()
    key = made["key"]
    assert re.fullmatch(r"sk-sy-[A-Za-z0-9_-]{43}", key), key
    assert made["role"] == "user" and made["name"] == "cursor"
    assert key.startswith(made["prefix"].rstrip("…")) and len(made["prefix"].rstrip("…")) < 20, made["prefix"]
    text = gw.config_path.read_text()
    assert key_hash(key) in text and key not in text, "the file keeps the hash only"
    listed = adm.get("/admin/keys")
    assert key not in listed.text
    assert {k["name"] for k in listed.json()["data"]} == {ADMIN_KEY_NAME, "cursor"}
    # Shown once: there is no way to read it back.
    assert all("key" not in k for k in listed.json()["data"])

    r = adm.post("/admin/keys", json={"name": "narrow", "models": ["beta/*"]})
    assert r.status_code == 201, r.text
    narrow = r.json()["key"]

    # Keys optional so far: no key works.
    assert target_of(gw, ALPHA)[0] == 200
    r = adm.patch("/admin/settings", json={"access": {"require_key": True}})
    assert r.status_code == 200, r.text
    assert r.json()["access"]["require_key"] is True and r.json()["access"]["keys_required"] is True
    assert r.json()["restart_required"] is False
    assert "require_key = true" in gw.config_path.read_text()

    with pytest.raises(openai.AuthenticationError):
        gw.client().chat.completions.create(model=ALPHA, messages=user("x"))
    out = gw.client(api_key=key).chat.completions.create(model=ALPHA, messages=user("with my key"))
    assert out.choices[0].message.content == "You said: with my key"
    # The allow-list of the second key.
    nc = gw.client(api_key=narrow)
    assert nc.chat.completions.create(model=BETA, messages=user("x")).choices
    with pytest.raises(openai.PermissionDeniedError):
        nc.chat.completions.create(model=ALPHA, messages=user("x"))
    assert {m.id for m in nc.models.list()} == {BETA}
    # A user key is not an admin key.
    with gw.http(key) as h:
        assert h.post("/admin/keys", json={"name": "escalate", "role": "admin"}).status_code == 403
    # Widen it: the change applies to the next request.
    r = adm.patch("/admin/keys/narrow", json={"models": None})
    assert r.status_code == 200 and r.json()["models"] is None, r.text
    assert nc.chat.completions.create(model=ALPHA, messages=user("x")).choices

    assert adm.delete("/admin/keys/cursor").status_code == 204
    with pytest.raises(openai.AuthenticationError) as ei:
        gw.client(api_key=key).chat.completions.create(model=ALPHA, messages=user("x"))
    assert (ei.value.body or {}).get("code") == "invalid_api_key", ei.value.body
    assert key_hash(key) not in gw.config_path.read_text()
    assert adm.delete("/admin/keys/cursor").status_code == 404
    # The admin key still works.
    assert adm.get("/admin/keys").status_code == 200

    refused(adm.post("/admin/keys", json={"name": "x", "role": "god"}), "role")
    refused(adm.post("/admin/keys", json={"name": "narrow"}), None, status=409)
    refused(adm.post("/admin/keys", json={"name": "bad name!"}), None)
    refused(adm.patch("/admin/keys/narrow", json={"hash": "sha256:" + "0" * 64}), "hash")
    adm.close()
    assert key not in gw.proc.output() and narrow not in gw.proc.output()


# --------------------------------------------------------------------------- settings, catalog, discovery


def test_settings_catalog_and_discovery(fresh_gateway):
    canary = "gsk-discover-canary-5e8a"
    gw = fresh_gateway(extra_env={"GROQ_API_KEY": canary})
    with gw.admin() as h:
        s = h.get("/admin/settings").json()
        assert s["config_file"] == str(gw.config_path)
        assert s["listening_on"] == f"127.0.0.1:{gw.port}"
        assert s["reload_error"] is None
        assert s["access"] == {"require_key": False, "keys_required": False, "cors_origins": [], "allowed_hosts": []}

        origin = "https://app.example"
        preflight = {"origin": origin, "access-control-request-method": "POST"}
        assert h.options("/v1/chat/completions", headers=preflight).status_code == 403
        r = h.patch("/admin/settings", json={"access": {"cors_origins": [origin]}})
        assert r.status_code == 200 and r.json()["restart_required"] is False, r.text
        r = h.options("/v1/chat/completions", headers=preflight)
        assert r.status_code == 204 and r.headers["access-control-allow-origin"] == origin, r.headers

        r = h.patch("/admin/settings", json={"log": {"retention_days": 7}})
        assert r.status_code == 200 and r.json()["restart_required"] is True, r.text
        refused(h.patch("/admin/settings", json={"providers": []}), None, status=409)

        cat = h.get("/admin/catalog").json()["data"]
        by_id = {p["id"]: p for p in cat}
        assert {"openai", "anthropic", "groq", "ollama"} <= set(by_id), sorted(by_id)
        assert by_id["ollama"]["local"] is True and by_id["openai"]["key_required"] is True

        d = h.get("/admin/discover")
        assert d.status_code == 200, d.text
        assert {"preset": "groq", "env_var": "GROQ_API_KEY"} in d.json()["env_keys"], d.json()
        assert canary not in d.text, "discovery reports key names, never values"
        before = gw.config_path.read_bytes()
        r = h.post("/admin/discover", json={})
        assert r.status_code == 201 and r.json() == {"added": []}, r.text
        assert gw.config_path.read_bytes() == before


# --------------------------------------------------------------------------- the file


COMMENTED = """
# ---- hand-written section: keep this comment ----
[[aliases]]
name = "commented"  # trailing comment on the name
targets = ["alpha/gpt-4o-mini"]  # only one for now

# A table the gateway does not touch.
[timeouts]
connect_ms = 5000  # LAN is quick
"""


def test_api_edits_keep_comments_order_and_every_untouched_line(fresh_gateway):
    gw = fresh_gateway(top_config="# top of file: my gateway\n", extra_config=COMMENTED)
    original = gw.config_path.read_text()
    with gw.admin() as h:
        assert h.put("/admin/aliases/commented", json={"targets": [BETA, ALPHA]}).status_code == 200
        assert h.patch("/admin/providers/beta", json={"timeouts": {"total_ms": 60000}}).status_code == 200
        assert h.post("/admin/aliases", json={"name": "added", "targets": [ALPHA]}).status_code == 201
        assert h.patch("/admin/settings", json={"retry": {"rounds": 3}}).status_code == 200
    text = gw.config_path.read_text()
    for comment in (
        "# top of file: my gateway",
        "# ---- hand-written section: keep this comment ----",
        "# trailing comment on the name",
        "# only one for now",
        "# A table the gateway does not touch.",
        "connect_ms = 5000  # LAN is quick",
    ):
        assert comment in text, f"lost {comment!r}:\n{text}"
    old_lines = original.splitlines()
    new_lines = text.splitlines()
    gone = [l for l in old_lines if l not in new_lines]
    assert gone == ['targets = ["alpha/gpt-4o-mini"]  # only one for now'], f"lines changed beyond the edit: {gone}\n{text}"
    assert 'targets = ["beta/claude-sonnet-4-5", "alpha/gpt-4o-mini"]  # only one for now' in text, text
    # Order: what was there stays in its order (lines that occur once in each file).
    unique = {l for l in old_lines if old_lines.count(l) == 1 and new_lines.count(l) == 1}
    assert [l for l in new_lines if l in unique] == [l for l in old_lines if l in unique], "untouched lines were reordered"
    assert text.index('name = "alpha"') < text.index('name = "beta"') < text.index('name = "dead"')
    # And the result is what the gateway serves.
    assert target_of(gw, "commented") == (200, BETA)
    assert target_of(gw, "added") == (200, ALPHA)


def test_refused_changes_leave_the_file_byte_identical_and_the_config_live(fresh_gateway, gamma):
    gw = fresh_gateway(extra_config="\n# a comment that must survive\n")
    before = gw.config_path.read_bytes()
    with gw.admin() as h:
        cases = [
            (h.patch("/admin/providers/alpha", json={"base_url": "ftp://x"}), "providers[0].base_url"),
            (h.patch("/admin/providers/alpha", json={"kind": "bogus"}), "providers[0].kind"),
            (h.patch("/admin/providers/alpha", json={"no_such_field": 1}), "providers[0].no_such_field"),
            (h.patch("/admin/providers/alpha", json={"models": ["gpt-4o-mini", "gpt-4o-mini"]}), "providers[0].models[1]"),
            (h.patch("/admin/providers/alpha", json={"api_key": 42}), "api_key"),
            (h.post("/admin/providers", json={"name": "bad", "kind": "openai", "base_url": "not a url"}), "providers[3].base_url"),
            (h.post("/admin/providers", json={"name": "bad name", "kind": "openai", "base_url": gamma.base_url}), "providers[3].name"),
            (h.delete("/admin/providers/alpha"), "aliases[0].targets[0]"),  # still used by aliases
            (h.post("/admin/aliases", json={"name": "broken", "targets": ["nope/x"]}), "aliases[2].targets[0]"),
            (h.put("/admin/aliases/smart", json={"targets": []}), "aliases[0].targets"),
            (h.put("/admin/aliases/smart", json={"targets": ["alpha/not-listed"]}), "aliases[0].targets[0]"),
            (h.patch("/admin/settings", json={"retry": {"rounds": 0}}), "retry.rounds"),
            (h.patch("/admin/settings", json={"access": {"cors_origins": ["*"]}}), "access.cors_origins[0]"),
            (h.patch("/admin/settings", json={"access": {"cors_origins": ["https://a.example/path"]}}), "access.cors_origins[0]"),
            (h.patch("/admin/settings", json={"listen": "not an address"}), "listen"),
            (h.patch("/admin/settings", json={"timeouts": {"total_ms": 0}}), "timeouts.total_ms"),
            (h.patch(f"/admin/models/{ALPHA}", json={"input": ["smell"]}), "providers[0].capabilities.gpt-4o-mini"),
        ]
        for r, param in cases:
            if r.status_code == 400:
                refused(r, param)
            else:
                pytest.fail(f"{r.request.method} {r.request.url.path} {r.request.content!r}: expected 400, got {r.status_code} {r.text}")
        assert gw.config_path.read_bytes() == before, "a refused change touched the file"
        for r in (
            h.patch("/admin/providers/nope", json={"enabled": False}),
            h.get("/admin/aliases/nope"),
            h.patch("/admin/keys/nope", json={"role": "admin"}),
        ):
            assert r.status_code == 404, r.text
        r = h.post("/admin/aliases", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 400, r.text
        openai_error(r)
        assert gw.config_path.read_bytes() == before
        # What serves is what was there.
        assert h.get("/admin/providers/alpha").json()["base_url"] == gw.config_path.read_text().split('base_url = "')[1].split('"')[0]
        assert h.get("/admin/settings").json()["reload_error"] is None
    assert target_of(gw, "smart") == (200, ALPHA)
    assert not list(gw.workdir.glob(".switchyard-config-*")), "temporary files left beside the config"


def test_a_hand_edit_is_applied_without_a_restart(fresh_gateway, beta):
    gw = fresh_gateway()
    pid = gw.proc.popen.pid
    text = gw.config_path.read_text()
    text += '\n# added by hand\n[[aliases]]\nname = "handmade"\ntargets = ["beta/claude-sonnet-4-5"]\n'
    text = text.replace('targets = ["alpha/gpt-4o-mini", "beta/claude-sonnet-4-5"]', 'targets = ["beta/claude-sonnet-4-5", "alpha/gpt-4o-mini"]')
    gw.config_path.write_text(text)
    wait_for("the hand-added alias in /v1/models", lambda: "handmade" in model_ids(gw))
    assert target_of(gw, "handmade") == (200, BETA)
    assert target_of(gw, "smart") == (200, BETA), "the reordered alias must route to its new first target"
    with gw.admin() as h:
        assert h.get("/admin/settings").json()["reload_error"] is None
        # The API edits the file as it is now, hand edit included.
        assert h.post("/admin/aliases", json={"name": "after", "targets": [ALPHA]}).status_code == 201
    after = gw.config_path.read_text()
    assert "# added by hand" in after and 'name = "handmade"' in after
    assert gw.proc.popen.pid == pid and gw.proc.popen.poll() is None


@pytest.mark.parametrize(
    "breakage, path",
    [
        (lambda t: t + "\n[[aliases]]\nname = \"broken\"\ntargets = [\"nowhere/x\"]\n", "aliases[2].targets[0]"),
        (lambda t: t + "\nthis is = = not toml\n", None),
        (lambda t: t.replace('kind = "openai"', 'kind = "openapi"', 1), "providers[0].kind"),
        (lambda t: t + "\n[access]\nrequire_key = \"yes\"\n", "access.require_key"),
    ],
    ids=["unknown-provider", "syntax", "bad-kind", "wrong-type"],
)
def test_a_broken_hand_edit_keeps_the_last_good_config_serving(fresh_gateway, alpha, breakage, path):
    gw = fresh_gateway()
    good = gw.config_path.read_text()
    bad = breakage(good)
    gw.config_path.write_text(bad)
    with gw.admin() as h:
        err = wait_for("reload_error in /admin/settings", lambda: h.get("/admin/settings").json()["reload_error"])
        assert isinstance(err, str)
        if path:
            assert path in err, err
        # Still serving the last good config, keys and all.
        assert target_of(gw, "smart") == (200, ALPHA)
        assert "broken" not in model_ids(gw)
        assert h.get("/admin/providers/alpha").json()["kind"] == "openai"
        # The API does not write over the broken file either.
        r = h.post("/admin/aliases", json={"name": "meanwhile", "targets": [ALPHA]})
        assert r.status_code == 400, r.text
        assert gw.config_path.read_text() == bad
        # Fixed by hand: applied, and the error goes away.
        gw.config_path.write_text(good + '\n[[aliases]]\nname = "fixed"\ntargets = ["alpha/gpt-4o-mini"]\n')
        wait_for("reload_error cleared", lambda: h.get("/admin/settings").json()["reload_error"] is None)
        wait_for("the fixed file's alias", lambda: "fixed" in model_ids(gw))
    assert gw.proc.popen.poll() is None


STREAM_WORDS = " ".join(f"w{i}" for i in range(25))


@pytest.mark.parametrize("how", ["hand-edit", "api"])
def test_a_stream_started_before_a_reload_finishes_on_its_config(fresh_gateway, alpha, how):
    """A reload that points alpha at a dead port mid-stream: the running stream still ends
    whole on the upstream it started with, and the next request sees the new config."""
    gw = fresh_gateway()
    alpha.default({"reply": {"text": STREAM_WORDS, "chunk_delay_ms": 150}})
    refused_url = gw.config_path.read_text().split('name = "dead"')[1].split('base_url = "')[1].split('"')[0]
    c = gw.client()
    stream = c.chat.completions.create(model=ALPHA, messages=user("long"), stream=True)
    it = iter(stream)
    chunks = [next(it)]
    with gw.admin() as h:
        if how == "api":
            r = h.patch("/admin/providers/alpha", json={"base_url": refused_url})
            assert r.status_code == 200, r.text
        else:
            text = gw.config_path.read_text()
            alpha_url = text.split('name = "alpha"')[1].split('base_url = "')[1].split('"')[0]
            gw.config_path.write_text(text.replace(f'base_url = "{alpha_url}"', f'base_url = "{refused_url}"', 1))
        wait_for("alpha moved", lambda: h.get("/admin/providers/alpha").json()["base_url"] == refused_url)
    chunks += list(it)
    check_chunk_invariants(chunks)
    got = collect(chunks)
    assert got["content"] == STREAM_WORDS and got["finish"] == ["stop"], got["content"]
    assert len(alpha.model_requests()) == 1
    alpha.default({"reply": {}})
    with pytest.raises((openai.APIConnectionError, openai.APIStatusError)):
        c.chat.completions.create(model=ALPHA, messages=user("after"))
    assert len(alpha.model_requests()) == 1, "the new config no longer sends to alpha's old address"


def test_concurrent_api_edits_all_land(fresh_gateway):
    """Eight admin clients adding aliases at once: every one is in the file and served (no
    lost update between read-modify-write cycles)."""
    gw = fresh_gateway()
    results: list[int] = []

    def add(i: int) -> None:
        with gw.admin() as h:
            results.append(h.post("/admin/aliases", json={"name": f"c{i}", "targets": [ALPHA]}).status_code)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [201] * 8, results
    text = gw.config_path.read_text()
    assert all(f'name = "c{i}"' in text for i in range(8)), text
    assert {f"c{i}" for i in range(8)} <= model_ids(gw)
