//! The rules an AI agent meets, over a real vault file: what a search
//! shows, who approves a value, what is refused outright, what the audit
//! log records — and the same through the app's relay socket.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tessera_core::{AuditEvent, Item, ItemId, ItemType, KeyEncryptionKey, NewSlot, OpenOptions, Vault};
use tessera_mcp::access::{AllowList, Approval, Approver, Request, ToolError, Tools, VaultTools};
use tessera_mcp::relay::{Relay, RelayServer};
use zeroize::Zeroizing;

const TOTP: &str = "otpauth://totp/Example:octo?secret=JBSWY3DPEHPK3PXP&issuer=Example";

struct Fixture {
    _dir: tempfile::TempDir,
    vault: Vault,
    github: ItemId,
    database: ItemId,
    hidden: ItemId,
    deploy_key: ItemId,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let kek = KeyEncryptionKey::from_bytes(Zeroizing::new([7; 32]));
    let slot = NewSlot { kind: "test".into(), label: "t".into(), params: vec![], kek };
    let mut vault = Vault::create(dir.path().join("v.tessera"), vec![slot], &OpenOptions::default()).unwrap();
    let mut github = Item::new(ItemType::Login, "GitHub");
    github.username = "octo".into();
    github.password = "gh-password-1".into();
    github.urls = vec!["https://github.com".into()];
    github.otp = Some(TOTP.into());
    github.fields.push(tessera_core::Field { name: "token".into(), value: "ghp_token_value".into(), protected: true });
    let mut database = Item::new(ItemType::Login, "Database");
    database.username = "app".into();
    database.password = "db-password-2".into();
    let mut hidden = Item::new(ItemType::Login, "Bank");
    hidden.username = "me".into();
    hidden.password = "bank-password-3".into();
    hidden.never_for_agents = true;
    let mut key = Item::new(ItemType::SshKey, "Deploy key");
    key.fields = vec![
        tessera_core::Field {
            name: "Private key".into(),
            value: "-----BEGIN OPENSSH PRIVATE KEY-----".into(),
            protected: true,
        },
        tessera_core::Field { name: "Public key".into(), value: "ssh-ed25519 AAAA deploy".into(), protected: false },
    ];
    let ids = vault.add(vec![github, database, hidden, key]).unwrap();
    Fixture { _dir: dir, vault, github: ids[0], database: ids[1], hidden: ids[2], deploy_key: ids[3] }
}

/// An approver that answers from a script and counts the questions.
struct Scripted {
    answer: Approval,
    asked: AtomicUsize,
    last: Mutex<Option<Request>>,
}

impl Scripted {
    fn new(answer: Approval) -> Arc<Scripted> {
        Arc::new(Scripted { answer, asked: AtomicUsize::new(0), last: Mutex::new(None) })
    }
}

/// The approver handed to the tools, sharing the script with the test.
struct Ask(Arc<Scripted>);

impl Approver for Ask {
    fn approve(&self, request: &Request) -> Approval {
        self.0.asked.fetch_add(1, Ordering::SeqCst);
        *self.0.last.lock().unwrap() = Some(request.clone());
        self.0.answer.clone()
    }
}

fn agent_events(vault: &Mutex<Vault>) -> Vec<(String, ItemId, String, bool)> {
    vault
        .lock()
        .unwrap()
        .audit_log()
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            AuditEvent::AgentAccess { client, item, field, allowed } => Some((client, item, field, allowed)),
            _ => None,
        })
        .collect()
}

