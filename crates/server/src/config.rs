//! Command-line flags (each also from an environment variable) and the pepper.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use zeroize::Zeroizing;

/// Tessera's blind sync server. It stores only ciphertext and wrapped keys.
#[derive(clap::Parser, Debug, Clone)]
#[command(name = "tessera-server", version, about, max_term_width = 100)]
pub struct Args {
    /// Address to listen on
    #[arg(long, env = "TESSERA_SERVER_LISTEN", default_value = "127.0.0.1:8743")]
    pub listen: SocketAddr,

    /// Database: `sqlite:PATH` or `postgres://USER:PASS@HOST/DB`
    /// [default: sqlite:<data dir>/tessera-server.sqlite3]
    #[arg(long, env = "TESSERA_SERVER_DATABASE", value_name = "URL")]
    pub database: Option<String>,

    /// File holding the pepper mixed into every stored password hash and
    /// token key; created (mode 0600) with a fresh random pepper when absent.
    /// Every instance that shares a database must share this file.
    /// [default: <data dir>/pepper]
    #[arg(long, env = "TESSERA_SERVER_PEPPER_FILE", value_name = "FILE")]
    pub pepper_file: Option<PathBuf>,

    /// TLS certificate chain (PEM); with --tls-key, serve HTTPS
    #[arg(long, env = "TESSERA_SERVER_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// TLS private key (PEM)
    #[arg(long, env = "TESSERA_SERVER_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Data directory for the default database and pepper
    /// [default: ~/.local/share/tessera-server]
    #[arg(long, env = "TESSERA_SERVER_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Requests to the login, register, prelogin and refresh routes allowed
    /// per client address per minute
    #[arg(long, env = "TESSERA_SERVER_AUTH_RATE", default_value_t = 60)]
    pub auth_rate_per_minute: u32,

    /// Largest request body (bytes, or with a unit: 512KiB, 32MiB, 1GiB)
    #[arg(long = "max-body", alias = "max-body-bytes", env = "TESSERA_SERVER_MAX_BODY", value_name = "SIZE",
          default_value = "96MiB", value_parser = parse_size)]
    pub max_body: u64,

    /// Largest sealed item (an item with its attachments, as the server
    /// receives it); keep --max-body at least 4/3 of it plus a little, as
    /// items travel in base64
    #[arg(long = "max-record", alias = "max-attachment", env = "TESSERA_SERVER_MAX_RECORD", value_name = "SIZE",
          default_value = "64MiB", value_parser = parse_size)]
    pub max_record: u64,

    /// Most live items per account
    #[arg(long, env = "TESSERA_SERVER_QUOTA_ITEMS", value_name = "N", default_value_t = 100_000)]
    pub quota_items: u64,

    /// Most bytes of sealed items per account (earlier revisions not counted)
    #[arg(long, env = "TESSERA_SERVER_QUOTA_BYTES", value_name = "SIZE", default_value = "1GiB",
          value_parser = parse_size)]
    pub quota_bytes: u64,

    /// Seconds a request may take, from its first byte to the end of its
    /// answer; a slower one is cut off (408)
    #[arg(long, env = "TESSERA_SERVER_REQUEST_TIMEOUT", value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,

    /// Seconds an idle keep-alive connection stays open
    #[arg(long, env = "TESSERA_SERVER_IDLE_TIMEOUT", value_name = "SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,

    /// Days the event log keeps each client address; older ones are erased
    /// (at start, then hourly). 0: addresses are not recorded at all
    #[arg(long, env = "TESSERA_SERVER_KEEP_ADDRESSES_DAYS", value_name = "DAYS", default_value_t = 30)]
    pub keep_addresses_days: u32,

    /// Database connections in the pool
    #[arg(long, env = "TESSERA_SERVER_DB_CONNECTIONS", default_value_t = 8)]
    pub db_connections: u32,

    /// Log filter (tracing's EnvFilter syntax); logs are JSON lines on stderr
    #[arg(long, env = "TESSERA_SERVER_LOG", default_value = "info")]
    pub log: String,

    /// Worker threads [default: one per core]
    #[arg(long, env = "TESSERA_SERVER_THREADS")]
    pub threads: Option<usize>,
}

impl Args {
    /// The data directory, made if needed (mode 0700).
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        let dir = match &self.data_dir {
            Some(d) => d.clone(),
            None => directories::ProjectDirs::from("", "", "tessera-server")
                .map(|d| d.data_dir().to_path_buf())
                .context("no home directory: pass --data-dir or --database and --pepper-file")?,
        };
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        set_mode(&dir, 0o700)?;
        Ok(dir)
    }

    /// The database URL.
    pub fn database_url(&self) -> anyhow::Result<String> {
        match &self.database {
            Some(url) => Ok(url.clone()),
            None => Ok(format!("sqlite:{}", self.data_dir()?.join("tessera-server.sqlite3").display())),
        }
    }

    /// The pepper file's path.
    pub fn pepper_path(&self) -> anyhow::Result<PathBuf> {
        match &self.pepper_file {
            Some(p) => Ok(p.clone()),
            None => Ok(self.data_dir()?.join("pepper")),
        }
    }
}

/// A size in bytes: a number, optionally with a binary unit (`KiB`,
/// `MiB`, `GiB`; `K`, `M`, `G` mean the same).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| format!("{text:?} is not a size (e.g. 1048576, 512KiB, 64MiB, 1GiB)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        _ => return Err(format!("{text:?}: the unit must be KiB, MiB or GiB")),
    };
    n.checked_mul(1 << shift).ok_or_else(|| format!("{text:?} is too large"))
}

/// Length of the pepper in bytes.
pub const PEPPER_LEN: usize = 32;

/// Reads the pepper, or creates the file with a fresh one. The pepper lives
/// outside the database so a copy of the database alone cannot even be used
/// to test `auth` guesses.
pub fn load_or_create_pepper(path: &Path) -> anyhow::Result<Zeroizing<[u8; PEPPER_LEN]>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = Zeroizing::new(
                data_encoding::HEXLOWER_PERMISSIVE
                    .decode(text.trim().as_bytes())
                    .with_context(|| format!("{} is not a hex pepper", path.display()))?,
            );
            let mut pepper = Zeroizing::new([0u8; PEPPER_LEN]);
            if bytes.len() != PEPPER_LEN {
                bail!("{} must hold {} hex digits", path.display(), PEPPER_LEN * 2);
            }
            pepper.copy_from_slice(&bytes);
            Ok(pepper)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut pepper = Zeroizing::new([0u8; PEPPER_LEN]);
            getrandom::fill(pepper.as_mut()).context("the system random source failed")?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let hex = Zeroizing::new(data_encoding::HEXLOWER.encode(pepper.as_ref()));
            // create_new: two instances starting at once must not both write.
            let mut file = open_new_private(path)?;
            file.write_all(hex.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            Ok(pepper)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read the pepper file {}", path.display())),
    }
}

#[cfg(unix)]
fn open_new_private(path: &Path) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the pepper file {}", path.display()))
}

#[cfg(not(unix))]
fn open_new_private(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create the pepper file {}", path.display()))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set permissions on {}", path.display()))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> anyhow::Result<()> {
    Ok(())
}
