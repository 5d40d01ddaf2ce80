//! SSH keys as vault items: generating them, importing them from the files
//! people have (OpenSSH private keys, passphrase-protected or not; PEM
//! PKCS#1, PKCS#8 — encrypted too — and SEC1), and keeping them in an
//! `ssh-key` item.
//!
//! An item holds the private key in OpenSSH format, unencrypted (the vault
//! seals the item), in its protected field "Private key"; the
//! `authorized_keys` line, the SHA256 fingerprint and the comment in plain
//! fields beside it, so lists and views show them without touching the
//! private key. Supported: Ed25519, ECDSA P-256 and RSA (2048 bits and up).

use std::str::FromStr;

use ssh_key::private::{EcdsaKeypair, Ed25519Keypair, KeypairData, RsaKeypair};
use ssh_key::{Algorithm, EcdsaCurve, HashAlg, LineEnding, PrivateKey};
use tessera_core::item::{SSH_COMMENT, SSH_FINGERPRINT, SSH_PRIVATE_KEY, SSH_PUBLIC_KEY};
use tessera_core::{Item, ItemType};
use zeroize::Zeroizing;

/// Smallest RSA key accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// A key type `--generate` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// Ed25519 (the default everywhere it is accepted).
    Ed25519,
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// RSA, 3072 bits.
    Rsa3072,
}

impl KeyKind {
    /// Every kind, by its name.
    pub const ALL: [KeyKind; 3] = [KeyKind::Ed25519, KeyKind::EcdsaP256, KeyKind::Rsa3072];

    /// `ed25519`, `ecdsa-p256` or `rsa-3072`.
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Ed25519 => "ed25519",
            KeyKind::EcdsaP256 => "ecdsa-p256",
            KeyKind::Rsa3072 => "rsa-3072",
        }
    }
}

impl FromStr for KeyKind {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        KeyKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            KeyError::Unsupported(format!("no key type {s:?}: generate ed25519, ecdsa-p256 or rsa-3072"))
        })
    }
}

/// Why a key cannot be made, read or used. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A key type or format Tessera does not take.
    #[error("{0}")]
    Unsupported(String),
    /// Not a key file, or a damaged one.
    #[error("this is not a private key Tessera can read: {0}")]
    Malformed(String),
    /// The key is protected by a passphrase and none was given.
    #[error("the key is protected by a passphrase; give it")]
    NeedsPassphrase,
    /// The passphrase does not open the key.
    #[error("the passphrase does not open this key")]
    WrongPassphrase,
    /// The item is not an SSH key, or its key field is missing or damaged.
    #[error("item {0:?} holds no SSH private key")]
    NotAKey(String),
}

fn rng() -> rand_core::OsRng {
    rand_core::OsRng
}

/// A new key of `kind` with `comment`.
pub fn generate(kind: KeyKind, comment: &str) -> Result<PrivateKey, KeyError> {
    let algorithm = match kind {
        KeyKind::Ed25519 => Algorithm::Ed25519,
        KeyKind::EcdsaP256 => Algorithm::Ecdsa { curve: EcdsaCurve::NistP256 },
        KeyKind::Rsa3072 => {
            let rsa = rsa::RsaPrivateKey::new(&mut rng(), 3072).map_err(|e| KeyError::Unsupported(e.to_string()))?;
            let keypair = RsaKeypair::try_from(rsa).map_err(|e| KeyError::Unsupported(e.to_string()))?;
            return PrivateKey::new(KeypairData::from(keypair), comment)
                .map_err(|e| KeyError::Unsupported(e.to_string()));
        }
    };
    let mut key = PrivateKey::random(&mut rng(), algorithm).map_err(|e| KeyError::Unsupported(e.to_string()))?;
    key.set_comment(comment);
    Ok(key)
}

