//! The CLI contract, driven through the real binary on real vault files.

use std::collections::BTreeSet;

use serde_json::Value;
use tessera_test_support::{TestVault, assert_code, assert_success, code, stderr, stdout, tessera_bin};

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("a JSON object").keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn init_refuses_to_overwrite_an_existing_vault() {
    let v = TestVault::new();
    let before = v.bytes();
    let out = v.run(&["init", "--kdf-memory-mib", "64", "--kdf-iterations", "3", "--kdf-parallelism", "4"]);
    assert_code(&out, 2, "init over an existing vault");
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(v.bytes(), before);
}

#[test]
fn init_refuses_kdf_parameters_below_the_floor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.tessera");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "pw\n").unwrap();
    for params in [
        &["--kdf-memory-mib", "32", "--kdf-iterations", "3", "--kdf-parallelism", "4"][..],
        &["--kdf-memory-mib", "64", "--kdf-iterations", "2", "--kdf-parallelism", "4"],
        &["--kdf-memory-mib", "64", "--kdf-iterations", "3", "--kdf-parallelism", "2"],
        &["--kdf", "pbkdf2", "--kdf-iterations", "599999"],
    ] {
        let out = std::process::Command::new(tessera_bin())
            .arg("--vault")
            .arg(&path)
            .arg("--password-file")
            .arg(&pw)
            .arg("init")
            .args(params)
            .output()
            .unwrap();
        assert_code(&out, 2, &format!("init {params:?}"));
        assert!(stderr(&out).contains("below the minimum"), "{}", stderr(&out));
        assert!(!path.exists(), "a refused init must not leave a file");
    }
}

#[test]
fn init_with_pbkdf2_works_and_info_describes_the_slots() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.tessera");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "pbkdf2 password\n").unwrap();
    let base = |args: &[&str]| {
        std::process::Command::new(tessera_bin())
            .arg("--vault")
            .arg(&path)
            .arg("--password-file")
            .arg(&pw)
            .args(args)
            .output()
            .unwrap()
    };
    let out = base(&["--json", "init", "--kdf", "pbkdf2", "--kdf-iterations", "600000"]);
    assert_success(&out, "init --kdf pbkdf2");
    let init: Value = serde_json::from_slice(&out.stdout).unwrap();
    let code = init["recovery_code"].as_str().expect("the recovery code is printed once");
    assert_eq!(code.len(), 39, "eight groups of four: {code}");
    assert_eq!(init["kdf"]["algorithm"], "pbkdf2");

    let info: Value = serde_json::from_slice(&base(&["--json", "info"]).stdout).unwrap();
    let slots = info["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 2);
    assert_eq!(slots[0]["kind"], "password");
    assert!(slots[0]["description"].as_str().unwrap().contains("PBKDF2-HMAC-SHA256 600000"));
    assert_eq!(slots[1]["kind"], "recovery");

    let out = base(&["add", "--title", "x"]);
    assert_success(&out, "add with a PBKDF2 vault");
}

#[test]
fn missing_vault_says_how_to_create_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(tessera_bin())
        .arg("--vault")
        .arg(dir.path().join("none.tessera"))
        .arg("--password-file")
        .arg("/dev/null")
        .arg("list")
        .output()
        .unwrap();
    assert_code(&out, 1, "list on a missing vault");
    assert!(stderr(&out).contains("tessera init"), "{}", stderr(&out));
}

