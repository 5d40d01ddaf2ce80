//! Sharing (DESIGN §11): identities, pinned contacts, the signed
//! membership chain, share keys by epoch, and each share's stream of items.
//!
//! The server is trusted for nothing it could forge: a member, a role, a
//! key, an item's place or a share's state are each checked here against
//! signatures made by members, and anything that fails is an error naming
//! what the server did, with nothing applied.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tessera_core::share::{Identity, PublicIdentity, ShareKey, ShareRecords};
use tessera_core::{ItemId, NewVersion, RemoteChange, Vault};

use super::engine::{Credentials, HttpOr, Progress, SyncError, SyncReport, hostile, run_rounds, with_session};
use super::http::{Api, HttpError};
use super::manifest::Manifest;
use super::record::{self, BadRecord, Record};
use super::state::{Checked, Contact, ShareState, StreamState, SyncState};
use super::stream::{Stream, contents};
use crate::wire::{
    AppendRecord, ChainBody, ChainRecord, Changes, CreateShare, Grant, IdentityRecord, OwnIdentity, PushItem,
    PushRequest, PushResponse, Rekey, SharePush, VaultIndex, b64, from_b64,
};

const IDENTITY_CONTEXT: &str = "tessera/v1/identity";
const CHAIN_CONTEXT: &str = "tessera/v1/share-chain";
const MANIFEST_CONTEXT: &str = "tessera/v1/share-manifest";

/// A member's role, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Opens the share's items.
    Read,
    /// Also changes them.
    Write,
    /// Also changes who is in the share.
    Manage,
}

impl Role {
    /// The role named `read`, `write` or `manage`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "read" => Some(Role::Read),
            "write" => Some(Role::Write),
            "manage" => Some(Role::Manage),
            _ => None,
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Manage => "manage",
        }
    }
}

// --- identities and contacts ----------------------------------------------------

fn identity_message(p: &PublicIdentity) -> Vec<u8> {
    let mut m = (p.email.len() as u32).to_be_bytes().to_vec();
    m.extend_from_slice(p.email.as_bytes());
    m.extend_from_slice(&p.sign);
    m.extend_from_slice(&p.enc);
    m
}

fn key32(text: &str) -> Option<[u8; 32]> {
    from_b64(text)?.try_into().ok()
}

/// A published record, checked: well-formed and self-signed.
fn public_of(record: &IdentityRecord) -> Result<PublicIdentity, SyncError> {
    let bad = || hostile(format!("the published identity of {} is malformed or not self-signed", record.email));
    let public = PublicIdentity {
        email: record.email.clone(),
        sign: key32(&record.sign).ok_or_else(bad)?,
        enc: key32(&record.enc).ok_or_else(bad)?,
    };
    let sig = from_b64(&record.sig).ok_or_else(bad)?;
    if !public.verify(IDENTITY_CONTEXT, &identity_message(&public), &sig) {
        return Err(bad());
    }
    Ok(public)
}

fn record_of(identity: &Identity, email: &str) -> IdentityRecord {
    let public = identity.public(email);
    IdentityRecord {
        email: email.into(),
        sign: b64(&public.sign),
        enc: b64(&public.enc),
        sig: b64(&identity.sign(IDENTITY_CONTEXT, &identity_message(&public))),
    }
}

/// This account's identity, from the sync state.
fn my_identity(state: &SyncState) -> Result<Identity, SyncError> {
    let text = state.identity.as_deref().ok_or_else(|| SyncError::Local("this account has no identity yet".into()))?;
    let bytes = zeroize::Zeroizing::new(from_b64(text).unwrap_or_default());
    Identity::from_secret_bytes(&bytes).map_err(|_| SyncError::Local("the stored identity is damaged".into()))
}

/// Makes this account's identity, or fetches the one another device of
/// the account made, once. Called by every sync.
pub(crate) fn ensure_identity(vault: &mut Vault, state: &mut SyncState, api: &Api) -> Result<(), HttpOr> {
    if state.identity.is_some() {
        return Ok(());
    }
    let keys = vault.sync_keys();
    let identity = match api.own_identity()? {
        Some(own) => {
            let sealed =
                from_b64(&own.sealed).ok_or_else(|| hostile("this account's sealed identity is not base64"))?;
            let secret = keys
                .open_identity(&state.email, &sealed)
                .map_err(|_| hostile("this account's sealed identity fails authentication"))?;
            let identity = Identity::from_secret_bytes(&secret)
                .map_err(|_| hostile("this account's sealed identity is malformed"))?;
            if public_of(&own.public)? != identity.public(&state.email) {
                return Err(hostile(
                    "the server publishes keys for this account that are not the account's own (a substituted key)",
                )
                .into());
            }
            identity
        }
        None => {
            let identity = Identity::generate();
            api.publish_identity(&OwnIdentity {
                public: record_of(&identity, &state.email),
                sealed: b64(&keys.seal_identity(&state.email, &identity.secret_bytes())),
            })?;
            identity
        }
    };
    state.identity = Some(b64(&identity.secret_bytes()));
    state.save(vault)?;
    Ok(())
}

fn contact_of(p: &PublicIdentity, verified: bool) -> Contact {
    Contact { sign: b64(&p.sign), enc: b64(&p.enc), verified }
}

fn pinned_public(email: &str, c: &Contact) -> Option<PublicIdentity> {
    Some(PublicIdentity { email: email.into(), sign: key32(&c.sign)?, enc: key32(&c.enc)? })
}

/// Pins `p` on first contact; refuses a key that differs from the pin.
/// Returns whether the pin is verified.
fn pin(state: &mut SyncState, p: &PublicIdentity) -> Result<bool, SyncError> {
    if p.email == state.email {
        return Ok(true);
    }
    match state.contacts.get(&p.email) {
        Some(c) => match pinned_public(&p.email, c) {
            Some(pinned) if pinned == *p => Ok(c.verified),
            pinned => Err(SyncError::KeyChanged(format!(
                "the key given for {} changed since it was pinned (pinned fingerprint {}, now {}): the server may \
                 have substituted it, or {} made a new account. Nothing was shared. Compare fingerprints with them, \
                 then run `tessera identity verify {} FINGERPRINT`",
                p.email,
                pinned.map_or_else(|| "unreadable".into(), |k| k.fingerprint()),
                p.fingerprint(),
                p.email,
                p.email
            ))),
        },
        None => {
            state.contacts.insert(p.email.clone(), contact_of(p, false));
            Ok(false)
        }
    }
}

/// `tessera identity`: this account's email and fingerprint.
#[derive(Debug, Serialize)]
pub struct IdentityInfo {
    /// Email.
    pub email: String,
    /// Fingerprint, 8 groups of 5 digits.
    pub fingerprint: String,
}

/// This account's identity (made now if the account has none yet).
pub fn identity(vault: &mut Vault, creds: &Credentials<'_>) -> Result<IdentityInfo, SyncError> {
    let mut state = SyncState::load(vault)?.ok_or(SyncError::NotLinked)?;
    if state.identity.is_none() {
        with_session(vault, &mut state, creds, ensure_identity)?;
    }
    let me = my_identity(&state)?;
    Ok(IdentityInfo { email: state.email.clone(), fingerprint: me.public(&state.email).fingerprint() })
}

