//! Attachments in the real app: files dropped on an item, opened with the
//! system's handler through a private temporary copy, and the 25 MiB
//! limit explained.
//!
//! A drop arrives in the web view as Tauri's `tauri://drag-enter` and
//! `tauri://drag-drop` events (paths, no content); the test emits the same
//! events from the page (an X drag-and-drop cannot be driven here), so the
//! drop zone, the `attach_files` command and Rust's checks all run as for a
//! real drop. The handler is a stand-in `xdg-open` first on the app's PATH
//! (`~/.local/bin` of the private HOME) that records the path it was given
//! and copies what it found there, so the test checks what a viewer would
//! have received, the copy's modes while it is open, and that locking
//! removes it.
//!
//! Screenshots of the attachment list and the drop zone, light and dark,
//! go to `$TESSERA_SCREENSHOTS/{light,dark}/` like tests/desktop.rs's.
//!
//! Needs what tests/desktop.rs needs (`tessera-desktop`, `tauri-driver`,
//! Xvfb) and `tessera` for the vault.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::json;
use tessera_test_support::app::*;
use tessera_test_support::{PASSWORD, TestVault};

const REPORT: &str = "quarterly report.txt";
const REPORT_TEXT: &str = "Q3: harbour lights up 12 %, lantern sales flat.\n";

/// The stand-in handler: appends the path it was given to
/// `~/xdg-open.log` and copies the file to `~/xdg-open.copy`.
const FAKE_XDG_OPEN: &str = r#"#!/bin/sh
# Stands in for the desktop's file handler in tests/desktop_attachments.rs.
cp -- "$1" "$HOME/xdg-open.copy"
printf '%s\n' "$1" >> "$HOME/xdg-open.log"
"#;

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
}

/// Emits one of Tauri's drag-and-drop events from the page, as the window
/// does when files are dragged over it.
fn drag_event(app: &App, event: &str, paths: &[&Path]) {
    let payload = json!({ "paths": paths, "position": { "x": 600, "y": 300 } });
    let r = app.invoke("plugin:event|emit", json!({ "event": event, "payload": payload }));
    app.check(r.is_ok(), || format!("emitting {event} failed: {r:?}"));
}

/// Starts the app on `vault` with the stand-in `xdg-open`, unlocks it and
/// opens the item `id`.
fn start(vault: &TestVault, theme: &str, id: &str) -> App {
    let app = App::start(|d| {
        std::fs::create_dir_all(d.local_bin()).expect("create ~/.local/bin");
        let script = d.local_bin().join("xdg-open");
        std::fs::write(&script, FAKE_XDG_OPEN).expect("write the stand-in xdg-open");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod xdg-open");
        write_config(d, Some(&vault.path), json!({ "theme": theme }));
    });
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", PASSWORD);
    app.click("unlock-submit");
    app.screen("main-screen", KDF);
    app.search("", 1);
    app.open(id);
    app
}

#[test]
fn dropped_files_attach_open_privately_and_go_at_lock_and_too_large_is_explained() {
    let _serial = serial();
    let shots = Shots::from_env();
    for theme in ["light", "dark"] {
        attachments_in_the_app(&shots, theme);
    }
    eprintln!("[desktop-attachments] screenshots in {}", shots.root.display());
}

fn attachments_in_the_app(shots: &Shots, theme: &str) {
    let vault = TestVault::new();
    let id = vault.add_login("Harbour office", "ada");
    let files = tempfile::tempdir().expect("a temporary directory");
    let report = files.path().join(REPORT);
    std::fs::write(&report, REPORT_TEXT).expect("write the report");
    // One byte over would read "25.0 MiB"; a whole MiB over reads clearly.
    let big = files.path().join("backup.tar");
    std::fs::File::create(&big).and_then(|f| f.set_len(26 * 1024 * 1024)).expect("a sparse 26 MiB file");

    let app = start(&vault, theme, &id);

    // The limit is said before anything is attached.
    let hint = app.text("attachment-limit");
    app.check(hint.contains("Up to 25 MiB each"), || format!("the attachment hint reads {hint:?}"));

    // Dragging over the item shows where the files go, and the limit.
    drag_event(&app, "tauri://drag-enter", &[&report]);
    let zone = app.text("attachment-drop-zone");
    app.check(zone.contains("Drop to attach to “Harbour office”") && zone.contains("Up to 25 MiB each"), || {
        format!("the drop zone reads {zone:?}")
    });
    app.shot(shots, theme, "attachment-drop-zone");

    // Dropping attaches it.
    drag_event(&app, "tauri://drag-drop", &[&report]);
    app.wait_gone("attachment-drop-zone", SHORT);
    app.el_css(&format!("{}[data-name=\"{REPORT}\"]", sel("item-attachment")), SHORT);
    app.wait_toast("File attached");
    let shown = vault.json(&["show", &id]);
    app.check(shown["attachments"] == json!([{ "name": REPORT, "size": REPORT_TEXT.len() }]), || {
        format!("the vault holds attachments {}", shown["attachments"])
    });
    app.shot(shots, theme, "attachments");

    // Too large: refused with its name and the limit, nothing attached.
    drag_event(&app, "tauri://drag-enter", &[&big]);
    drag_event(&app, "tauri://drag-drop", &[&big, &report]);
    app.wait_toast("“backup.tar” is 26.0 MiB: an attachment can be at most 25 MiB.");
    app.check(app.count("item-attachment") == 1, || "a refused drop attached something".into());

    // Open: the handler gets a private copy with the attachment's content.
    let home = app.desktop.dir().join("home");
    app.click_css(&format!("{}[data-name=\"{REPORT}\"]", sel("open-attachment")));
    let given = app.wait("the stand-in xdg-open to run", SHORT, || {
        let log = std::fs::read_to_string(home.join("xdg-open.log")).ok()?;
        log.lines().last().map(PathBuf::from).filter(|_| home.join("xdg-open.copy").exists())
    });
    let received = std::fs::read_to_string(home.join("xdg-open.copy")).unwrap_or_default();
    app.check(received == REPORT_TEXT, || format!("the handler read {received:?}"));
    app.check(given.file_name().is_some_and(|n| n == REPORT), || format!("the copy is named {given:?}"));
    let dir = given.parent().expect("the copy's directory").to_path_buf();
    let base = app.desktop.runtime_dir().join("tessera-attachments");
    app.check(dir.parent() == Some(base.as_path()), || format!("the copy {given:?} is not under {base:?}"));
    app.check(mode(&given) == 0o600, || format!("the copy has mode {:o}", mode(&given)));
    app.check(mode(&dir) == 0o700 && mode(&base) == 0o700, || {
        format!("the copy's directories have modes {:o} and {:o}", mode(&dir), mode(&base))
    });
    let on_disk = std::fs::read_to_string(&given).unwrap_or_default();
    app.check(on_disk == REPORT_TEXT, || "the copy is gone or changed while open".into());

    // Locking removes the copy and its directory. (Checked on disk: the
    // lock may end the page's web process, and the WebDriver session with it.)
    app.click("lock-button");
    app.wait("the opened copy to be removed at lock", SHORT, || (!given.exists() && !dir.exists()).then_some(()));
}
