//! Agents in the app: the SSH agent that serves the vault's SSH keys, and
//! the socket `tessera mcp` relays AI agents' requests to. Both run the
//! engines of `tessera-agent` and `tessera-mcp` over this app's vault; this
//! module plugs in the app: the vault while unlocked, the questions to
//! the user (as `agent-prompt` events, answered by `agent_answer`), and
//! what locking does.
//!
//! - The SSH agent's socket (`$XDG_RUNTIME_DIR/tessera/ssh-agent.sock`) is
//!   open while the app runs and the setting is on, so `SSH_AUTH_SOCK`
//!   stays valid; it lists keys only while the vault is unlocked. Locking
//!   drops every connection, forgets every approval and refuses any
//!   signature still waiting for the user.
//! - The MCP relay's socket (`agents.sock`) is open while the app runs. A
//!   request while locked is answered "locked"; locking ends every session
//!   (and so every "for this session" approval).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};
use tessera_agent::agent::{Agent, AgentBackend, AgentKey, AgentServer, Decision, SignApproval};
use tessera_agent::peer::Process;
use tessera_core::{ItemId, ItemType, Vault};
use tessera_mcp::access::{Approval, Approver, Request, Tools, VaultAccess, VaultTools};
use tessera_mcp::relay::RelayServer;

use crate::desktop::Desktop;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::prompts::Prompts;

/// A question for the user (ui/API.md `AgentPrompt`). Holds no secret.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase", rename_all_fields = "camelCase")]
pub enum AgentPrompt {
    /// "Sign with KEY for PROCESS?"
    Ssh { id: u64, process: String, key: PromptKey },
    /// "An AI agent asks for FIELD of ITEM."
    Mcp { id: u64, client: String, process: String, item: PromptItem, field: String },
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptKey {
    pub id: String,
    pub title: String,
    pub fingerprint: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptItem {
    pub id: String,
    pub title: String,
}

/// The user's answer (ui/API.md `AgentDecision`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentDecision {
    Once,
    /// For this process (SSH), for this session (MCP).
    Session,
    Deny,
}

type AgentPrompts = Prompts<AgentPrompt, AgentDecision>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// --- the SSH agent ----------------------------------------------------------------------

/// What the SSH agent sees of the app.
pub struct AppKeys {
    app: AppHandle,
    prompts: Arc<AgentPrompts>,
    epoch: Arc<AtomicU64>,
    /// The keys for a generation of the item list.
    cached: Mutex<Option<(u64, Vec<AgentKey>)>>,
}

impl AppKeys {
    fn read_keys(vault: &mut Vault, summaries: &[tessera_core::ItemSummary]) -> Vec<AgentKey> {
        let mut keys = Vec::new();
        for summary in summaries.iter().filter(|s| s.item_type == ItemType::SshKey) {
            let Ok(item) = vault.get(summary.id) else { continue };
            if !item.ssh_agent {
                continue;
            }
            // An item whose key cannot be read is left out, not an error:
            // the item view says what is wrong with it.
            let Ok(private) = tessera_agent::keys::private_key(&item) else { continue };
            let mut public = private.public_key().clone();
            public.set_comment(&item.title);
            keys.push(AgentKey { item: item.id, title: item.title.clone(), public, approval: item.agent_approval });
        }
        keys
    }
}

impl AgentBackend for AppKeys {
    fn keys(&self) -> Vec<AgentKey> {
        let desktop = self.app.state::<Desktop>();
        let keys = desktop.with_unlocked(|vault, summaries, generation| {
            let mut cached = lock(&self.cached);
            match cached.as_ref() {
                Some((g, keys)) if *g == generation => keys.clone(),
                _ => {
                    let keys = Self::read_keys(vault, summaries);
                    *cached = Some((generation, keys.clone()));
                    keys
                }
            }
        });
        keys.unwrap_or_else(|| {
            *lock(&self.cached) = None;
            Vec::new()
        })
    }

    fn private_key(&self, item: ItemId) -> Option<tessera_agent::ssh_key::PrivateKey> {
        let desktop = self.app.state::<Desktop>();
        desktop
            .with_unlocked(|vault, _, _| {
                let item = vault.get(item).ok().filter(|i| i.ssh_agent && i.deleted.is_none())?;
                tessera_agent::keys::private_key(&item).ok()
            })
            .flatten()
    }

