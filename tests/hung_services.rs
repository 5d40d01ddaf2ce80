//! No call to an outside service waits for ever: the Secret Service, the
//! TPM, PC/SC and the sync server each replaced by one that accepts the
//! connection and never answers (tests/support/hung.rs). Every command
//! ends within its bound plus a margin, with exit 3 (a factor) or 1 (the
//! server), a message naming the service, no panic, and the master
//! password instead where the vault has one.
//!
//! `$TESSERA_SERVICE_TIMEOUT_SECS` shortens the bounds to 2 s so the suite
//! stays quick; one test keeps the Secret Service's own 10 s.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tessera_test_support::hung::{SilentSecretService, SilentTcp, SilentUnixSocket};
use tessera_test_support::{
    Pcscd, PivCard, SecretService, Swtpm, TestVault, assert_code, assert_success, stderr, tessera_bin,
};

/// The shortened bound every test but one runs with.
const BOUND: Duration = Duration::from_secs(2);

/// Room for everything else a command does (Argon2 at the test vault's
/// 64 MiB, starting up) on a busy two-core machine.
const MARGIN: Duration = Duration::from_secs(15);

/// `tessera` on `v` with the short bound, no master password (unless the
/// caller adds one) and no inherited vault, TPM or PC/SC settings.
fn tessera(v: &TestVault) -> Command {
    let mut c = Command::new(tessera_bin());
    c.arg("--vault")
        .arg(&v.path)
        .env("TESSERA_SERVICE_TIMEOUT_SECS", BOUND.as_secs().to_string())
        .env_remove("TESSERA_VAULT")
        .env_remove("TESSERA_TPM_TCTI")
        .env_remove("PCSCLITE_CSOCK_NAME")
        .stdin(Stdio::null());
    c
}

/// Runs `c`, checking it ends within `bound` + [`MARGIN`] (it is killed
/// and the test fails if not) and does not panic.
fn run_bounded(c: &mut Command, bound: Duration, what: &str) -> Output {
    let start = Instant::now();
    let mut child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run tessera");
    let limit = bound + MARGIN;
    while child.try_wait().expect("wait for tessera").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect the output");
            panic!("`{what}` was still waiting after {limit:?}; stderr: {}", stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("collect the output");
    let took = start.elapsed();
    eprintln!("{what}: {took:.1?}");
    assert!(!stderr(&out).contains("panicked"), "`{what}` panicked: {}", stderr(&out));
    out
}

fn pin_file(v: &TestVault, pin: &str) -> PathBuf {
    let path = v.dir.path().join("pin");
    std::fs::write(&path, format!("{pin}\n")).unwrap();
    path
}

fn slot_kinds(v: &TestVault) -> Vec<String> {
    let slots = v.json(&["slot", "list"]);
    slots.as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap().to_owned()).collect()
}

// --- the Secret Service ------------------------------------------------------

#[test]
fn adding_a_keyring_slot_ends_in_10_s_when_the_secret_service_never_answers() {
    let service = SilentSecretService::start();
    let v = TestVault::new();
    let mut c = tessera(&v);
    // The Secret Service's own bound, not the tests' short one.
    c.env_remove("TESSERA_SERVICE_TIMEOUT_SECS").arg("--password-file").arg(&v.password_file);
    let out = run_bounded(service.env(&mut c).args(["slot", "add", "keyring"]), Duration::from_secs(10), "slot add");
    assert_code(&out, 3, "slot add keyring with a silent Secret Service");
    let message = stderr(&out);
    assert!(message.contains("the Secret Service (OS keyring) did not answer in 10 s"), "{message}");
    assert!(message.contains("keyring daemon"), "no next step: {message}");
    assert_eq!(slot_kinds(&v), ["password", "recovery"], "nothing was added");
}

#[test]
fn a_keyring_unlock_falls_back_to_the_password_when_the_secret_service_never_answers() {
    let v = TestVault::new();
    {
        let working = SecretService::start();
        let out = working.env(&mut v.command()).args(["slot", "add", "keyring"]).output().unwrap();
        assert_success(&out, "slot add keyring");
    }
    let id = v.add_login("Mail", "me@example.com");
    let silent = SilentSecretService::start();

    let mut c = tessera(&v);
    c.arg("--password-file").arg(&v.password_file).args(["--unlock", "keyring", "show", &id]);
    let out = run_bounded(silent.env(&mut c), BOUND, "unlock keyring, password given");
    assert_success(&out, "the password instead of a silent keyring");
    let message = stderr(&out);
    assert!(message.contains("the Secret Service (OS keyring) did not answer in 2 s"), "{message}");
    assert!(message.contains("using the master password instead"), "{message}");

    let mut c = tessera(&v);
    c.args(["--unlock", "keyring", "show", &id]);
    let out = run_bounded(silent.env(&mut c), BOUND, "unlock keyring, no password");
    assert_code(&out, 3, "a silent keyring and no password to fall back on");
    let message = stderr(&out);
    assert!(message.contains("did not answer in 2 s"), "{message}");
    assert!(message.contains("unlock with your master password instead"), "{message}");
}

// --- the TPM -----------------------------------------------------------------

