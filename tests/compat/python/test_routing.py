"""Routing that chooses (issue 18), through the official SDKs against the real binary: a bare
id two providers serve, round_robin, weighted and least_latency aliases, members skipped for
what a request needs (image input, context window), the 400s when nothing fits, the offline
fallback to a local model (and none on a 5xx), and capability pools in /v1/models,
/admin/routing and /admin/pools.

Every upstream here is a fake on 127.0.0.1, which the router counts as a local runtime. The
"cloud" providers are reached as 0.0.0.0 instead: the same host to the kernel, but not a
loopback address to the router, so they are the cloud members the offline fallback is about.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import anthropic
import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import Gateway, start_gateway
from helpers import CLIENT_KEY, openai_error, reply, user

ATTEMPTS = "x-switchyard-attempts"
TARGET = "x-switchyard-target"
REQUEST_ID = "x-switchyard-request-id"

ALPHA = "alpha/gpt-4o-mini"
TWIN = "twin/gpt-4o-mini"  # the same model id, served by the second OpenAI fake (gamma)

# A 1x1 PNG, small enough for any prompt estimate.
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

# After the standard config (alpha, beta, dead; `smart`, `resilient`). Placeholders are filled
# by `routing_config`; doubled braces are TOML inline tables.
ROUTING_CONFIG = """
[routing]
default_strategy = "round_robin"

# `gpt-4o-mini` is then served by alpha and twin: a bare-id pool.
[[providers]]
name = "twin"
kind = "openai"
base_url = "{gamma}"
models = ["gpt-4o-mini"]

# `echo-1`: one live member, one on a closed port.
[[providers]]
name = "north"
kind = "openai"
base_url = "{gamma}"
models = ["echo-1"]

[[providers]]
name = "south"
kind = "openai"
base_url = "{refused}"
models = ["echo-1"]

[[providers]]
name = "plain"
kind = "openai"
base_url = "{gamma}"
models = ["textonly"]
capabilities = {{ textonly = {{ input = ["text"], tools = true }} }}

[[providers]]
name = "tiny"
kind = "openai"
base_url = "{gamma}"
models = ["small-ctx"]
capabilities = {{ small-ctx = {{ context_window = 1000 }} }}

[[providers]]
name = "seer"
kind = "openai"
base_url = "{gamma}"
models = ["seer-1", "seer-2"]
capabilities = {{ seer-1 = {{ input = ["text", "image"] }}, seer-2 = {{ input = ["text", "image"] }} }}

# Prices as the config gives them (dollars per million tokens), for `cheapest`.
[[providers]]
name = "dear"
kind = "openai"
base_url = "{gamma}"
models = ["m-dear"]
prices = {{ m-dear = {{ input = 10.0, output = 30.0 }} }}

[[providers]]
name = "cheap"
kind = "openai"
base_url = "{gamma}"
models = ["m-cheap"]
prices = {{ m-cheap = {{ input = 0.1, output = 0.4 }} }}

[[providers]]
name = "cloud"
kind = "openai"
base_url = "{cloud_refused}"
models = ["gpt-4o"]

[[providers]]
name = "cloud5"
kind = "openai"
base_url = "{cloud_gamma}"
models = ["gpt-4.1"]

[[aliases]]
name = "rr"
strategy = "round_robin"
targets = ["alpha/gpt-4o-mini", "twin/gpt-4o-mini"]

[[aliases]]
name = "split"
strategy = "weighted"
targets = [{{ model = "alpha/gpt-4o-mini", weight = 3 }}, "twin/gpt-4o-mini"]

[[aliases]]
name = "quick"
strategy = "least_latency"
targets = ["alpha/gpt-4o-mini", "twin/gpt-4o-mini"]

[[aliases]]
name = "calm"
strategy = "least_busy"
targets = ["alpha/gpt-4o-mini", "twin/gpt-4o-mini"]

[[aliases]]
name = "thrifty"
strategy = "cheapest"
targets = ["dear/m-dear", "cheap/m-cheap"]

