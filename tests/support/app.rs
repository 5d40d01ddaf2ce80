//! The desktop app under test: the real `tessera-desktop` binary in a
//! private X server and session bus ([`crate::webdriver::Desktop`]), driven
//! through its web view with W3C WebDriver, elements found by the
//! `data-testid`s of ui/API.md. Shared by the desktop and browser
//! end-to-end tests.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::webdriver::{Desktop, Element, WdResult, WebDriver, desktop_bin, keys, poll};

/// A master password zxcvbn scores 3 or more (the first-run minimum).
pub const MASTER: &str = "Plum lantern: 47 violins over the quiet harbour";
pub const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXP";
pub const MAIN_TITLE: &str = "Tessera";
pub const QUICK_TITLE: &str = "Tessera Quick Access";
/// `clipboardClearSeconds` for the tests that copy.
pub const CLEAR_SECONDS: u64 = 3;

/// One app at a time: each starts WebKit with software rendering, and the
/// machine may be small.
pub static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// For the UI to react; generous because `make test` may run other tests
/// beside this one (waits end as soon as the condition holds).
pub const SHORT: Duration = Duration::from_secs(20);
/// Creating a vault calibrates the KDF; unlocking runs it.
pub const KDF: Duration = Duration::from_secs(90);

/// A login, secure note, … to add through the editor.
pub struct Entry {
    pub kind: &'static str,
    pub title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub url: &'static str,
    pub otp: &'static str,
    pub notes: &'static str,
}

pub const GITHUB: Entry = Entry {
    kind: "login",
    title: "GitHub",
    username: "octocat",
    password: "gh-Vortex-5150-tangerine!",
    url: "https://github.com/login",
    otp: TOTP_SECRET,
    notes: "",
};
pub const EMAIL: Entry = Entry {
    kind: "login",
    title: "Email",
    username: "me@example.org",
    password: "mail-Quartz9-sailboat-Orbit",
    url: "https://mail.example.org",
    otp: "",
    notes: "",
};
pub const FORUM: Entry =
    Entry { kind: "login", title: "Forum", username: "plainuser", password: "letmein", url: "", otp: "", notes: "" };
pub const WIFI: Entry = Entry {
    kind: "note",
    title: "Wi-Fi at home",
    username: "",
    password: "",
    url: "",
    otp: "",
    notes: "network: harbour5G key: Seagull-Paper-7781",
};

/// Where screenshots go.
pub struct Shots {
    pub root: PathBuf,
    pub _temp: Option<tempfile::TempDir>,
}

impl Shots {
    pub fn from_env() -> Shots {
        match std::env::var_os("TESSERA_SCREENSHOTS").filter(|v| !v.is_empty()) {
            Some(dir) => Shots { root: PathBuf::from(dir), _temp: None },
            None => {
                let temp = tempfile::Builder::new().prefix("tessera-screenshots-").tempdir().expect("a temp dir");
                Shots { root: temp.path().to_path_buf(), _temp: Some(temp) }
            }
        }
    }

    pub fn path(&self, theme: &str, name: &str) -> PathBuf {
        let dir = self.root.join(theme);
        std::fs::create_dir_all(&dir).expect("create the screenshot directory");
        dir.join(format!("{name}.png"))
    }
}

