//! Services that accept a connection and never answer: a Secret Service
//! that owns its D-Bus name and ignores every call, TCP ports (a TPM's
//! TCTI, a sync server) and a Unix socket (pcscd's) that accept and stay
//! silent. What Tessera must survive with a bounded wait.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tempfile::TempDir;

/// Accepts connections on a listener, holds them open and never reads or
/// writes; stops accepting on drop (the held connections close with it).
struct Silence {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Silence {
    /// Runs `accept` (non-blocking: `Ok(None)` when nobody is waiting)
    /// until dropped, keeping whatever it returns.
    fn hold<C: Send + 'static>(mut accept: impl FnMut() -> std::io::Result<Option<C>> + Send + 'static) -> Silence {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stopped.load(Ordering::SeqCst) {
                match accept() {
                    Ok(Some(c)) => held.push(c),
                    Ok(None) | Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Silence { stop, thread: Some(thread) }
    }
}

impl Drop for Silence {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn nonblocking<C>(r: std::io::Result<C>) -> std::io::Result<Option<C>> {
    match r {
        Ok(c) => Ok(Some(c)),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// Two adjacent loopback TCP ports, P and P + 1, that accept and never
/// answer: a TPM simulator's command and control ports, or a sync server.
pub struct SilentTcp {
    port: u16,
    _listeners: Vec<Silence>,
}

impl SilentTcp {
    /// Listens on a free port pair.
    pub fn start() -> SilentTcp {
        loop {
            let first = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
            let port = first.local_addr().expect("local address").port();
            let Some(second) = port.checked_add(1).and_then(|p| std::net::TcpListener::bind(("127.0.0.1", p)).ok())
            else {
                continue;
            };
            let listeners = [first, second]
                .into_iter()
                .map(|l| {
                    l.set_nonblocking(true).expect("a non-blocking listener");
                    Silence::hold(move || nonblocking(l.accept().map(|(s, _)| s)))
                })
                .collect();
            return SilentTcp { port, _listeners: listeners };
        }
    }

    /// The TCTI string for a "TPM" on these ports.
    pub fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    /// The URL of a "sync server" on the first port.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// A Unix socket that accepts and never answers: pcscd's, for a client
/// pointed at it with `$PCSCLITE_CSOCK_NAME`.
pub struct SilentUnixSocket {
    _dir: TempDir,
    path: PathBuf,
    _listener: Silence,
}

impl SilentUnixSocket {
    /// Listens on a socket in a temporary directory.
    pub fn start() -> SilentUnixSocket {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("pcscd.comm");
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind a Unix socket");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let silence = Silence::hold(move || nonblocking(listener.accept().map(|(s, _)| s)));
        SilentUnixSocket { _dir: dir, path, _listener: silence }
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A Secret Service that started and then stopped answering: a private
/// `dbus-daemon` on which a connection owns `org.freedesktop.secrets` but
/// serves no object, so every call to it waits (zbus drops method calls
/// that arrive on a connection without an object server).
pub struct SilentSecretService {
    dir: TempDir,
    bus: std::process::Child,
    address: String,
    _owner: zbus::blocking::Connection,
}

impl SilentSecretService {
    /// Starts the bus and takes the Secret Service's name on it.
    pub fn start() -> SilentSecretService {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir_all(dir.path().join("run")).expect("create a directory");
        let (bus, address) = crate::private_bus(dir.path());
        let owner = zbus::blocking::connection::Builder::address(address.as_str())
            .and_then(|b| b.name("org.freedesktop.secrets"))
            .and_then(|b| b.build())
            .unwrap_or_else(|e| panic!("cannot own org.freedesktop.secrets on the test bus: {e}"));
        SilentSecretService { dir, bus, address, _owner: owner }
    }

    /// Points `command` at this bus (and a home with nothing in it).
    pub fn env<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        crate::session_env(command, &self.address, self.dir.path())
    }
}

impl Drop for SilentSecretService {
    fn drop(&mut self) {
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}
