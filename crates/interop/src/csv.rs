//! CSV imports: Bitwarden's, Chrome's, Firefox's and 1Password's layouts and
//! any CSV whose header names its columns.
//!
//! Every layout is read the same way: the header line is turned into a
//! [`Role`] per column (title, username, password…, through a table of
//! case-insensitive synonyms plus a few layout-specific names), then each
//! row becomes one item. What no role claims becomes a custom field named
//! after its column, so nothing in the file is silently dropped.
//!
//! Choices worth knowing:
//! - The header must be UTF-8; a row that is not becomes a [`Skipped`] entry
//!   for its line (one stray Latin-1 byte should not sink the whole import).
//! - A row whose column count differs from the header's is skipped with its
//!   line number, except that extra *empty* trailing cells (a trailing comma)
//!   are tolerated. Rows whose cells are all empty are ignored.
//! - 1Password's archived items are imported and tagged `archived`.
//! - A TOTP that is neither an `otpauth://` URI nor a base32 secret is kept
//!   in a protected custom field `TOTP` and reported as a [`Skipped`] note.
//!
//! The helpers at the bottom (`FieldSet`, `finish`, `set_otp`…) are shared
//! with [`crate::bitwarden`], which maps items the same way.

use std::collections::HashSet;

use tessera_core::item::{MAX_LIST_LEN, normalize_folder};
use tessera_core::{Field, Item, ItemType, NewItem, NewVersion};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::{Format, ImportError, Imported, MAX_DEPTH, MAX_SOURCE_SIZE, Skipped};

/// Most columns a header may have. No real export comes close; the bound
/// keeps a hostile header from multiplying the work done for every row.
const MAX_COLUMNS: usize = 4096;

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Role {
    Title,
    Username,
    Password,
    /// One URL per line of the cell.
    Url,
    /// Bitwarden's `login_uri`: several URLs separated by commas.
    UrlList,
    Notes,
    Otp,
    Folder,
    Tags,
    Type,
    Favourite,
    /// 1Password's `Archived`: a true value tags the item `archived`.
    Archived,
    /// Bitwarden's `fields`: `name: value` lines.
    BitwardenFields,
    Created,
    Updated,
    PasswordChanged,
    /// Known to carry nothing worth keeping (Firefox's `guid`…).
    Ignore,
    /// Anything else: a custom field named after the column.
    Custom,
}

impl Role {
    /// Roles only one column can fill; a second column with the same
    /// meaning (`email` after `username`) becomes a custom field instead.
    fn is_single(self) -> bool {
        !matches!(self, Role::Url | Role::UrlList | Role::Tags | Role::Ignore | Role::Custom | Role::Archived)
    }

    fn is_known(self) -> bool {
        !matches!(self, Role::Custom | Role::Ignore)
    }
}

/// Column names understood in any layout, lower case.
fn generic_role(name: &str) -> Role {
    match name {
        "title" | "name" | "account" | "item name" => Role::Title,
        "username" | "user" | "user name" | "login" | "login name" | "email" | "e-mail" | "login_username" => {
            Role::Username
        }
        "password" | "pass" | "passwd" | "login_password" => Role::Password,
        "url" | "urls" | "website" | "web site" | "uri" | "login_uri" | "login url" => Role::Url,
        "notes" | "note" | "comments" | "comment" | "extra" => Role::Notes,
        "totp" | "otp" | "otpauth" | "login_totp" | "one-time password" => Role::Otp,
        "folder" | "group" | "path" | "grouping" => Role::Folder,
        "tags" | "labels" | "tag" => Role::Tags,
        "type" | "category" => Role::Type,
        "favorite" | "favourite" | "fav" => Role::Favourite,
        "archived" => Role::Archived,
        "created" | "creation date" | "created date" | "timecreated" => Role::Created,
        "updated" | "modified" | "last modified" | "last updated" => Role::Updated,
        "timepasswordchanged" | "password changed" => Role::PasswordChanged,
        _ => Role::Custom,
    }
}

/// The role of column `name` (lower case, trimmed) in `layout`.
fn role_for(layout: Format, name: &str) -> Role {
    match (layout, name) {
        (Format::BitwardenCsv, "fields") => Role::BitwardenFields,
        (Format::BitwardenCsv, "login_uri") => Role::UrlList,
        (Format::BitwardenCsv, "collections") => Role::Folder,
        (Format::BitwardenCsv, "reprompt") => Role::Ignore,
        // Firefox's bookkeeping: a sync id, the form's origin (derived from
        // the URL) and a last-use time Tessera does not track.
        (Format::FirefoxCsv, "guid" | "formactionorigin" | "timelastused") => Role::Ignore,
        _ => generic_role(name),
    }
}

/// Column names for the error shown when a header has none of them.
const EXPECTED_COLUMNS: &str = "title (or name), username, password, url, notes, totp, folder, tags, type, favorite — or the header of a \
     Bitwarden, Chrome, Firefox or 1Password export";

/// A header column: its role and the name a custom field would get.
struct Column {
    role: Role,
    name: String,
}

/// The header's cells, trimmed, without quotes or a BOM.
fn header_cells(header: &str) -> Option<Vec<String>> {
    let header = header.trim_start_matches('\u{feff}');
    let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(header.as_bytes());
    let mut record = ::csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) if record.len() <= MAX_COLUMNS => Some(
            record
                .iter()
                .map(|c| c.trim().trim_start_matches('\u{feff}').trim().trim_matches('"').trim().to_owned())
                .collect(),
        ),
        _ => None,
    }
}

