//! Opening, unlocking and changing a vault.
//!
//! [`LockedVault`] is a vault file whose header checksum has been verified
//! and whose slots can be listed. [`LockedVault::unlock`] opens one slot with
//! a key-encryption key and yields a [`Vault`], which holds the Vault Key and
//! its subkeys until it is dropped (all zeroized on drop).
//!
//! Every change runs in one SQLite write transaction that first re-reads and
//! re-authenticates the header (another process may have written since),
//! then applies the change, appends to the audit log, updates the manifest
//! and re-seals the header. A crash at any instant leaves the old vault or
//! the new one.

mod import;
mod items;
mod records;
mod rollback;
mod rotate;
mod sync;
mod transaction;
mod verify;

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::audit::{self, AuditEvent};
use crate::error::{CreateError, IntegrityError, OpenError, UnlockError, VaultError};
use crate::format::{Aad, FORMAT_VERSION};
use crate::header::Header;
use crate::ids::{ItemId, KeyVersion, SlotId, VaultId};
use crate::item::now;
use crate::keys::{DataKey, KeyEncryptionKey, Subkeys, VaultKey};
use crate::primitives::hash::sha256;
use crate::sealed::KeyRing;
use crate::store::{self, DataKeyRow, MetaRow, SlotRow, Store, StoreError};
use transaction::refresh_keys;

pub use import::{NewAttachment, NewItem, NewVersion};
pub use records::{MAX_RECORD_SIZE, RecordName};
pub use sync::{NotAuthentic, RemoteChange, SyncKeys, SyncStateParts, SyncStateUpdate};

/// Rows decrypted per parallel batch when reading every item: large enough
/// to keep both cores busy, small enough that a 100,000-item vault never
/// holds all its ciphertexts in memory at once.
const DECRYPT_BATCH: usize = 2048;
/// Items re-encrypted per transaction by [`Vault::rotate`].
const ROTATE_BATCH: usize = 256;

/// How to open a vault file.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// How long a writer waits for another process's write lock before
    /// giving up with [`StoreError::Busy`].
    pub lock_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions { lock_timeout: Duration::from_secs(10) }
    }
}

/// A key slot as listed (no secret in it: the wrapped key stays inside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotInfo {
    /// Slot number.
    pub id: SlotId,
    /// Factor kind, e.g. `password`, `recovery` (owned by `tessera-unlock`).
    pub kind: String,
    /// User-visible label.
    pub label: String,
    /// The factor's public parameters (salt, KDF settings…), opaque here.
    pub params: Vec<u8>,
    /// When the slot was made.
    pub created: OffsetDateTime,
}

/// A slot to create: the factor's parameters and the key-encryption key it
/// derived, which will wrap the Vault Key.
pub struct NewSlot {
    /// Factor kind.
    pub kind: String,
    /// User-visible label.
    pub label: String,
    /// The factor's public parameters.
    pub params: Vec<u8>,
    /// The key that wraps the Vault Key in this slot.
    pub kek: KeyEncryptionKey,
}

/// Which items an operation looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Items not in the trash.
    Live,
    /// Items in the trash.
    Trash,
    /// Both.
    Any,
}

impl Scope {
    fn admits(self, item_deleted: bool) -> bool {
        match self {
            Scope::Live => !item_deleted,
            Scope::Trash => item_deleted,
            Scope::Any => true,
        }
    }
}

/// What [`Vault::rotate`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotateReport {
    /// The new data key version.
    pub version: KeyVersion,
    /// Items whose rows (current, history or attachments) were re-encrypted.
    pub reencrypted: u64,
    /// Older versions deleted because nothing used them any more.
    pub retired: Vec<KeyVersion>,
}

/// What [`Vault::verify`] checked and found.
#[derive(Clone, Debug, Default)]
pub struct VerifyReport {
    /// Key slots covered by the authenticated header.
    pub slots: usize,
    /// Data key versions that opened.
    pub key_versions: Vec<u32>,
    /// Items checked (live and trashed).
    pub items: u64,
    /// History versions checked.
    pub history: u64,
    /// Attachments checked.
    pub attachments: u64,
    /// Audit-log entries checked.
    pub audit_entries: u64,
    /// Everything that failed; empty when the vault is intact.
    pub problems: Vec<IntegrityError>,
}