/// `tessera identity verify EMAIL FINGERPRINT`: fetches `email`'s published
/// key and pins it as verified if its fingerprint is the one the user was
/// given. A different fingerprint is refused and nothing changes.
pub fn verify_contact(
    vault: &mut Vault,
    creds: &Credentials<'_>,
    email: &str,
    fingerprint: &str,
) -> Result<IdentityInfo, SyncError> {
    let wanted: String = fingerprint.chars().filter(char::is_ascii_digit).collect();
    if wanted.len() != 40 {
        return Err(SyncError::Local("a fingerprint is 40 digits (8 groups of 5)".into()));
    }
    let mut state = SyncState::load(vault)?.ok_or(SyncError::NotLinked)?;
    with_session(vault, &mut state, creds, |vault, state, api| {
        ensure_identity(vault, state, api)?;
        let record = api.identity_of(email)?.ok_or_else(|| no_account(email))?;
        let public = public_of(&record)?;
        if public.email != email {
            return Err(hostile(format!("the server answered for {} when asked for {email}", public.email)).into());
        }
        let actual = public.fingerprint();
        if actual.replace(' ', "") != wanted {
            return Err(SyncError::KeyChanged(format!(
                "the key the server gives for {email} has fingerprint {actual}, not the one you were given: it \
                 was not marked verified (the server may have substituted it)"
            ))
            .into());
        }
        state.contacts.insert(email.to_string(), contact_of(&public, true));
        state.save(vault)?;
        Ok(IdentityInfo { email: email.into(), fingerprint: actual })
    })
}

fn no_account(email: &str) -> SyncError {
    SyncError::Rejected(format!(
        "there is no account for {email} on this server (or it has not synced since sharing arrived)"
    ))
}

// --- the membership chain -----------------------------------------------------------

/// A member as the chain says.
#[derive(Clone, Debug)]
pub struct Member {
    /// Their role.
    pub role: Role,
    /// Their keys.
    pub key: PublicIdentity,
}

/// A verified chain's outcome.
#[derive(Clone, Debug)]
pub(crate) struct Membership {
    pub id: String,
    pub bytes: [u8; 16],
    /// The share's name once its key opened it ([`unlock_share`]); its id
    /// until then.
    pub name: String,
    /// The name as the last epoch-starting record sealed it.
    pub sealed_name: Vec<u8>,
    pub require_verified: bool,
    pub members: BTreeMap<String, Member>,
    /// Who was removed or left (and is not back).
    pub gone: BTreeSet<String>,
    pub epoch: u64,
    pub commit: [u8; 32],
    /// SHA-256 of each record's body, hex.
    pub hashes: Vec<String>,
    /// The last record was a `leave` not yet followed by a re-key.
    pub needs_rekey: bool,
}

impl Membership {
    fn head(&self) -> String {
        self.hashes.last().cloned().unwrap_or_default()
    }

    fn role_of(&self, email: &str) -> Option<Role> {
        self.members.get(email).map(|m| m.role)
    }
}

fn share_bytes(id: &str) -> Result<[u8; 16], SyncError> {
    ItemId::from_str(id).map(|i| *i.as_bytes()).map_err(|_| hostile(format!("malformed share id {id:?}")))
}

fn body_hash(body: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(body))
}

/// Verifies a whole chain from its first record (DESIGN §11's rules).
pub(crate) fn verify_chain(id: &str, chain: &[ChainRecord]) -> Result<Membership, SyncError> {
    let bytes = share_bytes(id)?;
    let mut m = Membership {
        id: id.into(),
        bytes,
        name: id.into(),
        sealed_name: Vec::new(),
        require_verified: false,
        members: BTreeMap::new(),
        gone: BTreeSet::new(),
        epoch: 0,
        commit: [0; 32],
        hashes: Vec::new(),
        needs_rekey: false,
    };
    for (seq, rec) in chain.iter().enumerate() {
        let bad = |why: &str| hostile(format!("share {id}: membership record {seq} {why}"));
        let raw = from_b64(&rec.body).ok_or_else(|| bad("is not base64"))?;
        let body: ChainBody = serde_json::from_slice(&raw).map_err(|_| bad("is malformed"))?;
        let sig = from_b64(&rec.sig).ok_or_else(|| bad("has a malformed signature"))?;
        if body.share != id {
            return Err(bad("belongs to another share"));
        }
        if body.seq != seq as u64 {
            return Err(bad("is out of place (a record was dropped, replayed or reordered)"));
        }
        let prev = m.hashes.last().cloned().unwrap_or_default();
        if body.prev != prev {
            return Err(bad("does not follow the record before it (the history was forked or rewritten)"));
        }
        let new_keys = || -> Result<PublicIdentity, SyncError> {
            Ok(PublicIdentity {
                email: body.member.clone(),
                sign: key32(&body.member_sign).ok_or_else(|| bad("carries a malformed key"))?,
                enc: key32(&body.member_enc).ok_or_else(|| bad("carries a malformed key"))?,
            })
        };
        let commit = || -> Result<[u8; 32], SyncError> {
            data_encoding::HEXLOWER
                .decode(body.commit.as_bytes())
                .ok()
                .and_then(|c| c.try_into().ok())
                .ok_or_else(|| bad("lacks its key commitment"))
        };
        let role = || Role::parse(&body.role).ok_or_else(|| bad("names no valid role"));
        let sealed_name =
            || from_b64(&body.name).filter(|n| !n.is_empty()).ok_or_else(|| bad("lacks the share's sealed name"));
        // The signer's key: the chain's own record of them (the creator's
        // from the `create` record itself).
        let signer_key = if seq == 0 {
            if body.kind != "create" || body.signer != body.member {
                return Err(bad("is not a share's first record"));
            }
            new_keys()?
        } else {
            m.members
                .get(&body.signer)
                .map(|s| s.key.clone())
                .ok_or_else(|| bad(&format!("is signed by {}, who is not a member", body.signer)))?
        };
        if !signer_key.verify(CHAIN_CONTEXT, &raw, &sig) {
            return Err(bad(&format!("does not carry a valid signature of {}", body.signer)));
        }
        let signer_role = if seq == 0 { Role::Manage } else { m.members[&body.signer].role };
        let needs_manage = |what: &str| -> Result<(), SyncError> {
            if signer_role < Role::Manage {
                Err(bad(&format!("{what}, signed by {} whose role is {}", body.signer, signer_role.as_str())))
            } else {
                Ok(())
            }
        };
        let same_epoch = || if body.epoch == m.epoch { Ok(()) } else { Err(bad("changes the epoch out of turn")) };
        let next_epoch = || if body.epoch == m.epoch + 1 { Ok(()) } else { Err(bad("skips or repeats an epoch")) };
        match body.kind.as_str() {
            "create" if seq == 0 => {
                if body.epoch != 1 {
                    return Err(bad("starts at the wrong epoch"));
                }
                m.sealed_name = sealed_name()?;
                m.require_verified = body.require_verified;
                m.members.insert(body.member.clone(), Member { role: Role::Manage, key: new_keys()? });
                m.commit = commit()?;
                m.epoch = 1;
            }
            "add" => {
                needs_manage("adds a member")?;
                same_epoch()?;
                if m.members.contains_key(&body.member) {
                    return Err(bad("adds someone already a member"));
                }
                m.members.insert(body.member.clone(), Member { role: role()?, key: new_keys()? });
                m.gone.remove(&body.member);
            }
            "role" => {
                needs_manage("changes a role")?;
                same_epoch()?;
                let r = role()?;
                m.members.get_mut(&body.member).ok_or_else(|| bad("changes the role of a non-member"))?.role = r;
            }
            "remove" => {
                needs_manage("removes a member")?;
                next_epoch()?;
                m.members.remove(&body.member).ok_or_else(|| bad("removes a non-member"))?;
                m.gone.insert(body.member.clone());
                m.commit = commit()?;
                m.sealed_name = sealed_name()?;
                m.epoch = body.epoch;
                m.needs_rekey = false;
            }
            "leave" => {
                if body.signer != body.member {
                    return Err(bad("makes someone else leave"));
                }
                same_epoch()?;
                m.members.remove(&body.member).ok_or_else(|| bad("is a non-member leaving"))?;
                m.gone.insert(body.member.clone());
                m.needs_rekey = true;
            }
            "rekey" => {
                needs_manage("re-keys the share")?;
                next_epoch()?;
                m.commit = commit()?;
                m.sealed_name = sealed_name()?;
                m.epoch = body.epoch;
                m.needs_rekey = false;
            }
            other => return Err(bad(&format!("has an unknown kind {other:?}"))),
        }
        m.hashes.push(body_hash(&raw));
    }
    if m.hashes.is_empty() {
        return Err(hostile(format!("share {id}: the server sent no membership history")));
    }
    Ok(m)
}

