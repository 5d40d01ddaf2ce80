//! The desktop app's figures (issue "The desktop app"):
//!
//! - in process, through the same `Desktop` the Tauri commands call:
//!   unlock-to-list (unlock, search index, first page of 100 rows) and
//!   search-as-you-type latency of `search_items` (page 0, 100 rows, the
//!   summaries serialised as the UI receives them), idle and while
//!   background sync sends 1,000 changes to a real `tessera-server` on its
//!   own session of the vault (as the app's background sync does);
//! - the real release binary in a real X server (Xvfb) with its own D-Bus:
//!   cold start to the unlock screen, Quick Access shortcut-to-copied
//!   (xdotool presses the global shortcut and Enter), and the memory of the
//!   whole app (the Rust process and its WebKit processes) when idle.
//!
//! The app marks the moments with `TESSERA_TIMINGS` (see
//! `tessera_desktop::timing`); the time is taken here, when the line arrives.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::RngExt;
use tessera_desktop::desktop::Desktop;
use tessera_desktop::dto::{Credential, SearchScope};
use tessera_desktop::settings::Paths;

use crate::{median, percentile};

pub fn figures(vault: &Path, code_file: &Path, runs: usize) {
    let code = std::fs::read_to_string(code_file).expect("recovery code").trim().to_owned();
    in_process(vault, &code, runs);
    if have_tools() {
        with_window(&Screen::start(), vault, runs);
    } else {
        println!("(no Xvfb or xdotool: the window figures need `make bench`, which installs them)\n");
    }
}

fn desktop_for(vault: &Path, dir: &Path) -> Desktop {
    Desktop::new(Paths { config_file: dir.join("desktop.json"), default_vault: vault.to_path_buf() })
}

