//! The TPM 2.0 factor: a random secret sealed under this machine's TPM,
//! released only for the right PIN.
//!
//! Enrolling creates the storage primary key under the owner hierarchy
//! (ECC P-256, AES-128-CFB; the same template always yields the same key,
//! so nothing about it is stored), then a sealed data object holding 32
//! random bytes, with authValue = SHA-256 of the PIN. The object is subject
//! to the TPM's dictionary-attack protection (no `noDA`), so the TPM itself
//! limits PIN guesses and locks out after too many. The slot stores the
//! object's public and (TPM-encrypted) private parts: useless off this TPM.
//! Sealing and unsealing run in an HMAC session salted with the storage
//! key, so neither the PIN nor the secret crosses the bus in the clear.
//!
//! The TCTI comes from the caller (`--tpm-tcti`, `$TESSERA_TPM_TCTI`), else
//! the kernel's resource manager `/dev/tpmrm0`. Every transient object is
//! flushed before returning: simulators without a resource manager run out
//! of object slots otherwise.
//!
//! The TSS waits for the TPM's answer without a limit, so enrolling and
//! unsealing each run as one bounded call ([`crate::deadline`], 20 s): a
//! TCTI that accepts the connection and never answers ends in a clear
//! error. The worker gets the TCTI string and the PIN's hash (a zeroizing
//! TPM buffer), never the PIN.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use tss_esapi::attributes::{NvIndexAttributesBuilder, ObjectAttributesBuilder, SessionAttributesBuilder};
use tss_esapi::constants::SessionType;
use tss_esapi::constants::response_code::Tss2ResponseCodeKind;
use tss_esapi::constants::{NvIndexType, PropertyTag};
use tss_esapi::handles::{KeyHandle, NvIndexHandle, NvIndexTpmHandle, ObjectHandle, SessionHandle, TpmHandle};
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::resource_handles::{Hierarchy, NvAuth, Provision};
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{
    Auth, EccPoint, KeyedHashScheme, NvPublic, NvPublicBuilder, Private, Public, PublicBuilder,
    PublicEccParametersBuilder, PublicKeyedHashParameters, SensitiveData, SymmetricDefinition,
    SymmetricDefinitionObject,
};
use tss_esapi::tcti_ldr::TctiNameConf;
use tss_esapi::traits::{Marshall, UnMarshall};
use tss_esapi::{Context, Error as TpmError};
use zeroize::Zeroizing;

use crate::deadline::{self, TPM};
use crate::error::UnlockError;
use crate::factor::{Factor, FactorSecret};

/// The TCTI used when none is given: the kernel's resource manager.
pub const DEFAULT_TCTI: &str = "device:/dev/tpmrm0";

#[derive(Serialize, Deserialize)]
struct TpmParams {
    kind: String,
    /// The sealed object's TPM2B_PUBLIC, hex.
    public: String,
    /// The sealed object's TPM2B_PRIVATE (encrypted by the TPM), hex.
    private: String,
}

/// The TPM factor: which TPM, and the PIN the user gives.
pub struct TpmFactor<'a> {
    tcti: String,
    pin: &'a [u8],
}

impl std::fmt::Debug for TpmFactor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TpmFactor").field("tcti", &self.tcti).field("pin", &"<redacted>").finish()
    }
}

impl<'a> TpmFactor<'a> {
    /// The factor kind in slot parameters.
    pub const KIND: &'static str = "tpm";

    /// A TPM factor on `tcti` (see [`DEFAULT_TCTI`]) with `pin`.
    pub fn new(tcti: Option<&str>, pin: &'a [u8]) -> Self {
        TpmFactor { tcti: tcti.unwrap_or(DEFAULT_TCTI).to_owned(), pin }
    }

    fn auth(&self) -> Result<Auth, UnlockError> {
        if self.pin.is_empty() {
            return Err(UnlockError::FactorUnavailable { kind: Self::KIND, reason: "the PIN is empty".into() });
        }
        let digest = Zeroizing::new(sha2::Sha256::digest(self.pin).to_vec());
        Auth::try_from(digest.to_vec()).map_err(|e| failed("the PIN", &e))
    }
}

