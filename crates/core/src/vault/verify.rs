//! Checking everything, collecting every problem.

use std::collections::HashSet;

use rayon::prelude::*;

use super::transaction::{ReadCtx, check_manifest, load_header};
use super::{DECRYPT_BATCH, Vault, VerifyReport, refresh_keys};
use crate::audit;
use crate::error::{IntegrityError, VaultError};
use crate::ids::{AttachmentId, ItemId};
use crate::item::{AttachmentRef, Item};
use crate::sealed;
use crate::store;

impl Vault {
    /// Checks everything: the file's structure, the header and every data
    /// key, the manifest, every item row, every history version, every
    /// attachment (against the digest its item recorded), every named
    /// record and the audit chain. Problems are collected, not stopped at, so one report names
    /// all of them. `progress(done, total)` counts item rows.
    pub fn verify(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport, VaultError> {
        let result = self.verify_all(progress);
        if result.as_ref().is_ok_and(|r| !r.problems.is_empty()) {
            self.integrity_failed.set(true);
        }
        self.note_integrity(&result);
        result
    }

    fn verify_all(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport, VaultError> {
        let mut report = VerifyReport::default();
        for problem in self.store.integrity_check()? {
            report.problems.push(IntegrityError::File(problem));
        }
        let tx = self.store.read()?;
        let (header, state) = match load_header(&tx, &self.subkeys) {
            Ok(h) => h,
            Err(VaultError::Integrity(e)) => {
                report.problems.push(e);
                return Ok(report);
            }
            Err(e) => return Err(e),
        };
        report.slots = header.slots.len();
        {
            let mut keys = self.keys.borrow_mut();
            if let Err(e) = refresh_keys(&mut keys, &header, &self.vault_id, &self.subkeys) {
                report.problems.push(e);
            }
            report.key_versions = keys.keys.keys().map(|v| v.0).collect();
        }
        let keys = self.keys.borrow();
        let r = ReadCtx { tx: &tx, vault_id: self.vault_id, subkeys: &self.subkeys, keys: &keys, header, state };
        if let Err(e) = check_manifest(&tx, &r.state, &self.subkeys) {
            report.problems.push(e);
        }

        // Items, and the attachments each version refers to.
        let total = r.state.item_count;
        let mut live_attachments: HashSet<AttachmentId> = HashSet::new();
        let mut item_ids: HashSet<Vec<u8>> = HashSet::new();
        let mut to_check: Vec<(ItemId, AttachmentRef)> = Vec::new();
        r.open_all(|row, item| {
            report.items += 1;
            item_ids.insert(row.id.clone());
            match item {
                Ok(item) => {
                    for a in &item.attachments {
                        live_attachments.insert(a.id);
                        to_check.push((item.id, a.clone()));
                    }
                }
                Err(e) => report.problems.push(e),
            }
            if report.items % 1024 == 0 {
                progress(report.items, total.max(report.items));
            }
        })?;
        progress(report.items, total.max(report.items));

        store::all_history_in_batches(&tx, DECRYPT_BATCH, |rows| {
            let (vault_id, keys) = (&r.vault_id, r.keys);
            let opened: Vec<Result<Item, IntegrityError>> =
                rows.par_iter().map(|h| sealed::open_history(h, vault_id, keys)).collect();
            for (row, version) in rows.iter().zip(opened) {
                report.history += 1;
                if !item_ids.contains(&row.item_id) {
                    report.problems.push(IntegrityError::History {
                        item: data_encoding::HEXLOWER.encode(&row.item_id),
                        revision: row.revision,
                    });
                    continue;
                }
                match version {
                    Ok(v) => {
                        for a in &v.attachments {
                            live_attachments.insert(a.id);
                        }
                    }
                    Err(e) => report.problems.push(e),
                }
            }
            Ok(())
        })?;

        for (item, a) in &to_check {
            report.attachments += 1;
            let row = store::get_attachment(&tx, a.id.as_bytes())?;
            let ok = row.is_some_and(|row| {
                row.item_id == item.as_bytes()
                    && sealed::open_attachment(&row, item, &a.name, &a.sha256, &r.vault_id, r.keys).is_ok()
            });
            if !ok {
                report.problems.push(IntegrityError::Attachment { item: item.to_hex(), name: a.name.clone() });
            }
        }
        for (id, _) in store::all_attachment_ids(&tx)? {
            let referenced = AttachmentId::from_slice(&id).is_ok_and(|a| live_attachments.contains(&a));
            if !referenced {
                report
                    .problems
                    .push(IntegrityError::OrphanAttachment { attachment: data_encoding::HEXLOWER.encode(&id) });
            }
        }

        for row in store::all_records(&tx)? {
            if let Err(e) = super::records::open_record(&row, &r.vault_id, r.subkeys) {
                report.problems.push(e);
            }
        }

        let audit_rows = store::audit_rows(&tx)?;
        report.audit_entries = audit_rows.len() as u64;
        if let Err(e) = audit::open_chain(&audit_rows, r.state.audit_seq, &r.state.audit_head, &r.vault_id, r.subkeys) {
            report.problems.push(e);
        }
        Ok(report)
    }
}
