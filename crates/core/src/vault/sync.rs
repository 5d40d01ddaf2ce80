//! What the sync layer (`tessera-sync`) needs from a vault, and nothing
//! more: keys derived from the Vault Key for sync records, the account's
//! signed manifest and this device's sync state; the Vault Key wrapped for
//! the account; and applying changes pulled from the server in one
//! transaction with the sync state that records them.
//!
//! Sync keys are derived with a fixed salt, not the vault id: every device
//! of one account keeps its own vault file (own vault id, own data keys,
//! own slots) around the same Vault Key, so the account's records must open
//! on all of them. Records are sealed whole (one AEAD per item, DESIGN §5),
//! with the item id, the server revision and the tombstone flag in the AAD.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use zeroize::Zeroizing;

use super::import::{NewAttachment, NewVersion};
use super::{NewSlot, OpenOptions, Vault};
use crate::audit::AuditEvent;
use crate::error::{CreateError, IntegrityError, VaultError};
use crate::format::Aad;
use crate::ids::{AttachmentId, ItemId};
use crate::item::{AttachmentRef, InvalidItem, MAX_ATTACHMENT_SIZE};
use crate::keys::{KEY_LEN, KeyEncryptionKey, VaultKey};
use crate::primitives::aead::{Cipher, NONCE_LEN, OVERHEAD, TAG_LEN};
use crate::primitives::hash::{HmacKey, hkdf_sha256, hmac_sha256_verify, sha256};
use crate::sealed;
use crate::store;

const SYNC_SALT: &[u8] = b"tessera/v1/sync";

/// Keys for the sync layer, derived from the Vault Key (HKDF-SHA256, salt
/// `tessera/v1/sync`, one info string per purpose).
pub struct SyncKeys {
    record: Cipher,
    manifest: HmacKey,
    manifest_key: Zeroizing<[u8; KEY_LEN]>,
    identity: Cipher,
}

/// A sync record, manifest or wrapped key failed authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("failed authentication")]
pub struct NotAuthentic;

impl SyncKeys {
    fn derive(vault_key: &VaultKey) -> SyncKeys {
        let derive = |info: &str| hkdf_sha256(SYNC_SALT, vault_key.expose(), info.as_bytes());
        let manifest_key = derive("tessera/v1/sync-manifest");
        SyncKeys {
            record: Cipher::new(&derive("tessera/v1/sync-record")),
            manifest: HmacKey::new(&manifest_key),
            manifest_key,
            identity: Cipher::new(&derive("tessera/v1/identity")),
        }
    }

    /// Seals the account's sharing identity (its private keys) for the
    /// server to keep, bound to the account's email.
    pub fn seal_identity(&self, account: &str, secret: &[u8]) -> Vec<u8> {
        self.identity.seal(&Aad::Identity { account }.to_bytes(), secret)
    }

