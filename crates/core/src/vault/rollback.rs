//! The vault's side of whole-file rollback protection ([`crate::rollback`]):
//! installing the counter, checking the file against it after unlock,
//! binding, re-binding after a deliberate restore, and unbinding.

use super::Vault;
use crate::audit::AuditEvent;
use crate::error::VaultError;
use crate::rollback::{RollbackBinding, RollbackCounter, RollbackError, RollbackStatus, RollbackVerdict};
use crate::store::StoreError;

impl Vault {
    /// Installs the counter this vault is (or is about to be) bound to.
    /// Without it, a bound vault can be read but refuses every write.
    pub fn set_rollback_counter(&mut self, counter: Box<dyn RollbackCounter>) {
        self.rollback_counter = Some(counter);
    }

    /// The binding recorded in the authenticated header, if any.
    pub fn rollback_binding(&self) -> Result<Option<RollbackBinding>, VaultError> {
        self.read(false, |r| Ok(r.header.meta.rollback))
    }

    /// Compares the file with its counter without changing either (for
    /// `restore-check`). `None` when the vault is not bound.
    pub fn rollback_status(&mut self) -> Result<Option<RollbackStatus>, VaultError> {
        let Some(binding) = self.rollback_binding()? else {
            return Ok(None);
        };
        let counter = self.bound_counter(binding.index)?;
        let now = counter.read().map_err(|reason| RollbackError::Counter { index: binding.index, reason })?;
        Ok(Some(RollbackStatus { binding, counter: now, verdict: RollbackVerdict::judge(binding.value, now) }))
    }

    /// The check to run right after unlocking: an older file (or one bound
    /// elsewhere) is an integrity error, and nothing is written for this
    /// session afterwards; a file one ahead (a write whose counter advance
    /// was cut off) advances the counter and is current again.
    pub fn check_rollback(&mut self) -> Result<Option<RollbackStatus>, VaultError> {
        let result = self.check_rollback_inner();
        self.note_integrity(&result);
        result
    }

    fn check_rollback_inner(&mut self) -> Result<Option<RollbackStatus>, VaultError> {
        // Held so that "one ahead" means a crash, not another process
        // between its commit and its counter step.
        let _lock = match self.rollback_counter {
            Some(_) => Some(CounterLock::acquire(&self.path, self.store.lock_timeout())?),
            None => None,
        };
        let Some(mut status) = self.rollback_status()? else {
            return Ok(None);
        };
        if let Some(refusal) = status.verdict.refusal(status.binding, status.counter) {
            return Err(refusal.into());
        }
        if status.verdict == RollbackVerdict::Interrupted {
            let index = status.binding.index;
            let counter = self.bound_counter(index)?;
            status.counter = counter.advance().map_err(|reason| RollbackError::Counter { index, reason })?;
            status.verdict = RollbackVerdict::judge(status.binding.value, status.counter);
        }
        Ok(Some(status))
    }

    /// Binds the vault to the installed counter: from this write on, every
    /// write records the counter's next value. Replaces any earlier binding.
    pub fn bind_rollback_counter(&mut self) -> Result<RollbackBinding, VaultError> {
        let index = self.rollback_counter.as_ref().ok_or(RollbackError::NoCounter { index: 0 })?.index();
        self.rebind(index, false)
    }

    /// Accepts this copy of the file as the current one (a deliberate
    /// restore from a backup): records the installed counter's next value
    /// whatever the file held before. The installed counter may be a new
    /// one, replacing a counter that is gone (a cleared TPM). The caller
    /// asks for the master password first.
    pub fn accept_rollback(&mut self) -> Result<RollbackBinding, VaultError> {
        let binding = self.rollback_binding()?.ok_or(RollbackError::NotBound)?;
        let index = self.rollback_counter.as_ref().ok_or(RollbackError::NoCounter { index: binding.index })?.index();
        self.rebind(index, true)
    }

