//! Transactions: every read sees an authenticated header; every write
//! re-authenticates it, applies its change, appends to the audit log, keeps
//! the manifest in step and re-seals the header, all in one SQLite
//! transaction.

use std::collections::HashSet;

use rayon::prelude::*;

use rusqlite::Connection;
use time::OffsetDateTime;

use super::Vault;
use super::rollback::CounterLock;
use crate::audit::{self, AuditEvent};
use crate::error::{IntegrityError, ItemProblem, VaultError};
use crate::format::Aad;
use crate::header::{Header, VaultState};
use crate::ids::{AttachmentId, ItemId, KeyVersion, VaultId};
use crate::item::{HISTORY_LIMIT, Item, now};
use crate::keys::{DataKey, Subkeys};
use crate::manifest::{ManifestSum, contribution, record_contribution};
use crate::primitives::aead::Cipher;
use crate::primitives::hash::HmacKey;
use crate::sealed::{self, KeyRing};
use crate::store::{self, ItemRow, StoreError};

impl Vault {
    /// Runs `f` in a read transaction over an authenticated header. With
    /// `items`, the item manifest is checked too (once per session).
    pub(super) fn read<T>(
        &self,
        items: bool,
        f: impl FnOnce(&ReadCtx<'_>) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let result = self.read_checked(items, f);
        self.note_integrity(&result);
        result
    }

    fn read_checked<T>(
        &self,
        items: bool,
        f: impl FnOnce(&ReadCtx<'_>) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let tx = self.store.read()?;
        let (header, state) = load_header(&tx, &self.subkeys)?;
        refresh_keys(&mut self.keys.borrow_mut(), &header, &self.vault_id, &self.subkeys)?;
        let keys = self.keys.borrow();
        let ctx = ReadCtx { tx: &tx, vault_id: self.vault_id, subkeys: &self.subkeys, keys: &keys, header, state };
        let out = f(&ctx);
        if items && !self.manifest_checked.get() {
            settle_manifest(&out, &tx, &ctx.state, &self.subkeys)?;
            self.manifest_checked.set(true);
        }
        out
    }

    /// Runs `f` in a write transaction (see the module docs). With `items`,
    /// the item manifest is checked too (once per session) before commit:
    /// `f` keeps the manifest in step with its own changes, so any
    /// disagreement left is one that was there before.
    pub(super) fn write<T>(
        &mut self,
        items: bool,
        f: impl FnOnce(&mut WriteCtx<'_>) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let result = self.write_checked(items, f);
        self.note_integrity(&result);
        result
    }

    /// Remembers that this session met an integrity failure, so nothing is
    /// written on its behalf afterwards (see [`Vault::mark_opened_by`]).
    pub(super) fn note_integrity<T>(&self, result: &Result<T, VaultError>) {
        if matches!(result, Err(VaultError::Integrity(_))) {
            self.integrity_failed.set(true);
        }
    }

    fn write_checked<T>(
        &mut self,
        items: bool,
        f: impl FnOnce(&mut WriteCtx<'_>) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let Vault { store, path, vault_id, subkeys, keys, manifest_checked, rollback_counter, .. } = self;
        // Held from before the transaction until the counter has advanced
        // (see CounterLock); only a vault with a counter takes it.
        let _counter_lock =
            if rollback_counter.is_some() { Some(CounterLock::acquire(path, store.lock_timeout())?) } else { None };
        let tx = store.write()?;
        let (header, state) = load_header(&tx, subkeys)?;
        refresh_keys(&mut keys.borrow_mut(), &header, vault_id, subkeys)?;
        let keys = keys.borrow();
        let recorded = header.meta.rollback;
        let mut ctx =
            WriteCtx { tx: &tx, vault_id: *vault_id, subkeys, keys: &keys, header, state, now: now(), rebind: false };
        let out = f(&mut ctx);
        if items && !manifest_checked.get() {
            settle_manifest(&out, &tx, &ctx.state, subkeys)?;
            manifest_checked.set(true);
        }
        let out = out?;
        // The header records counter + 1 and commits; the counter is
        // advanced only after (see crate::rollback for why this order).
        let advance =
            super::rollback::next_value(rollback_counter, recorded, &mut ctx.header.meta.rollback, ctx.rebind)?;
        ctx.finish()?;
        drop(keys);
        tx.commit().map_err(StoreError::from)?;
        if advance {
            if let Some(counter) = rollback_counter {
                // A failure here leaves the file one ahead of the counter,
                // which the next open or write heals.
                let _ = counter.advance();
            }
        }
        Ok(out)
    }
}
/// What a read transaction sees.
pub(super) struct ReadCtx<'a> {
    pub(super) tx: &'a Connection,
    pub(super) vault_id: VaultId,
    pub(super) subkeys: &'a Subkeys,
    pub(super) keys: &'a KeyRing,
    pub(super) header: Header,
    pub(super) state: VaultState,
}

/// The keys needed to open item rows, shareable across threads (the
/// transaction itself is not).
#[derive(Clone, Copy)]
pub(super) struct Opener<'a> {
    pub(super) vault_id: &'a VaultId,
    pub(super) keys: &'a KeyRing,
    pub(super) index_key: &'a HmacKey,
}

impl Opener<'_> {
    pub(super) fn open(&self, row: &ItemRow) -> Result<Item, IntegrityError> {
        sealed::open_item(row, self.vault_id, self.keys, self.index_key)
    }

    /// Reads and opens the row of item `id` in `tx`.
    pub(super) fn load(&self, tx: &Connection, id: &ItemId) -> Result<Item, VaultError> {
        let row = store::get_item(tx, id.as_bytes())?.ok_or_else(|| VaultError::NotFound(id.to_hex()))?;
        Ok(self.open(&row)?)
    }
}

impl ReadCtx<'_> {
    pub(super) fn opener(&self) -> Opener<'_> {
        Opener { vault_id: &self.vault_id, keys: self.keys, index_key: &self.subkeys.index }
    }

    pub(super) fn open(&self, row: &ItemRow) -> Result<Item, IntegrityError> {
        self.opener().open(row)
    }

    /// Opens every item row, calling `each` in storage order. This thread
    /// reads rows from SQLite while a worker decrypts the previous batch on
    /// the rayon pool, so reading and decrypting overlap; at most three
    /// batches are in memory at once.
    pub(super) fn open_all(
        &self,
        mut each: impl FnMut(&ItemRow, Result<Item, IntegrityError>),
    ) -> Result<(), VaultError> {
        type Opened = (Vec<ItemRow>, Vec<Result<Item, IntegrityError>>);
        let opener = self.opener();
        std::thread::scope(|scope| {
            let (batches, batches_rx) = std::sync::mpsc::sync_channel::<Vec<ItemRow>>(1);
            let (opened_tx, opened) = std::sync::mpsc::channel::<Opened>();
            scope.spawn(move || {
                for rows in batches_rx {
                    let items = rows.par_iter().map(|row| opener.open(row)).collect();
                    if opened_tx.send((rows, items)).is_err() {
                        break;
                    }
                }
            });
            let mut deliver = |(rows, items): Opened| {
                for (row, item) in rows.iter().zip(items) {
                    each(row, item);
                }
            };
            let read = store::item_rows_in_batches(self.tx, super::DECRYPT_BATCH, |rows| {
                batches.send(rows).map_err(|_| StoreError::Sqlite("the decryption worker stopped".into()))?;
                while let Ok(done) = opened.try_recv() {
                    deliver(done);
                }
                Ok(())
            });
            // Closing the channel ends the worker, which ends `opened`.
            drop(batches);
            for done in opened {
                deliver(done);
            }
            read
        })?;
        Ok(())
    }

    pub(super) fn load(&self, id: &ItemId) -> Result<Item, VaultError> {
        self.opener().load(self.tx, id)
    }
}

