"""The desktop app as a person gets it: a real window under Xvfb, driven through tauri-driver
and WebKitWebDriver, with the gateway in-process in front of `switchyard-fake`.

Every run is hermetic: a temp HOME (so the login entry and WebKit's storage land there), a
temp SWITCHYARD_HOME inside it, free ports only, and the throwaway Secret Service that
scripts/with-keyring.sh starts. Binaries: $SWITCHYARD_DESKTOP_BIN, $SWITCHYARD_FAKE_BIN,
$TAURI_DRIVER_BIN, defaulting to the workspace's target/.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.options import ArgOptions

REPO = Path(__file__).resolve().parents[2]
APP_BIN = Path(os.environ.get("SWITCHYARD_DESKTOP_BIN", REPO / "target/debug/switchyard-desktop"))
FAKE_BIN = Path(os.environ.get("SWITCHYARD_FAKE_BIN", REPO / "target/debug/switchyard-fake"))
DRIVER_BIN = Path(os.environ.get("TAURI_DRIVER_BIN", REPO / "target/tools/bin/tauri-driver"))
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

# The env var the fake provider's key is read from: any value will do for the fake.
FAKE_KEY_VAR = "SWITCHYARD_DESKTOP_TEST_FAKE_KEY"
TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], timeout: float = TIMEOUT_S) -> Any:
    """Polls `check` until it returns something truthy (the condition itself is the
    synchronisation: no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - kept for the failure message
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Proc:
    """A child process whose output is drained to a file (so it never blocks on a pipe)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self._out = open(log, "w")
        # stdin stays open: switchyard-fake stops when it closes.
        self.popen = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=self._out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._out.close()


@dataclass
class Fake:
    openai: str
    proc: Proc


@pytest.fixture(scope="session")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fake]:
    assert FAKE_BIN.exists(), f"{FAKE_BIN} is missing: cargo build -p switchyard-testkit --bins"
    log = tmp_path_factory.mktemp("fake") / "fake.log"
    proc = Proc("fake", [str(FAKE_BIN), "--anthropic", "0"], dict(os.environ), log)
    line = wait_for("switchyard-fake's endpoints", lambda: next((l for l in proc.text().splitlines() if l.startswith("{")), None), 30)
    yield Fake(openai=json.loads(line)["openai"][0], proc=proc)
    proc.stop()


@dataclass
class Home:
    """A temp HOME for one app, with SWITCHYARD_HOME and every XDG folder inside it."""

    root: Path
    data: Path
    port: int

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            HOME=str(self.root),
            XDG_CONFIG_HOME=str(self.root / ".config"),
            XDG_DATA_HOME=str(self.root / ".local/share"),
            XDG_CACHE_HOME=str(self.root / ".cache"),
            XDG_STATE_HOME=str(self.root / ".local/state"),
            SWITCHYARD_HOME=str(self.data),
            SWITCHYARD_LOG="info",
            # No accessibility bus under Xvfb; without this GTK waits for one.
            NO_AT_BRIDGE="1",
        )
        env[FAKE_KEY_VAR] = "sk-fake-upstream"
        return env

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted((self.data / "logs").glob("switchyard*.log")))

    def log_ms(self, message: str) -> int | None:
        """The `elapsed_ms` logged with `message`, once it is."""
        for line in self.log_text().splitlines():
            if message in line and (m := re.search(r"elapsed_ms=(\d+)", line)):
                return int(m.group(1))
        return None


def make_home(root: Path, fake: Fake, port: int | None = None) -> Home:
    home = Home(root=root, data=root / "switchyard", port=port or free_port())
    for d in (".config", ".local/share", ".cache", ".local/state"):
        (root / d).mkdir(parents=True, exist_ok=True)
    home.data.mkdir()
    (home.data / "config.toml").write_text(
        f"""# Written by tests/desktop/conftest.py
listen = "127.0.0.1:{home.port}"

[[providers]]
name = "fake"
kind = "openai"
base_url = "{fake.openai}"
api_key = "env:{FAKE_KEY_VAR}"
models = ["fake-model"]

# Its key is saved through the window's settings, into the Secret Service.
[[providers]]
name = "vault"
kind = "openai"
base_url = "{fake.openai}"
models = ["vault-model"]
"""
    )
    return home


def app_processes(home: Home) -> list[int]:
    """Pids of the desktop app started with this home (found by its SWITCHYARD_HOME)."""
    pids = []
    marker = f"SWITCHYARD_HOME={home.data}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.readlink(proc / "exe") != str(APP_BIN.resolve()):
                continue
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(proc.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


@dataclass
class Desktop:
    """The app under WebDriver."""

    home: Home
    driver: webdriver.Remote
    launched: float
    ready_s: float  # launch -> /healthz answered, measured from outside

    def invoke(self, command: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """Calls a Tauri command from the window, as the UI would: `{"ok": value}` or `{"err": error}`."""
        return self.driver.execute_async_script(
            """
            const [cmd, args, done] = arguments;
            window.__TAURI_INTERNALS__.invoke(cmd, args).then(
              (v) => done({ ok: v === undefined ? null : v }),
              (e) => done({ err: e }),
            );
            """,
            command,
            args or {},
        )

    def screenshot(self, name: str) -> Path:
        """Saves the window as tests/desktop/screenshots/NAME.png, once what is in the DOM has
        been painted (WebKit's snapshot is of the last frame drawn)."""
        self.driver.execute_async_script(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));"
        )
        path = SCREENSHOTS / f"{name}.png"
        assert self.driver.save_screenshot(str(path)), f"no screenshot saved to {path}"
        return path

    def fetch(self, path: str) -> str:
        """GETs `path` from the window's page (same origin) and returns the body."""
        return self.driver.execute_async_script(
            """
            const [path, done] = arguments;
            fetch(path).then((r) => r.text()).then(done, (e) => done(`fetch failed: ${e}`));
            """,
            path,
        )

    def pid(self) -> int:
        pids = app_processes(self.home)
        assert len(pids) == 1, f"expected one app process, found {pids}"
        return pids[0]


