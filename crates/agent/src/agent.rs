//! The SSH agent: OpenSSH's agent protocol (draft-miller-ssh-agent, the
//! messages from `ssh-agent-lib`) on a Unix socket, serving the vault's SSH
//! keys marked for the agent, only while the vault is unlocked, and signing
//! only after the user approved — naming the process that asks.
//!
//! Each connection is served on its own thread; messages over 256 KiB (as
//! OpenSSH's own agent) end the connection after a failure reply, an
//! unreadable or unknown message gets a failure reply, and a peer of
//! another user is refused at once. Adding or removing keys through the
//! protocol is refused: keys are items, changed in the vault.
//!
//! Approval, per key (`Item::agent_approval`): every signature (unless the
//! user allowed that process, by pid and start time, for its lifetime),
//! the first after each unlock, or never. A signature whose approval
//! arrives after the vault locked is refused: the key is gone.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use signature::Signer;
use ssh_agent_lib::proto::{Identity, Request, Response, SignRequest};
use ssh_encoding::{Decode, Encode};
use ssh_key::private::{EcdsaKeypair, KeypairData};
use ssh_key::{Algorithm, HashAlg, PrivateKey, PublicKey, Signature};
use tessera_core::{AgentApproval, ItemId};

use crate::peer::Process;

/// Largest message read (OpenSSH's `AGENT_MAX_LEN`).
pub const MAX_MESSAGE: usize = 256 * 1024;
/// The agent socket's file name in Tessera's runtime directory.
pub const SOCKET_NAME: &str = "ssh-agent.sock";

/// `SSH_AGENT_RSA_SHA2_256` and `…_512` (draft-miller-ssh-agent § 3.6.1).
const RSA_SHA2_256: u32 = 2;
const RSA_SHA2_512: u32 = 4;

/// The default agent socket: `$XDG_RUNTIME_DIR/tessera/ssh-agent.sock`.
pub fn socket_path() -> PathBuf {
    tessera_ipc::socket_path(SOCKET_NAME)
}

/// A key the agent offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentKey {
    /// The item holding it.
    pub item: ItemId,
    /// The item's title (the identity's comment).
    pub title: String,
    /// The public key.
    pub public: PublicKey,
    /// When to ask.
    pub approval: AgentApproval,
}

/// A signature waiting for the user.
#[derive(Clone, Debug)]
pub struct SignApproval {
    /// The key.
    pub key: AgentKey,
    /// The process asking.
    pub process: Process,
}

/// The user's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// This signature.
    Once,
    /// Every signature with this key by this process, while it runs.
    ForProcess,
    /// Refuse.
    Deny,
}

/// What the agent needs from around it (the app, or `tessera ssh-agent`).
pub trait AgentBackend: Send + Sync {
    /// The keys to offer now: `ssh-key` items marked for the agent. Empty
    /// while the vault is locked.
    fn keys(&self) -> Vec<AgentKey>;
    /// The private key of `item`, if it is still offered (`None` once the
    /// vault locked).
    fn private_key(&self, item: ItemId) -> Option<PrivateKey>;
    /// Asks the user; blocks until they answer (or it times out: Deny).
    fn approve(&self, request: &SignApproval) -> Decision;
    /// Changes at every unlock, so "once per unlock" asks again.
    fn unlock_epoch(&self) -> u64;
    /// A signature was made, or refused, for the record.
    fn signed(&self, _key: &AgentKey, _process: &Process, _allowed: bool) {}
}

