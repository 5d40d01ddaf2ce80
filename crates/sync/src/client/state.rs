//! This device's sync state, kept sealed inside its vault file (core seals
//! it under a key derived from the Vault Key): the server, the account,
//! the Secret Key, this device's tokens, the pull cursor, the last verified
//! manifest and, per item, the server revision and local revision last
//! synced.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use tessera_core::{ManifestSum, Vault, VaultError};
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

/// What this device last agreed with the server about one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracked {
    /// Server revision.
    pub revision: u64,
    /// Local revision that revision corresponds to (0: none).
    pub local: u64,
    /// The server holds a tombstone.
    pub deleted: bool,
}

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
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shares: BTreeMap<String, ShareState>,
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
    /// Per item (hex id).
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
        let Some(bytes) = vault.sync_state()? else { return Ok(None) };
        // Sealed by us; a parse failure means a newer format or damage.
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| VaultError::Integrity(tessera_core::IntegrityError::SyncState))
    }

    /// Serialised, for the vault to seal.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(serde_json::to_vec(self).expect("the sync state always serialises"))
    }

    /// Saves the state on its own.
    pub fn save(&self, vault: &mut Vault) -> Result<(), VaultError> {
        vault.save_sync_state(Some(&self.to_bytes()))
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
