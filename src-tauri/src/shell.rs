//! The app's one piece of state: the running gateway's lifecycle handle, and the paths the
//! desktop commands open. No gateway logic: everything it does goes through the handle.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use switchyard_core::GatewayHandle;
use tauri::{AppHandle, Manager as _};
use tokio::sync::RwLock;

pub struct Shell {
    /// When the process started: start-up times are logged against it.
    pub launched: Instant,
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
    /// The running gateway; `None` before it starts and after it stops.
    gateway: RwLock<Option<GatewayHandle>>,
    /// Where the gateway listens, set once it does.
    addr: OnceLock<SocketAddr>,
    grace: OnceLock<Duration>,
    quitting: AtomicBool,
    stopped: AtomicBool,
}

/// What the tray shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Starting,
    Running {
        port: u16,
        paused: bool,
        today: Option<i64>,
    },
    Stopping,
}

impl Shell {
    pub fn new(launched: Instant, data_dir: PathBuf, log_dir: PathBuf) -> Self {
        Self {
            launched,
            data_dir,
            log_dir,
            gateway: RwLock::new(None),
            addr: OnceLock::new(),
            grace: OnceLock::new(),
            quitting: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        }
    }

    /// Keeps the gateway once it started.
    pub async fn install(&self, handle: GatewayHandle, grace: Duration) {
        let _ = self.addr.set(handle.local_addr());
        let _ = self.grace.set(grace);
        *self.gateway.write().await = Some(handle);
    }

    /// The address the window and clients use: the bound one, or loopback for a wildcard bind.
    pub fn addr(&self) -> Option<SocketAddr> {
        let addr = *self.addr.get()?;
        Some(match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => {
                SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
            }
            IpAddr::V6(ip) if ip.is_unspecified() => {
                SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
            }
            _ => addr,
        })
    }

    /// `http://127.0.0.1:PORT`, once the gateway listens.
    pub fn origin(&self) -> Option<String> {
        self.addr().map(|a| format!("http://{a}"))
    }

    /// The OpenAI base URL clients use.
    pub fn base_url(&self) -> Option<String> {
        self.origin().map(|o| format!("{o}/v1"))
    }

    pub async fn status(&self) -> Status {
        if self.quitting.load(Ordering::Relaxed) {
            return Status::Stopping;
        }
        let guard = self.gateway.read().await;
        let Some(gateway) = guard.as_ref() else {
            return Status::Starting;
        };
        Status::Running {
            port: gateway.local_addr().port(),
            paused: gateway.is_paused(),
            today: gateway.requests_since(local_midnight_ms()).await,
        }
    }

    /// Pauses the model API if it runs, resumes it if paused. Returns whether it is now paused.
    pub async fn toggle_pause(&self) -> Option<bool> {
        let guard = self.gateway.read().await;
        let gateway = guard.as_ref()?;
        let paused = !gateway.is_paused();
        gateway.set_paused(paused);
        tracing::info!(
            "gateway {} from the tray",
            if paused { "paused" } else { "resumed" }
        );
        Some(paused)
    }

    /// The current log file: the newest in the log folder.
    pub fn log_file(&self) -> Option<PathBuf> {
        crate::logging::current_file(&self.log_dir)
    }

    /// True once the gateway has stopped for good and the app may exit.
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
}

/// Quits gracefully: the gateway stops accepting connections, requests in flight get the
/// configured grace period to finish, the request log drains; then the app exits.
pub fn quit(app: &AppHandle) {
    quit_with(app, 0);
}

/// [`quit`], exiting with `code`.
pub fn quit_with(app: &AppHandle, code: i32) {
    let shell = app.state::<Shell>();
    if shell.quitting.swap(true, Ordering::AcqRel) {
        return;
    }
    crate::tray::refresh(app);
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let shell = app.state::<Shell>();
        let handle = shell.gateway.write().await.take();
        if let Some(handle) = handle {
            let grace = shell
                .grace
                .get()
                .copied()
                .unwrap_or(Duration::from_secs(10));
            tracing::info!("quitting: no new connections; requests in flight get {grace:?}");
            match handle.shutdown(grace).await {
                Ok(()) => tracing::info!("gateway stopped, request log drained"),
                Err(e) => tracing::warn!("gateway stopped with an error: {e}"),
            }
        }
        shell.stopped.store(true, Ordering::Release);
        app.exit(code);
    });
}

/// SIGTERM and SIGINT (a logout, `kill`, Ctrl-C in a terminal) quit as gracefully as the
/// tray's Quit does.
pub fn quit_on_signals(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                tracing::warn!("cannot listen for SIGTERM/SIGINT");
                return;
            };
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM"),
                _ = int.recv() => tracing::info!("SIGINT"),
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
        }
        quit(&app);
    });
}

/// Local midnight today, in ms since the epoch, for "requests today"; UTC midnight when the
/// local day has no midnight (a DST jump at 00:00 has none in some zones).
fn local_midnight_ms() -> i64 {
    let now = chrono::Local::now();
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| midnight.and_local_timezone(chrono::Local).earliest())
        .map_or_else(
            || {
                let ms = now.timestamp_millis();
                ms - ms.rem_euclid(86_400_000)
            },
            |midnight| midnight.timestamp_millis(),
        )
}
