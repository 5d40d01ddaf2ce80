//! What an AI agent may do with the vault, and the rules around it.
//!
//! [`Tools`] is the interface the MCP server calls: search (no secret in
//! the answer), one field of one item, one item's current one-time code.
//! [`VaultTools`] is its one implementation over a vault: it refuses items
//! marked "never for agents" outright (and leaves them out of searches),
//! asks an [`Approver`] before any value leaves, remembers "for this
//! session" answers, and writes every answer and refusal to the vault's
//! audit log with the client's name.
//!
//! The same rules run headless (`tessera mcp --allow`, the approver an
//! allow-list) and in the app (the approver a dialog, reached through
//! [`crate::relay`]), so the two cannot drift apart.

use std::collections::HashSet;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tessera_core::{AuditEvent, Item, ItemId, ItemType, Reference, Scope, SearchIndex, Vault, VaultError};
use zeroize::Zeroizing;

/// Most results one search returns.
pub const MAX_RESULTS: usize = 50;
/// Results a search returns when the agent does not say.
pub const DEFAULT_RESULTS: usize = 20;

/// One search result: what an agent needs to pick an item and name a
/// field, never a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// The item's id (hex).
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its type (`login`, `note`, `card`, `identity`, `ssh-key`).
    #[serde(rename = "type")]
    pub item_type: String,
    /// Its username (not a secret: shown in lists everywhere).
    pub username: String,
    /// Its URLs.
    pub urls: Vec<String>,
    /// Its folder.
    pub folder: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// The fields `get_secret` can be asked for: `password`, `username`,
    /// `notes`, then custom fields by name. `totp` is listed when the item
    /// has a one-time-code generator (for `get_totp`).
    pub fields: Vec<String>,
}

/// A value given out.
#[derive(Debug)]
pub struct Secret {
    /// The item's id.
    pub item: ItemId,
    /// The item's title.
    pub title: String,
    /// The field's name.
    pub field: String,
    /// The value.
    pub value: Zeroizing<String>,
}

/// A one-time code given out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeCode {
    /// The code.
    pub code: String,
    /// Seconds it stays valid (TOTP), `None` for HOTP.
    pub remaining_seconds: Option<u64>,
}

/// Why a tool gave no answer. The message is for the agent and its user:
/// it says what to do, and never holds a value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum ToolError {
    /// No vault to read: the app is not running, or it is locked.
    #[error("{0}")]
    Unavailable(String),
    /// No such item (or more than one).
    #[error("{0}")]
    NotFound(String),
    /// The item has no such field.
    #[error("{0}")]
    NoSuchField(String),
    /// The item is marked "never for agents".
    #[error("{0}")]
    NeverForAgents(String),
    /// The user said no, or did not answer in time, or (headless) the item
    /// is not on the allow-list.
    #[error("{0}")]
    Refused(String),
    /// The request makes no sense (an empty name…).
    #[error("{0}")]
    Invalid(String),
    /// Something failed on Tessera's side.
    #[error("{0}")]
    Failed(String),
}

impl ToolError {
    /// The error's kind as a word (for the relay and the tests).
    pub fn kind(&self) -> &'static str {
        match self {
            ToolError::Unavailable(_) => "unavailable",
            ToolError::NotFound(_) => "not_found",
            ToolError::NoSuchField(_) => "no_such_field",
            ToolError::NeverForAgents(_) => "never_for_agents",
            ToolError::Refused(_) => "refused",
            ToolError::Invalid(_) => "invalid",
            ToolError::Failed(_) => "failed",
        }
    }
}

fn vault_error(e: VaultError) -> ToolError {
    match e {
        VaultError::NotFound(what) => ToolError::NotFound(format!("Tessera has no {what}")),
        VaultError::Ambiguous { query, candidates } => {
            let ids: Vec<String> = candidates.iter().map(|(id, _)| id.to_hex()).collect();
            ToolError::NotFound(format!(
                "more than one item is called {query:?}; ask for one by id ({})",
                ids.join(", ")
            ))
        }
        VaultError::Integrity(e) => ToolError::Failed(format!("Tessera found the vault damaged or tampered with: {e}")),
        other => ToolError::Failed(format!("Tessera could not read the vault: {other}")),
    }
}

/// What the MCP server can ask of Tessera. Calls block (a question to the
/// user can take a while); the server runs them off its event loop.
pub trait Tools: Send + Sync {
    /// Items matching `query`, best first, at most `limit`.
    fn search(&self, query: &str, limit: usize) -> Result<Vec<Found>, ToolError>;
    /// One field of one item, for `client`.
    fn secret(&self, client: &str, item: &str, field: &str) -> Result<Secret, ToolError>;
    /// One item's current one-time code, for `client`.
    fn totp(&self, client: &str, item: &str) -> Result<OneTimeCode, ToolError>;
}

