//! `otpauth://` URIs, one a line, and Google Authenticator's
//! `otpauth-migration://offline?data=…` batches.
//!
//! A plain line is a Key Uri Format URI (`otpauth://totp/…`,
//! `otpauth://hotp/…`) or KeePassXC's `steam://SECRET`, read by
//! [`Otp::parse_uri`]. A migration line carries, in its `data` parameter,
//! URL-encoded base64 of a protobuf `MigrationPayload` (the message Google
//! Authenticator puts into its "Transfer accounts" QR codes); it is decoded
//! here by a small, bounded wire-format reader, since the crate has no
//! protobuf dependency and needs only two fixed, non-recursive messages.
//!
//! Every account becomes a Login item whose `otp` is the canonical
//! [`Otp::to_uri`]. A line or entry that cannot be read is reported as a
//! [`Skipped`] with its line (and entry) number and a reason that never
//! repeats the line: it holds the secret.

use std::fmt;

use percent_encoding::percent_decode_str;
use tessera_core::totp::{Algorithm, Otp, OtpError, OtpKind, OtpSecret};
use tessera_core::{Item, ItemType, NewItem};
use zeroize::Zeroizing;

use crate::{Format, ImportError, Imported, Skipped};

/// Largest otpauth text file read. Even thousands of accounts take well
/// under a megabyte; anything this large is not such a file.
const MAX_FILE_SIZE: usize = 64 << 20;
/// Most one-time passwords one import brings in.
pub(crate) const MAX_ITEMS: usize = 100_000;
/// Most lines or entries reported as skipped before the file is judged not
/// to be an otpauth file at all (rather than listing a million lines).
pub(crate) const MAX_SKIPPED: usize = 10_000;
/// Largest decoded migration payload. A QR code holds under 3 KB, so one
/// `data` parameter is never near this.
const MAX_PAYLOAD: usize = 1 << 20;
/// Longest shared secret accepted. Real ones are 10–64 bytes; HMAC hashes
/// longer keys anyway, so a huge one is only a way to bloat the vault.
pub(crate) const MAX_SECRET_LEN: usize = 1024;
/// Title of an item whose URI names neither issuer nor account.
const DEFAULT_TITLE: &str = "One-time password";
/// The scheme of Google Authenticator's export URIs.
const MIGRATION_SCHEME: &str = "otpauth-migration://";

