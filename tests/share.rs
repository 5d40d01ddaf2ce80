//! Sharing through a real `tessera-server` on 127.0.0.1 (DESIGN §11):
//! Alice shares with Bob (write) and Carol (read), each a separate vault and
//! account. Edits flow, roles hold on the client and on the server, removal
//! re-keys; then a hostile server — editing its own database as an attacker
//! with its disk would — tries each attack class of the February 2026 study
//! on sharing, and each is refused with exit 5 naming it, nothing applied.

use std::process::Output;

use serde_json::Value;
use sha2::Digest;
use tessera_core::share::Identity;
use tessera_sync::client::http::HttpError;
use tessera_sync::wire::{IdentityRecord, PushItem, PushRequest, SharePush, b64};
use tessera_test_support::server::{Backend, OlderServerProxy, ServerSetup, TestServer, http_login, register};
use tessera_test_support::{TestVault, assert_code, assert_success, stderr, stdout};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const CAROL: &str = "carol@example.com";

struct Person {
    v: TestVault,
    email: &'static str,
    kit: std::path::PathBuf,
}

impl Person {
    fn new(server: &TestServer, email: &'static str) -> Person {
        let v = TestVault::new();
        let kit = register(&v, &server.url, email);
        Person { v, email, kit }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.v.run(args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_success(&out, &format!("{} {}", self.email, args.join(" ")));
        stdout(&out)
    }

    fn json(&self, args: &[&str]) -> Value {
        self.v.json(args)
    }

    fn fingerprint(&self) -> String {
        self.json(&["identity"])["fingerprint"].as_str().expect("a fingerprint").to_owned()
    }

    /// The pending invitation's id (the one share list shows as pending).
    fn invitation(&self) -> String {
        let list = self.json(&["share", "list"]);
        let pending: Vec<&Value> = list.as_array().expect("a list").iter().filter(|s| s["pending"] == true).collect();
        assert_eq!(pending.len(), 1, "{}: one invitation in {list}", self.email);
        pending[0]["id"].as_str().expect("an id").to_owned()
    }

    /// Titles and notes of the items in share `name`.
    fn share_items(&self, name: &str) -> Vec<(String, String)> {
        let list = self.json(&["list", "--share", name]);
        let mut out: Vec<(String, String)> = list
            .as_array()
            .expect("a list")
            .iter()
            .map(|s| {
                let id = s["id"].as_str().expect("id");
                let item = self.json(&["show", id]);
                (s["title"].as_str().expect("title").to_owned(), item["notes"].as_str().unwrap_or("").to_owned())
            })
            .collect();
        out.sort();
        out
    }

    fn titles(&self) -> Vec<String> {
        let list = self.json(&["list"]);
        let mut t: Vec<String> =
            list.as_array().expect("a list").iter().map(|s| s["title"].as_str().unwrap_or("").to_owned()).collect();
        t.sort();
        t
    }
}

fn assert_hostile(out: &Output, what: &str, needle: &str) {
    assert_code(out, 5, what);
    let err = stderr(out);
    assert!(err.contains(needle), "{what}: expected {needle:?} in: {err}");
}

/// Alice's "Family" with Bob (write) and Carol (read), both accepted, and
/// one item in it. Returns the share id and the item id.
fn family(server: &TestServer) -> (Person, Person, Person, String, String) {
    let alice = Person::new(server, ALICE);
    let bob = Person::new(server, BOB);
    let carol = Person::new(server, CAROL);
    // Bob and Carol publish their identities (their first sync does).
    bob.fingerprint();
    carol.fingerprint();
    let created = alice.json(&["share", "create", "Family"]);
    let share = created["id"].as_str().expect("an id").to_owned();
    let item = alice
        .ok(&["add", "--title", "Wifi", "--username", "home", "--notes", "router in the hall", "--share", "Family"])
        .trim()
        .to_owned();
    alice.ok(&["sync"]);
    alice.ok(&["share", "invite", "Family", BOB, "--role", "write"]);
    alice.ok(&["share", "invite", "Family", CAROL, "--role", "read"]);
    for p in [&bob, &carol] {
        let id = p.invitation();
        assert_eq!(id, share);
        p.ok(&["share", "accept", &id]);
    }
    (alice, bob, carol, share, item)
}

#[test]
fn family_edits_flow_roles_hold_and_removal_rekeys() {
    family_flow(&TestServer::sqlite());
}

#[test]
fn family_edits_flow_on_postgresql() {
    let setup = ServerSetup::start(Backend::Postgres, &[]);
    family_flow(&setup.server);
}

fn family_flow(server: &TestServer) {
    let (alice, bob, carol, share, item) = family(server);

    // The contract of share list --json and identity --json.
    let list = bob.json(&["share", "list"]);
    assert_eq!(
        list,
        serde_json::json!([{"id": share, "name": "Family", "role": "write", "members": 3, "pending": false}])
    );
    let me = bob.json(&["identity"]);
    assert_eq!(me["email"], BOB);
    assert_eq!(me["fingerprint"].as_str().expect("fp").len(), 47);
    // The fingerprint Alice was shown is the one Bob has.
    let members = alice.json(&["share", "members", "Family"]);
    let bob_row =
        members.as_array().expect("list").iter().find(|m| m["email"] == BOB).expect("bob is a member").clone();
    assert_eq!(bob_row["fingerprint"], me["fingerprint"]);
    assert_eq!(bob_row["verified"], false);
    alice.ok(&["identity", "verify", BOB, me["fingerprint"].as_str().expect("fp")]);
    let members = alice.json(&["share", "members", "Family"]);
    assert!(members.as_array().expect("list").iter().any(|m| m["email"] == BOB && m["verified"] == true));

    for p in [&bob, &carol] {
        assert_eq!(p.share_items("Family"), vec![("Wifi".to_owned(), "router in the hall".to_owned())]);
    }

    // Bob's edit reaches Alice and Carol.
    bob.ok(&["edit", &item, "--notes", "router moved to the office"]);
    bob.ok(&["sync"]);
    for p in [&alice, &carol] {
        p.ok(&["sync"]);
        assert_eq!(p.share_items("Family"), vec![("Wifi".to_owned(), "router moved to the office".to_owned())]);
    }

    // Carol may not write: her client refuses (exit 3)…
    let out = carol.run(&["edit", &item, "--notes", "carol was here"]);
    assert_code(&out, 3, "a read member's edit");
    assert!(stderr(&out).contains("read"), "{}", stderr(&out));
    let out = carol.run(&["add", "--title", "Carol's", "--share", "Family"]);
    assert_code(&out, 3, "a read member's add");
    // …and so does the server, whatever a client sends.
    let (api, _) = http_login(&server.url, CAROL, &carol.kit);
    let index = api.share_index(&share).expect("carol reads the share");
    let push = SharePush {
        epoch: 1,
        push: PushRequest {
            base_manifest_version: index.manifest_version,
            manifest: index.manifest.clone(),
            manifest_version: index.manifest_version + 1,
            items: vec![PushItem { id: "0".repeat(32), base_revision: 0, deleted: false, blob: b64(&[0; 300]) }],
        },
        verified: None,
    };
    match api.share_push(&share, &push) {
        Err(HttpError::Status(403, body)) => assert_eq!(body.error, "forbidden"),
        other => panic!("the server let a read member push: {other:?}"),
    }

    // Removing Bob re-keys: Carol keeps reading, Bob reads nothing new.
    alice.ok(&["share", "remove", "Family", BOB]);
    alice.ok(&["add", "--title", "Alarm", "--notes", "code 4711", "--share", "Family"]);
    alice.ok(&["sync"]);
    carol.ok(&["sync"]);
    let carol_sees: Vec<String> = carol.share_items("Family").into_iter().map(|(t, _)| t).collect();
    assert_eq!(carol_sees, vec!["Alarm", "Wifi"]);
    bob.ok(&["sync"]);
    assert!(!bob.titles().contains(&"Alarm".to_owned()), "a removed member read a new item");
    let kept = bob.json(&["list", "--tag", "unshared:Family"]);
    assert_eq!(kept.as_array().expect("list").len(), 1, "Bob's copy stays, marked no longer shared");
    assert!(bob.json(&["share", "list"]).as_array().expect("list").is_empty());
    let (bob_api, _) = http_login(&server.url, BOB, &bob.kit);
    match bob_api.share_changes(&share, 0) {
        Err(HttpError::Status(404, _)) => {}
        other => panic!("the server still serves a removed member: {other:?}"),
    }
    // Every grant now is for epoch 2; the items were re-sealed at it.
    let epochs = server.database.sql(&format!("SELECT DISTINCT epoch FROM share_grants WHERE share_id = '{share}'"));
    assert_eq!(epochs, vec!["2"]);

    // The blindness canary covers shared items and the share's name:
    // nothing in the clear, in base64 at any alignment, in its logs, or
    // inside the membership records the server keeps (base64 JSON).
    let mut dump = server.database.dump();
    dump.extend(server.logs());
    for body in server.database.sql("SELECT body FROM share_chain") {
        dump.extend(data_encoding::BASE64.decode(body.as_bytes()).expect("base64"));
    }
    for marker in ["router moved to the office", "router in the hall", "code 4711", "Wifi", "Alarm", "Family"] {
        let mut needles = vec![marker.as_bytes().to_vec()];
        for shift in (0..3).filter(|_| marker.len() >= 12) {
            let mut shifted = vec![b'x'; shift];
            shifted.extend_from_slice(marker.as_bytes());
            let text = data_encoding::BASE64.encode(&shifted);
            let start = if shift == 0 { 0 } else { 4 };
            let end = text.trim_end_matches('=').len().saturating_sub(4);
            needles.push(text.as_bytes()[start..end].to_vec());
        }
        for needle in needles {
            assert!(!dump.windows(needle.len()).any(|w| w == needle.as_slice()), "{marker} is on the server");
        }
    }
}

/// The statuses the server answered `GET /shares/{id}` with, in order (from
/// its request log: route template and status, never the id).
fn share_requests(server: &TestServer) -> Vec<String> {
    String::from_utf8_lossy(&server.logs())
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|v| {
            let fields = if v["fields"].is_object() { v["fields"].clone() } else { v };
            let status = fields["status"].as_u64()?;
            match (fields["method"].as_str()?, fields["route"].as_str()?) {
                ("GET", "/api/v1/shares/{id}") => Some(format!("index {status}")),
                ("POST", "/api/v1/sync/check") => Some(format!("check {status}")),
                _ => None,
            }
        })
        .collect()
}

