//! `POST /v1/images/generations`: routed with the model rewritten, Anthropic models refused.

use serde_json::{Value, json};

use crate::harness::{header, start};

#[tokio::test]
async fn images_are_generated_through_the_route_with_the_targets_model_name() {
    let h = start("").await;
    let r = h
        .post(
            "/images/generations",
            json!({"model": "alpha/gpt-4o-mini", "prompt": "a red fox", "n": 2, "response_format": "b64_json"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert!(!data[0]["b64_json"].as_str().unwrap().is_empty());
    let sent = h.alpha.requests()[0].json().unwrap();
    assert_eq!(sent["model"], "gpt-4o-mini");
    assert_eq!(sent["prompt"], "a red fox");
}

#[tokio::test]
async fn images_on_an_anthropic_model_or_without_prompt_are_client_errors() {
    let h = start("").await;
    let r = h
        .post(
            "/images/generations",
            json!({"model": "beta/claude-sonnet-4-5", "prompt": "x"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = h
        .post("/images/generations", json!({"model": "alpha/gpt-4o-mini"}))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["param"], "prompt");
}

#[tokio::test]
async fn image_edits_resend_every_image_and_the_mask_with_the_targets_model() {
    use reqwest::multipart::{Form, Part};

    use crate::audio::{awkward_bytes, media_harness, post_form};

    let (h, gamma) = media_harness("").await;
    let (one, two, mask) = (awkward_bytes(700), awkward_bytes(1300), vec![0u8; 64]);
    let png = |bytes: Vec<u8>, name: &str| {
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("image/png")
            .unwrap()
    };
    let form = Form::new()
        .part("image[]", png(one.clone(), "one.png"))
        .part("image[]", png(two.clone(), "tête.png"))
        .part("mask", png(mask.clone(), "mask.png"))
        .text("prompt", "add a hat")
        .text("model", "painter")
        .text("n", "2")
        .text("size", "1024x1024");
    let r = post_form(&h, "/images/edits", form, "sk-client").await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(r.headers(), "content-type"), "application/json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"][0]["revised_prompt"], "add a hat");
    let parts = gamma.requests()[0].multipart().unwrap();
    let got: Vec<(&str, Option<&str>, usize)> = parts
        .iter()
        .map(|p| (p.name.as_str(), p.filename.as_deref(), p.data.len()))
        .collect();
    assert_eq!(
        got,
        [
            ("image[]", Some("one.png"), 700),
            ("image[]", Some("tête.png"), 1300),
            ("mask", Some("mask.png"), 64),
            ("prompt", None, 9),
            ("model", None, 11),
            ("n", None, 1),
            ("size", None, 9),
        ]
    );
    assert_eq!(
        (&parts[0].data, &parts[1].data, &parts[2].data),
        (&one, &two, &mask)
    );
    assert_eq!(parts[4].text(), "gpt-image-1");
}

#[tokio::test]
async fn image_edits_without_prompt_or_image_or_on_anthropic_are_client_errors() {
    use reqwest::multipart::{Form, Part};

    use crate::audio::{media_harness, post_form};

    let (h, gamma) = media_harness("").await;
    let image = || Part::bytes(vec![1, 2, 3]).file_name("a.png");
    let cases = [
        (
            Form::new().text("model", "painter").part("image", image()),
            "prompt",
        ),
        (
            Form::new().text("model", "painter").text("prompt", "x"),
            "image",
        ),
        (
            Form::new()
                .text("model", "beta/claude-sonnet-4-5")
                .text("prompt", "x")
                .part("image", image()),
            "model",
        ),
    ];
    for (form, param) in cases {
        let r = post_form(&h, "/images/edits", form, "sk-client").await;
        assert_eq!(r.status(), 400, "{param}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["param"], param);
    }
    assert_eq!(gamma.request_count(), 0);
}
