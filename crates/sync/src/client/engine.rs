//! Register, clone, sync, status, logout and the account's second factor:
//! the client's whole protocol (DESIGN §5).
//!
//! A sync is: log in if the session is gone (the master password is always
//! at hand); read the server's index and signed manifest and check them
//! against each other and against what this device last saw; pull every
//! change up to the index's sequence number and open each record (item id,
//! server revision and tombstone flag are in its AAD); merge with local
//! edits; apply the result and the new sync state in one vault
//! transaction; push local changes with a new signed manifest. A push that
//! raced another device gets 409 and the whole round starts again.
//! Anything the server got wrong on purpose or by accident is an error
//! naming the item, and nothing of that round is applied.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use tessera_core::{ItemId, OpenOptions, Vault, VaultError, VaultKey};
use tessera_unlock::{KdfError, KdfParams, Password, RecoveryCode};

use super::account::{self, SecretKey};
use super::http::{Api, HttpError};
use super::manifest::Manifest;
use super::state::{SyncState, Tokens};
use super::stream::{AccountStream, Stream, round};
use crate::wire::{LoginRequest, RecoveryCodes, RegisterRequest, Session, TotpEnrollment, b64, from_b64};

/// Rounds of pull-merge-push before giving up on a busy account.
const MAX_ROUNDS: usize = 8;

/// What a sync did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// Items sent to the server.
    pub pushed: u64,
    /// Changes from other devices applied here.
    pub pulled: u64,
    /// Items edited on both sides in the same field: kept both.
    pub conflicts: u64,
}

/// Long work, for a progress bar.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    /// Changes received so far.
    Pulling(u64),
    /// Items sent, of how many.
    Pushing(u64, u64),
}

/// What the user gives every command that may need to log in.
pub struct Credentials<'a> {
    /// The master password (also the account password). `None` syncs on
    /// the stored session only and fails with [`SyncError::SignInNeeded`]
    /// when the server wants a new login (the desktop app, which does not
    /// keep the master password after unlocking).
    pub password: Option<&'a Password>,
    /// A TOTP or recovery code for an account with a second factor.
    pub totp: Option<&'a str>,
}

/// A sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The vault has no sync account.
    #[error("this vault is not linked to a sync account: run `tessera sync register` or `tessera sync clone`")]
    NotLinked,
    /// The session is gone and no master password was given to log in again.
    #[error("the sync session has expired: sync once with the master password (`tessera sync`) to sign in again")]
    SignInNeeded,
    /// The vault already has one.
    #[error("this vault is already linked to {email} on {server}")]
    AlreadyLinked {
        /// Account email.
        email: String,
        /// Server.
        server: String,
    },
    /// The vault refused.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The server could not be reached, after retries.
    #[error("cannot reach {server} ({detail}); local changes stay queued for the next sync")]
    Unreachable {
        /// Server URL.
        server: String,
        /// What failed.
        detail: String,
    },
    /// Email, password or Secret Key wrong, or a wrong second-factor code.
    #[error("the server refused the login: wrong email, master password, Secret Key or code")]
    WrongCredentials,
    /// The account asks for its second factor.
    #[error("this account has two-factor login: pass --totp CODE (a TOTP code or a recovery code)")]
    TotpRequired,
    /// Too many attempts.
    #[error("too many attempts; try again in {0} s")]
    RateLimited(u64),
    /// Registration: the email has an account.
    #[error("the server already has an account for that email: use `tessera sync clone` to join it")]
    Exists,
    /// The Secret Key is not the account's.
    #[error("{0}")]
    BadSecretKey(String),
    /// The server's answer is not trustworthy: named, and nothing applied.
    #[error("the server's data failed verification, nothing was applied: {0}")]
    Hostile(String),
    /// KDF parameters refused.
    #[error(transparent)]
    Kdf(#[from] KdfError),
    /// The server refused a request.
    #[error("the server refused: {0}")]
    Rejected(String),
    /// The server refused data over one of its limits (HTTP 413): the
    /// message names the limit; local changes stay queued.
    #[error("the server refused the sync (HTTP 413): {0}; local changes stay queued for the next sync")]
    OverLimit(String),
    /// Other devices kept pushing while this one tried.
    #[error("the account kept changing during {MAX_ROUNDS} sync rounds; try again")]
    Busy,
    /// The account's role in a share does not allow the change.
    #[error("{0}")]
    Role(String),
    /// A pinned person's key changed: every share operation with them stops.
    #[error("{0}")]
    KeyChanged(String),
    /// A share policy wants the person verified first.
    #[error("{0}")]
    Unverified(String),
    /// No such share (or invitation) for this account.
    #[error("{0}")]
    NoSuchShare(String),
    /// The local file for the emergency kit or the new vault.
    #[error("{0}")]
    Local(String),
    /// The vault file is an older copy than the one this device last
    /// synced (whole-file rollback): nothing was applied.
    #[error(
        "this vault file is older than the last one this device synced: this device pushed version {pushed} of the \
         account, the file knows only version {known}; nothing was applied. If you put back an older copy on \
         purpose, run `tessera restore-check --accept-older` and sync again"
    )]
    FileRolledBack {
        /// The manifest version of this device's last push, per the server.
        pushed: u64,
        /// The newest version this file knows.
        known: u64,
    },
}

