//! OpenAI's media endpoints (speech, transcriptions, translations, image edits): the client's
//! request passed on with the model renamed, the upstream's success response handed back unread
//! so that audio can stream through. Anthropic has none of them.

use bytes::Bytes;
use reqwest::header::HeaderMap;

use super::{Provider, azure_url, from_reqwest, status_error};
use crate::config::ProviderKind;
use crate::error::UpstreamError;

/// Which media endpoint a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEndpoint {
    Speech,
    Transcriptions,
    Translations,
    ImageEdits,
}

impl MediaEndpoint {
    fn path(self) -> &'static str {
        match self {
            Self::Speech => "audio/speech",
            Self::Transcriptions => "audio/transcriptions",
            Self::Translations => "audio/translations",
            Self::ImageEdits => "images/edits",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::Speech => "speak text (audio/speech)",
            Self::Transcriptions => "transcribe audio",
            Self::Translations => "translate audio",
            Self::ImageEdits => "edit images",
        }
    }
}

/// One field or file of a multipart form, as the client sent it.
#[derive(Debug, Clone)]
pub struct FormPart {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

impl Provider {
    /// `POST /audio/speech` with the client's JSON body and the target's model name.
    pub async fn audio_speech(
        &self,
        body: &serde_json::Value,
        model: &str,
    ) -> Result<reqwest::Response, UpstreamError> {
        let url = self.media_url(MediaEndpoint::Speech, model)?;
        let mut body = body.clone();
        body["model"] = serde_json::Value::String(model.to_owned());
        let bytes =
            serde_json::to_vec(&body).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
        let mut headers = HeaderMap::new();
        self.authenticate(&mut headers)?;
        self.post_json(&url, bytes, headers, ProviderKind::OpenAi)
            .await
    }

    /// POSTs a multipart form: every part as the client sent it, `model` set to `model`.
    pub async fn post_form(
        &self,
        endpoint: MediaEndpoint,
        parts: &[FormPart],
        model: &str,
    ) -> Result<reqwest::Response, UpstreamError> {
        let url = self.media_url(endpoint, model)?;
        // Field names as the client sent them (reqwest would percent-encode some); file names
        // are sent as UTF-8 either way.
        let mut form = reqwest::multipart::Form::new().percent_encode_noop();
        for p in parts {
            let part = if p.name == "model" {
                reqwest::multipart::Part::text(model.to_owned())
            } else {
                let length = u64::try_from(p.data.len()).unwrap_or(u64::MAX);
                let mut part = reqwest::multipart::Part::stream_with_length(p.data.clone(), length);
                if let Some(name) = &p.file_name {
                    part = part.file_name(name.clone());
                }
                if let Some(mime) = &p.content_type {
                    part = part
                        .mime_str(mime)
                        .map_err(|e| UpstreamError::Unsupported {
                            message: format!("{}: bad content type {mime:?}: {e}", p.name),
                            param: Some(p.name.clone()),
                        })?;
                }
                part
            };
            form = form.part(p.name.clone(), part);
        }
        let mut headers = HeaderMap::new();
        self.authenticate(&mut headers)?;
        let response = self
            .client
            .post(url)
            .headers(headers)
            .multipart(form)
            .send()
            .await
            .map_err(|e| from_reqwest(&e))?;
        let response = self.scrubbed(response);
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(status_error(response, ProviderKind::OpenAi).await)
        }
    }

    /// The endpoint's URL for this model (Azure: under the deployment, with `api-version`);
    /// Anthropic upstreams are refused as a client error that names the target.
    fn media_url(
        &self,
        endpoint: MediaEndpoint,
        model: &str,
    ) -> Result<reqwest::Url, UpstreamError> {
        if self.kind == ProviderKind::Anthropic {
            return Err(UpstreamError::Unsupported {
                message: format!(
                    "Anthropic cannot {}; route this request to an OpenAI-compatible model",
                    endpoint.what()
                ),
                param: Some("model".into()),
            });
        }
        let Some(version) = &self.azure_api_version else {
            let base = self.base_url.trim_end_matches('/');
            return reqwest::Url::parse(&format!("{base}/{}", endpoint.path()))
                .map_err(|e| UpstreamError::Config(format!("bad base_url: {e}")));
        };
        azure_url(&self.base_url, version, model, endpoint.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretStore;

    fn provider(kind: &str, base_url: &str, extra: &str) -> Provider {
        let text = format!(
            "[[providers]]\nname = \"p\"\nkind = \"{kind}\"\nbase_url = \"{base_url}\"\nmodels = [\"whisper-1\"]\n{extra}"
        );
        let config = crate::Config::from_toml(&text).unwrap();
        Provider::new(&config.providers[0], &SecretStore::default()).unwrap()
    }

    #[test]
    fn media_urls_follow_the_base_url_and_azure_deployments() {
        let p = provider("openai", "https://example.test/v1", "");
        assert_eq!(
            p.media_url(MediaEndpoint::Transcriptions, "whisper-1")
                .unwrap()
                .as_str(),
            "https://example.test/v1/audio/transcriptions"
        );
        let p = provider(
            "azure",
            "https://me.openai.azure.com",
            "api_version = \"2025-01-01\"",
        );
        assert_eq!(
            p.media_url(MediaEndpoint::Speech, "tts").unwrap().as_str(),
            "https://me.openai.azure.com/openai/deployments/tts/audio/speech?api-version=2025-01-01"
        );
        let p = provider("anthropic", "https://api.anthropic.com", "");
        let e = p
            .media_url(MediaEndpoint::Transcriptions, "claude")
            .unwrap_err();
        assert!(e.to_string().contains("transcribe"), "{e}");
    }
}