    fn approve(&self, request: &SignApproval) -> Decision {
        let key = PromptKey {
            id: request.key.item.to_hex(),
            title: request.key.title.clone(),
            fingerprint: request.key.public.fingerprint(tessera_agent::ssh_key::HashAlg::Sha256).to_string(),
        };
        let process = request.process.describe();
        match self.prompts.ask(&self.app, |id| AgentPrompt::Ssh { id, process, key }) {
            Some(AgentDecision::Once) => Decision::Once,
            Some(AgentDecision::Session) => Decision::ForProcess,
            _ => Decision::Deny,
        }
    }

    fn unlock_epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }
}

// --- the MCP relay ------------------------------------------------------------------------

/// The app's vault, for the MCP rules.
struct AppVault(AppHandle);

impl VaultAccess for AppVault {
    fn with_vault<R>(&self, f: impl FnOnce(&mut Vault) -> R) -> Option<R> {
        self.0.state::<Desktop>().with_unlocked(|vault, _, _| f(vault))
    }

    fn unavailable(&self) -> String {
        "Tessera is locked: ask the user to unlock it, then try again".into()
    }
}

/// The user, asked in a dialog, for one `tessera mcp` session.
struct AppApprover {
    app: AppHandle,
    prompts: Arc<AgentPrompts>,
    /// Who runs `tessera mcp` (the AI tool), for the dialog.
    process: String,
}

impl Approver for AppApprover {
    fn approve(&self, request: &Request) -> Approval {
        let prompt = |id| AgentPrompt::Mcp {
            id,
            client: request.client.clone(),
            process: self.process.clone(),
            item: PromptItem { id: request.item.to_hex(), title: request.title.clone() },
            field: request.field.clone(),
        };
        match self.prompts.ask(&self.app, prompt) {
            Some(AgentDecision::Once) => Approval::Once,
            Some(AgentDecision::Session) => Approval::Session,
            Some(AgentDecision::Deny) => Approval::Deny(format!("the user refused to give {:?}", request.title)),
            None => Approval::Deny(format!(
                "the user did not answer in Tessera (or it locked); {:?} was not given",
                request.title
            )),
        }
    }
}

// --- the state ------------------------------------------------------------------------------

/// Both agents' state, managed by Tauri.
pub struct Agents {
    prompts: Arc<AgentPrompts>,
    epoch: Arc<AtomicU64>,
    ssh: Arc<Agent<AppKeys>>,
    ssh_server: Mutex<Option<AgentServer>>,
    ssh_error: Mutex<Option<String>>,
    mcp_server: Mutex<Option<RelayServer>>,
}

impl Agents {
    pub fn new(app: &AppHandle) -> Agents {
        let prompts = Arc::new(Prompts::new("agent-prompt", "agent-prompt-closed"));
        let epoch = Arc::new(AtomicU64::new(1));
        let keys =
            AppKeys { app: app.clone(), prompts: prompts.clone(), epoch: epoch.clone(), cached: Mutex::new(None) };
        Agents {
            prompts,
            epoch,
            ssh: Arc::new(Agent::new(keys)),
            ssh_server: Mutex::new(None),
            ssh_error: Mutex::new(None),
            mcp_server: Mutex::new(None),
        }
    }

    /// Opens the SSH agent's socket (if not open). An error is kept for
    /// Settings and returned.
    pub fn start_ssh(&self) -> CommandResult<()> {
        let mut server = lock(&self.ssh_server);
        if server.is_some() {
            return Ok(());
        }
        let path = tessera_agent::agent::socket_path();
        match AgentServer::start(self.ssh.clone(), &path) {
            Ok(s) => {
                *server = Some(s);
                *lock(&self.ssh_error) = None;
                Ok(())
            }
            Err(e) => {
                let message = format!("Cannot open the SSH agent's socket {}: {e}", path.display());
                *lock(&self.ssh_error) = Some(message.clone());
                Err(CommandError::io(message))
            }
        }
    }

    /// Closes the SSH agent's socket.
    pub fn stop_ssh(&self) {
        if let Some(server) = lock(&self.ssh_server).take() {
            server.stop();
        }
        *lock(&self.ssh_error) = None;
    }