/// The CSV layout a header line belongs to, if it is one of the known ones:
/// Bitwarden, Chrome, Firefox, 1Password (8, 6 and 4), or
/// [`Format::Csv`] for any header with a password or title column and at
/// least one more known column. Case-insensitive; quotes and a BOM are fine.
pub fn detect_layout(header: &str) -> Option<Format> {
    let cells: Vec<String> = header_cells(header)?.iter().map(|c| c.to_lowercase()).collect();
    let has = |name: &str| cells.iter().any(|c| c == name);
    let exactly = |names: &[&str]| {
        let mut got: Vec<&str> = cells.iter().map(String::as_str).collect();
        let mut want = names.to_vec();
        got.sort_unstable();
        want.sort_unstable();
        got == want
    };
    if has("name")
        && has("type")
        && has("login_uri")
        && has("login_username")
        && has("login_password")
        && (has("folder") || has("collections"))
    {
        return Some(Format::BitwardenCsv);
    }
    if has("url") && has("username") && has("password") && has("httprealm") && has("formactionorigin") {
        return Some(Format::FirefoxCsv);
    }
    // 1Password 8; then 1Password 6 and 4, whose headers are fixed sets.
    if (has("title") && has("otpauth") && has("archived"))
        || exactly(&["title", "username", "password", "url", "notes", "type"])
        || exactly(&["title", "url", "username", "password", "notes"])
    {
        return Some(Format::OnePasswordCsv);
    }
    if cells.len() >= 4
        && cells[..4] == ["name", "url", "username", "password"]
        && (cells.len() == 4 || (cells.len() == 5 && cells[4] == "note"))
    {
        return Some(Format::ChromeCsv);
    }
    let roles: Vec<Role> = cells.iter().map(|c| generic_role(c)).collect();
    let known = roles.iter().filter(|r| r.is_known()).count();
    if (roles.contains(&Role::Password) || roles.contains(&Role::Title)) && known >= 2 {
        return Some(Format::Csv);
    }
    None
}

/// Reads a CSV file in `layout` (one of the CSV formats). Rows that cannot
/// be read become [`Skipped`] entries named `line N`; a file without a
/// usable header is [`ImportError::Malformed`].
pub fn parse(layout: Format, bytes: &[u8]) -> Result<Imported, ImportError> {
    if !matches!(
        layout,
        Format::BitwardenCsv | Format::Csv | Format::OnePasswordCsv | Format::ChromeCsv | Format::FirefoxCsv
    ) {
        return Err(ImportError::Unsupported(format!("{layout} is not a CSV layout")));
    }
    if bytes.len() as u64 > MAX_SOURCE_SIZE {
        return Err(ImportError::TooLarge { format: layout, reason: format!("more than {MAX_SOURCE_SIZE} bytes") });
    }
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(ImportError::malformed(layout, "the file is UTF-16 text: save it as UTF-8 and import it again"));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);

    let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut record = ::csv::ByteRecord::new();
    let read_error = |e: ::csv::Error| {
        let line = e.position().map_or(String::new(), |p| format!(" at line {}", p.line()));
        ImportError::malformed(layout, format!("the CSV could not be read{line}"))
    };

    // The header is the first line that is not blank.
    loop {
        if !reader.read_byte_record(&mut record).map_err(read_error)? {
            return Err(ImportError::malformed(layout, "the file is empty"));
        }
        if !is_blank(&record) {
            break;
        }
    }
    if record.len() > MAX_COLUMNS {
        return Err(ImportError::TooLarge { format: layout, reason: format!("more than {MAX_COLUMNS} columns") });
    }
    let mut columns = Vec::with_capacity(record.len());
    for (i, cell) in record.iter().enumerate() {
        let Ok(text) = std::str::from_utf8(cell) else {
            return Err(ImportError::malformed(layout, "the header line is not UTF-8 text: save the file as UTF-8"));
        };
        let name = text.trim().trim_start_matches('\u{feff}').trim();
        let role = role_for(layout, &name.to_lowercase());
        let name = if name.is_empty() { format!("Column {}", i + 1) } else { name.to_owned() };
        columns.push(Column { role, name });
    }
    // The first column of a role takes it; later ones are custom fields.
    let mut taken = HashSet::new();
    for column in &mut columns {
        if column.role.is_single() && !taken.insert(column.role) {
            column.role = Role::Custom;
        }
    }
    if !columns.iter().any(|c| c.role.is_known()) {
        // The "header" may well be a row of data: name no cell of it.
        return Err(ImportError::malformed(
            layout,
            format!("the first line names no known column; expected a header with columns such as {EXPECTED_COLUMNS}"),
        ));
    }

    let mut out = Imported::default();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // Reading a byte slice with flexible rows cannot fail today;
                // if the crate ever reports something, keep what was read.
                let line = e.position().map_or(0, |p| p.line());
                out.skipped.push(Skipped {
                    line_or_entry: format!("line {line}"),
                    reason: "the CSV could not be read from here on".into(),
                });
                break;
            }
        }
        if is_blank(&record) {
            continue;
        }
        let place = format!("line {}", record.position().map_or(0, |p| p.line()));
        let width = if record.len() > columns.len() && record.iter().skip(columns.len()).all(<[u8]>::is_empty) {
            columns.len()
        } else {
            record.len()
        };
        if width != columns.len() {
            out.skipped.push(Skipped {
                line_or_entry: place,
                reason: format!("the row has {width} columns but the header has {}", columns.len()),
            });
            continue;
        }
        let mut cells: Vec<&str> = Vec::with_capacity(width);
        let mut utf8 = true;
        for cell in record.iter().take(width) {
            match std::str::from_utf8(cell) {
                Ok(text) => cells.push(text),
                Err(_) => {
                    utf8 = false;
                    break;
                }
            }
        }
        if !utf8 {
            out.skipped.push(Skipped {
                line_or_entry: place,
                reason: "the row is not valid UTF-8 text: save the file as UTF-8".into(),
            });
            continue;
        }
        let mut notes = Vec::new();
        match finish(row_item(&columns, &cells, &place, &mut notes), Vec::new(), &place) {
            Ok(item) => {
                out.items.push(item);
                out.skipped.extend(notes);
            }
            Err(skipped) => out.skipped.push(skipped),
        }
    }
    Ok(out)
}

