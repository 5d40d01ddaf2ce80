//! # tessera-sync
//!
//! Sync of a Tessera vault through a blind server (DESIGN §5).
//!
//! [`wire`] holds the JSON types of `/api/v1`; the server depends on them
//! alone (`default-features = false`). With the default `client` feature
//! this crate also has the client that registers, clones and syncs a vault.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod wire;

#[cfg(feature = "client")]
pub mod client;
