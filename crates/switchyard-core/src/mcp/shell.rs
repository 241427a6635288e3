//! The PATH a stdio MCP server gets. An app started from a desktop launcher or the tray did not
//! go through the user's login shell, so its PATH lacks what `~/.profile`, `~/.zshrc`, nvm or
//! Homebrew add, and `npx`/`uvx` servers fail to start. We ask the login shell once.

use std::path::Path;
use std::time::Duration;

use tokio::sync::OnceCell;

const START: &str = "__SWITCHYARD_PATH_START__";
const END: &str = "__SWITCHYARD_PATH_END__";
/// An rc file that hangs (or asks for input) must not hold up tool calls for long.
const SHELL_TIMEOUT: Duration = Duration::from_secs(5);

static CHILD_PATH: OnceCell<Option<String>> = OnceCell::const_new();

/// The PATH for child processes: the login shell's entries first, then ours that it lacks.
/// Computed once per process.
pub(super) async fn child_path() -> Option<String> {
    CHILD_PATH
        .get_or_init(|| async {
            let ours = std::env::var("PATH").ok();
            let shell = std::env::var_os("SHELL").filter(|s| !s.is_empty());
            let login = match shell {
                Some(shell) if cfg!(unix) => login_shell_path(Path::new(&shell)).await,
                _ => None,
            };
            match (&login, &ours) {
                (Some(l), _) => {
                    tracing::debug!("MCP servers get the login shell's PATH");
                    Some(merge_paths(l, ours.as_deref().unwrap_or("")))
                }
                (None, _) => ours,
            }
        })
        .await
        .clone()
}

/// Runs `shell -l -i -c` and reads `$PATH` between markers, ignoring whatever the rc files
/// print. `None` when the shell fails, prints no markers or takes too long.
pub async fn login_shell_path(shell: &Path) -> Option<String> {
    let script = format!("printf '%s%s%s' '{START}' \"$PATH\" '{END}'");
    let mut cmd = tokio::process::Command::new(shell);
    cmd.args(["-l", "-i", "-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(SHELL_TIMEOUT, cmd.output())
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let start = text.rfind(START)? + START.len();
    let end = start + text[start..].find(END)?;
    let path = text[start..end].trim();
    (!path.is_empty()).then(|| path.to_owned())
}

/// `first` then the entries of `second` that `first` lacks, in order, without empty entries.
pub fn merge_paths(first: &str, second: &str) -> String {
    let sep = if cfg!(windows) { ';' } else { ':' };
    let mut seen: Vec<&str> = Vec::new();
    for entry in first.split(sep).chain(second.split(sep)) {
        if !entry.is_empty() && !seen.contains(&entry) {
            seen.push(entry);
        }
    }
    seen.join(&sep.to_string())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_the_login_order_and_adds_what_is_missing() {
        assert_eq!(
            merge_paths("/home/u/.nvm/bin:/usr/bin", "/usr/bin:/bin::/usr/bin"),
            "/home/u/.nvm/bin:/usr/bin:/bin"
        );
    }

    #[tokio::test]
    async fn reads_path_from_a_login_shell_that_prints_noise() -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir()?;
        // A "shell" whose rc files print a banner, then runs the command with a PATH of its own.
        let shell = dir.path().join("fake-shell");
        std::fs::write(
            &shell,
            "#!/bin/sh\necho 'Welcome back!'\nPATH=/opt/nvm/bin:/usr/bin\nexport PATH\nshift 3\nexec /bin/sh -c \"$1\"\n",
        )?;
        std::fs::set_permissions(&shell, std::fs::Permissions::from_mode(0o755))?;
        let path = login_shell_path(&shell).await;
        assert_eq!(path.as_deref(), Some("/opt/nvm/bin:/usr/bin"));
        // A shell that does not exist gives nothing rather than an error.
        assert_eq!(login_shell_path(&dir.path().join("nope")).await, None);
        Ok(())
    }
}