/// The share requests the server logged since `seen` of them.
fn share_requests_since(server: &TestServer, seen: usize) -> Vec<String> {
    share_requests(server)[seen..].to_vec()
}

/// A share verified at one sync and unchanged since is asked about with
/// its ETag at the next, in one check for every such share (no index
/// sent); so is one this device pushed to since, whose answer it knows.
/// An edit from elsewhere, or the server's tampering with what it holds,
/// brings the whole index again, verified.
#[test]
fn an_unchanged_share_is_checked_by_etag_and_a_changed_one_in_full() {
    checked_by_etag(&TestServer::sqlite());
}

#[test]
fn an_unchanged_share_is_checked_by_etag_on_postgresql() {
    checked_by_etag(&ServerSetup::start(Backend::Postgres, &[]).server);
}

fn checked_by_etag(server: &TestServer) {
    let (alice, _bob, carol, share, item) = family(server);
    carol.ok(&["sync"]);
    let seen = share_requests(server).len();
    assert!(seen > 0, "no share index request in the server's log");
    carol.ok(&["sync"]);
    assert_eq!(share_requests_since(server, seen), ["check 200"], "an unchanged share was fetched again");

    // Alice's edit goes up; her next sync knows the answer her push left.
    alice.ok(&["edit", &item, "--notes", "router by the window"]);
    alice.ok(&["sync"]);
    let seen = share_requests(server).len();
    alice.ok(&["sync"]);
    assert_eq!(share_requests_since(server, seen), ["check 200"], "the pusher fetched its own push again");

    // Carol's next sync fetches the changed index and pulls it.
    let seen = share_requests(server).len();
    carol.ok(&["sync"]);
    assert_eq!(share_requests_since(server, seen), ["check 200", "index 200"]);
    assert_eq!(carol.share_items("Family"), vec![("Wifi".to_owned(), "router by the window".to_owned())]);
    let seen = share_requests(server).len();
    carol.ok(&["sync"]);
    assert_eq!(share_requests_since(server, seen), ["check 200"]);

    // Carol's client remembers a verified index; the server drops the item.
    server.database.sql(&format!("DELETE FROM share_items WHERE share_id = '{share}' AND item_id = '{item}'"));
    assert_hostile(&carol.run(&["sync"]), "an item dropped behind a remembered tag", "dropped");
}

