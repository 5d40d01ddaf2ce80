//! "Scan QR code from screen" end to end: a QR code of an `otpauth://` URI,
//! drawn by the test, shown on the private X screen by a real X client
//! (ImageMagick's `display`), read by the real `tessera-desktop` through
//! its editor, saved, and the saved item's codes checked with the `tessera`
//! CLI and `oathtool` (RFC 6238).
//!
//! Needs what tests/desktop.rs needs (`tessera-desktop`, `tauri-driver`,
//! Xvfb) and `display` (package imagemagick; `make test` installs it). The
//! code is drawn and shown by tessera_test_support::app's [`Viewer`].

use std::time::Duration;

use serde_json::json;
use tessera_test_support::app::*;
use tessera_test_support::{PASSWORD, TestVault, assert_success, stdout};

/// RFC 6238 Appendix B's SHA-1 seed "12345678901234567890" in base32: not
/// the secret any other test item has, so a code that matches is this one.
const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const ISSUER: &str = "QR Bank";
const ACCOUNT: &str = "qr-user@example.org";
/// A Google Authenticator "Transfer accounts" code of two TOTP accounts
/// (SHA-1, 6 digits, 30 s): "Batch Mail" / alice@example.org with
/// [`SECRET`]'s bytes and "Batch Bank" / bob with [`BATCH_BANK_SECRET`]'s.
/// Made for this test with a few lines of Python writing the protobuf
/// `MigrationPayload` of Google Authenticator's migration.proto.
const MIGRATION_URI: &str = "otpauth-migration://offline?data=CjsKFDEyMzQ1Njc4OTAxMjM0NTY3ODkwEhFhbGljZUBleGFtcGxlLm9yZxoKQmF0Y2\
                             ggTWFpbCABKAEwAgotChR0ZXNzZXJhLXFyLWJhdGNoLXR3bxIDYm9iGgpCYXRjaCBCYW5rIAEoATACEAEYASAAKLLyGQ%3D%3D";
/// "tessera-qr-batch-two" in base32.
const BATCH_BANK_SECRET: &str = "ORSXG43FOJQS24LSFVRGC5DDNAWXI53P";

/// The app on `vault`, unlocked.
fn start_unlocked(vault: &TestVault) -> App {
    let app = App::start(|d| write_config(d, Some(&vault.path), json!({})));
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", PASSWORD);
    app.click("unlock-submit");
    app.screen("main-screen", KDF);
    app
}

/// Clicks "Scan QR code from screen" in the open editor and waits for its
/// status line; fails with the inline error if the scan gave one.
fn scan_screen(app: &App) -> String {
    app.click("editor-otp-scan-screen");
    let (ok, text) = app.wait("the scan to finish", Duration::from_secs(30), || {
        for (id, ok) in [("editor-otp-scan-status", true), ("editor-otp-scan-error", false)] {
            if let Ok(Some(el)) = app.wd.find(&sel(id)) {
                return Some((ok, app.wd.text(&el).unwrap_or_default()));
            }
        }
        None
    });
    app.check(ok, || format!("scanning the screen failed: {text}"));
    text
}

