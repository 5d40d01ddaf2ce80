//! Creating, opening, unlocking and locking the vault, with the hardware
//! factors a locked vault offers.

use std::path::{Path, PathBuf};

use tessera_core::{LockedVault, RollbackError, Vault};
use tessera_unlock::{
    Factor, KdfParams, KeyringFactor, PasswordFactor, RecoveryCode, TpmFactor, UnlockError, YubiKeyFactor,
};

use super::{Desktop, KDF_TARGET, Open, VaultSlot, password_from};
use crate::dto::{AppState, CreatedVault, Credential, HardwareFactorKind, UnlockFactor};
use crate::error::{CommandError, CommandResult, ErrorKind};

impl Desktop {
    /// Creates a vault (KDF calibrated to about a second), leaves it
    /// unlocked and remembers it. The recovery code is returned once and not
    /// kept.
    pub fn create_vault(&self, path: &str, password: &str) -> CommandResult<CreatedVault> {
        let path = PathBuf::from(path.trim());
        if path.as_os_str().is_empty() {
            return Err(CommandError::invalid("Choose where to keep the vault"));
        }
        if path.symlink_metadata().is_ok() {
            return Err(CommandError::invalid(format!(
                "{} already exists; Tessera never overwrites a vault",
                path.display()
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| CommandError::io(format!("Cannot create the folder {}: {e}", dir.display())))?;
        }
        let password = password_from(password)?;
        if matches!(&*self.slot(), VaultSlot::Unlocked(_)) {
            return Err(CommandError::invalid("Lock the open vault before creating another"));
        }
        let (vault, code) =
            tessera_unlock::create_vault(&path, &password, KdfParams::calibrate(KDF_TARGET), &self.options)?;
        let open = Open::new(vault)?;
        *self.slot() = VaultSlot::Unlocked(Box::new(open));
        self.remember_vault(&path)?;
        self.touch();
        Ok(CreatedVault { recovery_code: code.to_display().to_string() })
    }

    /// Opens a vault file without unlocking it, and remembers it.
    pub fn open_vault(&self, path: &str) -> CommandResult<AppState> {
        let path = PathBuf::from(path.trim());
        // Opening checks the header: a damaged or foreign file is refused now.
        LockedVault::open(&path, &self.options)?;
        {
            let mut slot = self.slot();
            if let VaultSlot::Unlocked(_) = &*slot {
                return Err(CommandError::invalid("Lock the open vault before opening another"));
            }
            *slot = VaultSlot::Locked(path.clone());
        }
        self.remember_vault(&path)?;
        Ok(self.app_state())
    }

    fn locked_path(&self) -> CommandResult<PathBuf> {
        match &*self.slot() {
            VaultSlot::Locked(p) | VaultSlot::Unlocking(p) => Ok(p.clone()),
            VaultSlot::Unlocked(open) => Ok(open.vault.path().to_path_buf()),
            VaultSlot::Closed => Err(CommandError::new(ErrorKind::NotFound, "No vault is open; create or open one")),
        }
    }

    pub fn unlock_factors(&self) -> CommandResult<Vec<UnlockFactor>> {
        let locked = LockedVault::open(self.locked_path()?, &self.options)?;
        let mut out = Vec::new();
        for slot in locked.slots() {
            let parts: Vec<&str> = slot.kind.split('+').collect();
            let kind = if parts.contains(&KeyringFactor::KIND) {
                HardwareFactorKind::Keyring
            } else if parts.contains(&TpmFactor::KIND) {
                HardwareFactorKind::Tpm
            } else if parts.contains(&YubiKeyFactor::KIND) {
                HardwareFactorKind::Yubikey
            } else {
                continue;
            };
            out.push(UnlockFactor {
                slot: slot.id.0,
                kind,
                label: slot.label.clone(),
                needs_pin: kind != HardwareFactorKind::Keyring,
                requires_password: parts.contains(&PasswordFactor::KIND),
            });
        }
        Ok(out)
    }

    /// Unlocks with one credential. The key derivation runs without holding
    /// the state lock, so the other window stays responsive.
    pub fn unlock(&self, credential: &Credential) -> CommandResult<AppState> {
        let path = {
            let mut slot = self.slot();
            match &*slot {
                VaultSlot::Unlocked(_) => {
                    drop(slot);
                    return Ok(self.app_state());
                }
                VaultSlot::Unlocking(_) => {
                    return Err(CommandError::new(ErrorKind::Busy, "The vault is being unlocked already"));
                }
                VaultSlot::Closed => {
                    return Err(CommandError::new(ErrorKind::NotFound, "No vault is open; create or open one"));
                }
                VaultSlot::Locked(p) => {
                    let p = p.clone();
                    *slot = VaultSlot::Unlocking(p.clone());
                    p
                }
            }
        };
        let result = self
            .unlock_file(&path, credential)
            .and_then(|(vault, tpm_unreachable)| Ok(Open { tpm_unreachable, ..Open::new(vault)? }));
        let mut slot = self.slot();
        match result {
            Ok(open) => {
                *slot = VaultSlot::Unlocked(Box::new(open));
                drop(slot);
                self.touch();
                Ok(self.app_state())
            }
            Err(e) => {
                *slot = VaultSlot::Locked(path);
                Err(e)
            }
        }
    }

    /// Unlocks the file and checks it against its TPM counter; with the
    /// vault, why the counter could not be used, if it could not.
    fn unlock_file(&self, path: &Path, credential: &Credential) -> CommandResult<(Vault, Option<RollbackError>)> {
        let locked = LockedVault::open(path, &self.options)?;
        let tcti = std::env::var("TESSERA_TPM_TCTI").ok();
        let mut vault = match credential {
            Credential::Password { password } => {
                let password = password_from(password)?;
                tessera_unlock::unlock(locked, &tessera_unlock::Credential::Password(&password))?
            }
            Credential::Recovery { code } => {
                let code = RecoveryCode::parse(code).map_err(|e| CommandError::invalid(e.to_string()))?;
                tessera_unlock::unlock(locked, &tessera_unlock::Credential::Recovery(&code))?
            }
            Credential::Keyring { .. } => with_factor(locked, &KeyringFactor::new(), None)?,
            Credential::Tpm { pin, password, .. } => {
                with_factor(locked, &TpmFactor::new(tcti.as_deref(), pin.as_bytes()), password.as_deref())?
            }
            Credential::Yubikey { pin, password, .. } => {
                with_factor(locked, &YubiKeyFactor::new(None, pin.as_bytes(), false), password.as_deref())?
            }
        };
        // Whole-file rollback (DESIGN §3): an older copy of the file is an
        // integrity error here as in the CLI. Without its TPM the vault
        // opens for reading and refuses writes with a message naming the
        // TPM; the main window shows why in a banner (`AppState.rollback`).
        let warning = tessera_unlock::guard_rollback(&mut vault, tcti.as_deref())?;
        if let Some(warning) = &warning {
            eprintln!("tessera-desktop: warning: {warning}");
        }
        Ok((vault, warning))
    }

    /// Locks: the vault (and every key in it) is dropped and zeroized, the
    /// index with it. Returns whether it was unlocked.
    pub fn lock(&self) -> bool {
        let mut slot = self.slot();
        let was = std::mem::replace(&mut *slot, VaultSlot::Closed);
        let (path, unlocked) = match was {
            VaultSlot::Unlocked(open) => {
                let path = open.vault.path().to_path_buf();
                let Open { vault, .. } = *open;
                vault.lock();
                (Some(path), true)
            }
            VaultSlot::Locked(p) | VaultSlot::Unlocking(p) => (Some(p), false),
            VaultSlot::Closed => (None, false),
        };
        *slot = path.map_or(VaultSlot::Closed, VaultSlot::Locked);
        unlocked
    }
}

/// What a credential needs from the locked vault's slot list.
fn slot_kinds(locked: &LockedVault) -> Vec<String> {
    locked.slots().into_iter().map(|s| s.kind).collect()
}

/// Unlocks with a hardware factor, adding the master password when the
/// vault only has a composite slot for that factor.
fn with_factor(locked: LockedVault, factor: &dyn Factor, password: Option<&str>) -> CommandResult<Vault> {
    let kind = factor.kind();
    let kinds = slot_kinds(&locked);
    let alone = kinds.iter().any(|k| k == kind);
    let composite =
        kinds.iter().any(|k| k.split('+').any(|f| f == kind) && k.split('+').any(|f| f == PasswordFactor::KIND));
    if !alone && composite {
        let password =
            password_from(password.ok_or_else(|| CommandError::invalid("This slot also needs the master password"))?)?;
        let factors: [&dyn Factor; 2] = [factor, &PasswordFactor::unlocking(&password)];
        return Ok(tessera_unlock::unlock_with_factors(locked, &factors, UnlockError::WrongPassword)?);
    }
    let wrong = UnlockError::FactorUnavailable { kind, reason: format!("the {kind} secret does not open this vault") };
    Ok(tessera_unlock::unlock_with_factors(locked, &[factor], wrong)?)
}
