//! Data-key rotation: a new version, older rows re-encrypted in batches,
//! unused versions retired.

use super::transaction::WriteCtx;
use super::{ROTATE_BATCH, RotateReport, Vault, wrap_data_key};
use crate::audit::AuditEvent;
use crate::error::{IntegrityError, ItemProblem, VaultError};
use crate::format::Aad;
use crate::ids::{AttachmentId, ItemId, KeyVersion};
use crate::keys::DataKey;
use crate::manifest::ManifestSum;
use crate::sealed;
use crate::store;

impl Vault {
    /// Makes a new data key version, then re-encrypts everything sealed
    /// under older versions in batches (one transaction each, so an
    /// interruption loses nothing and a later `rotate` finishes the job),
    /// then deletes versions nothing uses. `progress(done, total)` counts
    /// items.
    pub fn rotate(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<RotateReport, VaultError> {
        let version = self.write(true, |w| {
            let next = w.header.data_keys.iter().map(|k| k.version).max().unwrap_or(0) + 1;
            let version = KeyVersion(
                u32::try_from(next).map_err(|_| IntegrityError::HeaderMalformed("key version out of range"))?,
            );
            let row = wrap_data_key(&w.vault_id, w.subkeys, version, &DataKey::generate_bytes(), w.now);
            store::insert_data_key(w.tx, &row)?;
            w.header.data_keys.push(row);
            w.state.current_key_version = version.0;
            w.audit(AuditEvent::KeyRotated { version: version.0 })?;
            Ok(version)
        })?;

        let total = {
            let tx = self.store.read()?;
            store::count_stale(&tx, i64::from(version.0))? as u64
        };
        let mut done = 0;
        progress(done, total);
        loop {
            let n = self.write(true, |w| {
                let ids = store::stale_item_ids(w.tx, i64::from(version.0), ROTATE_BATCH)?;
                for id in &ids {
                    w.reseal(id)?;
                }
                Ok(ids.len() as u64)
            })?;
            if n == 0 {
                break;
            }
            done += n;
            progress(done.min(total), total);
        }

        let retired = self.write(false, |w| {
            let mut retired = Vec::new();
            for row in w.header.data_keys.clone() {
                if row.version < i64::from(version.0) && store::uses_of_key_version(w.tx, row.version)? == 0 {
                    store::delete_data_key(w.tx, row.version)?;
                    w.header.data_keys.retain(|k| k.version != row.version);
                    retired.push(KeyVersion(row.version as u32));
                }
            }
            Ok(retired)
        })?;
        self.keys.borrow_mut().keys.retain(|v, _| !retired.contains(v));
        Ok(RotateReport { version, reencrypted: done, retired })
    }
}

impl WriteCtx<'_> {
    /// Re-encrypts everything of item `id` sealed under an older key
    /// version with the current one (content and revision unchanged).
    pub(super) fn reseal(&mut self, id: &[u8]) -> Result<(), VaultError> {
        let key = self.current_key()?;
        if let Some(row) = store::get_item(self.tx, id)? {
            if row.key_version < i64::from(key.version.0) {
                let item = self.open(&row)?;
                let new_row = sealed::seal_item(&item, &self.vault_id, key, &self.subkeys.index);
                store::update_item(self.tx, &new_row)?;
                let mut sum = ManifestSum(self.state.manifest_sum);
                sum.sub(&self.contribution(&item, KeyVersion(row.key_version as u32)));
                sum.add(&self.contribution(&item, key.version));
                self.state.manifest_sum = sum.0;
            }
        }
        for h in store::history_of(self.tx, id)? {
            if h.key_version < i64::from(key.version.0) {
                let version = sealed::open_history(&h, &self.vault_id, self.keys)?;
                store::insert_history(self.tx, &sealed::seal_history(&version, &self.vault_id, key))?;
            }
        }
        let item = ItemId::from_slice(id)
            .map_err(|_| IntegrityError::Item { item: data_encoding::HEXLOWER.encode(id), problem: ItemProblem::Id })?;
        for attachment_id in store::attachment_ids_of(self.tx, id)? {
            let Some(row) = store::get_attachment(self.tx, &attachment_id)? else { continue };
            if row.key_version >= i64::from(key.version.0) {
                continue;
            }
            let bad = || IntegrityError::Attachment { item: item.to_hex(), name: "(re-encryption)".into() };
            let attachment = AttachmentId::from_slice(&attachment_id).map_err(|_| bad())?;
            let old_key = self.keys.get(KeyVersion(row.key_version as u32)).ok_or_else(bad)?;
            let aad = Aad::Attachment {
                vault: &self.vault_id,
                item: &item,
                attachment: &attachment,
                key_version: old_key.version,
            };
            let content = crate::padding::open_padded(&old_key.cipher, &aad, &row.ciphertext).map_err(|_| bad())?;
            store::insert_attachment(
                self.tx,
                &sealed::seal_attachment(&item, &attachment, &content, &self.vault_id, key),
            )?;
        }
        Ok(())
    }
}