/// Reads a private key file. `passphrase` is asked only when the file is
/// protected by one.
pub fn import(bytes: &[u8], passphrase: &mut dyn FnMut() -> Option<Zeroizing<String>>) -> Result<PrivateKey, KeyError> {
    let text = std::str::from_utf8(bytes).map_err(|_| KeyError::Malformed("the file is not text (PEM)".into()))?;
    let key = if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
        let key = PrivateKey::from_openssh(text).map_err(|e| KeyError::Malformed(e.to_string()))?;
        if key.is_encrypted() {
            let pass = passphrase().ok_or(KeyError::NeedsPassphrase)?;
            key.decrypt(pass.as_bytes()).map_err(|_| KeyError::WrongPassphrase)?
        } else {
            key
        }
    } else if text.contains("-----BEGIN RSA PRIVATE KEY-----") {
        if text.contains("Proc-Type: 4,ENCRYPTED") {
            return Err(KeyError::Unsupported(
                "this is an old OpenSSL-encrypted PEM key; convert it first with `ssh-keygen -p -f FILE` \
                 (which rewrites it in OpenSSH format)"
                    .into(),
            ));
        }
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let rsa = rsa::RsaPrivateKey::from_pkcs1_pem(text).map_err(|e| KeyError::Malformed(e.to_string()))?;
        from_rsa(rsa)?
    } else if text.contains("-----BEGIN EC PRIVATE KEY-----") {
        let secret = p256::SecretKey::from_sec1_pem(text)
            .map_err(|_| KeyError::Unsupported("only P-256 EC keys are supported".into()))?;
        from_p256(secret)?
    } else if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let pass = passphrase().ok_or(KeyError::NeedsPassphrase)?;
        let (_, doc) = pkcs8::SecretDocument::from_pem(text).map_err(|e| KeyError::Malformed(e.to_string()))?;
        let info =
            pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes()).map_err(|e| KeyError::Malformed(e.to_string()))?;
        let der = info.decrypt(pass.as_bytes()).map_err(|_| KeyError::WrongPassphrase)?;
        from_pkcs8_der(der.as_bytes())?
    } else if text.contains("-----BEGIN PRIVATE KEY-----") {
        let (_, doc) = pkcs8::SecretDocument::from_pem(text).map_err(|e| KeyError::Malformed(e.to_string()))?;
        from_pkcs8_der(doc.as_bytes())?
    } else {
        return Err(KeyError::Malformed(
            "no OpenSSH, PKCS#1, PKCS#8 or SEC1 private key in it (a public key, or another file?)".into(),
        ));
    };
    check_supported(&key)?;
    Ok(key)
}

fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey, KeyError> {
    use pkcs8::DecodePrivateKey;
    if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
        let keypair = Ed25519Keypair::from(&k);
        return PrivateKey::new(KeypairData::from(keypair), "").map_err(|e| KeyError::Malformed(e.to_string()));
    }
    if let Ok(k) = p256::SecretKey::from_pkcs8_der(der) {
        return from_p256(k);
    }
    if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(der) {
        return from_rsa(k);
    }
    Err(KeyError::Unsupported("the PKCS#8 key is not Ed25519, ECDSA P-256 or RSA".into()))
}

fn from_rsa(key: rsa::RsaPrivateKey) -> Result<PrivateKey, KeyError> {
    let keypair = RsaKeypair::try_from(key).map_err(|e| KeyError::Malformed(e.to_string()))?;
    PrivateKey::new(KeypairData::from(keypair), "").map_err(|e| KeyError::Malformed(e.to_string()))
}

fn from_p256(secret: p256::SecretKey) -> Result<PrivateKey, KeyError> {
    let public = secret.public_key();
    let keypair = EcdsaKeypair::NistP256 { private: secret.into(), public: public.into() };
    PrivateKey::new(KeypairData::from(keypair), "").map_err(|e| KeyError::Malformed(e.to_string()))
}

