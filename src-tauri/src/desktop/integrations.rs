//! The unlocked vault lent to the rest of the app: the tray's favourites,
//! the agents' and the browser's views; empty or `None` while locked.

use tessera_core::{ItemId, ItemSummary, Vault};

use super::Desktop;

impl Desktop {
    /// Favourites for the tray menu: (id, title, has username, has password, has TOTP).
    pub fn favourites(&self, max: usize) -> Vec<(ItemId, String, bool, bool, bool)> {
        self.with_open(|open| {
            Ok(open
                .index
                .all()
                .iter()
                .filter(|s| s.favourite)
                .take(max)
                .map(|s| (s.id, s.title.clone(), !s.username.is_empty(), s.has_password, s.has_otp))
                .collect())
        })
        .unwrap_or_default()
    }

    /// Runs `f` for the agents (SSH, MCP) on the unlocked vault, its live
    /// items' summaries and their generation (which changes with every
    /// change to the list); `None` when locked. `f` must not change items.
    pub fn with_unlocked<R>(&self, f: impl FnOnce(&mut Vault, &[ItemSummary], u64) -> R) -> Option<R> {
        self.with_open(|open| Ok(f(&mut open.vault, open.index.all(), open.generation))).ok()
    }

    /// Runs `f` for the browser integration on the unlocked vault and its
    /// list; `None` when locked. When `f` changed items, the list is
    /// rebuilt and their ids are returned, for `vault-changed`.
    pub fn with_browser_view(
        &self,
        f: &mut dyn FnMut(&mut tessera_browser::service::VaultView<'_>),
    ) -> Option<Vec<ItemId>> {
        self.with_open(|open| {
            let changed = {
                let mut view = tessera_browser::service::VaultView {
                    vault: &mut open.vault,
                    summaries: open.index.all(),
                    generation: open.generation,
                    changed: Vec::new(),
                };
                f(&mut view);
                view.changed
            };
            if !changed.is_empty() {
                open.refresh()?;
            }
            Ok(changed)
        })
        .ok()
    }

    /// For tests and benchmarks: the live item types, to check the list.
    #[cfg(test)]
    pub fn live_types(&self) -> Vec<tessera_core::ItemType> {
        self.with_open(|open| Ok(open.index.all().iter().map(|s| s.item_type).collect())).unwrap_or_default()
    }
}