/// The standard deviation of a PNG's pixels (0 = one flat colour), by
/// ImageMagick's `identify`.
pub fn image_spread(file: &Path) -> Option<f64> {
    let out =
        std::process::Command::new("identify").args(["-format", "%[fx:standard_deviation]"]).arg(file).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// The settings file the app reads at start.
pub fn write_config(desktop: &Desktop, vault: Option<&Path>, settings: Value) {
    let mut all = json!({
        "autoLockMinutes": 0,
        "lockOnSleep": true,
        "lockOnScreenLock": true,
        "clipboardClearSeconds": CLEAR_SECONDS,
        "theme": "light",
        "quickAccessShortcut": "Ctrl+Shift+Space"
    });
    for (k, v) in settings.as_object().expect("settings are an object") {
        all[k] = v.clone();
    }
    let mut config = json!({ "settings": all });
    if let Some(v) = vault {
        config["vaultPath"] = json!(v);
    }
    let dir = desktop.config_home().join("tessera");
    std::fs::create_dir_all(&dir).expect("create the config directory");
    std::fs::write(dir.join("desktop.json"), serde_json::to_vec_pretty(&config).unwrap()).expect("write desktop.json");
}

pub fn sel(test_id: &str) -> String {
    format!("[data-testid=\"{test_id}\"]")
}

/// The running app with its WebDriver session. Every helper waits with a
/// deadline and fails with the app's stderr.
pub struct App {
    // Field order is drop order: the session (which closes the app) first.
    pub wd: WebDriver,
    pub desktop: Desktop,
    pub main: String,
    pub quick: Option<String>,
    /// Whether the WebDriver's current window is Quick Access.
    pub on_quick: Cell<bool>,
    pub log_shown: Cell<bool>,
    pub started: Instant,
}

impl App {
    /// Starts the app on a fresh desktop whose config the caller wrote
    /// with `configure`.
    pub fn start(configure: impl FnOnce(&Desktop)) -> App {
        let bin = desktop_bin();
        let started = Instant::now();
        let mut desktop = Desktop::start();
        configure(&desktop);
        desktop.start_driver();
        let wd = desktop.session(&bin);
        let mut app = App {
            wd,
            desktop,
            main: String::new(),
            quick: None,
            on_quick: Cell::new(false),
            log_shown: Cell::new(false),
            started,
        };
        app.main = app.window(false);
        eprintln!("[desktop] app up in {:.1} s", started.elapsed().as_secs_f64());
        app
    }

    pub fn fail(&self, message: impl std::fmt::Display) -> ! {
        self.log_shown.set(true);
        let shot = failure_png(&self.desktop);
        let _ = self.desktop.grab_png("root", &shot);
        panic!(
            "{message}\n(after {:.1} s; screen at {})\n--- stderr of tauri-driver, WebKitWebDriver and tessera-desktop ---\n{}",
            self.started.elapsed().as_secs_f64(),
            shot.display(),
            self.desktop.log()
        );
    }

    pub fn check(&self, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.fail(message());
        }
    }

    pub fn ok<T>(&self, r: WdResult<T>, what: &str) -> T {
        r.unwrap_or_else(|e| self.fail(format!("{what}: {e}")))
    }

    /// Polls `f` until it gives `Some`, or fails saying what was awaited.
    pub fn wait<T>(&self, what: &str, timeout: Duration, f: impl FnMut() -> Option<T>) -> T {
        poll(timeout, f).unwrap_or_else(|| self.fail(format!("timed out after {timeout:?} waiting for {what}")))
    }

    /// The handle of the main (`quick` false) or Quick Access window.
    pub fn window(&self, quick: bool) -> String {
        let handle = self.wait(if quick { "the Quick Access web view" } else { "the main web view" }, SHORT, || {
            for h in self.wd.window_handles().ok()? {
                if self.wd.switch_to_window(&h).is_err() {
                    continue;
                }
                let Ok(url) = self.wd.url() else { continue };
                if url.contains("window=quick") == quick && !url.is_empty() && url != "about:blank" {
                    return Some(h);
                }
            }
            None
        });
        self.ok(self.wd.switch_to_window(&handle), "switch window");
        handle
    }

    /// Switches to the main window (the one that replaced it, after the app
    /// locked and renewed its windows).
    pub fn switch_main(&self) {
        if self.wd.switch_to_window(&self.main).is_err() {
            self.window(false);
        }
        self.on_quick.set(false);
    }

    pub fn switch_quick(&mut self) {
        self.on_quick.set(true);
        match self.quick.clone() {
            Some(h) if self.wd.switch_to_window(&h).is_ok() => {}
            _ => self.quick = Some(self.window(true)),
        }
    }

    /// A displayed element with this test id.
    pub fn el(&self, test_id: &str) -> Element {
        self.el_css(&sel(test_id), SHORT)
    }

    pub fn el_css(&self, css: &str, timeout: Duration) -> Element {
        self.wait(&format!("`{css}` to be displayed"), timeout, || {
            let el = self.wd.find(css).ok()??;
            self.wd.is_displayed(&el).ok()?.then_some(el)
        })
    }

    pub fn exists(&self, test_id: &str) -> bool {
        matches!(self.wd.find(&sel(test_id)), Ok(Some(_)))
    }

    pub fn wait_gone(&self, test_id: &str, timeout: Duration) {
        self.wait(&format!("`{test_id}` to go away"), timeout, || (!self.exists(test_id)).then_some(()));
    }

    pub fn count(&self, test_id: &str) -> usize {
        self.wd.find_all(&sel(test_id)).map(|v| v.len()).unwrap_or(0)
    }

    /// Clicks, retrying while the element is being re-rendered or covered.
    pub fn click(&self, test_id: &str) {
        self.click_css(&sel(test_id));
    }

    pub fn click_css(&self, css: &str) {
        let mut last = String::new();
        let done = poll(SHORT, || {
            let el = self.wd.find(css).ok()??;
            match self.wd.click(&el) {
                Ok(()) => Some(()),
                Err(e) => {
                    last = e.to_string();
                    None
                }
            }
        });
        if done.is_none() {
            self.fail(format!("cannot click `{css}`: {last}"));
        }
    }

    /// Types into the element (which WebDriver focuses first).
    pub fn type_into(&self, test_id: &str, text: &str) {
        let el = self.el(test_id);
        self.ok(self.wd.send_keys(&el, text), &format!("type into {test_id}"));
    }

    /// Replaces the element's text as a user would: select all, delete, type.
    pub fn replace(&self, test_id: &str, text: &str) {
        let el = self.el(test_id);
        // Separate calls: WebKitWebDriver drops what follows a Backspace
        // in the same "Element Send Keys".
        let what = format!("replace the text of {test_id}");
        self.ok(self.wd.send_keys(&el, &format!("{}a{}", keys::CONTROL, keys::NULL)), &what);
        self.ok(self.wd.send_keys(&el, keys::BACKSPACE), &what);
        if !text.is_empty() {
            self.ok(self.wd.send_keys(&el, text), &what);
        }
        let value = self.value(test_id);
        self.check(value == text, || format!("{test_id} holds {value:?} after typing {text:?}"));
    }

    pub fn value(&self, test_id: &str) -> String {
        let el = self.el(test_id);
        self.ok(self.wd.property(&el, "value"), "read a value").as_str().unwrap_or_default().to_owned()
    }

    pub fn text(&self, test_id: &str) -> String {
        let el = self.el(test_id);
        self.ok(self.wd.text(&el), &format!("text of {test_id}"))
    }

    pub fn attr(&self, test_id: &str, name: &str) -> Option<String> {
        let el = self.el(test_id);
        self.ok(self.wd.attribute(&el, name), &format!("attribute {name} of {test_id}"))
    }

    /// Waits for the element's attribute to satisfy `ok`, returns it.
    pub fn wait_attr(&self, test_id: &str, name: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        let mut last = None;
        let found = poll(timeout, || {
            let el = self.wd.find(&sel(test_id)).ok()??;
            let v = self.wd.attribute(&el, name).ok()??;
            let good = ok(&v);
            last = Some(v.clone());
            good.then_some(v)
        });
        found.unwrap_or_else(|| self.fail(format!("{test_id}[{name}] never became right; last value: {last:?}")))
    }

    /// The freedesktop screensaver says the screen locked (session bus).
    pub fn screen_lock_signal(&self) {
        let out = self.desktop.run(
            "dbus-send",
            &[
                "--session",
                "--type=signal",
                "/org/freedesktop/ScreenSaver",
                "org.freedesktop.ScreenSaver.ActiveChanged",
                "boolean:true",
            ],
        );
        self.check(out.status.success(), || format!("dbus-send failed: {}", String::from_utf8_lossy(&out.stderr)));
    }

    /// Waits until a screen's root element is displayed.
    pub fn screen(&self, test_id: &str, timeout: Duration) {
        self.el_css(&sel(test_id), timeout);
    }

    /// Presses a chord on the element (`[CONTROL, "l"]`).
    pub fn chord_on(&self, test_id: &str, chord: &[&str]) {
        let el = self.el(test_id);
        let mut text: String = chord.concat();
        text.push_str(keys::NULL);
        self.ok(self.wd.send_keys(&el, &text), &format!("press {chord:?} in {test_id}"));
    }

    /// Calls a Tauri command from the current window's web view, as the UI
    /// would; `Ok(result)` or `Err(rejection)`.
    pub fn invoke(&self, command: &str, args: Value) -> Result<Value, Value> {
        let script = r#"
            const done = arguments[arguments.length - 1];
            window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then(
                (value) => done({ ok: value === undefined ? null : value }),
                (error) => done({ err: error === undefined ? null : error }),
            );
        "#;
        let v = self.ok(self.wd.execute_async(script, vec![json!(command), args]), &format!("invoke {command}"));
        match (v.get("ok"), v.get("err")) {
            (Some(ok), _) => Ok(ok.clone()),
            (None, Some(err)) => Err(err.clone()),
            _ => self.fail(format!("invoke {command} gave neither a result nor an error: {v}")),
        }
    }

    /// `data-theme` of the page's root element ('' for the system theme).
    pub fn page_theme(&self) -> String {
        let v = self.ok(self.wd.execute("return document.documentElement.dataset.theme || '';", vec![]), "theme");
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Saves a screenshot of the current window and checks it is not one
    /// flat colour (a black or empty web view).
    ///
    /// The picture is the X window as shown on the screen: WebKitWebDriver's
    /// "Take Screenshot" never answers for the app's web views here (it
    /// does for MiniBrowser), so it is not used.
    pub fn shot(&self, shots: &Shots, theme: &str, name: &str) {
        self.dismiss_toasts();
        // Let transitions (the TOTP ring, hover, focus) settle a little.
        std::thread::sleep(Duration::from_millis(400));
        let file = shots.path(theme, name);
        let title = if self.on_quick.get() { QUICK_TITLE } else { MAIN_TITLE };
        let windows = self.desktop.visible_windows(title);
        let Some(window) = windows.first() else {
            self.fail(format!("no visible X window titled {title:?} to photograph for {name}"));
        };
        if let Err(e) = self.desktop.grab_png(window, &file) {
            self.fail(e);
        }
        let spread = image_spread(&file);
        self.check(spread.is_some_and(|s| s > 0.02), || {
            format!("screenshot {} looks blank (pixel standard deviation {spread:?})", file.display())
        });
    }

    pub fn config(&self) -> Value {
        let file = self.desktop.config_home().join("tessera/desktop.json");
        let bytes = std::fs::read(&file).unwrap_or_else(|e| self.fail(format!("read {}: {e}", file.display())));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| self.fail(format!("desktop.json is not JSON: {e}")))
    }

    // ----- Tessera flows -----

    /// Fills in and submits the first-run form; returns the recovery code's
    /// groups. `path` None keeps the suggested default.
    pub fn create_vault(&self, path: Option<&Path>, shots: &Shots, theme: &str) -> Vec<String> {
        self.screen("first-run-screen", SHORT);
        if let Some(p) = path {
            self.replace("first-run-path", p.to_str().expect("utf-8 path"));
        }
        self.type_into("first-run-password", MASTER);
        self.type_into("first-run-password-confirm", "wrong");
        self.el("first-run-mismatch");
        self.replace("first-run-password-confirm", MASTER);
        self.wait_gone("first-run-mismatch", SHORT);
        self.wait_attr("password-strength", "data-score", SHORT, |s| s == "3" || s == "4");
        self.wait("the Create button to be enabled", SHORT, || {
            let el = self.wd.find(&sel("first-run-create")).ok()??;
            self.wd.is_enabled(&el).ok()?.then_some(())
        });
        self.shot(shots, theme, "first-run");
        self.click("first-run-create");
        let code = self.el_css(&sel("recovery-code"), KDF);
        let groups: Vec<String> = self
            .ok(self.wd.find_all_in(&code, ".group"), "recovery code groups")
            .iter()
            .map(|g| self.ok(self.wd.text(g), "a recovery code group").trim().to_owned())
            .collect();
        self.check(
            groups.len() == 8 && groups.iter().all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_alphanumeric())),
            || format!("the recovery code should be 8 groups of 4 characters, is {groups:?}"),
        );
        let text = self.text("recovery-code").split_whitespace().collect::<String>();
        self.check(text == groups.concat(), || format!("recovery-code text {text:?} is not its groups {groups:?}"));
        self.shot(shots, theme, "recovery-code");
        self.click("recovery-code-saved");
        // A wrong group is refused…
        let last = groups.last().expect("8 groups").clone();
        let wrong = if last == "AAAA" { "BBBB" } else { "AAAA" };
        self.type_into("recovery-confirm-input", wrong);
        self.click("recovery-confirm-submit");
        self.el("recovery-confirm-error");
        self.check(self.exists("first-run-screen"), || "a wrong recovery group left the first-run screen".into());
        // … the right one, typed in lower case, is taken.
        self.replace("recovery-confirm-input", &last.to_lowercase());
        self.click("recovery-confirm-submit");
        self.screen("main-screen", SHORT);
        groups
    }

    /// Adds an item through the editor; returns its id. `before_save` runs
    /// with the editor filled in.
    pub fn add(&self, e: &Entry, before_save: impl FnOnce(&App)) -> String {
        self.click("new-item-button");
        self.screen("editor", SHORT);
        if e.kind != "login" {
            self.click_css(&format!("{} option[value=\"{}\"]", sel("editor-type"), e.kind));
            let chosen = self.value("editor-type");
            self.check(chosen == e.kind, || format!("editor-type is {chosen:?} after choosing {}", e.kind));
            self.wait_gone("editor-otp", SHORT);
        }
        self.type_into("editor-title", e.title);
        if !e.username.is_empty() {
            self.type_into("editor-username", e.username);
        }
        if !e.password.is_empty() {
            self.type_into("editor-password", e.password);
        }
        if !e.url.is_empty() {
            if !self.exists("editor-url-0") {
                self.click("editor-add-url");
            }
            self.type_into("editor-url-0", e.url);
        }
        if !e.otp.is_empty() {
            self.type_into("editor-otp", e.otp);
        }
        if !e.notes.is_empty() {
            self.type_into("editor-notes", e.notes);
        }
        before_save(self);
        self.click("editor-save");
        self.wait_gone("editor", SHORT);
        self.wait(&format!("the item view of {:?}", e.title), SHORT, || {
            let el = self.wd.find(&sel("item-view-title")).ok()??;
            (self.wd.text(&el).ok()? == e.title).then_some(())
        });
        self.attr("item-view", "data-id").unwrap_or_else(|| self.fail("item-view has no data-id"))
    }

    /// Searches the list and waits for `expected` rows; returns their
    /// (id, title) in order.
    pub fn search(&self, query: &str, expected: usize) -> Vec<(String, String)> {
        self.replace("search-input", query);
        self.wait(&format!("{expected} result(s) for {query:?}"), SHORT, || {
            let list = self.wd.find(&sel("item-list")).ok()??;
            if self.wd.attribute(&list, "data-total").ok()?? != expected.to_string() {
                return None;
            }
            let mut rows = Vec::new();
            for row in self.wd.find_all(&sel("item-row")).ok()? {
                let id = self.wd.attribute(&row, "data-id").ok()??;
                // textContent: WebKitWebDriver's rendered text of a row's title is
                // empty (the rows are absolutely placed in a `contain: strict` box).
                let title = self
                    .wd
                    .find_all_in(&row, ".title")
                    .ok()?
                    .first()
                    .and_then(|t| self.wd.property(t, "textContent").ok()?.as_str().map(|s| s.trim().to_owned()))?;
                if id.is_empty() {
                    return None; // still loading
                }
                rows.push((id, title));
            }
            (rows.len() == expected).then_some(rows)
        })
    }

    /// Clicks the row of item `id` and waits for its view.
    pub fn open(&self, id: &str) {
        self.click_css(&format!("{}[data-id=\"{id}\"]", sel("item-row")));
        self.wait_attr("item-view", "data-id", SHORT, |v| v == id);
    }

    /// Unlocks with the master password (pressing Enter in the field).
    pub fn unlock(&self) {
        self.screen("unlock-screen", SHORT);
        self.replace("unlock-password", MASTER);
        self.type_into("unlock-password", keys::ENTER);
        self.screen("main-screen", KDF);
    }

    /// Shows Quick Access with the global shortcut, switches to it and
    /// waits until it is visible on the X screen.
    pub fn show_quick(&mut self) {
        self.desktop.xdotool_key("ctrl+shift+space");
        self.wait("the Quick Access window to be mapped after Ctrl+Shift+Space", SHORT, || {
            self.desktop.window_visible(QUICK_TITLE).then_some(())
        });
        self.switch_quick();
        self.screen("quick-access", SHORT);
    }

    /// Types into Quick Access' search until it shows `expected` results
    /// (typing again if the window's reset on show cleared the query);
    /// returns their ids.
    pub fn quick_search(&self, query: &str, expected: usize) -> Vec<String> {
        let deadline = Instant::now() + SHORT;
        loop {
            self.replace("quick-search", query);
            let got = poll(Duration::from_secs(2), || {
                if self.value("quick-search") != query {
                    return Some(None); // reset under us: type again
                }
                let rows = self.wd.find_all(&sel("quick-result")).ok()?;
                if rows.len() != expected {
                    return None;
                }
                rows.iter()
                    .map(|r| self.wd.attribute(r, "data-id").ok().flatten())
                    .collect::<Option<Vec<_>>>()
                    .map(Some)
            });
            if let Some(Some(ids)) = got {
                return ids;
            }
            if Instant::now() > deadline {
                let n = self.count("quick-result");
                self.fail(format!("Quick Access shows {n} result(s) for {query:?}, expected {expected}"));
            }
        }
    }

    /// Waits until the X clipboard holds `want` (`None`: empty or unowned).
    pub fn wait_clipboard(&self, want: Option<&str>, timeout: Duration) {
        let mut last = None;
        let ok = poll(timeout, || {
            let now = self.desktop.clipboard();
            let good = now.as_deref() == want;
            last = now;
            good.then_some(())
        });
        if ok.is_none() {
            self.fail(format!("the clipboard holds {last:?}, expected {want:?}"));
        }
    }

    /// Closes every toast (they would cover part of a screenshot).
    pub fn dismiss_toasts(&self) {
        let css = format!("{} button[aria-label=\"Dismiss\"]", sel("toast"));
        self.wait("the toasts to be dismissed", SHORT, || {
            let buttons = self.wd.find_all(&css).ok()?;
            for b in &buttons {
                let _ = self.wd.click(b);
            }
            buttons.is_empty().then_some(())
        });
    }

    pub fn wait_toast(&self, contains: &str) {
        self.wait(&format!("a toast saying {contains:?}"), SHORT, || {
            let toasts = self.wd.find_all(&sel("toast")).ok()?;
            toasts.iter().any(|t| self.wd.text(t).is_ok_and(|s| s.contains(contains))).then_some(())
        });
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.log_shown.get() {
            let shot = failure_png(&self.desktop);
            let _ = self.desktop.grab_png("root", &shot);
            eprintln!("--- the screen at the failure: {} ---", shot.display());
            eprintln!(
                "--- the test failed; stderr of tauri-driver, WebKitWebDriver and tessera-desktop ---\n{}",
                self.desktop.log()
            );
        }
        eprintln!("[desktop] app closed after {:.1} s", self.started.elapsed().as_secs_f64());
    }
}

