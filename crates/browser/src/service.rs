//! The protocol engine: one request in, one reply out, with the vault and
//! the user behind the [`Backend`] trait (the desktop app implements it;
//! tests and benchmarks implement it over a vault they hold).
//!
//! Per browser session (`clientID`) it keeps the session box, the nonces
//! used, which connection the session proved it is, and which items it was
//! given (only those may be asked for a one-time code or updated). Requests
//! of one connection are served concurrently — a request waiting for the
//! user's answer never holds the vault or stops the extension's polling.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tessera_core::{Item, ItemId, ItemSummary, ItemType, Vault, VaultError};
use tessera_sites::{Page, Policy, SiteIndex};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::access::{BrowserRecord, RECORD, Verdict};
use crate::crypto::{
    HostKeyPair, KEY_LEN, NONCE_LEN, Nonce, NonceLog, NonceRefused, SessionBox, decode_fixed, encode_b64,
};
use crate::protocol::{Arguments, Envelope, ErrorCode, ErrorReply, PROTOCOL_VERSION};

/// Most browser sessions one connection may open (the extension opens one
/// per start; a peer opening more is refused, not fed memory).
pub const MAX_SESSIONS: usize = 16;
/// Most entries one `get-logins` returns, so a reply stays under 1 MiB.
pub const MAX_ENTRIES: usize = 200;

/// The unlocked vault, as the service sees it for the length of one call.
pub struct VaultView<'a> {
    /// The vault.
    pub vault: &'a mut Vault,
    /// Summaries of its live items (what the app's list shows).
    pub summaries: &'a [ItemSummary],
    /// Changes whenever the items change (or another vault is unlocked).
    pub generation: u64,
    /// Items this call changed; the app refreshes its list after the call.
    pub changed: Vec<ItemId>,
}

/// A browser asks to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectRequest {
    /// A short fingerprint of the identification key the browser sent, so
    /// two requests can be told apart (never secret: the key is public).
    pub fingerprint: String,
}

/// A website asks for items the user has not decided about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRequest {
    /// The website's host (with a port when not the default).
    pub host: String,
    /// The browser connection asking.
    pub connection: String,
    /// The items, best match first.
    pub items: Vec<AccessItem>,
}

/// One item in an [`AccessRequest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessItem {
    /// Its id.
    pub id: ItemId,
    /// Its title.
    pub title: String,
    /// Its username.
    pub username: String,
}

/// The user's answer to an [`AccessRequest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessAnswer {
    /// This once.
    AllowOnce,
    /// From now on (remembered per item and host).
    Always,
    /// Never (remembered per item and host).
    Deny,
    /// No answer (closed, timed out, the vault locked): nothing is given
    /// and nothing remembered.
    Dismissed,
}