/// Reads a text file of `otpauth://` and `otpauth-migration://` lines.
///
/// The file must be UTF-8 (a byte-order mark is tolerated); blank lines and
/// lines starting with `#` are ignored. A line that cannot be read is
/// skipped with its line number; it never fails the whole import.
pub fn parse(bytes: &[u8]) -> Result<Imported, ImportError> {
    if bytes.len() > MAX_FILE_SIZE {
        return Err(ImportError::TooLarge {
            format: Format::Otpauth,
            reason: format!("more than {MAX_FILE_SIZE} bytes of otpauth lines"),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ImportError::malformed(Format::Otpauth, format!("not UTF-8 text (invalid byte at offset {})", e.valid_up_to()))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sink = Sink::new(Format::Otpauth);
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if is_migration(line) {
            read_migration(line, number, &mut sink)?;
        } else {
            match Otp::parse_uri(line) {
                Ok(otp) => sink.add(login_item(&otp), || format!("line {number}"))?,
                // OtpError's messages name the problem, never the URI.
                Err(e) => sink.skip(format!("line {number}"), e.to_string())?,
            }
        }
    }
    Ok(sink.finish())
}

/// A Login item for `otp`, before [`Item::normalize`]: titled by the issuer,
/// else the account, else "One-time password"; the account is the username
/// and the canonical URI the item's `otp`.
pub(crate) fn login_item(otp: &Otp) -> Item {
    let non_empty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let title = non_empty(&otp.issuer).or_else(|| non_empty(&otp.account)).unwrap_or_else(|| DEFAULT_TITLE.to_owned());
    let mut item = Item::new(ItemType::Login, title);
    item.username = non_empty(&otp.account).unwrap_or_default();
    // The URI holds the secret: the Zeroizing copy is wiped when it drops,
    // the item's copy when the item does (Item is ZeroizeOnDrop).
    let uri = otp.to_uri();
    item.otp = Some(uri.as_str().to_owned());
    item
}

/// Collects items and skipped entries, refusing absurd amounts of either.
pub(crate) struct Sink {
    format: Format,
    out: Imported,
}

impl Sink {
    pub(crate) fn new(format: Format) -> Self {
        Sink { format, out: Imported::default() }
    }

    /// Normalizes `item` and keeps it, or records why it is invalid at
    /// `at()` (evaluated only then).
    pub(crate) fn add(&mut self, mut item: Item, at: impl FnOnce() -> String) -> Result<(), ImportError> {
        match item.normalize() {
            Ok(()) => {
                if self.out.items.len() >= MAX_ITEMS {
                    return Err(ImportError::TooLarge {
                        format: self.format,
                        reason: format!("more than {MAX_ITEMS} one-time passwords"),
                    });
                }
                self.out.items.push(NewItem::new(item));
                Ok(())
            }
            // InvalidItem's messages carry field names and limits, never
            // values; its OTP variant wraps an OtpError message.
            Err(e) => self.skip(at(), e.to_string()),
        }
    }

    /// Records that what is at `at` was left out, and why.
    pub(crate) fn skip(&mut self, at: String, reason: impl Into<String>) -> Result<(), ImportError> {
        if self.out.skipped.len() >= MAX_SKIPPED {
            return Err(ImportError::malformed(
                self.format,
                format!("more than {MAX_SKIPPED} lines or entries could not be read"),
            ));
        }
        self.out.skipped.push(Skipped { line_or_entry: at, reason: reason.into() });
        Ok(())
    }

    pub(crate) fn finish(self) -> Imported {
        self.out
    }
}

fn is_migration(line: &str) -> bool {
    line.get(..MIGRATION_SCHEME.len()).is_some_and(|p| p.eq_ignore_ascii_case(MIGRATION_SCHEME))
}

/// Whether `line` is in a scheme [`parse`] reads (`otpauth://`,
/// `otpauth-migration://`, `steam://`), valid or not: what tells a QR code
/// of a one-time password, however damaged, from one of a web address.
pub fn is_otp_line(line: &str) -> bool {
    let line = line.trim();
    is_migration(line) || !matches!(Otp::parse_uri(line), Err(OtpError::NotOtpauth))
}

/// Reads one `otpauth-migration://` line: a bad URI or payload skips the
/// line, a bad account inside it skips only that entry.
fn read_migration(line: &str, number: usize, sink: &mut Sink) -> Result<(), ImportError> {
    let payload = match migration_payload(line) {
        Ok(payload) => payload,
        Err(reason) => return sink.skip(format!("line {number}"), reason),
    };
    let entries = match decode_payload(&payload) {
        Ok(entries) => entries,
        Err(e) => return sink.skip(format!("line {number}"), format!("the migration data is not valid protobuf: {e}")),
    };
    if entries.is_empty() {
        return sink.skip(format!("line {number}"), "the migration data holds no accounts");
    }
    for (index, raw) in entries.into_iter().enumerate() {
        let at = || format!("line {number}, entry {}", index + 1);
        let otp = decode_params(raw)
            .map_err(|e| format!("the account is not valid protobuf: {e}"))
            .and_then(|params| params.into_otp());
        match otp {
            Ok(otp) => sink.add(login_item(&otp), at)?,
            Err(reason) => sink.skip(at(), reason)?,
        }
    }
    Ok(())
}

/// The decoded `data` parameter of a migration URI.
///
/// Google Authenticator writes `otpauth-migration://offline?data=` followed
/// by standard base64 (RFC 4648 §4) with `+`, `/` and `=` percent-encoded.
/// Copies passed through other tools may have lost the padding, the
/// percent-encoding, or had `+` turned into a space by form decoding, or
/// use the URL-safe alphabet; all of those are accepted.
fn migration_payload(line: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let rest = line.get(MIGRATION_SCHEME.len()..).unwrap_or("");
    let query = rest.split_once('?').map(|(_, q)| q).unwrap_or("");
    let query = query.split_once('#').map(|(q, _)| q).unwrap_or(query);
    let data = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.eq_ignore_ascii_case("data"))
        .map(|(_, value)| value)
        .ok_or_else(|| "the migration URI has no data parameter".to_owned())?;
    // Percent-encoding at most triples the base64, which is 4/3 of the payload.
    if data.len() > MAX_PAYLOAD * 4 {
        return Err(format!("the migration data is larger than {MAX_PAYLOAD} bytes"));
    }
    let decoded: Zeroizing<Vec<u8>> = Zeroizing::new(percent_decode_str(data).collect());
    let mut base64: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::with_capacity(decoded.len()));
    for &b in decoded.iter() {
        match b {
            b' ' | b'-' => base64.push(b'+'),
            b'_' => base64.push(b'/'),
            b'\t' | b'\r' | b'\n' => {}
            other => base64.push(other),
        }
    }
    while base64.last() == Some(&b'=') {
        base64.pop();
    }
    if base64.is_empty() {
        return Err("the migration URI's data parameter is empty".to_owned());
    }
    if base64.len() / 4 * 3 > MAX_PAYLOAD {
        return Err(format!("the migration data is larger than {MAX_PAYLOAD} bytes"));
    }
    data_encoding::BASE64_NOPAD
        .decode(&base64)
        .map(Zeroizing::new)
        .map_err(|_| "the migration URI's data parameter is not valid base64".to_owned())
}

