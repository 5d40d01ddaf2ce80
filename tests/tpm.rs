//! The TPM 2.0 factor against a real TPM simulator: each test starts its
//! own `swtpm` on loopback (tests/support) and drives it through the same
//! tss-esapi code path as `/dev/tpmrm0`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tessera_test_support::{Swtpm, TestVault, assert_code, assert_success, stderr, stdout, tessera_bin};

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
    let id = v.add_login("Server", "root");
    let added = enrol(&v, &tpm, "2468", &[]);
    assert_eq!(added["kind"], "tpm");

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

// --- whole-file rollback (the TPM NV counter) ---------------------------------

fn add(v: &TestVault, tpm: &Swtpm, title: &str) {
    let out = run(v, tpm, true, &["add", "--type", "login", "--title", title, "--username", "u", "--generate"]);
    assert_success(&out, &format!("add {title}"));
}

/// The vault file and any WAL beside it, as a backup tool would copy them.
const VAULT_FILES: [&str; 3] = ["", "-wal", "-shm"];

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// Copies the vault while no process has it open (closing the last
/// connection checkpoints the WAL into the file), as a backup would.
fn back_up(v: &TestVault, name: &str) -> PathBuf {
    let backup = v.dir.path().join(name);
    for suffix in VAULT_FILES {
        let from = sibling(&v.path, suffix);
        if from.exists() {
            std::fs::copy(&from, sibling(&backup, suffix)).unwrap();
        }
    }
    backup
}

/// Puts a backup back in the vault's place.
fn put_back(backup: &Path, v: &TestVault) {
    for suffix in VAULT_FILES {
        let (from, to) = (sibling(backup, suffix), sibling(&v.path, suffix));
        if from.exists() {
            std::fs::copy(&from, &to).unwrap();
        } else if to.exists() {
            std::fs::remove_file(&to).unwrap();
        }
    }
}

const OLDER: &str = "this vault file is older than the last one this TPM saw";

#[test]
fn an_older_copy_of_the_vault_is_reported_after_a_write() {
    let tpm = Swtpm::start();
    let v = TestVault::new();
    let added = enrol(&v, &tpm, "2468", &[]);
    assert!(added["rollback_counter"].is_u64(), "{added}");
    add(&v, &tpm, "Before the backup");
    let backup = back_up(&v, "backup.tessera");
    add(&v, &tpm, "After the backup");
    let newer = back_up(&v, "newer.tessera");
    put_back(&backup, &v);

    // Reading and writing are both refused, with the message and the way out.
    let pin = pin_file(&v, "pin", "2468");
    let pin = pin.to_str().unwrap();
    for (password, args) in [
        (true, &["list"][..]),
        (false, &["--unlock", "tpm", "--pin-file", pin, "list"][..]),
        (true, &["add", "--type", "login", "--title", "On the old copy", "--username", "u", "--generate"][..]),
    ] {
        let out = run(&v, &tpm, password, args);
        assert_code(&out, 5, &format!("{args:?} on an older copy"));
        let err = stderr(&out);
        assert!(err.contains(OLDER) && err.contains("restore-check --accept-older"), "{err}");
    }
    let out = run(&v, &tpm, true, &["--json", "restore-check"]);
    assert_code(&out, 5, "restore-check on an older copy");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "older", "{report}");
    assert!(report["file"].as_u64().unwrap() < report["tpm"].as_u64().unwrap(), "{report}");
    assert!(stderr(&out).contains(OLDER));

    // Nothing was written to the older copy, and the newer file put back
    // opens and writes as before.
    put_back(&newer, &v);
    let out = run(&v, &tpm, true, &["list"]);
    assert_success(&out, "list on the newer file");
    assert!(stdout(&out).contains("After the backup"));
    add(&v, &tpm, "Later");
    let out = run(&v, &tpm, true, &["--json", "restore-check"]);
    assert_success(&out, "restore-check on the current file");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "current", "{report}");
    assert_eq!(report["file"], report["tpm"], "{report}");
}

