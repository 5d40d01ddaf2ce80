//! Browser integration end to end, with the real parts: the real
//! `tessera-desktop` under Xvfb (driven through WebDriver to answer its
//! dialogs), the real `tessera-browser-host`, a real vault.
//!
//! - `the_app_serves_the_protocol_and_asks_the_user`: a client that plays
//!   the extension (`tessera_browser::client`, NaCl `crypto_box`) through
//!   the host: connect and access dialogs answered in the app, every
//!   action, the lock and unlock signals, revocation in Settings.
//! - `firefox_fills_logins_with_the_real_extension`: Debian's Firefox ESR
//!   with Debian's KeePassXC-Browser extension, driven by puppeteer-core
//!   over WebDriver BiDi (`tests/browser-e2e/firefox.mjs`), on login pages
//!   served on 127.0.0.1 under test host names.
//!
//! Screenshots for the README (the connect dialog, the access prompt, a
//! filled form) go to `$TESSERA_SCREENSHOTS` like the desktop test's.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_browser::client::{ClientError, ExtensionClient};
use tessera_test_support::app::*;
use tessera_test_support::webdriver::{Desktop, keys, poll};
use tessera_test_support::{PASSWORD, TestVault, assert_success, stdout};

const GITHUB_PASSWORD: &str = "gh-Vortex-5150-tangerine!";

/// The host binary beside the desktop app.
fn host_bin() -> PathBuf {
    let bin = tessera_test_support::webdriver::desktop_bin().with_file_name("tessera-browser-host");
    assert!(bin.exists(), "{} is missing: run `cargo build --workspace --bins` (`make test` does)", bin.display());
    bin
}

/// A vault with a GitHub login (TOTP too) and one marked "never fill".
fn vault_with_logins(github_url: &str) -> (TestVault, String) {
    let vault = TestVault::new();
    let secret = vault.dir.path().join("gh-password");
    std::fs::write(&secret, format!("{GITHUB_PASSWORD}\n")).unwrap();
    let out = vault.run_fast(&[
        "add",
        "--title",
        "GitHub",
        "--username",
        "octocat",
        "--url",
        github_url,
        "--otp",
        &format!("otpauth://totp/GitHub:octocat?secret={TOTP_SECRET}"),
        "--secret-file",
        secret.to_str().unwrap(),
    ]);
    assert_success(&out, "add GitHub");
    let id = stdout(&out).trim().to_owned();
    let out = vault.run_fast(&[
        "add",
        "--title",
        "Hidden",
        "--username",
        "h",
        "--url",
        github_url,
        "--no-autofill",
        "--generate",
    ]);
    assert_success(&out, "add Hidden");
    (vault, id)
}

/// Starts the app on `vault` with browser integration on and unlocks it.
fn start_app(vault: &TestVault, extra: Value) -> App {
    let mut settings = json!({ "browserIntegration": true, "theme": "light" });
    for (k, v) in extra.as_object().unwrap() {
        settings[k] = v.clone();
    }
    let app = App::start(|d| write_config(d, Some(&vault.path), settings));
    unlock_with(&app, PASSWORD);
    app
}

fn unlock_with(app: &App, password: &str) {
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", password);
    app.type_into("unlock-password", keys::ENTER);
    app.screen("main-screen", KDF);
}

/// The host started as the browser starts it, in the app's environment.
struct Host {
    child: Child,
}