#[test]
fn a_totp_qr_code_on_the_screen_is_scanned_into_the_editor_and_saved() {
    let _serial = serial();
    let vault = TestVault::new();
    let app = start_unlocked(&vault);

    // The code on the screen, in the strip right of the app's 1100-pixel
    // wide main window on the 1280-pixel wide screen.
    let uri = format!("otpauth://totp/QR%20Bank:qr-user%40example.org?secret={SECRET}&issuer=QR%20Bank");
    let png = app.desktop.dir().join("totp-qr.png");
    let side = write_qr_png(&uri, 3, &png);
    assert!(side <= 176, "the QR code ({side} pixels) does not fit beside the app's window");
    let _viewer = Viewer::show(&app.desktop, &png, 1280 - side - 2, 80);
    wait_for_viewer(&app);

    // A new login, filled in from the screen: the TOTP field, and the
    // empty title and username from the code's issuer and account.
    app.click("new-item-button");
    app.screen("editor", SHORT);
    scan_screen(&app);
    let title = app.value("editor-title");
    app.check(title == ISSUER, || format!("editor-title is {title:?} after the scan"));
    let username = app.value("editor-username");
    app.check(username == ACCOUNT, || format!("editor-username is {username:?} after the scan"));
    let otp = app.value("editor-otp");
    app.check(otp.starts_with("otpauth://totp/") && otp.contains(&format!("secret={SECRET}")), || {
        format!("editor-otp does not hold the code's URI (it holds {} characters)", otp.len())
    });
    let kind = app.attr("editor-otp", "type");
    app.check(kind.as_deref() == Some("password"), || format!("the scanned secret is shown: type {kind:?}"));

    app.click("editor-save");
    app.wait_gone("editor", SHORT);
    app.wait("the saved item's view", SHORT, || {
        let el = app.wd.find(&sel("item-view-title")).ok()??;
        (app.wd.text(&el).ok()? == ISSUER).then_some(())
    });
    let id = app.attr("item-view", "data-id").unwrap_or_else(|| app.fail("item-view has no data-id"));

    // The app shows the RFC 6238 code of the scanned secret…
    let shown = app.wait_attr("totp-code", "data-code", SHORT, |c| c.len() == 6);
    let expected = totp_codes_around(SECRET, unix_now());
    app.check(expected.contains(&shown), || format!("totp-code {shown} is none of {expected:?} (oathtool)"));

    // … and so does the vault on disk, read by the CLI.
    for at in [59, 1_111_111_109, unix_now()] {
        let out = vault.run(&["totp", &id, "--at", &at.to_string()]);
        assert_success(&out, "tessera totp");
        let code = stdout(&out).trim().to_owned();
        let want = oathtool_at(SECRET, at);
        app.check(code == want, || format!("tessera totp --at {at} gives {code}, oathtool {want}"));
    }
    let shown = vault.json(&["show", &id]);
    app.check(shown["title"] == json!(ISSUER) && shown["username"] == json!(ACCOUNT), || {
        format!("the saved item is {shown}")
    });
}

#[test]
fn a_migration_code_on_the_screen_fills_this_item_and_adds_the_other_account() {
    let _serial = serial();
    let vault = TestVault::new();
    let app = start_unlocked(&vault);

    // Too large for the strip beside the window at 3 pixels a module: over
    // the (empty) item list instead, above the app's window.
    let png = app.desktop.dir().join("migration-qr.png");
    write_qr_png(MIGRATION_URI, 3, &png);
    let _viewer = Viewer::show(&app.desktop, &png, 205, 60);
    wait_for_viewer(&app);

    app.click("new-item-button");
    app.screen("editor", SHORT);
    scan_screen(&app);
    let title = app.value("editor-title");
    app.check(title == "Batch Mail", || format!("editor-title is {title:?}: not the batch's first account"));
    let others = app.text("editor-otp-others");
    app.check(others.contains("holds 2 accounts") && others.contains("Batch Bank · bob"), || {
        format!("the offer of the other account reads {others:?}")
    });
    app.click("editor-otp-add-others");
    app.wait_toast("Added 1 item");
    app.wait_gone("editor-otp-others", SHORT);
    app.click("editor-save");
    app.wait_gone("editor", SHORT);
    app.search("Batch", 2);

    let list = vault.json(&["list"]);
    let mut titles: Vec<&str> = list.as_array().into_iter().flatten().filter_map(|i| i["title"].as_str()).collect();
    titles.sort_unstable();
    app.check(titles == ["Batch Bank", "Batch Mail"], || format!("the vault holds {titles:?}"));
    for (title, secret) in [("Batch Mail", SECRET), ("Batch Bank", BATCH_BANK_SECRET)] {
        let out = vault.run(&["totp", title, "--at", "59"]);
        assert_success(&out, "tessera totp");
        let (code, want) = (stdout(&out).trim().to_owned(), oathtool_at(secret, 59));
        app.check(code == want, || format!("{title}: tessera totp --at 59 gives {code}, oathtool {want}"));
    }
}
