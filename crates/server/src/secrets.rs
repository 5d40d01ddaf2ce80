//! The server's own secrets and what it derives from them: stored `auth`
//! hashes (Argon2id keyed with the pepper), signed access tokens, hashed
//! refresh tokens and recovery codes, and account TOTP (RFC 6238).
//!
//! `auth` is itself a 256-bit key derived by the client from the master
//! password and the account's Secret Key; Argon2id here is defence in depth
//! for a stolen database, and the pepper (kept outside the database) means
//! that database alone cannot be used to check a guess at all.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::config::PEPPER_LEN;

/// Argon2id parameters for stored `auth` hashes: one of OWASP's equivalent
/// settings (m = 9 MiB, t = 4, p = 1). `auth` is already a 256-bit key, so
/// the memory cost buys nothing against guessing; it is kept modest so a
/// burst of logins cannot take the server's memory.
pub const AUTH_HASH_MEMORY_KIB: u32 = 9 * 1024;
const AUTH_HASH_ITERATIONS: u32 = 4;

/// How long an access token lives.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// How long an unused refresh token lives.
pub const REFRESH_TTL_SECS: i64 = 60 * 24 * 3600;

/// Keys derived from the pepper, one per purpose.
pub struct ServerKeys {
    pepper: Zeroizing<[u8; PEPPER_LEN]>,
    access: Zeroizing<[u8; 32]>,
    lookup: Zeroizing<[u8; 32]>,
}

fn derive(pepper: &[u8], info: &str) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(b"tessera-server/v1"), pepper)
        .expand(info.as_bytes(), out.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    out
}

fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// Constant-time equality of two byte strings.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `n` random bytes.
pub fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the system random source failed");
    out
}

/// A random id: 32 lowercase hex digits.
pub fn random_id() -> String {
    data_encoding::HEXLOWER.encode(&random::<16>())
}

/// Who an access token speaks for.
#[derive(Clone, Debug)]
pub struct TokenClaims {
    pub account: String,
    pub device: String,
}

impl ServerKeys {
    pub fn new(pepper: Zeroizing<[u8; PEPPER_LEN]>) -> ServerKeys {
        let access = derive(pepper.as_ref(), "access-token");
        let lookup = derive(pepper.as_ref(), "lookup");
        ServerKeys { pepper, access, lookup }
    }

    /// Argon2id(auth) with a fresh salt and the pepper as Argon2's secret,
    /// as `salt$hash` in base64. `memory` is the worker's Argon2 memory.
    pub fn hash_auth(&self, auth: &[u8], memory: &mut [argon2::Block]) -> String {
        let salt = random::<16>();
        let hash = self.argon2(auth, &salt, memory);
        format!("{}${}", data_encoding::BASE64.encode(&salt), data_encoding::BASE64.encode(hash.as_ref()))
    }

    /// Checks `auth` against a stored hash, in constant time.
    pub fn verify_auth(&self, auth: &[u8], stored: &str, memory: &mut [argon2::Block]) -> bool {
        let Some((salt, hash)) = stored.split_once('$') else { return false };
        let (Ok(salt), Ok(hash)) =
            (data_encoding::BASE64.decode(salt.as_bytes()), data_encoding::BASE64.decode(hash.as_bytes()))
        else {
            return false;
        };
        same(self.argon2(auth, &salt, memory).as_ref(), &hash)
    }

    fn argon2(&self, auth: &[u8], salt: &[u8], memory: &mut [argon2::Block]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        let params = argon2::Params::new(AUTH_HASH_MEMORY_KIB, AUTH_HASH_ITERATIONS, 1, Some(32))
            .expect("constant Argon2 parameters are valid");
        argon2::Argon2::new_with_secret(
            self.pepper.as_ref(),
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            params,
        )
        .expect("a 32-byte secret is valid")
        .hash_password_into_with_memory(auth, salt, out.as_mut(), memory)
        .expect("constant Argon2 parameters, a 16-byte salt and enough memory are valid");
        out
    }

    /// A stable fake salt for an unknown email, so that prelogin answers
    /// the same way whether or not an account exists.
    pub fn fake_salt(&self, email: &str) -> [u8; 16] {
        let mac = hmac(&self.lookup, &[b"fake-salt\0", email.as_bytes()]);
        let mut salt = [0u8; 16];
        salt.copy_from_slice(&mac[..16]);
        salt
    }

    /// A keyed hash for looking up a secret the server must recognise but
    /// not keep: a refresh token or a recovery code.
    pub fn lookup_hash(&self, secret: &str) -> String {
        data_encoding::HEXLOWER.encode(&hmac(&self.lookup, &[b"lookup\0", secret.as_bytes()]))
    }