/// Refuses keys the agent would not sign with: DSA, other curves, security
/// keys, short RSA.
fn check_supported(key: &PrivateKey) -> Result<(), KeyError> {
    match key.key_data() {
        KeypairData::Ed25519(_) => Ok(()),
        KeypairData::Ecdsa(EcdsaKeypair::NistP256 { .. }) => Ok(()),
        KeypairData::Rsa(rsa) => {
            let bits = rsa.public.n.as_positive_bytes().map_or(0, |b| b.len() * 8);
            if bits < MIN_RSA_BITS {
                Err(KeyError::Unsupported(format!("RSA keys under {MIN_RSA_BITS} bits are too weak ({bits} bits)")))
            } else {
                Ok(())
            }
        }
        other => Err(KeyError::Unsupported(format!(
            "{} keys are not supported: use Ed25519, ECDSA P-256 or RSA",
            other.algorithm().map(|a| a.to_string()).unwrap_or_else(|_| "these".into())
        ))),
    }
}

/// What an item shows of a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// The `authorized_keys` line (`ssh-ed25519 AAAA… comment`).
    pub public_line: String,
    /// `SHA256:…`, as `ssh-keygen -l` and `ssh-add -l` print it.
    pub fingerprint: String,
    /// The comment.
    pub comment: String,
}

/// A key's public parts.
pub fn info(key: &PrivateKey) -> Result<KeyInfo, KeyError> {
    let public = key.public_key();
    Ok(KeyInfo {
        public_line: public.to_openssh().map_err(|e| KeyError::Malformed(e.to_string()))?,
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
        comment: key.comment().to_owned(),
    })
}

