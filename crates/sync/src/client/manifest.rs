//! The account manifest: which items exist at which server revision,
//! signed by the client so that a hostile server cannot drop, roll back,
//! replay or add an item unnoticed (DESIGN §5).
//!
//! The entries are summed with the keyed multiset hash the local vault uses
//! (`ManifestSum`): each entry contributes HMAC(sync manifest key, id ‖
//! revision). The signed form is constant-size — version, entry count, sum
//! and an HMAC over all three — so a push carries 80 bytes of manifest
//! whatever the vault's size, and any device can check a server's index
//! against it. The version only grows: each push signs `version + 1`, and a
//! client refuses a manifest older than one it has seen.

use tessera_core::{ItemId, ManifestSum, SyncKeys};

use crate::wire::{b64, from_b64};

/// A manifest's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Grows by one with every push.
    pub version: u64,
    /// Entries (items and tombstones).
    pub count: u64,
    /// Keyed multiset hash of the entries.
    pub sum: ManifestSum,
}

/// A signed manifest failed its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadManifest;

const SIGNED_LEN: usize = 8 + 8 + 32 + 32;

impl Manifest {
    /// The manifest of an account with no items.
    pub fn empty() -> Manifest {
        Manifest { version: 1, count: 0, sum: ManifestSum::default() }
    }

    /// The manifest of exactly these entries, at `version`.
    pub fn of<'a>(keys: &SyncKeys, version: u64, entries: impl IntoIterator<Item = (&'a ItemId, u64)>) -> Manifest {
        let mut m = Manifest { version, count: 0, sum: ManifestSum::default() };
        for (id, revision) in entries {
            m.sum.add(&keys.manifest_entry(id, revision));
            m.count += 1;
        }
        m
    }

    /// The manifest of exactly these entry contributions, at `version`.
    pub fn of_entries(version: u64, entries: impl IntoIterator<Item = [u8; 32]>) -> Manifest {
        let mut m = Manifest { version, count: 0, sum: ManifestSum::default() };
        for entry in entries {
            m.sum.add(&entry);
            m.count += 1;
        }
        m
    }

    /// Replaces entry `from` (`None`: a new item) with entry `to`.
    pub fn advance_entries(&mut self, from: Option<[u8; 32]>, to: [u8; 32]) {
        match from {
            None => self.count += 1,
            Some(from) => self.sum.sub(&from),
        }
        self.sum.add(&to);
    }

    /// Moves an item from `from` (0: new) to revision `to`.
    pub fn advance(&mut self, keys: &SyncKeys, id: &ItemId, from: u64, to: u64) {
        if from == 0 {
            self.count += 1;
        } else {
            self.sum.sub(&keys.manifest_entry(id, from));
        }
        self.sum.add(&keys.manifest_entry(id, to));
    }

    /// The signed wire form (base64 of version ‖ count ‖ sum ‖ MAC).
    pub fn sign(&self, keys: &SyncKeys) -> String {
        let mut out = Vec::with_capacity(SIGNED_LEN);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(&self.sum.0);
        out.extend_from_slice(&keys.manifest_mac(self.version, self.count, &self.sum.0));
        b64(&out)
    }

    /// Opens a signed manifest; fails unless its MAC is good.
    pub fn verify(keys: &SyncKeys, signed: &str) -> Result<Manifest, BadManifest> {
        let bytes = from_b64(signed).filter(|b| b.len() == SIGNED_LEN).ok_or(BadManifest)?;
        let version = u64::from_be_bytes(bytes[0..8].try_into().map_err(|_| BadManifest)?);
        let count = u64::from_be_bytes(bytes[8..16].try_into().map_err(|_| BadManifest)?);
        let sum: [u8; 32] = bytes[16..48].try_into().map_err(|_| BadManifest)?;
        if !keys.manifest_mac_matches(version, count, &sum, &bytes[48..]) {
            return Err(BadManifest);
        }
        Ok(Manifest { version, count, sum: ManifestSum(sum) })
    }
}