/// A vault file, opened and checked, not yet unlocked.
pub struct LockedVault {
    store: Store,
    path: PathBuf,
    header: Header,
    vault_id: VaultId,
}

impl LockedVault {
    /// Opens the vault at `path` and checks its header checksum. Reads only:
    /// a failed unlock leaves the file byte-for-byte as it was.
    pub fn open(path: impl AsRef<Path>, options: &OpenOptions) -> Result<LockedVault, OpenError> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            return Err(OpenError::NotFound(path));
        }
        let store = Store::open(&path, options.lock_timeout)?;
        let header = {
            let tx = store.read()?;
            Header::read(&tx)?
        };
        if header.meta.format_version > i64::from(FORMAT_VERSION) && header.checksum_matches() {
            return Err(OpenError::TooNew { found: header.meta.format_version, supported: FORMAT_VERSION });
        }
        if !header.checksum_matches() {
            return Err(IntegrityError::HeaderChecksum.into());
        }
        if header.meta.format_version != i64::from(FORMAT_VERSION) {
            return Err(IntegrityError::HeaderMalformed("unknown format version").into());
        }
        let vault_id = VaultId::from_slice(&header.meta.vault_id)
            .map_err(|_| IntegrityError::HeaderMalformed("vault id is not 16 bytes"))?;
        Ok(LockedVault { store, path, header, vault_id })
    }

    /// The file this vault lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The vault's id.
    pub fn vault_id(&self) -> VaultId {
        self.vault_id
    }

    /// The key slots, in slot order.
    pub fn slots(&self) -> Vec<SlotInfo> {
        slot_infos(&self.header.slots)
    }

    /// Opens slot `slot` with `kek`. A wrong key is [`UnlockError::WrongKey`];
    /// a header that fails its MAC afterwards is an integrity error.
    pub fn unlock(self, slot: SlotId, kek: &KeyEncryptionKey) -> Result<Vault, UnlockError> {
        let vault_key = self.open_slot(slot, kek)?;
        self.unlock_with(vault_key)
    }

    /// Unwraps the Vault Key from slot `slot` without giving up the locked
    /// vault, so a caller can try several slots of the same kind.
    pub fn open_slot(&self, slot: SlotId, kek: &KeyEncryptionKey) -> Result<VaultKey, UnlockError> {
        let row = self.header.slots.iter().find(|s| s.id == i64::from(slot.0)).ok_or(UnlockError::NoSuchSlot(slot))?;
        let aad = slot_aad(&self.vault_id, slot, &row.kind, &row.params);
        let vk = kek.cipher().open(&aad, &row.wrapped_vault_key).map_err(|_| UnlockError::WrongKey)?;
        let vk: [u8; 32] = vk.as_slice().try_into().map_err(|_| UnlockError::WrongKey)?;
        Ok(VaultKey::from_bytes(Zeroizing::new(vk)))
    }

    /// Finishes unlocking with a Vault Key from [`LockedVault::open_slot`]:
    /// authenticates the header and unwraps the data keys.
    pub fn unlock_with(self, vault_key: VaultKey) -> Result<Vault, UnlockError> {
        Vault::from_parts(self.store, self.path, self.vault_id, vault_key, &self.header)
    }
}

/// An unlocked vault. Dropping it zeroizes the Vault Key, its subkeys and
/// every data key.
pub struct Vault {
    store: Store,
    path: PathBuf,
    vault_id: VaultId,
    vault_key: VaultKey,
    subkeys: Subkeys,
    /// Grows when another process adds a data key version (rotation).
    keys: RefCell<KeyRing>,
    /// Whether this session already checked the item manifest.
    manifest_checked: Cell<bool>,
    /// The slot that opened this session, recorded as used when it ends.
    opened_by: Option<SlotId>,
    /// Set by any integrity failure: then the session ends without writing.
    integrity_failed: Cell<bool>,
    /// The counter the vault is bound to against whole-file rollback, if
    /// the caller installed it (see [`Vault::set_rollback_counter`]).
    rollback_counter: Option<Box<dyn crate::rollback::RollbackCounter>>,
}

