//! The X11 side: one bounded connection to the display, the focused
//! window (its title and owner), and typing into it through the XTEST
//! extension with x11rb's pure-Rust connection (no C library); how keys
//! are chosen and borrowed is in [`keyboard`].
//!
//! Every request is bounded: the connection's socket waits at most
//! [`X_TIMEOUT`] for the server, whatever x11rb asks of it.

use std::io::IoSlice;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use x11rb::connection::{Connection, RequestConnection};
use x11rb::errors::{ConnectionError, ReplyError};
use x11rb::protocol::res::{self, ClientIdMask, ClientIdSpec};
use x11rb::protocol::xproto::{self, AtomEnum, ConnectionExt as _, Keycode, Window};
use x11rb::protocol::xtest::{self, ConnectionExt as _};
use x11rb::rust_connection::{DefaultStream, PollMode, RustConnection, Stream};
use x11rb::utils::RawFdContainer;

use crate::WindowInfo;
use crate::error::{AutoTypeError, ConnectError, Unavailable};
use crate::sequence::Action;

mod keyboard;

use keyboard::Keyboard;

/// The longest wait for the X server on any one read or write.
pub(crate) const X_TIMEOUT: Duration = Duration::from_secs(2);

/// How long to wait for the user to let go of the shortcut's modifiers
/// before releasing them ourselves (a held Ctrl would turn typed text into
/// commands).
pub(crate) const MODIFIER_WAIT: Duration = Duration::from_millis(1000);

/// How long the target window has to get the focus back (after a chooser
/// dialog closed, say) before typing is refused.
pub(crate) const FOCUS_WAIT: Duration = Duration::from_millis(1000);

/// How deep to walk up from the focus window for a title or a pid.
const MAX_ANCESTORS: usize = 16;

/// The X socket, with every wait bounded by [`X_TIMEOUT`]: x11rb's own
/// stream polls without a timeout, so a server that stops answering would
/// hang the caller (the app's shortcut handler) for good.
pub(crate) struct BoundedStream {
    inner: DefaultStream,
}

