//! The two windows: the main window and Quick Access (small, undecorated,
//! always on top, hidden instead of closed).

use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};

pub const MAIN: &str = "main";
pub const QUICK: &str = "quick";

fn main_builder(app: &AppHandle) -> WebviewWindowBuilder<'_, tauri::Wry, AppHandle> {
    WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("Tessera")
        .inner_size(1100.0, 720.0)
        .min_inner_size(720.0, 480.0)
}

pub fn create_main(app: &AppHandle) -> tauri::Result<()> {
    main_builder(app).build()?;
    Ok(())
}

fn quick_builder(app: &AppHandle) -> WebviewWindowBuilder<'_, tauri::Wry, AppHandle> {
    WebviewWindowBuilder::new(app, QUICK, WebviewUrl::App("index.html?window=quick".into()))
        .title("Tessera Quick Access")
        .inner_size(560.0, 380.0)
        .resizable(false)
        .decorations(false)
        .always_on_top(true)
        .skip_taskbar(true)
        .visible(false)
        .center()
}

/// Creates the hidden Quick Access window, so the shortcut shows it at once.
pub fn create_quick(app: &AppHandle) -> tauri::Result<()> {
    quick_builder(app).build()?;
    Ok(())
}

/// Creates Quick Access in the main window's web process (WebKitGTK's
/// related views): one web process fewer, about 60 MiB of memory.
#[cfg(target_os = "linux")]
pub fn create_quick_beside_main(app: &AppHandle) -> tauri::Result<()> {
    let Some(main) = app.get_webview_window(MAIN) else {
        return create_quick(app);
    };
    let handle = app.clone();
    main.with_webview(move |webview| {
        if let Err(e) = quick_builder(&handle).with_related_view(webview.inner()).build() {
            eprintln!("tessera-desktop: cannot prepare Quick Access: {e}");
        }
    })
}

#[cfg(not(target_os = "linux"))]
pub fn create_quick_beside_main(app: &AppHandle) -> tauri::Result<()> {
    create_quick(app)
}

/// Set while the main window is closed to the tray: a lock then releases
/// the windows instead of making them again.
static IN_TRAY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Started in the tray ([`crate::restart`]): no window until one is asked
/// for.
pub fn stay_in_tray() {
    IN_TRAY.store(true, std::sync::atomic::Ordering::SeqCst);
    crate::timing("web-views-released");
}

/// The main window was closed with "keep running in the tray" on. Unlocked,
/// it is only hidden, so Quick Access and the window come back at once;
/// locked, every web view is released (made again on demand), so the idle
/// app holds no web process.
pub fn close_to_tray(app: &AppHandle) {
    IN_TRAY.store(true, std::sync::atomic::Ordering::SeqCst);
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.hide();
    }
    if !app.state::<crate::desktop::Desktop>().is_unlocked() {
        release(app);
    }
}

/// Ends every web view (and with the last one its web process), on a
/// thread of its own like [`renew_web_content`].
fn release(app: &AppHandle) {
    let app = app.clone();
    let _ = std::thread::Builder::new().name("release-web-views".into()).spawn(move || {
        let _one = RENEWING.lock().unwrap_or_else(|p| p.into_inner());
        if !IN_TRAY.load(std::sync::atomic::Ordering::SeqCst) {
            return; // shown again meanwhile
        }
        release_all(&app);
    });
}

/// Locked in the tray: the app starts again, as itself, in the tray
/// ([`crate::restart`]); where that cannot be done, the views are destroyed
/// instead.
fn release_all(app: &AppHandle) {
    #[cfg(target_os = "linux")]
    match restart_in_tray(app) {
        Some(error) => {
            eprintln!("tessera-desktop: cannot start again in the tray ({error}); releasing the windows instead")
        }
        None => return, // unlocked meanwhile: nothing to release
    }
    destroy_all(app);
    crate::timing("web-views-released");
}