impl Vault {
    /// Creates a new vault at `path` with the given slots. Never overwrites:
    /// the vault is built in a temporary file beside `path` and linked into
    /// place only if nothing is there, so a crash leaves no half-made vault.
    pub fn create(path: impl AsRef<Path>, slots: Vec<NewSlot>, options: &OpenOptions) -> Result<Vault, CreateError> {
        Vault::create_inner(path.as_ref(), None, slots, options)
    }

    fn create_inner(
        path: &Path,
        vault_key: Option<VaultKey>,
        slots: Vec<NewSlot>,
        options: &OpenOptions,
    ) -> Result<Vault, CreateError> {
        let path = path.to_path_buf();
        if slots.is_empty() {
            return Err(CreateError::NoSlots);
        }
        if path.symlink_metadata().is_ok() {
            return Err(CreateError::AlreadyExists(path));
        }
        let io = |source| CreateError::Io { path: path.clone(), source };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        create_private_dir(&dir).map_err(io)?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        remove_abandoned_temporaries(&dir, &file_name);
        let temp = dir.join(format!(".{file_name}.{}.{}.creating", std::process::id(), ItemId::random()));

        let result = (|| -> Result<(VaultId, VaultKey), CreateError> {
            let vault_id = VaultId::random();
            let vault_key = vault_key.unwrap_or_else(VaultKey::generate);
            {
                let mut store = Store::create(&temp)?;
                set_private(&temp).map_err(io)?;
                let tx = store.write()?;
                initialise(&tx, &vault_id, &vault_key, slots)?;
                tx.commit().map_err(StoreError::from)?;
            } // closing the last connection checkpoints the WAL into the file
            // link(2) fails if `path` exists: the no-clobber step is atomic.
            std::fs::hard_link(&temp, &path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    CreateError::AlreadyExists(path.clone())
                } else {
                    io(e)
                }
            })?;
            sync_dir(&dir).map_err(io)?;
            Ok((vault_id, vault_key))
        })();
        let _ = std::fs::remove_file(&temp);
        let (vault_id, vault_key) = result?;
        let _ = sync_dir(&dir);

        let store = Store::open(&path, options.lock_timeout)?;
        let header = {
            let tx = store.read()?;
            Header::read(&tx)?
        };
        Vault::from_parts(store, path.clone(), vault_id, vault_key, &header).map_err(|e| match e {
            UnlockError::Store(s) => CreateError::Store(s),
            other => CreateError::Store(StoreError::Sqlite(other.to_string())),
        })
    }

    fn from_parts(
        store: Store,
        path: PathBuf,
        vault_id: VaultId,
        vault_key: VaultKey,
        header: &Header,
    ) -> Result<Vault, UnlockError> {
        let subkeys = vault_key.subkeys(&vault_id);
        if !header.mac_matches(&subkeys.header) {
            return Err(IntegrityError::HeaderMac.into());
        }
        let state = header.state().map_err(|e| IntegrityError::HeaderMalformed(e.0))?;
        let mut keys = KeyRing::default();
        refresh_keys(&mut keys, header, &vault_id, &subkeys)?;
        if keys.get(KeyVersion(state.current_key_version)).is_none() {
            return Err(IntegrityError::DataKey { version: state.current_key_version }.into());
        }
        Ok(Vault {
            store,
            path,
            vault_id,
            vault_key,
            subkeys,
            keys: RefCell::new(keys),
            manifest_checked: Cell::new(false),
            opened_by: None,
            integrity_failed: Cell::new(false),
            rollback_counter: None,
        })
    }

    /// The file this vault lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The vault's id.
    pub fn vault_id(&self) -> VaultId {
        self.vault_id
    }

    /// A second session on this vault's file, with the same keys: for work
    /// on another thread (the desktop app's background sync) while this
    /// session serves the window. SQLite serialises the two sessions'
    /// writes as it does two processes'; a change one session reads and
    /// another rewrites meanwhile is caught where it matters
    /// ([`Vault::apply_remote`]). The new session starts with no rollback
    /// counter: a caller whose vault is bound installs it again
    /// ([`Vault::set_rollback_counter`]), or the session cannot write.
    /// The file must still be this vault: another one moved to its path is
    /// an integrity error.
    pub fn reopen(&self, options: &OpenOptions) -> Result<Vault, OpenError> {
        let locked = LockedVault::open(&self.path, options)?;
        if locked.vault_id != self.vault_id {
            return Err(IntegrityError::HeaderMalformed("another vault replaced this one's file").into());
        }
        let key = VaultKey::from_bytes(Zeroizing::new(*self.vault_key.expose()));
        locked.unlock_with(key).map_err(|e| match e {
            UnlockError::Integrity(i) => OpenError::Integrity(i),
            UnlockError::Store(s) => OpenError::Store(s),
            // The key is this session's own: a header it does not open was
            // changed behind its back.
            UnlockError::WrongKey | UnlockError::NoSuchSlot(_) => OpenError::Integrity(IntegrityError::HeaderMac),
        })
    }

    /// Locks the vault: drops (and so zeroizes) every key.
    pub fn lock(self) {}

    // --- slots -------------------------------------------------------------

    /// The key slots, in slot order.
    pub fn slots(&self) -> Result<Vec<SlotInfo>, VaultError> {
        self.read(false, |r| Ok(slot_infos(&r.header.slots)))
    }

    /// Notes that slot `slot` opened this session. When the session ends
    /// (the vault is dropped or locked) without having met an integrity
    /// failure, the slot's last use is recorded for
    /// [`Vault::slot_last_used`]. Recording waits for the end so a session
    /// that found the file tampered with leaves it byte for byte as it was.
    pub fn mark_opened_by(&mut self, slot: SlotId) {
        self.opened_by = Some(slot);
    }

    /// When each slot last opened the vault (slots never used since this
    /// was recorded are absent). Advisory: not covered by the header MAC.
    pub fn slot_last_used(&self) -> Result<std::collections::HashMap<SlotId, OffsetDateTime>, VaultError> {
        let tx = self.store.read()?;
        let rows = store::slot_usage(&tx)?;
        Ok(rows
            .into_iter()
            .filter_map(|(slot, at)| {
                Some((SlotId(u32::try_from(slot).ok()?), OffsetDateTime::from_unix_timestamp(at).ok()?))
            })
            .collect())
    }

    /// Adds a slot that wraps this vault's Vault Key under `slot.kek`.
    pub fn add_slot(&mut self, slot: NewSlot) -> Result<SlotId, VaultError> {
        let vk = Zeroizing::new(*self.vault_key.expose());
        self.write(false, |w| {
            let next = w.header.slots.iter().map(|s| s.id).max().unwrap_or(0) + 1;
            let id =
                SlotId(u32::try_from(next).map_err(|_| IntegrityError::HeaderMalformed("slot number out of range"))?);
            let row = wrap_slot(&w.vault_id, id, slot, &vk, w.now);
            store::insert_slot(w.tx, &row)?;
            w.audit(AuditEvent::SlotAdded { slot: id.0, kind: row.kind.clone() })?;
            w.header.slots.push(row);
            Ok(id)
        })
    }

    /// Replaces slot `id`'s parameters and key-encryption key (for the
    /// password slot: a master-password change). One AES-GCM wrap, whatever
    /// the vault's size; no item is touched.
    pub fn rekey_slot(&mut self, id: SlotId, params: Vec<u8>, kek: &KeyEncryptionKey) -> Result<(), VaultError> {
        let vk = Zeroizing::new(*self.vault_key.expose());
        self.write(false, |w| {
            let pos = slot_position(&w.header.slots, id)?;
            let old = &w.header.slots[pos];
            let aad = slot_aad(&w.vault_id, id, &old.kind, &params);
            let row = SlotRow {
                id: old.id,
                kind: old.kind.clone(),
                label: old.label.clone(),
                wrapped_vault_key: kek.cipher().seal(&aad, vk.as_ref()),
                params,
                created_at: w.now.unix_timestamp(),
            };
            store::replace_slot(w.tx, &row)?;
            w.audit(AuditEvent::SlotRekeyed { slot: id.0, kind: row.kind.clone() })?;
            w.header.slots[pos] = row;
            Ok(())
        })
    }

    /// Removes slot `id`. The last slot is never removed: the vault could
    /// not be opened again.
    pub fn remove_slot(&mut self, id: SlotId) -> Result<(), VaultError> {
        self.write(false, |w| {
            let pos = slot_position(&w.header.slots, id)?;
            if w.header.slots.len() == 1 {
                return Err(VaultError::Slot("refusing to remove the vault's last key slot".into()));
            }
            let row = w.header.slots.remove(pos);
            store::delete_slot(w.tx, row.id)?;
            store::forget_slot_use(w.tx, row.id)?;
            w.audit(AuditEvent::SlotRemoved { slot: id.0, kind: row.kind })?;
            Ok(())
        })
    }
}

