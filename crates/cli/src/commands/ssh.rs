//! `ssh public` and `ssh-agent`: an SSH key item's `authorized_keys` line,
//! and the vault's SSH keys served as an SSH agent without the desktop app
//! (for servers and scripts), asking on the terminal before each signature
//! or, with `--no-confirm`, not at all.

use std::io::{BufRead, BufReader, Write};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tessera_agent::agent::{Agent, AgentBackend, AgentKey, AgentServer, Decision, SignApproval};
use tessera_agent::peer::Process;
use tessera_agent::ssh_key::PrivateKey;
use tessera_core::{AgentApproval, ItemId, ItemType, Scope, Vault};

use crate::cli::{SshAgentArgs, SshCommand};
use crate::exit::{CliResult, Failure};
use crate::output::Out;
use crate::session::Session;

/// How long the key list may be reused before the vault is read again
/// (another process may have added or changed a key).
const KEYS_FRESH_FOR: Duration = Duration::from_secs(2);
/// How long a terminal question waits before it counts as "no".
const ASK_TIMEOUT: Duration = Duration::from_secs(60);

pub fn ssh(session: &mut Session, command: &SshCommand, json: bool, out: &mut Out) -> CliResult {
    match command {
        SshCommand::Public { item } => {
            let vault = session.unlock()?;
            let id = vault.resolve(item, Scope::Live)?;
            let item = vault.get(id)?;
            let line = tessera_agent::keys::public_line(&item).map_err(Failure::usage)?;
            if json {
                out.json(&serde_json::json!({ "id": id.to_hex(), "public_key": line }));
            } else {
                out.line(line);
            }
            Ok(())
        }
    }
}

/// The vault, for the agent, in this process.
struct VaultKeys {
    vault: Mutex<Vault>,
    cached: Mutex<Option<(Instant, Vec<AgentKey>)>>,
    /// `None`: sign without asking (`--no-confirm`).
    terminal: Option<Mutex<std::fs::File>>,
}

impl VaultKeys {
    fn read_keys(&self) -> Vec<AgentKey> {
        let vault = self.vault.lock().unwrap_or_else(|p| p.into_inner());
        let Ok(summaries) = vault.summaries(Scope::Live) else { return Vec::new() };
        summaries
            .iter()
            .filter(|s| s.item_type == ItemType::SshKey)
            .filter_map(|s| {
                let item = vault.get(s.id).ok()?;
                if !item.ssh_agent {
                    return None;
                }
                let key = tessera_agent::keys::private_key(&item).ok()?;
                Some(AgentKey {
                    item: item.id,
                    title: item.title.clone(),
                    public: key.public_key().clone(),
                    approval: item.agent_approval,
                })
            })
            .collect()
    }

    /// Asks on the terminal; no answer within a minute is "no".
    fn ask(&self, terminal: &Mutex<std::fs::File>, request: &SignApproval) -> Decision {
        let mut tty = terminal.lock().unwrap_or_else(|p| p.into_inner());
        let question = format!(
            "\ntessera ssh-agent: {} wants to sign with {:?} ({}).\nAllow [o]nce, for this [p]rocess, or [N]o? ",
            request.process.describe(),
            request.key.title,
            request.key.public.fingerprint(tessera_agent::ssh_key::HashAlg::Sha256),
        );
        if tty.write_all(question.as_bytes()).and_then(|()| tty.flush()).is_err() {
            return Decision::Deny;
        }
        let Ok(reader) = tty.try_clone() else { return Decision::Deny };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(reader).read_line(&mut line);
            let _ = tx.send(line);
        });
        let answer = rx.recv_timeout(ASK_TIMEOUT).unwrap_or_default();
        let decision = match answer.trim().to_ascii_lowercase().as_str() {
            "o" | "once" | "y" | "yes" => Decision::Once,
            "p" | "process" => Decision::ForProcess,
            _ => Decision::Deny,
        };
        let _ = writeln!(tty, "{}", if decision == Decision::Deny { "Refused." } else { "Allowed." });
        decision
    }
}

impl AgentBackend for VaultKeys {
    fn keys(&self) -> Vec<AgentKey> {
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, keys)) = cached.as_ref() {
            if at.elapsed() < KEYS_FRESH_FOR {
                return keys.clone();
            }
        }
        let keys = self.read_keys();
        *cached = Some((Instant::now(), keys.clone()));
        keys
    }

    fn private_key(&self, item: ItemId) -> Option<PrivateKey> {
        let vault = self.vault.lock().unwrap_or_else(|p| p.into_inner());
        let item = vault.get(item).ok()?;
        item.ssh_agent.then(|| tessera_agent::keys::private_key(&item).ok()).flatten()
    }

    fn approve(&self, request: &SignApproval) -> Decision {
        match &self.terminal {
            None => Decision::Once,
            Some(tty) => self.ask(tty, request),
        }
    }

    fn unlock_epoch(&self) -> u64 {
        1
    }

    fn signed(&self, key: &AgentKey, process: &Process, allowed: bool) {
        let what = if allowed { "signed with" } else { "refused to sign with" };
        eprintln!("tessera ssh-agent: {what} {:?} for {}", key.title, process.describe());
    }
}

pub fn ssh_agent(session: &mut Session, args: &SshAgentArgs) -> CliResult {
    let terminal = if args.no_confirm {
        None
    } else {
        let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|_| {
            Failure::usage(
                "tessera ssh-agent asks on the terminal before each signature, and there is no terminal: \
                 run it with --no-confirm to sign without asking (keys set to ask \"never\" never ask)",
            )
        })?;
        Some(Mutex::new(tty))
    };
    let vault = session.unlock()?;
    let backend = VaultKeys { vault: Mutex::new(vault), cached: Mutex::new(None), terminal };
    let count = backend.keys().len();
    let agent = Arc::new(Agent::new(backend));
    let path = args.socket.clone().unwrap_or_else(tessera_agent::agent::socket_path);
    let server = AgentServer::start(agent.clone(), &path)
        .map_err(|e| Failure::other(format!("cannot serve the SSH agent at {}: {e}", path.display())))?;
    // As ssh-agent prints it, for `eval "$(tessera ssh-agent …)"`-style use;
    // the rest goes to stderr.
    println!("SSH_AUTH_SOCK={}; export SSH_AUTH_SOCK;", shell_quote(&path.display().to_string()));
    let _ = std::io::stdout().flush();
    eprintln!(
        "tessera ssh-agent: serving {count} key(s) at {} ({}); Ctrl+C to stop",
        path.display(),
        if args.no_confirm { "signing without asking" } else { "asking here before each signature" }
    );
    if args.no_confirm {
        let asking = agent.backend().keys().iter().filter(|k| k.approval != AgentApproval::Never).count();
        if asking > 0 {
            eprintln!("tessera ssh-agent: --no-confirm: {asking} key(s) set to ask will sign without asking");
        }
    }
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])
        .map_err(|e| Failure::other(format!("cannot watch for Ctrl+C: {e}")))?;
    signals.forever().next();
    server.stop();
    eprintln!("tessera ssh-agent: stopped");
    Ok(())
}

/// Quotes a path for a POSIX shell when it needs it.
fn shell_quote(s: &str) -> String {
    if s.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+:@".contains(&b)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
