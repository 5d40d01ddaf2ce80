//! # tessera-autotype
//!
//! Auto-type: a global shortcut types an item's login into the focused
//! window of another program, as KeePass and KeePassXC do. This crate is
//! the part any front end reuses; registering the shortcut, asking which
//! item when several match, and reading the vault stay with the caller.
//!
//! - [`sequence`]: KeePass/KeePassXC sequences (`{USERNAME}{TAB}{PASSWORD}{ENTER}`,
//!   `{TOTP}`, `{DELAY 500}`, `^v`, …) parsed into a [`Sequence`], then
//!   resolved against an item's [`Fields`] into [`Action`]s whose text is
//!   held in zeroizing strings;
//! - [`matching`]: which items belong to a window, from its title (window
//!   rules with `*` or `//regex//`, the URL's host, the item's title);
//! - [`AutoType`]: the X11 side. Typing goes through the XTEST extension
//!   by character, not by US key position, so `@`, `é` or `ж` arrive as
//!   themselves whatever the user's layout (see `x11.rs`).
//!
//! ## What it refuses
//!
//! - **Wayland**: Wayland lets no program type into another's window, so
//!   [`AutoType::connect`] fails with [`Unavailable::Wayland`], whose
//!   message says to use copy to clipboard. This includes Xwayland, whose
//!   view of the focus says nothing about Wayland windows.
//! - **Tessera itself**: a window whose `_NET_WM_PID`, or whose client's
//!   process as the X server knows it, is this process is never typed
//!   into ([`AutoTypeError::OwnWindow`]).
//! - **A window that lost the focus**: typing starts only once the target
//!   has the focus and stops at the first key after the focus moved.
//!
//! Every X request is bounded in time; a sequence's delays are bounded by
//! [`sequence::MAX_DELAY_MS`].
//!
//! ## Example
//!
//! ```
//! use tessera_autotype::matching::{Candidate, find_matches};
//! use tessera_autotype::{Action, Fields, Sequence};
//! use zeroize::Zeroizing;
//!
//! let items = [Candidate { id: 7, title: "GitHub", url: "https://github.com", rules: &[] }];
//! let matches = find_matches("Sign in to GitHub · GitHub — Mozilla Firefox", &items);
//! assert_eq!(matches[0].id, 7);
//!
//! let fields = Fields {
//!     username: Zeroizing::new("alice".into()),
//!     password: Zeroizing::new("s3cret".into()),
//!     ..Fields::default()
//! };
//! let actions = Sequence::default().resolve(&fields)?;
//! assert_eq!(actions.len(), 4); // alice, Tab, s3cret, Enter
//! assert!(matches!(&actions[0], Action::Text(t) if t.as_str() == "alice"));
//!
//! // With an X display (not run here):
//! // let auto_type = tessera_autotype::AutoType::connect()?;
//! // let target = auto_type.focused_window()?;   // when the shortcut fires
//! // auto_type.type_sequence(&target, &Sequence::default(), &fields)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod error;
pub mod matching;
pub mod sequence;
mod x11;

use std::time::Duration;

pub use error::{AutoTypeError, ConnectError, Unavailable};
pub use sequence::{Action, DEFAULT_SEQUENCE, Fields, Key, Modifiers, NamedKey, ResolveError, Sequence, SequenceError};

/// The pause after each key unless a sequence says otherwise with
/// `{DELAY=n}`: short enough to type a 40-character login well within
/// 300 ms, long enough for clients that read their input in batches.
pub const DEFAULT_KEY_DELAY: Duration = Duration::from_millis(2);

/// The window that has the keyboard focus, as auto-type identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowInfo {
    /// The X window id (the focused top-level window, or the nearest
    /// ancestor of the focus that has a title).
    pub id: u32,
    /// Its title (`_NET_WM_NAME`, else `WM_NAME`); empty when it has none.
    pub title: String,
    /// The process that owns it (`_NET_WM_PID`, else what the X server
    /// knows of a local client), when known.
    pub pid: Option<u32>,
}

/// Where to connect: the display variables of a session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DisplayEnv {
    /// `$DISPLAY`.
    pub display: Option<String>,
    /// `$WAYLAND_DISPLAY`.
    pub wayland_display: Option<String>,
    /// `$XDG_SESSION_TYPE` (`x11`, `wayland`, `tty`).
    pub session_type: Option<String>,
}

impl DisplayEnv {
    /// This process's environment.
    pub fn from_process() -> DisplayEnv {
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        DisplayEnv {
            display: var("DISPLAY"),
            wayland_display: var("WAYLAND_DISPLAY"),
            session_type: var("XDG_SESSION_TYPE"),
        }
    }