impl Drop for Vault {
    /// Records the opening slot's use: advisory and best effort, skipped
    /// when another process holds the write lock so it never makes anyone
    /// wait, and skipped after an integrity failure.
    fn drop(&mut self) {
        if let Some(slot) = self.opened_by {
            if !self.integrity_failed.get() {
                let at = now().unix_timestamp();
                let _ = self.store.write_if_free(|tx| store::record_slot_use(tx, i64::from(slot.0), at));
            }
        }
    }
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("path", &self.path).field("vault_id", &self.vault_id).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LockedVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockedVault")
            .field("path", &self.path)
            .field("vault_id", &self.vault_id)
            .finish_non_exhaustive()
    }
}

fn slot_aad(vault: &VaultId, slot: SlotId, kind: &str, params: &[u8]) -> Vec<u8> {
    Aad::Slot { vault, slot, kind, params_digest: sha256(&[params]) }.to_bytes()
}

fn wrap_slot(vault: &VaultId, id: SlotId, slot: NewSlot, vk: &[u8; 32], now: OffsetDateTime) -> SlotRow {
    let aad = slot_aad(vault, id, &slot.kind, &slot.params);
    SlotRow {
        id: i64::from(id.0),
        wrapped_vault_key: slot.kek.cipher().seal(&aad, vk),
        kind: slot.kind,
        label: slot.label,
        params: slot.params,
        created_at: now.unix_timestamp(),
    }
}

