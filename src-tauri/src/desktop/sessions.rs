//! What the sync module (`crate::sync`) starts from: a second session on
//! the unlocked vault for work that waits on the network, the item list it
//! builds taken back, and a new vault made by joining a sync account.

use std::path::{Path, PathBuf};

use tessera_core::{OpenOptions, SearchIndex, Vault};
use tessera_unlock::{KdfParams, Password, RecoveryCode};

use super::{Desktop, KDF_TARGET, password_from};
use crate::dto::{CreatedVault, Credential};
use crate::error::{CommandError, CommandResult};

impl Desktop {
    /// A second session on the unlocked vault, with its TPM counter, and
    /// the list's generation now: for work that waits on the network
    /// (`crate::sync`), so no window command ever waits for a server.
    /// Public for the benchmarks, which time the window during a sync.
    pub fn network_session(&self) -> CommandResult<(Vault, u64)> {
        self.with_open(|open| {
            let mut vault = open.vault.reopen(&self.options)?;
            let tcti = std::env::var("TESSERA_TPM_TCTI").ok();
            tessera_unlock::install_tpm_counter(&mut vault, tcti.as_deref())?;
            Ok((vault, open.generation))
        })
    }

    /// After a background session changed items: the list becomes `index`
    /// (built there, off the lock) when nothing changed here since
    /// generation `since`, else it is rebuilt from the vault.
    pub fn items_changed_elsewhere(&self, index: Option<SearchIndex>, since: u64) -> CommandResult<()> {
        self.with_open(|open| match index {
            Some(index) if open.generation == since => {
                open.install(index);
                Ok(())
            }
            _ => open.refresh(),
        })
    }

    /// Makes the vault at `path` from a sync account's, then opens and
    /// unlocks it here (what "Sign in on this computer" does).
    pub(crate) fn join_account(
        &self,
        path: &str,
        join: &dyn Fn(&Path, &Password, KdfParams, &OpenOptions) -> CommandResult<RecoveryCode>,
        password: &str,
    ) -> CommandResult<CreatedVault> {
        let path = PathBuf::from(path.trim());
        if path.as_os_str().is_empty() {
            return Err(CommandError::invalid("Choose where to keep the new vault"));
        }
        if path.symlink_metadata().is_ok() {
            return Err(CommandError::invalid(format!(
                "{} already exists; Tessera never overwrites a vault",
                path.display()
            )));
        }
        if self.is_unlocked() {
            return Err(CommandError::invalid("Lock the open vault before signing in to another account"));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| CommandError::io(format!("Cannot create the folder {}: {e}", dir.display())))?;
        }
        let password_key = password_from(password)?;
        let code = join(&path, &password_key, KdfParams::calibrate(KDF_TARGET), &self.options)?;
        self.open_vault(&path.display().to_string())?;
        self.unlock(&Credential::Password { password: password.to_owned() })?;
        Ok(CreatedVault { recovery_code: code.to_display().to_string() })
    }
}