/// Whether every cell of the row is empty (or whitespace).
fn is_blank(record: &::csv::ByteRecord) -> bool {
    record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace))
}

/// Turns one row into an item (not yet normalised).
fn row_item(columns: &[Column], cells: &[&str], place: &str, notes: &mut Vec<Skipped>) -> Item {
    let mut title = "";
    let mut username = "";
    let mut password = "";
    let mut urls: Vec<String> = Vec::new();
    let mut text = "";
    let mut otp = "";
    let mut folder = "";
    let mut tags: Vec<String> = Vec::new();
    let mut kind: Option<ItemType> = None;
    let mut favourite = false;
    let mut created = None;
    let mut updated = None;
    let mut password_changed = None;
    // (name, value, protected) for custom fields, added once the item exists.
    let mut custom: Vec<(&str, &str, bool)> = Vec::new();
    let mut bitwarden_fields = "";
    let mut lastpass_note = false;

    for (column, &cell) in columns.iter().zip(cells) {
        if cell.trim().is_empty() {
            continue;
        }
        match column.role {
            Role::Title => title = cell.trim(),
            Role::Username => username = cell,
            Role::Password => password = cell,
            Role::Url | Role::UrlList => {
                let separators: &[char] = if column.role == Role::UrlList { &['\n', ','] } else { &['\n'] };
                for url in cell.split(separators).map(str::trim).filter(|u| !u.is_empty()) {
                    // LastPass marks secure notes with this pseudo-URL.
                    if url.eq_ignore_ascii_case("http://sn") {
                        lastpass_note = true;
                    } else if urls.len() <= MAX_LIST_LEN {
                        urls.push(url.to_owned());
                    }
                }
            }
            Role::Notes => text = cell,
            Role::Otp => otp = cell,
            Role::Folder => folder = cell,
            Role::Tags => tags.extend(split_tags(cell)),
            Role::Type => match item_type(cell) {
                Some(t) => kind = Some(t),
                None => custom.push((&column.name, cell, false)),
            },
            Role::Favourite => favourite = truthy(cell),
            Role::Archived => {
                if truthy(cell) {
                    tags.push("archived".into());
                }
            }
            Role::BitwardenFields => bitwarden_fields = cell,
            Role::Created | Role::Updated | Role::PasswordChanged => match parse_time(cell) {
                Some(t) if column.role == Role::Created => created = Some(t),
                Some(t) if column.role == Role::Updated => updated = Some(t),
                Some(t) => password_changed = Some(t),
                // Keep what could not be read rather than drop it.
                None => custom.push((&column.name, cell, false)),
            },
            Role::Ignore => {}
            Role::Custom => custom.push((&column.name, cell, is_secret_name(&column.name))),
        }
    }

    let kind = kind.unwrap_or(if lastpass_note { ItemType::Note } else { ItemType::Login });
    let mut item = Item::new(kind, title_or_fallback(title, urls.first().map(String::as_str), username));
    item.username = username.to_owned();
    item.password = password.to_owned();
    item.urls = urls;
    item.notes = text.to_owned();
    item.favourite = favourite;
    let (path, truncated) = bounded_folder(folder);
    item.folder = path;
    if truncated {
        notes.push(folder_note(place));
    }

    let mut fields = FieldSet::default();
    for (name, value, protected) in custom {
        fields.add(&mut item, name, value, protected);
    }
    for (name, value) in bitwarden_field_lines(bitwarden_fields) {
        if name.trim() == crate::bitwarden::TAGS_FIELD {
            tags.extend(split_tags(&value));
        } else {
            // A value without a name could be anything: hide it.
            fields.add(&mut item, name, &value, is_secret_name(name) || name.trim().is_empty());
        }
    }
    item.tags = tags;
    set_otp(&mut item, &mut fields, otp, place, notes);

    if created.is_some() || updated.is_some() || password_changed.is_some() {
        let known = [created, updated, password_changed];
        let earliest = known.iter().flatten().min().copied().unwrap_or(item.created);
        let latest = known.iter().flatten().max().copied().unwrap_or(item.updated);
        item.created = created.unwrap_or(earliest);
        item.updated = updated.unwrap_or(latest);
        item.password_changed = password_changed.unwrap_or(item.created);
    }
    item
}

/// Bitwarden's `fields` cell: one `name: value` a line. A line without
/// `": "` continues the previous value (Bitwarden writes a multi-line value
/// as it is), so a fragment of a secret never becomes a field name.
fn bitwarden_field_lines(cell: &str) -> Vec<(&str, String)> {
    let mut fields: Vec<(&str, String)> = Vec::new();
    for line in cell.lines() {
        match (line.split_once(": "), fields.last_mut()) {
            (Some((name, value)), _) if !name.trim().is_empty() => fields.push((name, value.to_owned())),
            (_, Some((_, value))) => {
                value.push('\n');
                value.push_str(line);
            }
            (_, None) if line.trim().is_empty() => {}
            (_, None) => fields.push(("", line.strip_prefix(": ").unwrap_or(line).to_owned())),
        }
    }
    for (_, value) in &mut fields {
        let kept = value.trim_end_matches(['\n', '\r']).len();
        value.truncate(kept);
    }
    fields
}

