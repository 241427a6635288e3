//! Secret references (`env:VAR`, `keychain:NAME`), the [`SecretStore`] that keeps `keychain:`
//! entries (the OS keychain, or a file only its owner can read), and the [`Sensitive`] wrapper
//! that keeps resolved values out of `Debug` output, errors and logs. Config and storage hold
//! references only. This is the only module that may import the keyring crates.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::config::Config;
pub use crate::config::{SecretBackend, SecretRef};

/// The keychain service every entry is filed under; the entry name is the account.
const SERVICE: &str = "switchyard";

/// Read by [`SecretStore::probe`]; never written.
const PROBE_NAME: &str = ".switchyard-probe";

/// What to do when no keychain answers. Kept in one place so every path says the same thing.
const FALLBACK_HINT: &str = "set [secrets] backend = \"file\" to keep keys in a file only you can read \
     (default: secrets.toml in the data folder, mode 0600), or use env: references";

impl SecretRef {
    /// Looks the secret up now, `keychain:` references in the OS keychain. Blocking: see
    /// [`SecretStore`].
    pub fn resolve(&self) -> Result<Sensitive, SecretError> {
        self.resolve_with(&SecretStore::default())
    }

    /// Looks the secret up now: `env:` in the environment, `keychain:` in `store`. Errors say
    /// what is missing and how to fix it without revealing anything. Blocking: see [`SecretStore`].
    pub fn resolve_with(&self, store: &SecretStore) -> Result<Sensitive, SecretError> {
        match self {
            Self::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Sensitive(v)),
                _ => Err(SecretError::Missing(format!(
                    "environment variable {var} is not set"
                ))),
            },
            Self::Keychain(name) => match store.get(name)? {
                Some(v) if !v.expose().is_empty() => Ok(v),
                _ => {
                    // `providers set-key NAME` files a provider's key as `provider.NAME`
                    // (`onboarding::key_entry_name`).
                    let provider = name.strip_prefix("provider.").unwrap_or("PROVIDER");
                    Err(SecretError::Missing(format!(
                        "keychain entry {name} is not set in the {}; store the key with \
                         `switchyard providers set-key {provider}`",
                        store.describe()
                    )))
                }
            },
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretError {
    /// The reference is fine but nothing is stored under it.
    #[error("{0}")]
    Missing(String),
    /// The store cannot be used: no keychain answers, it is locked, the file is unreadable or
    /// readable by others.
    #[error("{0}")]
    Unavailable(String),
    /// The caller asked for something no store accepts: a bad name, an empty value.
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// The store `keychain:` references are read from.
    pub fn secret_store(&self) -> SecretStore {
        match &self.secrets {
            SecretBackend::Keychain => SecretStore::keychain(),
            SecretBackend::File(path) => SecretStore::file(path.clone()),
        }
    }
}

/// The store that `keychain:NAME` references resolve against.
///
/// Every method is blocking: the keychain is a D-Bus round trip on Linux, the file backend is
/// file I/O. Async callers use `tokio::task::spawn_blocking`. Cloning is an `Arc` bump.
///
/// The OS keychain is connected on first use; when none answers, the next use (two seconds
/// later at the earliest) tries again, so a keychain that starts after us is found.
#[derive(Clone)]
pub struct SecretStore {
    backend: Arc<SecretBackend>,
}

/// Serialises read-modify-write of secrets files within this process, whichever store instance
/// writes. Writes are rare (`set-key`), so one lock for every file costs nothing. Another process
/// writing the same file at the same moment can still lose one of the two updates.
static FILE_WRITE_LOCK: Mutex<()> = Mutex::new(());

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("backend", &*self.backend)
            .finish()
    }
}

impl Default for SecretStore {
    /// The OS keychain.
    fn default() -> Self {
        Self::keychain()
    }
}

