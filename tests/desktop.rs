//! The desktop app end to end: the real `tessera-desktop` binary in a
//! private X server and session bus, driven through its web view with W3C
//! WebDriver (`tauri-driver` + `WebKitWebDriver`), elements found by the
//! `data-testid`s of ui/API.md.
//!
//! What is checked beyond the web view is checked where a user would see
//! it: the X clipboard (`xclip`), the global shortcut (`xdotool`), the
//! screen-lock signal on the session bus (`dbus-send`), the vault and the
//! settings file on disk.
//!
//! Screenshots of every screen, light and dark, are written to
//! `$TESSERA_SCREENSHOTS/{light,dark}/NAME.png` (to refresh the docs:
//! `TESSERA_SCREENSHOTS=docs/screenshots`), else to a temporary directory.
//!
//! Needs `target/<profile>/tessera-desktop` (`cargo build -p tessera-desktop`;
//! `make test` builds it) and `tauri-driver` (`cargo install tauri-driver --locked`).

use std::time::{Duration, Instant};

use serde_json::json;
use tessera_test_support::app::*;
use tessera_test_support::webdriver::keys;

/// Every main-window screen, and Quick Access, photographed in `theme`.
/// Expects GitHub live and one item in the trash.
fn tour(app: &mut App, shots: &Shots, theme: &str, github: &str) {
    app.switch_main();
    app.click("nav-items");
    app.search("", 3);
    app.shot(shots, theme, "list");

    let rows = app.search("GitHub", 1);
    app.open(&rows[0].0);
    app.check(rows[0].0 == github, || "GitHub's id changed".into());
    app.wait_attr("totp-code", "data-code", SHORT, |c| c.len() == 6);
    app.shot(shots, theme, "item-view");

    app.click("item-edit-button");
    app.screen("editor", SHORT);
    app.check(app.value("editor-title") == "GitHub", || "the editor did not load GitHub".into());
    app.shot(shots, theme, "editor");
    app.click("editor-cancel");
    app.wait_gone("editor", SHORT);
    app.screen("item-view", SHORT);

    app.click("nav-generator");
    app.screen("generator-panel", SHORT);
    app.wait("a generated password", SHORT, || {
        let el = app.wd.find(&sel("generator-value")).ok()??;
        (!app.wd.text(&el).ok()?.is_empty()).then_some(())
    });
    app.shot(shots, theme, "generator");

    app.click("nav-health");
    app.screen("health-screen", SHORT);
    // "Forum" has a weak password.
    app.wait("the weak password in the health report", SHORT, || {
        let el = app.wd.find(&sel("health-weak")).ok()??;
        app.wd.text(&el).ok()?.contains("Forum").then_some(())
    });
    app.shot(shots, theme, "health");

    app.click("nav-trash");
    app.screen("trash-screen", SHORT);
    app.wait_attr("item-list", "data-total", SHORT, |t| t == "1");
    app.click("item-row");
    app.screen("trash-restore", SHORT);
    app.shot(shots, theme, "trash");

    app.click("nav-audit");
    app.screen("audit-screen", SHORT);
    app.el_css(&format!("{}[data-event=\"vault_created\"]", sel("audit-entry")), SHORT);
    app.shot(shots, theme, "audit-log");

    app.click("nav-settings");
    app.screen("settings-screen", SHORT);
    app.el("settings-theme");
    app.shot(shots, theme, "settings");

    app.click("help-button");
    app.screen("shortcut-help", SHORT);
    app.shot(shots, theme, "shortcut-help");
    let help = app.el("shortcut-help");
    app.ok(app.wd.send_keys(&help, keys::ESCAPE), "Esc in the shortcut help");
    app.wait_gone("shortcut-help", SHORT);

    app.click("nav-items");
    app.click("lock-button");
    app.screen("unlock-screen", SHORT);
    app.shot(shots, theme, "unlock");
    app.unlock();

    app.show_quick();
    app.quick_search("", 3);
    let want = if theme == "dark" { "dark" } else { "light" };
    let got = app.page_theme();
    app.check(got == want, || format!("Quick Access has theme {got:?}, expected {want:?}"));
    app.shot(shots, theme, "quick-access");
    let search = app.el("quick-search");
    app.ok(app.wd.send_keys(&search, keys::ESCAPE), "Esc in Quick Access");
    app.wait("Esc to hide Quick Access", SHORT, || (!app.desktop.window_visible(QUICK_TITLE)).then_some(()));
    app.switch_main();
}

