//! Browser integration's figures (issue "Fill logins in the browser"):
//!
//! - `get-logins` round trip through the real `tessera-browser-host` and the
//!   real release app (Xvfb, its own D-Bus) with the N-item vault unlocked:
//!   frame in on the host's stdin → relayed → the app matches, checks the
//!   rules, decrypts, seals → frame out on stdout. The site was allowed
//!   ("Always") beforehand, so no dialog is in the way. The first request
//!   builds the site index and is reported on its own.
//! - the host's own memory (RSS, peak) after the requests;
//! - the app's idle memory unlocked, before (integration off) and after
//!   (on, with the site index built).

use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use tessera_browser::client::ExtensionClient;
use tessera_core::{LockedVault, OpenOptions, Scope};
use tessera_unlock::{Credential, RecoveryCode, unlock};

use crate::desktop::{App, Screen, app_binary, have_tools, xdotool};
use crate::percentile;

/// The connection the benchmark's client proves, written into the vault.
const CONNECTION: &str = "bench";
/// A fixed identification key (base64 of 32 bytes; public, as in the protocol).
const ID_KEY: &str = "YmVuY2htYXJrLWlkZW50aWZpY2F0aW9uLWtleS0wMDE=";
/// Requests timed.
const REQUESTS: usize = 400;

pub fn figures(vault: &Path, code_file: &Path, items: usize) {
    if !have_tools() || !app_binary().exists() {
        println!("(the browser figures need Xvfb and the release app: `make bench` provides both)\n");
        return;
    }
    let host_bin = app_binary().with_file_name("tessera-browser-host");
    if !host_bin.exists() {
        println!("({} is missing: `make bench` builds it)\n", host_bin.display());
        return;
    }
    let target = items / 2;
    let page = format!("https://site{target}.example.org/login");
    allow(vault, code_file, &format!("site{target}.example.org"));

    let screen = Screen::start();
    // Before: integration off, unlocked, idle.
    let off = App::start_with(&screen, vault, json!({ "autoLockMinutes": 0 }));
    unlock_app(&screen, &off);
    std::thread::sleep(Duration::from_secs(8));
    let before = off.memory();
    drop(off);
    std::thread::sleep(Duration::from_millis(500));

    let app = App::start_with(&screen, vault, json!({ "autoLockMinutes": 0, "browserIntegration": true }));
    app.wait_for("browser-listening", Duration::from_secs(60)).expect("the app opens the browser socket");
    unlock_app(&screen, &app);
    let (mut host, mut client) = start_host(&screen, &host_bin);
    client.change_public_keys().expect("key exchange");
    client.id_key = ID_KEY.to_owned();
    // The vault takes a moment to unlock (KDF) after Return.
    let deadline = Instant::now() + Duration::from_secs(90);
    while client.request("get-databasehash", json!({})).is_err() {
        assert!(Instant::now() < deadline, "the app did not unlock");
        std::thread::sleep(Duration::from_millis(200));
    }
    client.test_associate(CONNECTION).expect("the benchmark's connection is known");

    let t0 = Instant::now();
    let first = client.get_logins(CONNECTION, &page).expect("get-logins");
    let first_ms = t0.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(first["count"], 1, "one login for {page}: {first}");
    let mut times = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let t = Instant::now();
        let reply = client.get_logins(CONNECTION, &page).expect("get-logins");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(reply["count"], 1);
    }
    times.sort_by(f64::total_cmp);
    let (host_rss, host_peak) = status_kib(host.id());
    std::thread::sleep(Duration::from_secs(5));
    let after = app.memory();
    let _ = host.kill();
    let _ = host.wait();
    drop(app);

    println!("## Browser integration (the release app in Xvfb, {items} items, through tessera-browser-host)\n");
    println!("| figure | value | target |");
    println!("|---|---|---|");
    println!(
        "| `get-logins` round trip, {REQUESTS} requests | p50 {:.2} ms, p95 {:.2} ms (p99 {:.2}, max {:.2}) | p95 ≤ 20 ms |",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or_default()
    );
    println!("| first `get-logins` after unlock (builds the site index) | {first_ms:.0} ms | |");
    println!(
        "| the host's memory | RSS {:.1} MiB (peak {:.1} MiB) | ≤ 10 MiB |",
        host_rss / 1024.0,
        host_peak / 1024.0
    );
    println!(
        "| the app unlocked and idle, integration off → on (site index built) | PSS {:.0} → {:.0} MiB (RSS {:.0} → {:.0} MiB) | |\n",
        before.1, after.1, before.0, after.0
    );
}

/// Writes the benchmark's connection, and "Always" for `host` on the
/// item the requests ask for, into the vault's browser record.
fn allow(vault: &Path, code_file: &Path, host: &str) {
    let code = std::fs::read_to_string(code_file).expect("recovery code");
    let code = RecoveryCode::parse(code.trim()).expect("a recovery code");
    let locked = LockedVault::open(vault, &OpenOptions::default()).expect("open the vault");
    let mut v = unlock(locked, &Credential::Recovery(&code)).expect("unlock");
    let wanted = format!("https://{host}/login");
    let item = v
        .summaries(Scope::Live)
        .expect("summaries")
        .into_iter()
        .find(|s| s.urls.contains(&wanted))
        .expect("the benchmark vault has the item");
    let mut record = tessera_browser::service::read_record(&v).expect("browser record");
    let now = tessera_core::item::now();
    record.connect(CONNECTION, ID_KEY, now);
    record.decide(item.id, host, true, now);
    tessera_browser::service::write_record(&mut v, &record, vec![]).expect("save the browser record");
}

fn unlock_app(screen: &Screen, app: &App) {
    app.wait_for("unlock-screen", Duration::from_secs(60)).expect("the unlock screen appears");
    xdotool(screen, &["type", "--delay", "20", "bench password"]);
    xdotool(screen, &["key", "Return"]);
}

fn start_host(screen: &Screen, bin: &Path) -> (Child, ExtensionClient<ChildStdout, ChildStdin>) {
    let mut child = screen
        .env(&mut Command::new(bin))
        .args(["/manifest.json", "keepassxc-browser@keepassxc.org"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tessera-browser-host");
    let client = ExtensionClient::new(child.stdout.take().expect("piped"), child.stdin.take().expect("piped"));
    (child, client)
}

/// (VmRSS, VmHWM) of a process, in KiB.
fn status_kib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