impl SecretStore {
    /// The OS keychain; entries are filed under service `switchyard`, account NAME.
    pub fn keychain() -> Self {
        Self::with_backend(SecretBackend::Keychain)
    }

    /// A secrets file (TOML, `name = "value"`). Created with mode 0600 when first written; a
    /// file that group or others may access is refused, not used.
    pub fn file(path: PathBuf) -> Self {
        Self::with_backend(SecretBackend::File(path))
    }

    fn with_backend(backend: SecretBackend) -> Self {
        Self {
            backend: Arc::new(backend),
        }
    }

    pub fn backend(&self) -> &SecretBackend {
        &self.backend
    }

    /// "OS keychain (Secret Service)", "OS keychain (macOS Keychain)", "secrets file PATH (0600)".
    pub fn describe(&self) -> String {
        match &*self.backend {
            SecretBackend::Keychain => format!("OS keychain ({})", keychain::KIND),
            SecretBackend::File(path) => format!("secrets file {} (0600)", path.display()),
        }
    }

    /// Checks that the store can be used now: that a keychain answers, or that the secrets file,
    /// if it exists yet, is private and well-formed. The error says what is missing and what to do.
    pub fn probe(&self) -> Result<(), SecretError> {
        match &*self.backend {
            SecretBackend::Keychain => keychain::probe(),
            SecretBackend::File(path) => file::read(path).map(|_| ()),
        }
    }

    /// The value stored under `name`, or `None` when nothing is.
    pub fn get(&self, name: &str) -> Result<Option<Sensitive>, SecretError> {
        check_name(name)?;
        match &*self.backend {
            SecretBackend::Keychain => keychain::get(name),
            SecretBackend::File(path) => Ok(file::read(path)?.remove(name).map(Sensitive)),
        }
    }

    /// Stores `value` under `name`, replacing what was there.
    pub fn set(&self, name: &str, value: &Sensitive) -> Result<(), SecretError> {
        check_name(name)?;
        if value.expose().is_empty() {
            return Err(SecretError::Invalid(format!(
                "refusing to store an empty value as {name}; delete the entry instead"
            )));
        }
        match &*self.backend {
            SecretBackend::Keychain => keychain::set(name, value),
            SecretBackend::File(path) => {
                let _guard = self.lock_file();
                let mut entries = file::read(path)?;
                entries.insert(name.to_owned(), value.expose().to_owned());
                file::write(path, &entries)
            }
        }
    }

    /// Removes `name`; `true` when something was deleted.
    pub fn delete(&self, name: &str) -> Result<bool, SecretError> {
        check_name(name)?;
        match &*self.backend {
            SecretBackend::Keychain => keychain::delete(name),
            SecretBackend::File(path) => {
                let _guard = self.lock_file();
                let mut entries = file::read(path)?;
                if entries.remove(name).is_none() {
                    return Ok(false);
                }
                file::write(path, &entries)?;
                Ok(true)
            }
        }
    }

    fn lock_file(&self) -> MutexGuard<'static, ()> {
        // The lock guards no data, so a panic while it was held left nothing half-done in memory.
        FILE_WRITE_LOCK
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn check_name(name: &str) -> Result<(), SecretError> {
    if crate::config::valid_ref_name(name) {
        Ok(())
    } else {
        Err(SecretError::Invalid(format!(
            "{name:?}: a keychain entry name is 1-128 letters, digits, '-', '_' and '.'"
        )))
    }
}

/// The OS keychain through `keyring-core`. Every error is rebuilt from its parts, because some
/// of its errors carry the secret's bytes and must never be printed whole.
mod keychain {
    use super::{FALLBACK_HINT, PROBE_NAME, SERVICE, SecretError, Sensitive};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use keyring_core::{Entry, Error};

    #[cfg(target_os = "macos")]
    pub(super) const KIND: &str = "macOS Keychain";
    #[cfg(target_os = "windows")]
    pub(super) const KIND: &str = "Windows Credential Manager";
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    pub(super) const KIND: &str = "Secret Service";