/// The item type a `type` cell names, if it names one.
fn item_type(value: &str) -> Option<ItemType> {
    match value.trim().to_lowercase().as_str() {
        "login" | "logins" | "password" | "website" | "web form" => Some(ItemType::Login),
        "note" | "notes" | "secure note" | "securenote" | "secure_note" | "secure notes" => Some(ItemType::Note),
        "card" | "credit card" | "creditcard" | "payment card" | "bank card" => Some(ItemType::Card),
        "identity" | "identities" => Some(ItemType::Identity),
        _ => None,
    }
}

/// Whether a yes/no cell says yes (`1`, `true`, `yes`, `x`…).
fn truthy(value: &str) -> bool {
    matches!(value.trim().to_lowercase().as_str(), "1" | "true" | "yes" | "y" | "x" | "on" | "*")
}

/// Tags separated by commas or semicolons.
fn split_tags(value: &str) -> impl Iterator<Item = String> + '_ {
    value.split([',', ';']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// A date in a cell: Unix seconds or milliseconds (Firefox), RFC 3339, or
/// `YYYY-MM-DD[ HH:MM:SS]` taken as UTC. Whole seconds, like the vault.
fn parse_time(value: &str) -> Option<OffsetDateTime> {
    let value = value.trim();
    if !value.is_empty() && value.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = value.parse().ok()?;
        // Anything past 10^11 seconds (year 5138) is milliseconds.
        let seconds = if n.unsigned_abs() >= 100_000_000_000 { n / 1000 } else { n };
        return OffsetDateTime::from_unix_timestamp(seconds).ok();
    }
    if let Some(t) = parse_rfc3339(value) {
        return Some(t);
    }
    if let Ok(t) = PrimitiveDateTime::parse(value, format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"))
    {
        return Some(t.assume_utc());
    }
    let date = time::Date::parse(value, format_description!("[year]-[month]-[day]")).ok()?;
    Some(date.midnight().assume_utc())
}

// --- shared with the Bitwarden importer ------------------------------------

/// An RFC 3339 date in UTC, to whole seconds (what the vault stores).
pub(crate) fn parse_rfc3339(value: &str) -> Option<OffsetDateTime> {
    let t = OffsetDateTime::parse(value.trim(), &Rfc3339).ok()?.to_offset(UtcOffset::UTC);
    Some(t.replace_nanosecond(0).unwrap_or(t))
}

/// The title to use: `title`, else the host of `url`, else `username`,
/// else `Untitled` (an empty title would be unfindable in lists).
pub(crate) fn title_or_fallback(title: &str, url: Option<&str>, username: &str) -> String {
    let title = title.trim();
    if !title.is_empty() {
        return title.to_owned();
    }
    if let Some(host) = url.and_then(url_host) {
        return host;
    }
    if !username.trim().is_empty() {
        return username.trim().to_owned();
    }
    "Untitled".to_owned()
}

/// The host of a URL (`https://www.example.com:8443/x` → `example.com`),
/// tolerating a missing scheme. `None` when there is none.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next().unwrap_or(host_port)
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    let host = host.strip_prefix("www.").unwrap_or(host).trim().to_lowercase();
    (!host.is_empty()).then_some(host)
}

/// Whether a column or field name suggests a secret value, so the custom
/// field is protected (hidden until revealed). Over-protecting is harmless.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let name = name.to_lowercase();
    const PARTS: [&str; 11] = [
        "password",
        "passwd",
        "passphrase",
        "secret",
        "security code",
        "cvv",
        "cvc",
        "key",
        "token",
        "recovery",
        "pincode",
    ];
    PARTS.iter().any(|p| name.contains(p))
        || name.split(|c: char| !c.is_alphanumeric()).any(|w| matches!(w, "pin" | "otp" | "totp"))
}

/// A folder path with at most [`MAX_DEPTH`] levels, and whether it had to be
/// cut: a hostile path with thousands of levels gains nothing.
pub(crate) fn bounded_folder(path: &str) -> (String, bool) {
    let path = normalize_folder(path);
    if path.split('/').count() <= MAX_DEPTH {
        return (path, false);
    }
    (path.split('/').take(MAX_DEPTH).collect::<Vec<_>>().join("/"), true)
}

/// The note added when [`bounded_folder`] cut a path.
pub(crate) fn folder_note(place: &str) -> Skipped {
    Skipped {
        line_or_entry: place.to_owned(),
        reason: format!("its folder is nested deeper than {MAX_DEPTH} levels; the deeper levels were left out"),
    }
}

/// Adds custom fields to an item under unique names: a repeated name gets
/// ` (2)`, ` (3)`… (Tessera requires unique names; sources often do not),
/// an empty one becomes `Field`. Stops one past [`MAX_LIST_LEN`], enough
/// for [`Item::normalize`] to refuse the item without unbounded work.
#[derive(Default)]
pub(crate) struct FieldSet {
    names: HashSet<String>,
}

impl FieldSet {
    /// Adds the field and returns the name it got.
    pub(crate) fn add(&mut self, item: &mut Item, name: &str, value: &str, protected: bool) -> String {
        let base = match name.trim() {
            "" => "Field",
            name => name,
        };
        if item.fields.len() > MAX_LIST_LEN {
            return base.to_owned();
        }
        let mut unique = base.to_owned();
        let mut n = 2;
        while self.names.contains(&unique) {
            unique = format!("{base} ({n})");
            n += 1;
        }
        self.names.insert(unique.clone());
        item.fields.push(Field { name: unique.clone(), value: value.to_owned(), protected });
        unique
    }
}

