//! The desktop-only commands the UI may call (the capability in `capabilities/desktop.json`
//! grants them to the gateway's own pages only). Everything else the UI does goes through the
//! gateway's HTTP API, exactly as in a browser. Each is a one-line wrapper.

use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt as _;

use crate::shell::Shell;

/// A command's failure, with a code the UI can switch on.
#[derive(Debug, serde::Serialize, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    code: &'static str,
    message: String,
}

impl CommandError {
    fn new(code: &'static str, message: impl ToString) -> Self {
        Self {
            code,
            message: message.to_string(),
        }
    }
}

/// Whether Switchyard starts at login.
#[tauri::command]
pub fn autostart_enabled(app: AppHandle) -> bool {
    crate::tray::autostart_enabled(&app)
}

/// Turns start at login on or off; returns the state it is now in.
#[tauri::command]
pub fn set_autostart(app: AppHandle, enabled: bool) -> Result<bool, CommandError> {
    let result = crate::tray::set_autostart(&app, enabled);
    crate::tray::sync_autostart(&app);
    result
        .map(|()| crate::tray::autostart_enabled(&app))
        .map_err(|e| CommandError::new("autostart_failed", e))
}

/// Opens the data folder (config, request log, logs) in the file manager.
#[tauri::command]
pub fn open_data_folder(app: AppHandle, shell: State<'_, Shell>) -> Result<(), CommandError> {
    app.opener()
        .open_path(shell.data_dir.to_string_lossy(), None::<&str>)
        .map_err(|e| CommandError::new("open_failed", e))
}

/// Shows the current log file in the file manager.
#[tauri::command]
pub fn reveal_log_file(app: AppHandle, shell: State<'_, Shell>) -> Result<(), CommandError> {
    let file = shell
        .log_file()
        .ok_or_else(|| CommandError::new("no_log_file", "no log file has been written yet"))?;
    app.opener()
        .reveal_item_in_dir(file)
        .map_err(|e| CommandError::new("open_failed", e))
}
