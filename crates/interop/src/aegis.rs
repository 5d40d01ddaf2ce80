//! Aegis Authenticator's plain (unencrypted) JSON export.
//!
//! The layout, from Aegis's `docs/vault.md`:
//!
//! ```json
//! {"version": 1,
//!  "header": {"slots": null, "params": null},
//!  "db": {"version": 3,
//!         "entries": [{"type": "totp", "uuid": "…", "name": "…", "issuer": "…",
//!                      "note": "…", "favorite": false, "icon": null,
//!                      "info": {"secret": "BASE32", "algo": "SHA1", "digits": 6, "period": 30},
//!                      "groups": ["group uuid"]}],
//!         "groups": [{"uuid": "…", "name": "Work"}]}}
//! ```
//!
//! An encrypted export has key slots in `header.slots` and the vault as a
//! base64 string in `db`; it needs the user's password and scrypt, so it is
//! refused with advice to export without encryption. Database versions 1
//! and 2 name one group per entry in `"group"` instead of listing uuids.
//!
//! Each entry becomes a Login item. TOTP, HOTP and Steam entries carry the
//! canonical `otpauth://` URI; mOTP and Yandex entries, MD5 and bad secrets
//! are reported as [`crate::Skipped`] entries whose reason never repeats a
//! value from the entry.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use tessera_core::Item;
use tessera_core::totp::{Algorithm, Encoder, Otp, OtpError, OtpKind, OtpSecret};
use zeroize::Zeroizing;

use crate::otpauth::{MAX_ITEMS, MAX_SECRET_LEN, Sink, login_item};
use crate::{Format, ImportError, Imported, MAX_DEPTH};

/// Most entries read from one export; the rest are counted, not kept.
const MAX_ENTRIES: usize = MAX_ITEMS;
/// Longest issuer or name quoted in a skipped entry's position.
const MAX_LABEL_CHARS: usize = 64;
/// Why an entry (or its info) that is an array, string or number is skipped.
const NOT_AN_OBJECT: &str = "the entry is not in Aegis's format: expected a JSON object";

/// What an encrypted export is refused with.
const ENCRYPTED_ADVICE: &str = "this Aegis export is encrypted: in Aegis, open Settings → Import & Export → Export, \
     choose the JSON format and turn off \"Encrypt the vault\", import that file, then delete it \
     (it holds your secrets in the clear)";