/// One account of a migration payload (`OtpParameters`), as read off the
/// wire, before its enum values are checked.
struct Params {
    secret: Zeroizing<Vec<u8>>,
    name: String,
    issuer: String,
    algorithm: u64,
    digits: u64,
    kind: u64,
    counter: u64,
}

impl Params {
    /// The generator this account describes, or why it cannot be one. The
    /// enum numbers are those of Google Authenticator's `migration.proto`.
    fn into_otp(mut self) -> Result<Otp, String> {
        let algorithm = match self.algorithm {
            0 | 1 => Algorithm::Sha1,
            2 => Algorithm::Sha256,
            3 => Algorithm::Sha512,
            4 => return Err("MD5 one-time passwords are not supported: use SHA1, SHA256 or SHA512".to_owned()),
            n => return Err(format!("unknown algorithm number {n}")),
        };
        let digits = match self.digits {
            0 | 1 => 6,
            2 => 8,
            n => return Err(format!("unknown digit count number {n}")),
        };
        let kind = match self.kind {
            0 | 2 => OtpKind::Totp { period: 30 },
            // int64 on the wire: a negative counter arrives as a huge u64.
            1 if i64::try_from(self.counter).is_err() => return Err("the HOTP counter is negative".to_owned()),
            1 => OtpKind::Hotp { counter: self.counter },
            n => return Err(format!("unknown OTP type number {n}")),
        };
        if self.secret.len() > MAX_SECRET_LEN {
            return Err(format!("the secret is longer than {MAX_SECRET_LEN} bytes"));
        }
        // Move the bytes out (no copy); the emptied Zeroizing buffer drops.
        let secret = OtpSecret::from_bytes(std::mem::take(&mut *self.secret)).map_err(|e| e.to_string())?;
        let mut otp = Otp::new_totp(secret);
        otp.kind = kind;
        otp.algorithm = algorithm;
        otp.digits = digits;
        let (issuer, account) = split_name(&self.name, &self.issuer);
        otp.issuer = issuer;
        otp.account = account;
        Ok(otp)
    }
}

/// Splits `name` like an otpauth label: `Issuer:account` at the first
/// colon. The `issuer` field, when set, wins over the label's prefix.
fn split_name(name: &str, issuer: &str) -> (Option<String>, Option<String>) {
    let (label_issuer, account) = match name.split_once(':') {
        Some((i, a)) => (Some(i.trim()), a.trim()),
        None => (None, name.trim()),
    };
    let non_empty = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    let issuer = non_empty(issuer.trim()).or_else(|| label_issuer.and_then(non_empty));
    (issuer, non_empty(account))
}

/// The `otp_parameters` (field 1) of a `MigrationPayload`, undecoded, each
/// a slice of `payload`. The batch fields (2–5) are checked for their wire
/// type only: every line is read on its own, whatever batch it belongs to.
fn decode_payload(payload: &[u8]) -> Result<Vec<&[u8]>, WireError> {
    let mut reader = Reader::new(payload);
    let mut entries = Vec::new();
    while let Some((number, value)) = reader.next_field()? {
        match (number, value) {
            (1, Value::Bytes(raw)) => entries.push(raw),
            (2..=5, Value::Varint(_)) => {}
            (1..=5, _) => return Err(WireError::WrongType(number)),
            _ => {}
        }
    }
    Ok(entries)
}