    /// Opens the socket `tessera mcp` relays to.
    fn start_mcp(&self, app: &AppHandle) {
        let (app, prompts) = (app.clone(), self.prompts.clone());
        let factory = Arc::new(move |peer: tessera_ipc::Peer| -> Box<dyn Tools> {
            let process = match Process::parent_of(peer.pid) {
                Some(parent) => format!("{} via tessera mcp", parent.describe()),
                None => format!("tessera mcp (pid {})", peer.pid),
            };
            let approver = AppApprover { app: app.clone(), prompts: prompts.clone(), process };
            Box::new(VaultTools::new(AppVault(app.clone()), approver))
        });
        match RelayServer::start(&tessera_mcp::relay::socket_path(), factory) {
            Ok(server) => *lock(&self.mcp_server) = Some(server),
            Err(e) => eprintln!("tessera-desktop: AI agents cannot reach Tessera (tessera mcp): {e}"),
        }
    }

    pub fn pending(&self) -> Vec<AgentPrompt> {
        self.prompts.pending()
    }

    pub fn answer(&self, id: u64, decision: Option<AgentDecision>) -> bool {
        self.prompts.answer(id, decision)
    }

    /// Stops both sockets (the app quits).
    pub fn stop(&self) {
        self.prompts.dismiss_all();
        self.stop_ssh();
        if let Some(server) = lock(&self.mcp_server).take() {
            server.stop();
        }
    }
}

/// At start: the MCP relay always, the SSH agent if the setting is on.
pub fn start(app: &AppHandle) {
    app.manage(Agents::new(app));
    resume(app);
}

/// Opens the sockets (again, after [`Agents::stop`]).
pub fn resume(app: &AppHandle) {
    let agents = app.state::<Agents>();
    agents.start_mcp(app);
    if app.state::<Desktop>().settings().ssh_agent {
        if let Err(e) = agents.start_ssh() {
            eprintln!("tessera-desktop: {}", e.message);
        }
    }
}

/// After the vault locks: no key is listed any more (the backend sees the
/// vault locked), connections and approvals are dropped, and every open
/// question ends refused — a signature waiting for the user fails.
pub fn on_lock(app: &AppHandle) {
    if let Some(agents) = app.try_state::<Agents>() {
        agents.prompts.dismiss_all();
        agents.ssh.forget_approvals();
        if let Some(server) = lock(&agents.ssh_server).as_ref() {
            server.drop_connections();
        }
        if let Some(server) = lock(&agents.mcp_server).as_ref() {
            server.end_sessions();
        }
    }
}

/// After the vault unlocks: "once per unlock" asks again.
pub fn on_unlock(app: &AppHandle) {
    if let Some(agents) = app.try_state::<Agents>() {
        agents.epoch.fetch_add(1, Ordering::SeqCst);
    }
}

/// The Settings switch.
pub fn set_ssh_enabled(app: &AppHandle, enabled: bool) -> CommandResult<()> {
    let agents = app.state::<Agents>();
    if enabled {
        agents.start_ssh()
    } else {
        agents.stop_ssh();
        Ok(())
    }
}

// --- Settings → SSH agent ---------------------------------------------------------------

/// ui/API.md `AgentStatus`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentStatus {
    pub enabled: bool,
    pub listening: bool,
    pub socket_path: String,
    pub error: Option<String>,
    pub reachable: bool,
    pub keys: Option<usize>,
    pub export_line: String,
    pub identity_agent_line: String,
    pub environment_uses_tessera: bool,
}

/// Whether an agent answers a key listing on `path` (what `ssh-add -l`
/// does first), within a second.
fn answers(path: &Path) -> bool {
    const REQUEST_IDENTITIES: u8 = 11;
    const IDENTITIES_ANSWER: u8 = 12;
    let Ok(mut stream) = UnixStream::connect(path) else { return false };
    let timeout = Some(Duration::from_secs(1));
    if stream.set_read_timeout(timeout).is_err() || stream.set_write_timeout(timeout).is_err() {
        return false;
    }
    if stream.write_all(&[0, 0, 0, 1, REQUEST_IDENTITIES]).is_err() {
        return false;
    }
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).is_ok() && head[4] == IDENTITIES_ANSWER
}

/// A path as a shell word.
fn shell_word(path: &str) -> String {
    if path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+:@".contains(&b)) {
        path.to_owned()
    } else {
        format!("'{}'", path.replace('\'', r"'\''"))
    }
}

