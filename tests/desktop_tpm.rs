//! Whole-file rollback in the real app against a real TPM simulator: the
//! desktop app binds the vault to a TPM counter when it adds a TPM slot,
//! as `tessera slot add tpm` does; an older copy of the file put back is
//! refused at unlock (the CLI's exit-5 error, shown on the unlock screen);
//! with the TPM gone the vault opens read-only under a banner and an edit
//! is refused naming the TPM; removing the TPM slot ends the binding.
//!
//! The app reaches swtpm through `$TESSERA_TPM_TCTI` (the app has no
//! `--tpm-tcti`); the `tessera` CLI checks the file from outside.
//!
//! Needs what tests/desktop.rs needs (`tessera-desktop`, `tauri-driver`,
//! Xvfb), `tessera`, and `swtpm`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use tessera_test_support::app::*;
use tessera_test_support::webdriver::keys;
use tessera_test_support::{PASSWORD, Swtpm, TestVault, assert_success, tessera_bin};

const OLDER: &str = "this vault file is older than the last one this TPM saw";
const PIN: &str = "2468";

/// `tessera --json ARGS` on `v` against the TPM at `tcti`, with the master
/// password.
fn cli(v: &TestVault, tcti: &str, args: &[&str]) -> Output {
    Command::new(tessera_bin())
        .arg("--vault")
        .arg(&v.path)
        .arg("--tpm-tcti")
        .arg(tcti)
        .arg("--password-file")
        .arg(&v.password_file)
        .arg("--json")
        .args(args)
        .env_remove("TESSERA_VAULT")
        .stdin(Stdio::null())
        .output()
        .expect("run tessera")
}

fn cli_json(v: &TestVault, tcti: &str, args: &[&str]) -> Value {
    let out = cli(v, tcti, args);
    assert_success(&out, &format!("tessera {args:?}"));
    serde_json::from_slice(&out.stdout).expect("tessera --json prints JSON")
}

/// The vault file and any WAL beside it, as a backup tool would copy them.
const VAULT_FILES: [&str; 3] = ["", "-wal", "-shm"];

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// Copies the vault files `from` → `to` (a backup, or one put back),
/// removing a WAL or shared-memory file the source does not have.
fn copy_vault(from: &Path, to: &Path) {
    for suffix in VAULT_FILES {
        let (f, t) = (sibling(from, suffix), sibling(to, suffix));
        if f.exists() {
            std::fs::copy(&f, &t).unwrap();
        } else if t.exists() {
            std::fs::remove_file(&t).unwrap();
        }
    }
}

fn unlock_with_password(app: &App) {
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", PASSWORD);
    app.type_into("unlock-password", keys::ENTER);
}

fn lock(app: &App) {
    app.click("lock-button");
    app.screen("unlock-screen", SHORT);
}

fn open_unlock_factors(app: &App) {
    app.click("nav-settings");
    app.screen("unlock-factors-section", SHORT);
}

/// The rollback line of Settings → Unlock factors once it says `want`.
fn wait_rollback_line(app: &App, want: &str) -> String {
    app.wait(&format!("the rollback protection line to say {want:?}"), SHORT, || {
        let el = app.wd.find(&sel("rollback-protection")).ok()??;
        let text = app.wd.text(&el).ok()?;
        text.contains(want).then_some(text)
    })
}

