//! The items: search and paging, the item view and its copyable fields
//! and codes, the editor, favourites, trash, history and attachments.

use std::path::Path;

use tessera_core::{Item, ItemId, ItemSummary, Scope, SearchIndex, Vault};
use zeroize::Zeroizing;

use super::{Desktop, LastSearch};
use crate::dto::{
    AttachmentChange, EditableItem, FieldRef, HistoryEntry, ItemDetails, ItemDraft, ListFilter, RevealableField,
    SearchPage, SearchScope, SummaryDto, TotpCode, attachments, changed_parts, parse_id, subtitle_field, unix,
};
use crate::error::{CommandError, CommandResult, ErrorKind};

/// Largest attachment the app reads from disk: the core's limit.
pub const MAX_ATTACHMENT: u64 = tessera_core::item::MAX_ATTACHMENT_SIZE;

/// The refusal of a file over [`MAX_ATTACHMENT`], naming it, its size and
/// the limit.
pub fn attachment_too_large(name: &str, size: u64) -> CommandError {
    const MIB: f64 = 1024.0 * 1024.0;
    CommandError::invalid(format!(
        "“{name}” is {:.1} MiB: an attachment can be at most {} MiB",
        size as f64 / MIB,
        MAX_ATTACHMENT / (1024 * 1024)
    ))
}

/// A read member's change to a shared item would be refused by the share's
/// other members at the next sync (and its manifest signature refused):
/// every change the app makes to an item is checked here first.
fn may_change(vault: &Vault, id: &ItemId) -> CommandResult<()> {
    Ok(tessera_sync::client::sharing::check_may_change(vault, id)?)
}

impl Desktop {
    /// One page of a search, in the core's rank order. The full result of
    /// the last `(query, scope)` is kept so later pages keep its order.
    pub fn search_items(
        &self,
        query: &str,
        scope: SearchScope,
        offset: usize,
        limit: usize,
    ) -> CommandResult<SearchPage> {
        self.search_in_share(query, scope, None, offset, limit)
    }

