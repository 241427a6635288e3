"""Access control through the real binary (reliability.md §5.7, §5.8): client keys and roles,
where tokens may come from, the Host allow-list (DNS rebinding), Origin checks and CORS,
non-loopback binds, path and header tricks, and tokens never reaching a log.

Two gateways serve most tests, one with `access.require_key = true` ("locked") and one
without ("open"); both know the same keys. Requests whose exact bytes matter (Host, absolute
request lines, duplicate headers, unnormalised paths) go through a raw socket."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from typing import Any

import httpx
import openai
import pytest

from conftest import GATEWAY_BIN, Gateway, gateway_env, start_gateway, write_config
from helpers import (
    ADMIN_KEY,
    ADMIN_KEY_NAME,
    ALPHA,
    BETA,
    EMBED,
    key_hash,
    openai_error,
    raw_http,
    user,
)

USER_KEY = "sk-sy-Kh9LJRieFbwJGZlJ5uQPPvcoRIXrtX8fN0flrCCzF98"
READ_KEY = "sk-sy-fK0CGy2CLCmDCk2ITvmKqfPHDsYyPOh1iHwEm4XbWjI"
LIMITED_KEY = "sk-sy-VIEh6s3b8ziY_YXOGsA-HXW-kn__AV4PxB5nrmchTLY"
# Shaped like ours, in no config.
UNKNOWN_KEY = "sk-sy-J1OHRSKKPWeYXDZcVFNRYfhXHlSUW39avjxsDznr510"

APP_ORIGIN = "https://app.example"
ALLOWED_HOST = "mybox.lan"

KEYS = f"""
[[keys]]
name = "app-user"
hash = "{key_hash(USER_KEY)}"
role = "user"

[[keys]]
name = "dashboard"
hash = "{key_hash(READ_KEY)}"
role = "read-only"

