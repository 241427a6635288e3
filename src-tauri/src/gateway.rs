//! Starting the in-process gateway: read the config, start the core's [`Gateway`] on the
//! shared runtime, and when the port is taken say so plainly and offer a free one. Failures
//! that leave nothing to run end the app with a dialog that says what to fix.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use switchyard_core::config::edit::ConfigFile;
use switchyard_core::config::{Config, default_config_path};
use switchyard_core::server::StartError;
use switchyard_core::{Gateway, GatewayHandle};
use tauri::{AppHandle, Manager as _};
use tauri_plugin_dialog::{DialogExt as _, MessageDialogButtons, MessageDialogKind};

use crate::shell::Shell;

/// Starts the gateway in the background; once it listens, the tray says so and, unless
/// `show_window` is false (a start at login), the window opens on the playground.
pub fn launch(app: AppHandle, show_window: bool) {
    tauri::async_runtime::spawn(async move {
        let Some(handle) = start(&app).await else {
            crate::shell::quit_with(&app, 1);
            return;
        };
        let shell = app.state::<Shell>();
        tracing::info!(
            elapsed_ms = shell.launched.elapsed().as_millis(),
            "gateway ready: {}",
            handle.base_url()
        );
        let grace = handle.state().runtime.load().config.limits.shutdown_grace;
        shell.install(handle, grace).await;
        crate::tray::refresh(&app);
        if show_window {
            crate::window::show(&app, Some(crate::window::PLAYGROUND));
        }
    });
}

/// What the user chose when the port was taken.
enum PortChoice {
    ThisTime(SocketAddr),
    Remember(SocketAddr),
    Quit,
}

async fn start(app: &AppHandle) -> Option<GatewayHandle> {
    let path = default_config_path();
    let mut config = match load(&path) {
        Ok(config) => config,
        Err(message) => {
            fail(app, &message).await;
            return None;
        }
    };
    loop {
        match Gateway::start_with(config.clone(), Some(path.clone())).await {
            Ok(handle) => return Some(handle),
            Err(StartError::Bind { addr, source })
                if source.kind() == std::io::ErrorKind::AddrInUse =>
            {
                tracing::warn!("port {} is taken", addr.port());
                match ask_for_port(app, addr).await {
                    PortChoice::ThisTime(free) => config.listen = free,
                    PortChoice::Remember(free) => match remember(&path, free).await {
                        Ok(saved) => config = saved,
                        Err(e) => {
                            tracing::warn!("cannot save the new port: {e}");
                            config.listen = free;
                        }
                    },
                    PortChoice::Quit => return None,
                }
            }
            Err(e) => {
                fail(app, &e.to_string()).await;
                return None;
            }
        }
    }
}

/// The config file, or the defaults when there is none yet (the UI's settings create it).
fn load(path: &Path) -> Result<Config, String> {
    if path.exists() {
        Config::load(path).map_err(|e| e.to_string())
    } else {
        tracing::info!(
            "no config at {}: starting with no providers; add them in Settings",
            path.display()
        );
        Ok(Config::default())
    }
}

/// Writes `listen` into the config file, keeping everything else as it was.
async fn remember(path: &Path, listen: SocketAddr) -> Result<Config, String> {
    let file = ConfigFile::new(PathBuf::from(path), switchyard_core::providers::check);
    let mut fields = serde_json::Map::new();
    fields.insert("listen".into(), listen.to_string().into());
    let ((), config) = file
        .edit(|doc| doc.update_settings(&fields))
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("saved listen = \"{listen}\" in {}", path.display());
    Ok(config)
}

/// A free port close to the taken one (same address), else any free port.
pub fn free_port_near(taken: SocketAddr) -> Option<SocketAddr> {
    let start = taken.port().saturating_add(1);
    (start..start.saturating_add(50))
        .map(|port| SocketAddr::new(taken.ip(), port))
        .chain(std::iter::once(SocketAddr::new(taken.ip(), 0)))
        .find_map(|addr| TcpListener::bind(addr).ok()?.local_addr().ok())
}

async fn ask_for_port(app: &AppHandle, taken: SocketAddr) -> PortChoice {
    let Some(free) = free_port_near(taken) else {
        fail(
            app,
            &format!(
                "Port {} is in use, and no other port is free on {}.",
                taken.port(),
                taken.ip()
            ),
        )
        .await;
        return PortChoice::Quit;
    };
    let once = format!("Use {} this time", free.port());
    let always = format!("Always use {}", free.port());
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .message(format!(
            "Port {port} is already in use: another program (or another Switchyard) is \
             listening on {taken}.\n\nSwitchyard can start on port {free_port} instead. \
             Apps set up with the old address will need the new one: {free}/v1.",
            port = taken.port(),
            free_port = free.port(),
            free = format_args!("http://{free}"),
        ))
        .title("Switchyard: port in use")
        .kind(MessageDialogKind::Warning)
        .buttons(MessageDialogButtons::YesNoCancelCustom(
            once.clone(),
            always.clone(),
            "Quit".into(),
        ))
        .show_with_result(move |answer| {
            let _ = tx.send(answer);
        });
    use tauri_plugin_dialog::MessageDialogResult as Answer;
    match rx.await {
        Ok(Answer::Custom(label)) if label == once => PortChoice::ThisTime(free),
        Ok(Answer::Custom(label)) if label == always => PortChoice::Remember(free),
        Ok(Answer::Yes) => PortChoice::ThisTime(free),
        Ok(Answer::No) => PortChoice::Remember(free),
        _ => PortChoice::Quit,
    }
}

/// Says why Switchyard cannot start, and waits until the message is read.
async fn fail(app: &AppHandle, message: &str) {
    tracing::error!("cannot start: {message}");
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .message(format!("Switchyard cannot start.\n\n{message}"))
        .title("Switchyard")
        .kind(MessageDialogKind::Error)
        .buttons(MessageDialogButtons::OkCustom("Quit".into()))
        .show(move |_| {
            let _ = tx.send(());
        });
    let _ = rx.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_gets_a_free_neighbour() -> std::io::Result<()> {
        let held = TcpListener::bind("127.0.0.1:0")?;
        let taken = held.local_addr()?;
        let free = free_port_near(taken);
        assert!(free.is_some_and(|f| f != taken && f.ip() == taken.ip() && f.port() != 0));
        Ok(())
    }
}
