//! The `#[tauri::command]`s of ui/API.md: each takes its arguments, runs the
//! matching [`Desktop`] method on the blocking pool (key derivation and
//! SQLite must not stall the event loop), and emits the events the
//! contract names.

use std::path::PathBuf;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, WebviewWindow};
use tauri_plugin_dialog::DialogExt;
use zeroize::Zeroizing;

use crate::desktop::Desktop;
use crate::dto::*;
use crate::error::{CommandError, CommandResult};
use crate::settings::Settings;
use crate::shortcut::Purpose;
use crate::{autolock, shortcut, tray, windows};

/// Runs `f` on the blocking pool with the app's state. Every command counts
/// as activity for the idle auto-lock, except the ones a screen makes by
/// itself (`quiet`).
pub(crate) async fn run<T: Send + 'static>(
    app: &AppHandle,
    quiet: bool,
    f: impl FnOnce(&Desktop, &AppHandle) -> CommandResult<T> + Send + 'static,
) -> CommandResult<T> {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let desktop = app.state::<Desktop>();
        if !quiet {
            desktop.touch();
        }
        f(&desktop, &app)
    })
    .await
    .map_err(|_| CommandError::internal("The operation stopped unexpectedly; nothing was changed"))?
}

#[derive(Clone, Serialize)]
struct Changed {
    ids: Vec<String>,
}

/// `vault-changed` to every window but the one whose command changed it.
pub(crate) fn changed_elsewhere(app: &AppHandle, caller: &str, ids: Vec<String>) {
    for label in app.webview_windows().keys().filter(|l| l.as_str() != caller) {
        let _ = app.emit_to(label.as_str(), "vault-changed", Changed { ids: ids.clone() });
    }
    tray::refresh(app);
}

// --- app, vault and unlock ------------------------------------------------------------

#[tauri::command]
pub async fn app_state(app: AppHandle) -> CommandResult<AppState> {
    run(&app, true, |d, _| Ok(d.app_state())).await
}

#[tauri::command]
pub async fn pick_vault_path(app: AppHandle, mode: String) -> CommandResult<Option<String>> {
    run(&app, false, move |d, app| {
        let dir = d.paths.default_vault.parent().map(PathBuf::from);
        let mut dialog = app.dialog().file().add_filter("Tessera vault", &["tessera"]);
        if let Some(dir) = dir.filter(|p| p.exists()) {
            dialog = dialog.set_directory(dir);
        }
        let picked = match mode.as_str() {
            "create" => dialog.set_title("Create a vault").set_file_name("vault.tessera").blocking_save_file(),
            "open" => dialog.set_title("Open a vault").blocking_pick_file(),
            _ => return Err(CommandError::invalid("mode must be create or open")),
        };
        Ok(picked.and_then(|p| p.into_path().ok()).map(|p| p.display().to_string()))
    })
    .await
}

#[tauri::command]
pub async fn create_vault(app: AppHandle, path: String, password: String) -> CommandResult<CreatedVault> {
    let password = Zeroizing::new(password);
    let created = run(&app, false, move |d, _| d.create_vault(&path, &password)).await?;
    after_unlock(&app);
    Ok(created)
}

/// What follows every unlock: the windows, the tray, the browser and agent
/// services and background sync learn of it.
pub(crate) fn after_unlock(app: &AppHandle) {
    let _ = app.emit("vault-unlocked", ());
    tray::refresh(app);
    crate::browser::on_unlock(app);
    crate::agents::on_unlock(app);
    crate::sync::on_unlock(app);
}

#[tauri::command]
pub async fn open_vault(app: AppHandle, path: String) -> CommandResult<AppState> {
    run(&app, false, move |d, _| d.open_vault(&path)).await
}

#[tauri::command]
pub async fn unlock_factors(app: AppHandle) -> CommandResult<Vec<UnlockFactor>> {
    crate::timing("unlock-screen");
    run(&app, true, |d, _| d.unlock_factors()).await
}

