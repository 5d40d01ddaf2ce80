//! Who may ask and what they may have: the browser connections the user
//! approved, and what the user decided about which website may use which
//! item. Kept in the vault as the sealed `browser` record (see
//! `tessera_core::vault` records: authenticated, versioned, never synced).
//!
//! The rules, in order, for a website `host` asking for an item:
//! 1. an item marked "never fill in the browser" is never offered;
//! 2. a decision the user made for this item and host ("Always" or
//!    "Deny") stands;
//! 3. otherwise the user is asked, once per item and host, with
//!    Allow once / Always / Deny.

use serde::{Deserialize, Serialize};
use tessera_core::{Item, ItemId, RecordName};
use time::OffsetDateTime;

use crate::crypto::constant_time_eq;

/// The vault record this module keeps.
pub const RECORD: RecordName = RecordName::new("browser");

/// Longest connection name kept.
pub const MAX_NAME_LEN: usize = 64;

/// One browser the user let connect: the extension's identification key
/// (public, but only ever sent by that browser profile) under a name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// The name the user gave (the extension shows it as "identifier").
    pub name: String,
    /// The identification public key, base64 as the extension sends it.
    pub key: String,
    /// When the user approved it (Unix seconds).
    pub created: i64,
    /// When it was last used (Unix seconds), to the hour.
    pub last_used: i64,
}

/// A decision the user made for good: this host may (or may not) use
/// this item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRule {
    /// The item.
    pub item: ItemId,
    /// The website's host, as [`tessera_sites::Page::origin_label`] gives it.
    pub host: String,
    /// Allowed (`true`) or denied.
    pub allow: bool,
    /// When decided (Unix seconds).
    pub decided: i64,
}

/// What a rule says about one item on one host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Offer it.
    Allow,
    /// Never offer it here (or anywhere).
    Deny,
    /// Ask the user.
    Ask,
}

/// The whole `browser` record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowserRecord {
    /// Approved connections.
    #[serde(default)]
    pub connections: Vec<Connection>,
    /// Remembered decisions.
    #[serde(default)]
    pub sites: Vec<SiteRule>,
}

/// How long a connection's `last_used` may lag before it is written again:
/// the vault is not rewritten on every page load.
pub const LAST_USED_GRANULARITY: i64 = 3600;

impl BrowserRecord {
    /// Parses the record; a record this version cannot read is an empty
    /// one only if there was none at all, never silently.
    pub fn from_bytes(bytes: &[u8]) -> Result<BrowserRecord, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The record's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("the browser record always serialises")
    }

    /// The connection `name` if `key` is its key (compared in constant
    /// time: the key is the connection's only credential).
    pub fn connection(&self, name: &str, key: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.name == name && constant_time_eq(c.key.as_bytes(), key.as_bytes()))
    }

    /// Adds a connection under `name`, made unique (`name (2)`), replacing
    /// any older connection with the same key. Returns the name used.
    pub fn connect(&mut self, name: &str, key: &str, now: OffsetDateTime) -> String {
        self.connections.retain(|c| !constant_time_eq(c.key.as_bytes(), key.as_bytes()));
        let base = clean_name(name);
        let mut unique = base.clone();
        let mut n = 2;
        while self.connections.iter().any(|c| c.name == unique) {
            unique = format!("{base} ({n})");
            n += 1;
        }
        let at = now.unix_timestamp();
        self.connections.push(Connection { name: unique.clone(), key: key.to_owned(), created: at, last_used: at });
        unique
    }

    /// Removes connection `name`; whether it was there.
    pub fn revoke(&mut self, name: &str) -> bool {
        let before = self.connections.len();
        self.connections.retain(|c| c.name != name);
        self.connections.len() != before
    }

    /// Notes a use of connection `name`; whether the record changed (only
    /// when the last noted use is older than [`LAST_USED_GRANULARITY`]).
    pub fn touch(&mut self, name: &str, now: OffsetDateTime) -> bool {
        let at = now.unix_timestamp();
        match self.connections.iter_mut().find(|c| c.name == name) {
            Some(c) if at - c.last_used >= LAST_USED_GRANULARITY => {
                c.last_used = at;
                true
            }
            _ => false,
        }
    }

    /// What the rules say about `item` on `host`.
    pub fn verdict(&self, item: &Item, host: &str) -> Verdict {
        if item.never_autofill {
            return Verdict::Deny;
        }
        match self.sites.iter().find(|r| r.item == item.id && r.host == host) {
            Some(rule) if rule.allow => Verdict::Allow,
            Some(_) => Verdict::Deny,
            None => Verdict::Ask,
        }
    }

    /// Remembers a decision for `item` on `host`, replacing an earlier one.
    pub fn decide(&mut self, item: ItemId, host: &str, allow: bool, now: OffsetDateTime) {
        self.forget(item, host);
        self.sites.push(SiteRule { item, host: host.to_owned(), allow, decided: now.unix_timestamp() });
    }

    /// Forgets the decision for `item` on `host`; whether there was one.
    pub fn forget(&mut self, item: ItemId, host: &str) -> bool {
        let before = self.sites.len();
        self.sites.retain(|r| !(r.item == item && r.host == host));
        self.sites.len() != before
    }

    /// Drops decisions about items that no longer exist.
    pub fn retain_items(&mut self, exists: impl Fn(&ItemId) -> bool) -> bool {
        let before = self.sites.len();
        self.sites.retain(|r| exists(&r.item));
        self.sites.len() != before
    }
}

