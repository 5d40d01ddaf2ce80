//! The app's state: the remembered settings, the vault (none, locked or
//! unlocked) with its search index, the clipboard and the activity clock.
//!
//! Every vault operation is a call into `tessera-core`/`tessera-unlock`;
//! this module only keeps the unlocked vault between commands, answers in
//! the shapes of ui/API.md, and never hands the web layer a secret except
//! through the few commands the contract names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tessera_core::health::{self, HealthEntry, HealthPolicy};
use tessera_core::{
    Item, ItemId, ItemSummary, LockedVault, OpenOptions, RollbackError, Scope, SearchIndex, SlotId, Vault,
};
use tessera_unlock::{
    Factor, KdfParams, KeyringFactor, Password, PasswordFactor, RecoveryCode, TpmFactor, UnlockError, YubiKeyFactor,
};
use zeroize::Zeroizing;

use crate::clipboard::SecretClipboard;
use crate::dto::*;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::settings::{Config, Paths, Settings};

/// How long the master password's key derivation should take when a vault
/// or a composite slot is created (as the CLI does).
const KDF_TARGET: Duration = Duration::from_secs(1);
/// Largest attachment the app reads from disk: the core's limit.
pub const MAX_ATTACHMENT: u64 = tessera_core::item::MAX_ATTACHMENT_SIZE;

/// The refusal of a file over [`MAX_ATTACHMENT`], naming it, its size and
/// the limit.
pub fn attachment_too_large(name: &str, size: u64) -> CommandError {
    const MIB: f64 = 1024.0 * 1024.0;
    CommandError::invalid(format!(
        "“{name}” is {:.1} MiB: an attachment can be at most {} MiB",
        size as f64 / MIB,
        MAX_ATTACHMENT / (1024 * 1024)
    ))
}

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
    /// Position of each live item in `index.all()`.
    position: HashMap<ItemId, usize>,
    trash: Option<SearchIndex>,
    /// The last search, so paging keeps one order.
    last: Option<LastSearch>,
    /// Why the rollback check after unlock could not use the vault's TPM
    /// counter: the vault reads, and refuses every write (DESIGN §3).
    tpm_unreachable: Option<RollbackError>,
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
        let position = positions(&index);
        Ok(Open {
            vault,
            index,
            generation: next_generation(),
            position,
            trash: None,
            last: None,
            tpm_unreachable: None,
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
        self.position = positions(&self.index);
        self.trash = None;
        self.last = None;
    }
}

fn positions(index: &SearchIndex) -> HashMap<ItemId, usize> {
    index.all().iter().enumerate().map(|(i, s)| (s.id, i)).collect()
}

/// A read member's change to a shared item would be refused by the share's
/// other members at the next sync (and its manifest signature refused):
/// every change the app makes to an item is checked here first.
fn may_change(vault: &Vault, id: &ItemId) -> CommandResult<()> {
    Ok(tessera_sync::client::sharing::check_may_change(vault, id)?)
}

