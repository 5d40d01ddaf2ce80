//! # tessera-interop
//!
//! Moving items into and out of a Tessera vault. Each format has one module
//! that turns a file's bytes into [`Imported`] items (with their history and
//! attachments) or a vault's items into a file:
//!
//! | format | module | import | export |
//! | --- | --- | --- | --- |
//! | KeePass KDBX 3.1 / 4 | [`keepass`] | yes | KDBX 4, Argon2id |
//! | Bitwarden JSON / CSV | [`bitwarden`] | yes | JSON |
//! | generic, Chrome, Firefox, 1Password CSV | [`csv`] | yes | — |
//! | `otpauth://` lines, Google Authenticator migration | [`otpauth`] | yes | — |
//! | Aegis plain JSON | [`aegis`] | yes | — |
//! | Tessera backup | [`backup`] | yes | yes |
//!
//! [`qr`] reads the same `otpauth://` and migration codes from QR codes in
//! a PNG or JPEG file or a captured screen, for the item editor.
//!
//! Parsers never panic on hostile input: every one is bounded in input size
//! and nesting, and reports what it could not read as [`Skipped`] entries or
//! an [`ImportError`] that names the problem without echoing a value.
//! Writing to the vault is [`tessera_core::Vault::import`]: one transaction,
//! so a failed import changes nothing.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;

use tessera_core::NewItem;
use tessera_core::totp::{Otp, OtpSecret};
use zeroize::Zeroizing;

pub mod aegis;
pub mod backup;
pub mod bitwarden;
pub mod csv;
pub mod keeagent;
pub mod keepass;
pub mod otpauth;
pub mod qr;

/// Largest source file read, in bytes. Larger files are refused before
/// they are read, so a hostile size cannot exhaust memory.
pub const MAX_SOURCE_SIZE: u64 = 1 << 30;

/// The formats `tessera import` reads and `tessera export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// KeePass KDBX 3.1 or 4.
    Keepass,
    /// Bitwarden's unencrypted JSON export.
    BitwardenJson,
    /// Bitwarden's CSV export.
    BitwardenCsv,
    /// Any CSV whose header names its columns.
    Csv,
    /// 1Password's CSV export.
    OnePasswordCsv,
    /// Chrome's (and Chromium's, Edge's) password CSV.
    ChromeCsv,
    /// Firefox's password CSV.
    FirefoxCsv,
    /// `otpauth://` URIs, one a line, and Google Authenticator's
    /// `otpauth-migration://` batches.
    Otpauth,
    /// Aegis Authenticator's plain JSON export.
    Aegis,
    /// Tessera's encrypted backup.
    TesseraBackup,
}

impl Format {
    /// Every format, in the order help texts list them.
    pub const ALL: [Format; 10] = [
        Format::Keepass,
        Format::BitwardenJson,
        Format::BitwardenCsv,
        Format::Csv,
        Format::OnePasswordCsv,
        Format::ChromeCsv,
        Format::FirefoxCsv,
        Format::Otpauth,
        Format::Aegis,
        Format::TesseraBackup,
    ];

    /// The name used by `--from` / `--to`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Keepass => "keepass",
            Format::BitwardenJson => "bitwarden-json",
            Format::BitwardenCsv => "bitwarden-csv",
            Format::Csv => "csv",
            Format::OnePasswordCsv => "1password-csv",
            Format::ChromeCsv => "chrome-csv",
            Format::FirefoxCsv => "firefox-csv",
            Format::Otpauth => "otpauth",
            Format::Aegis => "aegis",
            Format::TesseraBackup => "tessera-backup",
        }
    }

    /// Whether the source is encrypted and needs a password to read.
    pub fn needs_password(self) -> bool {
        matches!(self, Format::Keepass | Format::TesseraBackup)
    }

    /// Whether an export in this format holds secrets in the clear.
    pub fn is_plain_text(self) -> bool {
        !self.needs_password()
    }

    /// Guesses the format of `bytes` from its content (magic numbers, JSON
    /// keys, CSV headers), falling back on the file name's extension.
    pub fn detect(file_name: &str, bytes: &[u8]) -> Option<Format> {
        const KDBX_SIG: [u8; 8] = [0x03, 0xd9, 0xa2, 0x9a, 0x67, 0xfb, 0x4b, 0xb5];
        if bytes.starts_with(&KDBX_SIG) {
            return Some(Format::Keepass);
        }
        if backup::is_backup(bytes) {
            return Some(Format::TesseraBackup);
        }
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
        let head = head.trim_start_matches('\u{feff}').trim_start();
        if head.starts_with('{') {
            if head.contains("\"db\"") && (head.contains("\"entries\"") || head.contains("\"version\"")) {
                return Some(Format::Aegis);
            }
            if head.contains("\"items\"") || head.contains("\"encrypted\"") || head.contains("\"folders\"") {
                return Some(Format::BitwardenJson);
            }
        }
        let first_line = head.lines().next().unwrap_or("").trim();
        if first_line.starts_with("otpauth://") || first_line.starts_with("otpauth-migration://") {
            return Some(Format::Otpauth);
        }
        if let Some(layout) = csv::detect_layout(first_line) {
            return Some(layout);
        }
        let lower = file_name.to_ascii_lowercase();
        if lower.ends_with(".kdbx") {
            Some(Format::Keepass)
        } else if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else {
            None
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?}: expected one of {names}", names = Format::ALL.map(Format::name).join(", "))]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// What an import read: the items to add and what it left out, and why.
#[derive(Debug, Default)]
pub struct Imported {
    /// Items ready for [`tessera_core::Vault::import`].
    pub items: Vec<NewItem>,
    /// Entries or lines that could not be imported.
    pub skipped: Vec<Skipped>,
}

/// An entry or line left out of an import. Neither field ever holds a
/// secret value from the source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Where it was: `line 12`, `entry "Mail"`, `item 3`.
    pub line_or_entry: String,
    /// Why it was left out.
    pub reason: String,
}

