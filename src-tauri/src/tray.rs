//! The tray: a status line (running or paused, port, requests today), the window's two main
//! pages, the base URL to copy, pause/resume, start at login, and a graceful quit.

use std::time::Duration;

use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager as _};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_clipboard_manager::ClipboardExt as _;

use crate::shell::{Shell, Status};
use crate::window;

/// How often the status line is refreshed on its own (actions refresh it at once).
const REFRESH_EVERY: Duration = Duration::from_secs(5);

const OPEN_PLAYGROUND: &str = "open-playground";
const OPEN_DASHBOARD: &str = "open-dashboard";
const COPY_BASE_URL: &str = "copy-base-url";
const PAUSE: &str = "pause";
const AUTOSTART: &str = "autostart";
const QUIT: &str = "quit";

/// The menu items whose text or check mark changes.
struct Items {
    status: MenuItem<tauri::Wry>,
    pause: MenuItem<tauri::Wry>,
    autostart: CheckMenuItem<tauri::Wry>,
}

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let status = MenuItem::with_id(app, "status", "Starting…", false, None::<&str>)?;
    let pause = MenuItem::with_id(app, PAUSE, "Pause gateway", false, None::<&str>)?;
    let autostart = CheckMenuItem::with_id(
        app,
        AUTOSTART,
        "Start at login",
        true,
        autostart_enabled(app),
        None::<&str>,
    )?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, OPEN_PLAYGROUND, "Open Playground", true, None::<&str>)?,
            &MenuItem::with_id(app, OPEN_DASHBOARD, "Open Dashboard", true, None::<&str>)?,
            &MenuItem::with_id(app, COPY_BASE_URL, "Copy base URL", true, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &pause,
            &autostart,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, QUIT, "Quit Switchyard", true, None::<&str>)?,
        ],
    )?;
    let icon = tauri::image::Image::from_bytes(include_bytes!("../../icons/tray.png"))?;
    TrayIconBuilder::with_id("main")
        .icon(icon)
        .tooltip("Switchyard")
        .menu(&menu)
        .on_menu_event(on_menu_event)
        .build(app)?;
    app.manage(Items {
        status,
        pause,
        autostart,
    });
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(REFRESH_EVERY).await;
            update(&app).await;
        }
    });
    Ok(())
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        OPEN_PLAYGROUND => window::show(app, Some(window::PLAYGROUND)),
        OPEN_DASHBOARD => window::show(app, Some(window::DASHBOARD)),
        COPY_BASE_URL => {
            if let Some(url) = app.state::<Shell>().base_url()
                && let Err(e) = app.clipboard().write_text(url)
            {
                tracing::warn!("cannot copy the base URL: {e}");
            }
        }
        PAUSE => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                app.state::<Shell>().toggle_pause().await;
                update(&app).await;
            });
        }
        AUTOSTART => {
            // The check mark flipped when clicked: make the login entry match, then show
            // whatever is really there.
            let wanted = app
                .try_state::<Items>()
                .and_then(|items| items.autostart.is_checked().ok());
            if let Some(wanted) = wanted
                && let Err(e) = set_autostart(app, wanted)
            {
                tracing::warn!("cannot change start at login: {e}");
            }
            sync_autostart(app);
        }
        QUIT => crate::shell::quit(app),
        _ => {}
    }
}

/// Whether the login entry exists.
pub fn autostart_enabled(app: &AppHandle) -> bool {
    app.autolaunch().is_enabled().unwrap_or(false)
}

/// Creates or removes the login entry.
pub fn set_autostart(app: &AppHandle, enabled: bool) -> Result<(), tauri_plugin_autostart::Error> {
    let manager = app.autolaunch();
    if enabled {
        manager.enable()?;
    } else {
        manager.disable()?;
    }
    tracing::info!(
        "start at login {}",
        if enabled { "enabled" } else { "disabled" }
    );
    Ok(())
}

/// Shows the real state of the login entry in the menu.
pub fn sync_autostart(app: &AppHandle) {
    if let Some(items) = app.try_state::<Items>() {
        let _ = items.autostart.set_checked(autostart_enabled(app));
    }
}

/// Refreshes the status line now, in the background.
pub fn refresh(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move { update(&app).await });
}

async fn update(app: &AppHandle) {
    let status = app.state::<Shell>().status().await;
    let Some(items) = app.try_state::<Items>() else {
        return;
    };
    let _ = items.status.set_text(status_line(&status));
    let (pause_text, pause_enabled) = match status {
        Status::Running { paused: true, .. } => ("Resume gateway", true),
        Status::Running { paused: false, .. } => ("Pause gateway", true),
        Status::Starting | Status::Stopping => ("Pause gateway", false),
    };
    let _ = items.pause.set_text(pause_text);
    let _ = items.pause.set_enabled(pause_enabled);
}

fn status_line(status: &Status) -> String {
    match status {
        Status::Starting => "Starting…".into(),
        Status::Stopping => "Stopping…".into(),
        Status::Running {
            port,
            paused,
            today,
        } => {
            let state = if *paused { "Paused" } else { "Running" };
            match today {
                Some(1) => format!("{state} on port {port} · 1 request today"),
                Some(n) => format!("{state} on port {port} · {n} requests today"),
                None => format!("{state} on port {port}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_says_state_port_and_requests_today() {
        let running = Status::Running {
            port: 7137,
            paused: false,
            today: Some(12),
        };
        assert_eq!(
            status_line(&running),
            "Running on port 7137 · 12 requests today"
        );
        let paused = Status::Running {
            port: 7138,
            paused: true,
            today: Some(1),
        };
        assert_eq!(
            status_line(&paused),
            "Paused on port 7138 · 1 request today"
        );
        let unlogged = Status::Running {
            port: 7137,
            paused: false,
            today: None,
        };
        assert_eq!(status_line(&unlogged), "Running on port 7137");
    }
}