/// Executes the app again in the tray; returns only if that failed (the
/// error), or if the vault was unlocked meanwhile (`None`).
#[cfg(target_os = "linux")]
fn restart_in_tray(app: &AppHandle) -> Option<std::io::Error> {
    // The sockets close first, cleanly (their files removed, their
    // threads ended before the vault's lock is taken), so the new process
    // binds them again; a connected browser host reconnects.
    if let Some(b) = app.try_state::<crate::browser::Browser>() {
        b.stop();
    }
    if let Some(a) = app.try_state::<crate::agents::Agents>() {
        a.stop();
    }
    let error = crate::restart::exec_in_tray(app);
    // Still here: serve the sockets again.
    crate::browser::start_if_enabled(app);
    crate::agents::resume(app);
    error
}

fn destroy_all(app: &AppHandle) {
    clear_primary_selection(app);
    for label in [MAIN, QUICK] {
        if let Some(w) = app.get_webview_window(label) {
            if label == MAIN {
                forget_input_state(&w);
            }
            if let Err(e) = w.destroy() {
                eprintln!("tessera-desktop: cannot release a window: {e}");
            }
            wait_gone(app, label);
        }
    }
    // The views' memory, freed and wiped, back to the system: what is left
    // is the idle app in the tray.
    tessera_hardening::release_free_memory();
}

/// Shows the main window, making it (and Quick Access beside it) again if
/// they were released in the tray.
pub fn show_main(app: &AppHandle) {
    IN_TRAY.store(false, std::sync::atomic::Ordering::SeqCst);
    if app.get_webview_window(MAIN).is_none() {
        let app = app.clone();
        // Building a window needs the event loop, which may be the caller.
        let _ = std::thread::Builder::new().name("show-main".into()).spawn(move || {
            let _one = RENEWING.lock().unwrap_or_else(|p| p.into_inner());
            if app.get_webview_window(MAIN).is_none() {
                if let Err(e) = create_main(&app) {
                    eprintln!("tessera-desktop: cannot open the main window: {e}");
                    return;
                }
                if app.get_webview_window(QUICK).is_none()
                    && let Err(e) = create_quick_beside_main(&app)
                {
                    eprintln!("tessera-desktop: cannot prepare Quick Access: {e}");
                }
            }
            raise_main(&app);
        });
        return;
    }
    raise_main(app);
}

fn raise_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Shows Quick Access on top, focused, with an empty query.
pub fn show_quick(app: &AppHandle) {
    if app.get_webview_window(QUICK).is_none() {
        if let Err(e) = create_quick(app) {
            eprintln!("tessera-desktop: cannot open Quick Access: {e}");
            return;
        }
    }
    if let Some(w) = app.get_webview_window(QUICK) {
        let _ = w.center();
        let _ = w.show();
        let _ = w.set_always_on_top(true);
        let _ = w.set_focus();
        let _ = app.emit_to(QUICK, "quick-access-shown", ());
        crate::timing("quick-shown");
    }
}

pub fn hide_quick(app: &AppHandle) {
    if let Some(w) = app.get_webview_window(QUICK) {
        let _ = w.hide();
    }
}

/// Where and how the main window was, to put its successor in its place.
struct Placement {
    position: Option<tauri::PhysicalPosition<i32>>,
    size: Option<tauri::PhysicalSize<u32>>,
    visible: bool,
    minimized: bool,
    maximized: bool,
}

impl Placement {
    fn of(window: &tauri::WebviewWindow) -> Placement {
        Placement {
            position: window.outer_position().ok(),
            size: window.inner_size().ok(),
            visible: window.is_visible().unwrap_or(true),
            minimized: window.is_minimized().unwrap_or(false),
            maximized: window.is_maximized().unwrap_or(false),
        }
    }

    fn apply(&self, window: &tauri::WebviewWindow) {
        if let Some(size) = self.size {
            let _ = window.set_size(size);
        }
        if let Some(position) = self.position {
            let _ = window.set_position(position);
        }
        if self.maximized {
            let _ = window.maximize();
        }
        if self.visible {
            let _ = window.show();
            if self.minimized {
                let _ = window.minimize();
            }
        }
    }
}