/// The whole story of ui/API.md on one app: first run, items, search,
/// TOTP, clipboard, lock, screen lock, Quick Access, no secret in the web
/// layer, and screenshots of every screen in both themes.
#[test]
fn desktop_app_end_to_end() {
    let _serial = serial();
    let shots = Shots::from_env();
    let mut app = App::start(|d| write_config(d, None, json!({ "theme": "light" })));
    let t = Instant::now();
    let step = |name: &str| eprintln!("[desktop] {:>5.1} s  {name}", t.elapsed().as_secs_f64());

    // 1. First run.
    step("first run");
    let vault = app.desktop.dir().join("vaults/personal.tessera");
    app.create_vault(Some(&vault), &shots, "light");
    app.check(vault.is_file(), || format!("no vault file at {}", vault.display()));
    let config = app.config();
    app.check(config["vaultPath"] == json!(vault), || format!("desktop.json does not remember the vault: {config}"));
    app.check(app.exists("item-list-empty"), || "a new vault should show the empty list".into());

    // 2. Items.
    step("add items");
    let github = app.add(&GITHUB, |_| {});
    let email = app.add(&EMAIL, |_| {});
    let forum = app.add(&FORUM, |_| {});
    let wifi = app.add(&WIFI, |_| {});
    app.check([&github, &email, &forum, &wifi].iter().all(|id| id.len() == 32), || "ids are 32 hex chars".into());

    // 3. Search.
    step("search");
    let rows = app.search("git", 1);
    app.check(rows[0] == (github.clone(), "GitHub".to_owned()), || format!("searching 'git' gave {rows:?}"));
    let count = app.text("item-count");
    app.check(count == "1", || format!("item-count says {count:?}"));
    app.search("zzz-nothing", 0);
    app.screen("item-list-empty", SHORT);
    let all = app.search("", 4);
    let titles: Vec<&str> = all.iter().map(|(_, t)| t.as_str()).collect();
    app.check(titles == ["Email", "Forum", "GitHub", "Wi-Fi at home"], || format!("title order: {titles:?}"));

    // 4. The TOTP code is RFC 6238's.
    step("totp");
    app.search("GitHub", 1);
    app.open(&github);
    let username = app.text("item-username");
    app.check(username == GITHUB.username, || format!("item-username is {username:?}"));
    let code = app.wait_attr("totp-code", "data-code", SHORT, |c| c.len() == 6);
    let expected = totp_codes_around(TOTP_SECRET, unix_now());
    app.check(expected.contains(&code), || format!("totp-code {code} is none of {expected:?} (RFC 6238 by oathtool)"));
    let remaining = app.text("totp-remaining");
    let secs: u64 = remaining.trim_end_matches('s').parse().unwrap_or(99);
    app.check((1..=30).contains(&secs), || format!("totp-remaining says {remaining:?}"));

    // 5. Copying the password: marked secret, cleared after the timeout,
    // but not when the user copied something else meanwhile.
    step("clipboard");
    app.click("copy-password");
    app.wait_clipboard(Some(GITHUB.password), Duration::from_secs(5));
    let copied = Instant::now();
    let targets = app.desktop.clipboard_targets();
    app.check(targets.iter().any(|t| t == "x-kde-passwordManagerHint"), || {
        format!("the copied password is not marked secret; TARGETS: {targets:?}")
    });
    app.wait_toast(&format!("clears in {CLEAR_SECONDS} s"));
    app.wait_clipboard(None, Duration::from_secs(CLEAR_SECONDS + 7));
    let cleared_after = copied.elapsed();
    app.check(cleared_after >= Duration::from_millis(CLEAR_SECONDS * 1000 - 1500), || {
        format!("the clipboard was cleared after {cleared_after:?}, before the {CLEAR_SECONDS} s timeout")
    });
    app.click("copy-password");
    app.wait_clipboard(Some(GITHUB.password), Duration::from_secs(5));
    let mut other = app.desktop.set_clipboard("other");
    app.wait_clipboard(Some("other"), Duration::from_secs(5));
    let until = Instant::now() + Duration::from_secs(CLEAR_SECONDS + 2);
    while Instant::now() < until {
        let now = app.desktop.clipboard();
        app.check(now.as_deref() == Some("other"), || {
            format!("the app cleared or changed what the user copied after it: clipboard holds {now:?}")
        });
        std::thread::sleep(Duration::from_millis(250));
    }
    let _ = other.kill();
    let _ = other.wait();

    // 6. Lock and unlock: button, wrong password, Ctrl+L, Enter.
    step("lock");
    app.click("lock-button");
    app.screen("unlock-screen", SHORT);
    app.check(!app.exists("main-screen"), || "the main screen is still mounted while locked".into());
    let locked = app.invoke("search_items", json!({"query": "", "scope": "live", "offset": 0, "limit": 10}));
    app.check(locked.as_ref().is_err_and(|e| e["kind"] == "locked"), || format!("search while locked: {locked:?}"));
    app.type_into("unlock-password", "not the password");
    app.click("unlock-submit");
    app.el_css(&sel("unlock-error"), KDF);
    app.check(app.exists("unlock-screen"), || "a wrong password unlocked".into());
    app.replace("unlock-password", MASTER);
    app.click("unlock-submit");
    app.screen("main-screen", KDF);
    app.wait_attr("item-list", "data-total", SHORT, |t| t == "4");
    app.chord_on("search-input", &[keys::CONTROL, "l"]);
    app.screen("unlock-screen", SHORT);
    app.unlock();
    app.wait_attr("item-list", "data-total", SHORT, |t| t == "4");

    // 7. The screen-lock signal on the session bus locks.
    step("screen lock");
    app.screen_lock_signal();
    app.screen("unlock-screen", Duration::from_secs(5));
    // Every window heard it: Quick Access dropped its results.
    app.switch_quick();
    app.screen("quick-locked", SHORT);
    app.check(app.count("quick-result") == 0, || "Quick Access keeps results while locked".into());
    app.switch_main();
    app.unlock();

    // 8. Quick Access: the global shortcut, Enter copies the password,
    // Ctrl+U the username.
    step("quick access");
    app.show_quick();
    let ids = app.quick_search("Email", 1);
    app.check(ids == [email.clone()], || format!("Quick Access found {ids:?} for Email"));
    let search = app.el("quick-search");
    app.ok(app.wd.send_keys(&search, keys::ENTER), "Enter in Quick Access");
    app.wait_clipboard(Some(EMAIL.password), Duration::from_secs(5));
    app.wait("Quick Access to hide after copying", SHORT, || (!app.desktop.window_visible(QUICK_TITLE)).then_some(()));
    app.show_quick();
    let ids = app.quick_search("GitHub", 1);
    app.check(ids == [github.clone()], || format!("Quick Access found {ids:?} for GitHub"));
    app.chord_on("quick-search", &[keys::CONTROL, "u"]);
    app.wait_clipboard(Some(GITHUB.username), Duration::from_secs(5));
    app.wait("Quick Access to hide after Ctrl+U", SHORT, || (!app.desktop.window_visible(QUICK_TITLE)).then_some(()));
    // Quick Access may search and copy, not read secrets (its capability).
    for (command, args) in [
        ("reveal_field", json!({"id": github, "field": {"kind": "password"}})),
        ("get_item_for_edit", json!({ "id": github })),
        ("get_item", json!({ "id": github })),
    ] {
        let denied = app.invoke(command, args);
        app.check(denied.as_ref().is_err_and(|e| e.as_str().is_some_and(|m| m.contains("not allowed"))), || {
            format!("Quick Access may call {command}: {denied:?}")
        });
    }
    let allowed = app.invoke("search_items", json!({"query": "", "scope": "live", "offset": 0, "limit": 20}));
    app.check(allowed.is_ok(), || format!("Quick Access may not search: {allowed:?}"));

    // 9. No secret in what the web layer gets, except on request.
    step("no secret in the web layer");
    app.switch_main();
    let secrets = [GITHUB.password, EMAIL.password, FORUM.password, TOTP_SECRET, WIFI.notes, "otpauth"];
    let page = app.invoke("search_items", json!({"query": "", "scope": "live", "offset": 0, "limit": 100}));
    let page = page.unwrap_or_else(|e| app.fail(format!("search_items failed: {e}")));
    app.check(page["total"] == json!(4), || format!("search_items: {page}"));
    let mut payloads = vec![page.to_string()];
    for id in [&github, &email, &forum, &wifi] {
        let item = app.invoke("get_item", json!({ "id": id }));
        payloads.push(item.unwrap_or_else(|e| app.fail(format!("get_item failed: {e}"))).to_string());
    }
    for payload in &payloads {
        for secret in secrets {
            let lower = secret.to_lowercase();
            app.check(!payload.to_lowercase().contains(&lower), || format!("{secret:?} leaked into {payload}"));
        }
    }
    let revealed = app.invoke("reveal_field", json!({"id": github, "field": {"kind": "password"}}));
    app.check(revealed == Ok(json!(GITHUB.password)), || format!("reveal_field gave {revealed:?}"));
    let revealed = app.invoke("reveal_field", json!({"id": wifi, "field": {"kind": "notes"}}));
    app.check(revealed == Ok(json!(WIFI.notes)), || format!("reveal_field notes gave {revealed:?}"));
    app.search("GitHub", 1);
    app.open(&github);
    app.click("reveal-password");
    let shown = app.text("revealed-password");
    app.check(shown == GITHUB.password, || format!("revealed-password shows {shown:?}"));
    app.click("reveal-password");
    app.wait_gone("revealed-password", SHORT);

    // Trash the note (and check Undo is offered) for the trash screen.
    step("trash");
    app.search("Wi-Fi", 1);
    app.open(&wifi);
    app.click("item-trash-button");
    app.el("toast-action");
    app.search("", 3);

    // 10. Every screen, light and dark.
    step("screenshots, light");
    tour(&mut app, &shots, "light", &github);
    step("switch to the dark theme");
    app.click("nav-settings");
    app.click_css(&format!("{} option[value=\"dark\"]", sel("settings-theme")));
    app.wait("the dark theme on the main window", SHORT, || (app.page_theme() == "dark").then_some(()));
    let theme = app.config()["settings"]["theme"].clone();
    app.check(theme == json!("dark"), || format!("desktop.json has theme {theme}"));
    step("screenshots, dark");
    tour(&mut app, &shots, "dark", &github);
    step("done");
    eprintln!("[desktop] screenshots in {}", shots.root.display());
}

