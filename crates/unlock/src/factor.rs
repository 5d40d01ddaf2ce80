//! The one trait every unlock factor implements, and how a slot's factors
//! combine into its key-encryption key.
//!
//! A slot's parameters are JSON: `{"factors": [ {"kind": "password", …}, … ]}`,
//! one entry per factor the slot requires, each entry owned and parsed by
//! its factor. A single-factor slot's kind is the factor's kind; a
//! composite slot's is the kinds joined with `+` (`password+tpm`). Its KEK
//! is HKDF-SHA256 over the concatenated factor secrets with the slot kind as
//! info, so no factor alone opens a composite slot (DESIGN §2).

use serde::{Deserialize, Serialize};
use tessera_core::{KeyEncryptionKey, SlotInfo};
use zeroize::Zeroizing;

use crate::error::UnlockError;

/// The 32-byte secret a factor yields (PK, RK, … in DESIGN §2).
pub struct FactorSecret(pub(crate) Zeroizing<[u8; 32]>);

impl std::fmt::Debug for FactorSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FactorSecret(<redacted>)")
    }
}

/// An unlock factor: something that, with its stored public parameters,
/// yields a secret.
pub trait Factor {
    /// The kind written into slot parameters, e.g. `password`.
    fn kind(&self) -> &'static str;

    /// Makes this factor's part of a new slot: its public parameters (a
    /// JSON object with at least `"kind"`) and the secret they lead to.
    fn enroll(&self) -> Result<(serde_json::Value, FactorSecret), UnlockError>;

    /// Recomputes the secret from parameters [`Factor::enroll`] made.
    fn derive(&self, params: &serde_json::Value) -> Result<FactorSecret, UnlockError>;
}

/// The parameters stored in a slot.
#[derive(Serialize, Deserialize)]
pub(crate) struct SlotParams {
    pub(crate) factors: Vec<serde_json::Value>,
}

impl SlotParams {
    /// Parses a slot's parameters; unreadable ones mean the file was altered.
    pub(crate) fn parse(slot: &SlotInfo) -> Result<SlotParams, UnlockError> {
        let params: SlotParams = serde_json::from_slice(&slot.params)
            .map_err(|_| UnlockError::BadSlot { slot: slot.id, reason: "its parameters are unreadable".into() })?;
        if params.factors.is_empty() {
            return Err(UnlockError::BadSlot { slot: slot.id, reason: "it names no factor".into() });
        }
        Ok(params)
    }

    /// The factor kinds the slot requires, in order.
    pub(crate) fn kinds(&self) -> Vec<&str> {
        self.factors.iter().map(|f| f.get("kind").and_then(|k| k.as_str()).unwrap_or("?")).collect()
    }
}

/// The KEK for a slot of `kind` from its factors' secrets, in slot order.
pub(crate) fn slot_kek(kind: &str, secrets: &[FactorSecret]) -> KeyEncryptionKey {
    let mut ikm = Zeroizing::new(Vec::with_capacity(32 * secrets.len()));
    for s in secrets {
        ikm.extend_from_slice(s.0.as_ref());
    }
    let mut okm = Zeroizing::new([0u8; 32]);
    hkdf::Hkdf::<sha2::Sha256>::new(Some(b"tessera/v1/slot-kek"), &ikm)
        .expand(kind.as_bytes(), okm.as_mut())
        .expect("32 bytes is within HKDF-SHA256's output limit");
    KeyEncryptionKey::from_bytes(okm)
}

/// Builds a new slot requiring every factor in `factors`.
pub fn new_slot(label: &str, factors: &[&dyn Factor]) -> Result<tessera_core::NewSlot, UnlockError> {
    let mut params = Vec::with_capacity(factors.len());
    let mut secrets = Vec::with_capacity(factors.len());
    for f in factors {
        let (p, s) = f.enroll()?;
        params.push(p);
        secrets.push(s);
    }
    let kind = factors.iter().map(|f| f.kind()).collect::<Vec<_>>().join("+");
    let kek = slot_kek(&kind, &secrets);
    let params = serde_json::to_vec(&SlotParams { factors: params }).expect("JSON values always serialise");
    Ok(tessera_core::NewSlot { kind, label: label.to_owned(), params, kek })
}

/// The KEK for `slot` from the factors the caller has: each factor the slot
/// requires must be among `factors`.
pub fn derive_slot_kek(slot: &SlotInfo, factors: &[&dyn Factor]) -> Result<KeyEncryptionKey, UnlockError> {
    let params = SlotParams::parse(slot)?;
    let mut secrets = Vec::with_capacity(params.factors.len());
    for p in &params.factors {
        let kind = p.get("kind").and_then(|k| k.as_str()).unwrap_or("?");
        let factor = factors
            .iter()
            .find(|f| f.kind() == kind)
            .ok_or_else(|| UnlockError::MissingFactor { slot: slot.id, kind: kind.to_owned() })?;
        secrets.push(factor.derive(p)?);
    }
    Ok(slot_kek(&slot.kind, &secrets))
}

/// Salt for a factor: 16 random bytes, hex in the parameters.
pub(crate) fn new_salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random number generator failed");
    salt
}

pub(crate) fn parse_salt(slot_params: &serde_json::Value, what: &'static str) -> Result<Vec<u8>, String> {
    let hex = slot_params.get("salt").and_then(|s| s.as_str()).ok_or_else(|| format!("its {what} salt is missing"))?;
    let salt = data_encoding::HEXLOWER.decode(hex.as_bytes()).map_err(|_| format!("its {what} salt is malformed"))?;
    if salt.len() < 16 {
        return Err(format!("its {what} salt is too short"));
    }
    Ok(salt)
}
