//! KeePass KDBX 3.1 and 4, read and written through the `keepass` crate.
//!
//! What maps to what, both ways:
//!
//! | KeePass | Tessera |
//! | --- | --- |
//! | group path below the root group | folder (`Work/Servers`; the root group is `""`) |
//! | Title, UserName, Password, Notes | title, username, password, notes |
//! | URL, then `KP2A_URL`, `KP2A_URL_1`… (KeePassXC's extra URLs) | urls |
//! | `otp` (KeePassXC's otpauth URI, Steam form included), or the legacy `TOTP Seed` / `TOTP Settings` pair | otp |
//! | other string fields, protected or not | custom fields, protected alike |
//! | tags, creation / modification / expiry times | tags, created / updated / expires |
//! | binary attachments | attachments |
//! | a KeeAgent SSH key (key file attachment + `KeeAgent.settings`) | an `ssh-key` item ([`crate::keeagent`]) |
//! | history entries (oldest first) | item history |
//! | entries under the recycle bin | items in the trash |
//!
//! A KDBX export writes KDBX 4 with Argon2id, AES-256 and ChaCha20 for
//! protected fields. History versions are written without attachments: the
//! crate cannot give a history snapshot its own attachment set (a Tessera
//! backup keeps them).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use keepass::config::{DatabaseConfig, DatabaseVersion, InnerCipherConfig, KdfConfig, OuterCipherConfig};
use keepass::db::{Entry, EntryId, EntryRef, GroupId, Value, fields};
use keepass::{Database, DatabaseKey};
use rayon::prelude::*;
use tessera_core::{
    AutoTypeRule, AutoTypeSettings, Field, Item, ItemId, ItemType, NewAttachment, NewItem, NewVersion, Scope, Vault,
};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::{ExportError, Format, ImportError, Imported, MAX_DEPTH, Skipped, SourceKey, otp_uri};

/// KeePassXC's legacy TOTP attributes, from before it stored an otpauth URI.
const LEGACY_TOTP_SEED: &str = "TOTP Seed";
const LEGACY_TOTP_SETTINGS: &str = "TOTP Settings";
/// Prefix of KeePassXC's (and Keepass2Android's) additional URL attributes.
const EXTRA_URL_PREFIX: &str = "KP2A_URL";

/// Argon2id parameters of an exported file: 64 MiB, 4 passes, 2 lanes —
/// well above KeePassXC's floor, and about half a second on a laptop.
const EXPORT_ARGON2_MEMORY: u64 = 64 * 1024 * 1024;
const EXPORT_ARGON2_ITERATIONS: u64 = 4;
const EXPORT_ARGON2_PARALLELISM: u32 = 2;

fn database_key(key: &SourceKey) -> Result<DatabaseKey, ImportError> {
    let mut db_key = DatabaseKey::new();
    if let Some(password) = &key.password {
        db_key = db_key.with_password(password);
    }
    if let Some(key_file) = &key.key_file {
        db_key = db_key
            .with_keyfile(&mut key_file.as_slice())
            .map_err(|_| ImportError::malformed(Format::Keepass, "the key file could not be read"))?;
    }
    if key.password.is_none() && key.key_file.is_none() {
        return Err(ImportError::PasswordRequired(Format::Keepass));
    }
    Ok(db_key)
}

/// Opens a KDBX file. Errors name the stage that failed but never quote the
/// decrypted content (which could hold a secret).
pub fn open(bytes: &[u8], key: &SourceKey) -> Result<Database, ImportError> {
    use keepass::db::DatabaseOpenError as E;
    let db_key = database_key(key)?;
    // The crate indexes some fields of the (encrypted, so password-holding
    // attacker's) inner header without checking lengths; a panic there is
    // a damaged file to us, not a crash.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Database::parse(bytes, db_key)))
        .map_err(|_| ImportError::malformed(Format::Keepass, "the KeePass reader failed on this damaged file"))?;
    parsed.map_err(|e| match e {
        E::Key(_) => ImportError::WrongPassword,
        E::UnexpectedEof => ImportError::malformed(Format::Keepass, "the file is truncated"),
        E::VersionParse(_) => ImportError::malformed(Format::Keepass, "not a KeePass database (bad signature)"),
        E::UnsupportedVersion => {
            ImportError::Unsupported("this KeePass file version is not supported: save it as KDBX 4 first".into())
        }
        // KDBX 3.1 has no key check before decryption: a wrong key shows
        // as bad AES-CBC padding, indistinguishable from a damaged file
        // (KeePassXC reports the same). KDBX 4 checks its header HMAC first.
        E::Cryptography(_) => ImportError::WrongPassword,
        E::Io(_) => ImportError::malformed(Format::Keepass, "the file could not be read"),
        // Not the crate's message: it may quote the decrypted XML.
        E::Format(_) => ImportError::malformed(Format::Keepass, "the decrypted database is damaged or not KeePass XML"),
        _ => ImportError::malformed(Format::Keepass, "the database could not be read"),
    })
}

