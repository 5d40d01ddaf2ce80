//! `restore-check`: the vault file against its TPM counter (whole-file
//! rollback, DESIGN §3), and the way out for a deliberate restore.

use serde_json::json;
use tessera_core::{RollbackError, RollbackStatus, RollbackVerdict, Vault, VaultError};
use tessera_unlock::TpmCounter;

use crate::exit::{CliResult, Exit, Failure};
use crate::output::Out;
use crate::session::Session;

pub fn restore_check(session: &mut Session, accept_older: bool, json: bool, out: &mut Out) -> CliResult {
    if accept_older {
        return accept(session, json, out);
    }
    let mut vault = session.unlock_unchecked()?;
    if !session.install_rollback_counter(&mut vault)? {
        return not_bound(json, out);
    }
    let Some(status) = vault.rollback_status()? else {
        return not_bound(json, out);
    };
    report(&status, json, out);
    match status.verdict {
        RollbackVerdict::Older | RollbackVerdict::Ahead => {
            let e = VaultError::Integrity(match status.verdict {
                RollbackVerdict::Older => {
                    tessera_core::IntegrityError::RolledBack { file: status.binding.value, counter: status.counter }
                }
                _ => tessera_core::IntegrityError::CounterAhead { file: status.binding.value, counter: status.counter },
            });
            Err(Failure::new(Exit::Integrity, e))
        }
        RollbackVerdict::Current | RollbackVerdict::Interrupted => Ok(()),
    }
}

/// `--accept-older`: the master password, then this copy becomes the
/// current one for the TPM. A counter that is gone from the TPM (cleared,
/// another machine) is replaced by a new one.
fn accept(session: &mut Session, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock_with_master_password()?;
    // A vault that syncs: its next sync goes on though this device pushed
    // more than this file knows (the server's half of the check, DESIGN §5).
    let synced = match tessera_sync::client::state::SyncState::load(&vault)? {
        Some(mut state) => {
            state.accept_older = true;
            state.save(&mut vault)?;
            true
        }
        None => false,
    };
    if vault.rollback_binding()?.is_none() {
        if !synced {
            return Err(Failure::usage(RollbackError::NotBound));
        }
        if json {
            out.json(&json!({ "accepted": true, "sync": true }));
        } else {
            out.line(
                "Accepted this copy of the vault: its next sync goes on though it is older than this device's last \
                 sync, and brings back what changed since.",
            );
        }
        return Ok(());
    }
    let before = match vault.rollback_status() {
        Ok(status) => status,
        Err(VaultError::Rollback(RollbackError::Counter { index, reason })) => {
            eprintln!("tessera: the vault's TPM counter {index:#010x} cannot be used ({reason}); making a new one");
            return rebind_to_new_counter(session, &mut vault, json, out);
        }
        Err(e) => return Err(e.into()),
    };
    let binding = vault.accept_rollback()?;
    if json {
        out.json(&json!({
            "accepted": true,
            "nv_index": binding.index,
            "file_before": before.map(|s| s.binding.value),
            "file": binding.value,
            "tpm": binding.value,
        }));
    } else {
        out.line(format!(
            "Accepted this copy of the vault: it is bound to TPM counter {:#010x} at {} and opens from now on. \
             Changes made after this copy was taken are not in it (a vault that syncs gets them back at the next \
             sync).",
            binding.index, binding.value
        ));
    }
    Ok(())
}

fn rebind_to_new_counter(session: &Session, vault: &mut Vault, json: bool, out: &mut Out) -> CliResult {
    let counter = TpmCounter::define(session.tpm_tcti())?;
    vault.set_rollback_counter(Box::new(counter.clone()));
    let binding = match vault.accept_rollback() {
        Ok(b) => b,
        Err(e) => {
            let _ = counter.undefine();
            return Err(e.into());
        }
    };
    if json {
        out.json(&json!({ "accepted": true, "nv_index": binding.index, "file": binding.value, "tpm": binding.value }));
    } else {
        out.line(format!(
            "Accepted this copy of the vault and bound it to a new TPM counter {:#010x} at {}.",
            binding.index, binding.value
        ));
    }
    Ok(())
}

fn not_bound(json: bool, out: &mut Out) -> CliResult {
    if json {
        out.json(&json!({ "bound": false }));
    } else {
        out.line(
            "This vault is not bound to a TPM counter (it has no TPM slot), so an older copy of the file cannot be \
             told from the current one here. `tessera slot add tpm` binds it.",
        );
    }
    Ok(())
}

fn report(status: &RollbackStatus, json: bool, out: &mut Out) {
    if json {
        out.json(&json!({
            "bound": true,
            "nv_index": status.binding.index,
            "file": status.binding.value,
            "tpm": status.counter,
            "verdict": status.verdict.as_str(),
        }));
        return;
    }
    let verdict = match status.verdict {
        RollbackVerdict::Current => "current: the latest file this TPM saw",
        RollbackVerdict::Interrupted => {
            "current: the last write's counter step was cut off (a crash); it is completed at the next unlock"
        }
        RollbackVerdict::Older => "OLDER than the last file this TPM saw",
        RollbackVerdict::Ahead => "AHEAD of this TPM's counter: bound on another TPM, or the counter was replaced",
    };
    out.line(format!(
        "TPM counter {:#010x}: the file records {}, the TPM counted {}: {verdict}.",
        status.binding.index, status.binding.value, status.counter
    ));
}
