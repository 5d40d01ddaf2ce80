//! One stream of items synced with the server — the account's own, or one
//! share's (DESIGN §5, §11) — and the pull-merge-push round that every
//! stream runs the same way. What differs between streams (which key
//! seals a record, who signs the manifest, which routes carry it, which
//! local items belong to it) is behind [`Stream`].

use std::collections::{HashMap, HashSet};

use tessera_core::{Item, ItemId, NewAttachment, NewVersion, RemoteChange, SyncKeys, Vault, VaultError};

use super::engine::{HttpOr, Progress, SyncError, SyncReport, hostile, parse_id, status_of};
use super::http::{Api, HttpError};
use super::manifest::Manifest;
use super::merge::{Side, merge3, same_content};
use super::record::{self, BadRecord, Record};
use super::state::{StreamState, SyncState, Tracked};
use crate::wire::{Change, Changes, MAX_PUSH_ITEMS, PushItem, PushRequest, PushResponse, VaultIndex};

/// One stream of items.
pub(crate) trait Stream {
    /// How messages name it: "the account", "share \"Family\"".
    fn what(&self) -> String;
    /// The server's index of the stream.
    fn index(&self, api: &Api) -> Result<VaultIndex, HttpOr>;
    /// Opens the server's signed manifest, or says what is wrong with it.
    fn verify_manifest(&self, signed: &str) -> Result<Manifest, String>;
    /// Signs a manifest for a push.
    fn sign_manifest(&self, manifest: &Manifest) -> String;
    /// One manifest entry.
    fn entry(&self, id: &ItemId, revision: u64) -> [u8; 32];
    /// Opens a record.
    fn open(&self, id: &ItemId, revision: u64, deleted: bool, blob: &str) -> Result<Record, BadRecord>;
    /// Seals an item.
    fn seal(&self, version: &NewVersion, revision: u64) -> String;
    /// Seals a tombstone.
    fn seal_tombstone(&self, id: &ItemId, revision: u64) -> String;
    /// One page of changes.
    fn changes(&self, api: &Api, since: u64) -> Result<Changes, HttpError>;
    /// A push.
    fn push(&self, api: &Api, req: PushRequest) -> Result<PushResponse, HttpError>;
    /// Whether a local item kept in share `owner` (`None`: in no share)
    /// belongs to this stream.
    fn owns(&self, owner: Option<&str>) -> bool;
    /// The local items (of `revisions`, every local item's revision) that
    /// belong to this stream, with their revisions.
    fn mine(&self, state: &SyncState, revisions: &HashMap<ItemId, u64>) -> Result<Vec<(ItemId, u64)>, SyncError>;
    /// Whether an item arriving here that this device keeps elsewhere
    /// moves here (a share: a member moved it in) or stays (the account).
    fn takes_over(&self) -> bool;
    /// Records that `id` now belongs here.
    fn adopt(&self, state: &mut SyncState, id: &str);
    /// What this device last agreed with the server.
    fn state<'a>(&self, state: &'a SyncState) -> &'a StreamState;
    /// The same, to change.
    fn state_mut<'a>(&self, state: &'a mut SyncState) -> &'a mut StreamState;
    /// Whether this account may push here (a `read` member may not).
    fn may_push(&self) -> Result<(), SyncError> {
        Ok(())
    }
}

/// The account's own items: sealed and signed with keys derived from the
/// Vault Key; every local item that is in no share.
pub(crate) struct AccountStream {
    pub keys: SyncKeys,
}

