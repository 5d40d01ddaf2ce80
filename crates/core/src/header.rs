//! The vault header: everything outside the items that decides how the
//! vault opens and what it holds — format version, vault id, the key slots,
//! the wrapped data keys and the vault state (current key version, item
//! manifest, audit-log head).
//!
//! Like KDBX 4's header, it is protected twice, over one canonical encoding:
//! an unkeyed SHA-256, checked *before* unlocking, tells damage apart from
//! a wrong password (exit 5, not 3); an HMAC under a key derived from the
//! Vault Key, checked right after unlocking, catches deliberate tampering
//! (someone who recomputed the SHA-256). No setting in the header is used
//! for anything but unlocking before its MAC has been verified.

use crate::primitives::hash::{hmac_sha256, hmac_sha256_verify, sha256};
use crate::store::{DataKeyRow, MetaRow, SlotRow};

/// Vault-wide state that every write updates, covered by the header MAC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VaultState {
    pub(crate) current_key_version: u32,
    pub(crate) item_count: u64,
    pub(crate) manifest_sum: [u8; 32],
    pub(crate) audit_seq: u64,
    pub(crate) audit_head: [u8; 32],
}

/// The header's parts, as stored.
#[derive(Clone, Debug)]
pub(crate) struct Header {
    pub(crate) meta: MetaRow,
    pub(crate) slots: Vec<SlotRow>,
    pub(crate) data_keys: Vec<DataKeyRow>,
}

/// Why a header's fields do not make sense (after its checksum matched,
/// only a tamperer who recomputed it gets here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MalformedHeader(pub(crate) &'static str);

impl Header {
    /// Reads the header's rows inside a transaction.
    pub(crate) fn read(tx: &rusqlite::Connection) -> Result<Header, crate::store::StoreError> {
        Ok(Header {
            meta: crate::store::read_meta(tx)?,
            slots: crate::store::read_slots(tx)?,
            data_keys: crate::store::read_data_keys(tx)?,
        })
    }

    pub(crate) fn state(&self) -> Result<VaultState, MalformedHeader> {
        let m = &self.meta;
        Ok(VaultState {
            current_key_version: u32::try_from(m.current_key_version)
                .map_err(|_| MalformedHeader("current key version out of range"))?,
            item_count: u64::try_from(m.item_count).map_err(|_| MalformedHeader("negative item count"))?,
            manifest_sum: m
                .manifest_sum
                .as_slice()
                .try_into()
                .map_err(|_| MalformedHeader("manifest sum is not 32 bytes"))?,
            audit_seq: u64::try_from(m.audit_seq).map_err(|_| MalformedHeader("negative audit sequence"))?,
            audit_head: m
                .audit_head
                .as_slice()
                .try_into()
                .map_err(|_| MalformedHeader("audit head is not 32 bytes"))?,
        })
    }

    pub(crate) fn set_state(&mut self, s: &VaultState) {
        self.meta.current_key_version = i64::from(s.current_key_version);
        self.meta.item_count = s.item_count as i64;
        self.meta.manifest_sum = s.manifest_sum.to_vec();
        self.meta.audit_seq = s.audit_seq as i64;
        self.meta.audit_head = s.audit_head.to_vec();
    }

    /// The canonical encoding both checks are computed over: fixed field
    /// order, every variable-length field length-prefixed, so no two
    /// different headers encode alike.
    fn encode(&self) -> Vec<u8> {
        let mut e = Encoder(Vec::with_capacity(512));
        e.bytes(b"tessera-header");
        let m = &self.meta;
        e.int(m.format_version);
        e.bytes(&m.vault_id);
        e.int(m.created_at);
        e.int(m.current_key_version);
        e.int(m.item_count);
        e.bytes(&m.manifest_sum);
        e.int(m.audit_seq);
        e.bytes(&m.audit_head);
        e.int(self.slots.len() as i64);
        for s in &self.slots {
            e.int(s.id);
            e.bytes(s.kind.as_bytes());
            e.bytes(s.label.as_bytes());
            e.bytes(&s.params);
            e.bytes(&s.wrapped_vault_key);
            e.int(s.created_at);
        }
        e.int(self.data_keys.len() as i64);
        for k in &self.data_keys {
            e.int(k.version);
            e.bytes(&k.wrapped_key);
            e.int(k.created_at);
        }
        // Appended only when present, so the headers of vaults without a
        // binding encode exactly as before it existed; the data-key count
        // before it keeps the encoding unambiguous.
        if let Some(b) = &m.rollback {
            e.bytes(b"rollback-counter");
            e.int(i64::from(b.index));
            e.int(b.value as i64);
        }
        e.0
    }