#[tauri::command]
pub async fn unlock(app: AppHandle, credential: Credential) -> CommandResult<AppState> {
    let state = run(&app, false, move |d, _| d.unlock(&credential)).await?;
    after_unlock(&app);
    Ok(state)
}

#[tauri::command]
pub async fn lock(app: AppHandle) -> CommandResult<()> {
    run(&app, false, |_, app| {
        autolock::lock_app(app, "user", true);
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn password_strength(app: AppHandle, password: String) -> CommandResult<PasswordStrength> {
    let password = Zeroizing::new(password);
    run(&app, true, move |_, _| Ok(Desktop::password_strength(&password, &[]))).await
}

// --- items ----------------------------------------------------------------------------

// Each argument is a key of the JS call (ui/API.md), flat like `share`.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn search_items(
    app: AppHandle,
    query: String,
    scope: SearchScope,
    offset: usize,
    limit: usize,
    share: Option<String>,
    folder: Option<String>,
    tag: Option<String>,
) -> CommandResult<SearchPage> {
    let filter = ListFilter::new(folder.as_deref(), tag.as_deref());
    run(&app, false, move |d, _| d.search_filtered(&query, scope, share.as_deref(), &filter, offset, limit)).await
}

#[tauri::command]
pub async fn get_item(app: AppHandle, id: String) -> CommandResult<ItemDetails> {
    run(&app, false, move |d, _| d.get_item(&id)).await
}

#[tauri::command]
pub async fn reveal_field(app: AppHandle, id: String, field: RevealableField) -> CommandResult<String> {
    run(&app, false, move |d, _| d.reveal_field(&id, &field).map(|v| v.to_string())).await
}

/// Puts `value` on the clipboard as a secret and schedules clearing it.
pub fn copy_secret(app: &AppHandle, value: &str) -> CommandResult<CopyReceipt> {
    let desktop = app.state::<Desktop>();
    let generation = desktop.clipboard.copy(value)?;
    crate::timing("copied");
    let seconds = desktop.settings().clipboard_clear_seconds;
    if seconds > 0 {
        let app = app.clone();
        std::thread::Builder::new()
            .name("clipboard-clear".into())
            .spawn(move || {
                std::thread::sleep(std::time::Duration::from_secs(u64::from(seconds)));
                if app.state::<Desktop>().clipboard.clear_if_unchanged(Some(generation)) {
                    let _ = app.emit("clipboard-cleared", ());
                }
            })
            .map_err(|e| CommandError::internal(format!("Cannot schedule clearing the clipboard: {e}")))?;
    }
    Ok(CopyReceipt { clear_after_seconds: (seconds > 0).then_some(u64::from(seconds)) })
}

/// Copies one field of an item (also used by the tray menu).
pub fn copy_item_field(app: &AppHandle, caller: &str, id: &str, field: &FieldRef) -> CommandResult<CopyReceipt> {
    let desktop = app.state::<Desktop>();
    let (value, changed) = desktop.field_value(id, field)?;
    let receipt = copy_secret(app, &value)?;
    if changed {
        changed_elsewhere(app, caller, vec![id.to_owned()]);
    }
    Ok(receipt)
}

#[tauri::command]
pub async fn copy_field(
    app: AppHandle,
    window: WebviewWindow,
    id: String,
    field: FieldRef,
) -> CommandResult<CopyReceipt> {
    let caller = window.label().to_owned();
    run(&app, false, move |_, app| copy_item_field(app, &caller, &id, &field)).await
}

#[tauri::command]
pub async fn totp_code(app: AppHandle, window: WebviewWindow, id: String) -> CommandResult<TotpCode> {
    let caller = window.label().to_owned();
    run(&app, true, move |d, app| {
        let (code, changed) = d.totp_code(&id)?;
        if changed {
            changed_elsewhere(app, &caller, vec![id.clone()]);
        }
        Ok(code)
    })
    .await
}

#[tauri::command]
pub async fn open_url(app: AppHandle, id: String, index: usize) -> CommandResult<()> {
    run(&app, false, move |d, _| {
        let url = d.url_to_open(&id, index)?;
        open_in_browser(&url)
    })
    .await
}

fn open_in_browser(url: &str) -> CommandResult<()> {
    #[cfg(target_os = "linux")]
    let program = "xdg-open";
    #[cfg(target_os = "macos")]
    let program = "open";
    #[cfg(target_os = "windows")]
    let program = "explorer";
    tessera_hardening::restore_user_environment(&mut std::process::Command::new(program))
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| CommandError::io(format!("Cannot start the web browser ({program}): {e}")))
}

#[tauri::command]
pub async fn new_item_template(app: AppHandle, r#type: tessera_core::ItemType) -> CommandResult<ItemDraft> {
    run(&app, false, move |_, _| Ok(ItemDraft::template(r#type))).await
}

#[tauri::command]
pub async fn get_item_for_edit(app: AppHandle, id: String) -> CommandResult<EditableItem> {
    run(&app, false, move |d, _| d.get_item_for_edit(&id)).await
}

#[tauri::command]
pub async fn create_item(app: AppHandle, window: WebviewWindow, item: ItemDraft) -> CommandResult<ItemDetails> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        let details = d.create_item(&item)?;
        changed_elsewhere(app, &caller, vec![details.id.clone()]);
        Ok(details)
    })
    .await
}

#[tauri::command]
pub async fn update_item(
    app: AppHandle,
    window: WebviewWindow,
    id: String,
    base_revision: u64,
    item: ItemDraft,
) -> CommandResult<ItemDetails> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        let details = d.update_item(&id, base_revision, &item)?;
        changed_elsewhere(app, &caller, vec![id]);
        Ok(details)
    })
    .await
}