/// One field of an `ssh-key` item: (name, value, protected).
pub type KeyField = (&'static str, Zeroizing<String>, bool);

/// The fields of an `ssh-key` item holding `key`: the private key
/// (OpenSSH format, protected), the public line, the fingerprint and the
/// comment.
pub fn fields(key: &PrivateKey) -> Result<[KeyField; 4], KeyError> {
    let private = key.to_openssh(LineEnding::LF).map_err(|e| KeyError::Malformed(e.to_string()))?;
    let info = info(key)?;
    Ok([
        (SSH_PRIVATE_KEY, private, true),
        (SSH_PUBLIC_KEY, Zeroizing::new(info.public_line), false),
        (SSH_FINGERPRINT, Zeroizing::new(info.fingerprint), false),
        (SSH_COMMENT, Zeroizing::new(info.comment), false),
    ])
}

/// Makes `item` the SSH key `key`: its type and [`fields`] (replacing
/// fields of the same names, such as an editor template's empty ones).
pub fn store(item: &mut Item, key: &PrivateKey) -> Result<(), KeyError> {
    item.item_type = ItemType::SshKey;
    for (name, value, protected) in fields(key)? {
        item.set_field(name, &value, protected);
    }
    Ok(())
}

/// The private key of an `ssh-key` item.
pub fn private_key(item: &Item) -> Result<PrivateKey, KeyError> {
    let not_a_key = || KeyError::NotAKey(item.title.clone());
    if item.item_type != ItemType::SshKey {
        return Err(not_a_key());
    }
    let field = item.field(SSH_PRIVATE_KEY).filter(|f| !f.value.trim().is_empty()).ok_or_else(not_a_key)?;
    let key = PrivateKey::from_openssh(field.value.as_bytes()).map_err(|_| not_a_key())?;
    if key.is_encrypted() {
        return Err(KeyError::NeedsPassphrase);
    }
    check_supported(&key)?;
    Ok(key)
}

/// The `authorized_keys` line of an `ssh-key` item, from its private key
/// (so it always matches what the agent signs with), with the item's
/// comment.
pub fn public_line(item: &Item) -> Result<String, KeyError> {
    let mut key = private_key(item)?.public_key().clone();
    if let Some(comment) = item.field(SSH_COMMENT).map(|f| f.value.trim()).filter(|c| !c.is_empty()) {
        key.set_comment(comment);
    }
    key.to_openssh().map_err(|e| KeyError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_passphrase() -> Option<Zeroizing<String>> {
        None
    }

    #[test]
    fn generated_keys_round_trip_through_an_item() {
        for kind in KeyKind::ALL {
            let key = generate(kind, "me@host").unwrap();
            let mut item = Item::new(ItemType::SshKey, "Key");
            store(&mut item, &key).unwrap();
            let back = private_key(&item).unwrap();
            assert_eq!(back.public_key(), key.public_key(), "{kind:?}");
            let line = public_line(&item).unwrap();
            assert!(line.ends_with(" me@host"), "{line}");
            assert!(item.field(SSH_FINGERPRINT).unwrap().value.starts_with("SHA256:"));
            assert!(item.field(SSH_PRIVATE_KEY).unwrap().protected);
            assert_eq!(item.fields.len(), 4);
            let again = import(item.field(SSH_PRIVATE_KEY).unwrap().value.as_bytes(), &mut no_passphrase).unwrap();
            assert_eq!(again.public_key().key_data(), key.public_key().key_data());
        }
    }

    #[test]
    fn passphrase_protected_keys_need_the_right_passphrase() {
        let key = generate(KeyKind::Ed25519, "c").unwrap();
        let locked = key.encrypt(&mut rng(), "open sesame").unwrap();
        let pem = locked.to_openssh(LineEnding::LF).unwrap();
        assert_eq!(import(pem.as_bytes(), &mut no_passphrase).unwrap_err(), KeyError::NeedsPassphrase);
        let wrong = import(pem.as_bytes(), &mut || Some(Zeroizing::new("nope".to_owned())));
        assert_eq!(wrong.unwrap_err(), KeyError::WrongPassphrase);
        let opened = import(pem.as_bytes(), &mut || Some(Zeroizing::new("open sesame".to_owned()))).unwrap();
        assert_eq!(opened.public_key(), key.public_key());
    }

    #[test]
    fn pem_pkcs1_pkcs8_and_sec1_keys_are_read() {
        use pkcs8::EncodePrivateKey;
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let rsa = rsa::RsaPrivateKey::new(&mut rng(), 2048).unwrap();
        let pkcs1 = rsa.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        assert!(matches!(import(pkcs1.as_bytes(), &mut no_passphrase).unwrap().key_data(), KeypairData::Rsa(_)));
        let p256 = p256::SecretKey::random(&mut rng());
        let sec1 = p256.to_sec1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        assert!(matches!(import(sec1.as_bytes(), &mut no_passphrase).unwrap().key_data(), KeypairData::Ecdsa(_)));
        let ed = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let pkcs8 = ed.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        assert!(matches!(import(pkcs8.as_bytes(), &mut no_passphrase).unwrap().key_data(), KeypairData::Ed25519(_)));
        let encrypted = p256.to_pkcs8_encrypted_pem(&mut rng(), "pw", rsa::pkcs8::LineEnding::LF).unwrap();
        assert_eq!(import(encrypted.as_bytes(), &mut no_passphrase).unwrap_err(), KeyError::NeedsPassphrase);
        let opened = import(encrypted.as_bytes(), &mut || Some(Zeroizing::new("pw".to_owned()))).unwrap();
        assert!(matches!(opened.key_data(), KeypairData::Ecdsa(_)));
    }

    #[test]
    fn weak_and_foreign_files_are_refused_clearly() {
        let rsa = rsa::RsaPrivateKey::new(&mut rng(), 1024).unwrap();
        let pem = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_pem(&rsa, rsa::pkcs8::LineEnding::LF).unwrap();
        assert!(matches!(import(pem.as_bytes(), &mut no_passphrase), Err(KeyError::Unsupported(_))));
        let public = generate(KeyKind::Ed25519, "x").unwrap().public_key().to_openssh().unwrap();
        assert!(matches!(import(public.as_bytes(), &mut no_passphrase), Err(KeyError::Malformed(_))));
        assert!(matches!(import(b"\xff\xfe", &mut no_passphrase), Err(KeyError::Malformed(_))));
        let note = Item::new(ItemType::Note, "n");
        assert_eq!(private_key(&note).unwrap_err(), KeyError::NotAKey("n".into()));
    }
}