impl Host {
    fn start(desktop: &Desktop) -> (Host, ExtensionClient<ChildStdout, ChildStdin>) {
        let mut child = desktop
            .env(&mut Command::new(host_bin()))
            .args(["/manifest.json", "keepassxc-browser@keepassxc.org"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tessera-browser-host");
        let client = ExtensionClient::new(child.stdout.take().unwrap(), child.stdin.take().unwrap());
        (Host { child }, client)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `f` on the client in a thread (it blocks until the user answers in
/// the app), while the caller drives the app.
fn in_background<T: Send + 'static>(
    mut client: ExtensionClient<ChildStdout, ChildStdin>,
    f: impl FnOnce(&mut ExtensionClient<ChildStdout, ChildStdin>) -> T + Send + 'static,
) -> std::thread::JoinHandle<(ExtensionClient<ChildStdout, ChildStdin>, T)> {
    std::thread::spawn(move || {
        let out = f(&mut client);
        (client, out)
    })
}

fn code_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> String {
    match r {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err(e) => e.code().unwrap_or_else(|| panic!("expected an error reply, got {e:?}")).to_owned(),
    }
}

#[test]
fn the_app_serves_the_protocol_and_asks_the_user() {
    let _serial = serial();
    let shots = Shots::from_env();
    let (vault, github) = vault_with_logins("https://github.com");
    let app = start_app(&vault, json!({}));
    app.wait("the browser socket", SHORT, || app.desktop.dir().join("run/tessera/browser.sock").exists().then_some(()));

    let (_host, mut client) = Host::start(&app.desktop);
    client.change_public_keys().unwrap();
    let hash = client.request("get-databasehash", json!({})).unwrap();
    assert_eq!(hash["hash"].as_str().unwrap().len(), 64);

    // associate: the connect dialog; the user names the browser.
    let pending = in_background(client, |c| c.associate());
    app.el("browser-prompt");
    app.el("browser-connect-name");
    app.shot(&shots, "light", "browser-connect");
    app.replace("browser-connect-name", "Work laptop Firefox");
    app.click("browser-connect-approve");
    app.wait_gone("browser-prompt", SHORT);
    let (mut client, associated) = pending.join().unwrap();
    assert_eq!(associated.unwrap()["id"], "Work laptop Firefox");
    client.test_associate("Work laptop Firefox").unwrap();

    // get-logins: the access prompt, answered "Always".
    let pending = in_background(client, |c| c.get_logins("Work laptop Firefox", "https://github.com/login"));
    app.el("browser-prompt");
    let host_label = app.text("browser-access-host");
    assert!(host_label.contains("github.com"), "{host_label}");
    assert_eq!(app.count("browser-access-item"), 1);
    app.shot(&shots, "light", "browser-access");
    app.click("browser-access-always");
    app.wait_gone("browser-prompt", SHORT);
    let (mut client, logins) = pending.join().unwrap();
    let logins = logins.unwrap();
    assert_eq!(logins["count"], 1, "the never-fill item is not offered: {logins}");
    assert_eq!(logins["entries"][0]["password"], GITHUB_PASSWORD);
    assert_eq!(logins["entries"][0]["uuid"], github);
    let codes = totp_codes_around(TOTP_SECRET, unix_now());
    assert!(codes.contains(&logins["entries"][0]["totp"].as_str().unwrap().to_owned()));
    // Remembered: no dialog the second time.
    client.get_logins("Work laptop Firefox", "https://github.com/").unwrap();
    assert!(!app.exists("browser-prompt"));
    // A look-alike gets nothing, and no question.
    assert_eq!(code_of(client.get_logins("Work laptop Firefox", "https://github.com.evil.example/")), "15");
    assert!(!app.exists("browser-prompt"));

    // set-login: the list updates while the app is open.
    let saved = client.request(
        "set-login",
        json!({ "url": "https://new.example/login", "id": "Work laptop Firefox", "login": "newbie", "password": "n3w-Password" }),
    );
    assert_eq!(saved.unwrap()["error"], "success");
    app.search("newbie", 1);

    // Locking the app: the extension is told, and gets nothing.
    app.invoke("lock", json!({})).unwrap();
    app.screen("unlock-screen", SHORT);
    let signal = client.read_reply(true).unwrap();
    assert_eq!(signal, json!({ "action": "database-locked" }));
    assert_eq!(code_of(client.request("get-databasehash", json!({}))), "1");
    unlock_with(&app, PASSWORD);
    assert_eq!(client.read_reply(true).unwrap(), json!({ "action": "database-unlocked" }));
    client.test_associate("Work laptop Firefox").unwrap();

    // Settings → Browsers lists the connection; revoking it shuts it out.
    app.invoke("update_settings", json!({ "settings": settings_with(&app, json!({})) })).unwrap();
    app.click("nav-settings");
    app.el("settings-browsers");
    app.wait("the connection in Settings → Browsers", SHORT, || (app.count("browser-connection") == 1).then_some(()));
    app.ok(
        app.wd.execute("document.querySelector('[data-testid=\"settings-browsers\"]').scrollIntoView();", vec![]),
        "scroll to Settings → Browsers",
    );
    app.shot(&shots, "light", "settings-browsers");
    let status = app.invoke("browser_status", json!({})).unwrap();
    assert_eq!(status["connections"][0]["name"], "Work laptop Firefox");
    app.invoke("browser_revoke", json!({ "name": "Work laptop Firefox" })).unwrap();
    assert_eq!(code_of(client.get_logins("Work laptop Firefox", "https://github.com/")), "8");

    // The audit log has the connection, the decision and the revocation.
    let audit = vault.json(&["audit"]);
    let events: Vec<&str> = audit.as_array().unwrap().iter().filter_map(|e| e["event"].as_str()).collect();
    for e in ["browser_connected", "site_access", "browser_revoked"] {
        assert!(events.contains(&e), "{e} missing from {events:?}");
    }
}

/// The settings the app holds now, with `changes` applied.
fn settings_with(app: &App, changes: Value) -> Value {
    let mut s = app.invoke("get_settings", json!({})).unwrap();
    for (k, v) in changes.as_object().unwrap() {
        s[k] = v.clone();
    }
    s
}

#[test]
fn the_settings_switch_writes_the_manifests_and_opens_the_socket() {
    let _serial = serial();
    let (vault, _) = vault_with_logins("https://github.com");
    let app = start_app(&vault, json!({ "browserIntegration": false }));
    let socket = app.desktop.dir().join("run/tessera/browser.sock");
    let manifest = app.desktop.dir().join("home/.mozilla/native-messaging-hosts/org.keepassxc.keepassxc_browser.json");
    assert!(!socket.exists());
    // KeePassXC's manifest is there: the status warns, and it is kept.
    std::fs::create_dir_all(manifest.parent().unwrap()).unwrap();
    std::fs::write(
        &manifest,
        br#"{"name":"org.keepassxc.keepassxc_browser","path":"/usr/bin/keepassxc-proxy","type":"stdio"}"#,
    )
    .unwrap();
    let status = app.invoke("browser_status", json!({})).unwrap();
    assert_eq!(status["browsers"][0]["otherHost"], "/usr/bin/keepassxc-proxy");

    app.click("nav-settings");
    app.el("settings-browsers");
    app.click("browser-integration-toggle");
    app.wait("the socket", SHORT, || socket.exists().then_some(()));
    let written: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(written["path"], json!(host_bin()));
    assert_eq!(written["allowed_extensions"], json!(["keepassxc-browser@keepassxc.org"]));
    assert!(manifest.with_extension("json.keepassxc").exists());
    app.wait("the setting to be saved", SHORT, || {
        (app.config()["settings"]["browserIntegration"] == true).then_some(())
    });

    // Off again: socket closed, KeePassXC's manifest back.
    app.click("browser-integration-toggle");
    app.wait("the socket to close", SHORT, || (!socket.exists()).then_some(()));
    let restored: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(restored["path"], "/usr/bin/keepassxc-proxy");
    // With the app serving nothing, the host says Tessera is not running.
    let (_host, mut client) = Host::start(&app.desktop);
    let err = client.change_public_keys().unwrap_err();
    assert_eq!(err.code(), Some("5"));
}

// ----- Firefox with the real extension --------------------------------------------------

/// A few login pages on 127.0.0.1, answered by host name (Firefox resolves
/// the test names to loopback).
struct Site {
    port: u16,
    posted: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

const LOGIN_PAGE: &str = r#"<!doctype html><html><head><title>Sign in</title><style>
body { font: 15px sans-serif; background: #f3f4f6; display: flex; justify-content: center; padding-top: 48px; margin: 0 }
form { background: #fff; padding: 24px 28px; border-radius: 10px; box-shadow: 0 2px 10px #0002; width: 300px }
h1 { font-size: 20px; margin: 0 0 16px } label { display: block; margin: 10px 0 4px; color: #444 }
input { width: 100%; box-sizing: border-box; padding: 7px; font-size: 15px }
button { margin-top: 16px; width: 100%; padding: 8px; background: #2563eb; color: #fff; border: 0; border-radius: 6px; font-size: 15px }
</style></head><body>
<form id="login" method="post" action="/session">
  <h1>Sign in to Example</h1>
  <label for="username">Username</label><input id="username" name="username" type="text" autocomplete="username">
  <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
  <button id="submit" type="submit">Sign in</button>
</form></body></html>"#;

const TOTP_PAGE: &str = r#"<!doctype html><html><head><title>Two-factor</title></head><body>
<h1>Two-factor authentication</h1>
<form id="otp" method="post" action="/session-2fa">
  <label>Authentication code <input id="totp" name="otp" type="text" autocomplete="one-time-code" inputmode="numeric" maxlength="6"></label>
  <button id="verify" type="submit">Verify</button>
</form></body></html>"#;

const SIGNUP_PAGE: &str = r#"<!doctype html><html><head><title>Create account</title></head><body>
<h1>Create an account</h1>
<form id="signup" method="post" action="/created">
  <label>Username <input id="new-username" name="username" type="text" autocomplete="username"></label>
  <label>Password <input id="new-password" name="password" type="password" autocomplete="new-password"></label>
  <button id="create" type="submit">Create account</button>
</form></body></html>"#;

impl Site {
    fn start() -> Site {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let posted: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let log = posted.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve_page(stream, &log));
            }
        });
        Site { port, posted }
    }

    fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }
}

fn serve_page(mut stream: std::net::TcpStream, log: &std::sync::Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = std::io::Read::read_exact(&mut reader, &mut body);
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    if request_line.starts_with("POST") {
        log.lock().unwrap().push(format!("{path} {}", String::from_utf8_lossy(&body)));
    }
    let page = match path.as_str() {
        "/signup" => SIGNUP_PAGE,
        "/two-factor" => TOTP_PAGE,
        "/favicon.ico" => "",
        "/created" | "/session" | "/session-2fa" => "<!doctype html><title>Done</title><p>Done.</p>",
        _ => LOGIN_PAGE,
    };
    let status = if path == "/favicon.ico" { "404 Not Found" } else { "200 OK" };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
}

/// `tests/browser-e2e/firefox.mjs`: Firefox ESR with the extension,
/// one JSON command a line.
struct Firefox {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Firefox {
    /// Starts the driver and waits for its `ready` line.
    fn start(desktop: &Desktop, hosts: &[&str], log: &Path) -> Firefox {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser-e2e");
        assert!(
            dir.join("node_modules/puppeteer-core").exists(),
            "run `npm ci` in {} first (`make test` does)",
            dir.display()
        );
        let mut child = desktop
            .env(&mut Command::new("node"))
            .arg(dir.join("firefox.mjs"))
            .current_dir(&dir)
            .env("TESSERA_E2E_HOSTS", hosts.join(","))
            .env("TESSERA_E2E_VIEWPORT", "640x380")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .expect("node runs (package nodejs)");
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        let mut firefox = Firefox { child, input, output };
        let mut ready = String::new();
        firefox.output.read_line(&mut ready).unwrap();
        let ready: Value = serde_json::from_str(&ready).unwrap_or_default();
        assert_eq!(
            ready["ready"],
            true,
            "Firefox did not start: {ready}\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        firefox
    }

    /// A command that must succeed.
    fn ok(&mut self, command: Value) -> Value {
        let reply = self.send(command.clone());
        assert_eq!(reply["ok"], true, "firefox.mjs {command}: {reply}");
        reply
    }

    fn send(&mut self, command: Value) -> Value {
        writeln!(self.input, "{command}").unwrap();
        self.input.flush().unwrap();
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|_| json!({ "ok": false, "error": format!("no answer: {line:?}") }))
    }
}

impl Drop for Firefox {
    fn drop(&mut self) {
        let _ = writeln!(self.input, "{}", json!({ "cmd": "quit" }));
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn firefox_fills_logins_with_the_real_extension() {
    let _serial = serial();
    let shots = Shots::from_env();
    let site = Site::start();
    let host = "login.tessera.test";
    // Another site, where no login exists yet (on `host` the extension
    // would fill the sign-up form with the login it has).
    let other = "accounts.tessera.test";
    let evil = "login.tessera.test.evil.test";
    let (vault, _) = vault_with_logins(&site.url(host, ""));
    let app = start_app(&vault, json!({}));

    // The manifest, as a user installs it (HOME is the app's).
    let tessera = tessera_test_support::tessera_bin();
    let out = app
        .desktop
        .env(&mut Command::new(&tessera))
        .args(["browser", "install", "--browser", "firefox"])
        .output()
        .unwrap();
    assert_success(&out, "browser install");
    let out = app.desktop.env(&mut Command::new(&tessera)).args(["--json", "browser", "status"]).output().unwrap();
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["browsers"][0]["installed"], true, "{status}");
    assert_eq!(status["app_running"], true, "{status}");

    let log = app.desktop.dir().join("firefox.log");
    let mut ff = Firefox::start(&app.desktop, &[host, other, evil], &log);
    let before = ff.ok(json!({ "cmd": "popup_status" }));
    assert_eq!(before["state"], "not-configured", "{before}");

    // Connect: the extension asks, the user names it in Tessera.
    ff.ok(json!({ "cmd": "popup_connect" }));
    app.el("browser-connect-name");
    app.replace("browser-connect-name", "Firefox ESR");
    app.click("browser-connect-approve");
    app.wait_gone("browser-prompt", SHORT);
    ff.ok(json!({ "cmd": "wait_associated", "timeout_ms": 20000 }));
    let connected = ff.ok(json!({ "cmd": "popup_status" }));
    assert_eq!(connected["state"], "configured-and-associated", "{connected}");
    assert_eq!(connected["identifier"], "Firefox ESR");

    // The login page: Tessera asks once, then the extension fills.
    ff.ok(json!({ "cmd": "goto", "url": site.url(host, "/login") }));
    app.el("browser-prompt");
    assert!(app.text("browser-access-host").contains(host));
    app.click("browser-access-always");
    app.wait_gone("browser-prompt", SHORT);
    ff.ok(json!({ "cmd": "wait_value", "selector": "#username", "equals": "octocat", "timeout_ms": 15000 }));
    ff.ok(json!({ "cmd": "wait_value", "selector": "#password", "equals": GITHUB_PASSWORD, "timeout_ms": 15000 }));
    ff.ok(json!({ "cmd": "screenshot", "path": shots.path("light", "browser-filled") }));

    // A TOTP field gets the current code.
    ff.ok(json!({ "cmd": "goto", "url": site.url(host, "/two-factor") }));
    ff.ok(json!({ "cmd": "wait_selector", "selector": "#totp" }));
    ff.ok(json!({ "cmd": "fill_totp", "selector": "#totp" }));
    let code = ff.ok(json!({ "cmd": "wait_value", "selector": "#totp", "timeout_ms": 15000 }));
    let codes = totp_codes_around(TOTP_SECRET, unix_now());
    assert!(codes.contains(&code["value"].as_str().unwrap().to_owned()), "{code} not in {codes:?}");
    assert!(!app.exists("browser-prompt"), "the item was allowed on this host for good");

    // New credentials submitted on another page are saved.
    ff.ok(json!({ "cmd": "goto", "url": site.url(other, "/signup") }));
    ff.ok(json!({ "cmd": "type", "selector": "#new-username", "text": "newcomer" }));
    ff.ok(json!({ "cmd": "type", "selector": "#new-password", "text": "Fresh-Pass-8841!" }));
    ff.ok(json!({ "cmd": "submit", "selector": "#signup" }));
    let banner = ff.ok(json!({ "cmd": "save_banner", "action": "new", "timeout_ms": 15000 }));
    assert_eq!(banner["appeared"], true, "{banner}");
    let found = poll(SHORT, || {
        let list = vault.json(&["list", "--url", &site.url(other, "/signup")]);
        list.as_array()?.iter().find(|s| s["username"] == "newcomer").cloned()
    });
    let saved = found.unwrap_or_else(|| panic!("the new login is not in the vault: {banner}"));
    assert_eq!(saved["folder"], "Browser");
    assert!(site.posted.lock().unwrap().iter().any(|p| p.starts_with("/created")));

    // A look-alike host gets nothing, and Tessera does not even ask.
    ff.ok(json!({ "cmd": "goto", "url": site.url(evil, "/login") }));
    std::thread::sleep(Duration::from_secs(3));
    let values = ff.ok(json!({ "cmd": "values", "selectors": ["#username", "#password"] }));
    assert_eq!(values["values"]["#username"], "", "{values}");
    assert_eq!(values["values"]["#password"], "", "{values}");
    assert!(!app.exists("browser-prompt"));

    // Locked: the extension says so; unlocked: filling works again.
    app.invoke("lock", json!({})).unwrap();
    app.screen("unlock-screen", SHORT);
    let locked = poll(SHORT, || {
        let s = ff.send(json!({ "cmd": "popup_status" }));
        (s["state"] == "database-not-opened").then_some(s)
    });
    assert!(locked.is_some(), "the popup never showed the vault locked");
    unlock_with(&app, PASSWORD);
    // The extension hears `database-unlocked` and checks its connection
    // again; a user would see the icon turn back.
    let unlocked = poll(SHORT, || {
        let s = ff.send(json!({ "cmd": "ext_status", "poll": true }));
        (s["status"]["associated"] == true && s["status"]["databaseClosed"] == false).then_some(s)
    });
    assert!(unlocked.is_some(), "the extension never saw the vault unlocked again");
    ff.ok(json!({ "cmd": "goto", "url": site.url(host, "/login?again") }));
    ff.ok(json!({ "cmd": "wait_value", "selector": "#password", "equals": GITHUB_PASSWORD, "timeout_ms": 15000 }));
    drop(ff);
    let matching = vault.json(&["list", "--url", &site.url(host, "/login")]);
    assert_eq!(matching.as_array().unwrap().len(), 2, "GitHub and Hidden match the host; only GitHub was filled");
}
