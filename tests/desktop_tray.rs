//! The tray's quick-copy end to end, through the menu the app really
//! exports: the test plays the panel (a StatusNotifierWatcher on the app's
//! private session bus, `support/status_notifier.rs`), reads the tray
//! item's `com.canonical.dbusmenu` menu and clicks its entries with the
//! `Event(id, "clicked")` a panel sends. What a click did is checked where
//! a user sees it: the X clipboard (`xclip`) and the app's window.
//!
//! Needs what tests/desktop.rs needs (`tessera-desktop`, `tauri-driver`,
//! Xvfb, xclip) and `tessera` and oathtool for the vault and its codes.

use std::time::Duration;

use serde_json::json;
use tessera_test_support::app::*;
use tessera_test_support::status_notifier::{MenuEntry, StatusNotifierWatcher, TrayMenu};
use tessera_test_support::{PASSWORD, TestVault, assert_success};

const LOCKED_ENTRY: &str = "Locked: unlock to see favourites";
const COPY_ENTRIES: [&str; 3] = ["Copy password", "Copy username", "Copy one-time code"];

/// A favourite login with a username, a password and a TOTP secret.
const BANK: (&str, &str, &str) = ("Harbour Bank", "ada@harbour.example", "tray-Lantern-8812-quay!");
/// A favourite without a one-time code (its "Copy one-time code" is greyed).
const ROUTER: (&str, &str, &str) = ("Router", "admin", "router-Kestrel-42");

/// Adds a favourite login to `vault` with the CLI; its password goes
/// through a file, not the command line.
fn add_favourite(vault: &TestVault, (title, username, password): (&str, &str, &str), otp: Option<&str>) {
    let secret = vault.dir.path().join("secret");
    std::fs::write(&secret, format!("{password}\n")).expect("write the password file");
    let mut args = vec!["add", "--type", "login", "--title", title, "--username", username, "--favourite"];
    let secret_arg = secret.to_str().expect("utf-8 path");
    args.extend(["--secret-file", secret_arg]);
    let uri;
    if let Some(s) = otp {
        uri = format!("otpauth://totp/Harbour:ada?secret={s}&issuer=Harbour");
        args.extend(["--otp", &uri]);
    }
    assert_success(&vault.run_fast(&args), "add");
    std::fs::remove_file(&secret).expect("remove the password file");
}

/// The tray's menu once the app's item has registered with the watcher.
fn tray_menu(app: &App, watcher: &StatusNotifierWatcher) -> TrayMenu {
    let item = app
        .wait("the tray icon to register with the StatusNotifierWatcher", SHORT, || watcher.items().into_iter().next());
    app.wait("the tray item's Menu property", SHORT, || watcher.menu_of(&item).ok())
}

/// Polls the exported layout until `ready` holds (the app rebuilds the
/// menu on lock, unlock and changes; the export follows a moment later).
fn wait_layout(app: &App, menu: &TrayMenu, what: &str, ready: impl Fn(&MenuEntry) -> bool) -> MenuEntry {
    let mut last = String::new();
    let found = tessera_test_support::webdriver::poll(SHORT, || match menu.layout() {
        Ok(root) if ready(&root) => Some(root),
        Ok(root) => {
            last = labels(&root);
            None
        }
        Err(e) => {
            last = e;
            None
        }
    });
    found.unwrap_or_else(|| app.fail(format!("the tray menu never showed {what}; last: {last}")))
}

/// The menu's labels, one line each, indented by depth (for failures).
fn labels(root: &MenuEntry) -> String {
    fn walk(e: &MenuEntry, depth: usize, out: &mut String) {
        for c in &e.children {
            let label = if c.separator { "—".to_owned() } else { c.label.clone() };
            let state = if c.enabled { "" } else { " (disabled)" };
            out.push_str(&format!("\n{}{label}{state}", "  ".repeat(depth)));
            walk(c, depth + 1, out);
        }
    }
    let mut out = String::new();
    walk(root, 0, &mut out);
    out
}

/// The entry `label` inside the submenu titled `title`.
fn entry_of<'m>(app: &App, root: &'m MenuEntry, title: &str, label: &str) -> &'m MenuEntry {
    let sub =
        root.find(title).unwrap_or_else(|| app.fail(format!("no submenu {title:?} in the tray:{}", labels(root))));
    sub.find(label).unwrap_or_else(|| app.fail(format!("no {label:?} under {title:?}:{}", labels(root))))
}

fn click(app: &App, menu: &TrayMenu, entry: &MenuEntry) {
    if let Err(e) = menu.click(entry.id) {
        app.fail(format!("clicking {:?} in the tray: {e}", entry.label));
    }
}