impl SyncError {
    fn from_http(server: &str, e: HttpError) -> SyncError {
        match e {
            HttpError::Unreachable(detail) => SyncError::Unreachable { server: server.into(), detail },
            HttpError::Protocol(m) => SyncError::Hostile(format!("malformed answer ({m})")),
            HttpError::Setup(m) => SyncError::Local(m),
            HttpError::Status(_, body) => match body.error.as_str() {
                "invalid_credentials" => SyncError::WrongCredentials,
                "totp_required" => SyncError::TotpRequired,
                "rate_limited" => SyncError::RateLimited(body.retry_after.unwrap_or(60)),
                "exists" => SyncError::Exists,
                "unauthorized" => SyncError::Rejected("the session is no longer valid".into()),
                "not_found" => SyncError::Rejected("no such device on this account".into()),
                "stale" => SyncError::Busy,
                "too_large" | "quota_exceeded" | "http_413" => SyncError::OverLimit(over_limit(body.limit.as_deref())),
                _ => SyncError::Rejected(body.message),
            },
        }
    }
}

/// Names the limit a 413 ran into, in the user's terms; built here from
/// the limit's name and value, not from the server's text.
fn over_limit(limit: Option<&crate::wire::Limit>) -> String {
    let fix = "ask the server's operator to raise it";
    match limit {
        Some(l) if l.name == "items" => {
            format!("the account is at its quota of {} items on this server; delete items or {fix}", l.max)
        }
        Some(l) if l.name == "bytes" => format!(
            "the account is at its storage quota of {} on this server; delete items or attachments, or {fix}",
            size(l.max)
        ),
        Some(l) if l.name == "record" => format!(
            "an item with its attachments is larger than this server accepts ({} per item); \
             remove or shrink attachments, or {fix}",
            size(l.max)
        ),
        Some(l) => format!("a request was larger than this server accepts ({}); {fix}", size(l.max)),
        None => format!("a request was larger than the server, or a proxy in front of it, accepts; {fix}"),
    }
}

/// A byte count for people: `64 MiB`, `1 GiB`, `2000 bytes`.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub(crate) fn hostile(msg: impl Into<String>) -> SyncError {
    SyncError::Hostile(msg.into())
}

fn tokens(s: &Session) -> Tokens {
    Tokens {
        device_id: s.device_id.clone(),
        access_token: s.access_token.clone(),
        access_expires: unix_now() + s.expires_in as i64,
        refresh_token: s.refresh_token.clone(),
    }
}

/// A device name: the host name, else "Tessera".
pub fn default_device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "Tessera".into())
}