    fn rebind(&mut self, index: u32, accepted: bool) -> Result<RollbackBinding, VaultError> {
        self.bound_counter(index)?;
        self.write(false, |w| {
            w.header.meta.rollback = Some(RollbackBinding { index, value: 0 });
            w.rebind = true;
            w.audit(AuditEvent::RollbackBound { index, accepted })
        })?;
        self.rollback_binding()?.ok_or_else(|| RollbackError::NotBound.into())
    }

    /// Ends the binding (when the TPM slot goes). Needs no counter, so a
    /// vault whose TPM is gone for good can be freed of it with the Vault
    /// Key alone. Returns the binding that was removed.
    pub fn unbind_rollback_counter(&mut self) -> Result<Option<RollbackBinding>, VaultError> {
        self.write(false, |w| {
            let old = w.header.meta.rollback.take();
            if let Some(b) = old {
                w.audit(AuditEvent::RollbackUnbound { index: b.index })?;
            }
            Ok(old)
        })
    }

    fn bound_counter(&mut self, index: u32) -> Result<&mut Box<dyn RollbackCounter>, VaultError> {
        let counter = self.rollback_counter.as_mut().ok_or(RollbackError::NoCounter { index })?;
        if counter.index() != index {
            return Err(RollbackError::WrongCounter { bound: index, given: counter.index() }.into());
        }
        Ok(counter)
    }
}

/// Serialises "commit, then advance the counter" between processes (and
/// vault handles) writing one bound vault. SQLite's write lock ends at
/// commit, before the counter is advanced; without this, another writer
/// could meet the file one ahead of the counter in that gap, take it for a
/// crash and advance the counter too, and the file would then look older
/// than the counter: a false alarm. Only a vault with a counter takes it,
/// so unbound vaults are untouched. The lock is an exclusive lock on a
/// small SQLite file beside the vault (`VAULT.counter-lock`, empty), which
/// waits up to the vault's lock timeout like the vault's own lock, and
/// ends with the process if it dies.
pub(super) struct CounterLock {
    conn: rusqlite::Connection,
}

impl CounterLock {
    pub(super) fn acquire(vault: &std::path::Path, timeout: std::time::Duration) -> Result<CounterLock, StoreError> {
        use rusqlite::OpenFlags;
        let path = std::path::PathBuf::from(format!("{}.counter-lock", vault.display()));
        let conn = rusqlite::Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(timeout)?;
        conn.execute_batch("BEGIN EXCLUSIVE")?;
        Ok(CounterLock { conn })
    }
}

impl Drop for CounterLock {
    fn drop(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }
}