/// A TSS context on `tcti`.
fn context(tcti: &str) -> Result<Context, UnlockError> {
    let conf = TctiNameConf::from_str(tcti).map_err(|_| UnlockError::FactorUnavailable {
        kind: TpmFactor::KIND,
        reason: format!("{tcti:?} is not a TPM TCTI (e.g. device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321)"),
    })?;
    Context::new(conf).map_err(|e| UnlockError::FactorUnavailable {
        kind: TpmFactor::KIND,
        reason: format!("cannot reach the TPM at {tcti} ({e})"),
    })
}

/// The storage key every sealed object lives under: a fixed template, so
/// the TPM re-derives the same key from its owner seed each time.
fn storage_template() -> Result<Public, TpmError> {
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_sensitive_data_origin(true)
        .with_user_with_auth(true)
        .with_decrypt(true)
        .with_restricted(true)
        .build()?;
    PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::Ecc)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_ecc_parameters(
            PublicEccParametersBuilder::new_restricted_decryption_key(
                SymmetricDefinitionObject::AES_128_CFB,
                EccCurve::NistP256,
            )
            .build()?,
        )
        .with_ecc_unique_identifier(EccPoint::default())
        .build()
}

/// A sealed data object: no sign or decrypt use, authorised by its
/// authValue, under dictionary-attack protection.
fn sealed_template() -> Result<Public, TpmError> {
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_user_with_auth(true)
        .build()?;
    PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::KeyedHash)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_keyed_hash_parameters(PublicKeyedHashParameters::new(KeyedHashScheme::Null))
        .with_keyed_hash_unique_identifier(Default::default())
        .build()
}

fn failed(what: &str, e: &TpmError) -> UnlockError {
    UnlockError::FactorUnavailable { kind: TpmFactor::KIND, reason: format!("the TPM refused {what} ({e})") }
}

/// Runs `f` in an HMAC session salted with the storage key, so the PIN is
/// proved by HMAC rather than sent, and the secret crosses the bus to or
/// from the TPM encrypted (`decrypt`: the command's first parameter, as in
/// TPM2_Create's sensitive data; `encrypt`: the response's, as in
/// TPM2_Unseal's). The session is flushed afterwards.
fn in_salted_session<T>(
    ctx: &mut Context,
    primary: KeyHandle,
    decrypt: bool,
    encrypt: bool,
    f: impl FnOnce(&mut Context) -> Result<T, TpmError>,
) -> Result<T, TpmError> {
    let session = ctx
        .start_auth_session(
            Some(primary),
            None,
            None,
            SessionType::Hmac,
            SymmetricDefinition::AES_128_CFB,
            HashingAlgorithm::Sha256,
        )?
        .ok_or(TpmError::WrapperError(tss_esapi::WrapperErrorKind::WrongValueFromTpm))?;
    let (attributes, mask) = SessionAttributesBuilder::new().with_decrypt(decrypt).with_encrypt(encrypt).build();
    let out =
        ctx.tr_sess_set_attributes(session, attributes, mask).and_then(|()| ctx.execute_with_session(Some(session), f));
    let _ = ctx.flush_context(ObjectHandle::from(SessionHandle::from(session)));
    out
}

/// Runs `f` with the storage primary loaded, flushing it afterwards.
fn with_primary<T>(
    ctx: &mut Context,
    f: impl FnOnce(&mut Context, KeyHandle) -> Result<T, UnlockError>,
) -> Result<T, UnlockError> {
    let template = storage_template().map_err(|e| failed("the storage key template", &e))?;
    let primary = ctx
        .execute_with_session(Some(AuthSession::Password), |ctx| {
            ctx.create_primary(Hierarchy::Owner, template, None, None, None, None)
        })
        .map_err(|e| failed("to create its storage key", &e))?
        .key_handle;
    let out = f(ctx, primary);
    let _ = ctx.flush_context(ObjectHandle::from(primary));
    out
}

