//! Sharing's keys (DESIGN §11): an account's identity (Ed25519 to sign,
//! X25519 to receive share keys), its fingerprint, share keys and their
//! epochs, the HPKE grant that gives a share key to one member, and the
//! sealing of a shared item's record.
//!
//! Nothing here talks to a server or decides who may do what: the
//! membership chain that decides it lives with the sync protocol and uses
//! these primitives. Every secret is held in a zeroizing type.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::format::Aad;
use crate::ids::ItemId;
use crate::keys::KEY_LEN;
use crate::primitives::aead::Cipher;
use crate::primitives::hash::{HmacKey, hkdf_sha256, hmac_sha256};
use crate::vault::NotAuthentic;

type Kem = X25519HkdfSha256;

const SHARE_SALT: &[u8] = b"tessera/v1/share";

/// An account's private identity: the signing key and the key share keys
/// are sent to.
pub struct Identity {
    sign: SigningKey,
    enc: <Kem as hpke::Kem>::PrivateKey,
}

/// Length of [`Identity::secret_bytes`].
pub const IDENTITY_SECRET_LEN: usize = 64;

/// The public half of an identity, as published and as pinned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicIdentity {
    /// The account's email (part of what the fingerprint covers).
    pub email: String,
    /// Ed25519 verifying key.
    pub sign: [u8; 32],
    /// X25519 public key.
    pub enc: [u8; 32],
}

/// A malformed key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed key")]
pub struct BadKey;

/// A random-number source for HPKE's ephemeral keys, straight from the OS.
struct OsRandom;

impl hpke::rand_core::RngCore for OsRandom {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        getrandom::fill(dest).expect("the operating system's random source failed");
    }
}

impl hpke::rand_core::CryptoRng for OsRandom {}

fn random32() -> Zeroizing<[u8; 32]> {
    let mut b = Zeroizing::new([0u8; 32]);
    getrandom::fill(b.as_mut()).expect("the operating system's random source failed");
    b
}

impl Identity {
    /// A new random identity.
    pub fn generate() -> Identity {
        let seed = random32();
        let (enc, _) = Kem::derive_keypair(random32().as_ref());
        Identity { sign: SigningKey::from_bytes(&seed), enc }
    }

    /// The private keys, for sealing: Ed25519 seed ‖ X25519 secret.
    pub fn secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(IDENTITY_SECRET_LEN));
        out.extend_from_slice(self.sign.as_bytes());
        let mut enc = self.enc.to_bytes();
        out.extend_from_slice(&enc);
        zeroize::Zeroize::zeroize(enc.as_mut_slice());
        out
    }

    /// The identity from [`Identity::secret_bytes`].
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Identity, BadKey> {
        if bytes.len() != IDENTITY_SECRET_LEN {
            return Err(BadKey);
        }
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(bytes[..32].try_into().map_err(|_| BadKey)?);
        let enc = <Kem as hpke::Kem>::PrivateKey::from_bytes(&bytes[32..]).map_err(|_| BadKey)?;
        Ok(Identity { sign: SigningKey::from_bytes(&seed), enc })
    }

    /// The public half, for `email`.
    pub fn public(&self, email: &str) -> PublicIdentity {
        let enc = Kem::sk_to_pk(&self.enc).to_bytes();
        PublicIdentity {
            email: email.to_string(),
            sign: self.sign.verifying_key().to_bytes(),
            enc: enc.as_slice().try_into().expect("an X25519 public key has 32 bytes"),
        }
    }

    /// An Ed25519 signature over `context ‖ 0 ‖ message`.
    pub fn sign(&self, context: &str, message: &[u8]) -> [u8; 64] {
        self.sign.sign(&signed_bytes(context, message)).to_bytes()
    }

    /// Opens a share key granted to this identity as `email` for `share` at
    /// `epoch` (see [`PublicIdentity::grant`]). Fails for a grant made for
    /// another member, share or epoch, or altered.
    pub fn open_grant(
        &self,
        share: &[u8; 16],
        epoch: u64,
        email: &str,
        grant: &[u8],
    ) -> Result<ShareKey, NotAuthentic> {
        const ENC_LEN: usize = 32;
        if grant.len() < ENC_LEN {
            return Err(NotAuthentic);
        }
        let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(&grant[..ENC_LEN]).map_err(|_| NotAuthentic)?;
        let plain = Zeroizing::new(
            hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
                &OpModeR::Base,
                &self.enc,
                &encapped,
                &grant_info(share, epoch, email),
                &grant[ENC_LEN..],
                b"",
            )
            .map_err(|_| NotAuthentic)?,
        );
        let key: [u8; KEY_LEN] = plain.as_slice().try_into().map_err(|_| NotAuthentic)?;
        Ok(ShareKey(Zeroizing::new(key)))
    }
}

fn signed_bytes(context: &str, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(context.len() + 1 + message.len());
    out.extend_from_slice(context.as_bytes());
    out.push(0);
    out.extend_from_slice(message);
    out
}

