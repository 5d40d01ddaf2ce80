//! The password KDF: Argon2id by default, PBKDF2-HMAC-SHA256 for FIPS
//! settings, with a floor no parameter set can go below.
//!
//! [`KdfParams`] can only be built through constructors that check the
//! floor (and a ceiling, so a hostile file cannot ask for terabytes of
//! memory), and deserialising goes through the same check: parameters below
//! the floor are refused whether they come from a flag, a vault file or a
//! sync server (no downgrade).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Argon2id floor (DESIGN §2): m = 64 MiB, t = 3, p = 4.
pub const ARGON2_MIN_MEMORY_KIB: u32 = 64 * 1024;
/// Argon2id floor: passes over memory.
pub const ARGON2_MIN_ITERATIONS: u32 = 3;
/// Argon2id floor: lanes (computed in parallel).
pub const ARGON2_MIN_PARALLELISM: u32 = 4;
/// PBKDF2-HMAC-SHA256 floor (OWASP 2023 guidance).
pub const PBKDF2_MIN_ITERATIONS: u32 = 600_000;

/// Ceilings: far above anything sensible, low enough that a hostile vault
/// file cannot make an unlock allocate unbounded memory or run for hours.
const ARGON2_MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
const ARGON2_MAX_ITERATIONS: u32 = 64;
const ARGON2_MAX_PARALLELISM: u32 = 64;
const PBKDF2_MAX_ITERATIONS: u32 = 100_000_000;

/// Calibration never picks more memory than this (leaves room on small
/// machines); beyond it, time is bought with iterations.
const CALIBRATION_MAX_MEMORY_KIB: u32 = 1024 * 1024;

/// Refused KDF parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KdfError {
    /// Below the floor.
    #[error("KDF parameters {given} are below the minimum ({floor}); Tessera never uses weaker settings")]
    BelowFloor {
        /// What was asked for.
        given: String,
        /// The floor.
        floor: &'static str,
    },
    /// Above the ceiling.
    #[error("KDF parameters {given} are beyond the supported maximum ({ceiling})")]
    AboveCeiling {
        /// What was asked for.
        given: String,
        /// The ceiling.
        ceiling: &'static str,
    },
    /// The KDF implementation refused the input.
    #[error("the key derivation failed: {0}")]
    Failed(String),
}

/// Validated KDF parameters. Cannot exist below the floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "algorithm", rename_all = "lowercase")]
pub enum KdfParams {
    /// Argon2id v1.3 (RFC 9106).
    Argon2id {
        /// Memory in KiB.
        memory_kib: u32,
        /// Passes.
        iterations: u32,
        /// Lanes.
        parallelism: u32,
    },
    /// PBKDF2-HMAC-SHA256 (RFC 8018).
    Pbkdf2 {
        /// Iterations.
        iterations: u32,
    },
}

/// The serialised form, before validation.
#[derive(Deserialize)]
#[serde(tag = "algorithm", rename_all = "lowercase")]
enum RawKdfParams {
    Argon2id { memory_kib: u32, iterations: u32, parallelism: u32 },
    Pbkdf2 { iterations: u32 },
}

impl<'de> Deserialize<'de> for KdfParams {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match RawKdfParams::deserialize(d)? {
            RawKdfParams::Argon2id { memory_kib, iterations, parallelism } => {
                KdfParams::argon2id(memory_kib, iterations, parallelism)
            }
            RawKdfParams::Pbkdf2 { iterations } => KdfParams::pbkdf2(iterations),
        }
        .map_err(serde::de::Error::custom)
    }
}

impl KdfParams {
    /// The Argon2id floor itself.
    pub const ARGON2_FLOOR: KdfParams = KdfParams::Argon2id {
        memory_kib: ARGON2_MIN_MEMORY_KIB,
        iterations: ARGON2_MIN_ITERATIONS,
        parallelism: ARGON2_MIN_PARALLELISM,
    };

