//! `/v1/audio/speech` streamed through, and the multipart doors `/v1/audio/transcriptions` and
//! `/v1/audio/translations`: routed by model, failed over, limited in size, logged.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use switchyard_core::access::KeyHash;
use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script};

use crate::harness::{Harness, header, start, upstream_error};

const LIMITED_TOKEN: &str = "sk-sy-limited-token-for-the-media-tests-0123456789";

/// A harness with `gamma`, an OpenAI upstream serving the media models, and aliases over it
/// (falling over to alpha).
pub async fn media_harness(extra: &str) -> (Harness, FakeUpstream) {
    let gamma = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let config = format!(
        r#"
[[providers]]
name = "gamma"
kind = "openai"
base_url = "{}"
models = ["tts-1", "whisper-1", "gpt-image-1"]

[[aliases]]
name = "voice"
targets = ["gamma/tts-1", "alpha/gpt-4o-mini"]

[[aliases]]
name = "listen"
targets = ["gamma/whisper-1", "alpha/gpt-4o-mini"]

[[aliases]]
name = "painter"
targets = ["gamma/gpt-image-1", "alpha/gpt-4o-mini"]

[[keys]]
name = "scripts"
hash = "{}"
models = ["alpha/*"]

{extra}
"#,
        gamma.base_url(),
        KeyHash::of(LIMITED_TOKEN),
    );
    (start(&config).await, gamma)
}

/// Bytes that would trip a careless multipart parser: every byte value, CRLFs and dashes.
pub fn awkward_bytes(len: usize) -> Vec<u8> {
    let pattern = b"\r\n--boundary\r\n\x00\xff";
    (0..len)
        .map(|i| {
            if i % 97 < pattern.len() {
                pattern[i % 97]
            } else {
                u8::try_from(i % 256).unwrap()
            }
        })
        .collect()
}