/// Reads an Aegis plain JSON export.
///
/// An encrypted export is refused with [`ImportError::Unsupported`]; JSON
/// of another shape is [`ImportError::Malformed`]. An entry that cannot be
/// imported is skipped as `entry N (issuer)` with the reason.
pub fn parse(bytes: &[u8]) -> Result<Imported, ImportError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    // serde_json stops at 128 levels by itself; an Aegis export is five
    // deep, so anything past MAX_DEPTH is refused before parsing.
    if !nesting_within(bytes, MAX_DEPTH) {
        return Err(ImportError::malformed(
            Format::Aegis,
            format!("the JSON is nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    // serde would also read the Export struct from a JSON array.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let reason = if bytes.iter().all(u8::is_ascii_whitespace) {
            "the file is empty"
        } else {
            "not an Aegis export: expected a JSON object"
        };
        return Err(ImportError::malformed(Format::Aegis, reason));
    }
    let export: Export =
        serde_json::from_slice(bytes).map_err(|e| ImportError::malformed(Format::Aegis, json_reason(&e)))?;
    let encrypted = export.header.as_ref().is_some_and(|h| h.slots.is_some());
    let db = match export.db {
        DbField::Plain(db) if !encrypted => db,
        _ => return Err(ImportError::Unsupported(ENCRYPTED_ADVICE.to_owned())),
    };
    if db.entries.total > MAX_ENTRIES {
        return Err(ImportError::TooLarge {
            format: Format::Aegis,
            reason: format!("{} entries; at most {MAX_ENTRIES} are read", db.entries.total),
        });
    }
    let groups = group_names(db.groups);

    let mut sink = Sink::new(Format::Aegis);
    for (index, raw) in db.entries.list.into_iter().enumerate() {
        let at = match &raw.label {
            Some(label) => format!("entry {} ({label})", index + 1),
            None => format!("entry {}", index + 1),
        };
        match raw.entry.and_then(|entry| entry.into_item(&groups)) {
            Ok(item) => sink.add(item, || at)?,
            Err(reason) => sink.skip(at, reason)?,
        }
    }
    Ok(sink.finish())
}

/// Whether no JSON array or object in `bytes` is nested deeper than `max`.
/// Brackets inside strings do not count.
fn nesting_within(bytes: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Why the file is not an export, with a position but no value: serde's
/// type errors quote the offending value, which may be a secret.
fn json_reason(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Syntax | Category::Eof => format!("not valid JSON ({at})"),
        Category::Io => "the file could not be read".to_owned(),
        Category::Data => match missing_field(e) {
            Some(field) => format!("not an Aegis export: no \"{field}\" key ({at})"),
            None => format!("not an Aegis export: a value has the wrong type ({at})"),
        },
    }
}

/// Why one entry could not be read, with no value from it.
fn entry_reason(e: &serde_json::Error) -> String {
    match missing_field(e) {
        Some(field) => format!("the entry has no \"{field}\" key"),
        None => "the entry is not in Aegis's format: a value has the wrong type".to_owned(),
    }
}

/// The key named by serde's "missing field `x`" error. Those names come
/// from the structs below, never from the file.
fn missing_field(e: &serde_json::Error) -> Option<String> {
    let text = e.to_string();
    let rest = text.strip_prefix("missing field `")?;
    rest.split_once('`').map(|(field, _)| field.to_owned())
}

/// The whole file. Unknown keys are ignored, as Aegis adds keys over time.
#[derive(Deserialize)]
struct Export {
    #[serde(default)]
    header: Option<Header>,
    db: DbField,
}

#[derive(Deserialize)]
struct Header {
    /// `null` in a plain export; the password and biometric key slots in an
    /// encrypted one.
    #[serde(default)]
    slots: Option<IgnoredAny>,
}

/// `db`: the vault object, or (encrypted) a base64 string of it.
enum DbField {
    Encrypted,
    Plain(Db),
}

impl<'de> Deserialize<'de> for DbField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DbVisitor;
        impl<'de> Visitor<'de> for DbVisitor {
            type Value = DbField;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the vault object, or a string for an encrypted vault")
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<DbField, E> {
                Ok(DbField::Encrypted)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DbField, A::Error> {
                Db::deserialize(de::value::MapAccessDeserializer::new(map)).map(DbField::Plain)
            }
        }
        d.deserialize_any(DbVisitor)
    }
}

#[derive(Deserialize)]
struct Db {
    entries: Entries,
    /// Database version 3: the groups entries refer to by uuid, as
    /// `[{"uuid": "…", "name": "…"}]`. Kept as JSON: a group only names a
    /// folder, so an odd one is ignored rather than failing the file.
    #[serde(default)]
    groups: Option<serde_json::Value>,
}

/// Group uuid → name, from a version 3 `db.groups`.
fn group_names(groups: Option<serde_json::Value>) -> HashMap<String, String> {
    let Some(serde_json::Value::Array(groups)) = groups else {
        return HashMap::new();
    };
    groups
        .iter()
        .filter_map(|g| {
            let text = |key: &str| g.get(key).and_then(serde_json::Value::as_str).map(str::to_owned);
            Some((text("uuid")?, text("name")?))
        })
        .collect()
}

/// The entries, each read on its own so that one odd entry is skipped
/// rather than failing the file, and counted past [`MAX_ENTRIES`] without
/// being kept.
struct Entries {
    list: Vec<RawEntry>,
    total: usize,
}

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of entries")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entries, A::Error> {
                let mut entries = Entries { list: Vec::new(), total: 0 };
                loop {
                    if entries.list.len() < MAX_ENTRIES {
                        match seq.next_element::<serde_json::Value>()? {
                            Some(value) => entries.list.push(RawEntry::new(value)),
                            None => break,
                        }
                    } else if seq.next_element::<IgnoredAny>()?.is_none() {
                        break;
                    }
                    entries.total += 1;
                }
                Ok(entries)
            }
        }
        d.deserialize_seq(EntriesVisitor)
    }
}