/// With a server from before `POST /sync/check`, a member lists its shares
/// and asks each with its own `If-None-Match`, and still gets every edit.
#[test]
fn a_server_older_than_the_sync_check_is_asked_share_by_share() {
    let server = TestServer::sqlite();
    let older = OlderServerProxy::start(server.port);
    let alice = Person::new(&server, ALICE);
    let v = TestVault::new();
    let kit = register(&v, &older.url, CAROL);
    let carol = Person { v, email: CAROL, kit };
    carol.fingerprint();
    alice.ok(&["share", "create", "Family"]);
    let item = alice.ok(&["add", "--title", "Wifi", "--notes", "router in the hall", "--share", "Family"]);
    alice.ok(&["sync"]);
    alice.ok(&["share", "invite", "Family", CAROL, "--role", "read"]);
    alice.ok(&["sync"]);
    let id = carol.invitation();
    carol.ok(&["share", "accept", &id]);
    carol.ok(&["sync"]);
    let refused = *older.refused.lock().unwrap();
    assert!(refused > 0, "the client never tried the check");

    let seen = share_requests(&server).len();
    carol.ok(&["sync"]);
    assert_eq!(share_requests_since(&server, seen), ["index 304"], "asked with its tag, as before the check");
    assert_eq!(*older.refused.lock().unwrap(), refused + 1);

    alice.ok(&["edit", item.trim(), "--notes", "router by the window"]);
    alice.ok(&["sync"]);
    let seen = share_requests(&server).len();
    carol.ok(&["sync"]);
    assert_eq!(share_requests_since(&server, seen), ["index 200"]);
    assert_eq!(carol.share_items("Family"), vec![("Wifi".to_owned(), "router by the window".to_owned())]);
}

