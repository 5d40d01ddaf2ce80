//! Typing into the focused X11 window through the XTEST extension, with
//! x11rb's pure-Rust connection (no C library).
//!
//! Characters are typed by what they are, not by where a US keyboard has
//! them: each character becomes its keysym (Latin-1 directly, anything
//! else `0x0100_0000 + code point`), which is looked up in the server's
//! keyboard map for the active group; when the layout has no key for it
//! (`@` on some layouts, `é`, `€`, Cyrillic on a US map), a spare key code
//! (one with no keysym at all) is mapped to it for the time of the
//! sequence and cleared afterwards. That is what makes the typed text
//! independent of the user's layout.
//!
//! Why the remapping waits before it clears or reuses a key code: a
//! client looks a key event's keysym up in the map *when it handles the
//! event*, which may be after we sent it. Clearing the map right after the
//! last key would let a slow client read the cleared map and lose the
//! character, so a key code is only changed again once the server has
//! answered a round trip after its last press and [`SETTLE`] has passed.
//! While mapped, those keysyms are visible to every X client; so is every
//! key event on X11, which is why auto-type is an X11-only convenience.
//!
//! Every request is bounded: the connection's socket waits at most
//! [`X_TIMEOUT`] for the server, whatever x11rb asks of it.

use std::io::IoSlice;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use x11rb::connection::{Connection, RequestConnection};
use x11rb::errors::{ConnectionError, ReplyError};
use x11rb::protocol::res::{self, ClientIdMask, ClientIdSpec};
use x11rb::protocol::xproto::{self, AtomEnum, ConnectionExt as _, Keycode, Keysym, Window};
use x11rb::protocol::xtest::{self, ConnectionExt as _};
use x11rb::rust_connection::{DefaultStream, PollMode, RustConnection, Stream};
use x11rb::utils::RawFdContainer;

use crate::WindowInfo;
use crate::error::{AutoTypeError, ConnectError, Unavailable};
use crate::sequence::{Action, Key, Modifiers, NamedKey};

/// The longest wait for the X server on any one read or write.
pub(crate) const X_TIMEOUT: Duration = Duration::from_secs(2);

/// How long to wait for the user to let go of the shortcut's modifiers
/// before releasing them ourselves (a held Ctrl would turn typed text into
/// commands).
pub(crate) const MODIFIER_WAIT: Duration = Duration::from_millis(1000);

/// How long the target window has to get the focus back (after a chooser
/// dialog closed, say) before typing is refused.
pub(crate) const FOCUS_WAIT: Duration = Duration::from_millis(1000);

/// How long a client has, after the server processed a remapped key, to
/// look it up before that key code is cleared or reused.
const SETTLE: Duration = Duration::from_millis(100);

/// How deep to walk up from the focus window for a title or a pid.
const MAX_ANCESTORS: usize = 16;

// Keysyms (X11/keysymdef.h).
const XK_BACKSPACE: Keysym = 0xff08;
const XK_TAB: Keysym = 0xff09;
const XK_RETURN: Keysym = 0xff0d;
const XK_ESCAPE: Keysym = 0xff1b;
const XK_HOME: Keysym = 0xff50;
const XK_LEFT: Keysym = 0xff51;
const XK_UP: Keysym = 0xff52;
const XK_RIGHT: Keysym = 0xff53;
const XK_DOWN: Keysym = 0xff54;
const XK_PRIOR: Keysym = 0xff55;
const XK_NEXT: Keysym = 0xff56;
const XK_END: Keysym = 0xff57;
const XK_INSERT: Keysym = 0xff63;
const XK_F1: Keysym = 0xffbe;
const XK_SHIFT_L: Keysym = 0xffe1;
const XK_CONTROL_L: Keysym = 0xffe3;
const XK_META_L: Keysym = 0xffe7;
const XK_ALT_L: Keysym = 0xffe9;
const XK_DELETE: Keysym = 0xffff;
const XK_EURO_SIGN: Keysym = 0x20ac;
const NO_SYMBOL: Keysym = 0;

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

/// The server's keyboard map, as the core protocol shows it.
struct Keymap {
    min_keycode: Keycode,
    per_keycode: usize,
    keysyms: Vec<Keysym>,
}

impl Keymap {
    fn syms(&self, keycode: Keycode) -> &[Keysym] {
        let i = usize::from(keycode - self.min_keycode) * self.per_keycode;
        &self.keysyms[i..i + self.per_keycode]
    }