    /// Opens what [`SyncKeys::seal_identity`] sealed.
    pub fn open_identity(&self, account: &str, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, NotAuthentic> {
        self.identity.open(&Aad::Identity { account }.to_bytes(), blob).map_err(|_| NotAuthentic)
    }

    /// Seals an item's record for the server at server revision `revision`
    /// (a tombstone has `deleted` and an empty plaintext).
    pub fn seal_record(&self, item: &ItemId, revision: u64, deleted: bool, plaintext: &[u8]) -> Vec<u8> {
        crate::padding::seal_padded(&self.record, &Aad::SyncRecord { item, revision, deleted }, plaintext)
    }

    /// Opens a record: fails if it was sealed for another item, another
    /// revision, another tombstone state, another account, or was altered.
    pub fn open_record(
        &self,
        item: &ItemId,
        revision: u64,
        deleted: bool,
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, NotAuthentic> {
        crate::padding::open_padded(&self.record, &Aad::SyncRecord { item, revision, deleted }, blob)
            .map_err(|_| NotAuthentic)
    }

    /// One manifest entry's contribution to the keyed multiset hash: the
    /// item at this server revision.
    pub fn manifest_entry(&self, item: &ItemId, revision: u64) -> [u8; 32] {
        self.manifest.mac(&[b"entry\0", item.as_bytes(), &revision.to_be_bytes()])
    }

    /// The MAC over a manifest's version, entry count and multiset sum.
    pub fn manifest_mac(&self, version: u64, count: u64, sum: &[u8; 32]) -> [u8; 32] {
        self.manifest.mac(&[b"manifest\0", &version.to_be_bytes(), &count.to_be_bytes(), sum])
    }

    /// Checks a manifest MAC in constant time.
    pub fn manifest_mac_matches(&self, version: u64, count: u64, sum: &[u8; 32], mac: &[u8]) -> bool {
        hmac_sha256_verify(&self.manifest_key, &[b"manifest\0", &version.to_be_bytes(), &count.to_be_bytes(), sum], mac)
    }
}

/// A change pulled from the server, to apply to this vault.
pub enum RemoteChange {
    /// The item as another device saved it, with its attachments' contents.
    /// Its id is kept; its local revision continues this vault's count.
    Put(Box<NewVersion>),
    /// The item was deleted for good on another device.
    Remove(ItemId),
}

impl VaultKey {
    /// Unwraps a Vault Key wrapped for a sync account (see
    /// [`Vault::wrap_for_account`]).
    pub fn unwrap_for_account(kek: &KeyEncryptionKey, account: &[u8], blob: &[u8]) -> Result<VaultKey, NotAuthentic> {
        let plain = kek.cipher().open(&Aad::AccountVaultKey { account }.to_bytes(), blob).map_err(|_| NotAuthentic)?;
        let bytes: [u8; KEY_LEN] = plain.as_slice().try_into().map_err(|_| NotAuthentic)?;
        Ok(VaultKey::from_bytes(Zeroizing::new(bytes)))
    }
}

impl Vault {
    /// The keys for sync records and the sync manifest.
    pub fn sync_keys(&self) -> SyncKeys {
        SyncKeys::derive(&self.vault_key)
    }

    /// The Vault Key wrapped under an account's key (AES-256-GCM, AAD bound
    /// to the account's KDF salt), for the server to keep.
    pub fn wrap_for_account(&self, kek: &KeyEncryptionKey, account: &[u8]) -> Vec<u8> {
        kek.cipher().seal(&Aad::AccountVaultKey { account }.to_bytes(), self.vault_key.expose())
    }

    /// Creates a new vault around an existing Vault Key (a second device of
    /// a sync account); otherwise exactly [`Vault::create`].
    pub fn create_with_key(
        path: impl AsRef<Path>,
        vault_key: VaultKey,
        slots: Vec<NewSlot>,
        options: &OpenOptions,
    ) -> Result<Vault, CreateError> {
        Vault::create_inner(path.as_ref(), Some(vault_key), slots, options)
    }

    /// This device's sync state, opened; `None` before the vault joins an
    /// account.
    pub fn sync_state(&self) -> Result<Option<SyncStateParts>, VaultError> {
        let cipher = self.sync_state_cipher();
        self.read(false, |r| {
            let Some(root) = store::get_sync_state(r.tx)? else {
                if store::sync_state_parts(r.tx)?.is_empty() {
                    return Ok(None);
                }
                return Err(IntegrityError::SyncState.into());
            };
            let sealed = store::sync_state_parts(r.tx)?;
            let seals: Vec<(String, Vec<u8>)> =
                sealed.iter().map(|(name, blob)| (name.clone(), blob_seal(blob))).collect();
            let aad = Aad::SyncState { vault: &r.vault_id, parts: &seals }.to_bytes();
            let root = cipher.open(&aad, &root).map_err(|_| IntegrityError::SyncState)?;
            let mut parts = BTreeMap::new();
            for (name, blob) in &sealed {
                let aad = Aad::SyncStatePart { vault: &r.vault_id, name }.to_bytes();
                parts.insert(name.clone(), cipher.open(&aad, blob).map_err(|_| IntegrityError::SyncState)?);
            }
            Ok(Some(SyncStateParts { root, parts }))
        })
    }

    /// Writes this device's sync state: the root, and the parts `update`
    /// names (`None` forgets the whole state, the account with it).
    pub fn save_sync_state(&mut self, update: Option<&SyncStateUpdate>) -> Result<(), VaultError> {
        let cipher = self.sync_state_cipher();
        self.write(false, |w| match update {
            Some(update) => write_sync_state(w.tx, &cipher, &w.vault_id, update),
            None => Ok(store::clear_sync_state(w.tx)?),
        })
    }

    /// Applies pulled changes and saves the sync state that records them,
    /// in one transaction: a crash leaves both old or both new. `based_on`
    /// holds the local revision of every item the changes were merged
    /// against (an id it lacks was absent); an item found at another
    /// revision, changed meanwhile by another session or process, fails
    /// the whole apply with [`VaultError::ChangedMeanwhile`] and nothing is
    /// written, so an edit made during a sync is never overwritten. `state`
    /// is given each change's item id and its new local revision (`None`
    /// when removed) and returns the state to save.
    pub fn apply_remote(
        &mut self,
        changes: Vec<RemoteChange>,
        based_on: &HashMap<ItemId, u64>,
        state: impl FnOnce(&[(ItemId, Option<u64>)]) -> SyncStateUpdate,
    ) -> Result<(), VaultError> {
        let cipher = self.sync_state_cipher();
        self.write(true, |w| {
            let mut applied = Vec::with_capacity(changes.len());
            // Each item is compared once, as it was before this apply.
            let mut checked = std::collections::HashSet::new();
            let mut unchanged = |id: &ItemId, now: Option<&crate::item::Item>| {
                if checked.insert(*id) && based_on.get(id).copied() != now.map(|i| i.revision) {
                    return Err(VaultError::ChangedMeanwhile { item: *id });
                }
                Ok(())
            };
            for change in changes {
                match change {
                    RemoteChange::Remove(id) => {
                        let old = match store::get_item(w.tx, id.as_bytes())? {
                            Some(row) => Some(w.open(&row)?),
                            None => None,
                        };
                        unchanged(&id, old.as_ref())?;
                        if let Some(item) = old {
                            w.remove_item(&item)?;
                        }
                        applied.push((id, None));
                    }
                    RemoteChange::Put(version) => {
                        let NewVersion { mut item, attachments } = *version;
                        let id = item.id;
                        let old = match store::get_item(w.tx, id.as_bytes())? {
                            Some(row) => Some(w.open(&row)?),
                            None => None,
                        };
                        unchanged(&id, old.as_ref())?;
                        let key = w.current_key()?;
                        // Contents this item already stores are not sealed again.
                        let known: HashMap<[u8; 32], AttachmentId> =
                            old.iter().flat_map(|o| o.attachments.iter().map(|a| (a.sha256, a.id))).collect();
                        item.attachments.clear();
                        for NewAttachment { name, content } in attachments {
                            let size = content.len() as u64;
                            if size > MAX_ATTACHMENT_SIZE {
                                return Err(InvalidItem::AttachmentTooLarge { size, max: MAX_ATTACHMENT_SIZE }.into());
                            }
                            let digest = sha256(&[&content]);
                            let attachment = match known.get(&digest) {
                                Some(a) => *a,
                                None => {
                                    let a = AttachmentId::random();
                                    store::insert_attachment(
                                        w.tx,
                                        &sealed::seal_attachment(&id, &a, &content, &w.vault_id, key),
                                    )?;
                                    a
                                }
                            };
                            item.attachments.retain(|a| a.name != name);
                            item.attachments.push(AttachmentRef { id: attachment, name, size, sha256: digest });
                        }
                        match old {
                            Some(old) => w.replace_item(&old, &mut item, true)?,
                            None => {
                                item.revision = 1;
                                w.insert_item(&mut item)?;
                            }
                        }
                        applied.push((id, Some(item.revision)));
                    }
                }
            }
            if !applied.is_empty() {
                w.audit(AuditEvent::ItemsSynced { count: applied.len() as u64 })?;
            }
            write_sync_state(w.tx, &cipher, &w.vault_id, &state(&applied))
        })
    }

    /// Every item's id and local revision, from the rows' plaintext columns
    /// without opening them: how sync finds what changed since it last ran.
    /// (A row altered outside Tessera is caught when sync opens it.)
    pub fn item_revisions(&self) -> Result<Vec<(ItemId, u64)>, VaultError> {
        self.read(false, |r| {
            Ok(store::item_revisions(r.tx)?
                .into_iter()
                .filter_map(|(id, rev)| Some((ItemId::from_slice(&id).ok()?, u64::try_from(rev).ok()?)))
                .collect())
        })
    }

    fn sync_state_cipher(&self) -> Cipher {
        Cipher::new(&hkdf_sha256(SYNC_SALT, self.vault_key.expose(), b"tessera/v1/sync-state"))
    }
}

/// This device's sync state as the sync layer wrote it: a root, and named
/// parts that change on their own (one per share, say), so that a sync
/// rewrites what changed rather than everything. Each part is sealed under
/// its name; the root is sealed bound to every part's sealed blob (DESIGN
/// §5), so the parts on disk are exactly the ones written with that root.
pub struct SyncStateParts {
    /// The root.
    pub root: Zeroizing<Vec<u8>>,
    /// The parts, by name.
    pub parts: BTreeMap<String, Zeroizing<Vec<u8>>>,
}

/// A write of the sync state: always the root; of the parts, those named
/// (`Some`: new contents, `None`: removed). Parts not named stay as they
/// are.
#[derive(Clone, Default)]
pub struct SyncStateUpdate {
    /// The new root.
    pub root: Zeroizing<Vec<u8>>,
    /// Parts written or removed.
    pub parts: Vec<(String, Option<Zeroizing<Vec<u8>>>)>,
}

/// What binds a sealed blob into the root: its nonce and its tag, which
/// nobody without the key can reproduce for other contents.
fn blob_seal(blob: &[u8]) -> Vec<u8> {
    let head = blob.len().min(NONCE_LEN);
    let tail = blob.len().saturating_sub(TAG_LEN).max(head);
    [&blob[..head], &blob[tail..]].concat()
}

fn write_sync_state(
    tx: &rusqlite::Connection,
    cipher: &Cipher,
    vault: &crate::ids::VaultId,
    update: &SyncStateUpdate,
) -> Result<(), VaultError> {
    for (name, value) in &update.parts {
        let sealed = value.as_ref().map(|v| cipher.seal(&Aad::SyncStatePart { vault, name }.to_bytes(), v));
        store::put_sync_state_part(tx, name, sealed.as_deref())?;
    }
    // The parts' ends, read back from the table: the root binds what is
    // stored, parts this write left alone included.
    let seals: Vec<(String, Vec<u8>)> =
        store::sync_state_part_ends(tx, OVERHEAD)?.into_iter().map(|(name, ends)| (name, blob_seal(&ends))).collect();
    let root = cipher.seal(&Aad::SyncState { vault, parts: &seals }.to_bytes(), &update.root);
    store::put_sync_state(tx, &root)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Item, ItemType, Scope};

    fn vault(dir: &tempfile::TempDir, name: &str, key: Option<VaultKey>) -> Vault {
        let kek = KeyEncryptionKey::from_bytes(Zeroizing::new([5; 32]));
        let slot = NewSlot { kind: "test".into(), label: "Test".into(), params: vec![], kek };
        let path = dir.path().join(name);
        match key {
            Some(k) => Vault::create_with_key(path, k, vec![slot], &OpenOptions::default()).unwrap(),
            None => Vault::create(path, vec![slot], &OpenOptions::default()).unwrap(),
        }
    }

    #[test]
    fn records_open_only_for_their_item_revision_and_tombstone_state() {
        let dir = tempfile::tempdir().unwrap();
        let keys = vault(&dir, "a", None).sync_keys();
        let (x, y) = (ItemId::random(), ItemId::random());
        let blob = keys.seal_record(&x, 2, false, b"payload");
        assert_eq!(keys.open_record(&x, 2, false, &blob).unwrap().as_slice(), b"payload");
        assert!(keys.open_record(&y, 2, false, &blob).is_err(), "another item");
        assert!(keys.open_record(&x, 1, false, &blob).is_err(), "another revision");
        assert!(keys.open_record(&x, 2, true, &blob).is_err(), "a forged tombstone");
        let other = vault(&dir, "b", None).sync_keys();
        assert!(other.open_record(&x, 2, false, &blob).is_err(), "another account");
    }

    #[test]
    fn a_second_device_shares_sync_keys_but_not_its_vault_id() {
        let dir = tempfile::tempdir().unwrap();
        let a = vault(&dir, "a", None);
        let kek = KeyEncryptionKey::from_bytes(Zeroizing::new([9; 32]));
        let wrapped = a.wrap_for_account(&kek, b"salt");
        assert!(VaultKey::unwrap_for_account(&kek, b"other salt", &wrapped).is_err());
        let key = VaultKey::unwrap_for_account(&kek, b"salt", &wrapped).unwrap();
        let b = vault(&dir, "b", Some(key));
        assert_ne!(a.vault_id(), b.vault_id());
        let id = ItemId::random();
        let blob = a.sync_keys().seal_record(&id, 1, false, b"x");
        assert!(b.sync_keys().open_record(&id, 1, false, &blob).is_ok());
        let mac = a.sync_keys().manifest_mac(3, 1, &[7; 32]);
        assert!(b.sync_keys().manifest_mac_matches(3, 1, &[7; 32], &mac));
        assert!(!b.sync_keys().manifest_mac_matches(2, 1, &[7; 32], &mac));
    }

    #[test]
    fn applied_changes_and_their_sync_state_land_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir, "a", None);
        let mut item = Item::new(ItemType::Login, "Pulled");
        item.password = "from elsewhere".into();
        let id = item.id;
        let version = NewVersion {
            item,
            attachments: vec![NewAttachment { name: "a.txt".into(), content: Zeroizing::new(b"hello".to_vec()) }],
        };
        v.apply_remote(vec![RemoteChange::Put(Box::new(version))], &HashMap::new(), |applied| {
            assert_eq!(applied, &[(id, Some(1))]);
            root(b"state one")
        })
        .unwrap();
        assert_eq!(v.get(id).unwrap().password, "from elsewhere");
        let (r, content) = v.attachment(id, "a.txt").unwrap();
        assert_eq!((r.size, content.as_slice()), (5, &b"hello"[..]));
        assert_eq!(v.sync_state().unwrap().unwrap().root.as_slice(), b"state one");

