//! The app's state: the remembered settings, the vault (none, locked or
//! unlocked) with its search index, the clipboard and the activity clock.
//!
//! Every vault operation is a call into `tessera-core`/`tessera-unlock`;
//! this module only keeps the unlocked vault between commands, answers in
//! the shapes of ui/API.md, and never hands the web layer a secret except
//! through the few commands the contract names.
//!
//! Here: the state types, the locks around them, the activity clock and the
//! settings. What the commands do with the vault is in one file per job:
//! `unlock` (create, open, unlock, lock), `items` (search, view, edit, trash,
//! history, attachments, codes), `generator`, `health` (health report and
//! audit log), `slots` (unlock slots and the master password), `transfer`
//! (import, export, new files), `sessions` (the sync module's second session
//! on the vault) and `integrations` (the tray, agents and browser).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tessera_core::{OpenOptions, RollbackError, SearchIndex, Vault};
use tessera_unlock::Password;
use zeroize::Zeroizing;

use crate::clipboard::SecretClipboard;
use crate::dto::{AppState, ListFilter, RollbackProtection, SearchScope, ShareNames, VaultState};
use crate::error::{CommandError, CommandResult};
use crate::settings::{Config, Paths, Settings};

mod generator;
mod health;
mod integrations;
mod items;
mod sessions;
mod slots;
mod transfer;
mod unlock;

pub use items::{MAX_ATTACHMENT, attachment_too_large};
pub use transfer::write_new_file;

/// How long the master password's key derivation should take when a vault
/// or a composite slot is created (as the CLI does).
const KDF_TARGET: Duration = Duration::from_secs(1);

pub struct Desktop {
    pub paths: Paths,
    /// Background sync and everything else that waits on the sync server.
    pub(crate) sync: crate::sync::SyncRuntime,
    config: Mutex<Config>,
    vault: Mutex<VaultSlot>,
    pub clipboard: SecretClipboard,
    activity: Mutex<Instant>,
    /// Options for every vault opened (the write-lock timeout).
    options: OpenOptions,
}

enum VaultSlot {
    /// No vault configured, or its file is gone.
    Closed,
    /// A vault file, keys not in memory.
    Locked(PathBuf),
    /// Taken out while a long unlock runs without holding the lock.
    Unlocking(PathBuf),
    Unlocked(Box<Open>),
}

/// Numbers every state of the item list, across unlocks, so caches built
/// from it (the browser's site index) know when they are stale.
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn next_generation() -> u64 {
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
}

/// An unlocked vault and what the list needs.
struct Open {
    vault: Vault,
    index: SearchIndex,
    generation: u64,
    trash: Option<SearchIndex>,
    /// The last search, so paging keeps one order.
    last: Option<LastSearch>,
    /// Why the rollback check after unlock could not use the vault's TPM
    /// counter: the vault reads, and refuses every write (DESIGN §3).
    tpm_unreachable: Option<RollbackError>,
    /// Which share each shared item is in, read from the sync state once
    /// per state of the list (not per page: the state is one sealed
    /// document of every tracked item).
    share_names: Option<ShareNames>,
}

struct LastSearch {
    query: String,
    scope: SearchScope,
    /// Only this share's items.
    share: Option<String>,
    /// Only this folder's or tag's items.
    filter: ListFilter,
    /// Positions into the live index, or into the trash index.
    hits: Vec<usize>,
}

impl Open {
    fn new(vault: Vault) -> CommandResult<Open> {
        let index = vault.search_index()?;
        Ok(Open {
            vault,
            index,
            generation: next_generation(),
            trash: None,
            last: None,
            tpm_unreachable: None,
            share_names: None,
        })
    }

    /// After any change: the index is rebuilt from the vault, so the list
    /// always shows what is stored.
    fn refresh(&mut self) -> CommandResult<()> {
        let index = self.vault.search_index()?;
        self.install(index);
        // Every local change passes here: background sync sends it up.
        crate::sync::local_change();
        Ok(())
    }

    /// Takes `index` as the list: rebuilt here, or by a background session.
    fn install(&mut self, index: SearchIndex) {
        self.index = index;
        self.generation = next_generation();
        self.trash = None;
        self.last = None;
        self.share_names = None;
    }

    /// The share names of the items, read once per state of the list.
    fn share_names(&mut self) -> &ShareNames {
        self.share_names.get_or_insert_with(|| ShareNames::load(&self.vault))
    }
}

pub(crate) fn password_from(text: &str) -> CommandResult<Password> {
    Password::new(Zeroizing::new(text.as_bytes().to_vec()))
        .map_err(|_| CommandError::invalid("The master password is empty"))
}