impl Factor for TpmFactor<'_> {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn enroll(&self) -> Result<(serde_json::Value, FactorSecret), UnlockError> {
        let auth = self.auth()?;
        let tcti = self.tcti.clone();
        let mut secret = Zeroizing::new([0u8; 32]);
        getrandom::fill(secret.as_mut()).expect("the operating system's random number generator failed");
        let sensitive = SensitiveData::try_from(secret.to_vec()).map_err(|e| failed("the secret", &e))?;
        let template = sealed_template().map_err(|e| failed("the sealed object template", &e))?;
        let created = deadline::bounded(&TPM, move || {
            let mut ctx = context(&tcti)?;
            with_primary(&mut ctx, |ctx, primary| {
                in_salted_session(ctx, primary, true, false, |ctx| {
                    ctx.create(primary, template, Some(auth), Some(sensitive), None, None)
                })
                .map_err(|e| failed("to seal the secret", &e))
            })
        })?;
        let public = created.out_public.marshall().map_err(|e| failed("to encode the sealed object", &e))?;
        let params = TpmParams {
            kind: Self::KIND.into(),
            public: data_encoding::HEXLOWER.encode(&public),
            private: data_encoding::HEXLOWER.encode(created.out_private.value()),
        };
        Ok((serde_json::to_value(params).expect("params serialise"), FactorSecret(secret)))
    }

    fn derive(&self, params: &serde_json::Value) -> Result<FactorSecret, UnlockError> {
        let bad = |what: &str| UnlockError::BadParams(format!("the TPM slot's {what} is malformed"));
        let params: TpmParams = serde_json::from_value(params.clone()).map_err(|_| bad("parameters"))?;
        let public = data_encoding::HEXLOWER.decode(params.public.as_bytes()).map_err(|_| bad("public part"))?;
        let public = Public::unmarshall(&public).map_err(|_| bad("public part"))?;
        let private = data_encoding::HEXLOWER.decode(params.private.as_bytes()).map_err(|_| bad("private part"))?;
        let private = Private::try_from(private).map_err(|_| bad("private part"))?;
        let auth = self.auth()?;
        let tcti = self.tcti.clone();
        let unsealed = deadline::bounded(&TPM, move || {
            let mut ctx = context(&tcti)?;
            unseal(&mut ctx, public, private, auth)
        })?;
        let bytes: [u8; 32] = unsealed.value().try_into().map_err(|_| bad("sealed secret"))?;
        Ok(FactorSecret(Zeroizing::new(bytes)))
    }
}

/// Loads the sealed object under the storage key and unseals it with `auth`.
fn unseal(ctx: &mut Context, public: Public, private: Private, auth: Auth) -> Result<SensitiveData, UnlockError> {
    with_primary(ctx, |ctx, primary| {
        let object = ctx
            .execute_with_session(Some(AuthSession::Password), |ctx| ctx.load(primary, private, public))
            .map_err(|e| match tss_kind(&e) {
                Some(Tss2ResponseCodeKind::Lockout) => lockout(),
                _ => UnlockError::FactorUnavailable {
                    kind: TpmFactor::KIND,
                    reason: "this TPM cannot load the slot's sealed key: the slot was made on another machine's \
                             TPM, or this TPM was cleared"
                        .into(),
                },
            })?;
        let result = ctx
            .tr_set_auth(ObjectHandle::from(object), auth)
            .and_then(|()| in_salted_session(ctx, primary, false, true, |ctx| ctx.unseal(ObjectHandle::from(object))));
        let _ = ctx.flush_context(ObjectHandle::from(object));
        result.map_err(|e| pin_error(ctx, &e))
    })
}

/// What a failed unseal means for the user: a wrong PIN (with the tries
/// the TPM has left before it locks out), a lockout, or another failure.
fn pin_error(ctx: &mut Context, e: &TpmError) -> UnlockError {
    match tss_kind(e) {
        Some(Tss2ResponseCodeKind::AuthFail | Tss2ResponseCodeKind::BadAuth) => {
            let max = ctx.get_tpm_property(PropertyTag::MaxAuthFail).ok().flatten();
            let counter = ctx.get_tpm_property(PropertyTag::LockoutCounter).ok().flatten();
            let tries_left = match (max, counter) {
                (Some(max), Some(counter)) => Some(max.saturating_sub(counter)),
                _ => None,
            };
            UnlockError::WrongPin { device: "TPM", tries_left }
        }
        Some(Tss2ResponseCodeKind::Lockout) => lockout(),
        _ => failed("to unseal the secret", e),
    }
}

fn tss_kind(e: &TpmError) -> Option<Tss2ResponseCodeKind> {
    match e {
        TpmError::Tss2Error(rc) => rc.kind(),
        _ => None,
    }
}

fn lockout() -> UnlockError {
    UnlockError::FactorUnavailable {
        kind: TpmFactor::KIND,
        reason: "the TPM is locked out after too many wrong PINs; wait for its lockout interval to pass \
                 (or reset it with the TPM's lockout authorization), then try again"
            .into(),
    }
}