[[aliases]]
name = "eyes"
targets = ["plain/textonly", "alpha/gpt-4o-mini"]

[[aliases]]
name = "roomy"
targets = ["tiny/small-ctx", "alpha/gpt-4o-mini"]

[[aliases]]
name = "short"
targets = ["tiny/small-ctx"]

[[aliases]]
name = "offline"
fallback = "local"
targets = ["cloud/gpt-4o"]

[[aliases]]
name = "flaky"
fallback = "local"
targets = ["cloud5/gpt-4.1"]

[[pools]]
name = "blind"
require = {{ tools = true }}
providers = ["plain"]

[[pools]]
name = "vision"
require = {{ input = ["image"] }}
strategy = "least_latency"
providers = ["seer", "plain"]
"""


def routing_config(endpoints: dict[str, Any]) -> str:
    """ROUTING_CONFIG with its URLs, escaped for the `.format` start_gateway applies."""
    gamma = endpoints["openai"][1]
    refused = endpoints["refused"]
    text = ROUTING_CONFIG.format(
        gamma=gamma,
        refused=refused,
        cloud_refused=refused.replace("127.0.0.1", "0.0.0.0"),
        cloud_gamma=gamma.replace("127.0.0.1", "0.0.0.0"),
    )
    return text.replace("{", "{{").replace("}", "}}")


@pytest.fixture(scope="module")
def gw(stack: Any) -> Any:
    """One gateway for the tests whose outcome no other test's traffic can change."""
    g = start_gateway(stack.workdir / "routing", stack.endpoints, extra_config=routing_config(stack.endpoints))
    yield g
    g.proc.stop()


@pytest.fixture
def oai(gw: Gateway) -> Any:
    c = gw.client()
    yield c
    c.close()


@pytest.fixture
def fresh(fresh_gateway: Any, stack: Any) -> Any:
    """A gateway of the test's own with the routing config: no figures from other tests."""
    return lambda: fresh_gateway(extra_config=routing_config(stack.endpoints))


def trail(raw: Any) -> list[str]:
    """The `x-switchyard-attempts` entries, in order."""
    value = raw.headers.get(ATTEMPTS)
    assert value, f"missing {ATTEMPTS}: {dict(raw.headers)}"
    return [part.strip() for part in value.split(";")]


def ask(client: openai.OpenAI, model: str, stream: bool = False, **kw: Any) -> tuple[str, list[str], str]:
    """One chat request: (the target that answered, the attempts trail, the text)."""
    kw.setdefault("messages", user("route me"))
    raw = client.chat.completions.with_raw_response.create(model=model, stream=stream, **kw)
    assert raw.status_code == 200
    if stream:
        text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    else:
        text = raw.parse().choices[0].message.content
    return raw.headers.get(TARGET), trail(raw), text


def image_message(text: str = "what is in this picture?") -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": text},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            ],
        }
    ]


def card(gw: Gateway, model_id: str) -> dict[str, Any]:
    with gw.http(CLIENT_KEY) as h:
        r = h.get("/v1/models")
    assert r.status_code == 200, r.text
    cards = [m for m in r.json()["data"] if m["id"] == model_id]
    assert len(cards) == 1, f"{model_id} listed {len(cards)} times"
    return cards[0]


def routes(gw: Gateway) -> dict[str, Any]:
    with gw.admin() as h:
        r = h.get("/admin/routing")
    assert r.status_code == 200, r.text
    return {route["name"]: route for route in r.json()["routes"]}


def in_flight(gw: Gateway, route: str, target: str) -> int:
    return next(m["in_flight"] for m in routes(gw)[route]["members"] if m["target"] == target)


# --------------------------------------------------------------------------- bare-id pools