impl Stream for AccountStream {
    fn what(&self) -> String {
        "the account".into()
    }
    fn index(&self, api: &Api) -> Result<VaultIndex, HttpOr> {
        Ok(api.index()?)
    }
    fn verify_manifest(&self, signed: &str) -> Result<Manifest, String> {
        Manifest::verify(&self.keys, signed)
            .map_err(|_| "the account manifest fails authentication (not signed with this account's key)".into())
    }
    fn sign_manifest(&self, manifest: &Manifest) -> String {
        manifest.sign(&self.keys)
    }
    fn entry(&self, id: &ItemId, revision: u64) -> [u8; 32] {
        self.keys.manifest_entry(id, revision)
    }
    fn open(&self, id: &ItemId, revision: u64, deleted: bool, blob: &str) -> Result<Record, BadRecord> {
        record::open(&self.keys, id, revision, deleted, blob)
    }
    fn seal(&self, version: &NewVersion, revision: u64) -> String {
        record::seal(&self.keys, version, revision)
    }
    fn seal_tombstone(&self, id: &ItemId, revision: u64) -> String {
        record::seal_tombstone(&self.keys, id, revision)
    }
    fn changes(&self, api: &Api, since: u64) -> Result<Changes, HttpError> {
        api.changes(since)
    }
    fn push(&self, api: &Api, req: PushRequest) -> Result<PushResponse, HttpError> {
        api.push(&req)
    }
    fn owns(&self, owner: Option<&str>) -> bool {
        owner.is_none()
    }
    fn mine(&self, state: &SyncState, revisions: &HashMap<ItemId, u64>) -> Result<Vec<(ItemId, u64)>, SyncError> {
        let mut shared = HashSet::new();
        for share in state.shares.values() {
            for hex in &share.members {
                shared.insert(parse_id(hex)?);
            }
        }
        Ok(revisions.iter().filter(|(id, _)| !shared.contains(*id)).map(|(id, r)| (*id, *r)).collect())
    }
    fn takes_over(&self) -> bool {
        false
    }
    fn adopt(&self, _: &mut SyncState, _: &str) {}
    fn state<'a>(&self, state: &'a SyncState) -> &'a StreamState {
        &state.stream
    }
    fn state_mut<'a>(&self, state: &'a mut SyncState) -> &'a mut StreamState {
        &mut state.stream
    }
}

