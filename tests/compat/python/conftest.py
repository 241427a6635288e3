"""Starts `switchyard-fake` and `switchyard serve` once per session and hands
the tests an official `openai` client pointed at the gateway.

Binaries: $SWITCHYARD_BIN / $SWITCHYARD_FAKE_BIN, defaulting to
<repo>/target/debug/{switchyard,switchyard-fake}.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from helpers import ADMIN_KEY, ADMIN_KEY_NAME, ALPHA_KEY, BETA_KEY, CLIENT_KEY, key_hash

REPO = Path(__file__).resolve().parents[3]
GATEWAY_BIN = Path(os.environ.get("SWITCHYARD_BIN", REPO / "target/debug/switchyard"))
FAKE_BIN = Path(os.environ.get("SWITCHYARD_FAKE_BIN", REPO / "target/debug/switchyard-fake"))

URL_RE = re.compile(r"http://[^\s\"'<>]+")
START_TIMEOUT_S = 30.0


# --------------------------------------------------------------------------- processes


class Proc:
    """A child process whose stdout/stderr are drained by threads (so a chatty
    child never blocks on a full pipe) and kept for failure reports."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], keep_stdin: bool) -> None:
        self.name = name
        self.lines: list[str] = []  # stdout lines, in order
        self.stderr: list[str] = []
        self._cond = threading.Condition()
        self.popen = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.PIPE if keep_stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._pumps = [
            threading.Thread(target=self._pump, args=(self.popen.stdout, self.lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.popen.stderr, self.stderr), daemon=True),
        ]
        for t in self._pumps:
            t.start()
        atexit.register(self.stop)

    def _pump(self, stream: Any, sink: list[str]) -> None:
        for line in stream:
            with self._cond:
                sink.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for_line(self, pred: Any, what: str) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        seen = 0
        with self._cond:
            while True:
                while seen < len(self.lines):
                    line = self.lines[seen]
                    seen += 1
                    if pred(line):
                        return line
                if self.popen.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.popen.returncode} before {what}\n{self.log()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"{self.name}: no {what} within {START_TIMEOUT_S}s\n{self.log()}")
                self._cond.wait(min(left, 0.2))

    def log(self) -> str:
        return (
            f"--- {self.name} stdout ---\n" + "\n".join(self.lines[-40:])
            + f"\n--- {self.name} stderr ---\n" + "\n".join(self.stderr[-80:])
        )

    def terminate(self, timeout: float = 15) -> int | None:
        """SIGTERM and wait: the exit code, or None if it had to be killed."""
        p = self.popen
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
                return None
        return p.returncode

    def output(self) -> str:
        """Everything it wrote so far, stdout then stderr (complete once it has exited and
        the pump threads have drained the pipes)."""
        with self._cond:
            return "\n".join(self.lines) + "\n" + "\n".join(self.stderr)

    def drained(self, timeout: float = 5) -> None:
        """Waits until both pipes have reached end of file (after the process exited)."""
        for t in self._pumps:
            t.join(timeout)

    def stop(self) -> None:
        p = self.popen
        if p.poll() is None:
            self.terminate(timeout=10)
        if p.stdin and not p.stdin.closed:
            try:
                p.stdin.close()
            except OSError:
                pass


# --------------------------------------------------------------------------- fakes