#[test]
fn add_show_list_follow_the_json_contract() {
    let v = TestVault::new();
    let secret = v.dir.path().join("secret");
    std::fs::write(&secret, "s3cret-Pa55\n").unwrap();
    let out = v.run(&[
        "add",
        "--type",
        "login",
        "--title",
        "GitHub",
        "--username",
        "octo",
        "--url",
        "https://github.com",
        "--url",
        "https://gist.github.com",
        "--notes",
        "two\nlines",
        "--otp",
        "otpauth://totp/GitHub:octo?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
        "--field",
        "Plain=visible value",
        "--protected-field",
        "Recovery=rc-hidden-value",
        "--tag",
        "work",
        "--tag",
        "dev",
        "--folder",
        "Work/Servers",
        "--favourite",
        "--secret-file",
        secret.to_str().unwrap(),
        "--expires",
        "2031-01-02",
    ]);
    assert_success(&out, "add");
    let id = stdout(&out).trim().to_owned();
    assert_eq!(id.len(), 32, "add prints the new id: {id:?}");

    let shown = v.json(&["show", &id]);
    assert_eq!(
        keys(&shown),
        set(&[
            "id",
            "type",
            "title",
            "username",
            "urls",
            "notes",
            "fields",
            "tags",
            "folder",
            "favourite",
            "attachments",
            "created",
            "updated",
            "expires"
        ])
    );
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["type"], "login");
    assert_eq!(shown["urls"], serde_json::json!(["https://github.com", "https://gist.github.com"]));
    assert_eq!(shown["folder"], "Work/Servers");
    assert_eq!(shown["tags"], serde_json::json!(["dev", "work"]));
    assert_eq!(shown["favourite"], true);
    assert_eq!(shown["notes"], "two\nlines");
    assert_eq!(shown["expires"], "2031-01-02T00:00:00Z");
    assert!(shown["created"].as_str().unwrap().ends_with('Z'));
    let fields = shown["fields"].as_array().unwrap();
    assert_eq!(fields[0], serde_json::json!({"name": "Plain", "value": "visible value", "protected": false}));
    assert_eq!(fields[1], serde_json::json!({"name": "Recovery", "protected": true}));
    let text = shown.to_string();
    for secret in ["s3cret-Pa55", "rc-hidden-value", "JBSWY3DPEHPK3PXP"] {
        assert!(!text.contains(secret), "{secret} shown without --reveal");
    }

    let revealed = v.json(&["show", &id, "--reveal"]);
    assert_eq!(revealed["password"], "s3cret-Pa55");
    assert_eq!(revealed["otp"], "otpauth://totp/GitHub:octo?secret=JBSWY3DPEHPK3PXP&issuer=GitHub");
    assert_eq!(revealed["fields"][1]["value"], "rc-hidden-value");

    let root = v.run(&["add", "--type", "note", "--title", "Root note", "--notes", "n"]);
    assert_success(&root, "add note");
    let list = v.json(&["list"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    for s in list {
        assert_eq!(
            keys(s),
            set(&["id", "type", "title", "username", "urls", "folder", "tags", "favourite", "updated"])
        );
    }
    let note = list.iter().find(|s| s["title"] == "Root note").unwrap();
    assert_eq!(note["folder"], "");
    assert_eq!(note["type"], "note");
    let listed = serde_json::to_string(list).unwrap();
    for secret in ["s3cret-Pa55", "rc-hidden-value", "JBSWY3DPEHPK3PXP", "visible value", "two\\nlines"] {
        assert!(!listed.contains(secret), "{secret} in a list summary");
    }

    assert_eq!(v.json(&["list", "--folder", "Work"]).as_array().unwrap().len(), 1);
    assert_eq!(v.json(&["list", "--folder", "Wor"]).as_array().unwrap().len(), 0);
    assert_eq!(v.json(&["list", "--tag", "dev"]).as_array().unwrap().len(), 1);
    let found = v.json(&["search", "gist"]);
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["id"], id.as_str());
}

#[test]
fn items_resolve_by_id_prefix_and_exact_title() {
    let v = TestVault::new();
    let a = v.add_login("Duplicate", "a@example.com");
    let b = v.add_login("Duplicate", "b@example.com");
    let c = v.add_login("Unique", "c@example.com");

    assert_eq!(v.json(&["show", &c])["username"], "c@example.com");
    assert_eq!(v.json(&["show", &c[..8]])["username"], "c@example.com");
    assert_eq!(v.json(&["show", "Unique"])["username"], "c@example.com");

    let out = v.run(&["show", "Duplicate"]);
    assert_code(&out, 2, "show an ambiguous title");
    let err = stderr(&out);
    assert!(err.contains(&a) && err.contains(&b), "candidates are listed: {err}");

    assert_code(&v.run(&["show", "No such thing"]), 4, "show a missing title");
    assert_code(&v.run(&["show", "00000000000000000000000000000000"]), 4, "show a missing id");
    assert_code(&v.run(&["rm", "nope"]), 4, "rm a missing item");
}

