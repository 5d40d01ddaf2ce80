//! Auto-type sequences as KeePass and KeePassXC write them, parsed into
//! [`Sequence`] and resolved against an item's [`Fields`] into [`Action`]s.
//!
//! Parsing and resolving are two steps on purpose: a sequence is not a
//! secret (it is stored in the item, shown in the editor, and an error may
//! quote it), while what it resolves to is. So [`SequenceError`] may name a
//! placeholder, [`ResolveError`] names only the field that was missing, and
//! resolved text lives in [`Zeroizing`] strings whose `Debug` prints their
//! length, never their content.
//!
//! The grammar (case-insensitive inside braces):
//!
//! - literal characters are typed as they are; `{{}`, `{}}`, `{+}`, `{^}`,
//!   `{%}`, `{~}`, `{(}`, `{)}`, `{[}`, `{]}` (any one punctuation character
//!   in braces) type that character;
//! - `{USERNAME}` `{PASSWORD}` `{TITLE}` `{URL}` `{NOTES}` `{TOTP}` and
//!   `{S:Name}` (a custom field) type the item's value;
//! - `{TAB}` `{ENTER}` `{SPACE}` `{BACKSPACE}`/`{BS}`/`{BKSP}`
//!   `{DELETE}`/`{DEL}` `{UP}` `{DOWN}` `{LEFT}` `{RIGHT}` `{HOME}` `{END}`
//!   `{ESC}` `{INSERT}`/`{INS}` `{PGUP}` `{PGDN}` `{F1}`…`{F16}` press a key;
//!   `{TAB 3}` presses it three times (also `{+ 3}` for a character);
//! - `{DELAY n}` pauses n ms; `{DELAY=n}` sets the pause between keys from
//!   there on; `{CLEARFIELD}` empties the field (Ctrl+Home,
//!   Ctrl+Shift+End, BackSpace, as KeePassXC does on X11);
//! - `+` `^` `%` hold Shift, Ctrl, Alt for the next key or character
//!   (`^v`, `+{TAB}`), or for each key of a group in parentheses
//!   (`^(ac)`); `~` is Enter.

use std::fmt;
use std::time::Duration;

use zeroize::Zeroizing;

/// The sequence used when an item and its window rule have none:
/// KeePass's default.
pub const DEFAULT_SEQUENCE: &str = "{USERNAME}{TAB}{PASSWORD}{ENTER}";

/// The longest `{DELAY n}` or `{DELAY=n}`, in milliseconds: a sequence
/// must not be able to hold the keyboard for minutes.
pub const MAX_DELAY_MS: u64 = 10_000;

/// The largest repeat count (`{TAB 3}`).
pub const MAX_REPEAT: u32 = 100;

/// A key that is not a character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamedKey {
    Tab,
    Enter,
    Space,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    Escape,
    Insert,
    PageUp,
    PageDown,
    /// F1 to F16.
    F(u8),
}

/// What one key press produces: a named key or a character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Named(NamedKey),
    Char(char),
}

/// Modifiers held while a key is pressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Modifiers {
    pub shift: bool,
    pub ctrl: bool,
    pub alt: bool,
}

impl Modifiers {
    /// No modifier.
    pub const NONE: Modifiers = Modifiers { shift: false, ctrl: false, alt: false };
}

/// One step of a resolved sequence, ready to type.
#[derive(Clone, PartialEq, Eq)]
pub enum Action {
    /// Characters to type, each as the character it is (not as the key
    /// that makes it on a US keyboard). May hold a secret.
    Text(Zeroizing<String>),
    /// One key press with modifiers held.
    Key { key: Key, modifiers: Modifiers },
    /// `{DELAY n}`: wait before the next action.
    Pause(Duration),
    /// `{DELAY=n}`: the pause after every key from here on.
    KeyDelay(Duration),
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The text may be a password: say how long it is, nothing more.
            Action::Text(t) => write!(f, "Text(<{} chars>)", t.chars().count()),
            Action::Key { key, modifiers } => {
                f.debug_struct("Key").field("key", key).field("modifiers", modifiers).finish()
            }
            Action::Pause(d) => f.debug_tuple("Pause").field(d).finish(),
            Action::KeyDelay(d) => f.debug_tuple("KeyDelay").field(d).finish(),
        }
    }
}