    pub(super) fn probe() -> Result<(), SecretError> {
        // Looking up an entry that is never written proves the keychain answers, and creates
        // nothing.
        get(PROBE_NAME).map(|_| ())
    }

    pub(super) fn get(name: &str) -> Result<Option<Sensitive>, SecretError> {
        match entry(name)?.get_password() {
            Ok(v) => Ok(Some(Sensitive(v))),
            Err(Error::NoEntry) => Ok(None),
            Err(e) => Err(error(name, e)),
        }
    }

    pub(super) fn set(name: &str, value: &Sensitive) -> Result<(), SecretError> {
        entry(name)?
            .set_password(value.expose())
            .map_err(|e| error(name, e))
    }

    pub(super) fn delete(name: &str) -> Result<bool, SecretError> {
        match entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(Error::NoEntry) => Ok(false),
            Err(e) => Err(error(name, e)),
        }
    }

    /// Whether the platform store is installed, or when it last failed to start. Unlike a
    /// store fixed at first use, a keychain that comes up after us (a desktop session's
    /// keyring daemon, started after an app launched at login) is picked up on a later call.
    static STORE: Mutex<Option<Result<(), (Instant, String)>>> = Mutex::new(None);
    const RETRY_AFTER: Duration = Duration::from_secs(2);

    fn ensure_store() -> Result<(), SecretError> {
        let mut state = STORE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*state {
            Some(Ok(())) => return Ok(()),
            Some(Err((at, why))) if at.elapsed() < RETRY_AFTER => return Err(no_keychain(why)),
            _ => {}
        }
        match platform_store() {
            Ok(store) => {
                keyring_core::set_default_store(store);
                *state = Some(Ok(()));
                Ok(())
            }
            Err(e) => {
                let why = match &e {
                    Error::PlatformFailure(cause) | Error::NoStorageAccess(cause) => {
                        cause.to_string()
                    }
                    Error::NotSupportedByStore(what) | Error::Invalid(_, what) => what.clone(),
                    _ => "the keychain store did not start".to_owned(),
                };
                *state = Some(Err((Instant::now(), why.clone())));
                Err(no_keychain(&why))
            }
        }
    }

    #[cfg(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ))]
    fn platform_store() -> Result<std::sync::Arc<keyring_core::CredentialStore>, Error> {
        let store: std::sync::Arc<keyring_core::CredentialStore> =
            zbus_secret_service_keyring_store::Store::new()?;
        Ok(store)
    }

    #[cfg(target_os = "macos")]
    fn platform_store() -> Result<std::sync::Arc<keyring_core::CredentialStore>, Error> {
        let store: std::sync::Arc<keyring_core::CredentialStore> =
            apple_native_keyring_store::keychain::Store::new()?;
        Ok(store)
    }

    #[cfg(target_os = "windows")]
    fn platform_store() -> Result<std::sync::Arc<keyring_core::CredentialStore>, Error> {
        let store: std::sync::Arc<keyring_core::CredentialStore> =
            windows_native_keyring_store::Store::new()?;
        Ok(store)
    }