    fn keycodes(&self) -> impl Iterator<Item = Keycode> + '_ {
        let count = self.keysyms.len() / self.per_keycode.max(1);
        (0..count).filter_map(|i| u8::try_from(i).ok()).map(|i| self.min_keycode + i)
    }

    /// A key code and level (0 plain, 1 shifted) that give `keysym` in
    /// `group` (0 or 1: the core map has two columns per group for the
    /// first two; later groups are typed by remapping).
    fn find(&self, keysym: Keysym, group: usize) -> Option<(Keycode, usize)> {
        if group > 1 {
            return None;
        }
        for level in 0..2 {
            let column = group * 2 + level;
            if let Some(k) = self.keycodes().find(|&k| self.syms(k).get(column) == Some(&keysym)) {
                return Some((k, level));
            }
        }
        None
    }

    /// Any key code that has `keysym` anywhere (for modifier keys).
    fn any(&self, keysym: Keysym) -> Option<Keycode> {
        self.keycodes().find(|&k| self.syms(k).contains(&keysym))
    }

    /// Key codes without a single keysym, highest first (the least likely
    /// to be keys on a real keyboard).
    fn spare(&self) -> Vec<Keycode> {
        let mut spare: Vec<Keycode> =
            self.keycodes().filter(|&k| self.syms(k).iter().all(|&s| s == NO_SYMBOL)).collect();
        spare.reverse();
        spare
    }
}

/// The typing state of one sequence: the map, which key codes were
/// remapped to what, and the focus to stay on.
struct Keyboard<'d> {
    display: &'d Display,
    keymap: Keymap,
    group: usize,
    caps_lock: bool,
    shift: Keycode,
    ctrl: Keycode,
    alt: Keycode,
    /// Spare key codes not mapped yet.
    free: Vec<Keycode>,
    /// Spare key codes mapped to a keysym now, oldest first.
    mapped: Vec<(Keycode, Keysym)>,
    /// Every spare key code this sequence changed, to clear at the end.
    touched: Vec<Keycode>,
    /// The X focus window when typing began: typing stops if it changes.
    focus: Window,
    key_delay: Duration,
}

impl<'d> Keyboard<'d> {
    fn new(display: &'d Display, key_delay: Duration) -> Result<Keyboard<'d>, AutoTypeError> {
        let conn = &display.conn;
        let doing = "reading the keyboard map";
        let (min, max) = (conn.setup().min_keycode, conn.setup().max_keycode);
        let map = conn.get_keyboard_mapping(min, max - min + 1).doing(doing)?.reply().doing(doing)?;
        let keymap =
            Keymap { min_keycode: min, per_keycode: usize::from(map.keysyms_per_keycode), keysyms: map.keysyms };
        let modmap = conn.get_modifier_mapping().doing(doing)?.reply().doing(doing)?;
        let per = usize::from(modmap.keycodes_per_modifier());
        // The modifier map's rows: Shift, Lock, Control, Mod1 (Alt) …
        let row =
            |i: usize| modmap.keycodes.get(i * per..(i + 1) * per).and_then(|r| r.iter().copied().find(|&k| k != 0));
        let missing = |what: &'static str| AutoTypeError::X11 {
            doing: "reading the keyboard map",
            reason: format!("no {what} key"),
        };
        let shift = keymap.any(XK_SHIFT_L).or_else(|| row(0)).ok_or_else(|| missing("Shift"))?;
        let ctrl = keymap.any(XK_CONTROL_L).or_else(|| row(2)).ok_or_else(|| missing("Control"))?;
        let alt =
            keymap.any(XK_ALT_L).or_else(|| keymap.any(XK_META_L)).or_else(|| row(3)).ok_or_else(|| missing("Alt"))?;
        // The pointer query's state carries the modifiers and, in bits 13
        // and 14, the XKB group (the active layout).
        let state = u16::from(conn.query_pointer(display.root).doing(doing)?.reply().doing(doing)?.mask);
        let group = usize::from((state >> 13) & 0b11);
        let caps_lock = state & u16::from(xproto::KeyButMask::LOCK) != 0;
        let free = keymap.spare();
        let focus = display.input_focus()?;
        Ok(Keyboard {
            display,
            keymap,
            group,
            caps_lock,
            shift,
            ctrl,
            alt,
            free,
            mapped: Vec::new(),
            touched: Vec::new(),
            focus,
            key_delay,
        })
    }

