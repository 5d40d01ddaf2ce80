//! Bitwarden's unencrypted JSON export: import and export.
//!
//! The file is `{"encrypted": false, "folders": […], "items": […]}`; every
//! key of an item may be missing or `null`. The mapping:
//!
//! | Bitwarden | Tessera |
//! | --- | --- |
//! | `type` 1 / 2 / 3 / 4 (5, SSH key) | login / note / card / identity (note) |
//! | `name`, `notes`, `favorite` | title, notes, favourite |
//! | `folderId` (else the first of `collectionIds`) | folder path (names nest with `/`) |
//! | `login.username` / `password` / `uris` / `totp` | username, password, URLs, OTP URI |
//! | `fields` text, boolean / hidden | unprotected / protected custom fields |
//! | `card` | `Cardholder`, `Brand`, `Number`, `Expiry` (`MM/YYYY`), `Security code` |
//! | `identity` | `Full name`, `Email`, `Phone`, `Address`, `Passport number`, `National ID`, plus `Company`, `License number`, `City`, `State`, `Postal code`, `Country`; its `username` is the item's username |
//! | `creationDate`, `revisionDate`, `login.passwordRevisionDate` | created, updated, password changed |
//! | `passwordHistory` | earlier versions with the old password, oldest first |
//!
//! What Bitwarden cannot hold travels in custom fields Tessera reads back:
//! `tessera:tags` (comma-separated tags) on any item, and on non-login
//! items `tessera:username`, `tessera:password`, `tessera:url` (one per URL)
//! and `tessera:otp`. A Bitwarden user still sees them as ordinary fields.
//!
//! An item that cannot be read becomes a [`Skipped`] entry and the rest
//! still imports; reasons name keys, never values. Parsing holds the whole
//! document as a [`serde_json::Value`], whose strings are wiped when done.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::io;

use serde::Serialize;
use serde_json::{Map, Value};
use tessera_core::item::{HISTORY_LIMIT, MAX_LIST_LEN};
use tessera_core::{Field, Item, ItemId, ItemType, Scope, Vault};
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use zeroize::{Zeroize, Zeroizing};

use crate::csv::{FieldSet, bounded_folder, finish, folder_note, parse_rfc3339, set_otp, title_or_fallback};
use crate::{ExportError, Format, ImportError, Imported, MAX_DEPTH, MAX_SOURCE_SIZE, Skipped};

const FORMAT: Format = Format::BitwardenJson;

/// The custom field carrying an item's tags, comma-separated.
pub(crate) const TAGS_FIELD: &str = "tessera:tags";
/// The username of a non-login item (Bitwarden keeps logins' only).
const USERNAME_FIELD: &str = "tessera:username";
/// The password of a non-login item.
const PASSWORD_FIELD: &str = "tessera:password";
/// One URL of a non-login item.
const URL_FIELD: &str = "tessera:url";
/// The `otpauth://` URI of a non-login item.
const OTP_FIELD: &str = "tessera:otp";

/// Bitwarden's custom field types.
const FIELD_TEXT: i64 = 0;
const FIELD_HIDDEN: i64 = 1;
const FIELD_BOOLEAN: i64 = 2;
const FIELD_LINKED: i64 = 3;

/// Card keys carried one-to-one: (Bitwarden key, field, protected).
const CARD_FIELDS: [(&str, &str, bool); 4] = [
    ("cardholderName", "Cardholder", false),
    ("brand", "Brand", false),
    ("number", "Number", true),
    ("code", "Security code", true),
];

/// Identity keys carried one-to-one, in the order they are added after
/// `Full name` and `Address`: (Bitwarden key, field, protected).
const IDENTITY_FIELDS: [(&str, &str, bool); 10] = [
    ("email", "Email", false),
    ("phone", "Phone", false),
    ("passportNumber", "Passport number", true),
    ("ssn", "National ID", true),
    ("company", "Company", false),
    ("licenseNumber", "License number", true),
    ("city", "City", false),
    ("state", "State", false),
    ("postalCode", "Postal code", false),
    ("country", "Country", false),
];

/// Reads a Bitwarden unencrypted JSON export. An encrypted export is
/// [`ImportError::Unsupported`]; a file that is not JSON of this shape is
/// [`ImportError::Malformed`]; an item that cannot be read is [`Skipped`].
pub fn parse_json(bytes: &[u8]) -> Result<Imported, ImportError> {
    if bytes.len() as u64 > MAX_SOURCE_SIZE {
        return Err(ImportError::TooLarge { format: FORMAT, reason: format!("more than {MAX_SOURCE_SIZE} bytes") });
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    // serde_json stops at 128 levels itself, so parsing cannot overflow the
    // stack; the document is then held to MAX_DEPTH.
    let root = Wiped(serde_json::from_slice::<Value>(bytes).map_err(|e| json_error(&e))?);
    if nested_deeper_than(&root.0, MAX_DEPTH) {
        return Err(ImportError::malformed(FORMAT, format!("the JSON is nested deeper than {MAX_DEPTH} levels")));
    }
    let Some(top) = root.0.as_object() else {
        return Err(ImportError::malformed(FORMAT, "expected a JSON object with an \"items\" list"));
    };
    if [top.get("encrypted"), top.get("passwordProtected")].contains(&Some(&Value::Bool(true))) {
        return Err(ImportError::Unsupported(
            "this Bitwarden export is encrypted: export the vault again from Bitwarden with the file format \
             \"JSON\" (unencrypted JSON), not \"JSON (Encrypted)\""
                .into(),
        ));
    }
    let mut out = Imported::default();
    let folders = names_by_id(top.get("folders"), "folder", &mut out.skipped)?;
    let collections = names_by_id(top.get("collections"), "collection", &mut out.skipped)?;
    let items = match top.get("items") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => return Err(ImportError::malformed(FORMAT, "there is no \"items\" list")),
        Some(_) => return Err(ImportError::malformed(FORMAT, "\"items\" is not a list")),
    };
    let places = Places { folders: &folders, collections: &collections };
    for (i, value) in items.iter().enumerate() {
        read_item(value, i + 1, &places, &mut out);
    }
    Ok(out)
}

/// A JSON syntax error as a reason: where, never what (it could be a secret).
fn json_error(e: &serde_json::Error) -> ImportError {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "the JSON ends too early",
        _ => "not valid JSON, or nested too deeply",
    };
    ImportError::malformed(FORMAT, format!("{what} (line {}, column {})", e.line(), e.column()))
}

/// A parsed document whose strings are zeroized when it is dropped: they
/// hold every password of the export.
struct Wiped(Value);

impl Drop for Wiped {
    fn drop(&mut self) {
        let mut stack = vec![&mut self.0];
        while let Some(value) = stack.pop() {
            match value {
                Value::String(s) => s.zeroize(),
                Value::Array(values) => stack.extend(values.iter_mut()),
                Value::Object(map) => stack.extend(map.values_mut()),
                _ => {}
            }
        }
    }
}