// --- the rollback counter ----------------------------------------------------
//
// Whole-file rollback protection (tessera_core::rollback): a TPM NV index of
// type counter, which the TPM only ever increases. It is defined with
// AUTHREAD | AUTHWRITE and an empty auth value, and NO_DA, so reading and
// advancing it needs nothing the user must type, and a TPM locked out after
// wrong PINs still counts. The cost of the empty auth value: another
// process of the same user could advance the counter. That only ever makes
// the current file look older (a false alarm, resolved with `tessera
// restore-check --accept-older`); it can never make an older file look
// current, because nothing can lower a TPM counter. Deleting the index
// needs owner authorization; a vault whose counter is gone is read with a
// warning and refuses writes until the TPM slot is removed or re-bound.

/// Where Tessera looks for a free NV index for a new counter: in the
/// owner's range (0x01000000–0x013FFFFF, TCG provisioning guidance).
const COUNTER_FIRST_INDEX: u32 = 0x013A_5300;
/// How many indices after the first are tried.
const COUNTER_INDICES: u32 = 256;

/// A TPM NV counter that a vault is bound to against whole-file rollback.
/// Each call is one bounded TPM session ([`crate::deadline`], 20 s).
#[derive(Clone, Debug)]
pub struct TpmCounter {
    tcti: String,
    index: u32,
}

impl TpmCounter {
    /// The counter at NV `index` on `tcti` (see [`DEFAULT_TCTI`]). Talks to
    /// no TPM yet.
    pub fn new(tcti: Option<&str>, index: u32) -> Self {
        TpmCounter { tcti: tcti.unwrap_or(DEFAULT_TCTI).to_owned(), index }
    }

    /// Defines a new counter at the first free index of Tessera's range and
    /// increments it once (a TPM counter cannot be read before its first
    /// increment; it then starts at the highest value any counter on this
    /// TPM ever had, never at a value an older one had).
    pub fn define(tcti: Option<&str>) -> Result<TpmCounter, UnlockError> {
        let tcti = tcti.unwrap_or(DEFAULT_TCTI).to_owned();
        let worker_tcti = tcti.clone();
        let index = deadline::bounded(&TPM, move || {
            let mut ctx = context(&worker_tcti)?;
            for index in COUNTER_FIRST_INDEX..COUNTER_FIRST_INDEX + COUNTER_INDICES {
                let public = counter_public(index).map_err(|e| failed("the counter template", &e))?;
                let defined = ctx.execute_with_session(Some(AuthSession::Password), |ctx| {
                    ctx.nv_define_space(Provision::Owner, Some(Auth::default()), public)
                });
                match defined {
                    Ok(handle) => {
                        ctx.execute_with_session(Some(AuthSession::Password), |ctx| {
                            ctx.nv_increment(NvAuth::NvIndex(handle), handle)
                        })
                        .map_err(|e| failed("to start the counter", &e))?;
                        return Ok(index);
                    }
                    Err(e) if tss_kind(&e) == Some(Tss2ResponseCodeKind::NvDefined) => continue,
                    Err(e) => return Err(failed("to define an NV counter", &e)),
                }
            }
            Err(UnlockError::FactorUnavailable {
                kind: TpmFactor::KIND,
                reason: format!(
                    "every NV index from {COUNTER_FIRST_INDEX:#010x} to {:#010x} is taken",
                    COUNTER_FIRST_INDEX + COUNTER_INDICES - 1
                ),
            })
        })?;
        Ok(TpmCounter { tcti, index })
    }

    /// Deletes the counter from the TPM (with the owner's empty
    /// authorization, as on most machines; best effort for the caller).
    pub fn undefine(&self) -> Result<(), UnlockError> {
        let (tcti, index) = (self.tcti.clone(), self.index);
        deadline::bounded(&TPM, move || {
            let mut ctx = context(&tcti)?;
            let handle = nv_handle(&mut ctx, index)?;
            ctx.execute_with_session(Some(AuthSession::Password), |ctx| ctx.nv_undefine_space(Provision::Owner, handle))
                .map_err(|e| failed("to delete the NV counter", &e))
        })
    }

    /// The TPM this counter is on.
    pub fn tcti(&self) -> &str {
        &self.tcti
    }