def test_a_bare_id_two_providers_serve_is_one_pool(gw, oai, alpha, gamma):
    c = card(gw, "gpt-4o-mini")
    assert sorted(c["targets"]) == [ALPHA, TWIN], c
    assert c["routing"]["kind"] == "model_pool", c
    assert c["routing"]["strategy"] == "round_robin", c
    # Both members answer to the bare id (round_robin here), and a pinned id stays pinned.
    served = {ask(oai, "gpt-4o-mini")[0] for _ in range(4)}
    assert served == {ALPHA, TWIN}, served
    assert all(r["body"]["model"] == "gpt-4o-mini" for r in alpha.model_requests() + gamma.model_requests())
    target, attempts, _ = ask(oai, TWIN)
    assert target == TWIN
    assert attempts == [f"{TWIN}=ok"], "a pinned provider/model names no strategy"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_a_bare_id_pool_with_one_member_unreachable_answers_every_request(fresh, gamma, stream):
    gw = fresh()
    assert sorted(card(gw, "echo-1")["targets"]) == ["north/echo-1", "south/echo-1"]
    client = gw.client()
    trails = []
    for i in range(12):
        target, attempts, text = ask(client, "echo-1", stream=stream, messages=user(f"n{i}"))
        assert target == "north/echo-1", attempts
        assert text == f"You said: n{i}"
        trails.append(attempts)
    assert len(gamma.model_requests()) == 12
    # The closed port was tried (and failed over) at least once before its circuit opened.
    assert any("south/echo-1=connect_error" in t for t in trails), trails
    assert all(t[0] == "strategy=round_robin" for t in trails), trails


# --------------------------------------------------------------------------- strategies


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_round_robin_alternates(oai, stream):
    targets = [ask(oai, "rr", stream=stream)[0] for _ in range(6)]
    assert set(targets) == {ALPHA, TWIN}, targets
    assert all(a != b for a, b in zip(targets, targets[1:])), f"not alternating: {targets}"
    _, attempts, _ = ask(oai, "rr", stream=stream)
    assert attempts[0] == "strategy=round_robin", attempts


def test_weighted_three_to_one(oai):
    # 200 draws at p = 0.75: the standard deviation of the share is 0.031, so 0.65-0.85
    # (more than 3 of them either side) fails about once in a thousand runs.
    n = 200
    hits = Counter(ask(oai, "split")[0] for _ in range(n))
    assert set(hits) == {ALPHA, TWIN}, hits
    share = hits[ALPHA] / n
    assert 0.65 <= share <= 0.85, f"alpha (weight 3) got {share:.2f} of {n}: {hits}"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_least_latency_prefers_the_faster_member_and_moves_back(fresh, alpha, gamma, stream):
    gw = fresh()
    client = gw.client()
    alpha.default(reply(latency_ms=120))  # alpha/gpt-4o-mini: slow
    gamma.default(reply(latency_ms=5))  # twin/gpt-4o-mini: fast
    for _ in range(4):  # warm-up: every member gets a first sample
        ask(client, "quick", stream=stream)
    picked = [ask(client, "quick", stream=stream)[0] for _ in range(30)]
    share = picked.count(TWIN) / len(picked)
    assert share >= 0.8, f"the faster member got {share:.2f}: {picked}"
    _, attempts, _ = ask(client, "quick", stream=stream)
    assert attempts[0] == "strategy=least_latency", attempts

    # The slow one becomes the fast one: the periodic probe notices within a bounded number.
    alpha.default(reply(latency_ms=5))
    gamma.default(reply(latency_ms=120))
    moved_after = None
    for i in range(30):
        if ask(client, "quick", stream=stream)[0] == ALPHA and moved_after is None:
            moved_after = i + 1
    assert moved_after is not None and moved_after <= 20, f"moved back after {moved_after} requests"
    tail = [ask(client, "quick", stream=stream)[0] for _ in range(10)]
    assert tail.count(ALPHA) >= 8, tail

    figures = {m["target"]: m for m in routes(gw)["quick"]["members"]}
    key = "ttft_ms" if stream else "latency_ms"
    assert figures[ALPHA][key] is not None and figures[TWIN][key] is not None, figures
    assert figures[ALPHA][key] < figures[TWIN][key], figures
    assert list(figures) == [ALPHA, TWIN], "the next request goes to the faster member first"