#[test]
fn tray_favourites_copy_over_dbus_and_lock_clears_the_clipboard() {
    let _serial = serial();
    let vault = TestVault::new();
    add_favourite(&vault, BANK, Some(TOTP_SECRET));
    add_favourite(&vault, ROUTER, None);

    // The watcher is on the bus before the app looks for one. Copies stay
    // on the clipboard for ten minutes, so only the lock can clear them.
    let mut watcher = None;
    let app = App::start(|d| {
        watcher = Some(StatusNotifierWatcher::start(d.bus_address()));
        write_config(d, Some(&vault.path), json!({ "clipboardClearSeconds": 600 }));
    });
    let watcher = watcher.expect("the configure step ran");
    let menu = tray_menu(&app, &watcher);

    // Locked: the menu says so and offers no copy.
    app.screen("unlock-screen", SHORT);
    let root = wait_layout(&app, &menu, "the locked entry", |r| r.find(LOCKED_ENTRY).is_some());
    let locked = root.find(LOCKED_ENTRY).expect("just found");
    app.check(!locked.enabled, || "the locked entry can be clicked".into());
    for label in COPY_ENTRIES {
        app.check(root.find(label).is_none(), || format!("{label:?} is offered while locked:{}", labels(&root)));
    }
    let lock = root.find("Lock").unwrap_or_else(|| app.fail(format!("no Lock entry:{}", labels(&root))));
    app.check(!lock.enabled, || "Lock is enabled while locked".into());

    app.replace("unlock-password", PASSWORD);
    app.click("unlock-submit");
    app.screen("main-screen", KDF);

    // Unlocked: one submenu per favourite, the copies done by clicking.
    let root = wait_layout(&app, &menu, "the favourites", |r| {
        r.find(BANK.0).is_some_and(|s| s.find("Copy password").is_some()) && r.find(ROUTER.0).is_some()
    });
    app.check(root.find(LOCKED_ENTRY).is_none(), || format!("the locked entry stays after unlock:{}", labels(&root)));
    let no_code = entry_of(&app, &root, ROUTER.0, "Copy one-time code");
    app.check(!no_code.enabled, || "a favourite without a one-time code offers to copy one".into());

    click(&app, &menu, entry_of(&app, &root, BANK.0, "Copy password"));
    app.wait_clipboard(Some(BANK.2), SHORT);
    click(&app, &menu, entry_of(&app, &root, BANK.0, "Copy username"));
    app.wait_clipboard(Some(BANK.1), SHORT);
    click(&app, &menu, entry_of(&app, &root, BANK.0, "Copy one-time code"));
    let mut last = None;
    let code = tessera_test_support::webdriver::poll(SHORT, || {
        let now = app.desktop.clipboard();
        last = now.clone();
        now.filter(|c| totp_codes_around(TOTP_SECRET, unix_now()).contains(c))
    });
    app.check(code.is_some(), || format!("the clipboard holds {last:?}, not a current code of the secret (oathtool)"));
    click(&app, &menu, entry_of(&app, &root, ROUTER.0, "Copy password"));
    app.wait_clipboard(Some(ROUTER.2), SHORT);

    // "Lock" in the tray locks the app and takes the password off the
    // clipboard with the keys.
    let lock = root.find("Lock").unwrap_or_else(|| app.fail(format!("no Lock entry:{}", labels(&root))));
    app.check(lock.enabled, || "Lock is disabled while unlocked".into());
    click(&app, &menu, lock);
    app.wait_clipboard(None, Duration::from_secs(5));
    let root = wait_layout(&app, &menu, "the locked entry after Lock", |r| r.find(LOCKED_ENTRY).is_some());
    for label in COPY_ENTRIES {
        app.check(root.find(label).is_none(), || format!("{label:?} is offered after Lock:{}", labels(&root)));
    }
    app.screen("unlock-screen", Duration::from_secs(5));
}

/// The processes of the app this test started (it and every descendant),
/// by name.
fn app_processes() -> Vec<String> {
    let bin = tessera_test_support::webdriver::desktop_bin().canonicalize().expect("the app binary");
    let Some(pid) = tessera_test_support::memory::own_descendant(&bin) else { return Vec::new() };
    let tree = tessera_test_support::memory::process_tree(pid);
    tree.into_iter().map(tessera_test_support::memory::process_name).collect()
}

fn web_processes() -> usize {
    app_processes().iter().filter(|n| n.starts_with("WebKitWebProces")).count()
}