/// Most AES-KDF rounds accepted: about a minute here (KeePassXC's
/// one-second default is some millions).
const MAX_AES_ROUNDS: u64 = 1_000_000_000;
/// Most Argon2 memory accepted, in bytes.
const MAX_ARGON2_MEMORY: u64 = 2 << 30;
/// Most Argon2 passes, and most memory × passes (bytes), accepted.
const MAX_ARGON2_ITERATIONS: u64 = 1000;
const MAX_ARGON2_WORK: u64 = 64 << 30;
const MAX_ARGON2_PARALLELISM: u64 = 256;

/// Checks the outer header, which anyone can write without a password,
/// before the `keepass` crate reads it. The KDF parameters come from the
/// file, so a hostile file could ask for terabytes of Argon2 memory or
/// years of AES rounds before the password is even checked: refuse what no
/// real database uses. And the crate reads fixed-size numbers without
/// checking their length (a short field panics it): refuse those first.
fn check_outer_header(bytes: &[u8]) -> Result<(), ImportError> {
    let too_large = |reason: String| ImportError::TooLarge { format: Format::Keepass, reason };
    let short = |id: u8| ImportError::malformed(Format::Keepass, format!("header field {id} is too short"));
    let Some(major) = bytes.get(10..12).map(|b| u16::from_le_bytes([b[0], b[1]])) else {
        return Ok(()); // too short: the parser says so
    };
    let mut pos = 12;
    while let Some(&id) = bytes.get(pos) {
        let (len, header) = match major {
            3 => (bytes.get(pos + 1..pos + 3).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize), 3),
            4 => (bytes.get(pos + 1..pos + 5).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize), 5),
            _ => return Ok(()),
        };
        let Some(len) = len else { return Ok(()) };
        let Some(value) = pos.checked_add(header).and_then(|start| bytes.get(start..start.checked_add(len)?)) else {
            return Ok(());
        };
        let min_len = match (major, id) {
            (3, 3 | 10) | (4, 3) => 4,
            (3, 6) => 8,
            _ => 0,
        };
        if value.len() < min_len {
            return Err(short(id));
        }
        match (major, id) {
            (_, 0) => return Ok(()),
            (3, 6) if value.len() == 8 => {
                let rounds = u64::from_le_bytes(value.try_into().unwrap_or_default());
                if rounds > MAX_AES_ROUNDS {
                    return Err(too_large(format!(
                        "its key derivation asks for {rounds} AES rounds (limit {MAX_AES_ROUNDS})"
                    )));
                }
            }
            (4, 11) => {
                let params = variant_dictionary_numbers(value).ok_or_else(|| short(id))?;
                let get = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| *v);
                if let Some(rounds) = get("R").filter(|r| *r > MAX_AES_ROUNDS) {
                    return Err(too_large(format!(
                        "its key derivation asks for {rounds} AES rounds (limit {MAX_AES_ROUNDS})"
                    )));
                }
                let memory = get("M").unwrap_or(0);
                let iterations = get("I").unwrap_or(0);
                if memory > MAX_ARGON2_MEMORY {
                    return Err(too_large(format!(
                        "its key derivation asks for {} MiB of memory (limit {} MiB)",
                        memory >> 20,
                        MAX_ARGON2_MEMORY >> 20
                    )));
                }
                if iterations > MAX_ARGON2_ITERATIONS || memory.saturating_mul(iterations) > MAX_ARGON2_WORK {
                    return Err(too_large(format!(
                        "its key derivation asks for {iterations} Argon2 passes over {} MiB",
                        memory >> 20
                    )));
                }
                if get("P").is_some_and(|p| p > MAX_ARGON2_PARALLELISM) {
                    return Err(too_large("its key derivation asks for more than 256 Argon2 lanes".into()));
                }
            }
            _ => {}
        }
        pos += header + len;
    }
    Ok(())
}

/// The numeric entries of a KDBX 4 variant dictionary (KeePass's typed
/// key–value list: u16 version, then type u8, key length u32, key, value
/// length u32, value; type 0 ends it). `None` when a number's value has the
/// wrong length.
fn variant_dictionary_numbers(bytes: &[u8]) -> Option<Vec<(String, u64)>> {
    let mut out = Vec::new();
    let mut pos = 2;
    let read_u32 = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    while let Some(&kind) = bytes.get(pos) {
        if kind == 0 {
            break;
        }
        let Some(key_len) = read_u32(pos + 1) else { break };
        let Some(key) = bytes.get(pos + 5..(pos + 5).saturating_add(key_len)) else { break };
        let at = pos + 5 + key_len;
        let Some(value_len) = read_u32(at) else { break };
        let Some(value) = bytes.get(at + 4..(at + 4).saturating_add(value_len)) else { break };
        let number = match (kind, value.len()) {
            (0x04, 4) => Some(u64::from(u32::from_le_bytes([value[0], value[1], value[2], value[3]]))),
            (0x05, 8) => Some(u64::from_le_bytes(value.try_into().unwrap_or_default())),
            // UInt32, UInt64, Bool, Int32, Int64 of any other length.
            (0x04 | 0x05 | 0x08 | 0x0C | 0x0D, _) => return None,
            _ => None,
        };
        if let Some(n) = number {
            out.push((String::from_utf8_lossy(key).into_owned(), n));
        }
        pos = at + 4 + value_len;
    }
    Some(out)
}