/// The agent's state beside the backend: which processes were allowed,
/// which keys were approved this unlock.
pub struct Agent<B> {
    backend: B,
    /// (pid, start time, key) the user allowed for the process's life.
    processes: Mutex<HashSet<(i32, u64, ItemId)>>,
    /// Keys approved since unlock `epoch`.
    this_unlock: Mutex<(u64, HashSet<ItemId>)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Why a signature was refused (logged as a failure reply to the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No offered key matches (or the vault is locked).
    UnknownKey,
    /// The user said no (or did not answer).
    Denied,
    /// The vault locked before the signature was made.
    Locked,
    /// An RSA signature with SHA-1, or a key type the agent cannot use.
    Unsupported,
}

impl<B: AgentBackend> Agent<B> {
    /// An agent over `backend`.
    pub fn new(backend: B) -> Agent<B> {
        Agent { backend, processes: Mutex::default(), this_unlock: Mutex::default() }
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Forgets every approval (the vault locked).
    pub fn forget_approvals(&self) {
        lock(&self.processes).clear();
        lock(&self.this_unlock).1.clear();
    }

    /// Answers one request from process `pid`.
    pub fn handle(&self, request: Request, pid: i32) -> Response {
        match request {
            Request::RequestIdentities => Response::IdentitiesAnswer(
                self.backend
                    .keys()
                    .into_iter()
                    .map(|k| Identity { pubkey: k.public.key_data().clone(), comment: k.title })
                    .collect(),
            ),
            Request::SignRequest(sign) => match self.sign(&sign, pid) {
                Ok(signature) => Response::SignResponse(signature),
                Err(_) => Response::Failure,
            },
            // Keys are items: added, removed and locked in the vault.
            _ => Response::Failure,
        }
    }

    /// Signs `request.data` for process `pid`, after the approval the key
    /// asks for.
    pub fn sign(&self, request: &SignRequest, pid: i32) -> Result<Signature, Refused> {
        let key = self
            .backend
            .keys()
            .into_iter()
            .find(|k| k.public.key_data() == &request.pubkey)
            .ok_or(Refused::UnknownKey)?;
        let process = Process::of(pid);
        if !self.approved(&key, &process) {
            self.backend.signed(&key, &process, false);
            return Err(Refused::Denied);
        }
        // Fetched after the approval: a vault locked meanwhile has no key.
        let Some(private) = self.backend.private_key(key.item) else {
            self.backend.signed(&key, &process, false);
            return Err(Refused::Locked);
        };
        let signature = sign_with(&private, &request.data, request.flags);
        self.backend.signed(&key, &process, signature.is_ok());
        signature
    }

    fn approved(&self, key: &AgentKey, process: &Process) -> bool {
        let epoch = self.backend.unlock_epoch();
        match key.approval {
            AgentApproval::Never => return true,
            AgentApproval::OncePerUnlock => {
                let mut approved = lock(&self.this_unlock);
                if approved.0 != epoch {
                    *approved = (epoch, HashSet::new());
                }
                if approved.1.contains(&key.item) {
                    return true;
                }
            }
            AgentApproval::Every => {
                if lock(&self.processes).contains(&(process.pid, process.start_time, key.item)) {
                    return true;
                }
            }
        }
        let decision = self.backend.approve(&SignApproval { key: key.clone(), process: process.clone() });
        if decision == Decision::Deny {
            return false;
        }
        if self.backend.unlock_epoch() != epoch {
            // Approved for an unlock that has ended.
            return false;
        }
        match key.approval {
            AgentApproval::OncePerUnlock => {
                lock(&self.this_unlock).1.insert(key.item);
            }
            _ if decision == Decision::ForProcess => {
                lock(&self.processes).insert((process.pid, process.start_time, key.item));
            }
            _ => {}
        }
        true
    }
}

/// Signs `data` with `key`; RSA with the hash the flags ask for (SHA-1 is
/// refused: OpenSSH stopped using it).
pub fn sign_with(key: &PrivateKey, data: &[u8], flags: u32) -> Result<Signature, Refused> {
    match key.key_data() {
        KeypairData::Rsa(keypair) => {
            let (alg, hash) = if flags & RSA_SHA2_512 != 0 {
                (&ring::signature::RSA_PKCS1_SHA512, HashAlg::Sha512)
            } else if flags & RSA_SHA2_256 != 0 {
                (&ring::signature::RSA_PKCS1_SHA256, HashAlg::Sha256)
            } else {
                return Err(Refused::Unsupported);
            };
            let pair = ring_rsa_key(keypair)?;
            let mut bytes = vec![0u8; pair.public().modulus_len()];
            pair.sign(alg, &ring::rand::SystemRandom::new(), data, &mut bytes).map_err(|_| Refused::Unsupported)?;
            Signature::new(Algorithm::Rsa { hash: Some(hash) }, bytes).map_err(|_| Refused::Unsupported)
        }
        KeypairData::Ecdsa(EcdsaKeypair::NistP256 { public, private }) => {
            let rng = ring::rand::SystemRandom::new();
            let pair = ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                private.as_slice(),
                public.as_bytes(),
                &rng,
            )
            .map_err(|_| Refused::Unsupported)?;
            let fixed = pair.sign(&rng, data).map_err(|_| Refused::Unsupported)?;
            let signature = p256::ecdsa::Signature::from_slice(fixed.as_ref()).map_err(|_| Refused::Unsupported)?;
            Signature::try_from(signature).map_err(|_| Refused::Unsupported)
        }
        _ => key.try_sign(data).map_err(|_| Refused::Unsupported),
    }
}

/// ring's key from ssh-key's: the `rsa` crate completes the CRT values
/// (built from the components here: ssh-key 0.6.7's own conversion passes
/// the first prime twice and fails) and writes PKCS#1 DER, which ring
/// reads. ring signs in constant time about twice as fast as the `rsa`
/// crate, as fast as OpenSSH's agent (OpenSSL).
fn ring_rsa_key(k: &ssh_key::private::RsaKeypair) -> Result<ring::signature::RsaKeyPair, Refused> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let big = |m: &ssh_key::Mpint| m.as_positive_bytes().map(rsa::BigUint::from_bytes_be).ok_or(Refused::Unsupported);
    let key = rsa::RsaPrivateKey::from_components(
        big(&k.public.n)?,
        big(&k.public.e)?,
        big(&k.private.d)?,
        vec![big(&k.private.p)?, big(&k.private.q)?],
    )
    .map_err(|_| Refused::Unsupported)?;
    let der = key.to_pkcs1_der().map_err(|_| Refused::Unsupported)?;
    ring::signature::RsaKeyPair::from_der(der.as_bytes()).map_err(|_| Refused::Unsupported)
}

