//! The protocol end to end through the real `tessera-browser-host` binary
//! and a real socket, against the engine over a real vault, with a client
//! that plays the extension (`crypto_box` and all). Only the app's dialogs
//! are scripted: [`Script`] answers them. The desktop app and Firefox run in
//! `tests/browser.rs` of the workspace's test crate.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_browser::client::ExtensionClient;
use tessera_browser::server::Server;
use tessera_browser::service::{AccessAnswer, AccessRequest, Backend, ConnectRequest, Options, Service, VaultView};
use tessera_core::{Item, ItemId, ItemSummary, ItemType, KeyEncryptionKey, NewSlot, OpenOptions, Scope, Vault};
use zeroize::Zeroizing;

const TOTP: &str = "otpauth://totp/GitHub:octo?secret=JBSWY3DPEHPK3PXP";

/// How the scripted user answers.
struct Script {
    connect: Mutex<Option<String>>,
    access: Mutex<AccessAnswer>,
    connect_asked: AtomicUsize,
    access_asked: Mutex<Vec<AccessRequest>>,
    unlock_shown: AtomicBool,
}

struct TestBackend {
    vault: Mutex<Option<(Vault, Vec<ItemSummary>, u64)>>,
    script: Script,
}

impl Backend for TestBackend {
    fn database_hash(&self) -> Option<String> {
        self.vault.lock().unwrap().as_ref().map(|(v, _, _)| tessera_browser::service::database_hash(v))
    }

    fn with_vault(&self, f: &mut dyn FnMut(&mut VaultView<'_>)) -> bool {
        let mut guard = self.vault.lock().unwrap();
        let Some((vault, summaries, generation)) = guard.as_mut() else { return false };
        let mut view = VaultView { vault, summaries, generation: *generation, changed: Vec::new() };
        f(&mut view);
        if !view.changed.is_empty() {
            *summaries = vault.summaries(Scope::Live).unwrap();
            *generation += 1;
        }
        true
    }

    fn ask_connect(&self, _: &ConnectRequest) -> Option<String> {
        self.script.connect_asked.fetch_add(1, Ordering::SeqCst);
        self.script.connect.lock().unwrap().clone()
    }

    fn ask_access(&self, request: &AccessRequest) -> AccessAnswer {
        self.script.access_asked.lock().unwrap().push(request.clone());
        *self.script.access.lock().unwrap()
    }

    fn show_unlock(&self) {
        self.script.unlock_shown.store(true, Ordering::SeqCst);
    }

    fn lock(&self) {
        self.vault.lock().unwrap().take();
    }

    fn options(&self) -> Options {
        Options::default()
    }
}

struct Harness {
    // Field order is drop order: the server before its directory.
    server: Option<Server>,
    service: Arc<Service<TestBackend>>,
    github: ItemId,
    dir: tempfile::TempDir,
}

fn kek() -> KeyEncryptionKey {
    KeyEncryptionKey::from_bytes(Zeroizing::new([9; 32]))
}

fn login(title: &str, username: &str, password: &str, url: &str) -> Item {
    let mut item = Item::new(ItemType::Login, title);
    item.username = username.into();
    item.password = password.into();
    item.urls = vec![url.into()];
    item
}

impl Harness {
    fn start() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let slot = NewSlot { kind: "test".into(), label: "t".into(), params: vec![], kek: kek() };
        let mut vault = Vault::create(dir.path().join("v.tessera"), vec![slot], &OpenOptions::default()).unwrap();
        let mut github = login("GitHub", "octo", "gh-password-1", "https://github.com");
        github.otp = Some(TOTP.into());
        let mut hidden = login("Hidden", "h", "hidden-password", "https://hidden.example");
        hidden.never_autofill = true;
        let ids =
            vault.add(vec![github, hidden, login("Other", "o", "other-password", "https://other.example")]).unwrap();
        let summaries = vault.summaries(Scope::Live).unwrap();
        let backend = TestBackend {
            vault: Mutex::new(Some((vault, summaries, 1))),
            script: Script {
                connect: Mutex::new(Some("Firefox".into())),
                access: Mutex::new(AccessAnswer::AllowOnce),
                connect_asked: AtomicUsize::new(0),
                access_asked: Mutex::new(Vec::new()),
                unlock_shown: AtomicBool::new(false),
            },
        };
        let service = Arc::new(Service::new(backend));
        let mut h = Harness { dir, service, server: None, github: ids[0] };
        h.serve();
        h
    }

    fn run_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    fn socket(&self) -> PathBuf {
        self.run_dir().join("tessera/browser.sock")
    }

