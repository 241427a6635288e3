"""Shared bits for the compat tests: tool definitions, scripts, stream checks."""

from __future__ import annotations

import hashlib
import json
import socket
from dataclasses import dataclass
from typing import Any, Iterable

import openai
from pydantic import BaseModel

CLIENT_KEY = "sk-client-secret"  # what the SDK clients send to the gateway
ALPHA_KEY = "sk-alpha-test"  # what the gateway must send to alpha (env ALPHA_KEY)
BETA_KEY = "sk-beta-test"  # what the gateway must send to beta (env BETA_KEY)
# The admin client key every test gateway knows (`[[keys]] name = "compat-admin"` in the
# standard config, which holds only its SHA-256). Shaped like a real one: `sk-sy-` + 43
# base64url characters.
ADMIN_KEY = "sk-sy-compat-admin-W2GD-nTgCfaXBLyKL-HgTD8qrMAcja"
ADMIN_KEY_NAME = "compat-admin"


def key_hash(token: str) -> str:
    """How `[[keys]]` entries store a client key: `sha256:` and 64 hex digits."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()

ALPHA = "alpha/gpt-4o-mini"
BETA = "beta/claude-sonnet-4-5"
EMBED = "alpha/text-embedding-3-small"


class GetWeather(BaseModel):
    city: str


class GetTime(BaseModel):
    timezone: str


# Strict (pydantic) tools: what `.chat.completions.stream()` / `.parse()` require
# to auto-parse arguments.
STRICT_TOOLS = [
    openai.pydantic_function_tool(GetWeather, name="get_weather", description="Current weather in a city"),
    openai.pydantic_function_tool(GetTime, name="get_time", description="Current time in a timezone"),
]

# Plain (non-strict) tools, as most clients send them.
PLAIN_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Current time in a timezone",
            "parameters": {
                "type": "object",
                "properties": {"timezone": {"type": "string"}},
                "required": ["timezone"],
            },
        },
    },
]

WEATHER_CALL = {"name": "get_weather", "arguments": {"city": "Paris"}}
TIME_CALL = {"name": "get_time", "arguments": {"timezone": "Europe/Paris"}}


def reply(**kw: Any) -> dict[str, Any]:
    return {"reply": kw}


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def extra(obj: Any, key: str) -> Any:
    """A non-standard field (e.g. reasoning_content) that the SDK keeps in model_extra."""
    me = getattr(obj, "model_extra", None) or {}
    return me.get(key)


def check_chunk_invariants(chunks: list[Any]) -> None:
    """The clients.md §0/§3a/§5 rules every streaming client relies on."""
    assert chunks, "the stream produced no chunks"
    ids = {c.id for c in chunks}
    assert len(ids) == 1, f"chunk ids differ within one stream: {ids}"
    for c in chunks:
        assert c.object == "chat.completion.chunk", c
        assert isinstance(c.created, int), c
        assert isinstance(c.choices, list), c
    choice_chunks = [c for c in chunks if c.choices]
    assert choice_chunks, "no chunk carried a choice"
    first = choice_chunks[0].choices[0].delta
    assert first.role == "assistant", f"first delta must carry role=assistant, got {first!r}"
    for c in choice_chunks[1:]:
        for ch in c.choices:
            assert ch.delta.role in (None, ""), f"role repeated in a later chunk: {c!r}"
    finishes = [ch.finish_reason for c in choice_chunks for ch in c.choices if ch.finish_reason]
    assert len(finishes) == 1, f"expected exactly one finish_reason, got {finishes}"
    for c in choice_chunks:
        for ch in c.choices:
            kinds = [
                k
                for k, present in (
                    ("content", bool(ch.delta.content)),
                    ("reasoning_content", bool(extra(ch.delta, "reasoning_content"))),
                    ("tool_calls", bool(ch.delta.tool_calls)),
                )
                if present
            ]
            assert len(kinds) <= 1, f"one kind of content per delta, got {kinds} in {c!r}"


def collect(chunks: Iterable[Any]) -> dict[str, Any]:
    chunks = list(chunks)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reasoning = "".join(extra(c.choices[0].delta, "reasoning_content") or "" for c in chunks if c.choices)
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    return {"chunks": chunks, "content": content, "reasoning": reasoning, "finish": finish}


def tool_calls_as_json(message: Any) -> list[tuple[str, Any]]:
    return [(tc.function.name, json.loads(tc.function.arguments)) for tc in (message.tool_calls or [])]


def sse_events(raw: str) -> list[str]:
    """data payloads of an SSE body (raw text)."""
    out = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:")]
        if data:
            out.append("\n".join(data))
    return out


def header(req: dict[str, Any], name: str) -> str | None:
    """A header of a request recorded by a fake (names lower-cased by Fake.requests)."""
    v = req["headers"].get(name.lower())
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return v


def anthropic_sse(event_type: str, data: dict[str, Any]) -> str:
    return f"event: {event_type}\ndata: {json.dumps({'type': event_type, **data})}\n\n"


def anthropic_raw_stream(blocks: list[dict[str, Any]], stop_reason: str = "end_turn") -> dict[str, Any]:
    """A `raw` script: an Anthropic Messages stream with exactly these content blocks.

    Each block is {"thinking": text, "signature": sig} | {"text": text} |
    {"tool_use": name, "id": id, "input": {...}}.
    """
    events = [
        anthropic_sse(
            "message_start",
            {
                "message": {
                    "id": "msg_raw",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 10, "output_tokens": 1},
                }
            },
        )
    ]
    for i, b in enumerate(blocks):
        if "thinking" in b:
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": b["thinking"]},
                {"type": "signature_delta", "signature": b.get("signature", f"sig{i}")},
            ]
        elif "text" in b:
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": b["text"]}]
        else:
            start = {"type": "tool_use", "id": b["id"], "name": b["tool_use"], "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": json.dumps(b["input"])}]
        events.append(anthropic_sse("content_block_start", {"index": i, "content_block": start}))
        events += [anthropic_sse("content_block_delta", {"index": i, "delta": d}) for d in deltas]
        events.append(anthropic_sse("content_block_stop", {"index": i}))
    events.append(
        anthropic_sse(
            "message_delta",
            {"delta": {"stop_reason": stop_reason, "stop_sequence": None}, "usage": {"output_tokens": 7}},
        )
    )
    events.append(anthropic_sse("message_stop", {}))
    return {"raw": {"status": 200, "content_type": "text/event-stream", "events": events}}


# --------------------------------------------------------------------------- raw HTTP


@dataclass
class RawResponse:
    """A response read off a raw socket: what the server sent, not what a client library made of it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return ", ".join(values) if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"RawResponse({self.status}, {self.headers!r}, {self.body[:400]!r})"


