//! The unlock slots of the open vault (list, add, remove, with the TPM
//! counter binding against rollback) and the master password.

use tessera_core::{LockedVault, SlotId};
use tessera_unlock::{Factor, KdfParams, KeyringFactor, Password, PasswordFactor, TpmFactor, YubiKeyFactor};

use super::{Desktop, KDF_TARGET, password_from};
use crate::dto::{AddSlotRequest, HardwareFactorKind, SlotInfoDto, unix};
use crate::error::{CommandError, CommandResult};

impl Desktop {
    pub fn list_slots(&self) -> CommandResult<Vec<SlotInfoDto>> {
        self.with_open(|open| {
            let used = open.vault.slot_last_used()?;
            Ok(open
                .vault
                .slots()?
                .iter()
                .map(|s| SlotInfoDto {
                    id: s.id.0,
                    kind: s.kind.clone(),
                    label: s.label.clone(),
                    description: tessera_unlock::describe_slot(s).unwrap_or_else(|e| e.to_string()),
                    created_at: unix(s.created),
                    last_used_at: used.get(&s.id).map(|t| unix(*t)),
                    warning: None,
                })
                .collect())
        })
    }

    pub fn add_slot(&self, request: &AddSlotRequest) -> CommandResult<SlotInfoDto> {
        let tcti = std::env::var("TESSERA_TPM_TCTI").ok();
        let pin = request.pin.clone().unwrap_or_default();
        let keyring = KeyringFactor::new();
        let tpm;
        let yubikey;
        let factor: &dyn Factor = match request.factor {
            HardwareFactorKind::Keyring => &keyring,
            HardwareFactorKind::Tpm => {
                if pin.is_empty() {
                    return Err(CommandError::invalid("Choose a PIN for the TPM slot"));
                }
                tpm = TpmFactor::new(tcti.as_deref(), pin.as_bytes());
                &tpm
            }
            HardwareFactorKind::Yubikey => {
                if pin.is_empty() {
                    return Err(CommandError::invalid("Enter the YubiKey's PIV PIN"));
                }
                yubikey = YubiKeyFactor::new(None, pin.as_bytes(), request.touch);
                &yubikey
            }
        };
        let name = match request.factor {
            HardwareFactorKind::Keyring => "OS keyring",
            HardwareFactorKind::Tpm => "TPM",
            HardwareFactorKind::Yubikey => "YubiKey",
        };
        let password;
        let password_factor;
        let mut factors: Vec<&dyn Factor> = vec![factor];
        let default_label = if request.also_require_password {
            password = password_from(request.password.as_deref().unwrap_or_default())?;
            self.check_master_password(&password)?;
            password_factor = PasswordFactor::new(&password, KdfParams::calibrate(KDF_TARGET));
            factors.push(&password_factor);
            format!("{name} and master password")
        } else {
            name.to_owned()
        };
        let label = request.label.clone().filter(|l| !l.trim().is_empty()).unwrap_or(default_label);
        let (id, warning) = self.with_open(|open| {
            let id = tessera_unlock::add_slot(&mut open.vault, &label, &factors)?;
            // As the CLI's `slot add tpm`: the first TPM slot binds the
            // vault to a TPM counter against whole-file rollback (DESIGN §3).
            let warning = match request.factor {
                HardwareFactorKind::Tpm => {
                    let binding =
                        tessera_unlock::bind_rollback_counter(&mut open.vault, tcti.as_deref()).map_err(|e| {
                            let e = CommandError::from(e);
                            CommandError::new(
                                e.kind,
                                format!(
                                    "The TPM slot was added, but the vault could not be bound to its TPM counter \
                                     against rollback: {}",
                                    e.message
                                ),
                            )
                        })?;
                    binding.warning()
                }
                _ => None,
            };
            Ok((id, warning))
        })?;
        let slot = self
            .list_slots()?
            .into_iter()
            .find(|s| s.id == id.0)
            .ok_or_else(|| CommandError::internal("The new slot is missing from the slot list"))?;
        Ok(SlotInfoDto { warning, ..slot })
    }

    /// Removes a slot; the vault's last TPM slot takes the TPM counter
    /// binding with it, as in the CLI (unbinding needs no TPM). Returns
    /// warnings for people (the keyring entry or the counter could not be
    /// deleted).
    pub fn remove_slot(&self, slot: u32) -> CommandResult<Option<String>> {
        let tcti = std::env::var("TESSERA_TPM_TCTI").ok();
        self.with_open(|open| {
            if open.vault.slots()?.len() <= 1 {
                return Err(CommandError::invalid("This is the vault's last unlock slot; add another first"));
            }
            let unbound = tessera_unlock::unbind_rollback_counter(&mut open.vault, SlotId(slot), tcti.as_deref())?;
            let warning = tessera_unlock::remove_slot(&mut open.vault, SlotId(slot))?;
            if unbound.is_some() {
                // Nothing is bound any more: nothing to be unreachable.
                open.tpm_unreachable = None;
            }
            let warnings: Vec<String> = warning.into_iter().chain(unbound.and_then(|u| u.warning)).collect();
            Ok((!warnings.is_empty()).then(|| warnings.join("; ")))
        })
    }

    /// Checks the master password against the open vault's file (its
    /// own key derivation, without the state lock).
    pub(crate) fn check_master_password(&self, password: &Password) -> CommandResult<()> {
        let path = self.with_open(|open| Ok(open.vault.path().to_path_buf()))?;
        let locked = LockedVault::open(&path, &self.options)?;
        tessera_unlock::unlock(locked, &tessera_unlock::Credential::Password(password))?.lock();
        Ok(())
    }

    pub fn change_master_password(&self, current: &str, new: &str) -> CommandResult<()> {
        let current = password_from(current)?;
        let new = password_from(new)?;
        self.check_master_password(&current)?;
        self.with_open(|open| Ok(tessera_unlock::change_password(&mut open.vault, &new, None)?))
    }
}