fn grant_info(share: &[u8; 16], epoch: u64, email: &str) -> Vec<u8> {
    let mut info = b"tessera/v1/share-key\0".to_vec();
    info.extend_from_slice(share);
    info.extend_from_slice(&epoch.to_be_bytes());
    info.extend_from_slice(email.as_bytes());
    info
}

impl PublicIdentity {
    /// The fingerprint people compare: SHA-512 over the email and both
    /// keys, as 8 groups of 5 digits (each group 5 bytes mod 10⁵).
    pub fn fingerprint(&self) -> String {
        let mut h = Sha512::new();
        h.update(b"tessera/v1/fingerprint\0");
        h.update((self.email.len() as u32).to_be_bytes());
        h.update(self.email.as_bytes());
        h.update(self.sign);
        h.update(self.enc);
        let digest = h.finalize();
        digest
            .chunks(5)
            .take(8)
            .map(|c| {
                let n = c.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
                format!("{:05}", n % 100_000)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether `signature` is this identity's over `context ‖ 0 ‖ message`
    /// (strict verification: no malleable or small-order forms).
    pub fn verify(&self, context: &str, message: &[u8], signature: &[u8]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.sign) else { return false };
        let Ok(sig) = Signature::from_slice(signature) else { return false };
        key.verify_strict(&signed_bytes(context, message), &sig).is_ok()
    }

    /// `key` sealed to this identity with HPKE (RFC 9180, base mode,
    /// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305), the info
    /// binding share, epoch and this member's email: encapsulated key ‖
    /// ciphertext.
    pub fn grant(&self, share: &[u8; 16], epoch: u64, key: &ShareKey) -> Result<Vec<u8>, BadKey> {
        let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(&self.enc).map_err(|_| BadKey)?;
        let (encapped, ct) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem, _>(
            &OpModeS::Base,
            &pk,
            &grant_info(share, epoch, &self.email),
            key.0.as_ref(),
            b"",
            &mut OsRandom,
        )
        .map_err(|_| BadKey)?;
        let mut out = encapped.to_bytes().to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }
}

/// One epoch's share key.
pub struct ShareKey(Zeroizing<[u8; KEY_LEN]>);

impl ShareKey {
    /// A new random share key.
    pub fn generate() -> ShareKey {
        ShareKey(random32())
    }

    /// A share key from its bytes (the sync state keeps them sealed).
    pub fn from_bytes(bytes: &[u8]) -> Result<ShareKey, BadKey> {
        let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| BadKey)?;
        Ok(ShareKey(Zeroizing::new(key)))
    }

    /// The raw key, for the sealed sync state only.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The commitment the membership chain carries for this key:
    /// HMAC-SHA256(key, "tessera/v1/share-commit" ‖ share ‖ epoch). It
    /// reveals nothing of the key and lets a member refuse any other key.
    pub fn commitment(&self, share: &[u8; 16], epoch: u64) -> [u8; 32] {
        hmac_sha256(&self.0, &[b"tessera/v1/share-commit\0", share, &epoch.to_be_bytes()])
    }

    /// The share's name sealed for the record that starts `epoch` (padded,
    /// so its length says nothing): the server never reads a share's name.
    pub fn seal_name(&self, share: &[u8; 16], epoch: u64, name: &str) -> Vec<u8> {
        let cipher = Cipher::new(&hkdf_sha256(SHARE_SALT, self.0.as_ref(), b"tessera/v1/share-name"));
        crate::padding::seal_padded(&cipher, &Aad::ShareName { share, epoch }, name.as_bytes())
    }

    /// Opens what [`ShareKey::seal_name`] sealed.
    pub fn open_name(&self, share: &[u8; 16], epoch: u64, blob: &[u8]) -> Result<String, NotAuthentic> {
        let cipher = Cipher::new(&hkdf_sha256(SHARE_SALT, self.0.as_ref(), b"tessera/v1/share-name"));
        let plain = crate::padding::open_padded_strict(&cipher, &Aad::ShareName { share, epoch }, blob)
            .map_err(|_| NotAuthentic)?;
        String::from_utf8(plain.to_vec()).map_err(|_| NotAuthentic)
    }

    /// The keys for this share's records and manifest at `epoch`.
    pub fn records(&self, share: [u8; 16], epoch: u64) -> ShareRecords {
        let derive = |info: &str| hkdf_sha256(SHARE_SALT, self.0.as_ref(), info.as_bytes());
        ShareRecords {
            record: Cipher::new(&derive("tessera/v1/share-record")),
            manifest: HmacKey::new(&derive("tessera/v1/share-manifest")),
            share,
            epoch,
        }
    }
}

/// A share's record and manifest keys at one epoch.
pub struct ShareRecords {
    record: Cipher,
    manifest: HmacKey,
    share: [u8; 16],
    epoch: u64,
}

impl ShareRecords {
    /// The epoch these keys belong to.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Seals an item's record for this share at server revision `revision`
    /// (padded, like every record).
    pub fn seal_record(&self, item: &ItemId, revision: u64, deleted: bool, plaintext: &[u8]) -> Vec<u8> {
        let aad = Aad::ShareRecord { share: &self.share, item, revision, deleted, epoch: self.epoch };
        crate::padding::seal_padded(&self.record, &aad, plaintext)
    }

