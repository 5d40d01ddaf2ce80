//! The TPM 2.0 factor against a real TPM simulator: each test starts its
//! own `swtpm` on loopback (tests/support) and drives it through the same
//! tss-esapi code path as `/dev/tpmrm0`.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use tessera_test_support::{Swtpm, TestVault, assert_code, assert_success, stderr, tessera_bin};

fn pin_file(v: &TestVault, name: &str, pin: &str) -> PathBuf {
    let path = v.dir.path().join(name);
    std::fs::write(&path, format!("{pin}\n")).unwrap();
    path
}

/// `tessera ARGS` on `v` against `tpm`, with the master password only if
/// `password`.
fn run(v: &TestVault, tpm: &Swtpm, password: bool, args: &[&str]) -> Output {
    let mut c = Command::new(tessera_bin());
    c.arg("--vault").arg(&v.path).arg("--tpm-tcti").arg(tpm.tcti());
    if password {
        c.arg("--password-file").arg(&v.password_file);
    }
    c.env_remove("TESSERA_VAULT").env_remove("TESSERA_TPM_TCTI").stdin(Stdio::null()).args(args);
    c.output().expect("run tessera")
}

fn enrol(v: &TestVault, tpm: &Swtpm, pin: &str, extra: &[&str]) -> serde_json::Value {
    let pin = pin_file(v, "enrol-pin", pin);
    let mut args = vec!["--json", "slot", "add", "tpm", "--pin-file", pin.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = run(v, tpm, true, &args);
    assert_success(&out, "slot add tpm");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn tpm_slot_unlocks_with_its_pin_and_nothing_else() {
    let tpm = Swtpm::start();
    let v = TestVault::new();
    let added = enrol(&v, &tpm, "2468", &[]);
    assert_eq!(added["kind"], "tpm");
    let id = v.add_login("Server", "root");

    let pin = pin_file(&v, "pin", "2468");
    let out = run(&v, &tpm, false, &["--unlock", "tpm", "--pin-file", pin.to_str().unwrap(), "show", &id]);
    assert_success(&out, "unlock with the TPM");
    let out = run(&v, &tpm, false, &["--unlock", "tpm", "--pin-file", pin.to_str().unwrap(), "--json", "slot", "list"]);
    assert_success(&out, "slot list");
    let slots: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let slot = slots.as_array().unwrap().iter().find(|s| s["kind"] == "tpm").unwrap();
    assert_eq!(slot["requires"], serde_json::json!(["tpm"]));
    assert!(slot["last_used"].is_string());
    // No secret of the TPM factor is in the vault file in the clear.
    let params: Vec<u8> =
        v.sqlite().query_row("SELECT params FROM slots WHERE kind = 'tpm'", [], |r| r.get(0)).unwrap();
    assert!(!String::from_utf8_lossy(&params).contains("2468"));
}

#[test]
fn wrong_pins_count_down_to_the_tpm_lockout() {
    let tpm = Swtpm::start();
    let v = TestVault::new();
    enrol(&v, &tpm, "2468", &[]);
    let bad = pin_file(&v, "bad", "1111");
    let mut messages = Vec::new();
    for _ in 0..3 {
        let out = run(&v, &tpm, false, &["--unlock", "tpm", "--pin-file", bad.to_str().unwrap(), "list"]);
        assert_code(&out, 3, "unlock with a wrong PIN");
        messages.push(stderr(&out));
    }
    assert!(messages[0].contains("wrong PIN; 2 more wrong tries"), "{messages:?}");
    assert!(messages[1].contains("wrong PIN; 1 more wrong try"), "{messages:?}");
    assert!(messages[2].contains("locks out"), "{messages:?}");
    assert!(messages.iter().all(|m| !m.contains("esys") && !m.contains("ERROR")), "TSS noise: {messages:?}");
    assert!(messages.iter().all(|m| !m.contains("1111")), "a PIN is echoed: {messages:?}");

    // Locked out: even the right PIN is refused, with a clear message.
    let good = pin_file(&v, "good", "2468");
    let out = run(&v, &tpm, false, &["--unlock", "tpm", "--pin-file", good.to_str().unwrap(), "list"]);
    assert_code(&out, 3, "unlock while locked out");
    assert!(stderr(&out).contains("locked out"), "{}", stderr(&out));
    // The master password still works.
    assert_success(&run(&v, &tpm, true, &["list"]), "password unlock during a TPM lockout");
}

#[test]
fn composite_tpm_and_password_slot_needs_both() {
    let tpm = Swtpm::start();
    let v = TestVault::new();
    let added = enrol(&v, &tpm, "2468", &["--and", "password"]);
    assert_eq!(added["kind"], "tpm+password");
    for id in ["2", "1"] {
        assert_success(&run(&v, &tpm, true, &["slot", "remove", id]), "slot remove");
    }
    let pin = pin_file(&v, "pin", "2468");
    let pin = pin.to_str().unwrap();
    assert_success(&run(&v, &tpm, true, &["--unlock", "tpm", "--pin-file", pin, "list"]), "TPM and password");
    assert_code(&run(&v, &tpm, false, &["--unlock", "tpm", "--pin-file", pin, "list"]), 2, "TPM without password");
    let wrong = pin_file(&v, "wrong-password", "not the password");
    let mut c = Command::new(tessera_bin());
    c.arg("--vault").arg(&v.path).arg("--tpm-tcti").arg(tpm.tcti()).arg("--password-file").arg(&wrong);
    let out = c.args(["--unlock", "tpm", "--pin-file", pin, "list"]).stdin(Stdio::null()).output().unwrap();
    assert_code(&out, 3, "TPM with a wrong password");
    assert_code(&run(&v, &tpm, true, &["list"]), 3, "the password alone");
}

#[test]
fn a_slot_from_another_tpm_or_no_tpm_is_a_clear_error() {
    let tpm = Swtpm::start();
    let other = Swtpm::start();
    let v = TestVault::new();
    enrol(&v, &tpm, "2468", &[]);
    let pin = pin_file(&v, "pin", "2468");
    let out = run(&v, &other, false, &["--unlock", "tpm", "--pin-file", pin.to_str().unwrap(), "list"]);
    assert_code(&out, 3, "unlock on another TPM");
    assert!(stderr(&out).contains("another machine's TPM"), "{}", stderr(&out));

    let tcti = tpm.tcti();
    drop(tpm);
    let mut c = Command::new(tessera_bin());
    c.arg("--vault").arg(&v.path).arg("--tpm-tcti").arg(&tcti);
    let out = c.args(["--unlock", "tpm", "--pin-file", pin.to_str().unwrap(), "list"]).stdin(Stdio::null()).output();
    let out = out.unwrap();
    assert_code(&out, 3, "unlock with the TPM gone");
    assert!(stderr(&out).contains("cannot reach the TPM"), "{}", stderr(&out));
}

#[test]
fn removing_the_tpm_slot_leaves_the_other_factors() {
    let tpm = Swtpm::start();
    let v = TestVault::new();
    let added = enrol(&v, &tpm, "2468", &[]);
    let id = added["id"].to_string();
    assert_success(&run(&v, &tpm, true, &["slot", "remove", &id]), "slot remove");
    let pin = pin_file(&v, "pin", "2468");
    let out = run(&v, &tpm, false, &["--unlock", "tpm", "--pin-file", pin.to_str().unwrap(), "list"]);
    assert_code(&out, 3, "unlock with a removed TPM slot");
    assert!(stderr(&out).contains("no tpm slot"), "{}", stderr(&out));
    assert_success(&run(&v, &tpm, true, &["list"]), "password still opens");
}
