//! Bringing many whole items in at once — with their earlier versions and
//! attachment contents — in one transaction: what an import or a backup
//! restore needs, and what [`Vault::add`] (one version, no attachments)
//! cannot do.

use std::collections::HashMap;

use rayon::prelude::*;
use zeroize::Zeroizing;

use super::Vault;
use crate::audit::AuditEvent;
use crate::error::VaultError;
use crate::ids::{AttachmentId, ItemId, VaultId};
use crate::item::{AttachmentRef, HISTORY_LIMIT, InvalidItem, Item, MAX_ATTACHMENT_SIZE};
use crate::keys::DataKey;
use crate::manifest::ManifestSum;
use crate::primitives::hash::HmacKey;
use crate::primitives::hash::sha256;
use crate::sealed;
use crate::store::{self, AttachmentRow, HistoryRow, ItemRow};

/// Items sealed per parallel batch during an import.
const IMPORT_BATCH: usize = 1024;

/// An attachment's name and content, before it is sealed.
pub struct NewAttachment {
    /// File name, unique within its version of the item.
    pub name: String,
    /// The content.
    pub content: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for NewAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAttachment").field("name", &self.name).field("size", &self.content.len()).finish()
    }
}

/// One version of an item to import, with the attachments it carries. The
/// item's own `attachments` and `revision` are ignored: the vault sets them.
/// `deleted` is kept for the current version (the item arrives in the
/// trash) and ignored for history.
#[derive(Debug)]
pub struct NewVersion {
    /// The version's content and dates.
    pub item: Item,
    /// Its attachments.
    pub attachments: Vec<NewAttachment>,
}

impl NewVersion {
    /// A version without attachments.
    pub fn new(item: Item) -> Self {
        NewVersion { item, attachments: Vec::new() }
    }
}

/// An item to import: its current version and its earlier ones, oldest
/// first. Only the newest [`HISTORY_LIMIT`] earlier versions are kept.
#[derive(Debug)]
pub struct NewItem {
    /// The version that becomes the live item.
    pub current: NewVersion,
    /// Earlier versions, oldest first.
    pub history: Vec<NewVersion>,
}

impl NewItem {
    /// An item with one version and no attachments.
    pub fn new(item: Item) -> Self {
        NewItem { current: NewVersion::new(item), history: Vec::new() }
    }
}

/// Rows ready to insert for one item.
struct SealedItem {
    item: ItemRow,
    history: Vec<HistoryRow>,
    attachments: Vec<AttachmentRow>,
    id: ItemId,
    /// The item's term in the vault's manifest sum.
    contribution: [u8; 32],
}

