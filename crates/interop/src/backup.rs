//! Tessera's encrypted backup: a self-contained vault file.
//!
//! A backup is a Tessera vault of its own, made with one password slot
//! chosen for the backup. It therefore has everything a vault has — a fresh
//! Vault Key, sealed items, the manifest and header MAC that detect
//! tampering and rollback — and needs no second file format with its own
//! crypto to review. Every item arrives: live and trashed, with its history
//! (up to the vault's limit), attachments of every version, dates and ids.
//!
//! The caller creates the backup vault (the slot comes from
//! `tessera-unlock`), then [`write`] copies into it; [`read`] turns an
//! unlocked backup back into items for [`tessera_core::Vault::import`].

use tessera_core::{NewAttachment, NewItem, NewVersion, Scope, Vault, VaultError};

use crate::{ExportError, Format, Imported};

/// SQLite's file header, then `PRAGMA application_id` "TSRA" at offset 68.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
const APPLICATION_ID: [u8; 4] = *b"TSRA";

/// Whether `bytes` start like a Tessera vault (and so a backup).
pub fn is_backup(bytes: &[u8]) -> bool {
    bytes.len() >= 72 && bytes.starts_with(SQLITE_MAGIC) && bytes[68..72] == APPLICATION_ID
}

/// Every item of `vault`, live and trashed, as importable items with their
/// history and the contents of every attachment they refer to.
fn collect(vault: &Vault) -> Result<Vec<NewItem>, VaultError> {
    let mut items = Vec::new();
    vault.each_item(Scope::Any, |item| items.push(item.clone()))?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let id = item.id;
        let version = |item: tessera_core::Item| -> Result<NewVersion, VaultError> {
            let mut attachments = Vec::with_capacity(item.attachments.len());
            for reference in &item.attachments {
                attachments.push(NewAttachment {
                    name: reference.name.clone(),
                    content: vault.attachment_content(id, reference)?,
                });
            }
            Ok(NewVersion { item, attachments })
        };
        let mut history = vault.history(id)?;
        history.reverse();
        let history = history.into_iter().map(version).collect::<Result<Vec<_>, _>>()?;
        out.push(NewItem { current: version(item)?, history });
    }
    Ok(out)
}

/// Copies every item of `source` into the newly created, empty `backup`
/// vault in one transaction. Returns how many items were written.
pub fn write(source: &Vault, backup: &mut Vault, progress: impl FnMut(usize)) -> Result<usize, ExportError> {
    let items = collect(source)?;
    let ids = backup.import(items, Format::TesseraBackup.name(), progress)?;
    Ok(ids.len())
}

/// Reads every item of an unlocked backup. A backup that fails the vault's
/// integrity checks is a [`VaultError::Integrity`], as for any vault.
pub fn read(backup: &Vault) -> Result<Imported, VaultError> {
    Ok(Imported { items: collect(backup)?, skipped: Vec::new() })
}
