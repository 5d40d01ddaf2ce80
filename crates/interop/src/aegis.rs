//! Aegis Authenticator's plain (unencrypted) JSON export.

use crate::{Format, ImportError, Imported};

/// Reads an Aegis plain JSON export.
pub fn parse(_bytes: &[u8]) -> Result<Imported, ImportError> {
    Err(ImportError::WrongDirection(Format::Aegis))
}