[[keys]]
name = "limited"
hash = "{key_hash(LIMITED_KEY)}"
role = "user"
models = ["alpha/*", "smart"]
"""

ACCESS = f"""
[access]
require_key = {{require}}
cors_origins = ["{APP_ORIGIN}"]
allowed_hosts = ["{ALLOWED_HOST}"]
"""

CHAT = "/v1/chat/completions"
CHAT_BODY = json.dumps({"model": ALPHA, "messages": user("hi")}).encode()


def _module_gateway(stack: Any, name: str, require: bool, **kw: Any) -> Gateway:
    gw = start_gateway(
        stack.workdir / name,
        stack.endpoints,
        extra_config=KEYS + ACCESS.replace("{require}", "true" if require else "false"),
        **kw,
    )
    stack.extra.append(gw)
    return gw


@pytest.fixture(scope="module")
def locked(stack: Any) -> Any:
    gw = _module_gateway(stack, "access-locked", True)
    yield gw
    gw.proc.stop()


@pytest.fixture(scope="module")
def open_gw(stack: Any) -> Any:
    gw = _module_gateway(stack, "access-open", False)
    yield gw
    gw.proc.stop()


def raw(gw: Gateway, method: str, path: str, headers: list[tuple[str, str]] | None = None, *,
        host: str | None = "default", body: bytes = b"", version: str = "HTTP/1.1") -> Any:
    """One request with exactly these headers; `host=None` sends no Host header."""
    hs: list[tuple[str, str]] = []
    if host == "default":
        host = f"127.0.0.1:{gw.port}"
    if host is not None:
        hs.append(("Host", host))
    hs += headers or []
    return raw_http("127.0.0.1", gw.port, f"{method} {path} {version}", hs, body)


def bearer(key: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {key}")


def chat_raw(gw: Gateway, headers: list[tuple[str, str]], **kw: Any) -> Any:
    return raw(gw, "POST", CHAT, [("Content-Type", "application/json"), *headers], body=CHAT_BODY, **kw)


def status_of(r: Any) -> int:
    return r.status_code if isinstance(r, httpx.Response) else r.status


def header_of(r: Any, name: str) -> str | None:
    return r.headers.get(name) if isinstance(r, httpx.Response) else r.header(name)


def assert_401(r: Any, code: str) -> None:
    assert status_of(r) == 401, f"expected 401 {code}, got {status_of(r)}: {r.text[:400]}"
    err = openai_error(r)
    assert err["type"] == "authentication_error", err
    assert err["code"] == code, err
    assert err["param"] is None, err
    www = header_of(r, "www-authenticate")
    assert www == "Bearer", f"401 must carry WWW-Authenticate: Bearer, got {www!r}"


def assert_403(r: Any, code: str) -> dict[str, Any]:
    assert status_of(r) == 403, f"expected 403 {code}, got {status_of(r)}: {r.text[:400]}"
    err = openai_error(r)
    assert err["type"] == "permission_error", err
    assert err["code"] == code, err
    return err


def no_cors_grant(r: Any) -> None:
    for name in ("access-control-allow-origin", "access-control-allow-private-network",
                 "access-control-allow-credentials", "access-control-allow-methods"):
        assert header_of(r, name) is None, f"a refused request got {name}: {r}"


# --------------------------------------------------------------------------- keys and roles


def test_public_paths_need_no_key(locked):
    with locked.http(keepalive=False) as h:
        for path in ("/", "/healthz"):
            r = h.get(path)
            assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"


def test_locked_gateway_refuses_every_protected_route_without_a_key(locked, alpha):
    with locked.http(keepalive=False) as h:
        for method, path in (
            ("POST", CHAT),
            ("POST", "/v1/embeddings"),
            ("GET", "/v1/models"),
            ("GET", "/v1/models/" + ALPHA),
            ("GET", "/metrics"),
            ("GET", "/statsz"),
            ("GET", "/admin/keys"),
            ("GET", "/admin/settings"),
            ("POST", "/admin/keys"),
        ):
            r = h.request(method, path, json={"model": ALPHA, "messages": user("x")} if method == "POST" else None)
            assert_401(r, "missing_api_key")
        # A path no route serves is a 404 for everyone: there is nothing behind it to protect,
        # and a base URL missing /v1 gets told so instead of being asked for a key.
        r = h.request("GET", "/no/such/route")
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_route"
        r = h.request("POST", "/chat/completions", json={"model": ALPHA, "messages": user("x")})
        assert r.status_code == 404
        assert "Did you mean /v1/chat/completions?" in r.json()["error"]["message"]
    # The SDK sees its own class of error.
    c = locked.client(api_key="placeholder")
    with pytest.raises(openai.AuthenticationError):
        c.chat.completions.create(model=ALPHA, messages=user("x"))
    assert alpha.model_requests() == [], "a refused request must never reach the upstream"


def test_keys_are_read_from_bearer_x_api_key_and_api_key(locked, alpha):
    for headers in (
        [bearer(USER_KEY)],
        [("Authorization", f"bearer {USER_KEY}")],
        [("Authorization", f"BEARER {USER_KEY}")],
        [("Authorization", f"Bearer   {USER_KEY}  ")],
        [("x-api-key", USER_KEY)],
        [("api-key", USER_KEY)],
    ):
        r = chat_raw(locked, headers)
        assert r.status == 200, f"{headers[0][0]}: {headers[0][1][:12]}…: {r}"
    assert len(alpha.model_requests()) == 6
    # And through the official SDK.
    c = locked.client(api_key=USER_KEY)
    out = c.chat.completions.create(model=ALPHA, messages=user("ping"))
    assert out.choices[0].message.content == "You said: ping"


@pytest.mark.parametrize(
    "headers, code",
    [
        ([bearer(UNKNOWN_KEY)], "invalid_api_key"),
        ([bearer("sk-xxx")], "invalid_api_key"),  # placeholders only pass when keys are optional
        ([bearer(USER_KEY.upper())], "invalid_api_key"),
        ([bearer(USER_KEY[:-1])], "invalid_api_key"),
        ([bearer(USER_KEY + "x")], "invalid_api_key"),
        ([("Authorization", "Basic " + "dXNlcjpwYXNz")], "invalid_api_key"),
        ([("Authorization", USER_KEY)], "invalid_api_key"),  # no scheme
        ([("Authorization", f"Token {USER_KEY}")], "invalid_api_key"),
        ([bearer(USER_KEY), bearer(USER_KEY)], "invalid_api_key"),  # two Authorization headers
        ([bearer(UNKNOWN_KEY), ("x-api-key", USER_KEY)], "invalid_api_key"),  # Authorization wins
        ([("x-api-key", UNKNOWN_KEY)], "invalid_api_key"),
        ([("x-api-key", "   ")], "missing_api_key"),
    ],
    ids=[
        "unknown-sk-sy",
        "placeholder",
        "upper-case",
        "truncated",
        "extended",
        "basic",
        "no-scheme",
        "token-scheme",
        "two-authorization",
        "authorization-before-x-api-key",
        "unknown-x-api-key",
        "blank-x-api-key",
    ],
)
def test_locked_gateway_refuses_bad_tokens(locked, alpha, headers, code):
    r = chat_raw(locked, headers)
    assert_401(r, code)
    assert alpha.model_requests() == []


def test_an_empty_bearer_counts_as_no_token(locked, open_gw, alpha):
    """Clients with no key configured send `Authorization: Bearer ` (the trailing space is
    dropped on the wire). That is no token: `missing_api_key` where keys are required, and
    no obstacle where they are not."""
    wrong = []
    for value in ("Bearer", "Bearer ", "Bearer    ", "bearer"):
        r = chat_raw(locked, [("Authorization", value)])
        if r.status != 401 or openai_error(r)["code"] != "missing_api_key":
            wrong.append(f"locked gateway, Authorization: {value!r}: {r.status} {r.text}")
        r = chat_raw(open_gw, [("Authorization", value)])
        if r.status != 200:
            wrong.append(f"open gateway, Authorization: {value!r}: {r.status} {r.text}")
    assert wrong == [], "\n".join(wrong)
    assert len(alpha.model_requests()) == 4


def test_tokens_with_control_characters_are_refused(locked, alpha):
    for value in (f"Bearer {USER_KEY}\x00", f"Bearer {USER_KEY}\x00admin", f"Bearer {USER_KEY}\x0b"):
        r = chat_raw(locked, [("Authorization", value)])
        assert r.status in (400, 401), f"{value[-8:]!r}: {r}"
    # A line break inside the value is a header injection; obs-fold is obsolete syntax.
    r = chat_raw(locked, [("Authorization", f"Bearer {USER_KEY}\r\nX-Injected: 1")])
    assert r.status in (200, 400, 401), r  # the key itself is valid; the injected header grants nothing
    r = chat_raw(locked, [("Authorization", f"Bearer\r\n {USER_KEY}")])
    assert r.status in (400, 401), f"obs-fold continuation: {r}"
    assert len(alpha.model_requests()) <= 1


def test_websocket_upgrades_on_admin_are_not_switched(locked, open_gw):
    ws = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13"),
          ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]
    for gw in (locked, open_gw):
        r = raw(gw, "GET", "/admin/keys", ws)
        assert r.status == 401, r
        r = raw(gw, "GET", "/admin/keys", ws + [("Origin", "https://evil.example")])
        assert r.status == 403, r
        r = raw(gw, "GET", "/admin/keys", ws + [bearer(ADMIN_KEY)])
        assert r.status != 101, r


def test_a_huge_token_is_refused_fast(locked, alpha):
    started = time.monotonic()
    try:
        r = chat_raw(locked, [bearer("sk-sy-" + "A" * (1024 * 1024))])
        status = r.status
    except (ConnectionResetError, BrokenPipeError):
        status = None  # the server hung up on the oversized head: also a refusal
    assert status in (None, 400, 401, 431), status
    assert time.monotonic() - started < 5
    assert alpha.model_requests() == []
    # The gateway is still fine.
    assert chat_raw(locked, [bearer(USER_KEY)]).status == 200


def test_roles(locked, alpha):
    with locked.http(READ_KEY, keepalive=False) as ro, locked.http(USER_KEY, keepalive=False) as usr, locked.admin(keepalive=False) as adm:
        # read-only: lists models, reads counters and the admin API, never spends tokens.
        assert ro.get("/v1/models").status_code == 200
        assert ro.get("/v1/models/" + ALPHA).status_code == 200
        assert ro.get("/metrics").status_code == 200
        assert ro.get("/statsz").status_code == 200
        err = assert_403(ro.post(CHAT, json={"model": ALPHA, "messages": user("x")}), "insufficient_role")
        assert "read-only" in err["message"], err
        assert_403(ro.post("/v1/embeddings", json={"model": EMBED, "input": "x"}), "insufficient_role")
        assert ro.get("/admin/keys").status_code == 200
        assert ro.head("/admin/settings").status_code == 200
        assert_403(ro.post("/admin/keys", json={"name": "nope"}), "insufficient_role")
        assert_403(ro.patch("/admin/settings", json={"access": {"require_key": False}}), "insufficient_role")
        assert_403(ro.delete("/admin/keys/app-user"), "insufficient_role")
        # user: the model API, not admin changes.
        assert usr.post(CHAT, json={"model": ALPHA, "messages": user("x")}).status_code == 200
        assert usr.get("/metrics").status_code == 200
        assert_403(usr.post("/admin/keys", json={"name": "nope"}), "insufficient_role")
        assert_403(usr.delete("/admin/keys/dashboard"), "insufficient_role")
        assert_403(usr.put("/admin/aliases/x", json={"targets": [ALPHA]}), "insufficient_role")
        # admin: everything.
        r = adm.get("/admin/keys")
        assert r.status_code == 200
        names = {k["name"] for k in r.json()["data"]}
        assert names == {ADMIN_KEY_NAME, "app-user", "dashboard", "limited"}, names
        assert adm.post(CHAT, json={"model": ALPHA, "messages": user("x")}).status_code == 200
    assert len(alpha.model_requests()) == 2, "refused requests never reach the upstream"


def _refused_then_next(gw: Gateway, headers: list[str]) -> tuple[str, bytes]:
    """On one keep-alive connection: a POST whose body arrives after the gateway has already
    refused it (what a client whose headers and body go out in separate writes gets), then a
    GET /healthz. Returns the refusal's head and what the second request got."""
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
        head = f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\nContent-Type: application/json\r\n"
        head += "".join(f"{h}\r\n" for h in headers)
        s.sendall((head + f"Content-Length: {len(CHAT_BODY)}\r\n\r\n").encode())
        first = b""
        while b"\r\n\r\n" not in first:
            chunk = s.recv(65536)
            if not chunk:
                break
            first += chunk
        refusal = first.split(b"\r\n\r\n")[0].decode("latin-1")
        try:
            s.sendall(CHAT_BODY)
            time.sleep(0.05)
            s.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\n\r\n".encode())
            second = s.recv(65536)
        except (BrokenPipeError, ConnectionResetError) as e:
            second = f"<{type(e).__name__}>".encode()
    return refusal, second


