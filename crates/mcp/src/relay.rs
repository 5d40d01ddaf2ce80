//! `tessera mcp` and the app: the CLI process speaks MCP to the agent and
//! relays each tool call over the app's socket (`agents.sock`), where the
//! app runs [`crate::access::VaultTools`] with its own vault and asks the
//! user in a dialog. The CLI never holds the vault or a key.
//!
//! One connection per `tessera mcp` process, which is one client session:
//! "allow for this session" lasts as long as the connection. Requests are
//! answered one at a time, in order. Frames are [`tessera_ipc::frame`]'s;
//! requests and answers are JSON:
//!
//! ```text
//! → {"op":"search","query":"git","limit":20}
//! → {"op":"secret","client":"claude-code","item":"GitHub","field":"token"}
//! → {"op":"totp","client":"claude-code","item":"GitHub"}
//! ← {"ok": …}  or  {"error": {"kind": "refused", "message": "…"}}
//! ```

use std::io;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tessera_core::ItemId;
use tessera_ipc::Peer;
use tessera_ipc::frame::{Frame, FrameError, read_frame, write_frame};
use zeroize::Zeroizing;

use crate::access::{Found, OneTimeCode, Secret, ToolError, Tools};

/// The app's socket for `tessera mcp`, in Tessera's runtime directory.
pub fn socket_path() -> PathBuf {
    tessera_ipc::socket_path("agents.sock")
}

/// How long the CLI waits for an answer: the app's question to the user
/// times out after 120 s; this leaves room for that.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(150);
/// Most `tessera mcp` processes served at once.
const MAX_CONNECTIONS: usize = 32;

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum RelayRequest {
    Search { query: String, limit: usize },
    Secret { client: String, item: String, field: String },
    Totp { client: String, item: String },
}

#[derive(Deserialize)]
struct SecretReply {
    item: String,
    title: String,
    field: String,
    value: Zeroizing<String>,
}

/// The same, borrowed, for the app's side (so the value is not copied
/// into a `serde_json::Value` that would not be wiped).
#[derive(Serialize)]
struct SecretReplyRef<'a> {
    item: String,
    title: &'a str,
    field: &'a str,
    value: &'a str,
}

// --- the CLI's side ----------------------------------------------------------

/// [`Tools`] that ask the app.
pub struct Relay {
    path: PathBuf,
    connection: Mutex<Option<UnixStream>>,
}

impl Relay {
    /// Relays to the app's socket at `path` (connecting on first use, and
    /// again after the app restarts).
    pub fn new(path: PathBuf) -> Relay {
        Relay { path, connection: Mutex::new(None) }
    }

    /// Whether the app answers now.
    pub fn reachable(&self) -> bool {
        tessera_ipc::connect(&self.path).is_ok()
    }

    fn not_running(&self) -> ToolError {
        ToolError::Unavailable(
            "the Tessera app is not running: ask the user to open and unlock it (or to run \
             `tessera mcp --allow ITEM…`, which needs no app)"
                .into(),
        )
    }

    /// Sends `request` and decodes the answer's `ok` as `T`.
    fn call<T: for<'de> Deserialize<'de>>(&self, request: &RelayRequest) -> Result<T, ToolError> {
        let body = Zeroizing::new(serde_json::to_vec(request).map_err(|e| ToolError::Failed(e.to_string()))?);
        let mut slot = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        // One retry: a kept connection may have died with an app restart
        // (the session's approvals went with it, as they should).
        for attempt in 0..2 {
            if slot.is_none() {
                let stream = tessera_ipc::connect(&self.path).map_err(|_| self.not_running())?;
                stream.set_read_timeout(Some(ANSWER_TIMEOUT)).map_err(|e| ToolError::Failed(e.to_string()))?;
                *slot = Some(stream);
            }
            let stream = slot.as_mut().expect("connected above");
            if write_frame(stream, &body).is_err() {
                *slot = None;
                continue;
            }
            match read_frame(stream) {
                Ok(Frame::Message(answer)) => {
                    // Decoded straight into its type: a value never sits
                    // in a `serde_json::Value` that would not be wiped.
                    let answer = Zeroizing::new(answer);
                    let answer: Answer<T> = serde_json::from_slice(&answer).map_err(|_| {
                        ToolError::Failed("the Tessera app sent an answer this version cannot read".into())
                    })?;
                    return match answer {
                        Answer { error: Some(e), .. } => Err(e),
                        Answer { ok: Some(v), .. } => Ok(v),
                        _ => Err(ToolError::Failed("the Tessera app sent an empty answer".into())),
                    };
                }
                Ok(Frame::TooLarge(_)) => {
                    return Err(ToolError::Failed("the Tessera app's answer is too large".into()));
                }
                Err(FrameError::Io(e))
                    if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut =>
                {
                    *slot = None;
                    return Err(ToolError::Refused("the user did not answer in time".into()));
                }
                Err(_) if attempt == 0 => *slot = None,
                Err(_) => break,
            }
        }
        *slot = None;
        Err(self.not_running())
    }
}

#[derive(Deserialize)]
struct Answer<T> {
    ok: Option<T>,
    error: Option<ToolError>,
}

impl Tools for Relay {
    fn search(&self, query: &str, limit: usize) -> Result<Vec<Found>, ToolError> {
        self.call(&RelayRequest::Search { query: query.to_owned(), limit })
    }

