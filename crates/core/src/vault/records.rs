//! Named records: the vault's own settings that are not items — which
//! browsers may connect, which site may use which item — kept sealed in the
//! vault file beside the items.
//!
//! Each record is one AES-256-GCM blob under the records subkey, with
//! AAD = format ‖ vault id ‖ revision ‖ name, and each (name, revision)
//! contributes to the item manifest in the authenticated header. So a
//! record cannot be read without the Vault Key, moved to another name or
//! vault, altered, dropped, or put back at an older revision (say, to bring
//! back a browser connection the user revoked) without the next unlock
//! reporting an integrity failure. Records stay on this device: sync and
//! backups carry items only.
//!
//! What a record holds is its owner's business (the browser integration
//! keeps JSON); this module only seals, authenticates and versions bytes.

use zeroize::Zeroizing;

use super::Vault;
use crate::audit::AuditEvent;
use crate::error::{IntegrityError, VaultError};
use crate::format::Aad;
use crate::ids::VaultId;
use crate::keys::Subkeys;
use crate::manifest::{ManifestSum, record_contribution};
use crate::store::{self, RecordRow};

/// Largest record accepted, in bytes: a record is settings, not data.
pub const MAX_RECORD_SIZE: usize = 4 * 1024 * 1024;

/// The name of a named record: a constant chosen by the integration that
/// owns it (`RecordName::new("browser")`), checked when it is compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordName(&'static str);

impl RecordName {
    /// A record name: 1 to 64 bytes of lower-case ASCII letters, digits and
    /// `-`. Used in a `const`, a bad name fails the build.
    pub const fn new(name: &'static str) -> RecordName {
        let bytes = name.as_bytes();
        assert!(!bytes.is_empty() && bytes.len() <= 64, "a record name has 1 to 64 bytes");
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            assert!(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-', "a record name is [a-z0-9-]");
            i += 1;
        }
        RecordName(name)
    }

    /// The name.
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for RecordName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl Vault {
    /// The record `name`, opened; `None` if it was never written or was
    /// removed. The first read of a session checks the manifest, so a
    /// dropped or rolled-back record is reported, not read.
    pub fn record(&self, name: RecordName) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        self.read(true, |r| match store::get_record(r.tx, name.as_str())? {
            Some(row) => Ok(Some(open_record(&row, &r.vault_id, r.subkeys)?)),
            None => Ok(None),
        })
    }

    /// Replaces record `name` with `value` (`None` removes it) and appends
    /// `events` to the audit log, in one transaction.
    pub fn put_record(
        &mut self,
        name: RecordName,
        value: Option<&[u8]>,
        events: Vec<AuditEvent>,
    ) -> Result<(), VaultError> {
        if let Some(v) = value.filter(|v| v.len() > MAX_RECORD_SIZE) {
            return Err(VaultError::RecordTooLarge { name: name.as_str(), size: v.len(), max: MAX_RECORD_SIZE });
        }
        self.write(true, |w| {
            let mut sum = ManifestSum(w.state.manifest_sum);
            let old = store::get_record(w.tx, name.as_str())?;
            if let Some(old) = &old {
                // Authenticate what is replaced, so a tampered record is
                // reported rather than quietly overwritten.
                open_record(old, &w.vault_id, w.subkeys)?;
                let revision = record_revision(old)?;
                sum.sub(&record_contribution(&w.subkeys.manifest, name.as_str(), revision));
            }
            match value {
                Some(value) => {
                    let revision = old.as_ref().map(record_revision).transpose()?.unwrap_or(0) + 1;
                    let row = seal_record(name.as_str(), revision, value, &w.vault_id, w.subkeys);
                    store::put_record(w.tx, &row)?;
                    sum.add(&record_contribution(&w.subkeys.manifest, name.as_str(), revision));
                }
                None if old.is_some() => store::delete_record(w.tx, name.as_str())?,
                None => {}
            }
            w.state.manifest_sum = sum.0;
            for event in events {
                w.audit(event)?;
            }
            Ok(())
        })
    }
}

fn record_revision(row: &RecordRow) -> Result<u64, IntegrityError> {
    u64::try_from(row.revision).map_err(|_| IntegrityError::Record { name: row.name.clone() })
}

fn seal_record(name: &str, revision: u64, value: &[u8], vault: &VaultId, subkeys: &Subkeys) -> RecordRow {
    let aad = Aad::Record { vault, name, revision }.to_bytes();
    RecordRow { name: name.to_owned(), revision: revision as i64, ciphertext: subkeys.records.seal(&aad, value) }
}

