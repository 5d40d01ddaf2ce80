//! `slot list`, `slot add`, `slot remove`.

use serde_json::json;
use std::time::Duration;
use tessera_core::SlotId;

use tessera_unlock::{Factor, KdfParams, KeyringFactor, PasswordFactor, TpmFactor, YubiKeyFactor, slot_requires};

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
/// against whole-file rollback (DESIGN §3, [`tessera_unlock::bind_rollback_counter`]).
/// The slot stays even when no counter can be made (a TPM without free NV
/// space): the user is told that rollback is then not detected. Returns
/// the counter's NV index.
fn bind_to_tpm_counter(session: &Session, vault: &mut tessera_core::Vault) -> CliResult<Option<u32>> {
    let binding = tessera_unlock::bind_rollback_counter(vault, session.tpm_tcti())?;
    if let Some(warning) = binding.warning() {
        eprintln!("tessera: warning: {warning}");
    }
    Ok(binding.index())
}

fn remove(session: &mut Session, id: SlotId, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    // The vault's last TPM slot takes the TPM counter binding with it
    // (unbinding needs no TPM; deleting the counter is best effort).
    let unbound = tessera_unlock::unbind_rollback_counter(&mut vault, id, session.tpm_tcti())?;
    let warning = tessera_unlock::remove_slot(&mut vault, id)?;
    if let Some(w) = &warning {
        eprintln!("tessera: warning: {w}");
    }
    if let Some(w) = unbound.and_then(|u| u.warning) {
        eprintln!("tessera: warning: {w}");
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
