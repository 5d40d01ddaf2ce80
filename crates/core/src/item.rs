//! Items in the clear: what a user stores (login, secure note, card,
//! identity) once it has been opened. The sealed form is [`crate::sealed`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::ids::{AttachmentId, ItemId};
use crate::totp::Otp;

/// Largest attachment accepted, in bytes (25 MiB).
pub const MAX_ATTACHMENT_SIZE: u64 = 25 * 1024 * 1024;
/// Largest text of any single string in an item (title, notes, a field value…).
pub const MAX_TEXT_LEN: usize = 1024 * 1024;
/// Most custom fields, URLs or tags an item may carry.
pub const MAX_LIST_LEN: usize = 1000;
/// How many earlier versions of an item are kept.
pub const HISTORY_LIMIT: usize = 20;

/// The kinds of item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemType {
    /// A website or service login: username, password, URLs, TOTP.
    Login,
    /// A secure note: the notes are the secret.
    Note,
    /// A payment card; its details live in custom fields.
    Card,
    /// A person's identity details, in custom fields.
    Identity,
    /// An SSH key pair: the private key in the protected field
    /// [`SSH_PRIVATE_KEY`], the public key, its SHA256 fingerprint and its
    /// comment in plain ones (see `tessera-agent`).
    #[serde(rename = "ssh-key")]
    SshKey,
}

/// The custom field holding an SSH key item's private key (OpenSSH format).
pub const SSH_PRIVATE_KEY: &str = "Private key";
/// The custom field holding an SSH key item's `authorized_keys` line.
pub const SSH_PUBLIC_KEY: &str = "Public key";
/// The custom field holding an SSH key's `SHA256:…` fingerprint.
pub const SSH_FINGERPRINT: &str = "Fingerprint";
/// The custom field holding an SSH key's comment.
pub const SSH_COMMENT: &str = "Comment";

/// When the SSH agent asks before signing with a key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentApproval {
    /// Every signature.
    #[default]
    Every,
    /// The first signature after each unlock.
    OncePerUnlock,
    /// Never: any process of the user may sign while the vault is unlocked.
    Never,
}

impl AgentApproval {
    /// `every`, `once-per-unlock` or `never`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentApproval::Every => "every",
            AgentApproval::OncePerUnlock => "once-per-unlock",
            AgentApproval::Never => "never",
        }
    }

    fn is_default(&self) -> bool {
        *self == AgentApproval::Every
    }
}

impl FromStr for AgentApproval {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        [AgentApproval::Every, AgentApproval::OncePerUnlock, AgentApproval::Never]
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unknown approval {s:?}: expected every, once-per-unlock or never"))
    }
}

impl ItemType {
    /// All item types, in display order.
    pub const ALL: [ItemType; 5] =
        [ItemType::Login, ItemType::Note, ItemType::Card, ItemType::Identity, ItemType::SshKey];

    /// The lower-case name used in the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::Login => "login",
            ItemType::Note => "note",
            ItemType::Card => "card",
            ItemType::Identity => "identity",
            ItemType::SshKey => "ssh-key",
        }
    }

    pub(crate) fn code(self) -> i64 {
        match self {
            ItemType::Login => 1,
            ItemType::Note => 2,
            ItemType::Card => 3,
            ItemType::Identity => 4,
            ItemType::SshKey => 5,
        }
    }

    /// Conventional custom fields for this type, as `(name, protected)`: what
    /// an editor offers when a new item of the type is created.
    pub fn template_fields(self) -> &'static [(&'static str, bool)] {
        match self {
            ItemType::Login | ItemType::Note => &[],
            ItemType::Card => &[
                ("Cardholder", false),
                ("Brand", false),
                ("Number", true),
                ("Expiry", false),
                ("Security code", true),
                ("PIN", true),
            ],
            ItemType::Identity => &[
                ("Full name", false),
                ("Email", false),
                ("Phone", false),
                ("Address", false),
                ("Birthday", false),
                ("Passport number", true),
                ("National ID", true),
            ],
            ItemType::SshKey => {
                &[(SSH_PRIVATE_KEY, true), (SSH_PUBLIC_KEY, false), (SSH_FINGERPRINT, false), (SSH_COMMENT, false)]
            }
        }
    }
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An item type name that is not one of `login`, `note`, `card`,
/// `identity`, `ssh-key`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown item type {0:?}: expected login, note, card, identity or ssh-key")]
pub struct UnknownItemType(pub String);

