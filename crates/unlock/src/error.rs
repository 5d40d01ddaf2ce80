//! Unlock errors: what failed and what to do, never the secret.

use tessera_core::SlotId;

use crate::kdf::KdfError;

/// Creating, unlocking or re-keying with a factor.
#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    /// The master password does not open any password slot.
    #[error("wrong master password")]
    WrongPassword,
    /// The recovery code does not open the recovery slot.
    #[error("wrong recovery code")]
    WrongRecoveryCode,
    /// An empty master password was given.
    #[error("the master password is empty")]
    EmptyPassword,
    /// The vault has no slot this factor alone can open.
    #[error("this vault has no {kind} slot")]
    NoSlot {
        /// The factor kind asked for.
        kind: &'static str,
    },
    /// A slot requires a factor that was not given.
    #[error("slot {slot} also needs the {kind} factor")]
    MissingFactor {
        /// The slot.
        slot: SlotId,
        /// The factor it needs.
        kind: String,
    },
    /// The TPM or YubiKey refused the PIN. `tries_left` is what the device
    /// reports before it locks out (TPM) or blocks the PIN (YubiKey).
    #[error("wrong PIN{}", match tries_left {
        Some(0) => format!("; the {device} now locks out further tries"),
        Some(n) => format!("; {n} more wrong {} before the {device} locks out", if *n == 1 { "try" } else { "tries" }),
        None => String::new(),
    })]
    WrongPin {
        /// Which device counted the try.
        device: &'static str,
        /// Tries left before lockout, when the TPM says.
        tries_left: Option<u32>,
    },
    /// A factor's device or service cannot be used right now (OS keyring
    /// missing or locked, TPM or card absent): unlock with another factor.
    #[error("cannot use the {kind} factor: {reason}")]
    FactorUnavailable {
        /// The factor kind.
        kind: &'static str,
        /// What is wrong, for people.
        reason: String,
    },
    /// A factor's service (Secret Service, TPM, PC/SC) did not answer
    /// within its bounded wait ([`crate::deadline`]). Callers answer this by
    /// offering the master password instead: the service may come back, but
    /// the user should not wait for it.
    #[error("cannot use the {kind} factor: {service} did not answer in {} s: {next_step}", waited.as_secs())]
    ServiceTimeout {
        /// The factor kind.
        kind: &'static str,
        /// The service, for people ("the TPM").
        service: &'static str,
        /// How long Tessera waited.
        waited: std::time::Duration,
        /// What to check.
        next_step: &'static str,
    },
    /// A slot's stored parameters are unreadable or below the KDF floor:
    /// the vault file was altered (Tessera never writes such a slot).
    #[error("key slot {slot} is invalid: {reason}; the vault file was altered outside Tessera")]
    BadSlot {
        /// The slot.
        slot: SlotId,
        /// What is wrong.
        reason: String,
    },
    /// A factor's parameters could not be read (placed in context by the caller).
    #[error("invalid factor parameters: {0}")]
    BadParams(String),
    /// KDF parameters refused or KDF failure.
    #[error(transparent)]
    Kdf(#[from] KdfError),
    /// The vault itself refused (integrity, storage, busy).
    #[error(transparent)]
    Vault(#[from] tessera_core::UnlockError),
    /// A vault operation failed while re-keying.
    #[error(transparent)]
    Operation(#[from] tessera_core::VaultError),
}

impl UnlockError {
    /// Whether a factor's service did not answer in time.
    pub fn is_service_timeout(&self) -> bool {
        matches!(self, UnlockError::ServiceTimeout { .. })
    }
}
