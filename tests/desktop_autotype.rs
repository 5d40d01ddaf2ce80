//! Auto-type from the real app: `tessera-desktop` on a private Xvfb beside
//! an `xterm` that records what it receives (`support/key_reader.rs`).
//! Items get a window rule matching the xterm's title in the app's editor;
//! the test focuses the xterm, presses the global shortcut with `xdotool
//! key` and reads back what arrived: exactly the login, `@` and non-ASCII
//! included. Two matching items bring up the chooser in Quick Access,
//! driven by keys alone; a locked vault types nothing.
//!
//! Screenshots of the editor's auto-type section and of the chooser, light
//! and dark, go to `$TESSERA_SCREENSHOTS/{light,dark}/` like
//! tests/desktop.rs's. Needs what tests/desktop.rs needs and `xterm`.

use std::time::Duration;

use serde_json::json;
use tessera_test_support::app::*;
use tessera_test_support::key_reader::{KeyReader, READER_TITLE};
use tessera_test_support::{PASSWORD, TestVault};

/// The rule both items carry: it matches the reader's title, and nothing
/// of the items (title, URL) would match it otherwise.
const RULE: &str = "*autotype-reader*";
const SHORTCUT: &str = "ctrl+alt+a";

const FIRST: Entry = Entry {
    kind: "login",
    title: "Shell account",
    username: "ädmin@tessera",
    password: "Pä@ss-wörd€!",
    url: "",
    otp: "",
    notes: "",
};
const SECOND: Entry = Entry {
    kind: "login",
    title: "Second shell",
    username: "second-user",
    password: "zweites@Passwort-ß",
    url: "",
    otp: "",
    notes: "",
};

fn typed(e: &Entry) -> String {
    format!("{}\t{}\r", e.username, e.password)
}

/// Adds `e` in the editor with the window rule; photographs the section
/// when `shot` names the picture.
fn add_with_rule(app: &App, e: &Entry, shot: Option<(&Shots, &str)>) -> String {
    app.add(e, |app| {
        app.click("editor-autotype-add-rule");
        app.type_into("editor-autotype-window-0", RULE);
        if let Some((shots, theme)) = shot {
            let script =
                "document.querySelector('[data-testid=\"editor-autotype\"]').scrollIntoView({block: 'center'});";
            app.ok(app.wd.execute(script, vec![]), "scroll to the auto-type section");
            app.shot(shots, theme, "autotype-editor");
        }
    })
}

/// Focuses the xterm and presses the auto-type shortcut.
/// Waits until the X keyboard focus is on Quick Access (the app gives it
/// the chooser; with no window manager that lands a moment after it shows),
/// so the keys the test presses go to the chooser.
fn keyboard_on_chooser(app: &App) {
    app.wait("the keyboard focus on the chooser", SHORT, || {
        let quick = app.desktop.visible_windows(QUICK_TITLE);
        let out = app.desktop.run("xdotool", &["getwindowfocus"]);
        let focused = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        quick.contains(&focused).then_some(())
    });
}

fn press_shortcut(app: &App, reader: &KeyReader<&tessera_test_support::webdriver::Desktop>) {
    reader.clear();
    reader.focus(reader.window);
    app.desktop.xdotool_key(SHORTCUT);
}

fn wait_typed(app: &App, reader: &KeyReader<&tessera_test_support::webdriver::Desktop>, want: &str) {
    let got = reader.wait_for_chars(want.chars().count(), Duration::from_secs(15));
    // Nothing more arrives after it.
    std::thread::sleep(Duration::from_millis(300));
    let got_all = reader.text();
    app.check(got == want && got_all == want, || {
        format!("the xterm received {got_all:?}, expected {want:?} (first read {got:?})")
    });
}

#[test]
fn the_shortcut_types_the_matching_login_asks_when_two_match_and_types_nothing_locked() {
    let _serial = serial();
    let shots = Shots::from_env();
    for theme in ["light", "dark"] {
        auto_type_in_the_app(&shots, theme);
    }
    eprintln!("[desktop-autotype] screenshots in {}", shots.root.display());
}

