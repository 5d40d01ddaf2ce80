//! AES-256-GCM with a random 96-bit nonce.
//!
//! A sealed blob is `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`. Random
//! nonces are safe here: a vault seals far fewer than the 2^32 messages per
//! key that NIST SP 800-38D allows for random 96-bit nonces, and data keys
//! can be rotated.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use zeroize::Zeroizing;

use super::random::random_array;

pub(crate) const NONCE_LEN: usize = 12;
pub(crate) const TAG_LEN: usize = 16;
/// Bytes a sealed blob adds to its plaintext.
pub(crate) const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// The blob failed authentication: wrong key, wrong AAD, or altered bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AeadFailure;

/// An AES-256-GCM key with its expanded key schedule, reused across many
/// blobs (decrypting 100,000 items should not expand the key 100,000 times).
pub(crate) struct Cipher(Aes256Gcm);

impl Cipher {
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        // The `zeroize` feature of aes-gcm wipes the key schedule on drop.
        Self(Aes256Gcm::new(key.into()))
    }

    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = random_array();
        let ct = self
            .0
            .encrypt((&nonce).into(), Payload { msg: plaintext, aad })
            .expect("AES-GCM encryption fails only for inputs over 64 GiB");
        let mut blob = Vec::with_capacity(NONCE_LEN + ct.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ct);
        blob
    }

    pub(crate) fn open(&self, aad: &[u8], blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, AeadFailure> {
        if blob.len() < OVERHEAD {
            return Err(AeadFailure);
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        let nonce: &[u8; NONCE_LEN] = nonce.try_into().map_err(|_| AeadFailure)?;
        self.0.decrypt(nonce.into(), Payload { msg: ct, aad }).map(Zeroizing::new).map_err(|_| AeadFailure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_blob_opens_with_same_key_and_aad_only() {
        let c = Cipher::new(&[1; 32]);
        let blob = c.seal(b"aad", b"secret");
        assert_eq!(blob.len(), 6 + OVERHEAD);
        assert_eq!(&c.open(b"aad", &blob).unwrap()[..], b"secret");
        assert_eq!(c.open(b"aaD", &blob), Err(AeadFailure));
        assert_eq!(Cipher::new(&[2; 32]).open(b"aad", &blob), Err(AeadFailure));
        for i in 0..blob.len() {
            let mut t = blob.clone();
            t[i] ^= 0x01;
            assert_eq!(c.open(b"aad", &t), Err(AeadFailure), "flip at byte {i}");
        }
        assert_eq!(c.open(b"aad", &blob[..OVERHEAD - 1]), Err(AeadFailure));
    }

    #[test]
    fn nonces_are_fresh_per_seal() {
        let c = Cipher::new(&[1; 32]);
        assert_ne!(c.seal(b"", b"x")[..NONCE_LEN], c.seal(b"", b"x")[..NONCE_LEN]);
    }

    #[test]
    fn matches_nist_gcm_vector() {
        // NIST GCM test vectors (gcmEncryptExtIV256.rsp), Count = 0 with a
        // 128-bit plaintext: Key=0x00…, IV=0x00…, PT=0x00…(16).
        let c = Cipher::new(&[0; 32]);
        let mut blob = vec![0u8; NONCE_LEN];
        let ct = c.0.encrypt((&[0u8; 12]).into(), Payload { msg: &[0u8; 16], aad: b"" }).unwrap();
        assert_eq!(
            data_encoding::HEXLOWER.encode(&ct),
            "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"
        );
        blob.extend_from_slice(&ct);
        assert_eq!(&c.open(b"", &blob).unwrap()[..], &[0u8; 16]);
    }
}
