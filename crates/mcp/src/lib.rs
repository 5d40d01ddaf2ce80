//! # tessera-mcp
//!
//! Secrets for AI agents, with a human in the loop: a Model Context
//! Protocol server (on the official Rust SDK, `rmcp`) so agent tools can
//! use the vault without ever holding it.
//!
//! - [`access`]: the rules. Searches never carry a secret; a value leaves
//!   only after the user approves that item for that client (once, or for
//!   the session), or — headless — when the item is on the allow-list;
//!   items marked "never for agents" are refused outright and never
//!   listed; every answer and refusal is in the vault's audit log with the
//!   client's name.
//! - [`server`]: the four tools (`search_items`, `get_secret`, `get_totp`,
//!   `generate_password`) over any [`access::Tools`].
//! - [`relay`]: `tessera mcp` without `--allow` holds no vault: it relays
//!   each call to the desktop app, which asks the user.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod relay;
pub mod server;