    fn call(&self, increment: bool) -> Result<u64, UnlockError> {
        let (tcti, index) = (self.tcti.clone(), self.index);
        deadline::bounded(&TPM, move || {
            let mut ctx = context(&tcti)?;
            let handle = nv_handle(&mut ctx, index)?;
            if increment {
                ctx.execute_with_session(Some(AuthSession::Password), |ctx| {
                    ctx.nv_increment(NvAuth::NvIndex(handle), handle)
                })
                .map_err(|e| failed("to advance the counter", &e))?;
            }
            let data = ctx
                .execute_with_session(Some(AuthSession::Password), |ctx| {
                    ctx.nv_read(NvAuth::NvIndex(handle), handle, 8, 0)
                })
                .map_err(|e| failed("to read the counter", &e))?;
            let bytes: [u8; 8] = data.value().try_into().map_err(|_| UnlockError::FactorUnavailable {
                kind: TpmFactor::KIND,
                reason: format!("NV index {index:#010x} is not a counter"),
            })?;
            Ok(u64::from_be_bytes(bytes))
        })
    }
}

impl tessera_core::RollbackCounter for TpmCounter {
    fn index(&self) -> u32 {
        self.index
    }

    fn read(&mut self) -> Result<u64, tessera_core::CounterError> {
        self.call(false).map_err(|e| tessera_core::CounterError(counter_reason(&self.tcti, e)))
    }

    fn advance(&mut self) -> Result<u64, tessera_core::CounterError> {
        self.call(true).map_err(|e| tessera_core::CounterError(counter_reason(&self.tcti, e)))
    }
}

/// The reason in a counter error, without the "cannot use the tpm factor"
/// framing (the counter is not an unlock factor).
fn counter_reason(tcti: &str, e: UnlockError) -> String {
    match e {
        UnlockError::FactorUnavailable { reason, .. } => reason,
        other => format!("{other} (TPM at {tcti})"),
    }
}

/// The public area of a counter at `index`: read and advanced with its
/// own (empty) auth value, outside dictionary-attack protection.
fn counter_public(index: u32) -> Result<NvPublic, TpmError> {
    let attributes = NvIndexAttributesBuilder::new()
        .with_nv_index_type(NvIndexType::Counter)
        .with_auth_read(true)
        .with_auth_write(true)
        .with_no_da(true)
        .build()?;
    NvPublicBuilder::new()
        .with_nv_index(NvIndexTpmHandle::new(index)?)
        .with_index_name_algorithm(HashingAlgorithm::Sha256)
        .with_index_attributes(attributes)
        .with_data_area_size(8)
        .build()
}

/// The ESYS handle of the existing NV index `index`.
fn nv_handle(ctx: &mut Context, index: u32) -> Result<NvIndexHandle, UnlockError> {
    let missing = || UnlockError::FactorUnavailable {
        kind: TpmFactor::KIND,
        reason: format!(
            "this TPM has no counter at NV index {index:#010x}: the vault was bound on another machine's TPM, or \
             this TPM was cleared or the counter deleted"
        ),
    };
    let tpm_handle = NvIndexTpmHandle::new(index).map_err(|_| missing())?;
    let object = ctx.tr_from_tpm_public(TpmHandle::NvIndex(tpm_handle)).map_err(|_| missing())?;
    Ok(NvIndexHandle::from(object))
}

/// Gives `vault` its TPM counter when its header binds it to one (after
/// unlocking: the binding is authenticated only then). Returns whether it
/// is bound.
pub fn install_tpm_counter(
    vault: &mut tessera_core::Vault,
    tcti: Option<&str>,
) -> Result<bool, tessera_core::VaultError> {
    let Some(binding) = vault.rollback_binding()? else {
        return Ok(false);
    };
    vault.set_rollback_counter(Box::new(TpmCounter::new(tcti, binding.index)));
    Ok(true)
}

/// What [`bind_rollback_counter`] came to.
#[derive(Debug)]
pub enum CounterBinding {
    /// The vault is bound to the TPM counter at this NV index: a new one,
    /// or the one it was already bound to.
    Bound {
        /// The counter's NV index.
        index: u32,
    },
    /// No counter could be made (no TPM free NV space, the TPM not
    /// answering): the vault stays unbound and an older copy of its file
    /// put back is not detected. The TPM slot itself is not affected.
    NotBound {
        /// Why, for people (never a secret: the TPM's own words).
        reason: UnlockError,
    },
}

impl CounterBinding {
    /// The NV index of the counter the vault is bound to, if it is.
    pub fn index(&self) -> Option<u32> {
        match self {
            CounterBinding::Bound { index } => Some(*index),
            CounterBinding::NotBound { .. } => None,
        }
    }

