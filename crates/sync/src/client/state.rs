//! This device's sync state, kept sealed inside its vault file (core seals
//! it under a key derived from the Vault Key): the server, the account,
//! the Secret Key, this device's tokens, the pull cursor, the last verified
//! manifest and, per item, the server revision and local revision last
//! synced.
//!
//! It is stored in parts (DESIGN §5): a small root (the account, the
//! session, contacts), the account stream's per-item table, and one part
//! per share. A save writes the root and the parts that changed since they
//! were read or last written, so a sync that touched one share of ten
//! rewrites that share, not all ten.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tessera_core::{IntegrityError, ManifestSum, SyncStateUpdate, Vault, VaultError};
use zeroize::Zeroizing;

use super::manifest::Manifest;
use crate::wire::KdfSpec;

/// The tokens of this device's session.
#[derive(Clone, Serialize, Deserialize)]
pub struct Tokens {
    /// This device's id on the server.
    pub device_id: String,
    /// Bearer token.
    pub access_token: String,
    /// Unix seconds when the access token stops working.
    pub access_expires: i64,
    /// Single-use refresh token.
    pub refresh_token: String,
}

/// What this device last agreed with the server about one item. Stored as
/// `[revision, local, deleted]`, a third the size of the named form (which
/// a state written before still holds, and reads as well).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct Tracked {
    /// Server revision.
    pub revision: u64,
    /// Local revision that revision corresponds to (0: none).
    pub local: u64,
    /// The server holds a tombstone.
    pub deleted: bool,
}

impl Serialize for Tracked {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.revision, self.local, self.deleted).serialize(s)
    }
}

/// The part that holds the account stream's per-item table.
const ACCOUNT_PART: &str = "account";
/// The prefix of a share's part; the share id follows.
const SHARE_PART: &str = "share-";

/// The whole state.
#[derive(Clone, Serialize, Deserialize)]
pub struct SyncState {
    /// Server base URL.
    pub server: String,
    /// Account email.
    pub email: String,
    /// Account id.
    pub account_id: String,
    /// The Secret Key, displayed form.
    pub secret_key: String,
    /// Account salt, base64.
    pub salt: String,
    /// Account KDF parameters (trusted from registration or first login,
    /// never from a later prelogin).
    pub kdf: KdfSpec,
    /// This device's name.
    pub device_name: String,
    /// Current session, if any.
    pub session: Option<Tokens>,
    /// The account's own stream of items (its fields sit at the top level
    /// of the JSON, as before sharing existed).
    #[serde(flatten)]
    pub stream: StreamState,
    /// Unix seconds of the last successful sync.
    pub last_sync: Option<i64>,
    /// Set by `restore-check --accept-older`: the next sync goes on though
    /// this file is older than this device's last push (a deliberate
    /// restore), and clears it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accept_older: bool,
    /// The account's sharing identity (private keys, base64), once made or
    /// fetched (DESIGN §11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// People this account has met, by email: their pinned public keys.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub contacts: BTreeMap<String, Contact>,
    /// Shares this account belongs to, by share id.
    #[serde(default, skip_serializing_if = "Shares::is_empty")]
    pub shares: Shares,
    /// Every part as it was read or last written, by part name: a save
    /// writes the parts that differ.
    #[serde(skip)]
    pub(crate) stored: BTreeMap<String, Zeroizing<Vec<u8>>>,
}

/// Shares by share id, remembering which were reached for mutably since
/// the state was read or last written: a save serialises those and no
/// other (a sync of a member of ten shares changes one or two).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Shares {
    map: BTreeMap<String, ShareState>,
    #[serde(skip)]
    touched: BTreeSet<String>,
}

impl Shares {
    /// The share `id`.
    pub fn get(&self, id: &str) -> Option<&ShareState> {
        self.map.get(id)
    }

    /// The share `id`, to change.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut ShareState> {
        let share = self.map.get_mut(id)?;
        self.touched.insert(id.to_owned());
        Some(share)
    }

    /// The share `id`, to change, made if new.
    pub fn entry(&mut self, id: &str) -> &mut ShareState {
        self.touched.insert(id.to_owned());
        self.map.entry(id.to_owned()).or_default()
    }

    /// Adds or replaces a share.
    pub fn insert(&mut self, id: String, share: ShareState) {
        self.touched.insert(id.clone());
        self.map.insert(id, share);
    }

    /// Takes a share out.
    pub fn remove(&mut self, id: &str) -> Option<ShareState> {
        self.map.remove(id)
    }

    /// Whether there is a share `id`.
    pub fn contains_key(&self, id: &str) -> bool {
        self.map.contains_key(id)
    }

    /// Share ids.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.map.keys()
    }

    /// Shares.
    pub fn values(&self) -> impl Iterator<Item = &ShareState> {
        self.map.values()
    }

    /// Every share, to change.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut ShareState> {
        self.touched.extend(self.map.keys().cloned());
        self.map.values_mut()
    }

    /// Shares with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &ShareState)> {
        self.map.iter()
    }

    /// Every share with its id, to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut ShareState)> {
        self.touched.extend(self.map.keys().cloned());
        self.map.iter_mut()
    }

    /// No shares.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl std::ops::Index<&str> for Shares {
    type Output = ShareState;

    fn index(&self, id: &str) -> &ShareState {
        &self.map[id]
    }
}