/// One entry: what to call it in a skipped line, and it, or why it is not
/// an entry.
struct RawEntry {
    label: Option<String>,
    entry: Result<Entry, String>,
}

impl RawEntry {
    fn new(value: serde_json::Value) -> Self {
        let text = |key: &str| value.get(key).and_then(serde_json::Value::as_str).and_then(label_text);
        let label = text("issuer").or_else(|| text("name"));
        // serde would read a struct from an array too; an entry is an object.
        // from_value moves the strings (the secret among them) into Entry.
        let entry = match value {
            serde_json::Value::Object(_) => serde_json::from_value(value).map_err(|e| entry_reason(&e)),
            _ => Err(NOT_AN_OBJECT.to_owned()),
        };
        RawEntry { label, entry }
    }
}

/// An issuer or name fit to quote: no control characters, not too long.
fn label_text(s: &str) -> Option<String> {
    let clean: String = s.chars().filter(|c| !c.is_control()).take(MAX_LABEL_CHARS).collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_owned())
}

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    favorite: Option<bool>,
    /// Read only for the types Tessera supports: mOTP and Yandex entries
    /// carry a PIN and are skipped for their type, whatever their info.
    #[serde(default)]
    info: Option<serde_json::Value>,
    /// Database version 3: uuids of the entry's groups.
    #[serde(default)]
    groups: Option<Vec<String>>,
    /// Database versions 1 and 2: the name of the entry's one group.
    #[serde(default)]
    group: Option<String>,
}

/// An entry's `info` for TOTP, HOTP and Steam.
#[derive(Deserialize)]
struct Info {
    secret: Secret,
    #[serde(default)]
    algo: Option<String>,
    #[serde(default)]
    digits: Option<u64>,
    #[serde(default)]
    period: Option<u64>,
    #[serde(default)]
    counter: Option<u64>,
}

/// The base32 secret, wiped when dropped.
struct Secret(Zeroizing<String>);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Secret(Zeroizing::new(s)))
    }
}

impl Entry {
    /// The Login item (not yet normalized) for this entry.
    fn into_item(mut self, groups: &HashMap<String, String>) -> Result<Item, String> {
        let otp = self.otp()?;
        let mut item = login_item(&otp);
        item.notes = self.note.take().unwrap_or_default();
        item.favourite = self.favorite.unwrap_or(false);
        // Tessera items live in one folder: the entry's first group.
        let v3_group = self.groups.iter().flatten().find_map(|uuid| groups.get(uuid));
        item.folder = v3_group.or(self.group.as_ref()).cloned().unwrap_or_default();
        Ok(item)
    }