/// Reads one `OtpParameters` message. Proto3 semantics: a missing field has
/// its zero value, a repeated one keeps its last value.
fn decode_params(raw: &[u8]) -> Result<Params, WireError> {
    let mut params = Params {
        secret: Zeroizing::new(Vec::new()),
        name: String::new(),
        issuer: String::new(),
        algorithm: 0,
        digits: 0,
        kind: 0,
        counter: 0,
    };
    let mut reader = Reader::new(raw);
    while let Some((number, value)) = reader.next_field()? {
        match (number, value) {
            (1, Value::Bytes(b)) => {
                params.secret = Zeroizing::new(b.to_vec());
            }
            // Names are for display: a stray invalid byte becomes U+FFFD
            // rather than losing the account.
            (2, Value::Bytes(b)) => params.name = String::from_utf8_lossy(b).into_owned(),
            (3, Value::Bytes(b)) => params.issuer = String::from_utf8_lossy(b).into_owned(),
            (4, Value::Varint(v)) => params.algorithm = v,
            (5, Value::Varint(v)) => params.digits = v,
            (6, Value::Varint(v)) => params.kind = v,
            (7, Value::Varint(v)) => params.counter = v,
            (1..=7, _) => return Err(WireError::WrongType(number)),
            _ => {}
        }
    }
    Ok(params)
}

/// What is wrong with protobuf bytes. Names positions and numbers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WireError {
    /// A field, length or value runs past the end of its message.
    Truncated,
    /// A varint longer than 10 bytes, or whose 10th byte overflows 64 bits.
    VarintTooLong,
    /// Wire types 3 and 4 (proto2 groups): neither migration message has any.
    Group,
    /// Wire types 6 and 7 do not exist.
    BadWireType(u8),
    /// Field number 0 or above 2^29 − 1.
    BadFieldNumber,
    /// A known field with the wrong wire type.
    WrongType(u32),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated => f.write_str("it is truncated"),
            WireError::VarintTooLong => f.write_str("a number is longer than 10 bytes"),
            WireError::Group => f.write_str("it uses groups, which this format never has"),
            WireError::BadWireType(t) => write!(f, "wire type {t} does not exist"),
            WireError::BadFieldNumber => f.write_str("a field number is out of range"),
            WireError::WrongType(n) => write!(f, "field {n} has the wrong wire type"),
        }
    }
}

/// A field's value as the wire gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64,
    /// Wire type 2: bytes, a string or an embedded message.
    Bytes(&'a [u8]),
    /// Wire type 5.
    Fixed32,
}