    /// The warning to show when no counter could be made.
    pub fn warning(&self) -> Option<String> {
        match self {
            CounterBinding::Bound { .. } => None,
            CounterBinding::NotBound { reason } => Some(format!(
                "the TPM slot was added, but no TPM counter could be made for whole-file rollback protection \
                 ({reason}); an older copy of this vault file put back will not be detected"
            )),
        }
    }
}

/// Binds `vault` to a new TPM NV counter on `tcti` against whole-file
/// rollback (DESIGN §3): what every front end runs right after adding a
/// TPM slot. A vault already bound keeps its counter. When no counter can
/// be made, the vault stays unbound and [`CounterBinding::NotBound`] says
/// why: the slot stays, only rollback is not detected. An error means the
/// counter was made but the vault could not record it; the new counter is
/// then deleted again (best effort).
pub fn bind_rollback_counter(
    vault: &mut tessera_core::Vault,
    tcti: Option<&str>,
) -> Result<CounterBinding, UnlockError> {
    if let Some(binding) = vault.rollback_binding()? {
        return Ok(CounterBinding::Bound { index: binding.index });
    }
    let counter = match TpmCounter::define(tcti) {
        Ok(c) => c,
        Err(reason) => return Ok(CounterBinding::NotBound { reason }),
    };
    vault.set_rollback_counter(Box::new(counter.clone()));
    match vault.bind_rollback_counter() {
        Ok(binding) => Ok(CounterBinding::Bound { index: binding.index }),
        Err(e) => {
            let _ = counter.undefine();
            Err(e.into())
        }
    }
}

/// What [`unbind_rollback_counter`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterUnbinding {
    /// The NV index of the counter the vault was bound to.
    pub index: u32,
    /// Set when the counter could not be deleted from the TPM (the TPM
    /// gone, or the owner authorization not empty): for people.
    pub warning: Option<String>,
}

/// Ends the vault's binding to its TPM counter when slot `removing` is
/// its last TPM slot (alone or composite), and deletes the counter from
/// the TPM on `tcti`: what every front end runs right before removing a
/// slot (then [`crate::remove_slot`]). Unbinding needs no TPM (the Vault
/// Key suffices), so a vault whose TPM is gone for good can still be freed
/// of both; deleting the counter is best effort and comes back as a
/// warning. `None` when nothing was unbound (another TPM slot remains, the
/// slot is not a TPM slot, the vault was not bound, or `removing` is the
/// vault's last slot, which `remove_slot` refuses anyway).
pub fn unbind_rollback_counter(
    vault: &mut tessera_core::Vault,
    removing: tessera_core::SlotId,
    tcti: Option<&str>,
) -> Result<Option<CounterUnbinding>, UnlockError> {
    let slots = vault.slots()?;
    let needs_tpm = |s: &tessera_core::SlotInfo| {
        crate::slot_requires(s).is_ok_and(|kinds| kinds.iter().any(|k| k == TpmFactor::KIND))
    };
    let last_tpm_slot = slots.len() > 1
        && slots.iter().any(|s| s.id == removing && needs_tpm(s))
        && !slots.iter().any(|s| s.id != removing && needs_tpm(s));
    if !last_tpm_slot {
        return Ok(None);
    }
    let Some(binding) = vault.unbind_rollback_counter()? else {
        return Ok(None);
    };
    let warning = TpmCounter::new(tcti, binding.index).undefine().err().map(|e| {
        format!(
            "the vault is no longer bound to TPM counter {:#010x}, but it could not be deleted from the TPM: {e}",
            binding.index
        )
    });
    Ok(Some(CounterUnbinding { index: binding.index, warning }))
}

/// What every front end runs right after unlocking: installs the TPM
/// counter of a bound vault and checks the file against it. An older file
/// (or one bound elsewhere) is an integrity error. When the TPM cannot be
/// used, the vault stays open for reading and the reason comes back as a
/// warning to show; the vault itself refuses every write until the TPM is
/// back (a write that did not advance the counter would let an older copy
/// pass later).
pub fn guard_rollback(
    vault: &mut tessera_core::Vault,
    tcti: Option<&str>,
) -> Result<Option<tessera_core::RollbackError>, tessera_core::VaultError> {
    if !install_tpm_counter(vault, tcti)? {
        return Ok(None);
    }
    match vault.check_rollback() {
        Ok(_) => Ok(None),
        Err(tessera_core::VaultError::Rollback(e)) => Ok(Some(e)),
        Err(e) => Err(e),
    }
}
