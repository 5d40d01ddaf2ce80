//! What can go wrong, one enum per operation: connecting to the display
//! ([`ConnectError`]) and finding or typing into a window
//! ([`AutoTypeError`]). None carries a field's value or a typed character.

use crate::sequence::ResolveError;
use crate::x11::X_TIMEOUT;

/// Auto-type cannot work in this session at all; the message says so and
/// what to use instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error(
        "auto-type is not available on Wayland: Wayland does not let one program type into another's window. \
         Use copy to clipboard instead"
    )]
    Wayland,
    #[error("auto-type needs an X11 display and none is set (DISPLAY is empty); use copy to clipboard instead")]
    NoDisplay,
    #[error("the X server has no XTEST extension, which auto-type types through; use copy to clipboard instead")]
    NoXTest,
}

/// Why [`AutoType::connect`](crate::AutoType::connect) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    #[error("cannot connect to the X display {display}: {reason}; use copy to clipboard instead")]
    Connect { display: String, reason: String },
}

/// Why finding the focused window or typing into it failed. Typing stops
/// at the first error; keys already typed stay typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AutoTypeError {
    #[error("the X server did not answer within {} s while {doing}; auto-type stopped", X_TIMEOUT.as_secs())]
    TimedOut { doing: &'static str },
    #[error("the X server refused a request while {doing} ({reason}); auto-type stopped")]
    X11 { doing: &'static str, reason: String },
    #[error("no window has the keyboard focus; click into the field to fill, then press the shortcut again")]
    NoFocusedWindow,
    #[error(
        "the focused window is Tessera's own, and auto-type never types into Tessera; click into the other \
         program's field, then press the shortcut again"
    )]
    OwnWindow,
    #[error(
        "the keyboard focus is not on the window auto-type was started for (it moved, or never came back); \
         nothing more was typed. Click into the field, then press the shortcut again"
    )]
    FocusChanged,
    #[error("the keyboard map has no free key code to type a character this layout lacks; auto-type stopped")]
    NoSpareKeycode,
    #[error("the text to type holds a control character, which cannot be typed; auto-type stopped")]
    Untypable,
    #[error(transparent)]
    Resolve(#[from] ResolveError),
}
