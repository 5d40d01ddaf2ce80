//! Sync through a real `tessera-server` process on 127.0.0.1, on SQLite and
//! on PostgreSQL: two devices converge; the server learns nothing (the
//! blindness canary); a hostile server's every trick is detected and not
//! applied; accounts are isolated; tokens rotate; a second factor works; two
//! server instances share one PostgreSQL while one of them is killed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::Arc;

use serde_json::Value;
use tessera_sync::client::http::{Api, HttpError};
use tessera_sync::wire::{LoginRequest, PushItem, PushRequest, b64};
use tessera_test_support::server::{
    Backend, Database, Postgres, RecordingProxy, ServerSetup, TestServer, account_keys, http_login, register,
};
use tessera_test_support::{PASSWORD, TestVault, assert_code, assert_success, stderr, stdout};

const EMAIL: &str = "alice@example.com";

/// `tessera sync ARGS` with the master password.
fn sync(v: &TestVault, args: &[&str]) -> Output {
    let mut all = vec!["sync"];
    all.extend_from_slice(args);
    v.run(&all)
}

fn sync_json(v: &TestVault) -> Value {
    let out = v.run(&["--json", "sync"]);
    assert_success(&out, "sync");
    serde_json::from_slice(&out.stdout).expect("sync --json prints JSON")
}

/// A second device: a new vault cloned from the account.
fn clone(url: &str, email: &str, kit: &Path, extra: &[&str]) -> (TestVault, Output) {
    clone_with(TestVault::uninitialised(), url, email, kit, extra)
}

