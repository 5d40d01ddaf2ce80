//! # tessera-ipc
//!
//! Where Tessera's integrations listen, and who may talk to them: the
//! browser extension's host (`browser.sock`), the SSH agent
//! (`ssh-agent.sock`), AI agents' MCP server asking the app (`agents.sock`);
//! and the length-prefixed JSON [`frame`]s they speak.
//!
//! Sockets live in `$XDG_RUNTIME_DIR/tessera/`; a process started without
//! that variable (MCP clients start servers with a minimal environment)
//! finds the same place at `/run/user/UID/tessera/`, the directory logind
//! makes for the variable; with neither, `/tmp/tessera-UID/`. It is a
//! directory of mode 0700 owned by the user; each socket is mode 0600, bound under a temporary name and
//! renamed into place so it is never reachable with looser permissions.
//! Each side checks the other's user id with `SO_PEERCRED` and hangs up on
//! anyone else: a process of another user reaches nothing, even if
//! permissions were loosened.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod frame;

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// Tessera's directory for sockets: `$XDG_RUNTIME_DIR/tessera`; without
/// the variable, `/run/user/UID/tessera` when that runtime directory exists
/// and is the user's; else `/tmp/tessera-UID`.
pub fn runtime_dir() -> PathBuf {
    let uid = rustix::process::geteuid().as_raw();
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("tessera");
    }
    let logind = PathBuf::from(format!("/run/user/{uid}"));
    match std::fs::metadata(&logind) {
        Ok(m) if m.is_dir() && m.uid() == uid && m.mode() & 0o077 == 0 => logind.join("tessera"),
        _ => std::env::temp_dir().join(format!("tessera-{uid}")),
    }
}

/// The path of socket `name` in the runtime directory.
pub fn socket_path(name: &str) -> PathBuf {
    runtime_dir().join(name)
}

/// Makes `dir` (mode 0700) if needed and checks it is ours and private:
/// a directory someone else made (in `/tmp`, say) is refused.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    match std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() || meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} is not a directory of this user", dir.display()),
        ));
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Binds the socket at `path`: mode 0600 in a private directory. A socket
/// left by an app that died is replaced; one another app still serves is
/// not (`AddrInUse`).
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        private_dir(dir)?;
    }
    if std::fs::symlink_metadata(path).is_ok() {
        if UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("another Tessera is already serving at {}", path.display()),
            ));
        }
        std::fs::remove_file(path)?;
    }
    // Bind under a umask-proof temporary name, tighten it, then move it in
    // place, so the socket is never reachable with looser permissions.
    let temp = path.with_extension(format!("{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let listener = UnixListener::bind(&temp)?;
    std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o600))?;
    std::fs::rename(&temp, path)?;
    Ok(listener)
}

/// The peer's user id and process id, from `SO_PEERCRED`.
pub fn peer(stream: &UnixStream) -> io::Result<(u32, i32)> {
    let cred = rustix::net::sockopt::socket_peercred(stream)?;
    Ok((cred.uid.as_raw(), cred.pid.as_raw_nonzero().get()))
}

/// Whether the peer runs as this process's user.
pub fn peer_is_same_user(stream: &UnixStream) -> bool {
    peer(stream).is_ok_and(|(uid, _)| uid == rustix::process::geteuid().as_raw())
}

/// Connects to the app's socket and checks the app runs as this user.
pub fn connect(path: &Path) -> io::Result<UnixStream> {
    let stream = UnixStream::connect(path)?;
    if !peer_is_same_user(&stream) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} is served by another user's process; not talking to it", path.display()),
        ));
    }
    Ok(stream)
}

/// Who is on the other end of a connection, from `SO_PEERCRED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    /// The peer's user id.
    pub uid: u32,
    /// The peer's process id (when it connected).
    pub pid: i32,
}

impl Peer {
    /// The peer of `stream`.
    pub fn of(stream: &UnixStream) -> io::Result<Peer> {
        let (uid, pid) = peer(stream)?;
        Ok(Peer { uid, pid })
    }

    /// Whether the peer runs as this process's user.
    pub fn is_same_user(&self) -> bool {
        self.uid == rustix::process::geteuid().as_raw()
    }
}

/// Wakes a thread blocked in `accept` on `listener` (the call returns an
/// error), so a server can stop even when its socket file is gone.
pub fn shutdown_listener(listener: &UnixListener) -> io::Result<()> {
    rustix::net::shutdown(listener, rustix::net::Shutdown::Both).map_err(io::Error::from)
}