@pytest.mark.parametrize(
    "headers",
    [[], [f"Authorization: Bearer {READ_KEY}"], ["Origin: https://evil.example"]],
    ids=["no-key-401", "read-only-403", "hostile-origin-403"],
)
def test_a_refusal_does_not_break_the_clients_next_request(locked, headers):
    """Keep-alive clients (httpx under the OpenAI SDK, undici under the Node one) reuse the
    connection of a 401/403. If the gateway closes it after refusing a request whose body it
    never read, it must say so (`Connection: close`); otherwise the client's next request on
    that connection dies with "Server disconnected without sending a response"."""
    refusal, second = _refused_then_next(locked, headers)
    assert refusal.split(" ")[1] in ("401", "403"), refusal
    announced = "connection: close" in refusal.lower()
    assert announced or second.startswith(b"HTTP/1.1 200"), (
        f"the connection was dropped after\n{refusal}\nwithout `Connection: close`; the next request got {second[:60]!r}"
    )


def test_a_user_key_cannot_read_the_admin_api(locked):
    """§5.7 role separation: a `/v1` client key (what Cursor or Cline holds) cannot call
    `/admin/*`. Reads matter as much as writes here: `/admin/requests` holds every other
    client's prompts and answers, `/admin/keys` and `/admin/settings` the access setup."""
    with locked.http(USER_KEY, keepalive=False) as usr:
        for path in ("/admin/requests", "/admin/keys", "/admin/settings", "/admin/providers"):
            r = usr.get(path)
            assert r.status_code == 403, f"GET {path} with a user key: {r.status_code} {r.text[:300]}"
            assert openai_error(r)["code"] == "insufficient_role"


