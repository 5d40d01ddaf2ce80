//! The account's keys: the Secret Key, and `auth` and `wrap` derived from
//! the master password (DESIGN §5).
//!
//! `PK' = Argon2id(password, account salt)`, then HKDF-SHA256 with the
//! 128-bit Secret Key as salt gives `auth` (sent to the server, which only
//! hashes it) and `wrap` (wraps the Vault Key; never leaves the device).
//! Without the Secret Key, a copy of the server's database cannot be used
//! to test password guesses: every guess would also need 128 unknown bits.

use hkdf::Hkdf;
use sha2::Sha256;
use tessera_core::KeyEncryptionKey;
use tessera_unlock::{KdfError, KdfParams, Password};
use zeroize::Zeroizing;

use crate::wire::KdfSpec;

const SECRET_KEY_PREFIX: &str = "TSK1";

/// The account's 128-bit Secret Key, kept in every device's vault and in the
/// emergency kit. Never sent to the server.
pub struct SecretKey(Zeroizing<[u8; 16]>);

/// The text is not a Secret Key.
#[derive(Debug, thiserror::Error)]
#[error("no Secret Key found (it looks like TSK1-XXXXX-XXXXX-XXXXX-XXXXX-XXXXXX)")]
pub struct InvalidSecretKey;

impl SecretKey {
    /// A fresh random key.
    pub fn generate() -> SecretKey {
        let mut k = Zeroizing::new([0u8; 16]);
        getrandom::fill(k.as_mut()).expect("the system random source failed");
        SecretKey(k)
    }

    /// `TSK1-` and 26 base32 characters in groups of five.
    pub fn to_display(&self) -> Zeroizing<String> {
        let b32 = Zeroizing::new(data_encoding::BASE32_NOPAD.encode(self.0.as_ref()));
        let mut out = Zeroizing::new(String::from(SECRET_KEY_PREFIX));
        for chunk in b32.as_bytes().chunks(5) {
            out.push('-');
            out.push_str(std::str::from_utf8(chunk).expect("base32 is ASCII"));
        }
        out
    }

    /// Finds a Secret Key in `text` (a bare key or a whole emergency kit).
    pub fn parse(text: &str) -> Result<SecretKey, InvalidSecretKey> {
        for word in text.split_whitespace() {
            let upper = Zeroizing::new(word.to_uppercase());
            let Some(rest) = upper.strip_prefix(SECRET_KEY_PREFIX) else { continue };
            let b32: Zeroizing<String> = Zeroizing::new(rest.chars().filter(|c| *c != '-').collect::<String>());
            if let Ok(bytes) = data_encoding::BASE32_NOPAD.decode(b32.as_bytes()) {
                let bytes = Zeroizing::new(bytes);
                if let Ok(key) = <[u8; 16]>::try_from(bytes.as_slice()) {
                    return Ok(SecretKey(Zeroizing::new(key)));
                }
            }
        }
        Err(InvalidSecretKey)
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// `auth` and `wrap` for one account.
pub struct AccountKeys {
    /// Sent to the server at login.
    pub auth: Zeroizing<[u8; 32]>,
    /// Wraps the Vault Key.
    pub wrap: KeyEncryptionKey,
}

/// Derives the account keys (one KDF run).
pub fn derive(password: &Password, salt: &[u8], kdf: &KdfParams, secret: &SecretKey) -> Result<AccountKeys, KdfError> {
    let pk = kdf.derive(password.as_bytes(), salt)?;
    let hk = Hkdf::<Sha256>::new(Some(secret.0.as_ref()), pk.as_ref());
    let mut auth = Zeroizing::new([0u8; 32]);
    let mut wrap = Zeroizing::new([0u8; 32]);
    hk.expand(b"tessera/v1/auth", auth.as_mut()).expect("32 bytes is a valid HKDF length");
    hk.expand(b"tessera/v1/wrap", wrap.as_mut()).expect("32 bytes is a valid HKDF length");
    Ok(AccountKeys { auth, wrap: KeyEncryptionKey::from_bytes(wrap) })
}

/// Checks KDF parameters from the wire against the floor (whoever sent them).
pub fn kdf_from_spec(spec: &KdfSpec) -> Result<KdfParams, KdfError> {
    if spec.algorithm != "argon2id" {
        return Err(KdfError::BelowFloor { given: spec.algorithm.clone(), floor: "Argon2id m=64 MiB t=3 p=4" });
    }
    KdfParams::argon2id(spec.memory_kib, spec.iterations, spec.parallelism)
}

/// The wire form of Argon2id parameters.
pub fn spec_of(kdf: &KdfParams) -> KdfSpec {
    match *kdf {
        KdfParams::Argon2id { memory_kib, iterations, parallelism } => {
            KdfSpec { algorithm: "argon2id".into(), memory_kib, iterations, parallelism }
        }
        // Accounts are created with Argon2id only (see `register`).
        KdfParams::Pbkdf2 { .. } => {
            KdfSpec { algorithm: "pbkdf2".into(), memory_kib: 0, iterations: 0, parallelism: 0 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_key_round_trips_through_its_display_and_a_kit() {
        let k = SecretKey::generate();
        let shown = k.to_display();
        assert!(shown.starts_with("TSK1-"));
        let kit = format!("Tessera emergency kit\nSecret Key: {}\n", shown.as_str());
        assert_eq!(SecretKey::parse(&kit).unwrap().0.as_ref(), k.0.as_ref());
        assert_eq!(SecretKey::parse(&shown.to_lowercase()).unwrap().0.as_ref(), k.0.as_ref());
        assert!(SecretKey::parse("TSK1-AAAA").is_err());
    }

    #[test]
    fn kdf_below_the_floor_is_refused_from_the_wire() {
        let weak = KdfSpec { algorithm: "argon2id".into(), memory_kib: 1024, iterations: 1, parallelism: 1 };
        assert!(kdf_from_spec(&weak).is_err());
        let pbkdf2 = KdfSpec { algorithm: "pbkdf2".into(), memory_kib: 0, iterations: 1, parallelism: 0 };
        assert!(kdf_from_spec(&pbkdf2).is_err());
    }
}