/// Whether `value` nests more than `max` arrays and objects (iteratively:
/// no recursion on hostile input).
fn nested_deeper_than(value: &Value, max: usize) -> bool {
    let mut stack = vec![(value, 1)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(values) => Box::new(values.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth > max {
            return true;
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    false
}

/// `folders` or `collections`: id → name. A broken entry is reported and
/// its items land in the root.
fn names_by_id(
    list: Option<&Value>,
    what: &str,
    skipped: &mut Vec<Skipped>,
) -> Result<HashMap<String, String>, ImportError> {
    let mut names = HashMap::new();
    let entries = match list {
        None | Some(Value::Null) => return Ok(names),
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err(ImportError::malformed(FORMAT, format!("\"{what}s\" is not a list"))),
    };
    for (i, entry) in entries.iter().enumerate() {
        let id = entry.get("id").and_then(Value::as_str);
        let name = entry.get("name").and_then(Value::as_str);
        match (id, name) {
            (Some(id), Some(name)) => {
                names.insert(id.to_owned(), name.to_owned());
            }
            _ => skipped.push(Skipped {
                line_or_entry: format!("{what} {}", i + 1),
                reason: format!("the {what} has no text \"id\" and \"name\"; its items are imported without it"),
            }),
        }
    }
    Ok(names)
}

/// Folder and collection names by id.
struct Places<'a> {
    folders: &'a HashMap<String, String>,
    collections: &'a HashMap<String, String>,
}

/// `entry "Title"`, shortened: titles are not secret but may be long.
fn entry_label(title: &str) -> String {
    let mut short: String = title.trim().chars().take(60).collect();
    if short.len() < title.trim().len() {
        short.push('…');
    }
    format!("entry {short:?}")
}

/// Reads item number `n` (1-based) into `out`: an item, or a [`Skipped`].
fn read_item(value: &Value, n: usize, places: &Places<'_>, out: &mut Imported) {
    let place = match value.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => entry_label(name),
        _ => format!("item {n}"),
    };
    let Some(map) = value.as_object() else {
        out.skipped.push(Skipped { line_or_entry: place, reason: "the item is not a JSON object".into() });
        return;
    };
    let mut notes = Vec::new();
    let built = build_item(&Obj::new(map, String::new()), places, &place, &mut notes);
    match built.map_err(|reason| Skipped { line_or_entry: place.clone(), reason }) {
        Ok((item, history)) => match finish(item, history, &place) {
            Ok(item) => {
                out.items.push(item);
                out.skipped.extend(notes);
            }
            Err(skipped) => out.skipped.push(skipped),
        },
        Err(skipped) => out.skipped.push(skipped),
    }
}

/// A JSON object being read, with its path for error messages. Errors name
/// the key and what was expected, never the value found.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    fn new(map: &'a Map<String, Value>, path: String) -> Self {
        Obj { map, path }
    }

    fn key(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    /// The value of `key`; `null` counts as missing.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Text, `""` when missing. Numbers and booleans are taken as their
    /// text (some exports write `expYear` as a number).
    fn text(&self, key: &str) -> Result<String, String> {
        match self.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            Some(_) => Err(format!("\"{}\" is not text", self.key(key))),
        }
    }

    fn flag(&self, key: &str) -> Result<bool, String> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Number(n)) if n.as_u64() == Some(0) || n.as_u64() == Some(1) => Ok(n.as_u64() == Some(1)),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
            Some(_) => Err(format!("\"{}\" is not true or false", self.key(key))),
        }
    }

    fn int(&self, key: &str) -> Result<Option<i64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
            Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => Ok(s.trim().parse().ok()),
            Some(_) => Err(format!("\"{}\" is not a whole number", self.key(key))),
        }
    }

    /// A date; one that is not RFC 3339 is ignored rather than costing the
    /// item (the vault then uses the import time).
    fn date(&self, key: &str) -> Result<Option<OffsetDateTime>, String> {
        Ok(parse_rfc3339(&self.text(key)?))
    }

    fn object(&self, key: &str) -> Result<Option<Obj<'a>>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Obj::new(map, self.key(key)))),
            Some(_) => Err(format!("\"{}\" is not an object", self.key(key))),
        }
    }

    fn list(&self, key: &str) -> Result<&'a [Value], String> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(values)) => Ok(values),
            Some(_) => Err(format!("\"{}\" is not a list", self.key(key))),
        }
    }

    /// Element `i` of list `key` as an object; `None` for `null`.
    fn element(&self, key: &str, i: usize, value: &'a Value) -> Result<Option<Obj<'a>>, String> {
        let path = format!("{}[{i}]", self.key(key));
        match value {
            Value::Null => Ok(None),
            Value::Object(map) => Ok(Some(Obj::new(map, path))),
            _ => Err(format!("\"{path}\" is not an object")),
        }
    }
}

/// A note about an item that was imported with something left out.
fn note(place: &str, reason: impl Into<String>) -> Skipped {
    Skipped { line_or_entry: place.to_owned(), reason: reason.into() }
}

/// Builds one item and its earlier versions (not yet normalised).
fn build_item(
    obj: &Obj<'_>,
    places: &Places<'_>,
    place: &str,
    notes: &mut Vec<Skipped>,
) -> Result<(Item, Vec<Item>), String> {
    let kind = obj.int("type")?;
    let item_type = match kind {
        Some(1) => ItemType::Login,
        Some(2) => ItemType::Note,
        Some(5) => ItemType::SshKey,
        Some(3) => ItemType::Card,
        Some(4) => ItemType::Identity,
        Some(other) => {
            notes.push(note(place, format!("its type {other} is not one Tessera knows; it became a secure note")));
            ItemType::Note
        }
        // No type: go by the part that is there.
        None if obj.get("card").is_some() => ItemType::Card,
        None if obj.get("identity").is_some() => ItemType::Identity,
        None if obj.get("secureNote").is_some() => ItemType::Note,
        None => ItemType::Login,
    };
    let login = if item_type == ItemType::Login { obj.object("login")? } else { None };
    let identity = if item_type == ItemType::Identity { obj.object("identity")? } else { None };

    let mut username = String::new();
    let mut password = String::new();
    let mut totp = Zeroizing::new(String::new());
    let mut urls = Vec::new();
    let mut password_date = None;
    if let Some(login) = &login {
        username = login.text("username")?;
        password = login.text("password")?;
        *totp = login.text("totp")?;
        for (i, uri) in login.list("uris")?.iter().enumerate() {
            let uri = match uri {
                Value::String(uri) => uri.clone(),
                _ => match login.element("uris", i, uri)? {
                    Some(uri) => uri.text("uri")?,
                    None => continue,
                },
            };
            // One past the limit is enough for normalize to refuse the item.
            if !uri.trim().is_empty() && urls.len() <= MAX_LIST_LEN {
                urls.push(uri);
            }
        }
        password_date = login.date("passwordRevisionDate")?;
        if matches!(login.get("fido2Credentials"), Some(Value::Array(keys)) if !keys.is_empty()) {
            notes.push(note(place, "its passkey was left out: Tessera does not store passkeys"));
        }
    }
    if let Some(identity) = &identity {
        username = identity.text("username")?;
    }

    let title = title_or_fallback(&obj.text("name")?, urls.first().map(String::as_str), &username);
    let mut item = Item::new(item_type, title);
    // Keeping Bitwarden's id makes a re-import recognisable; the vault gives
    // a fresh one if it is taken.
    if let Some(id) = obj.get("id").and_then(Value::as_str).and_then(parse_uuid) {
        item.id = id;
    }
    item.username = username;
    item.password = password;
    item.urls = urls;
    item.notes = obj.text("notes")?;
    item.favourite = obj.flag("favorite")?;

    let folder_id = obj.text("folderId")?;
    let mut folder = places.folders.get(&folder_id);
    if folder.is_none() {
        folder = obj.list("collectionIds")?.iter().filter_map(Value::as_str).find_map(|id| places.collections.get(id));
    }
    let (folder, cut) = bounded_folder(folder.map_or("", String::as_str));
    item.folder = folder;
    if cut {
        notes.push(folder_note(place));
    }

    let mut fields = FieldSet::default();
    match item_type {
        ItemType::Card => {
            if let Some(card) = obj.object("card")? {
                read_card(&card, &mut item, &mut fields)?;
            }
        }
        ItemType::Identity => {
            if let Some(identity) = &identity {
                read_identity(identity, &mut item, &mut fields)?;
            }
        }
        ItemType::SshKey => {
            if let Some(key) = obj.object("sshKey")? {
                for (key_name, name, protected) in SSH_KEY_FIELDS {
                    add_if_set(&mut fields, &mut item, name, &key.text(key_name)?, protected);
                }
            }
        }
        _ => {}
    }

    let mut tags = Vec::new();
    for (i, field) in obj.list("fields")?.iter().enumerate() {
        let Some(field) = obj.element("fields", i, field)? else { continue };
        let name = field.text("name")?;
        let value = Zeroizing::new(field.text("value")?);
        let kind = field.int("type")?.unwrap_or(FIELD_TEXT);
        match name.trim() {
            TAGS_FIELD => {
                tags.extend(value.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned));
                continue;
            }
            USERNAME_FIELD if item.username.is_empty() => {
                item.username = value.as_str().to_owned();
                continue;
            }
            PASSWORD_FIELD if item.password.is_empty() => {
                item.password = value.as_str().to_owned();
                continue;
            }
            URL_FIELD if item.urls.len() <= MAX_LIST_LEN => {
                if !value.trim().is_empty() {
                    item.urls.push(value.as_str().to_owned());
                }
                continue;
            }
            OTP_FIELD if totp.trim().is_empty() => {
                *totp = value.as_str().to_owned();
                continue;
            }
            _ => {}
        }
        if kind == FIELD_LINKED {
            // A linked field only points at another part of the item (its
            // username, a card's number…), which is imported anyway.
            notes.push(note(place, format!("its linked custom field {:?} was left out", name.trim())));
            continue;
        }
        // Unknown field types are protected: hiding too much is harmless.
        let protected = !matches!(kind, FIELD_TEXT | FIELD_BOOLEAN);
        fields.add(&mut item, &name, &value, protected);
    }
    item.tags = tags;
    set_otp(&mut item, &mut fields, &totp, place, notes);

    if let Some(created) = obj.date("creationDate")? {
        item.created = created;
    }
    item.updated = obj.date("revisionDate")?.unwrap_or(item.created);

    // Bitwarden lists the newest first; reversing before the stable sort
    // keeps that order for entries with the same (or no) date.
    let mut old: Vec<(Option<OffsetDateTime>, Zeroizing<String>)> = Vec::new();
    for (i, entry) in obj.list("passwordHistory")?.iter().enumerate() {
        let Some(entry) = obj.element("passwordHistory", i, entry)? else { continue };
        let password = Zeroizing::new(entry.text("password")?);
        if !password.is_empty() {
            old.push((entry.date("lastUsedDate")?, password));
        }
    }
    old.reverse();
    old.sort_by_key(|(date, _)| *date);
    item.password_changed = password_date.or_else(|| old.last().and_then(|(date, _)| *date)).unwrap_or(item.created);
    // The vault keeps only the newest HISTORY_LIMIT versions; cloning more
    // would only let a hostile history multiply memory.
    let skip = old.len().saturating_sub(HISTORY_LIMIT);
    let history = old
        .iter()
        .skip(skip)
        .map(|(date, password)| {
            let mut version = item.clone();
            version.password = password.as_str().to_owned();
            version.updated = date.unwrap_or(item.created);
            version.password_changed = version.updated;
            version
        })
        .collect();
    Ok((item, history))
}