#[test]
fn adding_a_tpm_slot_ends_at_the_bound_when_the_tpm_never_answers() {
    let tpm = SilentTcp::start();
    let v = TestVault::new();
    let pin = pin_file(&v, "2468");
    let mut c = tessera(&v);
    c.arg("--password-file").arg(&v.password_file).arg("--tpm-tcti").arg(tpm.tcti());
    let out = run_bounded(c.args(["slot", "add", "tpm", "--pin-file", pin.to_str().unwrap()]), BOUND, "slot add tpm");
    assert_code(&out, 3, "slot add tpm with a silent TPM");
    let message = stderr(&out);
    assert!(message.contains("the TPM did not answer in 2 s"), "{message}");
    assert!(message.contains("--tpm-tcti"), "no next step: {message}");
    assert!(!message.contains("2468"), "the PIN is echoed: {message}");
    assert_eq!(slot_kinds(&v), ["password", "recovery"], "nothing was added");
}

#[test]
fn a_tpm_unlock_falls_back_to_the_password_when_the_tpm_never_answers() {
    let v = TestVault::new();
    let pin = pin_file(&v, "2468");
    let pin = pin.to_str().unwrap();
    {
        let working = Swtpm::start();
        let mut c = v.command();
        let out = c.arg("--tpm-tcti").arg(working.tcti()).args(["slot", "add", "tpm", "--pin-file", pin]).output();
        assert_success(&out.unwrap(), "slot add tpm");
    }
    let silent = SilentTcp::start();

    let mut c = tessera(&v);
    c.arg("--password-file").arg(&v.password_file).arg("--tpm-tcti").arg(silent.tcti());
    let out = run_bounded(c.args(["--unlock", "tpm", "--pin-file", pin, "list"]), BOUND, "unlock tpm, password given");
    assert_success(&out, "the password instead of a silent TPM");
    let message = stderr(&out);
    assert!(message.contains("the TPM did not answer in 2 s"), "{message}");
    assert!(message.contains("using the master password instead"), "{message}");

    let mut c = tessera(&v);
    c.arg("--tpm-tcti").arg(silent.tcti());
    let out = run_bounded(c.args(["--unlock", "tpm", "--pin-file", pin, "list"]), BOUND, "unlock tpm, no password");
    assert_code(&out, 3, "a silent TPM and no password to fall back on");
    assert!(stderr(&out).contains("unlock with your master password instead"), "{}", stderr(&out));
}

// --- PC/SC -------------------------------------------------------------------

#[test]
fn adding_a_yubikey_slot_ends_at_the_bound_when_pcscd_never_answers() {
    let pcscd = SilentUnixSocket::start();
    let v = TestVault::new();
    let pin = pin_file(&v, "123456");
    let mut c = tessera(&v);
    c.arg("--password-file").arg(&v.password_file).env("PCSCLITE_CSOCK_NAME", pcscd.path());
    let out =
        run_bounded(c.args(["slot", "add", "yubikey", "--pin-file", pin.to_str().unwrap()]), BOUND, "slot add yubikey");
    assert_code(&out, 3, "slot add yubikey with a silent pcscd");
    let message = stderr(&out);
    assert!(message.contains("the smart-card service (PC/SC) did not answer in 2 s"), "{message}");
    assert!(message.contains("pcscd"), "no next step: {message}");
    assert_eq!(slot_kinds(&v), ["password", "recovery"], "nothing was added");
}

#[test]
fn a_yubikey_unlock_falls_back_to_the_password_when_pcscd_never_answers() {
    let v = TestVault::new();
    let pin = pin_file(&v, "123456");
    let pin = pin.to_str().unwrap();
    {
        let _pcscd = Pcscd::start();
        let _card = PivCard::insert(4343, "123456");
        let out = v.command().args(["slot", "add", "yubikey", "--pin-file", pin]).output().unwrap();
        assert_success(&out, "slot add yubikey");
    }
    let silent = SilentUnixSocket::start();

    let mut c = tessera(&v);
    c.arg("--password-file").arg(&v.password_file).env("PCSCLITE_CSOCK_NAME", silent.path());
    let out =
        run_bounded(c.args(["--unlock", "yubikey", "--pin-file", pin, "list"]), BOUND, "unlock yubikey, password");
    assert_success(&out, "the password instead of a silent pcscd");
    let message = stderr(&out);
    assert!(message.contains("the smart-card service (PC/SC) did not answer in 2 s"), "{message}");
    assert!(message.contains("using the master password instead"), "{message}");

    let mut c = tessera(&v);
    c.env("PCSCLITE_CSOCK_NAME", silent.path());
    let out =
        run_bounded(c.args(["--unlock", "yubikey", "--pin-file", pin, "list"]), BOUND, "unlock yubikey, no password");
    assert_code(&out, 3, "a silent pcscd and no password to fall back on");
    assert!(stderr(&out).contains("unlock with your master password instead"), "{}", stderr(&out));
}

// --- the sync server ---------------------------------------------------------

#[test]
fn registering_with_a_sync_server_that_never_answers_ends_at_the_bound() {
    let server = SilentTcp::start();
    let v = TestVault::new();
    let kit = v.dir.path().join("kit.txt");
    let mut c = tessera(&v);
    c.arg("--password-file").arg(&v.password_file).args(["sync", "register", "--server", &server.url()]);
    c.args(["--email", "me@example.com", "--emergency-kit", kit.to_str().unwrap()]);
    let out = run_bounded(&mut c, BOUND, "sync register");
    assert_code(&out, 1, "sync register with a silent server");
    let message = stderr(&out);
    assert!(message.contains(&server.url()), "the server is not named: {message}");
    assert!(message.contains("did not answer in 2 s"), "{message}");
    assert!(!kit.exists(), "an emergency kit for an account that was never made");
}