/// Inside a write transaction, before the header is sealed: the value the
/// header records for this commit (the counter's value + 1), after checking
/// the file's value (`recorded`, as read at the start) against the counter
/// unless the write re-binds. Returns whether the counter must be advanced
/// once the transaction has committed.
pub(super) fn next_value(
    counter: &mut Option<Box<dyn RollbackCounter>>,
    recorded: Option<RollbackBinding>,
    binding: &mut Option<RollbackBinding>,
    rebind: bool,
) -> Result<bool, VaultError> {
    let Some(binding) = binding.as_mut() else {
        return Ok(false);
    };
    let index = binding.index;
    let counter = counter.as_mut().ok_or(RollbackError::NoCounter { index })?;
    if counter.index() != index {
        return Err(RollbackError::WrongCounter { bound: index, given: counter.index() }.into());
    }
    let fail = |reason| RollbackError::Counter { index, reason };
    let mut now = counter.read().map_err(fail)?;
    if !rebind {
        let file = recorded.map_or(binding.value, |r| r.value);
        let verdict = RollbackVerdict::judge(file, now);
        if let Some(refusal) = verdict.refusal(RollbackBinding { index, value: file }, now) {
            return Err(refusal.into());
        }
        if verdict == RollbackVerdict::Interrupted {
            now = counter.advance().map_err(fail)?;
        }
    }
    binding.value = now
        .checked_add(1)
        .ok_or_else(|| fail(crate::rollback::CounterError("the counter is at its maximum".into())))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use zeroize::Zeroizing;

    use crate::error::{IntegrityError, VaultError};
    use crate::rollback::{CounterError, RollbackCounter, RollbackError, RollbackVerdict};
    use crate::vault::{NewSlot, OpenOptions, Vault};
    use crate::{AuditEvent, KeyEncryptionKey, LockedVault};

    /// A counter in memory, shared so a test can look at it (and move it,
    /// as a crash or a tamperer would) while the vault holds it.
    #[derive(Clone)]
    struct MemoryCounter {
        index: u32,
        value: Arc<Mutex<u64>>,
        /// When set, `advance` fails (a TPM that went away mid-write).
        broken: Arc<Mutex<bool>>,
        /// How long `advance` takes (a TPM round trip).
        delay: std::time::Duration,
    }

    impl MemoryCounter {
        fn new(start: u64) -> Self {
            MemoryCounter {
                index: 0x0140_0001,
                value: Arc::new(Mutex::new(start)),
                broken: Arc::default(),
                delay: std::time::Duration::ZERO,
            }
        }
        fn get(&self) -> u64 {
            *self.value.lock().unwrap()
        }
        fn set(&self, v: u64) {
            *self.value.lock().unwrap() = v;
        }
    }

    impl RollbackCounter for MemoryCounter {
        fn index(&self) -> u32 {
            self.index
        }
        fn read(&mut self) -> Result<u64, CounterError> {
            Ok(self.get())
        }
        fn advance(&mut self) -> Result<u64, CounterError> {
            if *self.broken.lock().unwrap() {
                return Err(CounterError("gone".into()));
            }
            std::thread::sleep(self.delay);
            let mut v = self.value.lock().unwrap();
            *v += 1;
            Ok(*v)
        }
    }

    fn kek() -> KeyEncryptionKey {
        KeyEncryptionKey::from_bytes(Zeroizing::new([3; 32]))
    }

    fn reopen(path: &std::path::Path, counter: Option<&MemoryCounter>) -> Vault {
        let locked = LockedVault::open(path, &OpenOptions::default()).unwrap();
        let slot = locked.slots()[0].id;
        let mut vault = locked.unlock(slot, &kek()).unwrap();
        if let Some(c) = counter {
            vault.set_rollback_counter(Box::new(c.clone()));
        }
        vault
    }

    fn write(vault: &mut Vault) -> Result<(), VaultError> {
        vault.record_event(AuditEvent::KeyRotated { version: 1 })
    }

    /// A new vault bound to a counter starting at 41 (a TPM counter starts
    /// wherever the TPM's highest counter was).
    fn bound_vault(dir: &tempfile::TempDir) -> (std::path::PathBuf, MemoryCounter) {
        let path = dir.path().join("v.tessera");
        let slot = NewSlot { kind: "test".into(), label: "t".into(), params: vec![], kek: kek() };
        let mut vault = Vault::create(&path, vec![slot], &OpenOptions::default()).unwrap();
        let counter = MemoryCounter::new(41);
        vault.set_rollback_counter(Box::new(counter.clone()));
        let binding = vault.bind_rollback_counter().unwrap();
        assert_eq!((binding.index, binding.value), (counter.index, 42));
        assert_eq!(counter.get(), 42);
        (path, counter)
    }

    #[test]
    fn every_write_records_the_next_value_and_advances_the_counter_after_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (path, counter) = bound_vault(&dir);
        let mut vault = reopen(&path, Some(&counter));
        assert_eq!(vault.check_rollback().unwrap().unwrap().verdict, RollbackVerdict::Current);
        for expected in 43..46 {
            write(&mut vault).unwrap();
            assert_eq!(counter.get(), expected);
            assert_eq!(vault.rollback_binding().unwrap().unwrap().value, expected);
        }
    }

    #[test]
    fn an_older_copy_of_the_file_is_refused_as_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        let (path, counter) = bound_vault(&dir);
        let backup = dir.path().join("backup.tessera");
        std::fs::copy(&path, &backup).unwrap();
        write(&mut reopen(&path, Some(&counter))).unwrap();
        std::fs::copy(&backup, &path).unwrap();

        let mut vault = reopen(&path, Some(&counter));
        let e = vault.check_rollback().unwrap_err();
        assert!(matches!(e, VaultError::Integrity(IntegrityError::RolledBack { file: 42, counter: 43 })), "{e:?}");
        assert!(e.to_string().contains("this vault file is older than the last one this TPM saw"), "{e}");
        // A write on the older copy is refused too, and moves nothing.
        let mut vault = reopen(&path, Some(&counter));
        assert!(matches!(write(&mut vault), Err(VaultError::Integrity(IntegrityError::RolledBack { .. }))));
        assert_eq!(counter.get(), 43);
    }

    #[test]
    fn a_crash_between_commit_and_advance_heals() {
        let dir = tempfile::tempdir().unwrap();
        let (path, counter) = bound_vault(&dir);
        // The commit of value 43 happened; the advance did not.
        *counter.broken.lock().unwrap() = true;
        write(&mut reopen(&path, Some(&counter))).unwrap();
        *counter.broken.lock().unwrap() = false;
        assert_eq!(counter.get(), 42);

        let mut vault = reopen(&path, Some(&counter));
        let status = vault.check_rollback().unwrap().unwrap();
        assert_eq!((status.verdict, status.counter), (RollbackVerdict::Current, 43));

        // The same on a write, without the check first.
        counter.set(43);
        *counter.broken.lock().unwrap() = true;
        write(&mut vault).unwrap();
        *counter.broken.lock().unwrap() = false;
        assert_eq!(counter.get(), 43);
        write(&mut reopen(&path, Some(&counter))).unwrap();
        assert_eq!(counter.get(), 45);
        assert_eq!(reopen(&path, Some(&counter)).check_rollback().unwrap().unwrap().verdict, RollbackVerdict::Current);
    }

    #[test]
    fn a_file_ahead_of_its_counter_by_more_than_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (path, counter) = bound_vault(&dir);
        counter.set(40);
        let e = reopen(&path, Some(&counter)).check_rollback().unwrap_err();
        assert!(matches!(e, VaultError::Integrity(IntegrityError::CounterAhead { file: 42, counter: 40 })), "{e:?}");
    }

    #[test]
    fn a_bound_vault_reads_without_its_counter_but_refuses_to_write() {
        let dir = tempfile::tempdir().unwrap();
        let (path, counter) = bound_vault(&dir);
        let mut vault = reopen(&path, None);
        assert!(vault.audit_log().is_ok());
        let e = write(&mut vault).unwrap_err();
        assert!(
            matches!(e, VaultError::Rollback(RollbackError::NoCounter { index }) if index == counter.index),
            "{e:?}"
        );
        assert!(e.to_string().contains("TPM"), "{e}");
        assert_eq!(counter.get(), 42);
    }

    #[test]
    fn accepting_an_older_copy_rebinds_it_to_the_counter() {
        let dir = tempfile::tempdir().unwrap();
        let (path, counter) = bound_vault(&dir);
        let backup = dir.path().join("backup.tessera");
        std::fs::copy(&path, &backup).unwrap();
        for _ in 0..3 {
            write(&mut reopen(&path, Some(&counter))).unwrap();
        }
        std::fs::copy(&backup, &path).unwrap();
        let mut vault = reopen(&path, Some(&counter));
        assert_eq!(vault.rollback_status().unwrap().unwrap().verdict, RollbackVerdict::Older);
        let binding = vault.accept_rollback().unwrap();
        assert_eq!((binding.value, counter.get()), (46, 46));
        let mut vault = reopen(&path, Some(&counter));
        assert_eq!(vault.check_rollback().unwrap().unwrap().verdict, RollbackVerdict::Current);
        write(&mut vault).unwrap();
        let log = vault.audit_log().unwrap();
        assert!(log.iter().any(|e| matches!(e.event, AuditEvent::RollbackBound { accepted: true, .. })));
    }

    #[test]
    fn unbinding_needs_no_counter_and_the_vault_writes_freely_after() {
        let dir = tempfile::tempdir().unwrap();
        let (path, counter) = bound_vault(&dir);
        let mut vault = reopen(&path, None);
        assert_eq!(vault.unbind_rollback_counter().unwrap().unwrap().index, counter.index);
        write(&mut vault).unwrap();
        let mut vault = reopen(&path, None);
        assert!(vault.rollback_binding().unwrap().is_none());
        assert!(vault.check_rollback().unwrap().is_none());
        write(&mut vault).unwrap();
        assert_eq!(counter.get(), 42);
    }

    #[test]
    fn a_vault_without_a_binding_never_touches_a_counter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.tessera");
        let slot = NewSlot { kind: "test".into(), label: "t".into(), params: vec![], kek: kek() };
        Vault::create(&path, vec![slot], &OpenOptions::default()).unwrap().lock();
        let counter = MemoryCounter::new(7);
        let mut vault = reopen(&path, Some(&counter));
        assert!(vault.check_rollback().unwrap().is_none());
        write(&mut vault).unwrap();
        assert_eq!(counter.get(), 7);
        let version: i32 =
            rusqlite::Connection::open(&path).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, 2, "an unbound vault stays readable by schema-2 builds");
    }

    #[test]
    fn the_counter_lock_is_exclusive_and_ends_with_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("v.tessera");
        let short = std::time::Duration::from_millis(50);
        let held = super::CounterLock::acquire(&vault, short).unwrap();
        assert!(matches!(super::CounterLock::acquire(&vault, short), Err(crate::StoreError::Busy)));
        drop(held);
        super::CounterLock::acquire(&vault, short).unwrap();
    }

    #[test]
    fn concurrent_writers_leave_the_file_level_with_the_counter() {
        // Without the counter lock, one writer could meet the file one
        // ahead between another's commit and its counter step, "heal" it,
        // and leave the file looking older than the counter.
        let dir = tempfile::tempdir().unwrap();
        let (path, mut counter) = bound_vault(&dir);
        counter.delay = std::time::Duration::from_millis(3);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    let mut vault = reopen(&path, Some(&counter));
                    for _ in 0..25 {
                        write(&mut vault).unwrap();
                    }
                });
            }
        });
        let mut vault = reopen(&path, Some(&counter));
        let status = vault.check_rollback().unwrap().unwrap();
        assert_eq!((status.verdict, status.binding.value, status.counter), (RollbackVerdict::Current, 92, 92));
    }

    #[test]
    fn a_stripped_or_lowered_binding_fails_the_header_mac() {
        let dir = tempfile::tempdir().unwrap();
        let (path, counter) = bound_vault(&dir);
        for statement in ["UPDATE rollback_binding SET value = value - 1", "DELETE FROM rollback_binding"] {
            let copy = dir.path().join("copy.tessera");
            std::fs::copy(&path, &copy).unwrap();
            rusqlite::Connection::open(&copy).unwrap().execute_batch(statement).unwrap();
            let locked = LockedVault::open(&copy, &OpenOptions::default());
            let refused = match locked {
                Err(crate::OpenError::Integrity(_)) => true,
                Ok(l) => {
                    let slot = l.slots()[0].id;
                    matches!(l.unlock(slot, &kek()), Err(crate::UnlockError::Integrity(_)))
                }
                Err(e) => panic!("{statement}: {e}"),
            };
            assert!(refused, "{statement} was not refused");
            std::fs::remove_file(&copy).unwrap();
        }
        assert_eq!(counter.get(), 42);
    }
}