impl FromStr for ItemType {
    type Err = UnknownItemType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ItemType::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| UnknownItemType(s.to_owned()))
    }
}

/// A custom field. A protected field's value is hidden unless revealed, like
/// a password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Field {
    /// The field's name, unique within its item.
    pub name: String,
    /// The field's value.
    pub value: String,
    /// Whether the value is a secret.
    pub protected: bool,
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.protected { &"<redacted>" } else { &self.value };
        f.debug_struct("Field")
            .field("name", &self.name)
            .field("value", value)
            .field("protected", &self.protected)
            .finish()
    }
}

/// How auto-type types an item (the desktop app's global shortcut, see
/// `tessera-autotype`): KeePass's per-entry `<AutoType>` settings. The
/// default (enabled, the standard sequence, no window rules) is not
/// written at all, so items that never set it keep their sealed form.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct AutoTypeSettings {
    /// Whether auto-type may type this item at all.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// The item's own sequence (`{USERNAME}{TAB}{PASSWORD}{ENTER}` when
    /// `None`). May hold literal text, so `Debug` does not print it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<String>,
    /// Window-title rules (`*Firefox*`, or `//regex//`), in the user's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<AutoTypeRule>,
}

impl Default for AutoTypeSettings {
    fn default() -> Self {
        AutoTypeSettings { enabled: true, sequence: None, rules: Vec::new() }
    }
}

impl AutoTypeSettings {
    /// Enabled, standard sequence, no rules: what is left out of the item.
    pub fn is_default(&self) -> bool {
        *self == AutoTypeSettings::default()
    }

    fn normalize(&mut self) -> Result<(), InvalidItem> {
        self.sequence = trimmed_or_none(self.sequence.take());
        self.rules.retain(|r| !r.window.trim().is_empty());
        for rule in &mut self.rules {
            rule.window = rule.window.trim().to_owned();
            rule.sequence = trimmed_or_none(rule.sequence.take());
        }
        if self.rules.len() > MAX_LIST_LEN {
            return Err(InvalidItem::TooMany { what: "auto-type window rules".to_owned(), max: MAX_LIST_LEN });
        }
        let texts = self
            .sequence
            .iter()
            .chain(self.rules.iter().flat_map(|r| [Some(&r.window), r.sequence.as_ref()]).flatten());
        for text in texts {
            if text.len() > MAX_TEXT_LEN {
                return Err(InvalidItem::TooLong { what: "auto-type sequence or rule".to_owned(), max: MAX_TEXT_LEN });
            }
        }
        Ok(())
    }
}

impl fmt::Debug for AutoTypeSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutoTypeSettings")
            .field("enabled", &self.enabled)
            .field("sequence", &self.sequence.as_ref().map(|_| "<set>"))
            .field("rules", &self.rules)
            .finish()
    }
}

/// A window rule of an item's auto-type: the window titles it is for and,
/// optionally, the sequence to type there (KeePass's `<Association>`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
pub struct AutoTypeRule {
    /// `*`-wildcard pattern matched against the whole window title, or `//regex//`.
    pub window: String,
    /// The sequence for this window; `None` for the item's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<String>,
}

impl fmt::Debug for AutoTypeRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutoTypeRule")
            .field("window", &self.window)
            .field("sequence", &self.sequence.as_ref().map(|_| "<set>"))
            .finish()
    }
}

fn trimmed_or_none(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// An attachment as the item records it; the content is sealed separately.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// Where the sealed content is stored.
    pub id: AttachmentId,
    /// File name, unique within the item.
    pub name: String,
    /// Size of the content in bytes.
    pub size: u64,
    /// SHA-256 of the content, checked when it is read back.
    #[serde(with = "hex32")]
    pub sha256: [u8; 32],
}

