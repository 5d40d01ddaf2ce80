//! Reading and changing items: lookup, lists, history, attachments, the
//! trash, one-time codes.

use zeroize::Zeroizing;

use super::{Scope, Vault};
use crate::audit::{self, AuditEntry, AuditEvent};
use crate::error::{IntegrityError, VaultError};
use crate::ids::{AttachmentId, ItemId};
use crate::item::{AttachmentRef, InvalidItem, Item, ItemSummary, MAX_ATTACHMENT_SIZE, now};
use crate::primitives::hash::sha256;
use crate::sealed;
use crate::search::SearchIndex;
use crate::store;
use crate::totp::Code;

impl Vault {
    /// The item `id`, live or trashed.
    pub fn get(&self, id: ItemId) -> Result<Item, VaultError> {
        self.read(true, |r| r.load(&id))
    }

    /// Finds one item by id, unique id prefix (at least 4 hex digits) or
    /// exact title, among the items `scope` admits.
    pub fn resolve(&self, query: &str, scope: Scope) -> Result<ItemId, VaultError> {
        self.read(true, |r| {
            if let Ok(id) = query.parse::<ItemId>() {
                if let Some(row) = store::get_item(r.tx, id.as_bytes())? {
                    let item = r.open(&row)?;
                    if scope.admits(item.deleted.is_some()) {
                        return Ok(id);
                    }
                }
            }
            let mut ids: Vec<Vec<u8>> =
                store::item_ids_by_title_tag(r.tx, &sealed::title_tag(&r.subkeys.index, query))?;
            let prefix = query.to_ascii_lowercase();
            if prefix.len() >= 4 && prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
                for id in store::all_item_ids(r.tx)? {
                    if data_encoding::HEXLOWER.encode(&id).starts_with(&prefix) && !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
            let mut matches = Vec::new();
            for id in ids {
                let Some(row) = store::get_item(r.tx, &id)? else { continue };
                let item = r.open(&row)?;
                // A title match must be exact; the blind index could in
                // principle collide.
                let by_title = item.title == query;
                let by_prefix = item.id.to_hex().starts_with(&prefix) && prefix.len() >= 4;
                if (by_title || by_prefix) && scope.admits(item.deleted.is_some()) {
                    matches.push((item.id, item.title.clone()));
                }
            }
            match matches.len() {
                0 => Err(VaultError::NotFound(query.to_owned())),
                1 => Ok(matches[0].0),
                _ => {
                    matches.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
                    Err(VaultError::Ambiguous { query: query.to_owned(), candidates: matches })
                }
            }
        })
    }

    /// Summaries of the items `scope` admits, in storage order.
    pub fn summaries(&self, scope: Scope) -> Result<Vec<ItemSummary>, VaultError> {
        let mut out = Vec::new();
        self.each_item(scope, |item| out.push(item.summary()))?;
        Ok(out)
    }

    /// Builds the in-memory search index over live items.
    pub fn search_index(&self) -> Result<SearchIndex, VaultError> {
        Ok(SearchIndex::new(self.summaries(Scope::Live)?))
    }

    /// Calls `f` with every item `scope` admits, decrypting in parallel
    /// batches (for reports and exports that need whole items).
    pub fn each_item(&self, scope: Scope, mut f: impl FnMut(&Item)) -> Result<(), VaultError> {
        self.read(true, |r| {
            let mut failure = None;
            r.open_all(|_, item| match item {
                Ok(item) if scope.admits(item.deleted.is_some()) => f(&item),
                Ok(_) => {}
                Err(e) => {
                    failure.get_or_insert(e);
                }
            })?;
            failure.map_or(Ok(()), |e| Err(e.into()))
        })
    }

    /// Earlier versions of item `id`, newest first.
    pub fn history(&self, id: ItemId) -> Result<Vec<Item>, VaultError> {
        self.read(true, |r| {
            r.load(&id)?;
            let keys = r.keys;
            store::history_of(r.tx, id.as_bytes())?
                .iter()
                .map(|h| sealed::open_history(h, &r.vault_id, keys).map_err(VaultError::from))
                .collect()
        })
    }

    /// The content of item `id`'s attachment `name`.
    pub fn attachment(&self, id: ItemId, name: &str) -> Result<(AttachmentRef, Zeroizing<Vec<u8>>), VaultError> {
        let item = self.get(id)?;
        let reference = item
            .attachment(name)
            .cloned()
            .ok_or_else(|| VaultError::NoSuchAttachment { item: id, name: name.to_owned() })?;
        let content = self.attachment_content(id, &reference)?;
        Ok((reference, content))
    }

    /// The content `reference` points to, for the current version of item
    /// `id` or one in its history (an export carries both).
    pub fn attachment_content(&self, id: ItemId, reference: &AttachmentRef) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        self.read(true, |r| {
            let missing = || IntegrityError::Attachment { item: id.to_hex(), name: reference.name.clone() };
            let row = store::get_attachment(r.tx, reference.id.as_bytes())?.ok_or_else(missing)?;
            if row.item_id != id.as_bytes() {
                return Err(missing().into());
            }
            Ok(sealed::open_attachment(&row, &id, &reference.name, &reference.sha256, &r.vault_id, r.keys)?)
        })
    }