    fn serve(&mut self) {
        self.server = Some(Server::start(self.service.clone(), &self.socket()).unwrap());
    }

    fn script(&self) -> &Script {
        &self.service.backend().script
    }

    /// The real host, as the browser starts it.
    fn host(&self) -> Host {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera-browser-host"))
            .args(["/path/to/manifest.json", "keepassxc-browser@keepassxc.org"])
            .env("XDG_RUNTIME_DIR", self.run_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        Host { child, client: Some(ExtensionClient::new(stdout, stdin)) }
    }

    /// A host whose session has exchanged keys and connected as "Firefox".
    fn connected(&self) -> Host {
        let mut host = self.host();
        host.c().change_public_keys().unwrap();
        let reply = host.c().associate().unwrap();
        assert_eq!(reply["id"], "Firefox");
        host
    }

    fn item(&self, id: ItemId) -> Item {
        let guard = self.service.backend().vault.lock().unwrap();
        guard.as_ref().unwrap().0.get(id).unwrap()
    }
}

struct Host {
    child: Child,
    client: Option<ExtensionClient<ChildStdout, ChildStdin>>,
}

impl Host {
    fn c(&mut self) -> &mut ExtensionClient<ChildStdout, ChildStdin> {
        self.client.as_mut().unwrap()
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn code(result: Result<Value, tessera_browser::client::ClientError>) -> String {
    match result {
        Ok(v) => panic!("expected a refusal, got {v}"),
        Err(e) => e.code().unwrap_or_else(|| panic!("expected an error reply, got {e:?}")).to_owned(),
    }
}

#[test]
fn every_action_from_key_exchange_to_lock() {
    let h = Harness::start();
    let mut host = h.host();
    let keys = host.c().change_public_keys().unwrap();
    assert_eq!(keys["success"], "true");
    let hash = host.c().request("get-databasehash", json!({})).unwrap();
    assert_eq!(hash["hash"].as_str().unwrap().len(), 64);

    // associate: the user is asked and names the connection.
    let assoc = host.c().associate().unwrap();
    assert_eq!(assoc["id"], "Firefox");
    assert_eq!(assoc["hash"], hash["hash"]);
    assert_eq!(h.script().connect_asked.load(Ordering::SeqCst), 1);
    assert_eq!(host.c().test_associate("Firefox").unwrap()["id"], "Firefox");

    // get-logins: asked the first time; "once" is not remembered.
    let logins = host.c().get_logins("Firefox", "https://github.com/login").unwrap();
    assert_eq!(logins["count"], 1);
    let entry = &logins["entries"][0];
    assert_eq!(entry["login"], "octo");
    assert_eq!(entry["password"], "gh-password-1");
    assert_eq!(entry["name"], "GitHub");
    assert_eq!(entry["uuid"], h.github.to_hex());
    assert_eq!(entry["totp"].as_str().unwrap().len(), 6);
    let asked = h.script().access_asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].host, "github.com");
    assert_eq!(asked[0].connection, "Firefox");
    assert_eq!(asked[0].items[0].title, "GitHub");
    host.c().get_logins("Firefox", "https://github.com/login").unwrap();
    assert_eq!(h.script().access_asked.lock().unwrap().len(), 2, "allow once asks again");
    *h.script().access.lock().unwrap() = AccessAnswer::Always;
    host.c().get_logins("Firefox", "https://gist.github.com/").unwrap();
    host.c().get_logins("Firefox", "https://gist.github.com/").unwrap();
    assert_eq!(h.script().access_asked.lock().unwrap().len(), 3, "always is remembered per host");

    // get-totp, for an item this session was given.
    let totp = host.c().request("get-totp", json!({ "uuid": h.github.to_hex() })).unwrap();
    assert_eq!(totp["totp"], entry["totp"]);

