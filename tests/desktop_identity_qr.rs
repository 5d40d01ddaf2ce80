//! "Scan their QR code" end to end (DESIGN §11, issue 15): a real
//! `tessera-server`, Bob on the `tessera` CLI and Alice in the real
//! `tessera-desktop`. The test draws Bob's identity QR code
//! (`tessera-identity:EMAIL:DIGITS`, what his app's Settings card shows)
//! and shows it on Alice's X screen in a window of its own, as a video call
//! would; Alice's app reads it from the screen.
//!
//! A code with a wrong fingerprint for Bob is a warning that the server's
//! key is not the one in the code, and Bob stays unverified (the invite
//! dialog says so); Alice's own code alone, or a TOTP code, is nobody to
//! verify; his real code, scanned in that dialog, verifies him;
//! and in Settings, with Alice's own code beside Bob's on the screen, the
//! scan verifies Bob and leaves hers out.
//!
//! Needs what tests/desktop_qr.rs needs, and `tessera-server`.

use std::time::Duration;

use serde_json::json;
use tessera_test_support::app::*;
use tessera_test_support::server::{TestServer, register};
use tessera_test_support::{PASSWORD, TestVault, assert_success, stdout};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

fn step(what: &str) {
    eprintln!("[desktop-identity-qr] {what}");
}

fn digits(fingerprint: &str) -> String {
    fingerprint.chars().filter(char::is_ascii_digit).collect()
}

/// What a scan showed in the scan area inside `scope` (a test id).
#[derive(Debug)]
enum Scanned {
    /// `identity-scan-result`: the email verified and the digits shown.
    Verified {
        email: String,
        digits: String,
    },
    /// `share-warning` (a hostile server) or `share-error`: its text.
    Warning(String),
    Error(String),
}

/// Shows `payload` as a QR code in the strip right of the app's 1100-pixel
/// wide window on the 1280-pixel wide screen, and waits until it is drawn.
fn show_code(app: &App, payload: &str, name: &str) -> Viewer {
    let png = app.desktop.dir().join(format!("{name}.png"));
    let side = write_qr_png(payload, 3, &png);
    assert!(side <= 176, "the QR code ({side} pixels) does not fit beside the app's window");
    let viewer = Viewer::show(&app.desktop, &png, 1280 - side - 2, 80);
    wait_for_viewer(app);
    viewer
}

/// Clicks "From screen" of the scan area inside `scope` and waits for what
/// it shows.
fn scan_screen(app: &App, scope: &str) -> Scanned {
    let area = format!("{} {}", sel(scope), sel("identity-scan"));
    app.click_css(&format!("{area} {}", sel("identity-scan-screen")));
    app.wait("the identity scan to finish", Duration::from_secs(60), || {
        let find = |id: &str| app.wd.find(&format!("{area} {}", sel(id))).ok().flatten();
        if let Some(result) = find("identity-scan-result") {
            let email = app.wd.attribute(&result, "data-email").ok().flatten().unwrap_or_default();
            let digits = digits(&app.wd.text(&result).unwrap_or_default());
            return Some(Scanned::Verified { email, digits });
        }
        if let Some(warning) = find("share-warning") {
            return Some(Scanned::Warning(app.wd.text(&warning).unwrap_or_default()));
        }
        find("share-error").map(|e| Scanned::Error(app.wd.text(&e).unwrap_or_default()))
    })
}