fn in_process(vault: &Path, code: &str, runs: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut unlock_to_list = Vec::new();
    let mut total = 0;
    for _ in 0..runs {
        let desktop = desktop_for(vault, dir.path());
        let start = Instant::now();
        desktop.unlock(&Credential::Recovery { code: code.to_owned() }).expect("unlock");
        let page = desktop.search_items("", SearchScope::Live, 0, 100).expect("first page");
        serde_json::to_vec(&page).expect("serialise");
        unlock_to_list.push(start.elapsed().as_secs_f64());
        total = page.total;
        desktop.lock();
    }

    // Search as you type: every prefix of titles, usernames and domains of
    // random items, each answered as page 0 of 100 rows, serialised.
    let desktop = desktop_for(vault, dir.path());
    desktop.unlock(&Credential::Recovery { code: code.to_owned() }).expect("unlock");
    let sample = desktop.search_items("", SearchScope::Live, 0, 1000).expect("list");
    let mut rng = rand::rng();
    let mut queries: Vec<String> = Vec::new();
    for _ in 0..200 {
        let s = &sample.items[rng.random_range(0..sample.items.len())];
        let words =
            [s.title.to_lowercase(), s.subtitle.clone(), s.url.clone().unwrap_or_default().replace("https://", "")];
        let word = &words[rng.random_range(0..words.len())];
        for end in 1..=word.len().min(12) {
            if word.is_char_boundary(end) {
                queries.push(word[..end].to_owned());
            }
        }
    }
    queries.extend(["zzzz", "no such thing", "qqq xyz"].map(String::from));
    let mut times = Vec::with_capacity(queries.len());
    for q in &queries {
        let start = Instant::now();
        let page = desktop.search_items(q, SearchScope::Live, 0, 100).expect("search");
        serde_json::to_vec(&page).expect("serialise");
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    drop(desktop);
    let during = search_during_sync(vault, code, &queries);

    println!("## Desktop, in process ({total} items; the commands' own code, no window)\n");
    println!("| figure | median | p95 | target |");
    println!("|---|---|---|---|");
    println!(
        "| unlock-to-list (recovery code, so no slow KDF; index + first 100 rows), {runs} runs | {:.0} ms | — | — |",
        median(unlock_to_list) * 1000.0
    );
    println!(
        "| search-as-you-type, `search_items` page of 100, {} queries | {:.2} ms | {:.2} ms (p99 {:.2}, max {:.2}) | p95 ≤ 16 ms |\n",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or_default()
    );
    if let Some(d) = during {
        println!(
            "| search-as-you-type while background sync sends {} changes ({:.2} s; {} queries during it) | {:.2} ms | \
             {:.2} ms (p99 {:.2}, max {:.2}) | p95 ≤ 16 ms, unchanged |",
            d.pushed,
            d.sync_seconds,
            d.times.len(),
            percentile(&d.times, 0.5),
            percentile(&d.times, 0.95),
            percentile(&d.times, 0.99),
            d.times.last().copied().unwrap_or_default()
        );
        println!(
            "| (setup) first push of the {total}-item vault to the server, for the figure above | {:.1} s | — | — |\n",
            d.first_push_seconds
        );
    }
}

/// Search latencies taken while a sync ran.
struct DuringSync {
    times: Vec<f64>,
    pushed: u64,
    sync_seconds: f64,
    first_push_seconds: f64,
}

/// Changes a sync carries in the figure.
const SYNC_CHANGES: usize = 1000;

/// A copy of the vault is linked to an account on a real `tessera-server`
/// (its first push), 1,000 of its items are edited on another session (as
/// the CLI would), and the app's background sync sends them on a session
/// of its own (`Desktop::network_session`) while this thread types
/// searches into the window's `Desktop`, as the app does. Only the queries
/// answered while the sync ran are counted.
fn search_during_sync(vault: &Path, code: &str, queries: &[String]) -> Option<DuringSync> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use tessera_core::{LockedVault, OpenOptions, Scope};
    use tessera_sync::client::{self, Credentials};
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("synced.tessera");
    std::fs::copy(vault, &copy).expect("copy the vault");
    let server = tessera_test_support::server::TestServer::sqlite();
    let password = tessera_unlock::Password::from_first_line(b"bench password").expect("password");
    let desktop = desktop_for(&copy, dir.path());
    desktop.unlock(&Credential::Recovery { code: code.to_owned() }).expect("unlock");
    let start = Instant::now();
    {
        let (mut session, _) = desktop.network_session().expect("a second session");
        let registered =
            client::register(&mut session, &server.url, "bench@example.org", "bench", &password, &mut |_| {});
        if let Err(e) = registered {
            println!("(the search-during-sync figure was skipped: register failed: {e})\n");
            return None;
        }
    }
    let first_push_seconds = start.elapsed().as_secs_f64();
    {
        let code = tessera_unlock::RecoveryCode::parse(code).expect("recovery code");
        let locked = LockedVault::open(&copy, &OpenOptions::default()).expect("open");
        let mut other = tessera_unlock::unlock(locked, &tessera_unlock::Credential::Recovery(&code)).expect("unlock");
        let ids: Vec<_> = other.summaries(Scope::Live).expect("list").iter().take(SYNC_CHANGES).map(|s| s.id).collect();
        for id in ids {
            other
                .update(id, |item| {
                    item.notes.push_str(" (edited)");
                    Ok(())
                })
                .expect("edit");
        }
    }
    let running = AtomicBool::new(true);
    let mut times = Vec::new();
    let mut outcome = None;
    std::thread::scope(|scope| {
        let sync = scope.spawn(|| {
            let start = Instant::now();
            let (mut session, generation) = desktop.network_session().expect("a second session");
            let creds = Credentials { password: Some(&password), totp: None };
            let report = client::sync(&mut session, &creds, &mut |_| {});
            let index = session.search_index().ok();
            desktop.items_changed_elsewhere(index, generation).expect("the new list");
            let seconds = start.elapsed().as_secs_f64();
            running.store(false, Ordering::SeqCst);
            (report, seconds)
        });
        for q in queries.iter().cycle() {
            if !running.load(Ordering::SeqCst) {
                break;
            }
            let start = Instant::now();
            let page = desktop.search_items(q, SearchScope::Live, 0, 100).expect("search");
            serde_json::to_vec(&page).expect("serialise");
            if running.load(Ordering::SeqCst) {
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
        outcome = Some(sync.join().expect("the sync thread"));
    });
    let (report, sync_seconds) = outcome.expect("the sync ran");
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            println!("(the search-during-sync figure was skipped: the sync failed: {e})\n");
            return None;
        }
    };
    times.sort_by(f64::total_cmp);
    Some(DuringSync { times, pushed: report.pushed, sync_seconds, first_push_seconds })
}

// --- the real window ------------------------------------------------------------

/// The same private X server and session bus the end-to-end test uses.
pub(crate) type Screen = tessera_test_support::webdriver::Desktop;

pub(crate) fn have_tools() -> bool {
    ["Xvfb", "xdotool", "xclip", "dbus-daemon"].iter().all(|tool| {
        Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| !o.stdout.is_empty())
    })
}

