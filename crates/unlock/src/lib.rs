//! # tessera-unlock
//!
//! Unlock factors for Tessera vaults. Every factor is a slot that wraps the
//! one Vault Key, like a LUKS key slot (DESIGN §2): the factor turns what
//! the user has (a password, a recovery code; later an OS keyring secret, a
//! TPM or a YubiKey) into a secret, the slot's factor secrets become its
//! key-encryption key by HKDF, and `tessera-core` uses that key to unwrap
//! the Vault Key. One trait ([`Factor`]), one file per factor, no factor
//! code in the core.
//!
//! ```
//! use tessera_core::OpenOptions;
//! use tessera_unlock::{Credential, KdfParams, Password, create_vault, unlock};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("vault.tessera");
//! let password = Password::from_first_line(b"correct horse battery staple")?;
//! let (vault, recovery) = create_vault(&path, &password, KdfParams::ARGON2_FLOOR, &OpenOptions::default())?;
//! vault.lock();
//!
//! let locked = tessera_core::LockedVault::open(&path, &OpenOptions::default())?;
//! let vault = unlock(locked, &Credential::Recovery(&recovery))?;
//! # let _ = vault;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod deadline;
mod error;
mod factor;
pub mod kdf;
mod keyring;
mod password;
mod recovery;
mod tpm;
mod yubikey;

use std::path::Path;

use tessera_core::{LockedVault, OpenOptions, SlotInfo, Vault};

pub use error::UnlockError;
pub use factor::{Factor, FactorSecret, derive_slot_kek, new_slot};
pub use kdf::{KdfError, KdfParams};
pub use keyring::KeyringFactor;
pub use password::{Password, PasswordFactor};
pub use recovery::{InvalidRecoveryCode, RecoveryCode, RecoveryFactor};
pub use tpm::{
    CounterBinding, CounterUnbinding, DEFAULT_TCTI, TpmCounter, TpmFactor, bind_rollback_counter, guard_rollback,
    install_tpm_counter, unbind_rollback_counter,
};
pub use yubikey::YubiKeyFactor;

use factor::SlotParams;