#[test]
fn scanning_bobs_identity_code_from_the_screen_verifies_him_and_a_wrong_code_warns() {
    let _serial = serial();
    let server = TestServer::sqlite();
    let alice = TestVault::new();
    register(&alice, &server.url, ALICE);
    let bob = TestVault::new();
    register(&bob, &server.url, BOB);
    let bob_fp = bob.json(&["identity"])["fingerprint"].as_str().expect("Bob's fingerprint").to_owned();
    let bob_digits = digits(&bob_fp);
    assert_eq!(bob_digits.len(), 40, "Bob's fingerprint: {bob_fp}");
    // Same email, another key: what a server substituting Bob's key would
    // make Alice's app see if Bob's code said so (one digit changed).
    let mut wrong = bob_digits.clone().into_bytes();
    wrong[7] = if wrong[7] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).expect("digits");

    let app = App::start(|d| write_config(d, Some(&alice.path), json!({})));
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", PASSWORD);
    app.click("unlock-submit");
    app.screen("main-screen", KDF);

    step("Settings: a code with a wrong fingerprint for Bob is a warning");
    app.click("nav-settings");
    app.el("identity-qr");
    let viewer = show_code(&app, &format!("tessera-identity:{BOB}:{wrong}"), "wrong-code");
    match scan_screen(&app, "identity-card") {
        Scanned::Warning(text) => app.check(text.contains("not the one you were given") && text.contains(BOB), || {
            format!("the warning reads {text:?}")
        }),
        other => app.fail(format!("a wrong fingerprint for Bob gave {other:?}, not a warning")),
    }
    drop(viewer);

    step("Settings: Alice's own code alone is not someone to verify");
    match scan_screen(&app, "identity-card") {
        Scanned::Error(text) => {
            app.check(text.contains("your own identity code"), || format!("the scan says {text:?}"))
        }
        other => app.fail(format!("Alice's own code alone gave {other:?}")),
    }

    step("Bob is not verified: inviting him shows his fingerprint unverified");
    app.click("nav-items");
    app.click("share-new");
    app.screen("share-create-dialog", SHORT);
    app.type_into("share-create-name", "Family");
    app.click("share-create-submit");
    app.wait_gone("share-create-dialog", SHORT);
    app.wait("Family in the sidebar", SHORT, || (app.count("share-filter") == 1).then_some(()));
    app.click_css(&format!("{}[data-share=\"Family\"]", sel("share-members-button")));
    app.screen("share-members-dialog", SHORT);
    app.click("share-members-invite");
    app.screen("share-invite-dialog", SHORT);
    app.type_into("share-invite-email", BOB);
    app.click("share-invite-submit");
    let verified = app.wait_attr("share-invite-result", "data-verified", KDF, |_| true);
    app.check(verified == "false", || format!("after the wrong code, Bob's data-verified is {verified}"));

    step("the invite dialog: a TOTP code on the screen is not an identity code");
    let viewer = show_code(&app, "otpauth://totp/Mail:bob?secret=JBSWY3DPEHPK3PXP&issuer=Mail", "totp-code");
    match scan_screen(&app, "share-invite-dialog") {
        Scanned::Error(text) => {
            app.check(text.contains("not a Tessera identity code"), || format!("the scan says {text:?}"));
            app.check(!text.contains("JBSWY3DPEHPK3PXP"), || format!("the error repeats the code: {text:?}"));
        }
        other => app.fail(format!("a TOTP code gave {other:?}")),
    }
    drop(viewer);

    step("the invite dialog: Bob's real code, scanned from the screen, verifies him");
    let viewer = show_code(&app, &format!("tessera-identity:{BOB}:{bob_digits}"), "bob-code");
    app.click_css(&format!("{} {}", sel("share-invite-dialog"), sel("identity-scan-screen")));
    app.wait_attr("share-invite-result", "data-verified", Duration::from_secs(60), |v| v == "true");
    app.el_css(&format!("{} {}", sel("share-invite-dialog"), sel("fingerprint-verified")), SHORT);
    app.click("share-invite-done");
    app.screen("share-members-dialog", SHORT);
    app.click("share-members-dialog-close");
    app.wait_gone("share-members-dialog", SHORT);

    step("Settings: Alice's own code beside Bob's; the scan verifies Bob");
    app.click("nav-settings");
    app.el("identity-qr");
    match scan_screen(&app, "identity-card") {
        Scanned::Verified { email, digits } => {
            app.check(email == BOB, || format!("the scan verified {email:?}, not Bob"));
            app.check(digits == bob_digits, || {
                format!("the verified fingerprint shown is {digits}, Bob's is {bob_fp}")
            });
        }
        other => app.fail(format!("Bob's real code gave {other:?}")),
    }
    drop(viewer);

    // The invitation reached Bob: the verified key is the one he holds.
    let out = bob.run(&["share", "list"]);
    assert_success(&out, "tessera share list");
    assert!(stdout(&out).contains("Family"), "Bob's share list: {}", stdout(&out));
}