/// A standard field of an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StandardField {
    Username,
    Password,
    Title,
    Url,
    Notes,
    Totp,
}

impl StandardField {
    /// The placeholder's name, as in `{USERNAME}`.
    pub fn placeholder(self) -> &'static str {
        match self {
            StandardField::Username => "USERNAME",
            StandardField::Password => "PASSWORD",
            StandardField::Title => "TITLE",
            StandardField::Url => "URL",
            StandardField::Notes => "NOTES",
            StandardField::Totp => "TOTP",
        }
    }
}

/// The values a sequence's placeholders stand for, supplied by the caller
/// (this crate does not read vaults). `Debug` prints which fields are set,
/// not their values.
#[derive(Clone, Default)]
pub struct Fields {
    pub username: Zeroizing<String>,
    pub password: Zeroizing<String>,
    pub title: Zeroizing<String>,
    pub url: Zeroizing<String>,
    pub notes: Zeroizing<String>,
    /// The current TOTP code; `None` when the item has no TOTP secret, in
    /// which case `{TOTP}` is an error rather than typing nothing.
    pub totp: Option<Zeroizing<String>>,
    /// Custom fields by name, for `{S:Name}`.
    pub custom: Vec<(String, Zeroizing<String>)>,
}

impl Fields {
    /// The value of custom field `name`: the exact name first, else the
    /// only one that matches ignoring case.
    pub fn custom(&self, name: &str) -> Option<&Zeroizing<String>> {
        if let Some((_, v)) = self.custom.iter().find(|(n, _)| n == name) {
            return Some(v);
        }
        let folded_name = name.to_lowercase();
        let mut folded = self.custom.iter().filter(|(n, _)| n.to_lowercase() == folded_name);
        match (folded.next(), folded.next()) {
            (Some((_, v)), None) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |s: &Zeroizing<String>| if s.is_empty() { "empty" } else { "set" };
        f.debug_struct("Fields")
            .field("username", &set(&self.username))
            .field("password", &set(&self.password))
            .field("title", &set(&self.title))
            .field("url", &set(&self.url))
            .field("notes", &set(&self.notes))
            .field("totp", &self.totp.as_ref().map(|_| "set"))
            .field("custom", &self.custom.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

/// Why a sequence could not be parsed. The sequence is not secret, so the
/// placeholder is named; nothing here holds a field's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SequenceError {
    #[error(
        "unknown placeholder {{{placeholder}}} in the auto-type sequence; see the editor's help for those supported"
    )]
    UnknownPlaceholder { placeholder: String },
    #[error("a '{{' at character {at} of the auto-type sequence is never closed; write {{{{}} for a literal brace")]
    UnclosedBrace { at: usize },
    #[error("an empty {{}} at character {at} of the auto-type sequence; write {{{{}} or {{}}}} for a literal brace")]
    EmptyPlaceholder { at: usize },
    #[error(
        "the modifier '{modifier}' at character {at} of the auto-type sequence has no key after it; write {{{modifier}}} to type it"
    )]
    DanglingModifier { modifier: char, at: usize },
    #[error("the group opened at character {at} of the auto-type sequence is never closed with ')'")]
    UnclosedGroup { at: usize },
    #[error("{{{placeholder}}} cannot take modifiers or a repeat count in the auto-type sequence")]
    NotAKey { placeholder: String },
    #[error("{{{placeholder}}} needs a whole number in the auto-type sequence, at most {max}")]
    BadNumber { placeholder: String, max: u64 },
}

/// Why a parsed sequence could not be resolved against an item. Names the
/// field, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("the sequence types {{TOTP}} but this item has no TOTP secret; add one or change the sequence")]
    NoTotp,
    #[error("the sequence types {{S:{name}}} but this item has no custom field named \"{name}\"")]
    NoCustomField { name: String },
}

/// A field reference inside a parsed sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
enum FieldRef {
    Standard(StandardField),
    Custom(String),
}

/// One parsed step, before the item's values are known.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(char),
    Field(FieldRef),
    Key { key: Key, modifiers: Modifiers },
    Pause(Duration),
    KeyDelay(Duration),
}