    pub(crate) fn checksum_matches(&self) -> bool {
        sha256(&[&self.encode()]).as_slice() == self.meta.header_sha256.as_slice()
    }

    pub(crate) fn mac_matches(&self, header_key: &[u8; 32]) -> bool {
        hmac_sha256_verify(header_key, &[&self.encode()], &self.meta.header_mac)
    }

    /// Recomputes both checks after a change.
    pub(crate) fn seal(&mut self, header_key: &[u8; 32]) {
        let enc = self.encode();
        self.meta.header_sha256 = sha256(&[&enc]).to_vec();
        self.meta.header_mac = hmac_sha256(header_key, &[&enc]).to_vec();
    }
}

struct Encoder(Vec<u8>);

impl Encoder {
    fn int(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(&(b.len() as u64).to_be_bytes());
        self.0.extend_from_slice(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        let mut h = Header {
            meta: MetaRow {
                format_version: 1,
                vault_id: vec![1; 16],
                created_at: 1_700_000_000,
                current_key_version: 1,
                item_count: 0,
                manifest_sum: vec![0; 32],
                audit_seq: 0,
                audit_head: vec![0; 32],
                header_sha256: vec![],
                header_mac: vec![],
                rollback: None,
            },
            slots: vec![SlotRow {
                id: 1,
                kind: "password".into(),
                label: "Master password".into(),
                params: b"{}".to_vec(),
                wrapped_vault_key: vec![9; 60],
                created_at: 1_700_000_000,
            }],
            data_keys: vec![DataKeyRow { version: 1, wrapped_key: vec![8; 60], created_at: 1_700_000_000 }],
        };
        h.seal(&[5; 32]);
        h
    }

    #[test]
    fn any_change_breaks_checksum_and_mac() {
        let key = [5; 32];
        let h = header();
        assert!(h.checksum_matches() && h.mac_matches(&key));
        let changes: Vec<fn(&mut Header)> = vec![
            |h| h.meta.format_version += 1,
            |h| h.meta.vault_id[3] ^= 1,
            |h| h.meta.item_count += 1,
            |h| h.meta.manifest_sum[0] ^= 1,
            |h| h.meta.audit_seq += 1,
            |h| h.slots[0].params.push(b' '),
            |h| h.slots[0].wrapped_vault_key[10] ^= 1,
            |h| h.slots[0].label.push('x'),
            |h| h.slots.clear(),
            |h| h.data_keys[0].wrapped_key[0] ^= 1,
            |h| h.data_keys.clear(),
            |h| h.meta.rollback = Some(crate::rollback::RollbackBinding { index: 0x0140_0000, value: 1 }),
        ];
        for (i, change) in changes.into_iter().enumerate() {
            let mut t = h.clone();
            change(&mut t);
            assert!(!t.checksum_matches(), "change {i} kept the checksum");
            assert!(!t.mac_matches(&key), "change {i} kept the MAC");
        }
    }

    #[test]
    fn a_rollback_binding_is_covered_by_the_mac() {
        let key = [5; 32];
        let mut h = header();
        h.meta.rollback = Some(crate::rollback::RollbackBinding { index: 0x0140_0000, value: 7 });
        h.seal(&key);
        let changes: Vec<fn(&mut Header)> =
            vec![|h| h.meta.rollback = None, |h| h.meta.rollback.as_mut().unwrap().value -= 1, |h| {
                h.meta.rollback.as_mut().unwrap().index += 1
            }];
        for (i, change) in changes.into_iter().enumerate() {
            let mut t = h.clone();
            change(&mut t);
            assert!(!t.checksum_matches() && !t.mac_matches(&key), "change {i} kept the checks");
        }
    }

    #[test]
    fn recomputed_checksum_does_not_fool_the_mac() {
        let mut h = header();
        h.meta.item_count = 7;
        h.seal(&[6; 32]); // an attacker without the key
        assert!(h.checksum_matches());
        assert!(!h.mac_matches(&[5; 32]));
    }
}