/// What the service needs from the app around it.
pub trait Backend: Send + Sync {
    /// The unlocked vault's [`database_hash`], `None` while locked. Asked on
    /// every request, and the extension gives up on some after 500 ms: it
    /// must answer without waiting for the vault (the app keeps it from
    /// the unlock).
    fn database_hash(&self) -> Option<String>;
    /// Runs `f` on the unlocked vault; `false` (and `f` not run) when the
    /// vault is locked or there is none.
    fn with_vault(&self, f: &mut dyn FnMut(&mut VaultView<'_>)) -> bool;
    /// Asks the user whether a browser may connect; the name they gave, or
    /// `None` when they refused (or did not answer). Blocks until then.
    fn ask_connect(&self, request: &ConnectRequest) -> Option<String>;
    /// Asks the user whether a website may use items. Blocks until then.
    fn ask_access(&self, request: &AccessRequest) -> AccessAnswer;
    /// Brings up the unlock window (the extension's `triggerUnlock`).
    fn show_unlock(&self);
    /// Locks the vault (the extension's "lock database").
    fn lock(&self);
    /// The user's browser settings.
    fn options(&self) -> Options;
}

/// Browser settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Offer `https` items on `http` pages.
    pub allow_http: bool,
    /// Folder for logins saved from the browser.
    pub save_folder: String,
}

impl Default for Options {
    fn default() -> Self {
        Options { allow_http: false, save_folder: "Browser".to_owned() }
    }
}

/// One browser session's state.
#[derive(Default)]
struct Session {
    sealed: Option<Arc<SessionBox>>,
    client_key: String,
    nonces: NonceLog,
    /// The connection this session proved it is: (name, key).
    connection: Option<(String, String)>,
    /// Items given to this session.
    released: HashSet<ItemId>,
    /// Folder paths by the uuid given for them.
    folders: HashMap<String, String>,
}

/// The sessions of one socket connection (one browser's host process).
#[derive(Default)]
pub struct Peer {
    sessions: Mutex<HashMap<String, Arc<Mutex<Session>>>>,
}

type Pending = Arc<(Mutex<Option<AccessAnswer>>, Condvar)>;

/// The engine, shared by every connection.
pub struct Service<B> {
    backend: B,
    index: Mutex<Option<(u64, Arc<SiteIndex<ItemId>>)>>,
    /// Questions being asked, so two requests for the same page wait for
    /// one answer instead of opening two dialogs.
    pending: Mutex<HashMap<(String, Vec<ItemId>), Pending>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a request handler gives back: the reply's fields.
type Fields = Result<Reply, ErrorReply>;

/// A reply's fields, some of them secret.
#[derive(Default)]
struct Reply {
    fields: Map<String, Value>,
    entries: Option<Vec<LoginEntry>>,
    password: Option<Zeroizing<String>>,
    totp: Option<Zeroizing<String>>,
}

impl Reply {
    fn with(fields: Value) -> Reply {
        match fields {
            Value::Object(fields) => Reply { fields, ..Reply::default() },
            _ => Reply::default(),
        }
    }
}

/// One login as `get-logins` returns it.
#[derive(Serialize)]
struct LoginEntry {
    login: String,
    name: String,
    #[serde(serialize_with = "secret")]
    password: Zeroizing<String>,
    uuid: String,
    group: String,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "secret_opt")]
    totp: Option<Zeroizing<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expired: Option<&'static str>,
    #[serde(rename = "stringFields")]
    string_fields: [(); 0],
}

fn secret<S: serde::Serializer>(v: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

fn secret_opt<S: serde::Serializer>(v: &Option<Zeroizing<String>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(v),
        None => s.serialize_none(),
    }
}

/// The inside of an encrypted reply.
#[derive(Serialize)]
struct Inner<'a> {
    version: &'static str,
    success: &'static str,
    nonce: String,
    #[serde(flatten)]
    fields: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entries: Option<&'a [LoginEntry]>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "secret_opt")]
    password: &'a Option<Zeroizing<String>>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "secret_opt")]
    totp: &'a Option<Zeroizing<String>>,
}

/// The hash the extension files its connections under: SHA-256 of the
/// vault id (public, stable across unlocks, different for each vault).
pub fn database_hash(vault: &Vault) -> String {
    let digest = Sha256::new().chain_update(b"tessera-browser\0").chain_update(vault.vault_id().as_bytes()).finalize();
    data_encoding::HEXLOWER.encode(&digest)
}

/// A stable id for a folder path, in the 32-hex-digit form of KeePass
/// group UUIDs.
fn folder_uuid(path: &str) -> String {
    let digest = Sha256::new().chain_update(b"tessera-folder\0").chain_update(path.as_bytes()).finalize();
    data_encoding::HEXLOWER.encode(&digest[..16])
}

