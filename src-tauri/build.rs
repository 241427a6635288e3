//! Generates Tauri's context and the permissions of the app's own commands: with an app
//! manifest each command needs an `allow-…` permission, granted in `capabilities/` to the
//! gateway's pages only.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
        "autostart_enabled",
        "set_autostart",
        "open_data_folder",
        "reveal_log_file",
    ]);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        println!("cargo::error=tauri-build: {e:#}");
    }
}