    /// [`Self::search_items`], only the items of share `share` when given.
    pub fn search_in_share(
        &self,
        query: &str,
        scope: SearchScope,
        share: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> CommandResult<SearchPage> {
        self.search_filtered(query, scope, share, &ListFilter::default(), offset, limit)
    }

    /// [`Self::search_in_share`], also only the items `filter` (the
    /// sidebar's folder or tag) lets through.
    pub fn search_filtered(
        &self,
        query: &str,
        scope: SearchScope,
        share: Option<&str>,
        filter: &ListFilter,
        offset: usize,
        limit: usize,
    ) -> CommandResult<SearchPage> {
        let limit = limit.min(1000);
        self.with_open(|open| {
            let fresh = open.last.as_ref().is_none_or(|l| {
                l.query != query || l.scope != scope || l.share.as_deref() != share || l.filter != *filter
            });
            if fresh {
                let mut hits: Vec<usize> = match scope {
                    SearchScope::Live => open.index.search_positions(query),
                    SearchScope::Favourites => {
                        let all = open.index.all();
                        let mut hits = open.index.search_positions(query);
                        hits.retain(|&i| all[i].favourite);
                        hits
                    }
                    SearchScope::Trash => {
                        if open.trash.is_none() {
                            open.trash = Some(SearchIndex::new(open.vault.summaries(Scope::Trash)?));
                        }
                        open.trash.as_ref().expect("just built").search_positions(query)
                    }
                };
                if let Some(name) = share {
                    let members = tessera_sync::client::sharing::items_of(&open.vault, name)?;
                    let list = match scope {
                        SearchScope::Trash => open.trash.as_ref().map(SearchIndex::all).unwrap_or_default(),
                        _ => open.index.all(),
                    };
                    hits.retain(|&i| members.contains(&list[i].id.to_hex()));
                }
                if *filter != ListFilter::default() {
                    let list = match scope {
                        SearchScope::Trash => open.trash.as_ref().map(SearchIndex::all).unwrap_or_default(),
                        _ => open.index.all(),
                    };
                    hits.retain(|&i| filter.matches(&list[i]));
                }
                open.last = Some(LastSearch {
                    query: query.to_owned(),
                    scope,
                    share: share.map(str::to_owned),
                    filter: filter.clone(),
                    hits,
                });
            }
            open.share_names();
            let last = open.last.as_ref().expect("set above");
            let list: &[ItemSummary] = match scope {
                SearchScope::Trash => open.trash.as_ref().map(SearchIndex::all).unwrap_or_default(),
                _ => open.index.all(),
            };
            let shares = open.share_names.as_ref().expect("read above");
            let items = last
                .hits
                .iter()
                .skip(offset)
                .take(limit)
                .map(|&i| {
                    let s = &list[i];
                    let subtitle = subtitle_field(s.item_type).map(|name| {
                        open.vault
                            .get(s.id)
                            .ok()
                            .and_then(|item| item.field(name).filter(|f| !f.protected).map(|f| f.value.clone()))
                            .unwrap_or_default()
                    });
                    SummaryDto { share: shares.of(&s.id.to_hex()), ..SummaryDto::from_summary(s, subtitle) }
                })
                .collect();
            Ok(SearchPage { total: last.hits.len(), offset, items })
        })
    }

    fn get(&self, id: &str) -> CommandResult<Item> {
        let id = parse_id(id)?;
        self.with_open(|open| Ok(open.vault.get(id)?))
    }

    pub fn get_item(&self, id: &str) -> CommandResult<ItemDetails> {
        let id = parse_id(id)?;
        self.with_open(|open| {
            let item = open.vault.get(id)?;
            Ok(ItemDetails { share: open.share_names().of(&item.id.to_hex()), ..ItemDetails::from_item(&item) })
        })
    }

    pub fn reveal_field(&self, id: &str, field: &RevealableField) -> CommandResult<Zeroizing<String>> {
        let item = self.get(id)?;
        let value = match field {
            RevealableField::Password => item.password.clone(),
            RevealableField::Notes => item.notes.clone(),
            RevealableField::Custom { name } => item
                .field(name)
                .map(|f| f.value.clone())
                .ok_or_else(|| CommandError::not_found(format!("This item has no field named {name:?}")))?,
        };
        Ok(Zeroizing::new(value))
    }

    /// The value `copy_field` puts on the clipboard. Returns whether the
    /// vault changed (an HOTP counter moved on).
    pub fn field_value(&self, id: &str, field: &FieldRef) -> CommandResult<(Zeroizing<String>, bool)> {
        let item_id = parse_id(id)?;
        if let FieldRef::Totp = field {
            let code = self.with_open(|open| {
                let item = open.vault.get(item_id)?;
                let hotp =
                    matches!(item.otp().ok().flatten().map(|o| o.kind), Some(tessera_core::totp::OtpKind::Hotp { .. }));
                let code = open.vault.otp_code(item_id, None)?;
                if hotp {
                    open.refresh()?;
                }
                Ok((code.code, hotp))
            })?;
            return Ok(code);
        }
        let item = self.get(id)?;
        let missing = |what: &str| CommandError::not_found(format!("This item has no {what}"));
        let value = match field {
            FieldRef::Username if !item.username.is_empty() => item.username.clone(),
            FieldRef::Username => return Err(missing("username")),
            FieldRef::Password if !item.password.is_empty() => item.password.clone(),
            FieldRef::Password => return Err(missing("password")),
            FieldRef::Notes if !item.notes.is_empty() => item.notes.clone(),
            FieldRef::Notes => return Err(missing("notes")),
            FieldRef::Url { index } => item.urls.get(*index).cloned().ok_or_else(|| missing("such URL"))?,
            FieldRef::Custom { name } => item
                .field(name)
                .map(|f| f.value.clone())
                .ok_or_else(|| CommandError::not_found(format!("This item has no field named {name:?}")))?,
            FieldRef::Totp => unreachable!("handled above"),
        };
        Ok((Zeroizing::new(value), false))
    }

    pub fn totp_code(&self, id: &str) -> CommandResult<(TotpCode, bool)> {
        let (code, changed) = self.field_value(id, &FieldRef::Totp)?;
        let item = self.get(id)?;
        let period = match item.otp().ok().flatten().map(|o| o.kind) {
            Some(tessera_core::totp::OtpKind::Totp { period }) => Some(period),
            _ => None,
        };
        let remaining = period.map(|p| {
            let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
            p - (now % u64::from(p)) as u32
        });
        Ok((TotpCode { code: code.to_string(), period, remaining }, changed))
    }

    /// The `index`th URL, if it is http(s): the web layer never passes a URL.
    pub fn url_to_open(&self, id: &str, index: usize) -> CommandResult<String> {
        let item = self.get(id)?;
        let url = item.urls.get(index).ok_or_else(|| CommandError::not_found("This item has no such URL"))?;
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) {
            return Err(CommandError::invalid("Only http and https addresses are opened"));
        }
        Ok(url.clone())
    }

    pub fn get_item_for_edit(&self, id: &str) -> CommandResult<EditableItem> {
        let item = self.get(id)?;
        if item.deleted.is_some() {
            return Err(CommandError::not_found("This item is in the trash; restore it to edit it"));
        }
        Ok(EditableItem {
            id: item.id.to_hex(),
            revision: item.revision,
            draft: ItemDraft::from_item(&item),
            attachments: attachments(&item),
        })
    }