fn auto_type_in_the_app(shots: &Shots, theme: &str) {
    let vault = TestVault::new();
    let app = App::start(|d| write_config(d, Some(&vault.path), json!({ "theme": theme })));
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", PASSWORD);
    app.click("unlock-submit");
    app.screen("main-screen", KDF);
    // One item matches: the shortcut types its login into the xterm
    // (started after the editor's picture, which it would cover).
    let first = add_with_rule(&app, &FIRST, Some((shots, theme)));
    let reader = KeyReader::start_on(&app.desktop);
    assert_eq!(READER_TITLE, "tessera-autotype-reader", "the rule {RULE} is written for this title");
    // A fresh xterm may drop the first keys: wait until it takes some.
    reader.focus(reader.window);
    app.desktop.xdotool_type("ready");
    let probe = reader.wait_for_chars(5, Duration::from_secs(10));
    app.check(probe == "ready", || format!("the fresh xterm received {probe:?} of \"ready\""));
    press_shortcut(&app, &reader);
    wait_typed(&app, &reader, &typed(&FIRST));

    // Two match: Quick Access asks which; ↓ and Enter choose the second,
    // and its login arrives in the xterm, which has the focus back.
    let second = add_with_rule(&app, &SECOND, None);
    press_shortcut(&app, &reader);
    app.wait("Quick Access to show the chooser", SHORT, || app.desktop.window_visible(QUICK_TITLE).then_some(()));
    // (`switch_quick` wants the app mutably, which the reader borrows.)
    app.window(true);
    app.on_quick.set(true);
    app.screen("autotype-chooser", SHORT);
    let window = app.text("autotype-window");
    app.check(window == READER_TITLE, || format!("the chooser names the window {window:?}"));
    let ids: Vec<String> = app
        .ok(app.wd.find_all(&sel("autotype-choice")), "the choices")
        .iter()
        .filter_map(|c| app.wd.attribute(c, "data-id").ok().flatten())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    let mut want_ids = vec![first.clone(), second.clone()];
    want_ids.sort();
    app.check(sorted == want_ids, || format!("the chooser lists {ids:?}, expected {want_ids:?}"));
    app.shot(shots, theme, "autotype-chooser");
    keyboard_on_chooser(&app);
    app.desktop.xdotool_key("Down");
    app.desktop.xdotool_key("Return");
    let chosen = if ids[1] == first { &FIRST } else { &SECOND };
    wait_typed(&app, &reader, &typed(chosen));
    app.wait("Quick Access to hide after the choice", SHORT, || {
        (!app.desktop.window_visible(QUICK_TITLE)).then_some(())
    });

    // Esc cancels the chooser: nothing is typed.
    press_shortcut(&app, &reader);
    app.wait("Quick Access to show the chooser again", SHORT, || app.desktop.window_visible(QUICK_TITLE).then_some(()));
    app.screen("autotype-chooser", SHORT);
    keyboard_on_chooser(&app);
    app.desktop.xdotool_key("Escape");
    app.wait("Quick Access to hide after Esc", SHORT, || (!app.desktop.window_visible(QUICK_TITLE)).then_some(()));
    std::thread::sleep(Duration::from_millis(500));
    let got = reader.text();
    app.check(got.is_empty(), || format!("Esc in the chooser still typed {got:?}"));

    // Locked: the shortcut shows Quick Access ("locked") and types nothing.
    // (The lock renews the app's windows; the test needs none of them.)
    app.switch_main();
    let locked = app.invoke("lock", json!({}));
    app.check(locked.is_ok(), || format!("lock: {locked:?}"));
    press_shortcut(&app, &reader);
    app.wait("Quick Access to show while locked", SHORT, || app.desktop.window_visible(QUICK_TITLE).then_some(()));
    std::thread::sleep(Duration::from_secs(1));
    let got = reader.text();
    app.check(got.is_empty(), || format!("the locked app typed {got:?}"));
    drop(reader);
}