impl<B: Backend> Service<B> {
    /// A service over `backend`.
    pub fn new(backend: B) -> Service<B> {
        Service { backend, index: Mutex::new(None), pending: Mutex::new(HashMap::new()) }
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Serves one request frame from `peer`; the reply frame's body.
    /// Never panics on input; every refusal is an error reply.
    pub fn handle(&self, peer: &Peer, frame: &[u8]) -> Zeroizing<Vec<u8>> {
        let Some(envelope) = Envelope::parse(frame) else {
            return error_frame("", None, ErrorReply::new(ErrorCode::EmptyMessageReceived));
        };
        let action = envelope.action.clone();
        let request_id = envelope.request_id.clone();
        if action.is_empty() {
            return error_frame("", request_id.as_deref(), ErrorCode::IncorrectAction.into());
        }
        match self.serve(peer, &envelope) {
            Ok(reply) => reply,
            Err(e) => error_frame(&action, request_id.as_deref(), e),
        }
    }

    fn serve(&self, peer: &Peer, envelope: &Envelope) -> Result<Zeroizing<Vec<u8>>, ErrorReply> {
        let client_id = envelope
            .client_id
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 64)
            .ok_or_else(|| ErrorReply::with(ErrorCode::EmptyMessageReceived, "The request has no clientID"))?;
        let session = {
            let mut sessions = lock(&peer.sessions);
            if !sessions.contains_key(client_id) && sessions.len() >= MAX_SESSIONS {
                return Err(ErrorReply::with(
                    ErrorCode::KeyChangeFailed,
                    "Too many browser sessions on one connection",
                ));
            }
            sessions.entry(client_id.to_owned()).or_default().clone()
        };
        if envelope.action == "change-public-keys" {
            return self.change_public_keys(&session, envelope);
        }

        // Everything else is sealed: check the nonce, open the message.
        let nonce: Nonce = envelope.nonce.as_deref().and_then(decode_fixed::<NONCE_LEN>).ok_or_else(|| {
            ErrorReply::with(ErrorCode::CannotDecryptMessage, "The request's nonce is missing or malformed")
        })?;
        let (sealed, reply_nonce, args) = {
            let mut s = lock(&session);
            let sealed = s.sealed.clone().ok_or(ErrorCode::ClientPublicKeyNotReceived)?;
            let message = envelope.message.as_deref().and_then(crate::crypto::decode_b64).ok_or_else(|| {
                ErrorReply::with(ErrorCode::CannotDecryptMessage, "The request's message is not base64")
            })?;
            let plain = sealed.open(&nonce, &message).map_err(|_| ErrorCode::CannotDecryptMessage)?;
            // Only an authentic message spends its nonce, so garbage from
            // someone without the key cannot block the extension's nonces.
            let reply_nonce = s.nonces.accept(&nonce).map_err(|e| match e {
                NonceRefused::Reused => {
                    ErrorReply::with(ErrorCode::CannotDecryptMessage, "Nonce already used: request refused")
                }
                NonceRefused::Exhausted => ErrorReply::with(
                    ErrorCode::KeyChangeFailed,
                    "This browser session is used up; reconnect the extension",
                ),
            })?;
            let args = Arguments::parse(&plain).ok_or(ErrorCode::EmptyMessageReceived)?;
            (sealed, reply_nonce, args)
        };
        if args.str("action").is_some_and(|a| a != envelope.action) {
            return Err(ErrorReply::with(ErrorCode::IncorrectAction, "The sealed message is for another action"));
        }
        let reply = self.dispatch(&session, envelope, &args)?;
        Ok(seal_reply(&sealed, &envelope.action, &reply_nonce, &reply))
    }

    fn change_public_keys(
        &self,
        session: &Mutex<Session>,
        envelope: &Envelope,
    ) -> Result<Zeroizing<Vec<u8>>, ErrorReply> {
        let client_key = envelope.public_key.as_deref().and_then(decode_fixed::<KEY_LEN>);
        let nonce = envelope.nonce.as_deref().and_then(decode_fixed::<NONCE_LEN>);
        let (Some(client_key), Some(nonce)) = (client_key, nonce) else {
            return Err(ErrorCode::ClientPublicKeyNotReceived.into());
        };
        let host = HostKeyPair::generate();
        let reply_nonce = crate::crypto::increment(&nonce);
        {
            // A new key starts a new session: nothing proved under the old
            // one carries over.
            let mut s = lock(session);
            *s = Session {
                sealed: Some(Arc::new(host.session(&client_key))),
                client_key: encode_b64(&client_key),
                ..Session::default()
            };
            let _ = s.nonces.accept(&nonce);
        }
        let reply = json!({
            "action": "change-public-keys",
            "version": PROTOCOL_VERSION,
            "publicKey": encode_b64(&host.public()),
            "nonce": encode_b64(&reply_nonce),
            "success": "true",
        });
        Ok(Zeroizing::new(serde_json::to_vec(&reply).expect("JSON serialises")))
    }