fn wrap_data_key(
    vault: &VaultId,
    subkeys: &Subkeys,
    version: KeyVersion,
    key: &[u8; 32],
    now: OffsetDateTime,
) -> DataKeyRow {
    let aad = Aad::DataKey { vault, version }.to_bytes();
    DataKeyRow {
        version: i64::from(version.0),
        wrapped_key: subkeys.data_key_wrap.seal(&aad, key),
        created_at: now.unix_timestamp(),
    }
}

fn slot_position(rows: &[SlotRow], id: SlotId) -> Result<usize, VaultError> {
    rows.iter()
        .position(|s| s.id == i64::from(id.0))
        .ok_or_else(|| VaultError::Slot(format!("the vault has no key slot {id}")))
}

fn slot_infos(rows: &[SlotRow]) -> Vec<SlotInfo> {
    rows.iter()
        .map(|r| SlotInfo {
            id: SlotId(r.id as u32),
            kind: r.kind.clone(),
            label: r.label.clone(),
            params: r.params.clone(),
            created: OffsetDateTime::from_unix_timestamp(r.created_at).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        })
        .collect()
}

/// Writes the first header, slots, data key and audit entry of a new vault.
fn initialise(
    tx: &Connection,
    vault_id: &VaultId,
    vault_key: &VaultKey,
    slots: Vec<NewSlot>,
) -> Result<(), CreateError> {
    let now = now();
    let subkeys = vault_key.subkeys(vault_id);
    let mut header = Header {
        meta: MetaRow {
            format_version: i64::from(FORMAT_VERSION),
            vault_id: vault_id.as_bytes().to_vec(),
            created_at: now.unix_timestamp(),
            current_key_version: 1,
            item_count: 0,
            manifest_sum: vec![0; 32],
            audit_seq: 0,
            audit_head: vec![0; 32],
            header_sha256: vec![],
            header_mac: vec![],
            rollback: None,
        },
        slots: Vec::new(),
        data_keys: Vec::new(),
    };
    let data_key = wrap_data_key(vault_id, &subkeys, KeyVersion(1), &DataKey::generate_bytes(), now);
    store::insert_data_key(tx, &data_key)?;
    header.data_keys.push(data_key);

    let mut events = vec![AuditEvent::VaultCreated];
    for (i, slot) in slots.into_iter().enumerate() {
        let row = wrap_slot(vault_id, SlotId(i as u32 + 1), slot, vault_key.expose(), now);
        store::insert_slot(tx, &row)?;
        events.push(AuditEvent::SlotAdded { slot: row.id as u32, kind: row.kind.clone() });
        header.slots.push(row);
    }
    let mut state = header.state().map_err(|e| StoreError::Sqlite(e.0.into()))?;
    for event in events {
        let seq = state.audit_seq + 1;
        let row = audit::seal_entry(&event, seq, now, &state.audit_head, vault_id, &subkeys);
        store::insert_audit(tx, &row)?;
        state.audit_seq = seq;
        state.audit_head.copy_from_slice(&row.hash);
    }
    header.set_state(&state);
    header.seal(&subkeys.header);
    store::insert_meta(tx, &header.meta)?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

fn set_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// fsync a directory, so a new directory entry survives a crash.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Removes what creations of `file_name` in `dir` left when they were
/// killed before removing their temporary file (`.NAME.PID.RANDOM.creating`
/// and SQLite's companions of it): those whose process is gone. Only where
/// `/proc` tells a live process from a dead one; elsewhere nothing is
/// removed. Files named any other way are never touched.
fn remove_abandoned_temporaries(dir: &Path, file_name: &str) {
    if !cfg!(target_os = "linux") || file_name.is_empty() {
        return;
    }
    let prefix = format!(".{file_name}.");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else { continue };
        let base = ["-wal", "-shm", "-journal"].iter().find_map(|s| rest.strip_suffix(s)).unwrap_or(rest);
        let Some((pid, random)) = base.strip_suffix(".creating").and_then(|m| m.split_once('.')) else { continue };
        let ours = random.len() == 32 && random.bytes().all(|b| b.is_ascii_hexdigit());
        let Ok(pid) = pid.parse::<u32>() else { continue };
        if ours && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn a_creation_removes_the_temporary_files_of_killed_ones_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let me = std::process::id();
        // Above any pid_max: no such process.
        let dead = 4_000_000_000u32;
        let random = ItemId::random();
        let names = [
            format!(".v.tessera.{dead}.{random}.creating"),
            format!(".v.tessera.{dead}.{random}.creating-wal"),
            format!(".v.tessera.{dead}.{random}.creating-journal"),
            format!(".v.tessera.{me}.{random}.creating"),
            format!(".v.tessera.{dead}.short.creating"),
            format!(".w.tessera.{dead}.{random}.creating"),
            format!(".v.tessera.{random}.creating"),
            "v.tessera.bak".to_owned(),
        ];
        for n in &names {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        let kek = KeyEncryptionKey::from_bytes(Zeroizing::new([5; 32]));
        let slot = NewSlot { kind: "test".into(), label: "Test".into(), params: vec![], kek };
        Vault::create(dir.path().join("v.tessera"), vec![slot], &OpenOptions::default()).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut expected: Vec<String> = names[3..].to_vec();
        expected.push("v.tessera".to_owned());
        expected.sort();
        assert_eq!(left, expected);
    }
}
