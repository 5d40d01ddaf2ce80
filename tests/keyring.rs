//! The OS keyring factor against a real Secret Service: a private
//! `dbus-daemon` with `gnome-keyring-daemon` on it (tests/support), reached
//! through the `keyring` crate exactly as on a desktop.

use std::process::{Command, Output, Stdio};

use tessera_test_support::{SecretService, TestVault, assert_code, assert_success, stderr, stdout};

/// `tessera ARGS` on `v` with the Secret Service in its environment and no
/// master password unless `password` is set.
fn run(v: &TestVault, service: &SecretService, password: bool, args: &[&str]) -> Output {
    let mut c = Command::new(tessera_test_support::tessera_bin());
    c.arg("--vault").arg(&v.path);
    if password {
        c.arg("--password-file").arg(&v.password_file);
    }
    service.env(&mut c).env_remove("TESSERA_VAULT").stdin(Stdio::null()).args(args).output().expect("run tessera")
}

fn json(out: &Output, what: &str) -> serde_json::Value {
    assert_success(out, what);
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// The Secret Service entry names the vault's keyring slots refer to.
fn keyring_entries(v: &TestVault) -> Vec<String> {
    let db = v.sqlite();
    let mut stmt = db.prepare("SELECT params FROM slots WHERE kind LIKE '%keyring%'").unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).unwrap();
    rows.map(|p| {
        let params: serde_json::Value = serde_json::from_slice(&p.unwrap()).unwrap();
        let factors = params["factors"].as_array().unwrap().clone();
        let keyring = factors.into_iter().find(|f| f["kind"] == "keyring").unwrap();
        keyring["entry"].as_str().unwrap().to_owned()
    })
    .collect()
}

fn secret_exists(service: &SecretService, entry: &str) -> bool {
    let out = service
        .env(&mut Command::new("secret-tool"))
        .args(["lookup", "service", "tessera", "username", entry])
        .stdin(Stdio::null())
        .output()
        .expect("secret-tool runs (package libsecret-tools)");
    out.status.success() && !out.stdout.is_empty()
}

#[test]
fn keyring_slot_unlocks_without_the_master_password() {
    let service = SecretService::start();
    let v = TestVault::new();
    let added = json(&run(&v, &service, true, &["--json", "slot", "add", "keyring"]), "slot add keyring");
    assert_eq!(added["kind"], "keyring");
    let fresh = json(&run(&v, &service, true, &["--json", "slot", "list"]), "slot list");
    let unused = fresh.as_array().unwrap().iter().find(|s| s["kind"] == "keyring").unwrap();
    assert!(unused["last_used"].is_null(), "a slot not used yet: {unused}");

    let id = v.add_login("Mail", "me@example.com");
    let shown = json(&run(&v, &service, false, &["--unlock", "keyring", "--json", "show", &id]), "show");
    assert_eq!(shown["title"], "Mail");

    let slots = json(&run(&v, &service, false, &["--unlock", "keyring", "--json", "slot", "list"]), "slot list");
    let keyring = slots.as_array().unwrap().iter().find(|s| s["kind"] == "keyring").expect("the keyring slot");
    assert_eq!(keyring["requires"], serde_json::json!(["keyring"]));
    assert_eq!(keyring["label"], "OS keyring");
    assert!(keyring["last_used"].is_string(), "{keyring}");
}

#[test]
fn keyring_secret_lives_in_the_secret_service_and_leaves_with_its_slot() {
    let service = SecretService::start();
    let v = TestVault::new();
    let added = json(&run(&v, &service, true, &["--json", "slot", "add", "keyring"]), "slot add keyring");
    let entries = keyring_entries(&v);
    assert_eq!(entries.len(), 1);
    assert!(secret_exists(&service, &entries[0]), "the factor secret is in the keyring");

    let id = added["id"].to_string();
    assert_success(&run(&v, &service, true, &["slot", "remove", &id]), "slot remove");
    assert!(!secret_exists(&service, &entries[0]), "removing the slot deletes its keyring entry");
    let out = run(&v, &service, false, &["--unlock", "keyring", "list"]);
    assert_code(&out, 3, "unlock with a removed keyring slot");
    assert!(stderr(&out).contains("no OS keyring slot"), "{}", stderr(&out));
}