/// First run with the suggested path and the dark theme, then unlocking
/// with the recovery code.
#[test]
fn first_run_in_dark_then_unlock_with_the_recovery_code() {
    let _serial = serial();
    let shots = Shots::from_env();
    let app = App::start(|d| write_config(d, None, json!({ "theme": "dark" })));
    app.screen("first-run-screen", SHORT);
    let theme = app.page_theme();
    app.check(theme == "dark", || format!("the theme from desktop.json is not applied: {theme:?}"));
    let default = app.desktop.data_home().join("tessera/vault.tessera");
    let suggested = app.value("first-run-path");
    app.check(suggested == default.to_str().unwrap(), || {
        format!("first-run-path suggests {suggested:?}, expected {}", default.display())
    });
    let groups = app.create_vault(None, &shots, "dark");
    app.check(default.is_file(), || format!("no vault at the default path {}", default.display()));
    app.screen("item-list-empty", SHORT);

    app.click("lock-button");
    app.screen("unlock-screen", SHORT);
    app.click("unlock-use-recovery");
    app.type_into("unlock-recovery-code", &groups.join("-"));
    app.click("unlock-recovery-submit");
    app.screen("main-screen", SHORT);
    let log = app.invoke("audit_log", json!({"beforeSeq": null, "limit": 50}));
    let log = log.unwrap_or_else(|e| app.fail(format!("audit_log failed: {e}")));
    app.check(log["entries"].as_array().is_some_and(|e| !e.is_empty()), || format!("audit_log: {log}"));
}