    pub fn create_item(&self, draft: &ItemDraft) -> CommandResult<ItemDetails> {
        let mut item = Item::new(draft.item_type, draft.title.clone());
        draft.apply_to(&mut item)?;
        self.change(|vault| {
            let id = vault.add(vec![item])?[0];
            Ok(ItemDetails::from_item(&vault.get(id)?))
        })
    }

    pub fn update_item(&self, id: &str, base_revision: u64, draft: &ItemDraft) -> CommandResult<ItemDetails> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            let current = vault.get(item_id)?;
            may_change(vault, &item_id)?;
            if current.revision != base_revision {
                return Err(CommandError::new(
                    ErrorKind::Conflict,
                    "This item changed since you started editing (in another window or by sync); reopen it to see the change",
                ));
            }
            // The draft goes onto a copy first, so its own errors (a bad OTP,
            // a date out of range) come back as they are; `update` keeps id,
            // dates, attachments and trash state whatever the copy says.
            let mut edited = current.clone();
            draft.apply_to(&mut edited)?;
            let updated = vault.update(item_id, move |item| {
                *item = edited;
                Ok(())
            })?;
            Ok(ItemDetails::from_item(&updated))
        })
    }

    pub fn set_favourite(&self, id: &str, favourite: bool) -> CommandResult<()> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            may_change(vault, &item_id)?;
            vault.update(item_id, |item| {
                item.favourite = favourite;
                Ok(())
            })?;
            Ok(())
        })
    }

    pub fn trash_item(&self, id: &str) -> CommandResult<()> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            may_change(vault, &item_id)?;
            Ok(vault.trash(item_id)?)
        })
    }

    pub fn restore_item(&self, id: &str) -> CommandResult<()> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            may_change(vault, &item_id)?;
            Ok(vault.restore(item_id)?)
        })
    }

    pub fn purge_item(&self, id: &str) -> CommandResult<()> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            may_change(vault, &item_id)?;
            Ok(vault.purge(item_id)?)
        })
    }

    pub fn empty_trash(&self) -> CommandResult<usize> {
        self.change(|vault| Ok(vault.empty_trash()?))
    }

    pub fn item_history(&self, id: &str) -> CommandResult<Vec<HistoryEntry>> {
        let item_id = parse_id(id)?;
        self.with_open(|open| {
            let current = open.vault.get(item_id)?;
            let history = open.vault.history(item_id)?;
            let mut out = Vec::with_capacity(history.len());
            let mut newer = &current;
            for old in &history {
                out.push(HistoryEntry {
                    revision: old.revision,
                    saved_at: unix(old.updated),
                    title: old.title.clone(),
                    username: old.username.clone(),
                    changed: changed_parts(old, newer),
                });
                newer = old;
            }
            Ok(out)
        })
    }

    pub fn restore_version(&self, id: &str, revision: u64) -> CommandResult<ItemDetails> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            may_change(vault, &item_id)?;
            let old = vault
                .history(item_id)?
                .into_iter()
                .find(|v| v.revision == revision)
                .ok_or_else(|| CommandError::not_found(format!("This item has no revision {revision}")))?;
            // `update` keeps the current id, dates and attachments.
            let updated = vault.update(item_id, move |item| {
                *item = old;
                Ok(())
            })?;
            Ok(ItemDetails::from_item(&updated))
        })
    }

    pub fn add_attachment(&self, id: &str, file: &Path) -> CommandResult<AttachmentChange> {
        let item_id = parse_id(id)?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| CommandError::invalid("That is not a file"))?;
        let cannot = |e: std::io::Error| CommandError::io(format!("Cannot read {}: {e}", file.display()));
        let size = std::fs::metadata(file).map_err(cannot)?.len();
        if size > MAX_ATTACHMENT {
            return Err(attachment_too_large(&name, size));
        }
        let content = Zeroizing::new(std::fs::read(file).map_err(cannot)?);
        self.change(|vault| {
            may_change(vault, &item_id)?;
            vault.attach(item_id, &name, &content)?;
            let item = vault.get(item_id)?;
            Ok(AttachmentChange { attachments: attachments(&item), revision: item.revision })
        })
    }

    pub fn remove_attachment(&self, id: &str, name: &str) -> CommandResult<AttachmentChange> {
        let item_id = parse_id(id)?;
        self.change(|vault| {
            may_change(vault, &item_id)?;
            vault.detach(item_id, name)?;
            let item = vault.get(item_id)?;
            Ok(AttachmentChange { attachments: attachments(&item), revision: item.revision })
        })
    }

    pub fn attachment_content(&self, id: &str, name: &str) -> CommandResult<Zeroizing<Vec<u8>>> {
        let item_id = parse_id(id)?;
        self.with_open(|open| Ok(open.vault.attachment(item_id, name)?.1))
    }
}