/// What the user presents to unlock.
#[derive(Debug)]
pub enum Credential<'a> {
    /// The master password.
    Password(&'a Password),
    /// The recovery code printed at `init`.
    Recovery(&'a RecoveryCode),
    /// The secret kept in the OS keyring (Secret Service).
    Keyring,
}

/// Creates a vault at `path` with a master-password slot (`kdf`) and a
/// recovery-code slot. Returns the unlocked vault and the recovery code,
/// which must be shown to the user once and is not stored anywhere.
pub fn create_vault(
    path: &Path,
    password: &Password,
    kdf: KdfParams,
    options: &OpenOptions,
) -> Result<(Vault, RecoveryCode), CreateVaultError> {
    let code = RecoveryCode::generate();
    let password_slot = new_slot("Master password", &[&PasswordFactor::new(password, kdf)])?;
    let recovery_slot = new_slot("Recovery code", &[&RecoveryFactor::new(&code)])?;
    let vault = Vault::create(path, vec![password_slot, recovery_slot], options)?;
    Ok((vault, code))
}

/// Like [`create_vault`], around an existing Vault Key: a new device of a
/// sync account, whose key came from the account.
pub fn create_vault_with_key(
    path: &Path,
    password: &Password,
    kdf: KdfParams,
    options: &OpenOptions,
    vault_key: tessera_core::VaultKey,
) -> Result<(Vault, RecoveryCode), CreateVaultError> {
    let code = RecoveryCode::generate();
    let password_slot = new_slot("Master password", &[&PasswordFactor::new(password, kdf)])?;
    let recovery_slot = new_slot("Recovery code", &[&RecoveryFactor::new(&code)])?;
    let vault = Vault::create_with_key(path, vault_key, vec![password_slot, recovery_slot], options)?;
    Ok((vault, code))
}

/// Creating a vault failed.
#[derive(Debug, thiserror::Error)]
pub enum CreateVaultError {
    /// A factor could not enroll.
    #[error(transparent)]
    Factor(#[from] UnlockError),
    /// The vault file could not be made.
    #[error(transparent)]
    Create(#[from] tessera_core::CreateError),
}

/// Unlocks with a single factor: tries every slot that this factor alone
/// opens. Slot parameters are checked (KDF floor) before any derivation.
pub fn unlock(locked: LockedVault, credential: &Credential<'_>) -> Result<Vault, UnlockError> {
    let (factor, wrong): (Box<dyn Factor + '_>, UnlockError) = match credential {
        Credential::Password(p) => (Box::new(PasswordFactor::unlocking(p)), UnlockError::WrongPassword),
        Credential::Recovery(c) => (Box::new(RecoveryFactor::new(c)), UnlockError::WrongRecoveryCode),
        Credential::Keyring => (
            Box::new(KeyringFactor::new()),
            UnlockError::FactorUnavailable {
                kind: KeyringFactor::KIND,
                reason: "the secret in the OS keyring does not open this vault".into(),
            },
        ),
    };
    unlock_with_factors(locked, &[factor.as_ref()], wrong)
}

/// Unlocks with several factors at once (a composite slot: the password
/// and a hardware factor): tries every slot whose required factors are all
/// among `factors` and include `factors[0]`. `wrong` is the error when none
/// opens. Slot parameters are checked (KDF floor) before any derivation.
pub fn unlock_with_factors(
    locked: LockedVault,
    factors: &[&dyn Factor],
    wrong: UnlockError,
) -> Result<Vault, UnlockError> {
    let Some(primary) = factors.first().map(|f| f.kind()) else {
        return Err(wrong);
    };
    let given: Vec<&str> = factors.iter().map(|f| f.kind()).collect();
    let slots: Vec<SlotInfo> = locked
        .slots()
        .into_iter()
        // By the slot's kind (authenticated with the header); its
        // parameters are parsed, and reported if damaged, when deriving.
        .filter(|s| {
            let mut kinds = s.kind.split('+');
            s.kind.split('+').any(|k| k == primary) && kinds.all(|k| given.contains(&k))
        })
        .collect();
    if slots.is_empty() {
        return Err(UnlockError::NoSlot { kind: primary });
    }
    for slot in &slots {
        let kek = in_slot(slot, derive_slot_kek(slot, factors))?;
        match locked.open_slot(slot.id, &kek) {
            Ok(vault_key) => {
                let mut vault = locked.unlock_with(vault_key)?;
                vault.mark_opened_by(slot.id);
                return Ok(vault);
            }
            Err(tessera_core::UnlockError::WrongKey) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(wrong)
}

/// Changes the master password: one KDF and one re-wrap of the Vault Key,
/// whatever the vault's size. Keeps the slot's KDF parameters unless `kdf`
/// is given.
pub fn change_password(vault: &mut Vault, new: &Password, kdf: Option<KdfParams>) -> Result<(), UnlockError> {
    let slot = vault
        .slots()?
        .into_iter()
        .find(|s| s.kind == PasswordFactor::KIND)
        .ok_or(UnlockError::NoSlot { kind: PasswordFactor::KIND })?;
    let kdf = match kdf {
        Some(k) => k,
        None => {
            let params = in_slot(&slot, SlotParams::parse(&slot))?;
            in_slot(&slot, password::stored_kdf(&params.factors[0]).map_err(UnlockError::BadParams))?
        }
    };
    let replacement = new_slot(&slot.label, &[&PasswordFactor::new(new, kdf)])?;
    vault.rekey_slot(slot.id, replacement.params, &replacement.kek)?;
    Ok(())
}

/// Adds a slot requiring every factor in `factors` (one, or a password and
/// a hardware factor) and returns its id.
pub fn add_slot(vault: &mut Vault, label: &str, factors: &[&dyn Factor]) -> Result<tessera_core::SlotId, UnlockError> {
    let slot = new_slot(label, factors)?;
    let kinds = slot.kind.clone();
    let params = slot.params.clone();
    match vault.add_slot(slot) {
        Ok(id) => Ok(id),
        Err(e) => {
            // The factor already stored its secret (OS keyring): take it back.
            if kinds.split('+').any(|k| k == KeyringFactor::KIND) {
                forget_factor_secrets(&params);
            }
            Err(e.into())
        }
    }
}

/// Removes slot `id`, then anything its factors keep outside the vault
/// (the OS keyring entry). The vault refuses to lose its last slot.
/// Returns a warning when the outside secret could not be deleted.
pub fn remove_slot(vault: &mut Vault, id: tessera_core::SlotId) -> Result<Option<String>, UnlockError> {
    let slot = vault
        .slots()?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| UnlockError::Operation(tessera_core::VaultError::Slot(format!("there is no slot {id}"))))?;
    vault.remove_slot(id)?;
    Ok(forget_factor_secrets(&slot.params))
}

fn forget_factor_secrets(params: &[u8]) -> Option<String> {
    let params: SlotParams = serde_json::from_slice(params).ok()?;
    for p in &params.factors {
        if p.get("kind").and_then(|k| k.as_str()) == Some(KeyringFactor::KIND) {
            if let Err(e) = KeyringFactor::forget(p) {
                return Some(format!("the slot is gone, but its OS keyring entry could not be deleted: {e}"));
            }
        }
    }
    None
}

/// The factor kinds a slot requires, in order (`["password", "tpm"]` for a
/// composite slot).
pub fn slot_requires(slot: &SlotInfo) -> Result<Vec<String>, UnlockError> {
    let params = in_slot(slot, SlotParams::parse(slot))?;
    Ok(params.kinds().into_iter().map(str::to_owned).collect())
}

/// Checks a slot's stored parameters without unlocking (for `verify`) and
/// describes it, e.g. `password (Argon2id m=256 MiB t=3 p=4)`.
pub fn describe_slot(slot: &SlotInfo) -> Result<String, UnlockError> {
    let params = SlotParams::parse(slot)?;
    let mut parts = Vec::new();
    for (kind, p) in params.kinds().into_iter().zip(&params.factors) {
        match kind {
            PasswordFactor::KIND => {
                let kdf = in_slot(slot, password::stored_kdf(p).map_err(UnlockError::BadParams))?;
                parts.push(format!("password ({})", kdf.describe()));
            }
            other => parts.push(other.to_owned()),
        }
    }
    Ok(parts.join(" + "))
}

/// Puts a factor-parameter error in the context of its slot: parameters
/// Tessera never writes mean the file was altered.
fn in_slot<T>(slot: &SlotInfo, r: Result<T, UnlockError>) -> Result<T, UnlockError> {
    r.map_err(|e| match e {
        UnlockError::BadParams(reason) => UnlockError::BadSlot { slot: slot.id, reason },
        other => other,
    })
}
