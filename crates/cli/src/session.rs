//! Where the vault is and how the user proves who they are: the vault path,
//! the master password (file, stdin or a no-echo prompt — never an argument
//! value), the recovery code, opening and unlocking.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tessera_core::{LockedVault, OpenOptions, Vault};
use tessera_unlock::{Credential, Password, RecoveryCode};
use zeroize::Zeroizing;

use crate::cli::{Cli, UnlockWith};
use crate::exit::{CliResult, Failure};

/// Largest secret input file read (a password or recovery code is a line).
const MAX_SECRET_INPUT: u64 = 64 * 1024;

/// Global options every command shares.
pub struct Session {
    pub vault_path: PathBuf,
    pub options: OpenOptions,
    password_file: Option<PathBuf>,
    password_stdin: bool,
    unlock: UnlockWith,
    recovery_file: Option<PathBuf>,
    pin_file: Option<PathBuf>,
    tpm_tcti: Option<String>,
    /// Lines of standard input after the first, when the first was the
    /// master password (`passwd` reads the new one from the next line).
    stdin_rest: Option<Zeroizing<Vec<u8>>>,
    /// The master password as read from standard input, for a command
    /// that needs it twice (stdin can be read only once).
    stdin_password: Option<Zeroizing<Vec<u8>>>,
    /// The master password as last given, for `sync`, which needs it to
    /// unlock and again to log in to the account.
    last_password: Option<Zeroizing<Vec<u8>>>,
}

impl Session {
    pub fn new(cli: &Cli) -> CliResult<Session> {
        let vault_path = match &cli.vault {
            Some(p) => p.clone(),
            None => default_vault_path()?,
        };
        if !(cli.lock_timeout.is_finite() && cli.lock_timeout >= 0.0 && cli.lock_timeout <= 86_400.0) {
            return Err(Failure::usage("--lock-timeout must be between 0 and 86400 seconds"));
        }
        Ok(Session {
            vault_path,
            options: OpenOptions { lock_timeout: Duration::from_secs_f64(cli.lock_timeout) },
            password_file: cli.password_file.clone(),
            password_stdin: cli.password_stdin,
            unlock: cli.unlock,
            recovery_file: cli.recovery_file.clone(),
            pin_file: cli.pin_file.clone(),
            tpm_tcti: cli.tpm_tcti.clone(),
            stdin_rest: None,
            stdin_password: None,
            last_password: None,
        })
    }

    /// Whether standard input is taken by the master password.
    pub fn stdin_taken(&self) -> bool {
        self.password_stdin
    }

    /// The master password from `--password-file`, `--password-stdin` or a
    /// prompt (asked twice when `confirm`).
    pub fn master_password(&mut self, prompt: &str, confirm: bool) -> CliResult<Password> {
        let password = if let Some(file) = &self.password_file {
            password_from(&read_secret_file(file)?, "--password-file")?
        } else if self.password_stdin {
            let input = read_stdin()?;
            let split = input.iter().position(|&b| b == b'\n').map(|i| i + 1).unwrap_or(input.len());
            self.stdin_rest = Some(Zeroizing::new(input[split..].to_vec()));
            self.stdin_password = Some(Zeroizing::new(input[..split].to_vec()));
            password_from(&input, "standard input")?
        } else {
            prompt_password(prompt, confirm)?
        };
        self.last_password = Some(Zeroizing::new(password.as_bytes().to_vec()));
        Ok(password)
    }

    /// The master password for a sync account: the one already given to
    /// unlock, else asked for as for unlocking.
    pub fn account_password(&mut self) -> CliResult<Password> {
        match &self.last_password {
            Some(bytes) => password_from(bytes, "the master password"),
            None => self.master_password("Master password (for the sync account): ", false),
        }
    }

    /// The master password again, for a command that needs it after
    /// unlocking (a composite slot): the same file or standard input line,
    /// else a prompt.
    pub fn master_password_again(&mut self) -> CliResult<Password> {
        if let Some(line) = &self.stdin_password {
            return password_from(line, "standard input");
        }
        self.master_password("Master password (for the new slot): ", true)
    }

