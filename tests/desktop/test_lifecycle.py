"""The app's lifecycle outside WebDriver, launched as a person launches it: quitting lets a
request in flight finish and drains the request log; a taken port is said plainly, and the
port offered instead is used. Each test has its own HOME and app; each launch first waits for
the WebDriver module's app to leave the session bus, so single-instance does not hand it over."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import APP_BIN, SCREENSHOTS, Fake, Home, Proc, app_processes, background, free_port, http_get, make_home, wait_for


# The single-instance plugin's name on the session bus. A new app started while the last test's
# app is still leaving the bus asks that one to take over, gets no reply and exits.
INSTANCE_NAME = "dev.switchyard.desktop.SingleInstance"


def instance_running() -> bool:
    out = subprocess.run(
        ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
         "org.freedesktop.DBus.NameHasOwner", f"string:{INSTANCE_NAME}"],
        capture_output=True, text=True, timeout=10,
    ).stdout
    return "boolean true" in out


def launch(home: Home) -> Proc:
    wait_for("the previous app to leave the session bus", lambda: not instance_running(), 30)
    return Proc("app", [str(APP_BIN)], home.env(), home.root.parent / f"{home.root.name}-app.log")


def control(fake: Fake, path: str, body: object) -> None:
    root = fake.openai.removesuffix("/v1")
    req = urllib.request.Request(f"{root}{path}", data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status < 300


def fake_requests(fake: Fake) -> list[dict]:
    return json.loads(http_get(fake.openai.removesuffix("/v1") + "/__testkit/requests")[1])


def stream_chat(origin: str, text: str) -> str:
    body = {"model": "fake/fake-model", "stream": True, "messages": [{"role": "user", "content": text}]}
    req = urllib.request.Request(f"{origin}/v1/chat/completions", data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read().decode()


def test_quit_lets_the_request_in_flight_finish_and_drains_the_log(fake: Fake, tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", fake)
    app = launch(home)
    try:
        wait_for("the gateway", lambda: http_get(f"{home.origin}/healthz")[0] == 200)
        words = "one two three four five six seven eight"
        control(fake, "/__testkit/script", {"reply": {"text": words, "chunk_delay_ms": 250}})
        before = len(fake_requests(fake))
        thread, result = background(lambda: stream_chat(home.origin, "slowly, please"))
        wait_for("the upstream to be asked", lambda: len(fake_requests(fake)) > before)

        app.popen.send_signal(signal.SIGTERM)  # what a logout does; the tray's Quit runs the same code
        thread.join(timeout=30)
        assert result, "the stream never ended"
        body = result[0]
        assert not isinstance(body, Exception), body
        streamed = "".join(
            (json.loads(line[6:])["choices"] or [{}])[0].get("delta", {}).get("content") or ""
            for line in body.splitlines()
            if line.startswith("data: {")
        )
        assert streamed == words
        assert body.rstrip().endswith("data: [DONE]")

        assert app.popen.wait(timeout=30) == 0
        log = home.log_text()
        assert "quitting: no new connections" in log
        assert "gateway stopped, request log drained" in log
        # The request cut into by the quit still has its row.
        with sqlite3.connect(home.data / "switchyard.db") as db:
            rows = db.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
        assert rows >= 1
    finally:
        app.stop()


def xdotool(*args: str) -> str:
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=10).stdout.strip()


def test_a_taken_port_is_said_plainly_and_another_is_offered(fake: Fake, tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    home = make_home(tmp_path / "home", fake, port=port)
    app = launch(home)
    try:
        wait_for("the port-taken log line", lambda: f"port {port} is taken" in home.log_text())
        dialog = wait_for("the dialog", lambda: xdotool("search", "--name", "port in use"))
        window = dialog.splitlines()[0]
        # The whole screen: the dialog is a native GTK window, outside WebDriver's reach.
        subprocess.run(["import", "-window", "root", str(SCREENSHOTS / "port-taken-dialog.png")], check=True, timeout=30)
        # Click its first button, "Use N this time": three equal buttons along the bottom.
        geometry = xdotool("getwindowgeometry", "--shell", window)
        size = dict(l.split("=") for l in geometry.splitlines())
        width, height = int(size["WIDTH"]), int(size["HEIGHT"])
        xdotool("mousemove", "--window", window, str(width // 6), str(height - 16), "click", "1")

        line = wait_for("the gateway on another port", lambda: next((l for l in home.log_text().splitlines() if "gateway ready" in l), None))
        new_port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        assert new_port != port
        assert http_get(f"http://127.0.0.1:{new_port}/healthz")[0] == 200
        # This time only: the config still says the old port.
        assert f'listen = "127.0.0.1:{port}"' in (home.data / "config.toml").read_text()
    finally:
        app.stop()
        taken.close()