#[test]
fn missing_keyring_says_so_and_falls_back_to_the_password() {
    let service = SecretService::start();
    let v = TestVault::new();
    assert_success(&run(&v, &service, true, &["slot", "add", "keyring"]), "slot add keyring");
    v.add_login("Bank", "me");

    // No Secret Service at all: a bus address nothing listens on.
    let mut c = Command::new(tessera_test_support::tessera_bin());
    c.arg("--vault").arg(&v.path).args(["--unlock", "keyring", "list"]);
    c.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus").stdin(Stdio::null());
    let out = c.output().unwrap();
    assert_code(&out, 3, "keyring unlock with no Secret Service and no password");
    assert!(stderr(&out).contains("keyring"), "{}", stderr(&out));

    let out = c.arg("--password-file").arg(&v.password_file).output().unwrap();
    assert_success(&out, "fallback to the password");
    assert!(stdout(&out).contains("Bank"));
    assert!(stderr(&out).contains("using the master password instead"), "{}", stderr(&out));

    // The entry deleted behind Tessera's back: also a clear message.
    let entry = keyring_entries(&v).remove(0);
    let cleared = service
        .env(&mut Command::new("secret-tool"))
        .args(["clear", "service", "tessera", "username", &entry])
        .status()
        .unwrap();
    assert!(cleared.success());
    let out = run(&v, &service, false, &["--unlock", "keyring", "list"]);
    assert_code(&out, 3, "keyring unlock with the entry gone");
    assert!(stderr(&out).contains("no secret for this vault"), "{}", stderr(&out));
}

#[test]
fn composite_keyring_and_password_slot_needs_both() {
    let service = SecretService::start();
    let v = TestVault::new();
    let added = json(&run(&v, &service, true, &["--json", "slot", "add", "keyring", "--and", "password"]), "slot add");
    assert_eq!(added["kind"], "keyring+password");
    // Only the composite slot may open with the keyring: drop the others.
    for id in ["2", "1"] {
        assert_success(&run(&v, &service, true, &["slot", "remove", id]), "slot remove");
    }
    let both = run(&v, &service, true, &["--unlock", "keyring", "--json", "slot", "list"]);
    let slots = json(&both, "unlock with keyring and password");
    assert_eq!(slots[0]["requires"], serde_json::json!(["keyring", "password"]));

    let keyring_only = run(&v, &service, false, &["--unlock", "keyring", "list"]);
    assert_code(&keyring_only, 2, "composite slot without the password");
    let wrong = v.dir.path().join("wrong");
    std::fs::write(&wrong, "not the password\n").unwrap();
    let mut c = Command::new(tessera_test_support::tessera_bin());
    c.arg("--vault").arg(&v.path).arg("--password-file").arg(&wrong).args(["--unlock", "keyring", "list"]);
    let out = service.env(&mut c).stdin(Stdio::null()).output().unwrap();
    assert_code(&out, 3, "composite slot with a wrong password");
    // And the password alone opens nothing: there is no password slot left.
    assert_code(&run(&v, &service, true, &["list"]), 3, "password alone");
}

#[test]
fn the_last_slot_cannot_be_removed() {
    let service = SecretService::start();
    let v = TestVault::new();
    assert_success(&run(&v, &service, true, &["slot", "remove", "2"]), "remove the recovery slot");
    let out = run(&v, &service, true, &["slot", "remove", "1"]);
    assert_code(&out, 2, "removing the last slot");
    assert!(stderr(&out).contains("last key slot"), "{}", stderr(&out));
    assert_success(&run(&v, &service, true, &["list"]), "the vault still opens");
}

#[test]
fn locked_keyring_says_so_and_falls_back_to_the_password() {
    let service = SecretService::start();
    let v = TestVault::new();
    assert_success(&run(&v, &service, true, &["slot", "add", "keyring"]), "slot add keyring");
    let locked = service
        .env(&mut Command::new("dbus-send"))
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .stdout(Stdio::null())
        .status()
        .expect("dbus-send runs");
    assert!(locked.success(), "lock the login collection");

    // Headless, the keyring's unlock prompt cannot show: a clear refusal,
    // not a hang.
    let started = std::time::Instant::now();
    let out = run(&v, &service, false, &["--unlock", "keyring", "list"]);
    assert_code(&out, 3, "keyring unlock with the keyring locked");
    assert!(stderr(&out).contains("locked"), "{}", stderr(&out));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let out = run(&v, &service, true, &["--unlock", "keyring", "list"]);
    assert_success(&out, "fallback to the password");
    assert!(stderr(&out).contains("using the master password instead"), "{}", stderr(&out));
}