        // A failing change leaves both the items and the state as they were.
        let mut bad = Item::new(ItemType::Login, "Bad");
        bad.otp = Some("not an otpauth URI".into());
        let at_one = HashMap::from([(id, 1)]);
        let changes = vec![RemoteChange::Remove(id), RemoteChange::Put(Box::new(NewVersion::new(bad)))];
        let err = v.apply_remote(changes, &at_one, |_| root(b"state two"));
        assert!(err.is_err());
        assert_eq!(v.summaries(Scope::Any).unwrap().len(), 1);
        assert_eq!(v.sync_state().unwrap().unwrap().root.as_slice(), b"state one");

        v.apply_remote(vec![RemoteChange::Remove(id)], &at_one, |_| root(b"state three")).unwrap();
        assert!(v.get(id).is_err());
        assert_eq!(v.item_revisions().unwrap(), vec![]);
    }

    #[test]
    fn an_item_changed_by_another_session_meanwhile_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let mut window = vault(&dir, "a", None);
        let mut item = Item::new(ItemType::Login, "Mine");
        item.password = "before".into();
        let id = window.add(vec![item]).unwrap()[0];
        // The background session merges against revision 1…
        let mut worker = window.reopen(&OpenOptions::default()).unwrap();
        let based_on: HashMap<ItemId, u64> = worker.item_revisions().unwrap().into_iter().collect();
        // …while the window saves an edit.
        window
            .update(id, |i| {
                i.password = "typed in the window".into();
                Ok(())
            })
            .unwrap();
        let mut remote = worker.get(id).unwrap();
        remote.password = "from elsewhere".into();
        let put = || vec![RemoteChange::Put(Box::new(NewVersion::new(remote.clone())))];
        let err = worker.apply_remote(put(), &based_on, |_| root(b"state")).unwrap_err();
        assert!(matches!(err, VaultError::ChangedMeanwhile { item } if item == id), "{err}");
        assert_eq!(window.get(id).unwrap().password, "typed in the window");
        assert!(window.sync_state().unwrap().is_none(), "nothing of the apply was written");
        // Merged again against what is there now, it applies.
        let based_on: HashMap<ItemId, u64> = worker.item_revisions().unwrap().into_iter().collect();
        worker.apply_remote(put(), &based_on, |_| root(b"state")).unwrap();
        assert_eq!(window.get(id).unwrap().password, "from elsewhere");
    }

    #[test]
    fn a_reopened_session_refuses_another_vault_at_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let a = vault(&dir, "a", None);
        drop(vault(&dir, "b", None));
        std::fs::rename(dir.path().join("b"), dir.path().join("a")).unwrap();
        assert!(matches!(a.reopen(&OpenOptions::default()), Err(crate::OpenError::Integrity(_))));
    }

    fn root(bytes: &[u8]) -> SyncStateUpdate {
        SyncStateUpdate { root: Zeroizing::new(bytes.to_vec()), parts: Vec::new() }
    }

    fn with_parts(bytes: &[u8], parts: &[(&str, Option<&[u8]>)]) -> SyncStateUpdate {
        SyncStateUpdate {
            root: Zeroizing::new(bytes.to_vec()),
            parts: parts.iter().map(|(n, v)| (n.to_string(), v.map(|v| Zeroizing::new(v.to_vec())))).collect(),
        }
    }

    fn opened(v: &Vault) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
        let s = v.sync_state().unwrap().unwrap();
        (s.root.to_vec(), s.parts.iter().map(|(n, p)| (n.clone(), p.to_vec())).collect())
    }

    #[test]
    fn tampered_sync_state_is_an_integrity_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir, "a", None);
        v.save_sync_state(Some(&root(b"state"))).unwrap();
        let c = rusqlite::Connection::open(dir.path().join("a")).unwrap();
        c.execute("UPDATE sync_state SET value = zeroblob(length(value)) WHERE key = 'state'", []).unwrap();
        assert!(matches!(v.sync_state(), Err(VaultError::Integrity(IntegrityError::SyncState))));
    }

    #[test]
    fn parts_are_written_on_their_own_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir, "a", None);
        v.save_sync_state(Some(&with_parts(b"r1", &[("a", Some(b"A1")), ("b", Some(b"B1"))]))).unwrap();
        // Only `b` and the root change; `a` stays as written.
        v.save_sync_state(Some(&with_parts(b"r2", &[("b", Some(b"B2"))]))).unwrap();
        assert_eq!(opened(&v), (b"r2".to_vec(), vec![("a".into(), b"A1".to_vec()), ("b".into(), b"B2".to_vec())]));
        // A removed part is gone; an apply writes parts in its transaction.
        v.apply_remote(vec![], &HashMap::new(), |_| with_parts(b"r3", &[("a", None), ("c", Some(b"C1"))])).unwrap();
        assert_eq!(opened(&v), (b"r3".to_vec(), vec![("b".into(), b"B2".to_vec()), ("c".into(), b"C1".to_vec())]));
        // Forgetting the account forgets every part.
        v.save_sync_state(None).unwrap();
        assert!(v.sync_state().unwrap().is_none());
        let c = rusqlite::Connection::open(dir.path().join("a")).unwrap();
        let rows: i64 = c.query_row("SELECT count(*) FROM sync_state", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 0);
    }

    #[test]
    fn a_part_swapped_dropped_added_or_put_back_older_is_an_integrity_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        let mut v = vault(&dir, "a", None);
        v.save_sync_state(Some(&with_parts(b"r1", &[("a", Some(b"A1")), ("b", Some(b"B1"))]))).unwrap();
        let c = rusqlite::Connection::open(&path).unwrap();
        let blob = |key: &str| -> Vec<u8> {
            c.query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| r.get(0)).unwrap()
        };
        let old_a = blob("part:a");
        v.save_sync_state(Some(&with_parts(b"r2", &[("a", Some(b"A2"))]))).unwrap();
        let integrity = |v: &Vault| matches!(v.sync_state(), Err(VaultError::Integrity(IntegrityError::SyncState)));
        let restore = |key: &str, value: &[u8]| {
            c.execute(
                "INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                rusqlite::params![key, value],
            )
            .unwrap();
        };
        let (new_a, b) = (blob("part:a"), blob("part:b"));

        // An older copy of one part, with the current root.
        restore("part:a", &old_a);
        assert!(integrity(&v), "an older part");
        restore("part:a", &new_a);
        assert!(!integrity(&v));
        // One part's blob under another's name.
        restore("part:a", &b);
        assert!(integrity(&v), "a swapped part");
        restore("part:a", &new_a);
        // A part dropped, or one added.
        c.execute("DELETE FROM sync_state WHERE key = 'part:b'", []).unwrap();
        assert!(integrity(&v), "a dropped part");
        restore("part:b", &b);
        restore("part:c", &b);
        assert!(integrity(&v), "an added part");
        c.execute("DELETE FROM sync_state WHERE key = 'part:c'", []).unwrap();
        // Parts with no root at all.
        let root = blob("state");
        c.execute("DELETE FROM sync_state WHERE key = 'state'", []).unwrap();
        assert!(integrity(&v), "parts without their root");
        restore("state", &root);
        assert_eq!(opened(&v).0, b"r2");
    }

    #[test]
    fn a_state_written_before_parts_existed_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir, "a", None);
        // The original encoding: a root alone, its AAD vault id only.
        let mut aad = b"tessera\0".to_vec();
        aad.extend_from_slice(&crate::format::FORMAT_VERSION.to_be_bytes());
        aad.push(9);
        aad.extend_from_slice(v.vault_id().as_bytes());
        let sealed = v.sync_state_cipher().seal(&aad, b"legacy state");
        let c = rusqlite::Connection::open(dir.path().join("a")).unwrap();
        c.execute("INSERT INTO sync_state (key, value) VALUES ('state', ?1)", [sealed]).unwrap();
        assert_eq!(opened(&v), (b"legacy state".to_vec(), vec![]));
        v.save_sync_state(Some(&with_parts(b"r", &[("a", Some(b"A"))]))).unwrap();
        assert_eq!(opened(&v), (b"r".to_vec(), vec![("a".into(), b"A".to_vec())]));
    }
}