// --- sessions ----------------------------------------------------------------

pub(crate) fn status_of(e: &HttpError) -> Option<&str> {
    match e {
        HttpError::Status(_, body) => Some(body.error.as_str()),
        _ => None,
    }
}

/// Logs in with the master password and the stored Secret Key.
fn login(api: &mut Api, state: &mut SyncState, creds: &Credentials<'_>) -> Result<(), SyncError> {
    let kdf = account::kdf_from_spec(&state.kdf)?;
    let salt = from_b64(&state.salt).ok_or_else(|| SyncError::Local("the stored account salt is damaged".into()))?;
    let secret = SecretKey::parse(&state.secret_key).map_err(|e| SyncError::Local(e.to_string()))?;
    let keys = account::derive(creds.password.ok_or(SyncError::SignInNeeded)?, &salt, &kdf, &secret)?;
    let session = api
        .login(&LoginRequest {
            email: state.email.clone(),
            auth: b64(keys.auth.as_ref()),
            totp: creds.totp.map(str::to_string),
            device_name: state.device_name.clone(),
        })
        .map_err(|e| SyncError::from_http(&state.server, e))?;
    if session.account_id != state.account_id {
        return Err(hostile("the server logged this device into a different account"));
    }
    api.access_token = Some(session.access_token.clone());
    state.session = Some(tokens(&session));
    Ok(())
}

/// A client with a live session: the stored one, a refreshed one, or a new
/// login. The caller saves `state` (refresh tokens are single-use).
fn connect(state: &mut SyncState, creds: &Credentials<'_>) -> Result<Api, SyncError> {
    let mut api = Api::new(&state.server).map_err(|e| SyncError::from_http(&state.server, e))?;
    if let Some(s) = &state.session {
        if s.access_expires > unix_now() + 30 {
            api.access_token = Some(s.access_token.clone());
            return Ok(api);
        }
        match api.refresh(&s.refresh_token) {
            Ok(session) if session.account_id == state.account_id => {
                api.access_token = Some(session.access_token.clone());
                state.session = Some(tokens(&session));
                return Ok(api);
            }
            Ok(_) => return Err(hostile("the server refreshed this device into a different account")),
            Err(e) if status_of(&e) == Some("unauthorized") => state.session = None,
            Err(e) => return Err(SyncError::from_http(&state.server, e)),
        }
    }
    login(&mut api, state, creds)?;
    Ok(api)
}

/// Runs `f` with a session; if the server forgot the session meanwhile
/// (revoked, restored, expired), logs in again once and retries.
pub(crate) fn with_session<T>(
    vault: &mut Vault,
    state: &mut SyncState,
    creds: &Credentials<'_>,
    mut f: impl FnMut(&mut Vault, &mut SyncState, &Api) -> Result<T, HttpOr>,
) -> Result<T, SyncError> {
    let had = state.session.as_ref().map(|s| zeroize::Zeroizing::new(s.refresh_token.clone()));
    let mut api = connect(state, creds)?;
    // Refresh tokens are single-use: a new one is saved before anything else.
    if state.session.as_ref().map(|s| s.refresh_token.as_str()) != had.as_ref().map(|t| t.as_str()) {
        state.save(vault)?;
    }
    match f(vault, state, &api) {
        Err(HttpOr::Http(e)) if status_of(&e) == Some("unauthorized") => {
            state.session = None;
            login(&mut api, state, creds)?;
            state.save(vault)?;
            f(vault, state, &api).map_err(|e| e.into_sync(&state.server))
        }
        other => other.map_err(|e| e.into_sync(&state.server)),
    }
}

/// An HTTP error (which may call for a new login) or any other.
pub(crate) enum HttpOr {
    Http(HttpError),
    Sync(SyncError),
}

impl HttpOr {
    fn into_sync(self, server: &str) -> SyncError {
        match self {
            HttpOr::Http(e) => SyncError::from_http(server, e),
            HttpOr::Sync(e) => e,
        }
    }
}