/// What a write transaction sees and changes.
pub(super) struct WriteCtx<'a> {
    pub(super) tx: &'a Connection,
    pub(super) vault_id: VaultId,
    pub(super) subkeys: &'a Subkeys,
    pub(super) keys: &'a KeyRing,
    pub(super) header: Header,
    pub(super) state: VaultState,
    pub(super) now: OffsetDateTime,
    /// Set by an operation that (re)binds the vault to its counter: the
    /// file's recorded value is replaced, not checked.
    pub(super) rebind: bool,
}

impl<'a> WriteCtx<'a> {
    pub(super) fn current_key(&self) -> Result<&'a DataKey, VaultError> {
        let keys: &'a KeyRing = self.keys;
        let v = self.state.current_key_version;
        Ok(keys.get(KeyVersion(v)).ok_or(IntegrityError::DataKey { version: v })?)
    }

    fn opener(&self) -> Opener<'_> {
        Opener { vault_id: &self.vault_id, keys: self.keys, index_key: &self.subkeys.index }
    }

    pub(super) fn open(&self, row: &ItemRow) -> Result<Item, IntegrityError> {
        self.opener().open(row)
    }

    pub(super) fn load(&self, id: &ItemId) -> Result<Item, VaultError> {
        self.opener().load(self.tx, id)
    }

    pub(super) fn load_live(&self, id: &ItemId) -> Result<Item, VaultError> {
        let item = self.load(id)?;
        if item.deleted.is_some() {
            return Err(VaultError::WrongState { item: *id, state: "in the trash", hint: "restore it first" });
        }
        Ok(item)
    }

    pub(super) fn load_trashed(&self, id: &ItemId) -> Result<Item, VaultError> {
        let item = self.load(id)?;
        if item.deleted.is_none() {
            return Err(VaultError::WrongState {
                item: *id,
                state: "not in the trash",
                hint: "move it to the trash first",
            });
        }
        Ok(item)
    }

    pub(super) fn contribution(&self, item: &Item, key_version: KeyVersion) -> [u8; 32] {
        contribution(&self.subkeys.manifest, &item.id, item.revision, key_version)
    }

    pub(super) fn insert_item(&mut self, item: &mut Item) -> Result<(), VaultError> {
        item.normalize()?;
        let key = self.current_key()?;
        let row = sealed::seal_item(item, &self.vault_id, key, &self.subkeys.index);
        store::insert_item(self.tx, &row)?;
        let c = self.contribution(item, key.version);
        let mut sum = ManifestSum(self.state.manifest_sum);
        sum.add(&c);
        self.state.manifest_sum = sum.0;
        self.state.item_count += 1;
        Ok(())
    }

    /// Saves `new` as the next revision of `old` (read in this transaction),
    /// keeping `old` in history if asked and trimming history to its limit.
    pub(super) fn replace_item(&mut self, old: &Item, new: &mut Item, keep_history: bool) -> Result<(), VaultError> {
        let old_row =
            store::get_item(self.tx, old.id.as_bytes())?.ok_or_else(|| VaultError::NotFound(old.id.to_hex()))?;
        let old_version = KeyVersion(old_row.key_version as u32);
        new.revision = old.revision + 1;
        new.updated = self.now;
        new.normalize()?;
        let key = self.current_key()?;
        if keep_history {
            store::insert_history(self.tx, &sealed::seal_history(old, &self.vault_id, key))?;
            let versions = store::history_of(self.tx, old.id.as_bytes())?;
            for extra in versions.iter().skip(HISTORY_LIMIT) {
                store::delete_history(self.tx, &extra.item_id, extra.revision)?;
            }
        }
        let row = sealed::seal_item(new, &self.vault_id, key, &self.subkeys.index);
        store::update_item(self.tx, &row)?;
        let mut sum = ManifestSum(self.state.manifest_sum);
        sum.sub(&self.contribution(old, old_version));
        sum.add(&self.contribution(new, key.version));
        self.state.manifest_sum = sum.0;
        self.collect_attachments(new)
    }

    /// Deletes an item row with its history and attachments.
    pub(super) fn remove_item(&mut self, item: &Item) -> Result<(), VaultError> {
        let row =
            store::get_item(self.tx, item.id.as_bytes())?.ok_or_else(|| VaultError::NotFound(item.id.to_hex()))?;
        store::delete_item(self.tx, &row.id)?;
        let mut sum = ManifestSum(self.state.manifest_sum);
        sum.sub(&self.contribution(item, KeyVersion(row.key_version as u32)));
        self.state.manifest_sum = sum.0;
        self.state.item_count -= 1;
        Ok(())
    }

    /// Deletes attachment rows of `item` that neither it nor any version in
    /// its history refers to any more.
    pub(super) fn collect_attachments(&mut self, item: &Item) -> Result<(), VaultError> {
        let stored = store::attachment_ids_of(self.tx, item.id.as_bytes())?;
        if stored.is_empty() {
            return Ok(());
        }
        let mut referenced: HashSet<AttachmentId> = item.attachments.iter().map(|a| a.id).collect();
        for h in store::history_of(self.tx, item.id.as_bytes())? {
            let version = sealed::open_history(&h, &self.vault_id, self.keys)?;
            referenced.extend(version.attachments.iter().map(|a| a.id));
        }
        for id in stored {
            if !AttachmentId::from_slice(&id).is_ok_and(|a| referenced.contains(&a)) {
                store::delete_attachment(self.tx, &id)?;
            }
        }
        Ok(())
    }

    pub(super) fn audit(&mut self, event: AuditEvent) -> Result<(), VaultError> {
        let seq = self.state.audit_seq + 1;
        let row = audit::seal_entry(&event, seq, self.now, &self.state.audit_head, &self.vault_id, self.subkeys);
        store::insert_audit(self.tx, &row)?;
        self.state.audit_seq = seq;
        self.state.audit_head.copy_from_slice(&row.hash);
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<(), VaultError> {
        self.header.set_state(&self.state);
        self.header.seal(&self.subkeys.header);
        store::update_meta(self.tx, &self.header.meta)?;
        Ok(())
    }
}