    fn run(&mut self, actions: &[Action]) -> Result<(), AutoTypeError> {
        for action in actions {
            match action {
                Action::Text(text) => {
                    let mut chars = text.chars().peekable();
                    while let Some(c) = chars.next() {
                        // "\r\n" is one Enter.
                        if c == '\r' && chars.peek() == Some(&'\n') {
                            continue;
                        }
                        self.stroke(keysym_for_char(c).ok_or(AutoTypeError::Untypable)?, Modifiers::NONE)?;
                    }
                }
                Action::Key { key, modifiers } => {
                    let keysym = match key {
                        Key::Named(k) => keysym_for_key(*k),
                        Key::Char(c) => keysym_for_char(*c).ok_or(AutoTypeError::Untypable)?,
                    };
                    self.stroke(keysym, *modifiers)?;
                }
                Action::Pause(d) => {
                    self.display.conn.flush().doing("typing")?;
                    std::thread::sleep(*d);
                }
                Action::KeyDelay(d) => self.key_delay = *d,
            }
        }
        self.display.conn.flush().doing("typing")
    }

    /// One key press and release giving `keysym`, with `modifiers` held.
    fn stroke(&mut self, keysym: Keysym, modifiers: Modifiers) -> Result<(), AutoTypeError> {
        // A round trip per key: the server has handled every earlier event
        // when it answers, and a focus change stops typing before the next
        // character lands in the wrong window.
        if self.display.input_focus()? != self.focus {
            return Err(AutoTypeError::FocusChanged);
        }
        let (keycode, shifted) = self.keycode_for(keysym)?;
        let mut held = Vec::with_capacity(3);
        if modifiers.ctrl {
            held.push(self.ctrl);
        }
        if modifiers.alt {
            held.push(self.alt);
        }
        if modifiers.shift || shifted {
            held.push(self.shift);
        }
        let d = self.display;
        let doing = "typing";
        for &k in &held {
            d.fake_key(k, true).doing(doing)?;
        }
        d.fake_key(keycode, true).doing(doing)?;
        d.fake_key(keycode, false).doing(doing)?;
        for &k in held.iter().rev() {
            d.fake_key(k, false).doing(doing)?;
        }
        d.conn.flush().doing(doing)?;
        if !self.key_delay.is_zero() {
            std::thread::sleep(self.key_delay);
        }
        Ok(())
    }

    /// The key code for `keysym` and whether Shift must be held: from the
    /// layout, else a spare key code mapped to it.
    fn keycode_for(&mut self, keysym: Keysym) -> Result<(Keycode, bool), AutoTypeError> {
        if let Some(&(k, _)) = self.mapped.iter().find(|(_, s)| *s == keysym) {
            return Ok((k, false));
        }
        if let Some((k, level)) = self.keymap.find(keysym, self.group) {
            let syms = self.keymap.syms(k);
            let column = self.group * 2;
            // Caps Lock turns the letter keys' plain level into capitals
            // (XKB's ALPHABETIC type), so Shift must then be inverted.
            let letter = is_case_pair(syms[column], syms.get(column + 1).copied().unwrap_or(NO_SYMBOL));
            return Ok((k, (level == 1) != (self.caps_lock && letter)));
        }
        if self.free.is_empty() {
            if self.mapped.is_empty() {
                return Err(AutoTypeError::NoSpareKeycode);
            }
            // Out of spares: once every press so far has been looked up,
            // all of them can be mapped anew (one wait, not one per key).
            self.display.sync("remapping a key")?;
            std::thread::sleep(SETTLE);
            self.free.extend(self.mapped.drain(..).map(|(k, _)| k).rev());
        }
        let keycode = self.free.pop().ok_or(AutoTypeError::NoSpareKeycode)?;
        if !self.touched.contains(&keycode) {
            self.touched.push(keycode);
        }
        // Both levels, so that Shift (held by a `+` or by the user) does
        // not change what the key types.
        self.display.conn.change_keyboard_mapping(1, keycode, 2, &[keysym, keysym]).doing("remapping a key")?;
        self.mapped.push((keycode, keysym));
        Ok((keycode, false))
    }

    /// Clears every key code this sequence mapped, once clients have had
    /// [`SETTLE`] to look up the last key typed.
    fn restore(&mut self) -> Result<(), AutoTypeError> {
        if self.touched.is_empty() {
            return Ok(());
        }
        let doing = "restoring the keyboard map";
        self.display.sync(doing)?;
        std::thread::sleep(SETTLE);
        self.mapped.clear();
        for keycode in std::mem::take(&mut self.touched) {
            self.display.conn.change_keyboard_mapping(1, keycode, 2, &[NO_SYMBOL, NO_SYMBOL]).doing(doing)?;
        }
        self.display.sync(doing)
    }
}

impl Drop for Keyboard<'_> {
    fn drop(&mut self) {
        // Best effort on an early return; `restore` empties `touched`.
        let _ = self.restore();
    }
}