impl Desktop {
    pub fn new(paths: Paths) -> Desktop {
        let config = Config::load(&paths.config_file);
        let slot = match &config.vault_path {
            Some(p) if p.exists() => VaultSlot::Locked(p.clone()),
            _ if paths.default_vault.exists() => VaultSlot::Locked(paths.default_vault.clone()),
            _ => VaultSlot::Closed,
        };
        Desktop {
            paths,
            sync: Default::default(),
            config: Mutex::new(config),
            vault: Mutex::new(slot),
            clipboard: SecretClipboard::default(),
            activity: Mutex::new(Instant::now()),
            options: OpenOptions::default(),
        }
    }

    fn slot(&self) -> MutexGuard<'_, VaultSlot> {
        self.vault.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with_open<T>(&self, f: impl FnOnce(&mut Open) -> CommandResult<T>) -> CommandResult<T> {
        match &mut *self.slot() {
            VaultSlot::Unlocked(open) => f(open),
            _ => Err(CommandError::locked()),
        }
    }

    /// Runs a change and rebuilds the index after it, even when it failed
    /// half way (the vault rolled back; the index must match it).
    pub(crate) fn change<T>(&self, f: impl FnOnce(&mut Vault) -> CommandResult<T>) -> CommandResult<T> {
        self.with_open(|open| {
            let result = f(&mut open.vault);
            // A write of a bound vault reads its counter and checks the
            // file against it: one that went through proves the TPM back.
            if result.is_ok() {
                open.tpm_unreachable = None;
            }
            open.refresh()?;
            result
        })
    }

    // --- activity -------------------------------------------------------------

    /// Marks user activity, for the idle auto-lock.
    pub fn touch(&self) {
        *self.activity.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    pub fn idle_for(&self) -> Duration {
        self.activity.lock().unwrap_or_else(|p| p.into_inner()).elapsed()
    }

    // --- settings ---------------------------------------------------------------

    pub fn settings(&self) -> Settings {
        self.config.lock().unwrap_or_else(|p| p.into_inner()).settings.clone()
    }

    pub fn store_settings(&self, settings: Settings) -> CommandResult<Settings> {
        settings.validate()?;
        let mut config = self.config.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = config.clone();
        next.settings = settings;
        next.save(&self.paths.config_file)?;
        *config = next;
        Ok(config.settings.clone())
    }

    fn remember_vault(&self, path: &Path) -> CommandResult<()> {
        let mut config = self.config.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = config.clone();
        next.vault_path = Some(path.to_path_buf());
        next.save(&self.paths.config_file)?;
        *config = next;
        Ok(())
    }

    // --- app state ----------------------------------------------------------------

    /// The vault's own lock, held, while it is locked (or closed): no
    /// command can be halfway through a write while the guard lives. `None`
    /// while it is unlocked or unlocking.
    pub(crate) fn hold_locked(&self) -> Option<impl Sized + '_> {
        let slot = self.slot();
        matches!(&*slot, VaultSlot::Locked(_) | VaultSlot::Closed).then_some(slot)
    }

    pub fn is_unlocked(&self) -> bool {
        matches!(&*self.slot(), VaultSlot::Unlocked(_))
    }

    pub fn app_state(&self) -> AppState {
        let (state, path, rollback) = match &*self.slot() {
            VaultSlot::Closed => (VaultState::NoVault, None, None),
            VaultSlot::Locked(p) | VaultSlot::Unlocking(p) => {
                if p.exists() {
                    (VaultState::Locked, Some(p.clone()), None)
                } else {
                    (VaultState::NoVault, None, None)
                }
            }
            VaultSlot::Unlocked(open) => {
                (VaultState::Unlocked, Some(open.vault.path().to_path_buf()), Some(rollback_protection(open)))
            }
        };
        AppState {
            state,
            vault_path: path.map(|p| p.display().to_string()),
            default_vault_path: self.paths.default_vault.display().to_string(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            rollback,
        }
    }
}

/// What Settings and the banner show of the vault's rollback protection.
fn rollback_protection(open: &Open) -> RollbackProtection {
    RollbackProtection {
        counter: open.vault.rollback_binding().ok().flatten().map(|b| b.index),
        tpm_unreachable: open.tpm_unreachable.as_ref().map(|e| match e {
            // The TPM's own words ("cannot reach the TPM at …"), without
            // the CLI's flags: the banner says what to do in the app.
            RollbackError::Counter { reason, .. } => reason.to_string(),
            other => other.to_string(),
        }),
    }
}
