//! Shared setup for the end-to-end tests: find the `tessera` binary, make a
//! vault with it, run commands against it.
//!
//! Tests drive the real binary (built by `cargo build --bins`, which
//! `make test` runs first) on real vault files in temporary directories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

pub mod app;
pub mod hung;
pub mod key_reader;
pub mod mcp;
pub mod memory;
pub mod server;
pub mod ssh;
pub mod status_notifier;
pub mod webdriver;

/// The master password every test vault uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// The `tessera` binary next to this executable or its `deps/` directory
/// (or `$TESSERA_BIN`).
pub fn tessera_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TESSERA_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("the test knows its own path");
    // Beside this executable (the benchmark), or beside its `deps/` (tests).
    let sibling = exe.with_file_name("tessera");
    if sibling.exists() {
        return sibling;
    }
    let profile_dir = exe.parent().and_then(Path::parent).expect("tests run from target/<profile>/deps");
    let bin = profile_dir.join("tessera");
    assert!(bin.exists(), "{} is missing: run `cargo build --bins` (or `make test`) before these tests", bin.display());
    bin
}

/// A vault made by `tessera init` in its own temporary directory, with the
/// password and the recovery code in files beside it.
pub struct TestVault {
    pub dir: TempDir,
    pub path: PathBuf,
    pub password_file: PathBuf,
    pub recovery_file: PathBuf,
}

impl TestVault {
    /// `tessera init` at the KDF floor (the fastest legal parameters).
    pub fn new() -> TestVault {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("vault.tessera");
        let password_file = dir.path().join("password");
        let recovery_file = dir.path().join("recovery");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).expect("write the password file");
        let v = TestVault { dir, path, password_file, recovery_file };
        let out = v.run(&[
            "init",
            "--kdf-memory-mib",
            "64",
            "--kdf-iterations",
            "3",
            "--kdf-parallelism",
            "4",
            "--recovery-code-file",
            v.recovery_file.to_str().expect("utf-8 path"),
        ]);
        assert_success(&out, "init");
        v
    }

    /// A place for a vault that does not exist yet (for `sync clone`), with
    /// the password file ready; the recovery code goes to `recovery_file`.
    pub fn uninitialised() -> TestVault {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("vault.tessera");
        let password_file = dir.path().join("password");
        let recovery_file = dir.path().join("recovery");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).expect("write the password file");
        TestVault { dir, path, password_file, recovery_file }
    }

    /// A command for this vault with the master password from the file.
    pub fn command(&self) -> Command {
        let mut c = Command::new(tessera_bin());
        c.arg("--vault").arg(&self.path).arg("--password-file").arg(&self.password_file);
        c.env_remove("TESSERA_VAULT").stdin(Stdio::null());
        c
    }

    /// A command for this vault unlocked with the recovery code: no Argon2,
    /// so tests that run hundreds of commands stay fast.
    pub fn fast_command(&self) -> Command {
        let mut c = Command::new(tessera_bin());
        c.arg("--vault")
            .arg(&self.path)
            .arg("--unlock")
            .arg("recovery")
            .arg("--recovery-file")
            .arg(&self.recovery_file);
        c.env_remove("TESSERA_VAULT").stdin(Stdio::null());
        c
    }

    /// Runs `tessera ARGS` with the master password.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run tessera")
    }

    /// Runs `tessera ARGS` with the master password in `password_file`.
    pub fn run_with_password(&self, password_file: &Path, args: &[&str]) -> Output {
        let mut c = Command::new(tessera_bin());
        c.arg("--vault").arg(&self.path).arg("--password-file").arg(password_file);
        c.env_remove("TESSERA_VAULT").stdin(Stdio::null()).args(args).output().expect("run tessera")
    }

    /// Runs `tessera ARGS` unlocked with the recovery code.
    pub fn run_fast(&self, args: &[&str]) -> Output {
        self.fast_command().args(args).output().expect("run tessera")
    }

    /// Runs `tessera --json ARGS`, expects success and parses stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert_success(&out, &args.join(" "));
        serde_json::from_slice(&out.stdout).expect("tessera --json prints JSON")
    }

    /// Adds a login and returns its id.
    pub fn add_login(&self, title: &str, username: &str) -> String {
        let out = self.run_fast(&["add", "--type", "login", "--title", title, "--username", username, "--generate"]);
        assert_success(&out, "add");
        stdout(&out).trim().to_owned()
    }

    /// The vault file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).expect("read the vault file")
    }

    /// A read-write SQLite connection to the vault file, for tests that
    /// tamper with it as an attacker with the file would.
    pub fn sqlite(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.path).expect("open the vault with SQLite")
    }
}