def test_least_busy_steers_around_a_member_with_a_request_in_flight(fresh, alpha):
    gw = fresh()
    client = gw.client()
    # Idle members take turns.
    idle = [ask(client, "calm")[0] for _ in range(4)]
    assert set(idle) == {ALPHA, TWIN}, idle

    # A request held 1.5 s on alpha (pinned: in flight on the same upstream all the same)...
    alpha.default(reply(latency_ms=1500))
    held: list[str] = []
    background = threading.Thread(target=lambda: held.append(ask(client, ALPHA)[0]))
    background.start()
    deadline = time.monotonic() + 5
    while in_flight(gw, "calm", ALPHA) != 1:
        assert time.monotonic() < deadline, routes(gw)["calm"]
        time.sleep(0.02)
    # ...and every request meanwhile goes to twin (round_robin would alternate).
    started = time.monotonic()
    meanwhile = [ask(client, "calm")[0] for _ in range(6)]
    still_held = time.monotonic() - started < 1.0
    background.join(10)
    assert meanwhile == [TWIN] * 6, meanwhile
    assert held == [ALPHA]
    assert still_held, "alpha's request must still have been in flight"


def test_cheapest_goes_to_the_lowest_price_and_fails_over_to_the_next(gw, oai, gamma):
    assert [ask(oai, "thrifty")[0] for _ in range(3)] == ["cheap/m-cheap"] * 3
    assert [r["body"]["model"] for r in gamma.model_requests()] == ["m-cheap"] * 3
    gamma.script({"error": {"status": 503, "message": "cheap is busy"}})
    target, attempts, _ = ask(oai, "thrifty")
    assert target == "dear/m-dear"
    assert attempts[:2] == ["strategy=cheapest", "cheap/m-cheap=503"], attempts
    prices = {m["target"]: m["price"] for m in routes(gw)["thrifty"]["members"]}
    assert prices == {"cheap/m-cheap": 0.5, "dear/m-dear": 40.0}, prices


# --------------------------------------------------------------------------- request-aware skips


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_an_image_request_skips_the_member_without_image_input(oai, alpha, gamma, stream):
    target, attempts, text = ask(oai, "eyes", stream=stream, messages=image_message())
    assert target == ALPHA
    assert text == "You said: what is in this picture?"
    assert attempts == ["strategy=ordered", f"{ALPHA}=ok", "plain/textonly=skipped(image)"], attempts
    assert gamma.model_requests() == [], "the text-only member must not be tried"
    [req] = alpha.model_requests()
    assert any(p.get("type") == "image_url" for p in req["body"]["messages"][0]["content"])
    # The same alias without an image goes to its first member.
    target, attempts, _ = ask(oai, "eyes")
    assert (target, attempts) == ("plain/textonly", ["strategy=ordered", "plain/textonly=ok"])


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_a_pool_where_nobody_takes_images_refuses_an_image_request(oai, gamma, stream):
    with pytest.raises(openai.BadRequestError) as ei:
        oai.chat.completions.create(model="blind", messages=image_message(), stream=stream)
    assert ei.value.status_code == 400
    err = openai_error(ei.value.response)
    assert err["code"] == "no_capable_target", err
    assert err["type"] == "invalid_request_error", err
    assert "image" in err["message"] and "blind" in err["message"], err
    assert "plain/textonly=skipped(image)" in (ei.value.response.headers.get(ATTEMPTS) or "")
    assert gamma.model_requests() == []
    # Text alone is served.
    assert ask(oai, "blind")[0] == "plain/textonly"


