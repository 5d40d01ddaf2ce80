//! Which key codes type which characters, and borrowing spare ones.
//!
//! Characters are typed by what they are, not by where a US keyboard has
//! them: each character becomes its keysym (Latin-1 directly, anything
//! else `0x0100_0000 + code point`), which is looked up in the server's
//! keyboard map for the active group; when the layout has no key for it
//! (`@` on some layouts, `é`, `€`, Cyrillic on a US map), a spare key code
//! (one with no keysym at all) is mapped to it for the time of the
//! sequence and cleared afterwards. That is what makes the typed text
//! independent of the user's layout.
//!
//! Why the remapping waits before it clears or reuses a key code: a
//! client looks a key event's keysym up in the map *when it handles the
//! event*, which may be after we sent it. Clearing the map right after the
//! last key would let a slow client read the cleared map and lose the
//! character, so a key code is only changed again once the server has
//! answered a round trip after its last press and [`SETTLE`] has passed.
//! While mapped, those keysyms are visible to every X client; so is every
//! key event on X11, which is why auto-type is an X11-only convenience.

use std::time::Duration;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{self, ConnectionExt as _, Keycode, Keysym, Window};

use super::{Display, Doing};
use crate::error::AutoTypeError;
use crate::sequence::{Action, Key, Modifiers, NamedKey};

/// How long a client has, after the server processed a remapped key, to
/// look it up before that key code is cleared or reused.
const SETTLE: Duration = Duration::from_millis(100);

// Keysyms (X11/keysymdef.h).
const XK_BACKSPACE: Keysym = 0xff08;
const XK_TAB: Keysym = 0xff09;
const XK_RETURN: Keysym = 0xff0d;
const XK_ESCAPE: Keysym = 0xff1b;
const XK_HOME: Keysym = 0xff50;
const XK_LEFT: Keysym = 0xff51;
const XK_UP: Keysym = 0xff52;
const XK_RIGHT: Keysym = 0xff53;
const XK_DOWN: Keysym = 0xff54;
const XK_PRIOR: Keysym = 0xff55;
const XK_NEXT: Keysym = 0xff56;
const XK_END: Keysym = 0xff57;
const XK_INSERT: Keysym = 0xff63;
const XK_F1: Keysym = 0xffbe;
const XK_SHIFT_L: Keysym = 0xffe1;
const XK_CONTROL_L: Keysym = 0xffe3;
const XK_META_L: Keysym = 0xffe7;
const XK_ALT_L: Keysym = 0xffe9;
const XK_DELETE: Keysym = 0xffff;
const XK_EURO_SIGN: Keysym = 0x20ac;
const NO_SYMBOL: Keysym = 0;

/// The server's keyboard map, as the core protocol shows it.
struct Keymap {
    min_keycode: Keycode,
    per_keycode: usize,
    keysyms: Vec<Keysym>,
}

impl Keymap {
    fn syms(&self, keycode: Keycode) -> &[Keysym] {
        let i = usize::from(keycode - self.min_keycode) * self.per_keycode;
        &self.keysyms[i..i + self.per_keycode]
    }

    fn keycodes(&self) -> impl Iterator<Item = Keycode> + '_ {
        let count = self.keysyms.len() / self.per_keycode.max(1);
        (0..count).filter_map(|i| u8::try_from(i).ok()).map(|i| self.min_keycode + i)
    }

    /// A key code and level (0 plain, 1 shifted) that give `keysym` in
    /// `group` (0 or 1: the core map has two columns per group for the
    /// first two; later groups are typed by remapping).
    fn find(&self, keysym: Keysym, group: usize) -> Option<(Keycode, usize)> {
        if group > 1 {
            return None;
        }
        for level in 0..2 {
            let column = group * 2 + level;
            if let Some(k) = self.keycodes().find(|&k| self.syms(k).get(column) == Some(&keysym)) {
                return Some((k, level));
            }
        }
        None
    }

    /// Any key code that has `keysym` anywhere (for modifier keys).
    fn any(&self, keysym: Keysym) -> Option<Keycode> {
        self.keycodes().find(|&k| self.syms(k).contains(&keysym))
    }

    /// Key codes without a single keysym, highest first (the least likely
    /// to be keys on a real keyboard).
    fn spare(&self) -> Vec<Keycode> {
        let mut spare: Vec<Keycode> =
            self.keycodes().filter(|&k| self.syms(k).iter().all(|&s| s == NO_SYMBOL)).collect();
        spare.reverse();
        spare
    }
}

