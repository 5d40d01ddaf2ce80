//! `tessera-desktop`: the Tauri shell over `tessera-core`.
//!
//! This crate holds commands, tray, windows, clipboard and auto-lock only
//! (DESIGN §1, §6): every vault operation is a call into `tessera-core` or
//! `tessera-unlock`, and the web UI in `ui/` reaches Rust only through the
//! commands in [`commands`] (contract: ui/API.md).

#![forbid(unsafe_code)]
// No console window on Windows release builds.
#![cfg_attr(all(not(debug_assertions), target_os = "windows"), windows_subsystem = "windows")]

mod autolock;
mod clipboard;
mod commands;
mod desktop;
mod dto;
mod error;
mod settings;
mod shortcut;
mod tray;
mod windows;

#[cfg(test)]
mod tests;

use tauri::{AppHandle, Manager, WindowEvent};

use crate::desktop::Desktop;
use crate::settings::Paths;

/// Locks (zeroizing the keys), clears a secret Tessera left on the
/// clipboard, and exits.
pub fn quit(app: &AppHandle) {
    autolock::lock_app(app, "user", false);
    app.exit(0);
}

fn main() {
    let desktop = Desktop::new(Paths::from_environment());
    let result = tauri::Builder::default()
        .plugin(shortcut::plugin())
        .plugin(tauri_plugin_dialog::init())
        .manage(desktop)
        .invoke_handler(all_commands!())
        .setup(|app| {
            let handle = app.handle();
            windows::create_main(handle)?;
            windows::create_quick(handle)?;
            if let Err(e) = tray::build(handle) {
                // No tray host (some desktops): the app works without it.
                eprintln!("tessera-desktop: no tray icon: {e}");
            }
            let accelerator = handle.state::<Desktop>().settings().quick_access_shortcut;
            shortcut::register(handle, &accelerator);
            autolock::start(handle);
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == windows::QUICK {
                    api.prevent_close();
                    let _ = window.hide();
                } else {
                    // Closing the main window quits, as in KeePassXC; the
                    // vault locks on the way out.
                    api.prevent_close();
                    quit(window.app_handle());
                }
            }
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("tessera-desktop: cannot start: {e}");
        std::process::exit(1);
    }
}
