//! `init` and `info`: creating a vault and describing one.

use std::time::Duration;

use serde_json::json;
use tessera_unlock::{KdfParams, RecoveryCode, create_vault, describe_slot};
use zeroize::Zeroizing;

use crate::cli::{InitArgs, KdfChoice};
use crate::exit::{CliResult, Failure};
use crate::output::{Out, note, rfc3339, write_new_private};
use crate::session::Session;

/// What `init` calibrates Argon2id to.
const KDF_TARGET: Duration = Duration::from_secs(1);

pub(crate) fn kdf_from_args(args: &InitArgs) -> CliResult<Option<KdfParams>> {
    use tessera_unlock::kdf::{
        ARGON2_MIN_ITERATIONS, ARGON2_MIN_MEMORY_KIB, ARGON2_MIN_PARALLELISM, PBKDF2_MIN_ITERATIONS,
    };
    match args.kdf {
        KdfChoice::Pbkdf2 => {
            if args.kdf_memory_mib.is_some() || args.kdf_parallelism.is_some() {
                return Err(Failure::usage("--kdf pbkdf2 takes only --kdf-iterations"));
            }
            Ok(Some(KdfParams::pbkdf2(args.kdf_iterations.unwrap_or(PBKDF2_MIN_ITERATIONS))?))
        }
        KdfChoice::Argon2id => {
            if args.kdf_memory_mib.is_none() && args.kdf_iterations.is_none() && args.kdf_parallelism.is_none() {
                return Ok(None);
            }
            let memory_kib = match args.kdf_memory_mib {
                Some(mib) => mib.checked_mul(1024).ok_or_else(|| Failure::usage("--kdf-memory-mib is too large"))?,
                None => ARGON2_MIN_MEMORY_KIB,
            };
            Ok(Some(KdfParams::argon2id(
                memory_kib,
                args.kdf_iterations.unwrap_or(ARGON2_MIN_ITERATIONS),
                args.kdf_parallelism.unwrap_or(ARGON2_MIN_PARALLELISM),
            )?))
        }
    }
}

pub fn init(session: &mut Session, args: &InitArgs, json: bool, out: &mut Out) -> CliResult {
    // Check everything that can be refused before asking for a password.
    let kdf = kdf_from_args(args)?;
    check_new_vault(session, args)?;
    let password = session.master_password("New master password: ", true)?;
    let kdf = kdf_or_calibrate(kdf);
    let (vault, code) = create_vault(&session.vault_path, &password, kdf, &session.options)?;
    let vault_id = vault.vault_id();
    vault.lock();
    let mut v = json!({
        "vault": session.vault_path.display().to_string(),
        "vault_id": vault_id.to_hex(),
        "kdf": kdf,
    });
    if !json {
        out.line(format!("Created {} ({}).", session.vault_path.display(), kdf.describe()));
    }
    deliver_recovery_code(args, &code, json.then_some(&mut v), out)?;
    if json {
        out.json(&v);
    }
    Ok(())
}

/// Refuses before any work when the vault path or the recovery-code file
/// exists (`init`, `sync clone`).
pub(crate) fn check_new_vault(session: &Session, args: &InitArgs) -> CliResult {
    if session.vault_path.symlink_metadata().is_ok() {
        return Err(Failure::usage(format!(
            "{} already exists; Tessera never overwrites a vault (choose another --vault path)",
            session.vault_path.display()
        )));
    }
    if let Some(file) = &args.recovery_code_file {
        if file.symlink_metadata().is_ok() {
            return Err(Failure::usage(format!("{} already exists; not overwriting it", file.display())));
        }
    }
    Ok(())
}

/// The KDF the flags ask for, or one calibrated to about a second.
pub(crate) fn kdf_or_calibrate(kdf: Option<KdfParams>) -> KdfParams {
    kdf.unwrap_or_else(|| {
        note("Calibrating the key derivation to about one second on this machine…");
        KdfParams::calibrate(KDF_TARGET)
    })
}

/// Shows a new vault's recovery code once: into `--recovery-code-file`,
/// else into the JSON (`json`) or as text.
pub(crate) fn deliver_recovery_code(
    args: &InitArgs,
    code: &RecoveryCode,
    json: Option<&mut serde_json::Value>,
    out: &mut Out,
) -> CliResult {
    if let Some(file) = &args.recovery_code_file {
        let line = Zeroizing::new(format!("{}\n", code.to_display().as_str()));
        write_new_private(file, line.as_bytes()).map_err(|e| {
            Failure::other(format!(
                "vault created, but the recovery code could not be written to {}: {e}",
                file.display()
            ))
        })?;
        if json.is_none() {
            out.line(format!(
                "The recovery code is in {}. Print it, keep it safe, then delete the file.",
                file.display()
            ));
        }
        return Ok(());
    }
    match json {
        Some(v) => v["recovery_code"] = json!(code.to_display().as_str()),
        None => {
            out.line("");
            out.line("Your recovery code (shown once; it opens the vault if you forget the master password):");
            out.line("");
            out.line(format!("    {}", code.to_display().as_str()));
            out.line("");
            out.line("Write it down and keep it somewhere safe, away from this computer.");
        }
    }
    Ok(())
}

pub fn info(session: &Session, json: bool, out: &mut Out) -> CliResult {
    let locked = session.open()?;
    let slots: Vec<_> = locked
        .slots()
        .into_iter()
        .map(|s| {
            let description = describe_slot(&s).unwrap_or_else(|e| format!("invalid: {e}"));
            (s, description)
        })
        .collect();
    if json {
        out.json(&json!({
            "vault": locked.path().display().to_string(),
            "vault_id": locked.vault_id().to_hex(),
            "format_version": tessera_core::format::FORMAT_VERSION,
            "slots": slots.iter().map(|(s, d)| json!({
                "id": s.id.0, "kind": s.kind, "label": s.label, "created": rfc3339(s.created), "description": d,
            })).collect::<Vec<_>>(),
        }));
    } else {
        out.line(format!("Vault:   {}", locked.path().display()));
        out.line(format!("ID:      {}", locked.vault_id()));
        out.line(format!("Format:  {}", tessera_core::format::FORMAT_VERSION));
        out.line("Slots:");
        for (s, d) in &slots {
            out.line(format!("  {}  {:<16} {}  (since {})", s.id, s.label, d, rfc3339(s.created)));
        }
    }
    Ok(())
}
