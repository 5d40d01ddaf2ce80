//! The one error every command returns: `{ kind, message }` (ui/API.md rule 5).
//!
//! `message` is one sentence for people. It is built from the core's error
//! texts, which never carry a secret; `Debug` dumps are never sent.

use serde::Serialize;
use tessera_core::{CreateError, IntegrityError, OpenError, RollbackError, StoreError, VaultError};
use tessera_interop::{ExportError, ImportError};
use tessera_unlock::{CreateVaultError, UnlockError};

/// What kind of failure, for the UI to react on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // the whole contract: not every kind has a producer on every platform
pub enum ErrorKind {
    WrongPassword,
    WrongPin,
    Locked,
    NotFound,
    Conflict,
    Invalid,
    FactorUnavailable,
    Integrity,
    Io,
    Cancelled,
    Busy,
    Internal,
    /// The sync server's data failed verification (a forged member, key,
    /// chain or item, or a pinned person's key changed): a warning, not a
    /// failure of this computer.
    Hostile,
    /// The sync session expired: sign in again with the master password.
    SignInNeeded,
    /// The sync account asks for its second factor's code.
    TotpRequired,
}

/// A failed command, as the web layer receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
}

pub type CommandResult<T> = Result<T, CommandError>;

impl CommandError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let mut message = message.into();
        // One sentence for people, starting with a capital and ending with a stop.
        if let Some(first) = message.chars().next() {
            if first.is_lowercase() {
                message = first.to_uppercase().collect::<String>() + &message[first.len_utf8()..];
            }
        }
        if !message.ends_with(['.', '?', '!']) {
            message.push('.');
        }
        CommandError { kind, message }
    }

    pub fn locked() -> Self {
        Self::new(ErrorKind::Locked, "The vault is locked; unlock it first.")
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn io(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

fn integrity(e: &IntegrityError) -> CommandError {
    CommandError::new(ErrorKind::Integrity, format!("The vault failed an integrity check: {e}"))
}

fn store(e: &StoreError) -> CommandError {
    match e {
        StoreError::Busy => CommandError::new(ErrorKind::Busy, e.to_string()),
        other => CommandError::io(other.to_string()),
    }
}

/// A write refused because the vault's TPM counter cannot be used: the
/// app's words for the core's refusal, with the app's way out (the CLI's
/// names `--tpm-tcti`).
fn tpm_unreachable(index: u32, reason: &str) -> CommandError {
    CommandError::new(
        ErrorKind::FactorUnavailable,
        format!(
            "Not saved: the TPM is unreachable ({reason}). This vault is bound to TPM counter {index:#010x} against \
             rollback, so edits are refused until the TPM answers: lock and unlock again once it is back, or check \
             with `tessera restore-check`; if the TPM is gone for good, remove the TPM slot in Settings → Unlock \
             factors"
        ),
    )
}

impl From<VaultError> for CommandError {
    fn from(e: VaultError) -> Self {
        match &e {
            VaultError::NotFound(_) | VaultError::NoSuchAttachment { .. } => CommandError::not_found(e.to_string()),
            VaultError::Integrity(i) => integrity(i),
            VaultError::Store(s) => store(s),
            VaultError::Invalid(_)
            | VaultError::Slot(_)
            | VaultError::WrongState { .. }
            | VaultError::RecordTooLarge { .. } => CommandError::invalid(e.to_string()),
            VaultError::Ambiguous { .. } => CommandError::invalid(e.to_string()),
            VaultError::ChangedMeanwhile { .. } => CommandError::new(ErrorKind::Busy, e.to_string()),
            VaultError::Rollback(RollbackError::NotBound) => CommandError::invalid(e.to_string()),
            VaultError::Rollback(RollbackError::Counter { index, reason }) => tpm_unreachable(*index, &reason.0),
            VaultError::Rollback(RollbackError::NoCounter { index }) => {
                tpm_unreachable(*index, "this session has no TPM to count with")
            }
            VaultError::Rollback(_) => CommandError::new(ErrorKind::FactorUnavailable, e.to_string()),
        }
    }
}

impl From<OpenError> for CommandError {
    fn from(e: OpenError) -> Self {
        match &e {
            OpenError::NotFound(_) => CommandError::not_found(e.to_string()),
            OpenError::Integrity(i) => integrity(i),
            OpenError::Store(s) => store(s),
            OpenError::TooNew { .. } => CommandError::invalid(e.to_string()),
        }
    }
}

impl From<CreateError> for CommandError {
    fn from(e: CreateError) -> Self {
        match &e {
            CreateError::AlreadyExists(_) | CreateError::NoSlots => CommandError::invalid(e.to_string()),
            CreateError::Io { .. } => CommandError::io(e.to_string()),
            CreateError::Store(s) => store(s),
        }
    }
}

impl From<tessera_core::UnlockError> for CommandError {
    fn from(e: tessera_core::UnlockError) -> Self {
        match &e {
            tessera_core::UnlockError::WrongKey => {
                CommandError::new(ErrorKind::WrongPassword, "The master password is wrong.")
            }
            tessera_core::UnlockError::NoSuchSlot(_) => CommandError::not_found(e.to_string()),
            tessera_core::UnlockError::Integrity(i) => integrity(i),
            tessera_core::UnlockError::Store(s) => store(s),
        }
    }
}

impl From<UnlockError> for CommandError {
    fn from(e: UnlockError) -> Self {
        match e {
            UnlockError::WrongPassword => CommandError::new(ErrorKind::WrongPassword, "The master password is wrong."),
            UnlockError::WrongRecoveryCode => {
                CommandError::new(ErrorKind::WrongPassword, "The recovery code is wrong.")
            }
            UnlockError::EmptyPassword => CommandError::invalid("The master password is empty."),
            e @ UnlockError::WrongPin { .. } => CommandError::new(ErrorKind::WrongPin, e.to_string()),
            e @ (UnlockError::FactorUnavailable { .. }
            | UnlockError::ServiceTimeout { .. }
            | UnlockError::NoSlot { .. }
            | UnlockError::MissingFactor { .. }) => CommandError::new(ErrorKind::FactorUnavailable, e.to_string()),
            e @ UnlockError::BadSlot { .. } => CommandError::new(ErrorKind::Integrity, e.to_string()),
            e @ (UnlockError::BadParams(_) | UnlockError::Kdf(_)) => CommandError::invalid(e.to_string()),
            UnlockError::Vault(v) => v.into(),
            UnlockError::Operation(v) => v.into(),
        }
    }
}

impl From<CreateVaultError> for CommandError {
    fn from(e: CreateVaultError) -> Self {
        match e {
            CreateVaultError::Factor(f) => f.into(),
            CreateVaultError::Create(c) => c.into(),
        }
    }
}

impl From<ImportError> for CommandError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::WrongPassword => {
                CommandError::new(ErrorKind::WrongPassword, "The file's password is wrong (or the file is damaged).")
            }
            ImportError::PasswordRequired(f) => {
                CommandError::invalid(format!("This {f} file is encrypted: give its password"))
            }
            ImportError::UnknownFormat => {
                CommandError::invalid("Could not tell the file's format: choose it from the list")
            }
            other => CommandError::invalid(other.to_string()),
        }
    }
}