def test_a_pool_where_nobody_takes_images_refuses_in_the_anthropic_shape(gw, gamma):
    claude = anthropic.Anthropic(base_url=gw.root, api_key=CLIENT_KEY, max_retries=0, timeout=30)
    with pytest.raises(anthropic.BadRequestError) as ei:
        claude.messages.create(
            model="blind",
            max_tokens=50,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                        {"type": "text", "text": "what is this?"},
                    ],
                }
            ],
        )
    assert ei.value.status_code == 400
    body = ei.value.response.json()
    assert body["type"] == "error", body
    assert body["error"]["type"] == "invalid_request_error", body
    assert "image" in body["error"]["message"], body
    assert gamma.model_requests() == []


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_the_context_guard_skips_a_small_window_and_refuses_when_nothing_fits(oai, alpha, gamma, stream):
    # About 4000 tokens asked for against a declared 1000-token window.
    target, attempts, _ = ask(oai, "roomy", stream=stream, max_tokens=4000)
    assert target == ALPHA
    assert "tiny/small-ctx=skipped(context)" in attempts, attempts
    assert gamma.model_requests() == []
    # A short request fits the small window.
    assert ask(oai, "roomy", stream=stream, max_tokens=100)[0] == "tiny/small-ctx"

    with pytest.raises(openai.BadRequestError) as ei:
        oai.chat.completions.create(model="short", messages=user("x"), max_tokens=4000, stream=stream)
    err = openai_error(ei.value.response)
    assert err["code"] == "context_length_exceeded", err
    assert "1000" in err["message"], err
    assert len(gamma.model_requests()) == 1, "only the request that fit reached the upstream"


# --------------------------------------------------------------------------- offline fallback


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_offline_fallback_to_a_local_model(fresh, alpha, stream):
    gw = fresh()
    route = routes(gw)["offline"]
    assert [m["local"] for m in route["members"]] == [False], route
    assert route["fallback"] and route["fallback"][0] == ALPHA, route
    assert card(gw, "offline")["routing"].get("fallback") == "local"

    raw = gw.client().chat.completions.with_raw_response.create(
        model="offline", messages=user("anyone there?"), stream=stream
    )
    assert raw.status_code == 200
    out = raw.parse()
    text = "".join(c.choices[0].delta.content or "" for c in out if c.choices) if stream else out.choices[0].message.content
    assert text == "You said: anyone there?"
    assert raw.headers.get(TARGET) == ALPHA
    attempts = trail(raw)
    assert attempts[0] == "strategy=ordered", attempts
    assert "cloud/gpt-4o=connect_error" in attempts, attempts
    assert attempts.index("fallback=local") < attempts.index(f"{ALPHA}=ok"), attempts
    [req] = alpha.model_requests()
    assert req["body"]["model"] == "gpt-4o-mini"

    # The request log says the same.
    rid = raw.headers.get(REQUEST_ID)
    assert rid
    detail = None
    deadline = time.monotonic() + 10
    with gw.admin() as h:
        while time.monotonic() < deadline:
            r = h.get(f"/admin/requests/{rid}")
            if r.status_code == 200:
                detail = r.json()
                break
            time.sleep(0.05)
    assert detail is not None, f"request {rid} never reached the log"
    assert detail["strategy"] == "ordered", detail
    by_target = {a["target"]: a for a in detail["attempts"]}
    assert by_target[ALPHA]["outcome"] == "ok" and by_target[ALPHA].get("fallback") is True, detail
    assert by_target["cloud/gpt-4o"]["outcome"] == "connect_error", detail
    assert not by_target["cloud/gpt-4o"].get("fallback"), detail


def test_no_offline_fallback_on_an_upstream_5xx(fresh, alpha, gamma):
    gw = fresh()
    gamma.default({"error": {"status": 503, "message": "cloud is overloaded"}})
    with pytest.raises(openai.InternalServerError) as ei:
        gw.client().chat.completions.create(model="flaky", messages=user("x"))
    assert ei.value.status_code == 503
    assert "cloud is overloaded" in ei.value.message
    attempts = ei.value.response.headers.get(ATTEMPTS) or ""
    assert "cloud5/gpt-4.1" in attempts and "fallback=local" not in attempts, attempts
    assert alpha.model_requests() == [], "a 5xx is not offline: no local model may answer"
    assert gamma.model_requests(), "the cloud member was tried"


