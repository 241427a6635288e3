//! Switchyard's desktop app: the core gateway in-process on the one tokio runtime Tauri also
//! uses, its UI in a window loaded from that gateway, and a tray. A thin shell: no gateway
//! logic lives here, only start-up, the tray, the window and four desktop-only commands.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod gateway;
mod logging;
mod shell;
mod tray;
mod window;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use tauri::{Manager as _, RunEvent};

use crate::shell::Shell;

/// Given by the login entry: start in the tray without opening the window.
const MINIMIZED_ARG: &str = "--minimized";

fn main() -> ExitCode {
    let launched = Instant::now();
    let data_dir = switchyard_core::config::data_dir();
    let log_dir = data_dir.join("logs");
    logging::init(&log_dir);
    switchyard_core::providers::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("switchyard")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Tauri's commands, plugins and our gateway all run on this one runtime.
    tauri::async_runtime::set(runtime.handle().clone());
    let minimized = std::env::args().any(|a| a == MINIMIZED_ARG);
    let shell = Shell::new(launched, data_dir, log_dir);

    let app = tauri::Builder::default()
        // First, so a second launch hands over before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tracing::info!("a second launch: showing the window");
            window::show(app, None);
        }))
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .arg(MINIMIZED_ARG)
                .build(),
        )
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .manage(shell)
        .invoke_handler(tauri::generate_handler![
            commands::autostart_enabled,
            commands::set_autostart,
            commands::open_data_folder,
            commands::reveal_log_file,
        ])
        .setup(move |app| {
            shell::quit_on_signals(app.handle());
            tray::create(app.handle())?;
            gateway::launch(app.handle().clone(), !minimized);
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("cannot start the desktop app: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = app.run_return(|app, event| {
        if let RunEvent::ExitRequested { api, code, .. } = event {
            // Whatever asked to exit, the gateway stops gracefully first; `shell::quit_with`
            // exits again once it has.
            if !app.state::<Shell>().stopped() {
                api.prevent_exit();
                shell::quit_with(app, code.unwrap_or(0));
            }
        }
    });
    // Tasks still running (the tray's refresh) are dropped; the gateway has already stopped.
    runtime.shutdown_timeout(Duration::from_secs(1));
    tracing::info!("exited");
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