/// The typing state of one sequence: the map, which key codes were
/// remapped to what, and the focus to stay on.
pub(super) struct Keyboard<'d> {
    display: &'d Display,
    keymap: Keymap,
    group: usize,
    caps_lock: bool,
    shift: Keycode,
    ctrl: Keycode,
    alt: Keycode,
    /// Spare key codes not mapped yet.
    free: Vec<Keycode>,
    /// Spare key codes mapped to a keysym now, oldest first.
    mapped: Vec<(Keycode, Keysym)>,
    /// Every spare key code this sequence changed, to clear at the end.
    touched: Vec<Keycode>,
    /// The X focus window when typing began: typing stops if it changes.
    focus: Window,
    key_delay: Duration,
}

impl<'d> Keyboard<'d> {
    pub(super) fn new(display: &'d Display, key_delay: Duration) -> Result<Keyboard<'d>, AutoTypeError> {
        let conn = &display.conn;
        let doing = "reading the keyboard map";
        let (min, max) = (conn.setup().min_keycode, conn.setup().max_keycode);
        let map = conn.get_keyboard_mapping(min, max - min + 1).doing(doing)?.reply().doing(doing)?;
        let keymap =
            Keymap { min_keycode: min, per_keycode: usize::from(map.keysyms_per_keycode), keysyms: map.keysyms };
        let modmap = conn.get_modifier_mapping().doing(doing)?.reply().doing(doing)?;
        let per = usize::from(modmap.keycodes_per_modifier());
        // The modifier map's rows: Shift, Lock, Control, Mod1 (Alt) …
        let row =
            |i: usize| modmap.keycodes.get(i * per..(i + 1) * per).and_then(|r| r.iter().copied().find(|&k| k != 0));
        let missing = |what: &'static str| AutoTypeError::X11 {
            doing: "reading the keyboard map",
            reason: format!("no {what} key"),
        };
        let shift = keymap.any(XK_SHIFT_L).or_else(|| row(0)).ok_or_else(|| missing("Shift"))?;
        let ctrl = keymap.any(XK_CONTROL_L).or_else(|| row(2)).ok_or_else(|| missing("Control"))?;
        let alt =
            keymap.any(XK_ALT_L).or_else(|| keymap.any(XK_META_L)).or_else(|| row(3)).ok_or_else(|| missing("Alt"))?;
        // The pointer query's state carries the modifiers and, in bits 13
        // and 14, the XKB group (the active layout).
        let state = u16::from(conn.query_pointer(display.root).doing(doing)?.reply().doing(doing)?.mask);
        let group = usize::from((state >> 13) & 0b11);
        let caps_lock = state & u16::from(xproto::KeyButMask::LOCK) != 0;
        let free = keymap.spare();
        let focus = display.input_focus()?;
        Ok(Keyboard {
            display,
            keymap,
            group,
            caps_lock,
            shift,
            ctrl,
            alt,
            free,
            mapped: Vec::new(),
            touched: Vec::new(),
            focus,
            key_delay,
        })
    }

    pub(super) fn run(&mut self, actions: &[Action]) -> Result<(), AutoTypeError> {
        for action in actions {
            match action {
                Action::Text(text) => {
                    let mut chars = text.chars().peekable();
                    while let Some(c) = chars.next() {
                        // "\r\n" is one Enter.
                        if c == '\r' && chars.peek() == Some(&'\n') {
                            continue;
                        }
                        self.stroke(keysym_for_char(c).ok_or(AutoTypeError::Untypable)?, Modifiers::NONE)?;
                    }
                }
                Action::Key { key, modifiers } => {
                    let keysym = match key {
                        Key::Named(k) => keysym_for_key(*k),
                        Key::Char(c) => keysym_for_char(*c).ok_or(AutoTypeError::Untypable)?,
                    };
                    self.stroke(keysym, *modifiers)?;
                }
                Action::Pause(d) => {
                    self.display.conn.flush().doing("typing")?;
                    std::thread::sleep(*d);
                }
                Action::KeyDelay(d) => self.key_delay = *d,
            }
        }
        self.display.conn.flush().doing("typing")
    }