    /// Signs an access token: `account.device.expiry.mac`. Stateless, so
    /// any instance sharing the pepper accepts it; each request still
    /// checks that the device is not revoked.
    pub fn issue_access(&self, account: &str, device: &str, now: i64) -> String {
        let expires = now + ACCESS_TTL_SECS;
        let body = format!("{account}.{device}.{expires}");
        let mac = hmac(&self.access, &[b"access\0", body.as_bytes()]);
        format!("{body}.{}", data_encoding::BASE64URL_NOPAD.encode(&mac))
    }

    /// Checks an access token's MAC and expiry.
    pub fn check_access(&self, token: &str, now: i64) -> Option<TokenClaims> {
        let (body, mac) = token.rsplit_once('.')?;
        let mac = data_encoding::BASE64URL_NOPAD.decode(mac.as_bytes()).ok()?;
        if !same(&hmac(&self.access, &[b"access\0", body.as_bytes()]), &mac) {
            return None;
        }
        let mut parts = body.split('.');
        let (account, device, expires) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || expires.parse::<i64>().ok()? <= now {
            return None;
        }
        Some(TokenClaims { account: account.to_string(), device: device.to_string() })
    }
}

/// A fresh refresh token (256 random bits, URL-safe base64).
pub fn new_refresh_token() -> String {
    data_encoding::BASE64URL_NOPAD.encode(&random::<32>())
}

/// Ten one-time recovery codes, `xxxxx-xxxxx` in lowercase base32.
pub fn new_recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let code = data_encoding::BASE32_NOPAD.encode(&random::<7>()).to_lowercase();
            format!("{}-{}", &code[..5], &code[5..10])
        })
        .collect()
}

/// Account TOTP: RFC 6238, SHA-1, 6 digits, 30-second steps.
pub mod totp {
    use super::*;

    /// A new 160-bit secret, base32.
    pub fn new_secret() -> String {
        data_encoding::BASE32_NOPAD.encode(&random::<20>())
    }

    fn code(secret: &[u8], step: u64) -> u32 {
        let mut m = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
        m.update(&step.to_be_bytes());
        let h = m.finalize().into_bytes();
        // RFC 4226 §5.3 dynamic truncation.
        let offset = usize::from(h[19] & 0x0f);
        let bin = u32::from_be_bytes([h[offset] & 0x7f, h[offset + 1], h[offset + 2], h[offset + 3]]);
        bin % 1_000_000
    }

    /// The time step `code` is valid for (the current one, or one step
    /// either side for clock drift), if any.
    pub fn verify(secret_b32: &str, code_text: &str, now: i64) -> Option<i64> {
        let secret = data_encoding::BASE32_NOPAD.decode(secret_b32.as_bytes()).ok()?;
        let given: u32 = code_text.trim().parse().ok().filter(|_| code_text.trim().len() == 6)?;
        let step = now.div_euclid(30);
        [step, step - 1, step + 1]
            .into_iter()
            .find(|&s| s >= 0 && super::same(&code(&secret, s as u64).to_be_bytes(), &given.to_be_bytes()))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn rfc6238_sha1_vectors() {
            // RFC 6238 appendix B, SHA-1 seed, truncated to 6 digits.
            let secret = b"12345678901234567890";
            for (time, expected) in [(59, 287082), (1111111109, 81804), (1111111111, 50471), (1234567890, 5924)] {
                assert_eq!(super::code(secret, time / 30), expected);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> ServerKeys {
        ServerKeys::new(Zeroizing::new([9; PEPPER_LEN]))
    }

    #[test]
    fn auth_hash_verifies_only_the_same_auth_and_pepper() {
        let k = keys();
        let mut m = vec![argon2::Block::default(); AUTH_HASH_MEMORY_KIB as usize];
        let stored = k.hash_auth(b"auth", &mut m);
        assert!(k.verify_auth(b"auth", &stored, &mut m));
        assert!(!k.verify_auth(b"Auth", &stored, &mut m));
        assert!(!ServerKeys::new(Zeroizing::new([8; PEPPER_LEN])).verify_auth(b"auth", &stored, &mut m));
    }

    #[test]
    fn access_tokens_expire_and_refuse_any_change() {
        let k = keys();
        let t = k.issue_access("a1", "d1", 1000);
        assert_eq!(k.check_access(&t, 1001).unwrap().account, "a1");
        assert!(k.check_access(&t, 1000 + ACCESS_TTL_SECS).is_none());
        assert!(k.check_access(&t.replace("a1.", "a2."), 1001).is_none());
        assert!(ServerKeys::new(Zeroizing::new([1; PEPPER_LEN])).check_access(&t, 1001).is_none());
    }
}