impl Vault {
    /// Adds `items` in one transaction, each with its history and
    /// attachments, and returns their ids in order. An item keeps its id
    /// unless the vault already has an item with that id (then it gets a
    /// fresh one); dates are kept as given. Every version is checked as
    /// [`Item::normalize`] checks an edit, and one bad item fails the whole
    /// import with nothing written. `progress` is called with the number of
    /// items written so far.
    pub fn import(
        &mut self,
        items: Vec<NewItem>,
        source: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<ItemId>, VaultError> {
        let count = items.len();
        // Check the manifest over the rows already there before adding any:
        // cheap for the usual empty vault, where checking after the write
        // would hash every imported row again.
        self.read(true, |_| Ok(()))?;
        self.write(true, |w| {
            let mut ids = Vec::with_capacity(count);
            let mut taken = std::collections::HashSet::new();
            let mut pending = items.into_iter();
            // Takes the next batch and gives a fresh id to any item whose id
            // is already in the vault or earlier in the import.
            let mut next_batch = |tx: &rusqlite::Connection| -> Result<Vec<NewItem>, VaultError> {
                let mut batch: Vec<NewItem> = pending.by_ref().take(IMPORT_BATCH).collect();
                for new in &mut batch {
                    let id = new.current.item.id;
                    if !taken.insert(id) || store::item_exists(tx, id.as_bytes())? {
                        let fresh = ItemId::random();
                        taken.insert(fresh);
                        new.current.item.id = fresh;
                    }
                }
                Ok(batch)
            };
            let vault_id = w.vault_id;
            let subkeys = w.subkeys;
            let sealer =
                Sealer { vault: &vault_id, key: w.current_key()?, index: &subkeys.index, manifest: &subkeys.manifest };
            // A worker seals batch k+1 on the rayon pool while this thread
            // writes batch k to SQLite (the connection cannot leave it).
            std::thread::scope(|scope| -> Result<(), VaultError> {
                let (to_seal, batches) = std::sync::mpsc::sync_channel::<Vec<NewItem>>(1);
                let (sealed_tx, sealed) = std::sync::mpsc::sync_channel::<Result<Vec<SealedItem>, VaultError>>(1);
                scope.spawn(move || {
                    for batch in batches {
                        let result = batch.into_par_iter().map(|new| sealer.seal(new)).collect();
                        if sealed_tx.send(result).is_err() {
                            break;
                        }
                    }
                });
                let mut in_flight = 0;
                let first = next_batch(w.tx)?;
                if !first.is_empty() {
                    to_seal.send(first).map_err(|_| worker_stopped())?;
                    in_flight += 1;
                }
                while in_flight > 0 {
                    let following = next_batch(w.tx)?;
                    if !following.is_empty() {
                        to_seal.send(following).map_err(|_| worker_stopped())?;
                        in_flight += 1;
                    }
                    let batch = sealed.recv().map_err(|_| worker_stopped())??;
                    in_flight -= 1;
                    for s in batch {
                        for row in &s.attachments {
                            store::insert_attachment(w.tx, row)?;
                        }
                        for row in &s.history {
                            store::insert_history(w.tx, row)?;
                        }
                        store::insert_item(w.tx, &s.item)?;
                        let mut sum = ManifestSum(w.state.manifest_sum);
                        sum.add(&s.contribution);
                        w.state.manifest_sum = sum.0;
                        w.state.item_count += 1;
                        ids.push(s.id);
                    }
                    progress(ids.len());
                }
                Ok(())
            })?;
            w.audit(AuditEvent::ItemsImported { count: count as u64, source: source.to_owned() })?;
            Ok(ids)
        })
    }
}

fn worker_stopped() -> VaultError {
    VaultError::Store(crate::store::StoreError::Sqlite("the sealing worker stopped".into()))
}

/// What sealing needs, shareable across threads (the transaction is not).
struct Sealer<'a> {
    vault: &'a VaultId,
    key: &'a DataKey,
    index: &'a HmacKey,
    manifest: &'a HmacKey,
}

impl Sealer<'_> {
    /// Checks and seals one imported item with its history and attachments.
    /// Identical attachment contents within the item are stored once.
    fn seal(&self, new: NewItem) -> Result<SealedItem, VaultError> {
        let Sealer { vault, key, index, manifest } = *self;
        let id = new.current.item.id;
        let skip = new.history.len().saturating_sub(HISTORY_LIMIT);
        let mut attachments: Vec<AttachmentRow> = Vec::new();
        let mut stored: HashMap<[u8; 32], AttachmentId> = HashMap::new();
        let mut prepare = |version: NewVersion, revision: u64, current: bool| -> Result<Item, VaultError> {
            let NewVersion { mut item, attachments: files } = version;
            item.id = id;
            item.revision = revision;
            if !current {
                item.deleted = None;
            }
            item.attachments.clear();
            for file in files {
                let size = file.content.len() as u64;
                if size > MAX_ATTACHMENT_SIZE {
                    return Err(InvalidItem::AttachmentTooLarge { size, max: MAX_ATTACHMENT_SIZE }.into());
                }
                if file.name.is_empty() || file.name.contains(['/', '\0']) || file.name == "." || file.name == ".." {
                    return Err(InvalidItem::BadAttachmentName.into());
                }
                let digest = sha256(&[&file.content]);
                let attachment = *stored.entry(digest).or_insert_with(|| {
                    let attachment = AttachmentId::random();
                    attachments.push(sealed::seal_attachment(&id, &attachment, &file.content, vault, key));
                    attachment
                });
                item.attachments.retain(|a| a.name != file.name);
                item.attachments.push(AttachmentRef { id: attachment, name: file.name.clone(), size, sha256: digest });
            }
            item.normalize()?;
            Ok(item)
        };
        let mut history = Vec::new();
        let mut revision = 0;
        for version in new.history.into_iter().skip(skip) {
            revision += 1;
            let item = prepare(version, revision, false)?;
            history.push(sealed::seal_history(&item, vault, key));
        }
        let item = prepare(new.current, revision + 1, true)?;
        Ok(SealedItem {
            item: sealed::seal_item(&item, vault, key, index),
            history,
            attachments,
            id,
            contribution: crate::manifest::contribution(manifest, &id, item.revision, key.version),
        })
    }
}