/// A parsed auto-type sequence. Holds no secret: only its own text's
/// literals and which fields to type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    tokens: Vec<Token>,
}

impl Default for Sequence {
    fn default() -> Sequence {
        Sequence::parse(DEFAULT_SEQUENCE).expect("the default sequence parses")
    }
}

impl Sequence {
    /// Parses a KeePass/KeePassXC sequence (see the module docs).
    pub fn parse(text: &str) -> Result<Sequence, SequenceError> {
        let chars: Vec<char> = text.chars().collect();
        let mut parser = Parser { chars: &chars, pos: 0, tokens: Vec::new() };
        parser.run()?;
        Ok(Sequence { tokens: parser.tokens })
    }

    /// Whether the sequence types `{TOTP}`, so the caller computes a code
    /// only when it is needed.
    pub fn uses_totp(&self) -> bool {
        self.tokens.iter().any(|t| matches!(t, Token::Field(FieldRef::Standard(StandardField::Totp))))
    }

    /// The actions this sequence stands for with `fields`' values.
    /// Adjacent literal characters and field values are joined into one
    /// [`Action::Text`].
    pub fn resolve(&self, fields: &Fields) -> Result<Vec<Action>, ResolveError> {
        let mut actions = Vec::new();
        let mut text = Zeroizing::new(String::new());
        let flush = |text: &mut Zeroizing<String>, actions: &mut Vec<Action>| {
            if !text.is_empty() {
                actions.push(Action::Text(std::mem::replace(text, Zeroizing::new(String::new()))));
            }
        };
        for token in &self.tokens {
            match token {
                Token::Literal(c) => text.push(*c),
                Token::Field(field) => {
                    let value: &str = match field {
                        FieldRef::Standard(StandardField::Username) => &fields.username,
                        FieldRef::Standard(StandardField::Password) => &fields.password,
                        FieldRef::Standard(StandardField::Title) => &fields.title,
                        FieldRef::Standard(StandardField::Url) => &fields.url,
                        FieldRef::Standard(StandardField::Notes) => &fields.notes,
                        FieldRef::Standard(StandardField::Totp) => fields.totp.as_ref().ok_or(ResolveError::NoTotp)?,
                        FieldRef::Custom(name) => {
                            fields.custom(name).ok_or_else(|| ResolveError::NoCustomField { name: name.clone() })?
                        }
                    };
                    // Reserve first so the push cannot reallocate and leave
                    // a copy of the secret behind in freed memory.
                    text.reserve(value.len());
                    text.push_str(value);
                }
                Token::Key { key, modifiers } => {
                    flush(&mut text, &mut actions);
                    actions.push(Action::Key { key: *key, modifiers: *modifiers });
                }
                Token::Pause(d) => {
                    flush(&mut text, &mut actions);
                    actions.push(Action::Pause(*d));
                }
                Token::KeyDelay(d) => {
                    flush(&mut text, &mut actions);
                    actions.push(Action::KeyDelay(*d));
                }
            }
        }
        flush(&mut text, &mut actions);
        Ok(actions)
    }
}

impl std::str::FromStr for Sequence {
    type Err = SequenceError;

    fn from_str(s: &str) -> Result<Sequence, SequenceError> {
        Sequence::parse(s)
    }
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
    tokens: Vec<Token>,
}

/// What one `{…}` stands for.
enum Braced {
    /// Keys or literal characters (repeat counts expanded).
    Keys(Vec<Key>),
    /// Anything else: a field, a delay, `{CLEARFIELD}`.
    Other(Vec<Token>),
}

