//! Sync in the app (DESIGN §5, §6; ui/API.md "Sync"): the account made,
//! joined, signed in again and signed out from Settings, the Emergency Kit,
//! devices and conflict copies, and background sync.
//!
//! Nothing here waits on the network while holding the window's vault.
//! Every round trip runs on a second session of the vault file
//! ([`tessera_core::Vault::reopen`]) under [`SyncRuntime`]'s own lock,
//! which serialises the app's talks with the server; the window keeps
//! answering. An item the window changes while a sync merges it is caught
//! by the core (`VaultError::ChangedMeanwhile`) and merged again, never
//! overwritten. After a sync that brought changes, the list is rebuilt on
//! the background session and swapped in.
//!
//! Background sync runs a few seconds after each local change, every five
//! minutes while unlocked, and right after unlocking. Offline, it retries
//! with backoff (15 s doubling to 5 min). The app keeps no master password,
//! so an expired session stops it and asks once (`sync-sign-in-needed`).

use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_dialog::DialogExt;
use tessera_core::{ItemId, Vault};
use tessera_sync::client::{self, Credentials, SecretKey, SyncError};
use zeroize::{Zeroize, Zeroizing};

use crate::commands::run;
use crate::desktop::Desktop;
use crate::dto::{CreatedVault, parse_id};
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::tray;

/// Quiet time after a local change before it goes up; changes keep
/// pushing it back, but never past [`DEBOUNCE_MAX`] from the first.
const DEBOUNCE: Duration = Duration::from_secs(3);
const DEBOUNCE_MAX: Duration = Duration::from_secs(15);
/// A sync while unlocked even without local changes, so others' arrive:
/// every five minutes, or every `$TESSERA_SYNC_INTERVAL` seconds.
fn periodic() -> Duration {
    static EVERY: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *EVERY.get_or_init(|| {
        let seconds = std::env::var("TESSERA_SYNC_INTERVAL").ok().and_then(|s| s.parse::<u64>().ok());
        Duration::from_secs(seconds.filter(|s| *s > 0).unwrap_or(5 * 60))
    })
}
/// First retry after a failure; doubles up to [`periodic`].
const BACKOFF: Duration = Duration::from_secs(15);
/// The largest Emergency Kit file read.
const MAX_KIT_FILE: u64 = 1 << 20;
/// What a conflict copy's title ends with (`tessera_sync`'s merge).
const CONFLICT_MARK: &str = " (conflict copy from ";

/// The stored session only: the app keeps no master password.
const SESSION: Credentials<'static> = Credentials { password: None, totp: None };

// --- the contract's shapes ------------------------------------------------------------

/// Settings' and the status line's view of sync.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    pub server: String,
    pub account: String,
    /// `idle`, `syncing`, `offline`, `error`, `sign_in` or `hostile`.
    pub state: &'static str,
    pub last_sync_at: Option<i64>,
    pub pending: u64,
    pub message: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub conflicts: u64,
}

/// The Emergency Kit's contents. Holds the Secret Key: made only for the
/// kit page the user opened, and wiped when dropped.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncKit {
    pub server: String,
    pub email: String,
    pub secret_key: String,
    /// A QR code of the Secret Key, as an SVG document.
    pub qr_svg: String,
}

