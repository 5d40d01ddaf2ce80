//! `tessera import` and `tessera export` end to end: real KeePassXC and
//! pykeepass files (tests/data/peers), `keepassxc-cli` reading our exports,
//! backups restored into fresh vaults, hostile inputs leaving the vault
//! unchanged.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tessera_test_support::{TestVault, assert_code, assert_success, stderr, stdout};

const SOURCE_PASSWORD: &str = "sample-password";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(name)
}

fn write_file(v: &TestVault, name: &str, content: &[u8]) -> PathBuf {
    let path = v.dir.path().join(name);
    std::fs::write(&path, content).expect("write a test file");
    path
}

fn source_password(v: &TestVault) -> PathBuf {
    write_file(v, "source-password", format!("{SOURCE_PASSWORD}\n").as_bytes())
}

fn import(v: &TestVault, file: &Path, extra: &[&str]) -> Value {
    let pw = source_password(v);
    let mut args = vec!["import", file.to_str().unwrap(), "--source-password-file", pw.to_str().unwrap()];
    args.extend_from_slice(extra);
    v.json(&args)
}

/// `tessera --json export OUT --to TO` with the export password in a file.
fn export(v: &TestVault, out: &Path, to: &str, password: &str) -> std::process::Output {
    let pw = write_file(v, &format!("{to}-password"), format!("{password}\n").as_bytes());
    v.run(&["--json", "export", out.to_str().unwrap(), "--to", to, "--export-password-file", pw.to_str().unwrap()])
}

/// Every item, live and trashed, as `show --json --reveal --history`,
/// keyed by folder/title/username so two vaults can be compared.
fn all_items(v: &TestVault) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for trash in [false, true] {
        let mut args = vec!["list"];
        if trash {
            args.push("--trash");
        }
        let list = v.json(&args);
        for summary in list.as_array().expect("list --json is an array") {
            let id = summary["id"].as_str().expect("id");
            let mut item = v.json(&["show", id, "--reveal", "--history"]);
            let key = format!(
                "{}/{}/{}/{}",
                item["folder"].as_str().unwrap(),
                item["title"].as_str().unwrap(),
                item["username"].as_str().unwrap(),
                if trash { "trash" } else { "live" }
            );
            // Ids and revision numbers are the vault's own business.
            for h in item["history"].as_array_mut().unwrap() {
                h.as_object_mut().unwrap().remove("id");
            }
            item.as_object_mut().unwrap().remove("id");
            assert!(out.insert(key.clone(), item).is_none(), "two items share the key {key}");
        }
    }
    out
}

