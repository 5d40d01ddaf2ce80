//! The two windows: the main window and Quick Access (small, undecorated,
//! always on top, hidden instead of closed).

use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};

pub const MAIN: &str = "main";
pub const QUICK: &str = "quick";

pub fn create_main(app: &AppHandle) -> tauri::Result<()> {
    WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("Tessera")
        .inner_size(1100.0, 720.0)
        .min_inner_size(720.0, 480.0)
        .build()?;
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

pub fn show_main(app: &AppHandle) {
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
