//! The master-password factor: Argon2id (or PBKDF2) over the password with
//! a per-slot random salt gives PK (DESIGN §2).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::UnlockError;
use crate::factor::{Factor, FactorSecret, new_salt, parse_salt};
use crate::kdf::KdfParams;

/// A master password. Zeroized on drop; `Debug` never prints it.
pub struct Password(Zeroizing<Vec<u8>>);

impl Password {
    /// Wraps password bytes. An empty password is refused.
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> Result<Password, UnlockError> {
        if bytes.is_empty() {
            return Err(UnlockError::EmptyPassword);
        }
        Ok(Password(bytes))
    }

    /// The first line of `bytes` (without `\n` or `\r\n`), as password input
    /// files and stdin give it.
    pub fn from_first_line(bytes: &[u8]) -> Result<Password, UnlockError> {
        let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Password::new(Zeroizing::new(line.to_vec()))
    }

    /// The password's bytes (UTF-8 as typed).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Stored parameters of the password factor.
#[derive(Serialize, Deserialize)]
struct PasswordParams {
    kind: String,
    kdf: KdfParams,
    salt: String,
}

/// The password factor, for enrolling (with KDF parameters) or unlocking.
pub struct PasswordFactor<'a> {
    password: &'a Password,
    kdf: KdfParams,
}

impl<'a> PasswordFactor<'a> {
    /// Kind name in slots.
    pub const KIND: &'static str = "password";

    /// A factor that enrolls with `kdf` and unlocks with whatever the slot says.
    pub fn new(password: &'a Password, kdf: KdfParams) -> Self {
        PasswordFactor { password, kdf }
    }

    /// A factor for unlocking only.
    pub fn unlocking(password: &'a Password) -> Self {
        PasswordFactor { password, kdf: KdfParams::ARGON2_FLOOR }
    }
}

/// The KDF parameters stored in a password factor's parameters.
pub(crate) fn stored_kdf(params: &serde_json::Value) -> Result<KdfParams, String> {
    let kdf = params.get("kdf").ok_or("its KDF parameters are missing")?;
    serde_json::from_value::<KdfParams>(kdf.clone()).map_err(|e| e.to_string())
}

impl Factor for PasswordFactor<'_> {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn enroll(&self) -> Result<(serde_json::Value, FactorSecret), UnlockError> {
        let salt = new_salt();
        let secret = self.kdf.derive(self.password.as_bytes(), &salt)?;
        let params =
            PasswordParams { kind: Self::KIND.into(), kdf: self.kdf, salt: data_encoding::HEXLOWER.encode(&salt) };
        Ok((serde_json::to_value(params).expect("params serialise"), FactorSecret(secret)))
    }

    fn derive(&self, params: &serde_json::Value) -> Result<FactorSecret, UnlockError> {
        // The floor is enforced while parsing: parameters lowered in the file
        // are refused before any derivation (no downgrade).
        let kdf = stored_kdf(params).map_err(UnlockError::BadParams)?;
        let salt = parse_salt(params, "password").map_err(UnlockError::BadParams)?;
        Ok(FactorSecret(kdf.derive(self.password.as_bytes(), &salt)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_only_without_line_ending() {
        assert_eq!(Password::from_first_line(b"pw\nsecond").unwrap().as_bytes(), b"pw");
        assert_eq!(Password::from_first_line(b"pw\r\n").unwrap().as_bytes(), b"pw");
        assert_eq!(Password::from_first_line(b"p w ").unwrap().as_bytes(), b"p w ");
        assert!(matches!(Password::from_first_line(b"\nx"), Err(UnlockError::EmptyPassword)));
    }

    #[test]
    fn debug_hides_the_password() {
        let p = Password::from_first_line(b"hunter2").unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
