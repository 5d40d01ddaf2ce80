//! The tray icon: locked/unlocked, and a menu with Show, Lock, Quick Access,
//! the favourites (each with copy password / username / one-time code) and
//! Quit. The menu is rebuilt whenever the vault locks, unlocks or changes.

use tauri::image::Image;
use tauri::menu::{Menu, MenuBuilder, MenuEvent, MenuItemBuilder, SubmenuBuilder};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

use crate::desktop::Desktop;
use crate::dto::FieldRef;

const TRAY: &str = "tessera";
const MAX_FAVOURITES: usize = 20;

fn icon(unlocked: bool) -> Image<'static> {
    let bytes: &'static [u8] = if unlocked {
        include_bytes!("../../icons/tray-unlocked.png")
    } else {
        include_bytes!("../../icons/tray-locked.png")
    };
    Image::from_bytes(bytes).expect("the tray icons are valid PNG files")
}

fn menu(app: &AppHandle) -> tauri::Result<Menu<tauri::Wry>> {
    let desktop = app.state::<Desktop>();
    let unlocked = desktop.is_unlocked();
    let mut builder = MenuBuilder::new(app)
        .item(&MenuItemBuilder::with_id("show", "Show Tessera").build(app)?)
        .item(&MenuItemBuilder::with_id("quick", "Quick Access").build(app)?)
        .item(&MenuItemBuilder::with_id("lock", "Lock").enabled(unlocked).build(app)?)
        .separator();
    let favourites = desktop.favourites(MAX_FAVOURITES);
    if unlocked && !favourites.is_empty() {
        for (id, title, has_user, has_password, has_totp) in favourites {
            let hex = id.to_hex();
            let title = if title.is_empty() { "(untitled)".to_owned() } else { title };
            let sub = SubmenuBuilder::with_id(app, format!("fav:{hex}"), title)
                .item(
                    &MenuItemBuilder::with_id(format!("copy:{hex}:password"), "Copy password")
                        .enabled(has_password)
                        .build(app)?,
                )
                .item(
                    &MenuItemBuilder::with_id(format!("copy:{hex}:username"), "Copy username")
                        .enabled(has_user)
                        .build(app)?,
                )
                .item(
                    &MenuItemBuilder::with_id(format!("copy:{hex}:totp"), "Copy one-time code")
                        .enabled(has_totp)
                        .build(app)?,
                )
                .build()?;
            builder = builder.item(&sub);
        }
        builder = builder.separator();
    } else if !unlocked {
        builder = builder
            .item(&MenuItemBuilder::with_id("locked", "Locked: unlock to see favourites").enabled(false).build(app)?)
            .separator();
    }
    builder.item(&MenuItemBuilder::with_id("quit", "Quit Tessera").build(app)?).build()
}

pub fn build(app: &AppHandle) -> tauri::Result<()> {
    let unlocked = app.state::<Desktop>().is_unlocked();
    TrayIconBuilder::with_id(TRAY)
        .icon(icon(unlocked))
        .tooltip(if unlocked { "Tessera (unlocked)" } else { "Tessera (locked)" })
        .menu(&menu(app)?)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu)
        .build(app)?;
    Ok(())
}

/// Whether the tray icon is up (a window closed to it can come back).
pub fn exists(app: &AppHandle) -> bool {
    app.tray_by_id(TRAY).is_some()
}

/// Brings icon and menu up to date with the vault.
pub fn refresh(app: &AppHandle) {
    let Some(tray) = app.tray_by_id(TRAY) else { return };
    let unlocked = app.state::<Desktop>().is_unlocked();
    let _ = tray.set_icon(Some(icon(unlocked)));
    let _ = tray.set_tooltip(Some(if unlocked { "Tessera (unlocked)" } else { "Tessera (locked)" }));
    match menu(app) {
        Ok(m) => {
            let _ = tray.set_menu(Some(m));
        }
        Err(e) => eprintln!("tessera-desktop: cannot rebuild the tray menu: {e}"),
    }
}

fn on_menu(app: &AppHandle, event: MenuEvent) {
    let id = event.id().as_ref();
    match id {
        "show" => crate::windows::show_main(app),
        "quick" => crate::windows::show_quick(app),
        "lock" => crate::autolock::lock_app(app, "user", true),
        "quit" => crate::quit(app),
        other => {
            let mut parts = other.splitn(3, ':');
            if let (Some("copy"), Some(hex), Some(what)) = (parts.next(), parts.next(), parts.next()) {
                let field = match what {
                    "password" => FieldRef::Password,
                    "username" => FieldRef::Username,
                    _ => FieldRef::Totp,
                };
                let app = app.clone();
                let hex = hex.to_owned();
                // Off the UI thread: an HOTP code writes to the vault.
                std::thread::spawn(move || {
                    if let Err(e) = crate::commands::copy_item_field(&app, "tray", &hex, &field) {
                        eprintln!("tessera-desktop: tray copy failed: {}", e.message);
                    }
                });
            }
        }
    }
}