#[test]
fn restore_check_accept_older_reopens_a_deliberate_restore() {
    let tpm = Swtpm::start();
    let v = TestVault::new();
    enrol(&v, &tpm, "2468", &[]);
    add(&v, &tpm, "In the backup");
    let backup = back_up(&v, "backup.tessera");
    add(&v, &tpm, "Only in the lost file");
    put_back(&backup, &v);

    // Accepting asks for the master password even when another factor
    // unlocks: without one (no file, no terminal) it is refused…
    let pin = pin_file(&v, "pin", "2468");
    let pin = pin.to_str().unwrap();
    let out = run(&v, &tpm, false, &["--unlock", "tpm", "--pin-file", pin, "restore-check", "--accept-older"]);
    assert_code(&out, 2, "accept-older without the master password");
    assert!(stderr(&out).contains("no master password"), "{}", stderr(&out));
    // …and a wrong one is a wrong password.
    let wrong = pin_file(&v, "wrong", "not the password");
    let mut c = Command::new(tessera_bin());
    c.arg("--vault").arg(&v.path).arg("--tpm-tcti").arg(tpm.tcti()).arg("--password-file").arg(&wrong);
    let out = c.args(["restore-check", "--accept-older"]).stdin(Stdio::null()).output().unwrap();
    assert_code(&out, 3, "accept-older with a wrong password");
    assert_code(&run(&v, &tpm, true, &["list"]), 5, "still refused after the failed attempts");

    let out = run(&v, &tpm, true, &["--json", "restore-check", "--accept-older"]);
    assert_success(&out, "restore-check --accept-older");
    let accepted: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(accepted["accepted"], true, "{accepted}");

    // The restored copy opens, reads and writes from now on.
    let out = run(&v, &tpm, true, &["list"]);
    assert_success(&out, "list after accepting");
    assert!(stdout(&out).contains("In the backup") && !stdout(&out).contains("Only in the lost file"));
    add(&v, &tpm, "After the restore");
    let out = run(&v, &tpm, false, &["--unlock", "tpm", "--pin-file", pin, "--json", "restore-check"]);
    assert_success(&out, "restore-check after accepting");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "current", "{report}");
    // The audit log says the copy was accepted.
    let out = run(&v, &tpm, true, &["audit"]);
    assert_success(&out, "audit");
    assert!(stdout(&out).contains("accepted as current"), "{}", stdout(&out));
}

#[test]
fn without_a_tpm_slot_nothing_changes() {
    let tpm = Swtpm::start();
    let v = TestVault::new();
    v.add_login("Before the backup", "u");
    let backup = back_up(&v, "backup.tessera");
    v.add_login("After the backup", "u");
    put_back(&backup, &v);
    // No TPM is asked, none is needed: an older copy is not detectable
    // without one (docs/THREAT-MODEL.md §1), and the vault works as before.
    assert_success(&v.run(&["list"]), "list on an older copy of an unbound vault");
    v.add_login("On the old copy", "u");
    let out = v.run(&["--json", "restore-check"]);
    assert_success(&out, "restore-check on an unbound vault");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(), serde_json::json!({"bound": false}));
    let out = v.run(&["restore-check", "--accept-older"]);
    assert_code(&out, 2, "accept-older on an unbound vault");
    assert!(stderr(&out).contains("not bound to a TPM counter"), "{}", stderr(&out));
    // The file carries no binding, and stays readable by schema-2 builds.
    let db = v.sqlite();
    let tables: i64 =
        db.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'rollback_binding'", [], |r| r.get(0)).unwrap();
    let version: i64 = db.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!((tables, version), (0, 2));
    drop(db);

    // A TPM slot added and removed again takes its binding with it.
    let added = enrol(&v, &tpm, "2468", &[]);
    assert!(added["rollback_counter"].is_u64(), "{added}");
    let id = added["id"].to_string();
    assert_success(&run(&v, &tpm, true, &["slot", "remove", &id]), "slot remove");
    let backup = back_up(&v, "backup2.tessera");
    v.add_login("After the second backup", "u");
    put_back(&backup, &v);
    assert_success(&v.run(&["list"]), "list without the TPM after the slot is gone");
    let out = v.run(&["--json", "restore-check"]);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(), serde_json::json!({"bound": false}));
}

#[test]
fn a_bound_vault_without_its_tpm_reads_with_a_warning_and_refuses_writes() {
    let tpm = Swtpm::start();
    let v = TestVault::new();
    v.add_login("Server", "root");
    enrol(&v, &tpm, "2468", &[]);
    let tcti = tpm.tcti();
    drop(tpm);
    let mut c = v.command();
    let out = c.args(["--tpm-tcti", &tcti, "list"]).output().unwrap();
    assert_success(&out, "list with the TPM gone");
    assert!(stdout(&out).contains("Server"));
    let err = stderr(&out);
    assert!(err.contains("warning") && err.contains("TPM counter") && err.contains("Reading only"), "{err}");
    let mut c = v.command();
    let out = c.args(["--tpm-tcti", &tcti, "rm", "Server"]).output().unwrap();
    assert_code(&out, 1, "a write with the TPM gone");
    let err = stderr(&out);
    assert!(err.contains("nothing is written") && err.contains("slot remove"), "{err}");
    // The way out when the TPM is gone for good: remove the TPM slot.
    let slots = v.json(&["--tpm-tcti", &tcti, "slot", "list"]);
    let id = slots.as_array().unwrap().iter().find(|s| s["kind"] == "tpm").unwrap()["id"].to_string();
    let mut c = v.command();
    let out = c.args(["--tpm-tcti", &tcti, "slot", "remove", &id]).output().unwrap();
    assert_success(&out, "slot remove with the TPM gone");
    assert_success(&v.run(&["rm", "Server"]), "a write once unbound");
}