def test_model_allow_list(locked, alpha, beta):
    c = locked.client(api_key=LIMITED_KEY)
    assert c.chat.completions.create(model=ALPHA, messages=user("a")).choices[0].message.content == "You said: a"
    assert c.chat.completions.create(model="smart", messages=user("b")).choices[0].message.content == "You said: b"
    assert c.embeddings.create(model=EMBED, input="x").data
    for model in (BETA, "resilient", "dead/gpt-4o-mini-dead"):
        with pytest.raises(openai.PermissionDeniedError) as ei:
            c.chat.completions.create(model=model, messages=user("x"))
        err = ei.value.body if isinstance(ei.value.body, dict) else {}
        err = err.get("error", err)
        assert err.get("code") == "model_not_allowed" and err.get("param") == "model", (model, ei.value.body)
        assert ei.value.response.headers.get("www-authenticate") is None
    assert beta.model_requests() == [], "a refused model must not be called"
    ids = sorted(m.id for m in c.models.list())
    assert ids == sorted(["alpha/gpt-4o-mini", "alpha/text-embedding-3-small", "smart"]), ids
    with pytest.raises(openai.NotFoundError):
        c.models.retrieve(BETA)
    assert c.models.retrieve(ALPHA).id == ALPHA
    # Keys without a list see everything.
    everything = {m.id for m in locked.client(api_key=USER_KEY).models.list()}
    assert {BETA, "resilient", "smart", ALPHA} <= everything


@pytest.mark.parametrize("param", ["api_key", "key", "token", "access_token", "apikey", "api-key", "API_KEY"])
def test_credentials_in_the_query_are_refused(locked, open_gw, alpha, param):
    for gw in (locked, open_gw):
        for method, path in (("GET", "/v1/models"), ("POST", CHAT), ("GET", "/healthz"), ("GET", "/admin/keys")):
            sep = "&" if "?" in path else "?"
            r = raw(gw, method, f"{path}{sep}limit=2&{param}={USER_KEY}", [bearer(ADMIN_KEY), ("Content-Type", "application/json")],
                    body=CHAT_BODY if method == "POST" else b"")
            assert r.status == 401, f"{method} {path}?{param}=…: {r}"
            assert openai_error(r)["code"] == "invalid_api_key"
    assert alpha.model_requests() == []
    # Parameters that merely start like one are fine.
    assert raw(open_gw, "GET", "/v1/models?keyword=x&tokens=3").status == 200


def test_open_gateway_ignores_placeholder_keys_but_not_unknown_ones_of_ours(open_gw, alpha):
    for placeholder in ("sk-xxx", "ollama", "lm-studio", "sk-client-secret", "EMPTY"):
        r = chat_raw(open_gw, [bearer(placeholder)])
        assert r.status == 200, f"placeholder {placeholder!r}: {r}"
    for h in ([bearer(UNKNOWN_KEY)], [("x-api-key", UNKNOWN_KEY)], [bearer(USER_KEY[:-2])]):
        assert_401(chat_raw(open_gw, h), "invalid_api_key")
    assert len(alpha.model_requests()) == 5
    # No key at all: /v1, /metrics and /statsz are open on loopback.
    assert chat_raw(open_gw, []).status == 200
    assert raw(open_gw, "GET", "/metrics").status == 200
    assert raw(open_gw, "GET", "/statsz").status == 200


def test_open_gateway_admin_needs_an_admin_key_or_the_built_in_ui(open_gw):
    own = f"http://127.0.0.1:{open_gw.port}"
    path = "/admin/settings"
    r = raw(open_gw, "GET", path)
    assert_401(r, "missing_api_key")
    assert "admin key" in openai_error(r)["message"]
    for headers in (
        [("Sec-Fetch-Site", "same-site")],
        [("Sec-Fetch-Site", "cross-site")],
        [("Sec-Fetch-Site", "none")],
        [bearer("sk-xxx")],
        [("X-Forwarded-For", "127.0.0.1")],
    ):
        assert raw(open_gw, "GET", path, headers).status == 401, headers
    # The built-in UI: a same-origin page on loopback.
    assert raw(open_gw, "GET", path, [("Sec-Fetch-Site", "same-origin")]).status == 200
    assert raw(open_gw, "GET", path, [("Origin", own)]).status == 200
    # It can change things too (it is the settings UI).
    r = raw(open_gw, "PUT", "/admin/aliases/ui-made", [("Sec-Fetch-Site", "same-origin"), ("Origin", own),
            ("Content-Type", "application/json")], body=json.dumps({"targets": [ALPHA]}).encode())
    assert r.status == 201, r
    r = raw(open_gw, "DELETE", "/admin/aliases/ui-made", [("Sec-Fetch-Site", "same-origin")])
    assert r.status == 204, r
    # Our page at another of our names is another origin.
    assert_403(raw(open_gw, "GET", path, [("Origin", f"http://localhost:{open_gw.port}")]), "origin_not_allowed")
    # Keys: admin yes, read-only reads, user and read-only never write.
    assert raw(open_gw, "GET", path, [bearer(ADMIN_KEY)]).status == 200
    assert raw(open_gw, "GET", path, [bearer(READ_KEY)]).status == 200
    assert_403(raw(open_gw, "DELETE", "/admin/keys/dashboard", [bearer(USER_KEY)]), "insufficient_role")
    assert_403(raw(open_gw, "DELETE", "/admin/keys/dashboard", [bearer(READ_KEY)]), "insufficient_role")