/// Reads the header inside `tx` and authenticates it.
pub(super) fn load_header(tx: &Connection, subkeys: &Subkeys) -> Result<(Header, VaultState), VaultError> {
    let header = Header::read(tx)?;
    if !header.checksum_matches() {
        return Err(IntegrityError::HeaderChecksum.into());
    }
    if !header.mac_matches(&subkeys.header) {
        return Err(IntegrityError::HeaderMac.into());
    }
    let state = header.state().map_err(|e| IntegrityError::HeaderMalformed(e.0))?;
    Ok((header, state))
}

/// Unwraps any data key version in the header that `keys` lacks.
pub(super) fn refresh_keys(
    keys: &mut KeyRing,
    header: &Header,
    vault: &VaultId,
    subkeys: &Subkeys,
) -> Result<(), IntegrityError> {
    for row in &header.data_keys {
        let version =
            KeyVersion(u32::try_from(row.version).map_err(|_| IntegrityError::HeaderMalformed("key version"))?);
        if keys.get(version).is_some() {
            continue;
        }
        let bad = IntegrityError::DataKey { version: version.0 };
        let aad = Aad::DataKey { vault, version }.to_bytes();
        let bytes = subkeys.data_key_wrap.open(&aad, &row.wrapped_key).map_err(|_| bad.clone())?;
        let bytes: &[u8; 32] = bytes.as_slice().try_into().map_err(|_| bad)?;
        keys.keys.insert(version, DataKey { version, cipher: Cipher::new(bytes) });
    }
    Ok(())
}

