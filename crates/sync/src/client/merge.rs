//! Three-way merge of an item edited on two devices.
//!
//! Each field is taken from the side that changed it since the common base;
//! a field both sides changed to different values is a conflict, and then
//! the caller keeps both versions (the remote one in place, the local one
//! as a conflict copy): never silent loss.

use tessera_core::{AttachmentRef, Item};

/// Which side's attachment set the merge kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// This device's.
    Local,
    /// The other device's.
    Remote,
}

/// A clean merge.
pub struct Merged {
    /// The merged item (its attachment refs are meaningless; see `attachments`).
    pub item: Item,
    /// Whose attachments it keeps.
    pub attachments: Side,
}

/// Attachments compare by name and content, not by id: each device stores
/// them under its own ids.
fn attachment_key(list: &[AttachmentRef]) -> Vec<(&str, [u8; 32])> {
    let mut k: Vec<_> = list.iter().map(|a| (a.name.as_str(), a.sha256)).collect();
    k.sort();
    k
}

/// Every field a user edits, which merging and comparing go through. A
/// field left out here would be lost silently at a merge (the remote value
/// taken over this device's edit), so an item field that is not listed must
/// be one sync sets itself (`id`, `revision`, the times, `attachments`).
macro_rules! content_fields {
    ($each:ident) => {
        $each!(
            item_type,
            title,
            username,
            password,
            urls,
            notes,
            otp,
            fields,
            tags,
            folder,
            favourite,
            never_autofill,
            never_for_agents,
            ssh_agent,
            agent_approval,
            auto_type,
            conflict_of,
            expires,
            deleted
        )
    };
}

/// Whether `a` and `b` say the same in every field a user edits.
pub(crate) fn same_content(a: &Item, b: &Item) -> bool {
    macro_rules! same {
        ($($f:ident),*) => { true $(&& a.$f == b.$f)* };
    }
    content_fields!(same)
}

/// Merges `local` and `remote`, both descended from `base`. `None`: a field
/// was changed differently on both sides.
pub fn merge3(base: &Item, local: &Item, remote: &Item) -> Option<Merged> {
    let mut out = remote.clone();
    let mut conflict = false;
    macro_rules! field {
        ($($f:ident),*) => {$(
            if local.$f == base.$f || local.$f == remote.$f {
                // remote's value (already in `out`)
            } else if remote.$f == base.$f {
                out.$f = local.$f.clone();
            } else {
                conflict = true;
            }
        )*};
    }
    content_fields!(field);
    if conflict {
        return None;
    }
    let (b, l, r) =
        (attachment_key(&base.attachments), attachment_key(&local.attachments), attachment_key(&remote.attachments));
    let attachments = if l == b || l == r {
        Side::Remote
    } else if r == b {
        Side::Local
    } else {
        return None;
    };
    out.password_changed = if out.password == local.password && out.password != remote.password {
        local.password_changed
    } else {
        remote.password_changed
    };
    Some(Merged { item: out, attachments })
}

#[cfg(test)]
mod tests {
    use tessera_core::ItemType;

    use super::*;

    fn base() -> Item {
        let mut i = Item::new(ItemType::Login, "Mail");
        i.username = "me".into();
        i.password = "one".into();
        i
    }

    #[test]
    fn edits_to_different_fields_merge() {
        let b = base();
        let mut l = b.clone();
        l.password = "two".into();
        let mut r = b.clone();
        r.title = "Mail (work)".into();
        let m = merge3(&b, &l, &r).unwrap();
        assert_eq!((m.item.title.as_str(), m.item.password.as_str()), ("Mail (work)", "two"));
    }

    #[test]
    fn the_same_field_changed_differently_is_a_conflict() {
        let b = base();
        let mut l = b.clone();
        l.password = "two".into();
        let mut r = b.clone();
        r.password = "three".into();
        assert!(merge3(&b, &l, &r).is_none());
    }

    #[test]
    fn a_setting_changed_here_survives_an_edit_there() {
        let b = base();
        let mut l = b.clone();
        l.never_autofill = true;
        l.never_for_agents = true;
        l.auto_type.sequence = Some("{PASSWORD}{ENTER}".into());
        l.agent_approval = tessera_core::AgentApproval::Never;
        let mut r = b.clone();
        r.password = "two".into();
        let m = merge3(&b, &l, &r).unwrap().item;
        assert!(m.never_autofill && m.never_for_agents);
        assert_eq!(m.auto_type, l.auto_type);
        assert_eq!(m.agent_approval, l.agent_approval);
        assert_eq!(m.password, "two");
        assert!(!same_content(&m, &r), "the merge differs from theirs, so it goes back up");
        assert!(same_content(&m, &m.clone()));
    }

    #[test]
    fn the_same_change_on_both_sides_is_no_conflict() {
        let b = base();
        let mut l = b.clone();
        l.notes = "same".into();
        let r = l.clone();
        assert_eq!(merge3(&b, &l, &r).unwrap().item.notes, "same");
    }
}