/// Sets the item's one-time password from what a source calls its TOTP. One
/// that [`crate::otp_uri`] cannot read is kept in a protected custom field
/// and reported, so the secret is neither lost nor echoed.
pub(crate) fn set_otp(item: &mut Item, fields: &mut FieldSet, raw: &str, place: &str, notes: &mut Vec<Skipped>) {
    if raw.trim().is_empty() {
        return;
    }
    let uri = crate::otp_uri(raw, &item.title);
    let why = match uri {
        Some(uri) if item.otp.is_none() => {
            item.otp = Some(uri.as_str().to_owned());
            return;
        }
        Some(_) => "it has a second TOTP",
        None => "its TOTP is neither an otpauth:// URI nor a base32 secret",
    };
    let name = fields.add(item, "TOTP", raw.trim(), true);
    notes.push(Skipped {
        line_or_entry: place.to_owned(),
        reason: format!("{why}; it was kept in the protected custom field {name:?}"),
    });
}

/// Checks an item and its earlier versions as the vault will
/// ([`Item::normalize`]), turning a refusal into a [`Skipped`] entry. The
/// messages of [`tessera_core::InvalidItem`] name fields, never values.
pub(crate) fn finish(mut item: Item, history: Vec<Item>, place: &str) -> Result<NewItem, Skipped> {
    let skipped = |e: tessera_core::InvalidItem| {
        // Field names are not secrets, but a hostile or mangled source can
        // make one huge: never echo more than a short one.
        let reason = match e {
            tessera_core::InvalidItem::TooLong { what, max } if what.len() > 80 => {
                format!("a custom field's name or value is longer than {max} bytes")
            }
            tessera_core::InvalidItem::DuplicateField(name) if name.len() > 80 => {
                "two custom fields have the same name".to_owned()
            }
            e => e.to_string(),
        };
        Skipped { line_or_entry: place.to_owned(), reason }
    };
    item.normalize().map_err(skipped)?;
    let mut versions = Vec::with_capacity(history.len());
    for mut old in history {
        old.normalize().map_err(skipped)?;
        versions.push(NewVersion::new(old));
    }
    Ok(NewItem { current: NewVersion::new(item), history: versions })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tessera_core::totp::Otp;

    use super::*;

    fn read(layout: Format, text: &str) -> Imported {
        parse(layout, text.as_bytes()).expect("parses")
    }

    fn items(imported: &Imported) -> Vec<&Item> {
        imported.items.iter().map(|n| &n.current.item).collect()
    }

    fn field<'a>(item: &'a Item, name: &str) -> &'a Field {
        item.field(name).unwrap_or_else(|| panic!("no field {name:?} in {item:?}"))
    }

    fn assert_no_secret(imported: &Imported, secrets: &[&str]) {
        let text = format!("{:?}", imported.skipped);
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
    }

    const BITWARDEN: &str = "\
folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp
Work/Mail,1,login,Mail,\"line one
line two\",\"PIN: 1234
Account type: premium\",0,\"https://mail.example.com,https://webmail.example.com\",me@example.com,hunter2,JBSWY3DPEHPK3PXP
,,note,Door codes,Front 4321,,0,,,,
";

    #[test]
    fn csv_detects_bitwarden_chrome_firefox_1password_and_generic_headers() {
        let cases = [
            (
                "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp",
                Format::BitwardenCsv,
            ),
            (
                "collections,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp",
                Format::BitwardenCsv,
            ),
            ("name,url,username,password", Format::ChromeCsv),
            ("name,url,username,password,note", Format::ChromeCsv),
            (
                "\"url\",\"username\",\"password\",\"httpRealm\",\"formActionOrigin\",\"guid\",\"timeCreated\",\
                 \"timeLastUsed\",\"timePasswordChanged\"",
                Format::FirefoxCsv,
            ),
            ("Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes", Format::OnePasswordCsv),
            ("Title,Username,Password,URL,Notes,Type", Format::OnePasswordCsv),
            ("title,url,username,password,notes", Format::OnePasswordCsv),
            ("url,username,password,totp,extra,name,grouping,fav", Format::Csv),
            ("Group,Title,Username,Password,URL,Notes,TOTP,Icon,Last Modified,Created", Format::Csv),
            ("Account,Login Name,Password,Web Site,Comments", Format::Csv),
            ("Password,Notes", Format::Csv),
        ];
        for (header, want) in cases {
            assert_eq!(detect_layout(header), Some(want), "{header}");
        }
    }

    #[test]
    fn csv_detect_ignores_case_quotes_and_bom() {
        assert_eq!(detect_layout("\u{feff}\"NAME\", \"Url\",\"USERNAME\",\"password\""), Some(Format::ChromeCsv));
        assert_eq!(detect_layout("\u{feff}TITLE;x"), None);
        assert_eq!(detect_layout("\"Title\",\"Password\""), Some(Format::Csv));
    }

    #[test]
    fn csv_detect_rejects_unrelated_headers() {
        for header in ["", "a,b,c", "date,amount,payee", "password", "hunter2,correct horse", "name"] {
            assert_eq!(detect_layout(header), None, "{header}");
        }
    }

    #[test]
    fn csv_bitwarden_row_maps_folder_favourite_fields_uris_and_totp() {
        let imported = read(Format::BitwardenCsv, BITWARDEN);
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        let mail = items(&imported)[0];
        assert_eq!(mail.item_type, ItemType::Login);
        assert_eq!(mail.title, "Mail");
        assert_eq!(mail.folder, "Work/Mail");
        assert!(mail.favourite);
        assert_eq!(mail.notes, "line one\nline two");
        assert_eq!(mail.urls, ["https://mail.example.com", "https://webmail.example.com"]);
        assert_eq!(mail.username, "me@example.com");
        assert_eq!(mail.password, "hunter2");
        let otp = Otp::parse_uri(mail.otp.as_deref().unwrap()).unwrap();
        assert_eq!(otp.secret().to_base32().as_str(), "JBSWY3DPEHPK3PXP");
        assert_eq!(field(mail, "PIN").value, "1234");
        assert!(field(mail, "PIN").protected);
        assert_eq!(field(mail, "Account type").value, "premium");
        assert!(!field(mail, "Account type").protected);
    }

    #[test]
    fn csv_bitwarden_note_type_becomes_note() {
        let imported = read(Format::BitwardenCsv, BITWARDEN);
        let note = items(&imported)[1];
        assert_eq!(note.item_type, ItemType::Note);
        assert_eq!(note.title, "Door codes");
        assert_eq!(note.notes, "Front 4321");
        assert_eq!(note.folder, "");
        assert!(!note.favourite);
    }

    #[test]
    fn csv_bitwarden_tags_field_becomes_tags() {
        let text = "folder,favorite,type,name,notes,fields,login_uri,login_username,login_password,login_totp\n\
                    ,,login,Shop,,\"tessera:tags: shopping, home\",,,,\n";
        let item = &read(Format::BitwardenCsv, text).items[0].current.item;
        assert_eq!(item.tags, ["home", "shopping"]);
        assert!(item.fields.is_empty());
    }

    #[test]
    fn csv_bitwarden_multi_line_field_value_continues_the_field() {
        let fields = bitwarden_field_lines("Key: -----BEGIN-----\nsecret-line\n-----END-----\nPIN: 1\nstray");
        let got: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert_eq!(got, [("Key", "-----BEGIN-----\nsecret-line\n-----END-----"), ("PIN", "1\nstray")]);
        let fields = bitwarden_field_lines("orphan value\nName: v");
        assert_eq!(fields[0], ("", "orphan value".to_owned()), "an unnamed value gets the name Field later");
    }

    #[test]
    fn csv_chrome_name_becomes_title_with_host_fallback() {
        let text = "name,url,username,password,note\n\
                    GitHub,https://github.com/login,octo,pw-1,my note\n\
                    ,https://www.example.org:8443/x?y,alice,pw-2,\n\
                    ,android://abc@com.example.app/,bob,pw-3,\n";
        let imported = read(Format::ChromeCsv, text);
        let got = items(&imported);
        assert_eq!(got[0].title, "GitHub");
        assert_eq!(got[0].urls, ["https://github.com/login"]);
        assert_eq!(got[0].notes, "my note");
        assert_eq!(got[1].title, "example.org");
        assert_eq!(got[2].title, "com.example.app");
        assert_eq!(got[2].password, "pw-3");
    }

    #[test]
    fn csv_firefox_title_from_host_and_dates_from_milliseconds() {
        let text = "\"url\",\"username\",\"password\",\"httpRealm\",\"formActionOrigin\",\"guid\",\"timeCreated\",\
                    \"timeLastUsed\",\"timePasswordChanged\"\n\
                    \"https://accounts.example.com\",\"me\",\"s3cret\",,\"https://accounts.example.com\",\
                    \"{0b5a8a52-0a3c-4a4e-9c1e-3f0a3f1e2d3c}\",\"1577836800000\",\"1600000000000\",\"1590000000123\"\n";
        let imported = read(Format::FirefoxCsv, text);
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        let item = items(&imported)[0];
        assert_eq!(item.title, "accounts.example.com");
        assert_eq!(item.username, "me");
        assert_eq!(item.password, "s3cret");
        assert!(item.fields.is_empty(), "guid and form origin are not kept: {:?}", item.fields);
        assert_eq!(item.created.unix_timestamp(), 1_577_836_800);
        assert_eq!(item.password_changed.unix_timestamp(), 1_590_000_000);
        assert_eq!(item.updated.unix_timestamp(), 1_590_000_000);
    }

    #[test]
    fn csv_1password_otpauth_tags_favourite_and_archived() {
        let text = "Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes\n\
                    Bank,https://bank.example,jo,pw,otpauth://totp/Bank:jo?secret=JBSWY3DPEHPK3PXP&issuer=Bank,\
                    true,false,finance;important,\n\
                    Old forum,https://forum.example,jo,pw2,,false,true,\"hobby, old\",gone\n";
        let imported = read(Format::OnePasswordCsv, text);
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        let got = items(&imported);
        assert!(got[0].favourite);
        assert_eq!(got[0].tags, ["finance", "important"]);
        let otp = Otp::parse_uri(got[0].otp.as_deref().unwrap()).unwrap();
        assert_eq!(otp.issuer.as_deref(), Some("Bank"));
        assert!(!got[1].favourite);
        assert_eq!(got[1].tags, ["archived", "hobby", "old"]);
        assert_eq!(got[1].notes, "gone");
    }

    #[test]
    fn csv_1password_6_type_column_sets_item_type() {
        let text = "Title,Username,Password,URL,Notes,Type\n\
                    Wifi,,,,the code,Secure Note\n\
                    Visa,,,,,Credit Card\n\
                    Mail,me,pw,https://mail.example,,Login\n";
        let got = read(Format::OnePasswordCsv, text);
        let types: Vec<ItemType> = items(&got).iter().map(|i| i.item_type).collect();
        assert_eq!(types, [ItemType::Note, ItemType::Card, ItemType::Login]);
    }

    #[test]
    fn csv_generic_header_synonyms_map_columns() {
        let text = "Account,Login Name,Pass,Web Site,Comments,OTP,Group,Labels,Favourite,Kind\n\
                    Router,admin,pw,http://192.168.1.1,in the hall,JBSWY3DPEHPK3PXP,Home/Net,\"net, home\",yes,x\n";
        let imported = read(Format::Csv, text);
        let item = items(&imported)[0];
        assert_eq!(item.title, "Router");
        assert_eq!(item.username, "admin");
        assert_eq!(item.password, "pw");
        assert_eq!(item.urls, ["http://192.168.1.1"]);
        assert_eq!(item.notes, "in the hall");
        assert!(item.otp.is_some());
        assert_eq!(item.folder, "Home/Net");
        assert_eq!(item.tags, ["home", "net"]);
        assert!(item.favourite);
        assert_eq!(field(item, "Kind").value, "x");

        let text = "name,user,password,url,extra,totp,path,tags,type,favorite,email\n\
                    Mail,me,pw,https://m.example,,,,,note,0,me@example.com\n";
        let item = &read(Format::Csv, text).items[0].current.item;
        assert_eq!(item.item_type, ItemType::Note);
        assert_eq!(item.username, "me");
        assert_eq!(field(item, "email").value, "me@example.com", "a second username column is a custom field");
    }

    #[test]
    fn csv_generic_unknown_columns_become_custom_fields_protected_by_name() {
        let text = "title,password,PIN,CVV,Recovery key,Security Code,API secret,Passphrase,Shipping,Colour,\n\
                    Thing,pw,1111,222,rk,333,as,pp,ship,blue,\n";
        let imported = read(Format::Csv, text);
        let item = items(&imported)[0];
        for name in ["PIN", "CVV", "Recovery key", "Security Code", "API secret", "Passphrase"] {
            assert!(field(item, name).protected, "{name} should be protected");
        }
        for name in ["Shipping", "Colour"] {
            assert!(!field(item, name).protected, "{name} should not be protected");
        }
        assert_eq!(field(item, "Colour").value, "blue");
        assert_eq!(item.fields.len(), 8, "the unnamed empty column adds nothing");
    }

    #[test]
    fn csv_several_url_columns_become_urls() {
        let text = "title,url,website,uri\nShop,https://a.example,https://b.example,\"https://c.example\nhttps://d.example\"\n";
        let item = &read(Format::Csv, text).items[0].current.item;
        assert_eq!(item.urls, ["https://a.example", "https://b.example", "https://c.example", "https://d.example"]);
    }

    #[test]
    fn csv_item_without_title_falls_back_to_host_then_username_then_untitled() {
        let text = "title,username,password,url\n,,pw1,https://shop.example.com/cart\n,carol,pw2,\n,,pw3,\n";
        let titles: Vec<String> = read(Format::Csv, text).items.iter().map(|n| n.current.item.title.clone()).collect();
        assert_eq!(titles, ["shop.example.com", "carol", "Untitled"]);
    }

    #[test]
    fn csv_row_with_wrong_column_count_is_skipped_with_its_line() {
        let text = "name,url,username,password\n\
                    One,https://one.example,u1,secret-one\n\
                    \"Two\nstill two\",https://two.example,u2,secret-two,extra-secret\n\
                    Three,https://three.example,u3\n\
                    Four,https://four.example,u4,secret-four,,\n";
        let imported = read(Format::ChromeCsv, text);
        let titles: Vec<&str> = items(&imported).iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["One", "Four"], "trailing empty cells are tolerated");
        let places: Vec<&str> = imported.skipped.iter().map(|s| s.line_or_entry.as_str()).collect();
        assert_eq!(places, ["line 3", "line 5"]);
        assert!(imported.skipped[0].reason.contains("5 columns"), "{:?}", imported.skipped);
        assert_no_secret(&imported, &["secret", "u2", "u3"]);
    }

    #[test]
    fn csv_quoted_fields_with_commas_quotes_and_newlines_are_read() {
        let text = "title,password,notes\r\n\"A, \"\"quoted\"\" title\",\"p,w\"\"\",\"multi\r\nline\"\r\n";
        let item = &read(Format::Csv, text).items[0].current.item;
        assert_eq!(item.title, "A, \"quoted\" title");
        assert_eq!(item.password, "p,w\"");
        assert_eq!(item.notes, "multi\r\nline");
    }

    #[test]
    fn csv_blank_rows_and_bom_are_ignored() {
        let text = "\u{feff}\n\ntitle,password\n\nA,1\n,\n  ,  \n\nB,2\n\n";
        let imported = read(Format::Csv, text);
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        assert_eq!(imported.items.len(), 2);
    }

    #[test]
    fn csv_invalid_utf8_row_is_skipped_and_a_bad_header_is_malformed() {
        let mut bytes = b"title,password\nGood,pw\nBad,caf".to_vec();
        bytes.extend_from_slice(&[0xe9, b'\n']);
        bytes.extend_from_slice(b"Also good,pw\n");
        let imported = parse(Format::Csv, &bytes).unwrap();
        assert_eq!(imported.items.len(), 2);
        assert_eq!(imported.skipped.len(), 1);
        assert_eq!(imported.skipped[0].line_or_entry, "line 3");

        let bad_header = [b't', 0xff, b',', b'p', b'\n'];
        assert!(matches!(parse(Format::Csv, &bad_header), Err(ImportError::Malformed { .. })));
        let utf16 = [0xff, 0xfe, b't', 0, b'\n', 0];
        assert!(matches!(parse(Format::Csv, &utf16), Err(ImportError::Malformed { .. })));
    }

    #[test]
    fn csv_without_recognised_columns_is_malformed_listing_expected_columns() {
        let err = parse(Format::Csv, b"alice,hunter2,example.com\nbob,secret,x\n").unwrap_err();
        let ImportError::Malformed { reason, .. } = &err else { panic!("{err:?}") };
        assert!(reason.contains("title") && reason.contains("password") && reason.contains("url"), "{reason}");
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn csv_empty_file_is_malformed_and_other_formats_are_refused() {
        for text in ["", "\u{feff}", "\n\n,,\n"] {
            assert!(matches!(parse(Format::Csv, text.as_bytes()), Err(ImportError::Malformed { .. })), "{text:?}");
        }
        assert!(matches!(parse(Format::Keepass, b"title\n"), Err(ImportError::Unsupported(_))));
    }

    #[test]
    fn csv_unparseable_totp_is_kept_in_a_protected_field_and_noted() {
        let text = "title,password,totp\nForum,pw,not-a-secret!!\n";
        let imported = read(Format::Csv, text);
        let item = items(&imported)[0];
        assert!(item.otp.is_none());
        assert_eq!(field(item, "TOTP").value, "not-a-secret!!");
        assert!(field(item, "TOTP").protected);
        assert_eq!(imported.skipped.len(), 1);
        assert_eq!(imported.skipped[0].line_or_entry, "line 2");
        assert_no_secret(&imported, &["not-a-secret"]);
    }

    #[test]
    fn csv_invalid_item_is_skipped_with_a_reason_naming_no_value() {
        let long = "s".repeat(tessera_core::item::MAX_TEXT_LEN + 1);
        let text = format!("title,password\nHuge,{long}\nFine,pw\n");
        let imported = read(Format::Csv, &text);
        assert_eq!(imported.items.len(), 1);
        assert_eq!(imported.skipped[0].line_or_entry, "line 2");
        assert!(imported.skipped[0].reason.contains("password"));
        assert!(imported.skipped[0].reason.len() < 200);
    }

    #[test]
    fn csv_lastpass_secure_note_and_dates() {
        let text = "url,username,password,totp,extra,name,grouping,fav,created\n\
                    http://sn,,,,the note,Alarm,Home,1,2021-03-04T05:06:07.890+01:00\n\
                    https://a.example,u,p,,,A,,0,not a date\n";
        let imported = read(Format::Csv, text);
        let got = items(&imported);
        assert_eq!(got[0].item_type, ItemType::Note);
        assert!(got[0].urls.is_empty());
        assert_eq!(got[0].notes, "the note");
        assert!(got[0].favourite);
        assert_eq!(got[0].created.unix_timestamp(), 1_614_830_767);
        assert_eq!(got[0].updated, got[0].created);
        assert_eq!(field(got[1], "created").value, "not a date");
    }

    #[test]
    fn csv_duplicate_and_empty_header_names_get_unique_field_names() {
        let text = "title,Code,code,,Code\nX,1,2,3,4\n";
        let item = &read(Format::Csv, text).items[0].current.item;
        let names: Vec<&str> = item.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Code", "code", "Column 4", "Code (2)"]);
    }

    #[test]
    fn csv_deep_folder_is_cut_at_max_depth() {
        let folder = vec!["f"; MAX_DEPTH + 10].join("/");
        let text = format!("title,password,folder\nX,pw,{folder}\n");
        let imported = read(Format::Csv, &text);
        assert_eq!(imported.items[0].current.item.folder.split('/').count(), MAX_DEPTH);
        assert_eq!(imported.skipped.len(), 1);
    }

    #[test]
    fn csv_too_many_fields_is_skipped_not_a_panic() {
        let header: Vec<String> = (0..MAX_LIST_LEN + 5).map(|i| format!("c{i}")).collect();
        let row = vec!["v"; MAX_LIST_LEN + 5].join(",");
        let text = format!("title,{}\nT,{row}\n", header.join(","));
        let imported = read(Format::Csv, &text);
        assert!(imported.items.is_empty());
        assert!(imported.skipped[0].reason.contains("custom fields"), "{:?}", imported.skipped);
    }

    const LAYOUTS: [Format; 5] =
        [Format::BitwardenCsv, Format::Csv, Format::OnePasswordCsv, Format::ChromeCsv, Format::FirefoxCsv];

    const COLUMN_NAMES: &[&str] = &[
        "folder",
        "favorite",
        "type",
        "name",
        "notes",
        "fields",
        "reprompt",
        "login_uri",
        "login_username",
        "login_password",
        "login_totp",
        "url",
        "username",
        "password",
        "httpRealm",
        "guid",
        "timeCreated",
        "timePasswordChanged",
        "Title",
        "OTPAuth",
        "Archived",
        "Tags",
        "group",
        "PIN",
        "",
        "created",
        "x",
    ];

    fn cell() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,12}",
            "[a-z,\"\n\r: ;]{0,12}",
            Just("JBSWY3DPEHPK3PXP".to_owned()),
            Just("otpauth://totp/x?secret=!!".to_owned()),
            Just("1577836800000".to_owned()),
            Just("-99999999999999999999".to_owned()),
            Just("note".to_owned()),
            Just("true".to_owned()),
            Just("a: b\n: c\nd".to_owned()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::fuzz_cases()))]

        #[test]
        fn fuzz_csv_parse_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            for layout in LAYOUTS {
                let _ = parse(layout, &bytes);
            }
            let _ = detect_layout(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn fuzz_csv_parse_random_cells(
            header in proptest::collection::vec(proptest::sample::select(COLUMN_NAMES), 1..10),
            rows in proptest::collection::vec(proptest::collection::vec(cell(), 0..12), 0..8),
            quote in any::<bool>(),
        ) {
            let mut writer = ::csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
            writer.write_record(&header).unwrap();
            for row in &rows {
                writer.write_record(row).unwrap();
            }
            let mut bytes = writer.into_inner().unwrap();
            if quote {
                // Unbalanced quotes as well as well-formed CSV.
                bytes.insert(bytes.len() / 2, b'"');
            }
            let line = header.join(",");
            let _ = detect_layout(&line);
            for layout in LAYOUTS {
                if let Ok(imported) = parse(layout, &bytes) {
                    for new in &imported.items {
                        let mut item = new.current.item.clone();
                        prop_assert!(item.normalize().is_ok());
                    }
                }
            }
        }
    }
}