    /// A new master password for `passwd`: from `file`, else the second
    /// line of standard input when the first was the current password, else
    /// a prompt asked twice.
    pub fn new_password(&mut self, file: Option<&Path>) -> CliResult<Password> {
        if let Some(file) = file {
            return password_from(&read_secret_file(file)?, "--new-password-file");
        }
        if let Some(rest) = self.stdin_rest.take() {
            if !rest.is_empty() {
                return password_from(&rest, "the second line of standard input");
            }
        }
        prompt_password("New master password: ", true)
    }

    /// Opens the vault file (no secret needed).
    pub fn open(&self) -> CliResult<LockedVault> {
        Ok(LockedVault::open(&self.vault_path, &self.options)?)
    }

    /// Opens and unlocks the vault with the factor chosen by `--unlock`,
    /// then checks it against its TPM counter if it is bound to one: an
    /// older copy of the file is exit 5.
    pub fn unlock(&mut self) -> CliResult<Vault> {
        let mut vault = self.unlock_unchecked()?;
        self.guard_rollback(&mut vault)?;
        Ok(vault)
    }

    /// Installs the vault's TPM counter and checks the file against it
    /// ([`tessera_unlock::guard_rollback`]): an older file is exit 5; a TPM
    /// that cannot be used leaves reading possible, with a warning, and
    /// every write refused (DESIGN §3).
    fn guard_rollback(&self, vault: &mut Vault) -> CliResult<()> {
        if let Some(e) = tessera_unlock::guard_rollback(vault, self.tpm_tcti())? {
            eprintln!(
                "tessera: warning: {e}. Reading only: this copy of the vault was not checked against an older one"
            );
        }
        Ok(())
    }

    /// Gives `vault` its TPM counter if it is bound to one; whether it is.
    pub fn install_rollback_counter(&self, vault: &mut Vault) -> CliResult<bool> {
        Ok(tessera_unlock::install_tpm_counter(vault, self.tpm_tcti())?)
    }

    /// Unlocks with the master password, whatever `--unlock` says: for an
    /// act that must be the owner's (`restore-check --accept-older`). The
    /// vault's TPM counter is installed but the file not checked.
    pub fn unlock_with_master_password(&mut self) -> CliResult<Vault> {
        let locked = self.open()?;
        let password = self.master_password("Master password (to accept this copy of the vault): ", false)?;
        let mut vault = tessera_unlock::unlock(locked, &Credential::Password(&password))?;
        self.install_rollback_counter(&mut vault)?;
        Ok(vault)
    }

    /// Unlocks as [`Session::unlock`] does, without the rollback check
    /// (`restore-check` reports it instead).
    pub fn unlock_unchecked(&mut self) -> CliResult<Vault> {
        let locked = self.open()?;
        match self.unlock {
            UnlockWith::Password => {
                let password = self.master_password("Master password: ", false)?;
                Ok(tessera_unlock::unlock(locked, &Credential::Password(&password))?)
            }
            UnlockWith::Recovery => {
                let code = self.recovery_code()?;
                Ok(tessera_unlock::unlock(locked, &Credential::Recovery(&code))?)
            }
            UnlockWith::Keyring => self.unlock_with_keyring(locked),
            UnlockWith::Yubikey => {
                let pin = self.pin("YubiKey PIN: ", false)?;
                let again = self.open()?;
                let result = self.unlock_with_factor(locked, &tessera_unlock::YubiKeyFactor::new(None, &pin, false))?;
                self.or_password_after_timeout(again, result)
            }
            UnlockWith::Tpm => {
                let pin = self.pin("TPM PIN: ", false)?;
                let tcti = self.tpm_tcti.clone();
                let again = self.open()?;
                let result = self.unlock_with_factor(locked, &tessera_unlock::TpmFactor::new(tcti.as_deref(), &pin))?;
                self.or_password_after_timeout(again, result)
            }
        }
    }