/// The shape of the small item commands: do it, tell the other windows.
async fn item_change(
    app: AppHandle,
    window: WebviewWindow,
    id: String,
    f: impl FnOnce(&Desktop, &str) -> CommandResult<()> + Send + 'static,
) -> CommandResult<()> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        f(d, &id)?;
        changed_elsewhere(app, &caller, vec![id]);
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn set_favourite(app: AppHandle, window: WebviewWindow, id: String, favourite: bool) -> CommandResult<()> {
    item_change(app, window, id, move |d, id| d.set_favourite(id, favourite)).await
}

#[tauri::command]
pub async fn trash_item(app: AppHandle, window: WebviewWindow, id: String) -> CommandResult<()> {
    item_change(app, window, id, |d, id| d.trash_item(id)).await
}

#[tauri::command]
pub async fn restore_item(app: AppHandle, window: WebviewWindow, id: String) -> CommandResult<()> {
    item_change(app, window, id, |d, id| d.restore_item(id)).await
}

#[tauri::command]
pub async fn purge_item(app: AppHandle, window: WebviewWindow, id: String) -> CommandResult<()> {
    item_change(app, window, id, |d, id| d.purge_item(id)).await
}

#[tauri::command]
pub async fn empty_trash(app: AppHandle, window: WebviewWindow) -> CommandResult<usize> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        let n = d.empty_trash()?;
        changed_elsewhere(app, &caller, Vec::new());
        Ok(n)
    })
    .await
}

#[tauri::command]
pub async fn item_history(app: AppHandle, id: String) -> CommandResult<Vec<HistoryEntry>> {
    run(&app, false, move |d, _| d.item_history(&id)).await
}

#[tauri::command]
pub async fn restore_version(
    app: AppHandle,
    window: WebviewWindow,
    id: String,
    revision: u64,
) -> CommandResult<ItemDetails> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        let details = d.restore_version(&id, revision)?;
        changed_elsewhere(app, &caller, vec![id]);
        Ok(details)
    })
    .await
}