impl From<HttpError> for HttpOr {
    fn from(e: HttpError) -> Self {
        HttpOr::Http(e)
    }
}

impl From<SyncError> for HttpOr {
    fn from(e: SyncError) -> Self {
        HttpOr::Sync(e)
    }
}

impl From<VaultError> for HttpOr {
    fn from(e: VaultError) -> Self {
        HttpOr::Sync(SyncError::Vault(e))
    }
}

// --- register and clone ------------------------------------------------------

/// What `register` made.
pub struct Registered {
    /// The Secret Key, to show once and put in the emergency kit.
    pub secret_key: SecretKey,
    /// The first sync.
    pub report: SyncReport,
}

/// Creates an account on `server` from this vault and pushes every item.
pub fn register(
    vault: &mut Vault,
    server: &str,
    email: &str,
    device_name: &str,
    password: &Password,
    progress: &mut dyn FnMut(Progress),
) -> Result<Registered, SyncError> {
    if let Some(s) = SyncState::load(vault)? {
        return Err(SyncError::AlreadyLinked { email: s.email.clone(), server: s.server.clone() });
    }
    let secret = SecretKey::generate();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the system random source failed");
    // The Secret Key already puts 128 unguessable bits into every guess,
    // so the floor is enough here; the vault's own slot keeps its
    // calibrated KDF.
    let kdf = KdfParams::ARGON2_FLOOR;
    let keys = account::derive(password, &salt, &kdf, &secret)?;
    let sync_keys = vault.sync_keys();
    let api = Api::new(server).map_err(|e| SyncError::from_http(server, e))?;
    let session = api
        .register(&RegisterRequest {
            email: email.into(),
            auth: b64(keys.auth.as_ref()),
            salt: b64(&salt),
            kdf: account::spec_of(&kdf),
            wrapped_vault_key: b64(&vault.wrap_for_account(&keys.wrap, &salt)),
            manifest: Manifest::empty().sign(&sync_keys),
            device_name: device_name.into(),
        })
        .map_err(|e| SyncError::from_http(server, e))?;
    let mut state = linked_state(server, email, device_name, &session, &secret, b64(&salt), account::spec_of(&kdf));
    state.stream.set_manifest(&Manifest::empty());
    state.save(vault)?;
    let report = sync_with_state(vault, &mut state, &Credentials { password: Some(password), totp: None }, progress)?;
    Ok(Registered { secret_key: secret, report })
}

/// The sync state of a device that just joined an account.
fn linked_state(
    server: &str,
    email: &str,
    device_name: &str,
    session: &Session,
    secret: &SecretKey,
    salt: String,
    kdf: crate::wire::KdfSpec,
) -> SyncState {
    SyncState {
        server: server.trim_end_matches('/').into(),
        email: email.into(),
        account_id: session.account_id.clone(),
        secret_key: secret.to_display().to_string(),
        salt,
        kdf,
        device_name: device_name.into(),
        session: Some(tokens(session)),
        stream: Default::default(),
        last_sync: None,
        accept_older: false,
        identity: None,
        contacts: Default::default(),
        shares: Default::default(),
        stored: Default::default(),
    }
}

/// What `clone` made.
pub struct Cloned {
    /// Its recovery code, to show once.
    pub recovery_code: RecoveryCode,
    /// The first sync.
    pub report: SyncReport,
}