impl Parser<'_> {
    fn run(&mut self) -> Result<(), SequenceError> {
        while self.pos < self.chars.len() {
            self.step(Modifiers::NONE, false)?;
        }
        Ok(())
    }

    /// Parses one unit at `pos` with `held` modifiers: a character, a
    /// `{…}`, a modifier prefix and what it applies to, or (inside a
    /// group) the closing `)`, which returns `true`.
    fn step(&mut self, held: Modifiers, in_group: bool) -> Result<bool, SequenceError> {
        let at = self.pos;
        let c = self.chars[at];
        self.pos += 1;
        match c {
            ')' if in_group => return Ok(true),
            '+' | '^' | '%' => {
                let mut mods = held;
                match c {
                    '+' => mods.shift = true,
                    '^' => mods.ctrl = true,
                    _ => mods.alt = true,
                }
                match self.chars.get(self.pos) {
                    None => return Err(SequenceError::DanglingModifier { modifier: c, at }),
                    Some('(') => {
                        let open = self.pos;
                        self.pos += 1;
                        loop {
                            if self.pos >= self.chars.len() {
                                return Err(SequenceError::UnclosedGroup { at: open });
                            }
                            if self.step(mods, true)? {
                                break;
                            }
                        }
                    }
                    Some(_) => {
                        self.step(mods, false)?;
                    }
                }
            }
            '~' => self.push_key(Key::Named(NamedKey::Enter), held),
            '{' => match self.braced(at)? {
                Braced::Keys(keys) => {
                    for key in keys {
                        self.push_key(key, held);
                    }
                }
                Braced::Other(tokens) => {
                    if held != Modifiers::NONE {
                        let end = self.pos - 1;
                        let placeholder: String = self.chars[at + 1..end].iter().collect();
                        return Err(SequenceError::NotAKey { placeholder });
                    }
                    self.tokens.extend(tokens);
                }
            },
            c => self.push_key(Key::Char(c), held),
        }
        Ok(false)
    }

    /// A character without modifiers is typed as text (by the character,
    /// not by a key); anything else is a key press.
    fn push_key(&mut self, key: Key, modifiers: Modifiers) {
        match key {
            Key::Char(c) if modifiers == Modifiers::NONE => self.tokens.push(Token::Literal(c)),
            key => self.tokens.push(Token::Key { key, modifiers }),
        }
    }

    /// Parses the `{…}` opened at `open` (`pos` is just after it).
    fn braced(&mut self, open: usize) -> Result<Braced, SequenceError> {
        // The first character is always part of the name, so that `{}}`
        // is the name "}" and `{{}` the name "{".
        let Some(&first) = self.chars.get(self.pos) else { return Err(SequenceError::UnclosedBrace { at: open }) };
        if first == '}' && self.chars.get(self.pos + 1) != Some(&'}') {
            return Err(SequenceError::EmptyPlaceholder { at: open });
        }
        let start = self.pos;
        let Some(len) = self.chars[start + 1..].iter().position(|&c| c == '}') else {
            return Err(SequenceError::UnclosedBrace { at: open });
        };
        let end = start + 1 + len;
        self.pos = end + 1;
        let name: String = self.chars[start..end].iter().collect();
        classify(&name)
    }
}

/// What the text between braces means.
fn classify(name: &str) -> Result<Braced, SequenceError> {
    let unknown = || SequenceError::UnknownPlaceholder { placeholder: name.to_owned() };
    let upper = name.to_ascii_uppercase();

    // Custom fields first: their names may hold spaces and digits.
    if upper.starts_with("S:") {
        let field = &name[2..];
        if field.is_empty() {
            return Err(unknown());
        }
        return Ok(Braced::Other(vec![Token::Field(FieldRef::Custom(field.to_owned()))]));
    }
    if let Some(ms) = upper.strip_prefix("DELAY=") {
        return Ok(Braced::Other(vec![Token::KeyDelay(delay(name, ms)?)]));
    }
    if let Some(ms) = upper.strip_prefix("DELAY ") {
        return Ok(Braced::Other(vec![Token::Pause(delay(name, ms)?)]));
    }
    let standard = match upper.as_str() {
        "USERNAME" => Some(StandardField::Username),
        "PASSWORD" => Some(StandardField::Password),
        "TITLE" => Some(StandardField::Title),
        "URL" => Some(StandardField::Url),
        "NOTES" => Some(StandardField::Notes),
        "TOTP" => Some(StandardField::Totp),
        _ => None,
    };
    if let Some(field) = standard {
        return Ok(Braced::Other(vec![Token::Field(FieldRef::Standard(field))]));
    }
    if upper == "CLEARFIELD" {
        let ctrl = Modifiers { ctrl: true, ..Modifiers::NONE };
        let ctrl_shift = Modifiers { ctrl: true, shift: true, ..Modifiers::NONE };
        return Ok(Braced::Other(vec![
            Token::Key { key: Key::Named(NamedKey::Home), modifiers: ctrl },
            Token::Key { key: Key::Named(NamedKey::End), modifiers: ctrl_shift },
            Token::Key { key: Key::Named(NamedKey::Backspace), modifiers: Modifiers::NONE },
        ]));
    }

    // A key, or one punctuation character, with an optional repeat count.
    let (key_name, count) = match upper.rsplit_once(' ') {
        Some((k, n)) if !k.is_empty() && !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => {
            let count: u32 = n
                .parse()
                .ok()
                .filter(|&c| c <= MAX_REPEAT)
                .ok_or_else(|| SequenceError::BadNumber { placeholder: name.to_owned(), max: MAX_REPEAT.into() })?;
            (k, count)
        }
        _ => (upper.as_str(), 1),
    };
    let key = named_key(key_name).map(Key::Named).or_else(|| {
        let mut it = key_name.chars();
        match (it.next(), it.next()) {
            (Some(c), None) if c.is_ascii_punctuation() => Some(Key::Char(c)),
            _ => None,
        }
    });
    match key {
        Some(key) => Ok(Braced::Keys(vec![key; count as usize])),
        None if standard_field_with_count(key_name) => Err(SequenceError::NotAKey { placeholder: name.to_owned() }),
        None => Err(unknown()),
    }
}