/// Adds a field unless the value is blank.
fn add_if_set(fields: &mut FieldSet, item: &mut Item, name: &str, value: &str, protected: bool) {
    if !value.trim().is_empty() {
        fields.add(item, name, value, protected);
    }
}

fn read_card(card: &Obj<'_>, item: &mut Item, fields: &mut FieldSet) -> Result<(), String> {
    for (key, name, protected) in &CARD_FIELDS[..3] {
        add_if_set(fields, item, name, &Zeroizing::new(card.text(key)?), *protected);
    }
    if let Some(expiry) = expiry(&card.text("expMonth")?, &card.text("expYear")?) {
        fields.add(item, "Expiry", &expiry, false);
    }
    let (key, name, protected) = CARD_FIELDS[3];
    add_if_set(fields, item, name, &Zeroizing::new(card.text(key)?), protected);
    Ok(())
}

fn read_identity(identity: &Obj<'_>, item: &mut Item, fields: &mut FieldSet) -> Result<(), String> {
    let name: Vec<String> =
        ["title", "firstName", "middleName", "lastName"].iter().map(|k| identity.text(k)).collect::<Result<_, _>>()?;
    add_if_set(fields, item, "Full name", &full_name(&name), false);
    let lines: Vec<String> =
        ["address1", "address2", "address3"].iter().map(|k| identity.text(k)).collect::<Result<_, _>>()?;
    // Template order: Full name, Email, Phone, Address, then the numbers.
    for (key, name, protected) in &IDENTITY_FIELDS[..2] {
        add_if_set(fields, item, name, &identity.text(key)?, *protected);
    }
    add_if_set(fields, item, "Address", &address(&lines), false);
    for (key, name, protected) in &IDENTITY_FIELDS[2..] {
        add_if_set(fields, item, name, &Zeroizing::new(identity.text(key)?), *protected);
    }
    Ok(())
}

/// `Full name` from Bitwarden's title, first, middle and last names.
fn full_name<S: AsRef<str>>(parts: &[S]) -> String {
    parts.iter().map(AsRef::as_ref).filter(|p| !p.trim().is_empty()).collect::<Vec<_>>().join(" ")
}

/// `Address` from Bitwarden's three address lines (trailing blank ones
/// dropped, inner ones kept so the lines stay where they were).
fn address<S: AsRef<str>>(lines: &[S]) -> String {
    let lines: Vec<&str> = lines.iter().map(AsRef::as_ref).collect();
    let used = lines.iter().rposition(|l| !l.trim().is_empty()).map_or(0, |last| last + 1);
    lines[..used].join("\n")
}

/// `Expiry` as `MM/YYYY` from Bitwarden's month (`1`–`12`) and year (a
/// two-digit year is taken as 20YY); whichever is set when one is missing.
fn expiry(month: &str, year: &str) -> Option<String> {
    let month = month.trim();
    let year = year.trim();
    let month = match month.parse::<u8>() {
        Ok(m @ 1..=12) if month.len() <= 2 => format!("{m:02}"),
        _ => month.to_owned(),
    };
    let year =
        if year.len() == 2 && year.bytes().all(|b| b.is_ascii_digit()) { format!("20{year}") } else { year.into() };
    match (month.is_empty(), year.is_empty()) {
        (true, true) => None,
        (false, false) => Some(format!("{month}/{year}")),
        (false, true) => Some(month),
        (true, false) => Some(year),
    }
}

/// 16 bytes from a UUID (`8-4-4-4-12` hex digits).
fn parse_uuid(text: &str) -> Option<ItemId> {
    let hex: String = text.trim().chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let bytes = data_encoding::HEXLOWER_PERMISSIVE.decode(hex.as_bytes()).ok()?;
    ItemId::from_slice(&bytes).ok()
}

/// 16 bytes as a UUID.
fn format_uuid(bytes: &[u8; 16]) -> String {
    let hex = data_encoding::HEXLOWER.encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// A fresh random (version 4) UUID.
fn random_uuid() -> String {
    let mut bytes = *ItemId::random().as_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    format_uuid(&bytes)
}

// --- export ----------------------------------------------------------------

/// Writes the vault's live items as a Bitwarden unencrypted JSON export
/// (pretty-printed), which [`parse_json`] reads back to the same items: every
/// part Bitwarden can carry, plus tags and non-login usernames, passwords,
/// URLs and OTPs in `tessera:` custom fields. Attachments and expiry dates
/// are not exported. The bytes are secrets in the clear: the buffer is
/// sized up front (no reallocation leaves copies) and zeroized on drop.
pub fn export_json(vault: &Vault) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let mut items: Vec<Item> = Vec::new();
    vault.each_item(Scope::Live, |item| items.push(item.clone()))?;
    let histories = items.iter().map(|item| vault.history(item.id)).collect::<Result<Vec<_>, _>>()?;

    let names: BTreeSet<&str> = items.iter().map(|i| i.folder.as_str()).filter(|f| !f.is_empty()).collect();
    let folders: Vec<(String, &str)> = names.into_iter().map(|name| (random_uuid(), name)).collect();
    let folder_ids: HashMap<&str, &str> = folders.iter().map(|(id, name)| (*name, id.as_str())).collect();

    let doc = Export {
        encrypted: false,
        folders: folders.iter().map(|(id, name)| ExportFolder { id, name }).collect(),
        items: items
            .iter()
            .zip(&histories)
            .map(|(item, history)| export_item(item, history, folder_ids.get(item.folder.as_str()).copied()))
            .collect::<Result<_, _>>()?,
    };

    let mut size = Counter(0);
    serde_json::to_writer_pretty(&mut size, &doc).map_err(|_| write_error("the JSON could not be written"))?;
    let mut out = Zeroizing::new(Vec::with_capacity(size.0 + 1));
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(|_| write_error("the JSON could not be written"))?;
    out.push(b'\n');
    Ok(out)
}

fn write_error(reason: &str) -> ExportError {
    ExportError::Write { format: FORMAT, reason: reason.to_owned() }
}

