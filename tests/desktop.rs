//! The desktop app end to end: the real `tessera-desktop` binary in a
//! private X server and session bus, driven through its web view with W3C
//! WebDriver (`tauri-driver` + `WebKitWebDriver`), elements found by the
//! `data-testid`s of ui/API.md.
//!
//! What is checked beyond the web view is checked where a user would see
//! it: the X clipboard (`xclip`), the global shortcut (`xdotool`), the
//! screen-lock signal on the session bus (`dbus-send`), the vault and the
//! settings file on disk.
//!
//! Screenshots of every screen, light and dark, are written to
//! `$TESSERA_SCREENSHOTS/{light,dark}/NAME.png` (to refresh the docs:
//! `TESSERA_SCREENSHOTS=docs/screenshots`), else to a temporary directory.
//!
//! Needs `target/<profile>/tessera-desktop` (`cargo build -p tessera-desktop`;
//! `make test` builds it) and `tauri-driver` (`cargo install tauri-driver --locked`).

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_test_support::webdriver::{Desktop, Element, WdResult, WebDriver, desktop_bin, keys, poll};

/// A master password zxcvbn scores 3 or more (the first-run minimum).
const MASTER: &str = "Plum lantern: 47 violins over the quiet harbour";
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXP";
const MAIN_TITLE: &str = "Tessera";
const QUICK_TITLE: &str = "Tessera Quick Access";
/// `clipboardClearSeconds` for the tests that copy.
const CLEAR_SECONDS: u64 = 3;

/// One app at a time: each starts WebKit with software rendering, and the
/// machine may be small.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// For the UI to react; generous because `make test` may run other tests
/// beside this one (waits end as soon as the condition holds).
const SHORT: Duration = Duration::from_secs(20);
/// Creating a vault calibrates the KDF; unlocking runs it.
const KDF: Duration = Duration::from_secs(90);

/// A login, secure note, … to add through the editor.
struct Entry {
    kind: &'static str,
    title: &'static str,
    username: &'static str,
    password: &'static str,
    url: &'static str,
    otp: &'static str,
    notes: &'static str,
}

const GITHUB: Entry = Entry {
    kind: "login",
    title: "GitHub",
    username: "octocat",
    password: "gh-Vortex-5150-tangerine!",
    url: "https://github.com/login",
    otp: TOTP_SECRET,
    notes: "",
};
const EMAIL: Entry = Entry {
    kind: "login",
    title: "Email",
    username: "me@example.org",
    password: "mail-Quartz9-sailboat-Orbit",
    url: "https://mail.example.org",
    otp: "",
    notes: "",
};
const FORUM: Entry =
    Entry { kind: "login", title: "Forum", username: "plainuser", password: "letmein", url: "", otp: "", notes: "" };
const WIFI: Entry = Entry {
    kind: "note",
    title: "Wi-Fi at home",
    username: "",
    password: "",
    url: "",
    otp: "",
    notes: "network: harbour5G key: Seagull-Paper-7781",
};

