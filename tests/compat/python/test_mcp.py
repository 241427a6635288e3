"""MCP through the real binary, with real MCP servers: the official `server-everything` (stdio,
streamable HTTP and the older HTTP+SSE) and `mcp-server-time` (stdio) registered over the admin
API or in the config file; assistants and agent mode running their tools for clients of the
official OpenAI SDK (whole answers and streams, with the loop's steps in the request log);
an Anthropic model in the loop; client-declared tools handed back, never run; failing tools and
bad arguments fed back as errors; approvals; the iteration budget; a client that leaves mid-loop
(streamed or not) and `call_timeout_ms` cancelling the running call, as the server sees it,
without killing the server; servers that die, change or are disabled; no server process
outliving the gateway; the gateway's own `/mcp` endpoint driven by the official MCP Python SDK;
and bad input refused in the caller's dialect.

Each test starts a gateway of its own (`fresh_gateway`) on a config file of its own; the fake
upstream `alpha` plays the model (`alpha.script(...)` decides its tool calls)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import openai
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from helpers import ALPHA, BETA, PLAIN_TOOLS, WEATHER_CALL, check_chunk_invariants, collect, extra, openai_error, reply, tool_calls_as_json, user

REPO = Path(__file__).resolve().parents[3]
EVERYTHING = REPO / "tests/compat/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
# Installed beside this interpreter by requirements.txt (the suite runs from <repo>/.venv).
TIME_SERVER = Path(sys.executable).parent / "mcp-server-time"
# A stdio server on the official MCP Python SDK that writes to a file when its tool starts, ends
# and is cancelled: what the server side of a cancel sees.
RECORDER = Path(__file__).resolve().parent / "mcp_recorder.py"
REQUEST_ID = "x-switchyard-request-id"
CHAT = "/v1/chat/completions"
FILE_SECRETS = '\n[secrets]\nbackend = "file"\n'
WAIT_S = 20.0
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LONG_CALL = {"name": "everything__trigger-long-running-operation", "arguments": {"duration": 30, "steps": 30}}


@pytest.fixture(autouse=True, scope="module")
def _needs_servers() -> None:
    if not EVERYTHING.is_file():
        pytest.fail(f"{EVERYTHING} is missing: run `npm ci` in tests/compat/node (run.sh does)")
    if not TIME_SERVER.is_file():
        pytest.fail(f"{TIME_SERVER} is missing: pip install -r tests/compat/python/requirements.txt (run.sh does)")


# --------------------------------------------------------------------------- helpers


def wait_for(what: str, probe: Callable[[], Any], timeout: float = WAIT_S) -> Any:
    """Polls `probe` until it returns something truthy; fails naming `what`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.05)
    pytest.fail(f"{what}: not within {timeout} s (last: {last!r})")


