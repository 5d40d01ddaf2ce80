//! Folders and tags in the app's sidebar (ui/API.md "Folders and tags"):
//! the folder tree and the tag list with their item counts, moving items
//! to a folder (drag and drop, "Move to…"), renaming and deleting a folder.
//!
//! A folder is nothing but the path items carry ("Work/Servers"): it exists
//! while an item is filed under it or under one of its subfolders. So
//! renaming or deleting one is re-filing its items, each a normal edit of
//! the item — a new revision with the old one in history, an audit entry,
//! and a change the next sync sends like any other. A folder holds its
//! subfolders' items: selecting "Work" lists "Work/Servers" too, counts
//! include them, and deleting "Work" moves all of them to Work's parent.
//!
//! Core has no multi-item edit (`Vault::update` is one item in one
//! transaction; only `add`, `import` and `empty_trash` batch), so a rename
//! of 1,000 items is 1,000 transactions. To keep that correct, everything
//! that can refuse is checked before the first write — every id, and every
//! share the items are in (a `read` member may not change a shared item) —
//! and a failure half way says how many items had moved; the list is
//! rebuilt from the vault either way.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;
use tauri::{AppHandle, WebviewWindow};
use tessera_core::item::normalize_folder;
use tessera_core::{ItemId, ItemSummary, Scope, Vault};
use tessera_sync::client::sharing;
use tessera_sync::client::state::SyncState;

use crate::commands::{changed_elsewhere, run};
use crate::desktop::Desktop;
use crate::dto::{folder_holds, parse_id};
use crate::error::{CommandError, CommandResult};

/// One folder of the tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderNode {
    /// The last segment ("Servers").
    pub name: String,
    /// The whole path ("Work/Servers").
    pub path: String,
    /// Items filed in this folder itself.
    pub items: usize,
    /// Items in it and in its subfolders: what selecting it lists.
    pub total: usize,
    /// Subfolders, by name (case-insensitive).
    pub children: Vec<FolderNode>,
}

/// The sidebar's folder tree, over live items.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderTree {
    /// Every live item ("All items").
    pub total: usize,
    /// Items in no folder.
    pub unfiled: usize,
    /// The top-level folders.
    pub folders: Vec<FolderNode>,
}

/// One tag and how many live items carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagCount {
    pub tag: String,
    pub items: usize,
}

#[derive(Default)]
struct Branch {
    items: usize,
    children: BTreeMap<String, Branch>,
}

impl Branch {
    fn into_nodes(self, parent: &str) -> Vec<FolderNode> {
        let mut nodes: Vec<FolderNode> = self
            .children
            .into_iter()
            .map(|(name, branch)| {
                let path = if parent.is_empty() { name.clone() } else { format!("{parent}/{name}") };
                let items = branch.items;
                let children = branch.into_nodes(&path);
                let total = items + children.iter().map(|c| c.total).sum::<usize>();
                FolderNode { name, path, items, total, children }
            })
            .collect();
        nodes.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.name.cmp(&b.name)));
        nodes
    }
}

/// The folder tree of `items` (stored folders are normalised already).
pub fn folder_tree_of(items: &[ItemSummary]) -> FolderTree {
    let mut root = Branch::default();
    for s in items {
        let mut branch = &mut root;
        for segment in s.folder.split('/').filter(|p| !p.is_empty()) {
            branch = branch.children.entry(segment.to_owned()).or_default();
        }
        branch.items += 1;
    }
    let unfiled = root.items;
    FolderTree { total: items.len(), unfiled, folders: root.into_nodes("") }
}

/// Tags of `items` with their counts, by tag (case-insensitive).
pub fn tag_counts_of(items: &[ItemSummary]) -> Vec<TagCount> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for tag in items.iter().flat_map(|s| &s.tags) {
        *counts.entry(tag.as_str()).or_default() += 1;
    }
    let mut out: Vec<TagCount> =
        counts.into_iter().map(|(tag, items)| TagCount { tag: tag.to_owned(), items }).collect();
    out.sort_by(|a, b| a.tag.to_lowercase().cmp(&b.tag.to_lowercase()).then_with(|| a.tag.cmp(&b.tag)));
    out
}