// --- the socket ---------------------------------------------------------------------

/// A running agent socket. Dropping it (or [`AgentServer::stop`]) closes
/// the socket and every connection.
pub struct AgentServer {
    path: PathBuf,
    listener: UnixListener,
    stopping: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<UnixStream>>>,
    accept: Option<JoinHandle<()>>,
}

impl AgentServer {
    /// Binds `path` (0600, in a private directory) and serves `agent`.
    pub fn start<B: AgentBackend + 'static>(agent: Arc<Agent<B>>, path: &Path) -> io::Result<AgentServer> {
        let listener = tessera_ipc::bind(path)?;
        let accepting = listener.try_clone()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<UnixStream>>> = Arc::default();
        let accept = {
            let (stopping, connections) = (stopping.clone(), connections.clone());
            std::thread::Builder::new()
                .name("ssh-agent-accept".into())
                .spawn(move || accept_loop(accepting, agent, stopping, connections))?
        };
        Ok(AgentServer { path: path.to_path_buf(), listener, stopping, connections, accept: Some(accept) })
    }

    /// The socket's path (what `SSH_AUTH_SOCK` names).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Ends every connection now (the vault locked: a client waiting for
    /// a signature gets nothing), and keeps listening.
    pub fn drop_connections(&self) {
        for c in lock(&self.connections).drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Stops: closes the socket and every connection, removes the file.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        let _ = tessera_ipc::shutdown_listener(&self.listener);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        self.drop_connections();
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for AgentServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop<B: AgentBackend + 'static>(
    listener: UnixListener,
    agent: Arc<Agent<B>>,
    stopping: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<UnixStream>>>,
) {
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut stream) = stream else {
            std::thread::sleep(std::time::Duration::from_millis(50));
            continue;
        };
        let peer = match tessera_ipc::Peer::of(&stream) {
            Ok(p) if p.is_same_user() => p,
            _ => {
                // Another user's process: one failure, then hang up.
                let _ = write_response(&mut stream, &Response::Failure);
                continue;
            }
        };
        if let Ok(clone) = stream.try_clone() {
            lock(&connections).push(clone);
        }
        let agent = agent.clone();
        let _ = std::thread::Builder::new()
            .name("ssh-agent-connection".into())
            .spawn(move || serve_connection(stream, &agent, peer.pid));
    }
}

fn serve_connection<B: AgentBackend>(mut stream: UnixStream, agent: &Agent<B>, pid: i32) {
    loop {
        let mut len = [0u8; 4];
        if stream.read_exact(&mut len).is_err() {
            return;
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_MESSAGE || len == 0 {
            // As OpenSSH's agent: a message that large is an attack or a
            // bug; answer failure and hang up.
            let _ = write_response(&mut stream, &Response::Failure);
            return;
        }
        let mut body = vec![0u8; len];
        if stream.read_exact(&mut body).is_err() {
            return;
        }
        let response = match Request::decode(&mut body.as_slice()) {
            Ok(request) => agent.handle(request, pid),
            Err(_) => Response::Failure,
        };
        zeroize::Zeroize::zeroize(&mut body);
        if write_response(&mut stream, &response).is_err() {
            return;
        }
    }
}

fn write_response(stream: &mut UnixStream, response: &Response) -> io::Result<()> {
    let bad = |e: ssh_encoding::Error| io::Error::other(e.to_string());
    let len = response.encoded_len().map_err(bad)?;
    let mut out = Vec::with_capacity(4 + len);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    response.encode(&mut out).map_err(bad)?;
    stream.write_all(&out)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyKind, generate};
    use signature::Verifier;

    #[test]
    fn every_key_type_signs_and_verifies_rsa_with_the_hash_asked_for() {
        for kind in KeyKind::ALL {
            let key = generate(kind, "t").unwrap();
            let flags = if kind == KeyKind::Rsa3072 { RSA_SHA2_512 } else { 0 };
            let sig = sign_with(&key, b"data", flags).unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
            key.public_key().key_data().verify(b"data", &sig).unwrap();
        }
        let rsa = generate(KeyKind::Rsa3072, "t").unwrap();
        let sig = sign_with(&rsa, b"data", RSA_SHA2_256).unwrap();
        assert_eq!(sig.algorithm(), Algorithm::Rsa { hash: Some(HashAlg::Sha256) });
        rsa.public_key().key_data().verify(b"data", &sig).unwrap();
        assert_eq!(sign_with(&rsa, b"data", 0).unwrap_err(), Refused::Unsupported, "no SHA-1");
    }
}
