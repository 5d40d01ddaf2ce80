//! Driving the desktop app (`tessera-desktop`) through W3C WebDriver.
//!
//! [`Desktop`] is one private desktop for one test: an `Xvfb` display, a
//! session D-Bus, temporary HOME and XDG directories, and `tauri-driver`
//! (which runs Debian's `WebKitWebDriver`, which starts the app). Everything
//! it started is killed on drop, by process id. [`WebDriver`] is a small
//! blocking client for the W3C protocol.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

/// The W3C key of an element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// W3C special keys, for [`WebDriver::send_keys`].
pub mod keys {
    pub const NULL: &str = "\u{E000}";
    pub const BACKSPACE: &str = "\u{E003}";
    pub const ENTER: &str = "\u{E007}";
    pub const SHIFT: &str = "\u{E008}";
    pub const CONTROL: &str = "\u{E009}";
    pub const ESCAPE: &str = "\u{E00C}";
}

/// The `tessera-desktop` binary beside this test's target directory (or
/// `$TESSERA_DESKTOP_BIN`). Panics, telling how to build it, when missing.
pub fn desktop_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TESSERA_DESKTOP_BIN") {
        let p = PathBuf::from(p);
        assert!(p.exists(), "$TESSERA_DESKTOP_BIN={} does not exist", p.display());
        return p;
    }
    let exe = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("tests run from target/<profile>/deps");
    let bin = profile_dir.join("tessera-desktop");
    assert!(
        bin.exists(),
        "{} is missing: build the desktop app with `cargo build -p tessera-desktop` (or run `make test`, which builds it) \
         before this test",
        bin.display()
    );
    bin
}

/// `tauri-driver` on the PATH or in `~/.cargo/bin`.
pub fn tauri_driver_bin() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("tauri-driver")).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        candidates.push(PathBuf::from(home).join("bin/tauri-driver"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".cargo/bin/tauri-driver"));
    }
    candidates.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!("tauri-driver is missing: install it with `cargo install tauri-driver --locked` (`make test` does)")
    })
}

/// Polls `f` every 50 ms until it gives `Some` or `timeout` passes.
pub fn poll<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// Every process descended from `root` (children, grandchildren, …), from
/// `/proc`, deepest last.
fn descendants(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
            // "pid (comm) state ppid …": comm may hold spaces and parentheses.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
            if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|s| s.parse::<u32>().ok()) {
                parents.push((pid, ppid));
            }
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found.remove(0);
    found
}