#[test]
fn wrong_password_exits_3_and_leaves_the_file_byte_identical() {
    let v = TestVault::new();
    v.add_login("Mail", "me");
    let before = v.bytes();
    let wrong = v.dir.path().join("wrong");
    std::fs::write(&wrong, "not the password\n").unwrap();
    for args in [&["list"][..], &["show", "Mail"], &["add", "--title", "x"], &["verify"], &["passwd"]] {
        let out = std::process::Command::new(tessera_bin())
            .arg("--vault")
            .arg(&v.path)
            .arg("--password-file")
            .arg(&wrong)
            .args(args)
            .output()
            .unwrap();
        assert_code(&out, 3, &format!("{args:?} with a wrong password"));
        assert!(stderr(&out).contains("wrong master password"), "{}", stderr(&out));
        assert_eq!(v.bytes(), before, "{args:?} changed the vault file");
    }
    let bad_code = v.dir.path().join("bad-code");
    std::fs::write(&bad_code, "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA\n").unwrap();
    let out = std::process::Command::new(tessera_bin())
        .arg("--vault")
        .arg(&v.path)
        .args(["--unlock", "recovery", "--recovery-file"])
        .arg(&bad_code)
        .arg("list")
        .output()
        .unwrap();
    assert_code(&out, 3, "list with a wrong recovery code");
    assert_eq!(v.bytes(), before);
}