/// Reads a KDBX 3.1 or 4 file (see the module docs for the mapping).
pub fn parse(bytes: &[u8], key: &SourceKey) -> Result<Imported, ImportError> {
    check_outer_header(bytes)?;
    let db = open(bytes, key)?;
    let imported = import_database(&db);
    // Freeing a large database's tree takes a while; let it happen while
    // the vault is written.
    std::thread::spawn(move || drop(db));
    Ok(imported)
}

/// Converts every entry of an opened database: the group tree is walked
/// once to give each entry its folder, then entries convert in parallel.
pub fn import_database(db: &Database) -> Imported {
    let mut out = Imported::default();
    let recycle_bin = db.recycle_bin().map(|g| g.id());
    let mut entries: Vec<(EntryId, usize, bool)> = Vec::new();
    let mut folders: Vec<String> = Vec::new();
    let mut stack: Vec<(GroupId, String, bool, usize)> = vec![(db.root().id(), String::new(), false, 0)];
    while let Some((group, path, trashed, depth)) = stack.pop() {
        let Some(group) = db.group(group) else { continue };
        let folder = folders.len();
        entries.extend(group.entries().map(|e| (e.id(), folder, trashed)));
        for child in group.groups() {
            if depth + 1 > MAX_DEPTH {
                out.skipped.push(Skipped {
                    line_or_entry: format!("group {:?}", child.name),
                    reason: format!("groups nested deeper than {MAX_DEPTH} levels are not imported"),
                });
                continue;
            }
            let in_bin = trashed || Some(child.id()) == recycle_bin;
            // The recycle bin's own name is not a folder: its entries go to
            // the trash with the path they have inside it.
            let child_path = if Some(child.id()) == recycle_bin {
                path.clone()
            } else if path.is_empty() {
                child.name.replace('/', "-")
            } else {
                format!("{path}/{}", child.name.replace('/', "-"))
            };
            stack.push((child.id(), child_path, in_bin, depth + 1));
        }
        folders.push(path);
    }
    let converted: Vec<Result<NewItem, Skipped>> = entries
        .par_iter()
        .filter_map(|&(id, folder, trashed)| {
            let entry = db.entry(id)?;
            Some(import_entry(&entry, &folders[folder], trashed).map_err(|reason| Skipped {
                line_or_entry: format!("entry {:?}", entry.get_title().unwrap_or("")),
                reason,
            }))
        })
        .collect();
    for result in converted {
        match result {
            Ok(item) => out.items.push(item),
            Err(skipped) => out.skipped.push(skipped),
        }
    }
    out
}

fn import_entry(entry: &EntryRef<'_>, folder: &str, trashed: bool) -> Result<NewItem, String> {
    let mut history = Vec::new();
    if let Some(h) = &entry.history {
        for index in 0..h.get_entries().len() {
            if let Some(version) = entry.historical(index) {
                history.push(version_of(&version, folder)?);
            }
        }
    }
    let mut current = version_of(entry, folder)?;
    // When the password last changed: the oldest unbroken run of versions
    // ending in the current one that all carry the current password.
    let mut changed = current.item.updated;
    for version in history.iter().rev() {
        if version.item.password != current.item.password {
            break;
        }
        changed = version.item.updated;
    }
    current.item.password_changed = changed;
    if trashed {
        current.item.deleted = Some(current.item.updated);
    }
    if let Ok(id) = ItemId::from_slice(entry.id().uuid().as_bytes()) {
        current.item.id = id;
    }
    Ok(NewItem { current, history })
}

