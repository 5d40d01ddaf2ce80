//! The key hierarchy of DESIGN §2.
//!
//! ```text
//! factor secret(s) ──(crate tessera-unlock)──► KeyEncryptionKey ─┐ one per slot,
//!                                                                │ wraps the same VK
//!                       Vault Key VK (random 256-bit) ◄──────────┘
//!                              │ HKDF-SHA256(salt = vault id, info = "tessera/v1/…")
//!   ┌──────────────┬───────────┼─────────────┬──────────────┬──────────────┐
//!   data-key wrap  index       manifest      header          audit          records
//!   (wraps DK_v)   (blind      (item-set     (MAC over meta, (seals audit   (seals named
//!                  lookups)    integrity)    slots, keys)    details)       records)
//! ```
//!
//! VK itself keys nothing directly: every use goes through a subkey with its
//! own HKDF info string, so no two purposes ever share a key.

use std::fmt;

use zeroize::Zeroizing;

use crate::ids::{KeyVersion, VaultId};
use crate::primitives::aead::Cipher;
use crate::primitives::hash::{HmacKey, hkdf_sha256};
use crate::primitives::random::random_array;

/// Length in bytes of every symmetric key in the hierarchy.
pub const KEY_LEN: usize = 32;

/// The one random key that every slot wraps. Never leaves memory unwrapped;
/// zeroized on drop.
pub struct VaultKey(Zeroizing<[u8; KEY_LEN]>);

impl VaultKey {
    pub(crate) fn generate() -> Self {
        Self(Zeroizing::new(random_array()))
    }

    pub(crate) fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        Self(bytes)
    }

    pub(crate) fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    pub(crate) fn subkeys(&self, vault: &VaultId) -> Subkeys {
        let derive = |info: &str| hkdf_sha256(vault.as_bytes(), self.0.as_ref(), info.as_bytes());
        Subkeys {
            data_key_wrap: Cipher::new(&derive("tessera/v1/data-key-wrap")),
            index: HmacKey::new(&derive("tessera/v1/index")),
            manifest: HmacKey::new(&derive("tessera/v1/manifest")),
            header: derive("tessera/v1/header"),
            audit: Cipher::new(&derive("tessera/v1/audit")),
            records: Cipher::new(&derive("tessera/v1/records")),
        }
    }
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey(<redacted>)")
    }
}

/// A slot's key-encryption key: what an unlock factor (or a combination of
/// factors) yields, and what wraps the Vault Key in that slot. Built by
/// `tessera-unlock`; core only uses it to wrap and unwrap.
pub struct KeyEncryptionKey(Zeroizing<[u8; KEY_LEN]>);

impl KeyEncryptionKey {
    /// Takes ownership of 32 secret bytes (already zeroizing).
    pub fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Self {
        Self(bytes)
    }

    pub(crate) fn cipher(&self) -> Cipher {
        Cipher::new(&self.0)
    }
}

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyEncryptionKey(<redacted>)")
    }
}

/// Keys derived from the Vault Key, one per purpose.
pub(crate) struct Subkeys {
    /// Wraps the versioned data keys.
    pub(crate) data_key_wrap: Cipher,
    /// Blind index: keyed hashes of titles for exact lookup without decrypting.
    pub(crate) index: HmacKey,
    /// Keyed multiset hash over (item id, revision, key version).
    pub(crate) manifest: HmacKey,
    /// MAC over the vault header (meta, slots, data keys, state).
    pub(crate) header: Zeroizing<[u8; KEY_LEN]>,
    /// Seals the details of audit-log entries.
    pub(crate) audit: Cipher,
    /// Seals the vault's named records (browser connections, site access…).
    pub(crate) records: Cipher,
}

/// One version of the data key, unwrapped, ready to seal and open items.
pub(crate) struct DataKey {
    pub(crate) version: KeyVersion,
    pub(crate) cipher: Cipher,
}

impl DataKey {
    pub(crate) fn generate_bytes() -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(random_array())
    }
}