/// The app's process id and its processes' PSS together (MiB).
fn app_pid_and_pss() -> (u32, f64) {
    let bin = tessera_test_support::webdriver::desktop_bin().canonicalize().expect("the app binary");
    let pid = tessera_test_support::memory::own_descendant(&bin).expect("the app runs");
    (pid, tessera_test_support::memory::pss_mib(&tessera_test_support::memory::process_tree(pid)))
}

/// "Keep running in the tray": closing the window while unlocked only hides
/// it (the web view stays, for Quick Access); locked in the tray, the app
/// starts again as itself in the tray (same process), with no web view,
/// no WebKit process and a fraction of the memory; its new tray item works,
/// and "Show Tessera" makes the window again.
///
/// The WebDriver session ends with the old process image, so what follows
/// the lock is checked where a user sees it: the tray's menu over D-Bus,
/// the X windows and the process table.
#[test]
fn closed_to_the_tray_and_locked_the_app_starts_again_with_no_web_view() {
    let _serial = serial();
    let vault = TestVault::new();
    add_favourite(&vault, ROUTER, None);
    let mut watcher = None;
    let app = App::start(|d| {
        watcher = Some(StatusNotifierWatcher::start(d.bus_address()));
        write_config(d, Some(&vault.path), json!({ "closeToTray": true }));
    });
    let watcher = watcher.expect("the configure step ran");
    let menu = tray_menu(&app, &watcher);
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", PASSWORD);
    app.click("unlock-submit");
    app.screen("main-screen", KDF);

    // Unlocked: closing hides the window, the web process stays.
    let window = app.desktop.visible_windows(MAIN_TITLE);
    app.check(window.len() == 1, || format!("one main window expected, found {window:?}"));
    // Asked again if the first request is not acted on: on a loaded machine
    // the window may still be settling after the unlock.
    app.wait("the main window to hide", SHORT, || {
        app.desktop.close_window(&window[0]);
        tessera_test_support::webdriver::poll(Duration::from_secs(3), || {
            (!app.desktop.window_visible(MAIN_TITLE)).then_some(())
        })
    });
    std::thread::sleep(Duration::from_secs(1));
    app.check(web_processes() > 0, || format!("the web process went while unlocked: {:?}", app_processes()));
    let (pid, unlocked_pss) = app_pid_and_pss();
    let root = wait_layout(&app, &menu, "favourites while in the tray", |r| r.find(ROUTER.0).is_some());

    // Locked from the tray: the process starts again in the tray, alone.
    let registered = watcher.items().len();
    click(&app, &menu, root.find("Lock").unwrap_or_else(|| app.fail("no Lock entry")));
    let item = app.wait("the restarted app's tray item", SHORT, || watcher.items().get(registered).cloned());
    let menu = app.wait("the restarted tray item's menu", SHORT, || watcher.menu_of(&item).ok());
    // WebKit's processes end when they find their app gone.
    app.wait("WebKit's processes to end", SHORT, || (app_processes().len() == 1).then_some(()));
    let (same_pid, tray_pss) = app_pid_and_pss();
    eprintln!(
        "[tray] locked in the tray: {:?}, PSS {tray_pss:.0} MiB (hidden unlocked: {unlocked_pss:.0})",
        app_processes()
    );
    app.check(same_pid == pid, || format!("the app is process {same_pid} now, was {pid}"));
    app.check(tray_pss < unlocked_pss / 2.0, || {
        format!("locked in the tray the app holds {tray_pss:.0} MiB, unlocked and hidden {unlocked_pss:.0}")
    });
    app.check(!app.desktop.window_visible(MAIN_TITLE), || "a window shows while in the tray".into());

    // "Show Tessera" makes the window again, locked.
    let root = wait_layout(&app, &menu, "the locked menu", |r| r.find(LOCKED_ENTRY).is_some());
    click(&app, &menu, root.find("Show Tessera").unwrap_or_else(|| app.fail("no Show entry")));
    app.wait("the main window to come back", SHORT, || app.desktop.window_visible(MAIN_TITLE).then_some(()));
    app.wait("a web process again", SHORT, || (web_processes() > 0).then_some(()));

    // And "Quit Tessera" in the new menu ends it.
    let root = wait_layout(&app, &menu, "the menu after Show", |r| r.find("Quit Tessera").is_some());
    click(&app, &menu, root.find("Quit Tessera").unwrap_or_else(|| app.fail("no Quit entry")));
    // Ended: gone, or a zombie until the driver that started it reaps it.
    let ended = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map_or(true, |stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')))
    };
    app.wait("the app to quit", SHORT, || ended().then_some(()));
}