/// One pull-merge-push round. `Ok(false)`: a push raced another device;
/// run another round.
pub(crate) fn round(
    vault: &mut Vault,
    state: &mut SyncState,
    api: &Api,
    stream: &dyn Stream,
    revisions_cache: &mut Option<HashMap<ItemId, u64>>,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<bool, HttpOr> {
    let what = stream.what();
    // 1. The index, checked against the signed manifest and our memory.
    let index = stream.index(api)?;
    let signed = stream.verify_manifest(&index.manifest).map_err(hostile)?;
    if signed.version != index.manifest_version {
        return Err(hostile(format!("{what}: the manifest's version disagrees with the server's")).into());
    }
    let known = stream.state(state).manifest();
    if signed.version < known.version {
        return Err(hostile(format!(
            "{what} was rolled back: the server's manifest is version {} but this device has seen version {}",
            signed.version, known.version
        ))
        .into());
    }
    if signed.version == known.version && known.version > 0 && signed != known {
        return Err(hostile(format!("{what}: the server's manifest differs from the one this device signed")).into());
    }
    // Whole-file rollback (DESIGN §5): this device pushed a manifest this
    // file has never seen, so the file is an older copy than the one that
    // synced last. One version ahead is the crash window between the
    // server accepting a push and this file recording it (the file had
    // saved the push's base version), and heals like any pull.
    if let Some(pushed) = index.device_pushed
        && pushed > known.version.saturating_add(1)
        && !std::mem::take(&mut state.accept_older)
    {
        return Err(SyncError::FileRolledBack { pushed, known: known.version }.into());
    }
    let mut server: HashMap<ItemId, (u64, bool)> = HashMap::with_capacity(index.items.len());
    for e in &index.items {
        if server.insert(parse_id(&e.id)?, (e.revision, e.deleted)).is_some() {
            return Err(hostile(format!("{what}: item {} is listed twice", e.id)).into());
        }
    }
    for (hex, t) in &stream.state(state).items {
        match server.get(&parse_id(hex)?) {
            None => return Err(hostile(format!("{what}: item {hex} was dropped by the server")).into()),
            Some((rev, _)) if *rev < t.revision => {
                return Err(hostile(format!(
                    "{what}: item {hex} was rolled back from revision {} to revision {rev}",
                    t.revision
                ))
                .into());
            }
            _ => {}
        }
    }
    let recount = Manifest::of_entries(signed.version, server.iter().map(|(id, (rev, _))| stream.entry(id, *rev)));
    if recount.count != signed.count || recount.sum != signed.sum {
        let tracked = &stream.state(state).items;
        let extra: Vec<String> =
            server.keys().filter(|id| !tracked.contains_key(&id.to_hex())).map(ItemId::to_hex).take(3).collect();
        return Err(hostile(format!(
            "{what}: the server's items do not match the signed manifest ({} items, {} signed): an item was \
             dropped, added from elsewhere or rolled back{}",
            recount.count,
            signed.count,
            if extra.is_empty() { String::new() } else { format!(" (unknown to this device: {})", extra.join(", ")) }
        ))
        .into());
    }

    // 2. Pull every change up to the index's sequence number.
    let mut changes: Vec<Change> = Vec::new();
    let mut cursor = stream.state(state).cursor.min(index.seq);
    // Nothing after the cursor: no request (a member of many shares syncs
    // each one that did not change with its index alone). A server hiding
    // a change behind a low sequence number is caught below: every item
    // whose revision is not the tracked one must come with the feed.
    'pages: while cursor < index.seq {
        let page = stream.changes(api, cursor)?;
        let last = page.next;
        for c in page.changes {
            if c.seq > index.seq {
                break 'pages;
            }
            changes.push(c);
        }
        progress(Progress::Pulling(changes.len() as u64));
        if !page.more || last <= cursor {
            break;
        }
        cursor = last;
    }
    let mut fed: HashMap<ItemId, &Change> = HashMap::with_capacity(changes.len());
    for c in &changes {
        fed.insert(parse_id(&c.id)?, c);
    }
    for (id, (rev, deleted)) in &server {
        let tracked = stream.state(state).items.get(&id.to_hex());
        if tracked.is_some_and(|t| t.revision == *rev) {
            continue;
        }
        match fed.get(id) {
            Some(c) if c.revision == *rev && c.deleted == *deleted => {}
            _ => {
                return Err(hostile(format!(
                    "{what}: item {id}: the change feed does not carry its revision {rev} (a change was hidden or \
                     replayed)"
                ))
                .into());
            }
        }
    }

    // 3. Open what is new to us and merge it with local edits.
    // Every local item's revision, read once per sync and kept in step with
    // what this process applies (a push changes no local revision); an
    // edit made meanwhile by another process goes up at the next sync.
    let mut local: HashMap<ItemId, u64> = match revisions_cache.take() {
        Some(local) => local,
        None => vault.item_revisions()?.into_iter().collect(),
    };
    let mut remote_changes: Vec<RemoteChange> = Vec::new();
    let mut tracked_after: Vec<(ItemId, Tracked, bool)> = Vec::new(); // (id, tracked, dirty)
    let mut adopted: Vec<ItemId> = Vec::new();
    for (id, c) in &fed {
        let hex = id.to_hex();
        let t = stream.state(state).items.get(&hex).copied();
        // Every record in the feed is opened, even at a revision we hold:
        // a server re-sending an old blob under a current revision is caught.
        let rec = stream.open(id, c.revision, c.deleted, &c.blob).map_err(|_| {
            hostile(format!(
                "{what}: item {id}: its record fails authentication at revision {} (swapped with another item, \
                 replayed from an older revision, moved from another share or account, or sealed under another key)",
                c.revision
            ))
        })?;
        if t.is_some_and(|t| t.revision == c.revision) {
            continue; // our own push, delivered again
        }
        report.pulled += 1;
        let base = Tracked { revision: c.revision, local: 0, deleted: c.deleted };
        // An item this device keeps in another stream (moved into or out
        // of a share): a share takes it over when it arrives there; the
        // account's stream only records the change, and pushes the
        // tombstone that says the item left it.
        if local.contains_key(id) && !stream.owns(state.share_of(&hex)) {
            match (&rec, stream.takes_over()) {
                (Record::Put(_), true) => adopted.push(*id),
                _ => {
                    tracked_after.push((*id, base, false));
                    continue;
                }
            }
        } else if matches!(rec, Record::Put(_)) && stream.takes_over() {
            adopted.push(*id);
        }
        let local_rev = local.get(id).copied();
        let dirty = match (t, local_rev) {
            (Some(t), Some(r)) => t.local != r || t.deleted,
            (Some(t), None) => !t.deleted,
            (None, Some(_)) => true,
            (None, None) => false,
        };
        match (rec, dirty, local_rev) {
            (Record::Tombstone, false, _) | (Record::Tombstone, true, None) => {
                remote_changes.push(RemoteChange::Remove(*id));
                tracked_after.push((*id, base, false));
            }
            // Deleted there, edited here: the edit wins and goes back up.
            (Record::Tombstone, true, Some(_)) => tracked_after.push((*id, base, true)),
            // Unchanged here, or deleted here but edited there (the edit wins).
            (Record::Put(v), false, _) | (Record::Put(v), true, None) => {
                remote_changes.push(RemoteChange::Put(v));
                tracked_after.push((*id, base, false));
            }
            (Record::Put(remote), true, Some(_)) => {
                let remote = *remote;
                let mine = vault.get(*id)?;
                let history = vault.history(*id)?;
                let ancestor = t.and_then(|t| history.into_iter().find(|h| h.revision == t.local));
                match ancestor.as_ref().and_then(|a| merge3(a, &mine, &remote.item)) {
                    Some(merged) => {
                        let attachments = match merged.attachments {
                            Side::Remote => remote.attachments,
                            Side::Local => contents(vault, &mine)?,
                        };
                        let same_as_remote =
                            merged.attachments == Side::Remote && same_content(&merged.item, &remote.item);
                        remote_changes.push(RemoteChange::Put(Box::new(NewVersion { item: merged.item, attachments })));
                        tracked_after.push((*id, base, !same_as_remote));
                    }
                    None => {
                        // Both changed the same field: theirs in place, ours as a copy.
                        report.conflicts += 1;
                        let mut copy = mine.clone();
                        copy.id = ItemId::random();
                        copy.title = format!("{} (conflict copy from {})", mine.title, state.device_name);
                        copy.conflict_of = Some(*id);
                        let copy_attachments = contents(vault, &mine)?;
                        remote_changes.push(RemoteChange::Put(Box::new(remote)));
                        remote_changes.push(RemoteChange::Put(Box::new(NewVersion {
                            item: copy,
                            attachments: copy_attachments,
                        })));
                        tracked_after.push((*id, base, false));
                    }
                }
            }
        }
    }

    // 4. Apply, and record it, in one transaction — unless there is nothing
    // to record: no change, and the cursor and manifest as they were.
    let dirty: HashSet<ItemId> = tracked_after.iter().filter(|(_, _, d)| *d).map(|(id, _, _)| *id).collect();
    let after: HashMap<ItemId, Tracked> = tracked_after.iter().map(|(id, t, _)| (*id, *t)).collect();
    let unchanged = remote_changes.is_empty()
        && after.is_empty()
        && adopted.is_empty()
        && stream.state(state).cursor == index.seq
        && stream.state(state).manifest() == signed;
    if !unchanged {
        let st = &mut *state;
        let mut written = None;
        let mut changed_here: Vec<(ItemId, Option<u64>)> = Vec::new();
        let applied = vault.apply_remote(remote_changes, &local, |applied| {
            changed_here = applied.to_vec();
            let new_local: HashMap<ItemId, u64> = applied.iter().filter_map(|(id, r)| Some((*id, (*r)?))).collect();
            for id in &adopted {
                stream.adopt(st, &id.to_hex());
            }
            let own = stream.state_mut(st);
            for (id, t) in &after {
                let local = if dirty.contains(id) { 0 } else { new_local.get(id).copied().unwrap_or(0) };
                own.items.insert(id.to_hex(), Tracked { local, ..*t });
            }
            own.cursor = index.seq;
            own.set_manifest(&signed);
            let update = st.update();
            written = Some(update.clone());
            update
        });
        match applied {
            // Another session or process (the app's window, the CLI)
            // changed an item while this round merged it: nothing was
            // applied, and the round runs again on what is there now.
            // (The closure that updates `state` runs only once every
            // change is in, so `state` is as it was.)
            Err(VaultError::ChangedMeanwhile { .. }) => {
                *revisions_cache = None;
                return Ok(false);
            }
            other => other?,
        }
        if let Some(update) = written {
            state.written(update);
        }
        // The revisions read at the start of the sync, with what this apply
        // changed: an edit another process made meanwhile goes up at the
        // next sync, as one made during the round trip does.
        for (id, revision) in changed_here {
            match revision {
                Some(r) => local.insert(id, r),
                None => local.remove(&id),
            };
        }
    }

    // 5. Push what changed here.
    let mut pending: Vec<(ItemId, u64, Option<u64>)> = Vec::new(); // (id, base revision, local revision or tombstone)
    let revisions = local;
    // Items another stream keeps count as absent here: a tracked one gets
    // its tombstone.
    let mine = stream.mine(state, &revisions)?;
    *revisions_cache = Some(revisions);
    let present: HashSet<ItemId> = mine.iter().map(|(id, _)| *id).collect();
    let tracked = &stream.state(state).items;
    for (id, rev) in &mine {
        let t = tracked.get(&id.to_hex());
        if t.is_none_or(|t| t.local != *rev || t.deleted) {
            pending.push((*id, t.map_or(0, |t| t.revision), Some(*rev)));
        }
    }
    for (hex, t) in tracked {
        let id = parse_id(hex)?;
        if !t.deleted && !present.contains(&id) {
            pending.push((id, t.revision, None));
        }
    }
    if pending.is_empty() {
        return Ok(true);
    }
    if let Err(e) = stream.may_push() {
        return Err(e.into());
    }
    let total = pending.len() as u64;
    let mut sent = 0u64;
    for batch in pending.chunks(MAX_PUSH_ITEMS) {
        let mut manifest = stream.state(state).manifest();
        let base_version = manifest.version;
        manifest.version += 1;
        let mut items = Vec::with_capacity(batch.len());
        for (id, base, local_rev) in batch {
            let from = (*base > 0).then(|| stream.entry(id, *base));
            manifest.advance_entries(from, stream.entry(id, base + 1));
            let blob = match local_rev {
                Some(_) => {
                    let item = vault.get(*id)?;
                    let attachments = contents(vault, &item)?;
                    stream.seal(&NewVersion { item, attachments }, base + 1)
                }
                None => stream.seal_tombstone(id, base + 1),
            };
            items.push(PushItem { id: id.to_hex(), base_revision: *base, deleted: local_rev.is_none(), blob });
        }
        let req = PushRequest {
            base_manifest_version: base_version,
            manifest: stream.sign_manifest(&manifest),
            manifest_version: manifest.version,
            items,
        };
        match stream.push(api, req) {
            Ok(resp) => {
                let own = stream.state_mut(state);
                for (id, base, local_rev) in batch {
                    own.items.insert(
                        id.to_hex(),
                        Tracked { revision: base + 1, local: local_rev.unwrap_or(0), deleted: local_rev.is_none() },
                    );
                }
                own.set_manifest(&manifest);
                own.cursor = resp.seq;
                state.save(vault)?;
                sent += batch.len() as u64;
                report.pushed += batch.len() as u64;
                progress(Progress::Pushing(sent, total));
            }
            Err(e) if status_of(&e) == Some("stale") => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

/// The contents of an item's attachments.
pub(crate) fn contents(vault: &Vault, item: &Item) -> Result<Vec<NewAttachment>, VaultError> {
    item.attachments
        .iter()
        .map(|a| Ok(NewAttachment { name: a.name.clone(), content: vault.attachment_content(item.id, a)? }))
        .collect()
}