/// Where an item filed under `path` goes when folder `from` becomes `to`:
/// `None` when it is not in `from` or its subfolders.
pub fn renamed(path: &str, from: &str, to: &str) -> Option<String> {
    if !folder_holds(from, path) || from.is_empty() {
        return None;
    }
    let rest = &path[from.len()..];
    Some(normalize_folder(&format!("{to}{rest}")))
}

/// The folder that holds `path` (`""` for a top-level folder).
pub fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// Refuses the whole change if any item is in a share where this account
/// may not change items; checked once per share, before anything is written.
fn check_may_change_all(vault: &Vault, ids: &[ItemId]) -> CommandResult<()> {
    let Some(state) = SyncState::load(vault)? else { return Ok(()) };
    let mut checked = HashSet::new();
    for id in ids {
        if let Some(share) = state.share_of(&id.to_hex()) {
            if checked.insert(share.to_owned()) {
                sharing::check_may_change(vault, id)?;
            }
        }
    }
    Ok(())
}

/// Files each item of `plan` under its new folder, one `Vault::update`
/// each (see the module docs). Returns how many moved.
fn refile(vault: &mut Vault, plan: Vec<(ItemId, String)>) -> CommandResult<usize> {
    let ids: Vec<ItemId> = plan.iter().map(|(id, _)| *id).collect();
    check_may_change_all(vault, &ids)?;
    let total = plan.len();
    for (done, (id, folder)) in plan.into_iter().enumerate() {
        let moved = vault.update(id, move |item| {
            item.folder = folder;
            Ok(())
        });
        if let Err(e) = moved {
            let e = CommandError::from(e);
            if done == 0 {
                return Err(e);
            }
            let message = format!("{done} of {total} items moved before this failed: {}", e.message);
            return Err(CommandError::new(e.kind, message));
        }
    }
    Ok(total)
}

/// The live items filed under `folder` or its subfolders, with the new
/// folder `to_path` gives each; `not_found` when there are none.
fn plan_for_folder(
    vault: &Vault,
    folder: &str,
    to_path: impl Fn(&str) -> String,
) -> CommandResult<Vec<(ItemId, String)>> {
    let plan: Vec<(ItemId, String)> = vault
        .summaries(Scope::Live)?
        .into_iter()
        .filter(|s| folder_holds(folder, &s.folder))
        .map(|s| (s.id, to_path(&s.folder)))
        .collect();
    if plan.is_empty() {
        return Err(CommandError::not_found(format!("No item is filed under the folder {folder:?}")));
    }
    Ok(plan)
}

fn folder_argument(path: &str) -> CommandResult<String> {
    let path = normalize_folder(path);
    if path.is_empty() {
        return Err(CommandError::invalid("Choose a folder; the root is not one"));
    }
    Ok(path)
}

impl Desktop {
    pub fn folder_tree(&self) -> CommandResult<FolderTree> {
        self.with_unlocked(|_, items, _| folder_tree_of(items)).ok_or_else(CommandError::locked)
    }

    pub fn tag_counts(&self) -> CommandResult<Vec<TagCount>> {
        self.with_unlocked(|_, items, _| tag_counts_of(items)).ok_or_else(CommandError::locked)
    }