pub async fn post_form(h: &Harness, path: &str, form: Form, token: &str) -> reqwest::Response {
    h.client
        .post(format!("{}{path}", h.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn transcribe(h: &Harness, form: Form) -> reqwest::Response {
    post_form(h, "/audio/transcriptions", form, "sk-client").await
}

fn clip(model: &str, bytes: Vec<u8>) -> Form {
    Form::new().text("model", model.to_owned()).part(
        "file",
        Part::bytes(bytes)
            .file_name("clip.wav")
            .mime_str("audio/wav")
            .unwrap(),
    )
}

#[tokio::test]
async fn speech_streams_the_upstreams_audio_with_its_content_type_and_the_targets_model() {
    let (h, gamma) = media_harness("").await;
    let r = h
        .post(
            "/audio/speech",
            json!({"model": "voice", "input": "hello there", "voice": "alloy", "response_format": "wav", "speed": 1.25}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(r.headers(), "content-type"), "audio/wav");
    assert_eq!(header(r.headers(), "x-switchyard-target"), "gamma/tts-1");
    let id = header(r.headers(), "x-switchyard-request-id").to_owned();
    let audio = r.bytes().await.unwrap();
    assert_eq!(&audio[..4], b"RIFF");
    assert_eq!(&audio[8..12], b"WAVE");
    let sent = gamma.requests()[0].json().unwrap();
    assert_eq!(sent["model"], "tts-1");
    assert_eq!(sent["input"], "hello there");
    assert_eq!(sent["speed"], 1.25);

    // The log keeps the request and the answer's type and size, not the audio.
    h.wait_for_rows(1).await;
    let (_, d) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(d["requested_model"], "voice");
    assert_eq!(d["provider"], "gamma");
    assert_eq!(d["model"], "tts-1");
    assert_eq!(d["request_body"]["voice"], "alloy");
    assert_eq!(d["request_body"]["input"], "hello there");
    assert_eq!(
        d["response_body"],
        json!({"content_type": "audio/wav", "bytes": audio.len()})
    );

    // mp3 by default, as OpenAI does.
    let r = h
        .post(
            "/audio/speech",
            json!({"model": "gamma/tts-1", "input": "hi", "voice": "nova"}),
        )
        .await;
    assert_eq!(header(r.headers(), "content-type"), "audio/mpeg");
    assert!(r.bytes().await.unwrap().starts_with(b"ID3"));

    // stream_format "sse": the upstream's events pass through as they are.
    let r = h
        .post(
            "/audio/speech",
            json!({"model": "gamma/tts-1", "input": "hi", "voice": "nova", "stream_format": "sse"}),
        )
        .await;
    assert_eq!(header(r.headers(), "content-type"), "text/event-stream");
    let events = crate::harness::sse_data(&r.text().await.unwrap());
    let kinds: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str::<Value>(e).unwrap()["type"].clone())
        .collect();
    assert_eq!(kinds.first(), Some(&json!("speech.audio.delta")));
    assert_eq!(kinds.last(), Some(&json!("speech.audio.done")));
}

#[tokio::test]
async fn speech_bytes_reach_the_client_before_the_upstream_has_finished() {
    let (h, gamma) = media_harness("").await;
    // Two chunks of audio, then the upstream hangs: a buffering gateway would send nothing.
    gamma.push(Script::StallAfterEvents {
        reply: Reply::default(),
        after: 2,
    });
    let mut r = h
        .post(
            "/audio/speech",
            json!({"model": "gamma/tts-1", "input": "a long story", "voice": "alloy", "response_format": "pcm"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let first = r.chunk().await.unwrap().unwrap();
    assert!(!first.is_empty());
    drop(r);
    // The client leaving ends the upstream call too.
    assert!(
        gamma
            .wait_for_disconnect(Duration::from_secs(10))
            .await
            .is_some()
    );
}

#[tokio::test]
async fn speech_fails_over_before_the_first_byte_and_never_after() {
    let (h, gamma) = media_harness("").await;
    let speak_hi = || {
        let body = json!({"model": "voice", "input": "hi", "voice": "alloy"});
        h.post("/audio/speech", body)
    };
    gamma.push(upstream_error(503, "overloaded"));
    let r = speak_hi().await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(r.headers(), "x-switchyard-attempts"),
        "strategy=ordered; gamma/tts-1=503; alpha/gpt-4o-mini=ok"
    );
    assert!(r.bytes().await.unwrap().starts_with(b"ID3"));
    assert_eq!(
        h.alpha.requests()[0].json().unwrap()["model"],
        "gpt-4o-mini"
    );

    // Cut off after the first bytes: the client sees a broken body, not someone else's audio.
    gamma.push(Script::ResetAfterEvents {
        reply: Reply::default(),
        after: 1,
    });
    let r = speak_hi().await;
    assert_eq!(r.status(), 200);
    let id = header(r.headers(), "x-switchyard-request-id").to_owned();
    assert!(r.bytes().await.is_err());
    assert_eq!(
        h.alpha.request_count(),
        1,
        "no failover after the first byte"
    );
    h.wait_for_rows(2).await;
    let (_, d) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(d["outcome"], "error", "{d}");
    assert!(
        d["error"].as_str().unwrap().contains("broke off"),
        "{}",
        d["error"]
    );
}

#[tokio::test]
async fn speech_that_stalls_mid_audio_ends_at_the_idle_timeout_and_says_so() {
    let (h, gamma) = media_harness("").await;
    let cfg = std::fs::read_to_string(h.config_path()).unwrap();
    let cfg = cfg.replace(
        "name = \"gamma\"\n",
        "name = \"gamma\"\ntimeouts = { idle_ms = 200 }\n",
    );
    h.gateway
        .reload(switchyard_core::Config::from_toml(&cfg).unwrap())
        .await
        .unwrap();
    gamma.push(Script::StallAfterEvents {
        reply: Reply::default(),
        after: 1,
    });
    let r = h
        .post(
            "/audio/speech",
            json!({"model": "gamma/tts-1", "input": "hi", "voice": "alloy"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let id = header(r.headers(), "x-switchyard-request-id").to_owned();
    assert!(
        r.bytes().await.is_err(),
        "the body ends broken, not complete"
    );
    h.wait_for_rows(1).await;
    let (_, d) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(d["outcome"], "error");
    assert!(
        d["error"].as_str().unwrap().contains("timeouts.idle_ms"),
        "{}",
        d["error"]
    );
}

#[tokio::test]
async fn speech_without_input_or_on_an_anthropic_model_is_a_client_error() {
    let (h, gamma) = media_harness("").await;
    let r = h
        .post("/audio/speech", json!({"model": "voice", "voice": "alloy"}))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["param"], "input");
    let r = h
        .post(
            "/audio/speech",
            json!({"model": "beta/claude-sonnet-4-5", "input": "hi", "voice": "alloy"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let e = r.json::<Value>().await.unwrap();
    assert_eq!(e["error"]["param"], "model");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("beta/claude-sonnet-4-5"),
        "{e}"
    );
    assert_eq!(gamma.request_count() + h.beta.request_count(), 0);
}

#[tokio::test]
async fn transcriptions_resend_the_form_with_the_targets_model_and_every_byte_unchanged() {
    let (h, gamma) = media_harness("").await;
    let audio = awkward_bytes(10_000);
    let form = clip("listen", audio.clone())
        .text("language", "en")
        .text("prompt", "Names: Zoë, Ørjan")
        .text("temperature", "0.2")
        .text("timestamp_granularities[]", "word")
        .text("timestamp_granularities[]", "segment");
    let r = transcribe(&h, form).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(r.headers(), "content-type"), "application/json");
    let id = header(r.headers(), "x-switchyard-request-id").to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["text"],
        "Transcribed clip.wav (10000 bytes) with whisper-1"
    );
    let parts = gamma.requests()[0].multipart().unwrap();
    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "model",
            "file",
            "language",
            "prompt",
            "temperature",
            "timestamp_granularities[]",
            "timestamp_granularities[]"
        ]
    );
    assert_eq!(parts[0].text(), "whisper-1");
    assert_eq!(parts[1].data, audio);
    assert_eq!(parts[1].filename.as_deref(), Some("clip.wav"));
    assert_eq!(parts[1].content_type.as_deref(), Some("audio/wav"));
    assert_eq!(parts[3].text(), "Names: Zoë, Ørjan");
    assert_eq!(
        (parts[5].text(), parts[6].text()),
        ("word".into(), "segment".into())
    );

    // The log keeps the fields and the file's name, type and size, not the file.
    h.wait_for_rows(1).await;
    let (_, d) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(d["requested_model"], "listen");
    assert_eq!(d["model"], "whisper-1");
    assert_eq!(d["request_body"]["fields"]["language"], "en");
    assert_eq!(
        d["request_body"]["files"],
        json!([{"field": "file", "filename": "clip.wav", "content_type": "audio/wav", "bytes": 10_000}])
    );
    assert_eq!(d["response_body"]["text"], body["text"]);
}

#[tokio::test]
async fn transcription_formats_keep_the_upstreams_content_type_and_translations_work_alike() {
    let (h, _gamma) = media_harness("").await;
    for (format, content_type, start) in [
        ("text", "text/plain; charset=utf-8", "Transcribed clip.wav"),
        ("srt", "application/x-subrip", "1\n00:00:00,000 --> "),
        ("vtt", "text/vtt", "WEBVTT"),
        ("verbose_json", "application/json", "{"),
    ] {
        let form = clip("gamma/whisper-1", vec![1, 2, 3]).text("response_format", format);
        let r = transcribe(&h, form).await;
        assert_eq!(r.status(), 200, "{format}");
        assert_eq!(
            header(r.headers(), "content-type"),
            content_type,
            "{format}"
        );
        let text = r.text().await.unwrap();
        assert!(text.starts_with(start), "{format}: {text}");
        assert!(
            text.contains("(3 bytes) with whisper-1"),
            "{format}: {text}"
        );
    }
    let r = post_form(
        &h,
        "/audio/translations",
        clip("listen", vec![0; 42]),
        "sk-client",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["text"],
        "Translated clip.wav (42 bytes) with whisper-1"
    );
}

#[tokio::test]
async fn transcriptions_fail_over_on_5xx_with_the_same_file() {
    let (h, gamma) = media_harness("").await;
    gamma.push(upstream_error(500, "boom"));
    let audio = awkward_bytes(3000);
    let r = transcribe(&h, clip("listen", audio.clone())).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(r.headers(), "x-switchyard-attempts"),
        "strategy=ordered; gamma/whisper-1=500; alpha/gpt-4o-mini=ok"
    );
    let parts = h.alpha.requests()[0].multipart().unwrap();
    assert_eq!(parts[0].text(), "gpt-4o-mini");
    assert_eq!(parts[1].data, audio);
}

#[tokio::test]
async fn uploads_over_the_configured_limit_get_413_saying_how_to_raise_it() {
    let (h, gamma) = media_harness("[limits]\nmax_upload_bytes = 2048").await;
    // Just over (read and counted), and far over (refused by its declared length).
    for size in [4096, 200_000] {
        let r = transcribe(&h, clip("listen", vec![7; size])).await;
        assert_eq!(r.status(), 413, "{size}");
        let e = r.json::<Value>().await.unwrap();
        let message = e["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("2048") && message.contains("limits.max_upload_bytes"),
            "{message}"
        );
        assert_eq!(e["error"]["code"], "request_too_large");
        assert_eq!(e["error"]["type"], "invalid_request_error");
    }
    // Under the limit still passes.
    let r = transcribe(&h, clip("listen", vec![7; 1000])).await;
    assert_eq!(r.status(), 200);
    assert_eq!(gamma.request_count(), 1);
}

#[tokio::test]
async fn bad_uploads_are_400s_naming_their_param_without_touching_upstreams() {
    let (h, gamma) = media_harness("").await;
    let cases: Vec<(&str, Form, &str)> = vec![
        ("no file", Form::new().text("model", "listen"), "file"),
        (
            "no model",
            Form::new().part("file", Part::bytes(vec![1]).file_name("a.wav")),
            "model",
        ),
        (
            "an Anthropic model",
            clip("beta/claude-sonnet-4-5", vec![1]),
            "model",
        ),
    ];
    for (what, form, param) in cases {
        let r = transcribe(&h, form).await;
        assert_eq!(r.status(), 400, "{what}");
        let e = r.json::<Value>().await.unwrap();
        assert_eq!(e["error"]["param"], param, "{what}: {e}");
        assert_eq!(e["error"]["type"], "invalid_request_error", "{what}");
    }
    let raw = |content_type: &'static str, body: &'static [u8]| {
        h.client
            .post(format!("{}/audio/transcriptions", h.base))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (what, request) in [
        (
            "JSON instead of a form",
            raw("application/json", b"{\"model\":\"listen\"}"),
        ),
        (
            "a broken form",
            raw(
                "multipart/form-data; boundary=xyz",
                b"--xyz\r\nno headers here",
            ),
        ),
        (
            "a form without boundary",
            raw("multipart/form-data", b"--x\r\n"),
        ),
    ] {
        let r = request.await.unwrap();
        assert_eq!(r.status(), 400, "{what}");
        let e = r.json::<Value>().await.unwrap();
        assert_eq!(e["error"]["param"], "file", "{what}: {e}");
    }
    // Pathological forms are refused before they cost much (LiteLLM CVE-2024-8984).
    let long = "b".repeat(10 * 1024);
    let mut many = Vec::new();
    for _ in 0..1000 {
        many.extend_from_slice(b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n");
    }
    many.extend_from_slice(b"--b--\r\n");
    let pathological = [
        (
            format!("multipart/form-data; boundary={long}"),
            format!("--{long}\r\n").into_bytes(),
            "70 characters",
        ),
        (
            "multipart/form-data; boundary=b".to_owned(),
            many,
            "256 parts",
        ),
    ];
    for (content_type, body, says) in pathological {
        let r = h
            .client
            .post(format!("{}/audio/transcriptions", h.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let e = r.json::<Value>().await.unwrap();
        let message = e["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
    }
    // A hostile page may send a form without a preflight: its Origin gives it away.
    let r = h
        .client
        .post(format!("{}/audio/transcriptions", h.base))
        .header("origin", "https://evil.example")
        .multipart(clip("listen", vec![1]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(gamma.request_count() + h.beta.request_count(), 0);
}

#[tokio::test]
async fn a_key_limited_to_other_models_may_not_transcribe_or_speak_with_these() {
    let (h, gamma) = media_harness("").await;
    let limited = |model: &str| {
        let form = clip(model, vec![1]);
        post_form(&h, "/audio/transcriptions", form, LIMITED_TOKEN)
    };
    let r = limited("listen").await;
    assert_eq!(r.status(), 403);
    let e = r.json::<Value>().await.unwrap();
    assert_eq!(e["error"]["code"], "model_not_allowed");
    assert_eq!(e["error"]["param"], "model");
    let r = h
        .client
        .post(format!("{}/audio/speech", h.base))
        .bearer_auth(LIMITED_TOKEN)
        .json(&json!({"model": "gamma/tts-1", "input": "hi", "voice": "alloy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(gamma.request_count(), 0);
    // Its own models it may use.
    let r = limited("alpha/gpt-4o-mini").await;
    assert_eq!(r.status(), 200);
}
