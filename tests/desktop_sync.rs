//! Sync in the desktop app end to end (DESIGN §5, §6): a real
//! `tessera-server` on 127.0.0.1 and two real `tessera-desktop` apps, each
//! on an X display of its own, driven through their windows as
//! tests/desktop.rs drives one.
//!
//! Alice's first app makes a vault and, from Settings, a sync account; the
//! Emergency Kit shows the Secret Key and is saved as a PDF through the
//! real save dialog (`pdftotext` reads the key back). Her second app signs
//! in from its first-run screen with that key and makes its vault from the
//! account. An item added in one app reaches the other with no click
//! (background sync, `TESSERA_SYNC_INTERVAL=4`). The server then forgets
//! every session: each app asks for the master password once and carries
//! on. Settings lists both devices. Last, the server's manifest version is
//! tampered with: "Sync now" shows the server as hostile, and nothing is
//! applied.
//!
//! The first app runs in the light theme, the second in the dark one, and
//! each new screen is photographed as it happens (`TESSERA_SCREENSHOTS`).
//!
//! Needs what tests/desktop.rs needs, `tessera-server`, and `pdftotext`
//! (poppler-utils).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use tessera_test_support::app::*;
use tessera_test_support::server::TestServer;
use tessera_test_support::webdriver::poll;

const ACCOUNT: &str = "alice@example.com";

fn step(what: &str) {
    eprintln!("[desktop-sync] {what}");
}

/// How long background sync may take to carry a change over: the sender's
/// debounce (3 s), the receiver's interval (4 s), two Argon2-free round
/// trips, with room for a loaded machine.
const CARRY: Duration = Duration::from_secs(60);

/// Goes through the recovery code steps after a vault was made (as
/// `App::create_vault` does), ending on the main screen.
fn confirm_recovery_code(app: &App, shots: &Shots, theme: &str) {
    let code = app.el_css(&sel("recovery-code"), KDF);
    let groups: Vec<String> = app
        .ok(app.wd.find_all_in(&code, ".group"), "recovery code groups")
        .iter()
        .map(|g| app.ok(app.wd.text(g), "a recovery code group").trim().to_owned())
        .collect();
    app.check(groups.len() == 8, || format!("the recovery code should be 8 groups, is {groups:?}"));
    app.shot(shots, theme, "sync-join-recovery-code");
    app.click("recovery-code-saved");
    app.replace("recovery-confirm-input", groups.last().expect("8 groups"));
    app.click("recovery-confirm-submit");
    app.screen("main-screen", SHORT);
}

/// Waits until the status line shows `state`.
fn status_line(app: &App, state: &str, timeout: Duration) {
    app.wait_attr("sync-status-line", "data-state", timeout, |s| s == state);
}

/// The item list holds an item titled `title` (searched for).
fn wait_for_item(app: &App, title: &str) {
    app.replace("search-input", title);
    app.wait(&format!("{title:?} to arrive by background sync"), CARRY, || {
        let rows = app.wd.find_all(&sel("item-row")).ok()?;
        rows.iter()
            .any(|r| {
                app.wd
                    .find_all_in(r, ".title")
                    .ok()
                    .and_then(|t| t.first().and_then(|t| app.wd.property(t, "textContent").ok()))
                    .and_then(|v| v.as_str().map(|s| s.trim() == title))
                    .unwrap_or(false)
            })
            .then_some(())
    });
    app.replace("search-input", "");
}

/// Signs in again in the dialog the app opens when its session is gone.
fn sign_in_again(app: &App, shots: &Shots, theme: &str) {
    app.el_css(&sel("sync-sign-in-dialog"), CARRY);
    app.shot(shots, theme, "sync-sign-in");
    app.replace("sync-sign-in-password", "not the master password");
    app.click("sync-sign-in-submit");
    app.el_css(&sel("sync-sign-in-error"), KDF);
    app.replace("sync-sign-in-password", MASTER);
    app.click("sync-sign-in-submit");
    app.wait_gone("sync-sign-in-dialog", KDF);
    status_line(app, "idle", KDF);
}

/// The text `pdftotext` reads from `pdf`.
fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext").arg(pdf).arg("-").output().expect("pdftotext runs (poppler-utils)");
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_account_made_in_one_app_is_joined_from_another_and_syncs_by_itself() {
    let _serial = serial();
    let shots = Shots::from_env();
    // Both apps sync every 4 s when nothing else wakes them.
    // SAFETY: set before any app starts; the test is serial.
    unsafe { std::env::set_var("TESSERA_SYNC_INTERVAL", "4") };
    // Once each way round, so every screen is photographed in both themes.
    for (light, dark) in [("light", "dark"), ("dark", "light")] {
        two_apps(&shots, light, dark);
    }
    eprintln!("[desktop-sync] screenshots in {}", shots.root.display());
}