/// A chain must extend the one this device verified before.
fn check_extends(m: &Membership, known: &ShareState) -> Result<(), SyncError> {
    let len = m.hashes.len() as u64;
    if len < known.chain_len {
        return Err(hostile(format!(
            "share \"{}\": the membership history was rolled back ({len} records, this device has seen {}): an old \
             membership is being replayed",
            known.name, known.chain_len
        )));
    }
    if known.chain_len > 0 && m.hashes[known.chain_len as usize - 1] != known.chain_head {
        return Err(hostile(format!(
            "share \"{}\": the membership history differs from the one this device verified (rewritten or forked)",
            known.name
        )));
    }
    Ok(())
}

fn sign_record(me: &Identity, body: &ChainBody) -> ChainRecord {
    let raw = serde_json::to_vec(body).expect("a chain record always serialises");
    ChainRecord { body: b64(&raw), sig: b64(&me.sign(CHAIN_CONTEXT, &raw)) }
}

/// Checks every member's keys in the chain against this account's pins
/// and its own identity; pins new people.
fn check_members(state: &mut SyncState, m: &Membership) -> Result<(), SyncError> {
    let me = my_identity(state)?.public(&state.email);
    for (email, member) in &m.members {
        if *email == state.email {
            if member.key != me {
                return Err(hostile(format!(
                    "share \"{}\" lists this account under keys that are not its own (fingerprint {}, yours is {}): \
                     the server substituted this account's key",
                    m.name,
                    member.key.fingerprint(),
                    me.fingerprint()
                )));
            }
        } else {
            pin(state, &member.key)?;
        }
    }
    Ok(())
}

/// The current epoch's key from this account's grant, checked against the
/// chain's commitment.
fn open_grant(state: &SyncState, m: &Membership, grant: Option<&Grant>) -> Result<ShareKey, SyncError> {
    let name = &m.name;
    let grant = grant.ok_or_else(|| {
        hostile(format!("share \"{name}\": the server withholds this account's key for the current epoch {}", m.epoch))
    })?;
    if grant.epoch != m.epoch || grant.member != state.email {
        return Err(hostile(format!(
            "share \"{name}\": the server served a key of epoch {} for {} where the membership says epoch {} (an old \
             or another member's key replayed)",
            grant.epoch, grant.member, m.epoch
        )));
    }
    let sealed = from_b64(&grant.sealed).ok_or_else(|| hostile(format!("share \"{name}\": malformed key grant")))?;
    let key = my_identity(state)?
        .open_grant(&m.bytes, m.epoch, &state.email, &sealed)
        .map_err(|_| hostile(format!("share \"{name}\": the key grant does not open (not made for this account)")))?;
    if key.commitment(&m.bytes, m.epoch) != m.commit {
        return Err(hostile(format!(
            "share \"{name}\": the served key is not the one the membership history commits to (a key made by the \
             server, or an old key replayed)"
        )));
    }
    Ok(key)
}

/// Opens this account's grant and, with the key, the share's name.
fn unlock_share(state: &SyncState, m: &mut Membership, grant: Option<&Grant>) -> Result<ShareKey, SyncError> {
    let key = open_grant(state, m, grant)?;
    m.name = key
        .open_name(&m.bytes, m.epoch, &m.sealed_name)
        .map_err(|_| hostile(format!("share {}: its name does not open under its key", m.id)))?;
    Ok(key)
}

// --- a share's stream -------------------------------------------------------------

struct ShareStream {
    /// The index [`sync_share`] fetched and checked, used by the first
    /// round instead of asking again.
    fetched: std::cell::RefCell<Option<crate::wire::ShareIndex>>,
    /// The `ETag` of the answer this device verified, then of the answer
    /// as its last push left it (`None` once unknown).
    verified: std::cell::RefCell<Option<String>>,
    /// The `ETag` of the answer as this device's last push left it.
    pushed: std::cell::RefCell<Option<String>>,
    m: Membership,
    records: ShareRecords,
    me: Identity,
    email: String,
}

fn hex_commit(c: &[u8; 32]) -> String {
    data_encoding::HEXLOWER.encode(c)
}

/// Signed share manifest: version ‖ count ‖ sum ‖ epoch ‖ signer length ‖
/// signer ‖ Ed25519 signature.
fn sign_share_manifest(m: &Membership, me: &Identity, email: &str, man: &Manifest) -> String {
    let s = ShareStream::message_for(m, man);
    let mut out = Vec::new();
    out.extend_from_slice(&man.version.to_be_bytes());
    out.extend_from_slice(&man.count.to_be_bytes());
    out.extend_from_slice(&man.sum.0);
    out.extend_from_slice(&m.epoch.to_be_bytes());
    out.extend_from_slice(&(email.len() as u16).to_be_bytes());
    out.extend_from_slice(email.as_bytes());
    out.extend_from_slice(&me.sign(MANIFEST_CONTEXT, &s));
    b64(&out)
}

impl ShareStream {
    fn message_for(m: &Membership, man: &Manifest) -> Vec<u8> {
        let mut out = m.bytes.to_vec();
        out.extend_from_slice(&m.epoch.to_be_bytes());
        out.extend_from_slice(&man.version.to_be_bytes());
        out.extend_from_slice(&man.count.to_be_bytes());
        out.extend_from_slice(&man.sum.0);
        out
    }
}

impl Stream for ShareStream {
    fn what(&self) -> String {
        format!("share \"{}\"", self.m.name)
    }

    fn index(&self, api: &Api) -> Result<VaultIndex, HttpOr> {
        let index = match self.fetched.borrow_mut().take() {
            Some(index) => index,
            None => {
                let (index, tag) = api
                    .share_index_unless(&self.m.id, None)?
                    .ok_or_else(|| HttpError::Protocol("304 to a request without a tag".into()))?;
                *self.verified.borrow_mut() = tag;
                index
            }
        };
        if index.chain.len() != self.m.hashes.len() {
            return Err(SyncError::Busy.into());
        }
        Ok(VaultIndex {
            manifest: index.manifest,
            manifest_version: index.manifest_version,
            seq: index.seq,
            items: index.items,
            device_pushed: None,
        })
    }

