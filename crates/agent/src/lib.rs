//! # tessera-agent
//!
//! SSH keys kept as vault items, and the SSH agent that serves them.
//!
//! - [`keys`]: generating keys (Ed25519, ECDSA P-256, RSA 3072), importing
//!   the files people have (OpenSSH, passphrase-protected or not; PEM
//!   PKCS#1, PKCS#8 and SEC1), and the `ssh-key` item that holds one.
//! - [`agent`]: OpenSSH's agent protocol on a Unix socket (messages from
//!   `ssh-agent-lib`), keys only while the vault is unlocked, every
//!   signature approved as the key asks, naming the process ([`peer`]).
//!
//! The desktop app serves the agent with its dialogs; `tessera ssh-agent`
//! serves it headless with a terminal prompt (or none).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod agent;
pub mod keys;
pub mod peer;

/// The key types this crate hands out.
pub use ssh_key;
