//! Sealing and opening items, history versions and attachments.
//!
//! An item is one AES-256-GCM blob of its whole JSON payload: no field is
//! encrypted on its own, so no field can be swapped between items. The row's
//! plaintext columns (type, revision, times, title tag) exist only so SQLite
//! can index them; opening a row checks every one of them against the
//! sealed payload and refuses the row if any disagrees. Every payload is
//! padded to its size class first (`padding.rs`).

use std::collections::BTreeMap;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::{IntegrityError, ItemProblem};
use crate::format::Aad;
use crate::ids::{AttachmentId, ItemId, KeyVersion, VaultId};
use crate::item::Item;
use crate::keys::DataKey;
use crate::padding::{open_padded, seal_padded};
use crate::primitives::hash::{HmacKey, sha256};
use crate::store::{AttachmentRow, HistoryRow, ItemRow};

/// The unwrapped data keys, by version.
#[derive(Default)]
pub(crate) struct KeyRing {
    pub(crate) keys: BTreeMap<KeyVersion, DataKey>,
}

impl KeyRing {
    pub(crate) fn get(&self, version: KeyVersion) -> Option<&DataKey> {
        self.keys.get(&version)
    }
}

/// Blind index tag of a title: lets `show TITLE` find an item without
/// decrypting every row. It reveals which items share a title to someone
/// holding the file, and nothing else.
pub(crate) fn title_tag(index_key: &HmacKey, title: &str) -> Vec<u8> {
    index_key.mac(&[b"title\0", title.as_bytes()])[..16].to_vec()
}

fn item_error(id: &[u8], problem: ItemProblem) -> IntegrityError {
    IntegrityError::Item { item: data_encoding::HEXLOWER.encode(id), problem }
}

/// Seals the current version of `item` into a row.
pub(crate) fn seal_item(item: &Item, vault: &VaultId, key: &DataKey, index_key: &HmacKey) -> ItemRow {
    let payload = Zeroizing::new(serde_json::to_vec(item).expect("an Item always serialises"));
    let aad = Aad::Item { vault, item: &item.id, key_version: key.version };
    ItemRow {
        id: item.id.as_bytes().to_vec(),
        item_type: item.item_type.code(),
        key_version: i64::from(key.version.0),
        revision: item.revision as i64,
        title_tag: title_tag(index_key, &item.title),
        ciphertext: seal_padded(&key.cipher, &aad, &payload),
        created_at: item.created.unix_timestamp(),
        updated_at: item.updated.unix_timestamp(),
        expires_at: item.expires.map(OffsetDateTime::unix_timestamp),
        deleted_at: item.deleted.map(OffsetDateTime::unix_timestamp),
    }
}