impl Drop for SyncKit {
    fn drop(&mut self) {
        self.secret_key.zeroize();
        self.qr_svg.zeroize();
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncDevice {
    pub id: String,
    pub name: String,
    pub created: i64,
    pub revoked: bool,
    pub current: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictCopy {
    pub id: String,
    pub title: String,
    pub original_id: Option<String>,
    pub original_title: Option<String>,
    pub device: String,
    pub updated_at: i64,
}

// --- the runtime ------------------------------------------------------------------------

/// Background sync's schedule and last outcome, and the lock every talk
/// with the server takes.
#[derive(Default)]
pub struct SyncRuntime {
    inner: Mutex<Runtime>,
    wake: Condvar,
    net: Mutex<()>,
}

#[derive(Default)]
struct Runtime {
    /// Unlocked: background sync may run.
    active: bool,
    /// When the next sync starts.
    due: Option<Instant>,
    /// The first local change not yet sent, for [`DEBOUNCE_MAX`].
    first_change: Option<Instant>,
    /// Syncs asked for by "Sync now", and finished.
    asked: u64,
    done: u64,
    /// The outcome of the last sync, while it stands.
    state: &'static str,
    message: Option<String>,
    next_attempt: Option<(Instant, i64)>,
    failures: u32,
    /// The last error of a sync, for the "Sync now" that waits on it.
    last_error: Option<CommandError>,
    /// What the last look at the account found (no secret in it).
    account: Option<Account>,
    /// `sync-sign-in-needed` went out and nobody signed in yet.
    asked_sign_in: bool,
}

#[derive(Clone)]
struct Account {
    server: String,
    email: String,
    last_sync: Option<i64>,
    pending: u64,
}

impl SyncRuntime {
    fn inner(&self) -> MutexGuard<'_, Runtime> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn net(&self) -> MutexGuard<'_, ()> {
        self.net.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for any round trip with the server to end, and keeps the next
    /// from starting while the guard lives.
    pub(crate) fn hold_network(&self) -> MutexGuard<'_, ()> {
        self.net()
    }

    fn schedule(&self, at: Instant) {
        let mut rt = self.inner();
        if rt.active && rt.due.is_none_or(|d| at < d) {
            rt.due = Some(at);
            self.wake.notify_all();
        }
    }
}

/// The app's one runtime, reached from the refresh hook that has no app
/// handle at hand.
static APP: std::sync::OnceLock<AppHandle> = std::sync::OnceLock::new();

/// A local change was saved: it goes up after [`DEBOUNCE`] of quiet.
pub fn local_change() {
    let Some(app) = APP.get() else { return };
    let rt = &app.state::<Desktop>().sync;
    let now = Instant::now();
    let mut inner = rt.inner();
    if !inner.active {
        return;
    }
    let first = *inner.first_change.get_or_insert(now);
    inner.due = Some((now + DEBOUNCE).min(first + DEBOUNCE_MAX));
    rt.wake.notify_all();
}

/// Starts the background sync thread.
pub fn start(app: &AppHandle) {
    let _ = APP.set(app.clone());
    let app = app.clone();
    let _ = std::thread::Builder::new().name("sync".into()).spawn(move || {
        loop {
            wait_until_due(&app.state::<Desktop>().sync);
            background_sync(&app);
        }
    });
}

/// After unlock: a sync now, and the schedule from there.
pub fn on_unlock(app: &AppHandle) {
    let rt = &app.state::<Desktop>().sync;
    {
        let mut inner = rt.inner();
        *inner = Runtime { active: true, asked: inner.asked, done: inner.done, ..Runtime::default() };
    }
    rt.schedule(Instant::now());
}

/// At lock: nothing more is scheduled. A sync in flight finishes its
/// round trip and drops its session (and keys) then.
pub fn on_lock(app: &AppHandle) {
    let rt = &app.state::<Desktop>().sync;
    let mut inner = rt.inner();
    *inner = Runtime { asked: inner.asked, done: inner.done, ..Runtime::default() };
    rt.wake.notify_all();
}

fn wait_until_due(rt: &SyncRuntime) {
    let mut inner = rt.inner();
    loop {
        match inner.due {
            Some(due) if inner.active => {
                let now = Instant::now();
                if now >= due {
                    inner.due = None;
                    inner.first_change = None;
                    return;
                }
                inner = rt.wake.wait_timeout(inner, due - now).unwrap_or_else(|p| p.into_inner()).0;
            }
            _ => {
                // Nothing to do: "Sync now" while locked finds out.
                if inner.asked > inner.done {
                    inner.done = inner.asked;
                    inner.last_error = Some(CommandError::locked());
                    rt.wake.notify_all();
                }
                inner = rt.wake.wait(inner).unwrap_or_else(|p| p.into_inner());
            }
        }
    }
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// One background sync and what follows from its outcome.
fn background_sync(app: &AppHandle) {
    let d = app.state::<Desktop>();
    let rt = &d.sync;
    let asked = rt.inner().asked;
    let result = sync_once(app, &SESSION, true);
    let mut inner = rt.inner();
    inner.done = inner.done.max(asked);
    inner.last_error = result.as_ref().err().cloned();
    if inner.active && inner.due.is_none() {
        let after = match &result {
            Ok(()) => Some(periodic()),
            Err(e) if e.kind == ErrorKind::SignInNeeded => None,
            Err(_) => Some(BACKOFF.saturating_mul(1 << inner.failures.min(5).saturating_sub(1)).min(periodic())),
        };
        if let Some(after) = after {
            inner.due = Some(Instant::now() + after);
            if result.is_err() {
                inner.next_attempt = Some((Instant::now() + after, unix_now() + after.as_secs() as i64));
            }
        }
    }
    rt.wake.notify_all();
    drop(inner);
    emit_status(app);
}

/// Runs one sync on a background session: the state goes `syncing`, then
/// what came of it. `Ok(())` also when the vault has no account.
fn sync_once(app: &AppHandle, creds: &Credentials<'_>, background: bool) -> CommandResult<()> {
    let d = app.state::<Desktop>();
    let rt = &d.sync;
    let _net = rt.net();
    let (mut vault, generation) = match d.network_session() {
        Ok(s) => s,
        Err(e) if e.kind == ErrorKind::Locked => return Err(e),
        Err(e) => return Err(record_failure(app, e, "error", false)),
    };
    let Some(account) = account_of(&vault) else {
        rt.inner().account = None;
        return Ok(());
    };
    {
        let mut inner = rt.inner();
        inner.account = Some(account);
        inner.state = "syncing";
        inner.message = None;
        inner.next_attempt = None;
    }
    emit_status(app);
    let before = vault.item_revisions().unwrap_or_default();
    let result = client::sync(&mut vault, creds, &mut |_| {});
    let after = vault.item_revisions().unwrap_or_default();
    let changed = changed_ids(&before, &after);
    if !changed.is_empty() {
        // The list is rebuilt here, off the window's lock, and swapped in.
        let index = vault.search_index().ok();
        if let Err(e) = d.items_changed_elsewhere(index, generation) {
            eprintln!("tessera-desktop: the list could not be rebuilt after sync: {}", e.message);
        }
        let ids: Vec<String> = changed.iter().map(ItemId::to_hex).collect();
        let _ = app.emit("vault-changed", serde_json::json!({ "ids": ids }));
        tray::refresh(app);
    }
    let account = account_of(&vault);
    drop(vault);
    let mut inner = rt.inner();
    if account.is_some() {
        inner.account = account;
    }
    match result {
        Ok(_) => {
            inner.state = "idle";
            inner.message = None;
            inner.failures = 0;
            inner.next_attempt = None;
            inner.asked_sign_in = false;
            Ok(())
        }
        Err(e) => {
            drop(inner);
            let state = match &e {
                SyncError::Unreachable { .. } => "offline",
                SyncError::Hostile(_) | SyncError::KeyChanged(_) => "hostile",
                SyncError::SignInNeeded => "sign_in",
                _ => "error",
            };
            Err(record_failure(app, CommandError::from(e), state, background))
        }
    }
}

/// Records a failed sync in the runtime (and asks for a sign-in once when
/// the session is gone); returns the error.
fn record_failure(app: &AppHandle, error: CommandError, state: &'static str, background: bool) -> CommandError {
    let rt = &app.state::<Desktop>().sync;
    let mut inner = rt.inner();
    inner.failures = inner.failures.saturating_add(1);
    inner.message = Some(error.message.clone());
    inner.state = state;
    let ask = state == "sign_in" && background && !inner.asked_sign_in;
    if ask {
        inner.asked_sign_in = true;
    }
    drop(inner);
    if ask {
        let _ = app.emit("sync-sign-in-needed", ());
    }
    error
}

/// What the account looks like from this session: `None` when the vault
/// has no sync account.
fn account_of(vault: &Vault) -> Option<Account> {
    let s = client::status(vault).ok()?;
    Some(Account { server: s.server, email: s.email, last_sync: s.last_sync, pending: s.pending })
}

fn changed_ids(before: &[(ItemId, u64)], after: &[(ItemId, u64)]) -> Vec<ItemId> {
    let old: std::collections::HashMap<ItemId, u64> = before.iter().copied().collect();
    let new: std::collections::HashMap<ItemId, u64> = after.iter().copied().collect();
    let mut ids: Vec<ItemId> = after.iter().filter(|(id, r)| old.get(id) != Some(r)).map(|(id, _)| *id).collect();
    ids.extend(before.iter().filter(|(id, _)| !new.contains_key(id)).map(|(id, _)| *id));
    ids
}

/// The status to show: the runtime's view of the account, the state of
/// the last sync, and the conflict copies in the list.
fn status(d: &Desktop) -> CommandResult<Option<SyncStatus>> {
    let known = d.sync.inner().account.clone();
    let account = match known {
        Some(a) => a,
        None => {
            // Not looked at since unlock: a look on a session of its own.
            let (vault, _) = d.network_session()?;
            match account_of(&vault) {
                Some(a) => {
                    d.sync.inner().account = Some(a.clone());
                    a
                }
                None => return Ok(None),
            }
        }
    };
    let conflicts = d.with_unlocked(|_, items, _| items.iter().filter(|s| is_conflict_copy(&s.title)).count());
    let inner = d.sync.inner();
    Ok(Some(SyncStatus {
        server: account.server,
        account: account.email,
        state: if inner.state.is_empty() { "idle" } else { inner.state },
        last_sync_at: account.last_sync,
        pending: account.pending,
        message: inner.message.clone(),
        next_attempt_at: inner.next_attempt.map(|(_, unix)| unix),
        conflicts: conflicts.unwrap_or(0) as u64,
    }))
}

fn emit_status(app: &AppHandle) {
    if let Ok(Some(s)) = status(&app.state::<Desktop>()) {
        let _ = app.emit("sync-status", s);
    }
}

/// Runs `f` on a background session under the server lock; with
/// `changes`, the list is rebuilt after it. For every call that may wait
/// on the server (sharing included).
pub(crate) fn on_network_session<T>(
    d: &Desktop,
    changes: bool,
    f: impl FnOnce(&mut Vault) -> Result<T, SyncError>,
) -> CommandResult<T> {
    let _net = d.sync.net();
    let (mut vault, generation) = d.network_session()?;
    let result = f(&mut vault);
    if changes {
        let index = vault.search_index().ok();
        d.items_changed_elsewhere(index, generation)?;
    }
    result.map_err(CommandError::from)
}

/// Runs a sync now and waits for it (for commands that must know it went
/// through, such as moving an item into a share).
pub(crate) fn sync_and_wait(d: &Desktop) -> CommandResult<()> {
    let rt = &d.sync;
    let mut inner = rt.inner();
    if !inner.active {
        return Err(CommandError::locked());
    }
    inner.asked += 1;
    let ticket = inner.asked;
    inner.due = Some(Instant::now());
    rt.wake.notify_all();
    while inner.done < ticket {
        inner = rt.wake.wait(inner).unwrap_or_else(|p| p.into_inner());
    }
    match inner.last_error.clone() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

// --- conflicts ---------------------------------------------------------------------------

fn is_conflict_copy(title: &str) -> bool {
    title.ends_with(')') && title.contains(CONFLICT_MARK)
}

/// `("Title", "device")` of a conflict copy's title.
fn split_conflict_title(title: &str) -> Option<(&str, &str)> {
    let at = title.rfind(CONFLICT_MARK)?;
    let device = title[at + CONFLICT_MARK.len()..].strip_suffix(')')?;
    Some((&title[..at], device))
}

fn conflict_copies(d: &Desktop) -> CommandResult<Vec<ConflictCopy>> {
    d.with_unlocked(|vault, items, _| {
        let mut copies = Vec::new();
        for s in items {
            let Some((original, device)) = split_conflict_title(&s.title) else { continue };
            // The copy names its original (copies made before it did are
            // matched by title, which works unless the title was what both
            // sides changed).
            let of = vault.get(s.id)?.conflict_of;
            let twin = match of {
                Some(of) => items.iter().find(|o| o.id == of),
                None => items.iter().find(|o| o.id != s.id && o.title == original && o.item_type == s.item_type),
            };
            copies.push(ConflictCopy {
                id: s.id.to_hex(),
                title: s.title.clone(),
                original_id: twin.map(|o| o.id.to_hex()),
                original_title: twin.map(|o| o.title.clone()),
                device: device.to_owned(),
                updated_at: s.updated.unix_timestamp(),
            });
        }
        Ok::<_, tessera_core::VaultError>(copies)
    })
    .ok_or_else(CommandError::locked)?
    .map_err(CommandError::from)
}

/// Settles a conflict copy: `copy` gives the original the copy's content
/// (its history keeps the version it replaces; attachments the original
/// lacks are added) and trashes the copy; `original` trashes the copy.
fn resolve_conflict(d: &Desktop, id: &str, keep: &str) -> CommandResult<()> {
    let copy_id = parse_id(id)?;
    let copy = conflict_copies(d)?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| CommandError::not_found("That item is not a conflict copy"))?;
    match keep {
        "original" => {}
        "copy" => {
            let original = copy.original_id.as_deref().ok_or_else(|| {
                CommandError::invalid("The original of this copy is gone; rename the copy to keep it")
            })?;
            let original = parse_id(original)?;
            d.change(|vault| {
                let mine = vault.get(copy_id)?;
                let theirs = vault.get(original)?;
                for a in mine.attachments.iter().filter(|a| !theirs.attachments.iter().any(|b| b.sha256 == a.sha256)) {
                    let content = vault.attachment_content(copy_id, a)?;
                    vault.attach(original, &a.name, &content)?;
                }
                // The copy's version of everything, its title without the
                // mark included (the title may be what both sides changed).
                let title = split_conflict_title(&mine.title).map_or(mine.title.as_str(), |(t, _)| t).to_owned();
                vault.update(original, |item| {
                    let attachments = std::mem::take(&mut item.attachments);
                    let (id, revision, created) = (item.id, item.revision, item.created);
                    *item = mine.clone();
                    (item.id, item.revision, item.created) = (id, revision, created);
                    item.title = title;
                    item.attachments = attachments;
                    item.conflict_of = None;
                    Ok(())
                })?;
                Ok(())
            })?;
        }
        _ => return Err(CommandError::invalid("keep must be copy or original")),
    }
    d.change(|vault| Ok(vault.trash(copy_id)?))
}

// --- the Emergency Kit -------------------------------------------------------------------

/// The account's server, email and Secret Key (displayed form).
fn account_kit(d: &Desktop) -> CommandResult<(String, String, Zeroizing<String>)> {
    d.with_unlocked(|vault, _, _| client::kit(vault)).ok_or_else(CommandError::locked)?.map_err(CommandError::from)
}

fn kit(d: &Desktop) -> CommandResult<SyncKit> {
    let (server, email, secret) = account_kit(d)?;
    Ok(SyncKit { qr_svg: crate::sharing::qr_svg(&secret)?, server, email, secret_key: secret.to_string() })
}

// --- commands ------------------------------------------------------------------------------

#[tauri::command]
pub async fn sync_status(app: AppHandle) -> CommandResult<Option<SyncStatus>> {
    run(&app, true, |d, _| status(d)).await
}

#[tauri::command]
pub async fn sync_now(app: AppHandle) -> CommandResult<SyncStatus> {
    run(&app, false, |d, _| {
        if status(d)?.is_none() {
            return Err(CommandError::invalid("This vault has no sync account; create one or sign in first"));
        }
        match sync_and_wait(d) {
            Err(e) if matches!(e.kind, ErrorKind::SignInNeeded | ErrorKind::Locked) => return Err(e),
            // Offline or refused: the status says so, and when it tries again.
            _ => {}
        }
        status(d)?.ok_or_else(|| CommandError::invalid("This vault has no sync account"))
    })
    .await
}

#[tauri::command]
pub async fn sync_register(app: AppHandle, server: String, email: String, password: String) -> CommandResult<SyncKit> {
    let password = Zeroizing::new(password);
    run(&app, false, move |d, app| {
        let password = crate::desktop::password_from(&password)?;
        d.check_master_password(&password)?;
        on_network_session(d, true, |vault| {
            let device = client::default_device_name();
            client::register(vault, server.trim(), email.trim(), &device, &password, &mut |_| {})
        })?;
        // Registering ran the first sync; the next comes on the schedule.
        d.sync.inner().account = None;
        emit_status(app);
        kit(d)
    })
    .await
}

#[tauri::command]
pub async fn sync_sign_in(app: AppHandle, password: String, totp: Option<String>) -> CommandResult<SyncStatus> {
    let password = Zeroizing::new(password);
    run(&app, false, move |d, app| {
        let password = crate::desktop::password_from(&password)?;
        d.check_master_password(&password)?;
        let totp = totp.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let creds = Credentials { password: Some(&password), totp };
        let result = sync_once(app, &creds, false);
        if result.is_ok() {
            d.sync.inner().asked_sign_in = false;
            // Background sync stopped when the session went; it goes on.
            d.sync.schedule(Instant::now() + periodic());
        }
        emit_status(app);
        result?;
        status(d)?.ok_or_else(|| CommandError::invalid("This vault has no sync account"))
    })
    .await
}

#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn sync_join(
    app: AppHandle,
    path: String,
    server: String,
    email: String,
    secret_key: String,
    password: String,
    totp: Option<String>,
) -> CommandResult<CreatedVault> {
    let password = Zeroizing::new(password);
    let secret_key = Zeroizing::new(secret_key);
    let created = run(&app, false, move |d, _| {
        let secret = SecretKey::parse(&secret_key).map_err(|e| CommandError::invalid(e.to_string()))?;
        let totp = totp.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let join = |path: &std::path::Path, pw: &tessera_unlock::Password, kdf, options: &tessera_core::OpenOptions| {
            let creds = Credentials { password: Some(pw), totp };
            let device = client::default_device_name();
            let cloned = client::clone_account(
                path,
                server.trim(),
                email.trim(),
                &secret,
                &device,
                &creds,
                kdf,
                options,
                &mut |_| {},
            )?;
            Ok(cloned.recovery_code)
        };
        d.join_account(&path, &join, &password)
    })
    .await?;
    crate::commands::after_unlock(&app);
    Ok(created)
}

#[tauri::command]
pub async fn sync_read_kit_file(app: AppHandle) -> CommandResult<Option<String>> {
    run(&app, false, |_, app| {
        let picked = app
            .dialog()
            .file()
            .set_title("Open your Emergency Kit")
            .add_filter("Emergency Kit", &["pdf", "txt"])
            .blocking_pick_file();
        let Some(path) = picked.and_then(|p| p.into_path().ok()) else { return Ok(None) };
        read_kit_file(&path).map(Some)
    })
    .await
}

fn read_kit_file(path: &std::path::Path) -> CommandResult<String> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).map_err(|e| CommandError::io(format!("Cannot read {}: {e}", path.display())))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_KIT_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CommandError::io(format!("Cannot read {}: {e}", path.display())))?;
    if bytes.len() as u64 > MAX_KIT_FILE {
        return Err(CommandError::invalid(format!("{} is too large to be an Emergency Kit", path.display())));
    }
    let secret = client::kit::secret_from_kit(&bytes).map_err(|_| {
        CommandError::invalid(format!("{} holds no Secret Key: choose the Emergency Kit Tessera made", path.display()))
    })?;
    Ok(secret.to_display().to_string())
}