/// What a credential needs from the locked vault's slot list.
fn slot_kinds(locked: &LockedVault) -> Vec<String> {
    locked.slots().into_iter().map(|s| s.kind).collect()
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

    // --- app, vault and unlock ----------------------------------------------------

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

    /// Creates a vault (KDF calibrated to about a second), leaves it
    /// unlocked and remembers it. The recovery code is returned once and not
    /// kept.
    pub fn create_vault(&self, path: &str, password: &str) -> CommandResult<CreatedVault> {
        let path = PathBuf::from(path.trim());
        if path.as_os_str().is_empty() {
            return Err(CommandError::invalid("Choose where to keep the vault"));
        }
        if path.symlink_metadata().is_ok() {
            return Err(CommandError::invalid(format!(
                "{} already exists; Tessera never overwrites a vault",
                path.display()
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| CommandError::io(format!("Cannot create the folder {}: {e}", dir.display())))?;
        }
        let password = password_from(password)?;
        if matches!(&*self.slot(), VaultSlot::Unlocked(_)) {
            return Err(CommandError::invalid("Lock the open vault before creating another"));
        }
        let (vault, code) =
            tessera_unlock::create_vault(&path, &password, KdfParams::calibrate(KDF_TARGET), &self.options)?;
        let open = Open::new(vault)?;
        *self.slot() = VaultSlot::Unlocked(Box::new(open));
        self.remember_vault(&path)?;
        self.touch();
        Ok(CreatedVault { recovery_code: code.to_display().to_string() })
    }

    /// Opens a vault file without unlocking it, and remembers it.
    pub fn open_vault(&self, path: &str) -> CommandResult<AppState> {
        let path = PathBuf::from(path.trim());
        // Opening checks the header: a damaged or foreign file is refused now.
        LockedVault::open(&path, &self.options)?;
        {
            let mut slot = self.slot();
            if let VaultSlot::Unlocked(_) = &*slot {
                return Err(CommandError::invalid("Lock the open vault before opening another"));
            }
            *slot = VaultSlot::Locked(path.clone());
        }
        self.remember_vault(&path)?;
        Ok(self.app_state())
    }

    fn locked_path(&self) -> CommandResult<PathBuf> {
        match &*self.slot() {
            VaultSlot::Locked(p) | VaultSlot::Unlocking(p) => Ok(p.clone()),
            VaultSlot::Unlocked(open) => Ok(open.vault.path().to_path_buf()),
            VaultSlot::Closed => Err(CommandError::new(ErrorKind::NotFound, "No vault is open; create or open one")),
        }
    }

    pub fn unlock_factors(&self) -> CommandResult<Vec<UnlockFactor>> {
        let locked = LockedVault::open(self.locked_path()?, &self.options)?;
        let mut out = Vec::new();
        for slot in locked.slots() {
            let parts: Vec<&str> = slot.kind.split('+').collect();
            let kind = if parts.contains(&KeyringFactor::KIND) {
                HardwareFactorKind::Keyring
            } else if parts.contains(&TpmFactor::KIND) {
                HardwareFactorKind::Tpm
            } else if parts.contains(&YubiKeyFactor::KIND) {
                HardwareFactorKind::Yubikey
            } else {
                continue;
            };
            out.push(UnlockFactor {
                slot: slot.id.0,
                kind,
                label: slot.label.clone(),
                needs_pin: kind != HardwareFactorKind::Keyring,
                requires_password: parts.contains(&PasswordFactor::KIND),
            });
        }
        Ok(out)
    }

    /// Unlocks with one credential. The key derivation runs without holding
    /// the state lock, so the other window stays responsive.
    pub fn unlock(&self, credential: &Credential) -> CommandResult<AppState> {
        let path = {
            let mut slot = self.slot();
            match &*slot {
                VaultSlot::Unlocked(_) => {
                    drop(slot);
                    return Ok(self.app_state());
                }
                VaultSlot::Unlocking(_) => {
                    return Err(CommandError::new(ErrorKind::Busy, "The vault is being unlocked already"));
                }
                VaultSlot::Closed => {
                    return Err(CommandError::new(ErrorKind::NotFound, "No vault is open; create or open one"));
                }
                VaultSlot::Locked(p) => {
                    let p = p.clone();
                    *slot = VaultSlot::Unlocking(p.clone());
                    p
                }
            }
        };
        let result = self
            .unlock_file(&path, credential)
            .and_then(|(vault, tpm_unreachable)| Ok(Open { tpm_unreachable, ..Open::new(vault)? }));
        let mut slot = self.slot();
        match result {
            Ok(open) => {
                *slot = VaultSlot::Unlocked(Box::new(open));
                drop(slot);
                self.touch();
                Ok(self.app_state())
            }
            Err(e) => {
                *slot = VaultSlot::Locked(path);
                Err(e)
            }
        }
    }

    /// Unlocks the file and checks it against its TPM counter; with the
    /// vault, why the counter could not be used, if it could not.
    fn unlock_file(&self, path: &Path, credential: &Credential) -> CommandResult<(Vault, Option<RollbackError>)> {
        let locked = LockedVault::open(path, &self.options)?;
        let tcti = std::env::var("TESSERA_TPM_TCTI").ok();
        let mut vault = match credential {
            Credential::Password { password } => {
                let password = password_from(password)?;
                tessera_unlock::unlock(locked, &tessera_unlock::Credential::Password(&password))?
            }
            Credential::Recovery { code } => {
                let code = RecoveryCode::parse(code).map_err(|e| CommandError::invalid(e.to_string()))?;
                tessera_unlock::unlock(locked, &tessera_unlock::Credential::Recovery(&code))?
            }
            Credential::Keyring { .. } => with_factor(locked, &KeyringFactor::new(), None)?,
            Credential::Tpm { pin, password, .. } => {
                with_factor(locked, &TpmFactor::new(tcti.as_deref(), pin.as_bytes()), password.as_deref())?
            }
            Credential::Yubikey { pin, password, .. } => {
                with_factor(locked, &YubiKeyFactor::new(None, pin.as_bytes(), false), password.as_deref())?
            }
        };
        // Whole-file rollback (DESIGN §3): an older copy of the file is an
        // integrity error here as in the CLI. Without its TPM the vault
        // opens for reading and refuses writes with a message naming the
        // TPM; the main window shows why in a banner (`AppState.rollback`).
        let warning = tessera_unlock::guard_rollback(&mut vault, tcti.as_deref())?;
        if let Some(warning) = &warning {
            eprintln!("tessera-desktop: warning: {warning}");
        }
        Ok((vault, warning))
    }

    /// Locks: the vault (and every key in it) is dropped and zeroized, the
    /// index with it. Returns whether it was unlocked.
    pub fn lock(&self) -> bool {
        let mut slot = self.slot();
        let was = std::mem::replace(&mut *slot, VaultSlot::Closed);
        let (path, unlocked) = match was {
            VaultSlot::Unlocked(open) => {
                let path = open.vault.path().to_path_buf();
                let Open { vault, .. } = *open;
                vault.lock();
                (Some(path), true)
            }
            VaultSlot::Locked(p) | VaultSlot::Unlocking(p) => (Some(p), false),
            VaultSlot::Closed => (None, false),
        };
        *slot = path.map_or(VaultSlot::Closed, VaultSlot::Locked);
        unlocked
    }

    pub fn password_strength(password: &str, user_inputs: &[&str]) -> PasswordStrength {
        let estimate = zxcvbn::zxcvbn(password, user_inputs);
        let feedback = estimate.feedback();
        PasswordStrength {
            score: u8::from(estimate.score()),
            guesses_log10: estimate.guesses_log10(),
            crack_time: estimate.crack_times().offline_slow_hashing_1e4_per_second().to_string(),
            warning: feedback.and_then(|f| f.warning()).map(|w| w.to_string()),
            suggestions: feedback.map(|f| f.suggestions().iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
        }
    }

    // --- items --------------------------------------------------------------------

    /// One page of a search, in the core's rank order. The full result of
    /// the last `(query, scope)` is kept so later pages keep its order.
    pub fn search_items(
        &self,
        query: &str,
        scope: SearchScope,
        offset: usize,
        limit: usize,
    ) -> CommandResult<SearchPage> {
        self.search_in_share(query, scope, None, offset, limit)
    }

    /// [`Self::search_items`], only the items of share `share` when given.
    pub fn search_in_share(
        &self,
        query: &str,
        scope: SearchScope,
        share: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> CommandResult<SearchPage> {
        self.search_filtered(query, scope, share, &ListFilter::default(), offset, limit)
    }

    /// [`Self::search_in_share`], also only the items `filter` (the
    /// sidebar's folder or tag) lets through.
    pub fn search_filtered(
        &self,
        query: &str,
        scope: SearchScope,
        share: Option<&str>,
        filter: &ListFilter,
        offset: usize,
        limit: usize,
    ) -> CommandResult<SearchPage> {
        let limit = limit.min(1000);
        self.with_open(|open| {
            let fresh = open.last.as_ref().is_none_or(|l| {
                l.query != query || l.scope != scope || l.share.as_deref() != share || l.filter != *filter
            });
            if fresh {
                let mut hits: Vec<usize> = match scope {
                    SearchScope::Live => open.index.search(query).into_iter().map(|s| open.position[&s.id]).collect(),
                    SearchScope::Favourites => open
                        .index
                        .search(query)
                        .into_iter()
                        .filter(|s| s.favourite)
                        .map(|s| open.position[&s.id])
                        .collect(),
                    SearchScope::Trash => {
                        if open.trash.is_none() {
                            open.trash = Some(SearchIndex::new(open.vault.summaries(Scope::Trash)?));
                        }
                        let trash = open.trash.as_ref().expect("just built");
                        let pos: HashMap<ItemId, usize> = positions(trash);
                        trash.search(query).into_iter().map(|s| pos[&s.id]).collect()
                    }
                };
                if let Some(name) = share {
                    let members = tessera_sync::client::sharing::items_of(&open.vault, name)?;
                    let list = match scope {
                        SearchScope::Trash => open.trash.as_ref().map(SearchIndex::all).unwrap_or_default(),
                        _ => open.index.all(),
                    };
                    hits.retain(|&i| members.contains(&list[i].id.to_hex()));
                }
                if *filter != ListFilter::default() {
                    let list = match scope {
                        SearchScope::Trash => open.trash.as_ref().map(SearchIndex::all).unwrap_or_default(),
                        _ => open.index.all(),
                    };
                    hits.retain(|&i| filter.matches(&list[i]));
                }
                open.last = Some(LastSearch {
                    query: query.to_owned(),
                    scope,
                    share: share.map(str::to_owned),
                    filter: filter.clone(),
                    hits,
                });
            }
            let last = open.last.as_ref().expect("set above");
            let list: &[ItemSummary] = match scope {
                SearchScope::Trash => open.trash.as_ref().map(SearchIndex::all).unwrap_or_default(),
                _ => open.index.all(),
            };
            let shares = ShareNames::load(&open.vault);
            let items = last
                .hits
                .iter()
                .skip(offset)
                .take(limit)
                .map(|&i| {
                    let s = &list[i];
                    let subtitle = subtitle_field(s.item_type).map(|name| {
                        open.vault
                            .get(s.id)
                            .ok()
                            .and_then(|item| item.field(name).filter(|f| !f.protected).map(|f| f.value.clone()))
                            .unwrap_or_default()
                    });
                    SummaryDto { share: shares.of(&s.id.to_hex()), ..SummaryDto::from_summary(s, subtitle) }
                })
                .collect();
            Ok(SearchPage { total: last.hits.len(), offset, items })
        })
    }

    fn get(&self, id: &str) -> CommandResult<Item> {
        let id = parse_id(id)?;
        self.with_open(|open| Ok(open.vault.get(id)?))
    }

    pub fn get_item(&self, id: &str) -> CommandResult<ItemDetails> {
        let id = parse_id(id)?;
        self.with_open(|open| {
            let item = open.vault.get(id)?;
            Ok(ItemDetails {
                share: ShareNames::load(&open.vault).of(&item.id.to_hex()),
                ..ItemDetails::from_item(&item)
            })
        })
    }

    pub fn reveal_field(&self, id: &str, field: &RevealableField) -> CommandResult<Zeroizing<String>> {
        let item = self.get(id)?;
        let value = match field {
            RevealableField::Password => item.password.clone(),
            RevealableField::Notes => item.notes.clone(),
            RevealableField::Custom { name } => item
                .field(name)
                .map(|f| f.value.clone())
                .ok_or_else(|| CommandError::not_found(format!("This item has no field named {name:?}")))?,
        };
        Ok(Zeroizing::new(value))
    }

    /// The value `copy_field` puts on the clipboard. Returns whether the
    /// vault changed (an HOTP counter moved on).
    pub fn field_value(&self, id: &str, field: &FieldRef) -> CommandResult<(Zeroizing<String>, bool)> {
        let item_id = parse_id(id)?;
        if let FieldRef::Totp = field {
            let code = self.with_open(|open| {
                let item = open.vault.get(item_id)?;
                let hotp =
                    matches!(item.otp().ok().flatten().map(|o| o.kind), Some(tessera_core::totp::OtpKind::Hotp { .. }));
                let code = open.vault.otp_code(item_id, None)?;
                if hotp {
                    open.refresh()?;
                }
                Ok((code.code, hotp))
            })?;
            return Ok(code);
        }
        let item = self.get(id)?;
        let missing = |what: &str| CommandError::not_found(format!("This item has no {what}"));
        let value = match field {
            FieldRef::Username if !item.username.is_empty() => item.username.clone(),
            FieldRef::Username => return Err(missing("username")),
            FieldRef::Password if !item.password.is_empty() => item.password.clone(),
            FieldRef::Password => return Err(missing("password")),
            FieldRef::Notes if !item.notes.is_empty() => item.notes.clone(),
            FieldRef::Notes => return Err(missing("notes")),
            FieldRef::Url { index } => item.urls.get(*index).cloned().ok_or_else(|| missing("such URL"))?,
            FieldRef::Custom { name } => item
                .field(name)
                .map(|f| f.value.clone())
                .ok_or_else(|| CommandError::not_found(format!("This item has no field named {name:?}")))?,
            FieldRef::Totp => unreachable!("handled above"),
        };
        Ok((Zeroizing::new(value), false))
    }

    pub fn totp_code(&self, id: &str) -> CommandResult<(TotpCode, bool)> {
        let (code, changed) = self.field_value(id, &FieldRef::Totp)?;
        let item = self.get(id)?;
        let period = match item.otp().ok().flatten().map(|o| o.kind) {
            Some(tessera_core::totp::OtpKind::Totp { period }) => Some(period),
            _ => None,
        };
        let remaining = period.map(|p| {
            let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
            p - (now % u64::from(p)) as u32
        });
        Ok((TotpCode { code: code.to_string(), period, remaining }, changed))
    }

    /// The `index`th URL, if it is http(s): the web layer never passes a URL.
    pub fn url_to_open(&self, id: &str, index: usize) -> CommandResult<String> {
        let item = self.get(id)?;
        let url = item.urls.get(index).ok_or_else(|| CommandError::not_found("This item has no such URL"))?;
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) {
            return Err(CommandError::invalid("Only http and https addresses are opened"));
        }
        Ok(url.clone())
    }

    pub fn get_item_for_edit(&self, id: &str) -> CommandResult<EditableItem> {
        let item = self.get(id)?;
        if item.deleted.is_some() {
            return Err(CommandError::not_found("This item is in the trash; restore it to edit it"));
        }
        Ok(EditableItem {
            id: item.id.to_hex(),
            revision: item.revision,
            draft: ItemDraft::from_item(&item),
            attachments: attachments(&item),
        })
    }

    pub fn create_item(&self, draft: &ItemDraft) -> CommandResult<ItemDetails> {
        let mut item = Item::new(draft.item_type, draft.title.clone());
        draft.apply_to(&mut item)?;
        self.change(|vault| {
            let id = vault.add(vec![item])?[0];
            Ok(ItemDetails::from_item(&vault.get(id)?))
        })
    }

    pub fn update_item(&self, id: &str, base_revision: u64, draft: &ItemDraft) -> CommandResult<ItemDetails> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            let current = vault.get(item_id)?;
            may_change(vault, &item_id)?;
            if current.revision != base_revision {
                return Err(CommandError::new(
                    ErrorKind::Conflict,
                    "This item changed since you started editing (in another window or by sync); reopen it to see the change",
                ));
            }
            // The draft goes onto a copy first, so its own errors (a bad OTP,
            // a date out of range) come back as they are; `update` keeps id,
            // dates, attachments and trash state whatever the copy says.
            let mut edited = current.clone();
            draft.apply_to(&mut edited)?;
            let updated = vault.update(item_id, move |item| {
                *item = edited;
                Ok(())
            })?;
            Ok(ItemDetails::from_item(&updated))
        })
    }

    pub fn set_favourite(&self, id: &str, favourite: bool) -> CommandResult<()> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            may_change(vault, &item_id)?;
            vault.update(item_id, |item| {
                item.favourite = favourite;
                Ok(())
            })?;
            Ok(())
        })
    }

    pub fn trash_item(&self, id: &str) -> CommandResult<()> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            may_change(vault, &item_id)?;
            Ok(vault.trash(item_id)?)
        })
    }

    pub fn restore_item(&self, id: &str) -> CommandResult<()> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            may_change(vault, &item_id)?;
            Ok(vault.restore(item_id)?)
        })
    }

    pub fn purge_item(&self, id: &str) -> CommandResult<()> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            may_change(vault, &item_id)?;
            Ok(vault.purge(item_id)?)
        })
    }

    pub fn empty_trash(&self) -> CommandResult<usize> {
        self.change(|vault| Ok(vault.empty_trash()?))
    }

    pub fn item_history(&self, id: &str) -> CommandResult<Vec<HistoryEntry>> {
        let item_id = parse_id(id)?;
        self.with_open(|open| {
            let current = open.vault.get(item_id)?;
            let history = open.vault.history(item_id)?;
            let mut out = Vec::with_capacity(history.len());
            let mut newer = &current;
            for old in &history {
                out.push(HistoryEntry {
                    revision: old.revision,
                    saved_at: unix(old.updated),
                    title: old.title.clone(),
                    username: old.username.clone(),
                    changed: changed_parts(old, newer),
                });
                newer = old;
            }
            Ok(out)
        })
    }

    pub fn restore_version(&self, id: &str, revision: u64) -> CommandResult<ItemDetails> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            may_change(vault, &item_id)?;
            let old = vault
                .history(item_id)?
                .into_iter()
                .find(|v| v.revision == revision)
                .ok_or_else(|| CommandError::not_found(format!("This item has no revision {revision}")))?;
            // `update` keeps the current id, dates and attachments.
            let updated = vault.update(item_id, move |item| {
                *item = old;
                Ok(())
            })?;
            Ok(ItemDetails::from_item(&updated))
        })
    }

    pub fn add_attachment(&self, id: &str, file: &Path) -> CommandResult<AttachmentChange> {
        let item_id = parse_id(id)?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| CommandError::invalid("That is not a file"))?;
        let cannot = |e: std::io::Error| CommandError::io(format!("Cannot read {}: {e}", file.display()));
        let size = std::fs::metadata(file).map_err(cannot)?.len();
        if size > MAX_ATTACHMENT {
            return Err(attachment_too_large(&name, size));
        }
        let content = Zeroizing::new(std::fs::read(file).map_err(cannot)?);
        self.change(|vault| {
            may_change(vault, &item_id)?;
            vault.attach(item_id, &name, &content)?;
            let item = vault.get(item_id)?;
            Ok(AttachmentChange { attachments: attachments(&item), revision: item.revision })
        })
    }

    pub fn remove_attachment(&self, id: &str, name: &str) -> CommandResult<AttachmentChange> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            may_change(vault, &item_id)?;
            vault.detach(item_id, name)?;
            let item = vault.get(item_id)?;
            Ok(AttachmentChange { attachments: attachments(&item), revision: item.revision })
        })
    }

    pub fn attachment_content(&self, id: &str, name: &str) -> CommandResult<Zeroizing<Vec<u8>>> {
        let item_id = parse_id(id)?;
        self.with_open(|open| Ok(open.vault.attachment(item_id, name)?.1))
    }

    // --- tools --------------------------------------------------------------------

    pub fn generate(options: &GeneratorOptions) -> CommandResult<GeneratedPassword> {
        use tessera_core::generator::*;
        let (value, entropy_bits) = match options {
            GeneratorOptions::Password { length, lowercase, uppercase, digits, symbols, avoid_ambiguous } => {
                let policy = PasswordPolicy {
                    length: *length,
                    lowercase: *lowercase,
                    uppercase: *uppercase,
                    digits: *digits,
                    symbols: *symbols,
                    avoid_ambiguous: *avoid_ambiguous,
                };
                let value = generate_password(&policy).map_err(|e| CommandError::invalid(e.to_string()))?;
                (value, password_entropy_bits(&policy))
            }
            GeneratorOptions::Passphrase { words, separator, capitalize } => {
                let policy = PassphrasePolicy { words: *words, separator: separator.clone(), capitalize: *capitalize };
                let value = generate_passphrase(&policy).map_err(|e| CommandError::invalid(e.to_string()))?;
                (value, passphrase_entropy_bits(&policy))
            }
        };
        Ok(GeneratedPassword { value: value.to_string(), entropy_bits: (entropy_bits * 10.0).round() / 10.0 })
    }

    /// Scores outside the state lock: zxcvbn takes seconds on a large
    /// vault, and Quick Access must keep answering meanwhile.
    pub fn health_report(&self, progress: &mut dyn FnMut(usize, usize)) -> CommandResult<serde_json::Value> {
        let items = self.with_open(|open| {
            let mut items: Vec<Item> = Vec::new();
            open.vault.each_item(Scope::Live, |item| items.push(item.clone()))?;
            Ok(items)
        })?;
        let entries: Vec<HealthEntry<'_, String>> = items.iter().map(HealthEntry::of).collect();
        {
            let report = health::report(&entries, tessera_core::item::now(), &HealthPolicy::default(), progress);
            Ok(serde_json::json!({
                "weak": report.weak.iter().map(|w| serde_json::json!({
                    "id": w.id, "title": w.title, "score": w.score, "warning": w.warning,
                })).collect::<Vec<_>>(),
                "reused": report.reused.iter().map(|r| serde_json::json!({
                    "items": r.items.iter().map(|(id, title)| serde_json::json!({"id": id, "title": title})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "old": report.old.iter().map(|o| serde_json::json!({
                    "id": o.id, "title": o.title, "changedAt": unix(o.changed), "ageDays": o.age_days,
                })).collect::<Vec<_>>(),
                "expiring": report.expiring.iter().map(|x| serde_json::json!({
                    "id": x.id, "title": x.title, "expiresAt": unix(x.expires), "expired": x.expired,
                })).collect::<Vec<_>>(),
            }))
        }
    }

    pub fn audit_log(&self, before_seq: Option<u64>, limit: usize) -> CommandResult<AuditPage> {
        self.with_open(|open| {
            let log = open.vault.audit_log()?;
            let total = log.len();
            let entries = log
                .iter()
                .rev()
                .filter(|e| before_seq.is_none_or(|b| e.seq < b))
                .take(limit.min(1000))
                .map(|e| {
                    let value = serde_json::to_value(&e.event).unwrap_or_default();
                    AuditEntryDto {
                        seq: e.seq,
                        at: unix(e.at),
                        event: value.get("event").and_then(|v| v.as_str()).unwrap_or("unknown").to_owned(),
                        description: e.event.describe(),
                        item_id: value.get("item").and_then(|v| v.as_str()).map(str::to_owned),
                    }
                })
                .collect();
            Ok(AuditPage { entries, total })
        })
    }

    // --- factors ------------------------------------------------------------------

    pub fn list_slots(&self) -> CommandResult<Vec<SlotInfoDto>> {
        self.with_open(|open| {
            let used = open.vault.slot_last_used()?;
            Ok(open
                .vault
                .slots()?
                .iter()
                .map(|s| SlotInfoDto {
                    id: s.id.0,
                    kind: s.kind.clone(),
                    label: s.label.clone(),
                    description: tessera_unlock::describe_slot(s).unwrap_or_else(|e| e.to_string()),
                    created_at: unix(s.created),
                    last_used_at: used.get(&s.id).map(|t| unix(*t)),
                    warning: None,
                })
                .collect())
        })
    }

    pub fn add_slot(&self, request: &AddSlotRequest) -> CommandResult<SlotInfoDto> {
        let tcti = std::env::var("TESSERA_TPM_TCTI").ok();
        let pin = request.pin.clone().unwrap_or_default();
        let keyring = KeyringFactor::new();
        let tpm;
        let yubikey;
        let factor: &dyn Factor = match request.factor {
            HardwareFactorKind::Keyring => &keyring,
            HardwareFactorKind::Tpm => {
                if pin.is_empty() {
                    return Err(CommandError::invalid("Choose a PIN for the TPM slot"));
                }
                tpm = TpmFactor::new(tcti.as_deref(), pin.as_bytes());
                &tpm
            }
            HardwareFactorKind::Yubikey => {
                if pin.is_empty() {
                    return Err(CommandError::invalid("Enter the YubiKey's PIV PIN"));
                }
                yubikey = YubiKeyFactor::new(None, pin.as_bytes(), request.touch);
                &yubikey
            }
        };
        let name = match request.factor {
            HardwareFactorKind::Keyring => "OS keyring",
            HardwareFactorKind::Tpm => "TPM",
            HardwareFactorKind::Yubikey => "YubiKey",
        };
        let password;
        let password_factor;
        let mut factors: Vec<&dyn Factor> = vec![factor];
        let default_label = if request.also_require_password {
            password = password_from(request.password.as_deref().unwrap_or_default())?;
            self.check_master_password(&password)?;
            password_factor = PasswordFactor::new(&password, KdfParams::calibrate(KDF_TARGET));
            factors.push(&password_factor);
            format!("{name} and master password")
        } else {
            name.to_owned()
        };
        let label = request.label.clone().filter(|l| !l.trim().is_empty()).unwrap_or(default_label);
        let (id, warning) = self.with_open(|open| {
            let id = tessera_unlock::add_slot(&mut open.vault, &label, &factors)?;
            // As the CLI's `slot add tpm`: the first TPM slot binds the
            // vault to a TPM counter against whole-file rollback (DESIGN §3).
            let warning = match request.factor {
                HardwareFactorKind::Tpm => {
                    let binding =
                        tessera_unlock::bind_rollback_counter(&mut open.vault, tcti.as_deref()).map_err(|e| {
                            let e = CommandError::from(e);
                            CommandError::new(
                                e.kind,
                                format!(
                                    "The TPM slot was added, but the vault could not be bound to its TPM counter \
                                     against rollback: {}",
                                    e.message
                                ),
                            )
                        })?;
                    binding.warning()
                }
                _ => None,
            };
            Ok((id, warning))
        })?;
        let slot = self
            .list_slots()?
            .into_iter()
            .find(|s| s.id == id.0)
            .ok_or_else(|| CommandError::internal("The new slot is missing from the slot list"))?;
        Ok(SlotInfoDto { warning, ..slot })
    }

    /// Removes a slot; the vault's last TPM slot takes the TPM counter
    /// binding with it, as in the CLI (unbinding needs no TPM). Returns
    /// warnings for people (the keyring entry or the counter could not be
    /// deleted).
    pub fn remove_slot(&self, slot: u32) -> CommandResult<Option<String>> {
        let tcti = std::env::var("TESSERA_TPM_TCTI").ok();
        self.with_open(|open| {
            if open.vault.slots()?.len() <= 1 {
                return Err(CommandError::invalid("This is the vault's last unlock slot; add another first"));
            }
            let unbound = tessera_unlock::unbind_rollback_counter(&mut open.vault, SlotId(slot), tcti.as_deref())?;
            let warning = tessera_unlock::remove_slot(&mut open.vault, SlotId(slot))?;
            if unbound.is_some() {
                // Nothing is bound any more: nothing to be unreachable.
                open.tpm_unreachable = None;
            }
            let warnings: Vec<String> = warning.into_iter().chain(unbound.and_then(|u| u.warning)).collect();
            Ok((!warnings.is_empty()).then(|| warnings.join("; ")))
        })
    }

    /// Checks the master password against the open vault's file (its
    /// own key derivation, without the state lock).
    pub(crate) fn check_master_password(&self, password: &Password) -> CommandResult<()> {
        let path = self.with_open(|open| Ok(open.vault.path().to_path_buf()))?;
        let locked = LockedVault::open(&path, &self.options)?;
        tessera_unlock::unlock(locked, &tessera_unlock::Credential::Password(password))?.lock();
        Ok(())
    }

    pub fn change_master_password(&self, current: &str, new: &str) -> CommandResult<()> {
        let current = password_from(current)?;
        let new = password_from(new)?;
        self.check_master_password(&current)?;
        self.with_open(|open| Ok(tessera_unlock::change_password(&mut open.vault, &new, None)?))
    }

    // --- import / export ----------------------------------------------------------

    pub fn import_items(
        &self,
        path: &Path,
        format: Option<&str>,
        password: Option<&str>,
        folder: Option<&str>,
    ) -> CommandResult<usize> {
        use tessera_interop::{Format, ImportError, SourceKey};
        let cannot = |e: std::io::Error| CommandError::io(format!("Cannot read {}: {e}", path.display()));
        let size = std::fs::metadata(path).map_err(cannot)?.len();
        if size > tessera_interop::MAX_SOURCE_SIZE {
            return Err(CommandError::invalid("The file is larger than 1 GiB; refusing to import it"));
        }
        let bytes = Zeroizing::new(std::fs::read(path).map_err(cannot)?);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let format = match format {
            Some(f) => f.parse::<Format>().map_err(|e| CommandError::invalid(e.to_string()))?,
            None => Format::detect(&name, &bytes).ok_or(ImportError::UnknownFormat)?,
        };
        let key = SourceKey { password: password.map(|p| Zeroizing::new(p.to_owned())), key_file: None };
        let mut imported =
            match format {
                Format::TesseraBackup => {
                    let password = password_from(password.unwrap_or_default())?;
                    let locked = LockedVault::open(path, &self.options)?;
                    let backup = tessera_unlock::unlock(locked, &tessera_unlock::Credential::Password(&password))
                        .map_err(|e| match e {
                            UnlockError::WrongPassword => {
                                CommandError::new(ErrorKind::WrongPassword, "The backup's password is wrong")
                            }
                            other => other.into(),
                        })?;
                    tessera_interop::backup::read(&backup)?
                }
                _ => tessera_interop::parse(format, &bytes, &key)?,
            };
        if let Some(folder) = folder.filter(|f| !f.trim().is_empty()) {
            imported.move_under(folder);
        }
        let items = std::mem::take(&mut imported.items);
        self.change(|vault| Ok(vault.import(items, format.name(), |_| {})?.len()))
    }

    pub fn export_vault(&self, format: &str, password: Option<&str>, out: &Path) -> CommandResult<()> {
        use tessera_interop::{Format, SourceKey};
        let format: Format =
            format.parse().map_err(|e: tessera_interop::UnknownFormat| CommandError::invalid(e.to_string()))?;
        if out.symlink_metadata().is_ok() {
            return Err(CommandError::invalid(format!("{} already exists; not overwriting it", out.display())));
        }
        let needs = |p: Option<&str>| -> CommandResult<Zeroizing<String>> {
            p.filter(|p| !p.is_empty())
                .map(|p| Zeroizing::new(p.to_owned()))
                .ok_or_else(|| CommandError::invalid("This export needs a password"))
        };
        match format {
            Format::Keepass => {
                let key = SourceKey { password: Some(needs(password)?), key_file: None };
                let bytes = self.with_open(|open| Ok(tessera_interop::keepass::export(&open.vault, &key)?))?;
                write_new_file(out, &bytes)
            }
            Format::BitwardenJson => {
                let bytes = self.with_open(|open| Ok(tessera_interop::bitwarden::export_json(&open.vault)?))?;
                write_new_file(out, &bytes)
            }
            Format::TesseraBackup => {
                let password = password_from(&needs(password)?)?;
                let slot = tessera_unlock::new_slot(
                    "Backup password",
                    &[&PasswordFactor::new(&password, KdfParams::calibrate(KDF_TARGET))],
                )?;
                let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let temp = dir.join(format!(".{name}.{}.tessera-partial", std::process::id()));
                let result = self.with_open(|open| {
                    let mut backup = Vault::create(&temp, vec![slot], &self.options)?;
                    tessera_interop::backup::write(&open.vault, &mut backup, |_| {})?;
                    backup.lock();
                    std::fs::hard_link(&temp, out)
                        .map_err(|e| CommandError::io(format!("Cannot write {}: {e}", out.display())))
                });
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", temp.display()));
                }
                result
            }
            other => Err(tessera_interop::ExportError::ImportOnly(other).into()),
        }
    }

    // --- sessions for the sync server ----------------------------------------------

    /// A second session on the unlocked vault, with its TPM counter, and
    /// the list's generation now: for work that waits on the network
    /// (`crate::sync`), so no window command ever waits for a server.
    /// Public for the benchmarks, which time the window during a sync.
    pub fn network_session(&self) -> CommandResult<(Vault, u64)> {
        self.with_open(|open| {
            let mut vault = open.vault.reopen(&self.options)?;
            let tcti = std::env::var("TESSERA_TPM_TCTI").ok();
            tessera_unlock::install_tpm_counter(&mut vault, tcti.as_deref())?;
            Ok((vault, open.generation))
        })
    }

    /// After a background session changed items: the list becomes `index`
    /// (built there, off the lock) when nothing changed here since
    /// generation `since`, else it is rebuilt from the vault.
    pub fn items_changed_elsewhere(&self, index: Option<SearchIndex>, since: u64) -> CommandResult<()> {
        self.with_open(|open| match index {
            Some(index) if open.generation == since => {
                open.install(index);
                Ok(())
            }
            _ => open.refresh(),
        })
    }

    /// Makes the vault at `path` from a sync account's, then opens and
    /// unlocks it here (what "Sign in on this computer" does).
    pub(crate) fn join_account(
        &self,
        path: &str,
        join: &dyn Fn(&Path, &Password, KdfParams, &OpenOptions) -> CommandResult<RecoveryCode>,
        password: &str,
    ) -> CommandResult<CreatedVault> {
        let path = PathBuf::from(path.trim());
        if path.as_os_str().is_empty() {
            return Err(CommandError::invalid("Choose where to keep the new vault"));
        }
        if path.symlink_metadata().is_ok() {
            return Err(CommandError::invalid(format!(
                "{} already exists; Tessera never overwrites a vault",
                path.display()
            )));
        }
        if self.is_unlocked() {
            return Err(CommandError::invalid("Lock the open vault before signing in to another account"));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| CommandError::io(format!("Cannot create the folder {}: {e}", dir.display())))?;
        }
        let password_key = password_from(password)?;
        let code = join(&path, &password_key, KdfParams::calibrate(KDF_TARGET), &self.options)?;
        self.open_vault(&path.display().to_string())?;
        self.unlock(&Credential::Password { password: password.to_owned() })?;
        Ok(CreatedVault { recovery_code: code.to_display().to_string() })
    }

    // --- tray -------------------------------------------------------------------------

    /// Favourites for the tray menu: (id, title, has username, has password, has TOTP).
    pub fn favourites(&self, max: usize) -> Vec<(ItemId, String, bool, bool, bool)> {
        self.with_open(|open| {
            Ok(open
                .index
                .all()
                .iter()
                .filter(|s| s.favourite)
                .take(max)
                .map(|s| (s.id, s.title.clone(), !s.username.is_empty(), s.has_password, s.has_otp))
                .collect())
        })
        .unwrap_or_default()
    }

    /// Runs `f` for the agents (SSH, MCP) on the unlocked vault, its live
    /// items' summaries and their generation (which changes with every
    /// change to the list); `None` when locked. `f` must not change items.
    pub fn with_unlocked<R>(&self, f: impl FnOnce(&mut Vault, &[ItemSummary], u64) -> R) -> Option<R> {
        self.with_open(|open| Ok(f(&mut open.vault, open.index.all(), open.generation))).ok()
    }

    /// Runs `f` for the browser integration on the unlocked vault and its
    /// list; `None` when locked. When `f` changed items, the list is
    /// rebuilt and their ids are returned, for `vault-changed`.
    pub fn with_browser_view(
        &self,
        f: &mut dyn FnMut(&mut tessera_browser::service::VaultView<'_>),
    ) -> Option<Vec<ItemId>> {
        self.with_open(|open| {
            let changed = {
                let mut view = tessera_browser::service::VaultView {
                    vault: &mut open.vault,
                    summaries: open.index.all(),
                    generation: open.generation,
                    changed: Vec::new(),
                };
                f(&mut view);
                view.changed
            };
            if !changed.is_empty() {
                open.refresh()?;
            }
            Ok(changed)
        })
        .ok()
    }

    /// For tests and benchmarks: the live item types, to check the list.
    #[cfg(test)]
    pub fn live_types(&self) -> Vec<tessera_core::ItemType> {
        self.with_open(|open| Ok(open.index.all().iter().map(|s| s.item_type).collect())).unwrap_or_default()
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

/// Unlocks with a hardware factor, adding the master password when the
/// vault only has a composite slot for that factor.
fn with_factor(locked: LockedVault, factor: &dyn Factor, password: Option<&str>) -> CommandResult<Vault> {
    let kind = factor.kind();
    let kinds = slot_kinds(&locked);
    let alone = kinds.iter().any(|k| k == kind);
    let composite =
        kinds.iter().any(|k| k.split('+').any(|f| f == kind) && k.split('+').any(|f| f == PasswordFactor::KIND));
    if !alone && composite {
        let password =
            password_from(password.ok_or_else(|| CommandError::invalid("This slot also needs the master password"))?)?;
        let factors: [&dyn Factor; 2] = [factor, &PasswordFactor::unlocking(&password)];
        return Ok(tessera_unlock::unlock_with_factors(locked, &factors, UnlockError::WrongPassword)?);
    }
    let wrong = UnlockError::FactorUnavailable { kind, reason: format!("the {kind} secret does not open this vault") };
    Ok(tessera_unlock::unlock_with_factors(locked, &[factor], wrong)?)
}

/// Writes `content` to a new file (mode 0600), never replacing one.
pub fn write_new_file(path: &Path, content: &[u8]) -> CommandResult<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tessera-partial", std::process::id()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut f = options.open(&temp)?;
        f.write_all(content)?;
        f.sync_all()?;
        std::fs::hard_link(&temp, path)
    })();
    let _ = std::fs::remove_file(&temp);
    result.map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            CommandError::invalid(format!("{} already exists; not overwriting it", path.display()))
        }
        _ => CommandError::io(format!("Cannot write {}: {e}", path.display())),
    })
}
