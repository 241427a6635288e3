"""Speech, transcriptions, image edits and generations through the official OpenAI SDK: the
audio and image bytes arrive whole, multipart uploads reach the upstream with the target's
model name and the file unchanged, and errors are the SDK's own exceptions."""

from __future__ import annotations

import base64

import openai
import pytest

from helpers import ALPHA, BETA

# Bytes a careless multipart parser would trip on: every byte value, CRLFs and dashes.
AUDIO = bytes(range(256)) * 8 + b"\r\n--boundary\r\n" + bytes(range(255, -1, -1)) * 4
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def upload(fake) -> dict:
    """The one multipart request `fake` received, as its control API summarises it."""
    [req] = fake.model_requests()
    assert "multipart" in req, f"not a multipart request: {req['headers'].get('content-type')}"
    return req["multipart"]


def test_speech_create_returns_the_audio_with_its_type(client, alpha):
    r = client.audio.speech.create(model=ALPHA, voice="alloy", input="hello there", response_format="wav")
    assert r.response.headers["content-type"] == "audio/wav"
    audio = r.content
    assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"
    assert int.from_bytes(audio[40:44], "little") == len(audio) - 44, "the WAV data size matches"
    [req] = alpha.model_requests()
    assert req["path"].endswith("/audio/speech")
    assert req["body"]["model"] == "gpt-4o-mini"
    assert (req["body"]["input"], req["body"]["voice"]) == ("hello there", "alloy")


def test_speech_streams_through_iter_bytes(client):
    whole = client.audio.speech.create(model=ALPHA, voice="nova", input="a longer sentence to speak").content
    with client.audio.speech.with_streaming_response.create(
        model=ALPHA, voice="nova", input="a longer sentence to speak"
    ) as r:
        assert r.headers["content-type"] == "audio/mpeg"
        streamed = b"".join(r.iter_bytes())
    assert streamed.startswith(b"ID3")
    assert streamed == whole, "the fake's audio is deterministic: streamed and whole agree"


def test_transcription_json_names_the_file_that_arrived(client, alpha):
    t = client.audio.transcriptions.create(model=ALPHA, file=("clip.wav", AUDIO, "audio/wav"), language="en")
    assert t.text == f"Transcribed clip.wav ({len(AUDIO)} bytes) with gpt-4o-mini"
    form = upload(alpha)
    assert form["model"] == "gpt-4o-mini"
    assert form["fields"]["language"] == "en"
    assert form["files"] == [
        {"field": "file", "filename": "clip.wav", "content_type": "audio/wav", "size": len(AUDIO)}
    ]


def test_transcription_as_text(client):
    text = client.audio.transcriptions.create(
        model=ALPHA, file=("memo.mp3", b"ID3" + AUDIO, "audio/mpeg"), response_format="text"
    )
    assert isinstance(text, str)
    assert text.strip() == f"Transcribed memo.mp3 ({len(AUDIO) + 3} bytes) with gpt-4o-mini"


def test_translation_reaches_the_translations_endpoint(client, alpha):
    t = client.audio.translations.create(model=ALPHA, file=("rede.wav", AUDIO, "audio/wav"))
    assert t.text == f"Translated rede.wav ({len(AUDIO)} bytes) with gpt-4o-mini"
    [req] = alpha.model_requests()
    assert req["path"].endswith("/audio/translations")
    assert upload(alpha)["model"] == "gpt-4o-mini"


def test_an_upload_over_the_limit_is_a_413_the_sdk_raises(client, alpha):
    # 30 MiB against the default 25 MiB limit: refused before anything reaches the upstream.
    big = bytes(30 * 1024 * 1024)
    with pytest.raises(openai.APIStatusError) as e:
        client.audio.transcriptions.create(model=ALPHA, file=("long.wav", big, "audio/wav"))
    assert e.value.status_code == 413
    assert e.value.body["code"] == "request_too_large"
    assert "limits.max_upload_bytes" in e.value.body["message"]
    assert alpha.model_requests() == []


def test_transcription_on_an_anthropic_model_is_a_bad_request(client, beta):
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(model=BETA, file=("clip.wav", AUDIO, "audio/wav"))
    assert e.value.body["param"] == "model"
    assert BETA in e.value.body["message"]
    assert beta.model_requests() == []


def test_image_edit_sends_the_image_and_answers_a_png(client, alpha):
    r = client.images.edit(model=ALPHA, image=("cat.png", PNG_MAGIC + AUDIO, "image/png"), prompt="add a hat")
    assert base64.b64decode(r.data[0].b64_json).startswith(PNG_MAGIC)
    assert r.data[0].revised_prompt == "add a hat"
    form = upload(alpha)
    assert form["model"] == "gpt-4o-mini"
    assert form["fields"]["prompt"] == "add a hat"
    [image] = form["files"]
    assert (image["filename"], image["size"]) == ("cat.png", len(PNG_MAGIC) + len(AUDIO))


def test_image_edit_with_several_images(client, alpha):
    images = [("a.png", PNG_MAGIC + b"a", "image/png"), ("b.png", PNG_MAGIC + b"bb", "image/png")]
    r = client.images.edit(model=ALPHA, image=images, prompt="merge them", n=2)
    assert len(r.data) == 2
    files = upload(alpha)["files"]
    assert [(f["filename"], f["size"]) for f in files] == [("a.png", 9), ("b.png", 10)]


def test_image_generation(client, alpha):
    r = client.images.generate(model=ALPHA, prompt="a red fox", n=2, response_format="b64_json")
    assert len(r.data) == 2
    assert all(base64.b64decode(d.b64_json).startswith(PNG_MAGIC) for d in r.data)
    [req] = alpha.model_requests()
    assert req["body"]["model"] == "gpt-4o-mini"
    assert req["body"]["prompt"] == "a red fox"
