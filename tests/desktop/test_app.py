"""The app in its window: start-up, the playground, a streamed chat, the desktop-only
commands (start at login), a key saved through settings, single instance. One app for the
module, driven through WebDriver; tests run in file order and build on each other's state
only where they say so."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from conftest import APP_BIN, SCREENSHOTS, Desktop, descendants, http_get, rss_kb, wait_for


def find(d: Desktop, css: str, timeout: float = 30) -> WebElement:
    return wait_for(f"`{css}` in the window", lambda: next(iter(d.driver.find_elements(By.CSS_SELECTOR, css)), None), timeout)


def test_the_app_starts_and_the_gateway_answers_on_its_port(desktop: Desktop) -> None:
    status, body = http_get(f"{desktop.home.origin}/healthz")
    assert status == 200, body
    assert json.loads(body)["status"] == "ok"
    status, body = http_get(f"{desktop.home.origin}/v1/models")
    assert status == 200, body
    ids = [m["id"] for m in json.loads(body)["data"]]
    assert "fake/fake-model" in ids
    # One process: the gateway runs inside the app, not beside it.
    pid = desktop.pid()
    listening = subprocess.run(["ss", "-Hltnp", f"sport = :{desktop.home.port}"], capture_output=True, text=True).stdout
    if listening:  # ss names the owner when it may
        assert f"pid={pid}," in listening, listening


def test_the_window_shows_the_playground(desktop: Desktop) -> None:
    d = desktop.driver
    wait_for("the playground's address", lambda: d.current_url.startswith(f"{desktop.home.origin}/ui/playground"))
    find(desktop, "[data-testid=composer]")
    assert d.title  # the UI's own title, not an error page
    assert "not built" not in d.find_element(By.TAG_NAME, "body").text
    window_ms = wait_for("the window-shown log line", lambda: desktop.home.log_ms("window shown"))
    ready_ms = desktop.home.log_ms("gateway ready")
    assert ready_ms is not None and ready_ms <= window_ms
    print(f"\nstart-up: gateway ready {ready_ms} ms, window shown {window_ms} ms after launch (app log); "
          f"/healthz answered {desktop.ready_s * 1000:.0f} ms after the WebDriver session was asked for")


def test_a_chat_typed_into_the_window_streams_a_reply_from_the_upstream(desktop: Desktop) -> None:
    d = desktop.driver
    composer = find(desktop, "[data-testid=composer]")
    wait_for("the composer to be enabled", composer.is_enabled)
    composer.click()
    composer.send_keys("hello from the desktop test")
    composer.send_keys(Keys.ENTER)
    reply = find(desktop, "[data-testid=msg-assistant]")
    wait_for("the streamed reply", lambda: "You said: hello from the desktop test" in reply.text)
    # It went through the gateway to the fake, and into the request log, which the window (same
    # origin, on loopback) may read while other local programs need an admin key.
    logged = wait_for("the request in the log", lambda: "fake-model" in desktop.fetch("/admin/requests?limit=5"))
    assert logged
    status, _ = http_get(f"{desktop.home.origin}/admin/requests?limit=5")
    assert status == 401
    desktop.screenshot("playground")


def test_start_at_login_creates_and_removes_the_login_entry(desktop: Desktop) -> None:
    entry = desktop.home.root / ".config/autostart/Switchyard.desktop"
    assert desktop.invoke("autostart_enabled") == {"ok": False}
    assert not entry.exists()

    assert desktop.invoke("set_autostart", {"enabled": True}) == {"ok": True}
    assert entry.exists()
    text = entry.read_text()
    assert f"Exec={APP_BIN}" in text or f"Exec={APP_BIN.resolve()}" in text, text
    assert "--minimized" in text, text
    assert desktop.invoke("autostart_enabled") == {"ok": True}

    assert desktop.invoke("set_autostart", {"enabled": False}) == {"ok": False}
    assert not entry.exists()
    assert desktop.invoke("autostart_enabled") == {"ok": False}


def test_the_window_may_call_only_the_desktop_commands(desktop: Desktop) -> None:
    # The autostart plugin's own commands are not granted to the page: only our wrappers are.
    denied = desktop.invoke("plugin:autostart|enable")
    assert "err" in denied, denied
    assert "not allowed" in str(denied["err"]).lower(), denied
    assert not (desktop.home.root / ".config/autostart/Switchyard.desktop").exists()


def test_reveal_log_file_and_open_data_folder_answer(desktop: Desktop) -> None:
    # No file manager under Xvfb: the command runs and answers, ok or a coded error.
    for command in ("reveal_log_file", "open_data_folder"):
        answer = desktop.invoke(command)
        assert answer == {"ok": None} or answer["err"]["code"] in ("open_failed", "no_log_file"), (command, answer)


def test_a_key_saved_in_settings_lands_in_the_secret_service_and_nowhere_on_disk(desktop: Desktop) -> None:
    d = desktop.driver
    secret = "sk-desktop-canary-" + os.urandom(8).hex()
    d.get(f"{desktop.home.origin}/ui/settings/providers")
    card = find(desktop, "[data-testid=provider-vault]")
    add = wait_for("the Add key button", lambda: next((b for b in card.find_elements(By.TAG_NAME, "button") if b.text.strip() in ("Add key", "Replace key")), None))
    add.click()
    field = find(desktop, "#key-vault")
    field.send_keys(secret)
    field.send_keys(Keys.ENTER)
    wait_for("the config to refer to the keychain", lambda: "keychain:provider.vault" in (desktop.home.data / "config.toml").read_text())

    # In the real Secret Service, under the attributes the keyring crate files it by.
    stored = subprocess.run(
        ["secret-tool", "lookup", "service", "switchyard", "username", "provider.vault"],
        capture_output=True, text=True, timeout=30,
    )
    assert stored.returncode == 0, stored.stderr
    assert stored.stdout.strip() == secret

    # And nowhere under HOME: not the config, the database, the logs or WebKit's storage.
    # (The throwaway keyring keeps its file outside HOME, as with-keyring.sh arranges.)
    desktop.screenshot("settings-key-saved")
    leaks = [p for p in desktop.home.root.rglob("*") if p.is_file() and not p.is_symlink() and secret.encode() in p.read_bytes()]
    assert leaks == [], f"the key was written to disk: {leaks}"


def test_a_second_launch_hands_over_to_the_first_and_exits(desktop: Desktop) -> None:
    started = time.monotonic()
    second = subprocess.run([str(APP_BIN)], env=desktop.home.env(), capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr[-2000:]
    assert time.monotonic() - started < 30
    wait_for("the first instance to hear of it", lambda: "a second launch" in desktop.home.log_text())
    assert http_get(f"{desktop.home.origin}/healthz")[0] == 200
    desktop.pid()  # still exactly one app


def test_idle_memory(desktop: Desktop) -> None:
    pid = desktop.pid()
    time.sleep(2)  # let the window settle; this measures, it does not synchronise
    main = rss_kb(pid)
    web = sum(rss_kb(p) for p in descendants(pid) if Path(f"/proc/{p}").exists())
    print(f"\nidle RSS: app {main / 1024:.0f} MiB, with its WebKit processes {(main + web) / 1024:.0f} MiB")
    assert main > 0
