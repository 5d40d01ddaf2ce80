//! The JSON the client and the blind server exchange under `/api/v1`.
//!
//! Everything here is either public (an email address, KDF parameters, ids,
//! revisions) or opaque to the server: `auth` is a key derived from the
//! master password that the server only hashes, and every `blob` or
//! `manifest` is sealed or MACed by the client under keys the server never
//! sees. Item ids are 32 lowercase hex digits; binary values are standard
//! base64.

use serde::{Deserialize, Serialize};

/// Every API route lives under this prefix.
pub const API_PREFIX: &str = "/api/v1";

/// The most changes one pull page returns.
pub const MAX_PAGE: u32 = 1000;

/// The most items one push may carry.
pub const MAX_PUSH_ITEMS: usize = 1000;

macro_rules! wire {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        $vis struct $name { $($body)* }
    };
}

wire! {
    /// Account password-KDF parameters (Argon2id). The client refuses any
    /// below its floor, whoever sends them.
    pub struct KdfSpec {
        /// Always `argon2id`.
        pub algorithm: String,
        /// Memory in KiB.
        pub memory_kib: u32,
        /// Passes.
        pub iterations: u32,
        /// Lanes.
        pub parallelism: u32,
    }
}

wire! {
    /// `POST /accounts/prelogin`.
    pub struct PreloginRequest {
        /// The account's email address.
        pub email: String,
    }
}

wire! {
    /// The salt and KDF parameters to derive `auth` with. For an unknown
    /// email the server answers with a stable fake, so prelogin does not
    /// reveal which accounts exist.
    pub struct PreloginResponse {
        /// Account salt, base64 (16 bytes).
        pub salt: String,
        /// KDF parameters.
        pub kdf: KdfSpec,
    }
}

wire! {
    /// `POST /accounts/register`.
    pub struct RegisterRequest {
        /// Email address (the login name).
        pub email: String,
        /// `auth`, base64 (32 bytes): the server stores Argon2id(auth, pepper).
        pub auth: String,
        /// Account salt, base64.
        pub salt: String,
        /// KDF parameters the client used.
        pub kdf: KdfSpec,
        /// The Vault Key wrapped by the client's `wrap` key, base64.
        pub wrapped_vault_key: String,
        /// The first signed manifest, base64.
        pub manifest: String,
        /// A name for this device, shown in the account's event log.
        pub device_name: String,
    }
}

wire! {
    /// `POST /accounts/login`.
    pub struct LoginRequest {
        /// Email address.
        pub email: String,
        /// `auth`, base64.
        pub auth: String,
        /// The account's TOTP code or one of its recovery codes, when it
        /// has a second factor.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub totp: Option<String>,
        /// A name for this device.
        pub device_name: String,
    }
}

wire! {
    /// Tokens for one device: a short-lived access token and a refresh
    /// token that rotates on every use.
    pub struct Session {
        /// The account's id.
        pub account_id: String,
        /// This device's id (one refresh-token family).
        pub device_id: String,
        /// Bearer token for every other route.
        pub access_token: String,
        /// Seconds until the access token expires.
        pub expires_in: u64,
        /// Single-use: trade it at `/accounts/refresh` for a new pair.
        pub refresh_token: String,
    }
}

wire! {
    /// `POST /accounts/refresh`.
    pub struct RefreshRequest {
        /// The current refresh token. A token used twice revokes its device.
        pub refresh_token: String,
    }
}

wire! {
    /// `DELETE /accounts`: deleting an account needs `auth` again.
    pub struct DeleteAccountRequest {
        /// `auth`, base64.
        pub auth: String,
    }
}

wire! {
    /// `POST /accounts/2fa/enroll`: a new TOTP secret, not active until
    /// verified.
    pub struct TotpEnrollment {
        /// Base32 secret.
        pub secret: String,
        /// `otpauth://` URI for an authenticator app.
        pub uri: String,
    }
}

wire! {
    /// `POST /accounts/2fa/verify` and `/accounts/2fa/disable`.
    pub struct TotpCode {
        /// A current TOTP code (or, to disable, a recovery code).
        pub code: String,
    }
}

