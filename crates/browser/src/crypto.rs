//! The extension's encryption: NaCl `crypto_box` (X25519 key agreement,
//! XSalsa20-Poly1305), 24-byte nonces, everything base64.
//!
//! Both directions share one key (the X25519 shared secret), so a nonce
//! must never be used twice *in either direction*: a reply sealed under a
//! nonce the extension already used, or a request replayed at a nonce the
//! host already answered with, would reuse the XSalsa20 keystream. The
//! extension answers request nonce `n` with `n + 1` (libsodium's
//! `sodium_increment`, little-endian); [`NonceLog`] refuses any request
//! whose `n` or `n + 1` was used before, in either direction, so a replayed
//! request, a reflected reply and an overlapping nonce are all refused.

use std::collections::HashSet;

use crypto_box::aead::Aead;
use crypto_box::{PublicKey, SalsaBox, SecretKey};
use data_encoding::BASE64;
use zeroize::Zeroizing;

/// Bytes in a nonce and a client id.
pub const NONCE_LEN: usize = 24;
/// Bytes in a public key.
pub const KEY_LEN: usize = 32;
/// Most nonces one session remembers; past it the session must re-key
/// (about 8 MiB of memory, some 130,000 requests).
pub const MAX_NONCES: usize = 1 << 18;

/// A 24-byte nonce.
pub type Nonce = [u8; NONCE_LEN];

/// Decodes standard base64 (with padding, as the extension writes it).
pub fn decode_b64(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text.as_bytes()).ok()
}

/// Encodes standard base64.
pub fn encode_b64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// A base64 text that must decode to exactly `N` bytes.
pub fn decode_fixed<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode_b64(text)?.try_into().ok()
}

/// `n + 1`, little-endian with carry, as libsodium's `sodium_increment`.
pub fn increment(nonce: &Nonce) -> Nonce {
    let mut out = *nonce;
    for byte in out.iter_mut() {
        let (sum, carry) = byte.overflowing_add(1);
        *byte = sum;
        if !carry {
            break;
        }
    }
    out
}

/// A fresh X25519 key pair for one session (the "host key").
pub struct HostKeyPair {
    secret: SecretKey,
    public: [u8; KEY_LEN],
}

impl HostKeyPair {
    /// Generates a key pair from the OS generator.
    pub fn generate() -> HostKeyPair {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        getrandom::fill(bytes.as_mut()).expect("the OS random generator is available");
        let secret = SecretKey::from(*bytes);
        let public = *secret.public_key().as_bytes();
        HostKeyPair { secret, public }
    }

    /// The public half, to send to the extension.
    pub fn public(&self) -> [u8; KEY_LEN] {
        self.public
    }

    /// The box shared with a client whose public key is `client`.
    pub fn session(&self, client: &[u8; KEY_LEN]) -> SessionBox {
        SessionBox { sealed: SalsaBox::new(&PublicKey::from(*client), &self.secret) }
    }
}

/// A client's key pair (used by tests and benchmarks that play the
/// extension).
pub struct ClientKeyPair(HostKeyPair);

impl ClientKeyPair {
    /// Generates one.
    pub fn generate() -> ClientKeyPair {
        ClientKeyPair(HostKeyPair::generate())
    }

    /// The public half.
    pub fn public(&self) -> [u8; KEY_LEN] {
        self.0.public
    }

    /// The box shared with the host's public key.
    pub fn session(&self, host: &[u8; KEY_LEN]) -> SessionBox {
        self.0.session(host)
    }
}

/// One session's `crypto_box`.
pub struct SessionBox {
    sealed: SalsaBox,
}

/// A message failed authentication (wrong key, altered, or not a box).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CannotDecrypt;

impl SessionBox {
    /// Seals `plain` under `nonce` (the tag comes first, as `crypto_box_easy`).
    pub fn seal(&self, nonce: &Nonce, plain: &[u8]) -> Vec<u8> {
        self.sealed.encrypt(nonce.into(), plain).expect("XSalsa20-Poly1305 sealing cannot fail")
    }

    /// Opens a sealed message.
    pub fn open(&self, nonce: &Nonce, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CannotDecrypt> {
        self.sealed.decrypt(nonce.into(), sealed).map(Zeroizing::new).map_err(|_| CannotDecrypt)
    }
}

/// Why a request's nonce was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceRefused {
    /// The nonce, or the one the reply would use, was used before.
    Reused,
    /// The session has used [`MAX_NONCES`]; the extension must re-key.
    Exhausted,
}

/// Every nonce used in one session, both directions.
#[derive(Default)]
pub struct NonceLog {
    used: HashSet<Nonce>,
}

impl NonceLog {
    /// Accepts request nonce `n` if neither `n` nor `n + 1` was used, and
    /// records both; returns the reply's nonce `n + 1`.
    pub fn accept(&mut self, n: &Nonce) -> Result<Nonce, NonceRefused> {
        let reply = increment(n);
        if self.used.contains(n) || self.used.contains(&reply) {
            return Err(NonceRefused::Reused);
        }
        if self.used.len() + 2 > MAX_NONCES {
            return Err(NonceRefused::Exhausted);
        }
        self.used.insert(*n);
        self.used.insert(reply);
        Ok(reply)
    }
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increment_matches_sodium_increment() {
        let mut n = [0u8; NONCE_LEN];
        assert_eq!(increment(&n)[0], 1);
        n[0] = 0xff;
        n[1] = 0xff;
        let next = increment(&n);
        assert_eq!(&next[..3], &[0, 0, 1]);
        assert_eq!(increment(&[0xff; NONCE_LEN]), [0; NONCE_LEN]);
    }

    #[test]
    fn both_sides_open_what_the_other_sealed() {
        let host = HostKeyPair::generate();
        let client = ClientKeyPair::generate();
        let n = [7u8; NONCE_LEN];
        let sealed = client.session(&host.public()).seal(&n, b"hello");
        assert_eq!(sealed.len(), 5 + 16);
        assert_eq!(host.session(&client.public()).open(&n, &sealed).unwrap().as_slice(), b"hello");
        let other = ClientKeyPair::generate();
        assert_eq!(host.session(&other.public()).open(&n, &sealed), Err(CannotDecrypt));
    }

    #[test]
    fn a_nonce_is_used_once_in_either_direction() {
        let mut log = NonceLog::default();
        let n = [1u8; NONCE_LEN];
        let reply = log.accept(&n).unwrap();
        assert_eq!(reply, increment(&n));
        assert_eq!(log.accept(&n), Err(NonceRefused::Reused), "replayed request");
        assert_eq!(log.accept(&reply), Err(NonceRefused::Reused), "reflected reply");
        let mut below = n;
        below[0] -= 1;
        assert_eq!(log.accept(&below), Err(NonceRefused::Reused), "its reply would reuse n");
        assert!(log.accept(&[9u8; NONCE_LEN]).is_ok());
    }
}