/// Opens a record row: fails unless it was sealed by this vault under this
/// name at this revision.
pub(super) fn open_record(
    row: &RecordRow,
    vault: &VaultId,
    subkeys: &Subkeys,
) -> Result<Zeroizing<Vec<u8>>, IntegrityError> {
    let bad = || IntegrityError::Record { name: row.name.clone() };
    let revision = record_revision(row)?;
    let aad = Aad::Record { vault, name: &row.name, revision }.to_bytes();
    subkeys.records.open(&aad, &row.ciphertext).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::{NewSlot, OpenOptions};
    use crate::{KeyEncryptionKey, LockedVault};

    const SETTINGS: RecordName = RecordName::new("settings-test");
    const OTHER: RecordName = RecordName::new("other");

    fn kek() -> KeyEncryptionKey {
        KeyEncryptionKey::from_bytes(Zeroizing::new([3; 32]))
    }

    fn new_vault(dir: &tempfile::TempDir) -> (std::path::PathBuf, Vault) {
        let path = dir.path().join("v.tessera");
        let slot = NewSlot { kind: "test".into(), label: "t".into(), params: vec![], kek: kek() };
        let vault = Vault::create(&path, vec![slot], &OpenOptions::default()).unwrap();
        (path, vault)
    }

    fn reopen(path: &std::path::Path) -> Vault {
        let locked = LockedVault::open(path, &OpenOptions::default()).unwrap();
        let slot = locked.slots()[0].id;
        locked.unlock(slot, &kek()).unwrap()
    }

    fn sql(path: &std::path::Path, statement: &str) {
        rusqlite::Connection::open(path).unwrap().execute_batch(statement).unwrap();
    }

    #[test]
    fn a_record_round_trips_and_is_not_stored_in_the_clear() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut vault) = new_vault(&dir);
        assert!(vault.record(SETTINGS).unwrap().is_none());
        vault.put_record(SETTINGS, Some(b"marker-value-1234"), vec![]).unwrap();
        vault.put_record(OTHER, Some(b"x"), vec![]).unwrap();
        assert_eq!(vault.record(SETTINGS).unwrap().unwrap().as_slice(), b"marker-value-1234");
        vault.lock();
        let vault = reopen(&path);
        assert_eq!(vault.record(SETTINGS).unwrap().unwrap().as_slice(), b"marker-value-1234");
        assert_eq!(vault.verify(&mut |_, _| {}).unwrap().problems, vec![]);
        drop(vault);
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(17).any(|w| w == b"marker-value-1234"));
    }

    #[test]
    fn removing_a_record_keeps_the_manifest_whole() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut vault) = new_vault(&dir);
        vault.put_record(SETTINGS, Some(b"a"), vec![]).unwrap();
        vault.put_record(SETTINGS, None, vec![]).unwrap();
        vault.put_record(SETTINGS, None, vec![]).unwrap();
        vault.lock();
        let vault = reopen(&path);
        assert!(vault.record(SETTINGS).unwrap().is_none());
        assert!(vault.verify(&mut |_, _| {}).unwrap().problems.is_empty());
    }

    #[test]
    fn a_rolled_back_record_is_an_integrity_failure() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut vault) = new_vault(&dir);
        vault.put_record(SETTINGS, Some(b"first"), vec![]).unwrap();
        let old = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("SELECT ciphertext FROM records", [], |r| r.get::<_, Vec<u8>>(0))
            .unwrap();
        vault.put_record(SETTINGS, Some(b"second"), vec![]).unwrap();
        vault.lock();
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("UPDATE records SET revision = 1, ciphertext = ?1", [old]).unwrap();
        drop(conn);
        let vault = reopen(&path);
        assert!(matches!(vault.record(SETTINGS), Err(VaultError::Integrity(IntegrityError::Manifest { .. }))));
    }

    #[test]
    fn a_dropped_or_altered_or_renamed_record_is_an_integrity_failure() {
        for statement in [
            "DELETE FROM records WHERE name = 'settings-test'",
            "UPDATE records SET ciphertext = zeroblob(40) WHERE name = 'settings-test'",
            "UPDATE records SET name = 'other' WHERE name = 'settings-test'",
            "UPDATE records SET revision = revision + 1",
        ] {
            let dir = tempfile::tempdir().unwrap();
            let (path, mut vault) = new_vault(&dir);
            vault.put_record(SETTINGS, Some(b"value"), vec![]).unwrap();
            vault.lock();
            sql(&path, statement);
            let vault = reopen(&path);
            let result = vault.record(SETTINGS).and_then(|_| vault.record(OTHER));
            assert!(matches!(result, Err(VaultError::Integrity(_))), "{statement}: {result:?}");
            assert!(!vault.verify(&mut |_, _| {}).unwrap().problems.is_empty(), "{statement}");
        }
    }

    #[test]
    fn a_version_one_vault_gets_the_table_and_is_marked_version_two() {
        let dir = tempfile::tempdir().unwrap();
        let (path, vault) = new_vault(&dir);
        vault.lock();
        sql(&path, "DROP TABLE records; PRAGMA user_version = 1;");
        let mut vault = reopen(&path);
        assert!(vault.record(SETTINGS).unwrap().is_none());
        vault.put_record(SETTINGS, Some(b"v"), vec![]).unwrap();
        vault.lock();
        let version: i32 =
            rusqlite::Connection::open(&path).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, 2);
        assert_eq!(reopen(&path).record(SETTINGS).unwrap().unwrap().as_slice(), b"v");
    }
}