fn keepassxc_cli(args: &[&str], password: &str) -> std::process::Output {
    let found = Command::new("sh").arg("-c").arg("command -v keepassxc-cli").output().unwrap();
    assert!(found.status.success(), "keepassxc-cli is not installed; `make test` installs it (scripts/setup.sh)");
    let mut child = Command::new("keepassxc-cli")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run keepassxc-cli");
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// `tessera totp ID` and `keepassxc-cli show -t FILE PATH` agree, retrying
/// when the two reads straddle a period boundary.
fn assert_same_totp(file: &Path, path: &str, password: &str, v: &TestVault, id: &str) {
    for _ in 0..3 {
        let theirs = keepassxc_cli(&["show", "-q", "-t", file.to_str().unwrap(), path], password);
        assert!(theirs.status.success(), "keepassxc-cli show -t {path}: {}", stderr(&theirs));
        let ours = v.run_fast(&["totp", id]);
        assert_success(&ours, "totp");
        if stdout(&theirs).trim() == stdout(&ours).trim() {
            return;
        }
    }
    panic!("{path}: tessera and keepassxc-cli disagree on the TOTP code");
}

#[derive(serde::Deserialize)]
struct Expected {
    title: String,
    username: String,
    password: String,
    url: String,
    notes: String,
    otp: Option<String>,
    fields: BTreeMap<String, String>,
    history: Vec<String>,
    group: String,
}

fn check_sample(file: &str, manifest: &str, history_in_file: bool) {
    let v = TestVault::new();
    let summary = import(&v, &data(file), &[]);
    let expected: Vec<Expected> = serde_json::from_slice(&std::fs::read(data(manifest)).unwrap()).unwrap();
    assert_eq!(summary["imported"], expected.len(), "{summary}");
    assert_eq!(summary["skipped"], serde_json::json!([]));

    let items = all_items(&v);
    for e in &expected {
        let folder = if e.group == "Root" { "" } else { e.group.as_str() };
        let key = format!("{folder}/{}/{}/live", e.title, e.username);
        let item = items.get(&key).unwrap_or_else(|| panic!("{key} was not imported; have {:?}", items.keys()));
        assert_eq!(item["password"], e.password.as_str(), "{key}");
        assert_eq!(item["urls"][0].as_str().unwrap_or(""), e.url, "{key}");
        assert_eq!(item["notes"], e.notes.as_str(), "{key}");
        let fields: BTreeMap<String, String> = item["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["name"].as_str().unwrap().to_owned(), f["value"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(fields, e.fields, "{key}");
        // Every custom field in these samples is protected in the file.
        for f in item["fields"].as_array().unwrap() {
            assert_eq!(f["protected"], true, "{key}: {f}");
        }
        let history: Vec<&str> =
            item["history"].as_array().unwrap().iter().rev().map(|h| h["password"].as_str().unwrap()).collect();
        if history_in_file {
            assert_eq!(history, e.history.iter().map(String::as_str).collect::<Vec<_>>(), "{key}: history");
        }
        assert_eq!(item["otp"].is_null(), e.otp.is_none(), "{key}: otp");
    }
}

#[test]
fn keepassxc_kdbx31_sample_arrives_field_by_field() {
    check_sample("peers/sample-kdbx31.kdbx", "peers/sample-kdbx31.json", true);
}

#[test]
fn pykeepass_kdbx4_sample_arrives_field_by_field() {
    // The manifest lists history the file does not hold (tests/data/README.md).
    check_sample("peers/sample-kdbx4.kdbx", "peers/sample-kdbx4.json", false);
}

/// `tessera totp` and `keepassxc-cli show -t` give the same code in the
/// same period, for SHA-1, SHA-256/8 digits/60 s and Steam entries.
#[test]
fn totp_codes_match_keepassxc_for_the_same_second() {
    let v = TestVault::new();
    import(&v, &data("peers/sample-kdbx31.kdbx"), &[]);
    let expected: Vec<Expected> =
        serde_json::from_slice(&std::fs::read(data("peers/sample-kdbx31.json")).unwrap()).unwrap();
    let mut checked = 0;
    for e in expected.iter().filter(|e| e.otp.is_some()) {
        let path = if e.group == "Root" { e.title.clone() } else { format!("{}/{}", e.group, e.title) };
        let id = v.json(&["search", &e.username])[0]["id"].as_str().unwrap().to_owned();
        assert_same_totp(&data("peers/sample-kdbx31.kdbx"), &path, SOURCE_PASSWORD, &v, &id);
        checked += 1;
    }
    assert!(checked >= 3, "the sample has SHA-1, SHA-256 and Steam TOTP entries");
}

#[test]
fn keepass_export_opens_in_keepassxc_with_every_field_and_reimports_identically() {
    let v = TestVault::new();
    import(&v, &data("peers/sample-kdbx31.kdbx"), &[]);
    let secret = write_file(&v, "secret", b"pw-extra\n");
    let extra = v.run_fast(&[
        "add",
        "--title",
        "With extras",
        "--username",
        "x@example.com",
        "--secret-file",
        secret.to_str().unwrap(),
        "--expires",
        "2031-01-02",
        "--url",
        "https://one.example",
        "--url",
        "https://two.example",
        "--tag",
        "alpha",
        "--tag",
        "beta",
        "--folder",
        "Deep/Er/Path",
        "--field",
        "Colour=blue",
        "--protected-field",
        "PIN=1234",
        "--otp",
        "otpauth://totp/Ex:x?secret=JBSWY3DPEHPK3PXP&issuer=Ex",
    ]);
    assert_success(&extra, "add");
    let attachment = write_file(&v, "note.txt", b"attached content \x00\x01\x02");
    assert_success(&v.run_fast(&["attach", "With extras", attachment.to_str().unwrap()]), "attach");

    let out = v.dir.path().join("export.kdbx");
    let exported = export(&v, &out, "keepass", "export-pass");
    assert_success(&exported, "export --to keepass");
    let exported: Value = serde_json::from_slice(&exported.stdout).unwrap();
    assert_eq!(exported["exported"], 13, "{exported}");

    // KeePassXC itself opens it and sees every entry in its group.
    let listed = keepassxc_cli(&["ls", "-R", "-f", "-q", out.to_str().unwrap()], "export-pass");
    assert!(listed.status.success(), "keepassxc-cli ls: {}", stderr(&listed));
    let listing = stdout(&listed);
    for path in ["Deep/Er/Path/With extras", "Work/Servers/Note only", "Email/GitHub", "Banking/Steam"] {
        assert!(listing.lines().any(|l| l.trim() == path), "{path} missing from keepassxc-cli ls:\n{listing}");
    }
    let shown =
        keepassxc_cli(&["show", "-q", "-s", "--all", out.to_str().unwrap(), "Deep/Er/Path/With extras"], "export-pass");
    assert!(shown.status.success(), "keepassxc-cli show: {}", stderr(&shown));
    let shown = stdout(&shown);
    for needle in [
        "x@example.com",
        "pw-extra",
        "https://one.example",
        "https://two.example",
        "Colour: blue",
        "PIN: 1234",
        "alpha",
    ] {
        assert!(shown.contains(needle), "keepassxc-cli show lacks {needle:?}:\n{shown}");
    }
    let attachments = keepassxc_cli(
        &["attachment-export", "-q", "--stdout", out.to_str().unwrap(), "Deep/Er/Path/With extras", "note.txt"],
        "export-pass",
    );
    assert!(attachments.status.success(), "keepassxc-cli attachment-export: {}", stderr(&attachments));
    assert_eq!(attachments.stdout, b"attached content \x00\x01\x02");
    assert_same_totp(&out, "Deep/Er/Path/With extras", "export-pass", &v, "With extras");
    assert_same_totp(&out, "Banking/Steam", "export-pass", &v, "Steam");

    // And back: the export imported into a fresh vault is the same vault.
    let w = TestVault::new();
    let pw = write_file(&w, "export-password", b"export-pass\n");
    let summary = w.json(&["import", out.to_str().unwrap(), "--source-password-file", pw.to_str().unwrap()]);
    assert_eq!(summary["imported"], 13);
    let mut before = all_items(&v);
    let mut after = all_items(&w);
    for items in [&mut before, &mut after] {
        for item in items.values_mut() {
            // KDBX has no place for the favourite flag or for attachments in
            // history versions; dates survive to the second.
            item.as_object_mut().unwrap().remove("favourite");
            for h in item["history"].as_array_mut().unwrap() {
                h.as_object_mut().unwrap().remove("attachments");
                h.as_object_mut().unwrap().remove("revision");
            }
        }
    }
    assert_eq!(before, after);
}

#[test]
fn wrong_source_password_exits_3_and_changes_nothing() {
    let v = TestVault::new();
    let bad = write_file(&v, "bad-password", b"not it\n");
    for file in ["peers/sample-kdbx31.kdbx", "peers/sample-kdbx4.kdbx"] {
        let out = v.run(&["import", data(file).to_str().unwrap(), "--source-password-file", bad.to_str().unwrap()]);
        assert_code(&out, 3, "import with a wrong source password");
        assert!(stderr(&out).contains("password"), "{}", stderr(&out));
    }
    assert_eq!(v.json(&["list"]), serde_json::json!([]));
}

#[test]
fn damaged_and_hostile_files_fail_cleanly_and_leave_the_vault_unchanged() {
    let v = TestVault::new();
    v.add_login("Existing", "me");
    let before = v.json(&["list"]);
    let sample = std::fs::read(data("peers/sample-kdbx4.kdbx")).unwrap();
    let mut flipped = sample.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    // A KDBX 4 header whose first field declares a 4 GiB length.
    let mut huge = sample[..12].to_vec();
    huge.extend_from_slice(&[0x02, 0xff, 0xff, 0xff, 0xff]);
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("truncated.kdbx", sample[..sample.len() / 3].to_vec(), &[]),
        ("flipped.kdbx", flipped, &[]),
        ("huge-header.kdbx", huge, &[]),
        ("garbage.kdbx", (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect(), &["--from", "keepass"]),
        ("bad-utf8.csv", b"title,username,password\n\xff\xfe\xfd,a,b\n".to_vec(), &["--from", "csv"]),
        (
            "deep.json",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            &["--from", "bitwarden-json"],
        ),
        (
            "laughs.json",
            br#"{"encrypted":false,"items":[{"type":1,"name":"&lol9;"}]"#.to_vec(),
            &["--from", "bitwarden-json"],
        ),
        ("nothing.txt", b"\x00\x01\x02 not any format".to_vec(), &[]),
        (
            "aegis.json",
            br#"{"version":1,"header":{"slots":[{}],"params":{}},"db":"AAAA"}"#.to_vec(),
            &["--from", "aegis"],
        ),
    ];
    let pw = source_password(&v);
    for (name, content, extra) in cases {
        let file = write_file(&v, name, &content);
        let mut args = vec!["import", file.to_str().unwrap(), "--source-password-file", pw.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push("--json");
        let out = v.run(&args);
        let code = out.status.code();
        // Refused outright (2, or 3 where a KDBX 3.1 cannot tell damage from a
        // wrong password), or read with every bad part skipped and named.
        let skipped_all = code == Some(0) && {
            let summary: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            summary["imported"] == 0 && !summary["skipped"].as_array().is_none_or(Vec::is_empty)
        };
        assert!(
            matches!(code, Some(2) | Some(3)) || skipped_all,
            "{name}: expected exit 2 or 3, got {code:?}\nstdout: {}\nstderr: {}",
            stdout(&out),
            stderr(&out)
        );
        assert!(!stderr(&out).contains("internal error"), "{name}: {}", stderr(&out));
        assert_eq!(v.json(&["list"]), before, "{name} changed the vault");
    }
}

#[test]
fn backup_restores_everything_into_a_fresh_vault() {
    let v = TestVault::new();
    import(&v, &data("peers/sample-kdbx31.kdbx"), &[]);
    let attachment = write_file(&v, "photo.bin", &(0..=255u8).cycle().take(10_000).collect::<Vec<_>>());
    assert_success(&v.run_fast(&["attach", "GitHub", attachment.to_str().unwrap()]), "attach");
    let newer = write_file(&v, "newer", b"newer\n");
    assert_success(&v.run_fast(&["edit", "GitHub", "--secret-file", newer.to_str().unwrap()]), "edit");
    assert_success(&v.run_fast(&["rm", "Steam"]), "rm");

    let out = v.dir.path().join("vault.backup");
    let written = export(&v, &out, "tessera-backup", "backup-pass");
    assert_success(&written, "export --to tessera-backup");
    let written: Value = serde_json::from_slice(&written.stdout).unwrap();
    assert_eq!(written["exported"], 12, "{written}");
    // Never overwrites.
    assert_code(&export(&v, &out, "tessera-backup", "backup-pass"), 2, "export over an existing file");

    let w = TestVault::new();
    let wrong = write_file(&w, "wrong", b"nope\n");
    assert_code(
        &w.run(&["import", out.to_str().unwrap(), "--source-password-file", wrong.to_str().unwrap()]),
        3,
        "import of a backup with a wrong password",
    );
    let pw = write_file(&w, "backup-password", b"backup-pass\n");
    // Detected without --from.
    let summary = w.json(&["import", out.to_str().unwrap(), "--source-password-file", pw.to_str().unwrap()]);
    assert_eq!(summary["imported"], 12);
    assert_eq!(all_items(&v), all_items(&w));
    let restored = w.run_fast(&["attachment", "GitHub", "photo.bin", "--output", "-"]);
    assert_success(&restored, "attachment");
    assert_eq!(restored.stdout, std::fs::read(&attachment).unwrap());
}

#[test]
fn a_tampered_backup_is_an_integrity_failure() {
    let v = TestVault::new();
    v.add_login("One", "a");
    v.add_login("Two", "b");
    let out = v.dir.path().join("vault.backup");
    assert_success(&export(&v, &out, "tessera-backup", "backup-pass"), "export --to tessera-backup");
    let db = rusqlite::Connection::open(&out).unwrap();
    db.execute("DELETE FROM items WHERE rowid = (SELECT min(rowid) FROM items)", []).unwrap();
    drop(db);
    let w = TestVault::new();
    let pw = write_file(&w, "backup-password", b"backup-pass\n");
    let result = w.run(&["import", out.to_str().unwrap(), "--source-password-file", pw.to_str().unwrap()]);
    assert_code(&result, 5, "import of a tampered backup");
    assert_eq!(w.json(&["list"]), serde_json::json!([]));
}

#[test]
fn plain_text_export_needs_yes_and_round_trips_through_bitwarden_json() {
    let v = TestVault::new();
    import(&v, &data("peers/sample-kdbx4.kdbx"), &["--folder", "From KeePass"]);
    let out = v.dir.path().join("bitwarden.json");
    let refused = v.run(&["export", out.to_str().unwrap(), "--to", "bitwarden-json"]);
    assert_code(&refused, 2, "plain export without --yes");
    assert!(stderr(&refused).contains("plain text"), "{}", stderr(&refused));
    assert!(!out.exists());
    let written = v.json(&["export", out.to_str().unwrap(), "--to", "bitwarden-json", "--yes"]);
    assert_eq!(written["exported"], 12);

    let w = TestVault::new();
    let summary = w.json(&["import", out.to_str().unwrap()]);
    assert_eq!(summary["imported"], 12, "{summary}");
    let strip = |mut items: BTreeMap<String, Value>| {
        for item in items.values_mut() {
            let o = item.as_object_mut().unwrap();
            o.remove("history");
            o.remove("updated");
        }
        items
    };
    assert_eq!(strip(all_items(&v)), strip(all_items(&w)));
}

#[test]
fn authenticator_and_csv_files_are_detected_and_imported() {
    let v = TestVault::new();
    let otp = write_file(
        &v,
        "codes.txt",
        b"otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME\n\
          otpauth://hotp/Counter:bob?secret=GEZDGNBVGY3TQOJQ&counter=7\n\
          otpauth://totp/Broken?secret=!!!\n",
    );
    let summary = v.json(&["import", otp.to_str().unwrap()]);
    assert_eq!(summary["imported"], 2, "{summary}");
    assert_eq!(summary["skipped"][0]["line_or_entry"], "line 3");
    assert!(!summary.to_string().contains("!!!"), "a skipped line's secret is echoed: {summary}");
    let code = v.run_fast(&["totp", "ACME", "--at", "59"]);
    assert_success(&code, "totp");

    let csv = write_file(
        &v,
        "chrome.csv",
        b"name,url,username,password\nShop,https://shop.example,carol,pw1\nBroken,https://b.example,dave,MARKER-pw-9f3e,extra\n",
    );
    let summary = v.json(&["import", csv.to_str().unwrap(), "--folder", "Browser"]);
    assert_eq!(summary["imported"], 1, "{summary}");
    assert_eq!(summary["skipped"][0]["line_or_entry"], "line 3", "{summary}");
    assert!(!summary.to_string().contains("MARKER"), "a skipped row's password is echoed: {summary}");
    let shop = v.json(&["show", "Shop", "--reveal"]);
    assert_eq!(shop["folder"], "Browser");
    assert_eq!(shop["password"], "pw1");
}

#[test]
fn keepass_file_with_a_key_file_opens_with_it() {
    let v = TestVault::new();
    let kdbx = v.dir.path().join("keyed.kdbx");
    let key_file = v.dir.path().join("keyed.keyx");
    let created = keepassxc_cli(
        &["db-create", "-q", "-p", "-t", "100", "--set-key-file", key_file.to_str().unwrap(), kdbx.to_str().unwrap()],
        "keyed-pass\nkeyed-pass",
    );
    assert!(created.status.success(), "keepassxc-cli db-create: {}", stderr(&created));
    let added = keepassxc_cli(
        &["add", "-q", "-k", key_file.to_str().unwrap(), "-u", "keyuser", "-p", kdbx.to_str().unwrap(), "Keyed entry"],
        "keyed-pass\nentry-secret",
    );
    assert!(added.status.success(), "keepassxc-cli add: {}", stderr(&added));

    let pw = write_file(&v, "keyed-password", b"keyed-pass\n");
    let without = v.run(&["import", kdbx.to_str().unwrap(), "--source-password-file", pw.to_str().unwrap()]);
    assert_code(&without, 3, "import without the key file");
    let summary = v.json(&[
        "import",
        kdbx.to_str().unwrap(),
        "--source-password-file",
        pw.to_str().unwrap(),
        "--source-key-file",
        key_file.to_str().unwrap(),
    ]);
    assert_eq!(summary["imported"], 1, "{summary}");
    let item = v.json(&["show", "Keyed entry", "--reveal"]);
    assert_eq!(item["username"], "keyuser");
    assert_eq!(item["password"], "entry-secret");
}

/// An SSH key kept KeeAgent's way in a KeePassXC file becomes a key the
/// agent serves, and goes back out the same way: KeePassXC reads the
/// exported attachments, and the key in them is the same key.
#[test]
fn keeagent_ssh_keys_come_in_as_ssh_keys_and_go_out_as_keeagent_attachments() {
    let v = TestVault::new();
    let summary = import(&v, &data("peers/keeagent.kdbx"), &[]);
    assert_eq!(summary["imported"], 2, "{summary}");
    let key = v.json(&["show", "Deploy key"]);
    assert_eq!(key["type"], "ssh-key", "{key}");
    assert_eq!(key["ssh_agent"], true);
    assert_eq!(key["attachments"], serde_json::json!([]), "the key file and its settings became the item's fields");
    let expected = std::fs::read_to_string(data("peers/keeagent-id_ed25519.pub")).unwrap();
    let public = v.run_fast(&["ssh", "public", "Deploy key"]);
    assert!(public.status.success(), "{}", stderr(&public));
    let body = |line: &str| line.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    assert_eq!(body(&String::from_utf8_lossy(&public.stdout)), body(&expected));
    assert_eq!(v.json(&["show", "Plain login"])["type"], "login");

    let out = v.dir.path().join("keeagent-export.kdbx");
    let exported = export(&v, &out, "keepass", "export-pass");
    assert!(exported.status.success(), "{}", stderr(&exported));
    let shown =
        keepassxc_cli(&["show", "-q", "--show-attachments", out.to_str().unwrap(), "SSH/Deploy key"], "export-pass");
    let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(shown.contains("KeeAgent.settings") && shown.contains("id_ed25519"), "{shown}");
    let file = v.dir.path().join("exported_id");
    let saved = keepassxc_cli(
        &["attachment-export", "-q", out.to_str().unwrap(), "SSH/Deploy key", "id_ed25519", file.to_str().unwrap()],
        "export-pass",
    );
    assert!(saved.status.success(), "{}", stderr(&saved));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let derived = Command::new("ssh-keygen").arg("-y").arg("-f").arg(&file).output().unwrap();
    assert!(derived.status.success(), "ssh-keygen -y: {}", stderr(&derived));
    assert_eq!(body(&String::from_utf8_lossy(&derived.stdout)), body(&expected));
    let settings = keepassxc_cli(
        &["attachment-export", "-q", "--stdout", out.to_str().unwrap(), "SSH/Deploy key", "KeeAgent.settings"],
        "export-pass",
    );
    let text: String =
        char::decode_utf16(settings.stdout[2..].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])))
            .map(|c| c.unwrap_or('?'))
            .collect();
    assert!(text.contains("<AttachmentName>id_ed25519</AttachmentName>"), "{text}");
    assert!(text.contains("<AllowUseOfSshKey>true</AllowUseOfSshKey>"), "{text}");
}