    #[cfg(not(any(
        target_os = "macos",
        target_os = "windows",
        all(unix, not(any(target_os = "ios", target_os = "android")))
    )))]
    fn platform_store() -> Result<std::sync::Arc<keyring_core::CredentialStore>, Error> {
        Err(Error::NotSupportedByStore(
            "this platform has no supported keychain".into(),
        ))
    }

    fn entry(name: &str) -> Result<Entry, SecretError> {
        ensure_store()?;
        Entry::new(SERVICE, name).map_err(|e| error(name, e))
    }

    fn no_keychain(detail: &str) -> SecretError {
        let hint = if cfg!(any(target_os = "macos", target_os = "windows")) {
            ""
        } else {
            "; on Linux the keychain is a Secret Service such as gnome-keyring on the D-Bus session bus"
        };
        SecretError::Unavailable(format!(
            "no OS keychain is reachable ({detail}{hint}): {FALLBACK_HINT}"
        ))
    }

    fn error(name: &str, e: Error) -> SecretError {
        match e {
            Error::NoDefaultStore => no_keychain("the keychain store did not start"),
            Error::PlatformFailure(cause) => SecretError::Unavailable(format!(
                "the OS keychain failed on entry {name} ({cause}); if it keeps failing, \
                 {FALLBACK_HINT}"
            )),
            Error::NoStorageAccess(cause) => SecretError::Unavailable(format!(
                "the OS keychain refused access to entry {name} ({cause}): it may be locked; \
                 unlock it and try again, or {FALLBACK_HINT}"
            )),
            Error::NoEntry => SecretError::Missing(format!("keychain entry {name} is not set")),
            // These two carry the stored bytes: print neither the bytes nor the inner error.
            Error::BadEncoding(_) => SecretError::Unavailable(format!(
                "keychain entry {name} is not UTF-8 text; store it again"
            )),
            Error::BadDataFormat(..) => SecretError::Unavailable(format!(
                "keychain entry {name} is malformed; store it again"
            )),
            Error::BadStoreFormat(reason) => {
                SecretError::Unavailable(format!("the OS keychain is malformed: {reason}"))
            }
            Error::Ambiguous(found) => SecretError::Unavailable(format!(
                "{} keychain items match service {SERVICE}, account {name}; remove all but one \
                 with the system's keychain tool",
                found.len()
            )),
            Error::TooLong(attr, limit) => SecretError::Invalid(format!(
                "keychain entry {name}: {attr} is longer than the keychain's limit of {limit}"
            )),
            Error::Invalid(attr, reason) => {
                SecretError::Invalid(format!("keychain entry {name}: {attr} {reason}"))
            }
            Error::NotSupportedByStore(what) => no_keychain(&what),
            // `keyring_core::Error` is non-exhaustive and a new variant may carry secret bytes.
            _ => SecretError::Unavailable(format!(
                "the OS keychain failed on entry {name} with an error this build does not know"
            )),
        }
    }
}

/// The secrets file: a TOML table of strings, mode 0600, replaced atomically on every write.
mod file {
    use super::{AtomicU64, BTreeMap, Ordering, Path, SecretError, fs, io};
    use std::io::{Read as _, Write as _};

    /// `chmod 600 PATH`, quoted when the path needs it.
    #[cfg(unix)]
    fn chmod_hint(path: &Path) -> String {
        let shown = path.display().to_string();
        if shown
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '~' | '+'))
        {
            format!("chmod 600 {shown}")
        } else {
            format!("chmod 600 '{}'", shown.replace('\'', r"'\''"))
        }
    }

    fn io_error(path: &Path, what: &str, e: &io::Error) -> SecretError {
        SecretError::Unavailable(format!(
            "secrets file {}: cannot {what}: {e}",
            path.display()
        ))
    }

    /// The entries, or none when the file does not exist yet.
    pub(super) fn read(path: &Path) -> Result<BTreeMap<String, String>, SecretError> {
        let mut file = match fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(io_error(path, "open it", &e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| io_error(path, "read its metadata", &e))?;
        if !meta.is_file() {
            return Err(SecretError::Unavailable(format!(
                "secrets file {} is not a regular file",
                path.display()
            )));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(SecretError::Unavailable(format!(
                    "secrets file {} may be read or changed by other users (mode {mode:04o}), so it is not \
                     used; run `{}` and try again",
                    path.display(),
                    chmod_hint(path)
                )));
            }
        }
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(|e| io_error(path, "read it", &e))?;
        parse(path, &text)
    }

    /// Parse errors name the line only: TOML's own messages quote the offending text, which here
    /// is a secret.
    fn parse(path: &Path, text: &str) -> Result<BTreeMap<String, String>, SecretError> {
        toml::from_str(text).map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| text.bytes().take(s.start).filter(|&b| b == b'\n').count() + 1);
            SecretError::Unavailable(format!(
                "secrets file {}{} is not valid: every line must be `name = \"value\"`",
                path.display(),
                line.map(|l| format!(" line {l}")).unwrap_or_default()
            ))
        })
    }

    /// Replaces the file: a new 0600 temp file beside it, synced, then renamed over it.
    pub(super) fn write(
        path: &Path,
        entries: &BTreeMap<String, String>,
    ) -> Result<(), SecretError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let body = toml::to_string(entries).map_err(|_| {
            SecretError::Invalid(format!(
                "secrets file {}: the entries cannot be written as TOML",
                path.display()
            ))
        })?;
        let text = format!(
            "# Switchyard's secrets, written by `switchyard providers set-key`. Keep this file mode 0600.\n{body}"
        );
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut dirs = fs::DirBuilder::new();
        dirs.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dirs, 0o700);
        dirs.create(dir)
            .map_err(|e| io_error(path, "create its folder", &e))?;

        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "secrets".into());
        let tmp = dir.join(format!(
            ".{file_name}.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&tmp).and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, path)
        });
        written.map_err(|e| {
            // Best effort: the temp file may not exist, and the write error is what matters.
            let _ = fs::remove_file(&tmp);
            io_error(path, "write it", &e)
        })
    }
}