    fn verify_manifest(&self, signed: &str) -> Result<Manifest, String> {
        let what = self.what();
        let bad = || format!("{what}: the manifest is malformed");
        let b = from_b64(signed).ok_or_else(bad)?;
        if b.len() < 58 + 64 {
            return Err(bad());
        }
        let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let version = u64_at(0);
        let count = u64_at(8);
        let sum: [u8; 32] = b[16..48].try_into().map_err(|_| bad())?;
        let epoch = u64_at(48);
        let len = u16::from_be_bytes([b[56], b[57]]) as usize;
        if b.len() != 58 + len + 64 {
            return Err(bad());
        }
        let signer = std::str::from_utf8(&b[58..58 + len]).map_err(|_| bad())?;
        if epoch != self.m.epoch {
            return Err(format!(
                "{what}: the manifest was signed at epoch {epoch}, the membership is at epoch {} (an old state replayed)",
                self.m.epoch
            ));
        }
        let member = self.m.members.get(signer).ok_or_else(|| {
            format!("{what}: the manifest is signed by {signer}, who is not a member (a change the server injected)")
        })?;
        if member.role < Role::Write {
            return Err(format!(
                "{what}: the manifest is signed by {signer}, whose role is {} (a change the server accepted from a \
                 member who may not write)",
                member.role.as_str()
            ));
        }
        let man = Manifest { version, count, sum: tessera_core::ManifestSum(sum) };
        if !member.key.verify(MANIFEST_CONTEXT, &ShareStream::message_for(&self.m, &man), &b[58 + len..]) {
            return Err(format!("{what}: the manifest's signature is not {signer}'s"));
        }
        Ok(man)
    }

    fn sign_manifest(&self, manifest: &Manifest) -> String {
        sign_share_manifest(&self.m, &self.me, &self.email, manifest)
    }

    fn entry(&self, id: &ItemId, revision: u64) -> [u8; 32] {
        self.records.manifest_entry(id, revision)
    }

    fn open(&self, id: &ItemId, revision: u64, deleted: bool, blob: &str) -> Result<Record, BadRecord> {
        let raw = from_b64(blob).ok_or(BadRecord::Malformed)?;
        let plain = self.records.open_record(id, revision, deleted, &raw)?;
        record::parse(id, deleted, &plain)
    }

    fn seal(&self, version: &NewVersion, revision: u64) -> String {
        let plain = record::body(version);
        b64(&self.records.seal_record(&version.item.id, revision, false, &plain))
    }

    fn seal_tombstone(&self, id: &ItemId, revision: u64) -> String {
        b64(&self.records.seal_record(id, revision, true, &[]))
    }

    fn changes(&self, api: &Api, since: u64) -> Result<Changes, HttpError> {
        api.share_changes(&self.m.id, since)
    }

    fn push(&self, api: &Api, push: PushRequest) -> Result<PushResponse, HttpError> {
        let verified = self.verified.borrow().clone();
        let response = api.share_push(&self.m.id, &SharePush { epoch: self.m.epoch, push, verified })?;
        // The next push in this round builds on this one.
        *self.verified.borrow_mut() = response.etag.clone();
        *self.pushed.borrow_mut() = response.etag.clone();
        Ok(response)
    }

    fn owns(&self, owner: Option<&str>) -> bool {
        owner == Some(self.m.id.as_str())
    }

    fn mine(
        &self,
        state: &SyncState,
        revisions: &std::collections::HashMap<ItemId, u64>,
    ) -> Result<Vec<(ItemId, u64)>, SyncError> {
        let Some(share) = state.shares.get(&self.m.id) else { return Ok(Vec::new()) };
        let mut mine = Vec::with_capacity(share.members.len());
        for hex in &share.members {
            let id = crate::client::engine::parse_id(hex)?;
            if let Some(rev) = revisions.get(&id) {
                mine.push((id, *rev));
            }
        }
        Ok(mine)
    }

    fn takes_over(&self) -> bool {
        true
    }

    fn adopt(&self, state: &mut SyncState, id: &str) {
        for (k, s) in state.shares.iter_mut() {
            if *k == self.m.id {
                s.members.insert(id.to_string());
            } else {
                s.members.remove(id);
            }
        }
    }

    fn state<'a>(&self, state: &'a SyncState) -> &'a StreamState {
        &state.shares[&self.m.id].stream
    }

    fn state_mut<'a>(&self, state: &'a mut SyncState) -> &'a mut StreamState {
        &mut state.shares.get_mut(&self.m.id).expect("a share being synced is known").stream
    }

    fn may_push(&self) -> Result<(), SyncError> {
        match self.m.role_of(&self.email) {
            Some(r) if r >= Role::Write => Ok(()),
            r => Err(SyncError::Role(format!(
                "your role in share \"{}\" is {}: it does not allow changing its items (local changes to them stay \
                 on this device)",
                self.m.name,
                r.map_or("none", Role::as_str)
            ))),
        }
    }
}

// --- syncing every share ----------------------------------------------------------

/// The shares to ask about in `POST /sync/check`: those verified in full
/// at an earlier sync, against the same contacts, with nothing to send
/// from here, by the tag of the answer verified. Every other share, and
/// every one whose answer changed, is fetched and verified in full.
pub(crate) fn remembered_tags(
    vault: &Vault,
    state: &SyncState,
    revisions: &mut Option<std::collections::HashMap<ItemId, u64>>,
) -> Result<BTreeMap<String, String>, SyncError> {
    let contacts = state.contacts_digest();
    let mut tags = BTreeMap::new();
    for (id, share) in state.shares.iter() {
        let Some(checked) = share.checked.as_ref().filter(|c| c.contacts == contacts) else { continue };
        let local = match revisions.take() {
            Some(local) => local,
            None => vault.item_revisions()?.into_iter().collect(),
        };
        let changed = share_has_local_changes(state, id, &local)?;
        *revisions = Some(local);
        if !changed {
            tags.insert(id.clone(), checked.etag.clone());
        }
    }
    Ok(tags)
}

