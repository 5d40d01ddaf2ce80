//! The JSON shapes of ui/API.md, and their conversion from core types.
//!
//! Everything that goes into a list, search or view payload is built here
//! from `ItemSummary` or from an `Item` with its secrets left out: the
//! struct fields below are the whole payload, so a secret cannot ride
//! along by accident.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tessera_core::totp::OtpKind;
use tessera_core::{AgentApproval, Field, Item, ItemId, ItemSummary, ItemType};
use time::OffsetDateTime;
use zeroize::{Zeroize, ZeroizeOnDrop};

pub fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub fn from_unix(t: i64) -> Result<OffsetDateTime, crate::error::CommandError> {
    OffsetDateTime::from_unix_timestamp(t).map_err(|_| crate::error::CommandError::invalid("That date is out of range"))
}

pub fn parse_id(id: &str) -> Result<ItemId, crate::error::CommandError> {
    id.parse().map_err(|_| crate::error::CommandError::invalid("That is not an item id"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchScope {
    Live,
    Favourites,
    Trash,
}

/// The sidebar's folder or tag filter of the item list (`search_items`'s
/// `folder` and `tag`). A folder means the folder *and its subfolders*, as
/// `tessera list --folder` has it: people file "Work/Servers" under "Work"
/// and expect to find it there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// A normalised folder path; never `""` (the root holds everything).
    pub folder: Option<String>,
    pub tag: Option<String>,
}

impl ListFilter {
    pub fn new(folder: Option<&str>, tag: Option<&str>) -> ListFilter {
        ListFilter {
            folder: folder.map(tessera_core::item::normalize_folder).filter(|f| !f.is_empty()),
            tag: tag.map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned),
        }
    }

    pub fn matches(&self, s: &ItemSummary) -> bool {
        self.folder.as_deref().is_none_or(|f| folder_holds(f, &s.folder))
            && self.tag.as_ref().is_none_or(|t| s.tags.contains(t))
    }
}

/// Whether an item filed under `path` is in `folder` or one of its
/// subfolders (both normalised; `""` is the root, which holds everything).
pub fn folder_holds(folder: &str, path: &str) -> bool {
    folder.is_empty() || path == folder || path.strip_prefix(folder).is_some_and(|rest| rest.starts_with('/'))
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryDto {
    pub id: String,
    #[serde(rename = "type")]
    pub item_type: ItemType,
    pub title: String,
    pub subtitle: String,
    pub url: Option<String>,
    pub folder: String,
    pub tags: Vec<String>,
    pub favourite: bool,
    pub has_password: bool,
    pub has_totp: bool,
    pub updated_at: i64,
    pub expires_at: Option<i64>,
    pub deleted_at: Option<i64>,
    /// The share the item is in (its name), for the list's mark; set by
    /// the caller from [`ShareNames`].
    pub share: Option<String>,
}

impl SummaryDto {
    /// `subtitle` is the username; card and identity rows get theirs from
    /// [`subtitle_field`] by the caller, which holds the vault.
    pub fn from_summary(s: &ItemSummary, subtitle: Option<String>) -> Self {
        SummaryDto {
            id: s.id.to_hex(),
            item_type: s.item_type,
            title: s.title.clone(),
            subtitle: subtitle.unwrap_or_else(|| s.username.clone()),
            url: s.urls.first().cloned(),
            folder: s.folder.clone(),
            tags: s.tags.clone(),
            favourite: s.favourite,
            has_password: s.has_password,
            has_totp: s.has_otp,
            updated_at: unix(s.updated),
            expires_at: s.expires.map(unix),
            deleted_at: s.deleted.map(unix),
            share: None,
        }
    }
}

/// Which share each item is in, read from the sync state once per list or
/// view (the state is one sealed record; opening it per row would cost a
/// decryption each).
pub struct ShareNames(HashMap<String, String>);

impl ShareNames {
    /// No sync account, or a state that does not open, marks nothing: the
    /// list still shows. Only the item-to-share-name map is kept, none of
    /// the state's secrets.
    pub fn load(vault: &tessera_core::Vault) -> Self {
        let Some(state) = tessera_sync::client::state::SyncState::load(vault).ok().flatten() else {
            return ShareNames(HashMap::new());
        };
        let mut names = HashMap::new();
        for share in state.shares.values() {
            for item in &share.members {
                names.insert(item.clone(), share.name.clone());
            }
        }
        ShareNames(names)
    }

    /// The name of the share item `hex` is in.
    pub fn of(&self, hex: &str) -> Option<String> {
        self.0.get(hex).cloned()
    }
}

/// The non-secret field a card, identity or SSH key row shows under its
/// title.
pub fn subtitle_field(item_type: ItemType) -> Option<&'static str> {
    match item_type {
        ItemType::Card => Some("Cardholder"),
        ItemType::Identity => Some("Full name"),
        ItemType::SshKey => Some(tessera_core::item::SSH_FINGERPRINT),
        ItemType::Login | ItemType::Note => None,
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    pub total: usize,
    pub offset: usize,
    pub items: Vec<SummaryDto>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewField {
    pub name: String,
    pub protected: bool,
    /// `None` exactly when the field is protected.
    pub value: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentInfo {
    pub name: String,
    pub size: u64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OtpInfo {
    Totp { period: u32, digits: u8, issuer: Option<String>, account: Option<String> },
    Hotp { digits: u8, issuer: Option<String>, account: Option<String> },
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemDetails {
    pub id: String,
    #[serde(rename = "type")]
    pub item_type: ItemType,
    pub title: String,
    pub username: String,
    pub urls: Vec<String>,
    pub has_password: bool,
    pub has_notes: bool,
    pub otp: Option<OtpInfo>,
    pub fields: Vec<ViewField>,
    pub tags: Vec<String>,
    pub folder: String,
    pub favourite: bool,
    pub never_autofill: bool,
    pub never_for_agents: bool,
    pub ssh_agent: bool,
    pub agent_approval: AgentApproval,
    pub attachments: Vec<AttachmentInfo>,
    pub created_at: i64,
    pub updated_at: i64,
    pub password_changed_at: i64,
    pub expires_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub revision: u64,
    /// The share the item is in (its name); set by the caller from
    /// [`ShareNames`].
    pub share: Option<String>,
}

impl ItemDetails {
    pub fn from_item(item: &Item) -> Self {
        let otp = item.otp().ok().flatten().map(|o| match o.kind {
            OtpKind::Totp { period } => {
                OtpInfo::Totp { period, digits: o.digits, issuer: o.issuer.clone(), account: o.account.clone() }
            }
            OtpKind::Hotp { .. } => {
                OtpInfo::Hotp { digits: o.digits, issuer: o.issuer.clone(), account: o.account.clone() }
            }
        });
        ItemDetails {
            id: item.id.to_hex(),
            item_type: item.item_type,
            title: item.title.clone(),
            username: item.username.clone(),
            urls: item.urls.clone(),
            has_password: !item.password.is_empty(),
            has_notes: !item.notes.is_empty(),
            otp,
            fields: item
                .fields
                .iter()
                .map(|f| ViewField {
                    name: f.name.clone(),
                    protected: f.protected,
                    value: (!f.protected).then(|| f.value.clone()),
                })
                .collect(),
            tags: item.tags.clone(),
            folder: item.folder.clone(),
            favourite: item.favourite,
            never_autofill: item.never_autofill,
            never_for_agents: item.never_for_agents,
            ssh_agent: item.item_type == ItemType::SshKey && item.ssh_agent,
            agent_approval: item.agent_approval,
            attachments: attachments(item),
            created_at: unix(item.created),
            updated_at: unix(item.updated),
            password_changed_at: unix(item.password_changed),
            expires_at: item.expires.map(unix),
            deleted_at: item.deleted.map(unix),
            revision: item.revision,
            share: None,
        }
    }
}

pub fn attachments(item: &Item) -> Vec<AttachmentInfo> {
    item.attachments.iter().map(|a| AttachmentInfo { name: a.name.clone(), size: a.size }).collect()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FieldRef {
    Username,
    Password,
    Notes,
    Totp,
    Url { index: usize },
    Custom { name: String },
}

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RevealableField {
    Password,
    Notes,
    Custom { name: String },
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyReceipt {
    pub clear_after_seconds: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TotpCode {
    pub code: String,
    pub period: Option<u32>,
    pub remaining: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub struct DraftField {
    pub name: String,
    pub value: String,
    pub protected: bool,
}

/// The editor's copy of an item, secrets included: zeroized when dropped.
#[derive(Clone, Debug, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub struct ItemDraft {
    #[serde(rename = "type")]
    #[zeroize(skip)]
    pub item_type: ItemType,
    pub title: String,
    pub username: String,
    pub password: String,
    pub urls: Vec<String>,
    pub notes: String,
    pub otp: String,
    pub fields: Vec<DraftField>,
    pub tags: Vec<String>,
    pub folder: String,
    pub favourite: bool,
    /// Never offered to a browser extension. Absent in drafts from before
    /// it existed: false.
    #[serde(default)]
    pub never_autofill: bool,
    /// Never given to AI agents.
    #[serde(default)]
    pub never_for_agents: bool,
    /// ssh-key: served by the SSH agent.
    #[serde(default)]
    pub ssh_agent: bool,
    /// ssh-key: when the SSH agent asks.
    #[serde(default)]
    #[zeroize(skip)]
    pub agent_approval: AgentApproval,
    /// Auto-type: enabled, sequence, window rules. Absent in drafts from
    /// before it existed: the default.
    #[serde(default)]
    pub auto_type: AutoTypeDraft,
    pub expires_at: Option<i64>,
}

/// The editor's copy of an item's auto-type settings; `''` is "none".
#[derive(Clone, Debug, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub struct AutoTypeDraft {
    pub enabled: bool,
    /// `''`: `{USERNAME}{TAB}{PASSWORD}{ENTER}`.
    pub sequence: String,
    pub rules: Vec<AutoTypeRuleDraft>,
}

impl Default for AutoTypeDraft {
    fn default() -> Self {
        AutoTypeDraft { enabled: true, sequence: String::new(), rules: Vec::new() }
    }
}

/// One window rule in the editor; `sequence` `''` is the item's.
#[derive(Clone, Debug, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub struct AutoTypeRuleDraft {
    pub window: String,
    pub sequence: String,
}

impl AutoTypeDraft {
    fn from_settings(settings: &tessera_core::AutoTypeSettings) -> Self {
        AutoTypeDraft {
            enabled: settings.enabled,
            sequence: settings.sequence.clone().unwrap_or_default(),
            rules: settings
                .rules
                .iter()
                .map(|r| AutoTypeRuleDraft {
                    window: r.window.clone(),
                    sequence: r.sequence.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// Checks every sequence and rule as auto-type will read them, so a
    /// mistake shows in the editor rather than at the shortcut.
    fn to_settings(&self) -> Result<tessera_core::AutoTypeSettings, crate::error::CommandError> {
        let invalid = |e: String| crate::error::CommandError::invalid(e);
        let sequence = |text: &str| -> Result<Option<String>, crate::error::CommandError> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            tessera_autotype::Sequence::parse(text).map_err(|e| invalid(e.to_string()))?;
            Ok(Some(text.to_owned()))
        };
        let mut rules = Vec::new();
        for rule in &self.rules {
            if rule.window.trim().is_empty() && rule.sequence.trim().is_empty() {
                continue;
            }
            tessera_autotype::matching::validate_rule(&rule.window).map_err(|e| invalid(e.to_string()))?;
            rules.push(tessera_core::AutoTypeRule {
                window: rule.window.trim().to_owned(),
                sequence: sequence(&rule.sequence)?,
            });
        }
        Ok(tessera_core::AutoTypeSettings { enabled: self.enabled, sequence: sequence(&self.sequence)?, rules })
    }
}

impl ItemDraft {
    pub fn template(item_type: ItemType) -> Self {
        ItemDraft {
            item_type,
            title: String::new(),
            username: String::new(),
            password: String::new(),
            urls: Vec::new(),
            notes: String::new(),
            otp: String::new(),
            fields: item_type
                .template_fields()
                .iter()
                .map(|(name, protected)| DraftField {
                    name: (*name).to_owned(),
                    value: String::new(),
                    protected: *protected,
                })
                .collect(),
            tags: Vec::new(),
            folder: String::new(),
            favourite: false,
            never_autofill: false,
            never_for_agents: false,
            ssh_agent: item_type == ItemType::SshKey,
            agent_approval: AgentApproval::default(),
            auto_type: AutoTypeDraft::default(),
            expires_at: None,
        }
    }

    pub fn from_item(item: &Item) -> Self {
        ItemDraft {
            item_type: item.item_type,
            title: item.title.clone(),
            username: item.username.clone(),
            password: item.password.clone(),
            urls: item.urls.clone(),
            notes: item.notes.clone(),
            otp: item.otp.clone().unwrap_or_default(),
            fields: item
                .fields
                .iter()
                .map(|f| DraftField { name: f.name.clone(), value: f.value.clone(), protected: f.protected })
                .collect(),
            tags: item.tags.clone(),
            folder: item.folder.clone(),
            favourite: item.favourite,
            never_autofill: item.never_autofill,
            never_for_agents: item.never_for_agents,
            ssh_agent: item.ssh_agent,
            agent_approval: item.agent_approval,
            auto_type: AutoTypeDraft::from_settings(&item.auto_type),
            expires_at: item.expires.map(unix),
        }
    }

    /// Writes the draft over `item`'s editable parts. A bare base32 secret
    /// becomes a default TOTP URI labelled with the title.
    pub fn apply_to(&self, item: &mut Item) -> Result<(), crate::error::CommandError> {
        item.item_type = self.item_type;
        item.title = self.title.clone();
        item.username = self.username.clone();
        item.password = self.password.clone();
        item.urls = self.urls.iter().map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()).collect();
        item.notes = self.notes.clone();
        let otp = self.otp.trim();
        item.otp = if otp.is_empty() {
            None
        } else {
            let label = if self.title.trim().is_empty() { "Tessera" } else { self.title.trim() };
            Some(
                tessera_interop::otp_uri(otp, label)
                    .ok_or_else(|| {
                        crate::error::CommandError::invalid(
                            "The one-time password is neither an otpauth:// URI nor a base32 secret",
                        )
                    })?
                    .to_string(),
            )
        };
        item.fields = self
            .fields
            .iter()
            .filter(|f| !(f.name.trim().is_empty() && f.value.is_empty()))
            .map(|f| Field { name: f.name.trim().to_owned(), value: f.value.clone(), protected: f.protected })
            .collect();
        item.tags = self.tags.clone();
        item.folder = self.folder.clone();
        item.favourite = self.favourite;
        item.never_autofill = self.never_autofill;
        item.never_for_agents = self.never_for_agents;
        item.ssh_agent = self.item_type == ItemType::SshKey && self.ssh_agent;
        item.agent_approval = self.agent_approval;
        item.auto_type = self.auto_type.to_settings()?;
        item.expires = self.expires_at.map(from_unix).transpose()?;
        if item.item_type == ItemType::SshKey {
            sync_public_fields(item)?;
        }
        Ok(())
    }
}

/// An `ssh-key` item's public key and fingerprint, rewritten from its
/// private key, so what the view shows is what the agent signs with. An
/// item without a private key yet is left as it is.
fn sync_public_fields(item: &mut Item) -> Result<(), crate::error::CommandError> {
    use tessera_core::item::{SSH_FINGERPRINT, SSH_PRIVATE_KEY, SSH_PUBLIC_KEY};
    if item.field(SSH_PRIVATE_KEY).is_none_or(|f| f.value.trim().is_empty()) {
        return Ok(());
    }
    let key = tessera_agent::keys::private_key(item).map_err(|e| {
        crate::error::CommandError::invalid(match e {
            tessera_agent::keys::KeyError::NeedsPassphrase => {
                "The private key is protected by a passphrase; import it with \"Import key file…\" to remove it"
                    .to_owned()
            }
            _ => "The \"Private key\" field does not hold a private key Tessera can read (OpenSSH format)".to_owned(),
        })
    })?;
    let info = tessera_agent::keys::info(&key).map_err(|e| crate::error::CommandError::invalid(e.to_string()))?;
    let line = tessera_agent::keys::public_line(item).unwrap_or(info.public_line);
    item.set_field(SSH_PUBLIC_KEY, &line, false);
    item.set_field(SSH_FINGERPRINT, &info.fingerprint, false);
    Ok(())
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EditableItem {
    pub id: String,
    pub revision: u64,
    pub draft: ItemDraft,
    pub attachments: Vec<AttachmentInfo>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentChange {
    pub attachments: Vec<AttachmentInfo>,
    pub revision: u64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub revision: u64,
    pub saved_at: i64,
    pub title: String,
    pub username: String,
    pub changed: Vec<String>,
}

/// What differs between two versions, by name only.
pub fn changed_parts(older: &Item, newer: &Item) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |cond: bool, name: &str| {
        if cond {
            out.push(name.to_owned());
        }
    };
    push(older.title != newer.title, "title");
    push(older.username != newer.username, "username");
    push(older.password != newer.password, "password");
    push(older.urls != newer.urls, "urls");
    push(older.notes != newer.notes, "notes");
    push(older.otp != newer.otp, "otp");
    push(older.tags != newer.tags, "tags");
    push(older.folder != newer.folder, "folder");
    push(older.favourite != newer.favourite, "favourite");
    push(older.expires != newer.expires, "expires");
    push(older.auto_type != newer.auto_type, "autotype");
    let mut names: Vec<&str> = older.fields.iter().chain(&newer.fields).map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        if older.field(name) != newer.field(name) {
            out.push(format!("field:{name}"));
        }
    }
    out
}

#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum GeneratorOptions {
    #[serde(rename_all = "camelCase")]
    Password { length: usize, lowercase: bool, uppercase: bool, digits: bool, symbols: bool, avoid_ambiguous: bool },
    #[serde(rename_all = "camelCase")]
    Passphrase { words: usize, separator: String, capitalize: bool },
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedPassword {
    pub value: String,
    pub entropy_bits: f64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordStrength {
    pub score: u8,
    pub guesses_log10: f64,
    pub crack_time: String,
    pub warning: Option<String>,
    pub suggestions: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryDto {
    pub seq: u64,
    pub at: i64,
    pub event: String,
    pub description: String,
    pub item_id: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub entries: Vec<AuditEntryDto>,
    pub total: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VaultState {
    NoVault,
    Locked,
    Unlocked,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppState {
    pub state: VaultState,
    pub vault_path: Option<String>,
    pub default_vault_path: String,
    pub version: String,
    /// Whole-file rollback protection of the unlocked vault; `None` unless unlocked.
    pub rollback: Option<RollbackProtection>,
}

/// The unlocked vault's binding to a TPM counter (DESIGN §3).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackProtection {
    /// The NV index of the TPM counter the vault is bound to; `None`: not bound.
    pub counter: Option<u32>,
    /// Set when the check after unlock could not use the TPM: why, for
    /// people. The vault then reads, and refuses every write.
    pub tpm_unreachable: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HardwareFactorKind {
    Keyring,
    Tpm,
    Yubikey,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnlockFactor {
    pub slot: u32,
    pub kind: HardwareFactorKind,
    pub label: String,
    pub needs_pin: bool,
    pub requires_password: bool,
}

#[derive(Debug, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Credential {
    Password { password: String },
    Recovery { code: String },
    Keyring { slot: u32 },
    Tpm { slot: u32, pin: String, password: Option<String> },
    Yubikey { slot: u32, pin: String, password: Option<String> },
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotInfoDto {
    pub id: u32,
    pub kind: String,
    pub label: String,
    pub description: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Only in `add_slot`'s answer: the slot was added but something that
    /// goes with it was not (no TPM counter could be made). `None` in lists.
    pub warning: Option<String>,
}

#[derive(Debug, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub struct AddSlotRequest {
    #[zeroize(skip)]
    pub factor: HardwareFactorKind,
    pub label: Option<String>,
    pub pin: Option<String>,
    pub also_require_password: bool,
    pub password: Option<String>,
    pub touch: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSource {
    pub path: String,
    pub file_name: String,
    pub detected_format: Option<String>,
    pub needs_password: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    pub imported: usize,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedVault {
    pub recovery_code: String,
}

impl Drop for CreatedVault {
    fn drop(&mut self) {
        self.recovery_code.zeroize();
    }
}