# --------------------------------------------------------------------------- capability pools


def test_a_capability_pool_from_declared_capabilities(gw, oai, gamma):
    c = card(gw, "vision")
    assert c["routing"]["kind"] == "pool", c
    assert c["routing"]["strategy"] == "least_latency", c
    assert c["routing"]["require"] == "input image", c
    assert sorted(c["targets"]) == ["seer/seer-1", "seer/seer-2"], "declared image input, and only that"

    served = Counter()
    for stream in (False, True, False, True, False, True):
        target, attempts, _ = ask(oai, "vision", stream=stream, messages=image_message())
        assert attempts[0] == "strategy=least_latency", attempts
        served[target] += 1
    assert set(served) <= {"seer/seer-1", "seer/seer-2"}, served
    assert {r["body"]["model"] for r in gamma.model_requests()} <= {"seer-1", "seer-2"}

    route = routes(gw)["vision"]
    assert route["kind"] == "pool" and route["require"] == "input image", route
    members = {m["target"]: m for m in route["members"]}
    assert set(members) == {"seer/seer-1", "seer/seer-2"}, route
    assert sum(m["requests"] for m in members.values()) >= 6, members
    for m in members.values():
        if m["requests"]:
            assert m["latency_ms"] is not None or m["ttft_ms"] is not None, m
            assert m["error_rate"] == 0 and m["circuit"] == "closed", m

    # /metrics carries the same per-member figures.
    text = httpx.get(gw.root + "/metrics", timeout=10).text
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    latency = {
        (s.labels["target"], s.labels["kind"]): s.value
        for s in samples
        if s.name == "switchyard_target_latency_seconds"
    }
    for target, m in members.items():
        for kind, ms in (("total", m["latency_ms"]), ("ttft", m["ttft_ms"])):
            if ms is not None:
                assert latency.get((target, kind), 0) > 0, (target, kind, latency)
    in_flight = {s.labels["target"]: s.value for s in samples if s.name == "switchyard_target_in_flight"}
    assert all(in_flight[t] == 0 for t in members if members[t]["requests"]), in_flight


def test_a_pool_created_over_the_admin_api_serves_at_once(fresh, gamma):
    gw = fresh()
    with gw.admin() as h:
        r = h.post(
            "/admin/pools",
            json={"name": "lookers", "require": {"input": ["image"]}, "strategy": "round_robin", "providers": ["seer"]},
        )
        assert r.status_code == 201, r.text
        made = r.json()
        assert sorted(made["members"]) == ["seer/seer-1", "seer/seer-2"], made
        assert made["strategy"] == "round_robin", made
        listed = h.get("/admin/pools").json()["data"]
        assert "lookers" in {p["name"] for p in listed}
    assert 'name = "lookers"' in gw.config_path.read_text(), "the pool is written to the config"
    assert card(gw, "lookers")["routing"]["kind"] == "pool"
    client = gw.client()
    targets = [ask(client, "lookers", messages=image_message())[0] for _ in range(4)]
    assert sorted(set(targets)) == ["seer/seer-1", "seer/seer-2"], targets
    assert "lookers" in routes(gw)

    # A requirement nobody meets: an empty pool, a clear 503 naming it.
    with gw.admin() as h:
        r = h.post("/admin/pools", json={"name": "nobody", "require": {"min_context": 10_000_000}, "providers": ["seer"]})
        assert r.status_code == 201, r.text
        assert r.json()["members"] == []
    with pytest.raises(openai.InternalServerError) as ei:
        client.chat.completions.create(model="nobody", messages=user("x"))
    assert ei.value.status_code == 503
    err = openai_error(ei.value.response)
    assert err["code"] == "pool_empty", err
    assert "10000000" in err["message"], err