/// One version of an entry (the current one or a history snapshot).
fn version_of(entry: &EntryRef<'_>, folder: &str) -> Result<NewVersion, String> {
    let title = entry.get_title().unwrap_or("").to_owned();
    let username = entry.get_username().unwrap_or("");
    let password = entry.get_password().unwrap_or("");
    let notes = entry.get(fields::NOTES).unwrap_or("");
    let kind = if username.is_empty() && password.is_empty() && entry.get_url().is_none_or(str::is_empty) {
        if notes.is_empty() { ItemType::Login } else { ItemType::Note }
    } else {
        ItemType::Login
    };
    let mut item = Item::new(kind, title.clone());
    item.username = username.to_owned();
    item.password = password.to_owned();
    item.notes = notes.to_owned();
    item.folder = folder.to_owned();
    item.tags = entry.tags.clone();
    if let Some(url) = entry.get_url() {
        item.urls.push(url.to_owned());
    }

    let mut names: Vec<&String> = entry.fields.keys().collect();
    // KeePass keeps fields in a map; sort for a stable order, with
    // KeePassXC's extra URLs in their numbered order.
    names.sort_by_key(|name| natural_key(name));
    for name in names {
        let Some(value) = entry.fields.get(name) else { continue };
        if fields::KNOWN_FIELDS.contains(&name.as_str()) || name == fields::OTP {
            continue;
        }
        if name.starts_with(EXTRA_URL_PREFIX) {
            item.urls.push(value.get().clone());
            continue;
        }
        if name == LEGACY_TOTP_SEED || name == LEGACY_TOTP_SETTINGS {
            continue;
        }
        item.fields.push(Field { name: name.clone(), value: value.get().clone(), protected: value.is_protected() });
    }

    match (entry.get(fields::OTP), entry.get(LEGACY_TOTP_SEED)) {
        (Some(uri), _) if !uri.trim().is_empty() => match otp_uri(uri, &title) {
            Some(uri) => item.otp = Some(uri.to_string()),
            None => keep_unreadable_otp(&mut item, fields::OTP, uri),
        },
        (_, Some(seed)) if !seed.trim().is_empty() => {
            match legacy_totp(seed, entry.get(LEGACY_TOTP_SETTINGS), &title) {
                Some(uri) => item.otp = Some(uri.to_string()),
                None => keep_unreadable_otp(&mut item, LEGACY_TOTP_SEED, seed),
            }
        }
        _ => {}
    }

    if let Some(auto_type) = &entry.autotype {
        item.auto_type = auto_type_of(auto_type);
    }

    let times = &entry.times;
    let now = OffsetDateTime::now_utc();
    item.created = times.creation.map_or(now, to_time);
    item.updated = times.last_modification.map_or(item.created, to_time);
    item.password_changed = item.updated;
    if times.expires == Some(true) {
        item.expires = Some(to_time(times.expiry));
    }

    let mut attachments = Vec::new();
    for (name, attachment) in entry.attachments_named() {
        attachments
            .push(NewAttachment { name: name.to_owned(), content: Zeroizing::new(attachment.data.get().clone()) });
    }
    attachments.sort_by(|a, b| a.name.cmp(&b.name));
    crate::keeagent::import(&mut item, &mut attachments);

    // Checked here so a bad entry is skipped, not the whole import failed.
    item.normalize().map_err(|e| e.to_string())?;
    Ok(NewVersion { item, attachments })
}

/// An entry's `<AutoType>`: `Enabled`, `DefaultSequence`, and each
/// `Association` (`Window`, `KeystrokeSequence`; an empty sequence means the
/// entry's own). KeePassXC writes `<AutoType>` on every entry, enabled with
/// no sequence, which maps to the default and so adds nothing to the item.
fn auto_type_of(auto_type: &keepass::db::AutoType) -> AutoTypeSettings {
    AutoTypeSettings {
        enabled: auto_type.enabled,
        sequence: auto_type.default_sequence.clone(),
        rules: auto_type
            .associations
            .iter()
            .map(|a| AutoTypeRule { window: a.window.clone(), sequence: Some(a.sequence.clone()) })
            .collect(),
    }
}