    /// The audit log, oldest first, after checking its whole chain.
    pub fn audit_log(&self) -> Result<Vec<AuditEntry>, VaultError> {
        self.read(false, |r| {
            let rows = store::audit_rows(r.tx)?;
            Ok(audit::open_chain(&rows, r.state.audit_seq, &r.state.audit_head, &r.vault_id, r.subkeys)?)
        })
    }

    /// Appends `event` to the audit log (for integrations that record what
    /// they gave out: an AI agent's answers and refusals).
    pub fn record_event(&mut self, event: AuditEvent) -> Result<(), VaultError> {
        self.write(false, |w| w.audit(event))
    }

    // --- changing items ---------------------------------------------------

    /// Adds items in one transaction and returns their ids. Each gets
    /// revision 1; `created`/`updated` are kept as given (an import keeps
    /// its dates). Items must come without attachments: add those with
    /// [`Vault::attach`].
    pub fn add(&mut self, items: Vec<Item>) -> Result<Vec<ItemId>, VaultError> {
        self.write(true, |w| {
            let mut ids = Vec::with_capacity(items.len());
            let count = items.len();
            for mut item in items {
                if !item.attachments.is_empty() {
                    return Err(InvalidItem::AttachmentsOnCreate.into());
                }
                item.revision = 1;
                item.deleted = None;
                w.insert_item(&mut item)?;
                if count == 1 {
                    w.audit(AuditEvent::ItemCreated { item: item.id, title: item.title.clone() })?;
                }
                ids.push(item.id);
            }
            if count > 1 {
                w.audit(AuditEvent::ItemsCreated { count: count as u64 })?;
            }
            Ok(ids)
        })
    }

    /// Edits live item `id` in one transaction: `edit` changes a copy of
    /// the current version, which is then checked and saved as the next
    /// revision, the previous one going to history. An edit that changes
    /// nothing saves nothing. Identity, dates, attachments and trash state
    /// are kept by the vault whatever `edit` does to them.
    pub fn update(
        &mut self,
        id: ItemId,
        edit: impl FnOnce(&mut Item) -> Result<(), VaultError>,
    ) -> Result<Item, VaultError> {
        self.write(true, |w| {
            let old = w.load_live(&id)?;
            let mut new = old.clone();
            edit(&mut new)?;
            new.id = old.id;
            new.created = old.created;
            new.attachments = old.attachments.clone();
            new.deleted = old.deleted;
            new.revision = old.revision;
            new.updated = old.updated;
            new.password_changed = old.password_changed;
            new.normalize()?;
            if new == old {
                return Ok(old);
            }
            if new.password != old.password {
                new.password_changed = w.now;
            }
            w.replace_item(&old, &mut new, true)?;
            w.audit(AuditEvent::ItemUpdated { item: id, title: new.title.clone() })?;
            Ok(new)
        })
    }

    /// Moves live item `id` to the trash.
    pub fn trash(&mut self, id: ItemId) -> Result<(), VaultError> {
        self.set_trashed(id, true)
    }

    /// Brings item `id` back from the trash.
    pub fn restore(&mut self, id: ItemId) -> Result<(), VaultError> {
        self.set_trashed(id, false)
    }

    /// Trash state changes bump the revision (the manifest must see them)
    /// but keep no history: the content is unchanged.
    fn set_trashed(&mut self, id: ItemId, trashed: bool) -> Result<(), VaultError> {
        self.write(true, |w| {
            let old = if trashed { w.load_live(&id)? } else { w.load_trashed(&id)? };
            let mut new = old.clone();
            new.deleted = trashed.then_some(w.now);
            w.replace_item(&old, &mut new, false)?;
            let title = new.title.clone();
            w.audit(if trashed {
                AuditEvent::ItemTrashed { item: id, title }
            } else {
                AuditEvent::ItemRestored { item: id, title }
            })
        })
    }