/// Makes a new local vault at `path` from an account.
#[allow(clippy::too_many_arguments)]
pub fn clone_account(
    path: &Path,
    server: &str,
    email: &str,
    secret: &SecretKey,
    device_name: &str,
    creds: &Credentials<'_>,
    vault_kdf: KdfParams,
    options: &OpenOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Cloned, SyncError> {
    if path.symlink_metadata().is_ok() {
        return Err(SyncError::Local(format!("{} already exists; choose a new --vault path", path.display())));
    }
    let mut api = Api::new(server).map_err(|e| SyncError::from_http(server, e))?;
    let pre = api.prelogin(email).map_err(|e| SyncError::from_http(server, e))?;
    // A hostile server's cheapest attack: weak KDF parameters. Refused.
    let kdf = account::kdf_from_spec(&pre.kdf).map_err(|e| match e {
        KdfError::BelowFloor { given, floor } => {
            hostile(format!("the server offered KDF parameters below the floor ({given}; floor {floor})"))
        }
        other => SyncError::Kdf(other),
    })?;
    let salt = from_b64(&pre.salt).filter(|s| (16..=64).contains(&s.len())).ok_or_else(|| hostile("bad salt"))?;
    let password = creds.password.ok_or(SyncError::SignInNeeded)?;
    let keys = account::derive(password, &salt, &kdf, secret)?;
    let session = api
        .login(&LoginRequest {
            email: email.into(),
            auth: b64(keys.auth.as_ref()),
            totp: creds.totp.map(str::to_string),
            device_name: device_name.into(),
        })
        .map_err(|e| SyncError::from_http(server, e))?;
    api.access_token = Some(session.access_token.clone());
    let info = api.vault_info().map_err(|e| SyncError::from_http(server, e))?;
    if info.salt != pre.salt || info.kdf != pre.kdf {
        return Err(hostile("the account's salt or KDF parameters differ between prelogin and the vault"));
    }
    let wrapped = from_b64(&info.wrapped_vault_key).ok_or_else(|| hostile("the wrapped Vault Key is not base64"))?;
    // The login just proved password and Secret Key; a key that does not
    // open now was substituted.
    let vault_key = VaultKey::unwrap_for_account(&keys.wrap, &salt, &wrapped)
        .map_err(|_| hostile("the account's wrapped Vault Key fails authentication"))?;
    // The vault is made beside its final path under a name of its own and
    // linked into place only when whole, so a clone that is killed (even
    // `kill -9`) never leaves a vault at the path it was asked for.
    remove_abandoned_clones(path);
    let building = building_path(path);
    let (mut vault, recovery_code) =
        tessera_unlock::create_vault_with_key(&building, password, vault_kdf, options, vault_key).map_err(|e| {
            remove_vault_files(&building);
            match e {
                tessera_unlock::CreateVaultError::Create(c) => SyncError::Local(c.to_string()),
                tessera_unlock::CreateVaultError::Factor(f) => SyncError::Local(f.to_string()),
            }
        })?;
    // Version 0: whatever the server holds now is the newest this device has seen.
    let mut state = linked_state(server, email, device_name, &session, secret, pre.salt.clone(), pre.kdf.clone());
    state.stream.set_manifest(&Manifest { version: 0, ..Manifest::empty() });
    let first_sync = state
        .save(&mut vault)
        .map_err(SyncError::from)
        .and_then(|()| sync_with_state(&mut vault, &mut state, creds, progress));
    // A clone is all or nothing: a half-made vault (linked to the account,
    // missing what the server withheld or damaged) would look like a
    // working one next time. The file was ours alone.
    let report = match first_sync {
        Ok(report) => report,
        Err(e) => {
            drop(vault);
            remove_vault_files(&building);
            return Err(e);
        }
    };
    // Closing the last connection folds SQLite's write-ahead log into the
    // file, which then stands alone.
    vault.lock();
    // A link never replaces a file that appeared at `path` meanwhile; where
    // the file system has no links, a rename after a last look.
    let placed = match std::fs::hard_link(&building, path) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists && path.symlink_metadata().is_err() => {
            std::fs::rename(&building, path)
        }
        other => other,
    };
    remove_vault_files(&building);
    placed.map_err(|e| {
        SyncError::Local(format!("cannot put the new vault at {}: {e} (nothing was written there)", path.display()))
    })?;
    Ok(Cloned { recovery_code, report })
}

/// Where a clone to `path` is built: a hidden sibling named for this
/// process (`.vault.tessera.clone-PID`), on the same file system so the
/// finished file can be linked into place.
fn building_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.clone-{}", std::process::id()))
}