/// Syncs every share this account has accepted: verifies membership and
/// key, leaves shares it was removed from, re-keys after a member left
/// (a manager's device does), and runs each share's rounds. `tags` are
/// the remembered answers asked about, and `check` the server's answer
/// (`None` from a server older than `POST /sync/check`: the shares are
/// listed, and each asked about with its own `If-None-Match`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn sync_shares(
    vault: &mut Vault,
    state: &mut SyncState,
    api: &Api,
    tags: &BTreeMap<String, String>,
    check: Option<crate::wire::SyncChecked>,
    revisions: &mut Option<std::collections::HashMap<ItemId, u64>>,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), HttpOr> {
    let mut ids: BTreeSet<String> = state.shares.keys().cloned().collect();
    let contacts = state.contacts_digest();
    let (unchanged, ask_each): (BTreeSet<String>, bool) = match check {
        Some(check) => {
            ids.extend(check.accepted);
            // Only shares asked about can be unchanged.
            (check.unchanged.into_iter().filter(|id| tags.contains_key(id)).collect(), false)
        }
        None => {
            ids.extend(api.shares()?.into_iter().filter(|s| s.accepted).map(|s| s.id));
            (BTreeSet::new(), true)
        }
    };
    for id in ids {
        // Every share is checked at every sync, changed or not, so that
        // whatever a server did to one is reported at the next sync.
        if unchanged.contains(&id) {
            continue;
        }
        let tag = tags.get(&id).filter(|_| ask_each).map(String::as_str);
        sync_share(vault, state, api, &id, tag, &contacts, revisions, report, progress)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn sync_share(
    vault: &mut Vault,
    state: &mut SyncState,
    api: &Api,
    id: &str,
    etag: Option<&str>,
    contacts: &str,
    revisions: &mut Option<std::collections::HashMap<ItemId, u64>>,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), HttpOr> {
    let (index, etag) = match api.share_index_unless(id, etag) {
        // Still the index verified last: nothing to pull, nothing to send.
        Ok(None) => return Ok(()),
        Ok(Some(answer)) => answer,
        Err(HttpError::Status(404, _)) => {
            let name = state.shares.get(id).map_or(id.to_string(), |s| s.name.clone());
            return Err(hostile(format!(
                "share \"{name}\": the server no longer serves it to this account, though no membership record \
                 removes it"
            ))
            .into());
        }
        Err(e) => return Err(e.into()),
    };
    let mut m = verify_chain(id, &index.chain)?;
    if let Some(known) = state.shares.get(id) {
        check_extends(&m, known)?;
        m.name = known.name.clone();
    }
    if !m.members.contains_key(&state.email) {
        if m.gone.contains(&state.email) {
            if index.grant.is_some() || !index.items.is_empty() {
                return Err(hostile(format!(
                    "share \"{}\": the server still serves its key or items to this account after its removal",
                    m.name
                ))
                .into());
            }
            unshare(vault, state, id, &m.name)?;
            *revisions = None;
            return Ok(());
        }
        return Err(hostile(format!("share \"{}\": this account is not in its membership", m.name)).into());
    }
    check_members(state, &m)?;
    let key = unlock_share(state, &mut m, index.grant.as_ref())?;
    // After a re-key every record was re-sealed at the new epoch and a new
    // revision, which the round pulls like any change.
    let entry = state.shares.entry(id);
    entry.checked = None;
    entry.name = m.name.clone();
    entry.chain_len = m.hashes.len() as u64;
    entry.chain_head = m.head();
    entry.epoch = m.epoch;
    entry.key = b64(key.expose());
    entry.role = m.role_of(&state.email).map_or("", Role::as_str).into();
    let me = my_identity(state)?;
    let my_role = m.role_of(&state.email);
    let needs_rekey = m.needs_rekey && my_role == Some(Role::Manage);
    let stream = ShareStream {
        fetched: std::cell::RefCell::new(Some(index)),
        verified: std::cell::RefCell::new(etag.clone()),
        pushed: std::cell::RefCell::new(None),
        records: key.records(m.bytes, m.epoch),
        m,
        me,
        email: state.email.clone(),
    };
    let pushed = report.pushed;
    match run_rounds(vault, state, api, &stream, revisions, report, progress) {
        Err(HttpOr::Sync(SyncError::Role(_))) => {}
        other => other?,
    }
    // The answer verified is what this device now holds; after a push, the
    // answer as the push left it is: the one verified, with what this
    // device sent (a push on a moved-on share is refused as stale). Unless
    // a re-key is about to change it. A tag that no longer names the
    // share's answer costs one full fetch at the next sync, nothing more.
    let tag = if report.pushed == pushed { etag } else { stream.pushed.borrow_mut().take() };
    if !needs_rekey && let (Some(etag), Some(share)) = (tag, state.shares.get_mut(id)) {
        share.checked = Some(Checked { etag, contacts: contacts.to_owned() });
    }
    if needs_rekey {
        rekey(vault, state, api, stream.m, None)?;
    }
    Ok(())
}

/// Whether this device has something to send to share `id`: the test of
/// a round's push step (`stream::round`, step 5), on the local revisions.
/// The share's members and its tracked items are both in hex-id order, so
/// they are walked side by side (a member of many shares runs this for
/// each of them at every sync).
fn share_has_local_changes(
    state: &SyncState,
    id: &str,
    local: &std::collections::HashMap<ItemId, u64>,
) -> Result<bool, SyncError> {
    let Some(share) = state.shares.get(id) else { return Ok(true) };
    let local_rev = |hex: &str| -> Result<Option<u64>, SyncError> {
        Ok(local.get(&crate::client::engine::parse_id(hex)?).copied())
    };
    let mut members = share.members.iter().map(String::as_str).peekable();
    for (hex, t) in &share.stream.items {
        // Members before this tracked item are not tracked: new here.
        while let Some(m) = members.next_if(|m| *m < hex.as_str()) {
            if local_rev(m)?.is_some() {
                return Ok(true);
            }
        }
        let present = match members.next_if(|m| *m == hex.as_str()) {
            Some(m) => local_rev(m)?,
            None => None,
        };
        match present {
            // Edited here, or brought back after its tombstone.
            Some(rev) if t.local != rev || t.deleted => return Ok(true),
            Some(_) => {}
            // Gone from here (or from the share): its tombstone is due.
            None if !t.deleted => return Ok(true),
            None => {}
        }
    }
    for m in members {
        if local_rev(m)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// This account is no longer in share `id`: its local copies stay, as
/// personal items tagged `unshared:NAME`.
fn unshare(vault: &mut Vault, state: &mut SyncState, id: &str, name: &str) -> Result<(), HttpOr> {
    let Some(share) = state.shares.remove(id) else { return Ok(()) };
    let mut changes = Vec::new();
    let mut based_on = std::collections::HashMap::new();
    for hex in &share.members {
        let Ok(item_id) = ItemId::from_str(hex) else { continue };
        let Ok(mut item) = vault.get(item_id) else { continue };
        based_on.insert(item_id, item.revision);
        let tag = format!("unshared:{name}");
        if !item.tags.contains(&tag) {
            item.tags.push(tag);
        }
        let attachments = contents(vault, &item)?;
        changes.push(RemoteChange::Put(Box::new(NewVersion { item, attachments })));
    }
    let update = state.update();
    let written = update.clone();
    vault.apply_remote(changes, &based_on, |_| update)?;
    state.written(written);
    Ok(())
}

/// Starts a new epoch: a `remove` of `removed` (or a `rekey` after a
/// leave), grants for the remaining members, and every item re-sealed.
fn rekey(
    vault: &mut Vault,
    state: &mut SyncState,
    api: &Api,
    m: Membership,
    removed: Option<&str>,
) -> Result<(), HttpOr> {
    let me = my_identity(state)?;
    let key = ShareKey::generate();
    let epoch = m.epoch + 1;
    let body = ChainBody {
        share: m.id.clone(),
        seq: m.hashes.len() as u64,
        prev: m.head(),
        kind: if removed.is_some() { "remove" } else { "rekey" }.into(),
        member: removed.unwrap_or(&state.email).into(),
        member_sign: String::new(),
        member_enc: String::new(),
        role: String::new(),
        epoch,
        commit: hex_commit(&key.commitment(&m.bytes, epoch)),
        signer: state.email.clone(),
        name: b64(&key.seal_name(&m.bytes, epoch, &m.name)),
        require_verified: false,
    };
    let record = sign_record(&me, &body);
    let mut grants = Vec::new();
    for (email, member) in &m.members {
        if Some(email.as_str()) == removed {
            continue;
        }
        if *email != state.email {
            pin(state, &member.key)?;
        }
        let sealed =
            member.key.grant(&m.bytes, epoch, &key).map_err(|_| hostile(format!("{email}'s key is malformed")))?;
        grants.push(Grant { member: email.clone(), epoch, sealed: b64(&sealed) });
    }
    // The share as the server holds it now, checked like any round.
    let index = api.share_index(&m.id)?;
    let old = state.shares.get(&m.id).map(|s| s.stream.clone()).unwrap_or_default();
    if index.manifest_version != old.manifest_version || index.items.len() != old.items.len() {
        return Err(SyncError::Busy.into());
    }
    let mut next = m.clone();
    next.hashes.push(body_hash(&from_b64(&record.body).unwrap_or_default()));
    if let Some(r) = removed {
        next.members.remove(r);
        next.gone.insert(r.to_string());
    }
    next.epoch = epoch;
    next.commit = key.commitment(&m.bytes, epoch);
    next.sealed_name = key.seal_name(&m.bytes, epoch, &m.name);
    next.needs_rekey = false;
    let records = key.records(m.bytes, epoch);
    let mut manifest = Manifest::of_entries(old.manifest_version + 1, std::iter::empty());
    let mut items = Vec::with_capacity(index.items.len());
    let mut tracked = old.items.clone();
    for e in &index.items {
        let id = ItemId::from_str(&e.id).map_err(|_| hostile("malformed item id"))?;
        let t = old.items.get(&e.id).copied().ok_or(SyncError::Busy)?;
        if t.revision != e.revision {
            return Err(SyncError::Busy.into());
        }
        let revision = e.revision + 1;
        let blob = if e.deleted {
            records.seal_record(&id, revision, true, &[])
        } else {
            let item = vault.get(id)?;
            let attachments = contents(vault, &item)?;
            records.seal_record(&id, revision, false, &record::body(&NewVersion { item, attachments }))
        };
        manifest.advance_entries(None, records.manifest_entry(&id, revision));
        items.push(PushItem { id: e.id.clone(), base_revision: e.revision, deleted: e.deleted, blob: b64(&blob) });
        tracked.insert(e.id.clone(), super::state::Tracked { revision, ..t });
    }
    let resp = api.rekey(
        &m.id,
        &Rekey {
            record,
            grants,
            base_manifest_version: old.manifest_version,
            manifest: sign_share_manifest(&next, &me, &state.email, &manifest),
            manifest_version: manifest.version,
            items,
        },
    )?;
    let share = state.shares.get_mut(&m.id).expect("a share being re-keyed is known");
    share.chain_len = next.hashes.len() as u64;
    share.chain_head = next.head();
    share.epoch = epoch;
    share.key = b64(key.expose());
    share.stream.items = tracked;
    share.stream.set_manifest(&manifest);
    share.stream.cursor = resp.seq;
    state.save(vault)?;
    Ok(())
}

// --- the share commands -------------------------------------------------------------

/// A share as `share list` shows it.
#[derive(Debug, Serialize)]
pub struct ShareInfo {
    /// Share id (what `share accept` takes).
    pub id: String,
    /// Name.
    pub name: String,
    /// This account's role.
    pub role: Role,
    /// Members.
    pub members: u64,
    /// An invitation not yet accepted.
    pub pending: bool,
}

/// A member as `share members` shows it.
#[derive(Debug, Serialize)]
pub struct MemberInfo {
    /// Email.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Fingerprint.
    pub fingerprint: String,
    /// This account verified it (always true for the account itself).
    pub verified: bool,
}

/// What an invitation did.
#[derive(Debug, Serialize)]
pub struct Invited {
    /// The invitee.
    pub email: String,
    /// Their fingerprint as the server gave it.
    pub fingerprint: String,
    /// Whether this account had verified it.
    pub verified: bool,
    /// Their role.
    pub role: Role,
}

fn load(vault: &Vault) -> Result<SyncState, SyncError> {
    SyncState::load(vault)?.ok_or(SyncError::NotLinked)
}

fn find(state: &SyncState, name: &str) -> Result<String, SyncError> {
    if state.shares.contains_key(name) {
        return Ok(name.into());
    }
    let hits: Vec<&String> = state.shares.iter().filter(|(_, s)| s.name == name).map(|(k, _)| k).collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(SyncError::NoSuchShare(format!(
            "no share named \"{name}\" on this device (run `tessera share list`, or `tessera sync` after accepting)"
        ))),
        many => Err(SyncError::Local(format!(
            "several shares are named \"{name}\"; use an id: {}",
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Fetches and verifies a share's chain (extending what this device saw).
fn current(state: &mut SyncState, api: &Api, id: &str) -> Result<(Membership, crate::wire::ShareIndex), HttpOr> {
    let (mut m, index) = current_chain(state, api, id)?;
    if m.members.contains_key(&state.email) {
        unlock_share(state, &mut m, index.grant.as_ref())?;
    }
    Ok((m, index))
}

/// [`current`] without opening the key (the name stays the id).
fn current_chain(state: &mut SyncState, api: &Api, id: &str) -> Result<(Membership, crate::wire::ShareIndex), HttpOr> {
    let index = api.share_index(id).map_err(|e| match e {
        HttpError::Status(404, _) => {
            HttpOr::Sync(SyncError::NoSuchShare(format!("the server has no share {id} for this account")))
        }
        e => e.into(),
    })?;
    let m = verify_chain(id, &index.chain)?;
    if let Some(known) = state.shares.get(id) {
        check_extends(&m, known)?;
    }
    check_members(state, &m)?;
    Ok((m, index))
}

fn require_manage(m: &Membership, email: &str, what: &str) -> Result<(), SyncError> {
    match m.role_of(email) {
        Some(Role::Manage) => Ok(()),
        r => Err(SyncError::Role(format!(
            "your role in share \"{}\" is {}: only a member with manage may {what}",
            m.name,
            r.map_or("none", Role::as_str)
        ))),
    }
}

/// `share create NAME`.
pub fn create(
    vault: &mut Vault,
    creds: &Credentials<'_>,
    name: &str,
    require_verified: bool,
) -> Result<ShareInfo, SyncError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(SyncError::Local("a share's name has 1 to 200 characters".into()));
    }
    let mut state = load(vault)?;
    with_session(vault, &mut state, creds, |vault, state, api| {
        ensure_identity(vault, state, api)?;
        let me = my_identity(state)?;
        let public = me.public(&state.email);
        let id = ItemId::random();
        let bytes = *id.as_bytes();
        let id = id.to_hex();
        let key = ShareKey::generate();
        let body = ChainBody {
            share: id.clone(),
            seq: 0,
            prev: String::new(),
            kind: "create".into(),
            member: state.email.clone(),
            member_sign: b64(&public.sign),
            member_enc: b64(&public.enc),
            role: "manage".into(),
            epoch: 1,
            commit: hex_commit(&key.commitment(&bytes, 1)),
            signer: state.email.clone(),
            name: b64(&key.seal_name(&bytes, 1, name)),
            require_verified,
        };
        let record = sign_record(&me, &body);
        let mut m = verify_chain(&id, std::slice::from_ref(&record))?;
        m.name = name.into();
        let grant = public.grant(&bytes, 1, &key).map_err(|_| SyncError::Local("own key malformed".into()))?;
        let manifest = Manifest::empty();
        api.create_share(&CreateShare {
            id: id.clone(),
            record,
            grant: Grant { member: state.email.clone(), epoch: 1, sealed: b64(&grant) },
            manifest: sign_share_manifest(&m, &me, &state.email, &manifest),
        })?;
        let mut share = ShareState {
            name: name.into(),
            chain_len: 1,
            chain_head: m.head(),
            epoch: 1,
            key: b64(key.expose()),
            role: "manage".into(),
            members: BTreeSet::new(),
            stream: StreamState::default(),
            checked: None,
        };
        share.stream.set_manifest(&manifest);
        state.shares.insert(id.clone(), share);
        state.save(vault)?;
        Ok(ShareInfo { id, name: name.into(), role: Role::Manage, members: 1, pending: false })
    })
}

/// `share list`: accepted shares and invitations.
pub fn list(vault: &mut Vault, creds: &Credentials<'_>) -> Result<Vec<ShareInfo>, SyncError> {
    let mut state = load(vault)?;
    with_session(vault, &mut state, creds, |vault, state, api| {
        ensure_identity(vault, state, api)?;
        let mut out = Vec::new();
        for s in api.shares()? {
            if s.role == "removed" {
                continue;
            }
            let (m, _) = current(state, api, &s.id)?;
            let role = m.role_of(&state.email).ok_or_else(|| {
                hostile(format!("share \"{}\": the server lists this account, its membership does not", m.name))
            })?;
            out.push(ShareInfo {
                id: s.id.clone(),
                name: m.name.clone(),
                role,
                members: m.members.len() as u64,
                pending: !s.accepted,
            });
        }
        state.save(vault)?;
        Ok(out)
    })
}

/// `share members NAME`.
pub fn members(vault: &mut Vault, creds: &Credentials<'_>, name: &str) -> Result<Vec<MemberInfo>, SyncError> {
    let mut state = load(vault)?;
    let id = find(&state, name)?;
    with_session(vault, &mut state, creds, |vault, state, api| {
        ensure_identity(vault, state, api)?;
        let (m, _) = current(state, api, &id)?;
        state.save(vault)?;
        Ok(m.members
            .iter()
            .map(|(email, member)| MemberInfo {
                email: email.clone(),
                role: member.role,
                fingerprint: member.key.fingerprint(),
                verified: *email == state.email || state.contacts.get(email).is_some_and(|c| c.verified),
            })
            .collect())
    })
}

/// `share invite NAME EMAIL --role ROLE`.
pub fn invite(
    vault: &mut Vault,
    creds: &Credentials<'_>,
    name: &str,
    email: &str,
    role: Role,
) -> Result<Invited, SyncError> {
    let mut state = load(vault)?;
    let id = find(&state, name)?;
    with_session(vault, &mut state, creds, |vault, state, api| {
        ensure_identity(vault, state, api)?;
        let (m, index) = current(state, api, &id)?;
        require_manage(&m, &state.email, "invite")?;
        if m.members.contains_key(email) {
            return Err(SyncError::Local(format!("{email} is already in share \"{}\"", m.name)).into());
        }
        let record = api.identity_of(email)?.ok_or_else(|| no_account(email))?;
        let invitee = public_of(&record)?;
        if invitee.email != email {
            return Err(hostile(format!("the server answered for {} when asked for {email}", invitee.email)).into());
        }
        let verified = pin(state, &invitee)?;
        if m.require_verified && !verified {
            return Err(SyncError::Unverified(format!(
                "share \"{}\" gives its key only to verified people: compare fingerprints with {email} (theirs, as \
                 the server gives it: {}), then run `tessera identity verify {email} FINGERPRINT`",
                m.name,
                invitee.fingerprint()
            ))
            .into());
        }
        let key = open_grant(state, &m, index.grant.as_ref())?;
        let me = my_identity(state)?;
        let body = ChainBody {
            share: id.clone(),
            seq: m.hashes.len() as u64,
            prev: m.head(),
            kind: "add".into(),
            member: email.into(),
            member_sign: b64(&invitee.sign),
            member_enc: b64(&invitee.enc),
            role: role.as_str().into(),
            epoch: m.epoch,
            commit: String::new(),
            signer: state.email.clone(),
            name: String::new(),
            require_verified: false,
        };
        let rec = sign_record(&me, &body);
        let sealed =
            invitee.grant(&m.bytes, m.epoch, &key).map_err(|_| hostile(format!("{email}'s key is malformed")))?;
        api.append_record(
            &id,
            &AppendRecord {
                record: rec.clone(),
                grants: vec![Grant { member: email.into(), epoch: m.epoch, sealed: b64(&sealed) }],
            },
        )?;
        if let Some(s) = state.shares.get_mut(&id) {
            s.chain_len += 1;
            s.chain_head = body_hash(&from_b64(&rec.body).unwrap_or_default());
        }
        state.save(vault)?;
        Ok(Invited { email: email.into(), fingerprint: invitee.fingerprint(), verified, role })
    })
}

/// An invitation as the app shows it before joining.
#[derive(Debug, Serialize)]
pub struct Invitation {
    /// Share id (what [`accept`] takes).
    pub id: String,
    /// Name.
    pub name: String,
    /// The role offered.
    pub role: Role,
    /// Members.
    pub members: u64,
    /// Who invited this account, with their keys as the verified chain has
    /// them; `None` when they have left since.
    pub inviter: Option<MemberInfo>,
}

/// An invitation waiting for this account: checked as [`accept`] checks it
/// (the whole chain, this account under its own key), nothing joined. The
/// inviter is the signer of the `add` of this account, a member with
/// manage at that point, as [`verify_chain`] proved.
pub fn invitation(vault: &mut Vault, creds: &Credentials<'_>, id: &str) -> Result<Invitation, SyncError> {
    let mut state = load(vault)?;
    with_session(vault, &mut state, creds, |vault, state, api| {
        ensure_identity(vault, state, api)?;
        let (m, index) = current(state, api, id)?;
        let role = m
            .role_of(&state.email)
            .ok_or_else(|| SyncError::NoSuchShare(format!("share {id} has no invitation for this account")))?;
        let added_by = index
            .chain
            .iter()
            .rev()
            .filter_map(|r| serde_json::from_slice::<ChainBody>(&from_b64(&r.body)?).ok())
            .find(|b| b.kind == "add" && b.member == state.email)
            .map(|b| b.signer);
        let inviter = added_by.and_then(|email| {
            let member = m.members.get(&email)?;
            Some(MemberInfo {
                verified: state.contacts.get(&email).is_some_and(|c| c.verified),
                email,
                role: member.role,
                fingerprint: member.key.fingerprint(),
            })
        });
        state.save(vault)?;
        Ok(Invitation { id: id.into(), name: m.name.clone(), role, members: m.members.len() as u64, inviter })
    })
}

/// `share accept ID`: checks the invitation and starts syncing the share.
pub fn accept(
    vault: &mut Vault,
    creds: &Credentials<'_>,
    id: &str,
    progress: &mut dyn FnMut(Progress),
) -> Result<(ShareInfo, SyncReport), SyncError> {
    let mut state = load(vault)?;
    with_session(vault, &mut state, creds, |vault, state, api| {
        ensure_identity(vault, state, api)?;
        let (m, index) = current(state, api, id)?;
        let role = m
            .role_of(&state.email)
            .ok_or_else(|| SyncError::NoSuchShare(format!("share {id} has no invitation for this account")))?;
        open_grant(state, &m, index.grant.as_ref())?;
        api.accept_share(id)?;
        let mut report = SyncReport::default();
        let contacts = state.contacts_digest();
        sync_share(vault, state, api, id, None, &contacts, &mut None, &mut report, progress)?;
        let info =
            ShareInfo { id: id.into(), name: m.name.clone(), role, members: m.members.len() as u64, pending: false };
        Ok((info, report))
    })
}

/// `share decline ID` and `share leave NAME`: a signed `leave`; local
/// copies stay as personal items.
pub fn leave(vault: &mut Vault, creds: &Credentials<'_>, id_or_name: &str) -> Result<String, SyncError> {
    let mut state = load(vault)?;
    let id = find(&state, id_or_name).unwrap_or_else(|_| id_or_name.to_string());
    with_session(vault, &mut state, creds, |vault, state, api| {
        ensure_identity(vault, state, api)?;
        let (m, _) = current(state, api, &id)?;
        if !m.members.contains_key(&state.email) {
            return Err(SyncError::NoSuchShare(format!("this account is not in share {id}")).into());
        }
        let me = my_identity(state)?;
        let body = ChainBody {
            share: id.clone(),
            seq: m.hashes.len() as u64,
            prev: m.head(),
            kind: "leave".into(),
            member: state.email.clone(),
            member_sign: String::new(),
            member_enc: String::new(),
            role: String::new(),
            epoch: m.epoch,
            commit: String::new(),
            signer: state.email.clone(),
            name: String::new(),
            require_verified: false,
        };
        api.append_record(&id, &AppendRecord { record: sign_record(&me, &body), grants: Vec::new() })?;
        unshare(vault, state, &id, &m.name)?;
        Ok(m.name.clone())
    })
}

/// `share remove NAME EMAIL`: removes a member and re-keys the share.
pub fn remove(vault: &mut Vault, creds: &Credentials<'_>, name: &str, email: &str) -> Result<(), SyncError> {
    let mut state = load(vault)?;
    let id = find(&state, name)?;
    with_session(vault, &mut state, creds, |vault, state, api| {
        ensure_identity(vault, state, api)?;
        // Up to date first: the re-key re-seals every item as it is now.
        let mut report = SyncReport::default();
        let contacts = state.contacts_digest();
        sync_share(vault, state, api, &id, None, &contacts, &mut None, &mut report, &mut |_| {})?;
        let (m, _) = current(state, api, &id)?;
        require_manage(&m, &state.email, "remove members")?;
        if !m.members.contains_key(email) {
            return Err(SyncError::NoSuchShare(format!("{email} is not in share \"{}\"", m.name)).into());
        }
        if email == state.email {
            return Err(SyncError::Local("to leave a share yourself, use `tessera share leave`".into()).into());
        }
        rekey(vault, state, api, m, Some(email))
    })
}

/// Puts local item `id` into share `share` (`None`: back to the account's
/// own items). The next sync moves it on the server, re-sealed under the
/// destination's key.
pub fn assign(vault: &mut Vault, item: &ItemId, share: Option<&str>) -> Result<(), SyncError> {
    let mut state = load(vault)?;
    let hex = item.to_hex();
    let target = share.map(|s| find(&state, s)).transpose()?;
    // Roles as of the chain this device last verified: putting an item
    // into a share, or taking one out, changes that share's items.
    let source = state.share_of(&hex).map(str::to_string);
    for s in [&source, &target].into_iter().flatten() {
        check_writable(&state, s)?;
    }
    for s in state.shares.values_mut() {
        s.members.remove(&hex);
    }
    if let Some(t) = target {
        state.shares.get_mut(&t).expect("found above").members.insert(hex);
    }
    state.save(vault)?;
    Ok(())
}

/// Refuses a change to local item `id` when it is in a share whose
/// role (as this device last verified it) does not allow changes.
pub fn check_may_change(vault: &Vault, item: &ItemId) -> Result<(), SyncError> {
    let Some(state) = SyncState::load(vault)? else { return Ok(()) };
    let Some(id) = state.share_of(&item.to_hex()) else { return Ok(()) };
    check_writable(&state, id)
}

fn check_writable(state: &SyncState, id: &str) -> Result<(), SyncError> {
    let share = &state.shares[id];
    if Role::parse(&share.role).unwrap_or(Role::Read) < Role::Write {
        return Err(SyncError::Role(format!(
            "your role in share \"{}\" is {}: it does not allow changing its items",
            share.name,
            if share.role.is_empty() { "read" } else { &share.role }
        )));
    }
    Ok(())
}

/// The id of share `name` if this account may add items to it.
pub fn writable_share(vault: &Vault, name: &str) -> Result<String, SyncError> {
    let state = load(vault)?;
    let id = find(&state, name)?;
    check_writable(&state, &id)?;
    Ok(id)
}

/// The share (name) local item `id` belongs to.
pub fn share_of(vault: &Vault, item: &ItemId) -> Result<Option<String>, SyncError> {
    let Some(state) = SyncState::load(vault)? else { return Ok(None) };
    Ok(state.share_of(&item.to_hex()).map(|id| state.shares[id].name.clone()))
}

/// Local items of share `name`.
pub fn items_of(vault: &Vault, name: &str) -> Result<BTreeSet<String>, SyncError> {
    let state = load(vault)?;
    let id = find(&state, name)?;
    Ok(state.shares[&id].members.clone())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::client::state::Tracked;

    /// The test as the push step states it, one look-up at a time.
    fn plainly(share: &ShareState, local: &HashMap<ItemId, u64>) -> bool {
        let mut present = BTreeSet::new();
        for hex in &share.members {
            if let Some(rev) = local.get(&ItemId::from_str(hex).unwrap()) {
                present.insert(hex.as_str());
                if share.stream.items.get(hex).is_none_or(|t| t.local != *rev || t.deleted) {
                    return true;
                }
            }
        }
        share.stream.items.iter().any(|(hex, t)| !t.deleted && !present.contains(hex.as_str()))
    }

    #[test]
    fn the_side_by_side_walk_finds_local_changes_exactly_as_the_push_step_would() {
        let mut state: SyncState = serde_json::from_value(serde_json::json!({
            "server": "s", "email": "e", "account_id": "a", "secret_key": "k", "salt": "s",
            "kdf": {"algorithm": "argon2id", "memory_kib": 1, "iterations": 1, "parallelism": 1},
            "device_name": "d", "session": null, "cursor": 0, "manifest_version": 0, "manifest_count": 0,
            "manifest_sum": "", "last_sync": null
        }))
        .unwrap();
        let ids: Vec<ItemId> = (0..3).map(|_| ItemId::random()).collect();
        // Per item: member or not; untracked, or tracked at local revision
        // 1 or 2, deleted or not; absent here, or here at revision 1 or 2.
        let cases = 2 * 5 * 3;
        let (mut changed, mut unchanged) = (0, 0);
        for n in 0..cases * cases * cases {
            let mut share = ShareState::default();
            let mut local = HashMap::new();
            let mut c = n;
            for id in &ids {
                let (k, hex) = (c % cases, id.to_hex());
                c /= cases;
                if k % 2 == 1 {
                    share.members.insert(hex.clone());
                }
                if let t @ 1..=4 = (k / 2) % 5 {
                    let tracked = Tracked { revision: 7, local: 1 + (t - 1) / 2, deleted: t % 2 == 0 };
                    share.stream.items.insert(hex.clone(), tracked);
                }
                if let r @ 1..=2 = k / 10 {
                    local.insert(*id, r);
                }
            }
            let expected = plainly(&share, &local);
            state.shares.insert("x".into(), share);
            assert_eq!(share_has_local_changes(&state, "x", &local).unwrap(), expected, "case {n}");
            if expected { changed += 1 } else { unchanged += 1 }
        }
        assert!(changed > 0 && unchanged > 0, "both outcomes were tried");
    }
}
