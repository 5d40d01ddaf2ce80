//! `slot list`, `slot add`, `slot remove`.

use serde_json::json;
use std::time::Duration;
use tessera_core::SlotId;

use tessera_unlock::{
    Factor, KdfParams, KeyringFactor, PasswordFactor, TpmCounter, TpmFactor, YubiKeyFactor, slot_requires,
};

use crate::cli::{AlsoRequire, SlotAddArgs, SlotCommand, SlotFactor};
use crate::exit::CliResult;
use crate::output::{Out, rfc3339};
use crate::session::Session;

/// Key derivation time for a composite slot's password, as for `init`.
const KDF_TARGET: Duration = Duration::from_secs(1);

pub fn slot(session: &mut Session, command: &SlotCommand, json: bool, out: &mut Out) -> CliResult {
    match command {
        SlotCommand::List => list(session, json, out),
        SlotCommand::Add(args) => add(session, args, json, out),
        SlotCommand::Remove { id } => remove(session, SlotId(*id), json, out),
    }
}

fn list(session: &mut Session, json: bool, out: &mut Out) -> CliResult {
    let vault = session.unlock()?;
    let used = vault.slot_last_used()?;
    let slots = vault.slots()?;
    if json {
        let rows: Vec<_> = slots
            .iter()
            .map(|s| {
                json!({
                    "id": s.id.0,
                    "kind": s.kind,
                    "label": s.label,
                    "created": rfc3339(s.created),
                    "last_used": used.get(&s.id).map(|t| rfc3339(*t)),
                    "requires": slot_requires(s).unwrap_or_default(),
                })
            })
            .collect();
        out.json(&rows);
    } else {
        for s in &slots {
            let last = used.get(&s.id).map_or_else(|| "never".to_owned(), |t| rfc3339(*t));
            out.line(format!(
                "{:>3}  {:<18} {:<24} created {}  last used {last}",
                s.id.0,
                s.kind,
                s.label,
                rfc3339(s.created)
            ));
        }
    }
    Ok(())
}

fn add(session: &mut Session, args: &SlotAddArgs, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let keyring = KeyringFactor::new();
    let pin;
    let tpm;
    let yubikey;
    let factor: &dyn Factor = match args.factor {
        SlotFactor::Keyring => &keyring,
        SlotFactor::Tpm => {
            pin = session.pin("PIN for the TPM slot: ", true)?;
            tpm = TpmFactor::new(session.tpm_tcti(), &pin);
            &tpm
        }
        SlotFactor::Yubikey => {
            // The YubiKey's own PIV PIN: asked once, the key checks it.
            pin = session.pin("YubiKey PIN: ", false)?;
            yubikey = YubiKeyFactor::new(args.yubikey_serial, &pin, args.touch);
            &yubikey
        }
    };
    let mut factors: Vec<&dyn Factor> = vec![factor];
    let password;
    let password_factor;
    let default_label = match args.and {
        Some(AlsoRequire::Password) => {
            // The master password as this command was given it (or asked
            // for now), with a freshly calibrated KDF of its own.
            password = session.master_password_again()?;
            eprintln!("tessera: calibrating the key derivation to about one second…");
            password_factor = PasswordFactor::new(&password, KdfParams::calibrate(KDF_TARGET));
            factors.push(&password_factor);
            format!("{} and master password", describe(args.factor))
        }
        None => describe(args.factor).to_owned(),
    };
    let label = args.label.clone().unwrap_or(default_label);
    let id = tessera_unlock::add_slot(&mut vault, &label, &factors)?;
    let kind = factors.iter().map(|f| f.kind()).collect::<Vec<_>>().join("+");
    let counter = if args.factor == SlotFactor::Tpm { bind_to_tpm_counter(session, &mut vault)? } else { None };
    if json {
        out.json(&json!({ "id": id.0, "kind": kind, "label": label, "rollback_counter": counter }));
    } else {
        out.line(format!("Added slot {id} ({label}, {kind}). Unlock with --unlock {}.", factor.kind()));
        if let Some(index) = counter {
            out.line(format!(
                "Bound to TPM counter {index:#010x}: an older copy of this vault file put back in its place is \
                 reported (see `tessera restore-check`)."
            ));
        }
    }
    Ok(())
}

/// With its first TPM slot, the vault is bound to a new TPM NV counter
/// against whole-file rollback (DESIGN §3). The slot stays even when no
/// counter can be made (a TPM without free NV space): the user is told
/// that rollback is then not detected. Returns the counter's NV index.
fn bind_to_tpm_counter(session: &Session, vault: &mut tessera_core::Vault) -> CliResult<Option<u32>> {
    if let Some(binding) = vault.rollback_binding()? {
        return Ok(Some(binding.index));
    }
    let counter = match TpmCounter::define(session.tpm_tcti()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "tessera: warning: the TPM slot was added, but no TPM counter could be made for whole-file rollback \
                 protection ({e}); an older copy of this vault file put back will not be detected"
            );
            return Ok(None);
        }
    };
    vault.set_rollback_counter(Box::new(counter.clone()));
    match vault.bind_rollback_counter() {
        Ok(binding) => Ok(Some(binding.index)),
        Err(e) => {
            let _ = counter.undefine();
            Err(e.into())
        }
    }
}

fn remove(session: &mut Session, id: SlotId, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    // The vault's last TPM slot takes the TPM counter binding with it.
    // Unbinding needs no TPM, so a vault whose TPM is gone for good can
    // still be freed of both; deleting the counter is best effort.
    let slots = vault.slots()?;
    let needs_tpm = |s: &tessera_core::SlotInfo| slot_requires(s).is_ok_and(|k| k.iter().any(|k| k == TpmFactor::KIND));
    let last_tpm_slot = slots.len() > 1
        && slots.iter().any(|s| s.id == id && needs_tpm(s))
        && !slots.iter().any(|s| s.id != id && needs_tpm(s));
    let unbound = if last_tpm_slot { vault.unbind_rollback_counter()? } else { None };
    let warning = tessera_unlock::remove_slot(&mut vault, id)?;
    if let Some(w) = &warning {
        eprintln!("tessera: warning: {w}");
    }
    if let Some(binding) = unbound {
        if let Err(e) = TpmCounter::new(session.tpm_tcti(), binding.index).undefine() {
            eprintln!(
                "tessera: warning: the vault is no longer bound to TPM counter {:#010x}, but it could not be deleted from the TPM: {e}",
                binding.index
            );
        }
    }
    if json {
        out.json(&json!({ "removed": id.0 }));
    } else {
        out.line(format!("Removed slot {id}."));
    }
    Ok(())
}

fn describe(factor: SlotFactor) -> &'static str {
    match factor {
        SlotFactor::Keyring => "OS keyring",
        SlotFactor::Tpm => "TPM",
        SlotFactor::Yubikey => "YubiKey",
    }
}
