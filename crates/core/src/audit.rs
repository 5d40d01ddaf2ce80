//! The audit log: an append-only, hash-chained record of vault events.
//!
//! Each entry's details (which item, its title) are sealed under the audit
//! subkey; the chain hash covers the sealed bytes, so the chain can be
//! checked entry by entry, and its head (last sequence number and hash) is
//! in the MAC-protected vault state, so dropping entries from the end is
//! caught as surely as changing one in the middle.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::IntegrityError;
use crate::format::Aad;
use crate::ids::{ItemId, VaultId};
use crate::keys::Subkeys;
use crate::primitives::hash::sha256;
use crate::store::AuditRow;

/// Something that happened to the vault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AuditEvent {
    /// The vault was created.
    VaultCreated,
    /// An unlock slot was added.
    SlotAdded {
        /// Slot number.
        slot: u32,
        /// Factor kind.
        kind: String,
    },
    /// An unlock slot was removed.
    SlotRemoved {
        /// Slot number.
        slot: u32,
        /// Factor kind.
        kind: String,
    },
    /// A slot was re-keyed (for the password slot: the master password changed).
    SlotRekeyed {
        /// Slot number.
        slot: u32,
        /// Factor kind.
        kind: String,
    },
    /// An item was created.
    ItemCreated {
        /// Its id.
        item: ItemId,
        /// Its title.
        title: String,
    },
    /// Many items were created in one transaction.
    ItemsCreated {
        /// How many.
        count: u64,
    },
    /// Items were imported in one transaction.
    ItemsImported {
        /// How many.
        count: u64,
        /// What they came from (a format name such as `keepass`).
        source: String,
    },
    /// Changes from other devices of the sync account were applied.
    ItemsSynced {
        /// How many items changed.
        count: u64,
    },
    /// An item was edited.
    ItemUpdated {
        /// Its id.
        item: ItemId,
        /// Its title.
        title: String,
    },
    /// An item went to the trash.
    ItemTrashed {
        /// Its id.
        item: ItemId,
        /// Its title.
        title: String,
    },
    /// An item came back from the trash.
    ItemRestored {
        /// Its id.
        item: ItemId,
        /// Its title.
        title: String,
    },
    /// An item was deleted for good.
    ItemPurged {
        /// Its id.
        item: ItemId,
        /// Its title.
        title: String,
    },
    /// A file was attached to an item.
    AttachmentAdded {
        /// The item.
        item: ItemId,
        /// File name.
        name: String,
    },
    /// An attachment was removed from an item.
    AttachmentRemoved {
        /// The item.
        item: ItemId,
        /// File name.
        name: String,
    },
    /// A new data key version was made and older items re-encrypted.
    KeyRotated {
        /// The new version.
        version: u32,
    },
    /// The user let a browser extension connect to the vault.
    BrowserConnected {
        /// The name the user gave the connection.
        name: String,
    },
    /// A browser connection was revoked.
    BrowserRevoked {
        /// Its name.
        name: String,
    },
    /// An AI agent (an MCP client) was given a value of an item, or refused.
    AgentAccess {
        /// The client's name, as it introduced itself.
        client: String,
        /// The item.
        item: ItemId,
        /// Which field (`password`, `totp`, a custom field's name…).
        field: String,
        /// Whether it was given.
        allowed: bool,
    },
    /// The user decided, for good, whether a website may use an item
    /// (`allow` or `deny`), or forgot that decision (`forget`).
    SiteAccess {
        /// The item.
        item: ItemId,
        /// The website's host.
        host: String,
        /// `allow`, `deny` or `forget`.
        decision: String,
    },
    /// The vault was bound to a TPM counter (whole-file rollback), or an
    /// older copy was accepted and bound again (`restore-check --accept-older`).
    RollbackBound {
        /// The TPM NV index.
        index: u32,
        /// Whether an older (or unknown) copy was accepted.
        accepted: bool,
    },
    /// The binding to a TPM counter ended (the TPM slot was removed).
    RollbackUnbound {
        /// The TPM NV index.
        index: u32,
    },
}