def raw_http(
    host: str,
    port: int,
    request_line: str,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    timeout: float = 15,
) -> RawResponse:
    """Sends exactly this request line and these headers (no Host unless given, repeated names
    kept, nothing normalised) with `Connection: close`, and reads the whole answer."""
    head = request_line + "\r\n"
    for k, v in headers or []:
        head += f"{k}: {v}\r\n"
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    head += "Connection: close\r\n\r\n"
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(head.encode("latin-1") + body)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    return parse_raw_response(data)


def parse_raw_response(data: bytes) -> RawResponse:
    head, sep, rest = data.partition(b"\r\n\r\n")
    assert sep, f"no complete HTTP response head in {data[:300]!r}"
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    names = {k.lower(): v for k, v in headers}
    if names.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            body += rest[:size]
            rest = rest[size + 2 :]
    elif "content-length" in names:
        body = rest[: int(names["content-length"])]
    else:
        body = rest
    return RawResponse(status, headers, body)


def openai_error(r: Any) -> dict[str, Any]:
    """The `error` object of an OpenAI-shaped error body, checked for its four fields."""
    body = r.json()
    assert set(body) == {"error"}, f"not an OpenAI error body: {body}"
    err = body["error"]
    assert {"message", "type", "param", "code"} <= set(err), f"OpenAI errors carry message, type, param and code: {err}"
    assert isinstance(err["message"], str) and err["message"], err
    return err