/// A self-signed identity record for `email` under keys the server made.
fn forged_identity(email: &str) -> (String, String) {
    let fake = Identity::generate();
    let public = fake.public(email);
    let mut message = (email.len() as u32).to_be_bytes().to_vec();
    message.extend_from_slice(email.as_bytes());
    message.extend_from_slice(&public.sign);
    message.extend_from_slice(&public.enc);
    let record = IdentityRecord {
        email: email.into(),
        sign: b64(&public.sign),
        enc: b64(&public.enc),
        sig: b64(&fake.sign("tessera/v1/identity", &message)),
    };
    (serde_json::to_string(&record).expect("json"), public.fingerprint())
}

fn swap_published_key(server: &TestServer, email: &str) -> String {
    let (json, fingerprint) = forged_identity(email);
    server
        .database
        .sql(&format!("UPDATE identities SET public = '{}' WHERE email = '{email}'", json.replace('\'', "''")));
    fingerprint
}

#[test]
fn a_substituted_key_at_first_contact_shows_another_fingerprint_and_the_victim_refuses() {
    let server = TestServer::sqlite();
    let alice = Person::new(&server, ALICE);
    let bob = Person::new(&server, BOB);
    let real = bob.fingerprint();
    let forged = swap_published_key(&server, BOB);
    alice.ok(&["share", "create", "Family"]);
    let invited = alice.json(&["share", "invite", "Family", BOB, "--role", "write"]);
    assert_eq!(invited["fingerprint"], forged.as_str(), "Alice is shown the key the server gave");
    assert_ne!(invited["fingerprint"], real.as_str(), "…which is not the one Bob reads her");
    // Bob's own client sees the share list him under keys that are not his.
    let out = bob.run(&["share", "list"]);
    assert_hostile(&out, "Bob's list of a share naming a substituted key", "substituted this account's key");
    // Verifying against the real fingerprint fails loudly, and marks nothing.
    let out = alice.run(&["identity", "verify", BOB, &real]);
    assert_hostile(&out, "verify against the real fingerprint", "not the one you were given");
}