    /// One key press and release giving `keysym`, with `modifiers` held.
    fn stroke(&mut self, keysym: Keysym, modifiers: Modifiers) -> Result<(), AutoTypeError> {
        // A round trip per key: the server has handled every earlier event
        // when it answers, and a focus change stops typing before the next
        // character lands in the wrong window.
        if self.display.input_focus()? != self.focus {
            return Err(AutoTypeError::FocusChanged);
        }
        let (keycode, shifted) = self.keycode_for(keysym)?;
        let mut held = Vec::with_capacity(3);
        if modifiers.ctrl {
            held.push(self.ctrl);
        }
        if modifiers.alt {
            held.push(self.alt);
        }
        if modifiers.shift || shifted {
            held.push(self.shift);
        }
        let d = self.display;
        let doing = "typing";
        for &k in &held {
            d.fake_key(k, true).doing(doing)?;
        }
        d.fake_key(keycode, true).doing(doing)?;
        d.fake_key(keycode, false).doing(doing)?;
        for &k in held.iter().rev() {
            d.fake_key(k, false).doing(doing)?;
        }
        d.conn.flush().doing(doing)?;
        if !self.key_delay.is_zero() {
            std::thread::sleep(self.key_delay);
        }
        Ok(())
    }

    /// The key code for `keysym` and whether Shift must be held: from the
    /// layout, else a spare key code mapped to it.
    fn keycode_for(&mut self, keysym: Keysym) -> Result<(Keycode, bool), AutoTypeError> {
        if let Some(&(k, _)) = self.mapped.iter().find(|(_, s)| *s == keysym) {
            return Ok((k, false));
        }
        if let Some((k, level)) = self.keymap.find(keysym, self.group) {
            let syms = self.keymap.syms(k);
            let column = self.group * 2;
            // Caps Lock turns the letter keys' plain level into capitals
            // (XKB's ALPHABETIC type), so Shift must then be inverted.
            let letter = is_case_pair(syms[column], syms.get(column + 1).copied().unwrap_or(NO_SYMBOL));
            return Ok((k, (level == 1) != (self.caps_lock && letter)));
        }
        if self.free.is_empty() {
            if self.mapped.is_empty() {
                return Err(AutoTypeError::NoSpareKeycode);
            }
            // Out of spares: once every press so far has been looked up,
            // all of them can be mapped anew (one wait, not one per key).
            self.display.sync("remapping a key")?;
            std::thread::sleep(SETTLE);
            self.free.extend(self.mapped.drain(..).map(|(k, _)| k).rev());
        }
        let keycode = self.free.pop().ok_or(AutoTypeError::NoSpareKeycode)?;
        if !self.touched.contains(&keycode) {
            self.touched.push(keycode);
        }
        // Both levels, so that Shift (held by a `+` or by the user) does
        // not change what the key types.
        self.display.conn.change_keyboard_mapping(1, keycode, 2, &[keysym, keysym]).doing("remapping a key")?;
        self.mapped.push((keycode, keysym));
        Ok((keycode, false))
    }

    /// Clears every key code this sequence mapped, once clients have had
    /// [`SETTLE`] to look up the last key typed.
    pub(super) fn restore(&mut self) -> Result<(), AutoTypeError> {
        if self.touched.is_empty() {
            return Ok(());
        }
        let doing = "restoring the keyboard map";
        self.display.sync(doing)?;
        std::thread::sleep(SETTLE);
        self.mapped.clear();
        for keycode in std::mem::take(&mut self.touched) {
            self.display.conn.change_keyboard_mapping(1, keycode, 2, &[NO_SYMBOL, NO_SYMBOL]).doing(doing)?;
        }
        self.display.sync(doing)
    }
}

impl Drop for Keyboard<'_> {
    fn drop(&mut self) {
        // Best effort on an early return; `restore` empties `touched`.
        let _ = self.restore();
    }
}