    // set-login updates an item (the old password goes to history)…
    let update = json!({ "url": "https://github.com/login", "submitUrl": "https://github.com/session",
        "id": "Firefox", "login": "octo", "password": "gh-password-2", "uuid": h.github.to_hex() });
    assert_eq!(host.c().request("set-login", update).unwrap()["error"], "success");
    assert_eq!(h.item(h.github).password, "gh-password-2");
    {
        let guard = h.service.backend().vault.lock().unwrap();
        let history = guard.as_ref().unwrap().0.history(h.github).unwrap();
        assert_eq!(history[0].password, "gh-password-1");
    }
    // …and creates one, in the "Browser" folder, allowed on its site.
    let new = json!({ "url": "https://shop.example/signin?next=%2Fcart", "submitUrl": "https://shop.example/signin",
        "id": "Firefox", "login": "buyer", "password": "shop-password" });
    host.c().request("set-login", new).unwrap();
    let created = {
        let guard = h.service.backend().vault.lock().unwrap();
        let (vault, summaries, _) = guard.as_ref().unwrap();
        let s = summaries.iter().find(|s| s.username == "buyer").expect("the saved login is listed").clone();
        vault.get(s.id).unwrap()
    };
    assert_eq!(created.folder, "Browser");
    assert_eq!(created.title, "shop.example");
    assert_eq!(created.urls, ["https://shop.example/signin"]);
    let before = h.script().access_asked.lock().unwrap().len();
    let shop = host.c().get_logins("Firefox", "https://shop.example/signin").unwrap();
    assert_eq!(shop["entries"][0]["password"], "shop-password");
    assert_eq!(h.script().access_asked.lock().unwrap().len(), before, "a login saved from a site may fill it");

    // generate-password.
    let generated = host.c().request("generate-password", json!({})).unwrap();
    assert_eq!(generated["password"].as_str().unwrap().chars().count(), 20);

    // Groups: the folders, and a new one to save into.
    let groups = host.c().request("get-database-groups", json!({})).unwrap();
    let root = &groups["groups"]["groups"][0];
    assert!(root["children"].as_array().unwrap().iter().any(|g| g["name"] == "Browser"));
    let group = host.c().request("create-new-group", json!({ "groupName": "Work/Sites" })).unwrap();
    assert_eq!(group["name"], "Sites");
    let into_group = json!({ "url": "https://intranet.example/", "id": "Firefox", "login": "me",
        "password": "p", "group": "Sites", "groupUuid": group["uuid"] });
    host.c().request("set-login", into_group).unwrap();
    {
        let guard = h.service.backend().vault.lock().unwrap();
        assert!(guard.as_ref().unwrap().1.iter().any(|s| s.username == "me" && s.folder == "Work/Sites"));
    }

    // lock-database, then everything says the database is not open; with
    // triggerUnlock the app is asked to show its unlock window.
    host.c().request("lock-database", json!({})).unwrap();
    assert!(h.service.backend().vault.lock().unwrap().is_none());
    assert_eq!(code(host.c().request("get-databasehash", json!({}))), "1");
    assert!(!h.script().unlock_shown.load(Ordering::SeqCst));
    let (request, _) = host.c().seal("get-databasehash", &json!({"action": "get-databasehash"}), None, true);
    host.c().send_raw(&serde_json::to_vec(&request).unwrap()).unwrap();
    assert_eq!(host.c().read_reply(false).unwrap()["errorCode"], "1");
    assert!(h.script().unlock_shown.load(Ordering::SeqCst));

