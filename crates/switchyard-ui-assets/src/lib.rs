//! The built UI (`frontend/dist`), embedded at build time by `build.rs`: every regular file is
//! an entry of a static table, looked up by its exact path relative to `dist`, so nothing
//! outside the built UI can ever be reached. Without a built UI the table is empty.
//!
//! This crate holds the bytes only; how they are served over HTTP (content types, the
//! `index.html` fallback, redirects) stays in `switchyard-core`'s `server::ui`. Keeping the
//! bytes here means a UI rebuild recompiles this small crate, not the gateway.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));
}

/// Every embedded file as `(path relative to dist, bytes)`, sorted by path.
pub fn all() -> &'static [(&'static str, &'static [u8])] {
    generated::ASSETS
}

/// The bytes of the embedded file at `path` (relative to `dist`, `/`-separated), if any.
pub fn find(path: &str) -> Option<&'static [u8]> {
    generated::ASSETS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, bytes)| *bytes)
}

#[cfg(test)]
mod tests {
    use super::{all, find};

    #[test]
    fn every_listed_file_is_found_and_nothing_else() {
        for (path, bytes) in all() {
            assert_eq!(find(path), Some(*bytes));
        }
        assert_eq!(find("../Cargo.toml"), None);
        assert_eq!(find(""), None);
    }

    #[test]
    fn the_table_is_sorted_by_path() {
        assert!(all().windows(2).all(|w| w[0].0 < w[1].0));
    }
}
