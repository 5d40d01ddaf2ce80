//! Sharing in the desktop app end to end (DESIGN §11): a real
//! `tessera-server` on 127.0.0.1, Bob on the `tessera` CLI and Alice in the
//! real `tessera-desktop` (driven as tests/desktop.rs drives it), each with
//! a vault and an account of their own.
//!
//! Bob shares "Family" with Alice; Alice sees the invitation in the
//! sidebar, sees who invited her and his fingerprint before joining, joins,
//! and finds Bob's item in the list and the view with the share's mark.
//! Then she verifies Bob, puts an item of her own into the share from the
//! editor (Bob's CLI receives it), makes a share, invites Bob (his
//! fingerprint now shows Verified) and removes him again after a warning
//! that the share gets a new key.
//!
//! The flow runs twice, in the light and the dark theme, and photographs
//! each new screen as it happens, where tests/desktop.rs puts its own
//! (`TESSERA_SCREENSHOTS`).
//!
//! Needs what tests/desktop.rs needs, and `tessera-server`.

use serde_json::{Value, json};
use tessera_test_support::app::*;
use tessera_test_support::server::{TestServer, register};
use tessera_test_support::{PASSWORD, TestVault, assert_success, stdout};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

fn cli(v: &TestVault, args: &[&str]) -> String {
    let out = v.run(args);
    assert_success(&out, &args.join(" "));
    stdout(&out)
}

fn digits(fingerprint: &str) -> String {
    fingerprint.chars().filter(char::is_ascii_digit).collect()
}

fn step(what: &str) {
    eprintln!("[desktop-share] {what}");
}

/// The text of the element `test_id` inside the open dialog `dialog`.
fn text_in(app: &App, dialog: &str, test_id: &str) -> String {
    let css = format!("{} {}", sel(dialog), sel(test_id));
    let el = app.el_css(&css, SHORT);
    app.ok(app.wd.property(&el, "textContent"), "textContent").as_str().unwrap_or_default().to_owned()
}

/// Items listed with a share mark: `data-share` of each row's chip.
fn marks(app: &App) -> Vec<String> {
    let chips = app.ok(app.wd.find_all(&format!("{} {}", sel("item-row"), sel("share-chip"))), "share chips");
    chips.iter().filter_map(|c| app.wd.attribute(c, "data-share").ok().flatten()).collect()
}

/// The sidebar with the share selected, the shared item's view, its
/// members and the identity card, in `theme`.
fn tour(app: &App, shots: &Shots, theme: &str, shared: &str) {
    app.click_css(&format!("{}[data-share=\"Family\"]", sel("share-filter")));
    app.search("", 2);
    app.open(shared);
    app.shot(shots, theme, "shares");
    app.click_css(&format!("{}[data-share=\"Family\"]", sel("share-members-button")));
    app.wait("both members", SHORT, || (app.count("share-member") == 2).then_some(()));
    app.shot(shots, theme, "share-members");
    app.click("share-members-dialog-close");
    app.wait_gone("share-members-dialog", SHORT);
    app.click("nav-settings");
    app.el("identity-qr");
    app.wd.execute(&format!("document.querySelector('{}').scrollIntoView()", sel("identity-card")), vec![]).ok();
    app.shot(shots, theme, "identity");
    app.click("nav-items");
}

#[test]
fn an_invitation_accepted_in_the_sidebar_brings_the_shared_items_with_their_mark() {
    let _serial = serial();
    let shots = Shots::from_env();
    // The whole flow once per theme: each dialog is photographed as it
    // happens, on fresh accounts.
    for theme in ["light", "dark"] {
        family_in_the_app(&shots, theme);
    }
    eprintln!("[desktop-share] screenshots in {}", shots.root.display());
}