#[tauri::command]
pub async fn add_attachment(
    app: AppHandle,
    window: WebviewWindow,
    id: String,
) -> CommandResult<Option<AttachmentChange>> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        let Some(file) = app.dialog().file().set_title("Attach a file").blocking_pick_file() else {
            return Ok(None);
        };
        let file = file.into_path().map_err(|_| CommandError::invalid("That file cannot be read"))?;
        let change = d.add_attachment(&id, &file)?;
        changed_elsewhere(app, &caller, vec![id]);
        Ok(Some(change))
    })
    .await
}

#[tauri::command]
pub async fn remove_attachment(
    app: AppHandle,
    window: WebviewWindow,
    id: String,
    name: String,
) -> CommandResult<AttachmentChange> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        let change = d.remove_attachment(&id, &name)?;
        changed_elsewhere(app, &caller, vec![id]);
        Ok(change)
    })
    .await
}

#[tauri::command]
pub async fn save_attachment(app: AppHandle, id: String, name: String) -> CommandResult<bool> {
    run(&app, false, move |d, app| {
        let content = d.attachment_content(&id, &name)?;
        let Some(target) =
            app.dialog().file().set_title("Save the attachment").set_file_name(&name).blocking_save_file()
        else {
            return Ok(false);
        };
        let target = target.into_path().map_err(|_| CommandError::invalid("That place cannot be written"))?;
        // The dialog already asked before replacing an existing file.
        if target.exists() {
            std::fs::remove_file(&target)
                .map_err(|e| CommandError::io(format!("Cannot replace {}: {e}", target.display())))?;
        }
        crate::desktop::write_new_file(&target, &content)?;
        Ok(true)
    })
    .await
}

// --- tools --------------------------------------------------------------------------

#[tauri::command]
pub async fn generate_password(app: AppHandle, options: GeneratorOptions) -> CommandResult<GeneratedPassword> {
    run(&app, false, move |_, _| Desktop::generate(&options)).await
}

#[tauri::command]
pub async fn copy_text(app: AppHandle, text: String) -> CommandResult<CopyReceipt> {
    let text = Zeroizing::new(text);
    run(&app, false, move |_, app| copy_secret(app, &text)).await
}

#[derive(Clone, Serialize)]
struct HealthProgress {
    done: usize,
    total: usize,
}

#[tauri::command]
pub async fn health_report(app: AppHandle, window: WebviewWindow) -> CommandResult<serde_json::Value> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        d.health_report(&mut |done, total| {
            let _ = app.emit_to(caller.as_str(), "health-progress", HealthProgress { done, total });
        })
    })
    .await
}

#[tauri::command]
pub async fn audit_log(app: AppHandle, before_seq: Option<u64>, limit: usize) -> CommandResult<AuditPage> {
    run(&app, false, move |d, _| d.audit_log(before_seq, limit)).await
}

// --- settings, factors, import/export, sync ------------------------------------------

#[tauri::command]
pub async fn get_settings(app: AppHandle) -> CommandResult<Settings> {
    run(&app, true, |d, _| Ok(d.settings())).await
}

#[tauri::command]
pub async fn update_settings(app: AppHandle, settings: Settings) -> CommandResult<Settings> {
    let stored = run(&app, false, move |d, app| {
        settings.validate()?;
        let old = d.settings();
        if old.quick_access_shortcut != settings.quick_access_shortcut {
            shortcut::replace(app, &old.quick_access_shortcut, &settings.quick_access_shortcut, Purpose::QuickAccess)?;
        }
        if old.auto_type_shortcut != settings.auto_type_shortcut {
            if let Err(e) =
                shortcut::replace(app, &old.auto_type_shortcut, &settings.auto_type_shortcut, Purpose::AutoType)
            {
                let _ = shortcut::replace(
                    app,
                    &settings.quick_access_shortcut,
                    &old.quick_access_shortcut,
                    Purpose::QuickAccess,
                );
                return Err(e);
            }
        }
        if old.browser_integration != settings.browser_integration {
            crate::browser::set_enabled(app, settings.browser_integration)?;
        }
        if old.ssh_agent != settings.ssh_agent {
            crate::agents::set_ssh_enabled(app, settings.ssh_agent)?;
        }
        let (settings_quick, settings_auto_type) =
            (settings.quick_access_shortcut.clone(), settings.auto_type_shortcut.clone());
        match d.store_settings(settings) {
            Ok(s) => Ok(s),
            Err(e) => {
                // Keep the shortcuts that are still in the file.
                let _ = shortcut::replace(app, &settings_quick, &old.quick_access_shortcut, Purpose::QuickAccess);
                let _ = shortcut::replace(app, &settings_auto_type, &old.auto_type_shortcut, Purpose::AutoType);
                Err(e)
            }
        }
    })
    .await?;
    let _ = app.emit("settings-changed", stored.clone());
    Ok(stored)
}

