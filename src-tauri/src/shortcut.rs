//! The global shortcuts: Quick Access (default Ctrl+Shift+Space) and
//! auto-type (default Ctrl+Alt+A, as in KeePassXC).

use tauri::{AppHandle, Manager};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutState};

use crate::desktop::Desktop;
use crate::error::{CommandError, CommandResult};

/// What a global shortcut does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    QuickAccess,
    AutoType,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::QuickAccess => "Quick Access",
            Purpose::AutoType => "auto-type",
        }
    }
}

pub fn plugin() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(|app, shortcut, event| {
            if event.state != ShortcutState::Pressed {
                return;
            }
            let auto_type = app.state::<Desktop>().settings().auto_type_shortcut;
            if parse(&auto_type).is_ok_and(|s| s.id() == shortcut.id()) {
                crate::autotype::on_shortcut(app);
            } else {
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

/// Registers a shortcut at start; a taken one is reported, not fatal.
pub fn register(app: &AppHandle, accelerator: &str, purpose: Purpose) {
    let result = parse(accelerator).and_then(|s| {
        app.global_shortcut()
            .register(s)
            .map_err(|e| CommandError::invalid(format!("Cannot register {accelerator}: {e}")))
    });
    if let Err(e) = result {
        eprintln!("tessera-desktop: {} has no global shortcut: {}", purpose.name(), e.message);
    }
}

/// Swaps a shortcut; on failure the old one stays registered.
pub fn replace(app: &AppHandle, old: &str, new: &str, purpose: Purpose) -> CommandResult<()> {
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
            "Cannot use {new} as the {} shortcut (another program may hold it): {e}",
            purpose.name()
        )));
    }
    Ok(())
}