    /// Whether this is a Wayland session.
    pub fn is_wayland(&self) -> bool {
        self.wayland_display.is_some()
            || self.session_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("wayland"))
    }
}

/// A connection to the X display, ready to find the focused window and
/// type into it.
pub struct AutoType {
    display: x11::Display,
    key_delay: Duration,
}

impl AutoType {
    /// Connects to the display of this process's session (`$DISPLAY`).
    pub fn connect() -> Result<AutoType, ConnectError> {
        AutoType::connect_to(&DisplayEnv::from_process())
    }

    /// Connects to the display `env` names. On Wayland without a usable X
    /// display, or on Xwayland, fails with [`Unavailable::Wayland`].
    pub fn connect_to(env: &DisplayEnv) -> Result<AutoType, ConnectError> {
        let Some(name) = env.display.as_deref().filter(|d| !d.is_empty()) else {
            return Err(if env.is_wayland() { Unavailable::Wayland } else { Unavailable::NoDisplay }.into());
        };
        match x11::Display::open(name) {
            Ok(display) => Ok(AutoType { display, key_delay: DEFAULT_KEY_DELAY }),
            // DISPLAY is stale or unreachable in a Wayland session: the
            // honest answer is that auto-type does not exist here.
            Err(ConnectError::Connect { .. }) if env.is_wayland() => Err(Unavailable::Wayland.into()),
            Err(e) => Err(e),
        }
    }

    /// Sets the pause after each key (the default is [`DEFAULT_KEY_DELAY`];
    /// a sequence's `{DELAY=n}` overrides it from where it stands).
    pub fn with_key_delay(mut self, delay: Duration) -> AutoType {
        self.key_delay = delay;
        self
    }

    /// The window that has the keyboard focus now: call it when the
    /// shortcut fires, before showing any window of one's own.
    pub fn focused_window(&self) -> Result<WindowInfo, AutoTypeError> {
        self.display.focused_window()
    }

    /// Resolves `sequence` with `fields` and types it into `target` (see
    /// [`AutoType::type_actions`]).
    pub fn type_sequence(
        &self,
        target: &WindowInfo,
        sequence: &Sequence,
        fields: &Fields,
    ) -> Result<(), AutoTypeError> {
        let actions = sequence.resolve(fields)?;
        self.type_actions(target, &actions)
    }

    /// Types `actions` into `target`. Waits up to a second for `target` to
    /// have the focus (a chooser may just have closed), refuses a window of
    /// this process, waits for the shortcut's modifiers to be released
    /// (releasing them after a second), then types, checking before every
    /// key that the focus has not moved. Returns once any key codes it
    /// remapped are cleared again.
    pub fn type_actions(&self, target: &WindowInfo, actions: &[Action]) -> Result<(), AutoTypeError> {
        self.display.type_actions(target, actions, self.key_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wayland_without_x_says_plainly_to_use_the_clipboard() {
        for env in [
            DisplayEnv { wayland_display: Some("wayland-0".into()), ..DisplayEnv::default() },
            DisplayEnv { session_type: Some("wayland".into()), ..DisplayEnv::default() },
            DisplayEnv {
                display: Some(String::new()),
                wayland_display: Some("wayland-1".into()),
                ..DisplayEnv::default()
            },
        ] {
            let err = AutoType::connect_to(&env).err().expect("no X display");
            assert_eq!(err, ConnectError::Unavailable(Unavailable::Wayland));
            let message = err.to_string();
            assert!(message.contains("not available on Wayland"), "{message}");
            assert!(message.contains("copy to clipboard"), "{message}");
        }
    }

    #[test]
    fn a_stale_display_in_a_wayland_session_is_still_wayland() {
        let env =
            DisplayEnv { display: Some(":4999".into()), session_type: Some("wayland".into()), ..DisplayEnv::default() };
        assert_eq!(AutoType::connect_to(&env).err(), Some(ConnectError::Unavailable(Unavailable::Wayland)));
    }

    #[test]
    fn no_display_at_all_is_unavailable_not_a_crash() {
        let err = AutoType::connect_to(&DisplayEnv::default()).err().expect("no display");
        assert_eq!(err, ConnectError::Unavailable(Unavailable::NoDisplay));
        let env = DisplayEnv { display: Some(":4999".into()), ..DisplayEnv::default() };
        assert!(matches!(AutoType::connect_to(&env), Err(ConnectError::Connect { .. })));
    }
}