/// Whether a value may go to an agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Approval {
    /// This once.
    Once,
    /// This item, any field, for the rest of this session.
    Session,
    /// No, with the reason to give the agent.
    Deny(String),
}

/// A value an agent asks for, as the user is asked about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The agent's name, as it introduced itself.
    pub client: String,
    /// The item.
    pub item: ItemId,
    /// Its title.
    pub title: String,
    /// The field (`totp` for a one-time code).
    pub field: String,
}

/// Who decides whether a value goes out: the user in the app, or the
/// allow-list given to `tessera mcp --allow`.
pub trait Approver: Send + Sync {
    /// Decides; may block while the user thinks.
    fn approve(&self, request: &Request) -> Approval;
}

/// Approves the items on a list for the whole session, refuses the rest.
pub struct AllowList {
    items: HashSet<ItemId>,
}

impl AllowList {
    /// The list.
    pub fn new(items: impl IntoIterator<Item = ItemId>) -> AllowList {
        AllowList { items: items.into_iter().collect() }
    }
}

impl Approver for AllowList {
    fn approve(&self, request: &Request) -> Approval {
        if self.items.contains(&request.item) {
            Approval::Session
        } else {
            Approval::Deny(format!(
                "the user has not allowed agents to read {:?}: it was not given to `tessera mcp --allow`",
                request.title
            ))
        }
    }
}

/// Where [`VaultTools`] finds the vault: the app's (which may be locked)
/// or one the CLI unlocked.
pub trait VaultAccess: Send + Sync {
    /// Runs `f` on the unlocked vault; `None` when there is none.
    fn with_vault<R>(&self, f: impl FnOnce(&mut Vault) -> R) -> Option<R>;
    /// The message when there is no unlocked vault.
    fn unavailable(&self) -> String {
        "Tessera is locked; ask the user to unlock it, then try again".into()
    }
}

impl VaultAccess for Mutex<Vault> {
    fn with_vault<R>(&self, f: impl FnOnce(&mut Vault) -> R) -> Option<R> {
        let mut vault = self.lock().unwrap_or_else(|p| p.into_inner());
        Some(f(&mut vault))
    }
}

/// The field names `get_secret` takes besides custom fields.
const BUILT_IN: [&str; 4] = ["password", "username", "notes", "url"];

/// A field of an SSH key item no agent gets: the agent should use the key
/// through the SSH agent, where each signature is approved, not hold it.
fn withheld(item: &Item, field: &str) -> bool {
    item.item_type == ItemType::SshKey && field == tessera_core::item::SSH_PRIVATE_KEY
}

fn field_names(item: &Item) -> Vec<String> {
    let mut names = Vec::new();
    if !item.password.is_empty() {
        names.push("password".to_owned());
    }
    if !item.username.is_empty() {
        names.push("username".to_owned());
    }
    if item.otp.is_some() {
        names.push("totp".to_owned());
    }
    if !item.notes.is_empty() {
        names.push("notes".to_owned());
    }
    if !item.urls.is_empty() {
        names.push("url".to_owned());
    }
    names.extend(item.fields.iter().filter(|f| !withheld(item, &f.name)).map(|f| f.name.clone()));
    names
}

/// The rules over a vault (see the module's documentation). One per
/// client session: "for this session" answers live here.
pub struct VaultTools<V, A> {
    vault: V,
    approver: A,
    session: Mutex<HashSet<ItemId>>,
}

impl<V: VaultAccess, A: Approver> VaultTools<V, A> {
    /// Rules over `vault`, asking `approver`.
    pub fn new(vault: V, approver: A) -> Self {
        VaultTools { vault, approver, session: Mutex::default() }
    }

    /// The vault access.
    pub fn vault(&self) -> &V {
        &self.vault
    }

    fn with_vault<R>(&self, f: impl FnOnce(&mut Vault) -> Result<R, ToolError>) -> Result<R, ToolError> {
        self.vault.with_vault(f).unwrap_or_else(|| Err(ToolError::Unavailable(self.vault.unavailable())))
    }

    fn record(&self, vault: &mut Vault, client: &str, item: ItemId, field: &str, allowed: bool) {
        let event = AuditEvent::AgentAccess { client: client.to_owned(), item, field: field.to_owned(), allowed };
        // The answer stands even if the log cannot be written (a full
        // disk): refusing would not undo anything, and giving without a
        // record is what the user approved. Say so on stderr.
        if let Err(e) = vault.record_event(event) {
            eprintln!("tessera mcp: cannot write the audit log: {e}");
        }
    }

