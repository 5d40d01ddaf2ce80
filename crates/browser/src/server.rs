//! The app's side of the socket: accepts host connections from this user,
//! serves each request on its own thread (a request waiting for the user
//! must not stop the extension's polling), and broadcasts the
//! `database-locked` / `database-unlocked` signals to every connection.

use std::io::{self, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::json;

use crate::protocol::{ErrorCode, ErrorReply};
use crate::service::{Backend, Peer, Service};
use tessera_ipc as socket;
use tessera_ipc::frame::{Frame, FrameError, read_frame, write_frame};

/// Most host connections served at once.
pub const MAX_CONNECTIONS: usize = 64;
/// Most requests of one connection in flight at once.
pub const MAX_IN_FLIGHT: usize = 32;

type Writer = Arc<Mutex<UnixStream>>;

/// A running server. Dropping it (or [`Server::stop`]) closes the socket
/// and every connection.
pub struct Server {
    path: PathBuf,
    /// The listening socket, kept to wake the accept loop when stopping
    /// (shutting it down makes a blocked `accept` return).
    listener: UnixListener,
    stopping: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<Writer>>>,
    accept: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Server {
    /// Binds `path` and serves `service` on it.
    pub fn start<B: Backend + 'static>(service: Arc<Service<B>>, path: &Path) -> io::Result<Server> {
        let listener = socket::bind(path)?;
        let accepting = listener.try_clone()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<Writer>>> = Arc::default();
        let accept = {
            let (stopping, connections) = (stopping.clone(), connections.clone());
            std::thread::Builder::new()
                .name("browser-accept".into())
                .spawn(move || accept_loop(accepting, service, stopping, connections))?
        };
        Ok(Server { path: path.to_path_buf(), listener, stopping, connections, accept: Some(accept) })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many hosts are connected.
    pub fn connected(&self) -> usize {
        lock(&self.connections).len()
    }

    /// Sends an unsolicited message (a signal) to every connected host.
    pub fn broadcast(&self, action: &str) {
        let body = serde_json::to_vec(&json!({ "action": action })).expect("JSON serialises");
        lock(&self.connections).retain(|w| write_frame(&mut *lock(w), &body).is_ok());
    }

    /// Stops accepting, closes every connection and removes the socket.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the accept loop, which sees the flag and ends (even if the
        // socket's file is already gone).
        let _ = socket::shutdown_listener(&self.listener);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        for w in lock(&self.connections).drain(..) {
            let _ = lock(&w).shutdown(std::net::Shutdown::Both);
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop<B: Backend + 'static>(
    listener: UnixListener,
    service: Arc<Service<B>>,
    stopping: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<Writer>>>,
) {
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // Out of file descriptors, say: do not spin.
            std::thread::sleep(std::time::Duration::from_millis(50));
            continue;
        };
        if !socket::peer_is_same_user(&stream) {
            // Say why, then hang up: nothing of the vault is reachable.
            refuse(
                stream,
                ErrorReply::with(
                    ErrorCode::AssociationFailed,
                    "Tessera serves only its own user's browsers; connection refused",
                ),
            );
            continue;
        }
        let Ok(writer) = stream.try_clone() else { continue };
        let writer: Writer = Arc::new(Mutex::new(writer));
        {
            let mut open = lock(&connections);
            if open.len() >= MAX_CONNECTIONS {
                refuse(stream, ErrorReply::with(ErrorCode::TimeoutOrNotConnected, "Too many browser connections"));
                continue;
            }
            open.push(writer.clone());
        }
        let (service, connections) = (service.clone(), connections.clone());
        let spawned = std::thread::Builder::new().name("browser-connection".into()).spawn(move || {
            serve_connection(stream, writer.clone(), service);
            lock(&connections).retain(|w| !Arc::ptr_eq(w, &writer));
        });
        if spawned.is_err() {
            continue;
        }
    }
}

/// Writes `why` and hangs up, on a thread of its own so the accept loop
/// never waits on a peer. What the peer sent is read and dropped first:
/// closing a socket with unread input resets it, and the peer would lose
/// the explanation.
fn refuse(mut stream: UnixStream, why: ErrorReply) {
    let _ = std::thread::Builder::new().name("browser-refuse".into()).spawn(move || {
        let _ = write_frame(&mut stream, &serde_json::to_vec(&why.to_json("", None)).unwrap_or_default());
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
        let _ = io::copy(&mut io::Read::take(&mut stream, 4 * tessera_ipc::frame::MAX_FRAME as u64), &mut io::sink());
    });
}

fn serve_connection<B: Backend + 'static>(mut stream: UnixStream, writer: Writer, service: Arc<Service<B>>) {
    let peer = Arc::new(Peer::default());
    let in_flight = Arc::new(AtomicUsize::new(0));
    loop {
        let body = match read_frame(&mut stream) {
            Ok(Frame::Message(body)) => body,
            Ok(Frame::TooLarge(len)) => {
                let e = ErrorReply::with(
                    ErrorCode::EmptyMessageReceived,
                    format!("A message of {len} bytes is over the 1 MiB limit; refused"),
                );
                reply(&writer, &serde_json::to_vec(&e.to_json("", None)).unwrap_or_default());
                continue;
            }
            Err(FrameError::Closed | FrameError::Truncated { .. } | FrameError::Io(_)) => break,
        };
        if in_flight.load(Ordering::SeqCst) >= MAX_IN_FLIGHT {
            let e = ErrorReply::with(ErrorCode::TimeoutOrNotConnected, "Too many requests at once; try again");
            let action = crate::protocol::Envelope::parse(&body).map(|e| e.action).unwrap_or_default();
            reply(&writer, &serde_json::to_vec(&e.to_json(&action, None)).unwrap_or_default());
            continue;
        }
        in_flight.fetch_add(1, Ordering::SeqCst);
        let (service, peer, writer, in_flight) = (service.clone(), peer.clone(), writer.clone(), in_flight.clone());
        let spawned = std::thread::Builder::new().name("browser-request".into()).spawn(move || {
            let answer = service.handle(&peer, &body);
            reply(&writer, &answer);
            in_flight.fetch_sub(1, Ordering::SeqCst);
        });
        if spawned.is_err() {
            break;
        }
    }
}

fn reply(writer: &Writer, body: &[u8]) {
    let mut w = lock(writer);
    if write_frame(&mut *w, body).is_err() {
        let _ = w.shutdown(std::net::Shutdown::Both);
    }
    let _ = w.flush();
}
