//! The desktop app's memory canary: after the user locks, no process of the
//! app (the Rust process, WebKit's web and network processes) holds any
//! secret the session saw — a password revealed, a password copied, notes
//! opened in the editor, notes typed in, the master password typed at the
//! unlock screen.
//!
//! Every process of the app is read through `/proc/PID/mem` (the test runs
//! as root; it skips otherwise) and searched for each marker in UTF-8,
//! UTF-16LE and Latin-1. The control is the same search while the vault is
//! still unlocked: it must find the markers, so a clean result after the
//! lock means they went, not that the search is blind.
//!
//! Secrets reach the app the way a user's would: typed as X key events
//! (`xdotool type`), never through WebDriver's send-keys or read back with
//! WebDriver's get-text, whose automation channel runs through the app's
//! own process and would leave copies the user's path never makes.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use tessera_test_support::app::*;
use tessera_test_support::memory::{hits_in, own_descendant, process_tree};
use tessera_test_support::webdriver::desktop_bin;
use tessera_test_support::{PASSWORD, TestVault, assert_success, stdout};

/// Revealed in the item view.
const REVEALED: &str = "Canary-Pw-Desk-4Rk9-Marigold-Quay";
/// The revealed item's notes, loaded by the editor.
const NOTES: &str = "Canary-Note-Desk-8Ln2-Juniper-Wharf";
/// Copied to the clipboard (and pasted by the test with xclip).
const COPIED: &str = "Canary-Pw-Copy-3Tb7-Saffron-Pier";
/// Typed into the editor's notes and saved.
const TYPED: &str = "Canary-Edit-Desk-6Vc1-Tamarind-Dock";

fn add(v: &TestVault, title: &str, password: &str, notes: &str) -> String {
    let file = v.dir.path().join(format!("{title}.secret"));
    std::fs::write(&file, password).unwrap();
    let out = v.run_fast(&[
        "add",
        "--title",
        title,
        "--username",
        "canary",
        "--secret-file",
        file.to_str().unwrap(),
        "--notes",
        notes,
    ]);
    assert_success(&out, "add");
    std::fs::remove_file(&file).unwrap();
    stdout(&out).trim().to_owned()
}

/// The pid of the `tessera-desktop` this test started.
fn app_pid(app: &App) -> u32 {
    let bin = desktop_bin().canonicalize().unwrap();
    own_descendant(&bin).unwrap_or_else(|| app.fail("no tessera-desktop process started by this test"))
}

fn report(found: &[(String, String, usize)]) -> String {
    found.iter().map(|(process, marker, n)| format!("  {n} × {marker} in {process}\n")).collect()
}

#[test]
fn no_secret_is_left_in_any_process_of_the_app_after_lock() {
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: cannot read another process's memory; skipped");
        return;
    }
    let _serial = serial();
    let v = TestVault::new();
    let revealed = add(&v, "Revealed", REVEALED, NOTES);
    let copied = add(&v, "Copied", COPIED, "");
    let app = App::start(|d| {
        write_config(d, Some(Path::new(&v.path)), json!({ "clipboardClearSeconds": 120, "autoLockMinutes": 0 }))
    });

    // The master password, typed.
    app.screen("unlock-screen", SHORT);
    app.click("unlock-password");
    app.desktop.xdotool_type(PASSWORD);
    app.desktop.xdotool_key("Return");
    app.screen("main-screen", KDF);
    app.search("", 2);

    // A password revealed; a password copied and pasted elsewhere.
    app.open(&revealed);
    app.click("reveal-password");
    app.el("revealed-password");
    app.open(&copied);
    app.click("copy-password");
    app.wait_clipboard(Some(COPIED), SHORT);

    // Notes opened in the editor, replaced by typed ones, saved.
    app.open(&revealed);
    app.click("item-edit-button");
    app.screen("editor", SHORT);
    app.click("editor-notes");
    app.desktop.xdotool_key("ctrl+a");
    app.desktop.xdotool_type(TYPED);
    app.click("editor-save");
    app.wait_gone("editor", SHORT);
    let out = v.run_fast(&["read", &format!("tessera://{revealed}/notes")]);
    assert_success(&out, "get notes");
    app.check(stdout(&out).trim() == TYPED, || "the typed notes were not saved".into());

    let markers = [REVEALED, NOTES, COPIED, TYPED, PASSWORD];
    let pid = app_pid(&app);

    // The control: unlocked, the app holds what it shows.
    let processes = process_tree(pid);
    let before = hits_in(&processes, &markers);
    eprintln!("[memory] unlocked, {} processes:\n{}", processes.len(), report(&before));
    for marker in [REVEALED, COPIED, TYPED] {
        app.check(before.iter().any(|(_, m, _)| m == marker), || {
            format!("the control found no copy of {marker} while unlocked: the search is blind\n{}", report(&before))
        });
    }

    app.click("lock-button");
    app.screen("unlock-screen", SHORT);
    std::thread::sleep(Duration::from_secs(5));

    let processes = process_tree(pid);
    let after = hits_in(&processes, &markers);
    eprintln!("[memory] locked 5 s, {} processes:\n{}", processes.len(), report(&after));
    app.check(after.is_empty(), || format!("secrets left in the app's memory after lock:\n{}", report(&after)));
    // The clipboard was cleared with the keys.
    app.wait_clipboard(None, SHORT);
}
