//! A real X client that records what the keyboard types into it: `xterm`
//! in UTF-8 mode running `cat` on a raw, non-echoing terminal, on a
//! private Xvfb ([`Desktop`]). What arrives in [`KeyReader::text`] is
//! exactly what the terminal made of the key events: `Tab` as `\t`,
//! `Enter` as `\r`, `é` as its UTF-8 bytes. For the auto-type test and
//! benchmark.
//!
//! The test process also talks X itself (`x11rb`), to give the focus to a
//! window, to make windows of its own, and to read the keyboard map.

use std::borrow::Borrow;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ConnectionExt as _, CreateWindowAux, EventMask, InputFocus, MapState, PropMode, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

use crate::webdriver::{Desktop, poll};

/// The reader window's title.
pub const READER_TITLE: &str = "tessera-autotype-reader";

/// `xterm` running `cat` into a file, on its own Xvfb ([`KeyReader::start`])
/// or on one a test shares with the app ([`KeyReader::start_on`]).
pub struct KeyReader<D: Borrow<Desktop> = Desktop> {
    xterm: Child,
    conn: RustConnection,
    root: Window,
    out: PathBuf,
    /// The reader's top-level window.
    pub window: Window,
    /// Declared last, so dropped last: the X server goes after its clients.
    pub desktop: D,
}

impl KeyReader {
    /// Starts Xvfb and the reader, and waits until its terminal is raw and
    /// its window is mapped. Does not focus it.
    pub fn start() -> KeyReader {
        KeyReader::start_on(Desktop::start())
    }
}

impl<D: Borrow<Desktop>> KeyReader<D> {
    /// Starts the reader on `desktop`'s Xvfb (`&app.desktop`, to type into
    /// it from the app), and waits until it is ready. Does not focus it.
    pub fn start_on(desktop: D) -> KeyReader<D> {
        let dir = desktop.borrow().dir().join("key-reader");
        std::fs::create_dir_all(&dir).expect("create the reader's directory");
        let out = dir.join("typed");
        let ready = dir.join("ready");
        // Appending, so that the file can be emptied between runs.
        let script = format!("stty raw -echo && : > '{}' && exec cat >> '{}'", ready.display(), out.display());
        std::fs::write(&out, b"").expect("create the reader's file");
        let xterm = desktop
            .borrow()
            .env(&mut Command::new("xterm"))
            .env("LC_ALL", "C.UTF-8")
            .args(["-u8", "-T", READER_TITLE, "-geometry", "80x24+0+0", "-e", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("xterm runs (package xterm; `scripts/setup.sh test` installs it)");
        let (conn, screen) = x11rb::connect(Some(&desktop.borrow().display())).expect("connect to the test's Xvfb");
        let root = conn.setup().roots[screen].root;
        let mut reader = KeyReader { xterm, conn, root, out, window: 0, desktop };
        let started = poll(Duration::from_secs(15), || ready.exists().then_some(()));
        assert!(started.is_some(), "xterm did not start its reader within 15 s");
        let window = poll(Duration::from_secs(10), || reader.find_window(READER_TITLE));
        reader.window = window.expect("the reader's window is mapped");
        reader
    }

    /// The mapped top-level window titled `title`.
    fn find_window(&self, title: &str) -> Option<Window> {
        let tree = self.conn.query_tree(self.root).ok()?.reply().ok()?;
        tree.children.into_iter().find(|&w| {
            let viewable = self
                .conn
                .get_window_attributes(w)
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some_and(|a| a.map_state == MapState::VIEWABLE);
            let name = self
                .conn
                .get_property(false, w, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 256)
                .ok()
                .and_then(|c| c.reply().ok())
                .map(|r| r.value);
            viewable && name.as_deref() == Some(title.as_bytes())
        })
    }

    /// The process id of `xterm`.
    pub fn xterm_pid(&self) -> u32 {
        self.xterm.id()
    }

    /// Gives `window` the X input focus and waits until the server has it.
    pub fn focus(&self, window: Window) {
        self.conn
            .set_input_focus(InputFocus::PARENT, window, x11rb::CURRENT_TIME)
            .expect("send SetInputFocus")
            .check()
            .expect("the server accepts the focus change");
        let focused = self.conn.get_input_focus().expect("GetInputFocus").reply().expect("focus reply").focus;
        assert_eq!(focused, window, "the focus did not move");
    }

    /// Switches the X server's keyboard to XKB layout `layout` (`de`, `fr`)
    /// with `setxkbmap`.
    pub fn set_layout(&self, layout: &str) {
        let desktop = self.desktop.borrow();
        let out = desktop.run("setxkbmap", &["-display", &desktop.display(), layout]);
        assert!(out.status.success(), "setxkbmap {layout} failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Everything the reader received so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.out).expect("read the reader's file")).into_owned()
    }

    /// Waits until the reader has received at least `chars` characters (at
    /// most `timeout`) and returns what it has.
    pub fn wait_for_chars(&self, chars: usize, timeout: Duration) -> String {
        poll(timeout, || {
            let t = self.text();
            (t.chars().count() >= chars).then_some(t)
        })
        .unwrap_or_else(|| self.text())
    }

    /// Empties the reader's file.
    pub fn clear(&self) {
        std::fs::write(&self.out, b"").expect("empty the reader's file");
    }

    /// A mapped top-level window made by this process, titled `title`,
    /// with `_NET_WM_PID` set to this process when `set_pid`.
    pub fn own_window(&self, title: &str, set_pid: bool) -> Window {
        let id = self.conn.generate_id().expect("a window id");
        let aux = CreateWindowAux::new().event_mask(EventMask::STRUCTURE_NOTIFY);
        self.conn
            .create_window(0, id, self.root, 600, 400, 200, 100, 0, WindowClass::INPUT_OUTPUT, 0, &aux)
            .expect("CreateWindow");
        self.conn
            .change_property8(PropMode::REPLACE, id, AtomEnum::WM_NAME, AtomEnum::STRING, title.as_bytes())
            .expect("set WM_NAME");
        if set_pid {
            let atom = self.conn.intern_atom(false, b"_NET_WM_PID").expect("intern").reply().expect("atom").atom;
            self.conn
                .change_property32(PropMode::REPLACE, id, atom, AtomEnum::CARDINAL, &[std::process::id()])
                .expect("set _NET_WM_PID");
        }
        self.conn.map_window(id).expect("MapWindow");
        self.conn.flush().expect("flush");
        let mapped = poll(Duration::from_secs(5), || {
            let a = self.conn.get_window_attributes(id).ok()?.reply().ok()?;
            (a.map_state == MapState::VIEWABLE).then_some(())
        });
        assert!(mapped.is_some(), "our own window was not mapped");
        id
    }

    /// How many key codes have no keysym at all (what auto-type may borrow).
    pub fn spare_key_codes(&self) -> usize {
        let setup = self.conn.setup();
        let codes = usize::from(setup.max_keycode - setup.min_keycode) + 1;
        let map = self.keyboard_map();
        map.chunks(map.len() / codes).filter(|syms| syms.iter().all(|&s| s == 0)).count()
    }

    /// The whole core keyboard map (keysyms of every key code).
    pub fn keyboard_map(&self) -> Vec<u32> {
        let setup = self.conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        self.conn.get_keyboard_mapping(min, max - min + 1).expect("GetKeyboardMapping").reply().expect("map").keysyms
    }
}

impl<D: Borrow<Desktop>> Drop for KeyReader<D> {
    fn drop(&mut self) {
        // The terminal's shell and cat get SIGHUP when xterm goes.
        let _ = self.xterm.kill();
        let _ = self.xterm.wait();
    }
}
