//! An item's sync record: the item and its attachments' contents in one
//! AEAD blob (DESIGN §5: no field travels on its own, no metadata outside
//! the blob), sealed for one item id, one server revision and one
//! tombstone state. A tombstone is an authenticated empty record, so a
//! server cannot invent a deletion either.

use serde::{Deserialize, Serialize};
use tessera_core::{Item, ItemId, NewAttachment, NewVersion, NotAuthentic, SyncKeys};
use zeroize::Zeroizing;

use crate::wire::{b64, from_b64};

#[derive(Serialize, Deserialize)]
struct Body {
    item: Item,
    attachments: Vec<BodyAttachment>,
}

#[derive(Serialize, Deserialize)]
struct BodyAttachment {
    name: String,
    /// Base64 of the content.
    content: String,
}

impl Drop for BodyAttachment {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.content);
    }
}

/// What a record holds.
pub enum Record {
    /// The item (its `attachments` refs are this device's business and are
    /// rebuilt from the contents).
    Put(Box<NewVersion>),
    /// The item was deleted for good.
    Tombstone,
}

/// Why a record could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadRecord {
    /// The AEAD failed: another item's, another revision's, another
    /// account's, or altered.
    NotAuthentic,
    /// It opened, but the item inside has another id or does not parse.
    Malformed,
}

impl From<NotAuthentic> for BadRecord {
    fn from(_: NotAuthentic) -> Self {
        BadRecord::NotAuthentic
    }
}

/// Seals an item for server revision `revision`.
pub fn seal(keys: &SyncKeys, version: &NewVersion, revision: u64) -> String {
    b64(&keys.seal_record(&version.item.id, revision, false, &body(version)))
}

/// A record's plaintext: the item and its attachments' contents.
pub fn body(version: &NewVersion) -> Zeroizing<Vec<u8>> {
    let body = Body {
        item: version.item.clone(),
        attachments: version
            .attachments
            .iter()
            .map(|a| BodyAttachment { name: a.name.clone(), content: b64(&a.content) })
            .collect(),
    };
    Zeroizing::new(serde_json::to_vec(&body).expect("a record always serialises"))
}

/// Seals a tombstone for server revision `revision`.
pub fn seal_tombstone(keys: &SyncKeys, id: &ItemId, revision: u64) -> String {
    b64(&keys.seal_record(id, revision, true, &[]))
}

/// Opens the record of item `id` at `revision`.
pub fn open(keys: &SyncKeys, id: &ItemId, revision: u64, deleted: bool, blob: &str) -> Result<Record, BadRecord> {
    let blob = from_b64(blob).ok_or(BadRecord::Malformed)?;
    let plain = keys.open_record(id, revision, deleted, &blob)?;
    parse(id, deleted, &plain)
}

/// Reads an opened record's plaintext for item `id`.
pub fn parse(id: &ItemId, deleted: bool, plain: &[u8]) -> Result<Record, BadRecord> {
    if deleted {
        return if plain.is_empty() { Ok(Record::Tombstone) } else { Err(BadRecord::Malformed) };
    }
    let body: Body = serde_json::from_slice(plain).map_err(|_| BadRecord::Malformed)?;
    if body.item.id != *id {
        return Err(BadRecord::Malformed);
    }
    let mut attachments = Vec::with_capacity(body.attachments.len());
    for a in &body.attachments {
        let content = Zeroizing::new(from_b64(&a.content).ok_or(BadRecord::Malformed)?);
        attachments.push(NewAttachment { name: a.name.clone(), content });
    }
    Ok(Record::Put(Box::new(NewVersion { item: body.item.clone(), attachments })))
}
