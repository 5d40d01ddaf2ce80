//! Secrets stay secret: not in the vault file or its WAL in the clear, not
//! in any output that did not ask to reveal them, not in any error message.

use tessera_test_support::{PASSWORD, TestVault, assert_success, stderr, stdout, tessera_bin};

const ITEM_PASSWORD: &str = "Zq8-item-password-UNIQUE";
const PROTECTED: &str = "Zq8-protected-value-UNIQUE";
const TOTP_SECRET: &str = "KRSXG5CTMVRXEZLU";
const NOTE: &str = "Zq8-secret-note-UNIQUE";

fn vault_with_secrets() -> (TestVault, String) {
    let v = TestVault::new();
    let secret = v.dir.path().join("item-secret");
    std::fs::write(&secret, format!("{ITEM_PASSWORD}\n")).unwrap();
    let out = v.run_fast(&[
        "add",
        "--title",
        "Secretive",
        "--username",
        "someone",
        "--secret-file",
        secret.to_str().unwrap(),
        "--protected-field",
        &format!("PIN={PROTECTED}"),
        "--otp",
        &format!("otpauth://totp/X:y?secret={TOTP_SECRET}"),
        "--notes",
        NOTE,
    ]);
    assert_success(&out, "add");
    let id = stdout(&out).trim().to_owned();
    (v, id)
}

fn assert_clean(text: &str, what: &str, allow_notes: bool) {
    for secret in [PASSWORD, ITEM_PASSWORD, PROTECTED, TOTP_SECRET] {
        assert!(!text.contains(secret), "{what} leaked a secret ({secret})");
    }
    if !allow_notes {
        assert!(!text.contains(NOTE), "{what} leaked the notes");
    }
}

#[test]
fn no_plaintext_secret_or_title_in_the_vault_file() {
    let (v, _) = vault_with_secrets();
    // Read while a connection is open so the WAL is still there too.
    let _open = v.sqlite();
    let mut bytes = v.bytes();
    if let Ok(wal) = std::fs::read(v.path.with_extension("tessera-wal")) {
        bytes.extend(wal);
    }
    let hay = String::from_utf8_lossy(&bytes);
    for needle in [PASSWORD, ITEM_PASSWORD, PROTECTED, TOTP_SECRET, NOTE, "Secretive", "someone", "PIN"] {
        assert!(!hay.contains(needle), "{needle} is stored in the clear");
    }
}

#[test]
fn outputs_without_reveal_and_all_errors_carry_no_secret() {
    let (v, id) = vault_with_secrets();
    for args in [
        &["list"][..],
        &["--json", "list"],
        &["search", "secret"],
        &["--json", "search", "some"],
        &["--json", "show", &id],
        &["--json", "show", &id, "--history"],
        &["health"],
        &["--json", "health"],
        &["audit"],
        &["--json", "audit"],
        &["verify"],
        &["info"],
    ] {
        let out = v.run(args);
        assert_success(&out, &format!("{args:?}"));
        let allow_notes = args.contains(&"show");
        assert_clean(&stdout(&out), &format!("stdout of {args:?}"), allow_notes);
        assert_clean(&stderr(&out), &format!("stderr of {args:?}"), false);
    }

    // Error paths, including ones whose input holds a secret.
    let wrong = v.dir.path().join("wrong");
    std::fs::write(&wrong, format!("{ITEM_PASSWORD}\n")).unwrap();
    let misplaced = v.dir.path().join("misplaced.json");
    std::fs::write(&misplaced, format!(r#"{{"title": "x", "favourite": "{PROTECTED}"}}"#)).unwrap();
    let errors = [
        v.command().args(["show", "nothing-matches"]).output().unwrap(),
        v.command()
            .args(["add", "--title", "x", "--otp", &format!("otpauth://totp/x?secret={PROTECTED}!")])
            .output()
            .unwrap(),
        v.command().args(["add", "--title", "x", "--field", PROTECTED]).output().unwrap(),
        v.command().args(["add", "--from-json", misplaced.to_str().unwrap()]).output().unwrap(),
        std::process::Command::new(tessera_bin())
            .arg("--vault")
            .arg(&v.path)
            .arg("--password-file")
            .arg(&wrong)
            .arg("list")
            .output()
            .unwrap(),
    ];
    for out in &errors {
        assert!(!out.status.success());
        assert_clean(&stdout(out), "stdout of a failure", false);
        assert_clean(&stderr(out), "stderr of a failure", false);
    }
}
