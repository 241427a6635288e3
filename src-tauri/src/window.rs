//! The one window: the gateway's own UI (`http://127.0.0.1:PORT/ui/…`), same origin as the
//! admin API it calls. Closing it hides it to the tray; pages outside the gateway open in the
//! system browser instead of inside it.

use tauri::webview::PageLoadEvent;
use tauri::{
    AppHandle, Manager as _, WebviewUrl, WebviewWindow, WebviewWindowBuilder, WindowEvent,
};
use tauri_plugin_opener::OpenerExt as _;

use crate::shell::Shell;

pub const LABEL: &str = "main";
pub const PLAYGROUND: &str = "/ui/playground";
pub const DASHBOARD: &str = "/ui/dashboard";

/// Shows the window (creating it the first time), on `route` when given, and focuses it.
/// Does nothing before the gateway listens.
pub fn show(app: &AppHandle, route: Option<&str>) {
    let shell = app.state::<Shell>();
    let Some(origin) = shell.origin() else {
        return;
    };
    let window = match app.get_webview_window(LABEL) {
        Some(window) => {
            if let Some(route) = route {
                navigate(&window, &origin, route);
            }
            window
        }
        None => match create(app, &origin, route.unwrap_or(PLAYGROUND)) {
            Ok(window) => window,
            Err(e) => {
                tracing::error!("cannot open the window: {e}");
                return;
            }
        },
    };
    let _ = window.show();
    let _ = window.unminimize();
    let _ = window.set_focus();
}

fn navigate(window: &WebviewWindow, origin: &str, route: &str) {
    let already = window
        .url()
        .is_ok_and(|url| url.path() == route && origin_of(&url) == origin);
    if already {
        return;
    }
    match tauri::Url::parse(&format!("{origin}{route}")) {
        Ok(url) => {
            if let Err(e) = window.navigate(url) {
                tracing::warn!("cannot open {route}: {e}");
            }
        }
        Err(e) => tracing::warn!("bad address for {route}: {e}"),
    }
}

fn origin_of(url: &tauri::Url) -> String {
    url.origin().ascii_serialization()
}

fn open_outside(app: &AppHandle, url: &tauri::Url) {
    if matches!(url.scheme(), "http" | "https" | "mailto")
        && let Err(e) = app.opener().open_url(url.as_str(), None::<&str>)
    {
        tracing::warn!("cannot open a link in the browser: {e}");
    }
}

fn create(app: &AppHandle, origin: &str, route: &str) -> tauri::Result<WebviewWindow> {
    let url = tauri::Url::parse(&format!("{origin}{route}")).map_err(tauri::Error::InvalidUrl)?;
    let own_origin = origin.to_owned();
    let opener = app.clone();
    let new_window_opener = app.clone();
    let window = WebviewWindowBuilder::new(app, LABEL, WebviewUrl::External(url))
        .title("Switchyard")
        .inner_size(1200.0, 800.0)
        .min_inner_size(720.0, 480.0)
        .center()
        .on_navigation(move |url| {
            if origin_of(url) == own_origin {
                return true;
            }
            // Links out of the gateway (provider docs, key pages) belong in the browser.
            open_outside(&opener, url);
            false
        })
        // `target="_blank"` and `window.open`: the browser too, never a second app window.
        .on_new_window(move |url, _| {
            open_outside(&new_window_opener, &url);
            tauri::webview::NewWindowResponse::Deny
        })
        .on_page_load(|window, payload| {
            if payload.event() == PageLoadEvent::Finished {
                let shell = window.state::<Shell>();
                tracing::info!(
                    elapsed_ms = shell.launched.elapsed().as_millis(),
                    "window shown: {}",
                    payload.url().path()
                );
            }
        })
        .build()?;
    let hide = window.clone();
    window.on_window_event(move |event| {
        if let WindowEvent::CloseRequested { api, .. } = event {
            // The gateway keeps serving from the tray; Quit is in the tray menu.
            api.prevent_close();
            let _ = hide.hide();
        }
    });
    Ok(window)
}