/// `{USERNAME 2}` and the like: a field is not a key that repeats.
fn standard_field_with_count(key_name: &str) -> bool {
    matches!(key_name, "USERNAME" | "PASSWORD" | "TITLE" | "URL" | "NOTES" | "TOTP" | "CLEARFIELD")
}

fn delay(name: &str, ms: &str) -> Result<Duration, SequenceError> {
    let bad = || SequenceError::BadNumber { placeholder: name.to_owned(), max: MAX_DELAY_MS };
    let ms = ms.trim();
    if ms.is_empty() || !ms.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let ms: u64 = ms.parse().map_err(|_| bad())?;
    if ms > MAX_DELAY_MS {
        return Err(bad());
    }
    Ok(Duration::from_millis(ms))
}

fn named_key(name: &str) -> Option<NamedKey> {
    Some(match name {
        "TAB" => NamedKey::Tab,
        "ENTER" => NamedKey::Enter,
        "SPACE" => NamedKey::Space,
        "BACKSPACE" | "BS" | "BKSP" => NamedKey::Backspace,
        "DELETE" | "DEL" => NamedKey::Delete,
        "UP" => NamedKey::Up,
        "DOWN" => NamedKey::Down,
        "LEFT" => NamedKey::Left,
        "RIGHT" => NamedKey::Right,
        "HOME" => NamedKey::Home,
        "END" => NamedKey::End,
        "ESC" => NamedKey::Escape,
        "INSERT" | "INS" => NamedKey::Insert,
        "PGUP" => NamedKey::PageUp,
        "PGDN" => NamedKey::PageDown,
        f => {
            let n: u8 = f.strip_prefix('F')?.parse().ok()?;
            if !(1..=16).contains(&n) || f.len() > 3 || f.as_bytes().get(1) == Some(&b'0') {
                return None;
            }
            NamedKey::F(n)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields {
            username: Zeroizing::new("alice@example.com".into()),
            password: Zeroizing::new("pässwörd".into()),
            title: Zeroizing::new("Example".into()),
            url: Zeroizing::new("https://example.com".into()),
            notes: Zeroizing::new(String::new()),
            totp: Some(Zeroizing::new("123456".into())),
            custom: vec![("PIN".into(), Zeroizing::new("4321".into()))],
        }
    }

    fn text(s: &str) -> Action {
        Action::Text(Zeroizing::new(s.into()))
    }

    fn key(k: NamedKey) -> Action {
        Action::Key { key: Key::Named(k), modifiers: Modifiers::NONE }
    }

    fn resolve(seq: &str) -> Vec<Action> {
        Sequence::parse(seq).expect("parses").resolve(&fields()).expect("resolves")
    }

    #[test]
    fn the_default_sequence_types_username_tab_password_enter() {
        assert_eq!(
            resolve(DEFAULT_SEQUENCE),
            vec![text("alice@example.com"), key(NamedKey::Tab), text("pässwörd"), key(NamedKey::Enter)]
        );
        assert_eq!(Sequence::default(), Sequence::parse(DEFAULT_SEQUENCE).unwrap());
    }

    #[test]
    fn placeholders_are_case_insensitive_and_literals_join_field_values() {
        assert_eq!(
            resolve("user: {username}{Tab}{TOTP}!"),
            vec![text("user: alice@example.com"), key(NamedKey::Tab), text("123456!")]
        );
        assert_eq!(resolve("{TITLE} {URL}{NOTES}"), vec![text("Example https://example.com")]);
    }

    #[test]
    fn custom_fields_are_found_by_name_then_ignoring_case() {
        assert_eq!(resolve("{S:PIN}"), vec![text("4321")]);
        assert_eq!(resolve("{s:pin}"), vec![text("4321")]);
        let err = Sequence::parse("{S:Security answer}").unwrap().resolve(&fields()).unwrap_err();
        assert_eq!(err, ResolveError::NoCustomField { name: "Security answer".into() });
    }

    #[test]
    fn totp_without_a_secret_is_an_error_not_an_empty_string() {
        let seq = Sequence::parse("{USERNAME}{TAB}{TOTP}").unwrap();
        assert!(seq.uses_totp());
        assert!(!Sequence::default().uses_totp());
        let f = Fields { totp: None, ..fields() };
        assert_eq!(seq.resolve(&f).unwrap_err(), ResolveError::NoTotp);
    }

    #[test]
    fn every_named_key_and_its_aliases_parse() {
        let all = "{TAB}{ENTER}{SPACE}{BACKSPACE}{BS}{BKSP}{DELETE}{DEL}{UP}{DOWN}{LEFT}{RIGHT}{HOME}{END}{ESC}\
                   {INSERT}{INS}{PGUP}{PGDN}{F1}{F9}{F10}{F16}";
        let keys: Vec<Action> = [
            NamedKey::Tab,
            NamedKey::Enter,
            NamedKey::Space,
            NamedKey::Backspace,
            NamedKey::Backspace,
            NamedKey::Backspace,
            NamedKey::Delete,
            NamedKey::Delete,
            NamedKey::Up,
            NamedKey::Down,
            NamedKey::Left,
            NamedKey::Right,
            NamedKey::Home,
            NamedKey::End,
            NamedKey::Escape,
            NamedKey::Insert,
            NamedKey::Insert,
            NamedKey::PageUp,
            NamedKey::PageDown,
            NamedKey::F(1),
            NamedKey::F(9),
            NamedKey::F(10),
            NamedKey::F(16),
        ]
        .into_iter()
        .map(key)
        .collect();
        assert_eq!(resolve(all), keys);
        for bad in ["{F0}", "{F17}", "{F01}", "{F}"] {
            assert!(matches!(Sequence::parse(bad), Err(SequenceError::UnknownPlaceholder { .. })), "{bad}");
        }
    }

    #[test]
    fn repeat_counts_repeat_keys_and_characters() {
        assert_eq!(resolve("{TAB 3}"), vec![key(NamedKey::Tab); 3]);
        assert_eq!(resolve("{+ 2}x"), vec![text("++x")]);
        assert_eq!(
            Sequence::parse("{TAB 101}"),
            Err(SequenceError::BadNumber { placeholder: "TAB 101".into(), max: MAX_REPEAT.into() })
        );
        assert_eq!(Sequence::parse("{USERNAME 2}"), Err(SequenceError::NotAKey { placeholder: "USERNAME 2".into() }));
    }

    #[test]
    fn delays_pause_or_set_the_pace_and_are_bounded() {
        assert_eq!(
            resolve("{DELAY=50}a{DELAY 1000}b"),
            vec![
                Action::KeyDelay(Duration::from_millis(50)),
                text("a"),
                Action::Pause(Duration::from_secs(1)),
                text("b")
            ]
        );
        assert!(matches!(Sequence::parse("{DELAY 10001}"), Err(SequenceError::BadNumber { .. })));
        assert!(matches!(Sequence::parse("{DELAY x}"), Err(SequenceError::BadNumber { .. })));
        assert!(matches!(Sequence::parse("{DELAY=}"), Err(SequenceError::BadNumber { .. })));
        assert!(matches!(Sequence::parse("{DELAY}"), Err(SequenceError::UnknownPlaceholder { .. })));
    }

    #[test]
    fn braces_and_modifier_characters_are_typed_when_escaped() {
        assert_eq!(resolve("{{}x{}}{+}{^}{%}{~}{(}{)}{[}{]}"), vec![text("{x}+^%~()[]")]);
        // Outside a group, parentheses and @ are plain characters.
        assert_eq!(resolve("a(b)@#"), vec![text("a(b)@#")]);
    }

    #[test]
    fn modifiers_apply_to_the_next_key_or_to_each_key_of_a_group() {
        let ctrl = Modifiers { ctrl: true, ..Modifiers::NONE };
        let shift = Modifiers { shift: true, ..Modifiers::NONE };
        let alt_shift = Modifiers { alt: true, shift: true, ..Modifiers::NONE };
        assert_eq!(
            resolve("^v+{TAB}%+{F4}x"),
            vec![
                Action::Key { key: Key::Char('v'), modifiers: ctrl },
                Action::Key { key: Key::Named(NamedKey::Tab), modifiers: shift },
                Action::Key { key: Key::Named(NamedKey::F(4)), modifiers: alt_shift },
                text("x"),
            ]
        );
        assert_eq!(
            resolve("^(ac)b"),
            vec![
                Action::Key { key: Key::Char('a'), modifiers: ctrl },
                Action::Key { key: Key::Char('c'), modifiers: ctrl },
                text("b"),
            ]
        );
        assert_eq!(resolve("~"), vec![key(NamedKey::Enter)]);
        assert_eq!(resolve("+~"), vec![Action::Key { key: Key::Named(NamedKey::Enter), modifiers: shift }]);
    }

    #[test]
    fn clearfield_selects_everything_and_deletes_it() {
        assert_eq!(
            resolve("{CLEARFIELD}"),
            vec![
                Action::Key { key: Key::Named(NamedKey::Home), modifiers: Modifiers { ctrl: true, ..Modifiers::NONE } },
                Action::Key {
                    key: Key::Named(NamedKey::End),
                    modifiers: Modifiers { ctrl: true, shift: true, ..Modifiers::NONE }
                },
                key(NamedKey::Backspace),
            ]
        );
    }

    #[test]
    fn malformed_sequences_say_where_and_what() {
        assert_eq!(Sequence::parse("{FOO}"), Err(SequenceError::UnknownPlaceholder { placeholder: "FOO".into() }));
        assert_eq!(Sequence::parse("ab{USERNAME"), Err(SequenceError::UnclosedBrace { at: 2 }));
        assert_eq!(Sequence::parse("{"), Err(SequenceError::UnclosedBrace { at: 0 }));
        assert_eq!(Sequence::parse("x{}"), Err(SequenceError::EmptyPlaceholder { at: 1 }));
        assert_eq!(Sequence::parse("{S:}"), Err(SequenceError::UnknownPlaceholder { placeholder: "S:".into() }));
        assert_eq!(Sequence::parse("abc^"), Err(SequenceError::DanglingModifier { modifier: '^', at: 3 }));
        assert_eq!(Sequence::parse("+(ab"), Err(SequenceError::UnclosedGroup { at: 1 }));
        assert_eq!(Sequence::parse("^{USERNAME}"), Err(SequenceError::NotAKey { placeholder: "USERNAME".into() }));
        let message = Sequence::parse("{USERNAME}{TAB}{PASWORD}").unwrap_err().to_string();
        assert!(message.contains("{PASWORD}"), "{message}");
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let actions = resolve("{PASSWORD}");
        let shown = format!("{actions:?} {:?}", fields());
        assert!(!shown.contains("pässwörd") && !shown.contains("4321") && !shown.contains("123456"), "{shown}");
        assert!(shown.contains("<8 chars>"), "{shown}");
    }
}