#[test]
fn the_app_binds_a_tpm_slot_to_the_counter_and_reports_rollback_and_an_unreachable_tpm() {
    let _serial = serial();
    let tpm = Swtpm::start();
    let tcti = tpm.tcti();
    let v = TestVault::new();
    let server = v.add_login("Server", "root");
    // SAFETY: set before the app (and tauri-driver, which passes its
    // environment on to the app) starts, while this binary's one test is
    // the only thread that reads the environment.
    unsafe { std::env::set_var("TESSERA_TPM_TCTI", &tcti) };
    let app = App::start(|d| write_config(d, Some(&v.path), json!({})));
    unlock_with_password(&app);
    app.screen("main-screen", KDF);
    app.check(!app.exists("tpm-unreachable-banner"), || "a banner on an unbound vault".into());

    // 1. A TPM slot added in the app binds the vault, as the CLI does.
    open_unlock_factors(&app);
    wait_rollback_line(&app, "Rollback protection: off");
    app.click("slot-add");
    app.click_css(&format!("{} option[value=\"tpm\"]", sel("slot-add-factor")));
    app.type_into("slot-add-pin", PIN);
    app.click("slot-add-submit");
    app.el_css(&format!("{}[data-kind=\"tpm\"]", sel("slot-row")), SHORT);
    let line = wait_rollback_line(&app, "Rollback protection: TPM counter 0x");
    let report = cli_json(&v, &tcti, &["restore-check"]);
    app.check(report["bound"] == true && report["verdict"] == "current", || {
        format!("restore-check after the app's TPM slot: {report}")
    });
    let index = report["nv_index"].as_u64().unwrap_or_default();
    app.check(line.contains(&format!("{index:#010x}")), || format!("Settings says {line:?}; the CLI {report}"));
    let counter = app.attr("rollback-protection", "data-counter");
    app.check(counter == Some(index.to_string()), || format!("data-counter {counter:?}; the CLI {report}"));

    // 2. An older copy put back is refused at unlock, with the CLI's words.
    lock(&app);
    let backup = v.dir.path().join("backup.tessera");
    copy_vault(&v.path, &backup);
    unlock_with_password(&app);
    app.screen("main-screen", KDF);
    let r = app.invoke("set_favourite", json!({ "id": server, "favourite": true }));
    app.check(r.is_ok(), || format!("a write with the TPM there: {r:?}"));
    lock(&app);
    let newer = v.dir.path().join("newer.tessera");
    copy_vault(&v.path, &newer);
    copy_vault(&backup, &v.path);
    unlock_with_password(&app);
    let error = app.wait("the unlock screen to report the older copy", KDF, || {
        let el = app.wd.find(&sel("unlock-error")).ok()??;
        let text = app.wd.text(&el).ok()?;
        (!text.is_empty()).then_some(text)
    });
    app.check(error.contains(OLDER) && error.contains("restore-check --accept-older"), || {
        format!("the unlock error for an older copy: {error:?}")
    });
    app.check(!app.exists("main-screen"), || "an older copy was opened".into());
    let out = cli(&v, &tcti, &["restore-check"]);
    app.check(out.status.code() == Some(5), || format!("restore-check on the older copy: {out:?}"));
    copy_vault(&newer, &v.path);

    // 3. The TPM gone: the vault opens read-only under the banner, and an
    // edit is refused naming the TPM and the way out.
    drop(tpm);
    unlock_with_password(&app);
    app.screen("main-screen", KDF);
    let banner = app.text("tpm-unreachable-banner");
    for part in ["TPM unreachable", "every edit is refused until the TPM answers", "tessera restore-check"] {
        app.check(banner.contains(part), || format!("the banner lacks {part:?}: {banner:?}"));
    }
    app.check(app.text("tpm-unreachable-reason").contains("cannot reach the TPM"), || {
        "the banner gives no reason".into()
    });
    let shots = Shots::from_env();
    app.shot(&shots, "light", "tpm-unreachable");
    // As the user meets it: a click on the item's star, refused in a toast.
    let rows = app.search("Server", 1);
    app.open(&rows[0].0);
    app.click("item-favourite-toggle");
    app.wait_toast("Not saved: the TPM is unreachable");
    app.dismiss_toasts();
    let r = app.invoke("set_favourite", json!({ "id": server, "favourite": false }));
    let refused = r.as_ref().err().cloned().unwrap_or_default();
    app.check(refused["kind"] == "factor_unavailable", || format!("a write with the TPM gone: {r:?}"));
    let message = refused["message"].as_str().unwrap_or_default();
    for part in ["TPM is unreachable", "edits are refused until the TPM answers", "restore-check", "Unlock factors"] {
        app.check(message.contains(part), || format!("the refusal lacks {part:?}: {message:?}"));
    }
    app.check(!message.contains(PIN) && !message.contains(PASSWORD), || format!("a secret in {message:?}"));
    open_unlock_factors(&app);
    wait_rollback_line(&app, "edits are refused until it answers");

    // 4. Removing the TPM slot ends the binding (no TPM needed), and
    // writes work again.
    let tpm_row = format!("{}[data-kind=\"tpm\"] {}", sel("slot-row"), sel("slot-remove"));
    app.click_css(&tpm_row);
    app.click("confirm-ok");
    let tpm_slot = format!("{}[data-kind=\"tpm\"]", sel("slot-row"));
    app.wait("the TPM slot to go from the list", SHORT, || app.wd.find(&tpm_slot).ok()?.is_none().then_some(()));
    wait_rollback_line(&app, "Rollback protection: off");
    let r = app.invoke("set_favourite", json!({ "id": server, "favourite": false }));
    app.check(r.is_ok(), || format!("a write once the TPM slot is gone: {r:?}"));
    lock(&app);
    let report = cli_json(&v, &tcti, &["restore-check"]);
    app.check(report == json!({ "bound": false }), || format!("restore-check after removing the TPM slot: {report}"));
}