class Fake:
    """Control handle for one fake upstream (its /__testkit endpoints)."""

    def __init__(self, name: str, base_url: str) -> None:
        self.name = name
        self.base_url = base_url  # what the gateway config points at
        self.root = re.sub(r"/v1/?$", "", base_url.rstrip("/"))
        self.http = httpx.Client(base_url=self.root, timeout=10)

    def script(self, *scripts: Any) -> None:
        body: Any = scripts[0] if len(scripts) == 1 else list(scripts)
        r = self.http.post("/__testkit/script", json=body)
        assert r.status_code < 300, f"{self.name}: script rejected: {r.status_code} {r.text}"

    def default(self, script: Any) -> None:
        r = self.http.post("/__testkit/default", json=script)
        assert r.status_code < 300, f"{self.name}: default rejected: {r.status_code} {r.text}"

    def reset(self) -> None:
        r = self.http.post("/__testkit/reset")
        assert r.status_code < 300, f"{self.name}: reset failed: {r.status_code} {r.text}"

    def requests(self) -> list[dict[str, Any]]:
        r = self.http.get("/__testkit/requests")
        assert r.status_code == 200, f"{self.name}: requests failed: {r.status_code} {r.text}"
        out = []
        for req in r.json():
            if str(req.get("path", "")).startswith("/__testkit"):
                continue
            raw_headers = req.get("headers") or {}
            pairs = raw_headers.items() if isinstance(raw_headers, dict) else raw_headers
            headers = {str(k).lower(): v for k, v in pairs}
            body = req.get("body")
            if isinstance(body, str):
                try:
                    body = json.loads(body)
                except ValueError:
                    pass
            out.append({**req, "headers": headers, "body": body})
        return out

    def model_requests(self) -> list[dict[str, Any]]:
        """Requests that asked the upstream for a model answer."""
        return [r for r in self.requests() if r.get("method", "POST").upper() == "POST"]


# --------------------------------------------------------------------------- gateway


CONFIG_TEMPLATE = """\
listen = "127.0.0.1:0"

[[providers]]
name = "alpha"
kind = "openai"
base_url = "{alpha}"
api_key = "env:ALPHA_KEY"
models = ["gpt-4o-mini", "text-embedding-3-small"]

[[providers]]
name = "beta"
kind = "anthropic"
base_url = "{beta}"
api_key = "env:BETA_KEY"
models = ["claude-sonnet-4-5"]

[[providers]]
name = "dead"
kind = "openai"
base_url = "{refused}"
models = ["gpt-4o-mini-dead"]

[[aliases]]
name = "smart"
targets = ["alpha/gpt-4o-mini", "beta/claude-sonnet-4-5"]

[[aliases]]
name = "resilient"
targets = ["dead/gpt-4o-mini-dead", "alpha/gpt-4o-mini"]
"""

# The admin key (see helpers.ADMIN_KEY): the admin API needs it. Kept apart so a test can
# leave it out, and written last in the standard config because `[[keys]]` is an array of
# tables: `extra_config` after it may add tables (`[access]`, more `[[keys]]`, `[[providers]]`).
ADMIN_KEY_CONFIG = f"""
[[keys]]
name = "{ADMIN_KEY_NAME}"
hash = "{key_hash(ADMIN_KEY)}"
role = "admin"
"""


@dataclass
class Gateway:
    proc: Proc
    base_url: str  # .../v1
    workdir: Path

    @property
    def root(self) -> str:
        return re.sub(r"/v1/?$", "", self.base_url.rstrip("/"))

    @property
    def port(self) -> int:
        return int(self.root.rsplit(":", 1)[1])

    @property
    def config_path(self) -> Path:
        """The file it was started with (`--config`), which it watches for edits."""
        return self.workdir / "switchyard.toml"

    def client(self, **kw: Any) -> openai.OpenAI:
        kw.setdefault("api_key", CLIENT_KEY)
        kw.setdefault("max_retries", 0)
        kw.setdefault("timeout", 30)
        return openai.OpenAI(base_url=self.base_url, **kw)

    def http(self, key: str | None = None, *, keepalive: bool = True, **kw: Any) -> httpx.Client:
        """Plain HTTP to the gateway's root, sending `key` (if any) as a Bearer token.
        `keepalive=False`: a new connection per request."""
        headers = dict(kw.pop("headers", {}))
        if key is not None:
            headers["authorization"] = f"Bearer {key}"
        kw.setdefault("timeout", 30)
        if not keepalive:
            kw.setdefault("limits", httpx.Limits(max_keepalive_connections=0))
        return httpx.Client(base_url=self.root, headers=headers, **kw)

    def admin(self, **kw: Any) -> httpx.Client:
        """Plain HTTP with the admin key, for `/admin/*`."""
        return self.http(ADMIN_KEY, **kw)


