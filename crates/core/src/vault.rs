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

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rayon::prelude::*;
use rusqlite::Connection;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::audit::{self, AuditEntry, AuditEvent};
use crate::error::{CreateError, IntegrityError, ItemProblem, OpenError, UnlockError, VaultError};
use crate::format::{Aad, FORMAT_VERSION};
use crate::header::{Header, VaultState};
use crate::ids::{AttachmentId, ItemId, KeyVersion, SlotId, VaultId};
use crate::item::{AttachmentRef, HISTORY_LIMIT, InvalidItem, Item, ItemSummary, MAX_ATTACHMENT_SIZE, now};
use crate::keys::{DataKey, KeyEncryptionKey, Subkeys, VaultKey};
use crate::manifest::{ManifestSum, contribution};
use crate::primitives::aead::Cipher;
use crate::primitives::hash::sha256;
use crate::sealed::{self, KeyRing};
use crate::search::SearchIndex;
use crate::store::{self, DataKeyRow, ItemRow, MetaRow, SlotRow, Store, StoreError};
use crate::totp::Code;

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
}

impl Vault {
    /// Creates a new vault at `path` with the given slots. Never overwrites:
    /// the vault is built in a temporary file beside `path` and linked into
    /// place only if nothing is there, so a crash leaves no half-made vault.
    pub fn create(path: impl AsRef<Path>, slots: Vec<NewSlot>, options: &OpenOptions) -> Result<Vault, CreateError> {
        let path = path.as_ref().to_path_buf();
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
        let temp = dir.join(format!(".{file_name}.{}.creating", ItemId::random()));

        let result = (|| -> Result<(VaultId, VaultKey), CreateError> {
            let vault_id = VaultId::random();
            let vault_key = VaultKey::generate();
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

    /// Locks the vault: drops (and so zeroizes) every key.
    pub fn lock(self) {}

    // --- slots -------------------------------------------------------------

    /// The key slots, in slot order.
    pub fn slots(&self) -> Result<Vec<SlotInfo>, VaultError> {
        self.read(false, |r| Ok(slot_infos(&r.header.slots)))
    }

    /// Adds a slot that wraps this vault's Vault Key under `slot.kek`.
    pub fn add_slot(&mut self, slot: NewSlot) -> Result<SlotId, VaultError> {
        let vk = Zeroizing::new(*self.vault_key.expose());
        self.write(false, |w| {
            let next = w.header.slots.iter().map(|s| s.id).max().unwrap_or(0) + 1;
            let id = SlotId(u32::try_from(next).map_err(|_| VaultError::Slot("too many slots".into()))?);
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
            let pos = w
                .header
                .slots
                .iter()
                .position(|s| s.id == i64::from(id.0))
                .ok_or_else(|| VaultError::Slot(format!("the vault has no key slot {id}")))?;
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
            let pos = w
                .header
                .slots
                .iter()
                .position(|s| s.id == i64::from(id.0))
                .ok_or_else(|| VaultError::Slot(format!("the vault has no key slot {id}")))?;
            if w.header.slots.len() == 1 {
                return Err(VaultError::Slot("refusing to remove the vault's last key slot".into()));
            }
            let row = w.header.slots.remove(pos);
            store::delete_slot(w.tx, row.id)?;
            w.audit(AuditEvent::SlotRemoved { slot: id.0, kind: row.kind })?;
            Ok(())
        })
    }

    // --- reading items ----------------------------------------------------

    /// The item `id`, live or trashed.
    pub fn get(&self, id: ItemId) -> Result<Item, VaultError> {
        self.read(true, |r| r.load(&id))
    }

    /// Finds one item by id, unique id prefix (at least 4 hex digits) or
    /// exact title, among the items `scope` admits.
    pub fn resolve(&self, query: &str, scope: Scope) -> Result<ItemId, VaultError> {
        self.read(true, |r| {
            if let Ok(id) = query.parse::<ItemId>() {
                if let Some(row) = store::get_item(r.tx, id.as_bytes())? {
                    let item = r.open(&row)?;
                    if scope.admits(item.deleted.is_some()) {
                        return Ok(id);
                    }
                }
            }
            let mut ids: Vec<Vec<u8>> =
                store::item_ids_by_title_tag(r.tx, &sealed::title_tag(&r.subkeys.index, query))?;
            let prefix = query.to_ascii_lowercase();
            if prefix.len() >= 4 && prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
                for id in store::all_item_ids(r.tx)? {
                    if data_encoding::HEXLOWER.encode(&id).starts_with(&prefix) && !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
            let mut matches = Vec::new();
            for id in ids {
                let Some(row) = store::get_item(r.tx, &id)? else { continue };
                let item = r.open(&row)?;
                // A title match must be exact; the blind index could in
                // principle collide.
                let by_title = item.title == query;
                let by_prefix = item.id.to_hex().starts_with(&prefix) && prefix.len() >= 4;
                if (by_title || by_prefix) && scope.admits(item.deleted.is_some()) {
                    matches.push((item.id, item.title.clone()));
                }
            }
            match matches.len() {
                0 => Err(VaultError::NotFound(query.to_owned())),
                1 => Ok(matches[0].0),
                _ => {
                    matches.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
                    Err(VaultError::Ambiguous { query: query.to_owned(), candidates: matches })
                }
            }
        })
    }

    /// Summaries of the items `scope` admits, in storage order.
    pub fn summaries(&self, scope: Scope) -> Result<Vec<ItemSummary>, VaultError> {
        let mut out = Vec::new();
        self.each_item(scope, |item| out.push(item.summary()))?;
        Ok(out)
    }

    /// Builds the in-memory search index over live items.
    pub fn search_index(&self) -> Result<SearchIndex, VaultError> {
        Ok(SearchIndex::new(self.summaries(Scope::Live)?))
    }

    /// Calls `f` with every item `scope` admits, decrypting in parallel
    /// batches (for reports and exports that need whole items).
    pub fn each_item(&self, scope: Scope, mut f: impl FnMut(&Item)) -> Result<(), VaultError> {
        self.read(true, |r| {
            let mut failure = None;
            let opener = r.opener();
            store::item_rows_in_batches(r.tx, DECRYPT_BATCH, "", |rows| {
                let opened: Vec<Result<Item, IntegrityError>> = rows.par_iter().map(|row| opener.open(row)).collect();
                for item in opened {
                    match item {
                        Ok(item) if scope.admits(item.deleted.is_some()) => f(&item),
                        Ok(_) => {}
                        Err(e) => {
                            failure.get_or_insert(e);
                        }
                    }
                }
                Ok(())
            })?;
            failure.map_or(Ok(()), |e| Err(e.into()))
        })
    }

    /// Earlier versions of item `id`, newest first.
    pub fn history(&self, id: ItemId) -> Result<Vec<Item>, VaultError> {
        self.read(true, |r| {
            r.load(&id)?;
            let keys = r.keys;
            store::history_of(r.tx, id.as_bytes())?
                .iter()
                .map(|h| sealed::open_history(h, &r.vault_id, keys).map_err(VaultError::from))
                .collect()
        })
    }

    /// The content of item `id`'s attachment `name`.
    pub fn attachment(&self, id: ItemId, name: &str) -> Result<(AttachmentRef, Zeroizing<Vec<u8>>), VaultError> {
        self.read(true, |r| {
            let item = r.load(&id)?;
            let reference = item
                .attachment(name)
                .cloned()
                .ok_or_else(|| VaultError::NoSuchAttachment { item: id, name: name.to_owned() })?;
            let missing = || IntegrityError::Attachment { item: id.to_hex(), name: name.to_owned() };
            let row = store::get_attachment(r.tx, reference.id.as_bytes())?.ok_or_else(missing)?;
            if row.item_id != id.as_bytes() {
                return Err(missing().into());
            }
            let content = sealed::open_attachment(&row, &id, name, &reference.sha256, &r.vault_id, r.keys)?;
            Ok((reference, content))
        })
    }

    /// The audit log, oldest first, after checking its whole chain.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, VaultError> {
        self.read(false, |r| {
            let rows = store::audit_rows(r.tx)?;
            Ok(audit::open_chain(&rows, r.state.audit_seq, &r.state.audit_head, &r.vault_id, r.subkeys)?)
        })
    }

    // --- changing items ---------------------------------------------------

    /// Adds items in one transaction and returns their ids. Each gets
    /// revision 1; `created`/`updated` are kept as given (an import keeps
    /// its dates). Items must come without attachments: add those with
    /// [`Vault::attach`].
    pub fn add(&mut self, items: Vec<Item>) -> Result<Vec<ItemId>, VaultError> {
        self.write(true, |w| {
            let mut ids = Vec::with_capacity(items.len());
            let count = items.len();
            for mut item in items {
                if !item.attachments.is_empty() {
                    return Err(InvalidItem::AttachmentsOnCreate.into());
                }
                item.revision = 1;
                item.deleted = None;
                w.insert_item(&mut item)?;
                if count == 1 {
                    w.audit(AuditEvent::ItemCreated { item: item.id, title: item.title.clone() })?;
                }
                ids.push(item.id);
            }
            if count > 1 {
                w.audit(AuditEvent::ItemsCreated { count: count as u64 })?;
            }
            Ok(ids)
        })
    }

    /// Edits live item `id` in one transaction: `edit` changes a copy of
    /// the current version, which is then checked and saved as the next
    /// revision, the previous one going to history. An edit that changes
    /// nothing saves nothing. Identity, dates, attachments and trash state
    /// are kept by the vault whatever `edit` does to them.
    pub fn update(
        &mut self,
        id: ItemId,
        edit: impl FnOnce(&mut Item) -> Result<(), VaultError>,
    ) -> Result<Item, VaultError> {
        self.write(true, |w| {
            let old = w.load_live(&id)?;
            let mut new = old.clone();
            edit(&mut new)?;
            new.id = old.id;
            new.created = old.created;
            new.attachments = old.attachments.clone();
            new.deleted = old.deleted;
            new.revision = old.revision;
            new.updated = old.updated;
            new.password_changed = old.password_changed;
            new.normalize()?;
            if new == old {
                return Ok(old);
            }
            if new.password != old.password {
                new.password_changed = w.now;
            }
            w.replace_item(&old, &mut new, true)?;
            w.audit(AuditEvent::ItemUpdated { item: id, title: new.title.clone() })?;
            Ok(new)
        })
    }

    /// Moves live item `id` to the trash.
    pub fn trash(&mut self, id: ItemId) -> Result<(), VaultError> {
        self.write(true, |w| {
            let old = w.load_live(&id)?;
            let mut new = old.clone();
            new.deleted = Some(w.now);
            w.replace_item(&old, &mut new, false)?;
            w.audit(AuditEvent::ItemTrashed { item: id, title: new.title.clone() })?;
            Ok(())
        })
    }

    /// Brings item `id` back from the trash.
    pub fn restore(&mut self, id: ItemId) -> Result<(), VaultError> {
        self.write(true, |w| {
            let old = w.load_trashed(&id)?;
            let mut new = old.clone();
            new.deleted = None;
            w.replace_item(&old, &mut new, false)?;
            w.audit(AuditEvent::ItemRestored { item: id, title: new.title.clone() })?;
            Ok(())
        })
    }

    /// Deletes trashed item `id` for good, with its history and attachments.
    pub fn purge(&mut self, id: ItemId) -> Result<(), VaultError> {
        self.write(true, |w| {
            let item = w.load_trashed(&id)?;
            w.remove_item(&item)?;
            w.audit(AuditEvent::ItemPurged { item: id, title: item.title.clone() })?;
            Ok(())
        })
    }

    /// Deletes every trashed item for good, in one transaction. Returns how
    /// many were purged.
    pub fn empty_trash(&mut self) -> Result<usize, VaultError> {
        let trashed: Vec<ItemId> = self.summaries(Scope::Trash)?.into_iter().map(|s| s.id).collect();
        self.write(true, |w| {
            for id in &trashed {
                let item = w.load_trashed(id)?;
                w.remove_item(&item)?;
                w.audit(AuditEvent::ItemPurged { item: *id, title: item.title.clone() })?;
            }
            Ok(trashed.len())
        })
    }

    /// Attaches `content` to live item `id` as `name`, replacing an
    /// attachment of that name (the old content stays reachable from the
    /// item's history until that version leaves it).
    pub fn attach(&mut self, id: ItemId, name: &str, content: &[u8]) -> Result<(), VaultError> {
        if name.is_empty() || name.contains(['/', '\0']) || name == "." || name == ".." {
            return Err(InvalidItem::BadAttachmentName.into());
        }
        let size = content.len() as u64;
        if size > MAX_ATTACHMENT_SIZE {
            return Err(InvalidItem::AttachmentTooLarge { size, max: MAX_ATTACHMENT_SIZE }.into());
        }
        self.write(true, |w| {
            let old = w.load_live(&id)?;
            let attachment = AttachmentId::random();
            let row = sealed::seal_attachment(&id, &attachment, content, &w.vault_id, w.current_key()?);
            store::insert_attachment(w.tx, &row)?;
            let mut new = old.clone();
            new.attachments.retain(|a| a.name != name);
            new.attachments.push(AttachmentRef {
                id: attachment,
                name: name.to_owned(),
                size,
                sha256: sha256(&[content]),
            });
            w.replace_item(&old, &mut new, true)?;
            w.audit(AuditEvent::AttachmentAdded { item: id, name: name.to_owned() })?;
            Ok(())
        })
    }

    /// Removes attachment `name` from live item `id`.
    pub fn detach(&mut self, id: ItemId, name: &str) -> Result<(), VaultError> {
        self.write(true, |w| {
            let old = w.load_live(&id)?;
            if old.attachment(name).is_none() {
                return Err(VaultError::NoSuchAttachment { item: id, name: name.to_owned() });
            }
            let mut new = old.clone();
            new.attachments.retain(|a| a.name != name);
            w.replace_item(&old, &mut new, true)?;
            w.audit(AuditEvent::AttachmentRemoved { item: id, name: name.to_owned() })?;
            Ok(())
        })
    }

    /// The one-time code of item `id` at `unix_seconds` (now if `None`).
    /// For an HOTP item this uses the stored counter and saves the next
    /// one, so the same code is never handed out twice.
    pub fn otp_code(&mut self, id: ItemId, unix_seconds: Option<u64>) -> Result<Code, VaultError> {
        let item = self.get(id)?;
        let otp = item.otp()?.ok_or_else(|| VaultError::NotFound(format!("a one-time password in item {id}")))?;
        match otp.kind {
            crate::totp::OtpKind::Totp { .. } => {
                let at = unix_seconds.unwrap_or_else(|| now().unix_timestamp().max(0) as u64);
                otp.code_at(at).map_err(|e| InvalidItem::Otp(e.to_string()).into())
            }
            crate::totp::OtpKind::Hotp { .. } => self.write(true, |w| {
                let old = w.load_live(&id)?;
                let otp =
                    old.otp()?.ok_or_else(|| VaultError::NotFound(format!("a one-time password in item {id}")))?;
                let crate::totp::OtpKind::Hotp { counter } = otp.kind else {
                    return Err(InvalidItem::Otp("the item's OTP changed kind".into()).into());
                };
                let code = otp.code_at(0).map_err(|e| InvalidItem::Otp(e.to_string()))?;
                let mut new = old.clone();
                let next = counter.checked_add(1).ok_or_else(|| InvalidItem::Otp("HOTP counter overflow".into()))?;
                new.otp = Some(otp.with_counter(next).to_uri().to_string());
                w.replace_item(&old, &mut new, false)?;
                Ok(code)
            }),
        }
    }

    // --- keys ---------------------------------------------------------------

    /// Makes a new data key version, then re-encrypts everything sealed
    /// under older versions in batches (one transaction each, so an
    /// interruption loses nothing and a later `rotate` finishes the job),
    /// then deletes versions nothing uses. `progress(done, total)` counts
    /// items.
    pub fn rotate(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<RotateReport, VaultError> {
        let version = self.write(true, |w| {
            let next = w.header.data_keys.iter().map(|k| k.version).max().unwrap_or(0) + 1;
            let version =
                KeyVersion(u32::try_from(next).map_err(|_| VaultError::Slot("too many key versions".into()))?);
            let row = wrap_data_key(&w.vault_id, w.subkeys, version, &DataKey::generate_bytes(), w.now);
            store::insert_data_key(w.tx, &row)?;
            w.header.data_keys.push(row);
            w.state.current_key_version = version.0;
            w.audit(AuditEvent::KeyRotated { version: version.0 })?;
            Ok(version)
        })?;

        let total = {
            let tx = self.store.read()?;
            store::count_stale(&tx, i64::from(version.0))? as u64
        };
        let mut done = 0;
        progress(done, total);
        loop {
            let n = self.write(true, |w| {
                let ids = store::stale_item_ids(w.tx, i64::from(version.0), ROTATE_BATCH)?;
                for id in &ids {
                    w.reseal(id)?;
                }
                Ok(ids.len() as u64)
            })?;
            if n == 0 {
                break;
            }
            done += n;
            progress(done.min(total), total);
        }

        let retired = self.write(false, |w| {
            let mut retired = Vec::new();
            for row in w.header.data_keys.clone() {
                if row.version < i64::from(version.0) && store::uses_of_key_version(w.tx, row.version)? == 0 {
                    store::delete_data_key(w.tx, row.version)?;
                    w.header.data_keys.retain(|k| k.version != row.version);
                    retired.push(KeyVersion(row.version as u32));
                }
            }
            Ok(retired)
        })?;
        self.keys.borrow_mut().keys.retain(|v, _| !retired.contains(v));
        Ok(RotateReport { version, reencrypted: done, retired })
    }

    // --- verification -----------------------------------------------------

    /// Checks everything: the file's structure, the header and every data
    /// key, the manifest, every item row, every history version, every
    /// attachment (against the digest its item recorded) and the audit
    /// chain. Problems are collected, not stopped at, so one report names
    /// all of them. `progress(done, total)` counts item rows.
    pub fn verify(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport, VaultError> {
        let mut report = VerifyReport::default();
        for problem in self.store.integrity_check()? {
            report.problems.push(IntegrityError::File(problem));
        }
        let tx = self.store.read()?;
        let (header, state) = match load_header(&tx, &self.subkeys) {
            Ok(h) => h,
            Err(VaultError::Integrity(e)) => {
                report.problems.push(e);
                return Ok(report);
            }
            Err(e) => return Err(e),
        };
        report.slots = header.slots.len();
        {
            let mut keys = self.keys.borrow_mut();
            if let Err(e) = refresh_keys(&mut keys, &header, &self.vault_id, &self.subkeys) {
                report.problems.push(e);
            }
            report.key_versions = keys.keys.keys().map(|v| v.0).collect();
        }
        let keys = self.keys.borrow();
        let r = ReadCtx { tx: &tx, vault_id: self.vault_id, subkeys: &self.subkeys, keys: &keys, header, state };
        if let Err(e) = check_manifest(&tx, &r.state, &self.subkeys) {
            report.problems.push(e);
        }

        // Items, and the attachments each version refers to.
        let total = r.state.item_count;
        let mut live_attachments: HashSet<AttachmentId> = HashSet::new();
        let mut item_ids: HashSet<Vec<u8>> = HashSet::new();
        let mut to_check: Vec<(ItemId, AttachmentRef)> = Vec::new();
        let opener = r.opener();
        store::item_rows_in_batches(&tx, DECRYPT_BATCH, "", |rows| {
            let opened: Vec<Result<Item, IntegrityError>> = rows.par_iter().map(|row| opener.open(row)).collect();
            for (row, item) in rows.iter().zip(opened) {
                report.items += 1;
                item_ids.insert(row.id.clone());
                match item {
                    Ok(item) => {
                        for a in &item.attachments {
                            live_attachments.insert(a.id);
                            to_check.push((item.id, a.clone()));
                        }
                    }
                    Err(e) => report.problems.push(e),
                }
            }
            progress(report.items, total.max(report.items));
            Ok(())
        })?;

        store::all_history_in_batches(&tx, DECRYPT_BATCH, |rows| {
            let (vault_id, keys) = (&r.vault_id, r.keys);
            let opened: Vec<Result<Item, IntegrityError>> =
                rows.par_iter().map(|h| sealed::open_history(h, vault_id, keys)).collect();
            for (row, version) in rows.iter().zip(opened) {
                report.history += 1;
                if !item_ids.contains(&row.item_id) {
                    report.problems.push(IntegrityError::History {
                        item: data_encoding::HEXLOWER.encode(&row.item_id),
                        revision: row.revision,
                    });
                    continue;
                }
                match version {
                    Ok(v) => {
                        for a in &v.attachments {
                            live_attachments.insert(a.id);
                        }
                    }
                    Err(e) => report.problems.push(e),
                }
            }
            Ok(())
        })?;

        for (item, a) in &to_check {
            report.attachments += 1;
            let row = store::get_attachment(&tx, a.id.as_bytes())?;
            let ok = row.is_some_and(|row| {
                row.item_id == item.as_bytes()
                    && sealed::open_attachment(&row, item, &a.name, &a.sha256, &r.vault_id, r.keys).is_ok()
            });
            if !ok {
                report.problems.push(IntegrityError::Attachment { item: item.to_hex(), name: a.name.clone() });
            }
        }
        for (id, _) in store::all_attachment_ids(&tx)? {
            let referenced = AttachmentId::from_slice(&id).is_ok_and(|a| live_attachments.contains(&a));
            if !referenced {
                report
                    .problems
                    .push(IntegrityError::OrphanAttachment { attachment: data_encoding::HEXLOWER.encode(&id) });
            }
        }

        let audit_rows = store::audit_rows(&tx)?;
        report.audit_entries = audit_rows.len() as u64;
        if let Err(e) = audit::open_chain(&audit_rows, r.state.audit_seq, &r.state.audit_head, &r.vault_id, r.subkeys) {
            report.problems.push(e);
        }
        Ok(report)
    }

    // --- transactions ------------------------------------------------------

    /// Runs `f` in a read transaction over an authenticated header. With
    /// `items`, the item manifest is checked too (once per session).
    fn read<T>(&self, items: bool, f: impl FnOnce(&ReadCtx<'_>) -> Result<T, VaultError>) -> Result<T, VaultError> {
        let tx = self.store.read()?;
        let (header, state) = load_header(&tx, &self.subkeys)?;
        refresh_keys(&mut self.keys.borrow_mut(), &header, &self.vault_id, &self.subkeys)?;
        let keys = self.keys.borrow();
        let ctx = ReadCtx { tx: &tx, vault_id: self.vault_id, subkeys: &self.subkeys, keys: &keys, header, state };
        let out = f(&ctx);
        if items && !self.manifest_checked.get() {
            settle_manifest(&out, &tx, &ctx.state, &self.subkeys)?;
            self.manifest_checked.set(true);
        }
        out
    }

    /// Runs `f` in a write transaction (see the module docs). With `items`,
    /// the item manifest is checked too (once per session) before commit:
    /// `f` keeps the manifest in step with its own changes, so any
    /// disagreement left is one that was there before.
    fn write<T>(
        &mut self,
        items: bool,
        f: impl FnOnce(&mut WriteCtx<'_>) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let Vault { store, vault_id, subkeys, keys, manifest_checked, .. } = self;
        let tx = store.write()?;
        let (header, state) = load_header(&tx, subkeys)?;
        refresh_keys(&mut keys.borrow_mut(), &header, vault_id, subkeys)?;
        let keys = keys.borrow();
        let mut ctx = WriteCtx { tx: &tx, vault_id: *vault_id, subkeys, keys: &keys, header, state, now: now() };
        let out = f(&mut ctx);
        if items && !manifest_checked.get() {
            settle_manifest(&out, &tx, &ctx.state, subkeys)?;
            manifest_checked.set(true);
        }
        let out = out?;
        ctx.finish()?;
        drop(keys);
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
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

/// What a read transaction sees.
struct ReadCtx<'a> {
    tx: &'a Connection,
    vault_id: VaultId,
    subkeys: &'a Subkeys,
    keys: &'a KeyRing,
    header: Header,
    state: VaultState,
}

/// The keys needed to open item rows, shareable across threads (the
/// transaction itself is not).
#[derive(Clone, Copy)]
struct Opener<'a> {
    vault_id: &'a VaultId,
    keys: &'a KeyRing,
    index_key: &'a [u8; 32],
}

impl Opener<'_> {
    fn open(&self, row: &ItemRow) -> Result<Item, IntegrityError> {
        sealed::open_item(row, self.vault_id, self.keys, self.index_key)
    }
}

impl ReadCtx<'_> {
    fn opener(&self) -> Opener<'_> {
        Opener { vault_id: &self.vault_id, keys: self.keys, index_key: &self.subkeys.index }
    }

    fn open(&self, row: &ItemRow) -> Result<Item, IntegrityError> {
        self.opener().open(row)
    }

    fn load(&self, id: &ItemId) -> Result<Item, VaultError> {
        let row = store::get_item(self.tx, id.as_bytes())?.ok_or_else(|| VaultError::NotFound(id.to_hex()))?;
        Ok(self.open(&row)?)
    }
}

/// What a write transaction sees and changes.
struct WriteCtx<'a> {
    tx: &'a Connection,
    vault_id: VaultId,
    subkeys: &'a Subkeys,
    keys: &'a KeyRing,
    header: Header,
    state: VaultState,
    now: OffsetDateTime,
}

impl<'a> WriteCtx<'a> {
    fn current_key(&self) -> Result<&'a DataKey, VaultError> {
        let keys: &'a KeyRing = self.keys;
        let v = self.state.current_key_version;
        Ok(keys.get(KeyVersion(v)).ok_or(IntegrityError::DataKey { version: v })?)
    }

    fn open(&self, row: &ItemRow) -> Result<Item, IntegrityError> {
        sealed::open_item(row, &self.vault_id, self.keys, &self.subkeys.index)
    }

    fn load(&self, id: &ItemId) -> Result<Item, VaultError> {
        let row = store::get_item(self.tx, id.as_bytes())?.ok_or_else(|| VaultError::NotFound(id.to_hex()))?;
        Ok(self.open(&row)?)
    }

    fn load_live(&self, id: &ItemId) -> Result<Item, VaultError> {
        let item = self.load(id)?;
        if item.deleted.is_some() {
            return Err(VaultError::WrongState { item: *id, state: "in the trash", hint: "restore it first" });
        }
        Ok(item)
    }

    fn load_trashed(&self, id: &ItemId) -> Result<Item, VaultError> {
        let item = self.load(id)?;
        if item.deleted.is_none() {
            return Err(VaultError::WrongState {
                item: *id,
                state: "not in the trash",
                hint: "move it to the trash first",
            });
        }
        Ok(item)
    }

    fn contribution(&self, item: &Item, key_version: KeyVersion) -> [u8; 32] {
        contribution(&self.subkeys.manifest, &item.id, item.revision, key_version)
    }

    fn insert_item(&mut self, item: &mut Item) -> Result<(), VaultError> {
        item.normalize()?;
        let key = self.current_key()?;
        let row = sealed::seal_item(item, &self.vault_id, key, &self.subkeys.index);
        store::insert_item(self.tx, &row)?;
        let c = self.contribution(item, key.version);
        let mut sum = ManifestSum(self.state.manifest_sum);
        sum.add(&c);
        self.state.manifest_sum = sum.0;
        self.state.item_count += 1;
        Ok(())
    }

    /// Saves `new` as the next revision of `old` (read in this transaction),
    /// keeping `old` in history if asked and trimming history to its limit.
    fn replace_item(&mut self, old: &Item, new: &mut Item, keep_history: bool) -> Result<(), VaultError> {
        let old_row =
            store::get_item(self.tx, old.id.as_bytes())?.ok_or_else(|| VaultError::NotFound(old.id.to_hex()))?;
        let old_version = KeyVersion(old_row.key_version as u32);
        new.revision = old.revision + 1;
        new.updated = self.now;
        new.normalize()?;
        let key = self.current_key()?;
        if keep_history {
            store::insert_history(self.tx, &sealed::seal_history(old, &self.vault_id, key))?;
            let versions = store::history_of(self.tx, old.id.as_bytes())?;
            for extra in versions.iter().skip(HISTORY_LIMIT) {
                store::delete_history(self.tx, &extra.item_id, extra.revision)?;
            }
        }
        let row = sealed::seal_item(new, &self.vault_id, key, &self.subkeys.index);
        store::update_item(self.tx, &row)?;
        let mut sum = ManifestSum(self.state.manifest_sum);
        sum.sub(&self.contribution(old, old_version));
        sum.add(&self.contribution(new, key.version));
        self.state.manifest_sum = sum.0;
        self.collect_attachments(new)
    }

    /// Deletes an item row with its history and attachments.
    fn remove_item(&mut self, item: &Item) -> Result<(), VaultError> {
        let row =
            store::get_item(self.tx, item.id.as_bytes())?.ok_or_else(|| VaultError::NotFound(item.id.to_hex()))?;
        store::delete_item(self.tx, &row.id)?;
        let mut sum = ManifestSum(self.state.manifest_sum);
        sum.sub(&self.contribution(item, KeyVersion(row.key_version as u32)));
        self.state.manifest_sum = sum.0;
        self.state.item_count -= 1;
        Ok(())
    }

    /// Deletes attachment rows of `item` that neither it nor any version in
    /// its history refers to any more.
    fn collect_attachments(&mut self, item: &Item) -> Result<(), VaultError> {
        let stored = store::attachment_ids_of(self.tx, item.id.as_bytes())?;
        if stored.is_empty() {
            return Ok(());
        }
        let mut referenced: HashSet<AttachmentId> = item.attachments.iter().map(|a| a.id).collect();
        for h in store::history_of(self.tx, item.id.as_bytes())? {
            let version = sealed::open_history(&h, &self.vault_id, self.keys)?;
            referenced.extend(version.attachments.iter().map(|a| a.id));
        }
        for id in stored {
            if !AttachmentId::from_slice(&id).is_ok_and(|a| referenced.contains(&a)) {
                store::delete_attachment(self.tx, &id)?;
            }
        }
        Ok(())
    }

    /// Re-encrypts everything of item `id` sealed under an older key
    /// version with the current one (content and revision unchanged).
    fn reseal(&mut self, id: &[u8]) -> Result<(), VaultError> {
        let key = self.current_key()?;
        if let Some(row) = store::get_item(self.tx, id)? {
            if row.key_version < i64::from(key.version.0) {
                let item = self.open(&row)?;
                let new_row = sealed::seal_item(&item, &self.vault_id, key, &self.subkeys.index);
                store::update_item(self.tx, &new_row)?;
                let mut sum = ManifestSum(self.state.manifest_sum);
                sum.sub(&self.contribution(&item, KeyVersion(row.key_version as u32)));
                sum.add(&self.contribution(&item, key.version));
                self.state.manifest_sum = sum.0;
            }
        }
        for h in store::history_of(self.tx, id)? {
            if h.key_version < i64::from(key.version.0) {
                let version = sealed::open_history(&h, &self.vault_id, self.keys)?;
                store::insert_history(self.tx, &sealed::seal_history(&version, &self.vault_id, key))?;
            }
        }
        let item = ItemId::from_slice(id)
            .map_err(|_| IntegrityError::Item { item: data_encoding::HEXLOWER.encode(id), problem: ItemProblem::Id })?;
        for attachment_id in store::attachment_ids_of(self.tx, id)? {
            let Some(row) = store::get_attachment(self.tx, &attachment_id)? else { continue };
            if row.key_version >= i64::from(key.version.0) {
                continue;
            }
            let bad = || IntegrityError::Attachment { item: item.to_hex(), name: "(re-encryption)".into() };
            let attachment = AttachmentId::from_slice(&attachment_id).map_err(|_| bad())?;
            let old_key = self.keys.get(KeyVersion(row.key_version as u32)).ok_or_else(bad)?;
            let aad = Aad::Attachment {
                vault: &self.vault_id,
                item: &item,
                attachment: &attachment,
                key_version: old_key.version,
            };
            let content = old_key.cipher.open(&aad.to_bytes(), &row.ciphertext).map_err(|_| bad())?;
            store::insert_attachment(
                self.tx,
                &sealed::seal_attachment(&item, &attachment, &content, &self.vault_id, key),
            )?;
        }
        Ok(())
    }

    fn audit(&mut self, event: AuditEvent) -> Result<(), VaultError> {
        let seq = self.state.audit_seq + 1;
        let row = audit::seal_entry(&event, seq, self.now, &self.state.audit_head, &self.vault_id, self.subkeys);
        store::insert_audit(self.tx, &row)?;
        self.state.audit_seq = seq;
        self.state.audit_head.copy_from_slice(&row.hash);
        Ok(())
    }

    fn finish(mut self) -> Result<(), VaultError> {
        self.header.set_state(&self.state);
        self.header.seal(&self.subkeys.header);
        store::update_meta(self.tx, &self.header.meta)?;
        Ok(())
    }
}

/// Reads the header inside `tx` and authenticates it.
fn load_header(tx: &Connection, subkeys: &Subkeys) -> Result<(Header, VaultState), VaultError> {
    let header = Header::read(tx)?;
    if !header.checksum_matches() {
        return Err(IntegrityError::HeaderChecksum.into());
    }
    if !header.mac_matches(&subkeys.header) {
        return Err(IntegrityError::HeaderMac.into());
    }
    let state = header.state().map_err(|e| IntegrityError::HeaderMalformed(e.0))?;
    Ok((header, state))
}

/// Unwraps any data key version in the header that `keys` lacks.
fn refresh_keys(keys: &mut KeyRing, header: &Header, vault: &VaultId, subkeys: &Subkeys) -> Result<(), IntegrityError> {
    for row in &header.data_keys {
        let version =
            KeyVersion(u32::try_from(row.version).map_err(|_| IntegrityError::HeaderMalformed("key version"))?);
        if keys.get(version).is_some() {
            continue;
        }
        let bad = IntegrityError::DataKey { version: version.0 };
        let aad = Aad::DataKey { vault, version }.to_bytes();
        let bytes = subkeys.data_key_wrap.open(&aad, &row.wrapped_key).map_err(|_| bad.clone())?;
        let bytes: &[u8; 32] = bytes.as_slice().try_into().map_err(|_| bad)?;
        keys.keys.insert(version, DataKey { version, cipher: Cipher::new(bytes) });
    }
    Ok(())
}

/// Decides between an operation's own outcome and the manifest check: a
/// specific integrity finding (naming an item) wins; otherwise a manifest
/// mismatch wins over anything else, so nothing read from a vault whose
/// item set was altered is handed out.
fn settle_manifest<T>(
    outcome: &Result<T, VaultError>,
    tx: &Connection,
    state: &VaultState,
    subkeys: &Subkeys,
) -> Result<(), VaultError> {
    if matches!(outcome, Err(VaultError::Integrity(_))) {
        return Ok(());
    }
    Ok(check_manifest(tx, state, subkeys)?)
}

/// Recomputes the manifest over every item row and compares it with the
/// authenticated state.
fn check_manifest(tx: &Connection, state: &VaultState, subkeys: &Subkeys) -> Result<(), IntegrityError> {
    let mut sum = ManifestSum::default();
    let mut count = 0u64;
    let mut malformed = None;
    store::manifest_rows(tx, |row| {
        count += 1;
        let parsed = (ItemId::from_slice(&row.id), u64::try_from(row.revision), u32::try_from(row.key_version));
        match parsed {
            (Ok(id), Ok(revision), Ok(kv)) => sum.add(&contribution(&subkeys.manifest, &id, revision, KeyVersion(kv))),
            _ => {
                malformed.get_or_insert(row.id);
            }
        }
    })
    .map_err(|e| IntegrityError::File(e.to_string()))?;
    if let Some(id) = malformed {
        return Err(IntegrityError::Item { item: data_encoding::HEXLOWER.encode(&id), problem: ItemProblem::Id });
    }
    if count != state.item_count || sum.0 != state.manifest_sum {
        return Err(IntegrityError::Manifest { expected: state.item_count, found: count });
    }
    Ok(())
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