#[tauri::command]
pub async fn list_slots(app: AppHandle) -> CommandResult<Vec<SlotInfoDto>> {
    run(&app, false, |d, _| d.list_slots()).await
}

#[tauri::command]
pub async fn add_slot(app: AppHandle, request: AddSlotRequest) -> CommandResult<SlotInfoDto> {
    run(&app, false, move |d, _| d.add_slot(&request)).await
}

#[tauri::command]
pub async fn remove_slot(app: AppHandle, slot: u32) -> CommandResult<Option<String>> {
    run(&app, false, move |d, _| d.remove_slot(slot)).await
}

#[tauri::command]
pub async fn change_master_password(
    app: AppHandle,
    current_password: String,
    new_password: String,
) -> CommandResult<()> {
    let (current, new) = (Zeroizing::new(current_password), Zeroizing::new(new_password));
    run(&app, false, move |d, _| d.change_master_password(&current, &new)).await
}

#[tauri::command]
pub async fn pick_import_file(app: AppHandle) -> CommandResult<Option<ImportSource>> {
    run(&app, false, |_, app| {
        let Some(file) = app.dialog().file().set_title("Import from…").blocking_pick_file() else {
            return Ok(None);
        };
        let path = file.into_path().map_err(|_| CommandError::invalid("That file cannot be read"))?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Sniffing needs the start of the file only.
        let head = {
            use std::io::Read;
            let mut buf = Zeroizing::new(Vec::new());
            std::fs::File::open(&path)
                .and_then(|f| f.take(1 << 20).read_to_end(&mut buf))
                .map_err(|e| CommandError::io(format!("Cannot read {}: {e}", path.display())))?;
            buf
        };
        let detected = tessera_interop::Format::detect(&file_name, &head);
        Ok(Some(ImportSource {
            path: path.display().to_string(),
            file_name,
            detected_format: detected.map(|f| f.name().to_owned()),
            needs_password: detected.is_some_and(|f| f.needs_password()),
        }))
    })
    .await
}

#[tauri::command]
pub async fn import_items(
    app: AppHandle,
    path: String,
    format: Option<String>,
    password: Option<String>,
    folder: Option<String>,
) -> CommandResult<Imported> {
    let password = password.map(Zeroizing::new);
    let imported = run(&app, false, move |d, _| {
        d.import_items(
            std::path::Path::new(&path),
            format.as_deref(),
            password.as_deref().map(|p| p.as_str()),
            folder.as_deref(),
        )
    })
    .await?;
    let _ = app.emit("vault-changed", Changed { ids: Vec::new() });
    tray::refresh(&app);
    Ok(Imported { imported })
}