#[test]
fn searches_show_no_secret_and_leave_out_items_never_for_agents() {
    let f = fixture();
    let tools = VaultTools::new(Mutex::new(f.vault), AllowList::new([]));
    let all = tools.search("", 50).unwrap();
    let titles: Vec<&str> = all.iter().map(|i| i.title.as_str()).collect();
    assert!(titles.contains(&"GitHub") && titles.contains(&"Database"), "{titles:?}");
    assert!(!titles.contains(&"Bank"), "a never-for-agents item is listed: {titles:?}");
    let github = tools.search("git", 10).unwrap();
    assert_eq!(github[0].title, "GitHub");
    assert_eq!(github[0].username, "octo");
    assert_eq!(github[0].fields, ["password", "username", "totp", "url", "token"]);
    let key = tools.search("deploy", 10).unwrap();
    assert_eq!(key[0].fields, ["Public key"], "the private key is not offered");
    let text = serde_json::to_string(&all).unwrap();
    for secret in ["gh-password-1", "ghp_token_value", "db-password-2", "bank-password-3", "JBSWY3DP", "OPENSSH"] {
        assert!(!text.contains(secret), "a search result carries {secret}");
    }
    assert_eq!(tools.search("nothing-matches-this", 10).unwrap(), []);
}

#[test]
fn the_allow_list_decides_headless_and_every_answer_is_audited() {
    let f = fixture();
    let tools = VaultTools::new(Mutex::new(f.vault), AllowList::new([f.github]));
    let s = tools.secret("agent-a", "GitHub", "token").unwrap();
    assert_eq!(s.value.as_str(), "ghp_token_value");
    assert_eq!(tools.secret("agent-a", &f.github.to_hex(), "password").unwrap().value.as_str(), "gh-password-1");
    let code = tools.totp("agent-a", "GitHub").unwrap();
    assert_eq!(code.code.len(), 6);
    assert!(code.remaining_seconds.is_some_and(|r| (1..=30).contains(&r)));

    let refused = tools.secret("agent-a", "Database", "password").unwrap_err();
    assert!(matches!(refused, ToolError::Refused(_)), "{refused:?}");
    assert!(refused.to_string().contains("--allow"), "{refused}");
    let never = tools.secret("agent-a", "Bank", "password").unwrap_err();
    assert!(matches!(never, ToolError::NeverForAgents(_)), "{never:?}");
    let key = tools.secret("agent-a", "Deploy key", "Private key").unwrap_err();
    assert!(matches!(key, ToolError::Refused(_)) && key.to_string().contains("SSH agent"), "{key:?}");
    // Mistakes are not audited events: nothing was given or refused.
    assert!(matches!(tools.secret("agent-a", "GitHub", "pin").unwrap_err(), ToolError::NoSuchField(_)));
    assert!(matches!(tools.secret("agent-a", "Nope", "password").unwrap_err(), ToolError::NotFound(_)));
    assert!(matches!(tools.secret("agent-a", "GitHub", "totp").unwrap_err(), ToolError::Invalid(_)));

    let events = agent_events(tools.vault());
    let c = |s: &str| s.to_owned();
    assert_eq!(
        events,
        [
            (c("agent-a"), f.github, c("token"), true),
            (c("agent-a"), f.github, c("password"), true),
            (c("agent-a"), f.github, c("totp"), true),
            (c("agent-a"), f.database, c("password"), false),
            (c("agent-a"), f.hidden, c("password"), false),
            (c("agent-a"), f.deploy_key, c("Private key"), false),
        ]
    );
    for e in tools.vault().lock().unwrap().audit_log().unwrap() {
        let text = format!("{:?} {}", e.event, e.event.describe());
        assert!(!text.contains("ghp_token_value") && !text.contains("gh-password-1"), "{text}");
    }
}