#[test]
fn a_vault_whose_counter_is_gone_is_read_only_until_accept_older_binds_a_new_one() {
    let tpm = Swtpm::start();
    let other = Swtpm::start(); // another machine's TPM, or this one cleared
    let v = TestVault::new();
    v.add_login("Server", "root");
    enrol(&v, &tpm, "2468", &[]);
    let out = run(&v, &other, true, &["list"]);
    assert_success(&out, "list where the counter does not exist");
    assert!(stderr(&out).contains("no counter at NV index"), "{}", stderr(&out));
    assert_code(&run(&v, &other, true, &["rm", "Server"]), 1, "a write where the counter does not exist");

    let out = run(&v, &other, true, &["--json", "restore-check", "--accept-older"]);
    assert_success(&out, "accept-older onto a new counter");
    let accepted: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(accepted["accepted"], true, "{accepted}");
    let out = run(&v, &other, true, &["rm", "Server"]);
    assert_success(&out, "a write on the new counter");
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let out = run(&v, &other, true, &["--json", "restore-check"]);
    assert_success(&out, "restore-check on the new counter");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "current", "{report}");
}

/// The TPM 2.0 command code of TPM2_NV_Increment (TPM 2.0 Part 2, 6.5).
const TPM_CC_NV_INCREMENT: u32 = 0x0000_0134;

/// A TCTI path to a swtpm that passes every command through except
/// TPM2_NV_Increment, on which it drops the connection: the state a crash
/// between a write's commit and its counter step leaves behind.
struct NoIncrement {
    port: u16,
}

impl NoIncrement {
    fn start(tpm: &Swtpm) -> NoIncrement {
        let target: u16 = tpm.tcti().rsplit('=').next().and_then(|p| p.parse().ok()).expect("the swtpm port");
        loop {
            let first = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
            let port = first.local_addr().expect("local address").port();
            let Some(second) = port.checked_add(1).and_then(|p| std::net::TcpListener::bind(("127.0.0.1", p)).ok())
            else {
                continue;
            };
            // The command port, command by command; the control port as is.
            std::thread::spawn(move || {
                for client in first.incoming().flatten() {
                    std::thread::spawn(move || relay_commands(client, target));
                }
            });
            std::thread::spawn(move || {
                for client in second.incoming().flatten() {
                    std::thread::spawn(move || pump(client, target + 1));
                }
            });
            return NoIncrement { port };
        }
    }

    fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }
}

/// Relays TPM commands and responses (header: tag u16, size u32, code u32).
fn relay_commands(mut client: std::net::TcpStream, port: u16) {
    use std::io::{Read, Write};
    let Ok(mut tpm) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return };
    let limit = Some(std::time::Duration::from_secs(10));
    let _ = (client.set_read_timeout(limit), tpm.set_read_timeout(limit));
    let read_message = |from: &mut std::net::TcpStream| -> Option<(u32, Vec<u8>)> {
        let mut message = vec![0u8; 10];
        from.read_exact(&mut message).ok()?;
        let size = u32::from_be_bytes(message[2..6].try_into().unwrap()) as usize;
        let code = u32::from_be_bytes(message[6..10].try_into().unwrap());
        message.resize(size.max(10), 0);
        from.read_exact(&mut message[10..]).ok()?;
        Some((code, message))
    };
    while let Some((code, command)) = read_message(&mut client) {
        if code == TPM_CC_NV_INCREMENT || tpm.write_all(&command).is_err() {
            return;
        }
        let Some((_, response)) = read_message(&mut tpm) else { return };
        if client.write_all(&response).is_err() {
            return;
        }
    }
}

/// Copies bytes both ways between `client` and the port, passing each
/// side's end on (swtpm serves one control connection at a time).
fn pump(client: std::net::TcpStream, port: u16) {
    use std::net::Shutdown;
    let Ok(tpm) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return };
    let (mut from_client, mut to_tpm) = (client.try_clone().unwrap(), tpm.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_tpm);
        let _ = to_tpm.shutdown(Shutdown::Write);
    });
    let (mut from_tpm, mut to_client) = (tpm, client);
    let _ = std::io::copy(&mut from_tpm, &mut to_client);
    let _ = to_client.shutdown(Shutdown::Write);
}

#[test]
fn a_crash_between_commit_and_advance_heals() {
    let tpm = Swtpm::start();
    let v = TestVault::new();
    enrol(&v, &tpm, "2468", &[]);
    // A write whose counter step never reaches the TPM: the commit stands.
    let cut = NoIncrement::start(&tpm);
    let mut c = v.command();
    c.arg("--tpm-tcti").arg(cut.tcti());
    let out = c.args(["add", "--type", "login", "--title", "Committed", "--username", "u", "--generate"]).output();
    assert_success(&out.unwrap(), "a write whose counter step is cut off");
    let out = run(&v, &tpm, true, &["--json", "restore-check"]);
    assert_success(&out, "restore-check after the cut");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "interrupted", "{report}");
    assert_eq!(report["file"].as_u64().unwrap(), report["tpm"].as_u64().unwrap() + 1, "{report}");

    // The next unlock completes the step: the write is there, no alarm.
    let out = run(&v, &tpm, true, &["list"]);
    assert_success(&out, "list after the cut");
    assert!(stdout(&out).contains("Committed") && !stderr(&out).contains("older"), "{}", stderr(&out));
    let out = run(&v, &tpm, true, &["--json", "restore-check"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["verdict"].as_str(), report["file"] == report["tpm"]), (Some("current"), true), "{report}");
}