/// Decides between an operation's own outcome and the manifest check: a
/// specific integrity finding (naming an item) wins; otherwise a manifest
/// mismatch wins over anything else, so nothing read from a vault whose
/// item set was altered is handed out.
pub(super) fn settle_manifest<T>(
    outcome: &Result<T, VaultError>,
    tx: &Connection,
    state: &VaultState,
    subkeys: &Subkeys,
) -> Result<(), VaultError> {
    if matches!(outcome, Err(VaultError::Integrity(_))) {
        return Ok(());
    }
    Ok(check_manifest(tx, state, subkeys)?)
}

/// Recomputes the manifest over every item row and named record and
/// compares it with the authenticated state.
pub(super) fn check_manifest(tx: &Connection, state: &VaultState, subkeys: &Subkeys) -> Result<(), IntegrityError> {
    let mut sum = ManifestSum::default();
    let mut count = 0u64;
    let mut malformed = None;
    store::manifest_rows(tx, |row| {
        count += 1;
        let parsed = (ItemId::from_slice(&row.id), u64::try_from(row.revision), u32::try_from(row.key_version));
        match parsed {
            (Ok(id), Ok(revision), Ok(kv)) => sum.add(&contribution(&subkeys.manifest, &id, revision, KeyVersion(kv))),
            _ => {
                malformed.get_or_insert(row.id);
            }
        }
    })
    .map_err(|e| IntegrityError::File(e.to_string()))?;
    if let Some(id) = malformed {
        return Err(IntegrityError::Item { item: data_encoding::HEXLOWER.encode(&id), problem: ItemProblem::Id });
    }
    for record in store::all_records(tx).map_err(|e| IntegrityError::File(e.to_string()))? {
        let revision =
            u64::try_from(record.revision).map_err(|_| IntegrityError::Record { name: record.name.clone() })?;
        if record.name.is_empty() {
            return Err(IntegrityError::Record { name: record.name });
        }
        sum.add(&record_contribution(&subkeys.manifest, &record.name, revision));
    }
    if count != state.item_count || sum.0 != state.manifest_sum {
        return Err(IntegrityError::Manifest { expected: state.item_count, found: count });
    }
    Ok(())
}
