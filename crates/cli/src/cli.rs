//! The command line, as clap sees it. This is a contract other tools drive:
//! names, flags and JSON shapes change only with the README.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Tessera: a password manager with an encrypted local vault.
#[derive(Parser, Debug)]
#[command(name = "tessera", version, about, long_about = None, max_term_width = 100)]
#[command(after_help = "Exit codes: 0 ok · 1 other error · 2 usage or bad input · 3 wrong password or factor · \
4 item not found · 5 integrity failure · 6 vault busy")]
pub struct Cli {
    /// Vault file [default: $TESSERA_VAULT, else ~/.local/share/tessera/vault.tessera]
    #[arg(long, global = true, value_name = "PATH", env = "TESSERA_VAULT")]
    pub vault: Option<PathBuf>,

    /// Read the master password from the first line of FILE
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "password_stdin")]
    pub password_file: Option<PathBuf>,

    /// Read the master password from the first line of standard input
    #[arg(long, global = true)]
    pub password_stdin: bool,

    /// How to unlock: the master password, the OS keyring (falls back to the password when the keyring is
    /// unavailable), or the recovery code
    #[arg(long, global = true, value_enum, default_value_t = UnlockWith::Password)]
    pub unlock: UnlockWith,

    /// Read the recovery code from FILE (with --unlock recovery)
    #[arg(long, global = true, value_name = "FILE")]
    pub recovery_file: Option<PathBuf>,

    /// Read the PIN (TPM, YubiKey) from the first line of FILE
    #[arg(long, global = true, value_name = "FILE")]
    pub pin_file: Option<PathBuf>,

    /// The TPM to use, as a TCTI string [default: device:/dev/tpmrm0]
    #[arg(long, global = true, value_name = "TCTI", env = "TESSERA_TPM_TCTI")]
    pub tpm_tcti: Option<String>,

    /// Seconds to wait for another process's write lock before exiting with 6
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 10.0, env = "TESSERA_LOCK_TIMEOUT")]
    pub lock_timeout: f64,

    /// Print machine-readable JSON
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The factor used to unlock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum UnlockWith {
    /// The master password.
    Password,
    /// The secret in the OS keyring (Secret Service), from `slot add keyring`.
    Keyring,
    /// The secret sealed in this machine's TPM 2.0, released by its PIN (`--pin-file`), from `slot add tpm`.
    Tpm,
    /// ECDH with the YubiKey's PIV key (slot 9d) after its PIN (`--pin-file`), from `slot add yubikey`.
    Yubikey,
    /// The recovery code printed by `init`.
    Recovery,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new vault (never overwrites) and print its one-time recovery code
    Init(InitArgs),
    /// Show the vault file's path, format and unlock slots (no password needed)
    Info,
    /// Add an item and print its id
    Add(AddArgs),
    /// Change an item
    Edit(EditArgs),
    /// Show an item (secrets only with --reveal)
    Show(ShowArgs),
    /// List items
    List(ListArgs),
    /// Search titles, usernames, URLs, tags and folders
    Search {
        /// Words that must all appear
        query: String,
    },
    /// Move an item to the trash
    Rm {
        /// Id, unique id prefix or exact title
        item: String,
    },
    /// Bring an item back from the trash
    Restore {
        /// Id, unique id prefix or exact title
        item: String,
    },
    /// Delete trashed items for good
    Purge(PurgeArgs),
    /// Attach a file (up to 25 MiB) to an item
    Attach {
        /// Id, unique id prefix or exact title
        item: String,
        /// The file to attach; its name becomes the attachment's name
        file: PathBuf,
    },
    /// Write an item's attachment to a file
    Attachment {
        /// Id, unique id prefix or exact title
        item: String,
        /// Attachment name
        name: String,
        /// Output file (`-` for standard output)
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: PathBuf,
    },
    /// Remove an attachment from an item
    Detach {
        /// Id, unique id prefix or exact title
        item: String,
        /// Attachment name
        name: String,
    },
    /// Print an item's current one-time code
    Totp {
        /// Id, unique id prefix or exact title
        item: String,
        /// Compute the code for this Unix time instead of now
        #[arg(long, value_name = "UNIX_SECONDS")]
        at: Option<u64>,
    },
    /// Generate a password or passphrase (no vault needed)
    Generate(GenerateArgs),
    /// Change the master password (one key derivation, whatever the vault's size)
    Passwd {
        /// Read the new master password from the first line of FILE
        #[arg(long, value_name = "FILE")]
        new_password_file: Option<PathBuf>,
    },
    /// Make a new data key version and re-encrypt older items with it
    Rotate,
    /// List, add and remove unlock slots (password, recovery code, OS keyring)
    #[command(subcommand)]
    Slot(SlotCommand),
    /// Import items from KeePass, Bitwarden, a CSV, an authenticator app or a Tessera backup
    Import(ImportArgs),
    /// Export items to KeePass (KDBX 4), Bitwarden JSON or an encrypted Tessera backup
    Export(ExportArgs),
    /// Report weak, reused, old and expiring passwords
    Health,
    /// Show the vault's audit log (checks its hash chain)
    Audit,
    /// Check every slot, item, attachment and the audit chain; exit 5 on any failure
    Verify,
    /// Compare the vault file with its TPM counter (whole-file rollback); exit 5 if it is an older copy
    RestoreCheck {
        /// Accept this copy as the current vault (a deliberate restore from a backup); asks for the master password
        #[arg(long)]
        accept_older: bool,
    },
    /// Sync through a tessera-server that stores ciphertext only (no subcommand: push and pull now)
    Sync(SyncArgs),
    /// Share items with other accounts on the sync server, end to end encrypted
    Share(ShareArgs),
    /// This account's sharing identity (fingerprint), and verifying other people's
    Identity(IdentityArgs),
    /// Browser integration: install the KeePassXC-Browser extension's host, see what is installed
    #[command(subcommand)]
    Browser(BrowserCommand),
    /// SSH keys: print a key's authorized_keys line
    #[command(subcommand)]
    Ssh(SshCommand),
    /// Serve the vault's SSH keys as an SSH agent, headless, until interrupted
    SshAgent(SshAgentArgs),
    /// Print one secret named by a reference, tessera://ITEM/FIELD
    Read(ReadArgs),
    /// Run a command with references resolved into its environment, its output masked
    Run(RunArgs),
    /// Fill a template's {{ tessera://ITEM/FIELD }} references
    Inject(InjectArgs),
    /// A Model Context Protocol server on stdio, for AI agents (approvals in the app, or --allow)
    Mcp(McpArgs),
    /// git's credential helper protocol: `git config credential.helper '!tessera credential'`
    Credential {
        /// What git asks
        #[arg(value_enum)]
        action: CredentialAction,
    },
}

