//! The item manifest: a keyed multiset hash over every item row's
//! (id, revision, key version), and every named record's (name, revision),
//! kept in the authenticated vault state.
//!
//! Each row contributes `HMAC(manifest key, id ‖ revision ‖ key version)`;
//! the manifest is the sum of the contributions modulo 2^256 (the
//! MSet-Add-Hash of Clarke et al., "Incremental Multiset Hash Functions",
//! ASIACRYPT 2003, keyed so that nobody without the Vault Key can compute a
//! contribution). Adding, changing or removing one item costs one HMAC
//! whatever the vault size, and any row dropped, added, or put back at an
//! older revision outside Tessera makes the sum disagree with the header.

use crate::ids::{ItemId, KeyVersion};
use crate::primitives::hash::HmacKey;

/// A sum of contributions, little-endian, modulo 2^256. The sync manifest
/// (`tessera-sync`) uses the same multiset hash over its own entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ManifestSum(pub [u8; 32]);

impl ManifestSum {
    /// Adds one contribution.
    pub fn add(&mut self, c: &[u8; 32]) {
        let mut carry = 0u16;
        for (a, b) in self.0.iter_mut().zip(c) {
            let s = u16::from(*a) + u16::from(*b) + carry;
            *a = s as u8;
            carry = s >> 8;
        }
    }

    /// Takes one contribution away.
    pub fn sub(&mut self, c: &[u8; 32]) {
        let mut borrow = 0i16;
        for (a, b) in self.0.iter_mut().zip(c) {
            let d = i16::from(*a) - i16::from(*b) - borrow;
            borrow = i16::from(d < 0);
            *a = d.rem_euclid(256) as u8;
        }
    }
}

/// Domain of a record's contribution. An item's input is always exactly 28
/// bytes (id ‖ revision ‖ key version); a record's is longer (this 24-byte
/// prefix, an 8-byte revision and a non-empty name), so no record can ever
/// contribute what an item does.
const RECORD_DOMAIN: &[u8; 24] = b"tessera/v1/vault-record\0";

/// One named record's contribution: the record at this revision.
pub(crate) fn record_contribution(key: &HmacKey, name: &str, revision: u64) -> [u8; 32] {
    debug_assert!(!name.is_empty());
    key.mac(&[RECORD_DOMAIN, &revision.to_be_bytes(), name.as_bytes()])
}

/// One item row's contribution.
pub(crate) fn contribution(key: &HmacKey, id: &ItemId, revision: u64, key_version: KeyVersion) -> [u8; 32] {
    key.mac(&[id.as_bytes(), &revision.to_be_bytes(), &key_version.0.to_be_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_then_sub_is_identity_and_order_free() {
        let key = HmacKey::new(&[3; 32]);
        let a = contribution(&key, &ItemId::random(), 1, KeyVersion(1));
        let b = contribution(&key, &ItemId::random(), 4, KeyVersion(2));
        let mut x = ManifestSum::default();
        x.add(&a);
        x.add(&b);
        let mut y = ManifestSum::default();
        y.add(&b);
        y.add(&a);
        assert_eq!(x, y);
        x.sub(&a);
        x.sub(&b);
        assert_eq!(x, ManifestSum::default());
    }

    #[test]
    fn carries_and_borrows_wrap_modulo_2_256() {
        let mut x = ManifestSum([0xff; 32]);
        let mut one = [0; 32];
        one[0] = 1;
        x.add(&one);
        assert_eq!(x, ManifestSum::default());
        x.sub(&one);
        assert_eq!(x, ManifestSum([0xff; 32]));
    }

    #[test]
    fn revision_and_key_version_change_the_contribution() {
        let key = HmacKey::new(&[3; 32]);
        let id = ItemId::random();
        let base = contribution(&key, &id, 2, KeyVersion(1));
        assert_ne!(base, contribution(&key, &id, 1, KeyVersion(1)));
        assert_ne!(base, contribution(&key, &id, 2, KeyVersion(2)));
        assert_ne!(base, contribution(&HmacKey::new(&[4; 32]), &id, 2, KeyVersion(1)));
    }
}