impl From<ExportError> for CommandError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Vault(v) => v.into(),
            ExportError::Write { .. } => CommandError::io(e.to_string()),
            ExportError::ImportOnly(_) => CommandError::invalid(e.to_string()),
        }
    }
}

impl From<tessera_sync::client::SyncError> for CommandError {
    fn from(e: tessera_sync::client::SyncError) -> Self {
        use tessera_sync::client::SyncError;
        match e {
            SyncError::Hostile(_) | SyncError::KeyChanged(_) => CommandError::new(ErrorKind::Hostile, e.to_string()),
            // The app keeps no master password to log in again with.
            SyncError::SignInNeeded => CommandError::new(
                ErrorKind::SignInNeeded,
                "The sync session has expired: sign in again with the master password",
            ),
            SyncError::TotpRequired => CommandError::new(
                ErrorKind::TotpRequired,
                "This sync account has two-step login: enter a code from your authenticator app, or a recovery code",
            ),
            SyncError::Role(_) | SyncError::Unverified(_) | SyncError::Local(_) => CommandError::invalid(e.to_string()),
            SyncError::NoSuchShare(_) => CommandError::not_found(e.to_string()),
            SyncError::Vault(v) => v.into(),
            // The vault file is an older copy: this computer's doing, not the server's.
            SyncError::FileRolledBack { .. } => CommandError::new(ErrorKind::Integrity, e.to_string()),
            e => CommandError::new(ErrorKind::Io, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_sentences_and_kinds_are_snake_case() {
        let e = CommandError::invalid("no such thing");
        assert_eq!(e.message, "No such thing.");
        let json = serde_json::to_string(&CommandError::new(ErrorKind::WrongPassword, "Wrong.")).unwrap();
        assert_eq!(json, r#"{"kind":"wrong_password","message":"Wrong."}"#);
        let json = serde_json::to_string(&CommandError::new(ErrorKind::FactorUnavailable, "x")).unwrap();
        assert!(json.contains(r#""kind":"factor_unavailable""#));
    }

    #[test]
    fn a_wrong_key_is_a_wrong_password() {
        let e: CommandError = UnlockError::WrongPassword.into();
        assert_eq!(e.kind, ErrorKind::WrongPassword);
        let e: CommandError = UnlockError::WrongPin { device: "TPM", tries_left: Some(2) }.into();
        assert_eq!(e.kind, ErrorKind::WrongPin);
        assert!(e.message.starts_with("Wrong PIN"), "{}", e.message);
    }

    #[test]
    fn a_write_refused_for_an_unreachable_tpm_names_it_and_the_way_out() {
        let e: CommandError = VaultError::Rollback(RollbackError::Counter {
            index: 0x013A_5300,
            reason: tessera_core::CounterError("cannot reach the TPM at swtpm:host=127.0.0.1,port=1".into()),
        })
        .into();
        assert_eq!(e.kind, ErrorKind::FactorUnavailable);
        for part in ["TPM is unreachable", "cannot reach the TPM", "0x013a5300", "restore-check", "Unlock factors"] {
            assert!(e.message.contains(part), "{part}: {}", e.message);
        }
        assert!(!e.message.contains("--tpm-tcti"), "{}", e.message);
    }

    #[test]
    fn a_hostile_server_is_a_warning_of_its_own_kind() {
        use tessera_sync::client::SyncError;
        let e: CommandError = SyncError::Hostile("membership record 2 is out of place".into()).into();
        assert_eq!(e.kind, ErrorKind::Hostile);
        assert!(e.message.starts_with("The server's data failed verification"), "{}", e.message);
        let e: CommandError =
            SyncError::KeyChanged("the key the server gives for bob@example.org changed".into()).into();
        assert_eq!(e.kind, ErrorKind::Hostile);
        assert_eq!(serde_json::to_value(e).unwrap()["kind"], "hostile");
        let e: CommandError = SyncError::SignInNeeded.into();
        assert_eq!(serde_json::to_value(&e).unwrap()["kind"], "sign_in_needed");
        assert!(e.message.contains("sign in again"), "{}", e.message);
        let e: CommandError = SyncError::TotpRequired.into();
        assert_eq!(serde_json::to_value(&e).unwrap()["kind"], "totp_required");
        let e: CommandError = SyncError::NoSuchShare("no share named \"Family\"".into()).into();
        assert_eq!(e.kind, ErrorKind::NotFound);
    }
}
