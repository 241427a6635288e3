"""Observability through the real binary: `/metrics` counts exactly what clients saw, secrets
never reach the request log, the logs or the admin API, and every request leaves exactly one
row in `switchyard.db` with the status its client saw (499 when it went away).

Each test starts a gateway of its own (`fresh_gateway`), so the counters and the database hold
only what the test sent."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from helpers import ADMIN_KEY, ALPHA, BETA, CLIENT_KEY, header, user

REQUEST_ID = "x-switchyard-request-id"
UNKNOWN_MODEL = "no-such-model"
CHAT = "/v1/chat/completions"


# --------------------------------------------------------------------------- helpers


def metric_samples(text: str) -> list[Any]:
    """Every sample of a Prometheus text exposition (fails if it does not parse)."""
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def scrape(gw: Any) -> list[Any]:
    r = httpx.get(gw.root + "/metrics", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers.get("content-type", "").startswith("text/plain"), r.headers
    return metric_samples(r.text)


def by_labels(samples: list[Any], name: str, *keys: str) -> dict[tuple[str, ...], float]:
    return {tuple(s.labels[k] for k in keys): s.value for s in samples if s.name == name}


def scalar(samples: list[Any], name: str) -> float:
    values = [s.value for s in samples if s.name == name and not s.labels]
    assert len(values) == 1, f"{name}: expected one unlabelled sample, got {values}"
    return values[0]


def wait_for_rows_written(gw: Any, n: int, timeout: float = 10) -> list[Any]:
    """Polls /metrics until the log writer has committed `n` rows; returns the last scrape."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(gw)
        written = scalar(samples, "switchyard_log_rows_written_total")
        if written >= n or time.monotonic() > deadline:
            assert written == n, f"log rows written: {written}, requests sent: {n}"
            return samples
        time.sleep(0.05)


def stop_gracefully(gw: Any) -> None:
    """SIGTERM (so the log writer drains), and the gateway must exit cleanly on its own."""
    rc = gw.proc.terminate(timeout=20)
    assert rc is not None, f"the gateway did not exit within 20 s of SIGTERM\n{gw.proc.log()}"
    assert rc == 0, f"the gateway exited with {rc} after SIGTERM\n{gw.proc.log()}"
    gw.proc.drained()


def db_rows(data_dir: Path) -> list[dict[str, Any]]:
    db = data_dir / "switchyard.db"
    assert db.is_file(), f"no request log at {db}; files there: {sorted(p.name for p in data_dir.iterdir())}"
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        rows = con.execute(
            "SELECT r.*, b.request_body FROM requests r LEFT JOIN request_bodies b ON b.id = r.id"
        ).fetchall()
        # The row key is the number behind the request id clients see: req_ + 16 hex digits.
        return [dict(row) | {"id": f"req_{row['id']:016x}"} for row in rows]
    finally:
        con.close()


def raise_status(fn: Callable[[], Any]) -> int:
    """Runs an SDK call that must fail with an HTTP status; returns that status."""
    with pytest.raises(openai.APIStatusError) as ei:
        fn()
    return ei.value.status_code


# --------------------------------------------------------------------------- /metrics