def toml_server(
    name: str,
    *,
    command: str | None = None,
    args: list[str] | None = None,
    url: str | None = None,
    transport: str | None = None,
    env: dict[str, str] | None = None,
    call_timeout_ms: int | None = None,
) -> str:
    lines = ["", "[[mcp_servers]]", f"name = {json.dumps(name)}"]
    if call_timeout_ms is not None:
        lines.append(f"call_timeout_ms = {call_timeout_ms}")
    for key, value in (("command", command), ("url", url), ("transport", transport)):
        if value is not None:
            lines.append(f"{key} = {json.dumps(value)}")
    if args is not None:
        lines.append(f"args = {json.dumps(args)}")
    if env:
        lines.append("[mcp_servers.env]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in env.items()]
    return "\n".join(lines) + "\n"


def toml_assistant(
    name: str,
    *,
    model: str = ALPHA,
    servers: list[str] | None = None,
    tools: list[str] | None = None,
    system: str | None = None,
    max_iterations: int | None = None,
) -> str:
    lines = ["", "[[assistants]]", f"name = {json.dumps(name)}", f"model = {json.dumps(model)}"]
    if system is not None:
        lines.append(f"system = {json.dumps(system)}")
    if servers is not None:
        lines.append(f"servers = {json.dumps(servers)}")
    if tools is not None:
        lines.append(f"tools = {json.dumps(tools)}")
    if max_iterations is not None:
        lines.append(f"max_iterations = {max_iterations}")
    return "\n".join(lines) + "\n"


def config(*parts: str) -> str:
    """`extra_config` for `fresh_gateway`: it is run through str.format, so braces are escaped."""
    return "".join(parts).replace("{", "{{").replace("}", "}}")


def everything_stdio(name: str = "everything", *extra_args: str, **kw: Any) -> str:
    return toml_server(name, command="node", args=[str(EVERYTHING), "stdio", *extra_args], **kw)


def time_stdio(name: str = "time") -> str:
    return toml_server(name, command=str(TIME_SERVER), args=["--local-timezone", "UTC"])


def recorder(name: str, log: Path, **kw: Any) -> str:
    return toml_server(name, command=sys.executable, args=[str(RECORDER), str(log)], **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pids_with(marker: str) -> list[int]:
    """Live processes whose command line contains `marker`."""
    if Path("/proc").is_dir():
        pids = (int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit())
        return [pid for pid in pids if pid != os.getpid() and marker in cmdline(pid)]
    # macOS: one `ps` for all (zombies, state Z, have exited).
    out = subprocess.run(["ps", "-A", "-o", "pid=,stat=,command="], capture_output=True, text=True, check=True).stdout
    rows = [line.split(None, 2) for line in out.splitlines()]
    return [int(r[0]) for r in rows if len(r) == 3 and not r[1].startswith("Z") and marker in r[2]]


def cmdline(pid: int) -> str:
    """A process's command line, "" once it is gone (a zombie's is "" too)."""
    if Path("/proc").is_dir():
        try:
            return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return ""
    out = subprocess.run(["ps", "-p", str(pid), "-o", "stat=,command="], capture_output=True, text=True).stdout.strip()
    return "" if not out or out.startswith("Z") else out.split(None, 1)[-1]


def server_view(gw: Any, name: str) -> dict[str, Any]:
    with gw.admin() as h:
        r = h.get(f"/admin/mcp/servers/{name}")
        assert r.status_code == 200, r.text
        return r.json()


def tool_list(gw: Any, server: str) -> list[dict[str, Any]]:
    with gw.admin() as h:
        r = h.get(f"/admin/mcp/servers/{server}/tools")
        assert r.status_code == 200, r.text
        return r.json()["data"]


def all_tool_names(gw: Any) -> set[str]:
    with gw.admin() as h:
        r = h.get("/admin/mcp/tools")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["errors"] == [], body["errors"]
        return {t["name"] for t in body["data"]}


def logged(gw: Any, rid: str, until: Callable[[dict[str, Any]], bool] = lambda d: True) -> dict[str, Any]:
    """The request's row in the log (GET /admin/requests/{id}), once written and `until` holds."""
    with gw.admin() as h:

        def probe() -> dict[str, Any] | None:
            r = h.get(f"/admin/requests/{rid}")
            if r.status_code == 200 and until(r.json()):
                return r.json()
            return None

        return wait_for(f"request {rid} in the log", probe)


def offered(upstream_request: dict[str, Any]) -> list[str]:
    """The tool names an upstream request offered the model."""
    return [t["function"]["name"] for t in upstream_request["body"].get("tools") or []]


def tool_messages(upstream_request: dict[str, Any]) -> dict[str, str]:
    """tool_call_id -> content of the tool messages the gateway sent upstream."""
    return {m["tool_call_id"]: m["content"] for m in upstream_request["body"]["messages"] if m["role"] == "tool"}


def calls_by_name(upstream_request: dict[str, Any]) -> dict[str, str]:
    """tool name -> call id of the last assistant turn in an upstream request."""
    turn = [m for m in upstream_request["body"]["messages"] if m["role"] == "assistant"][-1]
    return {tc["function"]["name"]: tc["id"] for tc in turn["tool_calls"]}


def notes(chunks: list[Any]) -> list[dict[str, Any]]:
    """The loop's `switchyard` events of a stream read through the SDK."""
    return [extra(c, "switchyard") for c in chunks if not c.choices and extra(c, "switchyard")]


def check_time_result(text: str) -> None:
    """What mcp-server-time's get_current_time answers for UTC: the real current time."""
    t = json.loads(text)
    assert t["timezone"] == "UTC", t
    when = datetime.fromisoformat(t["datetime"])
    assert abs(when - datetime.now(timezone.utc)) < timedelta(hours=1), t


@pytest.fixture
def node_server() -> Any:
    """Starts `server-everything` in an HTTP mode (`streamableHttp` or `sse`) on a free port of
    its own; returns its base URL. Stopped at teardown."""
    started: list[subprocess.Popen[bytes]] = []

    def start(mode: str) -> str:
        port = free_port()
        p = subprocess.Popen(
            ["node", str(EVERYTHING), mode],
            env={**os.environ, "PORT": str(port)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(p)

        def listening() -> bool:
            assert p.poll() is None, f"server-everything {mode} exited with {p.returncode}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_for(f"server-everything {mode} listening on {port}", listening)
        return f"http://127.0.0.1:{port}"

    yield start
    for p in started:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


# --------------------------------------------------------------------------- 1. admin API, stdio


def test_stdio_servers_registered_over_the_admin_api_run_and_their_tools_can_be_switched_off(fresh_gateway, alpha):
    canary = f"env-canary-{uuid.uuid4().hex[:12]}"
    marker = f"sy-admin-{uuid.uuid4().hex[:8]}"
    gw = fresh_gateway(extra_config=FILE_SECRETS)
    secrets_file = gw.workdir / "home" / "secrets.toml"
    with gw.admin() as h:
        r = h.post(
            "/admin/mcp/servers",
            json={
                "name": "everything",
                "command": "node",
                "args": [str(EVERYTHING), "stdio", marker],
                "env": {"SY_CANARY": {"secret": canary}, "SY_PLAIN": "plain-value"},
            },
        )
        assert r.status_code == 201, r.text
        view = r.json()
        assert view["transport"] == "stdio" and view["command"] == "node", view
        assert view["env"] == {"SY_CANARY": "keychain:mcp.everything.SY_CANARY", "SY_PLAIN": "plain-value"}, view
        assert canary not in r.text
        text = gw.config_path.read_text()
        assert "keychain:mcp.everything.SY_CANARY" in text and canary not in text, text
        assert canary in secrets_file.read_text()

        r = h.post("/admin/mcp/servers", json={"name": "time", "command": str(TIME_SERVER), "args": ["--local-timezone", "UTC"]})
        assert r.status_code == 201, r.text
        assert [s["name"] for s in h.get("/admin/mcp/servers").json()["data"]] == ["everything", "time"]

        r = h.post("/admin/assistants", json={"name": "helper", "model": ALPHA, "system": "You help.", "servers": ["everything", "time"]})
        assert r.status_code == 201, r.text
        assert r.json()["servers"] == ["everything", "time"] and r.json()["max_iterations"] == 10, r.json()

    # Listing the tools starts the servers.
    everything = {t["name"]: t for t in tool_list(gw, "everything")}
    echo = everything.get("everything__echo")
    assert echo is not None, sorted(everything)
    assert echo["server"] == "everything" and echo["tool"] == "echo" and echo["enabled"] is True, echo
    assert echo["description"] and echo["input_schema"]["properties"]["message"]["type"] == "string", echo
    assert {"everything__get-env", "everything__get-sum", "everything__trigger-long-running-operation"} <= set(everything)
    times = {t["name"] for t in tool_list(gw, "time")}
    assert times == {"time__get_current_time", "time__convert_time"}, times

    for name, count in (("everything", len(everything)), ("time", 2)):
        st = server_view(gw, name)["status"]
        assert st["state"] == "running" and st["error"] is None and st["tools"] == count, st
        assert isinstance(st["pid"], int) and st["pid"] > 0, st
    pid = server_view(gw, "everything")["status"]["pid"]
    assert marker in cmdline(pid), f"the status pid {pid} is not the server: {cmdline(pid)!r}"
    with gw.http() as h:
        stats = {s["name"]: s for s in h.get("/statsz").json()["mcp_servers"]}
        card = next(m for m in h.get("/v1/models").json()["data"] if m["id"] == "helper")
    assert stats["everything"]["state"] == "running" and stats["everything"]["pid"] == pid, stats
    assert stats["time"]["state"] == "running" and stats["time"]["transport"] == "stdio", stats
    assert card["assistant"]["model"] == ALPHA and card["assistant"]["servers"] == ["everything", "time"], card

    # The model sees every tool, and the server got the secret env value.
    assert {"everything__get-env", "everything__echo", "time__get_current_time"} <= all_tool_names(gw)
    alpha.script(reply(tool_calls=[{"name": "everything__get-env", "arguments": {}}]))
    out = gw.client().chat.completions.create(model="helper", messages=user("what is your environment?"))
    assert canary in out.choices[0].message.content and "plain-value" in out.choices[0].message.content
    first = alpha.model_requests()[0]
    assert "everything__get-env" in offered(first) and "time__get_current_time" in offered(first)

    # Switched off: gone from what models are offered, kept in the server's list as disabled.
    with gw.admin() as h:
        r = h.put("/admin/mcp/servers/everything/tools/get-env", json={"enabled": False})
        assert r.status_code == 200, r.text
        assert r.json() == {"server": "everything", "tool": "get-env", "enabled": False}
    assert 'disabled_tools = ["get-env"]' in gw.config_path.read_text()
    names = all_tool_names(gw)
    assert "everything__get-env" not in names and "everything__echo" in names, sorted(names)
    assert {t["name"]: t["enabled"] for t in tool_list(gw, "everything")}["everything__get-env"] is False
    alpha.reset()
    alpha.script(reply(text="No tools needed."))
    out = gw.client().chat.completions.create(model="helper", messages=user("hi"))
    assert out.choices[0].message.content == "No tools needed."
    tools = offered(alpha.model_requests()[0])
    assert "everything__get-env" not in tools and "everything__echo" in tools and "time__get_current_time" in tools, tools
    # A tool switch keeps the running session.
    assert server_view(gw, "everything")["status"]["pid"] == pid

    with gw.admin() as h:
        assert h.put("/admin/mcp/servers/everything/tools/get-env", json={"enabled": True}).status_code == 200
    assert "everything__get-env" in all_tool_names(gw)

    # Removed: its process stops and the secret it owned goes with it.
    with gw.admin() as h:
        assert h.delete("/admin/assistants/helper").status_code == 204
        r = h.delete("/admin/mcp/servers/everything")
        assert r.status_code == 204, r.text
        assert h.get("/admin/mcp/servers/everything").status_code == 404
    wait_for(f"the removed server's process {pid} to stop", lambda: not pids_with(marker))
    assert canary not in secrets_file.read_text()
    assert "everything__echo" not in all_tool_names(gw)


# --------------------------------------------------------------------------- 2. HTTP transports


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_server_everything_over_http_transports(fresh_gateway, alpha, node_server, transport):
    base = node_server("streamableHttp" if transport == "http" else "sse")
    url = base + ("/mcp" if transport == "http" else "/sse")
    gw = fresh_gateway(
        extra_config=config(
            toml_server("remote", url=url, transport=transport),
            toml_assistant("echoer", servers=["remote"]),
        )
    )
    names = {t["name"] for t in tool_list(gw, "remote")}
    assert {"remote__echo", "remote__get-sum", "remote__trigger-long-running-operation"} <= names, sorted(names)
    st = server_view(gw, "remote")
    assert st["transport"] == transport and st["url"] == url, st
    assert st["status"]["state"] == "running" and st["status"]["pid"] is None, st["status"]
    assert st["status"]["server_info"]["name"], st["status"]

    message = f"over {transport} {uuid.uuid4().hex[:6]}"
    alpha.script(reply(text="Echoing.", tool_calls=[{"name": "remote__echo", "arguments": {"message": message}}]))
    out = gw.client().chat.completions.create(model="echoer", messages=user("echo something"))
    assert out.choices[0].message.content == f"Echoing.\n\nTool said: Echo: {message}"
    second = alpha.model_requests()[1]
    assert tool_messages(second) == {calls_by_name(second)["remote__echo"]: f"Echo: {message}"}


# --------------------------------------------------------------------------- 3. the loop, SDK


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_an_assistant_runs_real_tools_for_an_openai_sdk_client(fresh_gateway, alpha, stream):
    gw = fresh_gateway(
        extra_config=config(
            everything_stdio(),
            time_stdio(),
            toml_assistant("helper", servers=["everything", "time"], system="You help."),
        )
    )
    message = f"pineapple-{uuid.uuid4().hex[:6]}"
    alpha.script(
        reply(
            text="Let me check.",
            tool_calls=[
                {"name": "time__get_current_time", "arguments": {"timezone": "UTC"}},
                {"name": "everything__echo", "arguments": {"message": message}},
            ],
        )
    )
    expected = f"Let me check.\n\nTool said: Echo: {message}"
    c = gw.client()
    raw = c.chat.completions.with_raw_response.create(model="helper", messages=user("What time is it?"), stream=stream)
    rid = raw.headers[REQUEST_ID]
    if stream:
        chunks = list(raw.parse())
        check_chunk_invariants(chunks)  # the event chunks too: same id, no choices
        got = collect(chunks)
        assert got["content"] == expected and got["finish"] == ["stop"], got["content"]
        assert {ch.model for ch in chunks} == {"helper"}
        events = notes(chunks)
        assert [e["type"] for e in events] == ["tool_call", "tool_call", "tool_result", "tool_result"], events
        call_ev = {e["name"]: e for e in events if e["type"] == "tool_call"}
        assert call_ev["everything__echo"]["arguments"] == {"message": message} and call_ev["everything__echo"]["round"] == 1
        assert call_ev["time__get_current_time"]["arguments"] == {"timezone": "UTC"}
        result_ev = {e["name"]: e for e in events if e["type"] == "tool_result"}
        echo = result_ev["everything__echo"]
        assert echo["id"] == call_ev["everything__echo"]["id"] and echo["status"] == "ok" and echo["is_error"] is False, echo
        assert echo["content"] == f"Echo: {message}" and echo["ms"] >= 0, echo
        check_time_result(result_ev["time__get_current_time"]["content"])
        # The content deltas come before the events of the round that follows them.
        assert chunks.index(next(ch for ch in chunks if ch.choices and ch.choices[0].delta.content)) < chunks.index(
            next(ch for ch in chunks if extra(ch, "switchyard"))
        )
    else:
        out = raw.parse()
        assert out.model == "helper"
        assert out.choices[0].message.content == expected
        assert out.choices[0].finish_reason == "stop" and not out.choices[0].message.tool_calls
        assert out.usage is not None and out.usage.total_tokens > 0

    reqs = alpha.model_requests()
    assert len(reqs) == 2, [r["body"] for r in reqs]
    first, second = reqs
    assert first["body"]["model"] == "gpt-4o-mini" and "agent" not in first["body"]
    assert first["body"]["messages"][0]["role"] == "system" and first["body"]["messages"][0]["content"] == "You help."
    assert {"everything__echo", "time__get_current_time", "time__convert_time"} <= set(offered(first))
    # The second round carries the model's calls and the real results, matched by id.
    ids = calls_by_name(second)
    results = tool_messages(second)
    assert set(results) == set(ids.values()), (ids, results)
    assert results[ids["everything__echo"]] == f"Echo: {message}"
    check_time_result(results[ids["time__get_current_time"]])

    steps = logged(gw, rid)["steps"]
    assert [s["type"] for s in steps] == ["start", "model", "tool_call", "tool_call", "tool_result", "tool_result", "model"], steps
    start, model1, *_, model2 = steps
    assert start["assistant"] == "helper" and start["model"] == ALPHA and "everything__echo" in start["tools"], start
    assert model1["round"] == 1 and sorted(model1["tool_calls"]) == ["everything__echo", "time__get_current_time"], model1
    assert model2["round"] == 2 and model2["tool_calls"] == [] and model2["content"] == f"Tool said: Echo: {message}", model2
    calls = [s for s in steps if s["type"] == "tool_call"]
    assert [s["name"] for s in calls] == ["time__get_current_time", "everything__echo"], calls
    assert {s["name"]: s["status"] for s in steps if s["type"] == "tool_result"} == {
        "time__get_current_time": "ok",
        "everything__echo": "ok",
    }, steps
    assert {s["id"] for s in calls} == {s["id"] for s in steps if s["type"] == "tool_result"}


def test_an_assistant_on_an_anthropic_model_runs_tools_too(fresh_gateway, beta):
    gw = fresh_gateway(
        extra_config=config(everything_stdio(), toml_assistant("claude-helper", model=BETA, servers=["everything"], system="You help."))
    )
    beta.script(reply(text="Checking.", tool_calls=[{"name": "everything__echo", "arguments": {"message": "via claude"}}]))
    chunks = list(gw.client().chat.completions.create(model="claude-helper", messages=user("echo"), stream=True))
    assert collect(chunks)["content"] == "Checking.\n\nTool said: Echo: via claude"
    assert [e["type"] for e in notes(chunks)] == ["tool_call", "tool_result"]
    first, second = (r["body"] for r in beta.model_requests())
    assert "You help." in json.dumps(first.get("system")), first.get("system")
    assert "everything__echo" in [t["name"] for t in first["tools"]]
    use = next(b for m in second["messages"] if m["role"] == "assistant" for b in m["content"] if b["type"] == "tool_use")
    assert use["name"] == "everything__echo" and use["input"] == {"message": "via claude"}, use
    result = next(b for m in second["messages"] if m["role"] == "user" for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result")
    assert result["tool_use_id"] == use["id"] and "Echo: via claude" in json.dumps(result["content"]), result


def test_the_last_round_offers_no_tools_and_a_tool_subset_is_all_the_model_sees(fresh_gateway, alpha):
    gw = fresh_gateway(
        extra_config=config(
            everything_stdio(),
            toml_assistant("looper", tools=["everything__echo"], max_iterations=2),
        )
    )
    # A model that wants the tool every time.
    alpha.default(reply(text="Again.", tool_calls=[{"name": "everything__echo", "arguments": {"message": "loop"}}]))
    raw = gw.client().chat.completions.with_raw_response.create(model="looper", messages=user("loop forever"))
    out = raw.parse()
    reqs = alpha.model_requests()
    assert len(reqs) == 2, "max_iterations = 2 is two model rounds"
    assert offered(reqs[0]) == ["everything__echo"], "only the assistant's tool subset is offered"
    assert offered(reqs[1]) == [], "the last round offers no MCP tools"
    assert out.choices[0].finish_reason == "length", out
    assert out.choices[0].message.content == "Again.\n\nAgain." and not out.choices[0].message.tool_calls, out
    steps = logged(gw, raw.headers[REQUEST_ID])["steps"]
    assert [s["type"] for s in steps] == ["start", "model", "tool_call", "tool_result", "model", "budget"], steps


def test_failing_tools_and_bad_arguments_go_back_to_the_model_as_errors(fresh_gateway, alpha):
    gw = fresh_gateway(extra_config=config(everything_stdio(), toml_assistant("helper", servers=["everything"])))
    alpha.script(
        reply(
            text="Adding.",
            tool_calls=[
                {"name": "everything__get-sum", "arguments": {"a": "one", "b": 2}},
                {"name": "everything__echo", "arguments": '{"message": '},
                {"name": "everything__get-sum", "arguments": {"a": 40, "b": 2}},
            ],
        )
    )
    raw = gw.client().chat.completions.with_raw_response.create(model="helper", messages=user("add"))
    out = raw.parse()
    assert out.choices[0].finish_reason == "stop" and out.choices[0].message.content.startswith("Adding.\n\nTool said: ")
    second = alpha.model_requests()[1]
    turn = [m for m in second["body"]["messages"] if m["role"] == "assistant"][-1]
    results = [tool_messages(second)[tc["id"]] for tc in turn["tool_calls"]]
    assert "expected number" in results[0], results  # the server's own validation message
    assert results[1] == 'the arguments were not valid JSON: {"message": ', results
    assert results[2] == "The sum of 40 and 2 is 42.", results
    steps = logged(gw, raw.headers[REQUEST_ID])["steps"]
    by_id = {s["id"]: s for s in steps if s["type"] == "tool_result"}
    got = [(by_id[tc["id"]]["status"], by_id[tc["id"]]["is_error"]) for tc in turn["tool_calls"]]
    assert got == [("error", True), ("error", True), ("ok", False)], steps


# --------------------------------------------------------------------------- 4. client tools


def test_a_client_declared_tool_goes_back_to_the_client_unrun(fresh_gateway, alpha):
    gw = fresh_gateway(extra_config=config(everything_stdio(), toml_assistant("helper", servers=["everything"])))
    c = gw.client()
    alpha.script(reply(text="Checking.", tool_calls=[WEATHER_CALL]))
    raw = c.chat.completions.with_raw_response.create(model="helper", messages=user("Weather in Paris?"), tools=PLAIN_TOOLS)
    out = raw.parse()
    choice = out.choices[0]
    assert choice.finish_reason == "tool_calls", choice
    assert tool_calls_as_json(choice.message) == [("get_weather", {"city": "Paris"})]
    reqs = alpha.model_requests()
    assert len(reqs) == 1, "the gateway must not answer a client tool call itself"
    assert {"get_weather", "get_time", "everything__echo"} <= set(offered(reqs[0]))
    steps = logged(gw, raw.headers[REQUEST_ID])["steps"]
    assert [s["type"] for s in steps] == ["start", "model"], steps

    # The client runs it and sends the result back: the loop carries on to the answer.
    call = choice.message.tool_calls[0]
    convo = [
        *user("Weather in Paris?"),
        {"role": "assistant", "content": choice.message.content, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 18 C"},
    ]
    out = c.chat.completions.create(model="helper", messages=convo, tools=PLAIN_TOOLS)
    assert out.choices[0].message.content == "Tool said: sunny, 18 C" and out.choices[0].finish_reason == "stop"

    # Streamed: the call arrives as tool_call deltas, nothing runs.
    alpha.reset()
    alpha.script(reply(tool_calls=[WEATHER_CALL]))
    chunks = list(c.chat.completions.create(model="helper", messages=user("Weather?"), tools=PLAIN_TOOLS, stream=True))
    check_chunk_invariants(chunks)
    assert collect(chunks)["finish"] == ["tool_calls"]
    deltas = [tc for ch in chunks if ch.choices for tc in ch.choices[0].delta.tool_calls or []]
    assert [d.function.name for d in deltas if d.function and d.function.name] == ["get_weather"]
    assert json.loads("".join(d.function.arguments or "" for d in deltas if d.function)) == {"city": "Paris"}
    assert notes(chunks) == [] and len(alpha.model_requests()) == 1


# --------------------------------------------------------------------------- approvals


def test_agent_mode_waits_for_approval_and_a_declined_call_is_not_run(fresh_gateway, alpha):
    gw = fresh_gateway(extra_config=config(everything_stdio()))
    alpha.script(
        reply(
            text="Echoing twice.",
            tool_calls=[
                {"name": "everything__echo", "arguments": {"message": "approved one"}},
                {"name": "everything__echo", "arguments": {"message": "declined one"}},
            ]
        )
    )
    body = {
        "model": ALPHA,
        "messages": user("echo twice"),
        "stream": True,
        "agent": {"servers": ["everything"], "approval": True},
    }
    events: list[dict[str, Any]] = []
    content = ""
    with gw.http() as h, gw.admin() as adm, h.stream("POST", CHAT, json=body) as r:
        assert r.status_code == 200, r.read()
        rid = r.headers[REQUEST_ID]
        answers = iter([True, False])
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("switchyard"):
                ev = chunk["switchyard"]
                events.append(ev)
                if ev["type"] == "approval_required":
                    assert ev["name"] == "everything__echo" and ev["approval_id"], ev
                    a = adm.post(f"/admin/agent/approvals/{ev['approval_id']}", json={"approve": next(answers)})
                    assert a.status_code == 204, a.text
                    # Answered once: a second answer finds nothing waiting.
                    assert adm.post(f"/admin/agent/approvals/{ev['approval_id']}", json={"approve": True}).status_code == 404
            for ch in chunk.get("choices") or []:
                content += (ch.get("delta") or {}).get("content") or ""
    kinds = [e["type"] for e in events]
    assert kinds.count("approval_required") == 2 and kinds.count("tool_result") == 2, kinds
    results = {e["id"]: e for e in events if e["type"] == "tool_result"}
    approvals = [e for e in events if e["type"] == "approval_required"]
    approved, declined = results[approvals[0]["id"]], results[approvals[1]["id"]]
    assert approved["status"] == "ok" and approved["content"] == "Echo: approved one", approved
    assert declined["status"] == "denied" and declined["is_error"] is True, declined
    assert content == "Echoing twice.\n\nTool said: The user declined this tool call.", content
    second = alpha.model_requests()[1]
    assert sorted(tool_messages(second).values()) == ["Echo: approved one", "The user declined this tool call."]
    steps = logged(gw, rid)["steps"]
    assert sorted(s["status"] for s in steps if s["type"] == "tool_result") == ["denied", "ok"], steps
    assert steps[0]["assistant"] is None and steps[0]["model"] == ALPHA, steps[0]


# --------------------------------------------------------------------------- 5. /mcp


async def _drive_builtin_server(url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with streamable_http_client(url) as (read, write):
        async with ClientSession(read, write) as s:
            out["init"] = await s.initialize()
            out["tools"] = await s.list_tools()
            out["image"] = await s.call_tool("generate_image", {"prompt": "a tiny test pattern"})
            out["inline"] = await s.call_tool("generate_image", {"prompt": "inline please", "inline": True, "n": 2})
            path = out["image"].structured_content["paths"][0]
            out["understand"] = await s.call_tool("understand_image", {"image": path, "prompt": "any squares?"})
            data_url = "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()
            out["understand_data"] = await s.call_tool("understand_image", {"image": data_url})
            # A file in the images folder that is no image, and one outside every allowed folder.
            notes = Path(path).parent / "notes.txt"
            notes.write_text("not an image")
            out["not_an_image"] = await s.call_tool("understand_image", {"image": str(notes)})
            out["outside"] = await s.call_tool("understand_image", {"image": __file__})
            out["models"] = await s.call_tool("list_models", {})
            out["chat"] = await s.call_tool("chat", {"model": ALPHA, "prompt": "hello over mcp", "system": "Be brief."})
            try:
                out["unknown"] = await s.call_tool("no_such_tool", {})
            except MCPError as e:
                out["unknown"] = e
            out["missing_arg"] = await s.call_tool("generate_image", {})
    return out


def test_the_builtin_mcp_server_with_the_official_python_sdk(fresh_gateway, alpha, gamma):
    # An image model on gamma, found by its name.
    gw = fresh_gateway(
        extra_config=config(
            f'\n[[providers]]\nname = "pics"\nkind = "openai"\nbase_url = {json.dumps(gamma.base_url)}\nmodels = ["gpt-image-1"]\n'
        )
    )
    seen = {"description": "a 2x2 test pattern", "text": "", "objects": [{"label": "red square", "box": [0, 0, 1, 1]}], "scene": "test card"}
    # understand_image asks the vision model (alpha's gpt-4o-mini) twice, then chat asks once.
    alpha.script(reply(text="```json\n" + json.dumps(seen) + "\n```"), reply(text=json.dumps(seen)), reply())
    got = asyncio.run(_drive_builtin_server(gw.root + "/mcp"))

    assert got["init"].server_info.name == "switchyard", got["init"]
    assert sorted(t.name for t in got["tools"].tools) == ["chat", "generate_image", "list_models", "understand_image"]
    assert all(t.description and t.input_schema.get("type") == "object" for t in got["tools"].tools)

    images_dir = gw.workdir / "home" / "images"
    image = got["image"]
    assert image.is_error is False, image
    paths = image.structured_content["paths"]
    assert len(paths) == 1 and image.content[0].text == paths[0], image
    assert Path(paths[0]).parent == images_dir and Path(paths[0]).read_bytes().startswith(PNG_MAGIC), paths
    assert image.structured_content["model"] == "pics/gpt-image-1", image.structured_content
    assert [b.type for b in image.content] == ["text"], "no image data unless inline is asked for"
    inline = got["inline"]
    assert inline.is_error is False and len(inline.structured_content["paths"]) == 2, inline
    blocks = [b for b in inline.content if b.type == "image"]
    assert len(blocks) == 2 and all(b.mime_type == "image/png" for b in blocks), inline.content
    assert base64.b64decode(blocks[0].data) == Path(inline.structured_content["paths"][0]).read_bytes()
    gens = [r for r in gamma.requests() if r["path"].endswith("/images/generations")]
    assert [g["body"]["prompt"] for g in gens] == ["a tiny test pattern", "inline please"] and gens[0]["body"]["model"] == "gpt-image-1", gens

    u = got["understand"]
    assert u.is_error is False, u
    sc = u.structured_content
    assert (sc["width"], sc["height"], sc["mime_type"]) == (2, 2, "image/png"), sc
    assert sc["description"] == seen["description"] and sc["objects"] == seen["objects"] and sc["scene"] == "test card", sc
    assert u.content[0].text == seen["description"]
    vision_req = alpha.model_requests()[0]["body"]
    parts = vision_req["messages"][0]["content"]
    assert any(p["type"] == "image_url" and p["image_url"]["url"].startswith("data:image/png;base64,") for p in parts), parts
    assert any(p["type"] == "text" and "any squares?" in p["text"] and "2x2" in p["text"] for p in parts), parts

    data = got["understand_data"].structured_content
    assert (data["width"], data["height"], data["description"]) == (2, 2, seen["description"]), data
    assert got["not_an_image"].is_error is True and "not a PNG" in got["not_an_image"].content[0].text, got["not_an_image"]
    outside = got["outside"]
    assert outside.is_error is True and "is not a file this gateway may read" in outside.content[0].text, outside
    assert len(alpha.model_requests()) == 3, "a file that is no image is refused before any model is asked"

    models = got["models"]
    listed = {m["id"] for m in models.structured_content["models"]}
    assert {ALPHA, BETA, "smart", "resilient", "pics/gpt-image-1"} <= listed, listed
    assert ALPHA in models.content[0].text.splitlines()

    chat = got["chat"]
    assert chat.is_error is False and chat.content[0].text == "You said: hello over mcp", chat
    assert chat.structured_content["content"] == "You said: hello over mcp" and chat.structured_content["finish_reason"] == "stop"
    chat_req = alpha.model_requests()[2]["body"]
    assert chat_req["messages"][0] == {"role": "system", "content": "Be brief."}, chat_req["messages"]

    unknown = got["unknown"]
    assert isinstance(unknown, MCPError) or unknown.is_error is True, unknown
    assert "no_such_tool" in str(unknown if isinstance(unknown, MCPError) else unknown.content[0].text)
    assert got["missing_arg"].is_error is True and "prompt" in got["missing_arg"].content[0].text

    # Browsers on other sites may not drive it (DNS rebinding, drive-by pages).
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    }
    accept = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    with gw.http() as h:
        evil = h.post("/mcp", json=init, headers={**accept, "origin": "https://evil.example"})
        assert evil.status_code == 403 and openai_error(evil)["code"] == "origin_not_allowed", evil.text
        rebound = h.post("/mcp", json=init, headers={**accept, "host": "evil.example"})
        assert rebound.status_code == 403 and openai_error(rebound)["code"] == "host_not_allowed", rebound.text
        own = h.post("/mcp", json=init, headers={**accept, "origin": gw.root})
        assert own.status_code == 200 and '"serverInfo"' in own.text, own.text


# --------------------------------------------------------------------------- 6. cancel, orphans


def test_a_client_leaving_mid_loop_cancels_the_call_and_no_server_outlives_the_gateway(fresh_gateway, alpha):
    marker = f"sy-orphan-{uuid.uuid4().hex[:8]}"
    gw = fresh_gateway(extra_config=config(everything_stdio("everything", marker), toml_assistant("worker", servers=["everything"])))
    assert tool_list(gw, "everything")
    pid = server_view(gw, "everything")["status"]["pid"]
    assert pids_with(marker) == [pid]

    alpha.script(reply(text="Starting the long job.", tool_calls=[LONG_CALL]))
    body = {"model": "worker", "messages": user("run the long job"), "stream": True}
    with gw.http() as h, h.stream("POST", CHAT, json=body) as r:
        assert r.status_code == 200, r.read()
        rid = r.headers[REQUEST_ID]
        for line in r.iter_lines():
            if line.startswith("data: ") and '"switchyard"' in line:
                ev = json.loads(line[6:])["switchyard"]
                if ev["type"] == "tool_call":
                    assert ev["name"] == LONG_CALL["name"] and ev["arguments"] == LONG_CALL["arguments"], ev
                    break
        else:
            pytest.fail("the stream ended without a tool_call event")
        # Leaving the block closes the connection with the tool still running.

    row = logged(gw, rid)
    steps = row["steps"]
    assert row["status"] == 499 and row["outcome"] == "client_closed", row
    results = [s for s in steps if s["type"] == "tool_result"]
    assert [(s["name"], s["status"]) for s in results] == [(LONG_CALL["name"], "cancelled")], steps
    assert len(alpha.model_requests()) == 1, "no model round after the client left"

    # The server survives the cancel and still answers.
    st = server_view(gw, "everything")["status"]
    assert st["state"] == "running" and st["pid"] == pid and st["restarts"] == 0, st
    alpha.script(reply(text="Again.", tool_calls=[{"name": "everything__echo", "arguments": {"message": "after the cancel"}}]))
    out = gw.client().chat.completions.create(model="worker", messages=user("still there?"))
    assert out.choices[0].message.content == "Again.\n\nTool said: Echo: after the cancel"
    assert server_view(gw, "everything")["status"]["pid"] == pid

    # A long call is still running inside the server when the gateway is told to stop.
    alpha.script(reply(text="Once more.", tool_calls=[LONG_CALL]))
    with gw.http() as h, h.stream("POST", CHAT, json=body) as r:
        if not any('"tool_call"' in line for line in r.iter_lines()):
            pytest.fail("the stream ended without a tool_call event")
        rc = gw.proc.terminate(timeout=30)
    assert rc == 0, f"the gateway exited with {rc} after SIGTERM"
    left = pids_with(marker)
    assert left == [], f"MCP server processes outlived the gateway: {[(p, cmdline(p)) for p in left]}"


def test_cancels_and_timeouts_reach_the_server(fresh_gateway, alpha, tmp_path):
    """Seen from the server (the official Python SDK's): a streamed client leaving, a whole-answer
    client leaving and `call_timeout_ms` each end the running call with notifications/cancelled."""
    log = tmp_path / "recorder.log"
    log.touch()
    gw = fresh_gateway(
        extra_config=config(
            recorder("rec", log),
            recorder("slow", log, call_timeout_ms=1000),
            toml_assistant("waiter", servers=["rec"]),
            toml_assistant("hasty", servers=["slow"]),
        )
    )

    def wait_call(label: str, server: str = "rec") -> dict[str, Any]:
        return reply(text="Waiting.", tool_calls=[{"name": f"{server}__wait", "arguments": {"seconds": 60, "label": label}}])

    # A streamed client leaves.
    alpha.script(wait_call("streamed"))
    with gw.http() as h, h.stream("POST", CHAT, json={"model": "waiter", "messages": user("wait"), "stream": True}) as r:
        streamed_id = r.headers[REQUEST_ID]
        for line in r.iter_lines():
            if '"tool_call"' in line:
                break
        wait_for("the call to start in the server", lambda: "started streamed" in log.read_text())
    wait_for("the server to hear the streamed client's cancel", lambda: "cancelled streamed" in log.read_text())

    # A client waiting for a whole answer leaves (its socket closes before any response byte).
    alpha.script(wait_call("whole"))
    body = json.dumps({"model": "waiter", "messages": user("wait")}).encode()
    with socket.create_connection(("127.0.0.1", gw.port), timeout=30) as sock:
        sock.sendall(
            f"POST {CHAT} HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        wait_for("the call to start in the server", lambda: "started whole" in log.read_text())
    wait_for("the server to hear the whole-answer client's cancel", lambda: "cancelled whole" in log.read_text())

    for rid in (streamed_id, None):
        if rid is None:  # the socket client never saw its id: the newest row
            with gw.admin() as h:
                rid = wait_for("two rows", lambda: (rows := h.get("/admin/requests").json()["requests"]) and len(rows) >= 2 and rows[0]["id"])
        row = logged(gw, rid, until=lambda d: any(s["type"] == "tool_result" for s in d["steps"]))
        assert row["status"] == 499 and row["outcome"] == "client_closed", row
        assert [s["status"] for s in row["steps"] if s["type"] == "tool_result"] == ["cancelled"], row["steps"]

    # A call past its server's call_timeout_ms: cancelled in the server, an error for the model.
    alpha.script(wait_call("timed", server="slow"))
    raw = gw.client().chat.completions.with_raw_response.create(model="hasty", messages=user("wait"))
    out = raw.parse()
    assert out.choices[0].finish_reason == "stop", out
    assert "did not answer within" in out.choices[0].message.content, out.choices[0].message.content
    wait_for("the server to hear the timeout's cancel", lambda: "cancelled timed" in log.read_text())
    result = [s for s in logged(gw, raw.headers[REQUEST_ID])["steps"] if s["type"] == "tool_result"]
    assert [(s["status"], s["is_error"]) for s in result] == [("error", True)], result
    assert "finished" not in log.read_text(), log.read_text()
    assert server_view(gw, "rec")["status"]["restarts"] == 0 and server_view(gw, "slow")["status"]["state"] == "running"


def test_a_server_that_dies_or_is_changed_starts_again(fresh_gateway, alpha):
    marker = f"sy-changed-{uuid.uuid4().hex[:8]}"
    gw = fresh_gateway(extra_config=config(everything_stdio(), toml_assistant("helper", servers=["everything"])))
    c = gw.client()

    def echo(message: str) -> str | None:
        alpha.script(reply(text="Echo.", tool_calls=[{"name": "everything__echo", "arguments": {"message": message}}]))
        return c.chat.completions.create(model="helper", messages=user("x")).choices[0].message.content

    assert tool_list(gw, "everything")
    first = server_view(gw, "everything")["status"]["pid"]
    os.kill(first, 9)
    st = wait_for("the death noticed", lambda: (s := server_view(gw, "everything")["status"])["state"] != "running" and s)
    assert st["state"] in ("exited", "failed") and st["pid"] is None, st
    assert echo("revived") == "Echo.\n\nTool said: Echo: revived"
    st = server_view(gw, "everything")["status"]
    assert st["state"] == "running" and st["pid"] not in (None, first) and st["restarts"] == 1, st

    # Changed over the API: the old process stops, the next use starts the new command line.
    old = st["pid"]
    with gw.admin() as h:
        r = h.patch("/admin/mcp/servers/everything", json={"args": [str(EVERYTHING), "stdio", marker]})
        assert r.status_code == 200, r.text
    wait_for(f"the old process {old} to stop", lambda: not cmdline(old))
    assert echo("changed") == "Echo.\n\nTool said: Echo: changed"
    changed = server_view(gw, "everything")["status"]["pid"]
    assert pids_with(marker) == [changed]

    # Restart on request: a new process, same tools.
    with gw.admin() as h:
        assert h.post("/admin/mcp/servers/everything/restart").status_code == 200
    wait_for(f"the restarted process {changed} to stop", lambda: not cmdline(changed))
    assert "everything__echo" in {t["name"] for t in tool_list(gw, "everything")}
    assert pids_with(marker) not in ([], [changed])

    # Disabled: stopped, and its tools are offered to no one.
    with gw.admin() as h:
        r = h.patch("/admin/mcp/servers/everything", json={"enabled": False})
        assert r.status_code == 200 and r.json()["status"]["state"] == "disabled", r.text
        assert h.get("/admin/mcp/servers/everything/tools").status_code == 409
    wait_for("the disabled server's process to stop", lambda: not pids_with(marker))
    assert all_tool_names(gw) == set()


def test_one_process_for_concurrent_first_uses_and_a_rounds_calls_run_at_once(fresh_gateway, alpha, tmp_path):
    log = tmp_path / "recorder.log"
    gw = fresh_gateway(extra_config=config(recorder("rec", log), toml_assistant("waiter", servers=["rec"])))
    assert server_view(gw, "rec")["status"]["state"] == "idle"
    alpha.default(reply(text="No tools today."))

    def ask(i: int) -> str | None:
        return gw.client().chat.completions.create(model="waiter", messages=user(f"hello {i}")).choices[0].message.content

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(ask, range(6))) == ["No tools today."] * 6
    assert len(pids_with(str(log))) == 1, "six requests at once must start the server once"

    # Two calls in one round: both start before either ends.
    alpha.reset()
    calls = [{"name": "rec__wait", "arguments": {"seconds": 1, "label": label}} for label in ("a", "b")]
    alpha.script(reply(text="Both.", tool_calls=calls))
    out = gw.client().chat.completions.create(model="waiter", messages=user("wait twice"))
    assert out.choices[0].message.content == "Both.\n\nTool said: waited 1.0 s"
    lines = log.read_text().splitlines()
    assert sorted(lines[:2]) == ["started a", "started b"] and sorted(lines[2:]) == ["finished a", "finished b"], lines


# --------------------------------------------------------------------------- 7. bad input


def test_bad_mcp_input_is_refused_in_the_callers_dialect(fresh_gateway, alpha):
    missing = f"sy-no-such-server-{uuid.uuid4().hex[:6]}"
    gw = fresh_gateway(
        extra_config=config(
            everything_stdio(),
            toml_server("broken", command=missing),
            everything_stdio("keyless", env={"SY_TOKEN": "env:SY_E2E_UNSET_TOKEN"}),
            toml_assistant("fragile", servers=["broken"]),
            toml_assistant("helper", servers=["everything"]),
        )
    )
    before = gw.config_path.read_bytes()
    with gw.admin() as h:
        r = h.post("/admin/assistants", json={"name": "ghostly", "model": ALPHA, "servers": ["everything", "ghost"]})
        assert r.status_code == 400, r.text
        err = openai_error(r)
        assert err["param"] == "assistants[2].servers[1]" and "ghost" in err["message"], err
        r = h.post("/admin/assistants", json={"name": "picky", "model": ALPHA, "tools": ["ghost__echo"]})
        assert r.status_code == 400 and openai_error(r)["param"] == "assistants[2].tools[0]", r.text
        r = h.post("/admin/mcp/servers", json={"name": "bad__name", "command": "node"})
        assert r.status_code == 400 and openai_error(r)["param"] == "name", r.text
        r = h.delete("/admin/mcp/servers/everything")
        assert r.status_code == 400 and openai_error(r)["param"] == "assistants[1].servers[0]", r.text
    assert gw.config_path.read_bytes() == before, "a refused change touched the file"

    c = gw.client()
    with pytest.raises(openai.BadRequestError) as ei:
        c.chat.completions.create(model=ALPHA, messages=user("x"), extra_body={"agent": {"servers": ["ghost"]}})
    assert ei.value.body["param"] == "agent.servers" and "ghost" in ei.value.body["message"], ei.value.body
    bad_agents = [
        ({"servers": ["everything"], "max_iterations": 0}, "agent.max_iterations"),
        ({"servers": ["everything"], "approval": True}, "agent.approval"),  # needs a stream
        ({"servers": ["everything"], "bogus": 1}, "agent"),
    ]
    for agent, param in bad_agents:
        with pytest.raises(openai.BadRequestError) as ei:
            c.chat.completions.create(model=ALPHA, messages=user("x"), extra_body={"agent": agent})
        assert ei.value.body["param"] == param, (agent, ei.value.body)
    clash = [{"type": "function", "function": {"name": "everything__echo", "parameters": {"type": "object"}}}]
    with pytest.raises(openai.BadRequestError) as ei:
        c.chat.completions.create(model="helper", messages=user("x"), tools=clash)
    assert ei.value.body["param"] == "tools", ei.value.body

    # A server whose command does not exist: failed, with the command named, and an assistant
    # that has only it says so instead of answering without tools.
    with pytest.raises(openai.APIStatusError) as ei:
        c.chat.completions.create(model="fragile", messages=user("x"))
    assert ei.value.status_code == 503 and ei.value.body["code"] == "mcp_unavailable", ei.value.body
    assert missing in ei.value.body["message"], ei.value.body
    st = server_view(gw, "broken")["status"]
    assert st["state"] == "failed" and missing in (st["error"] or "") and st["pid"] is None, st
    with gw.http() as h:
        stats = {s["name"]: s for s in h.get("/statsz").json()["mcp_servers"]}
    assert stats["broken"]["state"] == "failed", stats["broken"]
    with gw.admin() as h:
        r = h.get("/admin/mcp/servers/broken/tools")
        assert r.status_code == 502 and missing in r.text, r.text
        listing = h.get("/admin/mcp/tools").json()
        assert sorted(e["server"] for e in listing["errors"]) == ["broken", "keyless"] and "everything__echo" in {t["name"] for t in listing["data"]}
    # A secret reference that resolves to nothing: the server is not started without it.
    with gw.admin() as h:
        r = h.get("/admin/mcp/servers/keyless/tools")
        assert r.status_code == 502 and "SY_E2E_UNSET_TOKEN" in r.text, r.text
    st = server_view(gw, "keyless")["status"]
    assert st["state"] == "failed" and "SY_E2E_UNSET_TOKEN" in st["error"] and st["pid"] is None, st
    assert alpha.model_requests() == [], "no model round without the tools"
    # The working server is not held up by the broken one.
    alpha.script(reply(text="Sure.", tool_calls=[{"name": "everything__echo", "arguments": {"message": "fine"}}]))
    out = c.chat.completions.create(model="helper", messages=user("x"))
    assert out.choices[0].message.content == "Sure.\n\nTool said: Echo: fine"

    # A config file naming an unknown server does not start, and says where.
    with pytest.raises(RuntimeError) as ei:
        fresh_gateway(extra_config=config(toml_assistant("lost", servers=["ghost"])))
    assert "assistants[0].servers[0]" in str(ei.value), str(ei.value)[-2000:]


# --------------------------------------------------------------------------- edges found while testing


async def _call_builtin(url: str, tool: str, arguments: dict[str, Any]) -> Any:
    async with streamable_http_client(url) as (read, write):
        async with ClientSession(read, write) as s:
            await s.initialize()
            return await s.call_tool(tool, arguments)


def test_a_call_to_a_tool_nobody_offers_gets_an_error_result_and_another_round(fresh_gateway, alpha):
    gw = fresh_gateway(extra_config=config(everything_stdio(), toml_assistant("helper", servers=["everything"])))
    alpha.script(reply(text="", tool_calls=[{"name": "echo", "arguments": {"message": "oops"}}]))
    out = gw.client().chat.completions.create(model="helper", messages=user("echo oops"))
    reqs = alpha.model_requests()
    assert len(reqs) == 2, f"one model round only; the client got {out.choices[0]!r}"
    assert list(tool_messages(reqs[1]).values()) == ['there is no tool named "echo"; use one of the tools offered']
    assert out.choices[0].message.content == 'Tool said: there is no tool named "echo"; use one of the tools offered'


def test_the_mcp_chat_tool_runs_an_assistant(fresh_gateway, alpha):
    gw = fresh_gateway(extra_config=config(everything_stdio(), toml_assistant("helper", servers=["everything"])))
    alpha.script(reply(text="Echo.", tool_calls=[{"name": "everything__echo", "arguments": {"message": "via /mcp"}}]))
    result = asyncio.run(_call_builtin(gw.root + "/mcp", "chat", {"model": "helper", "prompt": "echo via /mcp"}))
    assert result.is_error is False, result.content[0].text
    assert result.content[0].text == "Echo.\n\nTool said: Echo: via /mcp"


def test_a_sub_second_call_timeout_is_reported_as_configured(fresh_gateway, alpha, tmp_path):
    log = tmp_path / "recorder.log"
    gw = fresh_gateway(extra_config=config(recorder("slow", log, call_timeout_ms=500), toml_assistant("hasty", servers=["slow"])))
    alpha.script(reply(text="Waiting.", tool_calls=[{"name": "slow__wait", "arguments": {"seconds": 60}}]))
    content = gw.client().chat.completions.create(model="hasty", messages=user("wait")).choices[0].message.content
    assert "did not answer within" in content, content
    assert "within 0 s" not in content and ("500 ms" in content or "0.5 s" in content), content


def test_an_assistant_with_a_tool_subset_starts_only_the_servers_it_uses(fresh_gateway, alpha):
    gw = fresh_gateway(extra_config=config(everything_stdio(), time_stdio(), toml_assistant("echoer", tools=["everything__echo"])))
    alpha.script(reply(text="Nothing to run."))
    gw.client().chat.completions.create(model="echoer", messages=user("hi"))
    assert offered(alpha.model_requests()[0]) == ["everything__echo"]
    assert server_view(gw, "everything")["status"]["state"] == "running"
    st = server_view(gw, "time")["status"]
    assert st["state"] == "idle" and st["pid"] is None, f"a server the assistant does not use was started: {st}"