    /// Deletes trashed item `id` for good, with its history and attachments.
    pub fn purge(&mut self, id: ItemId) -> Result<(), VaultError> {
        self.write(true, |w| {
            let item = w.load_trashed(&id)?;
            w.remove_item(&item)?;
            w.audit(AuditEvent::ItemPurged { item: id, title: item.title.clone() })?;
            Ok(())
        })
    }

    /// Deletes every trashed item for good, in one transaction. Returns how
    /// many were purged.
    pub fn empty_trash(&mut self) -> Result<usize, VaultError> {
        let trashed: Vec<ItemId> = self.summaries(Scope::Trash)?.into_iter().map(|s| s.id).collect();
        self.write(true, |w| {
            for id in &trashed {
                let item = w.load_trashed(id)?;
                w.remove_item(&item)?;
                w.audit(AuditEvent::ItemPurged { item: *id, title: item.title.clone() })?;
            }
            Ok(trashed.len())
        })
    }

    /// Attaches `content` to live item `id` as `name`, replacing an
    /// attachment of that name (the old content stays reachable from the
    /// item's history until that version leaves it).
    pub fn attach(&mut self, id: ItemId, name: &str, content: &[u8]) -> Result<(), VaultError> {
        if name.is_empty() || name.contains(['/', '\0']) || name == "." || name == ".." {
            return Err(InvalidItem::BadAttachmentName.into());
        }
        let size = content.len() as u64;
        if size > MAX_ATTACHMENT_SIZE {
            return Err(InvalidItem::AttachmentTooLarge { size, max: MAX_ATTACHMENT_SIZE }.into());
        }
        self.write(true, |w| {
            let old = w.load_live(&id)?;
            let attachment = AttachmentId::random();
            let row = sealed::seal_attachment(&id, &attachment, content, &w.vault_id, w.current_key()?);
            store::insert_attachment(w.tx, &row)?;
            let mut new = old.clone();
            new.attachments.retain(|a| a.name != name);
            new.attachments.push(AttachmentRef {
                id: attachment,
                name: name.to_owned(),
                size,
                sha256: sha256(&[content]),
            });
            w.replace_item(&old, &mut new, true)?;
            w.audit(AuditEvent::AttachmentAdded { item: id, name: name.to_owned() })?;
            Ok(())
        })
    }

    /// Removes attachment `name` from live item `id`.
    pub fn detach(&mut self, id: ItemId, name: &str) -> Result<(), VaultError> {
        self.write(true, |w| {
            let old = w.load_live(&id)?;
            if old.attachment(name).is_none() {
                return Err(VaultError::NoSuchAttachment { item: id, name: name.to_owned() });
            }
            let mut new = old.clone();
            new.attachments.retain(|a| a.name != name);
            w.replace_item(&old, &mut new, true)?;
            w.audit(AuditEvent::AttachmentRemoved { item: id, name: name.to_owned() })?;
            Ok(())
        })
    }

    /// The one-time code of item `id` at `unix_seconds` (now if `None`).
    /// For an HOTP item this uses the stored counter and saves the next
    /// one, so the same code is never handed out twice.
    pub fn otp_code(&mut self, id: ItemId, unix_seconds: Option<u64>) -> Result<Code, VaultError> {
        let item = self.get(id)?;
        let otp = item.otp()?.ok_or_else(|| VaultError::NotFound(format!("a one-time password in item {id}")))?;
        match otp.kind {
            crate::totp::OtpKind::Totp { .. } => {
                let at = unix_seconds.unwrap_or_else(|| now().unix_timestamp().max(0) as u64);
                otp.code_at(at).map_err(|e| InvalidItem::Otp(e.to_string()).into())
            }
            crate::totp::OtpKind::Hotp { .. } => self.write(true, |w| {
                let old = w.load_live(&id)?;
                let otp =
                    old.otp()?.ok_or_else(|| VaultError::NotFound(format!("a one-time password in item {id}")))?;
                let crate::totp::OtpKind::Hotp { counter } = otp.kind else {
                    return Err(InvalidItem::Otp("the item's OTP changed kind".into()).into());
                };
                let code = otp.code_at(0).map_err(|e| InvalidItem::Otp(e.to_string()))?;
                let mut new = old.clone();
                let next = counter.checked_add(1).ok_or_else(|| InvalidItem::Otp("HOTP counter overflow".into()))?;
                new.otp = Some(otp.with_counter(next).to_uri().to_string());
                w.replace_item(&old, &mut new, false)?;
                Ok(code)
            }),
        }
    }
}