#[test]
fn once_asks_every_time_and_session_asks_once_per_item() {
    let f = fixture();
    let once = Scripted::new(Approval::Once);
    let tools = VaultTools::new(Mutex::new(f.vault), Ask(once.clone()));
    tools.secret("agent-b", "GitHub", "password").unwrap();
    tools.secret("agent-b", "GitHub", "password").unwrap();
    assert_eq!(once.asked.load(Ordering::SeqCst), 2);
    let asked = once.last.lock().unwrap().clone().unwrap();
    assert_eq!((asked.client.as_str(), asked.title.as_str(), asked.field.as_str()), ("agent-b", "GitHub", "password"));

    let f = fixture();
    let session = Scripted::new(Approval::Session);
    let tools = VaultTools::new(Mutex::new(f.vault), Ask(session.clone()));
    tools.secret("agent-b", "GitHub", "password").unwrap();
    tools.secret("agent-b", "GitHub", "token").unwrap();
    tools.totp("agent-b", "GitHub").unwrap();
    assert_eq!(session.asked.load(Ordering::SeqCst), 1, "the session covers the item's other fields");
    tools.secret("agent-b", "Database", "password").unwrap();
    assert_eq!(session.asked.load(Ordering::SeqCst), 2, "another item asks again");

    // A never-for-agents item is refused before anyone is asked.
    let f = fixture();
    let yes = Scripted::new(Approval::Session);
    let tools = VaultTools::new(Mutex::new(f.vault), Ask(yes.clone()));
    assert!(tools.secret("agent-b", "Bank", "password").is_err());
    assert_eq!(yes.asked.load(Ordering::SeqCst), 0);
}

#[test]
fn a_denial_is_refused_and_audited() {
    let f = fixture();
    let no = Scripted::new(Approval::Deny("the user said no".into()));
    let tools = VaultTools::new(Mutex::new(f.vault), Ask(no.clone()));
    let e = tools.secret("agent-c", "GitHub", "password").unwrap_err();
    assert_eq!(e, ToolError::Refused("the user said no".into()));
    assert_eq!(agent_events(tools.vault()), [("agent-c".to_owned(), f.github, "password".to_owned(), false)]);
}

#[test]
fn the_relay_carries_calls_to_the_app_and_sessions_end_with_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agents.sock");
    let f = fixture();
    let vault = Arc::new(Mutex::new(f.vault));
    let asked = Scripted::new(Approval::Session);
    let factory = {
        let (vault, asked) = (vault.clone(), asked.clone());
        Arc::new(move |_peer| -> Box<dyn Tools> {
            Box::new(VaultTools::new(Shared(vault.clone()), Ask(asked.clone())))
        })
    };
    let server = RelayServer::start(&path, factory).unwrap();
    let mode = std::fs::metadata(&path).map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions())).unwrap();
    assert_eq!(mode & 0o777, 0o600);

    let relay = Relay::new(path.clone());
    assert!(relay.reachable());
    let found = relay.search("git", 5).unwrap();
    assert_eq!(found[0].title, "GitHub");
    let secret = relay.secret("agent-d", "GitHub", "token").unwrap();
    assert_eq!((secret.value.as_str(), secret.item), ("ghp_token_value", f.github));
    relay.secret("agent-d", "GitHub", "password").unwrap();
    assert_eq!(asked.asked.load(Ordering::SeqCst), 1);
    assert_eq!(relay.totp("agent-d", "GitHub").unwrap().code.len(), 6);
    assert!(matches!(relay.secret("agent-d", "Bank", "password").unwrap_err(), ToolError::NeverForAgents(_)));

    // The app locks: sessions end, and a new one asks again.
    server.end_sessions();
    relay.secret("agent-d", "GitHub", "password").unwrap();
    assert_eq!(asked.asked.load(Ordering::SeqCst), 2, "a new session asks again");

    server.stop();
    assert!(!path.exists());
    let e = relay.search("git", 5).unwrap_err();
    assert!(matches!(e, ToolError::Unavailable(_)) && e.to_string().contains("not running"), "{e}");
}

/// The app's vault, shared by every session.
struct Shared(Arc<Mutex<Vault>>);

impl tessera_mcp::access::VaultAccess for Shared {
    fn with_vault<R>(&self, f: impl FnOnce(&mut Vault) -> R) -> Option<R> {
        Some(f(&mut self.0.lock().unwrap()))
    }
}