/// `tessera read`.
#[derive(Args, Debug)]
pub struct ReadArgs {
    /// tessera://ITEM/FIELD: ITEM a title or id, FIELD password, username, totp, notes, url or a custom
    /// field's name (%2F for a / in a name)
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Write the value to FILE (mode 0600) instead of printing it
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `tessera run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Set NAME to the value of a reference (repeatable)
    #[arg(long = "env", value_name = "NAME=REF")]
    pub env: Vec<String>,
    /// Variables from FILE (NAME=VALUE lines; values may be references)
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Do not mask the resolved values in the command's output
    #[arg(long)]
    pub no_masking: bool,
    /// The command and its arguments, after --
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `tessera inject`.
#[derive(Args, Debug)]
pub struct InjectArgs {
    /// The template
    #[arg(short = 'i', long = "in-file", value_name = "TEMPLATE")]
    pub input: PathBuf,
    /// Where to write the result (mode 0600) [default: standard output]
    #[arg(short = 'o', long = "out-file", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Replace OUT if it exists
    #[arg(long)]
    pub force: bool,
}

/// What git asks its credential helper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CredentialAction {
    /// Find a login for the URL git gives
    Get,
    /// Save the login git used successfully
    Store,
    /// git says the login failed (the vault keeps it: nothing is deleted)
    Erase,
}

/// `tessera ssh …`.
#[derive(Subcommand, Debug)]
pub enum SshCommand {
    /// Print the `authorized_keys` line of an SSH key item
    Public {
        /// Id, unique id prefix or exact title
        item: String,
    },
}

/// `tessera ssh-agent`.
#[derive(Args, Debug)]
pub struct SshAgentArgs {
    /// The socket to serve [default: $XDG_RUNTIME_DIR/tessera/ssh-agent.sock]
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Sign without asking (needed when there is no terminal to ask on)
    #[arg(long)]
    pub no_confirm: bool,
}

/// `tessera mcp`.
#[derive(Args, Debug)]
pub struct McpArgs {
    /// Run headless: unlock the vault here and give agents these items
    /// (title or id) without asking; everything else is refused. Without
    /// it, each value is approved by the user in the running app.
    #[arg(long, value_name = "ITEM", num_args = 1..)]
    pub allow: Vec<String>,
}

/// `tessera browser …`.
#[derive(Subcommand, Debug)]
pub enum BrowserCommand {
    /// Write the native-messaging manifests that let the browser start Tessera's host
    Install {
        /// Which browser
        #[arg(long, value_enum, default_value_t = BrowserChoice::All)]
        browser: BrowserChoice,
    },
    /// Say which browsers would start Tessera's host, and warn about KeePassXC's
    Status,
}

/// The browsers `browser install` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BrowserChoice {
    /// Firefox and Firefox ESR
    Firefox,
    /// Chromium
    Chromium,
    /// Google Chrome
    Chrome,
    /// Brave
    Brave,
    /// Every one of them
    All,
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// A TOTP code or a recovery code, for an account with two-factor login
    #[arg(long, global = true, value_name = "CODE")]
    pub totp: Option<String>,
    #[command(subcommand)]
    pub command: Option<SyncCommand>,
}

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// Create a sync account from this vault and upload every item
    Register {
        /// Server base URL, e.g. http://127.0.0.1:8743
        #[arg(long, value_name = "URL")]
        server: String,
        /// The account's email address (the login name)
        #[arg(long)]
        email: String,
        /// Also write the emergency kit (server, email, Secret Key) to FILE (mode 0600, never overwritten)
        #[arg(long, value_name = "FILE")]
        emergency_kit: Option<PathBuf>,
        /// A name for this device in the account's event log [default: the host name]
        #[arg(long, value_name = "NAME")]
        device_name: Option<String>,
    },
    /// Make a new local vault (--vault NEW) from a sync account
    Clone {
        /// Server base URL
        #[arg(long, value_name = "URL")]
        server: String,
        /// The account's email address
        #[arg(long)]
        email: String,
        /// The emergency kit, or a file holding the Secret Key [default: asked for]
        #[arg(long, value_name = "FILE")]
        secret_key_file: Option<PathBuf>,
        /// A name for this device [default: the host name]
        #[arg(long, value_name = "NAME")]
        device_name: Option<String>,
        #[command(flatten)]
        init: InitArgs,
    },
    /// Show the account, this device's session and what waits to go up (no network)
    Status,
    /// End this device's session on the server
    Logout {
        /// Also unlink this vault from the account
        #[arg(long)]
        forget: bool,
    },
    /// Show the emergency kit again (server, email, Secret Key), or write it to FILE
    Kit {
        /// Write the kit to FILE (mode 0600, never overwritten) instead of printing it
        #[arg(long, value_name = "FILE")]
        emergency_kit: Option<PathBuf>,
    },
    /// The account's event log (logins, failed logins, token reuse, 2FA changes), newest first
    Events,
    /// The account's devices
    Devices,
    /// Revoke another device's session (a lost laptop): its tokens stop working at once
    Revoke {
        /// The device id, as `sync devices` shows it
        device: String,
    },
    /// Two-factor (TOTP) login for the account
    #[command(name = "2fa", subcommand)]
    TwoFactor(TwoFactorCommand),
}

#[derive(Subcommand, Debug)]
pub enum TwoFactorCommand {
    /// Without --totp: show the secret to add to an authenticator; with --totp CODE: switch it on
    Enable,
    /// Switch it off (--totp CODE: a current code or a recovery code)
    Disable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KdfChoice {
    /// Argon2id (default)
    Argon2id,
    /// PBKDF2-HMAC-SHA256, for FIPS settings
    Pbkdf2,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Key derivation function
    #[arg(long, value_enum, default_value_t = KdfChoice::Argon2id)]
    pub kdf: KdfChoice,
    /// Argon2id memory in MiB (minimum 64) [default: calibrated to about 1 s]
    #[arg(long, value_name = "M")]
    pub kdf_memory_mib: Option<u32>,
    /// Argon2id passes (minimum 3) or PBKDF2 iterations (minimum 600000)
    #[arg(long, value_name = "T")]
    pub kdf_iterations: Option<u32>,
    /// Argon2id lanes (minimum 4)
    #[arg(long, value_name = "P")]
    pub kdf_parallelism: Option<u32>,
    /// Write the recovery code to FILE instead of printing it
    #[arg(long, value_name = "FILE")]
    pub recovery_code_file: Option<PathBuf>,
}

/// `tessera share …`.
#[derive(Args, Debug)]
pub struct ShareArgs {
    /// A TOTP code or a recovery code, for an account with two-factor login
    #[arg(long, global = true, value_name = "CODE")]
    pub totp: Option<String>,
    #[command(subcommand)]
    pub command: ShareCommand,
}

/// The share subcommands.
#[derive(Subcommand, Debug)]
pub enum ShareCommand {
    /// Create a share (you manage it)
    Create {
        /// Its name, e.g. Family
        name: String,
        /// Give the share's key only to people whose fingerprint you verified
        #[arg(long)]
        require_verified: bool,
    },
    /// Shares you are in and invitations waiting for you
    List,
    /// Invite an existing account by email (they accept at their next `share list`)
    Invite {
        /// Share name or id
        name: String,
        /// The invitee's account email
        email: String,
        /// What they may do
        #[arg(long, default_value = "read", value_parser = ["read", "write", "manage"])]
        role: String,
    },
    /// Accept an invitation (the id from `share list`)
    Accept {
        /// Share id
        id: String,
    },
    /// Decline an invitation
    Decline {
        /// Share id
        id: String,
    },
    /// A share's members, roles and fingerprints
    Members {
        /// Share name or id
        name: String,
    },
    /// Remove a member: the share gets a new key and its items are re-encrypted
    Remove {
        /// Share name or id
        name: String,
        /// The member's email
        email: String,
    },
    /// Leave a share (your copies of its items stay, as your own)
    Leave {
        /// Share name or id
        name: String,
    },
}

/// `tessera identity`.
#[derive(Args, Debug)]
pub struct IdentityArgs {
    /// A TOTP code or a recovery code, for an account with two-factor login
    #[arg(long, global = true, value_name = "CODE")]
    pub totp: Option<String>,
    #[command(subcommand)]
    pub command: Option<IdentityCommand>,
}

/// The identity subcommands.
#[derive(Subcommand, Debug)]
pub enum IdentityCommand {
    /// Mark a person's key verified after comparing fingerprints with them
    Verify {
        /// Their account email
        email: String,
        /// The fingerprint they read you (40 digits; spaces are ignored)
        fingerprint: String,
    },
}

/// Fields shared by `add` and `edit`.
#[derive(Args, Debug, Default)]
pub struct ItemFields {
    /// Item type
    #[arg(long = "type", value_name = "TYPE", value_parser = ["login", "note", "card", "identity", "ssh-key"])]
    pub item_type: Option<String>,
    /// Title
    #[arg(long)]
    pub title: Option<String>,
    /// Username
    #[arg(long)]
    pub username: Option<String>,
    /// URL (repeat for several; on edit, replaces the list; "" clears it)
    #[arg(long = "url", value_name = "URL")]
    pub urls: Vec<String>,
    /// Notes ("" clears them)
    #[arg(long)]
    pub notes: Option<String>,
    /// TOTP/HOTP as an otpauth:// URI ("" removes it)
    #[arg(long, value_name = "URI")]
    pub otp: Option<String>,
    /// Custom field (repeatable)
    #[arg(long = "field", value_name = "NAME=VALUE")]
    pub fields: Vec<String>,
    /// Protected custom field, hidden unless revealed (repeatable)
    #[arg(long = "protected-field", value_name = "NAME=VALUE")]
    pub protected_fields: Vec<String>,
    /// Tag (repeat for several; on edit, replaces the list; "" clears it)
    #[arg(long = "tag", value_name = "T")]
    pub tags: Vec<String>,
    /// Folder path such as Work/Servers ("" is the root)
    #[arg(long, value_name = "A/B")]
    pub folder: Option<String>,
    /// Mark as favourite
    #[arg(long)]
    pub favourite: bool,
    /// Never offer this item to a browser extension
    #[arg(long, conflicts_with = "autofill")]
    pub no_autofill: bool,
    /// Offer this item to the browser again (undoes --no-autofill)
    #[arg(long)]
    pub autofill: bool,
    /// Generate a password of LEN characters [default: 20]; for `--type ssh-key`, a key: ed25519,
    /// ecdsa-p256 or rsa-3072
    #[arg(long, value_name = "LEN|KEY", num_args = 0..=1, default_missing_value = "20")]
    pub generate: Option<String>,
    /// For `--type ssh-key`: read the private key from FILE (OpenSSH, or PEM PKCS#1/PKCS#8/SEC1); a
    /// passphrase is asked for when the file has one
    #[arg(long = "import", value_name = "FILE", conflicts_with = "generate")]
    pub import_key: Option<PathBuf>,
    /// The imported key's passphrase, from the first line of FILE
    #[arg(long, value_name = "FILE", requires = "import_key")]
    pub passphrase_file: Option<PathBuf>,
    /// For an SSH key: its comment (default: the imported key's own, or TITLE)
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Offer this SSH key in the SSH agent (the default for new keys)
    #[arg(long, conflicts_with = "no_ssh_agent")]
    pub ssh_agent: bool,
    /// Keep this SSH key out of the SSH agent
    #[arg(long)]
    pub no_ssh_agent: bool,
    /// When the SSH agent asks before signing with this key: every, once-per-unlock or never
    #[arg(long, value_name = "WHEN", value_parser = ["every", "once-per-unlock", "never"])]
    pub agent_approval: Option<String>,
    /// Never give this item to AI agents (`tessera mcp`), whatever they are allowed
    #[arg(long, conflicts_with = "for_agents")]
    pub never_for_agents: bool,
    /// Allow this item to AI agents again (undoes --never-for-agents)
    #[arg(long)]
    pub for_agents: bool,
    /// Read the password from the first line of FILE (`-` for standard input)
    #[arg(long, value_name = "FILE", conflicts_with = "generate")]
    pub secret_file: Option<PathBuf>,
    /// Expiry date (YYYY-MM-DD or RFC 3339; "" removes it)
    #[arg(long, value_name = "DATE")]
    pub expires: Option<String>,
    /// Put the item in this share (name or id; on edit, "" takes it back out); the next sync moves it
    #[arg(long, value_name = "NAME")]
    pub share: Option<String>,
}

#[derive(Args, Debug)]
pub struct AddArgs {
    #[command(flatten)]
    pub fields: ItemFields,
    /// Add the item(s) in FILE (`-` for standard input): one object or an array, in the `show --json` shape
    #[arg(long, value_name = "FILE", conflicts_with_all = ["title", "username", "urls", "notes", "otp", "generate", "secret_file", "import_key"])]
    pub from_json: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// Id, unique id prefix or exact title
    pub item: String,
    #[command(flatten)]
    pub fields: ItemFields,
    /// Unmark as favourite
    #[arg(long, conflicts_with = "favourite")]
    pub no_favourite: bool,
    /// Remove a custom field (repeatable)
    #[arg(long = "remove-field", value_name = "NAME")]
    pub remove_fields: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// Id, unique id prefix or exact title
    pub item: String,
    /// Include the password, protected fields and the TOTP secret
    #[arg(long)]
    pub reveal: bool,
    /// Include earlier versions
    #[arg(long)]
    pub history: bool,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only items in this folder and its subfolders
    #[arg(long, value_name = "F")]
    pub folder: Option<String>,
    /// Only items with this tag
    #[arg(long, value_name = "T")]
    pub tag: Option<String>,
    /// List the trash instead
    #[arg(long)]
    pub trash: bool,
    /// Only logins the browser would be offered on this page, best match first (the matcher the browser
    /// extension uses)
    #[arg(long, value_name = "URL", conflicts_with_all = ["trash", "folder", "tag"])]
    pub url: Option<String>,
    /// Only items in this share (name or id)
    #[arg(long, value_name = "NAME")]
    pub share: Option<String>,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["item", "trash"]))]
pub struct PurgeArgs {
    /// A trashed item: id, unique id prefix or exact title
    pub item: Option<String>,
    /// Empty the whole trash
    #[arg(long)]
    pub trash: bool,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Password length
    #[arg(long, value_name = "N", conflicts_with = "words")]
    pub length: Option<usize>,
    /// Letters and digits only
    #[arg(long, conflicts_with = "words")]
    pub no_symbols: bool,
    /// Leave out look-alike characters (I l 1 O 0 o |)
    #[arg(long, conflicts_with = "words")]
    pub avoid_ambiguous: bool,
    /// A passphrase of N words from the EFF long word list instead
    #[arg(long, value_name = "N")]
    pub words: Option<usize>,
    /// Passphrase word separator
    #[arg(long, value_name = "SEP", default_value = "-", requires = "words")]
    pub separator: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

/// `tessera import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The file to import
    pub file: PathBuf,
    /// Its format: keepass, bitwarden-json, bitwarden-csv, csv, 1password-csv, chrome-csv, firefox-csv,
    /// otpauth, aegis or tessera-backup [default: detected from the content]
    #[arg(long, value_name = "FORMAT", value_parser = parse_import_format)]
    pub from: Option<tessera_interop::Format>,
    /// Read the source file's password (KeePass, Tessera backup) from the first line of FILE
    #[arg(long, value_name = "FILE")]
    pub source_password_file: Option<PathBuf>,
    /// A KeePass key file that, with or without a password, opens the source
    #[arg(long, value_name = "FILE")]
    pub source_key_file: Option<PathBuf>,
    /// Put every imported item under this folder (e.g. `Imported/KeePass`)
    #[arg(long, value_name = "DEST")]
    pub folder: Option<String>,
}

