//! `import` and `export`.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;
use tessera_core::{LockedVault, Vault};
use tessera_interop::{Format, ImportError, Imported, MAX_SOURCE_SIZE, SourceKey};
use tessera_unlock::{Credential, KdfParams, Password, PasswordFactor, new_slot};
use zeroize::Zeroizing;

use crate::cli::{ExportArgs, ImportArgs};
use crate::commands::attachments::write_private_file;
use crate::exit::{CliResult, Exit, Failure};
use crate::output::{Out, progress, spinner};
use crate::session::{Session, read_secret_file};

/// Key derivation time aimed at for a backup's password slot, as for a
/// new vault: a backup is exactly what an attacker copies.
const BACKUP_KDF_TARGET: Duration = Duration::from_secs(1);

impl From<ImportError> for Failure {
    fn from(e: ImportError) -> Self {
        let exit = match e {
            ImportError::WrongPassword => Exit::WrongKey,
            _ => Exit::Usage,
        };
        Failure::new(exit, e)
    }
}

impl From<tessera_interop::ExportError> for Failure {
    fn from(e: tessera_interop::ExportError) -> Self {
        match e {
            tessera_interop::ExportError::Vault(v) => v.into(),
            other => Failure::other(other),
        }
    }
}

pub fn import(session: &mut Session, args: &ImportArgs, json: bool, out: &mut Out) -> CliResult {
    let bytes = read_source(&args.file)?;
    let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let format = match args.from {
        Some(f) => f,
        None => Format::detect(&name, &bytes).ok_or(ImportError::UnknownFormat)?,
    };
    // Unlock first: a wrong master password should fail before a long
    // read of the source (which may run its own key derivation).
    let mut vault = session.unlock()?;
    let key = source_key(args, format)?;

    let spinner = spinner(&format!("Reading {name}"));
    let mut imported = match format {
        Format::TesseraBackup => read_backup(&args.file, &key, session)?,
        _ => tessera_interop::parse(format, &bytes, &key)?,
    };
    drop(bytes);
    spinner.finish_and_clear();
    if let Some(folder) = &args.folder {
        imported.move_under(folder);
    }

    let total = imported.items.len();
    let bar = progress("Importing");
    bar.set_length(total as u64);
    let ids = vault.import(std::mem::take(&mut imported.items), format.name(), |done| bar.set_position(done as u64))?;
    bar.finish_and_clear();

    if json {
        out.json(&json!({ "imported": ids.len(), "skipped": imported.skipped }));
    } else {
        out.line(format!(
            "Imported {} item{} from {} ({format}).",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
            args.file.display()
        ));
        if !imported.skipped.is_empty() {
            out.line(format!("Skipped {}:", imported.skipped.len()));
            for s in &imported.skipped {
                out.line(format!("  {}: {}", s.line_or_entry, s.reason));
            }
        }
    }
    Ok(())
}

/// Reads the whole source file, refusing one too large to hold in memory
/// before reading it.
fn read_source(path: &Path) -> CliResult<Zeroizing<Vec<u8>>> {
    let cannot = |e: std::io::Error| Failure::usage(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let size = file.metadata().map_err(cannot)?.len();
    if size > MAX_SOURCE_SIZE {
        return Err(Failure::usage(format!("{} is larger than 1 GiB; refusing to import it", path.display())));
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(size as usize));
    file.take(MAX_SOURCE_SIZE + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > MAX_SOURCE_SIZE {
        return Err(Failure::usage(format!("{} is larger than 1 GiB; refusing to import it", path.display())));
    }
    Ok(bytes)
}

/// The password and key file for an encrypted source: from the files
/// given, else a prompt on a terminal.
fn source_key(args: &ImportArgs, format: Format) -> CliResult<SourceKey> {
    let mut key = SourceKey::default();
    if !format.needs_password() {
        return Ok(key);
    }
    if let Some(file) = &args.source_key_file {
        if format != Format::Keepass {
            return Err(Failure::usage("--source-key-file is for KeePass files only"));
        }
        key.key_file = Some(Zeroizing::new(
            std::fs::read(file).map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?,
        ));
    }
    key.password = match &args.source_password_file {
        Some(file) => Some(first_line(&read_secret_file(file)?, "--source-password-file")?),
        None if key.key_file.is_some() => None,
        None => Some(prompt(&format!("Password of {}: ", args.file.display()), false, "--source-password-file")?),
    };
    Ok(key)
}

/// The first line of a secret file, as text.
fn first_line(bytes: &[u8], source: &str) -> CliResult<Zeroizing<String>> {
    let password =
        Password::from_first_line(bytes).map_err(|_| Failure::usage(format!("the password from {source} is empty")))?;
    let text = std::str::from_utf8(password.as_bytes())
        .map_err(|_| Failure::usage(format!("the password from {source} is not UTF-8 text")))?;
    Ok(Zeroizing::new(text.to_owned()))
}

fn prompt(message: &str, confirm: bool, flag: &str) -> CliResult<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(format!("no password for the file: give {flag} FILE or run in a terminal")));
    }
    let read = |p: &str| {
        rpassword::prompt_password(p)
            .map(Zeroizing::new)
            .map_err(|e| Failure::other(format!("cannot read the password: {e}")))
    };
    let first = read(message)?;
    if confirm && *read("Repeat it: ")? != *first {
        return Err(Failure::usage("the two passwords differ"));
    }
    if first.is_empty() {
        return Err(Failure::usage("the password is empty"));
    }
    Ok(first)
}