wire! {
    /// One-time recovery codes, shown once when 2FA is switched on.
    pub struct RecoveryCodes {
        /// Each works once in place of a TOTP code.
        pub codes: Vec<String>,
    }
}

wire! {
    /// One entry of the account's event log.
    pub struct AccountEvent {
        /// Unix seconds.
        pub at: i64,
        /// What happened (`registered`, `login`, `login_failed`, `refresh_reuse`, …).
        pub event: String,
        /// The device's name, when known.
        pub device: String,
        /// The client's address.
        pub address: String,
    }
}

wire! {
    /// One device of the account (`GET /accounts/devices`).
    pub struct DeviceInfo {
        /// Device id.
        pub id: String,
        /// Its name.
        pub name: String,
        /// Unix seconds when it logged in.
        pub created: i64,
        /// Its tokens no longer work.
        pub revoked: bool,
        /// The device asking.
        pub current: bool,
    }
}

wire! {
    /// `GET /vault`: what a new device needs to join.
    pub struct VaultInfo {
        /// The Vault Key wrapped by the account's `wrap` key, base64.
        pub wrapped_vault_key: String,
        /// Account salt, base64.
        pub salt: String,
        /// KDF parameters.
        pub kdf: KdfSpec,
    }
}

wire! {
    /// One item in the index.
    pub struct IndexEntry {
        /// Item id.
        pub id: String,
        /// Server revision.
        pub revision: u64,
        /// A tombstone.
        pub deleted: bool,
    }
}

wire! {
    /// `GET /vault/index`: the signed manifest and every item's revision,
    /// read in one transaction.
    pub struct VaultIndex {
        /// The signed manifest, base64.
        pub manifest: String,
        /// Its version (also inside it, MACed).
        pub manifest_version: u64,
        /// The account's latest sequence number.
        pub seq: u64,
        /// Every item, tombstones included.
        pub items: Vec<IndexEntry>,
        /// The manifest version of the last push the asking device made
        /// (0: none yet). The server's word: the client uses it only to
        /// find out that its vault file is older than its own last sync.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub device_pushed: Option<u64>,
    }
}

wire! {
    /// One changed item in a pull.
    pub struct Change {
        /// Item id.
        pub id: String,
        /// Server revision.
        pub revision: u64,
        /// Sequence number of the change (the cursor).
        pub seq: u64,
        /// A tombstone.
        pub deleted: bool,
        /// The sealed record, base64.
        pub blob: String,
    }
}

wire! {
    /// `GET /vault/changes?since=SEQ&limit=N`.
    pub struct Changes {
        /// Changes after `since`, in sequence order.
        pub changes: Vec<Change>,
        /// The cursor to ask from next.
        pub next: u64,
        /// Whether more changes follow.
        pub more: bool,
    }
}

wire! {
    /// One item in a push.
    pub struct PushItem {
        /// Item id.
        pub id: String,
        /// The server revision this change is based on (0: a new item).
        pub base_revision: u64,
        /// A tombstone.
        pub deleted: bool,
        /// The sealed record for revision `base_revision + 1`, base64.
        pub blob: String,
    }
}

wire! {
    /// `POST /vault/push`: a batch applied in one transaction, or not at all.
    pub struct PushRequest {
        /// The manifest version the client built on.
        pub base_manifest_version: u64,
        /// The new signed manifest, base64.
        pub manifest: String,
        /// Its version (`base_manifest_version + 1`).
        pub manifest_version: u64,
        /// The changes.
        pub items: Vec<PushItem>,
    }
}

wire! {
    /// A push was applied.
    pub struct PushResponse {
        /// The account's sequence number after the push.
        pub seq: u64,
        /// A share push: the `ETag` of the pusher's `GET /shares/{id}`
        /// answer as the push left it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub etag: Option<String>,
    }
}

wire! {
    /// An item whose base revision was stale.
    pub struct StaleItem {
        /// Item id.
        pub id: String,
        /// Its current server revision.
        pub revision: u64,
    }
}