/// What this device last agreed with the server about one stream of items
/// (the account's own, or one share's).
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct StreamState {
    /// Pull cursor.
    pub cursor: u64,
    /// The newest manifest this device has verified or signed.
    pub manifest_version: u64,
    /// Its entry count.
    pub manifest_count: u64,
    /// Its sum, hex.
    pub manifest_sum: String,
    /// Per item (hex id). Kept in its own part, so absent from the root.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub items: BTreeMap<String, Tracked>,
}

/// A pinned person (trust on first use, or verified by fingerprint).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Ed25519 key, base64.
    pub sign: String,
    /// X25519 key, base64.
    pub enc: String,
    /// The user compared fingerprints (`identity verify`).
    pub verified: bool,
}

/// One share, as this account knows it.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct ShareState {
    /// Its name (from the `create` record).
    pub name: String,
    /// The verified chain's length and the SHA-256 of its last record
    /// (hex): a served chain must extend it.
    pub chain_len: u64,
    /// Hash of the last verified record, hex.
    pub chain_head: String,
    /// The current epoch.
    pub epoch: u64,
    /// Its key, base64 (zeroized on drop).
    pub key: String,
    /// This account's role as of that chain.
    pub role: String,
    /// The local items that belong to the share (hex ids).
    pub members: BTreeSet<String>,
    /// Server-side state of the share's items.
    pub stream: StreamState,
    /// The share's index as last verified with nothing left to do here,
    /// which a sync asks the server about instead of fetching it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<Checked>,
}

/// A verified share index, named by the server's `ETag` for it, and the
/// contacts it was checked against (`contacts_digest`): a change to either
/// means checking it in full again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    /// The `ETag` the server gave the index.
    pub etag: String,
    /// [`SyncState::contacts_digest`] then.
    pub contacts: String,
}

impl Drop for ShareState {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.key);
    }
}

impl Drop for SyncState {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret_key);
        if let Some(identity) = &mut self.identity {
            zeroize::Zeroize::zeroize(identity);
        }
        if let Some(s) = &mut self.session {
            zeroize::Zeroize::zeroize(&mut s.access_token);
            zeroize::Zeroize::zeroize(&mut s.refresh_token);
        }
    }
}

impl SyncState {
    /// Reads the state from the vault; `None` if it has no account.
    pub fn load(vault: &Vault) -> Result<Option<SyncState>, VaultError> {
        let Some(stored) = vault.sync_state()? else { return Ok(None) };
        // Sealed by us; a parse failure means a newer format or damage.
        let bad = || VaultError::Integrity(IntegrityError::SyncState);
        let mut state: SyncState = serde_json::from_slice(&stored.root).map_err(|_| bad())?;
        for (name, bytes) in &stored.parts {
            if name == ACCOUNT_PART {
                state.stream.items = serde_json::from_slice(bytes).map_err(|_| bad())?;
            } else if let Some(id) = name.strip_prefix(SHARE_PART) {
                state.shares.insert(id.to_owned(), serde_json::from_slice(bytes).map_err(|_| bad())?);
            } else {
                return Err(bad());
            }
        }
        state.stored = stored.parts;
        state.shares.touched.clear();
        Ok(Some(state))
    }

    /// The write that brings the stored state to this one: the root, and
    /// every part that differs from what is stored (or is gone). Record it
    /// with [`SyncState::written`] once it is committed.
    pub fn update(&mut self) -> SyncStateUpdate {
        let mut parts: Vec<(String, Option<Zeroizing<Vec<u8>>>)> = Vec::new();
        let mut changed = |stored: &BTreeMap<String, Zeroizing<Vec<u8>>>, name: String, bytes: Zeroizing<Vec<u8>>| {
            if stored.get(&name).is_none_or(|old| **old != *bytes) {
                parts.push((name, Some(bytes)));
            }
        };
        changed(&self.stored, ACCOUNT_PART.to_owned(), json(&self.stream.items));
        for (id, share) in &self.shares.map {
            let name = format!("{SHARE_PART}{id}");
            // A share nobody reached for mutably is as stored.
            if self.shares.touched.contains(id) || !self.stored.contains_key(&name) {
                changed(&self.stored, name, json(share));
            }
        }
        for name in self.stored.keys() {
            let gone = match name.strip_prefix(SHARE_PART) {
                Some(id) => !self.shares.contains_key(id),
                None => name != ACCOUNT_PART,
            };
            if gone {
                parts.push((name.clone(), None));
            }
        }
        // The root is the rest: the per-item tables and shares are out of
        // it while it is written.
        let items = std::mem::take(&mut self.stream.items);
        let shares = std::mem::take(&mut self.shares.map);
        let root = serde_json::to_vec(self);
        self.stream.items = items;
        self.shares.map = shares;
        SyncStateUpdate { root: Zeroizing::new(root.expect("the sync state always serialises")), parts }
    }