/// An item in the clear. Zeroized on drop; `Debug` never prints the
/// password, the TOTP secret, protected field values or notes.
#[derive(Clone, PartialEq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Item {
    /// The item's identifier, stable across edits.
    #[zeroize(skip)]
    pub id: ItemId,
    /// What kind of item this is.
    #[zeroize(skip)]
    #[serde(rename = "type")]
    pub item_type: ItemType,
    /// Title shown in lists; may repeat between items.
    pub title: String,
    /// Username or e-mail.
    #[serde(default)]
    pub username: String,
    /// The password (empty when there is none).
    #[serde(default)]
    pub password: String,
    /// Websites this login belongs to.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Free text. For a secure note this is the secret.
    #[serde(default)]
    pub notes: String,
    /// An `otpauth://` URI (TOTP or HOTP), validated on save.
    #[serde(default)]
    pub otp: Option<String>,
    /// Custom fields, in the user's order.
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Tags, sorted and without duplicates.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Folder path such as `Work/Servers`; `""` is the root.
    #[serde(default)]
    pub folder: String,
    /// Shown first and in the tray.
    #[serde(default)]
    pub favourite: bool,
    /// Never offered to a browser extension, whatever the website.
    /// (Absent from items saved before it existed, and from items that do
    /// not set it, so their sealed form is unchanged.)
    #[serde(default, skip_serializing_if = "is_false")]
    pub never_autofill: bool,
    /// Never given to AI agents (the MCP server), whatever they are allowed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub never_for_agents: bool,
    /// An SSH key the SSH agent offers (while the vault is unlocked).
    #[serde(default, skip_serializing_if = "is_false")]
    pub ssh_agent: bool,
    /// When the SSH agent asks before signing with this key.
    #[zeroize(skip)]
    #[serde(default, skip_serializing_if = "AgentApproval::is_default")]
    pub agent_approval: AgentApproval,
    /// Auto-type: enabled, sequence, window rules (absent when default).
    #[serde(default, skip_serializing_if = "AutoTypeSettings::is_default")]
    pub auto_type: AutoTypeSettings,
    /// Attached files.
    #[zeroize(skip)]
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    /// For a conflict copy that sync made: the item it is a copy of, so the
    /// two can be compared and settled even when the title is what both
    /// sides changed. (Absent from every other item.)
    #[zeroize(skip)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict_of: Option<ItemId>,
    /// When the item was created.
    #[zeroize(skip)]
    #[serde(with = "time::serde::timestamp")]
    pub created: OffsetDateTime,
    /// When the item last changed.
    #[zeroize(skip)]
    #[serde(with = "time::serde::timestamp")]
    pub updated: OffsetDateTime,
    /// When the password last changed (for the "old password" report).
    #[zeroize(skip)]
    #[serde(with = "time::serde::timestamp")]
    pub password_changed: OffsetDateTime,
    /// When the password or card expires, if it does.
    #[zeroize(skip)]
    #[serde(default, with = "time::serde::timestamp::option")]
    pub expires: Option<OffsetDateTime>,
    /// When the item went to the trash; `None` while it is live.
    #[zeroize(skip)]
    #[serde(default, with = "time::serde::timestamp::option")]
    pub deleted: Option<OffsetDateTime>,
    /// Counts the item's saved versions, starting at 1. Bound into the
    /// vault's manifest so an older copy cannot be put back unnoticed.
    #[zeroize(skip)]
    pub revision: u64,
}

impl Item {
    /// A new, empty item of `item_type` with a fresh id and the current time.
    pub fn new(item_type: ItemType, title: impl Into<String>) -> Self {
        let now = now();
        Item {
            id: ItemId::random(),
            item_type,
            title: title.into(),
            username: String::new(),
            password: String::new(),
            urls: Vec::new(),
            notes: String::new(),
            otp: None,
            fields: Vec::new(),
            tags: Vec::new(),
            folder: String::new(),
            favourite: false,
            never_autofill: false,
            never_for_agents: false,
            ssh_agent: item_type == ItemType::SshKey,
            agent_approval: AgentApproval::default(),
            auto_type: AutoTypeSettings::default(),
            attachments: Vec::new(),
            conflict_of: None,
            created: now,
            updated: now,
            password_changed: now,
            expires: None,
            deleted: None,
            revision: 0,
        }
    }