def write_config(
    workdir: Path,
    endpoints: dict[str, Any],
    *,
    top_config: str = "",
    extra_config: str = "",
    admin_key: bool = True,
) -> Path:
    """Writes `workdir/switchyard.toml`: the standard config with `top_config` before the first
    table and `extra_config` after everything else (see `start_gateway`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "home").mkdir(exist_ok=True)
    cfg = workdir / "switchyard.toml"
    urls = {
        "alpha": endpoints["openai"][0],
        "beta": endpoints["anthropic"][0],
        "gamma": endpoints["openai"][1],
        "refused": endpoints["refused"],
    }
    head, _, rest = CONFIG_TEMPLATE.partition("\n")
    cfg.write_text(
        head
        + "\n"
        + top_config.format(**urls)
        + rest.format(**urls)
        + (ADMIN_KEY_CONFIG if admin_key else "")
        + "\n"
        + extra_config.format(**urls)
    )
    return cfg


def gateway_env(workdir: Path, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "SWITCHYARD_HOME": str(workdir / "home"),
        "ALPHA_KEY": ALPHA_KEY,
        "BETA_KEY": BETA_KEY,
        **(extra_env or {}),
    }
    # The gateway must use only its configured keys, never an ambient one.
    for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        env.pop(k, None)
    return env


def start_gateway(
    workdir: Path,
    endpoints: dict[str, Any],
    *,
    top_config: str = "",
    extra_config: str = "",
    extra_env: dict[str, str] | None = None,
    admin_key: bool = True,
    listen: str = "127.0.0.1:0",
) -> Gateway:
    """`top_config` goes before the first table (top-level keys such as `data_dir`),
    `extra_config` after the standard providers, aliases and the admin key (`admin_key=False`
    leaves it out); both may use the `{alpha}`, `{beta}`, `{gamma}` and `{refused}`
    placeholders (gamma: a second OpenAI fake that the standard config leaves alone, for tests
    that script two upstreams). `extra_env` is added to the gateway's environment. Its
    SWITCHYARD_HOME is `workdir/home`. `listen` is passed as `--listen`; a wildcard address is
    reached through 127.0.0.1."""
    cfg = write_config(
        workdir, endpoints, top_config=top_config, extra_config=extra_config, admin_key=admin_key
    )
    env = gateway_env(workdir, extra_env)
    proc = Proc(
        "switchyard",
        [str(GATEWAY_BIN), "serve", "--config", str(cfg), "--listen", listen],
        env,
        keep_stdin=False,
    )
    line = proc.wait_for_line(lambda l: URL_RE.search(l) is not None, "ready line with a URL")
    url = URL_RE.search(line).group(0).rstrip("/.,;")  # type: ignore[union-attr]
    url = url.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://127.0.0.1:")
    if not url.endswith("/v1"):
        url = url + "/v1"
    return Gateway(proc, url, workdir)


@dataclass
class Stack:
    fake_proc: Proc
    endpoints: dict[str, Any]
    alpha: Fake
    beta: Fake
    gamma: Fake  # a second OpenAI fake, in no provider of the standard config
    gateway: Gateway
    workdir: Path
    extra: list[Gateway] = field(default_factory=list)

    def fakes(self) -> list[Fake]:
        return [self.alpha, self.beta, self.gamma]


def _require(path: Path, what: str) -> None:
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.exit(
            f"{what} not found at {path}: build it (cargo build -p switchyard-cli -p switchyard-testkit --bins) "
            "or set SWITCHYARD_BIN / SWITCHYARD_FAKE_BIN",
            returncode=2,
        )


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    _require(GATEWAY_BIN, "switchyard")
    _require(FAKE_BIN, "switchyard-fake")
    fake = Proc("switchyard-fake", [str(FAKE_BIN), "--openai", "2", "--anthropic", "1"], dict(os.environ), keep_stdin=True)
    try:
        line = fake.wait_for_line(lambda l: l.lstrip().startswith("{"), "JSON endpoints line")
        endpoints = json.loads(line)
        alpha = Fake("alpha", endpoints["openai"][0])
        beta = Fake("beta", endpoints["anthropic"][0])
        gamma = Fake("gamma", endpoints["openai"][1])
        workdir = tmp_path_factory.mktemp("switchyard")
        gw = start_gateway(workdir / "main", endpoints)
    except BaseException:
        fake.stop()
        raise
    s = Stack(fake, endpoints, alpha, beta, gamma, gw, workdir)
    yield s
    for g in [gw, *s.extra]:
        g.proc.stop()
    fake.stop()


@pytest.fixture(autouse=True)
def _reset_fakes(request: pytest.FixtureRequest) -> Any:
    # Only for tests that use the stack (directly or through client fixtures).
    if "stack" in request.fixturenames:
        s: Stack = request.getfixturevalue("stack")
        for f in s.fakes():
            f.reset()
    yield


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    rep = yield
    if rep.when == "call" and rep.failed:
        s = getattr(item, "funcargs", {}).get("stack")
        if isinstance(s, Stack):
            rep.sections.append(("switchyard log", s.gateway.proc.log()))
            if ("fresh_client" in item.funcargs or "fresh_gateway" in item.funcargs) and s.extra:
                rep.sections.append(("fresh switchyard log", s.extra[-1].proc.log()))
            # Gateways a module started for itself.
            for name, value in item.funcargs.items():
                if isinstance(value, Gateway) and value is not s.gateway:
                    rep.sections.append((f"switchyard log ({name})", value.proc.log()))
    return rep


@pytest.fixture
def alpha(stack: Stack) -> Fake:
    return stack.alpha


@pytest.fixture
def beta(stack: Stack) -> Fake:
    return stack.beta


@pytest.fixture
def gamma(stack: Stack) -> Fake:
    return stack.gamma


@pytest.fixture
def client(stack: Stack) -> Any:
    c = stack.gateway.client()
    yield c
    c.close()


@pytest.fixture
def fresh_gateway(stack: Stack) -> Any:
    """Starts gateways of the test's own (the standard config plus whatever the test
    adds, same fakes: see `start_gateway`), for tests whose outcome must not depend on
    state left by earlier tests: health, metrics, the request log. Stopped at teardown."""
    started: list[Gateway] = []

    def start(**kw: Any) -> Gateway:
        gw = start_gateway(stack.workdir / f"fresh-{len(stack.extra)}", stack.endpoints, **kw)
        stack.extra.append(gw)
        started.append(gw)
        return gw

    try:
        yield start
    finally:
        for gw in started:
            gw.proc.stop()


@pytest.fixture
def fresh_client(fresh_gateway: Any) -> Any:
    """A client for a gateway of its own (same config, same fakes), for tests
    whose outcome must not depend on health state left by earlier tests
    (circuit breakers, cool-downs)."""
    c = fresh_gateway().client()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def gateway_http(stack: Stack) -> Any:
    """Plain HTTP to the gateway, for what the SDK hides (raw SSE, raw JSON). Sends the
    client key, which opens `/v1` but not `/admin` (use `admin_http`)."""
    with httpx.Client(
        base_url=stack.gateway.root, timeout=30, headers={"authorization": f"Bearer {CLIENT_KEY}"}
    ) as h:
        yield h


@pytest.fixture
def admin_http(stack: Stack) -> Any:
    """Plain HTTP to the shared gateway with the admin key."""
    with stack.gateway.admin() as h:
        yield h