/// Opens a backup (a vault file of its own) with its password and reads
/// every item from it. A wrong password exits 3; a tampered backup exits 5.
fn read_backup(path: &Path, key: &SourceKey, session: &Session) -> CliResult<Imported> {
    let password = key.password.as_ref().ok_or_else(|| Failure::usage("a Tessera backup needs its password"))?;
    let password = Password::new(Zeroizing::new(password.as_bytes().to_vec()))
        .map_err(|_| Failure::usage("the backup's password is empty"))?;
    let locked = LockedVault::open(path, &session.options)?;
    let backup = tessera_unlock::unlock(locked, &Credential::Password(&password)).map_err(|e| match e {
        tessera_unlock::UnlockError::WrongPassword => Failure::new(Exit::WrongKey, "the backup's password is wrong"),
        other => other.into(),
    })?;
    let items = tessera_interop::backup::read(&backup)?;
    Ok(items)
}

pub fn export(session: &mut Session, args: &ExportArgs, json: bool, out: &mut Out) -> CliResult {
    if args.out.symlink_metadata().is_ok() {
        return Err(Failure::usage(format!("{} already exists; not overwriting it", args.out.display())));
    }
    let format = args.to;
    if format.is_plain_text() {
        confirm_plain_text(args)?;
    }
    let vault = session.unlock()?;
    let password = if format.needs_password() {
        Some(match &args.export_password_file {
            Some(file) => first_line(&read_secret_file(file)?, "--export-password-file")?,
            None => prompt("Password for the export: ", true, "--export-password-file")?,
        })
    } else {
        None
    };

    let mut warnings: Vec<String> = Vec::new();
    let count = match format {
        Format::Keepass => {
            let key = SourceKey { password, key_file: None };
            let bytes = tessera_interop::keepass::export(&vault, &key)?;
            write_private_file(&args.out, &bytes, false)?;
            warnings.push("items in the trash and attachments of earlier versions are not written to KDBX".into());
            count_live(&vault)?
        }
        Format::BitwardenJson => {
            let bytes = tessera_interop::bitwarden::export_json(&vault)?;
            write_private_file(&args.out, &bytes, false)?;
            warnings.push("Bitwarden JSON has no place for attachments, expiry dates or items in the trash".into());
            count_live(&vault)?
        }
        Format::TesseraBackup => {
            let password = password.ok_or_else(|| Failure::usage("a backup needs a password"))?;
            write_backup(&vault, &args.out, &password, session)?
        }
        other => return Err(tessera_interop::ExportError::ImportOnly(other).into()),
    };

    if json {
        out.json(&json!({
            "exported": count,
            "format": format.name(),
            "path": args.out.display().to_string(),
            "warnings": warnings,
        }));
    } else {
        out.line(format!(
            "Exported {count} item{} to {} ({format}).",
            if count == 1 { "" } else { "s" },
            args.out.display()
        ));
        for w in &warnings {
            out.line(format!("Note: {w}."));
        }
    }
    Ok(())
}

fn count_live(vault: &Vault) -> CliResult<usize> {
    Ok(vault.summaries(tessera_core::Scope::Live)?.len())
}

/// A plain-text export puts every secret in a file anyone who can read it
/// can use: warn, and ask unless `--yes`.
fn confirm_plain_text(args: &ExportArgs) -> CliResult {
    eprintln!(
        "tessera: warning: {} will hold every password, note and one-time-password secret in plain text. \
Keep it off shared and synced disks and delete it when done.",
        args.out.display()
    );
    if args.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage("a plain-text export needs confirmation: add --yes"));
    }
    eprint!("Write it? Type yes to continue: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(|e| Failure::other(format!("cannot read the answer: {e}")))?;
    if answer.trim().eq_ignore_ascii_case("yes") { Ok(()) } else { Err(Failure::usage("export cancelled")) }
}

/// Writes a backup vault beside `out` under a temporary name, then links it
/// into place, so a failure or a crash never leaves a partial backup under
/// the final name.
fn write_backup(vault: &Vault, out: &Path, password: &Zeroizing<String>, session: &Session) -> CliResult<usize> {
    let password = Password::new(Zeroizing::new(password.as_bytes().to_vec()))
        .map_err(|_| Failure::usage("the backup password is empty"))?;
    eprintln!("tessera: calibrating the backup's key derivation to about one second…");
    let kdf = KdfParams::calibrate(BACKUP_KDF_TARGET);
    let slot = new_slot("Backup password", &[&PasswordFactor::new(&password, kdf)])?;
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp: PathBuf = dir.join(format!(".{name}.{}.tessera-partial", std::process::id()));
    let remove_temp = || {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", temp.display()));
        }
    };
    let result = (|| -> CliResult<usize> {
        let mut backup = Vault::create(&temp, vec![slot], &session.options)
            .map_err(|e| Failure::other(format!("cannot create the backup: {e}")))?;
        let bar = progress("Writing backup");
        bar.set_length(count_any(vault)? as u64);
        let count = tessera_interop::backup::write(vault, &mut backup, |done| bar.set_position(done as u64))?;
        bar.finish_and_clear();
        backup.lock();
        std::fs::hard_link(&temp, out).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                Failure::usage(format!("{} already exists; not overwriting it", out.display()))
            }
            _ => Failure::other(format!("cannot write {}: {e}", out.display())),
        })?;
        Ok(count)
    })();
    remove_temp();
    result
}

fn count_any(vault: &Vault) -> CliResult<usize> {
    Ok(vault.summaries(tessera_core::Scope::Any)?.len())
}