/// An entry's auto-type settings made in KeePassXC (`<AutoType>`: enabled,
/// default sequence, window associations with and without a sequence)
/// arrive in the vault and go back out as KeePassXC reads them.
#[test]
fn keepassxc_auto_type_settings_come_in_and_go_back_out() {
    let v = TestVault::new();
    let xml = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<KeePassFile><Meta><Generator>KeePassXC</Generator></Meta><Root><Group><UUID>AAAAAAAAAAAAAAAAAAAAAQ==</UUID><Name>Root</Name>
<Entry><UUID>AAAAAAAAAAAAAAAAAAAAAg==</UUID><String><Key>Title</Key><Value>Shell</Value></String>
<String><Key>UserName</Key><Value>alice</Value></String><String><Key>Password</Key><Value>pw</Value></String>
<AutoType><Enabled>True</Enabled><DataTransferObfuscation>0</DataTransferObfuscation><DefaultSequence>{USERNAME}{ENTER}</DefaultSequence>
<Association><Window>*Firefox*</Window><KeystrokeSequence></KeystrokeSequence></Association>
<Association><Window>xterm*</Window><KeystrokeSequence>{PASSWORD}{ENTER}</KeystrokeSequence></Association></AutoType></Entry>
<Entry><UUID>AAAAAAAAAAAAAAAAAAAAAw==</UUID><String><Key>Title</Key><Value>Off</Value></String>
<AutoType><Enabled>False</Enabled></AutoType></Entry>
</Group></Root></KeePassFile>"#;
    let xml_path = write_file(&v, "autotype.xml", xml.as_bytes());
    let kdbx = v.dir.path().join("autotype.kdbx");
    let made = keepassxc_cli(
        &["import", "-q", "-p", "-t", "100", xml_path.to_str().unwrap(), kdbx.to_str().unwrap()],
        &format!("{SOURCE_PASSWORD}\n{SOURCE_PASSWORD}"),
    );
    assert!(made.status.success(), "keepassxc-cli import: {}", stderr(&made));
    let summary = import(&v, &kdbx, &[]);
    assert_eq!(summary["imported"], 2, "{summary}");

    let out = v.dir.path().join("back.kdbx");
    let exported = export(&v, &out, "keepass", "back-pass");
    assert!(exported.status.success(), "tessera export: {}", stderr(&exported));
    let read = keepassxc_cli(&["export", "-q", "-f", "xml", out.to_str().unwrap()], "back-pass");
    assert!(read.status.success(), "keepassxc-cli export: {}", stderr(&read));
    let xml = String::from_utf8_lossy(&read.stdout).into_owned();
    let entry = |title: &str| -> String {
        let start = xml.find(&format!("<Value>{title}</Value>")).unwrap_or_else(|| panic!("{title} not in:\n{xml}"));
        let end = xml[start..].find("</AutoType>").map(|e| start + e).unwrap_or_else(|| panic!("{title}: no AutoType"));
        xml[start..end].split_whitespace().collect()
    };
    let shell = entry("Shell");
    for needle in [
        "<Enabled>True</Enabled>",
        "<DefaultSequence>{USERNAME}{ENTER}</DefaultSequence>",
        "<Window>*Firefox*</Window>",
        "<Window>xterm*</Window><KeystrokeSequence>{PASSWORD}{ENTER}</KeystrokeSequence>",
    ] {
        assert!(shell.contains(needle), "KeePassXC reads Shell's auto-type without {needle}:\n{shell}");
    }
    assert!(entry("Off").contains("<Enabled>False</Enabled>"), "Off's auto-type is on again:\n{}", entry("Off"));
}