pub(crate) fn xdotool(screen: &Screen, args: &[&str]) {
    let out = screen.run("xdotool", args);
    assert!(out.status.success(), "xdotool {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// One running app with its stderr timing lines.
pub(crate) struct App {
    pub(crate) child: Child,
    lines: mpsc::Receiver<String>,
    _home: tempfile::TempDir,
}

pub(crate) fn app_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"));
    target.join("release/tessera-desktop")
}

impl App {
    fn start(screen: &Screen, vault: &Path) -> App {
        App::start_with(screen, vault, serde_json::json!({ "autoLockMinutes": 0 }))
    }

    /// Starts the app with these settings.
    pub(crate) fn start_with(screen: &Screen, vault: &Path, settings: serde_json::Value) -> App {
        let home = tempfile::tempdir().expect("temp home");
        let config = home.path().join("config/tessera");
        std::fs::create_dir_all(&config).expect("config dir");
        std::fs::write(
            config.join("desktop.json"),
            serde_json::json!({ "vaultPath": vault, "settings": settings }).to_string(),
        )
        .expect("write settings");
        // A fresh HOME per start, so no start finds WebKit's caches warm.
        let mut child = screen
            .env(&mut Command::new(app_binary()))
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("TESSERA_TIMINGS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e} (make bench builds it)", app_binary().display()));
        let stderr = child.stderr.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        App { child, lines, _home: home }
    }

    /// Waits for `tessera-timing EVENT`; returns when it arrived.
    pub(crate) fn wait_for(&self, event: &str, timeout: Duration) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        let want = format!("tessera-timing {event}");
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.lines.recv_timeout(left) {
                Ok(line) if line.trim() == want => return Some(Instant::now()),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    pub(crate) fn memory(&self) -> (f64, f64, usize) {
        tree_memory(self.child.id())
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (RSS MiB, PSS MiB, processes) of `pid` and all its descendants. PSS
/// counts shared pages once across the processes that share them.
fn tree_memory(pid: u32) -> (f64, f64, usize) {
    let mut pids = vec![pid];
    let mut i = 0;
    while i < pids.len() {
        let parent = pids[i];
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
                let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else { continue };
                // Fields after the ")" of the command name: state ppid …
                let ppid =
                    stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
                if ppid == Some(parent) && !pids.contains(&p) {
                    pids.push(p);
                }
            }
        }
        i += 1;
    }
    let (mut rss, mut pss) = (0.0, 0.0);
    for p in &pids {
        if let Ok(rollup) = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")) {
            for line in rollup.lines() {
                let kb = |l: &str| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
                if line.starts_with("Rss:") {
                    rss += kb(line) / 1024.0;
                } else if line.starts_with("Pss:") {
                    pss += kb(line) / 1024.0;
                }
            }
        }
    }
    (rss, pss, pids.len())
}

fn with_window(screen: &Screen, vault: &Path, runs: usize) {
    if !app_binary().exists() {
        println!("({} is missing: `make bench` builds it)\n", app_binary().display());
        return;
    }
    // Cold start: process start to the unlock screen asking for its factors
    // (its first request, made when it mounts). The first start is reported
    // on its own: it also loads the app and WebKit from disk.
    let mut starts = Vec::new();
    for _ in 0..runs + 1 {
        let t0 = Instant::now();
        let app = App::start(screen, vault);
        let at = app.wait_for("unlock-screen", Duration::from_secs(60)).expect("the unlock screen appears");
        starts.push(at.duration_since(t0).as_secs_f64());
        drop(app);
        std::thread::sleep(Duration::from_millis(300));
    }
    let first = starts.remove(0);

    // Idle memory, locked and then unlocked with the whole vault listed;
    // at the end, locked and closed to the tray.
    let app = App::start_with(screen, vault, serde_json::json!({ "autoLockMinutes": 0, "closeToTray": true }));
    app.wait_for("unlock-screen", Duration::from_secs(60)).expect("the unlock screen appears");
    std::thread::sleep(Duration::from_secs(5));
    let locked = app.memory();
    xdotool(screen, &["type", "--delay", "20", "bench password"]);
    xdotool(screen, &["key", "Return"]);
    std::thread::sleep(Duration::from_secs(8));
    let unlocked = app.memory();

    // Quick Access: the global shortcut to the window shown, then Enter (on
    // the first result) to the value on the clipboard. Typing a query is the
    // user's time and not counted.
    let mut quick = Vec::new();
    for i in 0..runs {
        let before = screen.clipboard().unwrap_or_default();
        let t0 = Instant::now();
        screen.xdotool_key("ctrl+shift+space");
        let Some(shown) = app.wait_for("quick-shown", Duration::from_secs(5)) else {
            println!("(Quick Access did not open on the global shortcut; run {i})");
            break;
        };
        let to_shown = shown.duration_since(t0).as_secs_f64();
        xdotool(screen, &["type", "--delay", "30", &format!("site {:06}", 1000 + i)]);
        std::thread::sleep(Duration::from_millis(400));
        let t1 = Instant::now();
        xdotool(screen, &["key", "Return"]);
        let Some(copied) = app.wait_for("copied", Duration::from_secs(5)) else {
            println!("(Enter in Quick Access copied nothing; run {i})");
            break;
        };
        let to_copied = copied.duration_since(t1).as_secs_f64();
        let now = screen.clipboard().unwrap_or_default();
        if now.is_empty() || now == before {
            println!("(the clipboard did not change after Quick Access; run {i})");
        }
        quick.push((to_shown, to_copied));
        std::thread::sleep(Duration::from_millis(300));
    }
    // Locked (Ctrl+L in the main window), then the window closed: the app
    // keeps running in the tray with no web view.
    let in_tray = lock_and_close_to_tray(screen, &app);
    drop(app);
    let keepassxc = keepassxc_at_its_unlock_screen(screen);

    println!("## Desktop, the release app in Xvfb\n");
    println!("| figure | median | target |");
    println!("|---|---|---|");
    println!(
        "| cold start to the unlock screen, {runs} runs (first start {:.2} s) | {:.2} s | ≤ 1 s |",
        first,
        median(starts)
    );
    if !quick.is_empty() {
        let shown = median(quick.iter().map(|q| q.0).collect());
        let copied = median(quick.iter().map(|q| q.1).collect());
        println!(
            "| Quick Access: shortcut → shown {:.0} ms + Enter → copied {:.0} ms, {} runs | {:.0} ms | ≤ 150 ms |",
            shown * 1000.0,
            copied * 1000.0,
            quick.len(),
            (shown + copied) * 1000.0
        );
    }
    println!(
        "| idle memory at the unlock screen ({} processes) | PSS {:.0} MiB (RSS {:.0} MiB) | ≤ 150 MB |",
        locked.2, locked.1, locked.0
    );
    println!(
        "| idle memory unlocked, list shown ({} processes) | PSS {:.0} MiB (RSS {:.0} MiB) | ≤ 150 MB |",
        unlocked.2, unlocked.1, unlocked.0
    );
    let peer = keepassxc.map_or("keepassxc did not start".to_owned(), |k| format!("KeePassXC {:.0} MiB", k.1));
    match in_tray {
        Some(t) => println!(
            "| idle memory locked in the tray ({} processes) | PSS {:.0} MiB (RSS {:.0} MiB); {peer}{} | ≤ KeePassXC at its unlock screen |",
            t.2,
            t.1,
            t.0,
            keepassxc.map_or(String::new(), |k| format!(" = {:.2}×", t.1 / k.1)),
        ),
        None => println!(
            "| idle memory locked in the tray | the windows were not released | ≤ KeePassXC at its unlock screen |"
        ),
    }
    if let Some(k) = keepassxc {
        println!(
            "| (peer) KeePassXC at its unlock screen, same Xvfb ({} processes) | PSS {:.0} MiB (RSS {:.0} MiB) | |",
            k.2, k.1, k.0
        );
    }
    println!();
}

