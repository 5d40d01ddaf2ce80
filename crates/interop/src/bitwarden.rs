//! Bitwarden's unencrypted JSON export: import and export.

use crate::{Format, ImportError, Imported};

/// Reads a Bitwarden unencrypted JSON export.
pub fn parse_json(_bytes: &[u8]) -> Result<Imported, ImportError> {
    Err(ImportError::WrongDirection(Format::BitwardenJson))
}
