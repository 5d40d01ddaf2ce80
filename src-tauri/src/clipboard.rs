//! The clipboard, through Rust only (ui/API.md rule 3).
//!
//! A copied secret is offered with the `x-kde-passwordManagerHint: secret`
//! target, which KDE's Klipper, GNOME extensions and most clipboard
//! managers take as "do not keep in history". After the timeout it is
//! cleared, but only if the clipboard still holds that value: something the
//! user copied since is never touched. To compare, only a salted SHA-256 of
//! the value is kept, never the value.

use std::sync::Mutex;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{CommandError, CommandResult};

pub struct SecretClipboard {
    inner: Mutex<Inner>,
}

struct Inner {
    /// Opened on first use; on X11 it also serves the selection to other
    /// programs, so it lives as long as the app.
    board: Option<arboard::Clipboard>,
    /// Bumped on every copy, so an older timer never clears a newer value.
    generation: u64,
    /// Salted digest of what Tessera last put there, while it may still be there.
    digest: Option<[u8; 32]>,
    salt: [u8; 32],
}

impl Default for SecretClipboard {
    fn default() -> Self {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).expect("the OS random number generator failed");
        SecretClipboard { inner: Mutex::new(Inner { board: None, generation: 0, digest: None, salt }) }
    }
}

impl Inner {
    fn board(&mut self) -> CommandResult<&mut arboard::Clipboard> {
        if self.board.is_none() {
            self.board = Some(
                arboard::Clipboard::new().map_err(|e| CommandError::io(format!("Cannot use the clipboard: {e}")))?,
            );
        }
        Ok(self.board.as_mut().expect("just opened"))
    }

    fn digest(&self, text: &str) -> [u8; 32] {
        Sha256::new().chain_update(self.salt).chain_update(text.as_bytes()).finalize().into()
    }
}

impl SecretClipboard {
    /// Puts `text` on the clipboard marked as a secret; returns the copy's
    /// generation for [`SecretClipboard::clear_if_unchanged`].
    pub fn copy(&self, text: &str) -> CommandResult<u64> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let digest = inner.digest(text);
        let board = inner.board()?;
        set_secret(board, text).map_err(|e| CommandError::io(format!("Cannot write the clipboard: {e}")))?;
        inner.generation += 1;
        inner.digest = Some(digest);
        Ok(inner.generation)
    }

    /// Clears the clipboard if it still holds what copy number `generation`
    /// put there (any of Tessera's copies when `None`). Returns whether it
    /// cleared.
    pub fn clear_if_unchanged(&self, generation: Option<u64>) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if generation.is_some_and(|g| g != inner.generation) {
            return false;
        }
        let Some(ours) = inner.digest else {
            return false;
        };
        let salt = inner.salt;
        let Ok(board) = inner.board() else {
            return false;
        };
        let now = board.get_text().ok().map(Zeroizing::new);
        let still_ours = now.as_ref().is_some_and(|t| {
            let d: [u8; 32] = Sha256::new().chain_update(salt).chain_update(t.as_bytes()).finalize().into();
            d == ours
        });
        inner.digest = None;
        if still_ours {
            if let Ok(board) = inner.board() {
                // Some managers ignore an empty owner; an empty string is
                // what KeePassXC writes too.
                let _ = board.set_text(String::new());
                let _ = board.clear();
            }
        }
        still_ours
    }
}

#[cfg(target_os = "linux")]
fn set_secret(board: &mut arboard::Clipboard, text: &str) -> Result<(), arboard::Error> {
    use arboard::SetExtLinux;
    board.set().exclude_from_history().text(text.to_owned())
}

#[cfg(not(target_os = "linux"))]
fn set_secret(board: &mut arboard::Clipboard, text: &str) -> Result<(), arboard::Error> {
    board.set_text(text.to_owned())
}