    /// Argon2id with memory in KiB, checked against floor and ceiling.
    pub fn argon2id(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<KdfParams, KdfError> {
        let given = format!("Argon2id m={} MiB t={iterations} p={parallelism}", memory_kib / 1024);
        if memory_kib < ARGON2_MIN_MEMORY_KIB
            || iterations < ARGON2_MIN_ITERATIONS
            || parallelism < ARGON2_MIN_PARALLELISM
        {
            return Err(KdfError::BelowFloor { given, floor: "Argon2id m=64 MiB t=3 p=4" });
        }
        if memory_kib > ARGON2_MAX_MEMORY_KIB
            || iterations > ARGON2_MAX_ITERATIONS
            || parallelism > ARGON2_MAX_PARALLELISM
        {
            return Err(KdfError::AboveCeiling { given, ceiling: "Argon2id m=4096 MiB t=64 p=64" });
        }
        Ok(KdfParams::Argon2id { memory_kib, iterations, parallelism })
    }

    /// PBKDF2-HMAC-SHA256, checked against floor and ceiling.
    pub fn pbkdf2(iterations: u32) -> Result<KdfParams, KdfError> {
        let given = format!("PBKDF2-HMAC-SHA256 {iterations} iterations");
        if iterations < PBKDF2_MIN_ITERATIONS {
            return Err(KdfError::BelowFloor { given, floor: "PBKDF2-HMAC-SHA256 600000 iterations" });
        }
        if iterations > PBKDF2_MAX_ITERATIONS {
            return Err(KdfError::AboveCeiling { given, ceiling: "PBKDF2-HMAC-SHA256 100000000 iterations" });
        }
        Ok(KdfParams::Pbkdf2 { iterations })
    }

    /// Finds Argon2id parameters that take about `target` on this machine:
    /// starts from the floor, scales memory first (memory hardness is what
    /// costs an attacker most), up to 1 GiB or half the available memory,
    /// then iterations, and corrects against measurements until within
    /// 10 % (at most three corrections: a few seconds at `init`).
    pub fn calibrate(target: Duration) -> KdfParams {
        let probe = |p: &KdfParams| {
            let start = Instant::now();
            // A fixed dummy input; the floor rules out failing parameters.
            let _ = p.derive(b"tessera calibration", &[0u8; 16]);
            start.elapsed().as_secs_f64().max(1e-3)
        };
        let floor = KdfParams::ARGON2_FLOOR;
        // The first run pays for thread start-up and fresh pages; time a
        // second one.
        probe(&floor);
        let base = probe(&floor);
        let goal = target.as_secs_f64();
        if base >= goal {
            return floor;
        }
        let max_memory = CALIBRATION_MAX_MEMORY_KIB.min(available_memory_kib() / 2).max(ARGON2_MIN_MEMORY_KIB);
        // Time is close to linear in memory × iterations.
        let mut work = f64::from(ARGON2_MIN_MEMORY_KIB) * f64::from(ARGON2_MIN_ITERATIONS) * goal / base;
        let mut best = floor;
        for _ in 0..4 {
            let memory = ((work / f64::from(ARGON2_MIN_ITERATIONS)) as u32 / 1024 * 1024)
                .clamp(ARGON2_MIN_MEMORY_KIB, max_memory);
            let iterations =
                ((work / f64::from(memory)).round() as u32).clamp(ARGON2_MIN_ITERATIONS, ARGON2_MAX_ITERATIONS);
            let Ok(candidate) = KdfParams::argon2id(memory, iterations, ARGON2_MIN_PARALLELISM) else { break };
            best = candidate;
            let took = probe(&candidate);
            let ratio = goal / took;
            if (0.9..=1.1).contains(&ratio) {
                break;
            }
            work = f64::from(memory) * f64::from(iterations) * ratio;
        }
        best
    }

    /// Derives 32 bytes from `password` and `salt`.
    pub fn derive(&self, password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, KdfError> {
        let mut out = Zeroizing::new([0u8; 32]);
        match *self {
            KdfParams::Argon2id { memory_kib, iterations, parallelism } => {
                let params = argon2::Params::new(memory_kib, iterations, parallelism, Some(32))
                    .map_err(|e| KdfError::Failed(e.to_string()))?;
                argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                    .hash_password_into(password, salt, out.as_mut())
                    .map_err(|e| KdfError::Failed(e.to_string()))?;
            }
            KdfParams::Pbkdf2 { iterations } => {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, out.as_mut());
            }
        }
        Ok(out)
    }

    /// A short description, e.g. `Argon2id m=256 MiB t=3 p=4`.
    pub fn describe(&self) -> String {
        match *self {
            KdfParams::Argon2id { memory_kib, iterations, parallelism } => {
                format!("Argon2id m={} MiB t={iterations} p={parallelism}", memory_kib / 1024)
            }
            KdfParams::Pbkdf2 { iterations } => format!("PBKDF2-HMAC-SHA256 {iterations} iterations"),
        }
    }
}

/// `MemAvailable` from /proc/meminfo, or 4 GiB if it cannot be read.
fn available_memory_kib() -> u32 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(4 * 1024 * 1024, |kib| kib.min(u64::from(u32::MAX)) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        data_encoding::HEXLOWER.decode(s.as_bytes()).unwrap()
    }