@pytest.fixture(scope="module")
def desktop(fake: Fake, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    for b in (APP_BIN, DRIVER_BIN):
        assert b.exists(), f"{b} is missing: make desktop-test builds it"
    home = make_home(tmp_path_factory.mktemp("home"), fake)
    driver_port, native_port = free_port(), free_port()
    driver_log = home.root.parent / "tauri-driver.log"
    tauri_driver = Proc(
        "tauri-driver",
        [str(DRIVER_BIN), "--port", str(driver_port), "--native-port", str(native_port)],
        home.env(),
        driver_log,
    )
    driver = None
    try:
        wait_for("tauri-driver", lambda: http_get(f"http://127.0.0.1:{driver_port}/status")[0] == 200, 30)
        options = ArgOptions()
        options.set_capability("browserName", "wry")
        options.set_capability("tauri:options", {"application": str(APP_BIN)})
        launched = time.monotonic()
        driver = webdriver.Remote(command_executor=f"http://127.0.0.1:{driver_port}", options=options)
        wait_for("the gateway", lambda: http_get(f"{home.origin}/healthz")[0] == 200)
        ready_s = time.monotonic() - launched
        driver.set_script_timeout(30)
        yield Desktop(home=home, driver=driver, launched=launched, ready_s=ready_s)
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001 - the app may already have quit
                pass
        tauri_driver.stop()
        # Whatever the driver left behind (it kills the app without a word).
        for pid in app_processes(home):
            os.kill(pid, signal.SIGTERM)


@pytest.fixture(scope="session", autouse=True)
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


def background(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Runs `fn` on a thread; its result or exception lands in the returned list."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(fn())
        except Exception as e:  # noqa: BLE001 - handed to the test
            result.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, keeps a screenshot of the window and the page's text for the report."""
    report = yield
    if report.when == "call" and report.failed and "desktop" in getattr(item, "funcargs", {}):
        d: Desktop = item.funcargs["desktop"]
        try:
            d.driver.save_screenshot(str(SCREENSHOTS / f"failed-{item.name}.png"))
            body = d.driver.execute_script("return document.body.innerText")
            report.sections.append(("window text", f"{d.driver.current_url}\n{body}"))
        except Exception as e:  # noqa: BLE001 - the report matters more
            report.sections.append(("window text", f"unavailable: {e}"))
    return report