def test_keys_required_means_the_ui_needs_a_key_too(locked):
    own = f"http://127.0.0.1:{locked.port}"
    for headers in (
        [("Sec-Fetch-Site", "same-origin")],
        [("Origin", own)],
        [("Origin", own), ("Sec-Fetch-Site", "same-origin")],
    ):
        assert_401(raw(locked, "GET", "/admin/settings", headers), "missing_api_key")


# --------------------------------------------------------------------------- Host


def test_loopback_and_listed_hosts_are_served(open_gw):
    port = open_gw.port
    for host in (
        f"localhost:{port}",
        f"127.0.0.1:{port}",
        f"[::1]:{port}",
        f"LOCALHOST:{port}",
        f"app.localhost:{port}",
        "localhost",
        "127.0.0.1",
        f"{ALLOWED_HOST}:{port}",
        ALLOWED_HOST,
        ALLOWED_HOST.upper(),
    ):
        r = raw(open_gw, "GET", "/v1/models", host=host)
        assert r.status == 200, f"Host: {host}: {r}"


HOSTILE_HOSTS = [
    "attacker.example",
    "attacker.example:{port}",
    "localhost.",
    "localhost.:{port}",
    "127.1",
    "127.1:{port}",
    "2130706433",
    "2130706433:{port}",
    "0x7f000001:{port}",
    "0.0.0.0:{port}",
    "127.0.0.1.nip.io:{port}",
    "localhost.evil.com:{port}",
    "mybox.lan.evil.com:{port}",
    "localhost:99999",
    "localhost:0",
    "localhost:{port}:{port}",
    "[::1",
    "::1",
    "",
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_other_hosts_are_refused_even_with_a_key(open_gw, locked, alpha, host):
    for gw in (open_gw, locked):
        h = host.format(port=gw.port)
        for path, headers in (
            ("/v1/models", [bearer(ADMIN_KEY)]),
            ("/admin/keys", [bearer(ADMIN_KEY)]),
            ("/", []),
            ("/healthz", []),
        ):
            r = raw(gw, "GET", path, headers, host=h)
            assert r.status in (400, 403), f"Host: {h!r} {path}: {r}"
            if r.status == 403:
                assert openai_error(r)["code"] == "host_not_allowed", r
            assert ADMIN_KEY_NAME not in r.text
        r = chat_raw(gw, [bearer(ADMIN_KEY)], host=h)
        assert r.status in (400, 403), r
    assert alpha.model_requests() == []


def test_duplicate_and_missing_host(open_gw):
    port = open_gw.port
    r = raw(open_gw, "GET", "/v1/models", [("Host", f"127.0.0.1:{port}")], host=f"127.0.0.1:{port}")
    assert r.status == 400, f"two Host headers: {r}"
    r = raw(open_gw, "GET", "/v1/models", [("Host", "attacker.example")], host=f"127.0.0.1:{port}")
    assert r.status == 400, f"two Host headers, one hostile: {r}"
    r = raw(open_gw, "GET", "/v1/models", host=None, version="HTTP/1.0")
    assert r.status == 400, f"HTTP/1.0 without Host: {r}"
    assert openai_error(r)["code"] == "missing_host"
    r = raw(open_gw, "GET", "/v1/models", host=None)
    assert r.status == 400, f"HTTP/1.1 without Host: {r}"


def test_absolute_form_request_lines(open_gw, alpha):
    port = open_gw.port
    own = f"127.0.0.1:{port}"
    r = raw(open_gw, "GET", f"http://{own}/v1/models", host=own)
    assert r.status == 200, f"absolute form naming us: {r}"
    r = raw(open_gw, "GET", "http://evil.example/v1/models", host=own)
    assert r.status == 400 and openai_error(r)["code"] == "host_mismatch", r
    r = raw(open_gw, "GET", f"http://evil.example:{port}/admin/keys", [bearer(ADMIN_KEY)], host=own)
    assert r.status == 400 and openai_error(r)["code"] == "host_mismatch", r
    r = raw(open_gw, "GET", "http://evil.example/v1/models", host="evil.example")
    assert_403(r, "host_not_allowed")
    r = raw(open_gw, "GET", "http://evil.example/v1/models", host=None, version="HTTP/1.0")
    assert r.status in (400, 403), r
    r = raw(open_gw, "POST", "http://evil.example/v1/chat/completions", [("Content-Type", "application/json")],
            host=own, body=CHAT_BODY)
    assert r.status in (400, 403), r
    assert alpha.model_requests() == []


# --------------------------------------------------------------------------- Origin and CORS


HOSTILE_ORIGINS = [
    "https://evil.example",
    "null",
    "http://localhost:3000",
    "tauri://localhost",
    "http://tauri.localhost",
    "https://app.example.evil.com",
    "https://app.example:8443",
    "http://app.example",
    "https://evil.example/https://app.example",
]


@pytest.mark.parametrize("origin", HOSTILE_ORIGINS)
def test_pages_from_other_origins_are_refused_before_any_handler_runs(open_gw, locked, alpha, origin):
    for gw in (open_gw, locked):
        # Simple-request CSRF: a text/plain POST needs no preflight.
        r = raw(gw, "POST", CHAT, [("Origin", origin), ("Content-Type", "text/plain")], body=CHAT_BODY)
        assert_403(r, "origin_not_allowed")
        no_cors_grant(r)
        # A key does not make a hostile page welcome.
        r = chat_raw(gw, [("Origin", origin), bearer(ADMIN_KEY)])
        assert_403(r, "origin_not_allowed")
        no_cors_grant(r)
        for method, path in (("GET", "/v1/models"), ("GET", "/admin/keys"), ("DELETE", "/admin/keys/app-user")):
            r = raw(gw, method, path, [("Origin", origin), bearer(ADMIN_KEY), ("Sec-Fetch-Site", "same-origin")])
            assert_403(r, "origin_not_allowed")
            no_cors_grant(r)
        # Nor does a preflight get anything.
        r = raw(gw, "OPTIONS", CHAT, [("Origin", origin), ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "authorization, content-type"),
                ("Access-Control-Request-Private-Network", "true")])
        assert r.status == 403, r
        no_cors_grant(r)
        assert r.header("access-control-allow-methods") is None
    assert alpha.model_requests() == []
    with locked.admin(keepalive=False) as h:
        assert "app-user" in {k["name"] for k in h.get("/admin/keys").json()["data"]}