    /// The TPM to use (`--tpm-tcti`, `$TESSERA_TPM_TCTI`), if given.
    pub fn tpm_tcti(&self) -> Option<&str> {
        self.tpm_tcti.as_deref()
    }

    /// The PIN from `--pin-file`, else a no-echo prompt (asked twice when
    /// `confirm`, for a new slot).
    pub fn pin(&self, prompt: &str, confirm: bool) -> CliResult<Zeroizing<Vec<u8>>> {
        let text = match &self.pin_file {
            Some(file) => read_secret_file(file)?,
            None if std::io::stdin().is_terminal() => {
                let read = |p: &str| {
                    rpassword::prompt_password(p)
                        .map(|s| Zeroizing::new(s.into_bytes()))
                        .map_err(|e| Failure::other(format!("cannot read the PIN: {e}")))
                };
                let first = read(prompt)?;
                if confirm && *read("Repeat it: ")? != *first {
                    return Err(Failure::usage("the two PINs differ"));
                }
                first
            }
            None => return Err(Failure::usage("no PIN: give --pin-file FILE or run in a terminal")),
        };
        let pin = Password::from_first_line(&text).map_err(|_| Failure::usage("the PIN is empty"))?;
        Ok(Zeroizing::new(pin.as_bytes().to_vec()))
    }

    /// Unlocks with `factor`: a slot it opens alone, else a slot that needs
    /// it and the master password (then the password is read as always).
    /// The outer error is about reading input, the inner one the unlock's.
    fn unlock_with_factor(
        &mut self,
        locked: LockedVault,
        factor: &dyn tessera_unlock::Factor,
    ) -> CliResult<Result<Vault, tessera_unlock::UnlockError>> {
        use tessera_unlock::{PasswordFactor, UnlockError};
        let kind = factor.kind();
        let kinds: Vec<String> = locked.slots().into_iter().map(|s| s.kind).collect();
        let alone = kinds.iter().any(|k| k == kind);
        let composite =
            kinds.iter().any(|k| k.split('+').any(|f| f == kind) && k.split('+').any(|f| f == PasswordFactor::KIND));
        if !alone && composite {
            let password = self.master_password("Master password: ", false)?;
            let factors: [&dyn tessera_unlock::Factor; 2] = [factor, &PasswordFactor::unlocking(&password)];
            return Ok(tessera_unlock::unlock_with_factors(locked, &factors, UnlockError::WrongPassword));
        }
        let wrong =
            UnlockError::FactorUnavailable { kind, reason: format!("the {kind} secret does not open this vault") };
        Ok(tessera_unlock::unlock_with_factors(locked, &[factor], wrong))
    }