impl Stream for BoundedStream {
    fn poll(&self, mode: PollMode) -> std::io::Result<()> {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let mut flags = PollFlags::empty();
        if mode.readable() {
            flags |= PollFlags::IN;
        }
        if mode.writable() {
            flags |= PollFlags::OUT;
        }
        let deadline = Instant::now() + X_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the X server did not answer"));
            }
            let timeout = Timespec::try_from(left).unwrap_or(Timespec { tv_sec: 2, tv_nsec: 0 });
            let mut fds = [PollFd::from_borrowed_fd(self.inner.as_fd(), flags)];
            match poll(&mut fds, Some(&timeout)) {
                Ok(0) => continue,
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn read(&self, buf: &mut [u8], fd_storage: &mut Vec<RawFdContainer>) -> std::io::Result<usize> {
        self.inner.read(buf, fd_storage)
    }

    fn write(&self, buf: &[u8], fds: &mut Vec<RawFdContainer>) -> std::io::Result<usize> {
        self.inner.write(buf, fds)
    }

    fn write_vectored(&self, bufs: &[IoSlice<'_>], fds: &mut Vec<RawFdContainer>) -> std::io::Result<usize> {
        self.inner.write_vectored(bufs, fds)
    }
}

type Conn = RustConnection<BoundedStream>;

/// Turns x11rb's errors into ours, naming what we were doing.
trait Doing<T> {
    fn doing(self, what: &'static str) -> Result<T, AutoTypeError>;
}

fn from_connection(e: &ConnectionError, doing: &'static str) -> AutoTypeError {
    match e {
        ConnectionError::IoError(io) if io.kind() == std::io::ErrorKind::TimedOut => AutoTypeError::TimedOut { doing },
        e => AutoTypeError::X11 { doing, reason: e.to_string() },
    }
}

impl<T> Doing<T> for Result<T, ConnectionError> {
    fn doing(self, what: &'static str) -> Result<T, AutoTypeError> {
        self.map_err(|e| from_connection(&e, what))
    }
}

impl<T> Doing<T> for Result<T, ReplyError> {
    fn doing(self, what: &'static str) -> Result<T, AutoTypeError> {
        self.map_err(|e| match e {
            ReplyError::ConnectionError(e) => from_connection(&e, what),
            ReplyError::X11Error(e) => AutoTypeError::X11 { doing: what, reason: format!("{:?}", e.error_kind) },
        })
    }
}

struct Atoms {
    net_active_window: xproto::Atom,
    net_wm_name: xproto::Atom,
    net_wm_pid: xproto::Atom,
    utf8_string: xproto::Atom,
}

/// One connection to an X server that has XTEST.
pub(crate) struct Display {
    conn: Conn,
    root: Window,
    atoms: Atoms,
    has_res: bool,
}

impl Display {
    /// Connects to display `name` (`:0`, `host:1.0`), with the X
    /// authority from `$XAUTHORITY` as Xlib would.
    pub(crate) fn open(name: &str) -> Result<Display, ConnectError> {
        let fail = |reason: String| ConnectError::Connect { display: name.to_owned(), reason };
        let parsed = x11rb::reexports::x11rb_protocol::parse_display::parse_display(Some(name))
            .map_err(|e| fail(e.to_string()))?;
        // x11rb adds the display number to TCP port 6000 without checking.
        if parsed.display > u16::MAX - 6000 {
            return Err(fail(format!("display number {} is out of range", parsed.display)));
        }
        let screen = usize::from(parsed.screen);
        let mut last = String::from("no address to connect to");
        let mut conn = None;
        for addr in parsed.connect_instruction() {
            match DefaultStream::connect(&addr) {
                Ok((stream, (family, address))) => {
                    let (auth_name, auth_data) =
                        x11rb::reexports::x11rb_protocol::xauth::get_auth(family, &address, parsed.display)
                            .ok()
                            .flatten()
                            .unwrap_or_default();
                    let stream = BoundedStream { inner: stream };
                    conn = Some(
                        RustConnection::connect_to_stream_with_auth_info(stream, screen, auth_name, auth_data)
                            .map_err(|e| fail(e.to_string()))?,
                    );
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        let conn = conn.ok_or_else(|| fail(last))?;
        let root = conn.setup().roots.get(screen).map(|s| s.root).ok_or_else(|| fail(format!("no screen {screen}")))?;
        let present = |name: &'static str| -> Result<bool, ConnectError> {
            conn.extension_information(name)
                .map(|info| info.is_some())
                .map_err(|e| fail(format!("asking for the {name} extension: {e}")))
        };
        if !present(xtest::X11_EXTENSION_NAME)? {
            return Err(Unavailable::NoXTest.into());
        }
        // Xwayland has XTEST too, but its events reach only X clients and
        // its idea of the focus says nothing about Wayland windows:
        // typing there could land in a window the user is not looking at.
        if present("XWAYLAND")? {
            return Err(Unavailable::Wayland.into());
        }
        let has_res = present(res::X11_EXTENSION_NAME)?;
        let intern = |name: &[u8]| -> Result<xproto::Atom, ConnectError> {
            conn.intern_atom(false, name)
                .map_err(|e| fail(e.to_string()))?
                .reply()
                .map(|r| r.atom)
                .map_err(|e| fail(e.to_string()))
        };
        let atoms = Atoms {
            net_active_window: intern(b"_NET_ACTIVE_WINDOW")?,
            net_wm_name: intern(b"_NET_WM_NAME")?,
            net_wm_pid: intern(b"_NET_WM_PID")?,
            utf8_string: intern(b"UTF8_STRING")?,
        };
        Ok(Display { conn, root, atoms, has_res })
    }

    /// The window that has the keyboard focus: `_NET_ACTIVE_WINDOW` when a
    /// window manager sets it, else the X input focus; with its title and
    /// process id.
    pub(crate) fn focused_window(&self) -> Result<WindowInfo, AutoTypeError> {
        let window = self.focus_candidate()?;
        let mut titled = None;
        let mut pid = None;
        for w in self.ancestry(window)? {
            if titled.is_none() {
                if let Some(title) = self.title(w)? {
                    titled = Some((w, title));
                }
            }
            if pid.is_none() {
                pid = self.cardinal(w, self.atoms.net_wm_pid)?;
            }
            if titled.is_some() && pid.is_some() {
                break;
            }
        }
        let (id, title) = titled.unwrap_or((window, String::new()));
        let pid = match pid {
            Some(pid) => Some(pid),
            None => self.client_pid(window)?,
        };
        Ok(WindowInfo { id, title, pid })
    }

    fn focus_candidate(&self) -> Result<Window, AutoTypeError> {
        if let Some(active) = self.cardinal(self.root, self.atoms.net_active_window)? {
            if active != x11rb::NONE {
                return Ok(active);
            }
        }
        let focus = self.input_focus()?;
        // None (0) and PointerRoot (1) are not windows.
        if focus <= 1 || focus == self.root {
            return Err(AutoTypeError::NoFocusedWindow);
        }
        Ok(focus)
    }

    fn input_focus(&self) -> Result<Window, AutoTypeError> {
        Ok(self
            .conn
            .get_input_focus()
            .doing("asking for the input focus")?
            .reply()
            .doing("asking for the input focus")?
            .focus)
    }

    /// `window` and its ancestors below the root, nearest first.
    fn ancestry(&self, window: Window) -> Result<Vec<Window>, AutoTypeError> {
        let mut chain = vec![window];
        let mut w = window;
        while chain.len() < MAX_ANCESTORS {
            let tree = match self.conn.query_tree(w).doing("walking up the window tree")?.reply() {
                Ok(tree) => tree,
                // The window went away meanwhile: what we have is all there is.
                Err(ReplyError::X11Error(_)) => break,
                Err(e) => return Err(e).doing("walking up the window tree"),
            };
            if tree.parent == x11rb::NONE || tree.parent == tree.root {
                break;
            }
            w = tree.parent;
            chain.push(w);
        }
        Ok(chain)
    }

    /// `_NET_WM_NAME` (UTF-8), else `WM_NAME` (Latin-1 when `STRING`).
    fn title(&self, window: Window) -> Result<Option<String>, AutoTypeError> {
        if let Some(v) = self.property(window, self.atoms.net_wm_name, self.atoms.utf8_string)? {
            return Ok(Some(String::from_utf8_lossy(&v).into_owned()));
        }
        let doing = "reading a window title";
        let Ok(reply) =
            self.conn.get_property(false, window, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 1024).doing(doing)?.reply()
        else {
            return Ok(None);
        };
        if reply.format != 8 || reply.value.is_empty() {
            return Ok(None);
        }
        Ok(Some(if reply.type_ == u32::from(AtomEnum::STRING) {
            reply.value.iter().map(|&b| char::from(b)).collect()
        } else {
            String::from_utf8_lossy(&reply.value).into_owned()
        }))
    }

    fn property(
        &self,
        window: Window,
        atom: xproto::Atom,
        type_: xproto::Atom,
    ) -> Result<Option<Vec<u8>>, AutoTypeError> {
        let doing = "reading a window property";
        match self.conn.get_property(false, window, atom, type_, 0, 1024).doing(doing)?.reply() {
            Ok(r) if r.format == 8 && !r.value.is_empty() && r.type_ == type_ => Ok(Some(r.value)),
            Ok(_) | Err(ReplyError::X11Error(_)) => Ok(None),
            Err(e) => Err(e).doing(doing),
        }
    }

    /// A 32-bit property (`CARDINAL`, `WINDOW`) of `window`.
    fn cardinal(&self, window: Window, atom: xproto::Atom) -> Result<Option<u32>, AutoTypeError> {
        let doing = "reading a window property";
        match self.conn.get_property(false, window, atom, AtomEnum::ANY, 0, 1).doing(doing)?.reply() {
            Ok(r) => Ok(r.value32().and_then(|mut v| v.next())),
            Err(ReplyError::X11Error(_)) => Ok(None),
            Err(e) => Err(e).doing(doing),
        }
    }

    /// The process id of the client that made `window`, as the server
    /// knows it (X-Resource 1.2; local clients only).
    fn client_pid(&self, window: Window) -> Result<Option<u32>, AutoTypeError> {
        if !self.has_res {
            return Ok(None);
        }
        let doing = "asking which process owns a window";
        let spec = ClientIdSpec { client: window, mask: ClientIdMask::LOCAL_CLIENT_PID };
        match res::query_client_ids(&self.conn, &[spec]).doing(doing)?.reply() {
            Ok(r) => Ok(r
                .ids
                .iter()
                .find(|id| id.spec.mask == ClientIdMask::LOCAL_CLIENT_PID)
                .and_then(|id| id.value.first().copied())),
            Err(ReplyError::X11Error(_)) => Ok(None),
            Err(e) => Err(e).doing(doing),
        }
    }

    /// Whether `window` (or the client behind it) is this process, by its
    /// `_NET_WM_PID` on it or an ancestor, or by what the server knows.
    fn is_ours(&self, window: Window) -> Result<bool, AutoTypeError> {
        let me = std::process::id();
        for w in self.ancestry(window)? {
            if self.cardinal(w, self.atoms.net_wm_pid)? == Some(me) {
                return Ok(true);
            }
        }
        Ok(self.client_pid(window)? == Some(me))
    }

    /// Types `actions` into `target`, which must have (or get back, within
    /// [`FOCUS_WAIT`]) the focus and must not be this process's window.
    pub(crate) fn type_actions(
        &self,
        target: &WindowInfo,
        actions: &[Action],
        key_delay: Duration,
    ) -> Result<(), AutoTypeError> {
        let deadline = Instant::now() + FOCUS_WAIT;
        let focused = loop {
            match self.focused_window() {
                Ok(w) if w.id == target.id => break w,
                Ok(_) | Err(AutoTypeError::NoFocusedWindow) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(_) | Err(AutoTypeError::NoFocusedWindow) => return Err(AutoTypeError::FocusChanged),
                Err(e) => return Err(e),
            }
        };
        let focus = self.input_focus()?;
        if self.is_ours(focused.id)? || (focus > 1 && self.is_ours(focus)?) {
            return Err(AutoTypeError::OwnWindow);
        }
        self.release_held_modifiers()?;
        let mut keyboard = Keyboard::new(self, key_delay)?;
        let typed = keyboard.run(actions);
        let restored = keyboard.restore();
        typed.and(restored)
    }

    /// Waits until no modifier key is down (the user letting go of the
    /// shortcut), at most [`MODIFIER_WAIT`], then releases any still down.
    fn release_held_modifiers(&self) -> Result<(), AutoTypeError> {
        let doing = "waiting for the shortcut's keys to be released";
        let map = self.conn.get_modifier_mapping().doing(doing)?.reply().doing(doing)?;
        let modifier_keys: Vec<Keycode> = map.keycodes.iter().copied().filter(|&k| k != 0).collect();
        let deadline = Instant::now() + MODIFIER_WAIT;
        loop {
            let keys = self.conn.query_keymap().doing(doing)?.reply().doing(doing)?.keys;
            let down: Vec<Keycode> =
                modifier_keys.iter().copied().filter(|&k| keys[usize::from(k / 8)] & (1 << (k % 8)) != 0).collect();
            if down.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                for k in down {
                    self.fake_key(k, false).doing(doing)?;
                }
                self.conn.flush().doing(doing)?;
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn fake_key(&self, keycode: Keycode, press: bool) -> Result<(), ConnectionError> {
        let kind = if press { xproto::KEY_PRESS_EVENT } else { xproto::KEY_RELEASE_EVENT };
        self.conn.xtest_fake_input(kind, keycode, x11rb::CURRENT_TIME, x11rb::NONE, 0, 0, 0)?;
        Ok(())
    }

    fn sync(&self, doing: &'static str) -> Result<(), AutoTypeError> {
        self.input_focus().map(drop).map_err(|e| match e {
            AutoTypeError::TimedOut { .. } => AutoTypeError::TimedOut { doing },
            e => e,
        })
    }
}