/// A protobuf wire-format reader over one message's bytes
/// (<https://protobuf.dev/programming-guides/encoding/>). It only moves
/// forward through a slice, checks every length against what is left, and
/// never recurses: embedded messages come back as slices to read with a
/// fresh reader, so nesting is as deep as the caller's fixed schema (two
/// levels here).
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// Base-128 varint, least significant group first: at most 10 bytes
    /// for 64 bits, the 10th carrying only bit 63.
    fn varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for i in 0..10 {
            let (&byte, rest) = self.rest.split_first().ok_or(WireError::Truncated)?;
            self.rest = rest;
            if i == 9 && byte > 1 {
                return Err(WireError::VarintTooLong);
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::VarintTooLong)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], WireError> {
        if len > self.rest.len() {
            return Err(WireError::Truncated);
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(head)
    }

    /// The next field's number and value, or `None` at the end of the
    /// message.
    fn next_field(&mut self) -> Result<Option<(u32, Value<'a>)>, WireError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).map_err(|_| WireError::BadFieldNumber)?;
        if number == 0 || number > (1 << 29) - 1 {
            return Err(WireError::BadFieldNumber);
        }
        let value = match (key & 7) as u8 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed64
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| WireError::Truncated)?;
                Value::Bytes(self.take(len)?)
            }
            3 | 4 => return Err(WireError::Group),
            5 => {
                self.take(4)?;
                Value::Fixed32
            }
            other => return Err(WireError::BadWireType(other)),
        };
        Ok(Some((number, value)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    use proptest::prelude::*;
    use tessera_core::totp::Encoder;

    /// The RFC 6238 Appendix B SHA-1 seed.
    const RFC_SECRET: &[u8] = b"12345678901234567890";
    const RFC_SECRET_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    // --- a test-only protobuf encoder, to build migration payloads ---

    fn put_varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn put_key(out: &mut Vec<u8>, field: u32, wire: u8) {
        put_varint(out, (u64::from(field) << 3) | u64::from(wire));
    }

    fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
        put_key(out, field, 2);
        put_varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }

    fn put_uint(out: &mut Vec<u8>, field: u32, v: u64) {
        put_key(out, field, 0);
        put_varint(out, v);
    }

    /// `OtpParameters`, with the proto's enum numbers.
    #[derive(Clone)]
    pub(crate) struct P {
        secret: Vec<u8>,
        name: &'static str,
        issuer: &'static str,
        algorithm: u64,
        digits: u64,
        kind: u64,
        counter: u64,
    }

    impl P {
        pub(crate) fn totp(secret: &[u8], name: &'static str, issuer: &'static str) -> Self {
            P { secret: secret.to_vec(), name, issuer, algorithm: 1, digits: 1, kind: 2, counter: 0 }
        }

        fn encode(&self) -> Vec<u8> {
            let mut out = Vec::new();
            put_bytes(&mut out, 1, &self.secret);
            put_bytes(&mut out, 2, self.name.as_bytes());
            put_bytes(&mut out, 3, self.issuer.as_bytes());
            put_uint(&mut out, 4, self.algorithm);
            put_uint(&mut out, 5, self.digits);
            put_uint(&mut out, 6, self.kind);
            put_uint(&mut out, 7, self.counter);
            out
        }
    }

    /// A `MigrationPayload` of `params` as batch 1 of 1.
    pub(crate) fn payload(params: &[P]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in params {
            put_bytes(&mut out, 1, &p.encode());
        }
        put_uint(&mut out, 2, 1);
        put_uint(&mut out, 3, 1);
        put_uint(&mut out, 4, 0);
        put_uint(&mut out, 5, 123_456);
        out
    }

    /// The line Google Authenticator's QR code holds for `payload`.
    pub(crate) fn migration_line(payload: &[u8]) -> String {
        let data = data_encoding::BASE64.encode(payload);
        format!("otpauth-migration://offline?data={}", utf8_percent_encode(&data, NON_ALPHANUMERIC))
    }

    fn parse_str(text: &str) -> Imported {
        parse(text.as_bytes()).unwrap()
    }

    fn otp_of(new: &NewItem) -> Otp {
        Otp::parse_uri(new.current.item.otp.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn plain_uris_become_logins_titled_by_issuer_then_account() {
        let imported = parse_str(
            "otpauth://totp/ACME%20Co:john%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME+Co\n\
             otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&algorithm=SHA256&digits=7&period=45\n\
             otpauth://totp/?secret=JBSWY3DPEHPK3PXP\n",
        );
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        let items: Vec<&Item> = imported.items.iter().map(|n| &n.current.item).collect();
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(|i| i.item_type == ItemType::Login));
        assert_eq!((items[0].title.as_str(), items[0].username.as_str()), ("ACME Co", "john@example.com"));
        assert_eq!(
            items[0].otp.as_deref(),
            Some("otpauth://totp/ACME%20Co:john%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co")
        );
        assert_eq!((items[1].title.as_str(), items[1].username.as_str()), ("alice", "alice"));
        let otp = otp_of(&imported.items[1]);
        assert_eq!((otp.algorithm, otp.digits, otp.kind), (Algorithm::Sha256, 7, OtpKind::Totp { period: 45 }));
        assert_eq!((items[2].title.as_str(), items[2].username.as_str()), ("One-time password", ""));
    }

    #[test]
    fn imported_code_matches_the_rfc6238_vector() {
        // RFC 6238 Appendix B: SHA-1 seed "12345678901234567890", 8 digits,
        // T = 59 s gives 94287082.
        let line = format!("otpauth://totp/RFC:6238?secret={RFC_SECRET_B32}&digits=8\n");
        let plain = parse_str(&line);
        let mut p = P::totp(RFC_SECRET, "RFC:6238", "");
        p.digits = 2;
        let migrated = parse_str(&migration_line(&payload(&[p])));
        for imported in [plain, migrated] {
            assert_eq!(imported.items.len(), 1, "{:?}", imported.skipped);
            let otp = otp_of(&imported.items[0]);
            assert_eq!(otp.code_at(59).unwrap().code.as_str(), "94287082");
            assert_eq!(imported.items[0].current.item.title, "RFC");
        }
    }

    #[test]
    fn migration_batch_yields_every_account_with_its_algorithm_and_digits() {
        let mut sha256 = P::totp(b"secret-two-bytes", "bob@example.com", "Bank");
        sha256.algorithm = 2;
        sha256.digits = 2;
        let mut sha512 = P::totp(b"secret-three", "Shop:carol", "");
        sha512.algorithm = 3;
        let mut unspecified = P::totp(b"secret-four", "dave", "");
        (unspecified.algorithm, unspecified.digits, unspecified.kind) = (0, 0, 0);
        let params = [P::totp(RFC_SECRET, "alice@example.com", "Mail"), sha256, sha512, unspecified];
        let imported = parse_str(&migration_line(&payload(&params)));
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        assert_eq!(imported.items.len(), 4);
        let expected = [
            ("Mail", "alice@example.com", Algorithm::Sha1, 6, RFC_SECRET),
            ("Bank", "bob@example.com", Algorithm::Sha256, 8, &b"secret-two-bytes"[..]),
            ("Shop", "carol", Algorithm::Sha512, 6, &b"secret-three"[..]),
            ("dave", "dave", Algorithm::Sha1, 6, &b"secret-four"[..]),
        ];
        for (new, (title, user, algorithm, digits, secret)) in imported.items.iter().zip(expected) {
            let item = &new.current.item;
            assert_eq!((item.title.as_str(), item.username.as_str()), (title, user));
            let otp = otp_of(new);
            assert_eq!((otp.algorithm, otp.digits, otp.kind), (algorithm, digits, OtpKind::Totp { period: 30 }));
            assert_eq!(otp.secret().as_bytes(), secret);
            assert_eq!(item.otp.as_deref(), Some(otp.to_uri().as_str()), "the stored URI is canonical");
        }
    }

    #[test]
    fn migration_name_is_split_like_a_label_and_the_issuer_field_wins() {
        let params =
            [P::totp(b"k1", "Label:alice", "Field"), P::totp(b"k2", "Label:bob", ""), P::totp(b"k3", ":c", "")];
        let imported = parse_str(&migration_line(&payload(&params)));
        let got: Vec<(Option<String>, Option<String>)> =
            imported.items.iter().map(otp_of).map(|o| (o.issuer, o.account)).collect();
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(got, [(s("Field"), s("alice")), (s("Label"), s("bob")), (None, s("c"))]);
    }

    #[test]
    fn hotp_entry_keeps_its_counter() {
        let mut p = P::totp(RFC_SECRET, "counter@example.com", "Hotp Inc");
        (p.kind, p.counter) = (1, 7);
        let line = format!("otpauth://hotp/X:y?secret={RFC_SECRET_B32}&counter=42");
        let imported = parse_str(&format!("{}\n{line}\n", migration_line(&payload(&[p]))));
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        let kinds: Vec<OtpKind> = imported.items.iter().map(|n| otp_of(n).kind).collect();
        assert_eq!(kinds, [OtpKind::Hotp { counter: 7 }, OtpKind::Hotp { counter: 42 }]);
        // RFC 4226 Appendix D: counter 7 gives 162583.
        assert_eq!(otp_of(&imported.items[0]).code_at(0).unwrap().code.as_str(), "162583");
    }

    #[test]
    fn steam_entry_gives_five_character_codes() {
        let imported = parse_str(
            "steam://OFBAFRM4KTKEWYQSCMLTLFNCHYBZSXS7\n\
             otpauth://totp/Steam:gamer?secret=OFBAFRM4KTKEWYQSCMLTLFNCHYBZSXS7&issuer=Steam&encoder=steam\n",
        );
        assert_eq!(imported.items.len(), 2, "{:?}", imported.skipped);
        for new in &imported.items {
            let otp = otp_of(new);
            assert_eq!(otp.encoder, Encoder::Steam);
            assert_eq!(new.current.item.title, "Steam");
            let code = otp.code_at(59).unwrap();
            assert_eq!(code.code.chars().count(), 5);
            // Same value as tessera-core's own Steam Guard test.
            assert_eq!(code.code.as_str(), "VF7VP");
        }
    }

    #[test]
    fn bad_lines_are_skipped_with_their_line_number_and_no_secret() {
        let text = "\u{feff}# exported 2024-01-01\r\n\
                    otpauth://totp/ok?secret=JBSWY3DPEHPK3PXP\r\n\
                    \r\n\
                    otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5\r\n\
                    https://example.com/JBSWY3DPEHPK3PXP\r\n\
                    otpauth://totp/x?secret=JBSWY3DPEHPK3PX!\r\n\
                    otpauth-migration://offline?data=JBSWY3DPEHPK3PXP!!\r\n\
                    otpauth-migration://offline?foo=bar\r\n\
                    otpauth://totp/ok2?secret=JBSWY3DPEHPK3PXP\r\n";
        let imported = parse_str(text);
        let titles: Vec<&str> = imported.items.iter().map(|n| n.current.item.title.as_str()).collect();
        assert_eq!(titles, ["ok", "ok2"]);
        let lines: Vec<&str> = imported.skipped.iter().map(|s| s.line_or_entry.as_str()).collect();
        assert_eq!(lines, ["line 4", "line 5", "line 6", "line 7", "line 8"]);
        assert_eq!(imported.skipped[0].reason, OtpError::UnsupportedAlgorithm.to_string());
        assert_eq!(imported.skipped[1].reason, OtpError::NotOtpauth.to_string());
        assert_eq!(imported.skipped[2].reason, OtpError::InvalidSecret.to_string());
        for s in &imported.skipped {
            assert!(!s.reason.contains("JBSWY3DPEHPK3PX"), "{s:?}");
        }
    }

    #[test]
    fn md5_and_empty_secret_entries_are_skipped_alone() {
        let mut md5 = P::totp(b"md5-secret", "m", "Md5");
        md5.algorithm = 4;
        let empty = P::totp(b"", "e", "Empty");
        let mut odd_digits = P::totp(b"k", "d", "Digits");
        odd_digits.digits = 9;
        let mut negative = P::totp(b"k", "n", "Negative");
        (negative.kind, negative.counter) = (1, u64::MAX);
        let mut unknown_type = P::totp(b"k", "t", "Type");
        unknown_type.kind = 3;
        let params = [P::totp(b"good", "g", "Good"), md5, empty, odd_digits, negative, unknown_type];
        let text = format!("\n{}\n", migration_line(&payload(&params)));
        let imported = parse_str(&text);
        assert_eq!(imported.items.len(), 1);
        assert_eq!(imported.items[0].current.item.title, "Good");
        let skipped: Vec<(&str, &str)> =
            imported.skipped.iter().map(|s| (s.line_or_entry.as_str(), s.reason.as_str())).collect();
        assert_eq!(
            skipped,
            [
                ("line 2, entry 2", "MD5 one-time passwords are not supported: use SHA1, SHA256 or SHA512"),
                ("line 2, entry 3", "the secret is empty"),
                ("line 2, entry 4", "unknown digit count number 9"),
                ("line 2, entry 5", "the HOTP counter is negative"),
                ("line 2, entry 6", "unknown OTP type number 3"),
            ]
        );
    }

    #[test]
    fn damaged_protobuf_skips_the_line_without_panicking() {
        let good = payload(&[P::totp(b"secret", "a", "b")]);
        let mut cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..good.len() / 2].to_vec(), "truncated"),
            (vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], "truncated"),
            ([0x08].into_iter().chain([0xff; 10]).chain([0x01]).collect(), "longer than 10 bytes"),
            (vec![0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02], "longer than 10 bytes"),
            (vec![0x0b, 0x0c], "groups"),
            (vec![0x0e], "wire type 6"),
            (vec![0x02, 0x00], "field number"),
            (vec![0x08, 0x01], "field 1 has the wrong wire type"),
            (vec![0x10, 0x80], "truncated"),
        ];
        // A damaged account inside an intact payload skips only that entry.
        let mut inner = Vec::new();
        put_bytes(&mut inner, 1, &[0x0b]);
        put_bytes(&mut inner, 1, &P::totp(b"ok", "ok", "ok").encode());
        cases.push((inner, "entry"));
        for (bytes, expected) in cases {
            let imported = parse_str(&migration_line(&bytes));
            assert_eq!(imported.skipped.len(), 1, "{bytes:02x?}");
            let skipped = &imported.skipped[0];
            if expected == "entry" {
                assert_eq!(skipped.line_or_entry, "line 1, entry 1");
                assert!(skipped.reason.contains("groups"), "{skipped:?}");
                assert_eq!(imported.items.len(), 1);
            } else {
                assert_eq!(skipped.line_or_entry, "line 1");
                assert!(skipped.reason.contains(expected), "{bytes:02x?}: {skipped:?}");
            }
        }
    }

    #[test]
    fn unknown_fields_are_skipped_by_wire_type() {
        let mut entry = P::totp(RFC_SECRET, "x", "Y").encode();
        put_uint(&mut entry, 99, 5);
        put_key(&mut entry, 100, 1);
        entry.extend_from_slice(&[0; 8]);
        put_key(&mut entry, 101, 5);
        entry.extend_from_slice(&[0; 4]);
        put_bytes(&mut entry, 102, b"future");
        let mut outer = Vec::new();
        put_bytes(&mut outer, 1, &entry);
        put_bytes(&mut outer, 6, b"unknown outer field");
        let imported = parse_str(&migration_line(&outer));
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        assert_eq!(otp_of(&imported.items[0]).secret().as_bytes(), RFC_SECRET);
    }

    #[test]
    fn base64_padding_and_url_encoding_are_optional() {
        let bytes = payload(&[P::totp(b"\xfb\xff\xfe secret", "a", "Pad")]);
        let b64 = data_encoding::BASE64.encode(&bytes);
        assert!(b64.contains('=') && (b64.contains('+') || b64.contains('/')), "{b64}");
        let variants = [
            b64.clone(),
            b64.trim_end_matches('=').to_owned(),
            b64.replace('+', " "),
            data_encoding::BASE64URL_NOPAD.encode(&bytes),
            utf8_percent_encode(&b64, NON_ALPHANUMERIC).to_string(),
        ];
        for data in variants {
            let imported = parse_str(&format!("OTPAUTH-MIGRATION://offline?data={data}"));
            assert_eq!(imported.items.len(), 1, "{data}: {:?}", imported.skipped);
            assert_eq!(otp_of(&imported.items[0]).secret().as_bytes(), b"\xfb\xff\xfe secret");
        }
        let imported = parse_str("otpauth-migration://offline?data=");
        assert_eq!(imported.skipped[0].reason, "the migration URI's data parameter is empty");
        let imported = parse_str(&migration_line(&[]));
        assert_eq!(imported.skipped[0].line_or_entry, "line 1");
    }

    #[test]
    fn invalid_utf8_and_oversized_input_are_refused() {
        let err = parse(b"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP\n\xff\xfe").unwrap_err();
        assert!(matches!(err, ImportError::Malformed { format: Format::Otpauth, .. }), "{err:?}");
        let garbage = "not a uri\n".repeat(MAX_SKIPPED + 1);
        assert!(matches!(parse(garbage.as_bytes()), Err(ImportError::Malformed { .. })));
        let huge = format!("otpauth-migration://offline?data={}", "A".repeat(MAX_PAYLOAD * 2));
        let imported = parse_str(&huge);
        assert!(imported.skipped[0].reason.contains("larger than"), "{:?}", imported.skipped);
        let mut big_secret = P::totp(b"", "big", "Big");
        big_secret.secret = vec![7; MAX_SECRET_LEN + 1];
        let imported = parse_str(&migration_line(&payload(&[big_secret])));
        assert!(imported.skipped[0].reason.contains("longer than"), "{:?}", imported.skipped);
        assert!(parse(b"").unwrap().items.is_empty());
    }

    #[test]
    fn reader_reads_varint_edges() {
        let mut buf = Vec::new();
        for v in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            buf.clear();
            put_varint(&mut buf, v);
            assert!(buf.len() <= 10);
            let mut reader = Reader::new(&buf);
            assert_eq!(reader.varint(), Ok(v));
            assert!(reader.rest.is_empty());
        }
        assert_eq!(Reader::new(&[0x80; 3]).varint(), Err(WireError::Truncated));
        assert_eq!(Reader::new(&[]).varint(), Err(WireError::Truncated));
        assert_eq!(Reader::new(&[0x80; 11]).varint(), Err(WireError::VarintTooLong));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases()))]

        #[test]
        fn fuzz_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            match parse(&bytes) {
                Ok(imported) => {
                    for new in &imported.items {
                        prop_assert!(new.current.item.otp().is_ok());
                    }
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }

        #[test]
        fn fuzz_arbitrary_migration_payload(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let imported = parse(migration_line(&bytes).as_bytes());
            // One line can never fail the whole file, whatever it holds.
            prop_assert!(imported.as_ref().is_ok_and(|i| !i.items.is_empty() || !i.skipped.is_empty()));
        }

        #[test]
        fn fuzz_mutated_migration_payload(
            edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
        ) {
            let mut hotp = P::totp(RFC_SECRET, "Mail:alice", "Mail");
            (hotp.kind, hotp.counter) = (1, 3);
            let mut bytes = payload(&[P::totp(RFC_SECRET, "a", "b"), hotp]);
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
            let imported = parse(migration_line(&bytes).as_bytes());
            prop_assert!(imported.is_ok());
        }
    }
}