fn family_in_the_app(shots: &Shots, theme: &str) {
    step(&format!("{theme} theme"));
    let server = TestServer::sqlite();
    let alice = TestVault::new();
    register(&alice, &server.url, ALICE);
    let bob = TestVault::new();
    register(&bob, &server.url, BOB);

    step("Bob shares Family with Alice (write)");
    let bob_fp = bob.json(&["identity"])["fingerprint"].as_str().expect("Bob's fingerprint").to_owned();
    let alice_fp = alice.json(&["identity"])["fingerprint"].as_str().expect("Alice's fingerprint").to_owned();
    cli(&bob, &["share", "create", "Family"]);
    cli(&bob, &["add", "--title", "Netflix", "--username", "family@example.com", "--share", "Family"]);
    cli(&bob, &["sync"]);
    cli(&bob, &["share", "invite", "Family", ALICE, "--role", "write"]);

    step("Alice's app: the invitation in the sidebar");
    let app = App::start(|d| write_config(d, Some(&alice.path), json!({ "theme": theme })));
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", PASSWORD);
    app.click("unlock-submit");
    app.screen("main-screen", KDF);
    app.wait("the invitation in the sidebar", SHORT, || app.exists("share-invitation").then_some(()));
    app.check(app.count("share-filter") == 0, || "Alice is in no share yet".into());
    app.shot(shots, theme, "share-invitation-sidebar");

    step("Accept: who invited, and his fingerprint, before joining");
    app.click("share-accept");
    app.screen("share-invitation-dialog", SHORT);
    let inviter = app.wait("the inviter", SHORT, || {
        let t = text_in(&app, "share-invitation-dialog", "share-inviter");
        (!t.is_empty()).then_some(t)
    });
    app.check(inviter == BOB, || format!("the invitation names {inviter:?}, not Bob"));
    let shown = text_in(&app, "share-invitation-dialog", "fingerprint-digits");
    app.check(digits(&shown) == digits(&bob_fp), || format!("Bob's fingerprint shown as {shown:?}, his is {bob_fp}"));
    app.el_css(&format!("{} {}", sel("share-invitation-dialog"), sel("fingerprint-unverified")), SHORT);
    app.shot(shots, theme, "share-invitation");
    app.click("share-join");
    app.wait_gone("share-invitation-dialog", KDF);
    app.wait_toast("Joined “Family” as write; 1 item received");

    step("the shared item, with its mark, in the share's list");
    app.wait("Family in the sidebar", SHORT, || app.exists("share-filter").then_some(()));
    let rows = app.search("", 1);
    app.check(rows[0].1 == "Netflix", || format!("the share's list shows {rows:?}"));
    app.check(marks(&app) == ["Family"], || format!("marks in the list: {:?}", marks(&app)));
    app.open(&rows[0].0);
    let chip = app.attr("share-chip", "data-share");
    app.check(chip.as_deref() == Some("Family"), || format!("the view's mark: {chip:?}"));
    let netflix = rows[0].0.clone();

    step("Settings: Alice's identity card, and verifying Bob");
    app.click("nav-settings");
    app.el("identity-qr");
    let mine = text_in(&app, "identity-card", "fingerprint-digits");
    app.check(digits(&mine) == digits(&alice_fp), || format!("the card shows {mine:?}, `identity` says {alice_fp}"));
    app.replace("identity-verify-email", BOB);
    app.replace("identity-verify-fingerprint", &bob_fp);
    app.click("identity-verify-submit");
    app.wait_toast("Verified bob@example.com");

    step("an item of Alice's into Family from the editor; Bob receives it");
    app.click("nav-items");
    app.add(&WIFI, |app| {
        app.el("editor-share");
        app.click_css(&format!("{} option[value=\"Family\"]", sel("editor-share")));
    });
    app.wait_attr("share-chip", "data-share", SHORT, |s| s == "Family");
    cli(&bob, &["sync"]);
    let bobs: Value = bob.json(&["list", "--share", "Family"]);
    let titles: Vec<&str> = bobs.as_array().expect("a list").iter().filter_map(|i| i["title"].as_str()).collect();
    assert!(titles.contains(&WIFI.title) && titles.contains(&"Netflix"), "Bob's Family: {titles:?}");

    step("a share of Alice's: invite Bob (verified), then remove him");
    app.click("share-new");
    app.screen("share-create-dialog", SHORT);
    app.type_into("share-create-name", "Parents");
    app.click("share-create-submit");
    app.wait_gone("share-create-dialog", SHORT);
    app.wait("Parents in the sidebar", SHORT, || (app.count("share-filter") == 2).then_some(()));
    app.click_css(&format!("{}[data-share=\"Parents\"]", sel("share-members-button")));
    app.screen("share-members-dialog", SHORT);
    app.click("share-members-invite");
    app.screen("share-invite-dialog", SHORT);
    app.type_into("share-invite-email", BOB);
    app.click("share-invite-submit");
    app.wait_attr("share-invite-result", "data-verified", SHORT, |v| v == "true");
    let shown = text_in(&app, "share-invite-dialog", "fingerprint-digits");
    app.check(digits(&shown) == digits(&bob_fp), || format!("the invite shows {shown:?}, Bob's is {bob_fp}"));
    app.shot(shots, theme, "share-invite");
    app.click("share-invite-done");
    app.screen("share-members-dialog", SHORT);
    app.wait("Bob among Parents' members", SHORT, || (app.count("share-member") == 2).then_some(()));
    app.click("share-member-remove");
    app.screen("confirm-dialog", SHORT);
    let warning = app.text("confirm-dialog");
    app.check(warning.contains("new key"), || format!("the confirmation says {warning:?}"));
    app.shot(shots, theme, "share-remove");
    app.click("confirm-ok");
    app.wait("Bob removed", KDF, || (app.count("share-member") == 1).then_some(()));
    app.click("share-members-dialog-close");
    let parents = cli(&bob, &["share", "list"]);
    assert!(!parents.contains("Parents"), "Bob still sees Parents: {parents}");

    step("screenshots");
    app.check(app.page_theme() == theme, || format!("the app is not in the {theme} theme"));
    tour(&app, shots, theme, &netflix);
}