/// Opens an item row and checks every plaintext column against the sealed
/// payload.
pub(crate) fn open_item(
    row: &ItemRow,
    vault: &VaultId,
    keys: &KeyRing,
    index_key: &HmacKey,
) -> Result<Item, IntegrityError> {
    let id = ItemId::from_slice(&row.id).map_err(|_| item_error(&row.id, ItemProblem::Id))?;
    let version =
        key_version(row.key_version).ok_or_else(|| item_error(&row.id, ItemProblem::Column("key_version")))?;
    let key = keys.get(version).ok_or_else(|| item_error(&row.id, ItemProblem::KeyVersion(version.0)))?;
    let aad = Aad::Item { vault, item: &id, key_version: version };
    let payload =
        open_padded(&key.cipher, &aad, &row.ciphertext).map_err(|_| item_error(&row.id, ItemProblem::Ciphertext))?;
    let item: Item = serde_json::from_slice(&payload).map_err(|_| item_error(&row.id, ItemProblem::Payload))?;

    let checks: [(&'static str, bool); 8] = [
        ("id", item.id == id),
        ("item_type", item.item_type.code() == row.item_type),
        ("revision", item.revision as i64 == row.revision),
        ("created_at", item.created.unix_timestamp() == row.created_at),
        ("updated_at", item.updated.unix_timestamp() == row.updated_at),
        ("expires_at", item.expires.map(OffsetDateTime::unix_timestamp) == row.expires_at),
        ("deleted_at", item.deleted.map(OffsetDateTime::unix_timestamp) == row.deleted_at),
        ("title_tag", title_tag(index_key, &item.title) == row.title_tag),
    ];
    if let Some((column, _)) = checks.iter().find(|(_, ok)| !ok) {
        return Err(item_error(&row.id, ItemProblem::Column(column)));
    }
    Ok(item)
}

/// Seals an earlier version of an item for its history.
pub(crate) fn seal_history(item: &Item, vault: &VaultId, key: &DataKey) -> HistoryRow {
    let payload = Zeroizing::new(serde_json::to_vec(item).expect("an Item always serialises"));
    let aad = Aad::History { vault, item: &item.id, revision: item.revision, key_version: key.version };
    HistoryRow {
        item_id: item.id.as_bytes().to_vec(),
        revision: item.revision as i64,
        key_version: i64::from(key.version.0),
        ciphertext: seal_padded(&key.cipher, &aad, &payload),
    }
}

/// Opens one history version.
pub(crate) fn open_history(row: &HistoryRow, vault: &VaultId, keys: &KeyRing) -> Result<Item, IntegrityError> {
    let bad = || IntegrityError::History { item: data_encoding::HEXLOWER.encode(&row.item_id), revision: row.revision };
    let id = ItemId::from_slice(&row.item_id).map_err(|_| bad())?;
    let version = key_version(row.key_version).ok_or_else(bad)?;
    let revision = u64::try_from(row.revision).map_err(|_| bad())?;
    let key = keys.get(version).ok_or(IntegrityError::DataKey { version: version.0 })?;
    let aad = Aad::History { vault, item: &id, revision, key_version: version };
    let payload = open_padded(&key.cipher, &aad, &row.ciphertext).map_err(|_| bad())?;
    let item: Item = serde_json::from_slice(&payload).map_err(|_| bad())?;
    if item.id != id || item.revision != revision {
        return Err(bad());
    }
    Ok(item)
}

/// Seals an attachment's content.
pub(crate) fn seal_attachment(
    item: &ItemId,
    attachment: &AttachmentId,
    content: &[u8],
    vault: &VaultId,
    key: &DataKey,
) -> AttachmentRow {
    let aad = Aad::Attachment { vault, item, attachment, key_version: key.version };
    AttachmentRow {
        id: attachment.as_bytes().to_vec(),
        item_id: item.as_bytes().to_vec(),
        key_version: i64::from(key.version.0),
        ciphertext: seal_padded(&key.cipher, &aad, content),
    }
}

/// Opens an attachment and checks it is the content its item recorded.
pub(crate) fn open_attachment(
    row: &AttachmentRow,
    item: &ItemId,
    name: &str,
    expected_sha256: &[u8; 32],
    vault: &VaultId,
    keys: &KeyRing,
) -> Result<Zeroizing<Vec<u8>>, IntegrityError> {
    let bad = || IntegrityError::Attachment { item: item.to_hex(), name: name.to_owned() };
    let attachment = AttachmentId::from_slice(&row.id).map_err(|_| bad())?;
    let version = key_version(row.key_version).ok_or_else(bad)?;
    let key = keys.get(version).ok_or(IntegrityError::DataKey { version: version.0 })?;
    let aad = Aad::Attachment { vault, item, attachment: &attachment, key_version: version };
    let content = open_padded(&key.cipher, &aad, &row.ciphertext).map_err(|_| bad())?;
    if &sha256(&[&content]) != expected_sha256 {
        return Err(bad());
    }
    Ok(content)
}

fn key_version(v: i64) -> Option<KeyVersion> {
    u32::try_from(v).ok().map(KeyVersion)
}
