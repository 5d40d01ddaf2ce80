//! `tessera-piv-sim`: a PIV card for Tessera's YubiKey tests.
//!
//! It connects to vsmartcard's virtual reader driver (`vpcd`, loaded by
//! pcscd) as the card in that reader and answers the APDUs a YubiKey 5's
//! PIV applet answers for what Tessera does: SELECT, GET VERSION, GET
//! SERIAL, VERIFY (PIN, with a retry counter and blocking), the 3DES
//! management-key mutual authentication, GENERATE ASYMMETRIC KEY (P-256)
//! and GENERAL AUTHENTICATE for ECDH, and GET METADATA for slot 9d. Keys
//! are real P-256 keys; the host side is the production code path
//! (`yubikey` crate → PC/SC → pcscd → vpcd), only the card is simulated.
//!
//! vpcd protocol: the card program connects to 127.0.0.1:35963 (reader 0)
//! and exchanges frames of a 2-byte big-endian length and a payload; a
//! 1-byte payload is a control message (0 power off, 1 power on, 2 reset,
//! 4 ask for the ATR), anything longer an APDU to answer.
//!
//! ```text
//! tessera-piv-sim [--vpcd HOST:PORT] [--serial N] [--pin PIN] [--touch]
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;

use des::TdesEde3;
use des::cipher::{BlockEncrypt, KeyInit};
use p256::ecdh::diffie_hellman;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand_core::{OsRng, RngCore};

/// A YubiKey 5's ATR, so tools that look at it see a YubiKey.
const ATR: &[u8] = &[
    0x3b, 0xfd, 0x13, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x15, 0x80, 0x73, 0xc0, 0x21, 0xc0, 0x57, 0x59, 0x75, 0x62, 0x69,
    0x4b, 0x65, 0x79, 0x40,
];
const PIV_AID: &[u8] = &[0xa0, 0x00, 0x00, 0x03, 0x08];
/// The default PIV management key (3DES), as on a new YubiKey.
const DEFAULT_MGM_KEY: [u8; 24] = [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8];
const PIN_TRIES: u8 = 3;
const SLOT_KEY_MANAGEMENT: u8 = 0x9d;
const ALG_3DES: u8 = 0x03;
const ALG_P256: u8 = 0x11;
const KEY_MGM: u8 = 0x9b;

const OK: [u8; 2] = [0x90, 0x00];
const SECURITY_STATUS: [u8; 2] = [0x69, 0x82];
const AUTH_BLOCKED: [u8; 2] = [0x69, 0x83];
const WRONG_DATA: [u8; 2] = [0x6a, 0x80];
const NOT_FOUND: [u8; 2] = [0x6a, 0x82];
const WRONG_P1P2: [u8; 2] = [0x6a, 0x86];
const INS_NOT_SUPPORTED: [u8; 2] = [0x6d, 0x00];

struct Card {
    serial: u32,
    pin: Vec<u8>,
    pin_tries: u8,
    pin_verified: bool,
    mgm_witness: Option<[u8; 8]>,
    mgm_authenticated: bool,
    key_9d: Option<SecretKey>,
    touch: bool,
}

fn main() {
    let mut vpcd = "127.0.0.1:35963".to_owned();
    let mut card = Card {
        serial: 12_345_678,
        pin: b"123456".to_vec(),
        pin_tries: PIN_TRIES,
        pin_verified: false,
        mgm_witness: None,
        mgm_authenticated: false,
        key_9d: None,
        touch: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_else(|| usage(&format!("{arg} needs a value")));
        match arg.as_str() {
            "--vpcd" => vpcd = value(),
            "--serial" => card.serial = value().parse().unwrap_or_else(|_| usage("--serial takes a number")),
            "--pin" => card.pin = value().into_bytes(),
            "--touch" => card.touch = true,
            other => usage(&format!("unknown argument {other}")),
        }
    }
    let mut stream = TcpStream::connect(&vpcd).unwrap_or_else(|e| {
        eprintln!("tessera-piv-sim: cannot reach vpcd at {vpcd}: {e} (is pcscd running with vsmartcard-vpcd?)");
        std::process::exit(1);
    });
    let mut announced = false;
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).is_err() {
            return; // pcscd went away
        }
        let mut frame = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut frame).is_err() {
            return;
        }
        let reply = match frame.as_slice() {
            [0] | [1] | [2] => {
                card.power_cycle();
                None
            }
            [4] => {
                // pcscd has seen the card: tell whoever started us.
                if !announced {
                    announced = true;
                    println!("inserted");
                    let _ = std::io::stdout().flush();
                }
                Some(ATR.to_vec())
            }
            [_] => None,
            apdu => Some(card.answer(apdu)),
        };
        if let Some(reply) = reply {
            let mut out = (reply.len() as u16).to_be_bytes().to_vec();
            out.extend_from_slice(&reply);
            if stream.write_all(&out).is_err() {
                return;
            }
        }
    }
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "tessera-piv-sim: {problem}\nusage: tessera-piv-sim [--vpcd HOST:PORT] [--serial N] [--pin PIN] [--touch]"
    );
    std::process::exit(2);
}