    /// Opens a record: fails if it was sealed in another share, for another
    /// item, revision, tombstone state or epoch, or was altered.
    pub fn open_record(
        &self,
        item: &ItemId,
        revision: u64,
        deleted: bool,
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, NotAuthentic> {
        let aad = Aad::ShareRecord { share: &self.share, item, revision, deleted, epoch: self.epoch };
        crate::padding::open_padded_strict(&self.record, &aad, blob).map_err(|_| NotAuthentic)
    }

    /// One manifest entry's contribution to the share's multiset sum.
    pub fn manifest_entry(&self, item: &ItemId, revision: u64) -> [u8; 32] {
        self.manifest.mac(&[b"entry\0", item.as_bytes(), &revision.to_be_bytes()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARE: [u8; 16] = [7; 16];

    #[test]
    fn an_identity_survives_its_secret_bytes() {
        let id = Identity::generate();
        let again = Identity::from_secret_bytes(&id.secret_bytes()).unwrap();
        assert_eq!(id.public("a@example.com"), again.public("a@example.com"));
        assert!(Identity::from_secret_bytes(&[0; 10]).is_err());
    }

    #[test]
    fn fingerprints_are_eight_groups_of_five_digits_and_cover_the_email() {
        let id = Identity::generate();
        let f = id.public("a@example.com").fingerprint();
        assert_eq!(f.len(), 8 * 5 + 7);
        assert!(f.split(' ').all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit())));
        assert_ne!(f, id.public("b@example.com").fingerprint());
        assert_ne!(f, Identity::generate().public("a@example.com").fingerprint());
    }

    #[test]
    fn signatures_bind_context_and_message() {
        let id = Identity::generate();
        let public = id.public("a@example.com");
        let sig = id.sign("tessera/test", b"hello");
        assert!(public.verify("tessera/test", b"hello", &sig));
        assert!(!public.verify("tessera/other", b"hello", &sig));
        assert!(!public.verify("tessera/test", b"hellO", &sig));
        assert!(!Identity::generate().public("a@example.com").verify("tessera/test", b"hello", &sig));
    }

    #[test]
    fn a_grant_opens_only_for_its_member_share_and_epoch() {
        let bob = Identity::generate();
        let key = ShareKey::generate();
        let grant = bob.public("bob@example.com").grant(&SHARE, 3, &key).unwrap();
        let opened = bob.open_grant(&SHARE, 3, "bob@example.com", &grant).unwrap();
        assert_eq!(opened.expose(), key.expose());
        assert!(bob.open_grant(&SHARE, 4, "bob@example.com", &grant).is_err());
        assert!(bob.open_grant(&[8; 16], 3, "bob@example.com", &grant).is_err());
        assert!(bob.open_grant(&SHARE, 3, "carol@example.com", &grant).is_err());
        assert!(Identity::generate().open_grant(&SHARE, 3, "bob@example.com", &grant).is_err());
        let mut bent = grant.clone();
        *bent.last_mut().unwrap() ^= 1;
        assert!(bob.open_grant(&SHARE, 3, "bob@example.com", &bent).is_err());
    }

    #[test]
    fn records_open_only_in_their_share_epoch_and_revision() {
        let key = ShareKey::generate();
        let item = ItemId::random();
        let blob = key.records(SHARE, 2).seal_record(&item, 5, false, b"secret");
        assert_eq!(&**key.records(SHARE, 2).open_record(&item, 5, false, &blob).unwrap(), b"secret");
        assert!(key.records([9; 16], 2).open_record(&item, 5, false, &blob).is_err());
        assert!(key.records(SHARE, 3).open_record(&item, 5, false, &blob).is_err());
        assert!(key.records(SHARE, 2).open_record(&item, 4, false, &blob).is_err());
        assert!(key.records(SHARE, 2).open_record(&item, 5, true, &blob).is_err());
        assert!(ShareKey::generate().records(SHARE, 2).open_record(&item, 5, false, &blob).is_err());
        // Padded like every record: a short secret still fills a bucket.
        assert!(blob.len() >= 256);
    }

    #[test]
    fn a_name_opens_only_for_its_share_and_epoch() {
        let key = ShareKey::generate();
        let blob = key.seal_name(&SHARE, 2, "Family");
        assert_eq!(key.open_name(&SHARE, 2, &blob).unwrap(), "Family");
        assert!(key.open_name(&SHARE, 3, &blob).is_err());
        assert!(key.open_name(&[1; 16], 2, &blob).is_err());
        assert_eq!(blob.len(), key.seal_name(&SHARE, 2, "A much longer name for a share").len());
    }

    #[test]
    fn commitments_differ_per_key_share_and_epoch() {
        let key = ShareKey::generate();
        let c = key.commitment(&SHARE, 1);
        assert_eq!(c, ShareKey::from_bytes(key.expose()).unwrap().commitment(&SHARE, 1));
        assert_ne!(c, key.commitment(&SHARE, 2));
        assert_ne!(c, key.commitment(&[1; 16], 1));
        assert_ne!(c, ShareKey::generate().commitment(&SHARE, 1));
    }
}