    /// The OS keyring alone, or with the password for a `password+keyring`
    /// slot. When the keyring cannot be used (missing, locked, not
    /// answering, no keyring slot) this says why and falls back to the
    /// master password, if one can be had without guessing where from.
    fn unlock_with_keyring(&mut self, locked: LockedVault) -> CliResult<Vault> {
        use tessera_unlock::{KeyringFactor, UnlockError};
        // Keep the file open for the fallback.
        let again = self.open()?;
        match self.unlock_with_factor(locked, &KeyringFactor::new())? {
            Ok(vault) => Ok(vault),
            Err(
                e @ (UnlockError::FactorUnavailable { .. }
                | UnlockError::ServiceTimeout { .. }
                | UnlockError::NoSlot { .. }),
            ) => {
                let reason = match &e {
                    UnlockError::NoSlot { .. } => {
                        "this vault has no OS keyring slot (add one with `tessera slot add keyring`)".to_owned()
                    }
                    other => other.to_string(),
                };
                self.password_instead(again, reason)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A TPM or YubiKey unlock's result; when the device's service did not
    /// answer within its bound, the master password instead (the device
    /// itself refusing, say a wrong or blocked PIN, is reported as is).
    fn or_password_after_timeout(
        &mut self,
        again: LockedVault,
        result: Result<Vault, tessera_unlock::UnlockError>,
    ) -> CliResult<Vault> {
        match result {
            Ok(vault) => Ok(vault),
            Err(e) if e.is_service_timeout() => self.password_instead(again, e.to_string()),
            Err(e) => Err(e.into()),
        }
    }

    /// Unlocks `again` with the master password after a factor failed for
    /// `reason`: the one already given (a composite slot), else from the
    /// file, standard input or the terminal. With none of those, or no
    /// password slot, the failure says what to do (exit 3).
    fn password_instead(&mut self, again: LockedVault, reason: String) -> CliResult<Vault> {
        use tessera_unlock::PasswordFactor;
        if !again.slots().iter().any(|s| s.kind == PasswordFactor::KIND) {
            return Err(Failure::new(crate::exit::Exit::WrongKey, reason));
        }
        let can_ask = self.password_file.is_some() || self.password_stdin || std::io::stdin().is_terminal();
        if self.last_password.is_none() && !can_ask {
            return Err(Failure::new(
                crate::exit::Exit::WrongKey,
                format!("{reason}; unlock with your master password instead (--unlock password)"),
            ));
        }
        eprintln!("tessera: {reason}; using the master password instead");
        let password = match &self.last_password {
            Some(bytes) => password_from(bytes, "the master password")?,
            None => self.master_password("Master password: ", false)?,
        };
        Ok(tessera_unlock::unlock(again, &Credential::Password(&password))?)
    }

    fn recovery_code(&self) -> CliResult<RecoveryCode> {
        let text = match &self.recovery_file {
            Some(file) => read_secret_file(file)?,
            None if std::io::stdin().is_terminal() => Zeroizing::new(
                rpassword::prompt_password("Recovery code: ")
                    .map_err(|e| Failure::other(format!("cannot read the recovery code: {e}")))?
                    .into_bytes(),
            ),
            None => {
                return Err(Failure::usage("--unlock recovery needs --recovery-file FILE (or a terminal to type it)"));
            }
        };
        let text = std::str::from_utf8(&text).map_err(|_| Failure::usage("the recovery code is not text"))?;
        let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
        RecoveryCode::parse(line).map_err(Failure::usage)
    }
}

/// `$XDG_DATA_HOME/tessera/vault.tessera` (usually ~/.local/share/…).
fn default_vault_path() -> CliResult<PathBuf> {
    directories::ProjectDirs::from("", "", "tessera")
        .map(|d| d.data_dir().join("vault.tessera"))
        .ok_or_else(|| Failure::usage("cannot find a home directory for the default vault; give --vault PATH"))
}

fn password_from(bytes: &[u8], source: &str) -> CliResult<Password> {
    Password::from_first_line(bytes).map_err(|_| Failure::usage(format!("the master password from {source} is empty")))
}

/// Reads a small secret file (`-` is standard input) into zeroizing memory.
pub fn read_secret_file(path: &Path) -> CliResult<Zeroizing<Vec<u8>>> {
    if path == Path::new("-") {
        return read_stdin();
    }
    let file = std::fs::File::open(path).map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let mut buf = Zeroizing::new(Vec::new());
    file.take(MAX_SECRET_INPUT)
        .read_to_end(&mut buf)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    Ok(buf)
}

fn read_stdin() -> CliResult<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::new());
    std::io::stdin()
        .take(MAX_SECRET_INPUT)
        .read_to_end(&mut buf)
        .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
    Ok(buf)
}

fn prompt_password(prompt: &str, confirm: bool) -> CliResult<Password> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "no master password: use --password-file FILE or --password-stdin, or run in a terminal",
        ));
    }
    let read = |p: &str| {
        rpassword::prompt_password(p)
            .map(|s| Zeroizing::new(s.into_bytes()))
            .map_err(|e| Failure::other(format!("cannot read the password: {e}")))
    };
    let first = read(prompt)?;
    if confirm {
        let again = read("Repeat it: ")?;
        if *again != *first {
            return Err(Failure::usage("the two passwords differ"));
        }
    }
    Password::new(first).map_err(|_| Failure::usage("the master password is empty"))
}