/// Counts bytes, to size the output buffer before writing secrets into it.
struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A date as Bitwarden writes them: `2024-01-31T12:00:00.000Z`.
fn format_date(t: OffsetDateTime) -> Result<String, ExportError> {
    t.to_offset(UtcOffset::UTC)
        .format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"))
        .map_err(|_| write_error("a date is outside the range JSON dates can hold"))
}

/// `Some(text)` unless it is empty (Bitwarden writes `null`).
fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

#[derive(Serialize)]
struct Export<'a> {
    encrypted: bool,
    folders: Vec<ExportFolder<'a>>,
    items: Vec<ExportItem<'a>>,
}

#[derive(Serialize)]
struct ExportFolder<'a> {
    id: &'a str,
    name: &'a str,
}

/// Bitwarden's `sshKey` object and the item fields it maps to.
const SSH_KEY_FIELDS: [(&str, &str, bool); 3] = [
    ("privateKey", tessera_core::item::SSH_PRIVATE_KEY, true),
    ("publicKey", tessera_core::item::SSH_PUBLIC_KEY, false),
    ("keyFingerprint", tessera_core::item::SSH_FINGERPRINT, false),
];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportSshKey<'a> {
    private_key: Option<&'a str>,
    public_key: Option<&'a str>,
    key_fingerprint: Option<&'a str>,
}

/// One item, in Bitwarden's key order. Secrets are borrowed from the items,
/// not copied.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportItem<'a> {
    password_history: Option<Vec<ExportPassword<'a>>>,
    revision_date: String,
    creation_date: String,
    deleted_date: Option<()>,
    id: String,
    organization_id: Option<()>,
    folder_id: Option<&'a str>,
    #[serde(rename = "type")]
    kind: u8,
    reprompt: u8,
    name: &'a str,
    notes: Option<&'a str>,
    favorite: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<ExportField<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    login: Option<ExportLogin<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secure_note: Option<ExportSecureNote>,
    #[serde(skip_serializing_if = "Option::is_none")]
    card: Option<ExportCard<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<ExportIdentity<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ssh_key: Option<ExportSshKey<'a>>,
    collection_ids: Option<()>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportPassword<'a> {
    last_used_date: String,
    password: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportField<'a> {
    name: &'a str,
    value: Cow<'a, str>,
    #[serde(rename = "type")]
    kind: i64,
    linked_id: Option<()>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportLogin<'a> {
    fido2_credentials: [(); 0],
    uris: Vec<ExportUri<'a>>,
    username: Option<&'a str>,
    password: Option<&'a str>,
    totp: Option<&'a str>,
    password_revision_date: String,
}

#[derive(Serialize)]
struct ExportUri<'a> {
    #[serde(rename = "match")]
    match_kind: Option<()>,
    uri: &'a str,
}

#[derive(Serialize)]
struct ExportSecureNote {
    #[serde(rename = "type")]
    kind: u8,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportCard<'a> {
    cardholder_name: Option<&'a str>,
    brand: Option<&'a str>,
    number: Option<&'a str>,
    exp_month: Option<String>,
    exp_year: Option<&'a str>,
    code: Option<&'a str>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct ExportIdentity<'a> {
    title: Option<&'a str>,
    first_name: Option<&'a str>,
    middle_name: Option<&'a str>,
    last_name: Option<&'a str>,
    address1: Option<&'a str>,
    address2: Option<&'a str>,
    address3: Option<&'a str>,
    city: Option<&'a str>,
    state: Option<&'a str>,
    postal_code: Option<&'a str>,
    country: Option<&'a str>,
    company: Option<&'a str>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    ssn: Option<&'a str>,
    username: Option<&'a str>,
    passport_number: Option<&'a str>,
    license_number: Option<&'a str>,
}

/// An item's custom fields, as card and identity keys claim some of them.
/// A field is claimed only if [`parse_json`] would give it back unchanged
/// (same protection, non-blank, a value the key can hold); the others are
/// written as custom fields.
struct Claims<'a> {
    fields: &'a [Field],
    claimed: Vec<bool>,
}

impl<'a> Claims<'a> {
    fn new(item: &'a Item) -> Self {
        Claims { fields: &item.fields, claimed: vec![false; item.fields.len()] }
    }

    fn claim(&mut self, name: &str, protected: bool, fits: impl Fn(&'a str) -> bool) -> Option<&'a str> {
        let i = self.fields.iter().position(|f| f.name == name)?;
        let field = &self.fields[i];
        if self.claimed[i] || field.protected != protected || field.value.trim().is_empty() || !fits(&field.value) {
            return None;
        }
        self.claimed[i] = true;
        Some(&field.value)
    }

    fn rest(&self) -> impl Iterator<Item = &'a Field> + '_ {
        self.fields.iter().zip(&self.claimed).filter(|(_, claimed)| !**claimed).map(|(f, _)| f)
    }
}

/// `Full name` as Bitwarden's first name (all but the last word) and last
/// name, if reading them back gives the same text; else all of it as the
/// first name.
fn split_name(value: &str) -> (Option<&str>, Option<&str>) {
    match value.rsplit_once(' ') {
        Some((first, last)) if full_name(&[first, last]) == value => (Some(first), Some(last)),
        _ => (Some(value), None),
    }
}

/// `Address` as three lines (the third holds any further lines), or all of
/// it in the first when that is what reads back unchanged.
fn split_address(value: &str) -> Option<[&str; 3]> {
    let mut lines = value.splitn(3, '\n');
    let split = [lines.next().unwrap_or(""), lines.next().unwrap_or(""), lines.next().unwrap_or("")];
    if address(&split) == value {
        return Some(split);
    }
    (address(&[value]) == value).then_some([value, "", ""])
}

/// `MM/YYYY` as Bitwarden's month (`1`–`12`) and year, if it reads back
/// unchanged.
fn split_expiry(value: &str) -> Option<(String, &str)> {
    let (month, year) = value.split_once('/')?;
    if month.len() != 2 || year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let month = match month.parse::<u8>() {
        Ok(m @ 1..=12) => m.to_string(),
        _ => return None,
    };
    (expiry(&month, year).as_deref() == Some(value)).then_some((month, year))
}

fn export_item<'a>(
    item: &'a Item,
    history: &'a [Item],
    folder_id: Option<&'a str>,
) -> Result<ExportItem<'a>, ExportError> {
    let mut claims = Claims::new(item);
    let any = |_: &str| true;

    let card = (item.item_type == ItemType::Card).then(|| {
        let mut get = |i: usize| {
            let (_, name, protected) = CARD_FIELDS[i];
            claims.claim(name, protected, any)
        };
        let (cardholder_name, brand, number, code) = (get(0), get(1), get(2), get(3));
        let expiry = claims.claim("Expiry", false, |v| split_expiry(v).is_some()).and_then(split_expiry);
        let (exp_month, exp_year) = expiry.map_or((None, None), |(m, y)| (Some(m), Some(y)));
        ExportCard { cardholder_name, brand, number, exp_month, exp_year, code }
    });

    let identity = (item.item_type == ItemType::Identity).then(|| {
        let mut identity = ExportIdentity { username: non_empty(&item.username), ..ExportIdentity::default() };
        if let Some(name) = claims.claim("Full name", false, any) {
            (identity.first_name, identity.last_name) = split_name(name);
        }
        if let Some(lines) = claims.claim("Address", false, |v| split_address(v).is_some()).and_then(split_address) {
            [identity.address1, identity.address2, identity.address3] = lines.map(non_empty);
        }
        for (key, name, protected) in IDENTITY_FIELDS {
            let value = claims.claim(name, protected, any);
            let slot = match key {
                "email" => &mut identity.email,
                "phone" => &mut identity.phone,
                "passportNumber" => &mut identity.passport_number,
                "ssn" => &mut identity.ssn,
                "company" => &mut identity.company,
                "licenseNumber" => &mut identity.license_number,
                "city" => &mut identity.city,
                "state" => &mut identity.state,
                "postalCode" => &mut identity.postal_code,
                _ => &mut identity.country,
            };
            *slot = value;
        }
        identity
    });

    let ssh_key = (item.item_type == ItemType::SshKey).then(|| {
        let [private_key, public_key, key_fingerprint] =
            SSH_KEY_FIELDS.map(|(_, name, protected)| claims.claim(name, protected, any));
        ExportSshKey { private_key, public_key, key_fingerprint }
    });