impl Default for TestVault {
    fn default() -> Self {
        TestVault::new()
    }
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The exit code (panics on death by signal).
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or_else(|| panic!("tessera died by a signal: {:?}; stderr: {}", out.status, stderr(out)))
}

/// Asserts exit 0, showing stderr otherwise.
pub fn assert_success(out: &Output, what: &str) {
    assert!(out.status.success(), "`tessera {what}` failed with {:?}:\n{}", out.status.code(), stderr(out));
}

/// Asserts a given exit code, showing the output otherwise.
pub fn assert_code(out: &Output, expected: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(expected),
        "`tessera {what}`: expected exit {expected}; stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
}

/// A private session bus in `dir` (its socket and config live there)
/// without service activation: with the stock session.conf, a client asking
/// for a name nobody owns yet (org.freedesktop.secrets) makes dbus start a
/// second daemon that then keeps the name for good. Returns the
/// `dbus-daemon` and its address.
pub fn private_bus(dir: &Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let socket = dir.join("bus");
    let config = dir.join("bus.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            socket.display()
        ),
    )
    .expect("write the bus configuration");
    let mut bus = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--print-address=1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon runs (package dbus; `make test` installs it)");
    let mut line = String::new();
    std::io::BufReader::new(bus.stdout.take().expect("piped stdout"))
        .read_line(&mut line)
        .expect("dbus-daemon prints its address");
    let address = line.trim().to_owned();
    assert!(address.starts_with("unix:"), "dbus-daemon gave no address");
    (bus, address)
}

/// A private, unlocked Secret Service for one test: its own `dbus-daemon`
/// and a `gnome-keyring-daemon --foreground` on it, with HOME and XDG
/// directories in a temporary directory. Both daemons are killed on drop.
pub struct SecretService {
    dir: TempDir,
    bus: std::process::Child,
    keyring: std::process::Child,
    address: String,
}

impl SecretService {
    /// Starts the bus and the keyring, unlocked with a throwaway password.
    pub fn start() -> SecretService {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("a temporary directory");
        for sub in ["run", "data", "config"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("create a directory");
        }
        std::fs::set_permissions(dir.path().join("run"), std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod the runtime directory");
        let (bus, address) = private_bus(dir.path());
        let mut service = SecretService { dir, bus, keyring: Command::new("true").spawn().expect("true"), address };
        let mut keyring = service
            .env(&mut Command::new("gnome-keyring-daemon"))
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(service.dir.path().join("keyring.log")).expect("a log file"))
            .spawn()
            .expect("gnome-keyring-daemon runs (package gnome-keyring; `make test` installs it)");
        keyring.stdin.take().expect("piped stdin").write_all(b"keyring password").expect("unlock the keyring");
        let _ = service.keyring.wait();
        service.keyring = keyring;
        // Wait until the keyring stores a probe item.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut last_error = String::new();
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = service.keyring.try_wait() {
                last_error = format!("gnome-keyring-daemon exited ({status})");
                break;
            }
            let probe = service
                .env(&mut Command::new("secret-tool"))
                .args(["store", "--label", "probe", "service", "tessera-probe"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .and_then(|mut c| {
                    c.stdin.take().expect("piped stdin").write_all(b"probe")?;
                    c.wait_with_output()
                });
            match probe {
                Ok(o) if o.status.success() => return service,
                Ok(o) => last_error = String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => last_error = e.to_string(),
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!(
            "the Secret Service did not come up: {last_error}; gnome-keyring said: {}",
            std::fs::read_to_string(service.dir.path().join("keyring.log")).unwrap_or_default()
        );
    }

    /// Points `command` at this Secret Service.
    pub fn env<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        session_env(command, &self.address, self.dir.path())
    }
}

/// Points `command` at the session bus `address`, with `home` as its home
/// and XDG directories under it.
pub(crate) fn session_env<'c>(command: &'c mut Command, address: &str, home: &Path) -> &'c mut Command {
    command
        .env("DBUS_SESSION_BUS_ADDRESS", address)
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home.join("run"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
}

impl Drop for SecretService {
    fn drop(&mut self) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

/// A TPM 2.0 simulator (`swtpm`) on loopback for one test, with its state
/// in a temporary directory; killed on drop. `tcti()` is what
/// `--tpm-tcti` takes.
pub struct Swtpm {
    _dir: TempDir,
    child: std::process::Child,
    port: u16,
}

impl Swtpm {
    /// Starts a fresh TPM (manufactured, started up) on a free port pair.
    pub fn start() -> Swtpm {
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let port = free_port_pair();
            let child = Command::new("swtpm")
                .args(["socket", "--tpm2", "--flags", "not-need-init,startup-clear"])
                .arg("--tpmstate")
                .arg(format!("dir={}", dir.path().display()))
                .arg("--server")
                .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
                .arg("--ctrl")
                .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("swtpm runs (package swtpm; `make test` installs it)");
            let mut tpm = Swtpm { _dir: dir, child, port };
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return tpm;
                }
                if tpm.child.try_wait().ok().flatten().is_some() {
                    break; // lost the port race: try another pair
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            drop(tpm);
        }
        panic!("swtpm did not start");
    }

