//! The global Quick Access shortcut (default Ctrl+Shift+Space).

use tauri::AppHandle;
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutState};

use crate::error::{CommandError, CommandResult};

pub fn plugin() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(|app, _shortcut, event| {
            if event.state == ShortcutState::Pressed {
                crate::windows::show_quick(app);
            }
        })
        .build()
}

fn parse(accelerator: &str) -> CommandResult<Shortcut> {
    accelerator
        .parse::<Shortcut>()
        .map_err(|e| CommandError::invalid(format!("{accelerator:?} is not a shortcut Tessera understands: {e}")))
}

/// Registers the shortcut at start; a taken one is reported, not fatal.
pub fn register(app: &AppHandle, accelerator: &str) {
    let result = parse(accelerator).and_then(|s| {
        app.global_shortcut()
            .register(s)
            .map_err(|e| CommandError::invalid(format!("Cannot register {accelerator}: {e}")))
    });
    if let Err(e) = result {
        eprintln!("tessera-desktop: Quick Access has no global shortcut: {}", e.message);
    }
}

/// Swaps the shortcut; on failure the old one stays registered.
pub fn replace(app: &AppHandle, old: &str, new: &str) -> CommandResult<()> {
    let new_shortcut = parse(new)?;
    let gs = app.global_shortcut();
    if let Ok(old_shortcut) = parse(old) {
        let _ = gs.unregister(old_shortcut);
    }
    if let Err(e) = gs.register(new_shortcut) {
        if let Ok(old_shortcut) = parse(old) {
            let _ = gs.register(old_shortcut);
        }
        return Err(CommandError::invalid(format!(
            "Cannot use {new} as the Quick Access shortcut (another program may hold it): {e}"
        )));
    }
    Ok(())
}
