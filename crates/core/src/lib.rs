//! # tessera-core
//!
//! Tessera's vault: the key hierarchy, sealed items, the SQLite store, TOTP,
//! the password generator, search, health and the audit log. It knows no UI,
//! network or hardware; unlock factors (password KDF, recovery code, OS
//! keyring, TPM, YubiKey) live in `tessera-unlock` and hand this crate a
//! [`KeyEncryptionKey`] per slot.
//!
//! ## Keys (DESIGN §2)
//!
//! A random 256-bit Vault Key (VK) is wrapped once per unlock slot
//! (AES-256-GCM, AAD = vault id ‖ slot id ‖ kind ‖ parameter digest). VK keys
//! nothing directly: HKDF-SHA256 derives a data-key wrapping key, a blind
//! index key, a manifest key, a header MAC key and an audit key. Items are
//! sealed under versioned random data keys, one AES-256-GCM blob per item
//! with AAD = format version ‖ vault id ‖ item id ‖ key version. See
//! [`keys`] and [`format`]. Every item, history version, attachment and sync
//! record is padded to a size class before sealing ([`padding`]), so a
//! ciphertext's length tells only a coarse bucket.
//!
//! ## Integrity
//!
//! Every item row's plaintext columns are re-checked against its sealed
//! payload; the header (meta, slots, data keys, state) carries a SHA-256 and
//! an HMAC; a keyed multiset hash over (id, revision, key version) of every
//! item catches dropped, added and rolled-back rows; the audit log is hash
//! chained to a head in the authenticated state. Anything that fails is an
//! [`IntegrityError`], never repaired silently. An older copy of the whole
//! file passes all of that; a vault bound to a monotonic counter outside
//! the file (a TPM's, through [`RollbackCounter`]) refuses it too
//! ([`rollback`]).
//!
//! ## Example
//!
//! ```
//! use tessera_core::{Item, ItemType, KeyEncryptionKey, LockedVault, NewSlot, OpenOptions, Scope, Vault};
//! use zeroize::Zeroizing;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("vault.tessera");
//! // In the product the KEK comes from a factor in `tessera-unlock`.
//! let kek = || KeyEncryptionKey::from_bytes(Zeroizing::new([7; 32]));
//! let slot = NewSlot { kind: "example".into(), label: "Example".into(), params: vec![], kek: kek() };
//! let mut vault = Vault::create(&path, vec![slot], &OpenOptions::default())?;
//!
//! let mut login = Item::new(ItemType::Login, "Mail");
//! login.username = "me@example.com".into();
//! login.password = "correct horse battery staple".into();
//! let id = vault.add(vec![login])?[0];
//! vault.lock();
//!
//! let locked = LockedVault::open(&path, &OpenOptions::default())?;
//! let slot = locked.slots()[0].id;
//! let vault = locked.unlock(slot, &kek())?;
//! assert_eq!(vault.get(id)?.username, "me@example.com");
//! assert_eq!(vault.search_index()?.search("mail").len(), 1);
//! assert_eq!(vault.summaries(Scope::Live)?.len(), 1);
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
pub mod error;
pub mod format;
pub mod generator;
mod header;
pub mod health;
pub mod ids;
pub mod item;
pub mod keys;
mod manifest;
pub mod padding;
mod primitives;
pub mod reference;
pub mod rollback;
mod sealed;
pub mod search;
pub mod share;
mod store;
pub mod totp;
pub mod vault;

pub use audit::{AuditEntry, AuditEvent};
pub use error::{CreateError, IntegrityError, ItemProblem, OpenError, UnlockError, VaultError};
pub use ids::{AttachmentId, ItemId, KeyVersion, SlotId, VaultId};
pub use item::{
    AgentApproval, AttachmentRef, AutoTypeRule, AutoTypeSettings, Field, InvalidItem, Item, ItemSummary, ItemType,
};
pub use keys::{KeyEncryptionKey, VaultKey};
pub use manifest::ManifestSum;
pub use reference::Reference;
pub use rollback::{CounterError, RollbackBinding, RollbackCounter, RollbackError, RollbackStatus, RollbackVerdict};
pub use search::SearchIndex;
pub use store::StoreError;
pub use vault::{
    LockedVault, NewAttachment, NewItem, NewSlot, NewVersion, NotAuthentic, OpenOptions, RecordName, RemoteChange,
    RotateReport, Scope, SlotInfo, SyncKeys, SyncStateParts, SyncStateUpdate, Vault, VerifyReport,
};