    fn dispatch(&self, session: &Mutex<Session>, envelope: &Envelope, args: &Arguments) -> Fields {
        let action = envelope.action.as_str();
        // Everything below needs the vault open.
        let Some(hash) = self.backend.database_hash() else {
            if envelope.wants_unlock() {
                self.backend.show_unlock();
            }
            return Err(ErrorCode::DatabaseNotOpened.into());
        };
        match action {
            "get-databasehash" => Ok(Reply::with(json!({ "hash": hash }))),
            "associate" => self.associate(session, args, &hash),
            "test-associate" => self.test_associate(session, args, &hash),
            "get-logins" => self.get_logins(session, args, &hash),
            "set-login" => self.set_login(session, args, &hash),
            "get-totp" => self.get_totp(session, args),
            "generate-password" => generate_password(),
            "lock-database" => {
                self.backend.lock();
                Ok(Reply::default())
            }
            "get-database-groups" => self.groups(session),
            "create-new-group" => self.create_group(session, args),
            _ => Err(ErrorReply::with(ErrorCode::IncorrectAction, format!("Tessera does not serve {action:?}"))),
        }
    }

    /// Runs `f` on the vault, or says it is locked.
    fn vault<T>(&self, mut f: impl FnMut(&mut VaultView<'_>) -> Result<T, ErrorReply>) -> Result<T, ErrorReply> {
        let mut out = None;
        if !self.backend.with_vault(&mut |v| out = Some(f(v))) {
            return Err(ErrorCode::DatabaseNotOpened.into());
        }
        out.unwrap_or_else(|| Err(ErrorCode::DatabaseNotOpened.into()))
    }

    fn associate(&self, session: &Mutex<Session>, args: &Arguments, hash: &str) -> Fields {
        let client_key = lock(session).client_key.clone();
        // The extension proves it holds this session by repeating its key.
        if args.str("key") != Some(client_key.as_str()) {
            return Err(ErrorCode::AssociationFailed.into());
        }
        let id_key = args.str("idKey").unwrap_or(&client_key).to_owned();
        if decode_fixed::<KEY_LEN>(&id_key).is_none() {
            return Err(ErrorReply::with(ErrorCode::AssociationFailed, "The identification key is malformed"));
        }
        let fingerprint = key_fingerprint(&id_key);
        let Some(name) = self.backend.ask_connect(&ConnectRequest { fingerprint }) else {
            return Err(ErrorCode::ActionCancelledOrDenied.into());
        };
        let name = self.vault(|v| {
            let mut record = read_record(v.vault)?;
            let name = record.connect(&name, &id_key, tessera_core::item::now());
            let event = tessera_core::AuditEvent::BrowserConnected { name: name.clone() };
            write_record(v.vault, &record, vec![event])?;
            Ok(name)
        })?;
        lock(session).connection = Some((name.clone(), id_key));
        Ok(Reply::with(json!({ "hash": hash, "id": name })))
    }

    fn test_associate(&self, session: &Mutex<Session>, args: &Arguments, hash: &str) -> Fields {
        let (Some(id), Some(key)) = (args.str("id"), args.str("key")) else {
            return Err(ErrorCode::AssociationFailed.into());
        };
        self.vault(|v| {
            let mut record = read_record(v.vault)?;
            if record.connection(id, key).is_none() {
                return Err(ErrorCode::AssociationFailed.into());
            }
            if record.touch(id, tessera_core::item::now()) {
                write_record(v.vault, &record, vec![])?;
            }
            Ok(())
        })?;
        lock(session).connection = Some((id.to_owned(), key.to_owned()));
        Ok(Reply::with(json!({ "hash": hash, "id": id })))
    }

    /// The connection this session proved, still in the record (a revoked
    /// connection stops at its next request).
    fn connection(&self, session: &Mutex<Session>) -> Result<String, ErrorReply> {
        let (name, key) = lock(session).connection.clone().ok_or(ErrorCode::AssociationFailed)?;
        self.vault(|v| {
            let record = read_record(v.vault)?;
            record.connection(&name, &key).map(|c| c.name.clone()).ok_or_else(|| ErrorCode::AssociationFailed.into())
        })
    }

    /// The connection for `get-logins`: the session's, or one proved by the
    /// request's `keys` (the extension sends its saved connections there,
    /// and after it restarts the host it may ask for logins before any
    /// `test-associate`).
    fn connection_from_keys(&self, session: &Mutex<Session>, args: &Arguments) -> Result<String, ErrorReply> {
        if let Ok(name) = self.connection(session) {
            return Ok(name);
        }
        let keys = args.keys();
        let found = self.vault(|v| {
            let record = read_record(v.vault)?;
            Ok(keys.iter().find_map(|(id, key)| record.connection(id, key).map(|c| (c.name.clone(), key.clone()))))
        })?;
        let (name, key) = found.ok_or(ErrorCode::AssociationFailed)?;
        lock(session).connection = Some((name.clone(), key));
        Ok(name)
    }

    fn site_index(&self, view: &VaultView<'_>) -> Arc<SiteIndex<ItemId>> {
        let mut cached = lock(&self.index);
        if let Some((generation, index)) = cached.as_ref() {
            if *generation == view.generation {
                return index.clone();
            }
        }
        let index = Arc::new(SiteIndex::new(view.summaries.iter().map(|s| (s.id, s.urls.iter()))));
        *cached = Some((view.generation, index.clone()));
        index
    }

    fn get_logins(&self, session: &Mutex<Session>, args: &Arguments, hash: &str) -> Fields {
        let connection = self.connection_from_keys(session, args)?;
        let url = args.str("url").ok_or(ErrorCode::NoUrlProvided)?;
        let page = Page::parse(url).map_err(|_| {
            ErrorReply::with(ErrorCode::NoUrlProvided, "This page's address cannot be matched to a login")
        })?;
        let host = page.origin_label();
        let options = self.backend.options();
        let policy = Policy { allow_http: options.allow_http };

        // What the rules already decide, under the vault; questions after.
        let (mut allowed, to_ask) = self.vault(|v| {
            let index = self.site_index(v);
            let record = read_record(v.vault)?;
            let mut allowed = Vec::new();
            let mut ask = Vec::new();
            for (id, kind) in index.lookup(&page, &policy) {
                let Ok(item) = v.vault.get(id) else { continue };
                if item.deleted.is_some() || item.item_type != ItemType::Login {
                    continue;
                }
                match record.verdict(&item, &host) {
                    Verdict::Allow => allowed.push((id, kind)),
                    Verdict::Deny => {}
                    Verdict::Ask => {
                        ask.push((AccessItem { id, title: item.title.clone(), username: item.username.clone() }, kind))
                    }
                }
            }
            Ok((allowed, ask))
        })?;
        if !to_ask.is_empty() {
            let request = AccessRequest {
                host: host.clone(),
                connection,
                items: to_ask.iter().map(|(item, _)| item.clone()).collect(),
            };
            let answer = self.ask_access_once(&request);
            if matches!(answer, AccessAnswer::AllowOnce | AccessAnswer::Always) {
                allowed.extend(to_ask.iter().map(|(item, kind)| (item.id, *kind)));
            }
            if let AccessAnswer::Always | AccessAnswer::Deny = answer {
                let allow = answer == AccessAnswer::Always;
                self.remember(&request, allow)?;
            }
        }
        if allowed.is_empty() {
            return Err(ErrorCode::NoLoginsFound.into());
        }
        allowed.sort_by_key(|a| std::cmp::Reverse(a.1));
        allowed.truncate(MAX_ENTRIES);
        let now = tessera_core::item::now();
        let entries = self.vault(|v| {
            let record = read_record(v.vault)?;
            let mut entries = Vec::new();
            for (id, _) in &allowed {
                // Read again: the item may have changed (or gone) while
                // the user was deciding; a "never fill" set meanwhile wins.
                let Ok(item) = v.vault.get(*id) else { continue };
                if item.deleted.is_some() || item.never_autofill || record.verdict(&item, &host) == Verdict::Deny {
                    continue;
                }
                entries.push(login_entry(&item, now));
            }
            Ok(entries)
        })?;
        if entries.is_empty() {
            return Err(ErrorCode::NoLoginsFound.into());
        }
        lock(session).released.extend(allowed.iter().map(|(id, _)| *id));
        let mut reply =
            Reply::with(json!({ "count": entries.len(), "hash": hash, "id": args.str("id").unwrap_or("") }));
        reply.entries = Some(entries);
        Ok(reply)
    }

    /// Asks once for a given host and set of items, however many requests
    /// want the answer (the extension asks on page load and on focus).
    fn ask_access_once(&self, request: &AccessRequest) -> AccessAnswer {
        let mut ids: Vec<ItemId> = request.items.iter().map(|i| i.id).collect();
        ids.sort();
        let key = (request.host.clone(), ids);
        let (pending, asker) = {
            let mut pending = lock(&self.pending);
            match pending.get(&key) {
                Some(p) => (p.clone(), false),
                None => {
                    let p: Pending = Arc::new((Mutex::new(None), Condvar::new()));
                    pending.insert(key.clone(), p.clone());
                    (p, true)
                }
            }
        };
        if asker {
            let answer = self.backend.ask_access(request);
            lock(&self.pending).remove(&key);
            *lock(&pending.0) = Some(answer);
            pending.1.notify_all();
            return answer;
        }
        let mut answer = lock(&pending.0);
        while answer.is_none() {
            answer = pending.1.wait(answer).unwrap_or_else(|p| p.into_inner());
        }
        // Whoever asked remembers a lasting answer; the others only use it.
        match answer.expect("set before notifying") {
            AccessAnswer::Always => AccessAnswer::AllowOnce,
            other => other,
        }
    }

    fn remember(&self, request: &AccessRequest, allow: bool) -> Result<(), ErrorReply> {
        self.vault(|v| {
            let mut record = read_record(v.vault)?;
            let now = tessera_core::item::now();
            let mut events = Vec::new();
            for item in &request.items {
                record.decide(item.id, &request.host, allow, now);
                events.push(tessera_core::AuditEvent::SiteAccess {
                    item: item.id,
                    host: request.host.clone(),
                    decision: if allow { "allow" } else { "deny" }.to_owned(),
                });
            }
            write_record(v.vault, &record, events)
        })
    }

    fn set_login(&self, session: &Mutex<Session>, args: &Arguments, hash: &str) -> Fields {
        self.connection(session)?;
        let url = args.str("url").ok_or(ErrorCode::NoUrlProvided)?;
        let page = Page::parse(url).map_err(|_| {
            ErrorReply::with(ErrorCode::NoUrlProvided, "This page's address cannot be saved with a login")
        })?;
        let login = args.str("login").unwrap_or_default().to_owned();
        let password = Zeroizing::new(args.str("password").unwrap_or_default().to_owned());
        let (released, folders) = {
            let s = lock(session);
            (s.released.clone(), s.folders.clone())
        };
        let options = self.backend.options();
        let host = page.origin_label();
        let saved = match args.str("uuid") {
            Some(uuid) => {
                // Only an item this session was given can be changed from
                // the browser.
                let id: ItemId = uuid.parse().map_err(|_| ErrorCode::NoValidUuidProvided)?;
                if !released.contains(&id) {
                    return Err(ErrorCode::NoValidUuidProvided.into());
                }
                self.vault(|v| {
                    v.vault
                        .update(id, |item| {
                            if !login.is_empty() {
                                item.username = login.clone();
                            }
                            item.password = password.to_string();
                            Ok(())
                        })
                        .map_err(vault_error)?;
                    v.changed.push(id);
                    Ok(id)
                })?
            }
            None => {
                let folder = args
                    .str("groupUuid")
                    .and_then(|u| folders.get(u).cloned().or_else(|| self.known_folder(u)))
                    .unwrap_or_else(|| options.save_folder.clone());
                let mut item = Item::new(ItemType::Login, host.clone());
                item.username = login.clone();
                item.password = password.to_string();
                item.urls = vec![page.save_url()];
                item.folder = folder;
                self.vault(|v| {
                    let id = v.vault.add(vec![item.clone()]).map_err(vault_error)?[0];
                    // Saved from this site: this site may fill it.
                    let mut record = read_record(v.vault)?;
                    record.decide(id, &host, true, tessera_core::item::now());
                    let event = tessera_core::AuditEvent::SiteAccess {
                        item: id,
                        host: host.clone(),
                        decision: "allow".to_owned(),
                    };
                    write_record(v.vault, &record, vec![event])?;
                    v.changed.push(id);
                    Ok(id)
                })?
            }
        };
        lock(session).released.insert(saved);
        Ok(Reply::with(json!({ "count": null, "entries": null, "error": "success", "hash": hash })))
    }

    fn known_folder(&self, uuid: &str) -> Option<String> {
        self.vault(|v| Ok(folder_paths(v.summaries).into_iter().find(|p| folder_uuid(p) == uuid))).ok().flatten()
    }

    fn get_totp(&self, session: &Mutex<Session>, args: &Arguments) -> Fields {
        self.connection(session)?;
        let id: ItemId = args.str("uuid").and_then(|u| u.parse().ok()).ok_or(ErrorCode::NoValidUuidProvided)?;
        if !lock(session).released.contains(&id) {
            return Err(ErrorCode::NoValidUuidProvided.into());
        }
        let code = self.vault(|v| {
            let item = v.vault.get(id).map_err(vault_error)?;
            Ok(totp_now(&item, tessera_core::item::now()).unwrap_or_default())
        })?;
        Ok(Reply { totp: Some(code), ..Reply::default() })
    }

    fn groups(&self, session: &Mutex<Session>) -> Fields {
        self.connection(session)?;
        let paths = self.vault(|v| Ok(folder_paths(v.summaries)))?;
        Ok(Reply::with(json!({ "groups": { "groups": [folder_tree(&paths)] } })))
    }

    fn create_group(&self, session: &Mutex<Session>, args: &Arguments) -> Fields {
        self.connection(session)?;
        let path = tessera_core::item::normalize_folder(args.str("groupName").unwrap_or_default());
        if path.is_empty() || path.len() > 1024 {
            return Err(ErrorCode::CannotCreateNewGroup.into());
        }
        // A folder exists as soon as an item is saved in it: remember the
        // id so the next set-login can name it.
        let uuid = folder_uuid(&path);
        let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
        lock(session).folders.insert(uuid.clone(), path);
        Ok(Reply::with(json!({ "name": name, "uuid": uuid })))
    }
}

fn generate_password() -> Fields {
    let password = tessera_core::generator::generate_password(&tessera_core::generator::PasswordPolicy::default())
        .map_err(|_| ErrorCode::ActionCancelledOrDenied)?;
    Ok(Reply { password: Some(password), ..Reply::default() })
}

/// A short, readable fingerprint of an identification key.
pub fn key_fingerprint(key_b64: &str) -> String {
    let digest = Sha256::digest(key_b64.as_bytes());
    let hex = data_encoding::HEXUPPER.encode(&digest[..6]);
    hex.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
}

fn login_entry(item: &Item, now: OffsetDateTime) -> LoginEntry {
    LoginEntry {
        login: item.username.clone(),
        name: item.title.clone(),
        password: Zeroizing::new(item.password.clone()),
        uuid: item.id.to_hex(),
        group: item.folder.rsplit('/').next().unwrap_or_default().to_owned(),
        totp: totp_now(item, now),
        expired: item.expires.is_some_and(|e| e <= now).then_some("true"),
        string_fields: [],
    }
}

/// The item's current TOTP code; none for HOTP (a code would spend a
/// counter value on every page load).
fn totp_now(item: &Item, now: OffsetDateTime) -> Option<Zeroizing<String>> {
    let otp = item.otp().ok().flatten()?;
    if !matches!(otp.kind, tessera_core::totp::OtpKind::Totp { .. }) {
        return None;
    }
    otp.code_at(now.unix_timestamp().max(0) as u64).ok().map(|c| c.code)
}

fn folder_paths(summaries: &[ItemSummary]) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for s in summaries {
        let mut prefix = String::new();
        for part in s.folder.split('/').filter(|p| !p.is_empty()) {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if seen.insert(prefix.clone()) {
                paths.push(prefix.clone());
            }
        }
    }
    paths.sort();
    paths
}