#[tauri::command]
pub async fn sync_kit(app: AppHandle) -> CommandResult<SyncKit> {
    run(&app, false, |d, _| kit(d)).await
}

#[tauri::command]
pub async fn sync_save_kit_pdf(app: AppHandle) -> CommandResult<Option<String>> {
    run(&app, false, |d, app| {
        let (server, email, secret) = account_kit(d)?;
        let secret = SecretKey::parse(&secret).map_err(|e| CommandError::internal(e.to_string()))?;
        let dir = dirs_documents();
        let mut dialog = app
            .dialog()
            .file()
            .set_title("Save the Emergency Kit")
            .add_filter("PDF", &["pdf"])
            .set_file_name("Tessera Emergency Kit.pdf");
        if let Some(dir) = dir {
            dialog = dialog.set_directory(dir);
        }
        let Some(path) = dialog.blocking_save_file().and_then(|p| p.into_path().ok()) else { return Ok(None) };
        let pdf = client::kit::pdf(&server, &email, &secret);
        crate::desktop::write_new_file(&path, &pdf)?;
        Ok(Some(path.display().to_string()))
    })
    .await
}

/// `~/Documents` when it exists.
fn dirs_documents() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    Some(home.join("Documents")).filter(|p| p.is_dir())
}

#[tauri::command]
pub async fn sync_devices(app: AppHandle) -> CommandResult<Vec<SyncDevice>> {
    run(&app, false, |d, _| {
        let devices = on_network_session(d, false, |vault| client::devices(vault, &SESSION))?;
        Ok(devices
            .into_iter()
            .map(|x| SyncDevice { id: x.id, name: x.name, created: x.created, revoked: x.revoked, current: x.current })
            .collect())
    })
    .await
}