/// Where the screen of `desktop` is saved when a test fails (kept after
/// the run); one file per X display, so a test with two apps keeps both.
pub fn failure_png(desktop: &Desktop) -> PathBuf {
    let name = std::thread::current().name().unwrap_or("desktop").replace("::", "-");
    let display = desktop.display().replace(':', "");
    std::env::temp_dir().join(format!("tessera-desktop-failure-{name}-display{display}.png"))
}

/// The RFC 6238 code oathtool computes for `secret` (base32) at Unix time `at`.
pub fn oathtool_at(secret: &str, at: u64) -> String {
    let out = std::process::Command::new("oathtool")
        .args(["--totp", "-b", "-N", &format!("@{at}"), secret])
        .output()
        .expect("oathtool runs (package oathtool; `make test` installs it)");
    assert!(out.status.success(), "oathtool failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// RFC 6238 codes for `secret` at the time steps around `at` (oathtool).
pub fn totp_codes_around(secret: &str, at: u64) -> Vec<String> {
    [at - 30, at, at + 30].iter().map(|&t| oathtool_at(secret, t)).collect()
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs()
}

// --- A QR code on the screen, for the app to scan (tests/desktop_qr.rs,
// tests/desktop_identity_qr.rs) ---

/// The title of the X window showing the code.
pub const VIEWER_TITLE: &str = "tessera-qr-test";

/// A PNG of a QR code of `text`, `scale` pixels a module, with the
/// standard's 4-module quiet zone; returns its side in pixels.
pub fn write_qr_png(text: &str, scale: u32, file: &Path) -> u32 {
    let code = qrcode::QrCode::new(text.as_bytes()).expect("the text fits a QR code");
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let side = (modules + 8) * scale;
    let picture = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / scale).wrapping_sub(4), (y / scale).wrapping_sub(4));
        let on = mx < modules && my < modules && colors[(my * modules + mx) as usize] == qrcode::Color::Dark;
        image::Luma([if on { 0 } else { 255 }])
    });
    picture.save_with_format(file, image::ImageFormat::Png).expect("write the QR code's PNG");
    side
}

/// `display` showing a picture in a window of its own: killed on drop.
pub struct Viewer(std::process::Child);

impl Viewer {
    /// Shows `file` at (`x`, `y`) of the screen (no window manager moves
    /// it elsewhere).
    pub fn show(desktop: &Desktop, file: &Path, x: u32, y: u32) -> Viewer {
        use std::process::{Command, Stdio};
        let child = desktop
            .env(&mut Command::new("display"))
            .args(["-title", VIEWER_TITLE, "-geometry", &format!("+{x}+{y}")])
            .arg(file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("display runs (package imagemagick; `make test` installs it)");
        Viewer(child)
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until the viewer's window is on the screen with the picture drawn
/// in it: `display` maps its window before it paints, and a scan of a blank
/// window would find no code.
pub fn wait_for_viewer(app: &App) {
    let shot = app.desktop.dir().join("viewer.png");
    app.wait("the QR code drawn on the screen", SHORT, || {
        let window = app.desktop.visible_windows(VIEWER_TITLE).into_iter().next()?;
        app.desktop.grab_png(&window, &shot).ok()?;
        // Black and white modules: far from one flat colour.
        image_spread(&shot).is_some_and(|s| s > 0.3).then_some(())
    });
}
