//! Images in captured bodies go to files under the data folder's `media/`, and the body keeps
//! a `media:FILE` reference instead of megabytes of base64.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

/// Returns the body with every `data:image/…;base64,…` string replaced by `media:FILE`, or
/// `None` when it holds no image (the common case, which costs one substring search).
pub fn extract_images(
    body: &str,
    dir: &Path,
    stem: &str,
    files: &mut Vec<String>,
) -> Option<String> {
    if !body.contains("data:image/") {
        return None;
    }
    let mut json: Value = serde_json::from_str(body).ok()?;
    let mut changed = false;
    walk(&mut json, &mut |s: &mut String| {
        let Some(rest) = s.strip_prefix("data:image/") else {
            return;
        };
        let Some((kind, data)) = rest.split_once(";base64,") else {
            return;
        };
        let ext: String = kind
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .take(8)
            .collect();
        let Ok(bytes) = BASE64.decode(data.as_bytes()) else {
            return;
        };
        let name = format!(
            "{stem}-{}.{}",
            files.len(),
            if ext.is_empty() { "bin" } else { &ext }
        );
        if crate::files::dir(dir)
            .and_then(|()| crate::files::write(&dir.join(&name), &bytes))
            .is_ok()
        {
            *s = format!("media:{name}");
            files.push(name);
            changed = true;
        }
    });
    changed.then(|| json.to_string())
}

/// Whether `name` can only be a file directly in the media folder: no separators, no leading
/// dot, nothing but letters, digits, `-`, `_` and `.` (what [`extract_images`] makes).
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Reads the media file `name` in `dir`, never through a symbolic link (the folder itself
/// included): `None` when the name is not plain, or the file is missing, a link, or not a
/// regular file. On Unix the file is opened with `O_NOFOLLOW` (and `O_NONBLOCK`, so a FIFO
/// planted there cannot hold the request), and checked on the open handle.
pub async fn read(dir: &Path, name: &str) -> std::io::Result<Option<Vec<u8>>> {
    use tokio::io::AsyncReadExt as _;
    if !plain_name(name) {
        return Ok(None);
    }
    match tokio::fs::symlink_metadata(dir).await {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    }
    let path = dir.join(name);
    let mut options = tokio::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    #[cfg(not(unix))]
    if tokio::fs::symlink_metadata(&path)
        .await
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        return Ok(None);
    }
    let mut file = match options.open(&path).await {
        Ok(file) => file,
        // ELOOP is what O_NOFOLLOW answers for a link.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || is_link_error(&e) => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if !file.metadata().await?.is_file() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).await?;
    Ok(Some(bytes))
}

fn is_link_error(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    return e.raw_os_error() == Some(libc::ELOOP);
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

fn walk(v: &mut Value, f: &mut impl FnMut(&mut String)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, f)),
        Value::Object(map) => map.values_mut().for_each(|i| walk(i, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_move_to_files_and_the_body_keeps_a_reference() {
        let dir = tempfile::tempdir().unwrap();
        let png = BASE64.encode(b"\x89PNG fake");
        let body = format!(
            r#"{{"messages":[{{"role":"user","content":[{{"type":"image_url","image_url":{{"url":"data:image/png;base64,{png}"}}}}]}}]}}"#
        );
        let mut files = Vec::new();
        let out = extract_images(&body, dir.path(), "req_1-req", &mut files).unwrap();
        assert_eq!(files, ["req_1-req-0.png"]);
        assert!(out.contains("\"media:req_1-req-0.png\""), "{out}");
        assert_eq!(
            std::fs::read(dir.path().join(&files[0])).unwrap(),
            b"\x89PNG fake"
        );
        assert!(extract_images(r#"{"a":"no images"}"#, dir.path(), "x", &mut files).is_none());
    }
}
