//! The recovery code: 160 random bits printed once at `init`, for when the
//! master password is lost. It is a full-strength key, so HKDF (not a slow
//! KDF) turns it into RK: guessing it is as hard as guessing a key.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::UnlockError;
use crate::factor::{Factor, FactorSecret, new_salt, parse_salt};

const CODE_BYTES: usize = 20;
/// RFC 4648 base32: no 0/1/8/9, so 0, 1 and 8 typed by mistake can be read
/// back as O, I and B.
const ALPHABET: data_encoding::Encoding = data_encoding::BASE32_NOPAD;

/// A recovery code. Zeroized on drop; `Debug` never prints it.
pub struct RecoveryCode(Zeroizing<[u8; CODE_BYTES]>);

/// The text is not a recovery code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this is not a recovery code: expected 32 letters and digits in groups of four, like ABCD-EFGH-…")]
pub struct InvalidRecoveryCode;

impl RecoveryCode {
    /// A fresh random code.
    pub fn generate() -> RecoveryCode {
        let mut bytes = Zeroizing::new([0u8; CODE_BYTES]);
        getrandom::fill(bytes.as_mut()).expect("the operating system's random number generator failed");
        RecoveryCode(bytes)
    }

    /// Reads a code as printed, ignoring case, spaces and dashes, and
    /// forgiving 0/1/8 typed for O/I/B.
    pub fn parse(text: &str) -> Result<RecoveryCode, InvalidRecoveryCode> {
        let cleaned: Zeroizing<String> = Zeroizing::new(
            text.chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .map(|c| match c.to_ascii_uppercase() {
                    '0' => 'O',
                    '1' => 'I',
                    '8' => 'B',
                    c => c,
                })
                .collect(),
        );
        let bytes = Zeroizing::new(ALPHABET.decode(cleaned.as_bytes()).map_err(|_| InvalidRecoveryCode)?);
        let array: [u8; CODE_BYTES] = bytes.as_slice().try_into().map_err(|_| InvalidRecoveryCode)?;
        Ok(RecoveryCode(Zeroizing::new(array)))
    }

    /// The code as printed: eight groups of four, e.g. `ABCD-EFGH-…`.
    pub fn to_display(&self) -> Zeroizing<String> {
        let plain = Zeroizing::new(ALPHABET.encode(self.0.as_ref()));
        let mut out = Zeroizing::new(String::with_capacity(plain.len() + plain.len() / 4));
        for (i, c) in plain.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

#[derive(Serialize, Deserialize)]
struct RecoveryParams {
    kind: String,
    salt: String,
}

/// The recovery-code factor.
pub struct RecoveryFactor<'a> {
    code: &'a RecoveryCode,
}

impl<'a> RecoveryFactor<'a> {
    /// Kind name in slots.
    pub const KIND: &'static str = "recovery";

    /// A factor for `code`.
    pub fn new(code: &'a RecoveryCode) -> Self {
        RecoveryFactor { code }
    }

    fn secret(&self, salt: &[u8]) -> FactorSecret {
        let mut okm = Zeroizing::new([0u8; 32]);
        hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), self.code.0.as_ref())
            .expand(b"tessera/v1/recovery-code", okm.as_mut())
            .expect("32 bytes is within HKDF-SHA256's output limit");
        FactorSecret(okm)
    }
}

impl Factor for RecoveryFactor<'_> {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn enroll(&self) -> Result<(serde_json::Value, FactorSecret), UnlockError> {
        let salt = new_salt();
        let params = RecoveryParams { kind: Self::KIND.into(), salt: data_encoding::HEXLOWER.encode(&salt) };
        Ok((serde_json::to_value(params).expect("params serialise"), self.secret(&salt)))
    }

    fn derive(&self, params: &serde_json::Value) -> Result<FactorSecret, UnlockError> {
        let salt = parse_salt(params, "recovery").map_err(UnlockError::BadParams)?;
        Ok(self.secret(&salt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_round_trips_and_forgives_typing() {
        let code = RecoveryCode::generate();
        let shown = code.to_display();
        assert_eq!(shown.len(), 32 + 7);
        assert_eq!(shown.matches('-').count(), 7);
        let back = RecoveryCode::parse(&shown).unwrap();
        assert_eq!(back.0.as_ref(), code.0.as_ref());
        let sloppy = shown.to_lowercase().replace('-', " ").replace('o', "0").replace('i', "1");
        assert_eq!(RecoveryCode::parse(&sloppy).unwrap().0.as_ref(), code.0.as_ref());
    }

    #[test]
    fn malformed_codes_are_refused() {
        assert!(RecoveryCode::parse("").is_err());
        assert!(RecoveryCode::parse("ABCD-EFGH").is_err());
        assert!(RecoveryCode::parse(&"A".repeat(33)).is_err());
        assert!(RecoveryCode::parse("!!!!-!!!!-!!!!-!!!!-!!!!-!!!!-!!!!-!!!!").is_err());
    }

    #[test]
    fn debug_hides_the_code() {
        let code = RecoveryCode::generate();
        let shown = code.to_display();
        assert!(!format!("{code:?}").contains(&shown[..4]));
    }
}
