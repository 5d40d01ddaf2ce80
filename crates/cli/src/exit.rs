//! Exit codes (the CLI contract) and the mapping from library errors to them.

use std::fmt;

use tessera_core::{CreateError, OpenError, RollbackError, StoreError, VaultError};
use tessera_unlock::{CreateVaultError, KdfError, UnlockError};

/// The process exit codes `tessera` promises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 1: anything else.
    Other = 1,
    /// 2: usage or bad input.
    Usage = 2,
    /// 3: wrong password or factor.
    WrongKey = 3,
    /// 4: item not found.
    NotFound = 4,
    /// 5: integrity failure (tamper, swap, rollback, broken chain).
    Integrity = 5,
    /// 6: vault busy.
    Busy = 6,
}

/// A failure to report: one message for people and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl fmt::Display) -> Self {
        Failure { exit, message: message.to_string() }
    }

    pub fn usage(message: impl fmt::Display) -> Self {
        Failure::new(Exit::Usage, message)
    }

    pub fn other(message: impl fmt::Display) -> Self {
        Failure::new(Exit::Other, message)
    }
}

pub type CliResult<T = ()> = Result<T, Failure>;

fn store_exit(e: &StoreError) -> Exit {
    match e {
        StoreError::Busy => Exit::Busy,
        StoreError::Corrupt(_) | StoreError::NotAVault => Exit::Integrity,
        StoreError::TooNew { .. } | StoreError::Sqlite(_) => Exit::Other,
    }
}

/// The exit code for a vault error.
pub fn vault_exit(e: &VaultError) -> Exit {
    match e {
        VaultError::NotFound(_) | VaultError::NoSuchAttachment { .. } => Exit::NotFound,
        VaultError::Ambiguous { .. } | VaultError::WrongState { .. } | VaultError::Invalid(_) => Exit::Usage,
        VaultError::Slot(_) | VaultError::RecordTooLarge { .. } => Exit::Usage,
        VaultError::Integrity(_) => Exit::Integrity,
        VaultError::Rollback(RollbackError::NotBound) => Exit::Usage,
        VaultError::Rollback(_) => Exit::Other,
        VaultError::Store(s) => store_exit(s),
        // Another process kept changing items during a sync: as busy.
        VaultError::ChangedMeanwhile { .. } => Exit::Busy,
    }
}

impl From<VaultError> for Failure {
    fn from(e: VaultError) -> Self {
        Failure::new(vault_exit(&e), e)
    }
}

impl From<OpenError> for Failure {
    fn from(e: OpenError) -> Self {
        let exit = match &e {
            OpenError::NotFound(_) | OpenError::TooNew { .. } => Exit::Other,
            OpenError::Integrity(_) => Exit::Integrity,
            OpenError::Store(s) => store_exit(s),
        };
        Failure::new(exit, e)
    }
}

impl From<tessera_core::UnlockError> for Failure {
    fn from(e: tessera_core::UnlockError) -> Self {
        use tessera_core::UnlockError as U;
        let exit = match &e {
            U::WrongKey | U::NoSuchSlot(_) => Exit::WrongKey,
            U::Integrity(_) => Exit::Integrity,
            U::Store(s) => store_exit(s),
        };
        Failure::new(exit, e)
    }
}

impl From<UnlockError> for Failure {
    fn from(e: UnlockError) -> Self {
        let e = match e {
            UnlockError::Vault(v) => return v.into(),
            UnlockError::Operation(v) => return v.into(),
            other => other,
        };
        let exit = match &e {
            UnlockError::Vault(_) | UnlockError::Operation(_) => Exit::Other,
            UnlockError::WrongPassword
            | UnlockError::WrongRecoveryCode
            | UnlockError::NoSlot { .. }
            | UnlockError::MissingFactor { .. }
            | UnlockError::FactorUnavailable { .. }
            | UnlockError::ServiceTimeout { .. }
            | UnlockError::WrongPin { .. } => Exit::WrongKey,
            UnlockError::EmptyPassword => Exit::Usage,
            UnlockError::BadSlot { .. } | UnlockError::BadParams(_) => Exit::Integrity,
            UnlockError::Kdf(KdfError::BelowFloor { .. } | KdfError::AboveCeiling { .. }) => Exit::Usage,
            UnlockError::Kdf(KdfError::Failed(_)) => Exit::Other,
        };
        Failure::new(exit, e)
    }
}

impl From<CreateVaultError> for Failure {
    fn from(e: CreateVaultError) -> Self {
        match e {
            CreateVaultError::Factor(f) => f.into(),
            CreateVaultError::Create(CreateError::AlreadyExists(p)) => Failure::usage(format!(
                "{} already exists; Tessera never overwrites a vault (choose another --vault path)",
                p.display()
            )),
            CreateVaultError::Create(CreateError::Store(s)) => Failure::new(store_exit(&s), s),
            CreateVaultError::Create(other) => Failure::other(other),
        }
    }
}

impl From<KdfError> for Failure {
    fn from(e: KdfError) -> Self {
        UnlockError::Kdf(e).into()
    }
}
