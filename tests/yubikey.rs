//! The YubiKey factor through the production path — the `yubikey` crate,
//! PC/SC, pcscd and vsmartcard's virtual reader — with only the card
//! simulated (`tests/piv-sim`, real P-256 keys). pcscd and its reader are
//! one per machine, so the cases run in order inside one test.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use tessera_test_support::{Pcscd, PivCard, TestVault, assert_code, assert_success, stderr, tessera_bin};

fn file(v: &TestVault, name: &str, line: &str) -> PathBuf {
    let path = v.dir.path().join(name);
    std::fs::write(&path, format!("{line}\n")).unwrap();
    path
}

fn run(v: &TestVault, password: bool, args: &[&str]) -> Output {
    let mut c = Command::new(tessera_bin());
    c.arg("--vault").arg(&v.path);
    if password {
        c.arg("--password-file").arg(&v.password_file);
    }
    c.env_remove("TESSERA_VAULT").stdin(Stdio::null()).args(args).output().expect("run tessera")
}

fn unlock_args(pin: &str) -> Vec<&str> {
    vec!["--unlock", "yubikey", "--pin-file", pin]
}

#[test]
fn yubikey_piv_factor_end_to_end() {
    let _pcscd = Pcscd::start();
    let v = TestVault::new();
    let pin = file(&v, "pin", "123456");
    let pin = pin.to_str().unwrap();
    let bad = file(&v, "bad", "654321");
    let bad = bad.to_str().unwrap();

    // Enrol: the card has no key in 9d yet, so one is generated on it.
    let card = PivCard::insert(4242, "123456");
    let out = run(&v, true, &["--json", "slot", "add", "yubikey", "--pin-file", pin]);
    assert_success(&out, "slot add yubikey");
    let added: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(added["kind"], "yubikey");
    let params: Vec<u8> =
        v.sqlite().query_row("SELECT params FROM slots WHERE kind = 'yubikey'", [], |r| r.get(0)).unwrap();
    let params: serde_json::Value = serde_json::from_slice(&params).unwrap();
    assert_eq!(params["factors"][0]["serial"], 4242);

    // Unlock with the card and its PIN alone.
    let id = v.add_login("VPN", "me");
    let mut args = unlock_args(pin);
    args.extend(["show", &id]);
    assert_success(&run(&v, false, &args), "unlock with the YubiKey");

    // A second slot uses the key already on the card (read from metadata).
    let out = run(&v, true, &["--json", "slot", "add", "yubikey", "--and", "password", "--pin-file", pin]);
    assert_success(&out, "slot add yubikey --and password");
    let db = v.sqlite();
    let mut stmt = db.prepare("SELECT params FROM slots WHERE kind LIKE 'yubikey%' ORDER BY id").unwrap();
    let keys: Vec<String> = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|p| {
            serde_json::from_slice::<serde_json::Value>(&p.unwrap()).unwrap()["factors"][0]["card_public"].to_string()
        })
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "the second slot reuses the card's key");
    drop(stmt);
    drop(db);

    // With only the composite slot left for the YubiKey, it needs both.
    let alone = added["id"].to_string();
    assert_success(&run(&v, true, &["slot", "remove", &alone]), "remove the YubiKey-only slot");
    let mut args = unlock_args(pin);
    args.push("list");
    assert_code(&run(&v, false, &args), 2, "YubiKey without the password");
    assert_success(&run(&v, true, &args), "YubiKey and password");

    // Wrong PINs count down, then the card blocks its PIN.
    let mut args = unlock_args(bad);
    args.push("list");
    let first = run(&v, true, &args);
    assert_code(&first, 3, "wrong PIN");
    assert!(stderr(&first).contains("2 more wrong tries before the YubiKey locks out"), "{}", stderr(&first));
    assert!(!stderr(&first).contains("654321"));
    assert_code(&run(&v, true, &args), 3, "wrong PIN again");
    let blocked = run(&v, true, &args);
    assert_code(&blocked, 3, "wrong PIN a third time");
    let mut args = unlock_args(pin);
    args.push("list");
    let after = run(&v, true, &args);
    assert_code(&after, 3, "right PIN after the block");
    assert!(stderr(&after).contains("PIN is blocked"), "{}", stderr(&after));
    card.remove();

    // No card in the reader.
    let missing = run(&v, true, &args);
    assert_code(&missing, 3, "no card");
    assert!(stderr(&missing).contains("needs YubiKey serial 4242"), "{}", stderr(&missing));

    // Another YubiKey is not the one the slot needs.
    let other = PivCard::insert(7777, "123456");
    let wrong_key = run(&v, true, &args);
    assert_code(&wrong_key, 3, "another YubiKey");
    assert!(stderr(&wrong_key).contains("needs YubiKey serial 4242"), "{}", stderr(&wrong_key));
    drop(other);

    // The master password still opens the vault.
    assert_success(&run(&v, true, &["list"]), "password unlock");
}