wire! {
    /// Every error: a stable code, a message for people, and what a client
    /// needs to act on it.
    pub struct ErrorBody {
        /// Stable code: `bad_request`, `unauthorized`, `invalid_credentials`,
        /// `totp_required`, `not_found`, `method_not_allowed`, `exists`,
        /// `stale`, `timeout`, `too_large`, `quota_exceeded`,
        /// `rate_limited`, `unavailable`, `internal`.
        pub error: String,
        /// One line for people.
        pub message: String,
        /// For `rate_limited`: seconds to wait.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub retry_after: Option<u64>,
        /// For `stale`: the current revision of each stale item.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub stale: Vec<StaleItem>,
        /// For `too_large` and `quota_exceeded`: the limit in the way
        /// (boxed: every error result carries this struct).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub limit: Option<Box<Limit>>,
    }
}

wire! {
    /// A server limit a request ran into (HTTP 413).
    pub struct Limit {
        /// `body` (one request), `record` (one sealed item), `items` (live
        /// items per account) or `bytes` (sealed bytes per account).
        pub name: String,
        /// Its value: a count for `items`, bytes for the others.
        pub max: u64,
    }
}

impl Limit {
    /// The limit `name` at `max`.
    pub fn new(name: &str, max: u64) -> Limit {
        Limit { name: name.into(), max }
    }
}

// --- sharing (DESIGN §11) ------------------------------------------------------

wire! {
    /// An account's published identity: public keys, self-signed with the
    /// Ed25519 key over `tessera/v1/identity ‖ 0 ‖ email ‖ sign ‖ enc`.
    pub struct IdentityRecord {
        /// The account's email.
        pub email: String,
        /// Ed25519 verifying key, base64.
        pub sign: String,
        /// X25519 public key, base64.
        pub enc: String,
        /// The self-signature, base64.
        pub sig: String,
    }
}

wire! {
    /// `POST /identity` and `GET /identity`: the public record and the
    /// private keys sealed under a key only the account's devices have.
    pub struct OwnIdentity {
        /// The published record.
        pub public: IdentityRecord,
        /// The private keys, sealed, base64.
        pub sealed: String,
    }
}

wire! {
    /// One signed record of a share's membership chain: `body` is the JSON
    /// of the record (base64), `sig` the signer's Ed25519 signature over it.
    pub struct ChainRecord {
        /// The record's JSON, base64.
        pub body: String,
        /// Signature, base64.
        pub sig: String,
    }
}

wire! {
    /// The fields of a chain record the server reads to enforce roles (it
    /// never needs to trust them: every client verifies the chain).
    pub struct ChainBody {
        /// The share's id (32 hex digits).
        pub share: String,
        /// Position in the chain, from 0.
        pub seq: u64,
        /// SHA-256 of the previous record's body, hex (empty for seq 0).
        pub prev: String,
        /// `create`, `add`, `role`, `remove`, `leave` or `rekey`.
        pub kind: String,
        /// The member the record is about.
        pub member: String,
        /// Their Ed25519 key, base64 (`create` and `add`).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub member_sign: String,
        /// Their X25519 key, base64 (`create` and `add`).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub member_enc: String,
        /// `read`, `write` or `manage` (`create`, `add`, `role`).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub role: String,
        /// The share's epoch after this record.
        pub epoch: u64,
        /// For a record that starts an epoch: the new key's commitment, hex.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub commit: String,
        /// Who signed.
        pub signer: String,
        /// For a record that starts an epoch: the share's name sealed under
        /// that epoch's key, base64 (the server never reads it).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub name: String,
        /// `create` only: members must be verified before they get the key.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pub require_verified: bool,
    }
}

wire! {
    /// A share key for one member at one epoch, sealed to their X25519 key
    /// with HPKE.
    pub struct Grant {
        /// The member's email.
        pub member: String,
        /// The epoch.
        pub epoch: u64,
        /// Encapsulated key ‖ ciphertext, base64.
        pub sealed: String,
    }
}

