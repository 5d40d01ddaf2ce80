//! The YubiKey factor: ECDH with a P-256 key in PIV slot 9d.
//!
//! Enrolling uses the key already in slot 9d (read from the key's
//! metadata) or generates one on the key (which needs the default PIV
//! management key), makes an ephemeral P-256 key pair on the host, and
//! stores the ephemeral public key, the card's public key and the key's
//! serial in the slot. The factor secret is HKDF-SHA256 over the ECDH
//! result. Unlocking asks the card for that ECDH result (GENERAL
//! AUTHENTICATE, after the PIN): the card's private key never leaves it,
//! and the ephemeral private key was discarded at enrolment, so nothing
//! stored anywhere recomputes the secret without the card and its PIN.
//!
//! PC/SC calls wait for pcscd without a limit, so each step is bounded
//! ([`crate::deadline`]): opening the key and checking the PIN 10 s, the
//! key agreement, which may wait for a touch, 25 s. The workers get the
//! PIN as a zeroizing copy.

use p256::ecdh::EphemeralSecret;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde::{Deserialize, Serialize};
use yubikey::piv::{self, AlgorithmId, SlotId};
use yubikey::{MgmKey, PinPolicy, Serial, TouchPolicy, YubiKey};
use zeroize::Zeroizing;

use crate::deadline::{self, PCSC, YUBIKEY_TOUCH};
use crate::error::UnlockError;
use crate::factor::{Factor, FactorSecret};

#[derive(Serialize, Deserialize)]
struct YubiKeyParams {
    kind: String,
    /// The key's serial number, to name the key a slot needs.
    serial: u32,
    /// The card's slot-9d public key (SEC1 uncompressed), hex.
    card_public: String,
    /// The host's ephemeral public key (SEC1 uncompressed), hex.
    ephemeral: String,
}

/// The YubiKey PIV factor: which key (by serial, or the only one present)
/// and the PIN the user gives.
pub struct YubiKeyFactor<'a> {
    serial: Option<u32>,
    pin: &'a [u8],
    touch: bool,
}

impl std::fmt::Debug for YubiKeyFactor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YubiKeyFactor").field("serial", &self.serial).field("pin", &"<redacted>").finish()
    }
}

fn unavailable(reason: impl Into<String>) -> UnlockError {
    UnlockError::FactorUnavailable { kind: YubiKeyFactor::KIND, reason: reason.into() }
}

impl<'a> YubiKeyFactor<'a> {
    /// The factor kind in slot parameters.
    pub const KIND: &'static str = "yubikey";

    /// A YubiKey factor for the key with `serial` (any key when `None`) and
    /// `pin`. `touch` asks for a touch policy when a key is generated.
    pub fn new(serial: Option<u32>, pin: &'a [u8], touch: bool) -> Self {
        YubiKeyFactor { serial, pin, touch }
    }

    /// A copy of the PIN for a worker thread, in zeroizing memory.
    fn pin(&self) -> Result<Zeroizing<Vec<u8>>, UnlockError> {
        if self.pin.is_empty() {
            return Err(unavailable("the PIN is empty"));
        }
        Ok(Zeroizing::new(self.pin.to_vec()))
    }
}

fn open(serial: Option<u32>) -> Result<YubiKey, UnlockError> {
    let opened = match serial {
        Some(n) => YubiKey::open_by_serial(Serial(n)),
        None => YubiKey::open(),
    };
    opened.map_err(|e| match (serial, e) {
        (Some(n), yubikey::Error::NotFound) => {
            unavailable(format!("this slot needs YubiKey serial {n}, and it is not inserted"))
        }
        (_, yubikey::Error::NotFound) => unavailable("no YubiKey found: insert it (and check that pcscd runs)"),
        (_, e) => unavailable(format!("cannot talk to the YubiKey ({e}); is pcscd running?")),
    })
}

fn verify_pin(yk: &mut YubiKey, pin: &[u8]) -> Result<(), UnlockError> {
    yk.verify_pin(pin).map_err(|e| match e {
        yubikey::Error::WrongPin { tries: 0 } | yubikey::Error::PinLocked => unavailable(
            "the YubiKey's PIN is blocked after too many wrong tries: unblock it with the PUK \
             (`ykman piv access unblock-pin`)",
        ),
        yubikey::Error::WrongPin { tries } => {
            UnlockError::WrongPin { device: "YubiKey", tries_left: Some(u32::from(tries)) }
        }
        other => unavailable(format!("the YubiKey refused the PIN ({other})")),
    })
}

