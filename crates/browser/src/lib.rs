//! # tessera-browser
//!
//! Tessera as the backend of the KeePassXC-Browser extension (Firefox,
//! Chromium, Chrome, Brave), so the extension fills logins from a Tessera
//! vault: it speaks the extension's protocol (`keepassxc-protocol.md` in
//! the extension's repository) exactly, and adds what Tessera promises on
//! top — nothing leaves the vault without the user.
//!
//! ```text
//! browser ──stdin/stdout frames──► tessera-browser-host ──Unix socket──► app: Server → Service → Backend
//!          (4-byte length + JSON)    (relays, sees only     (0600, same    (protocol)  (vault, dialogs)
//!                                     sealed messages)       uid only)
//! ```
//!
//! - frames (`tessera_ipc::frame`): native-messaging framing, 1 MiB at most either way.
//! - [`crypto`]: `crypto_box` sessions and the nonce rule (a nonce is used
//!   once, in either direction).
//! - [`protocol`]: the envelope, the error codes, the replies.
//! - [`access`]: the approved connections and per-site decisions, kept in
//!   the vault's sealed `browser` record.
//! - [`service`]: the engine, over a [`service::Backend`] the app provides.
//! - [`server`]: the app's socket (`tessera-ipc` says who may use it).
//! - [`host`]: the relay the browser starts.
//! - [`install`]: the browsers' native-messaging manifests.
//! - [`client`]: the extension's side, for tests and benchmarks.
//!
//! What a request gets, in order: a session must have exchanged keys
//! (`change-public-keys`), sealed its message with them under a nonce never
//! used before, and proved a connection the user approved (`associate`,
//! then `test-associate` with the identification key); the vault must be
//! unlocked; an item is offered only to a page its URL matches
//! (`tessera_sites`, phishing-safe), only if it is not marked "never fill
//! in the browser", and only if the user allowed that site (once or for
//! good) — the first time, the app asks. A one-time code is given, and an
//! item updated, only for items this session was given.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod client;
pub mod crypto;
pub mod host;
pub mod install;
pub mod protocol;
pub mod server;
pub mod service;

/// The browser socket's file name in Tessera's runtime directory.
pub const SOCKET_NAME: &str = "browser.sock";

/// The browser socket's path (`$XDG_RUNTIME_DIR/tessera/browser.sock`).
pub fn socket_path() -> std::path::PathBuf {
    tessera_ipc::socket_path(SOCKET_NAME)
}