#[tauri::command]
pub async fn export_vault(app: AppHandle, format: String, password: Option<String>) -> CommandResult<Option<String>> {
    let password = password.map(Zeroizing::new);
    run(&app, false, move |d, app| {
        let (ext, title) = match format.as_str() {
            "keepass" => ("kdbx", "Export to KeePass"),
            "bitwarden-json" => ("json", "Export to Bitwarden JSON (plain text)"),
            "tessera-backup" => ("tessera", "Export a Tessera backup"),
            _ => return Err(CommandError::invalid("Choose keepass, bitwarden-json or tessera-backup")),
        };
        let Some(target) =
            app.dialog().file().set_title(title).set_file_name(format!("tessera-export.{ext}")).blocking_save_file()
        else {
            return Ok(None);
        };
        let target = target.into_path().map_err(|_| CommandError::invalid("That place cannot be written"))?;
        d.export_vault(&format, password.as_deref().map(|p| p.as_str()), &target)?;
        Ok(Some(target.display().to_string()))
    })
    .await
}

// --- windows -------------------------------------------------------------------------

#[tauri::command]
pub async fn quick_access_hide(app: AppHandle) -> CommandResult<()> {
    run(&app, true, |_, app| {
        windows::hide_quick(app);
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn show_main_window(app: AppHandle) -> CommandResult<()> {
    run(&app, false, |_, app| {
        windows::hide_quick(app);
        windows::show_main(app);
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn user_active(app: AppHandle) -> CommandResult<()> {
    run(&app, false, |_, _| Ok(())).await
}

/// Every command, for `invoke_handler` and the build script's permissions.
#[macro_export]
macro_rules! all_commands {
    () => {
        tauri::generate_handler![
            commands::app_state,
            commands::pick_vault_path,
            commands::create_vault,
            commands::open_vault,
            commands::unlock_factors,
            commands::unlock,
            commands::lock,
            commands::password_strength,
            commands::search_items,
            commands::get_item,
            commands::reveal_field,
            commands::copy_field,
            commands::totp_code,
            commands::open_url,
            commands::new_item_template,
            commands::get_item_for_edit,
            commands::create_item,
            commands::update_item,
            commands::set_favourite,
            commands::trash_item,
            commands::restore_item,
            commands::purge_item,
            commands::empty_trash,
            commands::item_history,
            commands::restore_version,
            commands::add_attachment,
            commands::remove_attachment,
            commands::save_attachment,
            attachments::attachment_limit,
            attachments::attach_files,
            attachments::open_attachment,
            commands::generate_password,
            commands::copy_text,
            commands::health_report,
            commands::audit_log,
            commands::get_settings,
            commands::update_settings,
            commands::list_slots,
            commands::add_slot,
            commands::remove_slot,
            commands::change_master_password,
            commands::pick_import_file,
            commands::import_items,
            commands::export_vault,
            sync::sync_status,
            sync::sync_now,
            sync::sync_register,
            sync::sync_sign_in,
            sync::sync_join,
            sync::sync_read_kit_file,
            sync::sync_kit,
            sync::sync_save_kit_pdf,
            sync::sync_devices,
            sync::sync_revoke_device,
            sync::sync_conflicts,
            sync::sync_resolve_conflict,
            sync::sync_sign_out,
            commands::quick_access_hide,
            commands::show_main_window,
            commands::user_active,
            browser::browser_status,
            browser::browser_revoke,
            browser::browser_sites,
            browser::browser_forget_site,
            browser::browser_prompts,
            browser::browser_answer,
            agents::ssh_generate_key,
            agents::ssh_import_key,
            agents::agent_status,
            agents::agent_prompts,
            agents::agent_answer,
            qr_commands::totp_scan_screen,
            qr_commands::pick_qr_image,
            qr_commands::totp_scan_file,
            sharing::identity_info,
            sharing::identity_verify,
            sharing::identity_scan_screen,
            sharing::identity_scan_file,
            sharing::share_list,
            sharing::share_create,
            sharing::share_invite,
            sharing::share_invitation,
            sharing::share_accept,
            sharing::share_decline,
            sharing::share_members,
            sharing::share_remove,
            sharing::share_leave,
            sharing::item_set_share,
            folders::folder_tree,
            folders::tag_counts,
            folders::move_items,
            folders::rename_folder,
            folders::delete_folder,
            autotype::auto_type_choose,
        ]
    };
}