impl Imported {
    /// Puts every item under folder `dest` (`Work` + `Mail` → `Work/Mail`).
    pub fn move_under(&mut self, dest: &str) {
        let dest = dest.trim_matches('/');
        if dest.is_empty() {
            return;
        }
        for new in &mut self.items {
            for version in std::iter::once(&mut new.current).chain(new.history.iter_mut()) {
                let item = &mut version.item;
                item.folder = if item.folder.is_empty() { dest.to_owned() } else { format!("{dest}/{}", item.folder) };
            }
        }
    }
}

/// Why an import failed. Nothing was written to the vault.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The source file's password (or key file) is wrong. A KDBX 3.1 file
    /// cannot tell this from damage to its encrypted content.
    #[error("the source file's password or key file is wrong (or the file is damaged)")]
    WrongPassword,
    /// The source is encrypted and no password was given.
    #[error("a {0} file is encrypted: give its password with --source-password-file")]
    PasswordRequired(Format),
    /// The file is damaged, truncated or not in the format.
    #[error("not a readable {format} file: {reason}")]
    Malformed {
        /// The format it was read as.
        format: Format,
        /// What was wrong (never a value from the file).
        reason: String,
    },
    /// The file is larger than [`MAX_SOURCE_SIZE`] or declares something
    /// larger than the parser accepts.
    #[error("the {format} file is too large: {reason}")]
    TooLarge {
        /// The format it was read as.
        format: Format,
        /// What was too large.
        reason: String,
    },
    /// The file uses a feature this import does not support.
    #[error("{0}")]
    Unsupported(String),
    /// The format could not be detected; `--from` names it.
    #[error("could not tell the file's format: name it with --from ({})", Format::ALL.map(Format::name).join(", "))]
    UnknownFormat,
}

impl ImportError {
    pub(crate) fn malformed(format: Format, reason: impl Into<String>) -> Self {
        ImportError::Malformed { format, reason: reason.into() }
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the vault failed.
    #[error(transparent)]
    Vault(#[from] tessera_core::VaultError),
    /// The target format could not be written.
    #[error("could not write the {format} file: {reason}")]
    Write {
        /// The format being written.
        format: Format,
        /// What failed.
        reason: String,
    },
    /// The format is import-only.
    #[error("{0} cannot be exported: it is an import-only format")]
    ImportOnly(Format),
}

/// What opens an encrypted source file or protects an encrypted export: a
/// password, a KeePass key file, or both. Zeroized on drop.
#[derive(Default)]
pub struct SourceKey {
    /// The file's password.
    pub password: Option<Zeroizing<String>>,
    /// The content of a KeePass key file.
    pub key_file: Option<Zeroizing<Vec<u8>>>,
}

impl fmt::Debug for SourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceKey")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("key_file", &self.key_file.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Reads `bytes` in `format`. `key` opens a KDBX file; a Tessera backup is
/// a vault file, opened by [`backup`] once unlocked instead.
pub fn parse(format: Format, bytes: &[u8], key: &SourceKey) -> Result<Imported, ImportError> {
    if bytes.len() as u64 > MAX_SOURCE_SIZE {
        return Err(ImportError::TooLarge { format, reason: format!("more than {MAX_SOURCE_SIZE} bytes") });
    }
    match format {
        Format::Keepass => keepass::parse(bytes, key),
        Format::BitwardenJson => bitwarden::parse_json(bytes),
        Format::BitwardenCsv | Format::Csv | Format::OnePasswordCsv | Format::ChromeCsv | Format::FirefoxCsv => {
            csv::parse(format, bytes)
        }
        Format::Otpauth => otpauth::parse(bytes),
        Format::Aegis => aegis::parse(bytes),
        Format::TesseraBackup => Err(ImportError::Unsupported(
            "a Tessera backup is a vault file: open it with backup::read after unlocking it".into(),
        )),
    }
}

/// Turns what a source calls a TOTP into an `otpauth://` URI the vault
/// accepts: an `otpauth://` or `steam://` URI as it is, or a bare base32
/// secret (as Bitwarden and many CSVs store it) as a default TOTP labelled
/// `label`. Returns `None` for something that is not a TOTP at all.
pub fn otp_uri(value: &str, label: &str) -> Option<Zeroizing<String>> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Ok(otp) = Otp::parse_uri(value) {
        return Some(otp.to_uri());
    }
    let secret = OtpSecret::from_base32(value).ok()?;
    let mut otp = Otp::new_totp(secret);
    otp.account = Some(label.to_owned()).filter(|l| !l.is_empty());
    Some(otp.to_uri())
}

/// Splits a nesting depth check out of every recursive parser: the deepest
/// folder path or JSON nesting any import follows.
pub const MAX_DEPTH: usize = 64;

/// Cases per property-based ("fuzz") test: a bounded number in `make test`,
/// more from `TESSERA_FUZZ_CASES` in `make fuzz`.
#[cfg(test)]
pub(crate) fn fuzz_cases() -> u32 {
    std::env::var("TESSERA_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}