fn reply(data: &[u8], sw: [u8; 2]) -> Vec<u8> {
    let mut out = data.to_vec();
    out.extend_from_slice(&sw);
    out
}

impl Card {
    fn power_cycle(&mut self) {
        self.pin_verified = false;
        self.mgm_authenticated = false;
        self.mgm_witness = None;
    }

    fn answer(&mut self, apdu: &[u8]) -> Vec<u8> {
        if apdu.len() < 4 {
            return reply(&[], WRONG_DATA);
        }
        let (ins, p1, p2) = (apdu[1], apdu[2], apdu[3]);
        let data: &[u8] = match apdu.get(4) {
            Some(&lc) if apdu.len() >= 5 + usize::from(lc) && apdu.len() > 5 => &apdu[5..5 + usize::from(lc)],
            _ => &[],
        };
        match ins {
            0xa4 if p1 == 0x04 => {
                if data.starts_with(PIV_AID) {
                    self.power_cycle();
                    reply(&[], OK)
                } else {
                    reply(&[], NOT_FOUND)
                }
            }
            0xfd => reply(&[5, 4, 3], OK),
            0xf8 => reply(&self.serial.to_be_bytes(), OK),
            0x20 if p2 == 0x80 => self.verify(data),
            0x87 => self.general_authenticate(p1, p2, data),
            0x47 if p2 == SLOT_KEY_MANAGEMENT => self.generate(data),
            0x47 => reply(&[], WRONG_P1P2),
            0xf7 if p2 == SLOT_KEY_MANAGEMENT => self.metadata(),
            _ => reply(&[], INS_NOT_SUPPORTED),
        }
    }

    fn verify(&mut self, data: &[u8]) -> Vec<u8> {
        if self.pin_tries == 0 {
            return reply(&[], AUTH_BLOCKED);
        }
        if data.is_empty() {
            return if self.pin_verified { reply(&[], OK) } else { reply(&[], [0x63, 0xc0 | self.pin_tries]) };
        }
        let given: Vec<u8> = data.iter().copied().take_while(|&b| b != 0xff).collect();
        if given == self.pin {
            self.pin_tries = PIN_TRIES;
            self.pin_verified = true;
            reply(&[], OK)
        } else {
            self.pin_tries -= 1;
            self.pin_verified = false;
            if self.pin_tries == 0 { reply(&[], AUTH_BLOCKED) } else { reply(&[], [0x63, 0xc0 | self.pin_tries]) }
        }
    }

    fn general_authenticate(&mut self, algorithm: u8, key: u8, data: &[u8]) -> Vec<u8> {
        // Dynamic authentication template: 7C len { tag len value }…
        let Some(inner) = tlv(data, 0x7c) else { return reply(&[], WRONG_DATA) };
        match (algorithm, key) {
            (ALG_3DES, KEY_MGM) => self.mgm_authenticate(inner),
            (ALG_P256, SLOT_KEY_MANAGEMENT) => self.ecdh(inner),
            _ => reply(&[], WRONG_P1P2),
        }
    }