#[test]
fn a_pinned_contact_whose_key_changes_stops_every_share_operation() {
    let server = TestServer::sqlite();
    let alice = Person::new(&server, ALICE);
    let bob = Person::new(&server, BOB);
    bob.fingerprint();
    alice.ok(&["share", "create", "Family"]);
    alice.ok(&["share", "invite", "Family", BOB, "--role", "write"]);
    alice.ok(&["share", "create", "Work"]);
    swap_published_key(&server, BOB);
    let out = alice.run(&["share", "invite", "Work", BOB]);
    assert_hostile(&out, "inviting a pinned contact with a new key", "changed since it was pinned");
    let members = server.database.sql("SELECT COUNT(*) FROM share_members WHERE email = 'bob@example.com'");
    assert_eq!(members, vec!["1"], "nothing was shared with the new key");
}

/// A record appended by the server, signed with a key of its own.
fn forge_record(server: &TestServer, share: &str, kind: &str, member: &str, role: &str, signer: &str) {
    let rows =
        server.database.sql(&format!("SELECT seq, body FROM share_chain WHERE share_id = '{share}' ORDER BY seq"));
    let last = rows.last().expect("a chain");
    let (seq, body) = last.split_once('\t').expect("two columns");
    let raw = data_encoding::BASE64.decode(body.as_bytes()).expect("base64");
    let prev = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(&raw));
    let epoch: Value = serde_json::from_slice(&raw).expect("json");
    let fake = Identity::generate();
    let p = fake.public(member);
    let new = serde_json::json!({
        "share": share, "seq": seq.parse::<u64>().expect("seq") + 1, "prev": prev, "kind": kind,
        "member": member, "member_sign": b64(&p.sign), "member_enc": b64(&p.enc), "role": role,
        "epoch": epoch["epoch"], "signer": signer,
    });
    let bytes = serde_json::to_vec(&new).expect("json");
    let sig = fake.sign("tessera/v1/share-chain", &bytes);
    server.database.sql(&format!(
        "INSERT INTO share_chain (share_id, seq, body, sig) VALUES ('{share}', {}, '{}', '{}')",
        seq.parse::<u64>().expect("seq") + 1,
        b64(&bytes),
        b64(&sig)
    ));
    server.database.sql(&format!("UPDATE shares SET chain_len = chain_len + 1 WHERE id = '{share}'"));
}