    /// The custom field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Sets a custom field, replacing the value and protection of an
    /// existing field of that name or appending a new one.
    pub fn set_field(&mut self, name: &str, value: &str, protected: bool) {
        match self.fields.iter_mut().find(|f| f.name == name) {
            Some(f) => {
                f.value = value.to_owned();
                f.protected = protected;
            }
            None => self.fields.push(Field { name: name.to_owned(), value: value.to_owned(), protected }),
        }
    }

    /// The attachment called `name`.
    pub fn attachment(&self, name: &str) -> Option<&AttachmentRef> {
        self.attachments.iter().find(|a| a.name == name)
    }

    /// The parsed one-time-password generator, if the item has one.
    pub fn otp(&self) -> Result<Option<Otp>, InvalidItem> {
        self.otp.as_deref().map(|uri| Otp::parse_uri(uri).map_err(|e| InvalidItem::Otp(e.to_string()))).transpose()
    }

    /// The part of an item that lists and search show: no secret in it.
    pub fn summary(&self) -> ItemSummary {
        ItemSummary {
            id: self.id,
            item_type: self.item_type,
            title: self.title.clone(),
            username: self.username.clone(),
            urls: self.urls.clone(),
            folder: self.folder.clone(),
            tags: self.tags.clone(),
            favourite: self.favourite,
            has_password: !self.password.is_empty(),
            has_otp: self.otp.is_some(),
            created: self.created,
            updated: self.updated,
            expires: self.expires,
            deleted: self.deleted,
        }
    }

