//! The on-disk format: its version and the additional authenticated data
//! (AAD) that binds every sealed blob to where it belongs.
//!
//! Every AAD starts with the magic `tessera\0`, the format version and a
//! domain byte, so a blob sealed for one purpose (an item, a history entry,
//! an attachment, a wrapped key, an audit entry) never opens as another, and
//! a blob from a future or past format never opens under this one (there is
//! no legacy mode to downgrade to). The domain byte's high bit marks a
//! padded plaintext (`padding.rs`).

use crate::ids::{AttachmentId, ItemId, KeyVersion, SlotId, VaultId};

/// Version of the vault format. Bound into every AAD and the header.
pub const FORMAT_VERSION: u16 = 1;

const MAGIC: &[u8; 8] = b"tessera\0";

/// What a blob is, and the identifiers that pin it in place.
pub(crate) enum Aad<'a> {
    /// The Vault Key wrapped in a slot. `params_digest` is SHA-256 of the
    /// slot's factor parameters, so they cannot be swapped between slots.
    Slot { vault: &'a VaultId, slot: SlotId, kind: &'a str, params_digest: [u8; 32] },
    /// A data key wrapped by the data-key-wrap subkey.
    DataKey { vault: &'a VaultId, version: KeyVersion },
    /// The current version of an item: format ‖ vault id ‖ item id ‖ key version.
    Item { vault: &'a VaultId, item: &'a ItemId, key_version: KeyVersion },
    /// An earlier version of an item, kept in history.
    History { vault: &'a VaultId, item: &'a ItemId, revision: u64, key_version: KeyVersion },
    /// An attachment's content.
    Attachment { vault: &'a VaultId, item: &'a ItemId, attachment: &'a AttachmentId, key_version: KeyVersion },
    /// The details of one audit entry.
    Audit { vault: &'a VaultId, seq: u64 },
    /// An item's sync record: item id ‖ server revision ‖ tombstone flag. No
    /// vault id: every device of an account has its own vault id, and the
    /// sync record key is already unique to the account's Vault Key.
    SyncRecord { item: &'a ItemId, revision: u64, deleted: bool },
    /// The Vault Key wrapped for a sync account; `account` is the account's
    /// KDF salt, so a wrapped key cannot be moved between accounts.
    AccountVaultKey { account: &'a [u8] },
    /// The root of this device's sync state, sealed inside its vault file,
    /// bound to every part's sealed blob by its nonce and tag (name order):
    /// a part dropped, added, or put back from an older copy of the file
    /// makes the root fail to open. With no parts the encoding is the
    /// original one, so a state written before parts existed still opens.
    SyncState { vault: &'a VaultId, parts: &'a [(String, Vec<u8>)] },
    /// One named part of this device's sync state: vault id ‖ name.
    SyncStatePart { vault: &'a VaultId, name: &'a str },
    /// A named record at one revision: vault id ‖ revision ‖ name, so a
    /// record never opens under another name or at another revision.
    Record { vault: &'a VaultId, name: &'a str, revision: u64 },
    /// An account's sharing identity (its private keys), sealed for the
    /// account's devices; `account` is the account's email.
    Identity { account: &'a str },
    /// A shared item's record: share id ‖ item id ‖ server revision ‖
    /// tombstone flag ‖ epoch, so it opens in no other share, at no other
    /// revision and under no other epoch's key.
    ShareRecord { share: &'a [u8; 16], item: &'a ItemId, revision: u64, deleted: bool, epoch: u64 },
    /// A share's name, sealed in the membership record that starts `epoch`.
    ShareName { share: &'a [u8; 16], epoch: u64 },
}

/// Where the domain byte sits: after the magic and the format version.
const DOMAIN_AT: usize = MAGIC.len() + 2;

impl Aad<'_> {
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_with(0)
    }

    /// The AAD with `flags` set in its domain byte (domains are 1–14, so
    /// the high bit is free): [`crate::padding::PADDED`] marks a padded
    /// plaintext.
    pub(crate) fn to_bytes_with(&self, flags: u8) -> Vec<u8> {
        let mut out = self.encode();
        out[DOMAIN_AT] |= flags;
        out
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
        match self {
            Aad::Slot { vault, slot, kind, params_digest } => {
                out.push(1);
                out.extend_from_slice(vault.as_bytes());
                out.extend_from_slice(&slot.0.to_be_bytes());
                out.extend_from_slice(&(kind.len() as u32).to_be_bytes());
                out.extend_from_slice(kind.as_bytes());
                out.extend_from_slice(params_digest);
            }
            Aad::DataKey { vault, version } => {
                out.push(2);
                out.extend_from_slice(vault.as_bytes());
                out.extend_from_slice(&version.0.to_be_bytes());
            }
            Aad::Item { vault, item, key_version } => {
                out.push(3);
                out.extend_from_slice(vault.as_bytes());
                out.extend_from_slice(item.as_bytes());
                out.extend_from_slice(&key_version.0.to_be_bytes());
            }
            Aad::History { vault, item, revision, key_version } => {
                out.push(4);
                out.extend_from_slice(vault.as_bytes());
                out.extend_from_slice(item.as_bytes());
                out.extend_from_slice(&key_version.0.to_be_bytes());
                out.extend_from_slice(&revision.to_be_bytes());
            }
            Aad::Attachment { vault, item, attachment, key_version } => {
                out.push(5);
                out.extend_from_slice(vault.as_bytes());
                out.extend_from_slice(item.as_bytes());
                out.extend_from_slice(&key_version.0.to_be_bytes());
                out.extend_from_slice(attachment.as_bytes());
            }
            Aad::Audit { vault, seq } => {
                out.push(6);
                out.extend_from_slice(vault.as_bytes());
                out.extend_from_slice(&seq.to_be_bytes());
            }
            Aad::SyncRecord { item, revision, deleted } => {
                out.push(7);
                out.extend_from_slice(item.as_bytes());
                out.extend_from_slice(&revision.to_be_bytes());
                out.push(u8::from(*deleted));
            }
            Aad::AccountVaultKey { account } => {
                out.push(8);
                out.extend_from_slice(&(account.len() as u32).to_be_bytes());
                out.extend_from_slice(account);
            }
            Aad::SyncState { vault, parts } => {
                out.push(9);
                out.extend_from_slice(vault.as_bytes());
                for (name, seal) in *parts {
                    out.extend_from_slice(&(name.len() as u32).to_be_bytes());
                    out.extend_from_slice(name.as_bytes());
                    out.extend_from_slice(&(seal.len() as u32).to_be_bytes());
                    out.extend_from_slice(seal);
                }
            }
            Aad::Record { vault, name, revision } => {
                out.push(10);
                out.extend_from_slice(vault.as_bytes());
                out.extend_from_slice(&revision.to_be_bytes());
                out.extend_from_slice(&(name.len() as u32).to_be_bytes());
                out.extend_from_slice(name.as_bytes());
            }
            Aad::Identity { account } => {
                out.push(11);
                out.extend_from_slice(&(account.len() as u32).to_be_bytes());
                out.extend_from_slice(account.as_bytes());
            }
            Aad::ShareRecord { share, item, revision, deleted, epoch } => {
                out.push(12);
                out.extend_from_slice(*share);
                out.extend_from_slice(item.as_bytes());
                out.extend_from_slice(&revision.to_be_bytes());
                out.push(u8::from(*deleted));
                out.extend_from_slice(&epoch.to_be_bytes());
            }
            Aad::ShareName { share, epoch } => {
                out.push(13);
                out.extend_from_slice(*share);
                out.extend_from_slice(&epoch.to_be_bytes());
            }
            Aad::SyncStatePart { vault, name } => {
                out.push(14);
                out.extend_from_slice(vault.as_bytes());
                out.extend_from_slice(&(name.len() as u32).to_be_bytes());
                out.extend_from_slice(name.as_bytes());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_aad_binds_format_vault_item_and_key_version() {
        let vault = VaultId::from_slice(&[1; 16]).unwrap();
        let item = ItemId::from_slice(&[2; 16]).unwrap();
        let aad = Aad::Item { vault: &vault, item: &item, key_version: KeyVersion(7) }.to_bytes();
        let mut expected = b"tessera\0".to_vec();
        expected.extend_from_slice(&[0, 1, 3]);
        expected.extend_from_slice(&[1; 16]);
        expected.extend_from_slice(&[2; 16]);
        expected.extend_from_slice(&[0, 0, 0, 7]);
        assert_eq!(aad, expected);
    }

    #[test]
    fn domains_never_collide() {
        let vault = VaultId::from_slice(&[1; 16]).unwrap();
        let item = ItemId::from_slice(&[2; 16]).unwrap();
        let current = Aad::Item { vault: &vault, item: &item, key_version: KeyVersion(1) };
        let history = Aad::History { vault: &vault, item: &item, revision: 0, key_version: KeyVersion(1) };
        assert_ne!(current.to_bytes(), history.to_bytes()[..current.to_bytes().len()]);
    }
}