    /// Records that `update` is what the vault now stores.
    pub fn written(&mut self, update: SyncStateUpdate) {
        self.shares.touched.clear();
        for (name, bytes) in update.parts {
            match bytes {
                Some(bytes) => self.stored.insert(name, bytes),
                None => self.stored.remove(&name),
            };
        }
    }

    /// Saves the state: the root and the parts that changed.
    pub fn save(&mut self, vault: &mut Vault) -> Result<(), VaultError> {
        let update = self.update();
        vault.save_sync_state(Some(&update))?;
        self.written(update);
        Ok(())
    }

    /// The share an item belongs to locally, if any.
    pub fn share_of(&self, id: &str) -> Option<&str> {
        self.shares.iter().find(|(_, s)| s.members.contains(id)).map(|(k, _)| k.as_str())
    }

    /// SHA-256 (hex) of the pinned contacts, which every share's membership
    /// is checked against.
    pub fn contacts_digest(&self) -> String {
        use sha2::Digest;
        let json = serde_json::to_vec(&self.contacts).expect("contacts serialise");
        data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(&json))
    }

    /// Every shared local item (hex id) with its share's id: one map for
    /// asking about many items.
    pub fn owners(&self) -> std::collections::HashMap<&str, &str> {
        self.shares.iter().flat_map(|(k, s)| s.members.iter().map(move |m| (m.as_str(), k.as_str()))).collect()
    }
}

/// One part, serialised.
fn json<T: Serialize>(value: &T) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(serde_json::to_vec(value).expect("the sync state always serialises"))
}

impl StreamState {
    /// The last manifest as a value.
    pub fn manifest(&self) -> Manifest {
        let mut sum = [0u8; 32];
        if let Ok(bytes) = data_encoding::HEXLOWER.decode(self.manifest_sum.as_bytes())
            && bytes.len() == 32
        {
            sum.copy_from_slice(&bytes);
        }
        Manifest { version: self.manifest_version, count: self.manifest_count, sum: ManifestSum(sum) }
    }

    /// Records a manifest.
    pub fn set_manifest(&mut self, m: &Manifest) {
        self.manifest_version = m.version;
        self.manifest_count = m.count;
        self.manifest_sum = data_encoding::HEXLOWER.encode(&m.sum.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(update: &SyncStateUpdate) -> Vec<(String, bool)> {
        update.parts.iter().map(|(n, v)| (n.clone(), v.is_some())).collect()
    }

    fn share(name: &str) -> serde_json::Value {
        let stream = serde_json::json!({"cursor": 0, "manifest_version": 0, "manifest_count": 0, "manifest_sum": ""});
        serde_json::json!({
            "name": name, "chain_len": 1, "chain_head": "", "epoch": 1, "key": "", "role": "read",
            "members": [], "stream": stream,
        })
    }

    #[test]
    fn a_save_writes_the_parts_that_changed_and_removes_the_ones_gone() {
        let mut state: SyncState = serde_json::from_value(serde_json::json!({
            "server": "s", "email": "e", "account_id": "a", "secret_key": "k", "salt": "s",
            "kdf": {"algorithm": "argon2id", "memory_kib": 1, "iterations": 1, "parallelism": 1},
            "device_name": "d", "session": null, "cursor": 0, "manifest_version": 0, "manifest_count": 0,
            "manifest_sum": "", "last_sync": null,
            "items": {"00": {"revision": 1, "local": 1, "deleted": false}},
            "shares": {"a": share("A"), "b": share("B")}
        }))
        .unwrap();
        // A state from before parts: everything goes into parts, and the
        // root keeps neither the item table nor the shares.
        let first = state.update();
        assert_eq!(names(&first), [("account".into(), true), ("share-a".into(), true), ("share-b".into(), true)]);
        let root: serde_json::Value = serde_json::from_slice(&first.root).unwrap();
        assert!(root.get("items").is_none() && root.get("shares").is_none(), "{root}");
        state.written(first);
        assert_eq!(names(&state.update()), [], "nothing changed");

        // Reached for mutably but left as it was: nothing to write.
        state.shares.get_mut("a").unwrap();
        assert_eq!(names(&state.update()), []);
        state.shares.get_mut("a").unwrap().epoch = 2;
        state.stream.items.get_mut("00").unwrap().local = 2;
        let second = state.update();
        assert_eq!(names(&second), [("account".into(), true), ("share-a".into(), true)]);
        state.written(second);

        state.shares.remove("b");
        assert_eq!(names(&state.update()), [("share-b".into(), false)]);
    }
}
