//! Import from other managers' files and backups, export to them, and
//! writing a new file without ever replacing one.

use std::path::Path;

use tessera_core::{LockedVault, Vault};
use tessera_unlock::{KdfParams, PasswordFactor, UnlockError};
use zeroize::Zeroizing;

use super::{Desktop, KDF_TARGET, password_from};
use crate::error::{CommandError, CommandResult, ErrorKind};

impl Desktop {
    pub fn import_items(
        &self,
        path: &Path,
        format: Option<&str>,
        password: Option<&str>,
        folder: Option<&str>,
    ) -> CommandResult<usize> {
        use tessera_interop::{Format, ImportError, SourceKey};
        let cannot = |e: std::io::Error| CommandError::io(format!("Cannot read {}: {e}", path.display()));
        let size = std::fs::metadata(path).map_err(cannot)?.len();
        if size > tessera_interop::MAX_SOURCE_SIZE {
            return Err(CommandError::invalid("The file is larger than 1 GiB; refusing to import it"));
        }
        let bytes = Zeroizing::new(std::fs::read(path).map_err(cannot)?);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let format = match format {
            Some(f) => f.parse::<Format>().map_err(|e| CommandError::invalid(e.to_string()))?,
            None => Format::detect(&name, &bytes).ok_or(ImportError::UnknownFormat)?,
        };
        let key = SourceKey { password: password.map(|p| Zeroizing::new(p.to_owned())), key_file: None };
        let mut imported =
            match format {
                Format::TesseraBackup => {
                    let password = password_from(password.unwrap_or_default())?;
                    let locked = LockedVault::open(path, &self.options)?;
                    let backup = tessera_unlock::unlock(locked, &tessera_unlock::Credential::Password(&password))
                        .map_err(|e| match e {
                            UnlockError::WrongPassword => {
                                CommandError::new(ErrorKind::WrongPassword, "The backup's password is wrong")
                            }
                            other => other.into(),
                        })?;
                    tessera_interop::backup::read(&backup)?
                }
                _ => tessera_interop::parse(format, &bytes, &key)?,
            };
        if let Some(folder) = folder.filter(|f| !f.trim().is_empty()) {
            imported.move_under(folder);
        }
        let items = std::mem::take(&mut imported.items);
        self.change(|vault| Ok(vault.import(items, format.name(), |_| {})?.len()))
    }

    pub fn export_vault(&self, format: &str, password: Option<&str>, out: &Path) -> CommandResult<()> {
        use tessera_interop::{Format, SourceKey};
        let format: Format =
            format.parse().map_err(|e: tessera_interop::UnknownFormat| CommandError::invalid(e.to_string()))?;
        if out.symlink_metadata().is_ok() {
            return Err(CommandError::invalid(format!("{} already exists; not overwriting it", out.display())));
        }
        let needs = |p: Option<&str>| -> CommandResult<Zeroizing<String>> {
            p.filter(|p| !p.is_empty())
                .map(|p| Zeroizing::new(p.to_owned()))
                .ok_or_else(|| CommandError::invalid("This export needs a password"))
        };
        match format {
            Format::Keepass => {
                let key = SourceKey { password: Some(needs(password)?), key_file: None };
                let bytes = self.with_open(|open| Ok(tessera_interop::keepass::export(&open.vault, &key)?))?;
                write_new_file(out, &bytes)
            }
            Format::BitwardenJson => {
                let bytes = self.with_open(|open| Ok(tessera_interop::bitwarden::export_json(&open.vault)?))?;
                write_new_file(out, &bytes)
            }
            Format::TesseraBackup => {
                let password = password_from(&needs(password)?)?;
                let slot = tessera_unlock::new_slot(
                    "Backup password",
                    &[&PasswordFactor::new(&password, KdfParams::calibrate(KDF_TARGET))],
                )?;
                let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let temp = dir.join(format!(".{name}.{}.tessera-partial", std::process::id()));
                let result = self.with_open(|open| {
                    let mut backup = Vault::create(&temp, vec![slot], &self.options)?;
                    tessera_interop::backup::write(&open.vault, &mut backup, |_| {})?;
                    backup.lock();
                    std::fs::hard_link(&temp, out)
                        .map_err(|e| CommandError::io(format!("Cannot write {}: {e}", out.display())))
                });
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", temp.display()));
                }
                result
            }
            other => Err(tessera_interop::ExportError::ImportOnly(other).into()),
        }
    }
}

/// Writes `content` to a new file (mode 0600), never replacing one.
pub fn write_new_file(path: &Path, content: &[u8]) -> CommandResult<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tessera-partial", std::process::id()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut f = options.open(&temp)?;
        f.write_all(content)?;
        f.sync_all()?;
        std::fs::hard_link(&temp, path)
    })();
    let _ = std::fs::remove_file(&temp);
    result.map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            CommandError::invalid(format!("{} already exists; not overwriting it", path.display()))
        }
        _ => CommandError::io(format!("Cannot write {}: {e}", path.display())),
    })
}