    let field = |name: &'a str, value: Cow<'a, str>, protected: bool| ExportField {
        name,
        value,
        kind: if protected { FIELD_HIDDEN } else { FIELD_TEXT },
        linked_id: None,
    };
    let mut fields: Vec<ExportField<'a>> =
        claims.rest().map(|f| field(&f.name, Cow::Borrowed(f.value.as_str()), f.protected)).collect();
    if item.item_type != ItemType::Login {
        if item.item_type != ItemType::Identity && !item.username.is_empty() {
            fields.push(field(USERNAME_FIELD, Cow::Borrowed(&item.username), false));
        }
        if !item.password.is_empty() {
            fields.push(field(PASSWORD_FIELD, Cow::Borrowed(&item.password), true));
        }
        fields.extend(item.urls.iter().map(|url| field(URL_FIELD, Cow::Borrowed(url), false)));
        if let Some(otp) = &item.otp {
            fields.push(field(OTP_FIELD, Cow::Borrowed(otp), true));
        }
    }
    if !item.tags.is_empty() {
        fields.push(field(TAGS_FIELD, Cow::Owned(item.tags.join(",")), false));
    }

    let login = match item.item_type {
        ItemType::Login => Some(ExportLogin {
            fido2_credentials: [],
            uris: item.urls.iter().map(|uri| ExportUri { match_kind: None, uri }).collect(),
            username: non_empty(&item.username),
            password: non_empty(&item.password),
            totp: item.otp.as_deref(),
            password_revision_date: format_date(item.password_changed)?,
        }),
        _ => None,
    };

    // Older passwords: each version whose password the next one changed.
    let mut newer = item.password.as_str();
    let mut old = Vec::new();
    for version in history {
        if !version.password.is_empty() && version.password != newer {
            old.push(ExportPassword { last_used_date: format_date(version.updated)?, password: &version.password });
        }
        newer = &version.password;
    }