    /// The generator this entry describes, or why it cannot be one.
    fn otp(&mut self) -> Result<Otp, String> {
        let kind = match self.kind.as_str() {
            "totp" | "hotp" | "steam" => self.kind.as_str(),
            "motp" => return Err(unsupported_type("mOTP")),
            "yandex" => return Err(unsupported_type("Yandex")),
            _ => return Err("unknown Aegis entry type".to_owned()),
        };
        let info = self.info.take().filter(|v| !v.is_null()).ok_or("the entry has no \"info\" key")?;
        if !info.is_object() {
            return Err(NOT_AN_OBJECT.to_owned());
        }
        let info: Info = serde_json::from_value(info).map_err(|e| entry_reason(&e))?;
        let algorithm = match info.algo.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("SHA1") => Algorithm::Sha1,
            Some("SHA256") => Algorithm::Sha256,
            Some("SHA512") => Algorithm::Sha512,
            Some("MD5") => return Err("MD5 one-time passwords are not supported: use SHA1, SHA256 or SHA512".into()),
            Some(_) => return Err(OtpError::UnsupportedAlgorithm.to_string()),
        };
        let secret = OtpSecret::from_base32(&info.secret.0).map_err(|e| e.to_string())?;
        if secret.as_bytes().len() > MAX_SECRET_LEN {
            return Err(format!("the secret is longer than {MAX_SECRET_LEN} bytes"));
        }
        let period = || match info.period.unwrap_or(30) {
            p @ 1..=86_400 => Ok(OtpKind::Totp { period: p as u32 }),
            p => Err(OtpError::InvalidPeriod(p).to_string()),
        };
        let digits = || match info.digits.unwrap_or(6) {
            d @ 6..=8 => Ok(d as u8),
            d => Err(OtpError::InvalidDigits(d).to_string()),
        };
        let mut otp = Otp::new_totp(secret);
        otp.algorithm = algorithm;
        match kind {
            "hotp" => {
                otp.kind = OtpKind::Hotp { counter: info.counter.ok_or_else(|| OtpError::InvalidCounter.to_string())? };
                otp.digits = digits()?;
            }
            "steam" => {
                // Steam Guard codes are always five characters.
                otp.kind = period()?;
                otp.encoder = Encoder::Steam;
                otp.digits = 5;
            }
            _ => {
                otp.kind = period()?;
                otp.digits = digits()?;
            }
        }
        let non_empty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        otp.issuer = non_empty(&self.issuer);
        otp.account = non_empty(&self.name);
        Ok(otp)
    }
}