/// `tessera export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The file to write (never overwritten)
    pub out: PathBuf,
    /// The format: keepass, bitwarden-json or tessera-backup
    #[arg(long, value_name = "FORMAT", value_parser = parse_export_format)]
    pub to: tessera_interop::Format,
    /// Read the password protecting the export (keepass, tessera-backup) from the first line of FILE
    #[arg(long, value_name = "FILE")]
    pub export_password_file: Option<PathBuf>,
    /// Write a plain-text export without asking for confirmation
    #[arg(long)]
    pub yes: bool,
}

fn parse_import_format(s: &str) -> Result<tessera_interop::Format, String> {
    s.parse().map_err(|e: tessera_interop::UnknownFormat| e.to_string())
}

fn parse_export_format(s: &str) -> Result<tessera_interop::Format, String> {
    use tessera_interop::Format;
    let format: Format = s.parse().map_err(|e: tessera_interop::UnknownFormat| e.to_string())?;
    match format {
        Format::Keepass | Format::BitwardenJson | Format::TesseraBackup => Ok(format),
        other => Err(format!("{other} is import-only: export to keepass, bitwarden-json or tessera-backup")),
    }
}

/// `tessera slot …`.
#[derive(Subcommand, Debug)]
pub enum SlotCommand {
    /// List the vault's unlock slots
    List,
    /// Add an unlock slot for a factor (unlock with the vault's current factor first)
    Add(SlotAddArgs),
    /// Remove an unlock slot (the vault's last slot cannot be removed)
    Remove {
        /// The slot number, as `slot list` shows it
        id: u32,
    },
}

/// The factors a slot can be added for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SlotFactor {
    /// A random secret kept in the OS keyring (GNOME Keyring, KWallet)
    Keyring,
    /// A random secret sealed in this machine's TPM 2.0 under a PIN (`--pin-file` or a prompt)
    Tpm,
    /// ECDH with a P-256 key in the YubiKey's PIV slot 9d (existing, or generated on the key), after its PIN
    Yubikey,
}

/// What may be required alongside the factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AlsoRequire {
    /// The master password: the slot needs both
    Password,
}

/// `tessera slot add`.
#[derive(Args, Debug)]
pub struct SlotAddArgs {
    /// The factor
    #[arg(value_enum)]
    pub factor: SlotFactor,
    /// Also require the master password to use this slot
    #[arg(long = "and", value_enum, value_name = "FACTOR")]
    pub and: Option<AlsoRequire>,
    /// A label shown by `slot list`
    #[arg(long)]
    pub label: Option<String>,
    /// The YubiKey to use, by serial number [default: the one inserted]
    #[arg(long, value_name = "N")]
    pub yubikey_serial: Option<u32>,
    /// When generating the YubiKey's key, require a touch (cached for 15 s) to use it
    #[arg(long)]
    pub touch: bool,
}
