//! `tessera-desktop`: the Tauri shell over `tessera-core`.
//!
//! This crate holds commands, tray, windows, clipboard and auto-lock only
//! (DESIGN §1, §6): every vault operation is a call into `tessera-core` or
//! `tessera-unlock`, and the web UI in `ui/` reaches Rust only through the
//! commands in `commands` (contract: ui/API.md). [`desktop::Desktop`] is
//! the state those commands work on; it is public so the benchmarks can
//! measure it without a window.

#![forbid(unsafe_code)]

mod agents;
mod attachments;
mod autolock;
mod autotype;
mod browser;
mod clipboard;
mod commands;
pub mod desktop;
pub mod dto;
pub mod error;
mod folders;
mod prompts;
mod qr_commands;
mod restart;
mod screen;
pub mod settings;
mod sharing;
mod shortcut;
mod sync;
mod tray;
mod windows;

#[cfg(test)]
mod tests;

use tauri::{AppHandle, Manager, WindowEvent};

use crate::desktop::Desktop;
use crate::settings::Paths;

/// With `TESSERA_TIMINGS` set, the app writes `tessera-timing EVENT` lines
/// to stderr at the moments `make bench` times (the unlock screen asking
/// for its factors, Quick Access shown, a value copied). Nothing else.
pub(crate) fn timing(event: &str) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("TESSERA_TIMINGS").is_some()) {
        eprintln!("tessera-timing {event}");
    }
}

/// Locks (zeroizing the keys), clears a secret Tessera left on the
/// clipboard, and exits.
pub fn quit(app: &AppHandle) {
    autolock::lock_app(app, "quit", false);
    if let Some(b) = app.try_state::<browser::Browser>() {
        b.stop();
    }
    if let Some(a) = app.try_state::<agents::Agents>() {
        a.stop();
    }
    app.exit(0);
}

/// Starts the app; returns when it quits.
pub fn run() -> tauri::Result<()> {
    #[cfg(target_os = "linux")]
    if restart::started_in_tray() {
        restart::reap_inherited_children();
    }
    let desktop = Desktop::new(Paths::from_environment());
    tauri::Builder::default()
        .plugin(shortcut::plugin())
        .plugin(tauri_plugin_dialog::init())
        .manage(desktop)
        .invoke_handler(all_commands!())
        .setup(|app| {
            let handle = app.handle();
            // Started in the tray (at login, or again after a lock there):
            // no window until one is asked for; without a tray, the window.
            let in_tray = restart::started_in_tray();
            if !in_tray {
                windows::create_main(handle)?;
                windows::create_quick_beside_main(handle)?;
            }
            let tray = tray::build(handle);
            if let Err(e) = &tray {
                // No tray host (some desktops): the app works without it.
                eprintln!("tessera-desktop: no tray icon: {e}");
            }
            if in_tray {
                if tray.is_ok() {
                    windows::stay_in_tray();
                } else {
                    windows::create_main(handle)?;
                    windows::create_quick_beside_main(handle)?;
                }
            }
            let settings = handle.state::<Desktop>().settings();
            shortcut::register(handle, &settings.quick_access_shortcut, shortcut::Purpose::QuickAccess);
            shortcut::register(handle, &settings.auto_type_shortcut, shortcut::Purpose::AutoType);
            handle.manage(autotype::AutoTypeState::default());
            autolock::start(handle);
            attachments::setup(handle);
            handle.manage(browser::Browser::new(handle));
            browser::start_if_enabled(handle);
            agents::start(handle);
            sync::start(handle);
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == windows::QUICK {
                    api.prevent_close();
                    let _ = window.hide();
                } else {
                    api.prevent_close();
                    let app = window.app_handle();
                    // With "keep running in the tray" (and a tray to come
                    // back from) the window goes to the tray; otherwise
                    // closing it quits, as in KeePassXC, locking on the way.
                    if app.state::<Desktop>().settings().close_to_tray && tray::exists(app) {
                        windows::close_to_tray(app);
                    } else {
                        quit(app);
                    }
                }
            }
        })
        .build(tauri::generate_context!())?
        .run(|_app, event| {
            // The last window closing (released in the tray) is not the
            // end of the app; `quit` exits with a code, which goes through.
            if let tauri::RunEvent::ExitRequested { code: None, api, .. } = event {
                api.prevent_exit();
            }
        });
    Ok(())
}