/// A vault made by the CLI opens in the app; with "lock when the screen
/// locks" off the signal is ignored, and turning it on in Settings takes
/// effect at once (and is saved).
#[test]
fn cli_vault_and_the_screen_lock_setting() {
    let _serial = serial();
    let vault = tessera_test_support::TestVault::new();
    let id = vault.add_login("Router", "admin");
    let app = App::start(|d| write_config(d, Some(&vault.path), json!({ "lockOnScreenLock": false })));
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", tessera_test_support::PASSWORD);
    app.click("unlock-submit");
    app.screen("main-screen", KDF);
    let rows = app.search("", 1);
    app.check(rows == [(id.clone(), "Router".to_owned())], || format!("the CLI's item is not listed: {rows:?}"));

    app.screen_lock_signal();
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        app.check(app.exists("main-screen"), || "the screen-lock signal locked though the setting is off".into());
        std::thread::sleep(Duration::from_millis(100));
    }

    app.click("nav-settings");
    let toggle = app.el("settings-lock-on-screen-lock");
    let checked = app.ok(app.wd.property(&toggle, "checked"), "checked");
    app.check(checked == json!(false), || format!("the setting shows {checked}"));
    app.click("settings-lock-on-screen-lock");
    app.wait("lockOnScreenLock saved in desktop.json", SHORT, || {
        (app.config()["settings"]["lockOnScreenLock"] == json!(true)).then_some(())
    });
    app.screen_lock_signal();
    app.screen("unlock-screen", Duration::from_secs(5));

    // logind, on the bus the app takes for the system bus: PrepareForSleep
    // and a session's Lock each lock the vault.
    let logind = zbus::blocking::connection::Builder::address(app.desktop.bus_address())
        .and_then(|b| b.name("org.freedesktop.login1"))
        .and_then(|b| b.build())
        .unwrap_or_else(|e| panic!("cannot play logind on the test bus: {e}"));
    for (path, interface, member, body) in [
        ("/org/freedesktop/login1", "org.freedesktop.login1.Manager", "PrepareForSleep", Some(true)),
        ("/org/freedesktop/login1/session/_31", "org.freedesktop.login1.Session", "Lock", None),
    ] {
        app.replace("unlock-password", tessera_test_support::PASSWORD);
        app.click("unlock-submit");
        app.screen("main-screen", KDF);
        let sent = match body {
            Some(b) => logind.emit_signal(None::<&str>, path, interface, member, &(b,)),
            None => logind.emit_signal(None::<&str>, path, interface, member, &()),
        };
        app.check(sent.is_ok(), || format!("cannot send {member}: {sent:?}"));
        app.screen("unlock-screen", Duration::from_secs(5));
    }
}