/// A resolved secret. `Debug` and `Display` print `***`; only [`Sensitive::expose`] reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(String);

impl Sensitive {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references_and_refuses_literal_keys() {
        assert_eq!(
            SecretRef::parse("env:ALPHA_KEY"),
            Ok(SecretRef::Env("ALPHA_KEY".into()))
        );
        assert_eq!(
            SecretRef::parse("keychain:openai"),
            Ok(SecretRef::Keychain("openai".into()))
        );
        let err = SecretRef::parse("sk-live-123").unwrap_err();
        assert!(err.contains("never the key itself"), "{err}");
        assert!(SecretRef::parse("env:").is_err());
    }

    #[test]
    fn sensitive_never_prints_its_value() {
        let s = Sensitive::new("sk-very-secret");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "sk-very-secret");
    }

    #[test]
    fn store_is_send_sync_and_cheap_to_clone() {
        fn send_sync<T: Send + Sync + Clone>() {}
        send_sync::<SecretStore>();
        let store = SecretStore::file("/tmp/x/secrets.toml".into());
        assert!(Arc::ptr_eq(&store.backend, &store.clone().backend));
    }

    fn file_store() -> (tempfile::TempDir, PathBuf, SecretStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("secrets.toml");
        let store = SecretStore::file(path.clone());
        (dir, path, store)
    }

    #[test]
    fn file_store_round_trips() {
        let (_dir, path, store) = file_store();
        store.probe().unwrap();
        assert_eq!(store.get("openai").unwrap(), None);
        assert!(!store.delete("openai").unwrap());

        store.set("openai", &Sensitive::new("sk-one")).unwrap();
        store
            .set("anthropic.prod", &Sensitive::new("sk-\"two\"\n"))
            .unwrap();
        store.set("openai", &Sensitive::new("sk-three")).unwrap();

        // A second store on the same file sees what the first wrote.
        let again = SecretStore::file(path.clone());
        again.probe().unwrap();
        assert_eq!(again.get("openai").unwrap().unwrap().expose(), "sk-three");
        assert_eq!(
            again.get("anthropic.prod").unwrap().unwrap().expose(),
            "sk-\"two\"\n"
        );
        let resolved = SecretRef::Keychain("openai".into())
            .resolve_with(&again)
            .unwrap();
        assert_eq!(resolved.expose(), "sk-three");

        assert!(store.delete("openai").unwrap());
        assert!(!store.delete("openai").unwrap());
        assert_eq!(store.get("openai").unwrap(), None);
        assert!(store.get("anthropic.prod").unwrap().is_some());

        // Only the secrets file is left: no temp files.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["secrets.toml"]);
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let (_dir, path, _store) = file_store();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                // A store per thread, as separate callers would make.
                let store = SecretStore::file(path.clone());
                std::thread::spawn(move || {
                    store
                        .set(&format!("key{i}"), &Sensitive::new(format!("v{i}")))
                        .unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let store = SecretStore::file(path);
        for i in 0..8 {
            let got = store.get(&format!("key{i}")).unwrap().unwrap();
            assert_eq!(got.expose(), format!("v{i}"));
        }
    }

    #[test]
    fn missing_file_entry_says_how_to_set_it() {
        let (_dir, path, store) = file_store();
        let err = SecretRef::Keychain("provider.openai".into())
            .resolve_with(&store)
            .unwrap_err();
        assert!(matches!(err, SecretError::Missing(_)), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("keychain entry provider.openai is not set"),
            "{msg}"
        );
        assert!(
            msg.contains("`switchyard providers set-key openai`"),
            "{msg}"
        );
        assert!(msg.contains(&path.display().to_string()), "{msg}");

        let err = SecretRef::Keychain("other".into())
            .resolve_with(&store)
            .unwrap_err();
        assert!(err.to_string().contains("set-key PROVIDER"), "{err}");
    }

    #[test]
    fn bad_names_and_empty_values_are_refused() {
        let (_dir, _path, store) = file_store();
        for name in ["", "a b", "a/b", "é", &"x".repeat(129)] {
            let err = store.get(name).unwrap_err();
            assert!(matches!(err, SecretError::Invalid(_)), "{name:?}: {err:?}");
            assert!(store.set(name, &Sensitive::new("v")).is_err());
            assert!(store.delete(name).is_err());
        }
        let err = store.set("openai", &Sensitive::new("")).unwrap_err();
        assert!(matches!(err, SecretError::Invalid(_)), "{err:?}");
    }

    #[cfg(unix)]
    #[test]
    fn file_is_created_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let (_dir, path, store) = file_store();
        store.set("openai", &Sensitive::new("sk-one")).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        store.set("openai", &Sensitive::new("sk-two")).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(
            store.describe(),
            format!("secrets file {} (0600)", path.display())
        );
    }

    #[cfg(unix)]
    #[test]
    fn file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.toml");
        fs::write(&path, "openai = \"sk-leaky\"\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let store = SecretStore::file(path.clone());

        for err in [
            store.probe().unwrap_err(),
            store.get("openai").unwrap_err(),
            store.set("openai", &Sensitive::new("sk-new")).unwrap_err(),
            store.delete("openai").unwrap_err(),
        ] {
            let msg = err.to_string();
            assert!(matches!(err, SecretError::Unavailable(_)), "{err:?}");
            assert!(
                msg.contains(&format!("chmod 600 {}", path.display())),
                "{msg}"
            );
            assert!(msg.contains("0644"), "{msg}");
            assert!(!msg.contains("sk-leaky"), "{msg}");
        }
        // The refused write left the file as it was.
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "openai = \"sk-leaky\"\n"
        );

        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(store.get("openai").unwrap().unwrap().expose(), "sk-leaky");
    }

    #[cfg(unix)]
    #[test]
    fn malformed_file_errors_name_the_line_not_the_value() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.toml");
        for text in [
            "openai = \"sk-good\"\nanthropic = \"sk-unterminated\n",
            "openai = \"sk-good\"\nanthropic = 123456789\n",
            "openai = \"sk-good\"\nanthropic.prod = \"sk-nested\"\n",
        ] {
            fs::write(&path, text).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            let err = SecretStore::file(path.clone()).get("openai").unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("is not valid"), "{msg}");
            for secret in ["sk-good", "sk-unterminated", "123456789", "sk-nested"] {
                assert!(!msg.contains(secret), "{msg}");
                assert!(!format!("{err:?}").contains(secret), "{err:?}");
            }
        }
    }

    #[test]
    fn values_never_in_debug_output() {
        let (_dir, _path, store) = file_store();
        store
            .set("openai", &Sensitive::new("sk-hidden-value"))
            .unwrap();
        let got = store.get("openai").unwrap();
        let resolved = SecretRef::Keychain("openai".into())
            .resolve_with(&store)
            .unwrap();
        let printed = format!(
            "{store:?} {got:?} {resolved:?} {resolved} {:?}",
            store.backend()
        );
        assert!(!printed.contains("sk-hidden-value"), "{printed}");
        assert!(printed.contains("***"), "{printed}");
    }

    // Keychain tests talk to the real OS keychain, so they run only when asked to:
    // `SWITCHYARD_KEYRING_TESTS=1`, which `scripts/with-keyring.sh` sets after making sure a
    // keychain is there (on Linux, a throwaway gnome-keyring in its own D-Bus session). Without
    // it they return at once and pass, keeping a plain `cargo test` hermetic on headless
    // machines. With it, an unreachable keychain fails them loudly.
    fn keychain_or_skip() -> Option<SecretStore> {
        if std::env::var("SWITCHYARD_KEYRING_TESTS").as_deref() != Ok("1") {
            return None;
        }
        let store = SecretStore::keychain();
        if let Err(e) = store.probe() {
            panic!("SWITCHYARD_KEYRING_TESTS=1 but the keychain cannot be used: {e}");
        }
        Some(store)
    }

    /// A name no other test run uses, deleted again when dropped, even on failure.
    struct ScratchEntry {
        store: SecretStore,
        name: String,
    }

    impl ScratchEntry {
        fn new(store: &SecretStore, what: &str) -> Self {
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let name = format!(
                "switchyard-test-{what}-{}-{}-{nanos}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            );
            Self {
                store: store.clone(),
                name,
            }
        }
    }

    impl Drop for ScratchEntry {
        fn drop(&mut self) {
            let _ = self.store.delete(&self.name);
        }
    }

    #[test]
    fn keychain_round_trips() {
        let Some(store) = keychain_or_skip() else {
            return;
        };
        let entry = ScratchEntry::new(&store, "round-trip");
        let name = entry.name.as_str();

        assert_eq!(store.get(name).unwrap(), None);
        store.set(name, &Sensitive::new("sk-first")).unwrap();
        assert_eq!(store.get(name).unwrap().unwrap().expose(), "sk-first");
        store.set(name, &Sensitive::new("sk-second")).unwrap();
        assert_eq!(store.get(name).unwrap().unwrap().expose(), "sk-second");
        assert!(store.delete(name).unwrap());
        assert_eq!(store.get(name).unwrap(), None);
        assert!(!store.delete(name).unwrap());
    }

    #[test]
    fn keychain_references_resolve_and_say_what_is_missing() {
        let Some(store) = keychain_or_skip() else {
            return;
        };
        let entry = ScratchEntry::new(&store, "resolve");
        let reference = SecretRef::Keychain(entry.name.clone());

        let err = reference.resolve_with(&store).unwrap_err();
        assert!(matches!(err, SecretError::Missing(_)), "{err:?}");
        assert!(
            err.to_string().contains("switchyard providers set-key"),
            "{err}"
        );
        assert!(err.to_string().contains(&store.describe()), "{err}");

        store
            .set(&entry.name, &Sensitive::new("sk-resolved"))
            .unwrap();
        assert_eq!(
            reference.resolve_with(&store).unwrap().expose(),
            "sk-resolved"
        );
        assert_eq!(reference.resolve().unwrap().expose(), "sk-resolved");
        assert!(!format!("{store:?}").contains("sk-resolved"));
    }
}
