//! Client keys and who may do what: key generation, SHA-256 hashing, constant-time lookup, roles
//! and model allow-lists. The keys themselves are shown once at creation and never stored; the
//! config file holds their hashes. HTTP concerns (headers, Origin, CORS) live in `server::auth`.

use std::sync::Arc;

use subtle::ConstantTimeEq as _;

pub use crate::config::keys::{ClientKey, KeyHash, Role};
use crate::secrets::Sensitive;

/// Every client key starts with this, so leaked keys are easy to scan for.
pub const KEY_PREFIX: &str = "sk-sy-";

/// A new key: `sk-sy-` and 43 base64url characters (256 random bits).
pub fn generate_key() -> Result<Sensitive, String> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no secure random source: {e}"))?;
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    Ok(Sensitive::new(format!("{KEY_PREFIX}{body}")))
}

/// A new key and the fields of its `[[keys]]` entry (hash, role, allow-list, prefix, date).
/// The key itself is for the caller to show once; it is stored nowhere.
pub fn new_key_entry(
    role: Role,
    models: Option<Vec<String>>,
) -> Result<(Sensitive, serde_json::Map<String, serde_json::Value>), String> {
    use serde_json::json;
    let key = generate_key()?;
    let mut fields = serde_json::Map::new();
    fields.insert("hash".into(), json!(KeyHash::of(key.expose()).to_string()));
    fields.insert("role".into(), json!(role.as_str()));
    if let Some(models) = models {
        fields.insert("models".into(), json!(models));
    }
    fields.insert("prefix".into(), json!(display_prefix(key.expose())));
    fields.insert(
        "created".into(),
        json!(crate::record::utc_timestamp(crate::record::now_ms())),
    );
    Ok((key, fields))
}

/// The first characters of a key, safe to show in lists (`sk-sy-AbCd…`).
pub fn display_prefix(token: &str) -> String {
    let end = token
        .char_indices()
        .nth(KEY_PREFIX.len() + 4)
        .map_or(token.len(), |(i, _)| i);
    format!("{}…", &token[..end])
}

/// Finds the key a token belongs to. Every configured hash is compared, in constant time, so
/// neither the answer's timing nor its position in the list says anything about the token.
pub fn find_key<'a>(keys: &'a [Arc<ClientKey>], token: &str) -> Option<&'a Arc<ClientKey>> {
    let presented = KeyHash::of(token);
    let mut found = None;
    for key in keys {
        if bool::from(key.hash.0.ct_eq(&presented.0)) {
            found = Some(key);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, token: &str, models: Option<Vec<&str>>) -> ClientKey {
        ClientKey {
            name: name.into(),
            hash: KeyHash::of(token),
            role: Role::User,
            models: models.map(|m| m.into_iter().map(String::from).collect()),
            prefix: None,
            created: None,
        }
    }

    #[test]
    fn generated_keys_are_unique_and_found_by_their_hash_only() {
        let a = generate_key().unwrap();
        let b = generate_key().unwrap();
        assert_ne!(a, b);
        assert!(a.expose().starts_with(KEY_PREFIX));
        assert_eq!(a.expose().len(), KEY_PREFIX.len() + 43);
        let keys = vec![
            Arc::new(key("cursor", a.expose(), None)),
            Arc::new(key("cline", b.expose(), None)),
        ];
        assert_eq!(find_key(&keys, b.expose()).map(|k| &*k.name), Some("cline"));
        assert!(find_key(&keys, &a.expose().to_uppercase()).is_none());
        assert!(find_key(&keys, &format!("{} ", a.expose())).is_none());
        assert!(find_key(&keys, "").is_none());
    }

    #[test]
    fn hashes_round_trip_through_their_text_form() {
        let h = KeyHash::of("sk-sy-example");
        assert_eq!(KeyHash::parse(&h.to_string()), Some(h));
        assert_eq!(KeyHash::parse("sha256:abc"), None);
        assert_eq!(KeyHash::parse(&format!("md5:{}", "0".repeat(64))), None);
        assert_eq!(KeyHash::parse(&format!("sha256:{}", "g".repeat(64))), None);
    }

    #[test]
    fn allow_lists_take_exact_ids_and_prefix_patterns() {
        let k = key("k", "t", Some(vec!["smart", "ollama/*"]));
        assert!(k.allows_model("smart"));
        assert!(k.allows_model("ollama/llama3.2"));
        assert!(!k.allows_model("openai/gpt-4o"));
        assert!(!k.allows_model("smarter"));
        assert!(key("k", "t", None).allows_model("anything"));
    }

    #[test]
    fn prefixes_show_only_the_start() {
        assert_eq!(display_prefix("sk-sy-ABCDEFGH"), "sk-sy-ABCD…");
    }
}