    /// PIV management-key mutual authentication (SP 800-73-4 §A.3, as
    /// YubiKeys do it): the card sends an encrypted witness, the host
    /// returns it decrypted with its own challenge, the card answers the
    /// challenge encrypted.
    fn mgm_authenticate(&mut self, inner: &[u8]) -> Vec<u8> {
        let cipher = TdesEde3::new_from_slice(&DEFAULT_MGM_KEY).expect("24-byte key");
        let elements = tlvs(inner);
        let witness_request = elements.iter().any(|(t, v)| *t == 0x80 && v.is_empty());
        if witness_request {
            let mut witness = [0u8; 8];
            OsRng.fill_bytes(&mut witness);
            self.mgm_witness = Some(witness);
            let mut block = witness.into();
            cipher.encrypt_block(&mut block);
            let mut out = vec![0x7c, 0x0a, 0x80, 0x08];
            out.extend_from_slice(&block);
            return reply(&out, OK);
        }
        let witness = elements.iter().find(|(t, _)| *t == 0x80).map(|(_, v)| *v);
        let challenge = elements.iter().find(|(t, _)| *t == 0x81).map(|(_, v)| *v);
        match (self.mgm_witness.take(), witness, challenge) {
            (Some(expected), Some(w), Some(c)) if w == expected && c.len() == 8 => {
                self.mgm_authenticated = true;
                let mut block = <[u8; 8]>::try_from(c).expect("checked length").into();
                cipher.encrypt_block(&mut block);
                let mut out = vec![0x7c, 0x0a, 0x82, 0x08];
                out.extend_from_slice(&block);
                reply(&out, OK)
            }
            _ => reply(&[], SECURITY_STATUS),
        }
    }

    fn ecdh(&mut self, inner: &[u8]) -> Vec<u8> {
        if !self.pin_verified {
            return reply(&[], SECURITY_STATUS);
        }
        let Some(key) = &self.key_9d else { return reply(&[], NOT_FOUND) };
        let Some((_, point)) = tlvs(inner).into_iter().find(|(t, _)| *t == 0x85) else {
            return reply(&[], WRONG_DATA);
        };
        let Ok(peer) = PublicKey::from_sec1_bytes(point) else { return reply(&[], WRONG_DATA) };
        let shared = diffie_hellman(key.to_nonzero_scalar(), peer.as_affine());
        let mut out = vec![0x7c, 0x22, 0x82, 0x20];
        out.extend_from_slice(shared.raw_secret_bytes());
        reply(&out, OK)
    }

    fn generate(&mut self, data: &[u8]) -> Vec<u8> {
        if !self.mgm_authenticated {
            return reply(&[], SECURITY_STATUS);
        }
        let Some(template) = tlv(data, 0xac) else { return reply(&[], WRONG_DATA) };
        if !tlvs(template).iter().any(|(t, v)| *t == 0x80 && *v == [ALG_P256]) {
            return reply(&[], WRONG_P1P2);
        }
        let key = SecretKey::random(&mut OsRng);
        let point = key.public_key().to_encoded_point(false);
        self.key_9d = Some(key);
        reply(&public_key_template(point.as_bytes()), OK)
    }

    /// GET METADATA (YubiKey 5.3+): algorithm, policy, origin, public key.
    fn metadata(&self) -> Vec<u8> {
        let Some(key) = &self.key_9d else { return reply(&[], NOT_FOUND) };
        let point = key.public_key().to_encoded_point(false);
        let mut out =
            vec![0x01, 0x01, ALG_P256, 0x02, 0x02, 0x02, if self.touch { 0x02 } else { 0x01 }, 0x03, 0x01, 0x01];
        out.push(0x04);
        out.push((point.as_bytes().len() + 2) as u8);
        out.push(0x86);
        out.push(point.as_bytes().len() as u8);
        out.extend_from_slice(point.as_bytes());
        reply(&out, OK)
    }
}

/// `7F49 len 86 len point`, as GENERATE answers.
fn public_key_template(point: &[u8]) -> Vec<u8> {
    let mut out = vec![0x7f, 0x49, (point.len() + 2) as u8, 0x86, point.len() as u8];
    out.extend_from_slice(point);
    out
}

/// BER-TLV elements with one-byte tags and short or 0x81/0x82 lengths.
fn tlvs(mut data: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 2 {
        let tag = data[0];
        let (len, header) = match data[1] {
            n @ 0..=0x7f => (usize::from(n), 2),
            0x81 if data.len() >= 3 => (usize::from(data[2]), 3),
            0x82 if data.len() >= 4 => (usize::from(u16::from_be_bytes([data[2], data[3]])), 4),
            _ => break,
        };
        let Some(value) = data.get(header..header + len) else { break };
        out.push((tag, value));
        data = &data[header + len..];
    }
    out
}

fn tlv(data: &[u8], tag: u8) -> Option<&[u8]> {
    tlvs(data).into_iter().find(|(t, _)| *t == tag).map(|(_, v)| v)
}