/// The folders as KeePass groups: a root with nested children.
fn folder_tree(paths: &[String]) -> Value {
    fn children(paths: &[String], parent: &str) -> Vec<Value> {
        paths
            .iter()
            .filter(|p| match p.rsplit_once('/') {
                Some((head, _)) => head == parent,
                None => parent.is_empty(),
            })
            .map(|p| {
                json!({
                    "name": p.rsplit('/').next().unwrap_or(p),
                    "uuid": folder_uuid(p),
                    "children": children(paths, p),
                })
            })
            .collect()
    }
    json!({ "name": "Root", "uuid": folder_uuid(""), "children": children(paths, "") })
}

/// The `browser` record, or an empty one if there is none yet.
pub fn read_record(vault: &Vault) -> Result<BrowserRecord, ErrorReply> {
    match vault.record(RECORD).map_err(vault_error)? {
        Some(bytes) => BrowserRecord::from_bytes(&bytes).map_err(|_| {
            ErrorReply::with(ErrorCode::DatabaseNotOpened, "Tessera cannot read its browser settings in this vault")
        }),
        None => Ok(BrowserRecord::default()),
    }
}

/// Saves the `browser` record with audit events.
pub fn write_record(
    vault: &mut Vault,
    record: &BrowserRecord,
    events: Vec<tessera_core::AuditEvent>,
) -> Result<(), ErrorReply> {
    vault.put_record(RECORD, Some(&record.to_bytes()), events).map_err(vault_error)
}