#[test]
fn a_member_or_role_the_server_adds_without_a_valid_signed_record_is_refused() {
    let server = TestServer::sqlite();
    let (alice, _bob, carol, share, _item) = family(&server);

    // The server raises Carol to manage in its own table: her client goes
    // by the signed history and still refuses her (exit 3).
    server.database.sql(&format!("UPDATE share_members SET role = 'manage' WHERE email = '{CAROL}'"));
    let out = carol.run(&["share", "invite", "Family", ALICE]);
    assert_code(&out, 3, "a read member inviting after the server raised her role");

    // A member injected with a record the server signed itself.
    forge_record(&server, &share, "add", "mallory@example.com", "manage", ALICE);
    let before = alice.titles();
    let out = alice.run(&["sync"]);
    assert_hostile(&out, "an injected member", "does not carry a valid signature");
    assert_eq!(alice.titles(), before, "nothing applied");
}

#[test]
fn a_role_raised_by_a_record_its_signer_may_not_make_is_refused() {
    let server = TestServer::sqlite();
    let (alice, _bob, _carol, share, _item) = family(&server);
    // A record "Carol is manage" that is validly signed by a key the server
    // holds for Bob is still refused: the chain's key for Bob is Bob's. Here
    // the server signs as Carol (a read member colluding, or her key taken
    // over): the signature fails under Carol's key in the chain.
    forge_record(&server, &share, "role", CAROL, "manage", CAROL);
    let out = alice.run(&["share", "members", "Family"]);
    assert_hostile(&out, "a forged role change", "membership record");
}

#[test]
fn an_old_membership_or_an_old_key_replayed_after_a_removal_is_refused() {
    let server = TestServer::sqlite();
    let (alice, _bob, carol, share, _item) = family(&server);
    let old_grant = server.database.sql(&format!(
        "SELECT g.sealed FROM share_grants g JOIN share_members m ON m.share_id = g.share_id AND \
         m.account_id = g.account_id WHERE g.share_id = '{share}' AND m.email = '{CAROL}'"
    ));
    alice.ok(&["share", "remove", "Family", BOB]);
    carol.ok(&["sync"]);

    // The old key, served as the current epoch's: it does not open there.
    let new_grant = server.database.sql(&format!(
        "SELECT g.sealed FROM share_grants g JOIN share_members m ON m.share_id = g.share_id AND \
         m.account_id = g.account_id WHERE g.share_id = '{share}' AND m.email = '{CAROL}'"
    ));
    server.database.sql(&format!(
        "UPDATE share_grants SET sealed = '{}' WHERE share_id = '{share}' AND sealed = '{}'",
        old_grant[0], new_grant[0]
    ));
    let out = carol.run(&["sync"]);
    assert_hostile(&out, "an old share key replayed", "key grant does not open");
    server.database.sql(&format!(
        "UPDATE share_grants SET sealed = '{}' WHERE share_id = '{share}' AND sealed = '{}'",
        new_grant[0], old_grant[0]
    ));
    carol.ok(&["sync"]);

    // The membership history rolled back to before the removal.
    server.database.sql(&format!(
        "DELETE FROM share_chain WHERE share_id = '{share}' AND seq = (SELECT MAX(seq) FROM share_chain WHERE share_id = '{share}')"
    ));
    server.database.sql(&format!("UPDATE shares SET chain_len = chain_len - 1 WHERE id = '{share}'"));
    let out = carol.run(&["sync"]);
    assert_hostile(&out, "a membership history rolled back", "rolled back");
}