    /// Files live items `ids` under `folder` (`""`: no folder). Items
    /// already there are left alone. Returns how many moved.
    pub fn move_items(&self, ids: &[String], folder: &str) -> CommandResult<usize> {
        let folder = normalize_folder(folder);
        let mut seen = BTreeSet::new();
        let ids: Vec<ItemId> = ids
            .iter()
            .map(|id| parse_id(id))
            .collect::<CommandResult<Vec<_>>>()?
            .into_iter()
            .filter(|id| seen.insert(*id))
            .collect();
        self.change(|vault| {
            let mut plan = Vec::new();
            for id in ids {
                let item = vault.get(id)?;
                if item.deleted.is_some() {
                    return Err(CommandError::invalid(format!(
                        "{:?} is in the trash; restore it before moving it",
                        item.title
                    )));
                }
                if item.folder != folder {
                    plan.push((id, folder.clone()));
                }
            }
            refile(vault, plan)
        })
    }

    /// Renames folder `from` to `to` (a whole path: "Work" → "Job", or
    /// "Work/Servers" → "Infra/Servers"), its subfolders with it. A `to`
    /// that exists already is merged into. Returns how many items moved.
    pub fn rename_folder(&self, from: &str, to: &str) -> CommandResult<usize> {
        let from = folder_argument(from)?;
        let to = normalize_folder(to);
        if to.is_empty() {
            return Err(CommandError::invalid("Give the folder a name"));
        }
        if to == from {
            return Ok(0);
        }
        if folder_holds(&from, &to) {
            return Err(CommandError::invalid(format!("{from:?} cannot move into its own subfolder {to:?}")));
        }
        self.change(|vault| {
            let plan = plan_for_folder(vault, &from, |path| renamed(path, &from, &to).unwrap_or_default())?;
            refile(vault, plan)
        })
    }

    /// Deletes folder `path`: its items, and those of its subfolders, go to
    /// its parent folder (the root for a top-level one). No item is
    /// deleted. Returns how many moved.
    pub fn delete_folder(&self, path: &str) -> CommandResult<usize> {
        let path = folder_argument(path)?;
        let parent = parent_of(&path).to_owned();
        self.change(|vault| {
            let plan = plan_for_folder(vault, &path, |_| parent.clone())?;
            refile(vault, plan)
        })
    }
}

#[tauri::command]
pub async fn folder_tree(app: AppHandle) -> CommandResult<FolderTree> {
    run(&app, true, |d, _| d.folder_tree()).await
}

#[tauri::command]
pub async fn tag_counts(app: AppHandle) -> CommandResult<Vec<TagCount>> {
    run(&app, true, |d, _| d.tag_counts()).await
}

#[tauri::command]
pub async fn move_items(
    app: AppHandle,
    window: WebviewWindow,
    ids: Vec<String>,
    folder: String,
) -> CommandResult<usize> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        let moved = d.move_items(&ids, &folder)?;
        changed_elsewhere(app, &caller, ids);
        Ok(moved)
    })
    .await
}

#[tauri::command]
pub async fn rename_folder(app: AppHandle, window: WebviewWindow, from: String, to: String) -> CommandResult<usize> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        let moved = d.rename_folder(&from, &to)?;
        changed_elsewhere(app, &caller, Vec::new());
        Ok(moved)
    })
    .await
}

