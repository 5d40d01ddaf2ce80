//! Errors. One enum per kind of operation, each variant saying what went
//! wrong and what to do; none ever carries a secret (a password, a key, a
//! plaintext value): at most an item's id, a slot's number, a count.

use std::path::PathBuf;

use crate::ids::{ItemId, SlotId};
use crate::item::InvalidItem;
use crate::rollback::RollbackError;
use crate::store::StoreError;

/// Evidence that the vault was altered outside Tessera, or damaged. Never
/// repaired silently: the operation stops and says what it found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityError {
    /// The header's checksum does not match: meta row or slots were changed.
    #[error("the vault header (meta row, key slots or data keys) is damaged or was altered")]
    HeaderChecksum,
    /// The header's MAC does not match: altered by someone without the key.
    #[error("the vault header failed authentication: it was altered outside Tessera")]
    HeaderMac,
    /// A header field is out of range.
    #[error("the vault header is malformed: {0}")]
    HeaderMalformed(&'static str),
    /// A wrapped data key fails to open, or one that items need is missing.
    #[error("data key version {version} is missing or damaged")]
    DataKey {
        /// The key version.
        version: u32,
    },
    /// An item row fails authentication or disagrees with its sealed content.
    #[error("item {item} failed its integrity check: {problem}")]
    Item {
        /// The item's id, as stored in the row.
        item: String,
        /// What is wrong with it.
        problem: ItemProblem,
    },
    /// The set of items (and named records) disagrees with the
    /// authenticated manifest.
    #[error(
        "the vault's items do not match its authenticated manifest ({found} items found, {expected} expected): \
         an item or setting record was removed, added or rolled back to an older version outside Tessera"
    )]
    Manifest {
        /// Items the header says there are.
        expected: u64,
        /// Item rows found.
        found: u64,
    },
    /// A named record (browser connections, site access…) fails
    /// authentication: altered, or moved to another name or revision.
    #[error("the vault's {name:?} record failed authentication: it was altered outside Tessera")]
    Record {
        /// The record's name.
        name: String,
    },
    /// This device's sealed sync state fails to open.
    #[error("the vault's sync state failed authentication: it was altered outside Tessera")]
    SyncState,
    /// An earlier version in an item's history is damaged.
    #[error("history version {revision} of item {item} failed its integrity check")]
    History {
        /// The item.
        item: String,
        /// Which version.
        revision: i64,
    },
    /// An attachment is missing, damaged, or not the content its item recorded.
    #[error("attachment {name:?} of item {item} is missing or damaged")]
    Attachment {
        /// The item.
        item: String,
        /// The attachment's name.
        name: String,
    },
    /// An attachment row belongs to no item version.
    #[error("an attachment row belongs to no item (attachment {attachment})")]
    OrphanAttachment {
        /// The attachment's id.
        attachment: String,
    },
    /// The audit log's hash chain is broken.
    #[error("the audit log is broken at entry {seq}: an entry was changed, removed or reordered")]
    AuditChain {
        /// First entry that does not chain.
        seq: i64,
    },
    /// SQLite found the file structurally damaged.
    #[error("the vault file is damaged: {0}")]
    File(String),
    /// The file records fewer writes than its TPM counter has seen: an
    /// older copy of the whole file was put back.
    #[error(
        "this vault file is older than the last one this TPM saw (the file records write {file}, the TPM counted \
         {counter}): an older copy of the file was put back. If you restored it from a backup on purpose, run \
         `tessera restore-check --accept-older`"
    )]
    RolledBack {
        /// The value in the file's header.
        file: u64,
        /// The TPM counter's value.
        counter: u64,
    },
    /// The file records more writes than its TPM counter (by more than one
    /// interrupted write): bound to another TPM, or the counter was replaced.
    #[error(
        "this vault file records more writes than this TPM counted (file {file}, TPM {counter}): it was bound on \
         another TPM, or the TPM counter was replaced. If this is the right file, run \
         `tessera restore-check --accept-older`"
    )]
    CounterAhead {
        /// The value in the file's header.
        file: u64,
        /// The TPM counter's value.
        counter: u64,
    },
}

/// What is wrong with one item row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ItemProblem {
    /// The ciphertext fails authentication: altered, swapped with another
    /// row, or sealed for another vault.
    #[error("its ciphertext fails authentication (altered, or swapped with another item)")]
    Ciphertext,
    /// The row's id is not a valid id.
    #[error("its id is malformed")]
    Id,
    /// The decrypted content is unreadable.
    #[error("its content is unreadable")]
    Payload,
    /// A plaintext column disagrees with the sealed content.
    #[error("its {0} column disagrees with its sealed content")]
    Column(&'static str),
    /// The row names a data key version the vault does not have.
    #[error("it names data key version {0}, which the vault does not have")]
    KeyVersion(u32),
}