    // Signals reach the extension.
    h.server.as_ref().unwrap().broadcast("database-locked");
    assert_eq!(host.c().read_reply(true).unwrap(), json!({ "action": "database-locked" }));
}

#[test]
fn look_alikes_and_never_fill_items_get_nothing_and_no_question() {
    let h = Harness::start();
    let mut host = h.connected();
    for url in [
        "https://github.com.evil.example/login",
        "https://githubb.com/",
        "https://evil.example/?github.com",
        "http://github.com/",
        "https://hidden.example/",
    ] {
        assert_eq!(code(host.c().get_logins("Firefox", url)), "15", "{url}");
    }
    assert!(h.script().access_asked.lock().unwrap().is_empty());
    assert_eq!(code(host.c().get_logins("Firefox", "not a url")), "14");
}

#[test]
fn a_denied_site_is_remembered_and_a_dismissed_question_is_not() {
    let h = Harness::start();
    let mut host = h.connected();
    *h.script().access.lock().unwrap() = AccessAnswer::Dismissed;
    assert_eq!(code(host.c().get_logins("Firefox", "https://github.com/")), "15");
    assert_eq!(code(host.c().get_logins("Firefox", "https://github.com/")), "15");
    assert_eq!(h.script().access_asked.lock().unwrap().len(), 2);
    *h.script().access.lock().unwrap() = AccessAnswer::Deny;
    assert_eq!(code(host.c().get_logins("Firefox", "https://github.com/")), "15");
    assert_eq!(code(host.c().get_logins("Firefox", "https://github.com/")), "15");
    assert_eq!(h.script().access_asked.lock().unwrap().len(), 3, "deny is remembered");
    // Another host is another question.
    *h.script().access.lock().unwrap() = AccessAnswer::AllowOnce;
    host.c().get_logins("Firefox", "https://api.github.com/").unwrap();
}

#[test]
fn refusing_the_connection_and_revoking_it_shut_the_browser_out() {
    let h = Harness::start();
    *h.script().connect.lock().unwrap() = None;
    let mut host = h.host();
    host.c().change_public_keys().unwrap();
    assert_eq!(code(host.c().associate()), "6");
    assert_eq!(code(host.c().get_logins("Firefox", "https://github.com/")), "8");
    assert_eq!(code(host.c().test_associate("Firefox")), "8");

    *h.script().connect.lock().unwrap() = Some("Firefox".into());
    let mut host = h.connected();
    host.c().get_logins("Firefox", "https://github.com/").unwrap();
    // Revoked in the app (Settings → Browsers): the next request fails.
    h.service.backend().with_vault(&mut |v| {
        let mut record = tessera_browser::service::read_record(v.vault).unwrap();
        assert!(record.revoke("Firefox"));
        tessera_browser::service::write_record(v.vault, &record, vec![]).unwrap();
    });
    assert_eq!(code(host.c().get_logins("Firefox", "https://github.com/")), "8");
    assert_eq!(code(host.c().test_associate("Firefox")), "8");
    // A stranger with the name but not the key gets nothing either.
    let mut other = h.host();
    other.c().change_public_keys().unwrap();
    assert_eq!(code(other.c().test_associate("Firefox")), "8");
}

#[test]
fn hostile_input_gets_clear_errors_and_everything_stays_up() {
    let h = Harness::start();
    let mut host = h.connected();

    // Not JSON, not an object, no action, no clientID, unknown action.
    let raw = |host: &mut Host, body: &[u8]| {
        host.c().send_raw(body).unwrap();
        host.c().read_reply(false).unwrap()
    };
    assert_eq!(raw(&mut host, b"\xff\xfe not json")["errorCode"], "13");
    assert_eq!(raw(&mut host, b"[1,2,3]")["errorCode"], "13");
    assert_eq!(raw(&mut host, br#"{"nonce":"x"}"#)["errorCode"], "12");
    assert_eq!(raw(&mut host, br#"{"action":"get-logins","message":"x","nonce":"y"}"#)["errorCode"], "13");
    let client_id = host.c().client_id.clone();
    let (unknown, _) = host.c().seal("delete-entry", &json!({"action": "delete-entry"}), None, false);
    assert_eq!(raw(&mut host, &serde_json::to_vec(&unknown).unwrap())["errorCode"], "12");

    // Bad base64, a message sealed with another key, a message for another action.
    let bad = json!({"action":"get-databasehash","message":"@@@not base64@@@","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","clientID":client_id});
    assert_eq!(raw(&mut host, &serde_json::to_vec(&bad).unwrap())["errorCode"], "4");
    let wrong_key = {
        // A box from a session the host never saw.
        let mut other = h.host();
        other.c().change_public_keys().unwrap();
        let (mut request, _) = other.c().seal("get-databasehash", &json!({}), None, false);
        request["clientID"] = json!(client_id);
        request
    };
    let reply = raw(&mut host, &serde_json::to_vec(&wrong_key).unwrap());
    assert_eq!(reply["errorCode"], "4");
    let (mismatch, _) = host.c().seal("get-databasehash", &json!({"action": "get-logins"}), None, false);
    assert_eq!(raw(&mut host, &serde_json::to_vec(&mismatch).unwrap())["errorCode"], "12");

    // A replayed request, and a reply reflected back as a request.
    let (request, nonce) = host.c().seal("get-databasehash", &json!({"action": "get-databasehash"}), None, false);
    let body = serde_json::to_vec(&request).unwrap();
    let first = raw(&mut host, &body);
    host.c().open_reply(&first, &nonce).unwrap();
    let replayed = raw(&mut host, &body);
    assert_eq!(replayed["errorCode"], "4");
    assert!(replayed["error"].as_str().unwrap().contains("Nonce"));
    let reflected = json!({"action": "get-databasehash", "message": first["message"], "nonce": first["nonce"], "clientID": client_id});
    assert_eq!(raw(&mut host, &serde_json::to_vec(&reflected).unwrap())["errorCode"], "4");

    // An oversized frame is refused and skipped; the next one is served.
    let big = vec![b' '; tessera_ipc::frame::MAX_FRAME + 1];
    let w = host.c().raw_writer();
    w.write_all(&(big.len() as u32).to_ne_bytes()).unwrap();
    w.write_all(&big).unwrap();
    w.flush().unwrap();
    let reply = host.c().read_reply(false).unwrap();
    assert_eq!(reply["errorCode"], "13");
    assert!(reply["error"].as_str().unwrap().contains("1 MiB"));
    host.c().request("get-databasehash", json!({})).unwrap();

    // get-totp for an item never given to this session; a request before
    // any key exchange.
    let other_id = {
        let guard = h.service.backend().vault.lock().unwrap();
        guard.as_ref().unwrap().1.iter().find(|s| s.title == "Other").unwrap().id
    };
    assert_eq!(code(host.c().request("get-totp", json!({"uuid": other_id.to_hex()}))), "18");
    assert_eq!(code(host.c().request("get-totp", json!({"uuid": "not-a-uuid"}))), "18");
    let mut fresh = h.host();
    let request = json!({"action":"get-databasehash","message":"AAAA","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","clientID":"abc"});
    fresh.c().send_raw(&serde_json::to_vec(&request).unwrap()).unwrap();
    assert_eq!(fresh.c().read_reply(false).unwrap()["errorCode"], "3");

    // A truncated frame: the browser's side dies mid-frame. That host ends;
    // the app serves the next one.
    let mut dying = h.host();
    {
        let (_, mut stdin) = dying.client.take().unwrap().into_parts();
        stdin.write_all(&100u32.to_ne_bytes()).unwrap();
        stdin.write_all(b"{\"action\":").unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while dying.alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!dying.alive(), "the host ends when the browser's stream ends");
    assert!(host.alive());
    let mut after = h.host();
    after.c().change_public_keys().unwrap();
    after.c().id_key = host.c().id_key.clone();
    after.c().get_logins("Firefox", "https://github.com/").unwrap();
}

#[test]
fn with_the_app_closed_the_host_says_so_at_once_and_recovers_when_it_starts() {
    let mut h = Harness::start();
    h.server.take().unwrap().stop();
    let mut host = h.host();
    let started = Instant::now();
    let err = host.c().change_public_keys().unwrap_err();
    assert_eq!(err.code(), Some("5"));
    assert!(format!("{err:?}").contains("Tessera is not running"));
    assert!(started.elapsed() < Duration::from_secs(2));
    // A requestID is echoed so the extension can match the error.
    let request = json!({"action":"generate-password","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","clientID":"x","requestID":"a1b2c3d4"});
    host.c().send_raw(&serde_json::to_vec(&request).unwrap()).unwrap();
    assert_eq!(host.c().read_reply(false).unwrap()["requestID"], "a1b2c3d4");
    assert!(host.alive());
    h.serve();
    host.c().change_public_keys().unwrap();
    host.c().request("get-databasehash", json!({})).unwrap();
    // When the app goes away after serving, the host ends (the extension
    // reconnects and exchanges keys again).
    h.server.take().unwrap().stop();
    let deadline = Instant::now() + Duration::from_secs(5);
    while host.alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!host.alive());
}

/// Runs `script` with Python as another user (tests run as root in CI);
/// skipped with a note where that is impossible.
fn as_other_user(dir: &Path, script: &str) -> Option<String> {
    if rustix::process::geteuid().as_raw() != 0 {
        eprintln!("not root: the other-user test needs to switch users; skipped");
        return None;
    }
    let out = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .current_dir(dir)
        .uid(65534)
        .gid(65534)
        .output()
        .expect("python3 runs");
    Some(String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

#[test]
fn a_process_of_another_user_is_refused_even_with_open_permissions() {
    let h = Harness::start();
    // Loosen everything on the way to the socket, as a careless setup might.
    use std::os::unix::fs::PermissionsExt;
    for p in [h.dir.path().to_path_buf(), h.run_dir(), h.run_dir().join("tessera"), h.socket()] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let script = format!(
        r#"
import json, socket, struct
s = socket.socket(socket.AF_UNIX)
s.connect({path:?})
body = json.dumps({{"action": "change-public-keys", "publicKey": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "nonce": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "clientID": "x"}}).encode()
try:
    s.sendall(struct.pack("=I", len(body)) + body)
except OSError as e:
    print("send failed", e)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data[4:].decode(errors="replace"))
"#,
        path = h.socket().display().to_string()
    );
    let Some(output) = as_other_user(h.dir.path(), &script) else { return };
    assert!(output.contains("only its own user"), "{output}");
    assert!(!output.contains("publicKey\":\""), "no key exchange for another user: {output}");
    // The app stays up for its own user.
    let mut host = h.connected();
    host.c().get_logins("Firefox", "https://github.com/").unwrap();
}
