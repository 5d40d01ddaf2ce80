//! The sync account's everyday screens in the desktop app, end to end
//! (DESIGN §5, §6): a real `tessera-server` on 127.0.0.1, a real
//! `tessera-desktop` on its own X display, and a second device driven by
//! the `tessera` command line.
//!
//! The account is made on the command line with two-factor login and an
//! Emergency Kit saved as a PDF; a second device ("Laptop") is cloned from
//! it. Both change the title of one item before either syncs. The app then
//! opens the first vault and:
//! - lists the conflict copy sync made, beside its original (whose title
//!   is not the copy's: the title is what both changed), and settles it
//!   with "Keep this version"; the Laptop receives the result;
//! - revokes the Laptop from Settings, after which the Laptop cannot sync
//!   without signing in again (and its account wants a second factor);
//! - when the server has forgotten every session, asks for the master
//!   password and then the account's two-factor code, refusing a wrong one;
//! - signs out of sync.
//!
//! A second app signs in from its first-run screen with the Secret Key
//! read from the Emergency Kit PDF through the real open dialog, and a
//! recovery code as its second factor.
//!
//! Each new screen is photographed in both themes (`TESSERA_SCREENSHOTS`).
//!
//! Needs what tests/desktop_sync.rs needs, and `oathtool`.

use std::time::Duration;

use serde_json::{Value, json};
use tessera_test_support::app::*;
use tessera_test_support::server::TestServer;
use tessera_test_support::webdriver::keys;
use tessera_test_support::{PASSWORD, TestVault, assert_code, assert_success, stderr};

const ACCOUNT: &str = "alice@example.com";
/// The title of the app's dialog for choosing the Emergency Kit file.
const OPEN_KIT_TITLE: &str = "Open your Emergency Kit";

fn step(what: &str) {
    eprintln!("[desktop-sync-account] {what}");
}

/// How long background sync may take to do something it was woken for.
const CARRY: Duration = Duration::from_secs(60);

/// The TOTP code of `secret` `ahead` seconds from now. The server takes
/// each time step once, and a step either side of its clock: switched on
/// with the current step's code, the account takes the next step's code at
/// any later time, however soon.
fn totp(secret: &str, ahead: u64) -> String {
    oathtool_at(secret, unix_now() + ahead)
}

/// Photographs the current window in the app's theme and then in the other
/// one, switching through the settings as the Settings screen does.
fn shot_both(app: &App, shots: &Shots, name: &str) {
    let mut settings = app.invoke("get_settings", json!({})).unwrap_or_else(|e| app.fail(format!("get_settings: {e}")));
    let first = settings["theme"].as_str().unwrap_or("light").to_owned();
    let other = if first == "dark" { "light" } else { "dark" };
    app.shot(shots, &first, name);
    for theme in [other, first.as_str()] {
        settings["theme"] = json!(theme);
        if let Err(e) = app.invoke("update_settings", json!({ "settings": settings })) {
            app.fail(format!("update_settings: {e}"));
        }
        app.wait(&format!("the {theme} theme"), SHORT, || (app.page_theme() == theme).then_some(()));
        if theme == other {
            app.shot(shots, other, name);
        }
    }
}

/// Unlocks with the test vaults' master password.
fn unlock(app: &App) {
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", PASSWORD);
    app.type_into("unlock-password", keys::ENTER);
    app.screen("main-screen", KDF);
}

/// The titles of the live items, sorted.
fn titles(app: &App, expected: usize) -> Vec<String> {
    let mut t: Vec<String> = app.search("", expected).into_iter().map(|(_, title)| title).collect();
    t.sort();
    t
}

/// `tessera --json ARGS` on `v`, expected to succeed.
fn json_of(v: &TestVault, args: &[&str]) -> Value {
    v.json(args)
}