fn signal(pid: u32, sig: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) with a process id we started; no memory involved.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// Kills `child` and everything it started, by pid: SIGTERM, a moment for
/// a clean exit, then SIGKILL.
fn kill_tree(child: &mut Child, grace: Duration) {
    let mut pids = descendants(child.id());
    pids.push(child.id());
    for &p in &pids {
        signal(p, libc::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline && pids.iter().any(|&p| Path::new(&format!("/proc/{p}")).exists()) {
        let _ = child.try_wait();
        std::thread::sleep(Duration::from_millis(50));
    }
    for &p in &pids {
        if Path::new(&format!("/proc/{p}")).exists() {
            signal(p, libc::SIGKILL);
        }
    }
    let _ = child.wait();
}

/// One private desktop: X server, session bus, HOME/XDG directories and
/// `tauri-driver`. Dropping it kills all of them (and the app).
pub struct Desktop {
    dir: TempDir,
    display: u32,
    xvfb: Child,
    bus: Child,
    bus_address: String,
    driver: Option<Child>,
    driver_port: u16,
    driver_log: PathBuf,
}

impl Desktop {
    /// Starts Xvfb and the bus; `tauri-driver` starts with
    /// [`Desktop::start_driver`], after the caller has written the app's
    /// config under [`Desktop::config_home`].
    pub fn start() -> Desktop {
        let dir = tempfile::Builder::new().prefix("tessera-desktop-").tempdir().expect("a temporary directory");
        for sub in ["home", "config", "data", "cache", "run"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("create a directory");
        }
        std::fs::set_permissions(dir.path().join("run"), std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod the runtime directory");
        let (xvfb, display) = start_xvfb(&dir.path().join("xvfb.log"));
        let (bus, bus_address) = crate::private_bus(dir.path());
        Desktop {
            driver_log: dir.path().join("driver.log"),
            dir,
            display,
            xvfb,
            bus,
            bus_address,
            driver: None,
            driver_port: 0,
        }
    }

    /// The temporary directory everything lives in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `$XDG_CONFIG_HOME` of the app.
    pub fn config_home(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// `~/.local/bin` of the private HOME, first on the app's PATH.
    pub fn local_bin(&self) -> PathBuf {
        self.dir.path().join("home/.local/bin")
    }

    /// `$XDG_RUNTIME_DIR` of the app (mode 0700).
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// `$XDG_DATA_HOME` of the app.
    pub fn data_home(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `:N`.
    pub fn display(&self) -> String {
        format!(":{}", self.display)
    }

    /// The session bus address.
    pub fn bus_address(&self) -> &str {
        &self.bus_address
    }

    /// Points `command` at this desktop: display, bus, HOME and XDG
    /// directories, software rendering. `~/.local/bin` of the private HOME
    /// comes first on the PATH, as Debian's `~/.profile` puts it: a test
    /// puts stand-ins for desktop programs (`xdg-open`) there.
    pub fn env<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        let d = self.dir.path();
        let mut path = vec![self.local_bin()];
        path.extend(
            std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default(),
        );
        command
            .env("PATH", std::env::join_paths(path).expect("PATH entries without ':'"))
            .env("DISPLAY", self.display())
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            // The same private bus stands in for the system bus, where the
            // test plays logind (sleep and session lock).
            .env("DBUS_SYSTEM_BUS_ADDRESS", &self.bus_address)
            .env("HOME", d.join("home"))
            .env("XDG_CONFIG_HOME", d.join("config"))
            .env("XDG_DATA_HOME", d.join("data"))
            .env("XDG_CACHE_HOME", d.join("cache"))
            .env("XDG_RUNTIME_DIR", d.join("run"))
            .env("GDK_BACKEND", "x11")
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env("NO_AT_BRIDGE", "1")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("TESSERA_VAULT")
            .env_remove("XDG_SESSION_TYPE")
    }

    /// Starts `tauri-driver` (with its `WebKitWebDriver`) in this desktop's
    /// environment; its stderr, which is also the app's, goes to
    /// [`Desktop::log`].
    pub fn start_driver(&mut self) {
        let port = free_port();
        let native = loop {
            let p = free_port();
            if p != port {
                break p;
            }
        };
        let log = std::fs::File::create(&self.driver_log).expect("create the driver log");
        let mut cmd = Command::new(tauri_driver_bin());
        self.env(&mut cmd)
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log file"))
            .stderr(log)
            .process_group(0);
        let child = cmd.spawn().expect("start tauri-driver");
        self.driver = Some(child);
        self.driver_port = port;
        let http = http_client(Duration::from_secs(5));
        let ready = poll(Duration::from_secs(20), || {
            if let Some(Ok(Some(status))) = self.driver.as_mut().map(Child::try_wait) {
                panic!("tauri-driver exited at start ({status}):\n{}", self.log());
            }
            let r = http.get(format!("http://127.0.0.1:{port}/status")).send().ok()?;
            let v: Value = r.json().ok()?;
            (v["value"]["ready"] == json!(true)).then_some(())
        });
        assert!(ready.is_some(), "tauri-driver did not become ready on port {port}:\n{}", self.log());
    }

    /// A WebDriver session that starts `app` (through `tauri:options`).
    pub fn session(&self, app: &Path) -> WebDriver {
        assert!(self.driver.is_some(), "start_driver first");
        let base = format!("http://127.0.0.1:{}", self.driver_port);
        let caps = json!({
            "capabilities": {
                "alwaysMatch": { "tauri:options": { "application": app } }
            }
        });
        let http = http_client(Duration::from_secs(90));
        let response = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .unwrap_or_else(|e| panic!("POST /session failed: {e}\n{}", self.log()));
        let status = response.status().as_u16();
        let v: Value = response.json().unwrap_or(Value::Null);
        let Some(id) = v["value"]["sessionId"].as_str() else {
            panic!("the WebDriver session did not start (HTTP {status}): {v}\napp and driver log:\n{}", self.log());
        };
        WebDriver {
            http: http_client(Duration::from_secs(60)),
            base,
            session: id.to_owned(),
            deleted: false,
            window_kind: std::cell::Cell::new(None),
        }
    }

    /// What `tauri-driver`, `WebKitWebDriver` and the app wrote to stderr.
    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.driver_log).unwrap_or_default();
        // The interesting part is near the end; keep failures readable.
        const MAX: usize = 30_000;
        if text.len() > MAX {
            let mut start = text.len() - MAX;
            while !text.is_char_boundary(start) {
                start += 1;
            }
            format!("[… {start} bytes left out …]\n{}", &text[start..])
        } else {
            text
        }
    }

    /// Runs a command on this desktop (display and bus) and returns its
    /// output.
    pub fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        self.env(&mut Command::new(program))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
    }

    /// The CLIPBOARD selection's text, `None` when it is empty or unowned.
    pub fn clipboard(&self) -> Option<String> {
        let out = self.run("xclip", &["-selection", "clipboard", "-o"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success() && !text.is_empty()).then_some(text)
    }

    /// The targets (MIME types) the CLIPBOARD owner offers.
    pub fn clipboard_targets(&self) -> Vec<String> {
        let out = self.run("xclip", &["-selection", "clipboard", "-t", "TARGETS", "-o"]);
        String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).collect()
    }

    /// Puts `text` on the clipboard with `xclip`, which serves it until
    /// another program takes the selection (or the X server goes); the
    /// returned child is that server, to kill when done.
    pub fn set_clipboard(&self, text: &str) -> Child {
        use std::io::Write;
        let mut child = self
            .env(&mut Command::new("xclip"))
            .args(["-quiet", "-selection", "clipboard", "-i"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run xclip");
        child.stdin.take().expect("piped stdin").write_all(text.as_bytes()).expect("write to xclip");
        child
    }

    /// Sends a key chord to the X server (`xdotool key`), e.g. the global
    /// shortcut `ctrl+shift+space`.
    pub fn xdotool_key(&self, chord: &str) {
        let out = self.run("xdotool", &["key", "--clearmodifiers", chord]);
        assert!(out.status.success(), "xdotool key {chord} failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Types `text` into the focused X window as key events (`xdotool
    /// type`), as a user's keyboard would: unlike WebDriver's send-keys, the
    /// text never passes whole through the app's automation channel.
    pub fn xdotool_type(&self, text: &str) {
        let out = self.run("xdotool", &["type", "--delay", "15", "--clearmodifiers", text]);
        assert!(out.status.success(), "xdotool type failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Asks the X window `id` (as `visible_windows` gives it) to close, as a
    /// window manager's close button does: a `WM_DELETE_WINDOW` message.
    pub fn close_window(&self, id: &str) {
        use x11rb::connection::Connection as _;
        use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt as _, EventMask};
        let window: u32 = id.parse().unwrap_or_else(|_| panic!("an X window id: {id}"));
        let (conn, _) = x11rb::connect(Some(&self.display())).expect("connect to the test's X server");
        let atom = |name: &str| conn.intern_atom(false, name.as_bytes()).expect("intern").reply().expect("atom").atom;
        let (protocols, delete) = (atom("WM_PROTOCOLS"), atom("WM_DELETE_WINDOW"));
        let event = ClientMessageEvent::new(32, window, protocols, [delete, 0, 0, 0, 0]);
        conn.send_event(false, window, EventMask::NO_EVENT, event).expect("send WM_DELETE_WINDOW");
        conn.flush().expect("flush");
    }

    /// Whether a mapped (visible) X window has this exact title.
    pub fn window_visible(&self, title: &str) -> bool {
        !self.visible_windows(title).is_empty()
    }

    /// The X window ids of mapped windows with this exact title.
    pub fn visible_windows(&self, title: &str) -> Vec<String> {
        let pattern = format!("^{}$", regex_escape(title));
        let out = self.run("xdotool", &["search", "--onlyvisible", "--name", &pattern]);
        String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_owned).collect()
    }

    /// A PNG of X window `window` (an id, or `root` for the whole screen),
    /// as shown on the screen (ImageMagick `import`).
    pub fn grab_png(&self, window: &str, file: &Path) -> Result<(), String> {
        let out = self.run("import", &["-window", window, file.to_str().expect("utf-8 path")]);
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("import -window {window} failed: {}", String::from_utf8_lossy(&out.stderr)))
        }
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.^$|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Drop for Desktop {
    fn drop(&mut self) {
        if let Some(mut driver) = self.driver.take() {
            kill_tree(&mut driver, Duration::from_secs(3));
        }
        kill_tree(&mut self.bus, Duration::from_millis(500));
        kill_tree(&mut self.xvfb, Duration::from_millis(500));
    }
}

/// Xvfb on the first free display from :90, with its log in `log`.
fn start_xvfb(log: &Path) -> (Child, u32) {
    for n in 90..400u32 {
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        if socket.exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
            continue;
        }
        let mut child = Command::new("Xvfb")
            .arg(format!(":{n}"))
            .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("create the Xvfb log"))
            .spawn()
            .expect("Xvfb runs (package xvfb; `make test` installs it)");
        let lock = PathBuf::from(format!("/tmp/.X{n}-lock"));
        let up = poll(Duration::from_secs(10), || {
            if child.try_wait().ok().flatten().is_some() {
                return Some(false); // lost the race for this display
            }
            // Ours only if the lock names our Xvfb: another process may
            // have started one on the same number a moment earlier.
            let owner = std::fs::read_to_string(&lock).ok()?.trim().parse::<u32>().ok()?;
            if owner != child.id() {
                return None; // ours is about to exit, or has not written it yet
            }
            std::os::unix::net::UnixStream::connect(&socket).ok().map(|_| true)
        });
        match up {
            Some(true) => return (child, n),
            Some(false) => continue,
            None => {
                kill_tree(&mut child, Duration::from_millis(200));
                panic!("Xvfb :{n} did not start: {}", std::fs::read_to_string(log).unwrap_or_default());
            }
        }
    }
    panic!("no free X display between :90 and :399");
}

fn http_client(timeout: Duration) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(timeout).no_proxy().build().expect("an HTTP client")
}

/// A WebDriver error response (or a transport failure, with status 0).
#[derive(Debug, Clone)]
pub struct WdError {
    pub status: u16,
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebDriver error {} ({}): {}", self.error, self.status, self.message)
    }
}

pub type WdResult<T> = Result<T, WdError>;

/// A web element reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element(pub String);

/// One W3C WebDriver session (deleted on drop, which closes the app).
pub struct WebDriver {
    http: reqwest::blocking::Client,
    base: String,
    session: String,
    deleted: bool,
    /// Whether the current window is Quick Access (`Some(true)`) or the main
    /// window, as last seen from its URL: the app replaces both windows when
    /// it locks, and commands follow the current one to its successor.
    window_kind: std::cell::Cell<Option<bool>>,
}

fn is_quick_url(url: &str) -> bool {
    url.contains("window=quick")
}

impl WebDriver {
    /// Sends a command; `path` is relative to the session ("" for itself).
    ///
    /// The app ends its web content at lock by replacing its windows
    /// (DESIGN §6): a command that finds its window gone is sent again to
    /// the new window of the same kind.
    pub fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> WdResult<Value> {
        let result = self.send(method.clone(), path, body.clone());
        match &result {
            Err(e)
                if e.error == "no such window"
                    && path != "/window"
                    && path != "/window/handles"
                    && self.follow_window() =>
            {
                return self.send(method, path, body);
            }
            Ok(v) if path == "/url" => {
                if let Some(url) = v.as_str().filter(|u| !u.is_empty() && *u != "about:blank") {
                    self.window_kind.set(Some(is_quick_url(url)));
                }
            }
            _ => {}
        }
        result
    }

    /// Switches to the window of the kind the closed current one was;
    /// whether one appeared within 20 s.
    fn follow_window(&self) -> bool {
        let Some(quick) = self.window_kind.get() else { return false };
        poll(Duration::from_secs(20), || {
            let handles = self.send(reqwest::Method::GET, "/window/handles", None).ok()?;
            for h in handles.as_array()?.iter().filter_map(Value::as_str) {
                if self.send(reqwest::Method::POST, "/window", Some(json!({ "handle": h }))).is_err() {
                    continue;
                }
                let url = self.send(reqwest::Method::GET, "/url", None).ok();
                let url = url.as_ref().and_then(Value::as_str).unwrap_or_default();
                if !url.is_empty() && url != "about:blank" && is_quick_url(url) == quick {
                    return Some(());
                }
            }
            None
        })
        .is_some()
    }

    fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> WdResult<Value> {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        } else if method == reqwest::Method::POST {
            request = request.json(&json!({}));
        }
        let response = request.send().map_err(|e| WdError {
            status: 0,
            error: "transport".into(),
            message: format!("{method} {path}: {e}"),
        })?;
        let status = response.status().as_u16();
        let v: Value = response.json().map_err(|e| WdError {
            status,
            error: "bad response".into(),
            message: format!("{method} {path}: {e}"),
        })?;
        if (200..300).contains(&status) {
            Ok(v.get("value").cloned().unwrap_or(Value::Null))
        } else {
            Err(WdError {
                status,
                error: v["value"]["error"].as_str().unwrap_or("unknown").to_owned(),
                message: format!("{method} {path}: {}", v["value"]["message"].as_str().unwrap_or("")),
            })
        }
    }

    fn get(&self, path: &str) -> WdResult<Value> {
        self.command(reqwest::Method::GET, path, None)
    }

    fn post(&self, path: &str, body: Value) -> WdResult<Value> {
        self.command(reqwest::Method::POST, path, Some(body))
    }

    fn element_of(v: &Value) -> Option<Element> {
        v.get(ELEMENT_KEY).and_then(Value::as_str).map(|s| Element(s.to_owned()))
    }

    /// The first element matching a CSS selector, `None` if there is none.
    pub fn find(&self, css: &str) -> WdResult<Option<Element>> {
        match self.post("/element", json!({"using": "css selector", "value": css})) {
            Ok(v) => Ok(Self::element_of(&v)),
            Err(e) if e.error == "no such element" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every element matching a CSS selector.
    pub fn find_all(&self, css: &str) -> WdResult<Vec<Element>> {
        let v = self.post("/elements", json!({"using": "css selector", "value": css}))?;
        Ok(v.as_array().map(|a| a.iter().filter_map(Self::element_of).collect()).unwrap_or_default())
    }

    /// Elements matching `css` inside `parent`.
    pub fn find_all_in(&self, parent: &Element, css: &str) -> WdResult<Vec<Element>> {
        let v =
            self.post(&format!("/element/{}/elements", parent.0), json!({"using": "css selector", "value": css}))?;
        Ok(v.as_array().map(|a| a.iter().filter_map(Self::element_of).collect()).unwrap_or_default())
    }

    pub fn click(&self, el: &Element) -> WdResult<()> {
        self.post(&format!("/element/{}/click", el.0), json!({})).map(drop)
    }

    /// Types `text` into the element (W3C "Element Send Keys"; see [`keys`]).
    pub fn send_keys(&self, el: &Element, text: &str) -> WdResult<()> {
        self.post(&format!("/element/{}/value", el.0), json!({"text": text})).map(drop)
    }

    pub fn clear(&self, el: &Element) -> WdResult<()> {
        self.post(&format!("/element/{}/clear", el.0), json!({})).map(drop)
    }

    /// The rendered text.
    pub fn text(&self, el: &Element) -> WdResult<String> {
        Ok(self.get(&format!("/element/{}/text", el.0))?.as_str().unwrap_or_default().to_owned())
    }

    /// An attribute, `None` when absent.
    pub fn attribute(&self, el: &Element, name: &str) -> WdResult<Option<String>> {
        let v = self.get(&format!("/element/{}/attribute/{name}", el.0))?;
        Ok(v.as_str().map(str::to_owned))
    }

    /// A DOM property (e.g. `value`, `disabled`).
    pub fn property(&self, el: &Element, name: &str) -> WdResult<Value> {
        self.get(&format!("/element/{}/property/{name}", el.0))
    }

    pub fn is_displayed(&self, el: &Element) -> WdResult<bool> {
        Ok(self.get(&format!("/element/{}/displayed", el.0))?.as_bool().unwrap_or(false))
    }

    pub fn is_enabled(&self, el: &Element) -> WdResult<bool> {
        Ok(self.get(&format!("/element/{}/enabled", el.0))?.as_bool().unwrap_or(false))
    }

    /// Runs a synchronous script; `arguments` are its arguments.
    pub fn execute(&self, script: &str, arguments: Vec<Value>) -> WdResult<Value> {
        self.post("/execute/sync", json!({"script": script, "args": arguments}))
    }

    /// Runs an asynchronous script, which calls `arguments[arguments.length - 1]`
    /// with its result.
    pub fn execute_async(&self, script: &str, arguments: Vec<Value>) -> WdResult<Value> {
        self.post("/execute/async", json!({"script": script, "args": arguments}))
    }

    pub fn window_handles(&self) -> WdResult<Vec<String>> {
        let v = self.get("/window/handles")?;
        Ok(v.as_array().map(|a| a.iter().filter_map(|h| h.as_str().map(str::to_owned)).collect()).unwrap_or_default())
    }

    pub fn window_handle(&self) -> WdResult<String> {
        Ok(self.get("/window")?.as_str().unwrap_or_default().to_owned())
    }

    pub fn switch_to_window(&self, handle: &str) -> WdResult<()> {
        self.post("/window", json!({"handle": handle})).map(drop)
    }

    pub fn url(&self) -> WdResult<String> {
        Ok(self.get("/url")?.as_str().unwrap_or_default().to_owned())
    }

    /// A PNG of the current window's web view. (With WebKitGTK 2.50 this
    /// never answers for a Tauri web view, though it does for MiniBrowser:
    /// the desktop test photographs X windows instead.)
    pub fn screenshot(&self) -> WdResult<Vec<u8>> {
        let v = self.get("/screenshot")?;
        let b64 = v.as_str().unwrap_or_default();
        data_encoding::BASE64.decode(b64.as_bytes()).map_err(|e| WdError {
            status: 200,
            error: "bad screenshot".into(),
            message: e.to_string(),
        })
    }

    /// Presses a chord on the focused element with the Actions API: keys
    /// down in order, up in reverse (e.g. `[keys::CONTROL, "l"]`).
    pub fn chord(&self, chord: &[&str]) -> WdResult<()> {
        let mut actions: Vec<Value> = chord.iter().map(|k| json!({"type": "keyDown", "value": k})).collect();
        actions.extend(chord.iter().rev().map(|k| json!({"type": "keyUp", "value": k})));
        self.post("/actions", json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}))?;
        self.command(reqwest::Method::DELETE, "/actions", None).map(drop)
    }

    /// Ends the session (WebKitWebDriver closes the app). Idempotent.
    pub fn delete(&mut self) {
        if !self.deleted {
            self.deleted = true;
            let http = http_client(Duration::from_secs(10));
            let _ = http.delete(format!("{}/session/{}", self.base, self.session)).send();
        }
    }
}

impl Drop for WebDriver {
    fn drop(&mut self) {
        self.delete();
    }
}