/// Clones into `v` (whose password file holds the master password).
fn clone_with(v: TestVault, url: &str, email: &str, kit: &Path, extra: &[&str]) -> (TestVault, Output) {
    let mut args = vec![
        "sync",
        "clone",
        "--server",
        url,
        "--email",
        email,
        "--secret-key-file",
        kit.to_str().expect("utf-8"),
        "--kdf-memory-mib",
        "64",
        "--recovery-code-file",
        v.recovery_file.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let out = v.run(&args);
    (v, out)
}

fn cloned(url: &str, email: &str, kit: &Path) -> TestVault {
    let (v, out) = clone(url, email, kit, &[]);
    assert_success(&out, "sync clone");
    v
}

/// Every item, live and trashed, with every field but the per-device
/// `updated` time, keyed by id.
fn snapshot(v: &TestVault) -> BTreeMap<String, Value> {
    let mut items = BTreeMap::new();
    for trash in [false, true] {
        let mut args = vec!["--json", "list"];
        if trash {
            args.push("--trash");
        }
        let out = v.run_fast(&args);
        assert_success(&out, "list");
        let list: Vec<Value> = serde_json::from_slice(&out.stdout).expect("list --json");
        for s in list {
            let id = s["id"].as_str().expect("an id").to_owned();
            let out = v.run_fast(&["--json", "show", &id, "--reveal"]);
            assert_success(&out, "show");
            let mut item: Value = serde_json::from_slice(&out.stdout).expect("show --json");
            item.as_object_mut().expect("an object").remove("updated");
            item["trashed"] = Value::Bool(trash);
            items.insert(id, item);
        }
    }
    items
}

fn titles(v: &TestVault) -> Vec<String> {
    let mut t: Vec<String> = snapshot(v).values().map(|i| i["title"].as_str().unwrap_or_default().to_owned()).collect();
    t.sort();
    t
}

// --- convergence -------------------------------------------------------------

fn two_vaults_converge(backend: Backend) {
    let s = ServerSetup::start(backend, &[]);
    let a = TestVault::new();
    let mail = a.add_login("Mail", "alice");
    let bank = a.add_login("Bank", "alice.b");
    let old = a.add_login("Old forum", "al");
    let kit = register(&a, &s.server.url, EMAIL);
    let b = cloned(&s.server.url, EMAIL, &kit);
    assert_eq!(snapshot(&a), snapshot(&b), "a fresh clone equals its source");

    // Different fields of one item on each side merge; each side adds and
    // deletes; the same field edited on both sides keeps both versions.
    assert_success(&a.run_fast(&["edit", &mail, "--username", "alice@work"]), "edit on a");
    assert_success(&b.run_fast(&["edit", &mail, "--notes", "recovery phone: 555"]), "edit on b");
    assert_success(&a.run_fast(&["edit", &bank, "--title", "Bank (a)"]), "edit on a");
    assert_success(&b.run_fast(&["edit", &bank, "--title", "Bank (b)"]), "edit on b");
    a.add_login("Added on a", "x");
    b.add_login("Added on b", "y");
    assert_success(&b.run_fast(&["rm", &old]), "trash on b");
    assert_success(&b.run_fast(&["purge", &old]), "purge on b");

    sync_json(&a);
    let r = sync_json(&b);
    assert_eq!(r["conflicts"], 1, "one conflict: {r}");
    sync_json(&a);

    let (sa, sb) = (snapshot(&a), snapshot(&b));
    assert_eq!(sa, sb, "both devices hold the same items");
    assert_eq!(sa[&mail]["username"], "alice@work");
    assert_eq!(sa[&mail]["notes"], "recovery phone: 555");
    assert!(!sa.contains_key(&old), "the purge reached a");
    let mut t = titles(&a);
    t.retain(|x| x.starts_with("Bank"));
    assert_eq!(t.len(), 2, "the conflict kept both versions: {t:?}");
    assert!(t.iter().any(|x| x.contains("conflict copy")), "{t:?}");
    assert_eq!(sa.len(), 5, "nothing lost or duplicated: {:?}", titles(&a));

    // A deletion does not win over an edit made elsewhere.
    let added_a = sa.iter().find(|(_, v)| v["title"] == "Added on a").map(|(k, _)| k.clone()).expect("item");
    assert_success(&a.run_fast(&["rm", &added_a]), "trash on a");
    assert_success(&a.run_fast(&["purge", &added_a]), "purge on a");
    assert_success(&b.run_fast(&["edit", &added_a, "--notes", "still needed"]), "edit on b");
    sync_json(&a);
    sync_json(&b);
    sync_json(&a);
    let (sa, sb) = (snapshot(&a), snapshot(&b));
    assert_eq!(sa, sb);
    assert_eq!(sa[&added_a]["notes"], "still needed", "the edit survived the deletion");
    // Nothing left to do on either side.
    assert_eq!(sync_json(&a), serde_json::json!({"pushed": 0, "pulled": 0, "conflicts": 0}));
    assert_eq!(sync_json(&b), serde_json::json!({"pushed": 0, "pulled": 0, "conflicts": 0}));
}

#[test]
fn sqlite_two_vaults_converge_after_edits_deletes_and_conflicts() {
    two_vaults_converge(Backend::Sqlite);
}

#[test]
fn postgres_two_vaults_converge_after_edits_deletes_and_conflicts() {
    two_vaults_converge(Backend::Postgres);
}

// --- the blindness canary ------------------------------------------------------

/// The marker and its obvious encodings: hex both cases, and base64
/// (standard and URL-safe) at each of the three byte alignments.
fn encodings(marker: &str) -> Vec<(String, Vec<u8>)> {
    let m = marker.as_bytes();
    let mut out = vec![
        ("raw".to_owned(), m.to_vec()),
        ("hex".to_owned(), data_encoding::HEXLOWER.encode(m).into_bytes()),
        ("HEX".to_owned(), data_encoding::HEXUPPER.encode(m).into_bytes()),
    ];
    for shift in 0..3 {
        let mut shifted = vec![b'x'; shift];
        shifted.extend_from_slice(m);
        for (name, enc) in [("base64", &data_encoding::BASE64), ("base64url", &data_encoding::BASE64URL)] {
            let text = enc.encode(&shifted);
            // Drop the characters that depend on the prefix or on padding.
            let start = if shift == 0 { 0 } else { 4 };
            let end = text.trim_end_matches('=').len().saturating_sub(4);
            out.push((format!("{name}@{shift}"), text.as_bytes()[start..end].to_vec()));
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn blindness_canary_no_marker_reaches_the_server_database_logs_or_traffic() {
    let server = TestServer::sqlite();
    let proxy = RecordingProxy::start(server.port);
    let a = TestVault::new();
    let markers = [
        "CanaryTitle7Q2x",
        "CanaryUser8W3y",
        "CanaryPassword9E4z",
        "CanaryNotes1R5a",
        "CanaryField2T6b",
        "CanaryProtected3Y7c",
        "CanaryAttachment4U8d",
        "CanaryMasterPw5I9e",
    ];
    // The master password carries a marker too.
    let new_pw = a.dir.path().join("new-password");
    std::fs::write(&new_pw, format!("{PASSWORD} {}\n", markers[7])).expect("write");
    assert_success(&a.run_fast(&["passwd", "--new-password-file", new_pw.to_str().expect("utf-8")]), "passwd");
    std::fs::copy(&new_pw, &a.password_file).expect("copy");

    let secret = a.dir.path().join("secret");
    std::fs::write(&secret, format!("{}\n", markers[2])).expect("write");
    let attachment = a.dir.path().join("canary.txt");
    // Large enough (24 KiB) that its push and its pull go gzipped.
    std::fs::write(&attachment, format!("{}\n{}", markers[6], "lorem ipsum ".repeat(2000))).expect("write");
    let out = a.run_fast(&[
        "add",
        "--title",
        markers[0],
        "--username",
        markers[1],
        "--secret-file",
        secret.to_str().expect("utf-8"),
        "--notes",
        markers[3],
        "--field",
        &format!("plain={}", markers[4]),
        "--protected-field",
        &format!("pin={}", markers[5]),
    ]);
    assert_success(&out, "add");
    let id = stdout(&out).trim().to_owned();
    assert_success(&a.run_fast(&["attach", &id, attachment.to_str().expect("utf-8")]), "attach");

    let kit = register(&a, &proxy.url, EMAIL);
    let b = TestVault::uninitialised();
    std::fs::copy(&new_pw, &b.password_file).expect("copy");
    let (b, out) = clone_with(b, &proxy.url, EMAIL, &kit, &[]);
    assert_success(&out, "sync clone");
    assert_success(&b.run_fast(&["edit", &id, "--notes", &format!("{} edited", markers[3])]), "edit");
    sync_json(&b);
    sync_json(&a);
    assert_eq!(snapshot(&a)[&id]["notes"], format!("{} edited", markers[3]));

    // Bodies travel gzipped both ways (answers, and pushes once the server
    // said it takes them): the search reads them inflated.
    let (decoded, inflated) = proxy.decoded_traffic();
    assert!(inflated >= 2, "no gzipped body seen: the decoding is not exercised ({inflated})");
    let places = [
        ("database", server.database.dump()),
        ("logs", server.logs()),
        ("traffic", proxy.traffic()),
        ("traffic inflated", decoded),
    ];
    assert!(places[3].1.len() > places[2].1.len(), "the inflated traffic is larger than the wire's");
    assert!(find(&places[3].1, b"/api/v1/vault/push"), "the traffic is HTTP we can search");
    assert!(find(&places[3].1, b"\"base_manifest_version\""), "a push body is read inflated");
    for marker in markers {
        for (encoding, needle) in encodings(marker) {
            for (place, hay) in &places {
                assert!(!find(hay, &needle), "{marker} ({encoding}) found in the server's {place}");
            }
        }
    }
    // The check can fail: the marker would be found in the vault itself
    // if it were stored in the clear.
    assert!(!find(&a.bytes(), markers[0].as_bytes()), "the local vault is encrypted too");
}

// --- a hostile server ------------------------------------------------------------

struct Hostile {
    s: ServerSetup,
    a: TestVault,
    b: TestVault,
    kit: PathBuf,
    ids: Vec<String>,
    account: String,
}

/// Two synced devices; item 0 edited once (server revision 2).
fn hostile_setup(backend: Backend) -> Hostile {
    let s = ServerSetup::start(backend, &[]);
    let a = TestVault::new();
    let ids = vec![a.add_login("One", "u1"), a.add_login("Two", "u2"), a.add_login("Three", "u3")];
    let kit = register(&a, &s.server.url, EMAIL);
    let b = cloned(&s.server.url, EMAIL, &kit);
    assert_success(&a.run_fast(&["edit", &ids[0], "--notes", "second version"]), "edit");
    sync_json(&a);
    sync_json(&b);
    let account = s.server.database.sql("SELECT id FROM accounts")[0].clone();
    Hostile { s, a, b, kit, ids, account }
}

fn db(h: &Hostile) -> &Database {
    &h.s.server.database
}

/// `sync` on `v` exits 5 naming `what`, and `v` is unchanged.
fn detected(v: &TestVault, what: &str) {
    let before = snapshot(v);
    let out = sync(v, &[]);
    assert_code(&out, 5, "sync against a tampered server");
    let err = stderr(&out);
    assert!(err.contains(what), "the error names the problem ({what}): {err}");
    assert!(err.contains("nothing was applied"), "{err}");
    assert_eq!(snapshot(v), before, "nothing was applied");
}

/// Makes the server send item `id` again in the next pull.
fn bump(d: &Database, id: &str) {
    d.sql("UPDATE accounts SET seq = seq + 1");
    d.sql(&format!("UPDATE items SET seq = (SELECT seq FROM accounts) WHERE item_id = '{id}'"));
}

fn rolled_back_item(backend: Backend) {
    let h = hostile_setup(backend);
    let id = &h.ids[0];
    db(&h).sql(&format!(
        "UPDATE items SET revision = 1, blob = (SELECT blob FROM item_revisions r WHERE r.item_id = items.item_id \
         AND r.revision = 1) WHERE item_id = '{id}'"
    ));
    detected(&h.a, &format!("item {id} was rolled back from revision 2 to revision 1"));
    detected(&h.b, "rolled back");
}

fn dropped_item(backend: Backend) {
    let h = hostile_setup(backend);
    let id = &h.ids[1];
    db(&h).sql(&format!("DELETE FROM items WHERE item_id = '{id}'"));
    detected(&h.a, &format!("item {id} was dropped"));
    // A new device sees it too: the signed manifest counts the item.
    let (v, out) = clone(&h.s.server.url, EMAIL, &h.kit, &[]);
    assert_code(&out, 5, "clone from a server that dropped an item");
    assert!(stderr(&out).contains("signed manifest"), "{}", stderr(&out));
    nothing_left(&v, &out);
}

/// A failed clone leaves no file (the vault, or SQLite's companions) and
/// says so.
fn nothing_left(v: &TestVault, out: &Output) {
    let left: Vec<_> = std::fs::read_dir(v.dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str().map(str::to_owned))
        .filter(|name| name.starts_with("vault.tessera"))
        .collect();
    assert!(left.is_empty(), "a failed clone left {left:?}");
    assert!(stderr(out).contains("nothing was written to"), "{}", stderr(out));
}

fn replayed_old_revision(backend: Backend) {
    let h = hostile_setup(backend);
    let id = &h.ids[0];
    db(&h).sql(&format!(
        "UPDATE items SET blob = (SELECT blob FROM item_revisions r WHERE r.item_id = items.item_id \
         AND r.revision = 1) WHERE item_id = '{id}'"
    ));
    bump(db(&h), id);
    detected(&h.a, &format!("item {id}: its record fails authentication at revision 2"));
    // A damaged item seen first by a new device: the clone fails whole.
    let (v, out) = clone(&h.s.server.url, EMAIL, &h.kit, &[]);
    assert_code(&out, 5, "clone from a server holding a damaged item");
    nothing_left(&v, &out);
}

fn swapped_items(backend: Backend) {
    let h = hostile_setup(backend);
    let (x, y) = (&h.ids[1], &h.ids[2]);
    let blob = |id: &str| db(&h).sql(&format!("SELECT blob FROM items WHERE item_id = '{id}'"))[0].clone();
    let (bx, by) = (blob(x), blob(y));
    db(&h).sql(&format!("UPDATE items SET blob = '{by}' WHERE item_id = '{x}'"));
    db(&h).sql(&format!("UPDATE items SET blob = '{bx}' WHERE item_id = '{y}'"));
    bump(db(&h), x);
    bump(db(&h), y);
    detected(&h.a, "swapped with another item");
}

fn item_from_another_account(backend: Backend) {
    let h = hostile_setup(backend);
    let other = TestVault::new();
    let stranger = other.add_login("Stranger", "mallory");
    register(&other, &h.s.server.url, "bob@example.com");
    let d = db(&h);
    d.sql("UPDATE accounts SET seq = seq + 1");
    d.sql(&format!(
        "INSERT INTO items (account_id, item_id, revision, seq, deleted, blob) SELECT '{}', item_id, revision, \
         (SELECT seq FROM accounts WHERE id = '{}'), deleted, blob FROM items WHERE item_id = '{stranger}'",
        h.account, h.account
    ));
    detected(&h.a, &format!("unknown to this device: {stranger}"));
}

fn kdf_below_the_floor(backend: Backend) {
    let h = hostile_setup(backend);
    db(&h).sql(
        "UPDATE accounts SET kdf = '{\"algorithm\":\"argon2id\",\"memory_kib\":1024,\"iterations\":1,\"parallelism\":1}'",
    );
    detected(&h.a, "KDF parameters below the floor");
    let (v, out) = clone(&h.s.server.url, EMAIL, &h.kit, &[]);
    assert_code(&out, 5, "clone offered a weak KDF");
    assert!(stderr(&out).contains("below the floor"), "{}", stderr(&out));
    nothing_left(&v, &out);
}

fn rolled_back_account(backend: Backend) {
    let h = hostile_setup(backend);
    // The whole account, manifest included, put back one push earlier.
    let version: u64 = db(&h).sql("SELECT manifest_version FROM accounts")[0].parse().expect("a number");
    assert!(version >= 2);
    assert_success(&h.a.run_fast(&["edit", &h.ids[2], "--notes", "third"]), "edit");
    let saved = db(&h).sql("SELECT manifest, manifest_version FROM accounts")[0].clone();
    let (manifest, v) = saved.split_once('\t').expect("two columns");
    sync_json(&h.a);
    db(&h).sql(&format!("UPDATE accounts SET manifest = '{manifest}', manifest_version = {v}"));
    detected(&h.a, "the account was rolled back");
}

macro_rules! both_backends {
    ($($case:ident => $sqlite:ident, $postgres:ident;)*) => {$(
        #[test]
        fn $sqlite() {
            $case(Backend::Sqlite);
        }

        #[test]
        fn $postgres() {
            $case(Backend::Postgres);
        }
    )*};
}

both_backends! {
    rolled_back_item => sqlite_rolled_back_item_is_detected, postgres_rolled_back_item_is_detected;
    dropped_item => sqlite_dropped_item_is_detected, postgres_dropped_item_is_detected;
    replayed_old_revision => sqlite_replayed_old_revision_is_detected, postgres_replayed_old_revision_is_detected;
    swapped_items => sqlite_swapped_ciphertexts_are_detected, postgres_swapped_ciphertexts_are_detected;
    item_from_another_account => sqlite_item_moved_from_another_account_is_detected,
        postgres_item_moved_from_another_account_is_detected;
    kdf_below_the_floor => sqlite_kdf_below_the_floor_is_refused, postgres_kdf_below_the_floor_is_refused;
    rolled_back_account => sqlite_rolled_back_account_is_detected, postgres_rolled_back_account_is_detected;
}

// --- accounts, tokens, sessions ----------------------------------------------------

/// `auth` for the test password and the kit's Secret Key.
fn error_code(e: HttpError) -> (u16, String) {
    match e {
        HttpError::Status(status, body) => (status, body.error),
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

fn accounts_are_isolated(backend: Backend) {
    let s = ServerSetup::start(backend, &[]);
    let (alice, bob) = (TestVault::new(), TestVault::new());
    alice.add_login("Alice's", "a");
    let bobs = bob.add_login("Bob's", "b");
    let kit_a = register(&alice, &s.server.url, EMAIL);
    let kit_b = register(&bob, &s.server.url, "bob@example.com");
    let (api_a, _) = http_login(&s.server.url, EMAIL, &kit_a);

    let index = api_a.index().expect("index");
    assert!(index.items.iter().all(|i| i.id != bobs), "Bob's item is not in Alice's index");
    let changes = api_a.changes(0).expect("changes");
    assert!(changes.changes.iter().all(|c| c.id != bobs));

    // Writing to Bob's id with Bob's revision looks exactly like a missing id.
    let attempt = |id: &str| {
        error_code(
            api_a
                .push(&PushRequest {
                    base_manifest_version: index.manifest_version,
                    manifest: index.manifest.clone(),
                    manifest_version: index.manifest_version + 1,
                    items: vec![PushItem { id: id.into(), base_revision: 1, deleted: false, blob: b64(b"junk") }],
                })
                .expect_err("a stale push"),
        )
    };
    assert_eq!(attempt(&bobs), attempt("0123456789abcdef0123456789abcdef"));

    // Bob's data is untouched and Bob still syncs.
    let (api_b, _) = http_login(&s.server.url, "bob@example.com", &kit_b);
    assert_eq!(api_b.index().expect("index").items.len(), 1);
    assert_success(&sync(&bob, &[]), "bob syncs");
}

fn refresh_token_reuse_revokes_the_device(backend: Backend) {
    let s = ServerSetup::start(backend, &[]);
    let a = TestVault::new();
    let kit = register(&a, &s.server.url, EMAIL);
    let (mut api, first) = http_login(&s.server.url, EMAIL, &kit);
    let second = api.refresh(&first.refresh_token).expect("the first use rotates");
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(error_code(api.refresh(&first.refresh_token).expect_err("replayed")), (401, "unauthorized".into()));
    // The theft is contained: the rotated token and its access token die too.
    assert_eq!(error_code(api.refresh(&second.refresh_token).expect_err("family revoked")).0, 401);
    api.access_token = Some(second.access_token);
    assert_eq!(error_code(api.index().expect_err("device revoked")).0, 401);
    // The account's event log says what happened.
    let (api, _) = http_login(&s.server.url, EMAIL, &kit);
    let events = api.events().expect("events");
    assert!(events.iter().any(|e| e.event == "refresh_reuse"), "{events:?}");
    assert!(events.iter().any(|e| e.event == "registered"));
}

both_backends! {
    accounts_are_isolated => sqlite_accounts_are_isolated, postgres_accounts_are_isolated;
    refresh_token_reuse_revokes_the_device => sqlite_refresh_token_reuse_revokes_the_device,
        postgres_refresh_token_reuse_revokes_the_device;
}

#[test]
fn a_device_whose_session_is_gone_logs_in_again_by_itself() {
    let server = TestServer::sqlite();
    let a = TestVault::new();
    let kit = register(&a, &server.url, EMAIL);
    let b = cloned(&server.url, EMAIL, &kit);
    // Logged out (tokens revoked), then the server loses every session.
    assert_success(&sync(&a, &["logout"]), "logout");
    server.database.sql("DELETE FROM refresh_tokens");
    server.database.sql("DELETE FROM devices");
    a.add_login("After logout", "z");
    assert_success(&sync(&a, &[]), "sync logs in again");
    assert_success(&sync(&b, &[]), "sync logs in again");
    assert!(titles(&b).contains(&"After logout".to_owned()));
    let status: Value = serde_json::from_slice(&b.run(&["--json", "sync", "status"]).stdout).expect("status");
    assert_eq!(status["pending"], 0);
    assert_eq!(status["logged_in"], true);
}

#[test]
fn wrong_master_password_for_the_account_is_refused() {
    let server = TestServer::sqlite();
    let a = TestVault::new();
    let kit = register(&a, &server.url, EMAIL);
    let v = TestVault::uninitialised();
    std::fs::write(&v.password_file, "not the password\n").expect("write");
    let out = v.run(&[
        "sync",
        "clone",
        "--server",
        &server.url,
        "--email",
        EMAIL,
        "--secret-key-file",
        kit.to_str().expect("utf-8"),
        "--kdf-memory-mib",
        "64",
    ]);
    assert_code(&out, 3, "clone with a wrong password");
    assert!(!v.path.exists(), "no vault is left behind");
    // And a wrong Secret Key.
    std::fs::write(&kit, "TSK1-AAAAA-AAAAA-AAAAA-AAAAA-AAAAAA\n").expect("write");
    let (v, out) = clone(&server.url, EMAIL, &kit, &[]);
    assert_code(&out, 3, "clone with a wrong Secret Key");
    assert!(!v.path.exists());
}

#[test]
fn account_second_factor_totp_and_recovery_codes() {
    let server = TestServer::sqlite();
    let a = TestVault::new();
    let kit = register(&a, &server.url, EMAIL);
    let out = a.run(&["--json", "sync", "2fa", "enable"]);
    assert_success(&out, "2fa enable");
    let enrol: Value = serde_json::from_slice(&out.stdout).expect("json");
    let secret = enrol["secret"].as_str().expect("a secret");
    let code = std::process::Command::new("oathtool").args(["--totp", "-b", secret]).output().expect("oathtool runs");
    let code = String::from_utf8_lossy(&code.stdout).trim().to_owned();
    let out = a.run(&["--json", "sync", "2fa", "enable", "--totp", &code]);
    assert_success(&out, "2fa enable --totp");
    let codes: Value = serde_json::from_slice(&out.stdout).expect("json");
    let recovery = codes["recovery_codes"][0].as_str().expect("recovery codes").to_owned();
    assert_eq!(codes["recovery_codes"].as_array().map(Vec::len), Some(10));

    let (v, out) = clone(&server.url, EMAIL, &kit, &[]);
    assert_code(&out, 3, "clone without the second factor");
    assert!(stderr(&out).contains("--totp"), "{}", stderr(&out));
    assert!(!v.path.exists());
    let (_, out) = clone(&server.url, EMAIL, &kit, &["--totp", &recovery]);
    assert_success(&out, "clone with a recovery code");
    let (_, out) = clone(&server.url, EMAIL, &kit, &["--totp", &recovery]);
    assert_code(&out, 3, "a recovery code works once");
}

// --- two instances on one PostgreSQL, one killed mid-sync ------------------------------

#[test]
fn postgres_two_instances_one_killed_mid_sync_lose_nothing() {
    let pg = Postgres::start();
    let db = pg.database();
    let mut s1 = TestServer::start(db, Arc::new(tempfile::tempdir().expect("a temporary directory")));
    let s2 = s1.another();
    let a = TestVault::new();
    let kit = register(&a, &s1.url, EMAIL);
    let b = cloned(&s2.url, EMAIL, &kit);

    // Enough items for two push batches.
    let csv = a.dir.path().join("many.csv");
    let mut text = String::from("name,username,password,url\n");
    for i in 0..2500 {
        text.push_str(&format!("Item {i:05},user{i},pw-{i},https://example.com/{i}\n"));
    }
    std::fs::write(&csv, text).expect("write the CSV");
    assert_success(&a.run_fast(&["import", csv.to_str().expect("utf-8")]), "import");

    let mut child = a.command().arg("sync").spawn().expect("start sync");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while s1.database.sql("SELECT count(*) FROM items")[0] == "0" && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    s1.kill();
    let status = child.wait().expect("sync ends");
    // Killed between batches or mid-batch: either way the client says so
    // (or had finished); nothing half-written is visible.
    let stored: u64 = s1.database.sql("SELECT count(*) FROM items")[0].parse().expect("a count");
    assert!(stored == 1000 || stored == 2000 || stored == 2500, "whole batches only: {stored}");
    // Finished before the kill (0), or told the user the server went away (1).
    assert!(matches!(status.code(), Some(0 | 1)), "sync ended with {status}");
    s1.restart();
    assert_success(&sync(&a, &[]), "sync after the restart");
    assert_success(&sync(&b, &[]), "sync through the other instance");
    let (ta, tb) = (a.run_fast(&["--json", "list"]), b.run_fast(&["--json", "list"]));
    let la: Vec<Value> = serde_json::from_slice(&ta.stdout).expect("list");
    let lb: Vec<Value> = serde_json::from_slice(&tb.stdout).expect("list");
    assert_eq!(la.len(), 2500);
    assert_eq!(la, lb, "both devices hold the same 2,500 items, once each");
    let stored: u64 = s2.database.sql("SELECT count(*) FROM items")[0].parse().expect("a count");
    assert_eq!(stored, 2500);
}

// --- the server's own surface ------------------------------------------------------------

#[test]
fn server_serves_health_metrics_and_its_openapi_document() {
    let server = TestServer::sqlite();
    let a = TestVault::new();
    register(&a, &server.url, EMAIL);
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        use std::io::{Read, Write};
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("write");
        let mut body = String::new();
        s.read_to_string(&mut body).expect("read");
        body
    };
    assert!(get("/health").starts_with("HTTP/1.1 200"));
    let metrics = get("/metrics");
    assert!(
        metrics.contains(
            "tessera_http_requests_total{method=\"POST\",route=\"/api/v1/accounts/register\",status=\"200\"} 1"
        )
    );
    let openapi = get("/api/v1/openapi.json");
    for route in [
        "/api/v1/vault/push",
        "/api/v1/vault/changes",
        "/api/v1/sync/check",
        "/api/v1/accounts/login",
        "/api/v1/accounts/2fa/enroll",
    ] {
        assert!(openapi.contains(route), "{route} is documented");
    }
    // Logs are JSON lines with request ids.
    let logs = String::from_utf8(server.logs()).expect("utf-8 logs");
    let line = logs.lines().find(|l| l.contains("/api/v1/accounts/register")).expect("a request log line");
    let v: Value = serde_json::from_str(line).expect("a JSON log line");
    assert!(v["fields"]["request_id"].as_str().is_some_and(|r| r.len() == 32));
    // An oversized body is refused before it is read.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    use std::io::{Read, Write};
    write!(
        s,
        "POST /api/v1/accounts/prelogin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
}

#[test]
fn deleting_an_account_removes_its_data_and_needs_auth_again() {
    let server = TestServer::sqlite();
    let a = TestVault::new();
    a.add_login("Gone soon", "x");
    let kit = register(&a, &server.url, EMAIL);
    let (api, _) = http_login(&server.url, EMAIL, &kit);
    assert_eq!(error_code(api.delete_account(&[7; 32]).expect_err("wrong auth")), (401, "invalid_credentials".into()));
    api.delete_account(account_keys(&api, EMAIL, &kit).auth.as_ref()).expect("delete");
    assert_eq!(error_code(api.index().expect_err("gone")).0, 401);
    for table in ["accounts", "items", "item_revisions", "devices", "refresh_tokens", "account_events"] {
        assert_eq!(server.database.sql(&format!("SELECT count(*) FROM {table}")), vec!["0"], "{table} is empty");
    }
}

#[test]
fn offline_edits_queue_and_go_up_when_the_server_is_back() {
    let mut server = TestServer::sqlite();
    let a = TestVault::new();
    let kit = register(&a, &server.url, EMAIL);
    let b = cloned(&server.url, EMAIL, &kit);
    server.kill();
    a.add_login("Written offline", "o");
    let out = sync(&a, &[]);
    assert_code(&out, 1, "sync with the server away");
    assert!(stderr(&out).contains("local changes stay queued"), "{}", stderr(&out));
    let status: Value = serde_json::from_slice(&a.run(&["--json", "sync", "status"]).stdout).expect("status");
    assert_eq!(status["pending"], 1);
    server.restart();
    assert_eq!(sync_json(&a)["pushed"], 1);
    sync_json(&b);
    assert!(titles(&b).contains(&"Written offline".to_owned()));
}

#[test]
fn failed_logins_back_off_and_each_address_is_rate_limited() {
    let mut server = TestServer::sqlite();
    server.set_extra_args(&["--auth-rate-per-minute", "20"]);
    server.restart();
    let a = TestVault::new();
    register(&a, &server.url, EMAIL);
    let api = Api::new(&server.url).expect("client");
    let wrong = || {
        error_code(
            api.login(&LoginRequest { email: EMAIL.into(), auth: b64(&[1; 32]), totp: None, device_name: "x".into() })
                .expect_err("a wrong auth"),
        )
        .1
    };
    let codes: Vec<String> = (0..7).map(|_| wrong()).collect();
    assert_eq!(&codes[..5], &vec!["invalid_credentials".to_owned(); 5][..], "{codes:?}");
    assert!(codes[5..].iter().all(|c| c == "rate_limited"), "the account backs off after 5 failures: {codes:?}");
    let events = server.database.sql("SELECT count(*) FROM account_events WHERE event = 'login_failed'");
    assert_eq!(events, vec!["5"]);
    // The address bucket (20 a minute) runs dry too, whatever the account.
    let limited = (0..30).map(|_| api.prelogin("nobody@example.com")).filter(|r| r.is_err()).count();
    assert!(limited >= 5, "{limited} of 30 prelogins refused");
}

#[test]
fn server_over_tls_with_a_private_certificate() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let p = |name: &str| dir.path().join(name).to_str().expect("utf-8").to_owned();
    let (ca, ca_key, cert, key, csr, ext) =
        (p("ca.pem"), p("ca-key.pem"), p("cert.pem"), p("key.pem"), p("cert.csr"), p("ext.cnf"));
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").expect("write");
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).output().expect("openssl runs (package openssl)");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    // A private CA, and a server certificate it signs (webpki refuses a CA
    // certificate used as the server's own).
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl(
        &[&["req", "-x509"][..], &ec, &["-days", "2", "-subj", "/CN=Test CA", "-keyout", &ca_key, "-out", &ca]]
            .concat(),
    );
    openssl(&[&["req"][..], &ec, &["-subj", "/CN=127.0.0.1", "-keyout", &key, "-out", &csr]].concat());
    openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &ext,
        "-out",
        &cert,
    ]);
    let mut server = TestServer::sqlite();
    server.set_extra_args(&["--tls-cert", &cert, "--tls-key", &key]);
    server.restart();
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let a = TestVault::new();
    // Not trusted: refused.
    let out = sync(&a, &["register", "--server", &server.url, "--email", EMAIL]);
    assert_code(&out, 1, "register against an untrusted certificate");
    // Trusted through $TESSERA_SYNC_CA_FILE: works end to end.
    let out = a
        .command()
        .env("TESSERA_SYNC_CA_FILE", &ca)
        .args(["sync", "register", "--server", &server.url, "--email", EMAIL])
        .output()
        .expect("run tessera");
    assert_success(&out, "register over TLS");
    let out = a.command().env("TESSERA_SYNC_CA_FILE", &ca).arg("sync").output().expect("run tessera");
    assert_success(&out, "sync over TLS");
}

#[test]
fn a_lost_device_is_revoked_from_another_and_the_log_shows_it() {
    let server = TestServer::sqlite();
    let a = TestVault::new();
    let kit = register(&a, &server.url, EMAIL);
    let b = cloned(&server.url, EMAIL, &kit);
    let out = a.run(&["--json", "sync", "devices"]);
    assert_success(&out, "sync devices");
    let devices: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(devices.len(), 2);
    let lost = devices.iter().find(|d| d["current"] == false).expect("the other device");
    let lost_id = lost["id"].as_str().expect("an id");
    assert_success(&a.run(&["sync", "revoke", lost_id]), "sync revoke");
    // Revoking an id of no device of this account is "not found", exit 1.
    assert_code(&a.run(&["sync", "revoke", "0123456789abcdef0123456789abcdef"]), 1, "revoke an unknown id");
    // The revoked device's session is dead; with the master password it
    // logs in again as a new device (revocation is not a password change).
    let devices_after: Vec<Value> =
        serde_json::from_slice(&a.run(&["--json", "sync", "devices"]).stdout).expect("json");
    assert!(devices_after.iter().any(|d| d["id"] == lost_id && d["revoked"] == true));
    assert_success(&sync(&b, &[]), "b logs in again");
    // Any device can print the emergency kit again; it holds the same key.
    let again = b.dir.path().join("kit-again.txt");
    assert_success(&sync(&b, &["kit", "--emergency-kit", again.to_str().expect("utf-8")]), "sync kit");
    let key = |p: &Path| {
        let text = std::fs::read_to_string(p).expect("a kit");
        text.lines().find_map(|l| l.strip_prefix("Secret Key:").map(|k| k.trim().to_owned())).expect("a key line")
    };
    assert_eq!(key(&again), key(&kit));
    let out = a.run(&["--json", "sync", "events"]);
    assert_success(&out, "sync events");
    let events: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    for kind in ["registered", "login", "device_revoked"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert!(events.iter().all(|e| e["address"] == "127.0.0.1"), "{events:?}");
}

#[test]
fn a_push_over_the_body_limit_is_reported_not_called_tampering() {
    // The body limit answers 413 before any handler reads the push; the
    // client reports a refusal (exit 1), not a hostile server (exit 5), and
    // keeps the change queued.
    let mut server = TestServer::sqlite();
    server.set_extra_args(&["--max-body", "2000"]);
    server.restart();
    let a = TestVault::new();
    register(&a, &server.url, EMAIL);
    let big = a.dir.path().join("big");
    std::fs::write(&big, "x".repeat(5000)).expect("write");
    assert_success(&a.run_fast(&["add", "--title", "Big", "--secret-file", big.to_str().expect("utf-8")]), "add");
    let out = sync(&a, &[]);
    assert_code(&out, 1, "a push the server refuses as too large");
    assert!(stderr(&out).contains("HTTP 413"), "{}", stderr(&out));
    let status: Value = serde_json::from_slice(&a.run(&["--json", "sync", "status"]).stdout).expect("status");
    assert_eq!(status["pending"], 1, "the item waits for the next sync");
}

/// Sizes hide content: notes of 1 to 2,000 characters give a handful of
/// ciphertext sizes in the vault file and on the server, and a changed byte
/// of the padding is a tampering like any other (exit 5).
#[test]
fn ciphertext_sizes_fall_into_a_handful_of_classes() {
    let server = TestServer::sqlite();
    let v = TestVault::new();
    let lengths: Vec<usize> = (0..40).map(|i| 1 + i * 2000 / 40).chain([2000]).collect();
    for (i, n) in lengths.iter().enumerate() {
        let out = v.run_fast(&["add", "--type", "note", "--title", &format!("Note {i}"), "--notes", &"n".repeat(*n)]);
        assert_success(&out, "add a note");
    }
    register(&v, &server.url, EMAIL);
    let local: std::collections::BTreeSet<i64> = {
        let db = v.sqlite();
        let mut stmt = db.prepare("SELECT length(ciphertext) FROM items").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    let remote: std::collections::BTreeSet<String> =
        server.database.sql("SELECT length(blob) FROM items").into_iter().collect();
    assert!(local.len() <= 9, "{} sizes in the vault file: {local:?}", local.len());
    assert!(remote.len() <= 9, "{} sizes on the server: {remote:?}", remote.len());
    assert!(local.len() >= 2, "the sizes did not vary at all: {local:?}");

    // The padding is the ciphertext's last bytes before the tag: flip one.
    let db = v.sqlite();
    let (rowid, mut blob): (i64, Vec<u8>) =
        db.query_row("SELECT rowid, ciphertext FROM items LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    let at = blob.len() - 16 - 1;
    blob[at] ^= 0x01;
    db.execute("UPDATE items SET ciphertext = ?1 WHERE rowid = ?2", rusqlite::params![blob, rowid]).unwrap();
    drop(db);
    let out = v.run_fast(&["verify"]);
    assert_code(&out, 5, "verify after a flipped padding byte");
}

/// `kill -9` in the middle of `sync clone` leaves no vault at the path it
/// was given (the clone is built beside it and linked into place only when
/// whole); the next clone to that path removes what the killed one left
/// and succeeds.
#[test]
fn a_killed_clone_leaves_no_vault_and_the_next_one_tidies_up() {
    use std::os::unix::process::ExitStatusExt;
    let server = TestServer::sqlite();
    let a = TestVault::new();
    for i in 0..150 {
        a.add_login(&format!("Item {i:03}"), "user");
    }
    let kit = register(&a, &server.url, EMAIL);

    let v = TestVault::uninitialised();
    let kit_arg = kit.to_str().expect("utf-8");
    let args = [
        "sync",
        "clone",
        "--server",
        &server.url,
        "--email",
        EMAIL,
        "--secret-key-file",
        kit_arg,
        "--kdf-memory-mib",
        "64",
        "--recovery-code-file",
        v.recovery_file.to_str().expect("utf-8"),
    ];
    let mut child = v.command().args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("clone");
    let name = v.path.file_name().expect("a file name").to_string_lossy().into_owned();
    let building = format!(".{name}.clone-{}", child.id());
    // Killed as soon as the new vault exists on disk: mid-way through the
    // first sync (150 items to pull) or still writing it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !v.dir.path().join(&building).exists() {
        assert!(std::time::Instant::now() < deadline, "the clone never started building {building}");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().expect("kill -9");
    let status = child.wait().expect("wait");
    assert_eq!(status.signal(), Some(9), "the clone finished before it could be killed: {status:?}");
    assert!(v.path.symlink_metadata().is_err(), "a killed clone left a vault at {}", v.path.display());

    // The next clone to the same path removes the abandoned one and works.
    let (v, out) = clone_with(v, &server.url, EMAIL, &kit, &[]);
    assert_success(&out, "clone after a killed clone");
    let left: Vec<String> = std::fs::read_dir(v.dir.path())
        .expect("the vault's directory")
        .filter_map(|e| e.ok()?.file_name().to_str().map(str::to_owned))
        .filter(|f| f.contains(".clone-"))
        .collect();
    assert!(left.is_empty(), "the abandoned clone is still there: {left:?}");
    assert_eq!(titles(&v).len(), 150);
}

/// An older copy of a syncing vault file put back in place (whole-file
/// rollback) is found at its next sync: this device pushed a manifest the
/// file never saw. Exit 5, nothing applied; `restore-check --accept-older`
/// lets the next sync go on, which brings back what the copy missed. A
/// copy only one push behind is the crash window (the server took the push,
/// the file did not record it) and syncs as usual. Another device's pushes
/// raise no alarm.
#[test]
fn an_older_copy_of_the_vault_file_is_found_at_the_next_sync() {
    let server = TestServer::sqlite();
    let a = TestVault::new();
    a.add_login("Before the copy", "u");
    let kit = register(&a, &server.url, EMAIL);
    let b = cloned(&server.url, EMAIL, &kit);
    sync_json(&a);
    let copy = a.dir.path().join("copy.tessera");
    std::fs::copy(&a.path, &copy).expect("copy the vault file");

    // One push after the copy: put back, the copy is one push behind.
    a.add_login("One push later", "u");
    sync_json(&a);
    b.add_login("From the other device", "u");
    sync_json(&b);
    std::fs::copy(&copy, &a.path).expect("put the copy back");
    sync_json(&a);
    let now = titles(&a);
    assert!(now.contains(&"One push later".to_owned()), "the crash-window copy did not heal: {now:?}");

    // Two pushes after a copy: found, and nothing applied.
    std::fs::copy(&a.path, &copy).expect("copy the vault file");
    a.add_login("Second", "u");
    sync_json(&a);
    a.add_login("Third", "u");
    sync_json(&a);
    std::fs::copy(&copy, &a.path).expect("put the copy back");
    let before = titles(&a);
    let out = sync(&a, &[]);
    assert_code(&out, 5, "sync of an older copy of the vault file");
    assert!(stderr(&out).contains("older than the last one this device synced"), "{}", stderr(&out));
    assert_eq!(titles(&a), before, "something was applied to the older copy");

    // The deliberate restore: accepted with the master password, then the
    // next sync brings back what the copy missed.
    let out = a.run(&["--json", "restore-check", "--accept-older"]);
    assert_success(&out, "restore-check --accept-older");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["sync"], true, "{v}");
    sync_json(&a);
    let after = titles(&a);
    for t in ["Second", "Third", "From the other device"] {
        assert!(after.contains(&t.to_owned()), "{t} missing after the accepted restore: {after:?}");
    }
    // And the alarm is not disarmed for good.
    assert_success(&sync(&a, &[]), "a normal sync after the accepted restore");
}
