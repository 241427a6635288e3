"""Embeddings: float and base64 (the SDKs' default) must carry the same numbers."""

from __future__ import annotations

import base64
import struct

from helpers import EMBED

INPUTS = ["hello world", "switchyard routes requests"]


def f32(x: float) -> float:
    """x rounded to float32, as a base64 (little-endian float32) payload carries it."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def test_float_embeddings(client, alpha):
    r = client.embeddings.create(model=EMBED, input=INPUTS, encoding_format="float")
    assert r.object == "list"
    assert [d.index for d in r.data] == [0, 1]
    assert all(d.object == "embedding" for d in r.data)
    vecs = [d.embedding for d in r.data]
    assert all(len(v) == 8 and all(isinstance(x, float) for x in v) for v in vecs)
    assert vecs[0] != vecs[1], "different inputs should give different vectors"
    assert isinstance(r.usage.prompt_tokens, int) and isinstance(r.usage.total_tokens, int)

    again = client.embeddings.create(model=EMBED, input=INPUTS, encoding_format="float")
    assert [d.embedding for d in again.data] == vecs

    [req, _] = alpha.model_requests()
    assert req["path"].endswith("/embeddings")
    assert req["body"]["model"] == "text-embedding-3-small"


def test_default_encoding_matches_float(client):
    """openai-python sends encoding_format=base64 by default and decodes it."""
    floats = client.embeddings.create(model=EMBED, input=INPUTS, encoding_format="float")
    default = client.embeddings.create(model=EMBED, input=INPUTS)
    assert [d.index for d in default.data] == [0, 1]
    for fd, dd in zip(floats.data, default.data):
        assert len(dd.embedding) == 8
        assert dd.embedding == [f32(x) for x in fd.embedding]


def test_base64_is_really_base64(client):
    """openai-python silently accepts float arrays for a base64 request, but
    openai-node decodes unconditionally: the gateway must honour base64."""
    floats = client.embeddings.create(model="text-embedding-3-small", input="one input", encoding_format="float")
    raw = client.embeddings.with_raw_response.create(
        model="text-embedding-3-small", input="one input", encoding_format="base64"
    )
    body = raw.http_response.json()
    emb = body["data"][0]["embedding"]
    assert isinstance(emb, str), f"encoding_format=base64 must return a base64 string, got {type(emb).__name__}"
    decoded = list(struct.unpack("<8f", base64.b64decode(emb)))
    assert decoded == [f32(x) for x in floats.data[0].embedding]