fn keysym_for_key(key: NamedKey) -> Keysym {
    match key {
        NamedKey::Tab => XK_TAB,
        NamedKey::Enter => XK_RETURN,
        NamedKey::Space => Keysym::from(b' '),
        NamedKey::Backspace => XK_BACKSPACE,
        NamedKey::Delete => XK_DELETE,
        NamedKey::Up => XK_UP,
        NamedKey::Down => XK_DOWN,
        NamedKey::Left => XK_LEFT,
        NamedKey::Right => XK_RIGHT,
        NamedKey::Home => XK_HOME,
        NamedKey::End => XK_END,
        NamedKey::Escape => XK_ESCAPE,
        NamedKey::Insert => XK_INSERT,
        NamedKey::PageUp => XK_PRIOR,
        NamedKey::PageDown => XK_NEXT,
        NamedKey::F(n) => XK_F1 + Keysym::from(n.clamp(1, 35)) - 1,
    }
}

/// The keysym that types `c`; `None` for control characters other than
/// tab and newline.
pub(crate) fn keysym_for_char(c: char) -> Option<Keysym> {
    let cp = u32::from(c);
    match c {
        '\n' | '\r' => Some(XK_RETURN),
        '\t' => Some(XK_TAB),
        // Latin-1 keysyms are the code points themselves.
        ' '..='~' | '\u{a0}'..='\u{ff}' => Some(cp),
        // Layouts put the euro on its legacy keysym; use it so the user's
        // own key is found before a spare is remapped.
        '€' => Some(XK_EURO_SIGN),
        c if c.is_control() => None,
        _ => Some(0x0100_0000 + cp),
    }
}

/// The character a keysym stands for, for Latin-1 and Unicode keysyms.
fn char_of_keysym(keysym: Keysym) -> Option<char> {
    match keysym {
        0x20..=0x7e | 0xa0..=0xff => char::from_u32(keysym),
        0x0100_0100..=0x0110_ffff => char::from_u32(keysym - 0x0100_0000),
        _ => None,
    }
}

/// Whether a key's two levels are a lower-case letter and its capital.
fn is_case_pair(lower: Keysym, upper: Keysym) -> bool {
    match (char_of_keysym(lower), char_of_keysym(upper)) {
        (Some(l), Some(u)) => l.is_lowercase() && l.to_uppercase().eq(std::iter::once(u)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_map_to_latin1_or_unicode_keysyms() {
        assert_eq!(keysym_for_char('a'), Some(0x61));
        assert_eq!(keysym_for_char('@'), Some(0x40));
        assert_eq!(keysym_for_char('é'), Some(0xe9));
        assert_eq!(keysym_for_char('ß'), Some(0xdf));
        assert_eq!(keysym_for_char('€'), Some(XK_EURO_SIGN));
        assert_eq!(keysym_for_char('ж'), Some(0x0100_0436));
        assert_eq!(keysym_for_char('😀'), Some(0x0101_f600));
        assert_eq!(keysym_for_char('\n'), Some(XK_RETURN));
        assert_eq!(keysym_for_char('\t'), Some(XK_TAB));
        assert_eq!(keysym_for_char('\u{7}'), None);
        assert_eq!(keysym_for_char('\u{85}'), None);
    }

    #[test]
    fn function_keys_run_from_f1() {
        assert_eq!(keysym_for_key(NamedKey::F(1)), 0xffbe);
        assert_eq!(keysym_for_key(NamedKey::F(16)), 0xffcd);
    }

    #[test]
    fn the_keymap_finds_levels_in_the_active_group_and_spare_codes() {
        // Three key codes from 8, four columns: [a A ф Ф], [2 @ 2 "], [].
        let keymap = Keymap {
            min_keycode: 8,
            per_keycode: 4,
            keysyms: vec![0x61, 0x41, 0x6c6, 0x6e6, 0x32, 0x40, 0x32, 0x22, 0, 0, 0, 0],
        };
        assert_eq!(keymap.find(0x61, 0), Some((8, 0)));
        assert_eq!(keymap.find(0x40, 0), Some((9, 1)));
        assert_eq!(keymap.find(0x40, 1), None);
        assert_eq!(keymap.find(0x22, 1), Some((9, 1)));
        assert_eq!(keymap.find(0x61, 2), None);
        assert_eq!(keymap.spare(), vec![10]);
        assert!(is_case_pair(0x61, 0x41));
        assert!(is_case_pair(0xe9, 0xc9));
        assert!(!is_case_pair(0x32, 0x40));
    }
}