#[tauri::command]
pub async fn delete_folder(app: AppHandle, window: WebviewWindow, path: String) -> CommandResult<usize> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        let moved = d.delete_folder(&path)?;
        changed_elsewhere(app, &caller, Vec::new());
        Ok(moved)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::{ItemDraft, ListFilter, SearchScope};
    use crate::error::ErrorKind;
    use tessera_core::{Item, ItemType};

    fn summary(folder: &str, tags: &[&str]) -> ItemSummary {
        let mut item = Item::new(ItemType::Login, "x");
        item.folder = folder.into();
        item.tags = tags.iter().map(|t| t.to_string()).collect();
        item.summary()
    }

    #[test]
    fn the_tree_counts_each_folder_with_its_subfolders() {
        let items = [
            summary("", &[]),
            summary("Work", &["ops"]),
            summary("Work/Servers", &["ops", "linux"]),
            summary("Work/Servers", &[]),
            summary("Work/Servers/Old", &[]),
            summary("bank", &["money"]),
            summary("Home/Wi-Fi", &[]),
        ];
        let tree = folder_tree_of(&items);
        assert_eq!((tree.total, tree.unfiled), (7, 1));
        let names: Vec<&str> = tree.folders.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["bank", "Home", "Work"], "by name, case-insensitive");
        let work = &tree.folders[2];
        assert_eq!((work.path.as_str(), work.items, work.total), ("Work", 1, 4));
        let servers = &work.children[0];
        assert_eq!((servers.path.as_str(), servers.items, servers.total), ("Work/Servers", 2, 3));
        assert_eq!(servers.children[0].path, "Work/Servers/Old");
        let home = &tree.folders[1];
        assert_eq!((home.items, home.total), (0, 1), "a folder with only subfolders still shows");
        let tags: Vec<(String, usize)> = tag_counts_of(&items).into_iter().map(|t| (t.tag, t.items)).collect();
        assert_eq!(tags, [("linux".into(), 1), ("money".into(), 1), ("ops".into(), 2)]);
    }

    #[test]
    fn a_rename_maps_the_folder_and_its_subfolders_and_nothing_else() {
        assert_eq!(renamed("Work", "Work", "Job").as_deref(), Some("Job"));
        assert_eq!(renamed("Work/Servers/Old", "Work", "Job").as_deref(), Some("Job/Servers/Old"));
        assert_eq!(renamed("Workshop", "Work", "Job"), None, "a name that only starts alike is another folder");
        assert_eq!(renamed("Home", "Work", "Job"), None);
        assert_eq!(renamed("Work/Servers", "Work/Servers", "Infra/Servers").as_deref(), Some("Infra/Servers"));
        assert_eq!(parent_of("Work/Servers/Old"), "Work/Servers");
        assert_eq!(parent_of("Work"), "");
    }

    fn vault_with(items: &[(&str, &str, &[&str])]) -> (tempfile::TempDir, Desktop, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let paths = crate::settings::Paths {
            config_file: dir.path().join("config/desktop.json"),
            default_vault: dir.path().join("vault.tessera"),
        };
        let d = Desktop::new(paths);
        d.create_vault(dir.path().join("v.tessera").to_str().unwrap(), "correct horse battery staple 42").unwrap();
        let ids = items
            .iter()
            .map(|(title, folder, tags)| {
                let mut draft = ItemDraft::template(ItemType::Login);
                draft.title = (*title).into();
                draft.folder = (*folder).into();
                draft.tags = tags.iter().map(|t| t.to_string()).collect();
                d.create_item(&draft).unwrap().id
            })
            .collect();
        (dir, d, ids)
    }

    fn folders(d: &Desktop) -> Vec<(String, String)> {
        let page = d.search_items("", SearchScope::Live, 0, 100).unwrap();
        page.items.into_iter().map(|s| (s.title, s.folder)).collect()
    }

    fn titles(d: &Desktop, folder: Option<&str>, tag: Option<&str>) -> Vec<String> {
        let filter = ListFilter::new(folder, tag);
        let page = d.search_filtered("", SearchScope::Live, None, &filter, 0, 100).unwrap();
        assert_eq!(page.total, page.items.len());
        page.items.into_iter().map(|s| s.title).collect()
    }

    #[test]
    fn the_list_filters_by_folder_with_subfolders_and_by_tag() {
        let (_dir, d, _) = vault_with(&[
            ("Mail", "", &["personal"]),
            ("Router", "Work/Servers", &["ops"]),
            ("Wiki", "Work", &["ops"]),
            ("Shop", "Workshop", &[]),
        ]);
        assert_eq!(titles(&d, Some("Work"), None), ["Router", "Wiki"]);
        assert_eq!(titles(&d, Some("Work/Servers"), None), ["Router"]);
        assert_eq!(titles(&d, Some(""), None).len(), 4, "the root is everything");
        assert_eq!(titles(&d, None, Some("ops")), ["Router", "Wiki"]);
        assert_eq!(titles(&d, Some("Work/Servers"), Some("ops")), ["Router"]);
        assert_eq!(d.folder_tree().unwrap().folders.iter().map(|f| f.total).collect::<Vec<_>>(), [2, 1]);
    }

    #[test]
    fn moving_renaming_and_deleting_folders_refile_items_with_history() {
        let (_dir, d, ids) = vault_with(&[
            ("Mail", "", &[]),
            ("Router", "Work/Servers", &[]),
            ("Wiki", "Work", &[]),
            ("Old box", "Work/Servers/Old", &[]),
        ]);
        assert_eq!(d.move_items(&[ids[0].clone(), ids[2].clone()], " Work/ ").unwrap(), 1, "Wiki is there already");
        let history = d.item_history(&ids[0]).unwrap();
        assert_eq!(history[0].changed, ["folder"], "a move is a normal edit with history");

        assert_eq!(d.rename_folder("Work", "Job").unwrap(), 4);
        assert_eq!(
            folders(&d),
            [
                ("Mail".into(), "Job".into()),
                ("Old box".into(), "Job/Servers/Old".into()),
                ("Router".into(), "Job/Servers".into()),
                ("Wiki".into(), "Job".into()),
            ]
        );
        let err = d.rename_folder("Job", "Job/Inner").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid);
        assert_eq!(d.rename_folder("Nothing", "Else").unwrap_err().kind, ErrorKind::NotFound);

        assert_eq!(d.delete_folder("Job/Servers").unwrap(), 2);
        let after: Vec<String> = folders(&d).into_iter().map(|(_, f)| f).collect();
        assert_eq!(after, ["Job"; 4], "a deleted folder's items and its subfolders' go to its parent");
        assert_eq!(d.delete_folder("Job").unwrap(), 4);
        assert!(folders(&d).iter().all(|(_, f)| f.is_empty()));
        assert_eq!(d.delete_folder("").unwrap_err().kind, ErrorKind::Invalid);
        assert_eq!(d.move_items(&["nope".into()], "X").unwrap_err().kind, ErrorKind::Invalid);
    }

    /// Without a multi-item edit in core, 1,000 items are 1,000 updates
    /// (about 0.4 s here): all of them move, and the tree follows.
    #[test]
    fn renaming_a_folder_of_1000_items_moves_every_one() {
        let (_dir, d, _) = vault_with(&[]);
        let items: Vec<Item> = (0..1000)
            .map(|i| {
                let mut item = Item::new(ItemType::Login, format!("Server {i:04}"));
                item.folder = if i % 2 == 0 { "Work".into() } else { "Work/Servers".into() };
                item
            })
            .collect();
        d.change(|vault| Ok(vault.add(items)?.len())).unwrap();
        assert_eq!(d.rename_folder("Work", "Job").unwrap(), 1000);
        let tree = d.folder_tree().unwrap();
        assert_eq!(tree.folders.len(), 1);
        let job = &tree.folders[0];
        assert_eq!((job.path.as_str(), job.items, job.total), ("Job", 500, 1000));
        assert_eq!((job.children[0].path.as_str(), job.children[0].total), ("Job/Servers", 500));
    }

    #[test]
    fn a_read_member_cannot_move_a_shared_item_and_nothing_moves() {
        let (_dir, d, netflix, diary) = crate::sharing::tests::vault_with_a_share("read");
        d.move_items(std::slice::from_ref(&diary), "Home").unwrap();
        d.move_items(std::slice::from_ref(&netflix), "Home").unwrap_err();
        let err = d.move_items(&[diary.clone(), netflix.clone()], "Elsewhere").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid);
        assert!(err.message.contains("read"), "{}", err.message);
        assert_eq!(d.get_item(&diary).unwrap().folder, "Home", "nothing moved");
        assert_eq!(d.get_item(&netflix).unwrap().folder, "");
    }
}