    /// Puts the item in canonical form and checks it, so every stored item
    /// is well formed: trimmed tags sorted without duplicates, a folder
    /// path without empty segments, no empty URLs, unique field and
    /// attachment names, a parseable TOTP URI, sizes within limits.
    pub fn normalize(&mut self) -> Result<(), InvalidItem> {
        self.folder = normalize_folder(&self.folder);
        self.urls.retain(|u| !u.trim().is_empty());
        for u in &mut self.urls {
            *u = u.trim().to_owned();
        }
        let mut tags: Vec<String> = self.tags.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        tags.sort();
        tags.dedup();
        self.tags = tags;
        if let Some(uri) = &self.otp {
            if uri.trim().is_empty() {
                self.otp = None;
            } else {
                self.otp()?;
            }
        }

        for (what, text) in [
            ("title", &self.title),
            ("username", &self.username),
            ("password", &self.password),
            ("notes", &self.notes),
            ("folder", &self.folder),
        ] {
            if text.len() > MAX_TEXT_LEN {
                return Err(InvalidItem::TooLong { what: what.to_owned(), max: MAX_TEXT_LEN });
            }
        }
        for (what, len) in [
            ("URLs", self.urls.len()),
            ("tags", self.tags.len()),
            ("custom fields", self.fields.len()),
            ("attachments", self.attachments.len()),
        ] {
            if len > MAX_LIST_LEN {
                return Err(InvalidItem::TooMany { what: what.to_owned(), max: MAX_LIST_LEN });
            }
        }
        for text in self.urls.iter().chain(&self.tags) {
            if text.len() > MAX_TEXT_LEN {
                return Err(InvalidItem::TooLong { what: "URL or tag".to_owned(), max: MAX_TEXT_LEN });
            }
        }
        self.auto_type.normalize()?;
        let mut names = std::collections::HashSet::new();
        for f in &mut self.fields {
            f.name = f.name.trim().to_owned();
            if f.name.is_empty() {
                return Err(InvalidItem::EmptyFieldName);
            }
            if f.name.len() > MAX_TEXT_LEN || f.value.len() > MAX_TEXT_LEN {
                return Err(InvalidItem::TooLong { what: format!("field {:?}", f.name), max: MAX_TEXT_LEN });
            }
            if !names.insert(f.name.clone()) {
                return Err(InvalidItem::DuplicateField(f.name.clone()));
            }
        }
        let mut names = std::collections::HashSet::new();
        for a in &self.attachments {
            if !names.insert(a.name.as_str()) {
                return Err(InvalidItem::DuplicateAttachment(a.name.clone()));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Item")
            .field("id", &self.id)
            .field("item_type", &self.item_type)
            .field("title", &self.title)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("urls", &self.urls)
            .field("notes", &format_args!("<{} bytes>", self.notes.len()))
            .field("otp", &self.otp.as_ref().map(|_| "<redacted>"))
            .field("fields", &self.fields)
            .field("tags", &self.tags)
            .field("folder", &self.folder)
            .field("favourite", &self.favourite)
            .field("never_autofill", &self.never_autofill)
            .field("never_for_agents", &self.never_for_agents)
            .field("ssh_agent", &self.ssh_agent)
            .field("agent_approval", &self.agent_approval)
            .field("auto_type", &self.auto_type)
            .field("attachments", &self.attachments)
            .field("conflict_of", &self.conflict_of)
            .field("created", &self.created)
            .field("updated", &self.updated)
            .field("expires", &self.expires)
            .field("deleted", &self.deleted)
            .field("revision", &self.revision)
            .finish()
    }
}

/// What lists and search show of an item. Holds no secret: no password, no
/// TOTP secret, no notes, no field values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemSummary {
    /// The item's id.
    pub id: ItemId,
    /// Its type.
    pub item_type: ItemType,
    /// Its title.
    pub title: String,
    /// Its username.
    pub username: String,
    /// Its URLs.
    pub urls: Vec<String>,
    /// Its folder path.
    pub folder: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Whether it is a favourite.
    pub favourite: bool,
    /// Whether it has a password (not the password).
    pub has_password: bool,
    /// Whether it has a TOTP/HOTP generator (not the secret).
    pub has_otp: bool,
    /// When it was created.
    pub created: OffsetDateTime,
    /// When it last changed.
    pub updated: OffsetDateTime,
    /// When it expires.
    pub expires: Option<OffsetDateTime>,
    /// When it went to the trash.
    pub deleted: Option<OffsetDateTime>,
}

/// Why an item cannot be stored as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidItem {
    /// The `otpauth://` URI does not parse.
    #[error("the one-time-password URI is not valid: {0}")]
    Otp(String),
    /// A custom field has no name.
    #[error("a custom field has an empty name")]
    EmptyFieldName,
    /// Two custom fields share a name.
    #[error("two custom fields are both called {0:?}; field names must be unique")]
    DuplicateField(String),
    /// Two attachments share a name.
    #[error("two attachments are both called {0:?}")]
    DuplicateAttachment(String),
    /// A text is over the size limit.
    #[error("the {what} is longer than {max} bytes")]
    TooLong {
        /// Which text.
        what: String,
        /// The limit.
        max: usize,
    },
    /// A list is over the length limit.
    #[error("more than {max} {what}")]
    TooMany {
        /// Which list.
        what: String,
        /// The limit.
        max: usize,
    },
    /// An attachment is over [`MAX_ATTACHMENT_SIZE`].
    #[error("the attachment is {size} bytes; the limit is {max} bytes (25 MiB)")]
    AttachmentTooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// New items carry no attachments; they are added afterwards.
    #[error("a new item cannot carry attachments; attach files after creating it")]
    AttachmentsOnCreate,
    /// An attachment name is empty or contains a path separator.
    #[error("attachment names must be non-empty file names without '/'")]
    BadAttachmentName,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_true(b: &bool) -> bool {
    *b
}

fn yes() -> bool {
    true
}

/// `"/Work//Servers/"` → `"Work/Servers"`; the root is `""`.
pub fn normalize_folder(path: &str) -> String {
    path.split('/').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("/")
}

/// The current time in UTC, to whole seconds (what the vault stores).
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&data_encoding::HEXLOWER.encode(v))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        let bytes = data_encoding::HEXLOWER.decode(s.as_bytes()).map_err(serde::de::Error::custom)?;
        bytes.try_into().map_err(|_| serde::de::Error::custom("expected 32 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login() -> Item {
        let mut item = Item::new(ItemType::Login, "Mail");
        item.password = "hunter2-secret".into();
        item.notes = "my pin is 4321".into();
        item.otp = Some("otpauth://totp/Mail:me?secret=JBSWY3DPEHPK3PXP".into());
        item.set_field("Recovery", "rc-secret-value", true);
        item.set_field("Plain", "visible", false);
        item
    }

    #[test]
    fn debug_never_prints_secrets() {
        let text = format!("{:?} {:#?}", login(), login());
        for secret in ["hunter2-secret", "4321", "JBSWY3DPEHPK3PXP", "rc-secret-value"] {
            assert!(!text.contains(secret), "{secret} leaked into Debug");
        }
        assert!(text.contains("visible"));
    }

    #[test]
    fn normalize_canonicalises_folder_tags_and_urls() {
        let mut item = login();
        item.folder = " /Work// Servers /".into();
        item.tags = vec!["b".into(), " a ".into(), "b".into(), "".into()];
        item.urls = vec![" https://x ".into(), "  ".into()];
        item.normalize().unwrap();
        assert_eq!(item.folder, "Work/Servers");
        assert_eq!(item.tags, ["a", "b"]);
        assert_eq!(item.urls, ["https://x"]);
    }

    #[test]
    fn normalize_refuses_bad_items() {
        let mut item = login();
        item.otp = Some("otpauth://totp/x?secret=!!!".into());
        assert!(matches!(item.normalize(), Err(InvalidItem::Otp(_))));

        let mut item = login();
        item.fields.push(Field { name: "Plain".into(), value: "again".into(), protected: false });
        assert_eq!(item.normalize(), Err(InvalidItem::DuplicateField("Plain".into())));

        let mut item = login();
        item.notes = "x".repeat(MAX_TEXT_LEN + 1);
        assert!(matches!(item.normalize(), Err(InvalidItem::TooLong { .. })));
    }

    #[test]
    fn summary_carries_no_secret() {
        let text = format!("{:?}", login().summary());
        for secret in ["hunter2-secret", "4321", "JBSWY3DPEHPK3PXP", "rc-secret-value", "visible"] {
            assert!(!text.contains(secret), "{secret} leaked into the summary");
        }
    }

    #[test]
    fn default_auto_type_is_left_out_so_older_items_read_and_seal_unchanged() {
        let item = login();
        let json = serde_json::to_string(&item).unwrap();
        assert!(!json.contains("auto_type"), "{json}");
        let back: Item = serde_json::from_str(&json).unwrap();
        assert_eq!(back.auto_type, AutoTypeSettings::default());
        assert!(back.auto_type.enabled);
    }

    #[test]
    fn auto_type_settings_round_trip_and_normalize() {
        let mut item = login();
        item.auto_type = AutoTypeSettings {
            enabled: false,
            sequence: Some("  {USERNAME}{ENTER} ".into()),
            rules: vec![
                AutoTypeRule { window: " *Firefox* ".into(), sequence: Some(" ".into()) },
                AutoTypeRule { window: "  ".into(), sequence: None },
                AutoTypeRule { window: "xterm".into(), sequence: Some("{PASSWORD}{ENTER}".into()) },
            ],
        };
        item.normalize().unwrap();
        assert_eq!(item.auto_type.sequence.as_deref(), Some("{USERNAME}{ENTER}"));
        assert_eq!(
            item.auto_type.rules,
            [
                AutoTypeRule { window: "*Firefox*".into(), sequence: None },
                AutoTypeRule { window: "xterm".into(), sequence: Some("{PASSWORD}{ENTER}".into()) },
            ]
        );
        let json = serde_json::to_vec(&item).unwrap();
        let back: Item = serde_json::from_slice(&json).unwrap();
        assert_eq!(back.auto_type, item.auto_type);
        let debug = format!("{:?}", item.auto_type);
        assert!(!debug.contains("{PASSWORD}") && debug.contains("*Firefox*"), "{debug}");
    }

    #[test]
    fn payload_round_trips_through_json() {
        let item = login();
        let json = serde_json::to_vec(&item).unwrap();
        let back: Item = serde_json::from_slice(&json).unwrap();
        assert_eq!(back, item);
    }
}