/// Removes what clones to `path` killed before they finished left behind:
/// their building files, whose process is gone, and the temporary file the
/// building file is made from (`..vault.tessera.clone-PID.RANDOM.creating`,
/// left when the kill falls between its link into place and its removal).
fn remove_abandoned_clones(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { return };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let prefix = format!(".{}.clone-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let rest = file.strip_prefix(&prefix).or_else(|| {
            file.strip_prefix('.').and_then(|f| f.strip_prefix(&prefix)).filter(|r| r.ends_with(".creating"))
        });
        let Some(pid) = rest.and_then(|rest| rest.split(['-', '.']).next()) else { continue };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        let alive = Path::new(&format!("/proc/{pid}")).exists();
        if !alive && !file.ends_with("-wal") && !file.ends_with("-shm") && !file.ends_with("-journal") {
            remove_vault_files(&dir.join(&file));
        }
    }
}

/// Removes a vault file this process made, with SQLite's WAL and shared-
/// memory companions.
fn remove_vault_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

// --- sync ----------------------------------------------------------------------

/// Pushes and pulls.
pub fn sync(
    vault: &mut Vault,
    creds: &Credentials<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<SyncReport, SyncError> {
    let mut state = SyncState::load(vault)?.ok_or(SyncError::NotLinked)?;
    sync_with_state(vault, &mut state, creds, progress)
}

fn sync_with_state(
    vault: &mut Vault,
    state: &mut SyncState,
    creds: &Credentials<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<SyncReport, SyncError> {
    let account = AccountStream { keys: vault.sync_keys() };
    with_session(vault, state, creds, |vault, state, api| {
        // One question first: the account's KDF and salt, its shares, and
        // which remembered share answers still stand.
        let mut revisions = None;
        let tags = crate::client::sharing::remembered_tags(vault, state, &mut revisions)?;
        let check = match api.sync_check(&tags) {
            Ok(check) => Some(check),
            // A server older than the check.
            Err(HttpError::Status(404 | 405, _)) => None,
            Err(e) => return Err(e.into()),
        };
        match &check {
            Some(c) => check_account(state, &c.kdf, &c.salt)?,
            None => {
                let info = api.vault_info()?;
                check_account(state, &info.kdf, &info.salt)?
            }
        }
        let mut report = SyncReport::default();
        crate::client::sharing::ensure_identity(vault, state, api)?;
        // Shares first: an item moved into a share on another device
        // arrives there before the account's tombstone for it.
        crate::client::sharing::sync_shares(vault, state, api, &tags, check, &mut revisions, &mut report, progress)?;
        run_rounds(vault, state, api, &account, &mut revisions, &mut report, progress)?;
        // Rounds that found nothing to do wrote nothing; the time of this
        // sync is saved once.
        state.last_sync = Some(unix_now());
        state.save(vault)?;
        Ok(report)
    })
}

/// Rounds of one stream until a push goes through.
pub(crate) fn run_rounds(
    vault: &mut Vault,
    state: &mut SyncState,
    api: &Api,
    stream: &dyn Stream,
    revisions: &mut Option<std::collections::HashMap<ItemId, u64>>,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), HttpOr> {
    for _ in 0..MAX_ROUNDS {
        // Saved with the round's own writes.
        state.last_sync = Some(unix_now());
        if round(vault, state, api, stream, revisions, report, progress)? {
            return Ok(());
        }
    }
    Err(SyncError::Busy.into())
}

/// The account's salt and KDF must be what this device trusts.
fn check_account(state: &SyncState, kdf: &crate::wire::KdfSpec, salt: &str) -> Result<(), HttpOr> {
    if *kdf != state.kdf {
        let what = match account::kdf_from_spec(kdf) {
            Err(KdfError::BelowFloor { given, floor }) => {
                format!("KDF parameters below the floor ({given}; floor {floor})")
            }
            _ => "different KDF parameters".to_string(),
        };
        return Err(hostile(format!("the server now offers {what} for this account; refused")).into());
    }
    if salt != state.salt {
        return Err(hostile("the server changed the account's salt").into());
    }
    Ok(())
}

pub(crate) fn parse_id(hex: &str) -> Result<ItemId, SyncError> {
    ItemId::from_str(hex).map_err(|_| hostile(format!("malformed item id {hex:?}")))
}

// --- status, logout, second factor ------------------------------------------------

/// `sync status`.
#[derive(Debug, serde::Serialize)]
pub struct Status {
    /// Server URL.
    pub server: String,
    /// Account email.
    pub email: String,
    /// Account id.
    pub account_id: String,
    /// This device's id, while logged in.
    pub device_id: Option<String>,
    /// Whether this device holds a session.
    pub logged_in: bool,
    /// Unix seconds of the last successful sync.
    pub last_sync: Option<i64>,
    /// Local changes waiting to go up.
    pub pending: u64,
    /// Items the server holds, as of the last sync (tombstones included).
    pub items: u64,
    /// The last manifest version seen.
    pub manifest_version: u64,
}

/// The local view, without contacting the server.
pub fn status(vault: &Vault) -> Result<Status, SyncError> {
    let state = SyncState::load(vault)?.ok_or(SyncError::NotLinked)?;
    let revisions = vault.item_revisions()?;
    // Each local item is pending in the stream that keeps it (the
    // account's, or its share's); a tracked item gone from its stream is a
    // pending tombstone.
    let mut present: HashSet<(&str, String)> = HashSet::new();
    let mut pending = 0;
    let owners = state.owners();
    for (id, rev) in &revisions {
        let hex = id.to_hex();
        let share = owners.get(hex.as_str()).copied();
        let stream = share.map_or(&state.stream, |s| &state.shares[s].stream);
        if stream.items.get(&hex).is_none_or(|t| t.local != *rev || t.deleted) {
            pending += 1;
        }
        present.insert((share.unwrap_or(""), hex));
    }
    let streams = std::iter::once(("", &state.stream)).chain(state.shares.iter().map(|(k, s)| (k.as_str(), &s.stream)));
    for (key, stream) in streams {
        pending +=
            stream.items.iter().filter(|(hex, t)| !t.deleted && !present.contains(&(key, (*hex).clone()))).count();
    }
    Ok(Status {
        server: state.server.clone(),
        email: state.email.clone(),
        account_id: state.account_id.clone(),
        device_id: state.session.as_ref().map(|s| s.device_id.clone()),
        logged_in: state.session.is_some(),
        last_sync: state.last_sync,
        pending: pending as u64,
        items: state.stream.items.len() as u64,
        manifest_version: state.stream.manifest_version,
    })
}

/// Revokes this device's session on the server (best effort when the
/// server is away) and forgets its tokens; with `forget`, unlinks the vault
/// from the account too. Returns whether the server confirmed.
pub fn logout(vault: &mut Vault, forget: bool) -> Result<bool, SyncError> {
    let mut state = SyncState::load(vault)?.ok_or(SyncError::NotLinked)?;
    let mut confirmed = false;
    if let Some(s) = &state.session {
        let mut api = Api::new(&state.server).map_err(|e| SyncError::from_http(&state.server, e))?;
        api.access_token = Some(s.access_token.clone());
        confirmed = match api.logout() {
            Ok(()) => true,
            // Expired access token: refresh to revoke properly.
            Err(e) if status_of(&e) == Some("unauthorized") => match api.refresh(&s.refresh_token) {
                Ok(session) => {
                    api.access_token = Some(session.access_token);
                    api.logout().is_ok()
                }
                Err(_) => true, // the server no longer knows this session
            },
            Err(_) => false,
        };
    }
    state.session = None;
    if forget {
        vault.save_sync_state(None)?;
    } else {
        state.save(vault)?;
    }
    Ok(confirmed)
}

/// `sync 2fa enable`: without a code, the (pending) TOTP secret to add to
/// an authenticator; with one, switches the factor on.
pub enum TwoFactor {
    /// Add this to an authenticator, then confirm with a code.
    Enroll(TotpEnrollment),
    /// On; show these once.
    Enabled(RecoveryCodes),
}

/// Starts or confirms TOTP for the account.
pub fn enable_totp(vault: &mut Vault, password: &Password, code: Option<&str>) -> Result<TwoFactor, SyncError> {
    let mut state = SyncState::load(vault)?.ok_or(SyncError::NotLinked)?;
    let creds = Credentials { password: Some(password), totp: None };
    with_session(vault, &mut state, &creds, |_, _, api| {
        let enrollment = api.totp_enroll()?;
        Ok(match code {
            None => TwoFactor::Enroll(enrollment),
            Some(code) => TwoFactor::Enabled(api.totp_verify(code)?),
        })
    })
}

/// The account's server, email and Secret Key (displayed form), from this
/// vault's sealed sync state: to print the emergency kit again.
pub fn kit(vault: &Vault) -> Result<(String, String, zeroize::Zeroizing<String>), SyncError> {
    let state = SyncState::load(vault)?.ok_or(SyncError::NotLinked)?;
    Ok((state.server.clone(), state.email.clone(), zeroize::Zeroizing::new(state.secret_key.clone())))
}

/// The account's event log, newest first.
pub fn events(vault: &mut Vault, creds: &Credentials<'_>) -> Result<Vec<crate::wire::AccountEvent>, SyncError> {
    let mut state = SyncState::load(vault)?.ok_or(SyncError::NotLinked)?;
    with_session(vault, &mut state, creds, |_, _, api| Ok(api.events()?))
}

/// The account's devices, newest first.
pub fn devices(vault: &mut Vault, creds: &Credentials<'_>) -> Result<Vec<crate::wire::DeviceInfo>, SyncError> {
    let mut state = SyncState::load(vault)?.ok_or(SyncError::NotLinked)?;
    with_session(vault, &mut state, creds, |_, _, api| Ok(api.devices()?))
}

/// Revokes another device of the account (its tokens stop working).
pub fn revoke_device(vault: &mut Vault, creds: &Credentials<'_>, id: &str) -> Result<(), SyncError> {
    let mut state = SyncState::load(vault)?.ok_or(SyncError::NotLinked)?;
    with_session(vault, &mut state, creds, |_, _, api| Ok(api.revoke_device(id)?))
}

/// Switches TOTP off (needs a current code or a recovery code).
pub fn disable_totp(vault: &mut Vault, password: &Password, code: &str) -> Result<(), SyncError> {
    let mut state = SyncState::load(vault)?.ok_or(SyncError::NotLinked)?;
    let creds = Credentials { password: Some(password), totp: Some(code) };
    with_session(vault, &mut state, &creds, |_, _, api| Ok(api.totp_disable(code)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abandoned_clones_and_their_temporary_files_go_a_live_ones_stay() {
        let dir = tempfile::tempdir().expect("a directory");
        let me = std::process::id();
        // Above any pid_max: no such process.
        let dead = 4_000_000_000u32;
        let names = [
            format!(".v.tessera.clone-{dead}"),
            format!(".v.tessera.clone-{dead}-wal"),
            format!("..v.tessera.clone-{dead}.0123abcd.creating"),
            format!(".v.tessera.clone-{me}"),
            format!("..v.tessera.clone-{me}.0123abcd.creating"),
            format!("..v.tessera.clone-{dead}.0123abcd.other"),
            "v.tessera.bak".to_owned(),
        ];
        for n in &names {
            std::fs::write(dir.path().join(n), b"x").expect("write");
        }
        remove_abandoned_clones(&dir.path().join("v.tessera"));
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut expected = names[3..].to_vec();
        expected.sort();
        assert_eq!(left, expected);
    }
}