/// A connection name as kept: trimmed, control characters removed, at most
/// [`MAX_NAME_LEN`] bytes, never empty.
pub fn clean_name(name: &str) -> String {
    let mut out: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    while out.len() > MAX_NAME_LEN {
        out.pop();
    }
    let out = out.trim().to_owned();
    if out.is_empty() { "Browser".to_owned() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::ItemType;

    fn at(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(s).unwrap()
    }

    #[test]
    fn connections_are_found_by_name_and_key_only() {
        let mut r = BrowserRecord::default();
        assert_eq!(r.connect("Firefox", "KEY1", at(10)), "Firefox");
        assert_eq!(r.connect("Firefox", "KEY2", at(11)), "Firefox (2)");
        assert!(r.connection("Firefox", "KEY1").is_some());
        assert!(r.connection("Firefox", "KEY2").is_none());
        assert!(r.connection("Firefox (2)", "KEY2").is_some());
        assert!(r.revoke("Firefox"));
        assert!(r.connection("Firefox", "KEY1").is_none());
        assert!(!r.revoke("Firefox"));
        // Connecting the same key again replaces the old connection.
        assert_eq!(r.connect("Work", "KEY2", at(12)), "Work");
        assert_eq!(r.connections.len(), 1);
    }

    #[test]
    fn decisions_are_per_item_and_host_and_never_fill_wins() {
        let mut r = BrowserRecord::default();
        let mut item = Item::new(ItemType::Login, "GitHub");
        assert_eq!(r.verdict(&item, "github.com"), Verdict::Ask);
        r.decide(item.id, "github.com", true, at(1));
        assert_eq!(r.verdict(&item, "github.com"), Verdict::Allow);
        assert_eq!(r.verdict(&item, "gist.github.com"), Verdict::Ask);
        r.decide(item.id, "github.com", false, at(2));
        assert_eq!(r.verdict(&item, "github.com"), Verdict::Deny);
        assert_eq!(r.sites.len(), 1);
        r.decide(item.id, "github.com", true, at(3));
        item.never_autofill = true;
        assert_eq!(r.verdict(&item, "github.com"), Verdict::Deny);
        assert!(r.forget(item.id, "github.com"));
        assert!(r.sites.is_empty());
    }

    #[test]
    fn last_use_is_written_at_most_hourly() {
        let mut r = BrowserRecord::default();
        r.connect("F", "K", at(0));
        assert!(!r.touch("F", at(100)));
        assert!(r.touch("F", at(3600)));
        assert!(!r.touch("nobody", at(9999)));
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("  \u{7}Fire\nfox  "), "Firefox");
        assert_eq!(clean_name("   "), "Browser");
        assert_eq!(clean_name(&"é".repeat(100)).len(), 64);
    }

    #[test]
    fn the_record_round_trips() {
        let mut r = BrowserRecord::default();
        r.connect("Firefox", "KEY", at(5));
        r.decide(ItemId::random(), "example.com", false, at(6));
        assert_eq!(BrowserRecord::from_bytes(&r.to_bytes()).unwrap(), r);
        assert!(BrowserRecord::from_bytes(b"[1,2]").is_err());
    }
}
