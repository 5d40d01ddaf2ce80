//! `otpauth://` URIs, one a line, and Google Authenticator's
//! `otpauth-migration://offline?data=…` batches.

use crate::{Format, ImportError, Imported};

/// Reads a text file of `otpauth://` and `otpauth-migration://` lines.
pub fn parse(_bytes: &[u8]) -> Result<Imported, ImportError> {
    Err(ImportError::WrongDirection(Format::Otpauth))
}
