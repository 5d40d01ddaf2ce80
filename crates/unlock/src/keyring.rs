//! The OS keyring factor: "unlock with my login session".
//!
//! Enrolling makes a random 256-bit secret and stores it in the Secret
//! Service (GNOME Keyring, KWallet) through the `keyring` crate, under
//! service `tessera` and a random entry name kept in the slot's parameters.
//! Unlocking reads it back. Anyone who can read the user's unlocked login
//! keyring can therefore open the vault — that is the trade this factor
//! offers, and why it is a separate slot the user adds on purpose.
//!
//! A missing, locked or unreachable keyring is [`UnlockError::FactorUnavailable`],
//! which callers answer by falling back to the master password. Every call
//! to the Secret Service is bounded ([`crate::deadline`], 10 s): a daemon
//! that owns the D-Bus name but never replies would otherwise block the
//! caller for ever, as D-Bus method calls here have no time limit.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::deadline::{self, SECRET_SERVICE};
use crate::error::UnlockError;
use crate::factor::{Factor, FactorSecret, new_salt};

/// The Secret Service `service` attribute of every entry Tessera makes.
const SERVICE: &str = "tessera";

#[derive(Serialize, Deserialize)]
struct KeyringParams {
    kind: String,
    /// The entry's name (the Secret Service `username` attribute); not a
    /// secret, just where to look.
    entry: String,
}

/// The OS keyring factor.
#[derive(Debug, Default)]
pub struct KeyringFactor;

impl KeyringFactor {
    /// The factor kind in slot parameters.
    pub const KIND: &'static str = "keyring";

    /// A keyring factor for enrolling or unlocking.
    pub fn new() -> Self {
        KeyringFactor
    }

    /// Deletes the keyring entry a slot of this kind refers to (after the
    /// slot itself is gone). A missing entry is not an error.
    pub fn forget(params: &serde_json::Value) -> Result<(), UnlockError> {
        let params = parse(params)?;
        deadline::bounded(&SECRET_SERVICE, move || match entry(&params.entry)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(&e)),
        })
    }
}

fn parse(params: &serde_json::Value) -> Result<KeyringParams, UnlockError> {
    let params: KeyringParams = serde_json::from_value(params.clone())
        .map_err(|_| UnlockError::BadParams("the keyring entry name is missing".into()))?;
    if params.entry.is_empty() || params.entry.len() > 200 {
        return Err(UnlockError::BadParams("the keyring entry name is malformed".into()));
    }
    Ok(params)
}

/// The entry `name`. Its first use connects to the Secret Service (the
/// `keyring` crate opens its session then), so call it on a bounded worker.
fn entry(name: &str) -> Result<keyring::Entry, UnlockError> {
    keyring::Entry::new(SERVICE, name).map_err(|e| unavailable(&e))
}

/// The keyring's own errors name the platform failure (no D-Bus session,
/// locked collection…), never a secret.
fn unavailable(e: &keyring::Error) -> UnlockError {
    let reason = match e {
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => {
            format!("the OS keyring is not reachable or is locked ({e})")
        }
        // The store is set up once per process; say why it could not be.
        keyring::Error::NoDefaultStore => match keyring::Entry::store_status() {
            Err(keyring::Error::Invalid(..)) | Ok(()) => "this system has no OS keyring (Secret Service)".to_owned(),
            Err(why) => format!("the OS keyring (Secret Service) could not be reached ({why})"),
        },
        keyring::Error::NoEntry => {
            "the OS keyring has no secret for this vault (it was made in another login session or deleted)".to_owned()
        }
        other => format!("the OS keyring failed ({other})"),
    };
    UnlockError::FactorUnavailable { kind: KeyringFactor::KIND, reason }
}

impl Factor for KeyringFactor {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn enroll(&self) -> Result<(serde_json::Value, FactorSecret), UnlockError> {
        let name = format!("vault-key-{}", data_encoding::HEXLOWER.encode(&new_salt()));
        let mut secret = Zeroizing::new([0u8; 32]);
        getrandom::fill(secret.as_mut()).expect("the operating system's random number generator failed");
        // The worker gets its own zeroizing copy: this one is the factor's.
        let stored = secret.clone();
        let entry_name = name.clone();
        deadline::bounded(&SECRET_SERVICE, move || {
            entry(&entry_name)?.set_secret(stored.as_ref()).map_err(|e| unavailable(&e))
        })?;
        let params = KeyringParams { kind: Self::KIND.into(), entry: name };
        Ok((serde_json::to_value(params).expect("params serialise"), FactorSecret(secret)))
    }

    fn derive(&self, params: &serde_json::Value) -> Result<FactorSecret, UnlockError> {
        let params = parse(params)?;
        let stored = deadline::bounded(&SECRET_SERVICE, move || {
            Ok(Zeroizing::new(entry(&params.entry)?.get_secret().map_err(|e| unavailable(&e))?))
        })?;
        let bytes: [u8; 32] = stored.as_slice().try_into().map_err(|_| UnlockError::FactorUnavailable {
            kind: Self::KIND,
            reason: "the OS keyring's entry for this vault is not a Tessera key (it was changed outside Tessera)"
                .into(),
        })?;
        Ok(FactorSecret(Zeroizing::new(bytes)))
    }
}