    /// The TCTI string for this simulator.
    pub fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port P with P and P + 1 free on loopback right now.
fn free_port_pair() -> u16 {
    loop {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// The PC/SC daemon with vsmartcard's virtual reader (pcscd is one per
/// machine). `start` uses a running one or starts its own, which is
/// stopped on drop.
pub struct Pcscd {
    child: Option<std::process::Child>,
}

impl Pcscd {
    /// Makes sure pcscd runs and its virtual reader listens.
    pub fn start() -> Pcscd {
        let running = Command::new("pgrep").args(["-x", "pcscd"]).stdout(Stdio::null()).status();
        let child = if running.is_ok_and(|s| s.success()) {
            None
        } else {
            Some(
                Command::new("pcscd")
                    .arg("--foreground")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("pcscd runs (package pcscd; `make test` installs it with vsmartcard-vpcd)"),
            )
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", 35963)).is_ok() {
                // That probe connection was a card for a moment; let pcscd
                // settle before a real one connects.
                std::thread::sleep(std::time::Duration::from_millis(500));
                return Pcscd { child };
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("pcscd's virtual reader (vpcd) does not listen on 127.0.0.1:35963");
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A simulated YubiKey PIV card (`tessera-piv-sim`) in the first virtual
/// reader (start [`Pcscd`] first); removed from the reader on drop.
pub struct PivCard {
    child: std::process::Child,
}

impl PivCard {
    /// Inserts a card with `serial` and PIV `pin`, and waits until PC/SC
    /// sees it.
    pub fn insert(serial: u32, pin: &str) -> PivCard {
        let bin = tessera_bin().with_file_name("tessera-piv-sim");
        assert!(bin.exists(), "{} is missing: run `cargo build --bins`", bin.display());
        // vpcd listens for one card at a time and reopens its socket on its
        // next poll after a card (or the readiness probe) leaves: a card
        // that finds it closed is inserted again a moment later. Bounded by
        // time, not tries: under the full suite's load, vpcd's poll comes
        // late (6 s of tries once ran out).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            let mut child = Command::new(&bin)
                .args(["--serial", &serial.to_string(), "--pin", pin])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start the PIV simulator");
            // The simulator says "inserted" once pcscd has powered the card.
            let stdout = child.stdout.take().expect("piped stdout");
            let (seen, wait) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stdout).lines() {
                    if line.is_ok_and(|l| l == "inserted") {
                        let _ = seen.send(());
                    }
                }
            });
            match wait.recv_timeout(std::time::Duration::from_secs(15)) {
                Ok(()) => {
                    // pcscd asks for the ATR before it marks the card present.
                    std::thread::sleep(std::time::Duration::from_millis(500));
                    return PivCard { child };
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    let _ = child.wait();
                    std::thread::sleep(std::time::Duration::from_millis(300));
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    panic!("pcscd did not see the simulated card within 15 s");
                }
            }
        }
        panic!("vpcd kept refusing the simulated card");
    }

    /// Takes the card out of the reader.
    pub fn remove(self) {}
}

impl Drop for PivCard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // pcscd notices the card is gone on its next poll of the reader.
        std::thread::sleep(std::time::Duration::from_millis(1500));
    }
}

/// A number unique within this process, for names.
pub fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    u64::from(std::process::id()) * 1000 + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