    fn secret(&self, client: &str, item: &str, field: &str) -> Result<Secret, ToolError> {
        let request =
            RelayRequest::Secret { client: client.to_owned(), item: item.to_owned(), field: field.to_owned() };
        let reply: SecretReply = self.call(&request)?;
        let item = reply.item.parse::<ItemId>().map_err(|_| ToolError::Failed("bad item id from the app".into()))?;
        Ok(Secret { item, title: reply.title, field: reply.field, value: reply.value })
    }

    fn totp(&self, client: &str, item: &str) -> Result<OneTimeCode, ToolError> {
        self.call(&RelayRequest::Totp { client: client.to_owned(), item: item.to_owned() })
    }
}

// --- the app's side ----------------------------------------------------------

/// Makes the tools for one connection (one client session), knowing who
/// connected.
pub type SessionFactory = dyn Fn(Peer) -> Box<dyn Tools> + Send + Sync;

/// The app's socket for `tessera mcp`. Dropping it (or [`RelayServer::stop`])
/// closes the socket and every session.
pub struct RelayServer {
    path: PathBuf,
    listener: UnixListener,
    stopping: Arc<AtomicBool>,
    sessions: Arc<Mutex<Vec<UnixStream>>>,
    accept: Option<JoinHandle<()>>,
}

impl RelayServer {
    /// Binds `path` (mode 0600) and serves each connection with tools made
    /// by `factory`. Peers of another user are refused.
    pub fn start(path: &Path, factory: Arc<SessionFactory>) -> io::Result<RelayServer> {
        let listener = tessera_ipc::bind(path)?;
        let accepting = listener.try_clone()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let sessions: Arc<Mutex<Vec<UnixStream>>> = Arc::default();
        let accept = {
            let (stopping, sessions) = (stopping.clone(), sessions.clone());
            std::thread::Builder::new()
                .name("mcp-accept".into())
                .spawn(move || accept_loop(accepting, factory, stopping, sessions))?
        };
        Ok(RelayServer { path: path.to_path_buf(), listener, stopping, sessions, accept: Some(accept) })
    }

    /// Ends every session (their "for this session" approvals go with
    /// them), keeping the socket open: for when the vault locks.
    pub fn end_sessions(&self) {
        for s in self.sessions.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Stops accepting, ends every session and removes the socket.
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
        self.end_sessions();
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for RelayServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(
    listener: UnixListener,
    factory: Arc<SessionFactory>,
    stopping: Arc<AtomicBool>,
    sessions: Arc<Mutex<Vec<UnixStream>>>,
) {
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut stream) = stream else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        let peer = match Peer::of(&stream) {
            Ok(peer) if peer.is_same_user() => peer,
            _ => {
                let _ = reply(&mut stream, Err(ToolError::Refused("Tessera serves only its own user".into())));
                continue;
            }
        };
        {
            let mut open = sessions.lock().unwrap_or_else(|p| p.into_inner());
            if open.len() >= MAX_CONNECTIONS {
                let _ = reply(&mut stream, Err(ToolError::Failed("too many agent sessions at once".into())));
                continue;
            }
            match stream.try_clone() {
                Ok(s) => open.push(s),
                Err(_) => continue,
            }
        }
        let (factory, sessions) = (factory.clone(), sessions.clone());
        let _ = std::thread::Builder::new().name("mcp-session".into()).spawn(move || {
            let tools = factory(peer);
            serve_session(&mut stream, tools.as_ref());
            let mut open = sessions.lock().unwrap_or_else(|p| p.into_inner());
            // Forget this session's stream (compared by file descriptor).
            use std::os::fd::AsRawFd;
            let fd = stream.as_raw_fd();
            open.retain(|s| s.as_raw_fd() != fd);
        });
    }
}

fn serve_session(stream: &mut UnixStream, tools: &dyn Tools) {
    loop {
        let body = match read_frame(stream) {
            Ok(Frame::Message(body)) => Zeroizing::new(body),
            Ok(Frame::TooLarge(_)) => {
                if reply(stream, Err(ToolError::Invalid("request over 1 MiB".into()))).is_err() {
                    return;
                }
                continue;
            }
            Err(_) => return,
        };
        let answer = match serde_json::from_slice::<RelayRequest>(&body) {
            Err(_) => Err(ToolError::Invalid("not a request this version of Tessera knows".into())),
            Ok(RelayRequest::Secret { client, item, field }) => {
                let sent = match tools.secret(&client, &item, &field) {
                    Ok(s) => {
                        let reply = SecretReplyRef {
                            item: s.item.to_hex(),
                            title: &s.title,
                            field: &s.field,
                            value: s.value.as_str(),
                        };
                        let mut body = Zeroizing::new(Vec::with_capacity(256 + 6 * s.value.len()));
                        body.extend_from_slice(b"{\"ok\":");
                        let _ = serde_json::to_writer(&mut *body, &reply);
                        body.push(b'}');
                        write_frame(stream, &body)
                    }
                    Err(e) => reply(stream, Err(e)),
                };
                if sent.is_err() {
                    return;
                }
                continue;
            }
            Ok(RelayRequest::Search { query, limit }) => {
                tools.search(&query, limit).map(|found| serde_json::to_value(found).unwrap_or(Value::Null))
            }
            Ok(RelayRequest::Totp { client, item }) => {
                tools.totp(&client, &item).map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
            }
        };
        if reply(stream, answer).is_err() {
            return;
        }
    }
}

fn reply(stream: &mut UnixStream, answer: Result<Value, ToolError>) -> io::Result<()> {
    let value = match answer {
        Ok(v) => json!({ "ok": v }),
        Err(e) => json!({ "error": e }),
    };
    let body = Zeroizing::new(serde_json::to_vec(&value).unwrap_or_default());
    write_frame(stream, &body)
}