def test_metrics_count_exactly_what_clients_saw(fresh_gateway, alpha):
    gw = fresh_gateway()
    client = gw.client()
    seen: Counter[tuple[str, str, str]] = Counter()  # (model, provider, status) -> requests
    streamed: Counter[tuple[str, str]] = Counter()  # (model, provider) -> streamed answers

    for _ in range(3):
        client.chat.completions.create(model=ALPHA, messages=user("count me"))
        seen[(ALPHA, "alpha", "200")] += 1
    for _ in range(2):
        chunks = list(client.chat.completions.create(model=ALPHA, messages=user("stream me"), stream=True))
        assert chunks
        seen[(ALPHA, "alpha", "200")] += 1
        streamed[(ALPHA, "alpha")] += 1
    client.chat.completions.create(model=BETA, messages=user("count me too"))
    seen[(BETA, "beta", "200")] += 1

    # A single-target model that stays down through every retry round. A failure counts
    # against the provider that failed (its last attempt's), not under "".
    alpha.default({"error": {"status": 503, "message": "alpha is down"}})
    status = raise_status(lambda: client.chat.completions.create(model=ALPHA, messages=user("x")))
    assert status == 503, "an upstream that stays at 503 on a single-target model"
    seen[(ALPHA, "alpha", str(status))] += 1
    alpha.reset()

    # No provider was tried at all: "".
    status = raise_status(lambda: client.chat.completions.create(model=UNKNOWN_MODEL, messages=user("x")))
    assert status == 404
    seen[(UNKNOWN_MODEL, "", "404")] += 1
    client.close()

    sent = sum(seen.values())
    samples = wait_for_rows_written(gw, sent)

    requests_total = by_labels(samples, "switchyard_requests_total", "model", "provider", "status")
    assert requests_total == {k: float(v) for k, v in seen.items()}

    per_pair: Counter[tuple[str, str]] = Counter()
    for (model, provider, _), n in seen.items():
        per_pair[(model, provider)] += n
    durations = by_labels(samples, "switchyard_request_duration_seconds_count", "model", "provider")
    assert durations == {k: float(v) for k, v in per_pair.items()}
    ttft = by_labels(samples, "switchyard_time_to_first_token_seconds_count", "model", "provider")
    assert ttft == {k: float(v) for k, v in streamed.items()}

    # Buckets: cumulative, and +Inf equals _count, for every series of both histograms.
    for name in ("switchyard_request_duration_seconds", "switchyard_time_to_first_token_seconds"):
        series: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for s in samples:
            if s.name == name + "_bucket":
                series.setdefault((s.labels["model"], s.labels["provider"]), []).append(
                    (float(s.labels["le"]), s.value)
                )
        counts = by_labels(samples, name + "_count", "model", "provider")
        assert set(series) == set(counts), name
        for key, buckets in series.items():
            buckets.sort()
            values = [v for _, v in buckets]
            assert values == sorted(values), f"{name}{key}: buckets not cumulative: {buckets}"
            assert buckets[-1] == (float("inf"), counts[key]), f"{name}{key}: +Inf bucket != _count"

    tokens = by_labels(samples, "switchyard_tokens_total", "model", "provider", "kind")
    assert tokens.get((ALPHA, "alpha", "prompt"), 0) > 0, tokens
    assert {k[2] for k in tokens} <= {"prompt", "completion", "cached", "reasoning"}, tokens
    assert {k[:2] for k in tokens} <= {(ALPHA, "alpha"), (BETA, "beta")}, "tokens only for answers"

    assert scalar(samples, "switchyard_log_rows_dropped_total") == 0
    assert scalar(samples, "switchyard_in_flight_requests") == 0
    assert scalar(samples, "switchyard_uptime_seconds") > 0
    statsz = httpx.get(gw.root + "/statsz", timeout=10).json()
    assert statsz["requests"] == sent and statsz["errors"] == 2, statsz
    assert statsz["log"]["dropped"] == 0, statsz


# --------------------------------------------------------------------------- redaction


CANARY_ENV = "SWITCHYARD_CANARY_UPSTREAM_KEY"
CANARY_PROVIDERS = f"""
[[providers]]
name = "canary"
kind = "openai"
base_url = "{{alpha}}"
api_key = "env:{CANARY_ENV}"
models = ["gpt-4o-mini"]

[[providers]]
name = "canary-claude"
kind = "anthropic"
base_url = "{{beta}}"
api_key = "env:{CANARY_ENV}"
models = ["claude-sonnet-4-5"]
"""