/// Locks with Ctrl+L, closes the main window as a window manager would
/// (`WM_DELETE_WINDOW`) and measures once the app says it released its web
/// views; `None` if it never did.
fn lock_and_close_to_tray(screen: &Screen, app: &App) -> Option<(f64, f64, usize)> {
    // Quick Access had the keyboard last: give it back to the main window
    // (there is no window manager to do it) before Ctrl+L.
    let window = screen.visible_windows("Tessera").into_iter().next()?;
    let _ = screen.run("xdotool", &["windowfocus", &window]);
    screen.xdotool_key("ctrl+l");
    app.wait_for("unlock-screen", Duration::from_secs(60))?;
    // The lock replaced the window: close the new one.
    let window = tessera_test_support::webdriver::poll(Duration::from_secs(30), || {
        screen.visible_windows("Tessera").into_iter().next()
    })?;
    screen.close_window(&window);
    app.wait_for("web-views-released", Duration::from_secs(60))?;
    std::thread::sleep(Duration::from_secs(5));
    Some(app.memory())
}

/// KeePassXC (the `keepassxc` package) under the same X server, idle at its
/// unlock screen for a database; `None` when it is not installed.
fn keepassxc_at_its_unlock_screen(screen: &Screen) -> Option<(f64, f64, usize)> {
    let home = tempfile::tempdir().ok()?;
    // Any KDBX opens the unlock screen; a tiny one made here keeps this
    // independent of the other benchmarks.
    let kdbx = home.path().join("peer.kdbx");
    let made = Command::new("keepassxc-cli")
        .args(["db-create", "--set-password"])
        .arg(&kdbx)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("piped").write_all(b"bench password\nbench password\n")?;
            c.wait()
        });
    if !made.is_ok_and(|s| s.success()) {
        return None;
    }
    let mut child = screen
        .env(&mut Command::new("keepassxc"))
        .arg(&kdbx)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let shown = tessera_test_support::webdriver::poll(Duration::from_secs(30), || {
        let found = screen.run("xdotool", &["search", "--onlyvisible", "--name", "KeePassXC"]);
        (!found.stdout.is_empty()).then_some(())
    })
    .is_some();
    std::thread::sleep(Duration::from_secs(5));
    let memory = shown.then(|| tree_memory(child.id()));
    let _ = child.kill();
    let _ = child.wait();
    memory
}