wire! {
    /// `POST /shares`: a new share with its `create` record, the creator's
    /// grant and the first signed manifest.
    pub struct CreateShare {
        /// The share's id (32 hex digits, chosen by the client).
        pub id: String,
        /// The `create` record.
        pub record: ChainRecord,
        /// The creator's grant for epoch 1.
        pub grant: Grant,
        /// The first signed manifest, base64.
        pub manifest: String,
    }
}

wire! {
    /// One share in `GET /shares`.
    pub struct ShareSummary {
        /// Share id.
        pub id: String,
        /// This account's role as the server holds it.
        pub role: String,
        /// Accepted (false: an invitation).
        pub accepted: bool,
        /// Members, accepted or not.
        pub members: u64,
        /// Chain length.
        pub chain_len: u64,
    }
}

wire! {
    /// `GET /shares/{id}`: everything a member checks before reading.
    pub struct ShareIndex {
        /// The whole membership chain.
        pub chain: Vec<ChainRecord>,
        /// This account's grant for the current epoch, if the server has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub grant: Option<Grant>,
        /// The share's signed manifest, base64.
        pub manifest: String,
        /// Its version.
        pub manifest_version: u64,
        /// The share's latest sequence number.
        pub seq: u64,
        /// Every item, tombstones included.
        pub items: Vec<IndexEntry>,
    }
}

/// The most shares one `POST /sync/check` asks about.
pub const MAX_CHECKED_SHARES: usize = 1000;

wire! {
    /// `POST /sync/check`, the first request of every sync: the `ETag` of
    /// each share's answer as this device last verified it, by share id.
    pub struct SyncCheck {
        /// Tags, by share id.
        pub shares: std::collections::BTreeMap<String, String>,
    }
}

wire! {
    /// What `POST /sync/check` answers: the account's salt and KDF (which
    /// the client compares with what it trusts), every share the account
    /// has accepted, and the shares whose answer is still the one tagged.
    pub struct SyncChecked {
        /// Account salt, base64.
        pub salt: String,
        /// KDF parameters.
        pub kdf: KdfSpec,
        /// Share ids.
        pub accepted: Vec<String>,
        /// Share ids.
        pub unchanged: Vec<String>,
    }
}

wire! {
    /// `POST /shares/{id}/chain`: one record (`add`, `role` or `leave`),
    /// with the grants it comes with (an `add` gives the key to the new member).
    pub struct AppendRecord {
        /// The record.
        pub record: ChainRecord,
        /// Grants.
        #[serde(default)]
        pub grants: Vec<Grant>,
    }
}

wire! {
    /// `POST /shares/{id}/rekey`: a `remove` or `rekey` record, the new
    /// epoch's grants for every remaining member and every item re-sealed,
    /// applied in one transaction.
    pub struct Rekey {
        /// The record (starts a new epoch).
        pub record: ChainRecord,
        /// One grant per remaining member.
        pub grants: Vec<Grant>,
        /// The share's manifest version this was built on.
        pub base_manifest_version: u64,
        /// The new signed manifest, base64.
        pub manifest: String,
        /// Its version.
        pub manifest_version: u64,
        /// Every item of the share, re-sealed at its next revision.
        pub items: Vec<PushItem>,
    }
}

wire! {
    /// `POST /shares/{id}/push`: like a vault push, at the share's epoch.
    pub struct SharePush {
        /// The epoch the records are sealed at.
        pub epoch: u64,
        /// The push.
        #[serde(flatten)]
        pub push: PushRequest,
        /// The `ETag` of the answer the pusher verified before this push:
        /// if it is still the share's, the response carries the tag of the
        /// answer as the push leaves it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub verified: Option<String>,
    }
}

/// The most items a re-key may carry (every item of a share).
pub const MAX_REKEY_ITEMS: usize = 10_000;

/// Standard base64, as every binary value on the wire.
pub fn b64(bytes: &[u8]) -> String {
    data_encoding::BASE64.encode(bytes)
}

/// Decodes standard base64.
pub fn from_b64(text: &str) -> Option<Vec<u8>> {
    data_encoding::BASE64.decode(text.as_bytes()).ok()
}

/// Whether `id` is a well-formed item id (32 lowercase hex digits).
pub fn is_item_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
