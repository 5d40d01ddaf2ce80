//! KeePass KDBX 3.1 and 4, through the `keepass` crate.

use crate::{ImportError, Imported, SourcePassword};

/// Reads a KDBX file.
pub fn parse(_bytes: &[u8], _password: &SourcePassword) -> Result<Imported, ImportError> {
    Err(ImportError::WrongDirection(crate::Format::Keepass))
}
