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

mod error;
mod factor;
pub mod kdf;
mod password;
mod recovery;

use std::path::Path;

use tessera_core::{LockedVault, OpenOptions, SlotInfo, Vault};

pub use error::UnlockError;
pub use factor::{Factor, FactorSecret, derive_slot_kek, new_slot};
pub use kdf::{KdfError, KdfParams};
pub use password::{Password, PasswordFactor};
pub use recovery::{InvalidRecoveryCode, RecoveryCode, RecoveryFactor};

use factor::SlotParams;

/// What the user presents to unlock.
#[derive(Debug)]
pub enum Credential<'a> {
    /// The master password.
    Password(&'a Password),
    /// The recovery code printed at `init`.
    Recovery(&'a RecoveryCode),
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
    let (kind, factor, wrong): (&'static str, Box<dyn Factor + '_>, UnlockError) = match credential {
        Credential::Password(p) => {
            (PasswordFactor::KIND, Box::new(PasswordFactor::unlocking(p)), UnlockError::WrongPassword)
        }
        Credential::Recovery(c) => {
            (RecoveryFactor::KIND, Box::new(RecoveryFactor::new(c)), UnlockError::WrongRecoveryCode)
        }
    };
    let slots: Vec<SlotInfo> = locked.slots().into_iter().filter(|s| s.kind == kind).collect();
    if slots.is_empty() {
        return Err(UnlockError::NoSlot { kind });
    }
    for slot in &slots {
        let kek = in_slot(slot, derive_slot_kek(slot, &[factor.as_ref()]))?;
        match locked.open_slot(slot.id, &kek) {
            Ok(vault_key) => return Ok(locked.unlock_with(vault_key)?),
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