fn keysym_for_key(key: NamedKey) -> Keysym {
    match key {
        NamedKey::Tab => XK_TAB,
        NamedKey::Enter => XK_RETURN,
        NamedKey::Space => Keysym::from(b' '),
        NamedKey::Backspace => XK_BACKSPACE,
        NamedKey::Delete => XK_DELETE,
        NamedKey::Up => XK_UP,
        NamedKey::Down => XK_DOWN,
        NamedKey::Left => XK_LEFT,
        NamedKey::Right => XK_RIGHT,
        NamedKey::Home => XK_HOME,
        NamedKey::End => XK_END,
        NamedKey::Escape => XK_ESCAPE,
        NamedKey::Insert => XK_INSERT,
        NamedKey::PageUp => XK_PRIOR,
        NamedKey::PageDown => XK_NEXT,
        NamedKey::F(n) => XK_F1 + Keysym::from(n.clamp(1, 35)) - 1,
    }
}

/// The keysym that types `c`; `None` for control characters other than
/// tab and newline.
fn keysym_for_char(c: char) -> Option<Keysym> {
    let cp = u32::from(c);
    match c {
        '\n' | '\r' => Some(XK_RETURN),
        '\t' => Some(XK_TAB),
        // Latin-1 keysyms are the code points themselves.
        ' '..='~' | '\u{a0}'..='\u{ff}' => Some(cp),
        // Layouts put the euro on its legacy keysym; use it so the user's
        // own key is found before a spare is remapped.
        '€' => Some(XK_EURO_SIGN),
        c if c.is_control() => None,
        _ => Some(0x0100_0000 + cp),
    }
}

/// The character a keysym stands for, for Latin-1 and Unicode keysyms.
fn char_of_keysym(keysym: Keysym) -> Option<char> {
    match keysym {
        0x20..=0x7e | 0xa0..=0xff => char::from_u32(keysym),
        0x0100_0100..=0x0110_ffff => char::from_u32(keysym - 0x0100_0000),
        _ => None,
    }
}

/// Whether a key's two levels are a lower-case letter and its capital.
fn is_case_pair(lower: Keysym, upper: Keysym) -> bool {
    match (char_of_keysym(lower), char_of_keysym(upper)) {
        (Some(l), Some(u)) => l.is_lowercase() && l.to_uppercase().eq(std::iter::once(u)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_map_to_latin1_or_unicode_keysyms() {
        assert_eq!(keysym_for_char('a'), Some(0x61));
        assert_eq!(keysym_for_char('@'), Some(0x40));
        assert_eq!(keysym_for_char('é'), Some(0xe9));
        assert_eq!(keysym_for_char('ß'), Some(0xdf));
        assert_eq!(keysym_for_char('€'), Some(XK_EURO_SIGN));
        assert_eq!(keysym_for_char('ж'), Some(0x0100_0436));
        assert_eq!(keysym_for_char('😀'), Some(0x0101_f600));
        assert_eq!(keysym_for_char('\n'), Some(XK_RETURN));
        assert_eq!(keysym_for_char('\t'), Some(XK_TAB));
        assert_eq!(keysym_for_char('\u{7}'), None);
        assert_eq!(keysym_for_char('\u{85}'), None);
    }

    #[test]
    fn function_keys_run_from_f1() {
        assert_eq!(keysym_for_key(NamedKey::F(1)), 0xffbe);
        assert_eq!(keysym_for_key(NamedKey::F(16)), 0xffcd);
    }

    #[test]
    fn the_keymap_finds_levels_in_the_active_group_and_spare_codes() {
        // Three key codes from 8, four columns: [a A ф Ф], [2 @ 2 "], [].
        let keymap = Keymap {
            min_keycode: 8,
            per_keycode: 4,
            keysyms: vec![0x61, 0x41, 0x6c6, 0x6e6, 0x32, 0x40, 0x32, 0x22, 0, 0, 0, 0],
        };
        assert_eq!(keymap.find(0x61, 0), Some((8, 0)));
        assert_eq!(keymap.find(0x40, 0), Some((9, 1)));
        assert_eq!(keymap.find(0x40, 1), None);
        assert_eq!(keymap.find(0x22, 1), Some((9, 1)));
        assert_eq!(keymap.find(0x61, 2), None);
        assert_eq!(keymap.spare(), vec![10]);
        assert!(is_case_pair(0x61, 0x41));
        assert!(is_case_pair(0xe9, 0xc9));
        assert!(!is_case_pair(0x32, 0x40));
    }
}