    /// Finds the item and checks it may be asked about at all; records a
    /// refusal of a "never for agents" item.
    fn target(&self, client: &str, query: &str, field: &str) -> Result<Request, ToolError> {
        if query.trim().is_empty() || field.trim().is_empty() {
            return Err(ToolError::Invalid("name an item (its title or id) and a field".into()));
        }
        self.with_vault(|vault| {
            let id = vault.resolve(query, Scope::Live).map_err(vault_error)?;
            let item = vault.get(id).map_err(vault_error)?;
            if item.never_for_agents {
                self.record(vault, client, id, field, false);
                return Err(ToolError::NeverForAgents(format!(
                    "the user marked {:?} \"never for agents\": Tessera does not give it to AI agents",
                    item.title
                )));
            }
            if withheld(&item, field) {
                self.record(vault, client, id, field, false);
                return Err(ToolError::Refused(
                    "Tessera does not give SSH private keys to AI agents; use the key through \
                     Tessera's SSH agent (SSH_AUTH_SOCK), which asks the user before each signature"
                        .into(),
                ));
            }
            let has = match field {
                "password" => !item.password.is_empty(),
                "totp" | "otp" => item.otp.is_some(),
                "url" => !item.urls.is_empty(),
                f if BUILT_IN.contains(&f) => true,
                name => item.field(name).is_some(),
            };
            if !has {
                let available = field_names(&item).join(", ");
                return Err(ToolError::NoSuchField(format!(
                    "{:?} has no {field}; it has: {}",
                    item.title,
                    if available.is_empty() { "nothing to give" } else { &available }
                )));
            }
            Ok(Request { client: client.to_owned(), item: id, title: item.title.clone(), field: field.to_owned() })
        })
    }

    /// Asks (unless this session already has the item) and records a no.
    fn approve(&self, request: &Request) -> Result<(), ToolError> {
        let remembered = self.session.lock().unwrap_or_else(|p| p.into_inner()).contains(&request.item);
        let answer = if remembered { Approval::Session } else { self.approver.approve(request) };
        match answer {
            Approval::Once => Ok(()),
            Approval::Session => {
                self.session.lock().unwrap_or_else(|p| p.into_inner()).insert(request.item);
                Ok(())
            }
            Approval::Deny(why) => {
                // The vault may have locked while the question was open;
                // the refusal is recorded when it can be.
                let _ = self.vault.with_vault(|v| self.record(v, &request.client, request.item, &request.field, false));
                Err(ToolError::Refused(why))
            }
        }
    }
}

impl<V: VaultAccess, A: Approver> Tools for VaultTools<V, A> {
    fn search(&self, query: &str, limit: usize) -> Result<Vec<Found>, ToolError> {
        let limit = limit.clamp(1, MAX_RESULTS);
        self.with_vault(|vault| {
            let mut summaries = Vec::new();
            let mut fields = std::collections::HashMap::new();
            vault
                .each_item(Scope::Live, |item| {
                    if !item.never_for_agents {
                        summaries.push(item.summary());
                        fields.insert(item.id, field_names(item));
                    }
                })
                .map_err(vault_error)?;
            let index = SearchIndex::new(summaries);
            let hits = if query.trim().is_empty() { index.all().iter().collect() } else { index.search(query) };
            Ok(hits
                .into_iter()
                .take(limit)
                .map(|s| Found {
                    id: s.id.to_hex(),
                    title: s.title.clone(),
                    item_type: s.item_type.as_str().to_owned(),
                    username: s.username.clone(),
                    urls: s.urls.clone(),
                    folder: s.folder.clone(),
                    tags: s.tags.clone(),
                    fields: fields.remove(&s.id).unwrap_or_default(),
                })
                .collect())
        })
    }

    fn secret(&self, client: &str, item: &str, field: &str) -> Result<Secret, ToolError> {
        if matches!(field, "totp" | "otp") {
            return Err(ToolError::Invalid("for a one-time code, call get_totp".into()));
        }
        let request = self.target(client, item, field)?;
        self.approve(&request)?;
        self.with_vault(|vault| {
            let reference = Reference { item: request.item.to_hex(), field: request.field.clone() };
            let value = vault.read_reference(&reference).map_err(vault_error)?;
            self.record(vault, client, request.item, &request.field, true);
            Ok(Secret { item: request.item, title: request.title.clone(), field: request.field.clone(), value })
        })
    }

    fn totp(&self, client: &str, item: &str) -> Result<OneTimeCode, ToolError> {
        let request = self.target(client, item, "totp")?;
        self.approve(&request)?;
        self.with_vault(|vault| {
            let code = vault.otp_code(request.item, None).map_err(vault_error)?;
            self.record(vault, client, request.item, "totp", true);
            Ok(OneTimeCode { code: code.code.as_str().to_owned(), remaining_seconds: code.remaining.map(u64::from) })
        })
    }
}