/// The whole flow with the first app in theme `one` and the second in `two`.
fn two_apps(shots: &Shots, one: &str, two: &str) {
    step(&format!("the first app in the {one} theme, the second in the {two} one"));
    let server = TestServer::sqlite();

    step("first app: a vault, an item, then Settings → Sync → create an account");
    let first = App::start(|d| write_config(d, None, json!({ "theme": one })));
    let vault = first.desktop.dir().join("alice.tessera");
    first.create_vault(Some(&vault), shots, one);
    first.add(&GITHUB, |_| {});
    first.check(!first.exists("sync-status-line"), || "a status line shows before sync is set up".into());
    first.click("nav-settings");
    first.el("sync-create-form");
    first.replace("sync-create-server", &server.url);
    first.replace("sync-create-email", ACCOUNT);
    first.replace("sync-create-password", "not the master password");
    first.shot(shots, one, "sync-create-account");
    first.click("sync-create-submit");
    first.wait_attr("sync-create-error", "data-kind", KDF, |k| k == "wrong_password");
    first.replace("sync-create-password", MASTER);
    first.click("sync-create-submit");

    step("the Emergency Kit: shown at once, then saved as a PDF through the save dialog");
    first.el_css(&sel("emergency-kit"), KDF);
    let secret = first.wait("the Secret Key on the kit", SHORT, || {
        let t = first.text("kit-secret-key");
        t.starts_with("TSK1-").then_some(t.trim().to_owned())
    });
    first.check(first.text("kit-server").trim() == server.url, || "the kit names another server".into());
    first.check(first.text("kit-email").trim() == ACCOUNT, || "the kit names another email".into());
    first.el("kit-qr");
    first.shot(shots, one, "emergency-kit");
    // The save dialog opens in ~/Documents when there is one; a name
    // typed over the one it suggests is saved there.
    let documents = first.desktop.dir().join("home/Documents");
    std::fs::create_dir_all(&documents).expect("create ~/Documents");
    let pdf = documents.join("alice-kit.pdf");
    first.click("kit-save-pdf");
    std::thread::sleep(Duration::from_secs(2));
    first.desktop.xdotool_key("ctrl+a");
    first.desktop.xdotool_type("alice-kit.pdf");
    first.desktop.xdotool_key("Return");
    let saved = poll(SHORT, || pdf.exists().then_some(()));
    first.check(saved.is_some(), || format!("the kit was not saved to {}", pdf.display()));
    first.wait_toast("alice-kit.pdf");
    let text = pdf_text(&pdf);
    for (what, want) in [("Secret Key", secret.as_str()), ("server", server.url.as_str()), ("email", ACCOUNT)] {
        first.check(text.contains(want), || format!("pdftotext finds no {what} ({want}) in the kit:\n{text}"));
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&pdf).expect("the kit").permissions().mode() & 0o777;
    first.check(mode == 0o600, || format!("the kit is mode {mode:o}, not 600"));
    first.click("kit-done");
    first.wait_gone("emergency-kit", SHORT);
    status_line(&first, "idle", KDF);
    first.shot(shots, one, "sync-settings");

    step("second app: sign in to the account from the first-run screen");
    let second = App::start(|d| write_config(d, None, json!({ "theme": two })));
    second.screen("first-run-screen", SHORT);
    second.click("first-run-join-tab");
    second.el("sync-join-form");
    second.replace("sync-join-server", &server.url);
    second.replace("sync-join-email", ACCOUNT);
    second.replace("sync-join-secret-key", &secret.to_lowercase());
    second.replace("sync-join-password", MASTER);
    let joined = second.desktop.dir().join("joined.tessera");
    second.replace("sync-join-path", joined.to_str().expect("utf-8 path"));
    second.shot(shots, two, "sync-join");
    second.click("sync-join-submit");
    confirm_recovery_code(&second, shots, two);
    let rows = second.search("", 1);
    second.check(rows[0].1 == GITHUB.title, || format!("the joined vault lists {rows:?}"));
    second.check(joined.exists(), || "no vault at the path chosen".into());
    status_line(&second, "idle", KDF);
    second.shot(shots, two, "sync-status-line");

    step("background sync: an item added in either app reaches the other with no click");
    first.add(&EMAIL, |_| {});
    wait_for_item(&second, EMAIL.title);
    second.add(&FORUM, |_| {});
    wait_for_item(&first, FORUM.title);

    step("the server forgets every session: each app asks for the master password once");
    server.database.sql("DELETE FROM refresh_tokens");
    server.database.sql("DELETE FROM devices");
    sign_in_again(&first, shots, one);
    sign_in_again(&second, shots, two);
    first.add(&WIFI, |_| {});
    wait_for_item(&second, WIFI.title);

    step("Settings lists both devices");
    first.click("nav-settings");
    first.wait("both devices", KDF, || (first.count("sync-device") == 2).then_some(()));
    let current = first.count("sync-device-current");
    first.check(current == 1, || format!("{current} devices are marked as this computer"));
    first.shot(shots, one, "sync-devices");
    first.click("nav-items");

    step("a tampered server is shown as such, and nothing is applied");
    server.database.sql("UPDATE accounts SET manifest_version = manifest_version + 1");
    first.click("sync-status-line");
    first.click("sync-now");
    first.wait_attr("sync-state", "data-state", KDF, |s| s == "hostile");
    let message = first.text("sync-hostile-message");
    first.check(message.contains("failed verification"), || format!("the warning says {message:?}"));
    first.shot(shots, one, "sync-hostile");
    status_line(&second, "hostile", CARRY);
    let rows = second.search("", 4);
    second.check(rows.len() == 4, || "the second app's items changed under a hostile server".into());
    second.click("sync-status-line");
    second.el("sync-hostile-warning");
    second.shot(shots, two, "sync-hostile");
}