fn unsupported_type(name: &str) -> String {
    format!("{name} entries are not supported: Tessera generates TOTP, HOTP and Steam codes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};
    use tessera_core::NewItem;

    /// The RFC 6238 Appendix B SHA-1 seed "12345678901234567890" in base32.
    const RFC_SECRET_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    const STEAM_SECRET: &str = "OFBAFRM4KTKEWYQSCMLTLFNCHYBZSXS7";

    fn entry(kind: &str, issuer: &str, name: &str, info: Value) -> Value {
        json!({"type": kind, "uuid": "5a1c0b7e-0000-4000-8000-000000000000", "name": name, "issuer": issuer,
               "note": "", "favorite": false, "icon": null, "info": info, "groups": []})
    }

    fn totp_info(secret: &str) -> Value {
        json!({"secret": secret, "algo": "SHA1", "digits": 6, "period": 30})
    }

    fn export(entries: Vec<Value>, groups: Value) -> Vec<u8> {
        let doc = json!({"version": 1, "header": {"slots": null, "params": null},
                         "db": {"version": 3, "entries": entries, "groups": groups}});
        serde_json::to_vec_pretty(&doc).unwrap()
    }

    fn otp_of(new: &NewItem) -> Otp {
        Otp::parse_uri(new.current.item.otp.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn aegis_plain_export_becomes_logins_with_notes_favourites_and_folders() {
        let mut mail = entry("totp", "Mail", "alice@example.com", totp_info("JBSWY3DPEHPK3PXP"));
        mail["note"] = json!("recovery codes are in the safe");
        mail["favorite"] = json!(true);
        mail["groups"] = json!(["g-missing", "g-work", "g-home"]);
        let mut bank = entry(
            "totp",
            "",
            "bob",
            json!({"secret": "jbsw y3dp ehpk 3pxp", "algo": "SHA512", "digits": 8, "period": 60}),
        );
        bank["icon"] = json!("PHN2Zz48L3N2Zz4=");
        bank["future_key"] = json!({"nested": [1, 2, 3]});
        let groups = json!([{"uuid": "g-work", "name": "Work"}, {"uuid": "g-home", "name": "Home"}]);
        let mut bytes = b"\xef\xbb\xbf".to_vec();
        bytes.extend(export(vec![mail, bank], groups));
        let imported = parse(&bytes).unwrap();
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        assert_eq!(imported.items.len(), 2);

        let mail = &imported.items[0].current.item;
        assert_eq!((mail.title.as_str(), mail.username.as_str()), ("Mail", "alice@example.com"));
        assert_eq!(mail.notes, "recovery codes are in the safe");
        assert!(mail.favourite);
        assert_eq!(mail.folder, "Work", "the first group that exists");
        assert_eq!(
            mail.otp.as_deref(),
            Some("otpauth://totp/Mail:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Mail")
        );

        let bank = &imported.items[1].current.item;
        assert_eq!((bank.title.as_str(), bank.username.as_str(), bank.folder.as_str()), ("bob", "bob", ""));
        assert!(!bank.favourite);
        let otp = otp_of(&imported.items[1]);
        assert_eq!((otp.algorithm, otp.digits, otp.kind), (Algorithm::Sha512, 8, OtpKind::Totp { period: 60 }));
    }

    #[test]
    fn aegis_older_db_versions_name_their_group() {
        let mut e = entry("totp", "Git", "me", totp_info("JBSWY3DPEHPK3PXP"));
        let object = e.as_object_mut().unwrap();
        object.remove("groups");
        object.remove("note");
        object.remove("favorite");
        object.insert("group".into(), json!("Dev/Tools"));
        let doc = json!({"version": 1, "header": {"slots": null, "params": null},
                         "db": {"version": 1, "entries": [e]}});
        let imported = parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
        assert_eq!(imported.items.len(), 1, "{:?}", imported.skipped);
        let item = &imported.items[0].current.item;
        assert_eq!((item.folder.as_str(), item.notes.as_str(), item.favourite), ("Dev/Tools", "", false));
    }

    #[test]
    fn aegis_totp_code_matches_the_rfc6238_vector() {
        // RFC 6238 Appendix B: SHA-1, 8 digits, T = 59 s gives 94287082.
        let info = json!({"secret": RFC_SECRET_B32, "algo": "SHA1", "digits": 8, "period": 30});
        let imported = parse(&export(vec![entry("totp", "RFC", "6238", info)], json!([]))).unwrap();
        assert_eq!(imported.items.len(), 1, "{:?}", imported.skipped);
        assert_eq!(otp_of(&imported.items[0]).code_at(59).unwrap().code.as_str(), "94287082");
    }

    #[test]
    fn aegis_hotp_entry_keeps_its_counter() {
        let info = json!({"secret": RFC_SECRET_B32, "algo": "SHA1", "digits": 6, "counter": 7});
        let imported = parse(&export(vec![entry("hotp", "Bank", "acct", info)], json!([]))).unwrap();
        assert_eq!(imported.items.len(), 1, "{:?}", imported.skipped);
        let otp = otp_of(&imported.items[0]);
        assert_eq!(otp.kind, OtpKind::Hotp { counter: 7 });
        // RFC 4226 Appendix D: counter 7 gives 162583.
        assert_eq!(otp.code_at(0).unwrap().code.as_str(), "162583");
    }

    #[test]
    fn aegis_steam_entry_gives_five_character_codes() {
        let info = json!({"secret": STEAM_SECRET, "algo": "SHA1", "digits": 5, "period": 30});
        let imported = parse(&export(vec![entry("steam", "Steam", "gamer", info)], json!([]))).unwrap();
        assert_eq!(imported.items.len(), 1, "{:?}", imported.skipped);
        let otp = otp_of(&imported.items[0]);
        assert_eq!((otp.encoder, otp.digits), (Encoder::Steam, 5));
        let code = otp.code_at(59).unwrap();
        assert_eq!(code.code.chars().count(), 5);
        // Same value as tessera-core's own Steam Guard test.
        assert_eq!(code.code.as_str(), "VF7VP");
        assert_eq!(imported.items[0].current.item.title, "Steam");
    }

    #[test]
    fn aegis_encrypted_export_is_refused_with_advice() {
        let encrypted = json!({"version": 1,
            "header": {"slots": [{"type": 1, "uuid": "x", "key": "00", "key_params": {"nonce": "00", "tag": "00"},
                                  "n": 32768, "r": 8, "p": 1, "salt": "00"}],
                       "params": {"nonce": "00", "tag": "00"}},
            "db": "c2VjcmV0IHZhdWx0IGNvbnRlbnQ="});
        let string_db = json!({"version": 1, "header": {"slots": null, "params": null}, "db": "c2VjcmV0"});
        let slots_only =
            json!({"version": 1, "header": {"slots": [], "params": {}}, "db": {"version": 3, "entries": []}});
        for doc in [encrypted, string_db, slots_only] {
            match parse(&serde_json::to_vec(&doc).unwrap()) {
                Err(ImportError::Unsupported(advice)) => {
                    assert!(advice.contains("encrypted") && advice.contains("Encrypt the vault"), "{advice}");
                }
                other => panic!("expected Unsupported, got {other:?}"),
            }
        }
    }

    #[test]
    fn aegis_unsupported_and_bad_entries_are_skipped_without_the_secret() {
        let secret = "JBSWY3DPEHPK3PXP";
        let info = |extra: Value| {
            let mut info = totp_info(secret);
            for (k, v) in extra.as_object().unwrap() {
                info[k] = v.clone();
            }
            info
        };
        let entries = vec![
            entry("totp", "Good", "ok", totp_info(secret)),
            entry("motp", "Mobile", "m", json!({"secret": "0123456789abcdef", "pin": "1234"})),
            entry("yandex", "Yandex", "y", json!({"secret": secret, "pin": "1234", "digits": 8})),
            entry("totp", "Old", "md5", info(json!({"algo": "MD5"}))),
            entry("totp", "Broken", "b32", json!({"secret": "JBSWY3DPEHPK3PX!", "algo": "SHA1"})),
            entry("totp", "Ten", "d", info(json!({"digits": 10}))),
            entry("totp", "Zero", "p", info(json!({"period": 0}))),
            entry("totp", "Typed", "t", info(json!({"digits": "JBSWY3DPEHPK3PXP"}))),
            entry("hotp", "NoCounter", "c", info(json!({}))),
            entry("totp", "", "", json!(null)),
            json!({"name": "no type", "info": totp_info(secret)}),
            json!(["JBSWY3DPEHPK3PXP"]),
            entry("webauthn", "Future\n\u{7}", "f", totp_info(secret)),
        ];
        let imported = parse(&export(entries, json!([]))).unwrap();
        assert_eq!(imported.items.len(), 1);
        assert_eq!(imported.items[0].current.item.title, "Good");
        let skipped: Vec<(&str, &str)> =
            imported.skipped.iter().map(|s| (s.line_or_entry.as_str(), s.reason.as_str())).collect();
        assert_eq!(
            skipped,
            [
                ("entry 2 (Mobile)", "mOTP entries are not supported: Tessera generates TOTP, HOTP and Steam codes"),
                ("entry 3 (Yandex)", "Yandex entries are not supported: Tessera generates TOTP, HOTP and Steam codes"),
                ("entry 4 (Old)", "MD5 one-time passwords are not supported: use SHA1, SHA256 or SHA512"),
                ("entry 5 (Broken)", "the secret is not valid base32"),
                ("entry 6 (Ten)", "10 digits is not supported: use 6, 7 or 8"),
                ("entry 7 (Zero)", "a period of 0 seconds is not supported: use 1 to 86400"),
                ("entry 8 (Typed)", "the entry is not in Aegis's format: a value has the wrong type"),
                ("entry 9 (NoCounter)", "an HOTP URI needs a counter parameter (a whole number)"),
                ("entry 10", "the entry has no \"info\" key"),
                ("entry 11 (no type)", "the entry has no \"type\" key"),
                ("entry 12", "the entry is not in Aegis's format: expected a JSON object"),
                ("entry 13 (Future)", "unknown Aegis entry type"),
            ]
        );
        for s in &imported.skipped {
            assert!(!format!("{s:?}").contains("JBSWY3DPEHPK3PX"), "{s:?}");
        }
    }

    #[test]
    fn aegis_other_json_is_malformed() {
        let deep = format!("{{\"db\": {}{}}}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let in_string = format!("{{\"db\": {{\"entries\": [], \"x\": \"{}\"}}}}", "[".repeat(500));
        assert!(parse(in_string.as_bytes()).is_ok(), "brackets inside strings do not count");
        let cases: [(&[u8], &str); 10] = [
            (b"", "the file is empty"),
            (b"not json", "expected a JSON object"),
            (b"[]", "expected a JSON object"),
            (b"{\"items\": [], \"folders\": []}", "no \"db\" key"),
            (b"{\"db\": {\"version\": 3}}", "no \"entries\" key"),
            (b"{\"db\": {\"entries\": {\"secret\": \"JBSWY3DPEHPK3PXP\"}}}", "wrong type"),
            (b"{\"db\": null}", "wrong type"),
            (b"{\"db\": {\"entries\": []}", "not valid JSON"),
            (b"{\"db\": [null, {\"entries\": []}]}", "wrong type"),
            (deep.as_bytes(), "nested deeper"),
        ];
        for (bytes, expected) in cases {
            match parse(bytes) {
                Err(e @ ImportError::Malformed { format: Format::Aegis, .. }) => {
                    let text = e.to_string();
                    assert!(text.contains(expected), "{text}");
                    assert!(!text.contains("JBSWY3DPEHPK3PXP"), "{text}");
                }
                other => panic!("{}: expected Malformed, got {other:?}", String::from_utf8_lossy(bytes)),
            }
        }
    }

    /// Any JSON value, biased towards the keys and strings Aegis uses.
    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop_oneof![
                Just("totp"),
                Just("hotp"),
                Just("steam"),
                Just("motp"),
                Just("SHA1"),
                Just("MD5"),
                Just(RFC_SECRET_B32),
                Just("g1"),
            ]
            .prop_map(Value::from),
            ".{0,12}".prop_map(Value::from),
        ];
        let key = prop_oneof![
            prop_oneof![
                Just("type"),
                Just("name"),
                Just("issuer"),
                Just("note"),
                Just("favorite"),
                Just("info"),
                Just("secret"),
                Just("algo"),
                Just("digits"),
                Just("period"),
                Just("counter"),
                Just("groups"),
                Just("group"),
                Just("uuid"),
            ]
            .prop_map(str::to_owned),
            "[a-z]{1,6}",
        ];
        leaf.prop_recursive(4, 48, 8, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(key.clone(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases()))]

        #[test]
        fn fuzz_aegis_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            if let Ok(imported) = parse(&bytes) {
                prop_assert!(imported.items.iter().all(|n| n.current.item.otp().is_ok()));
            }
        }

        #[test]
        fn fuzz_aegis_mangled_export(
            edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
        ) {
            let mut hotp = entry("hotp", "H", "h", json!({"secret": RFC_SECRET_B32, "algo": "SHA256", "digits": 8,
                                                            "counter": 3}));
            hotp["groups"] = json!(["g1"]);
            let steam = entry("steam", "Steam", "s", json!({"secret": STEAM_SECRET, "digits": 5, "period": 30}));
            let mut bytes = export(vec![entry("totp", "T", "t", totp_info(RFC_SECRET_B32)), hotp, steam],
                                   json!([{"uuid": "g1", "name": "Group"}]));
            for (at, byte, op) in edits {
                let i = at.index(bytes.len() + 1);
                match op {
                    0 if i < bytes.len() => bytes[i] = byte,
                    1 if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ => bytes.insert(i, byte),
                }
            }
            if let Ok(imported) = parse(&bytes) {
                prop_assert!(imported.items.iter().all(|n| n.current.item.otp().is_ok()));
            }
        }

        #[test]
        fn fuzz_aegis_arbitrary_entries(
            entries in proptest::collection::vec(arb_json(), 0..6),
            info in arb_json(),
            groups in arb_json(),
        ) {
            let mut entries = entries;
            entries.push(entry("totp", "I", "i", info));
            let count = entries.len();
            // Well-formed around the entries: every entry is accounted for,
            // whatever it and the groups hold.
            let imported = parse(&export(entries, groups)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(imported.items.len() + imported.skipped.len(), count);
        }
    }
}