def test_secrets_never_reach_the_log_the_output_or_the_admin_api(fresh_gateway, alpha, beta, tmp_path):
    client_token = secrets.token_hex(12)
    upstream_token = secrets.token_hex(12)
    client_canary = f"sk-canary-client-{client_token}"
    upstream_canary = f"sk-canary-upstream-{upstream_token}"
    data_dir = tmp_path / "data"
    gw = fresh_gateway(
        top_config=f'data_dir = "{data_dir}"\n',
        extra_config=CANARY_PROVIDERS,
        # Debug logging: a secret must not leak at the level people turn on to troubleshoot.
        extra_env={CANARY_ENV: upstream_canary, "SWITCHYARD_LOG": "debug"},
    )
    client = gw.client(api_key=client_canary)
    sent = 0

    for model in ("canary/gpt-4o-mini", "canary-claude/claude-sonnet-4-5"):
        client.chat.completions.create(model=model, messages=user("hello"))
        list(client.chat.completions.create(model=model, messages=user("hello"), stream=True))
        sent += 2
    # Errors: an upstream refusal (not retried), a failure mid-stream, an unknown model.
    alpha.script({"error": {"status": 401, "message": "Incorrect API key provided"}})
    assert raise_status(lambda: client.chat.completions.create(model="canary/gpt-4o-mini", messages=user("x"))) == 401
    sent += 1
    alpha.script({"error_event_after": {"reply": {"text": "one two three four five six"}, "after": 3}})
    with pytest.raises(openai.APIError):
        list(client.chat.completions.create(model="canary/gpt-4o-mini", messages=user("x"), stream=True))
    sent += 1
    assert raise_status(lambda: client.chat.completions.create(model=UNKNOWN_MODEL, messages=user("x"))) == 404
    sent += 1
    client.models.list()
    sent += 1
    client.close()

    # The upstreams did get the canary: otherwise its absence below would prove nothing.
    a_reqs, b_reqs = alpha.model_requests(), beta.model_requests()
    assert len(a_reqs) == 4 and len(b_reqs) == 2, (len(a_reqs), len(b_reqs))
    assert all(header(r, "authorization") == f"Bearer {upstream_canary}" for r in a_reqs)
    assert all(header(r, "x-api-key") == upstream_canary for r in b_reqs)

    wait_for_rows_written(gw, sent)
    admin: dict[str, str] = {}
    # The admin API needs the admin key; the client canary opens `/v1` only.
    with gw.admin(timeout=10) as h:
        ids: list[str] = []
        cursor = None
        while True:
            r = h.get("/admin/requests", params={"limit": 5, **({"cursor": cursor} if cursor else {})})
            assert r.status_code == 200, r.text
            admin[f"/admin/requests?cursor={cursor}"] = r.text
            page = r.json()
            ids += [row["id"] for row in page["requests"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        assert len(ids) == sent == len(set(ids)), (len(ids), sent)
        for rid in ids:
            r = h.get(f"/admin/requests/{rid}")
            assert r.status_code == 200, r.text
            admin[f"/admin/requests/{rid}"] = r.text
        for path in (
            "/statsz",
            "/metrics",
            "/admin/stats",
            "/admin/stats/latency",
            "/admin/stats/tokens",
            "/admin/traffic/days",
            "/admin/health/providers",
        ):
            r = h.get(path)
            assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
            admin[path] = r.text
    details = [json.loads(admin[f"/admin/requests/{rid}"]) for rid in ids]
    assert any(d.get("request_body") for d in details), "bodies were meant to be captured"

    stop_gracefully(gw)

    needles = {
        "client key": client_canary,
        "client key (random part)": client_token,
        "upstream key": upstream_canary,
        "upstream key (random part)": upstream_token,
        "admin key": ADMIN_KEY,
    }
    leaks = []
    roots = [root for root in (data_dir, gw.workdir / "home") if root.exists()]
    files = sorted(p for root in roots for p in root.rglob("*") if p.is_file())
    assert any(p.name == "switchyard.db" for p in files), f"no database in {data_dir}: {files}"
    for path in files:
        data = path.read_bytes()
        leaks += [f"{what} in {path}" for what, n in needles.items() if n.encode() in data]
    output = gw.proc.output()
    leaks += [f"{what} in the gateway's stdout/stderr" for what, n in needles.items() if n in output]
    for where, text in admin.items():
        leaks += [f"{what} in GET {where}" for what, n in needles.items() if n in text]
    assert leaks == [], "secrets leaked:\n" + "\n".join(leaks)
    assert len(db_rows(data_dir)) == sent


# --------------------------------------------------------------------------- zero lost rows


STREAM_TEXT = " ".join(f"word{i}" for i in range(30))  # 30 chunks, 40 ms apart: ~1.2 s
STALL_PROVIDER = """
[[providers]]
name = "stall"
kind = "openai"
base_url = "{gamma}"
api_key = "env:ALPHA_KEY"
models = ["gpt-4o-mini"]
"""
STALLED = "stall/gpt-4o-mini"


def _chat_body(model: str | None, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"messages": user("log me"), "stream": stream}
    if model is not None:
        body["model"] = model
    return body


def _plan() -> list[tuple[str, Any]]:
    """(kind, argument) for each of the 60 concurrent requests."""
    plan: list[tuple[str, Any]] = []
    plan += [("whole", _chat_body(ALPHA, False))] * 10
    plan += [("stream", _chat_body(ALPHA, True))] * 12
    plan += [("cancel", _chat_body(ALPHA, True))] * 10  # closed after the first chunk
    plan += [("abandon", _chat_body(STALLED, True))] * 2  # closed before any header came
    plan += [("abandon", _chat_body(STALLED, False))] * 2
    plan += [("whole", _chat_body(BETA, False))] * 4  # beta stays down: upstream 503s
    plan += [("stream", _chat_body(BETA, True))] * 4
    plan += [("whole", _chat_body("dead/gpt-4o-mini-dead", False))] * 6  # connection refused
    plan += [("whole", _chat_body(UNKNOWN_MODEL, False))] * 4
    plan += [("whole", {"model": ALPHA})] * 2  # no messages: 400
    plan += [("whole", _chat_body(ALPHA, "yes"))] * 2  # stream is not a boolean: 400
    plan += [("path", "/v1/no/such/endpoint")] * 2
    assert len(plan) == 60
    return plan


def test_every_request_leaves_exactly_one_row_with_the_status_its_client_saw(fresh_gateway, alpha, beta, gamma):
    gw = fresh_gateway(extra_config=STALL_PROVIDER)
    alpha.default({"reply": {"text": STREAM_TEXT, "chunk_delay_ms": 40}})
    beta.default({"error": {"status": 503, "message": "beta is down"}})
    gamma.default("stall_before_headers")
    plan = _plan()
    barrier = threading.Barrier(len(plan))

    def one(i: int) -> dict[str, Any]:
        out = send(i)
        body = plan[i][1]
        if isinstance(body, dict) and "messages" in body and isinstance(body["stream"], bool):
            out["model"] = body["model"]  # a well-formed request: its row names the model
        return out

    def send(i: int) -> dict[str, Any]:
        kind, arg = plan[i]
        with httpx.Client(
            base_url=gw.root, timeout=30, headers={"authorization": f"Bearer {CLIENT_KEY}"}
        ) as h:
            barrier.wait(timeout=30)
            if kind == "path":
                r = h.post(arg, json=_chat_body(ALPHA, False))
                return {"kind": kind, "id": r.headers.get(REQUEST_ID), "status": r.status_code}
            if kind == "whole":
                r = h.post(CHAT, json=arg)
                return {"kind": kind, "id": r.headers.get(REQUEST_ID), "status": r.status_code}
            if kind == "abandon":
                # The upstream never answers: the client gives up before the response headers,
                # so it never learns the request id; its row must still be there, as a 499.
                with pytest.raises(httpx.ReadTimeout):
                    h.post(CHAT, json=arg, timeout=httpx.Timeout(30, read=1.0))
                return {"kind": kind, "id": None, "status": 499}
            with h.stream("POST", CHAT, json=arg) as r:
                out = {"kind": kind, "id": r.headers.get(REQUEST_ID), "status": r.status_code}
                if kind == "cancel":
                    assert r.status_code == 200, r.read()
                    for chunk in r.iter_raw():
                        if chunk:
                            break
                    out["status"] = 499  # what the gateway must record: the client went away
                    return out  # leaving the block closes the connection mid-stream
                body = r.read().decode()
                if r.status_code == 200:
                    assert body.rstrip().endswith("data: [DONE]"), body[-200:]
                return out

    with ThreadPoolExecutor(max_workers=len(plan)) as pool:
        results = list(pool.map(one, range(len(plan))))

    answered = [r for r in results if r["kind"] != "abandon"]
    abandoned = len(results) - len(answered)
    missing = [r for r in answered if not r["id"]]
    assert missing == [], f"responses without {REQUEST_ID}: {missing}"
    assert len({r["id"] for r in answered}) == len(answered), "request ids must be unique"
    seen = Counter(r["status"] for r in results)
    assert seen[200] == 22 and seen[499] == 10 + abandoned, seen
    assert sum(n for s, n in seen.items() if s >= 400 and s != 499) == 24, seen
    # The gateway notices every client that went away (and stops waiting for its upstream).
    deadline = time.monotonic() + 10
    while (in_flight := scalar(scrape(gw), "switchyard_in_flight_requests")) > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_flight == 0, "requests still in flight 10 s after every client had its answer or left"

    samples = scrape(gw)
    assert scalar(samples, "switchyard_log_rows_dropped_total") == 0
    by_status: Counter[int] = Counter()
    for s in samples:
        if s.name == "switchyard_requests_total":
            by_status[int(s.labels["status"])] += int(s.value)
    assert by_status == seen, "/metrics must count what the clients saw"
    stop_gracefully(gw)

    rows = db_rows(gw.workdir / "home")
    assert len(rows) == len(plan), f"{len(rows)} rows for {len(plan)} requests"
    recorded = {row["id"]: row for row in rows}
    wrong = []
    unmatched = [row for row in rows if row["id"] not in {r["id"] for r in answered}]
    got = sorted((row["requested_model"], row["status"], row["outcome"]) for row in unmatched)
    if got != [(STALLED, 499, "client_closed")] * abandoned:
        wrong.append(f"rows of the {abandoned} requests abandoned before any header: {got}")
    for r in answered:
        row = recorded.get(r["id"])
        if row is None:
            wrong.append(f"{r['kind']} {r['id']}: no row")
            continue
        outcome = "ok" if r["status"] == 200 else "client_closed" if r["status"] == 499 else "error"
        if (row["status"], row["outcome"]) != (r["status"], outcome):
            wrong.append(
                f"{r['kind']} {r['id']}: client saw {r['status']} ({outcome}), "
                f"row says {row['status']} ({row['outcome']})"
            )
        if "model" in r and row["requested_model"] != r["model"]:
            wrong.append(f"{r['kind']} {r['id']}: asked for {r['model']}, row says {row['requested_model']}")
    assert wrong == [], "\n".join(wrong)


def test_requests_cut_when_the_shutdown_grace_ends_still_leave_their_rows(fresh_gateway, gamma):
    gw = fresh_gateway(extra_config=STALL_PROVIDER + "\n[limits]\nshutdown_grace_ms = 500\n")
    # Streams that start and then hang: still in flight when the grace period is over.
    gamma.default({"stall_after_events": {"reply": {"text": STREAM_TEXT}, "after": 2}})
    n = 3
    started = threading.Barrier(n + 1)
    results: list[dict[str, Any]] = []

    def one() -> None:
        with httpx.Client(base_url=gw.root, timeout=30) as h:
            with h.stream("POST", CHAT, json=_chat_body(STALLED, True)) as r:
                out = {"id": r.headers.get(REQUEST_ID), "status": r.status_code, "cut": False}
                results.append(out)
                started.wait(timeout=30)
                try:
                    for _ in r.iter_raw():
                        pass
                except httpx.RemoteProtocolError:
                    out["cut"] = True

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    started.wait(timeout=30)
    assert scalar(scrape(gw), "switchyard_in_flight_requests") == n
    stop_gracefully(gw)
    for t in threads:
        t.join(timeout=10)

    assert [(r["status"], r["cut"]) for r in results] == [(200, True)] * n, results
    log = gw.proc.output()
    rows = {row["id"]: row for row in db_rows(gw.workdir / "home")}
    got = [(rows[r["id"]]["status"], rows[r["id"]]["outcome"]) if r["id"] in rows else None for r in results]
    # The client saw a 200 whose stream the gateway cut: not a client that went away.
    assert got == [(200, "error")] * n, f"rows: {got}\n{log[-2000:]}"
