//! Private files and folders, for everything written into the data folder (the config file,
//! the request log, media, the desktop app's logs). The data folder holds every prompt and
//! answer the gateway logged: only its owner may read it. Folders are made 0700 and files 0600 whatever the umask, and ones found looser (made by
//! an older version, or by hand) are tightened at start, saying so in the log. No-ops off Unix,
//! where the user's profile folder already keeps other users out.

use std::io;
use std::path::Path;

/// Creates `path` (and any missing parents) readable by its owner alone, or tightens it.
pub fn dir(path: &Path) -> io::Result<()> {
    create_dir(path)?;
    tighten(path, 0o700);
    Ok(())
}

/// Creates `path` and any missing parents readable by their owner alone; folders that exist
/// are left as they are. For whatever else writes into the data folder before the request log
/// opens it (the config file, the desktop app's logs).
pub fn create_dir(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Creates an empty file at `path` readable by its owner alone, unless it exists; tightens it
/// when it does. SQLite gives its `-wal` and `-shm` files the mode of the database file, so
/// making that file first keeps them private too.
pub fn file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    tighten(path, 0o600);
    Ok(())
}

/// Writes `bytes` to a new file (or over an old one) readable by its owner alone.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)?;
    tighten(path, 0o600);
    Ok(())
}

/// Takes group and other permissions off `path` if it exists and has any, leaving `mode`;
/// a symlink is left alone (its target is not ours to change). Says so in the log when an
/// existing file or folder was open to others, and when it cannot be changed (a folder owned
/// by someone else): the gateway still starts, the warning says what to fix.
pub fn tighten(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        let old = meta.permissions().mode() & 0o777;
        if meta.file_type().is_symlink() || old & 0o077 == 0 {
            return;
        }
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
            Ok(()) => tracing::warn!(
                "{}: was readable by other users (mode {old:o}), now {mode:o}: it holds the request log",
                path.display()
            ),
            Err(e) => tracing::warn!(
                "{}: is readable by other users (mode {old:o}) and cannot be made {mode:o}: {e}",
                path.display()
            ),
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// Tightens a folder and the files directly in it (the media folder).
pub fn tighten_folder(path: &Path) {
    tighten(path, 0o700);
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            tighten(&entry.path(), 0o600);
        }
    }
}