#[cfg(test)]
mod tests {
    use zeroize::Zeroizing;

    use super::*;
    use crate::{ItemType, KeyEncryptionKey, NewSlot, OpenOptions, Scope};

    fn vault(dir: &tempfile::TempDir) -> Vault {
        let kek = KeyEncryptionKey::from_bytes(Zeroizing::new([9; 32]));
        let slot = NewSlot { kind: "test".into(), label: "Test".into(), params: vec![], kek };
        Vault::create(dir.path().join("v.tessera"), vec![slot], &OpenOptions::default()).expect("create")
    }

    fn version(title: &str, password: &str) -> NewVersion {
        let mut item = Item::new(ItemType::Login, title);
        item.password = password.into();
        NewVersion::new(item)
    }

    #[test]
    fn imported_item_keeps_history_attachments_and_trash_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir);
        let mut current = version("Mail", "third");
        current.attachments.push(NewAttachment { name: "a.txt".into(), content: Zeroizing::new(b"one".to_vec()) });
        let mut first = version("Mail", "first");
        first.attachments.push(NewAttachment { name: "a.txt".into(), content: Zeroizing::new(b"one".to_vec()) });
        let mut trashed = version("Old", "x");
        trashed.item.deleted = Some(trashed.item.updated);
        let ids = v
            .import(
                vec![
                    NewItem { current, history: vec![first, version("Mail", "second")] },
                    NewItem { current: trashed, history: vec![] },
                ],
                "test",
                |_| {},
            )
            .unwrap();
        let mail = v.get(ids[0]).unwrap();
        assert_eq!(mail.revision, 3);
        let history: Vec<String> = v.history(ids[0]).unwrap().iter().map(|h| h.password.clone()).collect();
        assert_eq!(history, ["second", "first"]);
        assert_eq!(&*v.attachment(ids[0], "a.txt").unwrap().1, b"one");
        let oldest = &v.history(ids[0]).unwrap()[1];
        assert_eq!(&*v.attachment_content(ids[0], &oldest.attachments[0]).unwrap(), b"one");
        assert_eq!(v.summaries(Scope::Trash).unwrap().len(), 1);
        assert!(v.verify(&mut |_, _| {}).unwrap().problems.is_empty());
    }

    #[test]
    fn one_bad_item_fails_the_whole_import_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir);
        let mut bad = version("Bad", "x");
        bad.attachments.push(NewAttachment { name: "../escape".into(), content: Zeroizing::new(vec![1]) });
        let items = vec![NewItem::new(version("Good", "y").item), NewItem { current: bad, history: vec![] }];
        assert!(v.import(items, "test", |_| {}).is_err());
        assert!(v.summaries(Scope::Any).unwrap().is_empty());
        assert!(v.audit_log().unwrap().iter().all(|e| !matches!(e.event, AuditEvent::ItemsImported { .. })));
    }

    #[test]
    fn an_id_already_in_the_vault_gets_a_fresh_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir);
        let existing = v.add(vec![version("A", "1").item]).unwrap()[0];
        let mut again = version("B", "2");
        again.item.id = existing;
        let ids = v.import(vec![NewItem { current: again, history: vec![] }], "test", |_| {}).unwrap();
        assert_ne!(ids[0], existing);
        assert_eq!(v.get(existing).unwrap().title, "A");
        assert_eq!(v.get(ids[0]).unwrap().title, "B");
    }
}