#[test]
fn conflicts_devices_two_factor_and_the_kit_file_from_the_app() {
    let _serial = serial();
    let shots = Shots::from_env();
    // SAFETY: set before any app starts; the test is serial.
    unsafe { std::env::set_var("TESSERA_SYNC_INTERVAL", "4") };
    let server = TestServer::sqlite();

    step("the command line: an account with two-factor login, a kit PDF, and a second device");
    let desk = TestVault::new();
    let bank = desk.add_login("Bank", "alice");
    let kit = desk.dir.path().join("Emergency Kit.pdf");
    let out = desk.run(&[
        "sync",
        "register",
        "--server",
        &server.url,
        "--email",
        ACCOUNT,
        "--device-name",
        "Desk",
        "--emergency-kit",
        kit.to_str().expect("utf-8 path"),
    ]);
    assert_success(&out, "sync register");
    let enrol = json_of(&desk, &["sync", "2fa", "enable"]);
    let totp_secret = enrol["secret"].as_str().expect("a TOTP secret").to_owned();
    let codes = json_of(&desk, &["sync", "2fa", "enable", "--totp", &totp(&totp_secret, 0)]);
    let recovery: Vec<String> = codes["recovery_codes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_owned())
        .collect();
    let secret_key = json_of(&desk, &["sync", "kit"])["secret_key"].as_str().expect("the Secret Key").to_owned();

    let laptop = TestVault::uninitialised();
    let out = laptop.run(&[
        "sync",
        "clone",
        "--server",
        &server.url,
        "--email",
        ACCOUNT,
        "--secret-key-file",
        kit.to_str().expect("utf-8 path"),
        "--device-name",
        "Laptop",
        "--kdf-memory-mib",
        "64",
        "--recovery-code-file",
        laptop.recovery_file.to_str().expect("utf-8 path"),
        "--totp",
        &recovery[0],
    ]);
    assert_success(&out, "sync clone on the Laptop");

    step("both devices change the item's title before either syncs");
    assert_success(&laptop.run_fast(&["edit", &bank, "--title", "Bank (laptop)", "--username", "alice.l"]), "edit");
    assert_success(&laptop.run(&["sync"]), "the Laptop's sync");
    assert_success(&desk.run_fast(&["edit", &bank, "--title", "Bank (desk)"]), "edit on the Desk");

    step("the app opens the Desk's vault; its first sync makes a conflict copy");
    let app = App::start(|d| write_config(d, Some(&desk.path), json!({ "theme": "light" })));
    unlock(&app);
    app.wait_attr("sync-status-line", "aria-label", CARRY, |l| l.contains("1 conflict"));
    let t = titles(&app, 2);
    app.check(t == ["Bank (desk) (conflict copy from Desk)", "Bank (laptop)"], || format!("the items are {t:?}"));

    step("Settings lists the copy beside its original, and Review compares them");
    app.click("sync-status-line");
    app.wait("one conflict copy listed", SHORT, || (app.count("sync-conflict") == 1).then_some(()));
    let original = app.text("sync-conflict-original");
    app.check(original.trim() == "Bank (laptop)", || format!("the copy's original is shown as {original:?}"));
    app.check(app.text("sync-conflict-device").trim() == "Desk", || "the copy names another device".into());
    let scrolled = app.wd.execute(
        "document.querySelector('[data-testid=\"sync-conflicts\"]').scrollIntoView({ block: 'center' });",
        vec![],
    );
    app.ok(scrolled, "scroll to the conflict copies");
    shot_both(&app, &shots, "sync-conflicts");
    app.click("sync-conflict-review");
    app.el("sync-conflict-compare");
    app.wait("both versions to load", SHORT, || {
        let rows = app.wd.find_all(&sel("sync-conflict-row")).ok()?;
        let texts: Vec<String> = rows.iter().filter_map(|r| app.wd.text(r).ok()).collect();
        let title = texts.iter().find(|t| t.starts_with("Title"))?;
        (title.contains("Bank (desk)") && title.contains("Bank (laptop)")).then_some(())
    });
    let differs = app.wait_attr("sync-conflict-row", "data-differs", SHORT, |_| true);
    app.check(differs == "true", || "the title row is not marked as differing".into());
    shot_both(&app, &shots, "sync-conflict-review");
    app.click("sync-keep-copy");
    app.wait_gone("sync-conflict-dialog", SHORT);
    app.wait("the conflict list to empty", SHORT, || app.exists("sync-conflicts-none").then_some(()));
    app.click("nav-items");
    let t = titles(&app, 1);
    app.check(t == ["Bank (desk)"], || format!("after keeping the copy the items are {t:?}"));

    step("the Laptop receives the settled item");
    let settled = tessera_test_support::webdriver::poll(CARRY, || {
        assert_success(&laptop.run(&["sync"]), "the Laptop's sync");
        let item = laptop.json(&["show", &bank]);
        (item["title"] == "Bank (desk)").then_some(item)
    });
    let item = settled.unwrap_or_else(|| app.fail("the Laptop never received the settled title"));
    app.check(item["username"] == "alice", || format!("the Laptop holds {item}"));

    step("Settings → Devices: the Laptop is revoked");
    app.click("nav-settings");
    app.wait("both devices", KDF, || (app.count("sync-device") == 2).then_some(()));
    let laptop_row = format!("{}[data-current=\"false\"]", sel("sync-device"));
    app.click_css(&format!("{laptop_row} {}", sel("sync-device-revoke")));
    app.el("confirm-dialog");
    shot_both(&app, &shots, "sync-device-revoke");
    app.click("confirm-ok");
    app.wait("the Laptop marked as revoked", KDF, || {
        let row = app.wd.find(&laptop_row).ok()??;
        (app.wd.attribute(&row, "data-revoked").ok()?? == "true").then_some(())
    });
    let out = laptop.run(&["sync"]);
    assert_code(&out, 3, "the revoked Laptop's sync");
    app.check(stderr(&out).contains("--totp"), || {
        format!("the Laptop is not asked for a second factor: {}", stderr(&out))
    });

    step("the server forgets every session: the app asks for the password, then the two-factor code");
    server.database.sql("DELETE FROM refresh_tokens");
    server.database.sql("DELETE FROM devices");
    app.click("sync-now");
    app.el_css(&sel("sync-sign-in-dialog"), CARRY);
    app.replace("sync-sign-in-password", PASSWORD);
    app.click("sync-sign-in-submit");
    app.el_css(&sel("sync-sign-in-totp"), KDF);
    let focused = app.wd.execute("return document.activeElement?.dataset?.testid ?? null;", vec![]);
    app.check(focused.ok() == Some(json!("sync-sign-in-totp")), || "the code field does not have the focus".into());
    shot_both(&app, &shots, "sync-sign-in-2fa");
    app.replace("sync-sign-in-totp", "000000");
    app.click("sync-sign-in-submit");
    app.el_css(&sel("sync-sign-in-error"), KDF);
    app.check(app.exists("sync-sign-in-dialog"), || "a wrong code closed the dialog".into());
    app.replace("sync-sign-in-totp", &totp(&totp_secret, 30));
    app.click("sync-sign-in-submit");
    app.wait_gone("sync-sign-in-dialog", KDF);
    app.wait_attr("sync-state", "data-state", KDF, |s| s == "idle");

    step("a second app signs in with the Secret Key read from the kit PDF, and a recovery code");
    let second = App::start(|d| write_config(d, None, json!({ "theme": "dark" })));
    second.screen("first-run-screen", SHORT);
    second.click("first-run-join-tab");
    second.el("sync-join-form");
    second.replace("sync-join-server", &server.url);
    second.replace("sync-join-email", ACCOUNT);
    // The kit, as the user keeps it: in their Documents folder.
    let documents = second.desktop.dir().join("home/Documents");
    std::fs::create_dir_all(&documents).expect("create ~/Documents");
    let saved_kit = documents.join("Emergency Kit.pdf");
    std::fs::copy(&kit, &saved_kit).expect("copy the kit");
    second.click("sync-join-read-kit");
    // The open dialog gets the keyboard (there is no window manager to
    // give it), and its location field takes the path.
    let dialog = second.wait("the open dialog", SHORT, || second.desktop.visible_windows(OPEN_KIT_TITLE).pop());
    let out = second.desktop.run("xdotool", &["windowfocus", "--sync", &dialog]);
    second.check(out.status.success(), || format!("xdotool windowfocus: {}", String::from_utf8_lossy(&out.stderr)));
    std::thread::sleep(Duration::from_millis(500));
    second.desktop.xdotool_key("ctrl+l");
    second.desktop.xdotool_type(saved_kit.to_str().expect("utf-8 path"));
    // Return once the location field has settled (it completes as it is typed).
    std::thread::sleep(Duration::from_millis(700));
    second.desktop.xdotool_key("Return");
    second.wait("the open dialog to close", SHORT, || {
        second.desktop.visible_windows(OPEN_KIT_TITLE).is_empty().then_some(())
    });
    let read = second.wait("the Secret Key read from the kit", SHORT, || {
        let v = second.value("sync-join-secret-key");
        (!v.is_empty()).then_some(v)
    });
    second.check(read == secret_key, || format!("the kit file gave {read:?}, not the account's Secret Key"));
    second.replace("sync-join-password", PASSWORD);
    let joined = second.desktop.dir().join("joined.tessera");
    second.replace("sync-join-path", joined.to_str().expect("utf-8 path"));
    second.click("sync-join-submit");
    second.el_css(&sel("sync-join-totp"), KDF);
    shot_both(&second, &shots, "sync-join-2fa");
    second.replace("sync-join-totp", &recovery[0]);
    second.click("sync-join-submit");
    second.el_css(&sel("sync-join-error"), KDF);
    second.check(!joined.exists(), || "a refused sign-in left a vault behind".into());
    second.replace("sync-join-totp", &recovery[1]);
    second.click("sync-join-submit");
    second.el_css(&sel("recovery-code"), KDF);
    second.check(joined.exists(), || "no vault at the path chosen".into());
    drop(second);

    step("Sign out of sync");
    app.click("sync-sign-out");
    app.el("confirm-dialog");
    shot_both(&app, &shots, "sync-sign-out");
    app.click("confirm-ok");
    app.el_css(&sel("sync-none"), KDF);
    app.click("nav-items");
    app.wait_gone("sync-status-line", SHORT);
    let t = titles(&app, 1);
    app.check(t == ["Bank (desk)"], || format!("signing out changed the items: {t:?}"));
    // The server ended the session: the Desk's device is revoked there.
    let desk_devices = server.database.sql("SELECT count(*) FROM devices WHERE name = 'Desk'");
    let live = server.database.sql("SELECT count(*) FROM devices WHERE name = 'Desk' AND revoked = 0");
    app.check(desk_devices[0] != "0" && live[0] == "0", || {
        format!("after signing out the server holds {desk_devices:?} Desk devices, {live:?} not revoked")
    });
    step("done");
    eprintln!("[desktop-sync-account] screenshots in {}", shots.root.display());
}
