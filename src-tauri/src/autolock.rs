//! Auto-lock: after idle time, and on system sleep and screen lock, which
//! arrive as D-Bus signals (logind's `PrepareForSleep` and `Lock` on the
//! system bus; `ActiveChanged` of the freedesktop, GNOME, MATE and Cinnamon
//! screensavers on the session bus). Locking drops the vault, which
//! zeroizes its keys, and every window shows the unlock screen.

use std::time::Duration;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};

use crate::desktop::Desktop;

#[derive(Clone, Serialize)]
struct Locked {
    reason: &'static str,
    /// The windows are about to be replaced (their web process ends with
    /// them): the page shows a plain "locked" placeholder, and the unlock
    /// screen appears in the new window.
    renew: bool,
}

/// Locks and tells every window. `always_emit`: the lock command reports
/// even when the vault was locked already.
pub fn lock_app(app: &AppHandle, reason: &'static str, always_emit: bool) {
    let desktop = app.state::<Desktop>();
    let was_unlocked = desktop.lock();
    // A password still on the clipboard goes with the keys.
    if desktop.clipboard.clear_if_unchanged(None) {
        let _ = app.emit("clipboard-cleared", ());
    }
    // Not on the way out: the processes end with the app.
    let renew = was_unlocked && reason != "quit" && crate::windows::RENEWS_WEB_CONTENT;
    if was_unlocked || always_emit {
        let _ = app.emit("vault-locked", Locked { reason, renew });
    }
    crate::tray::refresh(app);
    if was_unlocked {
        crate::browser::on_lock(app);
        crate::agents::on_lock(app);
        crate::sync::on_lock(app);
        if renew {
            crate::windows::renew_web_content(app);
        }
    }
}

/// Whether `idle` has reached the auto-lock time (0 minutes: never).
pub fn idle_expired(idle: Duration, minutes: u32) -> bool {
    minutes > 0 && idle >= Duration::from_secs(u64::from(minutes) * 60)
}

pub fn start(app: &AppHandle) {
    let idle_app = app.clone();
    let _ = std::thread::Builder::new().name("auto-lock".into()).spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let desktop = idle_app.state::<Desktop>();
            if desktop.is_unlocked() && idle_expired(desktop.idle_for(), desktop.settings().auto_lock_minutes) {
                lock_app(&idle_app, "idle", false);
            }
        }
    });
    let session_app = app.clone();
    let _ = std::thread::Builder::new().name("screensaver-signals".into()).spawn(move || {
        if let Err(e) = watch_session_bus(&session_app) {
            eprintln!("tessera-desktop: not watching for screen lock on the session bus: {e}");
        }
    });
    let system_app = app.clone();
    let _ = std::thread::Builder::new().name("logind-signals".into()).spawn(move || {
        if let Err(e) = watch_system_bus(&system_app) {
            eprintln!("tessera-desktop: not watching for sleep and session lock on the system bus: {e}");
        }
    });
}

const SCREENSAVERS: [&str; 4] =
    ["org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver", "org.mate.ScreenSaver", "org.cinnamon.ScreenSaver"];

fn watch_session_bus(app: &AppHandle) -> zbus::Result<()> {
    let conn = zbus::blocking::Connection::session()?;
    let rule = zbus::MatchRule::builder().msg_type(zbus::message::Type::Signal).member("ActiveChanged")?.build();
    for msg in zbus::blocking::MessageIterator::for_match_rule(rule, &conn, Some(64))? {
        let Ok(msg) = msg else { continue };
        let header = msg.header();
        let from_screensaver = header.interface().is_some_and(|i| SCREENSAVERS.contains(&i.as_str()));
        let active = from_screensaver && msg.body().deserialize::<bool>().unwrap_or(false);
        if active && app.state::<Desktop>().settings().lock_on_screen_lock {
            lock_app(app, "screen-lock", false);
        }
    }
    Ok(())
}

fn watch_system_bus(app: &AppHandle) -> zbus::Result<()> {
    let conn = zbus::blocking::Connection::system()?;
    let rule =
        zbus::MatchRule::builder().msg_type(zbus::message::Type::Signal).sender("org.freedesktop.login1")?.build();
    for msg in zbus::blocking::MessageIterator::for_match_rule(rule, &conn, Some(64))? {
        let Ok(msg) = msg else { continue };
        let header = msg.header();
        let member = header.member().map(|m| m.as_str().to_owned());
        let interface = header.interface().map(|i| i.as_str().to_owned());
        let settings = app.state::<Desktop>().settings();
        let reason = match (interface.as_deref(), member.as_deref()) {
            (Some("org.freedesktop.login1.Manager"), Some("PrepareForSleep")) => {
                (settings.lock_on_sleep && msg.body().deserialize::<bool>().unwrap_or(false)).then_some("sleep")
            }
            // Any session's lock: locking once too often is the safe mistake.
            (Some("org.freedesktop.login1.Session"), Some("Lock")) => {
                settings.lock_on_screen_lock.then_some("screen-lock")
            }
            _ => None,
        };
        if let Some(reason) = reason {
            lock_app(app, reason, false);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_lock_respects_the_setting() {
        assert!(!idle_expired(Duration::from_secs(10_000), 0));
        assert!(!idle_expired(Duration::from_secs(299), 5));
        assert!(idle_expired(Duration::from_secs(300), 5));
    }
}