    Ok(ExportItem {
        password_history: (!old.is_empty()).then_some(old),
        revision_date: format_date(item.updated)?,
        creation_date: format_date(item.created)?,
        deleted_date: None,
        id: format_uuid(item.id.as_bytes()),
        organization_id: None,
        folder_id,
        kind: match item.item_type {
            ItemType::Login => 1,
            ItemType::Note => 2,
            ItemType::Card => 3,
            ItemType::Identity => 4,
            ItemType::SshKey => 5,
        },
        reprompt: 0,
        name: &item.title,
        notes: non_empty(&item.notes),
        favorite: item.favourite,
        fields,
        login,
        secure_note: (item.item_type == ItemType::Note).then_some(ExportSecureNote { kind: 0 }),
        card,
        identity,
        ssh_key,
        collection_ids: None,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tessera_core::totp::Otp;
    use tessera_core::{KeyEncryptionKey, NewItem, NewSlot, OpenOptions};

    use super::*;

    const SAMPLE: &str = r#"{
  "encrypted": false,
  "folders": [
    { "id": "0c9a9b1e-6f5e-4a53-9d3a-b0d0014b0a01", "name": "Work" },
    { "id": "0c9a9b1e-6f5e-4a53-9d3a-b0d0014b0a02", "name": "Work/Servers" }
  ],
  "items": [
    {
      "passwordHistory": [
        { "lastUsedDate": "2023-03-01T10:00:00.000Z", "password": "old-pass-2" },
        { "lastUsedDate": "2022-01-01T10:00:00.000Z", "password": "old-pass-1" }
      ],
      "revisionDate": "2023-06-01T12:30:45.123Z",
      "creationDate": "2021-05-04T08:00:00.000Z",
      "deletedDate": null,
      "id": "5f3e9f2c-1b7a-4c59-8a44-b0d0014b0b01",
      "organizationId": null,
      "folderId": "0c9a9b1e-6f5e-4a53-9d3a-b0d0014b0a02",
      "type": 1,
      "reprompt": 0,
      "name": "Build server",
      "notes": "root login\nrotate quarterly",
      "favorite": true,
      "fields": [
        { "name": "Recovery code", "value": "rc-7788-secret", "type": 1, "linkedId": null },
        { "name": "Rack", "value": "B4", "type": 0, "linkedId": null },
        { "name": "Managed", "value": "true", "type": 2, "linkedId": null },
        { "name": "tessera:tags", "value": "servers, infra", "type": 0, "linkedId": null }
      ],
      "login": {
        "fido2Credentials": [],
        "uris": [
          { "match": null, "uri": "https://build.example.com" },
          { "match": 3, "uri": "ssh://build.example.com" }
        ],
        "username": "root",
        "password": "current-pass-3",
        "totp": "JBSWY3DPEHPK3PXP"
      },
      "collectionIds": null
    },
    {
      "revisionDate": "2022-02-02T02:02:02.000Z",
      "creationDate": "2022-02-02T02:02:02.000Z",
      "id": "5f3e9f2c-1b7a-4c59-8a44-b0d0014b0b02",
      "organizationId": null,
      "folderId": null,
      "type": 2,
      "reprompt": 0,
      "name": "Alarm code",
      "notes": "4711, disarm within 30 s",
      "favorite": false,
      "secureNote": { "type": 0 },
      "collectionIds": null
    },
    {
      "revisionDate": "2024-01-10T09:00:00.000Z",
      "creationDate": "2024-01-10T09:00:00.000Z",
      "id": "5f3e9f2c-1b7a-4c59-8a44-b0d0014b0b03",
      "folderId": "0c9a9b1e-6f5e-4a53-9d3a-b0d0014b0a01",
      "type": 3,
      "name": "Company Visa",
      "notes": null,
      "favorite": false,
      "fields": [ { "name": "PIN", "value": "9876", "type": 1, "linkedId": null } ],
      "card": {
        "cardholderName": "Jo Bloggs",
        "brand": "Visa",
        "number": "4111111111111111",
        "expMonth": "3",
        "expYear": "2029",
        "code": "737"
      }
    },
    {
      "revisionDate": "2024-01-11T09:00:00.000Z",
      "creationDate": "2024-01-11T09:00:00.000Z",
      "id": "5f3e9f2c-1b7a-4c59-8a44-b0d0014b0b04",
      "type": 4,
      "name": "Me",
      "favorite": false,
      "identity": {
        "title": "Dr",
        "firstName": "Jo",
        "middleName": null,
        "lastName": "Bloggs",
        "address1": "1 High Street",
        "address2": "Flat 2",
        "address3": null,
        "city": "Oxford",
        "state": null,
        "postalCode": "OX1 1AA",
        "country": "GB",
        "company": "Acme",
        "email": "jo@example.com",
        "phone": "+44 1865 000000",
        "ssn": "QQ123456C",
        "username": "jbloggs",
        "passportNumber": "P1234567",
        "licenseNumber": "BLOGG801010J99AB"
      }
    }
  ]
}"#;

    fn sample() -> Imported {
        parse_json(SAMPLE.as_bytes()).expect("the sample parses")
    }

    fn by_title<'a>(imported: &'a Imported, title: &str) -> &'a NewItem {
        imported.items.iter().find(|n| n.current.item.title == title).unwrap_or_else(|| panic!("no item {title:?}"))
    }

    fn field<'a>(item: &'a Item, name: &str) -> &'a Field {
        item.field(name).unwrap_or_else(|| panic!("no field {name:?} in {item:?}"))
    }

    fn date(text: &str) -> OffsetDateTime {
        parse_rfc3339(text).unwrap()
    }

    /// A one-item export around `item` (a JSON object's text).
    fn one(item: &str) -> Imported {
        parse_json(format!(r#"{{"encrypted":false,"items":[{item}]}}"#).as_bytes()).expect("parses")
    }

    fn assert_no_secret(imported: &Imported, secrets: &[&str]) {
        let text = format!("{:?}", imported.skipped);
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
    }

    #[test]
    fn bitwarden_login_maps_title_username_password_urls_notes_folder_and_dates() {
        let imported = sample();
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        assert_eq!(imported.items.len(), 4);
        let item = &by_title(&imported, "Build server").current.item;
        assert_eq!(item.item_type, ItemType::Login);
        assert_eq!(item.id, parse_uuid("5f3e9f2c-1b7a-4c59-8a44-b0d0014b0b01").unwrap());
        assert_eq!(item.username, "root");
        assert_eq!(item.password, "current-pass-3");
        assert_eq!(item.urls, ["https://build.example.com", "ssh://build.example.com"]);
        assert_eq!(item.notes, "root login\nrotate quarterly");
        assert_eq!(item.folder, "Work/Servers");
        assert!(item.favourite);
        assert_eq!(item.created, date("2021-05-04T08:00:00Z"));
        assert_eq!(item.updated, date("2023-06-01T12:30:45Z"));
        assert_eq!(item.password_changed, date("2023-03-01T10:00:00Z"), "when the last old password went");
    }

    #[test]
    fn bitwarden_totp_secret_becomes_otpauth_uri() {
        let imported = sample();
        let item = &by_title(&imported, "Build server").current.item;
        let otp = Otp::parse_uri(item.otp.as_deref().expect("an OTP")).unwrap();
        assert_eq!(otp.secret().to_base32().as_str(), "JBSWY3DPEHPK3PXP");
        assert_eq!(otp.account.as_deref(), Some("Build server"));

        let uri = "otpauth://totp/Shop:me?secret=JBSWY3DPEHPK3PXP&issuer=Shop&digits=8";
        let item = &one(&format!(r#"{{"type":1,"name":"Shop","login":{{"totp":"{uri}"}}}}"#)).items[0].current.item;
        assert_eq!(Otp::parse_uri(item.otp.as_deref().unwrap()).unwrap(), Otp::parse_uri(uri).unwrap());
    }

    #[test]
    fn bitwarden_unparseable_totp_is_kept_in_a_protected_field_and_noted() {
        let imported = one(r#"{"type":1,"name":"Forum","login":{"password":"pw","totp":"not base32 at all!"}}"#);
        let item = &imported.items[0].current.item;
        assert!(item.otp.is_none());
        assert_eq!(field(item, "TOTP").value, "not base32 at all!");
        assert!(field(item, "TOTP").protected);
        assert_eq!(imported.skipped.len(), 1);
        assert_eq!(imported.skipped[0].line_or_entry, "entry \"Forum\"");
        assert_no_secret(&imported, &["base32 at all", "pw"]);
    }

    #[test]
    fn bitwarden_hidden_fields_are_protected_text_and_boolean_are_not() {
        let imported = sample();
        let item = &by_title(&imported, "Build server").current.item;
        assert_eq!(field(item, "Recovery code").value, "rc-7788-secret");
        assert!(field(item, "Recovery code").protected);
        assert_eq!(field(item, "Rack").value, "B4");
        assert!(!field(item, "Rack").protected);
        assert_eq!(field(item, "Managed").value, "true");
        assert!(!field(item, "Managed").protected);
        assert_eq!(item.fields.len(), 3, "tessera:tags is not a field");
    }

    #[test]
    fn bitwarden_tags_field_becomes_tags() {
        let imported = sample();
        assert_eq!(by_title(&imported, "Build server").current.item.tags, ["infra", "servers"]);
    }

    #[test]
    fn bitwarden_password_history_becomes_earlier_versions_oldest_first() {
        let imported = sample();
        let new = by_title(&imported, "Build server");
        let passwords: Vec<&str> = new.history.iter().map(|v| v.item.password.as_str()).collect();
        assert_eq!(passwords, ["old-pass-1", "old-pass-2"]);
        let first = &new.history[0].item;
        assert_eq!(first.updated, date("2022-01-01T10:00:00Z"));
        assert_eq!(first.password_changed, date("2022-01-01T10:00:00Z"));
        assert_eq!(first.title, "Build server");
        assert_eq!(first.username, "root");
        assert_eq!(first.id, new.current.item.id);

        let many: Vec<String> = (0..HISTORY_LIMIT + 5)
            .map(|i| format!(r#"{{"lastUsedDate":"2020-01-01T00:00:{:02}Z","password":"p{i}"}}"#, 59 - i))
            .collect();
        let imported = one(&format!(r#"{{"type":1,"name":"A","passwordHistory":[{}]}}"#, many.join(",")));
        let history = &imported.items[0].history;
        assert_eq!(history.len(), HISTORY_LIMIT, "only what the vault keeps");
        assert_eq!(history.last().unwrap().item.password, "p0", "the newest is kept");
    }

    #[test]
    fn bitwarden_card_becomes_card_item_with_template_fields() {
        let imported = sample();
        let item = &by_title(&imported, "Company Visa").current.item;
        assert_eq!(item.item_type, ItemType::Card);
        assert_eq!(item.folder, "Work");
        let names: Vec<&str> = item.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Cardholder", "Brand", "Number", "Expiry", "Security code", "PIN"]);
        assert_eq!(field(item, "Cardholder").value, "Jo Bloggs");
        assert_eq!(field(item, "Brand").value, "Visa");
        assert_eq!(field(item, "Number").value, "4111111111111111");
        assert_eq!(field(item, "Expiry").value, "03/2029");
        assert_eq!(field(item, "Security code").value, "737");
        for (name, protected) in ItemType::Card.template_fields() {
            assert_eq!(field(item, name).protected, *protected, "{name}");
        }
        assert_eq!(expiry("12", "29").as_deref(), Some("12/2029"));
        assert_eq!(expiry("", "2030").as_deref(), Some("2030"));
        assert_eq!(expiry("", " "), None);
    }

    #[test]
    fn bitwarden_identity_becomes_identity_item_with_template_and_extra_fields() {
        let imported = sample();
        let item = &by_title(&imported, "Me").current.item;
        assert_eq!(item.item_type, ItemType::Identity);
        assert_eq!(item.username, "jbloggs");
        let expect = [
            ("Full name", "Dr Jo Bloggs", false),
            ("Email", "jo@example.com", false),
            ("Phone", "+44 1865 000000", false),
            ("Address", "1 High Street\nFlat 2", false),
            ("Passport number", "P1234567", true),
            ("National ID", "QQ123456C", true),
            ("Company", "Acme", false),
            ("License number", "BLOGG801010J99AB", true),
            ("City", "Oxford", false),
            ("Postal code", "OX1 1AA", false),
            ("Country", "GB", false),
        ];
        let got: Vec<(&str, &str, bool)> =
            item.fields.iter().map(|f| (f.name.as_str(), f.value.as_str(), f.protected)).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn bitwarden_field_tables_agree_with_core_templates() {
        for (ty, table) in [(ItemType::Card, &CARD_FIELDS[..]), (ItemType::Identity, &IDENTITY_FIELDS[..])] {
            for (_, name, protected) in table {
                if let Some((_, template)) = ty.template_fields().iter().find(|(n, _)| n == name) {
                    assert_eq!(template, protected, "{name}");
                }
            }
        }
    }

    #[test]
    fn bitwarden_secure_note_becomes_note() {
        let imported = sample();
        let item = &by_title(&imported, "Alarm code").current.item;
        assert_eq!(item.item_type, ItemType::Note);
        assert_eq!(item.notes, "4711, disarm within 30 s");
        assert_eq!(item.folder, "");
        assert!(item.fields.is_empty() && item.password.is_empty());
    }

    #[test]
    fn bitwarden_ssh_keys_are_ssh_keys_and_unknown_types_become_notes() {
        let imported =
            one(r#"{"type":5,"name":"Deploy key","sshKey":{"privateKey":"-----BEGIN OPENSSH PRIVATE KEY-----x",
                "publicKey":"ssh-ed25519 AAAA","keyFingerprint":"SHA256:abc"}}"#);
        let item = &imported.items[0].current.item;
        assert_eq!(item.item_type, ItemType::SshKey);
        assert!(field(item, "Private key").protected);
        assert_eq!(field(item, "Public key").value, "ssh-ed25519 AAAA");
        assert!(imported.skipped.is_empty());

        let imported = one(r#"{"type":9,"name":"Future","notes":"n"}"#);
        assert_eq!(imported.items[0].current.item.item_type, ItemType::Note);
        assert_eq!(imported.skipped.len(), 1);
    }

    #[test]
    fn bitwarden_encrypted_export_is_unsupported() {
        for text in [
            r#"{"encrypted":true,"encKeyValidation_DO_NOT_EDIT":"2.x","data":"2.abc"}"#,
            r#"{"encrypted":true,"passwordProtected":true,"salt":"x","kdfType":0,"data":"2.abc"}"#,
        ] {
            let err = parse_json(text.as_bytes()).unwrap_err();
            let ImportError::Unsupported(message) = &err else { panic!("{err:?}") };
            assert!(message.contains("unencrypted JSON"), "{message}");
        }
    }

    #[test]
    fn bitwarden_non_json_or_wrong_shape_is_malformed() {
        for text in
            ["", "not json", "{\"items\": [", "[]", "42", "{}", "{\"items\": {}}", "{\"items\": [], \"folders\": 3}"]
        {
            let err = parse_json(text.as_bytes()).unwrap_err();
            assert!(matches!(err, ImportError::Malformed { .. }), "{text}: {err:?}");
        }
        let err = parse_json(br#"{"items": [{"login": {"password": "hunter2"}}"#).unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        assert!(parse_json("\u{feff}{\"items\": []}".as_bytes()).unwrap().items.is_empty());
    }

    #[test]
    fn bitwarden_item_with_wrong_types_is_skipped_and_the_rest_imports() {
        let text = r#"{"encrypted":false,"items":[
            {"type":1,"name":"Bad login","login":{"username":"u","password":["secret-in-list"]}},
            {"type":1,"name":"Good","login":{"password":"good-secret"}},
            {"type":"one","name":"Bad type"},
            "just a string",
            {"type":1,"name":"Bad fields","fields":[{"name":"x","value":{"v":"secret-in-object"}}]},
            {"type":1,"name":"Bad favourite","favorite":"very-secret-yes"},
            {"type":1,"login":{"uris":[7]}}
        ]}"#;
        let imported = parse_json(text.as_bytes()).unwrap();
        let titles: Vec<&str> = imported.items.iter().map(|n| n.current.item.title.as_str()).collect();
        assert_eq!(titles, ["Good"]);
        let places: Vec<&str> = imported.skipped.iter().map(|s| s.line_or_entry.as_str()).collect();
        assert_eq!(
            places,
            [
                "entry \"Bad login\"",
                "entry \"Bad type\"",
                "item 4",
                "entry \"Bad fields\"",
                "entry \"Bad favourite\"",
                "item 7"
            ]
        );
        assert!(imported.skipped[0].reason.contains("login.password"), "{:?}", imported.skipped[0]);
        assert!(imported.skipped[3].reason.contains("fields[0].value"), "{:?}", imported.skipped[3]);
        assert_no_secret(&imported, &["secret"]);
    }

    #[test]
    fn bitwarden_missing_and_null_keys_are_tolerated() {
        let imported =
            one(r#"{"id":null,"type":null,"name":null,"notes":null,"favorite":null,"fields":null,"login":null,
                "card":null,"identity":null,"folderId":null,"creationDate":null,"revisionDate":null,
                "passwordHistory":null,"collectionIds":null}"#);
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        let item = &imported.items[0].current.item;
        assert_eq!((item.item_type, item.title.as_str()), (ItemType::Login, "Untitled"));

        let imported = one(r#"{"type":1,"login":{"username":"sam","uris":[null,{"uri":null},{}]}}"#);
        assert_eq!(imported.items[0].current.item.title, "sam");
        let imported = one(r#"{"type":3,"name":"Empty card","card":{}}"#);
        assert!(imported.items[0].current.item.fields.is_empty());
        let imported = parse_json(br#"{"items":[{"folderId":"nope","collectionIds":[1,"x"]}],"folders":[{"id":1}]}"#);
        let imported = imported.unwrap();
        assert_eq!(imported.items[0].current.item.folder, "");
        assert_eq!(imported.skipped.len(), 1, "the broken folder is reported");
    }

    #[test]
    fn bitwarden_collection_becomes_folder_when_there_is_no_folder() {
        let text = r#"{"encrypted":false,"collections":[{"id":"c1","organizationId":"o","name":"Shared/Ops"}],
            "items":[{"type":1,"name":"A","collectionIds":["c1"]}]}"#;
        assert_eq!(parse_json(text.as_bytes()).unwrap().items[0].current.item.folder, "Shared/Ops");
    }

    #[test]
    fn bitwarden_linked_field_and_passkey_are_noted() {
        let imported =
            one(r#"{"type":1,"name":"Site","fields":[{"name":"user box","value":null,"type":3,"linkedId":100}],
                "login":{"username":"u","fido2Credentials":[{"keyValue":"private-key-material"}]}}"#);
        let item = &imported.items[0].current.item;
        assert!(item.fields.is_empty());
        assert_eq!(imported.skipped.len(), 2);
        assert_no_secret(&imported, &["private-key-material"]);
    }

    #[test]
    fn bitwarden_duplicate_and_empty_field_names_are_made_unique() {
        let imported = one(
            r#"{"type":1,"name":"Dup","fields":[{"name":"Q","value":"a","type":0},{"name":"Q","value":"b","type":1},
                {"name":"","value":"c","type":0},{"value":"d","type":0}]}"#,
        );
        let item = &imported.items[0].current.item;
        let names: Vec<&str> = item.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Q", "Q (2)", "Field", "Field (2)"]);
        assert!(item.fields[1].protected);
    }

    #[test]
    fn bitwarden_too_deep_nesting_is_malformed() {
        let deep = format!(r#"{{"items":[{{"notes":{}1{}}}]}}"#, "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(matches!(parse_json(deep.as_bytes()), Err(ImportError::Malformed { .. })));
        let deeper = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(parse_json(deeper.as_bytes()), Err(ImportError::Malformed { .. })));
    }

    // --- export -------------------------------------------------------------

    fn new_vault(dir: &std::path::Path, name: &str) -> Vault {
        let kek = KeyEncryptionKey::from_bytes(Zeroizing::new([7; 32]));
        let slot = NewSlot { kind: "test".into(), label: "Test".into(), params: vec![], kek };
        Vault::create(dir.join(name), vec![slot], &OpenOptions::default()).expect("vault")
    }

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap()
    }

    /// A vault with one item of each type, a login with password history
    /// and a trashed item.
    fn filled_vault(dir: &std::path::Path) -> (Vault, Vec<ItemId>) {
        let mut vault = new_vault(dir, "vault.tessera");
        let mut login = Item::new(ItemType::Login, "Mail");
        login.username = "me@example.com".into();
        login.password = "pw-1".into();
        login.urls = vec!["https://mail.example.com".into(), "https://webmail.example.com".into()];
        login.notes = "two\nlines".into();
        login.otp = Some(crate::otp_uri("JBSWY3DPEHPK3PXP", "Mail").unwrap().to_string());
        login.set_field("Recovery", "rc-secret", true);
        login.set_field("Plain", "visible", false);
        login.set_field("Empty", "", false);
        login.tags = vec!["mail".into(), "work".into()];
        login.folder = "Work/Mail".into();
        login.favourite = true;
        login.created = at(1_600_000_000);
        login.updated = at(1_650_000_000);
        login.password_changed = at(1_640_000_000);

        let mut card = Item::new(ItemType::Card, "Visa");
        card.set_field("Number", "4111111111111111", true);
        card.set_field("Cardholder", "Jo Bloggs", false);
        card.set_field("Brand", "Visa", false);
        card.set_field("Expiry", "03/2029", false);
        card.set_field("Security code", "737", true);
        card.set_field("PIN", "9876", true);
        card.folder = "Finance".into();
        card.created = at(1_500_000_000);
        card.updated = at(1_500_000_100);

        let mut odd_card = Item::new(ItemType::Card, "Odd card");
        odd_card.set_field("Expiry", "next spring", false);
        odd_card.set_field("Number", "visible number", false);
        odd_card.set_field("Cardholder", "   ", false);

        let mut identity = Item::new(ItemType::Identity, "Ada");
        identity.username = "ada".into();
        identity.set_field("Full name", "Ada King Lovelace", false);
        identity.set_field("Email", "ada@example.com", false);
        identity.set_field("Phone", "+44 20 0000", false);
        identity.set_field("Address", "12 St James's Square\nLondon\nSW1Y 4JH\nUK", false);
        identity.set_field("Birthday", "1815-12-10", false);
        identity.set_field("Passport number", "P-1815", true);
        identity.set_field("National ID", "N-1815", true);
        identity.set_field("Company", "Analytical Engines", false);
        identity.tags = vec!["family".into()];

        let mut note = Item::new(ItemType::Note, "Door codes");
        note.notes = "front 4321".into();
        note.username = "janitor".into();
        note.password = "note-pw".into();
        note.urls = vec!["https://door.example".into()];
        note.otp = Some(crate::otp_uri("JBSWY3DPEHPK3PXQ", "Door").unwrap().to_string());

        let trashed = Item::new(ItemType::Login, "Old");
        let ids = vault.add(vec![login, card, odd_card, identity, note, trashed]).unwrap();
        vault.trash(ids[5]).unwrap();
        for password in ["pw-2", "pw-3"] {
            vault
                .update(ids[0], |item| {
                    item.password = password.into();
                    Ok(())
                })
                .unwrap();
        }
        vault
            .update(ids[0], |item| {
                item.notes = "two\nlines, edited".into();
                Ok(())
            })
            .unwrap();
        (vault, ids[..5].to_vec())
    }

    fn sorted_fields(item: &Item) -> Vec<(String, String, bool)> {
        let mut fields: Vec<_> = item.fields.iter().map(|f| (f.name.clone(), f.value.clone(), f.protected)).collect();
        fields.sort();
        fields
    }

    #[test]
    fn bitwarden_export_round_trips_through_parse_json() {
        let dir = tempfile::tempdir().unwrap();
        let (vault, ids) = filled_vault(dir.path());
        let bytes = export_json(&vault).unwrap();
        let imported = parse_json(&bytes).unwrap();
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        assert_eq!(imported.items.len(), ids.len(), "live items only");

        for id in &ids {
            let original = vault.get(*id).unwrap();
            let new = imported.items.iter().find(|n| n.current.item.id == *id).expect("the id is kept");
            let back = &new.current.item;
            let what = &original.title;
            assert_eq!(back.item_type, original.item_type, "{what}");
            assert_eq!(back.title, original.title);
            assert_eq!(back.username, original.username, "{what}");
            assert_eq!(back.password, original.password, "{what}");
            assert_eq!(back.urls, original.urls, "{what}");
            assert_eq!(back.notes, original.notes, "{what}");
            let otp = |item: &Item| item.otp.as_deref().map(|uri| Otp::parse_uri(uri).unwrap());
            assert_eq!(otp(back), otp(&original), "{what}");
            assert_eq!(sorted_fields(back), sorted_fields(&original), "{what}");
            assert_eq!(back.folder, original.folder, "{what}");
            assert_eq!(back.favourite, original.favourite, "{what}");
            assert_eq!(back.tags, original.tags, "{what}");
            assert_eq!(back.created, original.created, "{what}");
            assert_eq!(back.updated, original.updated, "{what}");
            if original.item_type == ItemType::Login {
                assert_eq!(back.password_changed, original.password_changed, "{what}");
            }
        }

        let mail = imported.items.iter().find(|n| n.current.item.id == ids[0]).unwrap();
        let passwords: Vec<&str> = mail.history.iter().map(|v| v.item.password.as_str()).collect();
        assert_eq!(passwords, ["pw-1", "pw-2"], "older passwords, oldest first, once each");
        let stored = vault.history(ids[0]).unwrap();
        assert_eq!(mail.history[0].item.updated, stored.last().unwrap().updated);

        // And what was read back is something a vault accepts.
        let mut other = new_vault(dir.path(), "other.tessera");
        let added = other.import(imported.items, "bitwarden-json", |_| {}).unwrap();
        assert_eq!(added.len(), ids.len());
        assert_eq!(other.history(ids[0]).unwrap().len(), 2);
    }

    #[test]
    fn bitwarden_export_is_pretty_unencrypted_json_with_folders_and_live_items_only() {
        let dir = tempfile::tempdir().unwrap();
        let (vault, _) = filled_vault(dir.path());
        let bytes = export_json(&vault).unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with("{\n  \"encrypted\": false,"), "{}", &text[..40]);
        assert_eq!(bytes.capacity(), bytes.len(), "sized up front");
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        let folders: BTreeSet<&str> =
            doc["folders"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(folders, BTreeSet::from(["Finance", "Work/Mail"]));
        for folder in doc["folders"].as_array().unwrap() {
            assert_eq!(folder["id"].as_str().unwrap().len(), 36);
        }
        let items = doc["items"].as_array().unwrap();
        assert!(items.iter().all(|i| i["name"] != "Old"), "trashed items stay out");
        let card = items.iter().find(|i| i["name"] == "Visa").unwrap();
        assert_eq!(card["type"], 3);
        assert_eq!(card["card"]["number"], "4111111111111111");
        assert_eq!((&card["card"]["expMonth"], &card["card"]["expYear"]), (&Value::from("3"), &Value::from("2029")));
        assert_eq!(card["fields"].as_array().unwrap().len(), 1, "only the PIN stays a custom field");
        let ada = items.iter().find(|i| i["name"] == "Ada").unwrap();
        assert_eq!(
            (&ada["identity"]["firstName"], &ada["identity"]["lastName"]),
            (&Value::from("Ada King"), &Value::from("Lovelace"))
        );
        assert_eq!(ada["identity"]["address3"], "SW1Y 4JH\nUK");
        let mail = items.iter().find(|i| i["name"] == "Mail").unwrap();
        assert_eq!(mail["login"]["uris"][0]["uri"], "https://mail.example.com");
        assert_eq!(mail["passwordHistory"].as_array().unwrap().len(), 2);
        assert!(mail["revisionDate"].as_str().unwrap().ends_with(".000Z"));
    }

    // --- fuzz -----------------------------------------------------------------

    const KEYS: &[&str] = &[
        "encrypted",
        "folders",
        "items",
        "id",
        "name",
        "folderId",
        "type",
        "notes",
        "favorite",
        "fields",
        "value",
        "login",
        "username",
        "password",
        "totp",
        "uris",
        "uri",
        "match",
        "card",
        "cardholderName",
        "number",
        "expMonth",
        "expYear",
        "code",
        "identity",
        "firstName",
        "address1",
        "ssn",
        "secureNote",
        "creationDate",
        "revisionDate",
        "passwordHistory",
        "lastUsedDate",
        "collectionIds",
        "sshKey",
        "privateKey",
        "linkedId",
        "fido2Credentials",
        "passwordRevisionDate",
    ];

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (0i64..6).prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "\\PC{0,16}".prop_map(Value::String),
            proptest::sample::select(vec![
                "JBSWY3DPEHPK3PXP",
                "otpauth://totp/a?secret=!!",
                "2023-01-01T00:00:00.000Z",
                "13",
                "tessera:tags",
                "tessera:url",
                "0c9a9b1e-6f5e-4a53-9d3a-b0d0014b0a01",
            ])
            .prop_map(Value::from),
        ]
    }

    fn json() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(5, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..8)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    fn item() -> impl Strategy<Value = Value> {
        proptest::collection::vec((proptest::sample::select(KEYS), json()), 0..12)
            .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases()))]

        #[test]
        fn fuzz_bitwarden_parse_json_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_json(&bytes);
        }

        #[test]
        fn fuzz_bitwarden_parse_json_mangled_values(
            items in proptest::collection::vec(item(), 0..5),
            folders in json(),
            encrypted in leaf(),
            cut in any::<prop::sample::Index>(),
        ) {
            let doc = serde_json::json!({ "encrypted": encrypted, "folders": folders, "items": items });
            let bytes = serde_json::to_vec(&doc).unwrap();
            if let Ok(imported) = parse_json(&bytes) {
                for new in &imported.items {
                    let mut item = new.current.item.clone();
                    prop_assert!(item.normalize().is_ok());
                }
            }
            // The same document cut short anywhere.
            let _ = parse_json(&bytes[..cut.index(bytes.len() + 1)]);
            let _ = parse_json(&SAMPLE.as_bytes()[..cut.index(SAMPLE.len() + 1)]);
        }
    }
}