/// A vault failure, told to the extension without detail (the app shows
/// and logs the detail itself).
fn vault_error(e: VaultError) -> ErrorReply {
    match e {
        VaultError::NotFound(_) => ErrorCode::NoValidUuidProvided.into(),
        VaultError::Integrity(_) => {
            ErrorReply::with(ErrorCode::DatabaseNotOpened, "The vault failed an integrity check; see Tessera")
        }
        VaultError::Store(tessera_core::StoreError::Busy) => {
            ErrorReply::with(ErrorCode::ActionCancelledOrDenied, "The vault is busy; try again")
        }
        _ => ErrorReply::with(ErrorCode::ActionCancelledOrDenied, "Tessera could not do that; see Tessera"),
    }
}

fn error_frame(action: &str, request_id: Option<&str>, e: ErrorReply) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(serde_json::to_vec(&e.to_json(action, request_id)).expect("JSON serialises"))
}

fn seal_reply(sealed: &SessionBox, action: &str, nonce: &Nonce, reply: &Reply) -> Zeroizing<Vec<u8>> {
    let inner = Inner {
        version: PROTOCOL_VERSION,
        success: "true",
        nonce: encode_b64(nonce),
        fields: &reply.fields,
        entries: reply.entries.as_deref(),
        password: &reply.password,
        totp: &reply.totp,
    };
    // Sized up front so no reallocation leaves a copy of a secret behind.
    let estimate = 512 + reply.entries.as_ref().map_or(0, |e| e.len() * 1024);
    let mut plain = Zeroizing::new(Vec::with_capacity(estimate));
    serde_json::to_writer(&mut *plain, &inner).expect("JSON serialises");
    let message = sealed.seal(nonce, &plain);
    let outer = json!({ "action": action, "message": encode_b64(&message), "nonce": encode_b64(nonce) });
    Zeroizing::new(serde_json::to_vec(&outer).expect("JSON serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_become_a_group_tree_with_stable_ids() {
        let mut a = Item::new(ItemType::Login, "a");
        a.folder = "Work/Servers".into();
        let mut b = Item::new(ItemType::Login, "b");
        b.folder = "Home".into();
        let paths = folder_paths(&[a.summary(), b.summary()]);
        assert_eq!(paths, ["Home", "Work", "Work/Servers"]);
        let tree = folder_tree(&paths);
        assert_eq!(tree["children"][1]["name"], "Work");
        assert_eq!(tree["children"][1]["children"][0]["name"], "Servers");
        assert_eq!(tree["children"][1]["children"][0]["uuid"], folder_uuid("Work/Servers"));
        assert_eq!(folder_uuid("Work").len(), 32);
    }

    #[test]
    fn fingerprints_are_short_groups() {
        let f = key_fingerprint("AAAA");
        assert_eq!(f.len(), 14);
        assert_eq!(f.matches('-').count(), 2);
    }
}