fn kdbx_auto_type(settings: &AutoTypeSettings) -> keepass::db::AutoType {
    keepass::db::AutoType {
        enabled: settings.enabled,
        default_sequence: settings.sequence.clone(),
        data_transfer_obfuscation: keepass::db::DataTransferObfuscation::None,
        associations: settings
            .rules
            .iter()
            .map(|r| keepass::db::AutoTypeAssociation {
                window: r.window.clone(),
                sequence: r.sequence.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

/// An OTP value the vault cannot parse is kept, protected, as a custom
/// field rather than dropped.
fn keep_unreadable_otp(item: &mut Item, name: &str, value: &str) {
    item.set_field(name, value, true);
}

/// KeePassXC's pre-2.6 form: a base32 seed and `period;digits` settings,
/// where the digits may be `S` for Steam.
fn legacy_totp(seed: &str, settings: Option<&str>, label: &str) -> Option<Zeroizing<String>> {
    let (period, digits) = settings.and_then(|s| s.split_once(';')).unwrap_or(("30", "6"));
    let secret = seed.trim();
    let uri = if digits.trim().eq_ignore_ascii_case("S") {
        Zeroizing::new(format!("otpauth://totp/Steam:?secret={secret}&issuer=Steam&encoder=steam"))
    } else {
        Zeroizing::new(format!("otpauth://totp/?secret={secret}&period={}&digits={}", period.trim(), digits.trim()))
    };
    otp_uri(&uri, label)
}

/// Sorts `KP2A_URL_10` after `KP2A_URL_9`.
fn natural_key(name: &str) -> (String, u64) {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (stem, number) = name.split_at(name.len() - digits);
    (stem.to_owned(), number.parse().unwrap_or(0))
}

fn to_time(t: NaiveDateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.and_utc().timestamp()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn to_naive(t: OffsetDateTime) -> NaiveDateTime {
    DateTime::<Utc>::from_timestamp(t.unix_timestamp(), 0).unwrap_or_default().naive_utc()
}

// --- export -----------------------------------------------------------------

/// Writes every live item of `vault`, with its history, to a KDBX 4 file
/// protected by `password`. Returns the file's bytes.
pub fn export(vault: &Vault, password: &SourceKey) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let write_error = |reason: String| ExportError::Write { format: Format::Keepass, reason };
    let mut config = DatabaseConfig::default();
    config.version = DatabaseVersion::KDB4(1);
    config.outer_cipher_config = OuterCipherConfig::AES256;
    config.inner_cipher_config = InnerCipherConfig::ChaCha20;
    config.kdf_config = KdfConfig::Argon2id {
        iterations: EXPORT_ARGON2_ITERATIONS,
        memory: EXPORT_ARGON2_MEMORY,
        parallelism: EXPORT_ARGON2_PARALLELISM,
        version: argon2::Version::Version13,
    };
    let mut db = Database::with_config(config);
    db.meta.generator = Some("Tessera".into());
    db.root_mut().name = "Root".into();

    let mut items = Vec::new();
    vault.each_item(Scope::Live, |item| items.push(item.clone()))?;
    items.sort_by(|a, b| a.folder.cmp(&b.folder).then(a.title.cmp(&b.title)));
    let mut groups: HashMap<String, GroupId> = HashMap::new();
    let root = db.root().id();
    for item in &items {
        let group = group_for(&mut db, &mut groups, root, &item.folder);
        let mut history = vault.history(item.id)?;
        history.reverse();
        let mut attachments = Vec::new();
        for reference in &item.attachments {
            attachments.push((reference.name.clone(), vault.attachment_content(item.id, reference)?));
        }
        let mut parent = db.group_mut(group).ok_or_else(|| write_error("a folder group vanished".into()))?;
        let entry_id = keepass::db::EntryId::from_uuid(uuid::Uuid::from_bytes(*item.id.as_bytes()));
        let mut entry = match parent.add_entry_with_id(entry_id) {
            Ok(entry) => entry,
            Err(_) => parent.add_entry(),
        };
        write_fields(&mut entry, item);
        // Snapshots are clones of the entry before attachments are added,
        // so no history version claims the current attachments.
        let snapshots: Vec<Entry> = history
            .iter()
            .rev()
            .map(|version| {
                let mut snapshot: Entry = (*entry).clone();
                snapshot.history = None;
                snapshot.fields.clear();
                write_fields(&mut snapshot, version);
                snapshot
            })
            .collect();
        let list = entry.history.get_or_insert_default();
        for snapshot in snapshots {
            list.add_entry(snapshot);
        }
        for (name, content) in attachments {
            entry.add_attachment(name, Value::protected(content.to_vec()));
        }
        if let Some(files) = crate::keeagent::export(item) {
            // The key travels as KeeAgent's attachment, not also as a field.
            entry.fields.remove(tessera_core::item::SSH_PRIVATE_KEY);
            for (name, content) in files {
                entry.add_attachment(name, Value::protected(content.to_vec()));
            }
        }
    }

    let mut out = Zeroizing::new(Vec::new());
    let db_key = database_key(password).map_err(|e| write_error(e.to_string()))?;
    db.save(&mut *out, db_key).map_err(|e| write_error(e.to_string()))?;
    Ok(out)
}

fn group_for(db: &mut Database, groups: &mut HashMap<String, GroupId>, root: GroupId, folder: &str) -> GroupId {
    if folder.is_empty() {
        return root;
    }
    if let Some(id) = groups.get(folder) {
        return *id;
    }
    let (parent_path, name) = folder.rsplit_once('/').unwrap_or(("", folder));
    let parent = group_for(db, groups, root, parent_path);
    let id = match db.group_mut(parent) {
        Some(mut parent) => {
            let mut group = parent.add_group();
            group.name = name.to_owned();
            group.id()
        }
        None => root,
    };
    groups.insert(folder.to_owned(), id);
    id
}

/// Writes an item's text, tags and times into `entry`.
fn write_fields(entry: &mut Entry, item: &Item) {
    entry.set_unprotected(fields::TITLE, item.title.as_str());
    entry.set_unprotected(fields::USERNAME, item.username.as_str());
    entry.set_protected(fields::PASSWORD, item.password.as_str());
    entry.set_unprotected(fields::NOTES, item.notes.as_str());
    entry.set_unprotected(fields::URL, item.urls.first().map_or("", String::as_str));
    for (i, url) in item.urls.iter().enumerate().skip(1) {
        let name = if i == 1 { EXTRA_URL_PREFIX.to_owned() } else { format!("{EXTRA_URL_PREFIX}_{}", i - 1) };
        entry.set_unprotected(name, url.as_str());
    }
    if let Some(otp) = &item.otp {
        entry.set_protected(fields::OTP, otp.as_str());
    }
    for field in &item.fields {
        let value = if field.protected {
            Value::protected(field.value.as_str())
        } else {
            Value::unprotected(field.value.as_str())
        };
        entry.set(field.name.as_str(), value);
    }
    entry.tags = item.tags.clone();
    entry.autotype = Some(kdbx_auto_type(&item.auto_type));
    entry.times.creation = Some(to_naive(item.created));
    entry.times.last_modification = Some(to_naive(item.updated));
    entry.times.last_access = Some(to_naive(item.updated));
    if let Some(expires) = item.expires {
        entry.times.expires = Some(true);
        entry.times.expiry = to_naive(expires);
    } else {
        entry.times.expires = Some(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE_KDBX31: &[u8] = include_bytes!("../../../tests/data/peers/sample-kdbx31.kdbx");
    const SAMPLE_KDBX4: &[u8] = include_bytes!("../../../tests/data/peers/sample-kdbx4.kdbx");

    fn key(password: &str) -> SourceKey {
        SourceKey { password: Some(Zeroizing::new(password.into())), key_file: None }
    }

    #[derive(serde::Deserialize)]
    struct Expected {
        title: String,
        username: String,
        password: String,
        url: String,
        notes: String,
        otp: Option<String>,
        fields: std::collections::BTreeMap<String, String>,
        history: Vec<String>,
        group: String,
    }

    fn check_against_manifest(file: &[u8], manifest: &str, history_in_file: bool) {
        let imported = parse(file, &key("sample-password")).expect("the sample opens");
        assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
        let expected: Vec<Expected> = serde_json::from_str(manifest).expect("manifest");
        assert_eq!(imported.items.len(), expected.len());
        for e in &expected {
            let folder = if e.group == "Root" { "" } else { e.group.as_str() };
            let found = imported
                .items
                .iter()
                .find(|n| {
                    let i = &n.current.item;
                    i.title == e.title && i.username == e.username && i.folder == folder
                })
                .unwrap_or_else(|| panic!("entry {:?} in {folder:?} was not imported", e.title));
            let item = &found.current.item;
            assert_eq!(item.password, e.password, "{}", e.title);
            assert_eq!(item.urls.first().map_or("", String::as_str), e.url, "{}", e.title);
            assert_eq!(item.notes, e.notes, "{}", e.title);
            let fields: std::collections::BTreeMap<String, String> =
                item.fields.iter().map(|f| (f.name.clone(), f.value.clone())).collect();
            assert_eq!(fields, e.fields, "{}", e.title);
            match &e.otp {
                Some(uri) => {
                    let want = tessera_core::totp::Otp::parse_uri(uri).expect("manifest otp");
                    let got = item.otp().expect("otp parses").expect("otp imported");
                    for t in [0u64, 59, 1_111_111_109, 2_000_000_000] {
                        assert_eq!(
                            got.code_at(t).expect("code").code.as_str(),
                            want.code_at(t).expect("code").code.as_str(),
                            "{} at {t}",
                            e.title
                        );
                    }
                }
                None => assert!(item.otp.is_none(), "{}", e.title),
            }
            // The samples' entries use KeePassXC's defaults, which add nothing.
            assert!(item.auto_type.is_default(), "{}: {:?}", e.title, item.auto_type);
            let history: Vec<&str> = found.history.iter().map(|v| v.item.password.as_str()).collect();
            if history_in_file {
                assert_eq!(history, e.history.iter().map(String::as_str).collect::<Vec<_>>(), "{}", e.title);
            } else {
                assert!(history.is_empty());
            }
        }
    }

    #[test]
    fn auto_type_settings_round_trip_through_kdbx() {
        use tessera_core::{KeyEncryptionKey, NewSlot, OpenOptions};
        let dir = tempfile::tempdir().unwrap();
        let kek = KeyEncryptionKey::from_bytes(Zeroizing::new([7; 32]));
        let slot = NewSlot { kind: "test".into(), label: "Test".into(), params: vec![], kek };
        let mut vault = Vault::create(dir.path().join("v.tessera"), vec![slot], &OpenOptions::default()).unwrap();
        let mut custom = Item::new(ItemType::Login, "Shell");
        custom.username = "alice".into();
        custom.auto_type = AutoTypeSettings {
            enabled: true,
            sequence: Some("{USERNAME}{TAB}{PASSWORD}{TAB}{TOTP}{ENTER}".into()),
            rules: vec![
                AutoTypeRule { window: "*Firefox*".into(), sequence: None },
                AutoTypeRule { window: "xterm - ssh*".into(), sequence: Some("{PASSWORD}{ENTER}".into()) },
            ],
        };
        let mut off = Item::new(ItemType::Login, "Off");
        off.auto_type.enabled = false;
        let plain = Item::new(ItemType::Login, "Plain");
        vault.add(vec![custom.clone(), off, plain]).unwrap();

        let file = export(&vault, &key("pw")).unwrap();
        let imported = parse(&file, &key("pw")).unwrap();
        let by_title = |title: &str| {
            imported.items.iter().find(|n| n.current.item.title == title).map(|n| &n.current.item.auto_type).unwrap()
        };
        assert_eq!(by_title("Shell"), &custom.auto_type);
        assert!(!by_title("Off").enabled && by_title("Off").rules.is_empty());
        assert!(by_title("Plain").is_default());
    }

    #[test]
    fn keepassxc_kdbx31_sample_imports_every_field_of_its_manifest() {
        check_against_manifest(SAMPLE_KDBX31, include_str!("../../../tests/data/peers/sample-kdbx31.json"), true);
    }

    #[test]
    fn pykeepass_kdbx4_sample_imports_every_field_of_its_manifest() {
        // Its manifest lists two earlier passwords for GitHub, but the file
        // holds no <History> at all (see tests/data/README.md).
        check_against_manifest(SAMPLE_KDBX4, include_str!("../../../tests/data/peers/sample-kdbx4.json"), false);
    }

    #[test]
    fn wrong_source_password_is_reported_as_such() {
        assert!(matches!(parse(SAMPLE_KDBX4, &key("wrong")), Err(ImportError::WrongPassword)));
        assert!(matches!(parse(SAMPLE_KDBX31, &key("wrong")), Err(ImportError::WrongPassword)));
    }

    #[test]
    fn truncated_files_are_malformed_not_a_panic() {
        for file in [SAMPLE_KDBX31, SAMPLE_KDBX4] {
            for len in [0, 4, 12, 100, file.len() / 2, file.len() - 1] {
                let result = parse(&file[..len], &key("sample-password"));
                assert!(matches!(result, Err(ImportError::Malformed { .. } | ImportError::WrongPassword)), "{len}");
            }
        }
    }

    /// A KDBX 3.1 file around arbitrary inner XML (AES-KDF with few rounds,
    /// AES-256-CBC, no compression, no inner stream cipher), as an attacker
    /// who knows the password could make: the `keepass` crate cannot write
    /// hostile XML itself.
    fn kdbx31(xml: &[u8], password: &str) -> Vec<u8> {
        use aes::Aes256;
        use cipher::block_padding::Pkcs7;
        use cipher::{BlockCipherEncrypt, BlockModeEncrypt, KeyInit, KeyIvInit};
        use sha2::{Digest, Sha256};

        const AES_CIPHER: [u8; 16] =
            [0x31, 0xc1, 0xf2, 0xe6, 0xbf, 0x71, 0x43, 0x50, 0xbe, 0x58, 0x05, 0x21, 0x6a, 0xfc, 0x5a, 0xff];
        let (master_seed, transform_seed, iv, stream_start) = ([1u8; 32], [2u8; 32], [3u8; 16], [4u8; 32]);
        let rounds = 10u64;
        let mut out = vec![0x03, 0xd9, 0xa2, 0x9a, 0x67, 0xfb, 0x4b, 0xb5, 0x01, 0x00, 0x03, 0x00];
        let mut field = |id: u8, data: &[u8]| {
            out.push(id);
            out.extend_from_slice(&(data.len() as u16).to_le_bytes());
            out.extend_from_slice(data);
        };
        field(2, &AES_CIPHER);
        field(3, &0u32.to_le_bytes());
        field(4, &master_seed);
        field(5, &transform_seed);
        field(6, &rounds.to_le_bytes());
        field(7, &iv);
        field(8, &[5u8; 32]);
        field(9, &stream_start);
        field(10, &0u32.to_le_bytes());
        field(0, b"\r\n\r\n");

        let composite = Sha256::digest(Sha256::digest(password.as_bytes()));
        let kdf = Aes256::new(&transform_seed.into());
        let mut halves: [[u8; 16]; 2] = [[0; 16]; 2];
        halves[0].copy_from_slice(&composite[..16]);
        halves[1].copy_from_slice(&composite[16..]);
        for _ in 0..rounds {
            for half in &mut halves {
                kdf.encrypt_block(half.into());
            }
        }
        let transformed = Sha256::digest(halves.concat());
        let master = Sha256::digest([&master_seed[..], &transformed[..]].concat());

        let mut payload = stream_start.to_vec();
        for (index, data) in [xml, &[][..]].into_iter().enumerate() {
            payload.extend_from_slice(&(index as u32).to_le_bytes());
            if data.is_empty() {
                payload.extend_from_slice(&[0; 32]);
            } else {
                payload.extend_from_slice(&Sha256::digest(data));
            }
            payload.extend_from_slice(&(data.len() as u32).to_le_bytes());
            payload.extend_from_slice(data);
        }
        let encryptor = cbc::Encryptor::<Aes256>::new_from_slices(&master, &iv).expect("key and iv sizes");
        out.extend_from_slice(&encryptor.encrypt_padded_vec::<Pkcs7>(&payload));
        out
    }

    fn keepass_xml(root_content: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><KeePassFile><Meta><Generator>test</Generator></Meta>\
             <Root><Group><UUID>AAAAAAAAAAAAAAAAAAAAAQ==</UUID><Name>Root</Name>{root_content}</Group></Root></KeePassFile>"
        )
    }

    #[test]
    fn handmade_kdbx31_writer_matches_the_format() {
        let entry = "<Entry><UUID>AAAAAAAAAAAAAAAAAAAAAg==</UUID><String><Key>Title</Key><Value>Handmade</Value></String>\
                     <String><Key>Password</Key><Value>pw</Value></String></Entry>";
        let file = kdbx31(keepass_xml(entry).as_bytes(), "pw");
        let imported = parse(&file, &key("pw")).expect("a well-formed handmade file opens");
        assert_eq!(imported.items.len(), 1);
        assert_eq!(imported.items[0].current.item.title, "Handmade");
    }

    #[test]
    fn billion_laughs_xml_is_refused_without_expanding() {
        let mut dtd = String::from("<!DOCTYPE KeePassFile [<!ENTITY lol0 \"lol\">");
        for i in 1..10 {
            let previous = format!("&lol{};", i - 1).repeat(10);
            dtd.push_str(&format!("<!ENTITY lol{i} \"{previous}\">"));
        }
        dtd.push(']');
        dtd.push('>');
        let xml = keepass_xml("<Entry><UUID>AAAAAAAAAAAAAAAAAAAAAg==</UUID><String><Key>Title</Key><Value>&lol9;</Value></String></Entry>")
            .replacen("<KeePassFile>", &format!("{dtd}<KeePassFile>"), 1);
        let file = kdbx31(xml.as_bytes(), "pw");
        let started = std::time::Instant::now();
        let result = parse(&file, &key("pw"));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        match result {
            Err(ImportError::Malformed { .. }) => {}
            Ok(imported) => {
                // An entity left unexpanded is acceptable; an expanded one is not.
                assert!(imported.items.iter().all(|i| i.current.item.title.len() < 1000));
            }
            Err(other) => panic!("unexpected error {other}"),
        }
    }

    #[test]
    fn deeply_nested_groups_fail_cleanly() {
        let depth = 100_000;
        let open = "<Group><UUID>AAAAAAAAAAAAAAAAAAAAAw==</UUID><Name>g</Name>".repeat(depth);
        let xml = keepass_xml(&format!("{open}{}", "</Group>".repeat(depth)));
        let result = parse(&kdbx31(xml.as_bytes(), "pw"), &key("pw"));
        assert!(matches!(result, Err(ImportError::Malformed { .. } | ImportError::TooLarge { .. })), "{result:?}");
    }

    #[test]
    fn huge_declared_block_size_is_refused() {
        let mut file = kdbx31(keepass_xml("").as_bytes(), "pw");
        // A header field that claims 65,535 bytes where the file ends.
        let cut = file.len() - 40;
        file.truncate(cut);
        file.extend_from_slice(&[7, 0xff, 0xff]);
        assert!(parse(&file, &key("pw")).is_err());
    }

    /// Found by `fuzz_mutated_kdbx31_never_panics`: the `keepass` crate
    /// reads a 4-byte number from a header field without checking its length.
    #[test]
    fn short_header_fields_are_malformed_not_a_panic() {
        let file = kdbx31(keepass_xml("").as_bytes(), "pw");
        // Field 3 (compression flags) sits after the signature (12 bytes)
        // and field 2 (3 + 16 bytes); give it length 0.
        assert_eq!(file[31], 3);
        let mut short = file[..31].to_vec();
        short.extend_from_slice(&[3, 0, 0]);
        short.extend_from_slice(&file[38..]);
        assert!(matches!(parse(&short, &key("pw")), Err(ImportError::Malformed { .. })));
    }

    #[test]
    fn absurd_kdf_parameters_are_refused_before_any_work() {
        let mut file = kdbx31(keepass_xml("").as_bytes(), "pw");
        file[111..119].copy_from_slice(&u64::MAX.to_le_bytes());
        let started = std::time::Instant::now();
        assert!(matches!(parse(&file, &key("pw")), Err(ImportError::TooLarge { .. })));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));

        // KDBX 4: find the Argon2 "M" entry of the sample and ask for 1 TiB.
        let mut file = SAMPLE_KDBX4.to_vec();
        let m = file.windows(6).position(|w| w == [0x05, 1, 0, 0, 0, b'M']).expect("the sample has Argon2 memory");
        file[m + 10..m + 18].copy_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(matches!(parse(&file, &key("sample-password")), Err(ImportError::TooLarge { .. })));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(crate::fuzz_cases()))]

        #[test]
        fn fuzz_kdbx_header_bytes_never_panic(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let mut file = vec![0x03, 0xd9, 0xa2, 0x9a, 0x67, 0xfb, 0x4b, 0xb5];
            file.extend_from_slice(&tail);
            let _ = parse(&file, &key("pw"));
        }

        #[test]
        fn fuzz_kdbx_inner_xml_never_panics(xml in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let _ = parse(&kdbx31(&xml, "pw"), &key("pw"));
        }

        #[test]
        // Mutations of a whole file, header and ciphertext alike (a KDBX 3.1
        // with a 10-round KDF, so thousands of cases stay quick).
        fn fuzz_mutated_kdbx31_never_panics(index in 0usize..4096, byte in proptest::prelude::any::<u8>()) {
            let entry = "<Entry><UUID>AAAAAAAAAAAAAAAAAAAAAg==</UUID><String><Key>Title</Key><Value>T</Value></String></Entry>";
            let mut file = kdbx31(keepass_xml(entry).as_bytes(), "pw");
            let mut i = index % file.len();
            // Not the rounds (bytes 111..119): a billion legal rounds is a
            // minute of honest work, not a bug.
            if (108..119).contains(&i) {
                i = 0;
            }
            file[i] = byte;
            let _ = parse(&file, &key("pw"));
        }
    }
}