/// Opening a vault file (before any key is involved).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// No file at the path.
    #[error("no vault at {0}; create one with `tessera init`")]
    NotFound(PathBuf),
    /// The vault was written by a newer Tessera.
    #[error("this vault uses format version {found}; this Tessera reads up to {supported}. Upgrade Tessera")]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Newest supported.
        supported: u16,
    },
    /// Integrity failure found before unlocking.
    #[error(transparent)]
    Integrity(#[from] IntegrityError),
    /// Storage failure.
    #[error(transparent)]
    Store(StoreError),
}

/// Creating a vault file.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Something is already at the path; creating never overwrites.
    #[error("{0} already exists; Tessera never overwrites a vault")]
    AlreadyExists(PathBuf),
    /// A vault needs at least one slot to be opened again.
    #[error("a vault needs at least one unlock slot")]
    NoSlots,
    /// Filesystem failure.
    #[error("cannot create the vault at {path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Unlocking a vault with one slot.
#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    /// The key-encryption key does not open the slot: wrong password or factor.
    #[error("wrong password or unlock factor")]
    WrongKey,
    /// No slot with that number.
    #[error("the vault has no key slot {0}")]
    NoSuchSlot(SlotId),
    /// Integrity failure found while unlocking.
    #[error(transparent)]
    Integrity(#[from] IntegrityError),
    /// Storage failure.
    #[error(transparent)]
    Store(StoreError),
}

/// Any operation on an unlocked vault.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// No item matches.
    #[error("no item matches {0:?}")]
    NotFound(String),
    /// More than one item matches; the candidates are listed.
    #[error("{query:?} matches {} items; use the id:\n{}", candidates.len(), list_candidates(candidates))]
    Ambiguous {
        /// What was asked for.
        query: String,
        /// `(id, title)` of each match.
        candidates: Vec<(ItemId, String)>,
    },
    /// The item is live and the operation needs it in the trash, or the
    /// other way round.
    #[error("item {item} is {state}; {hint}")]
    WrongState {
        /// The item.
        item: ItemId,
        /// "in the trash" or "not in the trash".
        state: &'static str,
        /// What to do.
        hint: &'static str,
    },
    /// The item has no attachment by that name.
    #[error("item {item} has no attachment named {name:?}")]
    NoSuchAttachment {
        /// The item.
        item: ItemId,
        /// The name asked for.
        name: String,
    },
    /// The item as given cannot be stored.
    #[error(transparent)]
    Invalid(#[from] InvalidItem),
    /// Slot management refused.
    #[error("{0}")]
    Slot(String),
    /// A named record is over its size limit.
    #[error("the {name} record would be {size} bytes; the limit is {max} bytes")]
    RecordTooLarge {
        /// The record.
        name: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Changes merged against an item's revision found the item at
    /// another one when they were applied: another session or process
    /// changed it meanwhile. Nothing was written; merge again.
    #[error("item {item} changed while its sync changes were being merged; nothing was applied, sync again")]
    ChangedMeanwhile {
        /// The item.
        item: ItemId,
    },
    /// Integrity failure.
    #[error(transparent)]
    Integrity(#[from] IntegrityError),
    /// The vault's rollback counter cannot be used (see [`crate::rollback`]).
    #[error(transparent)]
    Rollback(#[from] RollbackError),
    /// Storage failure (including a busy vault).
    #[error(transparent)]
    Store(StoreError),
}

fn list_candidates(c: &[(ItemId, String)]) -> String {
    c.iter().map(|(id, title)| format!("  {id}  {title}")).collect::<Vec<_>>().join("\n")
}

/// SQLite's "damaged file" is an integrity failure, not a storage hiccup.
fn route_store(e: StoreError) -> Result<IntegrityError, StoreError> {
    match e {
        StoreError::Corrupt(m) => Ok(IntegrityError::File(m)),
        other => Err(other),
    }
}

impl From<StoreError> for OpenError {
    fn from(e: StoreError) -> Self {
        route_store(e).map_or_else(OpenError::Store, OpenError::Integrity)
    }
}

impl From<StoreError> for UnlockError {
    fn from(e: StoreError) -> Self {
        route_store(e).map_or_else(UnlockError::Store, UnlockError::Integrity)
    }
}

impl From<StoreError> for VaultError {
    fn from(e: StoreError) -> Self {
        route_store(e).map_or_else(VaultError::Store, VaultError::Integrity)
    }
}

impl From<rusqlite::Error> for VaultError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<rusqlite::Error> for OpenError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<rusqlite::Error> for UnlockError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::from(e).into()
    }
}