/// Where screenshots go.
struct Shots {
    root: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Shots {
    fn from_env() -> Shots {
        match std::env::var_os("TESSERA_SCREENSHOTS").filter(|v| !v.is_empty()) {
            Some(dir) => Shots { root: PathBuf::from(dir), _temp: None },
            None => {
                let temp = tempfile::Builder::new().prefix("tessera-screenshots-").tempdir().expect("a temp dir");
                Shots { root: temp.path().to_path_buf(), _temp: Some(temp) }
            }
        }
    }

    fn path(&self, theme: &str, name: &str) -> PathBuf {
        let dir = self.root.join(theme);
        std::fs::create_dir_all(&dir).expect("create the screenshot directory");
        dir.join(format!("{name}.png"))
    }
}

/// The standard deviation of a PNG's pixels (0 = one flat colour), by
/// ImageMagick's `identify`.
fn image_spread(file: &Path) -> Option<f64> {
    let out =
        std::process::Command::new("identify").args(["-format", "%[fx:standard_deviation]"]).arg(file).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// The settings file the app reads at start.
fn write_config(desktop: &Desktop, vault: Option<&Path>, settings: Value) {
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

fn sel(test_id: &str) -> String {
    format!("[data-testid=\"{test_id}\"]")
}

/// The running app with its WebDriver session. Every helper waits with a
/// deadline and fails with the app's stderr.
struct App {
    // Field order is drop order: the session (which closes the app) first.
    wd: WebDriver,
    desktop: Desktop,
    main: String,
    quick: Option<String>,
    /// Whether the WebDriver's current window is Quick Access.
    on_quick: Cell<bool>,
    log_shown: Cell<bool>,
    started: Instant,
}

impl App {
    /// Starts the app on a fresh desktop whose config the caller wrote
    /// with `configure`.
    fn start(configure: impl FnOnce(&Desktop)) -> App {
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

    fn fail(&self, message: impl std::fmt::Display) -> ! {
        self.log_shown.set(true);
        let shot = failure_png();
        let _ = self.desktop.grab_png("root", &shot);
        panic!(
            "{message}\n(after {:.1} s; screen at {})\n--- stderr of tauri-driver, WebKitWebDriver and tessera-desktop ---\n{}",
            self.started.elapsed().as_secs_f64(),
            shot.display(),
            self.desktop.log()
        );
    }

    fn check(&self, ok: bool, message: impl FnOnce() -> String) {
        if !ok {
            self.fail(message());
        }
    }

    fn ok<T>(&self, r: WdResult<T>, what: &str) -> T {
        r.unwrap_or_else(|e| self.fail(format!("{what}: {e}")))
    }

    /// Polls `f` until it gives `Some`, or fails saying what was awaited.
    fn wait<T>(&self, what: &str, timeout: Duration, f: impl FnMut() -> Option<T>) -> T {
        poll(timeout, f).unwrap_or_else(|| self.fail(format!("timed out after {timeout:?} waiting for {what}")))
    }

    /// The handle of the main (`quick` false) or Quick Access window.
    fn window(&self, quick: bool) -> String {
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

    fn switch_main(&self) {
        self.ok(self.wd.switch_to_window(&self.main), "switch to the main window");
        self.on_quick.set(false);
    }

    fn switch_quick(&mut self) {
        self.on_quick.set(true);
        match self.quick.clone() {
            Some(h) => self.ok(self.wd.switch_to_window(&h), "switch to the Quick Access window"),
            None => self.quick = Some(self.window(true)),
        }
    }

    /// A displayed element with this test id.
    fn el(&self, test_id: &str) -> Element {
        self.el_css(&sel(test_id), SHORT)
    }

    fn el_css(&self, css: &str, timeout: Duration) -> Element {
        self.wait(&format!("`{css}` to be displayed"), timeout, || {
            let el = self.wd.find(css).ok()??;
            self.wd.is_displayed(&el).ok()?.then_some(el)
        })
    }

    fn exists(&self, test_id: &str) -> bool {
        matches!(self.wd.find(&sel(test_id)), Ok(Some(_)))
    }

    fn wait_gone(&self, test_id: &str, timeout: Duration) {
        self.wait(&format!("`{test_id}` to go away"), timeout, || (!self.exists(test_id)).then_some(()));
    }

    fn count(&self, test_id: &str) -> usize {
        self.wd.find_all(&sel(test_id)).map(|v| v.len()).unwrap_or(0)
    }

    /// Clicks, retrying while the element is being re-rendered or covered.
    fn click(&self, test_id: &str) {
        self.click_css(&sel(test_id));
    }

    fn click_css(&self, css: &str) {
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
    fn type_into(&self, test_id: &str, text: &str) {
        let el = self.el(test_id);
        self.ok(self.wd.send_keys(&el, text), &format!("type into {test_id}"));
    }

    /// Replaces the element's text as a user would: select all, delete, type.
    fn replace(&self, test_id: &str, text: &str) {
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

    fn value(&self, test_id: &str) -> String {
        let el = self.el(test_id);
        self.ok(self.wd.property(&el, "value"), "read a value").as_str().unwrap_or_default().to_owned()
    }

    fn text(&self, test_id: &str) -> String {
        let el = self.el(test_id);
        self.ok(self.wd.text(&el), &format!("text of {test_id}"))
    }

    fn attr(&self, test_id: &str, name: &str) -> Option<String> {
        let el = self.el(test_id);
        self.ok(self.wd.attribute(&el, name), &format!("attribute {name} of {test_id}"))
    }

    /// Waits for the element's attribute to satisfy `ok`, returns it.
    fn wait_attr(&self, test_id: &str, name: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
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
    fn screen_lock_signal(&self) {
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
    fn screen(&self, test_id: &str, timeout: Duration) {
        self.el_css(&sel(test_id), timeout);
    }

    /// Presses a chord on the element (`[CONTROL, "l"]`).
    fn chord_on(&self, test_id: &str, chord: &[&str]) {
        let el = self.el(test_id);
        let mut text: String = chord.concat();
        text.push_str(keys::NULL);
        self.ok(self.wd.send_keys(&el, &text), &format!("press {chord:?} in {test_id}"));
    }

    /// Calls a Tauri command from the current window's web view, as the UI
    /// would; `Ok(result)` or `Err(rejection)`.
    fn invoke(&self, command: &str, args: Value) -> Result<Value, Value> {
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
    fn page_theme(&self) -> String {
        let v = self.ok(self.wd.execute("return document.documentElement.dataset.theme || '';", vec![]), "theme");
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Saves a screenshot of the current window and checks it is not one
    /// flat colour (a black or empty web view).
    ///
    /// The picture is the X window as shown on the screen: WebKitWebDriver's
    /// "Take Screenshot" never answers for the app's web views here (it
    /// does for MiniBrowser), so it is not used.
    fn shot(&self, shots: &Shots, theme: &str, name: &str) {
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

    fn config(&self) -> Value {
        let file = self.desktop.config_home().join("tessera/desktop.json");
        let bytes = std::fs::read(&file).unwrap_or_else(|e| self.fail(format!("read {}: {e}", file.display())));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| self.fail(format!("desktop.json is not JSON: {e}")))
    }

    // ----- Tessera flows -----

    /// Fills in and submits the first-run form; returns the recovery code's
    /// groups. `path` None keeps the suggested default.
    fn create_vault(&self, path: Option<&Path>, shots: &Shots, theme: &str) -> Vec<String> {
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
    fn add(&self, e: &Entry, before_save: impl FnOnce(&App)) -> String {
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
    fn search(&self, query: &str, expected: usize) -> Vec<(String, String)> {
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
    fn open(&self, id: &str) {
        self.click_css(&format!("{}[data-id=\"{id}\"]", sel("item-row")));
        self.wait_attr("item-view", "data-id", SHORT, |v| v == id);
    }

    /// Unlocks with the master password (pressing Enter in the field).
    fn unlock(&self) {
        self.screen("unlock-screen", SHORT);
        self.replace("unlock-password", MASTER);
        self.type_into("unlock-password", keys::ENTER);
        self.screen("main-screen", KDF);
    }

    /// Shows Quick Access with the global shortcut, switches to it and
    /// waits until it is visible on the X screen.
    fn show_quick(&mut self) {
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
    fn quick_search(&self, query: &str, expected: usize) -> Vec<String> {
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
    fn wait_clipboard(&self, want: Option<&str>, timeout: Duration) {
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
    fn dismiss_toasts(&self) {
        let css = format!("{} button[aria-label=\"Dismiss\"]", sel("toast"));
        self.wait("the toasts to be dismissed", SHORT, || {
            let buttons = self.wd.find_all(&css).ok()?;
            for b in &buttons {
                let _ = self.wd.click(b);
            }
            buttons.is_empty().then_some(())
        });
    }

    fn wait_toast(&self, contains: &str) {
        self.wait(&format!("a toast saying {contains:?}"), SHORT, || {
            let toasts = self.wd.find_all(&sel("toast")).ok()?;
            toasts.iter().any(|t| self.wd.text(t).is_ok_and(|s| s.contains(contains))).then_some(())
        });
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.log_shown.get() {
            let shot = failure_png();
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

/// Where the screen is saved when a test fails (kept after the run).
fn failure_png() -> PathBuf {
    let name = std::thread::current().name().unwrap_or("desktop").replace("::", "-");
    std::env::temp_dir().join(format!("tessera-desktop-failure-{name}.png"))
}

/// RFC 6238 codes for `secret` at the time steps around `at` (oathtool).
fn totp_codes_around(secret: &str, at: u64) -> Vec<String> {
    [at - 30, at, at + 30]
        .iter()
        .map(|t| {
            let out = std::process::Command::new("oathtool")
                .args(["--totp", "-b", "-N", &format!("@{t}"), secret])
                .output()
                .expect("oathtool runs (package oathtool; `make test` installs it)");
            assert!(out.status.success(), "oathtool failed: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        })
        .collect()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs()
}

/// Every main-window screen, and Quick Access, photographed in `theme`.
/// Expects GitHub live and one item in the trash.
fn tour(app: &mut App, shots: &Shots, theme: &str, github: &str) {
    app.switch_main();
    app.click("nav-items");
    app.search("", 3);
    app.shot(shots, theme, "list");

    let rows = app.search("GitHub", 1);
    app.open(&rows[0].0);
    app.check(rows[0].0 == github, || "GitHub's id changed".into());
    app.wait_attr("totp-code", "data-code", SHORT, |c| c.len() == 6);
    app.shot(shots, theme, "item-view");

    app.click("item-edit-button");
    app.screen("editor", SHORT);
    app.check(app.value("editor-title") == "GitHub", || "the editor did not load GitHub".into());
    app.shot(shots, theme, "editor");
    app.click("editor-cancel");
    app.wait_gone("editor", SHORT);
    app.screen("item-view", SHORT);

    app.click("nav-generator");
    app.screen("generator-panel", SHORT);
    app.wait("a generated password", SHORT, || {
        let el = app.wd.find(&sel("generator-value")).ok()??;
        (!app.wd.text(&el).ok()?.is_empty()).then_some(())
    });
    app.shot(shots, theme, "generator");

    app.click("nav-health");
    app.screen("health-screen", SHORT);
    // "Forum" has a weak password.
    app.wait("the weak password in the health report", SHORT, || {
        let el = app.wd.find(&sel("health-weak")).ok()??;
        app.wd.text(&el).ok()?.contains("Forum").then_some(())
    });
    app.shot(shots, theme, "health");

    app.click("nav-trash");
    app.screen("trash-screen", SHORT);
    app.wait_attr("item-list", "data-total", SHORT, |t| t == "1");
    app.click("item-row");
    app.screen("trash-restore", SHORT);
    app.shot(shots, theme, "trash");

    app.click("nav-audit");
    app.screen("audit-screen", SHORT);
    app.el_css(&format!("{}[data-event=\"vault_created\"]", sel("audit-entry")), SHORT);
    app.shot(shots, theme, "audit-log");

    app.click("nav-settings");
    app.screen("settings-screen", SHORT);
    app.el("settings-theme");
    app.shot(shots, theme, "settings");

    app.click("help-button");
    app.screen("shortcut-help", SHORT);
    app.shot(shots, theme, "shortcut-help");
    let help = app.el("shortcut-help");
    app.ok(app.wd.send_keys(&help, keys::ESCAPE), "Esc in the shortcut help");
    app.wait_gone("shortcut-help", SHORT);

    app.click("nav-items");
    app.click("lock-button");
    app.screen("unlock-screen", SHORT);
    app.shot(shots, theme, "unlock");
    app.unlock();

    app.show_quick();
    app.quick_search("", 3);
    let want = if theme == "dark" { "dark" } else { "light" };
    let got = app.page_theme();
    app.check(got == want, || format!("Quick Access has theme {got:?}, expected {want:?}"));
    app.shot(shots, theme, "quick-access");
    let search = app.el("quick-search");
    app.ok(app.wd.send_keys(&search, keys::ESCAPE), "Esc in Quick Access");
    app.wait("Esc to hide Quick Access", SHORT, || (!app.desktop.window_visible(QUICK_TITLE)).then_some(()));
    app.switch_main();
}

/// The whole story of ui/API.md on one app: first run, items, search,
/// TOTP, clipboard, lock, screen lock, Quick Access, no secret in the web
/// layer, and screenshots of every screen in both themes.
#[test]
fn desktop_app_end_to_end() {
    let _serial = serial();
    let shots = Shots::from_env();
    let mut app = App::start(|d| write_config(d, None, json!({ "theme": "light" })));
    let t = Instant::now();
    let step = |name: &str| eprintln!("[desktop] {:>5.1} s  {name}", t.elapsed().as_secs_f64());

    // 1. First run.
    step("first run");
    let vault = app.desktop.dir().join("vaults/personal.tessera");
    app.create_vault(Some(&vault), &shots, "light");
    app.check(vault.is_file(), || format!("no vault file at {}", vault.display()));
    let config = app.config();
    app.check(config["vaultPath"] == json!(vault), || format!("desktop.json does not remember the vault: {config}"));
    app.check(app.exists("item-list-empty"), || "a new vault should show the empty list".into());

    // 2. Items.
    step("add items");
    let github = app.add(&GITHUB, |_| {});
    let email = app.add(&EMAIL, |_| {});
    let forum = app.add(&FORUM, |_| {});
    let wifi = app.add(&WIFI, |_| {});
    app.check([&github, &email, &forum, &wifi].iter().all(|id| id.len() == 32), || "ids are 32 hex chars".into());

    // 3. Search.
    step("search");
    let rows = app.search("git", 1);
    app.check(rows[0] == (github.clone(), "GitHub".to_owned()), || format!("searching 'git' gave {rows:?}"));
    let count = app.text("item-count");
    app.check(count == "1", || format!("item-count says {count:?}"));
    app.search("zzz-nothing", 0);
    app.screen("item-list-empty", SHORT);
    let all = app.search("", 4);
    let titles: Vec<&str> = all.iter().map(|(_, t)| t.as_str()).collect();
    app.check(titles == ["Email", "Forum", "GitHub", "Wi-Fi at home"], || format!("title order: {titles:?}"));

    // 4. The TOTP code is RFC 6238's.
    step("totp");
    app.search("GitHub", 1);
    app.open(&github);
    let username = app.text("item-username");
    app.check(username == GITHUB.username, || format!("item-username is {username:?}"));
    let code = app.wait_attr("totp-code", "data-code", SHORT, |c| c.len() == 6);
    let expected = totp_codes_around(TOTP_SECRET, unix_now());
    app.check(expected.contains(&code), || format!("totp-code {code} is none of {expected:?} (RFC 6238 by oathtool)"));
    let remaining = app.text("totp-remaining");
    let secs: u64 = remaining.trim_end_matches('s').parse().unwrap_or(99);
    app.check((1..=30).contains(&secs), || format!("totp-remaining says {remaining:?}"));

    // 5. Copying the password: marked secret, cleared after the timeout,
    // but not when the user copied something else meanwhile.
    step("clipboard");
    app.click("copy-password");
    app.wait_clipboard(Some(GITHUB.password), Duration::from_secs(5));
    let copied = Instant::now();
    let targets = app.desktop.clipboard_targets();
    app.check(targets.iter().any(|t| t == "x-kde-passwordManagerHint"), || {
        format!("the copied password is not marked secret; TARGETS: {targets:?}")
    });
    app.wait_toast(&format!("clears in {CLEAR_SECONDS} s"));
    app.wait_clipboard(None, Duration::from_secs(CLEAR_SECONDS + 7));
    let cleared_after = copied.elapsed();
    app.check(cleared_after >= Duration::from_millis(CLEAR_SECONDS * 1000 - 1500), || {
        format!("the clipboard was cleared after {cleared_after:?}, before the {CLEAR_SECONDS} s timeout")
    });
    app.click("copy-password");
    app.wait_clipboard(Some(GITHUB.password), Duration::from_secs(5));
    let mut other = app.desktop.set_clipboard("other");
    app.wait_clipboard(Some("other"), Duration::from_secs(5));
    let until = Instant::now() + Duration::from_secs(CLEAR_SECONDS + 2);
    while Instant::now() < until {
        let now = app.desktop.clipboard();
        app.check(now.as_deref() == Some("other"), || {
            format!("the app cleared or changed what the user copied after it: clipboard holds {now:?}")
        });
        std::thread::sleep(Duration::from_millis(250));
    }
    let _ = other.kill();
    let _ = other.wait();

    // 6. Lock and unlock: button, wrong password, Ctrl+L, Enter.
    step("lock");
    app.click("lock-button");
    app.screen("unlock-screen", SHORT);
    app.check(!app.exists("main-screen"), || "the main screen is still mounted while locked".into());
    let locked = app.invoke("search_items", json!({"query": "", "scope": "live", "offset": 0, "limit": 10}));
    app.check(locked.as_ref().is_err_and(|e| e["kind"] == "locked"), || format!("search while locked: {locked:?}"));
    app.type_into("unlock-password", "not the password");
    app.click("unlock-submit");
    app.el_css(&sel("unlock-error"), KDF);
    app.check(app.exists("unlock-screen"), || "a wrong password unlocked".into());
    app.replace("unlock-password", MASTER);
    app.click("unlock-submit");
    app.screen("main-screen", KDF);
    app.wait_attr("item-list", "data-total", SHORT, |t| t == "4");
    app.chord_on("search-input", &[keys::CONTROL, "l"]);
    app.screen("unlock-screen", SHORT);
    app.unlock();
    app.wait_attr("item-list", "data-total", SHORT, |t| t == "4");

    // 7. The screen-lock signal on the session bus locks.
    step("screen lock");
    app.screen_lock_signal();
    app.screen("unlock-screen", Duration::from_secs(5));
    // Every window heard it: Quick Access dropped its results.
    app.switch_quick();
    app.screen("quick-locked", SHORT);
    app.check(app.count("quick-result") == 0, || "Quick Access keeps results while locked".into());
    app.switch_main();
    app.unlock();

    // 8. Quick Access: the global shortcut, Enter copies the password,
    // Ctrl+U the username.
    step("quick access");
    app.show_quick();
    let ids = app.quick_search("Email", 1);
    app.check(ids == [email.clone()], || format!("Quick Access found {ids:?} for Email"));
    let search = app.el("quick-search");
    app.ok(app.wd.send_keys(&search, keys::ENTER), "Enter in Quick Access");
    app.wait_clipboard(Some(EMAIL.password), Duration::from_secs(5));
    app.wait("Quick Access to hide after copying", SHORT, || (!app.desktop.window_visible(QUICK_TITLE)).then_some(()));
    app.show_quick();
    let ids = app.quick_search("GitHub", 1);
    app.check(ids == [github.clone()], || format!("Quick Access found {ids:?} for GitHub"));
    app.chord_on("quick-search", &[keys::CONTROL, "u"]);
    app.wait_clipboard(Some(GITHUB.username), Duration::from_secs(5));
    app.wait("Quick Access to hide after Ctrl+U", SHORT, || (!app.desktop.window_visible(QUICK_TITLE)).then_some(()));
    // Quick Access may search and copy, not read secrets (its capability).
    for (command, args) in [
        ("reveal_field", json!({"id": github, "field": {"kind": "password"}})),
        ("get_item_for_edit", json!({ "id": github })),
        ("get_item", json!({ "id": github })),
    ] {
        let denied = app.invoke(command, args);
        app.check(denied.as_ref().is_err_and(|e| e.as_str().is_some_and(|m| m.contains("not allowed"))), || {
            format!("Quick Access may call {command}: {denied:?}")
        });
    }
    let allowed = app.invoke("search_items", json!({"query": "", "scope": "live", "offset": 0, "limit": 20}));
    app.check(allowed.is_ok(), || format!("Quick Access may not search: {allowed:?}"));

    // 9. No secret in what the web layer gets, except on request.
    step("no secret in the web layer");
    app.switch_main();
    let secrets = [GITHUB.password, EMAIL.password, FORUM.password, TOTP_SECRET, WIFI.notes, "otpauth"];
    let page = app.invoke("search_items", json!({"query": "", "scope": "live", "offset": 0, "limit": 100}));
    let page = page.unwrap_or_else(|e| app.fail(format!("search_items failed: {e}")));
    app.check(page["total"] == json!(4), || format!("search_items: {page}"));
    let mut payloads = vec![page.to_string()];
    for id in [&github, &email, &forum, &wifi] {
        let item = app.invoke("get_item", json!({ "id": id }));
        payloads.push(item.unwrap_or_else(|e| app.fail(format!("get_item failed: {e}"))).to_string());
    }
    for payload in &payloads {
        for secret in secrets {
            let lower = secret.to_lowercase();
            app.check(!payload.to_lowercase().contains(&lower), || format!("{secret:?} leaked into {payload}"));
        }
    }
    let revealed = app.invoke("reveal_field", json!({"id": github, "field": {"kind": "password"}}));
    app.check(revealed == Ok(json!(GITHUB.password)), || format!("reveal_field gave {revealed:?}"));
    let revealed = app.invoke("reveal_field", json!({"id": wifi, "field": {"kind": "notes"}}));
    app.check(revealed == Ok(json!(WIFI.notes)), || format!("reveal_field notes gave {revealed:?}"));
    app.search("GitHub", 1);
    app.open(&github);
    app.click("reveal-password");
    let shown = app.text("revealed-password");
    app.check(shown == GITHUB.password, || format!("revealed-password shows {shown:?}"));
    app.click("reveal-password");
    app.wait_gone("revealed-password", SHORT);

    // Trash the note (and check Undo is offered) for the trash screen.
    step("trash");
    app.search("Wi-Fi", 1);
    app.open(&wifi);
    app.click("item-trash-button");
    app.el("toast-action");
    app.search("", 3);

    // 10. Every screen, light and dark.
    step("screenshots, light");
    tour(&mut app, &shots, "light", &github);
    step("switch to the dark theme");
    app.click("nav-settings");
    app.click_css(&format!("{} option[value=\"dark\"]", sel("settings-theme")));
    app.wait("the dark theme on the main window", SHORT, || (app.page_theme() == "dark").then_some(()));
    let theme = app.config()["settings"]["theme"].clone();
    app.check(theme == json!("dark"), || format!("desktop.json has theme {theme}"));
    step("screenshots, dark");
    tour(&mut app, &shots, "dark", &github);
    step("done");
    eprintln!("[desktop] screenshots in {}", shots.root.display());
}

/// First run with the suggested path and the dark theme, then unlocking
/// with the recovery code.
#[test]
fn first_run_in_dark_then_unlock_with_the_recovery_code() {
    let _serial = serial();
    let shots = Shots::from_env();
    let app = App::start(|d| write_config(d, None, json!({ "theme": "dark" })));
    app.screen("first-run-screen", SHORT);
    let theme = app.page_theme();
    app.check(theme == "dark", || format!("the theme from desktop.json is not applied: {theme:?}"));
    let default = app.desktop.data_home().join("tessera/vault.tessera");
    let suggested = app.value("first-run-path");
    app.check(suggested == default.to_str().unwrap(), || {
        format!("first-run-path suggests {suggested:?}, expected {}", default.display())
    });
    let groups = app.create_vault(None, &shots, "dark");
    app.check(default.is_file(), || format!("no vault at the default path {}", default.display()));
    app.screen("item-list-empty", SHORT);

    app.click("lock-button");
    app.screen("unlock-screen", SHORT);
    app.click("unlock-use-recovery");
    app.type_into("unlock-recovery-code", &groups.join("-"));
    app.click("unlock-recovery-submit");
    app.screen("main-screen", SHORT);
    let log = app.invoke("audit_log", json!({"beforeSeq": null, "limit": 50}));
    let log = log.unwrap_or_else(|e| app.fail(format!("audit_log failed: {e}")));
    app.check(log["entries"].as_array().is_some_and(|e| !e.is_empty()), || format!("audit_log: {log}"));
}

/// A vault made by the CLI opens in the app; with "lock when the screen
/// locks" off the signal is ignored, and turning it on in Settings takes
/// effect at once (and is saved).
#[test]
fn cli_vault_and_the_screen_lock_setting() {
    let _serial = serial();
    let vault = tessera_test_support::TestVault::new();
    let id = vault.add_login("Router", "admin");
    let app = App::start(|d| write_config(d, Some(&vault.path), json!({ "lockOnScreenLock": false })));
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", tessera_test_support::PASSWORD);
    app.click("unlock-submit");
    app.screen("main-screen", KDF);
    let rows = app.search("", 1);
    app.check(rows == [(id.clone(), "Router".to_owned())], || format!("the CLI's item is not listed: {rows:?}"));

    app.screen_lock_signal();
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        app.check(app.exists("main-screen"), || "the screen-lock signal locked though the setting is off".into());
        std::thread::sleep(Duration::from_millis(100));
    }

    app.click("nav-settings");
    let toggle = app.el("settings-lock-on-screen-lock");
    let checked = app.ok(app.wd.property(&toggle, "checked"), "checked");
    app.check(checked == json!(false), || format!("the setting shows {checked}"));
    app.click("settings-lock-on-screen-lock");
    app.wait("lockOnScreenLock saved in desktop.json", SHORT, || {
        (app.config()["settings"]["lockOnScreenLock"] == json!(true)).then_some(())
    });
    app.screen_lock_signal();
    app.screen("unlock-screen", Duration::from_secs(5));

    // logind, on the bus the app takes for the system bus: PrepareForSleep
    // and a session's Lock each lock the vault.
    let logind = zbus::blocking::connection::Builder::address(app.desktop.bus_address())
        .and_then(|b| b.name("org.freedesktop.login1"))
        .and_then(|b| b.build())
        .unwrap_or_else(|e| panic!("cannot play logind on the test bus: {e}"));
    for (path, interface, member, body) in [
        ("/org/freedesktop/login1", "org.freedesktop.login1.Manager", "PrepareForSleep", Some(true)),
        ("/org/freedesktop/login1/session/_31", "org.freedesktop.login1.Session", "Lock", None),
    ] {
        app.replace("unlock-password", tessera_test_support::PASSWORD);
        app.click("unlock-submit");
        app.screen("main-screen", KDF);
        let sent = match body {
            Some(b) => logind.emit_signal(None::<&str>, path, interface, member, &(b,)),
            None => logind.emit_signal(None::<&str>, path, interface, member, &()),
        };
        app.check(sent.is_ok(), || format!("cannot send {member}: {sent:?}"));
        app.screen("unlock-screen", Duration::from_secs(5));
    }
}