    /// The vectors use any parameters, including below our floor; the raw
    /// primitive is checked against them directly.
    fn raw_argon2(m: u32, t: u32, p: u32, len: usize, pw: &[u8], salt: &[u8]) -> Vec<u8> {
        let params = argon2::Params::new(m, t, p, Some(len)).unwrap();
        let mut out = vec![0u8; len];
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_into(pw, salt, &mut out)
            .unwrap();
        out
    }

    #[test]
    fn argon2id_matches_reference_vectors() {
        let tsv = include_str!("../../../tests/data/argon2id-reference.tsv");
        let mut checked = 0;
        for line in tsv.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let f: Vec<&str> = line.split('\t').collect();
            let (pw, salt) = (unhex(f[0]), unhex(f[1]));
            let (m, t, p, len): (u32, u32, u32, usize) =
                (f[2].parse().unwrap(), f[3].parse().unwrap(), f[4].parse().unwrap(), f[5].parse().unwrap());
            assert_eq!(raw_argon2(m, t, p, len, &pw, &salt), unhex(f[6]), "vector {line}");
            if len == 32 {
                if let Ok(params) = KdfParams::argon2id(m, t, p) {
                    assert_eq!(params.derive(&pw, &salt).unwrap().to_vec(), unhex(f[6]));
                }
            }
            checked += 1;
        }
        assert_eq!(checked, 6);
    }

    #[test]
    fn pbkdf2_matches_vectors() {
        let tsv = include_str!("../../../tests/data/pbkdf2-hmac-sha256.tsv");
        let mut checked = 0;
        for line in tsv.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let f: Vec<&str> = line.split('\t').collect();
            let (pw, salt) = (unhex(f[0]), unhex(f[1]));
            let (iterations, len): (u32, usize) = (f[2].parse().unwrap(), f[3].parse().unwrap());
            let mut out = vec![0u8; len];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(&pw, &salt, iterations, &mut out);
            assert_eq!(out, unhex(f[4]), "vector {line}");
            if len == 32 && iterations >= PBKDF2_MIN_ITERATIONS {
                let params = KdfParams::pbkdf2(iterations).unwrap();
                assert_eq!(params.derive(&pw, &salt).unwrap().to_vec(), unhex(f[4]));
            }
            checked += 1;
        }
        assert_eq!(checked, 6);
    }

    #[test]
    fn below_floor_is_refused_from_every_door() {
        assert!(matches!(KdfParams::argon2id(32 * 1024, 3, 4), Err(KdfError::BelowFloor { .. })));
        assert!(matches!(KdfParams::argon2id(64 * 1024, 2, 4), Err(KdfError::BelowFloor { .. })));
        assert!(matches!(KdfParams::argon2id(64 * 1024, 3, 1), Err(KdfError::BelowFloor { .. })));
        assert!(matches!(KdfParams::pbkdf2(599_999), Err(KdfError::BelowFloor { .. })));
        assert!(matches!(KdfParams::argon2id(8 * 1024 * 1024, 3, 4), Err(KdfError::AboveCeiling { .. })));
        let json = r#"{"algorithm":"argon2id","memory_kib":1024,"iterations":1,"parallelism":1}"#;
        assert!(serde_json::from_str::<KdfParams>(json).is_err());
        let json = r#"{"algorithm":"pbkdf2","iterations":1000}"#;
        assert!(serde_json::from_str::<KdfParams>(json).is_err());
        let ok = r#"{"algorithm":"argon2id","memory_kib":65536,"iterations":3,"parallelism":4}"#;
        assert_eq!(serde_json::from_str::<KdfParams>(ok).unwrap(), KdfParams::ARGON2_FLOOR);
    }
}
