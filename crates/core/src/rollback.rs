//! Whole-file rollback: binding the vault to a monotonic counter outside
//! the file.
//!
//! Every check inside the file (header MAC, manifest, audit chain) holds
//! for a genuine older copy of the whole file, so putting one back cannot
//! be detected from the file alone. A counter that only ever goes up and
//! lives elsewhere (a TPM NV counter, in `tessera-unlock`) can tell: every
//! committed write records `counter + 1` in the authenticated header, then
//! advances the counter. On opening, the file's value must equal the
//! counter's; a smaller one is an older copy ([`IntegrityError::RolledBack`]).
//!
//! The order survives a crash at any instant: the header is committed
//! first with `counter + 1`, the counter advanced after. A crash between
//! the two leaves the file one ahead, which is only ever the result of that
//! crash; the next open or write advances the counter and goes on. A file
//! more than one ahead was bound to another counter, or the counter was
//! replaced ([`IntegrityError::CounterAhead`]).
//!
//! The core knows nothing of TPMs: it sees the counter through
//! [`RollbackCounter`]. A vault with a binding refuses to write without its
//! counter (a write that did not advance it would let an older copy with
//! the same value pass); it can still be read.

use crate::error::IntegrityError;

/// A monotonic counter outside the vault file.
pub trait RollbackCounter: Send {
    /// The counter's identity (the TPM NV index), recorded in the binding.
    fn index(&self) -> u32;
    /// The counter's current value.
    fn read(&mut self) -> Result<u64, CounterError>;
    /// Adds one and returns the new value.
    fn advance(&mut self) -> Result<u64, CounterError>;
}

/// The counter could not be read or advanced (unreachable, undefined…).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CounterError(pub String);

/// The vault's binding to a counter, as recorded in the authenticated
/// header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RollbackBinding {
    /// Which counter (TPM NV index).
    pub index: u32,
    /// The counter's value after the last committed write.
    pub value: u64,
}

/// How the file's recorded value compares with the counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollbackVerdict {
    /// Equal: the latest file this counter saw.
    Current,
    /// The file is one ahead: the last write committed but the counter
    /// was not advanced (a crash in between); advancing it heals.
    Interrupted,
    /// The file is behind: an older copy.
    Older,
    /// The file is more than one ahead: another counter, or a replaced one.
    Ahead,
}

impl RollbackVerdict {
    /// Compares a file's recorded value with the counter's.
    pub fn judge(file: u64, counter: u64) -> RollbackVerdict {
        if file == counter {
            RollbackVerdict::Current
        } else if file < counter {
            RollbackVerdict::Older
        } else if file - counter == 1 {
            RollbackVerdict::Interrupted
        } else {
            RollbackVerdict::Ahead
        }
    }

    /// The integrity error for a verdict that refuses the file.
    pub(crate) fn refusal(self, binding: RollbackBinding, counter: u64) -> Option<IntegrityError> {
        match self {
            RollbackVerdict::Current | RollbackVerdict::Interrupted => None,
            RollbackVerdict::Older => Some(IntegrityError::RolledBack { file: binding.value, counter }),
            RollbackVerdict::Ahead => Some(IntegrityError::CounterAhead { file: binding.value, counter }),
        }
    }

    /// A word for reports (`restore-check --json`).
    pub fn as_str(self) -> &'static str {
        match self {
            RollbackVerdict::Current => "current",
            RollbackVerdict::Interrupted => "interrupted",
            RollbackVerdict::Older => "older",
            RollbackVerdict::Ahead => "ahead",
        }
    }
}

/// The binding, the counter's value and the verdict, for `restore-check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RollbackStatus {
    /// What the file records.
    pub binding: RollbackBinding,
    /// The counter's value now.
    pub counter: u64,
    /// How they compare.
    pub verdict: RollbackVerdict,
}

/// Why a vault bound to a counter refused an operation (other than an
/// older file, which is an [`IntegrityError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollbackError {
    /// The vault is bound to a counter this session does not have.
    #[error(
        "this vault is bound to TPM counter {index:#010x} (whole-file rollback protection) and that TPM cannot be \
         used now, so nothing is written; give the TPM with --tpm-tcti or $TESSERA_TPM_TCTI, or, if it is gone \
         for good, remove the TPM slot (`tessera slot remove ID`), which ends the binding"
    )]
    NoCounter {
        /// The bound NV index.
        index: u32,
    },
    /// The counter given is not the one the vault is bound to.
    #[error("the vault is bound to TPM counter {bound:#010x}, not {given:#010x}")]
    WrongCounter {
        /// In the binding.
        bound: u32,
        /// Given.
        given: u32,
    },
    /// The counter failed.
    #[error(
        "the vault's TPM counter {index:#010x} (whole-file rollback protection) cannot be used: {reason}; nothing \
         is written until it can. Give the TPM with --tpm-tcti or $TESSERA_TPM_TCTI, or, if it is gone for good, \
         remove the TPM slot (`tessera slot remove ID`), which ends the binding"
    )]
    Counter {
        /// The NV index.
        index: u32,
        /// Why.
        reason: CounterError,
    },
    /// The vault has no binding (for `restore-check --accept-older`).
    #[error("this vault is not bound to a TPM counter (it has no TPM slot)")]
    NotBound,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_crash_safe_order() {
        assert_eq!(RollbackVerdict::judge(5, 5), RollbackVerdict::Current);
        assert_eq!(RollbackVerdict::judge(6, 5), RollbackVerdict::Interrupted);
        assert_eq!(RollbackVerdict::judge(4, 5), RollbackVerdict::Older);
        assert_eq!(RollbackVerdict::judge(0, u64::MAX), RollbackVerdict::Older);
        assert_eq!(RollbackVerdict::judge(7, 5), RollbackVerdict::Ahead);
        assert_eq!(RollbackVerdict::judge(u64::MAX, 0), RollbackVerdict::Ahead);
    }
}