pub fn status(app: &AppHandle) -> AgentStatus {
    let agents = app.state::<Agents>();
    let desktop = app.state::<Desktop>();
    let path = tessera_agent::agent::socket_path();
    let path_text = path.display().to_string();
    let listening = lock(&agents.ssh_server).is_some();
    let keys = desktop.is_unlocked().then(|| agents.ssh.backend().keys().len());
    let ours = std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| Path::new(&s) == path);
    AgentStatus {
        enabled: desktop.settings().ssh_agent,
        listening,
        error: lock(&agents.ssh_error).clone(),
        reachable: listening && answers(&path),
        keys,
        export_line: format!("export SSH_AUTH_SOCK={}", shell_word(&path_text)),
        identity_agent_line: format!("IdentityAgent \"{path_text}\""),
        environment_uses_tessera: ours,
        socket_path: path_text,
    }
}

// --- SSH keys in the editor -------------------------------------------------------------

/// ui/API.md `SshKeyFields`: what the editor puts in an ssh-key draft.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SshKeyFields {
    pub private_key: String,
    pub public_key: String,
    pub fingerprint: String,
    pub comment: String,
}

fn key_fields(key: &tessera_agent::ssh_key::PrivateKey) -> CommandResult<SshKeyFields> {
    let [private, public, fingerprint, comment] =
        tessera_agent::keys::fields(key).map_err(|e| CommandError::internal(e.to_string()))?;
    Ok(SshKeyFields {
        private_key: private.1.to_string(),
        public_key: public.1.to_string(),
        fingerprint: fingerprint.1.to_string(),
        comment: comment.1.to_string(),
    })
}

pub fn generate_key(kind: &str, comment: &str) -> CommandResult<SshKeyFields> {
    let kind: tessera_agent::keys::KeyKind =
        kind.parse().map_err(|e: tessera_agent::keys::KeyError| CommandError::invalid(e.to_string()))?;
    let key = tessera_agent::keys::generate(kind, comment.trim())
        .map_err(|e| CommandError::internal(format!("Cannot make the key: {e}")))?;
    key_fields(&key)
}

/// Largest key file the editor sends.
const MAX_KEY_FILE: usize = 256 * 1024;

pub fn import_key(content: &str, passphrase: Option<&str>) -> CommandResult<SshKeyFields> {
    use tessera_agent::keys::KeyError;
    if content.len() > MAX_KEY_FILE {
        return Err(CommandError::invalid("That file is too large to be a private key"));
    }
    let mut ask = || passphrase.map(|p| zeroize::Zeroizing::new(p.to_owned()));
    let key = tessera_agent::keys::import(content.as_bytes(), &mut ask).map_err(|e| match e {
        KeyError::NeedsPassphrase => {
            CommandError::new(ErrorKind::WrongPassword, "This key is protected by a passphrase; enter it")
        }
        KeyError::WrongPassphrase => {
            CommandError::new(ErrorKind::WrongPassword, "The passphrase does not open this key")
        }
        other => CommandError::invalid(other.to_string()),
    })?;
    key_fields(&key)
}

// --- commands -----------------------------------------------------------------------------

#[tauri::command]
pub async fn ssh_generate_key(app: AppHandle, kind: String, comment: String) -> CommandResult<SshKeyFields> {
    crate::commands::run(&app, false, move |_, _| generate_key(&kind, &comment)).await
}

#[tauri::command]
pub async fn ssh_import_key(
    app: AppHandle,
    content: String,
    passphrase: Option<String>,
) -> CommandResult<SshKeyFields> {
    let content = zeroize::Zeroizing::new(content);
    let passphrase = passphrase.map(zeroize::Zeroizing::new);
    crate::commands::run(&app, false, move |_, _| import_key(&content, passphrase.as_deref().map(String::as_str))).await
}

#[tauri::command]
pub async fn agent_status(app: AppHandle) -> CommandResult<AgentStatus> {
    crate::commands::run(&app, true, |_, app| Ok(status(app))).await
}

#[tauri::command]
pub async fn agent_prompts(app: AppHandle) -> CommandResult<Vec<AgentPrompt>> {
    crate::commands::run(&app, true, |_, app| Ok(app.state::<Agents>().pending())).await
}

#[tauri::command]
pub async fn agent_answer(app: AppHandle, id: u64, decision: Option<AgentDecision>) -> CommandResult<bool> {
    crate::commands::run(&app, false, move |_, app| Ok(app.state::<Agents>().answer(id, decision))).await
}