impl AuditEvent {
    /// A one-line description for people.
    pub fn describe(&self) -> String {
        match self {
            AuditEvent::VaultCreated => "vault created".into(),
            AuditEvent::SlotAdded { slot, kind } => format!("unlock slot {slot} ({kind}) added"),
            AuditEvent::SlotRemoved { slot, kind } => format!("unlock slot {slot} ({kind}) removed"),
            AuditEvent::SlotRekeyed { slot, kind } if kind == "password" => {
                format!("master password changed (slot {slot})")
            }
            AuditEvent::SlotRekeyed { slot, kind } => format!("unlock slot {slot} ({kind}) re-keyed"),
            AuditEvent::ItemCreated { item, title } => format!("created {title:?} ({item})"),
            AuditEvent::ItemsCreated { count } => format!("created {count} items"),
            AuditEvent::ItemsImported { count, source } => format!("imported {count} items from {source}"),
            AuditEvent::ItemsSynced { count } => format!("applied {count} changes from other devices"),
            AuditEvent::ItemUpdated { item, title } => format!("edited {title:?} ({item})"),
            AuditEvent::ItemTrashed { item, title } => format!("moved {title:?} ({item}) to the trash"),
            AuditEvent::ItemRestored { item, title } => format!("restored {title:?} ({item}) from the trash"),
            AuditEvent::ItemPurged { item, title } => format!("deleted {title:?} ({item}) for good"),
            AuditEvent::AttachmentAdded { item, name } => format!("attached {name:?} to {item}"),
            AuditEvent::AttachmentRemoved { item, name } => format!("removed attachment {name:?} from {item}"),
            AuditEvent::KeyRotated { version } => format!("data key rotated to version {version}"),
            AuditEvent::BrowserConnected { name } => format!("browser connection {name:?} approved"),
            AuditEvent::BrowserRevoked { name } => format!("browser connection {name:?} revoked"),
            AuditEvent::AgentAccess { client, item, field, allowed: true } => {
                format!("AI agent {client:?} was given {field} of {item}")
            }
            AuditEvent::AgentAccess { client, item, field, allowed: false } => {
                format!("AI agent {client:?} was refused {field} of {item}")
            }
            AuditEvent::SiteAccess { item, host, decision } => match decision.as_str() {
                "allow" => format!("{host} always allowed to use {item}"),
                "deny" => format!("{host} always denied {item}"),
                _ => format!("access of {host} to {item} forgotten"),
            },
            AuditEvent::RollbackBound { index, accepted: false } => {
                format!("bound to TPM counter {index:#010x} against whole-file rollback")
            }
            AuditEvent::RollbackBound { index, accepted: true } => {
                format!(
                    "this copy of the vault was accepted as current (restore-check) and bound to TPM counter {index:#010x}"
                )
            }
            AuditEvent::RollbackUnbound { index } => format!("binding to TPM counter {index:#010x} removed"),
        }
    }
}

/// One entry of the log, opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the log, from 1.
    pub seq: u64,
    /// When it happened.
    pub at: OffsetDateTime,
    /// What happened.
    pub event: AuditEvent,
}

/// Chain hash of one entry: binds it to everything before it.
pub(crate) fn chain_hash(prev: &[u8; 32], seq: u64, at: i64, sealed_details: &[u8]) -> [u8; 32] {
    sha256(&[b"tessera-audit\0", prev, &seq.to_be_bytes(), &at.to_be_bytes(), sealed_details])
}

/// Seals a new entry following `prev` at `seq`.
pub(crate) fn seal_entry(
    event: &AuditEvent,
    seq: u64,
    at: OffsetDateTime,
    prev: &[u8; 32],
    vault: &VaultId,
    keys: &Subkeys,
) -> AuditRow {
    let json = serde_json::to_vec(event).expect("an AuditEvent always serialises");
    let details = keys.audit.seal(&Aad::Audit { vault, seq }.to_bytes(), &json);
    let hash = chain_hash(prev, seq, at.unix_timestamp(), &details);
    AuditRow { seq: seq as i64, at: at.unix_timestamp(), details, hash: hash.to_vec() }
}

/// Walks the chain from the start, opening every entry, and checks that it
/// ends at the authenticated head.
pub(crate) fn open_chain(
    rows: &[AuditRow],
    head_seq: u64,
    head_hash: &[u8; 32],
    vault: &VaultId,
    keys: &Subkeys,
) -> Result<Vec<AuditEntry>, IntegrityError> {
    let mut prev = [0u8; 32];
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        let broken = IntegrityError::AuditChain { seq: expected_seq };
        if row.seq != expected_seq {
            return Err(broken);
        }
        let seq = row.seq as u64;
        if chain_hash(&prev, seq, row.at, &row.details).as_slice() != row.hash.as_slice() {
            return Err(broken);
        }
        let json = keys.audit.open(&Aad::Audit { vault, seq }.to_bytes(), &row.details).map_err(|_| broken.clone())?;
        let event: AuditEvent = serde_json::from_slice(&json).map_err(|_| broken.clone())?;
        let at = OffsetDateTime::from_unix_timestamp(row.at).map_err(|_| broken)?;
        prev = chain_hash(&prev, seq, row.at, &row.details);
        out.push(AuditEntry { seq, at, event });
    }
    if out.len() as u64 != head_seq || &prev != head_hash {
        return Err(IntegrityError::AuditChain { seq: out.len() as i64 + 1 });
    }
    Ok(out)
}