#[test]
fn password_comes_from_stdin_first_line() {
    let v = TestVault::new();
    let mut child = std::process::Command::new(tessera_bin())
        .arg("--vault")
        .arg(&v.path)
        .args(["--password-stdin", "list"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(format!("{}\nignored\n", tessera_test_support::PASSWORD).as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_success(&out, "list --password-stdin");
}

#[test]
fn edits_keep_history_up_to_twenty_versions() {
    let v = TestVault::new();
    let id = v.add_login("Bank", "first");
    for i in 0..24 {
        let out = v.run_fast(&["edit", &id, "--username", &format!("user-{i}")]);
        assert_success(&out, "edit");
    }
    let shown = v.json(&["show", &id, "--history"]);
    assert_eq!(shown["username"], "user-23");
    let history = shown["history"].as_array().unwrap();
    assert_eq!(history.len(), 20, "history keeps the last 20 versions");
    assert_eq!(history[0]["username"], "user-22", "newest first");
    assert_eq!(history[19]["username"], "user-3");
    assert!(history[0].get("password").is_none(), "history hides passwords without --reveal");
    let revealed = v.json(&["show", &id, "--history", "--reveal"]);
    assert!(revealed["history"][0]["password"].as_str().is_some_and(|p| p.len() == 20));

    // An edit that changes nothing saves nothing.
    let before = v.json(&["show", &id, "--history"])["history"].as_array().unwrap().len();
    assert_success(&v.run_fast(&["edit", &id, "--username", "user-23"]), "no-op edit");
    assert_eq!(v.json(&["show", &id, "--history"])["history"].as_array().unwrap().len(), before);
}

#[test]
fn edit_changes_fields_favourite_and_lists() {
    let v = TestVault::new();
    let id = v.add_login("Site", "me");
    assert_success(
        &v.run_fast(&["edit", &id, "--field", "A=1", "--protected-field", "B=2", "--favourite", "--tag", "x"]),
        "edit",
    );
    assert_success(&v.run_fast(&["edit", &id, "--remove-field", "A", "--no-favourite", "--url", "https://a"]), "edit");
    let s = v.json(&["show", &id, "--reveal"]);
    assert_eq!(s["fields"], serde_json::json!([{"name": "B", "value": "2", "protected": true}]));
    assert_eq!(s["favourite"], false);
    assert_eq!(s["tags"], serde_json::json!(["x"]));
    assert_eq!(s["urls"], serde_json::json!(["https://a"]));
    assert_code(&v.run_fast(&["edit", &id, "--remove-field", "Nope"]), 4, "remove a missing field");
    assert_code(&v.run_fast(&["edit", &id, "--otp", "otpauth://totp/x?secret=!!"]), 2, "bad otp");
    assert_code(&v.run_fast(&["edit", &id, "--field", "novalue"]), 2, "field without '='");
}

#[test]
fn trash_restore_and_purge() {
    let v = TestVault::new();
    let keep = v.add_login("Keep", "k");
    let gone = v.add_login("Gone", "g");
    let other = v.add_login("Other", "o");

    assert_success(&v.run_fast(&["rm", "Gone"]), "rm");
    assert_success(&v.run_fast(&["rm", &other]), "rm");
    let live: Vec<String> =
        v.json(&["list"]).as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(live, vec![keep.clone()]);
    assert_eq!(v.json(&["list", "--trash"]).as_array().unwrap().len(), 2);
    assert_eq!(v.json(&["show", "Gone"])["id"], gone.as_str(), "show finds trashed items");
    assert_code(&v.run_fast(&["edit", &gone, "--username", "x"]), 4, "edit a trashed item");
    assert_code(&v.run_fast(&["purge", &keep]), 4, "purge a live item");

    assert_success(&v.run_fast(&["restore", "Gone"]), "restore");
    assert_eq!(v.json(&["list"]).as_array().unwrap().len(), 2);
    assert_success(&v.run_fast(&["purge", &other]), "purge");
    assert_code(&v.run_fast(&["show", &other]), 4, "show a purged item");
    assert_success(&v.run_fast(&["rm", &keep]), "rm");
    assert_eq!(v.json(&["purge", "--trash"])["purged"], 1);
    assert_eq!(v.json(&["list", "--trash"]).as_array().unwrap().len(), 0);
    assert_success(&v.run(&["verify"]), "verify after purges");
}

#[test]
fn attachments_round_trip_and_respect_the_size_limit() {
    let v = TestVault::new();
    let id = v.add_login("Server", "root");
    let file = v.dir.path().join("id_ed25519");
    let content: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&file, &content).unwrap();
    assert_success(&v.run_fast(&["attach", &id, file.to_str().unwrap()]), "attach");
    let shown = v.json(&["show", &id]);
    assert_eq!(shown["attachments"], serde_json::json!([{"name": "id_ed25519", "size": 200_000}]));

    let out_file = v.dir.path().join("out");
    assert_success(&v.run_fast(&["attachment", &id, "id_ed25519", "-o", out_file.to_str().unwrap()]), "attachment");
    assert_eq!(std::fs::read(&out_file).unwrap(), content);
    assert_code(&v.run_fast(&["attachment", &id, "nope", "-o", out_file.to_str().unwrap()]), 4, "missing attachment");
    let to_stdout = v.run_fast(&["attachment", &id, "id_ed25519", "-o", "-"]);
    assert_success(&to_stdout, "attachment to stdout");
    assert_eq!(to_stdout.stdout, content);

    let big = v.dir.path().join("big.bin");
    std::fs::write(&big, vec![0u8; 25 * 1024 * 1024 + 1]).unwrap();
    let out = v.run_fast(&["attach", &id, big.to_str().unwrap()]);
    assert_code(&out, 2, "attach over 25 MiB");
    let exact = v.dir.path().join("exact.bin");
    std::fs::write(&exact, vec![7u8; 25 * 1024 * 1024]).unwrap();
    assert_success(&v.run_fast(&["attach", &id, exact.to_str().unwrap()]), "attach exactly 25 MiB");

    assert_success(&v.run_fast(&["detach", &id, "exact.bin"]), "detach");
    assert_eq!(v.json(&["show", &id])["attachments"].as_array().unwrap().len(), 1);
    assert_success(&v.run(&["verify"]), "verify with attachments");
}

#[test]
fn totp_and_hotp_codes() {
    let v = TestVault::new();
    // RFC 6238 Appendix B secret "12345678901234567890", SHA-1, 8 digits.
    let totp = "otpauth://totp/RFC:6238?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8";
    assert_success(&v.run_fast(&["add", "--title", "T", "--otp", totp]), "add totp");
    let code = v.json(&["totp", "T", "--at", "59"]);
    assert_eq!(code, serde_json::json!({"code": "94287082", "remaining": 1}));
    assert_eq!(stdout(&v.run_fast(&["totp", "T", "--at", "1111111109"])).trim(), "07081804");

    // RFC 4226 Appendix D: counter 0, 1, 2 …; each call advances the counter.
    let hotp = "otpauth://hotp/RFC:4226?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0";
    assert_success(&v.run_fast(&["add", "--title", "H", "--otp", hotp]), "add hotp");
    let codes: Vec<String> = (0..3).map(|_| stdout(&v.run_fast(&["totp", "H"])).trim().to_owned()).collect();
    assert_eq!(codes, ["755224", "287082", "359152"]);
    assert_code(&v.run_fast(&["totp", &v.add_login("No OTP", "x")]), 4, "totp without otp");
}

#[test]
fn generate_passwords_and_passphrases() {
    let run = |args: &[&str]| std::process::Command::new(tessera_bin()).args(args).output().unwrap();
    let out = run(&["generate", "--length", "32"]);
    assert_success(&out, "generate");
    let pw = stdout(&out).trim().to_owned();
    assert_eq!(pw.chars().count(), 32);
    let out = run(&["generate", "--length", "40", "--no-symbols"]);
    assert!(stdout(&out).trim().chars().all(|c| c.is_ascii_alphanumeric()));
    let out = run(&["--json", "generate", "--words", "6"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["password"].as_str().unwrap().split('-').count(), 6);
    assert!(v["entropy_bits"].as_f64().unwrap() > 77.0);
    assert_code(&run(&["generate", "--length", "2"]), 2, "too short");
    assert_ne!(stdout(&run(&["generate"])), stdout(&run(&["generate"])));
}

#[test]
fn passwd_changes_the_master_password_and_keeps_everything() {
    let v = TestVault::new();
    let id = v.add_login("Mail", "me");
    let before = v.json(&["show", &id, "--reveal"]);
    let new = v.dir.path().join("new");
    std::fs::write(&new, "a brand new password\n").unwrap();
    assert_success(&v.run(&["passwd", "--new-password-file", new.to_str().unwrap()]), "passwd");

    assert_code(&v.run(&["list"]), 3, "old password after passwd");
    let out = v.run_with_password(&new, &["--json", "show", &id, "--reveal"]);
    assert_success(&out, "show with the new password");
    let after: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(after, before);
    assert_success(&v.run_fast(&["verify"]), "the recovery code still opens the vault");

    // Recovery: reset a forgotten password with the recovery code.
    let newer = v.dir.path().join("newer");
    std::fs::write(&newer, "after recovery\n").unwrap();
    assert_success(&v.run_fast(&["passwd", "--new-password-file", newer.to_str().unwrap()]), "passwd via recovery");
    let out = v.run_with_password(&newer, &["--json", "audit"]);
    assert_success(&out, "audit with the reset password");
    let audit: Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = audit.as_array().unwrap().iter().filter(|e| e["event"] == "slot_rekeyed").count();
    assert_eq!(changes, 2);
}

#[test]
fn passwd_reads_the_new_password_from_the_second_line_of_stdin() {
    let v = TestVault::new();
    let id = v.add_login("Mail", "me");
    let mut child = std::process::Command::new(tessera_bin())
        .arg("--vault")
        .arg(&v.path)
        .args(["--password-stdin", "passwd"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let input = format!("{}\nsecond line password\n", tessera_test_support::PASSWORD);
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    assert_success(&child.wait_with_output().unwrap(), "passwd --password-stdin");
    let new = v.dir.path().join("new");
    std::fs::write(&new, "second line password\n").unwrap();
    assert_success(&v.run_with_password(&new, &["show", &id]), "show with the new password");
    assert_code(&v.run(&["show", &id]), 3, "show with the old password");
}

#[test]
fn rotate_reencrypts_everything_and_retires_the_old_key() {
    let v = TestVault::new();
    let ids: Vec<String> = (0..30).map(|i| v.add_login(&format!("Item {i}"), "u")).collect();
    let file = v.dir.path().join("doc.txt");
    std::fs::write(&file, "attachment body").unwrap();
    assert_success(&v.run_fast(&["attach", &ids[0], file.to_str().unwrap()]), "attach");
    assert_success(&v.run_fast(&["edit", &ids[1], "--username", "changed"]), "edit");
    let before = v.json(&["show", &ids[1], "--reveal", "--history"]);

    let report = v.json(&["rotate"]);
    assert_eq!(report["version"], 2);
    assert_eq!(report["reencrypted"], 30);
    assert_eq!(report["retired"], serde_json::json!([1]));

    let db = v.sqlite();
    for table in ["items", "item_history", "attachments"] {
        let old: i64 =
            db.query_row(&format!("SELECT count(*) FROM {table} WHERE key_version <> 2"), [], |r| r.get(0)).unwrap();
        assert_eq!(old, 0, "{table} still has rows under the old key");
    }
    let versions: i64 = db.query_row("SELECT count(*) FROM data_keys", [], |r| r.get(0)).unwrap();
    assert_eq!(versions, 1);
    drop(db);
    assert_eq!(v.json(&["show", &ids[1], "--reveal", "--history"]), before);
    assert_success(&v.run(&["verify"]), "verify after rotate");
    let out = v.dir.path().join("doc.out");
    assert_success(&v.run_fast(&["attachment", &ids[0], "doc.txt", "-o", out.to_str().unwrap()]), "attachment");
    assert_eq!(std::fs::read_to_string(out).unwrap(), "attachment body");
}

#[test]
fn health_reports_weak_reused_and_expiring_without_passwords() {
    let v = TestVault::new();
    let weak = v.dir.path().join("weak");
    std::fs::write(&weak, "password1\n").unwrap();
    let w = weak.to_str().unwrap();
    assert_success(&v.run_fast(&["add", "--title", "Weak", "--secret-file", w]), "add");
    assert_success(&v.run_fast(&["add", "--title", "Weak too", "--secret-file", w]), "add");
    assert_success(&v.run_fast(&["add", "--title", "Strong", "--generate=24", "--expires", "2000-01-01"]), "add");
    let report = v.json(&["health"]);
    let weak_titles: Vec<&str> =
        report["weak"].as_array().unwrap().iter().map(|w| w["title"].as_str().unwrap()).collect();
    assert_eq!(weak_titles, ["Weak", "Weak too"]);
    assert_eq!(report["reused"].as_array().unwrap().len(), 1);
    assert_eq!(report["reused"][0]["items"].as_array().unwrap().len(), 2);
    assert_eq!(report["expiring"][0]["title"], "Strong");
    assert_eq!(report["expiring"][0]["expired"], true);
    assert!(!report.to_string().contains("password1"));
}

#[test]
fn audit_log_records_vault_events_in_order() {
    let v = TestVault::new();
    let id = v.add_login("Mail", "me");
    assert_success(&v.run_fast(&["edit", &id, "--username", "you"]), "edit");
    assert_success(&v.run_fast(&["rm", &id]), "rm");
    let log = v.json(&["audit"]);
    let events: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["vault_created", "slot_added", "slot_added", "item_created", "item_updated", "item_trashed"]);
    let seqs: Vec<u64> = log.as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=6).collect::<Vec<_>>());
    assert_eq!(log[3]["title"], "Mail");
}

#[test]
fn add_from_json_is_one_transaction() {
    let v = TestVault::new();
    let id = v.add_login("Source", "src");
    assert_success(&v.run_fast(&["edit", &id, "--protected-field", "PIN=1234", "--tag", "t"]), "edit");
    let exported = v.json(&["show", &id, "--reveal"]);
    let file = v.dir.path().join("items.json");
    let mut copy = exported.clone();
    copy["title"] = "Copy".into();
    std::fs::write(&file, serde_json::to_vec(&serde_json::json!([exported, copy])).unwrap()).unwrap();
    let out = v.json(&["add", "--from-json", file.to_str().unwrap()]);
    let ids = out["ids"].as_array().unwrap();
    assert_eq!(ids.len(), 2);
    let copy_shown = v.json(&["show", ids[1].as_str().unwrap(), "--reveal"]);
    assert_eq!(copy_shown["password"], exported["password"]);
    assert_eq!(copy_shown["fields"], exported["fields"]);

    // One bad item: nothing at all is added.
    let count = v.json(&["list"]).as_array().unwrap().len();
    let bad = serde_json::json!([{"title": "ok"}, {"title": "bad", "otp": "otpauth://totp/x?secret=!!"}]);
    std::fs::write(&file, serde_json::to_vec(&bad).unwrap()).unwrap();
    assert_code(&v.run_fast(&["add", "--from-json", file.to_str().unwrap()]), 2, "add a bad batch");
    let unknown = serde_json::json!({"title": "typo", "pasword": "x"});
    std::fs::write(&file, serde_json::to_vec(&unknown).unwrap()).unwrap();
    assert_code(&v.run_fast(&["add", "--from-json", file.to_str().unwrap()]), 2, "unknown key");
    let hidden = serde_json::json!({"title": "h", "fields": [{"name": "PIN", "protected": true}]});
    std::fs::write(&file, serde_json::to_vec(&hidden).unwrap()).unwrap();
    assert_code(&v.run_fast(&["add", "--from-json", file.to_str().unwrap()]), 2, "hidden field value");
    assert_eq!(v.json(&["list"]).as_array().unwrap().len(), count);
}

#[test]
fn verify_passes_on_an_intact_vault() {
    let v = TestVault::new();
    for i in 0..5 {
        v.add_login(&format!("Item {i}"), "u");
    }
    let report = v.json(&["verify"]);
    assert_eq!(report["ok"], true);
    assert_eq!(report["items"], 5);
    assert_eq!(report["slots"], 2);
    assert_eq!(report["problems"], serde_json::json!([]));
    assert_eq!(code(&v.run(&["verify"])), 0);
}

#[test]
fn list_by_url_uses_the_browsers_matcher_and_keeps_the_list_shape() {
    let v = TestVault::new();
    let add = |title: &str, url: &str, extra: &[&str]| {
        let mut args = vec!["add", "--title", title, "--username", "u", "--url", url, "--generate"];
        args.extend_from_slice(extra);
        let out = v.run_fast(&args);
        assert_success(&out, &format!("add {title}"));
        stdout(&out).trim().to_owned()
    };
    let parent = add("GitHub", "https://github.com", &[]);
    let exact = add("Gist login", "https://gist.github.com/login", &[]);
    let never = add("Gist old", "https://gist.github.com", &["--no-autofill"]);
    add("Look-alike", "https://github.com.evil.example", &[]);
    add("Suffix", "https://github.io", &[]);
    let note = v.run_fast(&["add", "--type", "note", "--title", "A note", "--url", "https://gist.github.com"]);
    assert_success(&note, "add note");

    let hits = v.json(&["list", "--url", "https://gist.github.com/login?next=/"]);
    let ids: Vec<&str> = hits.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [exact.as_str(), never.as_str(), parent.as_str()], "best match first, logins only");
    for s in hits.as_array().unwrap() {
        assert_eq!(
            keys(s),
            set(&["id", "type", "title", "username", "urls", "folder", "tags", "favourite", "updated"])
        );
    }
    let text = stdout(&v.run_fast(&["list", "--url", "https://gist.github.com/login"]));
    assert!(text.contains("[exact match]") && text.contains("[parent match]"), "{text}");
    assert!(text.contains("never filled in the browser"), "{text}");
    assert_eq!(v.json(&["list", "--url", "https://github.com.evil.example.org/"]), serde_json::json!([]));
    assert_eq!(v.json(&["list", "--url", "http://github.com/"]), serde_json::json!([]), "https items on an http page");
    let bad = v.run_fast(&["list", "--url", "not a url"]);
    assert_code(&bad, 2, "list --url with a bad URL");

    // The mark round-trips through show, edit and add --from-json.
    assert_eq!(v.json(&["show", &never])["never_autofill"], true);
    assert!(v.json(&["show", &parent]).get("never_autofill").is_none());
    assert_success(&v.run_fast(&["edit", &never, "--autofill"]), "edit --autofill");
    assert!(v.json(&["show", &never]).get("never_autofill").is_none());
    let json_file = v.dir.path().join("item.json");
    std::fs::write(&json_file, r#"{"title": "From JSON", "never_autofill": true}"#).unwrap();
    let added = v.json(&["add", "--from-json", json_file.to_str().unwrap()]);
    assert_eq!(v.json(&["show", added["ids"][0].as_str().unwrap()])["never_autofill"], true);
}

#[test]
fn browser_install_writes_manifests_and_status_warns_about_keepassxc() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(tessera_bin())
            .args(args)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_RUNTIME_DIR", home.path().join("run"))
            .env_remove("TESSERA_VAULT")
            .output()
            .unwrap()
    };
    let firefox = home.path().join(".mozilla/native-messaging-hosts/org.keepassxc.keepassxc_browser.json");
    std::fs::create_dir_all(firefox.parent().unwrap()).unwrap();
    std::fs::write(
        &firefox,
        r#"{"name":"org.keepassxc.keepassxc_browser","path":"/usr/bin/keepassxc-proxy","type":"stdio"}"#,
    )
    .unwrap();
    let status = run(&["browser", "status"]);
    assert_success(&status, "browser status");
    assert!(stdout(&status).contains("warning") && stdout(&status).contains("keepassxc-proxy"), "{}", stdout(&status));

    let out = run(&["--json", "browser", "install", "--browser", "all"]);
    assert_success(&out, "browser install");
    let installed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let host = tessera_bin().with_file_name("tessera-browser-host");
    assert_eq!(installed["host"], serde_json::json!(host));
    assert_eq!(installed["installed"].as_array().unwrap().len(), 4);
    assert_eq!(installed["installed"][0]["replaced"], "/usr/bin/keepassxc-proxy");
    let manifest: Value = serde_json::from_slice(&std::fs::read(&firefox).unwrap()).unwrap();
    assert_eq!(manifest["path"], serde_json::json!(host));
    assert_eq!(manifest["allowed_extensions"], serde_json::json!(["keepassxc-browser@keepassxc.org"]));
    let chromium: Value = serde_json::from_slice(
        &std::fs::read(home.path().join("config/chromium/NativeMessagingHosts/org.keepassxc.keepassxc_browser.json"))
            .unwrap(),
    )
    .unwrap();
    assert!(
        chromium["allowed_origins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == "chrome-extension://oboonakemofpalcgghocfoadofidjkkk/")
    );

    let status = run(&["--json", "browser", "status"]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["app_running"], false);
    for b in status["browsers"].as_array().unwrap() {
        assert_eq!(b["installed"], true, "{b}");
        assert_eq!(b["host_exists"], true, "{b}");
    }
    let only = run(&["browser", "install", "--browser", "opera"]);
    assert_code(&only, 2, "browser install --browser opera");
}