/// Whether locking replaces the windows (WebKitGTK, where the app knows how
/// a view's process ends with it).
pub const RENEWS_WEB_CONTENT: bool = cfg!(target_os = "linux");

/// One renewal at a time: a second lock while one runs waits for it.
static RENEWING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Replaces every window's web view with a fresh one, so nothing the
/// session's JavaScript saw outlives the lock: the web content process
/// ends with its last view, and with it the JavaScript heap, the DOM, the
/// editor's text and the strings the IPC left there (DESIGN §6, memory
/// after lock). The main window comes back where it was; Quick Access
/// comes back hidden, sharing the new main window's process.
///
/// The views are replaced rather than their process killed and reloaded:
/// WebKit treats a killed process as a crash (WebDriver drops its session),
/// and a window that closes and opens at lock is also what the user sees
/// of the keys going away. Runs on a thread of its own: creating a window
/// needs the event loop, which may be the caller.
pub fn renew_web_content(app: &AppHandle) {
    let app = app.clone();
    let spawned = std::thread::Builder::new().name("renew-web-content".into()).spawn(move || {
        let _one = RENEWING.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = renew(&app) {
            eprintln!("tessera-desktop: cannot renew the windows after lock: {e}");
        }
    });
    if let Err(e) = spawned {
        eprintln!("tessera-desktop: cannot renew the windows after lock: {e}");
    }
}

fn renew(app: &AppHandle) -> tauri::Result<()> {
    if IN_TRAY.load(std::sync::atomic::Ordering::SeqCst) {
        // Locked while closed to the tray: nothing to make again.
        release_all(app);
        return Ok(());
    }
    clear_primary_selection(app);
    let placement = app.get_webview_window(MAIN).map(|w| Placement::of(&w));
    // Quick Access stays until the new main window is up: WebDriver, and
    // the app's own window count, never see no window at all.
    if let Some(main) = app.get_webview_window(MAIN) {
        forget_input_state(&main);
        main.destroy()?;
        wait_gone(app, MAIN);
    }
    let builder = main_builder(app).visible(false);
    let main = builder.build()?;
    match &placement {
        Some(p) => p.apply(&main),
        None => {
            let _ = main.show();
        }
    }
    if let Some(quick) = app.get_webview_window(QUICK) {
        quick.destroy()?;
        wait_gone(app, QUICK);
    }
    create_quick_beside_main(app)
}

/// WebKit keeps the text around the caret of the last field typed into in
/// the app's own process (for input methods), outside the web process that
/// ends with the view. A view kept alive after it is destroyed would keep
/// that text: wry holds the first view it made for as long as the app runs
/// when WebDriver automation is on, and the memory canary found a typed
/// note there. So before a view goes, focus an empty field in it: WebKit
/// replaces the kept text with that field's (none), and the freed copy is
/// wiped ([`tessera_hardening::wipe_freed_c_heap`]).
fn forget_input_state(window: &tauri::WebviewWindow) {
    const EMPTY_FIELD: &str = "(() => { const f = document.createElement('textarea'); \
        f.setAttribute('aria-hidden', 'true'); f.tabIndex = -1; \
        f.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;opacity:0'; \
        document.body.appendChild(f); f.focus(); })()";
    if window.eval(EMPTY_FIELD).is_ok() {
        // The page's editor state reaches the app asynchronously.
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// Waits (up to 5 s) until the event loop has removed the window `label`.
fn wait_gone(app: &AppHandle, label: &str) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while app.get_webview_window(label).is_some() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A selection made in a field (X11's PRIMARY) is the app's to serve until
/// something else takes it; give it up at lock. This drops only the app's
/// own ownership: GTK clears nothing another program holds.
#[cfg(target_os = "linux")]
fn clear_primary_selection(app: &AppHandle) {
    let _ = app.run_on_main_thread(|| {
        gtk::Clipboard::get(&gtk::gdk::SELECTION_PRIMARY).clear();
    });
}

#[cfg(not(target_os = "linux"))]
fn clear_primary_selection(_app: &AppHandle) {}