#[tauri::command]
pub async fn sync_revoke_device(app: AppHandle, id: String) -> CommandResult<()> {
    run(&app, false, move |d, _| {
        let devices = on_network_session(d, false, |vault| client::devices(vault, &SESSION))?;
        match devices.iter().find(|x| x.id == id) {
            None => return Err(CommandError::not_found("The account has no such device")),
            Some(x) if x.current => {
                return Err(CommandError::invalid("This is this computer: use “Sign out of sync” instead"));
            }
            Some(_) => {}
        }
        on_network_session(d, false, |vault| client::revoke_device(vault, &SESSION, &id))
    })
    .await
}

#[tauri::command]
pub async fn sync_conflicts(app: AppHandle) -> CommandResult<Vec<ConflictCopy>> {
    run(&app, true, |d, _| conflict_copies(d)).await
}

#[tauri::command]
pub async fn sync_resolve_conflict(app: AppHandle, id: String, keep: String) -> CommandResult<()> {
    run(&app, false, move |d, app| {
        resolve_conflict(d, &id, &keep)?;
        let _ = app.emit("vault-changed", serde_json::json!({ "ids": [id] }));
        tray::refresh(app);
        emit_status(app);
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn sync_sign_out(app: AppHandle) -> CommandResult<()> {
    run(&app, false, |d, _| {
        on_network_session(d, false, |vault| client::logout(vault, true))?;
        let mut inner = d.sync.inner();
        inner.account = None;
        inner.state = "idle";
        inner.message = None;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_copy_names_its_original_and_device() {
        assert_eq!(split_conflict_title("Bank (work) (conflict copy from laptop)"), Some(("Bank (work)", "laptop")));
        assert!(is_conflict_copy("Bank (conflict copy from laptop)"));
        assert!(!is_conflict_copy("Bank (copy)"));
        assert_eq!(split_conflict_title("Bank"), None);
    }

    #[test]
    fn a_conflict_copy_kept_gives_the_original_its_content_and_goes_to_the_trash() {
        use tessera_core::{Item, ItemType, Scope};
        let dir = tempfile::tempdir().unwrap();
        let paths = crate::settings::Paths {
            config_file: dir.path().join("config/desktop.json"),
            default_vault: dir.path().join("vault.tessera"),
        };
        let d = Desktop::new(paths);
        d.create_vault(dir.path().join("v.tessera").to_str().unwrap(), "correct horse battery staple 42").unwrap();
        let (original, copy, other) = d
            .change(|vault| {
                let mut bank = Item::new(ItemType::Login, "Bank");
                bank.password = "theirs".into();
                let mut mine = Item::new(ItemType::Login, "Bank (conflict copy from laptop)");
                mine.password = "mine".into();
                mine.username = "me".into();
                let mut mail = Item::new(ItemType::Login, "Mail (conflict copy from phone)");
                mail.password = "x".into();
                let ids = vault.add(vec![bank, mine, mail])?;
                vault.attach(ids[1], "note.txt", b"attached on the laptop")?;
                Ok((ids[0], ids[1], ids[2]))
            })
            .unwrap();
        let copies = conflict_copies(&d).unwrap();
        assert_eq!(copies.len(), 2);
        let bank = copies.iter().find(|c| c.id == copy.to_hex()).unwrap();
        assert_eq!(bank.original_id.as_deref(), Some(original.to_hex().as_str()));
        assert_eq!(bank.device, "laptop");
        let mail = copies.iter().find(|c| c.id == other.to_hex()).unwrap();
        assert_eq!(mail.original_id, None, "no item is called Mail");
        assert!(resolve_conflict(&d, &other.to_hex(), "copy").is_err(), "a copy without its original is kept as is");
        assert!(resolve_conflict(&d, &original.to_hex(), "copy").is_err(), "not a conflict copy");

        resolve_conflict(&d, &copy.to_hex(), "copy").unwrap();
        let (kept, history, trashed) = d
            .with_unlocked(|vault, _, _| {
                let kept = vault.get(original).unwrap();
                let history = vault.history(original).unwrap();
                let trashed = vault.summaries(Scope::Trash).unwrap().iter().any(|s| s.id == copy);
                (kept, history, trashed)
            })
            .unwrap();
        assert_eq!((kept.title.as_str(), kept.password.as_str(), kept.username.as_str()), ("Bank", "mine", "me"));
        assert_eq!(kept.attachments.len(), 1, "the copy's attachment came along");
        assert!(history.iter().any(|h| h.password == "theirs"), "the replaced version is in the history");
        assert!(trashed, "the copy went to the trash");
        assert_eq!(conflict_copies(&d).unwrap().len(), 1);

        resolve_conflict(&d, &other.to_hex(), "original").unwrap();
        assert!(conflict_copies(&d).unwrap().is_empty());
    }

    #[test]
    fn changed_ids_are_the_new_the_edited_and_the_removed() {
        let (a, b, c, n) = (ItemId::random(), ItemId::random(), ItemId::random(), ItemId::random());
        let before = [(a, 1), (b, 2), (c, 1)];
        let after = [(a, 1), (b, 3), (n, 1)];
        let mut got = changed_ids(&before, &after);
        got.sort();
        let mut want = vec![b, n, c];
        want.sort();
        assert_eq!(got, want);
    }
}
