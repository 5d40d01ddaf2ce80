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

use std::collections::HashMap;
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
use crate::primitives::aead::Cipher;
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
    pub fn sync_state(&self) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        let cipher = self.sync_state_cipher();
        self.read(false, |r| {
            let Some(blob) = store::get_sync_state(r.tx)? else { return Ok(None) };
            let aad = Aad::SyncState { vault: &r.vault_id }.to_bytes();
            Ok(Some(cipher.open(&aad, &blob).map_err(|_| IntegrityError::SyncState)?))
        })
    }

    /// Replaces this device's sync state (`None` forgets the account).
    pub fn save_sync_state(&mut self, state: Option<&[u8]>) -> Result<(), VaultError> {
        let cipher = self.sync_state_cipher();
        self.write(false, |w| {
            let sealed = state.map(|s| cipher.seal(&Aad::SyncState { vault: &w.vault_id }.to_bytes(), s));
            store::put_sync_state(w.tx, sealed.as_deref())?;
            Ok(())
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
        state: impl FnOnce(&[(ItemId, Option<u64>)]) -> Vec<u8>,
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
            let sealed = cipher.seal(&Aad::SyncState { vault: &w.vault_id }.to_bytes(), &state(&applied));
            store::put_sync_state(w.tx, Some(&sealed))?;
            Ok(())
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
            b"state one".to_vec()
        })
        .unwrap();
        assert_eq!(v.get(id).unwrap().password, "from elsewhere");
        let (r, content) = v.attachment(id, "a.txt").unwrap();
        assert_eq!((r.size, content.as_slice()), (5, &b"hello"[..]));
        assert_eq!(v.sync_state().unwrap().unwrap().as_slice(), b"state one");

        // A failing change leaves both the items and the state as they were.
        let mut bad = Item::new(ItemType::Login, "Bad");
        bad.otp = Some("not an otpauth URI".into());
        let at_one = HashMap::from([(id, 1)]);
        let changes = vec![RemoteChange::Remove(id), RemoteChange::Put(Box::new(NewVersion::new(bad)))];
        let err = v.apply_remote(changes, &at_one, |_| b"state two".to_vec());
        assert!(err.is_err());
        assert_eq!(v.summaries(Scope::Any).unwrap().len(), 1);
        assert_eq!(v.sync_state().unwrap().unwrap().as_slice(), b"state one");

        v.apply_remote(vec![RemoteChange::Remove(id)], &at_one, |_| b"state three".to_vec()).unwrap();
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
        let err = worker.apply_remote(put(), &based_on, |_| b"state".to_vec()).unwrap_err();
        assert!(matches!(err, VaultError::ChangedMeanwhile { item } if item == id), "{err}");
        assert_eq!(window.get(id).unwrap().password, "typed in the window");
        assert!(window.sync_state().unwrap().is_none(), "nothing of the apply was written");
        // Merged again against what is there now, it applies.
        let based_on: HashMap<ItemId, u64> = worker.item_revisions().unwrap().into_iter().collect();
        worker.apply_remote(put(), &based_on, |_| b"state".to_vec()).unwrap();
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

    #[test]
    fn tampered_sync_state_is_an_integrity_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vault(&dir, "a", None);
        v.save_sync_state(Some(b"state")).unwrap();
        let c = rusqlite::Connection::open(dir.path().join("a")).unwrap();
        c.execute("UPDATE sync_state SET value = zeroblob(length(value)) WHERE key = 'state'", []).unwrap();
        assert!(matches!(v.sync_state(), Err(VaultError::Integrity(IntegrityError::SyncState))));
    }
}