def test_allowed_origin_gets_cors_with_its_exact_origin(locked, alpha):
    r = raw(locked, "GET", "/v1/models", [("Origin", APP_ORIGIN), bearer(READ_KEY)])
    assert r.status == 200, r
    assert r.header("access-control-allow-origin") == APP_ORIGIN
    assert any("origin" in v.lower() for v in r.all("vary")), r.headers
    r = chat_raw(locked, [("Origin", APP_ORIGIN), bearer(USER_KEY)])
    assert r.status == 200, r
    assert r.all("access-control-allow-origin") == [APP_ORIGIN]
    # Allowed origin, but still no key on a locked gateway: the browser gets a readable 401.
    r = chat_raw(locked, [("Origin", APP_ORIGIN)])
    assert r.status == 401, r
    assert len(alpha.model_requests()) == 1


def test_preflight_is_answered_before_auth_and_runs_no_handler(locked, alpha):
    for path in (CHAT, "/v1/models", "/admin/keys"):
        r = raw(locked, "OPTIONS", path, [
            ("Origin", APP_ORIGIN),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "authorization, content-type, x-stainless-os"),
        ])
        assert r.status == 204, f"preflight {path}: {r}"
        assert r.all("access-control-allow-origin") == [APP_ORIGIN]
        methods = r.header("access-control-allow-methods") or ""
        assert "POST" in methods, methods
        allowed = (r.header("access-control-allow-headers") or "").lower()
        for h in ("authorization", "content-type", "x-stainless-os"):
            assert h in allowed, allowed
        assert int(r.header("access-control-max-age") or 0) > 0
        assert r.header("access-control-allow-private-network") is None, "only when asked"
        assert r.body == b""
    r = raw(locked, "OPTIONS", CHAT, [("Origin", APP_ORIGIN), ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Private-Network", "true")])
    assert r.status == 204
    assert r.header("access-control-allow-private-network") == "true"
    # A preflight with no Origin grants nothing.
    r = raw(locked, "OPTIONS", CHAT, [("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Private-Network", "true")])
    assert r.status == 204, r
    no_cors_grant(r)
    assert alpha.requests() == [], "a preflight must not call anything"


def test_cors_never_answers_with_a_wildcard(locked, open_gw):
    seen = []
    for gw in (locked, open_gw):
        for origin in [APP_ORIGIN, *HOSTILE_ORIGINS, f"http://127.0.0.1:{gw.port}"]:
            for method, path, extra in (
                ("GET", "/v1/models", [bearer(READ_KEY)]),
                ("OPTIONS", CHAT, [("Access-Control-Request-Method", "POST")]),
                ("GET", "/healthz", []),
            ):
                r = raw(gw, method, path, [("Origin", origin), *extra])
                acao = r.all("access-control-allow-origin")
                seen.append((origin, path, acao))
                assert "*" not in acao, (origin, path, r)
                assert acao in ([], [APP_ORIGIN]), (origin, path, r)
                if acao:
                    assert origin == APP_ORIGIN, f"reflected {origin!r} on {path}"
    assert any(a == [APP_ORIGIN] for _, _, a in seen)


# --------------------------------------------------------------------------- spoofing and tricks


def test_spoofed_locality_headers_grant_nothing(locked, alpha):
    spoofs = [
        ("X-Forwarded-For", "127.0.0.1"),
        ("X-Real-IP", "127.0.0.1"),
        ("Forwarded", "for=127.0.0.1;host=localhost;proto=http"),
        ("X-Forwarded-Host", "localhost"),
        ("X-Originating-IP", "127.0.0.1"),
        ("True-Client-IP", "::1"),
    ]
    for path, method in (("/admin/keys", "GET"), ("/v1/models", "GET")):
        r = raw(locked, method, path, spoofs)
        assert_401(r, "missing_api_key")
    assert_401(chat_raw(locked, spoofs), "missing_api_key")
    # Nor do they make a hostile Host acceptable.
    r = raw(locked, "GET", "/v1/models", [bearer(READ_KEY), ("X-Forwarded-Host", "localhost")], host="evil.example")
    assert_403(r, "host_not_allowed")
    assert alpha.model_requests() == []


def test_method_override_headers_are_ignored(locked):
    before = locked.config_path.read_bytes()
    for name in ("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"):
        r = raw(locked, "GET", "/admin/aliases/smart", [bearer(READ_KEY), (name, "DELETE")])
        assert r.status == 200, r
        assert r.json()["name"] == "smart"
        r = raw(locked, "GET", "/admin/keys/app-user", [bearer(READ_KEY), (name, "DELETE")])
        assert r.status in (403, 404, 405), r
        r = raw(locked, "POST", "/admin/keys", [bearer(READ_KEY), (name, "GET"), ("Content-Type", "application/json")],
                body=b'{"name":"sneaky"}')
        assert_403(r, "insufficient_role")
    with locked.admin(keepalive=False) as h:
        assert h.get("/admin/aliases/smart").status_code == 200
        assert {"app-user", "dashboard"} <= {k["name"] for k in h.get("/admin/keys").json()["data"]}
    assert locked.config_path.read_bytes() == before


PATH_TRICKS = [
    "/admin/../v1/models",
    "/admin/../admin/keys",
    "//admin/keys",
    "//admin",
    "/ADMIN/keys",
    "/Admin/Keys",
    "/%61dmin/keys",
    "/admin%2fkeys",
    "/admin%2Fkeys",
    "/admin;x=y/keys",
    "/admin;x=y",
    "/admin/keys;x=y",
    "/admin/",
    "/admin/keys/",
    "/admin/./keys",
    "/admin/%6Beys",
    "/v1/../admin/keys",
    "/v1/%2e%2e/admin/keys",
    "/v1/models/../../admin/keys",
    "/v1//../admin/keys",
    "/./admin/keys",
    "/admin/keys%00",
]


@pytest.mark.parametrize("path", PATH_TRICKS)
def test_path_tricks_never_reach_admin_data(locked, path):
    for key in (None, USER_KEY):
        for method in ("GET", "POST", "DELETE"):
            headers = [bearer(key)] if key else []
            r = raw(locked, method, path, headers, body=b"{}" if method == "POST" else b"")
            assert r.status in (400, 401, 403, 404, 405), f"{method} {path} key={bool(key)}: {r}"
            assert ADMIN_KEY_NAME not in r.text and "sha256:" not in r.text, r
    with locked.admin(keepalive=False) as h:
        names = {k["name"] for k in h.get("/admin/keys").json()["data"]}
    assert {"app-user", "dashboard", "limited", ADMIN_KEY_NAME} == names, "a trick deleted a key"


# --------------------------------------------------------------------------- non-loopback binds


def _listen_exit(stack: Any, tmp: Any, extra_config: str, admin_key: bool) -> subprocess.CompletedProcess:
    workdir = tmp / "bind"
    cfg = write_config(workdir, stack.endpoints, extra_config=extra_config, admin_key=admin_key)
    return subprocess.run(
        [str(GATEWAY_BIN), "serve", "--config", str(cfg), "--listen", "0.0.0.0:0"],
        env=gateway_env(workdir),
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    "keys",
    ["", f'[[keys]]\nname = "ro"\nhash = "{key_hash(READ_KEY)}"\nrole = "read-only"\n'],
    ids=["no-keys", "read-only-key-only"],
)
def test_a_non_loopback_bind_without_a_client_key_refuses_to_start(stack, tmp_path, keys):
    out = _listen_exit(stack, tmp_path, keys, admin_key=False)
    assert out.returncode != 0, f"started on 0.0.0.0 with no usable key:\n{out.stdout}\n{out.stderr}"
    assert "switchyard keys create" in out.stdout + out.stderr, out.stderr
    assert "ready" not in out.stdout, out.stdout


def _non_loopback_ipv4() -> str | None:
    """An address of this machine other than loopback, if it has one (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") or ip == "0.0.0.0" else ip


def test_a_non_loopback_bind_requires_keys_for_everything(stack, alpha):
    gw = start_gateway(stack.workdir / "bind-any", stack.endpoints, extra_config=KEYS, listen="0.0.0.0:0")
    stack.extra.append(gw)
    try:
        own = f"http://127.0.0.1:{gw.port}"
        # Even from loopback, and even looking like the built-in UI.
        for headers in ([], [("Sec-Fetch-Site", "same-origin")], [("Origin", own)], [bearer("sk-xxx")]):
            assert chat_raw(gw, headers).status == 401, headers
            assert raw(gw, "GET", "/v1/models", headers).status == 401, headers
            assert raw(gw, "GET", "/admin/settings", headers).status == 401, headers
            assert raw(gw, "GET", "/metrics", headers).status == 401, headers
        assert raw(gw, "GET", "/healthz").status == 200
        assert alpha.model_requests() == []
        assert chat_raw(gw, [bearer(USER_KEY)]).status == 200
        with gw.admin(keepalive=False) as h:
            s = h.get("/admin/settings")
            assert s.status_code == 200, s.text
            assert s.json()["access"]["keys_required"] is True, s.json()
        ip = _non_loopback_ipv4()
        if ip is None:
            return
        # From another interface: addressed by IP, with a key, it serves; without, it refuses.
        r = raw_http(ip, gw.port, "GET /v1/models HTTP/1.1", [("Host", f"{ip}:{gw.port}"), bearer(READ_KEY)])
        assert r.status == 200, r
        r = raw_http(ip, gw.port, "GET /v1/models HTTP/1.1", [("Host", f"{ip}:{gw.port}")])
        assert r.status == 401, r
        r = raw_http(ip, gw.port, "GET /admin/settings HTTP/1.1", [("Host", f"{ip}:{gw.port}"), ("Sec-Fetch-Site", "same-origin")])
        assert r.status == 401, r
        r = raw_http(ip, gw.port, "GET /v1/models HTTP/1.1", [("Host", f"attacker.example:{gw.port}"), bearer(READ_KEY)])
        assert r.status == 403, r
    finally:
        gw.proc.stop()


# --------------------------------------------------------------------------- tokens never logged


def test_submitted_tokens_never_reach_the_log_the_output_or_the_admin_api(stack, tmp_path, alpha):
    """Every kind of token a client may send, accepted or refused, in a header or in the URL,
    is absent from the request log, the process output (at debug level) and admin answers."""
    data_dir = tmp_path / "data"
    gw = start_gateway(
        stack.workdir / "token-canary",
        stack.endpoints,
        top_config=f'data_dir = "{data_dir}"\n',
        extra_config=KEYS + ACCESS.replace("{require}", "true"),
        extra_env={"SWITCHYARD_LOG": "debug"},
    )
    stack.extra.append(gw)
    canary_bad = "sk-sy-canaryBAD0" + "x" * 27
    canary_query = "sk-canary-query-0123456789"
    canary_placeholder = "canary-placeholder-9876543210"
    try:
        c = gw.client(api_key=USER_KEY)
        c.chat.completions.create(model=ALPHA, messages=user("hi"))
        list(c.chat.completions.create(model=ALPHA, messages=user("hi"), stream=True))
        c.models.list()
        with pytest.raises(openai.NotFoundError):
            c.chat.completions.create(model="no-such-model", messages=user("hi"))
        assert chat_raw(gw, [bearer(canary_bad)]).status == 401
        assert chat_raw(gw, [("x-api-key", canary_placeholder)]).status == 401
        assert raw(gw, "GET", f"/v1/models?api_key={canary_query}").status == 401
        assert raw(gw, "POST", f"{CHAT}?token={canary_query}", [bearer(USER_KEY), ("Content-Type", "application/json")],
                   body=CHAT_BODY).status == 401
        assert raw(gw, "GET", f"/admin/keys?key={canary_query}", [bearer(ADMIN_KEY)]).status == 401
        assert chat_raw(gw, [bearer(READ_KEY)]).status == 403
        assert chat_raw(gw, [bearer(LIMITED_KEY)]).status == 200

        answers = []
        with gw.admin(keepalive=False) as h:
            deadline = time.monotonic() + 10
            while True:
                r = h.get("/admin/requests", params={"limit": 100})
                assert r.status_code == 200, r.text
                rows = r.json()["requests"]
                if len(rows) >= 5 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            answers.append(r.text)
            assert rows, "the requests should be in the log"
            for row in rows:
                d = h.get(f"/admin/requests/{row['id']}")
                assert d.status_code == 200
                answers.append(d.text)
            for path in ("/admin/keys", "/admin/settings", "/admin/providers", "/admin/stats", "/statsz", "/metrics"):
                r = h.get(path)
                assert r.status_code == 200, (path, r.text)
                answers.append(r.text)
    finally:
        rc = gw.proc.terminate(timeout=20)
        gw.proc.drained()
    assert rc == 0, gw.proc.log()
    needles = {
        "user key": USER_KEY,
        "read-only key": READ_KEY,
        "limited key": LIMITED_KEY,
        "admin key": ADMIN_KEY,
        "refused sk-sy token": canary_bad,
        "placeholder token": canary_placeholder,
        "query token": canary_query,
    }
    leaks = []
    for p in sorted(p for root in (data_dir, gw.workdir / "home") if root.exists() for p in root.rglob("*") if p.is_file()):
        data = p.read_bytes()
        leaks += [f"{what} in {p}" for what, n in needles.items() if n.encode() in data]
    out = gw.proc.output()
    leaks += [f"{what} in the process output" for what, n in needles.items() if n in out]
    for text in answers:
        leaks += [f"{what} in an admin answer" for what, n in needles.items() if n in text]
    # The config file holds hashes only.
    cfg = gw.config_path.read_text()
    leaks += [f"{what} in the config file" for what, n in needles.items() if n in cfg]
    assert leaks == [], "tokens leaked:\n" + "\n".join(leaks)