/// The card's slot-9d P-256 public key: the existing one, else a new one
/// generated on the card (with a touch policy when `touch`).
fn card_public_key(yk: &mut YubiKey, touch: bool) -> Result<p256::PublicKey, UnlockError> {
    if let Ok(metadata) = piv::metadata(yk, SlotId::KeyManagement) {
        if let Some(public) = metadata.public {
            return p256::PublicKey::from_sec1_bytes(public.subject_public_key.raw_bytes())
                .map_err(|_| unavailable("the key in PIV slot 9d is not a P-256 key: Tessera needs ECC P-256 there"));
        }
    }
    yk.authenticate(MgmKey::default()).map_err(|_| {
        unavailable(
            "slot 9d has no key and the PIV management key is not the default, so Tessera cannot make one: \
             generate it with `ykman piv keys generate -a ECCP256 9d -` and try again",
        )
    })?;
    let touch = if touch { TouchPolicy::Cached } else { TouchPolicy::Never };
    let spki = piv::generate(yk, SlotId::KeyManagement, AlgorithmId::EccP256, PinPolicy::Once, touch)
        .map_err(|e| unavailable(format!("the YubiKey could not generate a key in slot 9d ({e})")))?;
    p256::PublicKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
        .map_err(|_| unavailable("the YubiKey returned a malformed public key"))
}

/// Opens the key and checks the PIN, within the PC/SC bound.
fn open_with_pin(serial: Option<u32>, pin: Zeroizing<Vec<u8>>) -> Result<YubiKey, UnlockError> {
    deadline::bounded(&PCSC, move || {
        let mut yk = open(serial)?;
        verify_pin(&mut yk, &pin)?;
        Ok(yk)
    })
}

/// The card's ECDH with `ephemeral` (GENERAL AUTHENTICATE), within the
/// touch bound: a key with a touch policy waits for the user here.
fn key_agreement(mut yk: YubiKey, ephemeral: &[u8]) -> Result<Zeroizing<Vec<u8>>, UnlockError> {
    let ephemeral = ephemeral.to_vec();
    deadline::bounded(&YUBIKEY_TOUCH, move || {
        piv::decrypt_data(&mut yk, &ephemeral, AlgorithmId::EccP256, SlotId::KeyManagement)
            .map(|shared| Zeroizing::new(shared.to_vec()))
            .map_err(|e| unavailable(format!("the YubiKey refused the key agreement ({e})")))
    })
}

/// HKDF-SHA256 over the ECDH result, bound to both public keys.
fn secret_from(shared: &[u8], ephemeral: &[u8], card: &[u8]) -> FactorSecret {
    let mut salt = Vec::with_capacity(ephemeral.len() + card.len());
    salt.extend_from_slice(ephemeral);
    salt.extend_from_slice(card);
    let mut okm = Zeroizing::new([0u8; 32]);
    hkdf::Hkdf::<sha2::Sha256>::new(Some(&salt), shared)
        .expand(b"tessera/v1/yubikey-piv-ecdh", okm.as_mut())
        .expect("32 bytes is within HKDF-SHA256's output limit");
    FactorSecret(okm)
}

impl Factor for YubiKeyFactor<'_> {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn enroll(&self) -> Result<(serde_json::Value, FactorSecret), UnlockError> {
        let (serial, touch, pin) = (self.serial, self.touch, self.pin()?);
        // Checking the PIN now, rather than at the first unlock, and asking
        // the card for the key agreement too, which proves card and host agree.
        let (yk, card, serial) = deadline::bounded(&PCSC, move || {
            let mut yk = open(serial)?;
            let card = card_public_key(&mut yk, touch)?;
            verify_pin(&mut yk, &pin)?;
            let serial = yk.serial().0;
            Ok((yk, card, serial))
        })?;
        let card_bytes = card.to_encoded_point(false).as_bytes().to_vec();
        let ephemeral = EphemeralSecret::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let ephemeral_public = ephemeral.public_key().to_encoded_point(false).as_bytes().to_vec();
        let shared = ephemeral.diffie_hellman(&card);
        let from_card = key_agreement(yk, &ephemeral_public)?;
        if from_card.as_slice() != shared.raw_secret_bytes().as_slice() {
            return Err(unavailable("the YubiKey's key agreement does not match its public key"));
        }
        let secret = secret_from(shared.raw_secret_bytes(), &ephemeral_public, &card_bytes);
        let params = YubiKeyParams {
            kind: Self::KIND.into(),
            serial,
            card_public: data_encoding::HEXLOWER.encode(&card_bytes),
            ephemeral: data_encoding::HEXLOWER.encode(&ephemeral_public),
        };
        Ok((serde_json::to_value(params).expect("params serialise"), secret))
    }

    fn derive(&self, params: &serde_json::Value) -> Result<FactorSecret, UnlockError> {
        let bad = |what: &str| UnlockError::BadParams(format!("the YubiKey slot's {what} is malformed"));
        let params: YubiKeyParams = serde_json::from_value(params.clone()).map_err(|_| bad("parameters"))?;
        let card = data_encoding::HEXLOWER.decode(params.card_public.as_bytes()).map_err(|_| bad("public key"))?;
        let ephemeral = data_encoding::HEXLOWER.decode(params.ephemeral.as_bytes()).map_err(|_| bad("public key"))?;
        if ephemeral.len() != 65 || card.len() != 65 {
            return Err(bad("public key"));
        }
        if self.serial.is_some_and(|s| s != params.serial) {
            return Err(unavailable(format!("this slot needs YubiKey serial {}", params.serial)));
        }
        let yk = open_with_pin(Some(params.serial), self.pin()?)?;
        let shared = key_agreement(yk, &ephemeral)?;
        Ok(secret_from(&shared, &ephemeral, &card))
    }
}
