//! Secret references: `tessera://ITEM/FIELD` names one value in the vault
//! — what `tessera read`, `run` and `inject` put where a secret would
//! otherwise sit in a file, a shell history or an environment.
//!
//! ITEM is an item's title, id or unique id prefix (as everywhere ITEM is
//! taken); FIELD is `password`, `username`, `totp` (the current code),
//! `notes`, `url`, or a custom field's name. Either part may be
//! percent-encoded, so a title or field name can hold a `/`
//! (`tessera://Work%2FVPN/password`).

use std::fmt;

use percent_encoding::percent_decode_str;
use zeroize::Zeroizing;

use crate::error::VaultError;
use crate::vault::{Scope, Vault};

/// The scheme every reference starts with.
pub const SCHEME: &str = "tessera://";

/// A parsed reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The item, as written (a title, an id or an id prefix).
    pub item: String,
    /// The field.
    pub field: String,
}

/// Why a text is not a reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a secret reference: {why} (write tessera://ITEM/FIELD)")]
pub struct BadReference {
    /// The text, shortened (it is not a secret: it names one).
    pub text: String,
    /// What is wrong.
    pub why: &'static str,
}

impl Reference {
    /// Parses `tessera://ITEM/FIELD`.
    pub fn parse(text: &str) -> Result<Reference, BadReference> {
        let bad = |why| BadReference { text: text.chars().take(120).collect(), why };
        let rest = text.trim().strip_prefix(SCHEME).ok_or_else(|| bad("it does not start with tessera://"))?;
        let mut parts = rest.split('/');
        let (Some(item), Some(field), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("it needs exactly an item and a field, with %2F for a / inside a name"));
        };
        let decode = |s: &str| percent_decode_str(s).decode_utf8().map(|c| c.into_owned());
        let item = decode(item).map_err(|_| bad("the item's name is not UTF-8 after decoding"))?;
        let field = decode(field).map_err(|_| bad("the field's name is not UTF-8 after decoding"))?;
        if item.trim().is_empty() || field.trim().is_empty() {
            return Err(bad("the item or the field is empty"));
        }
        Ok(Reference { item, field })
    }

    /// Whether `text` looks like a reference (starts with `tessera://`).
    pub fn looks_like(text: &str) -> bool {
        text.trim_start().starts_with(SCHEME)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let encode = |s: &str| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string();
        write!(f, "{SCHEME}{}/{}", encode(&self.item), encode(&self.field))
    }
}

/// What is escaped in a segment: controls, `/`, `%` and spaces.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'/').add(b'%').add(b' ');

impl Vault {
    /// The value `reference` names, from a live item. `totp` is the
    /// current one-time code (for HOTP, the next one, and the counter moves
    /// on). An item without the field is [`VaultError::NotFound`].
    pub fn read_reference(&mut self, reference: &Reference) -> Result<Zeroizing<String>, VaultError> {
        let id = self.resolve(&reference.item, Scope::Live)?;
        let item = self.get(id)?;
        let missing = |what: &str| VaultError::NotFound(format!("{what} in item {:?}", item.title));
        let value = match reference.field.as_str() {
            "password" if !item.password.is_empty() => item.password.clone(),
            "password" => return Err(missing("a password")),
            "username" => item.username.clone(),
            "notes" => item.notes.clone(),
            "url" => item.urls.first().cloned().ok_or_else(|| missing("a URL"))?,
            "totp" | "otp" => {
                drop(item);
                return Ok(self.otp_code(id, None)?.code);
            }
            name => {
                item.field(name).map(|f| f.value.clone()).ok_or_else(|| missing(&format!("a field named {name:?}")))?
            }
        };
        Ok(Zeroizing::new(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_and_print_back() {
        let r = Reference::parse("tessera://GitHub/token").unwrap();
        assert_eq!(r, Reference { item: "GitHub".into(), field: "token".into() });
        let r = Reference::parse("tessera://Work%2FVPN/API%20key").unwrap();
        assert_eq!(r.item, "Work/VPN");
        assert_eq!(r.field, "API key");
        assert_eq!(r.to_string(), "tessera://Work%2FVPN/API%20key");
        assert_eq!(Reference::parse(&r.to_string()).unwrap(), r);
    }

    #[test]
    fn malformed_references_are_refused() {
        for text in
            ["GitHub/token", "tessera://GitHub", "tessera://a/b/c", "tessera:///token", "tessera://a/", "op://a/b"]
        {
            assert!(Reference::parse(text).is_err(), "{text}");
        }
        assert!(Reference::looks_like("  tessera://x/y"));
        assert!(!Reference::looks_like("plain value"));
    }
}