#[test]
fn an_item_moved_by_the_server_between_shares_or_into_a_personal_vault_is_refused() {
    let server = TestServer::sqlite();
    let (alice, bob, _carol, family_id, item) = family(&server);
    let work = alice.json(&["share", "create", "Work"]);
    let work_id = work["id"].as_str().expect("id").to_owned();
    alice.ok(&["share", "invite", "Work", BOB, "--role", "write"]);
    let id = bob.invitation();
    bob.ok(&["share", "accept", &id]);
    let before = bob.titles();

    // Family's item, moved by the server into Work.
    server.database.sql(&format!("UPDATE share_items SET share_id = '{work_id}' WHERE item_id = '{item}'"));
    let out = bob.run(&["sync"]);
    // Whichever share is checked first names the item: dropped from
    // Family, or unknown to Work's signed manifest.
    assert_hostile(&out, "an item moved into another share", &item);
    assert_eq!(bob.titles(), before, "nothing applied");
    server.database.sql(&format!("UPDATE share_items SET share_id = '{family_id}' WHERE item_id = '{item}'"));
    bob.ok(&["sync"]);

    // The same item put into Bob's own account stream.
    let bob_account = server.database.sql(&format!("SELECT id FROM accounts WHERE email = '{BOB}'"))[0].clone();
    server.database.sql(&format!(
        "INSERT INTO items (account_id, item_id, revision, seq, deleted, blob)
         SELECT '{bob_account}', item_id, revision, (SELECT seq + 1 FROM accounts WHERE id = '{bob_account}'), deleted, blob
         FROM share_items WHERE item_id = '{item}'"
    ));
    server.database.sql(&format!("UPDATE accounts SET seq = seq + 1 WHERE id = '{bob_account}'"));
    let out = bob.run(&["sync"]);
    assert_hostile(&out, "a shared item moved into a personal vault", &item);
    assert_eq!(bob.titles(), before, "nothing applied");
}

#[test]
fn a_shares_items_rolled_back_or_dropped_are_refused() {
    let server = TestServer::sqlite();
    let (alice, bob, _carol, share, item) = family(&server);
    let old = server.database.sql(&format!("SELECT revision, blob FROM share_items WHERE item_id = '{item}'"));
    alice.ok(&["edit", &item, "--notes", "second"]);
    alice.ok(&["sync"]);
    bob.ok(&["sync"]);

    // Rolled back to the first revision.
    let current = server.database.sql(&format!("SELECT revision, blob FROM share_items WHERE item_id = '{item}'"));
    let (old_rev, old_blob) = old[0].split_once('\t').expect("two columns");
    server
        .database
        .sql(&format!("UPDATE share_items SET revision = {old_rev}, blob = '{old_blob}' WHERE item_id = '{item}'"));
    let out = bob.run(&["sync"]);
    assert_hostile(&out, "a shared item rolled back", "rolled back");
    let (rev, blob) = current[0].split_once('\t').expect("two columns");
    server.database.sql(&format!("UPDATE share_items SET revision = {rev}, blob = '{blob}' WHERE item_id = '{item}'"));
    bob.ok(&["sync"]);

    // Dropped.
    server.database.sql(&format!("DELETE FROM share_items WHERE share_id = '{share}' AND item_id = '{item}'"));
    let out = bob.run(&["sync"]);
    assert_hostile(&out, "a shared item dropped", "dropped");
    assert_eq!(bob.share_items("Family"), vec![("Wifi".to_owned(), "second".to_owned())], "nothing applied");
}

#[test]
fn a_removed_member_served_the_new_key_refuses_it() {
    let server = TestServer::sqlite();
    let (alice, bob, carol, share, _item) = family(&server);
    alice.ok(&["share", "remove", "Family", BOB]);
    carol.ok(&["sync"]);
    // The server puts Bob back and hands him a grant of the new epoch.
    let bob_account = server.database.sql(&format!("SELECT id FROM accounts WHERE email = '{BOB}'"))[0].clone();
    server.database.sql(&format!("UPDATE share_members SET role = 'write', accepted = 1 WHERE email = '{BOB}'"));
    server.database.sql(&format!(
        "INSERT INTO share_grants (share_id, epoch, account_id, sealed)
         SELECT share_id, epoch, '{bob_account}', sealed FROM share_grants g
         WHERE g.share_id = '{share}' AND g.account_id = (SELECT id FROM accounts WHERE email = '{CAROL}')"
    ));
    let out = bob.run(&["sync"]);
    assert_hostile(&out, "a removed member served the new key", "after its removal");
    let _ = stdout(&out);
}
