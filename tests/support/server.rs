//! A real `tessera-server` process on 127.0.0.1, its database (SQLite, or
//! a private PostgreSQL cluster), and a recording proxy that keeps every
//! byte of HTTP traffic for the blindness canary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tessera_sync::client::account;
use tessera_sync::client::http::Api;
use tessera_sync::wire::{LoginRequest, Session, b64, from_b64};

/// The `tessera-server` binary beside `tessera`.
pub fn server_bin() -> PathBuf {
    crate::tessera_bin().with_file_name("tessera-server")
}

/// Where the server keeps its data.
#[derive(Clone, Debug)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl Database {
    /// The `--database` value.
    pub fn url(&self) -> String {
        match self {
            Database::Sqlite(p) => format!("sqlite:{}", p.display()),
            Database::Postgres(u) => u.clone(),
        }
    }

    /// Runs SQL against the database as an attacker with database access
    /// would. Returns the rows as tab-separated text lines.
    pub fn sql(&self, statement: &str) -> Vec<String> {
        match self {
            Database::Sqlite(p) => {
                let c = rusqlite::Connection::open(p).expect("open the server database");
                c.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
                let mut stmt = c.prepare(statement).expect("valid SQL");
                let n = stmt.column_count();
                let mut rows = stmt.query([]).expect("run SQL");
                let mut out = Vec::new();
                while let Some(r) = rows.next().expect("read a row") {
                    let cols: Vec<String> = (0..n)
                        .map(|i| match r.get_ref(i).expect("a column") {
                            rusqlite::types::ValueRef::Null => String::new(),
                            rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                            rusqlite::types::ValueRef::Real(v) => v.to_string(),
                            rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                            rusqlite::types::ValueRef::Blob(b) => data_encoding::HEXLOWER.encode(b),
                        })
                        .collect();
                    out.push(cols.join("\t"));
                }
                out
            }
            Database::Postgres(url) => {
                let out = Command::new("psql")
                    .args(["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", url, "-c", statement])
                    .output()
                    .expect("psql runs");
                assert!(out.status.success(), "psql failed: {}", String::from_utf8_lossy(&out.stderr));
                String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
            }
        }
    }

    /// Every byte of the database, for the canary: the SQLite file with its
    /// WAL, or a plain-text dump of the PostgreSQL database.
    pub fn dump(&self) -> Vec<u8> {
        match self {
            Database::Sqlite(p) => {
                let mut all = Vec::new();
                for suffix in ["", "-wal", "-shm"] {
                    let mut path = p.clone().into_os_string();
                    path.push(suffix);
                    if let Ok(bytes) = std::fs::read(&path) {
                        all.extend(bytes);
                    }
                }
                all
            }
            Database::Postgres(url) => {
                let out = Command::new("pg_dump").arg(url).output().expect("pg_dump runs");
                assert!(out.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));
                out.stdout
            }
        }
    }
}

/// A running `tessera-server`; killed on drop.
pub struct TestServer {
    child: Option<Child>,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// Its listening port (kept across restarts).
    pub port: u16,
    /// The database.
    pub database: Database,
    /// Its pepper file.
    pub pepper: PathBuf,
    /// Its JSON log (stderr), appended across restarts.
    pub log: PathBuf,
    _dir: Arc<TempDir>,
    dir: PathBuf,
    extra: Vec<String>,
}

impl TestServer {
    /// A server on a fresh SQLite file.
    pub fn sqlite() -> TestServer {
        let dir = Arc::new(tempfile::tempdir().expect("a temporary directory"));
        let db = Database::Sqlite(dir.path().join("server.sqlite3"));
        TestServer::start(db, dir)
    }

    /// A server on `database`, with its pepper and log in `dir`.
    pub fn start(database: Database, dir: Arc<TempDir>) -> TestServer {
        let path = dir.path().to_path_buf();
        let mut s = TestServer {
            child: None,
            url: String::new(),
            port: 0,
            database,
            pepper: path.join("pepper"),
            log: path.join(format!("server-{}.log", crate::unique())),
            _dir: dir,
            dir: path,
            extra: Vec::new(),
        };
        s.spawn("127.0.0.1:0");
        s
    }

    /// A second instance on the same database and pepper.
    pub fn another(&self) -> TestServer {
        TestServer::start(self.database.clone(), self._dir.clone())
    }

    fn spawn(&mut self, listen: &str) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("open the server log");
        let mut child = Command::new(server_bin())
            .args(["--listen", listen, "--database", &self.database.url()])
            .arg("--pepper-file")
            .arg(&self.pepper)
            .arg("--data-dir")
            .arg(&self.dir)
            .args(if self.extra.iter().any(|a| a == "--auth-rate-per-minute") {
                &[][..]
            } else {
                &["--auth-rate-per-minute", "100000"][..]
            })
            .args(["--threads", "2"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("tessera-server runs (built by `cargo build --bins`)");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout is piped")).read_line(&mut first).expect("read stdout");
        let url = first.trim().strip_prefix("listening on ").unwrap_or_else(|| {
            panic!("tessera-server did not start: {first:?}; log: {}", String::from_utf8_lossy(&self.logs()))
        });
        self.url = url.to_string();
        self.port = url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port in the URL");
        self.child = Some(child);
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Extra flags for the next (re)start, e.g. `--log warn`.
    pub fn set_extra_args(&mut self, args: &[&str]) {
        self.extra = args.iter().map(|s| (*s).to_owned()).collect();
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let listen = format!("127.0.0.1:{}", self.port);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // The port may linger a moment after the kill.
            if TcpListener::bind(&listen).is_ok() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.spawn(&listen);
    }

    /// The server's log so far.
    pub fn logs(&self) -> Vec<u8> {
        std::fs::read(&self.log).unwrap_or_default()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A private PostgreSQL cluster in a temporary directory, on a free port,
/// trust authentication on loopback; stopped on drop. `initdb` refuses to
/// run as root, so as root the cluster runs as the `postgres` user.
pub struct Postgres {
    dir: PathBuf,
    _tmp: TempDir,
    port: u16,
    as_postgres: bool,
}

fn pg_bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    versions.sort();
    versions.into_iter().rev().map(|v| v.join("bin").join(name)).find(|p| p.exists()).unwrap_or_else(|| {
        panic!("{name} not found under /usr/lib/postgresql (package postgresql; `make test` installs it)")
    })
}

impl Postgres {
    /// Initialises and starts a cluster.
    pub fn start() -> Postgres {
        let tmp = tempfile::Builder::new().prefix("tessera-pg").tempdir_in("/tmp").expect("a temporary directory");
        let dir = tmp.path().join("data");
        // SAFETY of the test: geteuid has no preconditions.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        if as_postgres {
            std::fs::create_dir(&dir).expect("make the data directory");
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(tmp.path())
                .status()
                .expect("chown runs")
                .success();
            assert!(ok, "chown the cluster directory to postgres");
        }
        let pg = Postgres { dir, _tmp: tmp, port: free_port(), as_postgres };
        let out = pg
            .command(&pg_bin("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D"])
            .arg(&pg.dir)
            .output()
            .expect("initdb runs");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let out = pg
            .command(&pg_bin("pg_ctl"))
            .arg("-D")
            .arg(&pg.dir)
            .args(["-w", "-l"])
            .arg(pg.dir.join("server.log"))
            .arg("-o")
            .arg(format!(
                "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=200",
                pg.port,
                pg.dir.display()
            ))
            .arg("start")
            .output()
            .expect("pg_ctl runs");
        assert!(out.status.success(), "pg_ctl start failed: {}", String::from_utf8_lossy(&out.stderr));
        pg
    }

    fn command(&self, program: &Path) -> Command {
        if self.as_postgres {
            // setpriv, not runuser or su: their PAM session (pam_keyinit
            // revoke) revokes the session keyring this process shares with
            // the other tests, which breaks gnome-keyring in the keyring
            // tests running beside these.
            let mut c = Command::new("setpriv");
            c.args(["--reuid=postgres", "--regid=postgres", "--init-groups", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    /// A fresh database; returns its URL.
    pub fn database(&self) -> Database {
        let name = format!("tessera_{}", crate::unique());
        let out = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", &self.admin_url(), "-c", &format!("CREATE DATABASE {name}")])
            .output()
            .expect("psql runs");
        assert!(out.status.success(), "CREATE DATABASE failed: {}", String::from_utf8_lossy(&out.stderr));
        Database::Postgres(format!("postgres://postgres@127.0.0.1:{}/{name}", self.port))
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command(&pg_bin("pg_ctl"))
            .arg("-D")
            .arg(&self.dir)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0)).and_then(|l| l.local_addr()).expect("a free port").port()
}

/// Bytes one direction of one connection carried.
type Stream = Arc<Mutex<Vec<u8>>>;

/// A TCP proxy on loopback that records every byte both ways, so a test
/// can search the HTTP traffic between client and server.
pub struct RecordingProxy {
    /// The URL to give the client.
    pub url: String,
    traffic: Arc<Mutex<Vec<u8>>>,
    /// Each connection's each direction, on its own, for reading HTTP.
    streams: Arc<Mutex<Vec<Stream>>>,
}

impl RecordingProxy {
    /// Proxies to `upstream_port` on 127.0.0.1.
    pub fn start(upstream_port: u16) -> RecordingProxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind the proxy");
        let url = format!("http://127.0.0.1:{}", listener.local_addr().expect("address").port());
        let traffic = Arc::new(Mutex::new(Vec::new()));
        let streams: Arc<Mutex<Vec<Stream>>> = Arc::default();
        let (record, all) = (traffic.clone(), streams.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)) else { continue };
                // As the client and server do: without it, Nagle's algorithm
                // and delayed ACKs add 40 ms to every relayed request.
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                for (mut from, mut to) in
                    [(client.try_clone().expect("clone"), server.try_clone().expect("clone")), (server, client)]
                {
                    let record = record.clone();
                    let stream = Stream::default();
                    all.lock().expect("lock").push(stream.clone());
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        loop {
                            match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    record.lock().expect("lock").extend_from_slice(&buf[..n]);
                                    stream.lock().expect("lock").extend_from_slice(&buf[..n]);
                                    if to.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        RecordingProxy { url, traffic, streams }
    }

    /// Everything recorded so far, as it went over the wire.
    pub fn traffic(&self) -> Vec<u8> {
        self.traffic.lock().expect("lock").clone()
    }

    /// The same traffic read as HTTP/1.1, each gzipped body inflated (so a
    /// search of it sees what the compressed bytes carry), and how many
    /// bodies were inflated.
    pub fn decoded_traffic(&self) -> (Vec<u8>, usize) {
        let (mut out, mut inflated) = (Vec::new(), 0);
        for stream in self.streams.lock().expect("lock").iter() {
            inflated += decode_http(&stream.lock().expect("lock"), &mut out);
        }
        (out, inflated)
    }
}

/// A proxy on loopback that answers as a server from before
/// `POST /api/v1/sync/check`: that request gets an empty 404, as a route
/// the server does not know; every other request goes to the real server
/// on a connection of its own (`Connection: close`), its answer relayed
/// whole.
pub struct OlderServerProxy {
    /// The URL to give the client.
    pub url: String,
    /// How many checks it refused.
    pub refused: Arc<Mutex<usize>>,
}

impl OlderServerProxy {
    /// Proxies to `upstream_port` on 127.0.0.1.
    pub fn start(upstream_port: u16) -> OlderServerProxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind the proxy");
        let url = format!("http://127.0.0.1:{}", listener.local_addr().expect("address").port());
        let refused: Arc<Mutex<usize>> = Arc::default();
        let count = refused.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let count = count.clone();
                std::thread::spawn(move || {
                    let _ = relay_as_an_older_server(client, upstream_port, &count);
                });
            }
        });
        OlderServerProxy { url, refused }
    }
}

fn relay_as_an_older_server(client: TcpStream, upstream_port: u16, refused: &Mutex<usize>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut to_client = client;
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let length = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok()).flatten()
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        if head.starts_with("POST /api/v1/sync/check ") {
            *refused.lock().expect("lock") += 1;
            to_client.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")?;
            continue;
        }
        let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port))?;
        let mut request: String = head
            .lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .map(|l| format!("{l}\r\n"))
            .collect();
        request.push_str("connection: close\r\n\r\n");
        upstream.write_all(request.as_bytes())?;
        upstream.write_all(&body)?;
        let mut answer = Vec::new();
        upstream.read_to_end(&mut answer)?;
        // The answer says `connection: close`: the client opens another.
        return to_client.write_all(&answer);
    }
}

fn find_bytes(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Appends the HTTP/1.1 messages of one direction of a connection to
/// `out`, heads as they are and bodies unchunked and inflated; returns how
/// many bodies were gzipped.
fn decode_http(mut s: &[u8], out: &mut Vec<u8>) -> usize {
    let mut inflated = 0;
    while !s.is_empty() {
        let Some(end) = find_bytes(s, b"\r\n\r\n") else {
            out.extend_from_slice(s);
            break;
        };
        let head = String::from_utf8_lossy(&s[..end + 4]).to_ascii_lowercase();
        out.extend_from_slice(&s[..end + 4]);
        s = &s[end + 4..];
        let header = |name: &str| head.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()));
        let response = head.starts_with("http/");
        let no_body = ["http/1.1 1", "http/1.1 204", "http/1.1 304"].iter().any(|p| head.starts_with(p));
        let mut body = Vec::new();
        if no_body {
        } else if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
            while let Some(line) = find_bytes(s, b"\r\n") {
                let size = String::from_utf8_lossy(&s[..line]);
                let size = usize::from_str_radix(size.split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
                s = &s[line + 2..];
                if size == 0 {
                    s = find_bytes(s, b"\r\n").map_or(&[][..], |t| &s[t + 2..]);
                    break;
                }
                let n = size.min(s.len());
                body.extend_from_slice(&s[..n]);
                s = &s[(n + 2).min(s.len())..];
            }
        } else if let Some(n) = header("content-length:").and_then(|v| v.parse::<usize>().ok()) {
            let n = n.min(s.len());
            body.extend_from_slice(&s[..n]);
            s = &s[n..];
        } else if response {
            body.extend_from_slice(s);
            s = &[];
        }
        let mut plain = Vec::new();
        if header("content-encoding:").is_some_and(|v| v.contains("gzip"))
            && std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain).is_ok()
        {
            inflated += 1;
            out.extend_from_slice(&plain);
        } else {
            out.extend_from_slice(&body);
        }
    }
    inflated
}

/// Which database a test server uses.
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A `tessera-server` on either backend; a PostgreSQL backend owns its
/// private cluster for as long as the server lives.
pub struct ServerSetup {
    pub server: TestServer,
    _pg: Option<Postgres>,
}

impl ServerSetup {
    /// Starts a server on `backend`, with `extra_args` when given.
    pub fn start(backend: Backend, extra_args: &[&str]) -> ServerSetup {
        let mut s = match backend {
            Backend::Sqlite => ServerSetup { server: TestServer::sqlite(), _pg: None },
            Backend::Postgres => {
                let pg = Postgres::start();
                let server =
                    TestServer::start(pg.database(), Arc::new(tempfile::tempdir().expect("a temporary directory")));
                ServerSetup { server, _pg: Some(pg) }
            }
        };
        if !extra_args.is_empty() {
            s.server.set_extra_args(extra_args);
            s.server.restart();
        }
        s
    }
}

/// `tessera sync register` for `v` on `url` as `email`; returns the
/// emergency kit's path.
pub fn register(v: &crate::TestVault, url: &str, email: &str) -> PathBuf {
    let kit = v.dir.path().join("kit.txt");
    let kit_arg = kit.to_str().expect("utf-8");
    let out = v.run(&["sync", "register", "--server", url, "--email", email, "--emergency-kit", kit_arg]);
    crate::assert_success(&out, "sync register");
    kit
}

/// The account's keys, derived from the test password and the emergency
/// kit as the client derives them.
pub fn account_keys(api: &Api, email: &str, kit: &Path) -> account::AccountKeys {
    let pre = api.prelogin(email).expect("prelogin");
    let kdf = account::kdf_from_spec(&pre.kdf).expect("kdf");
    let secret = account::SecretKey::parse(&std::fs::read_to_string(kit).expect("kit")).expect("secret key");
    let password = tessera_unlock::Password::from_first_line(crate::PASSWORD.as_bytes()).expect("password");
    account::derive(&password, &from_b64(&pre.salt).expect("salt"), &kdf, &secret).expect("derive")
}

/// Logs in over HTTP as the client would, from the emergency kit.
pub fn http_login(url: &str, email: &str, kit: &Path) -> (Api, Session) {
    let mut api = Api::new(url).expect("client");
    let keys = account_keys(&api, email, kit);
    let request =
        LoginRequest { email: email.into(), auth: b64(keys.auth.as_ref()), totp: None, device_name: "test".into() };
    let session = api.login(&request).expect("login");
    api.access_token = Some(session.access_token.clone());
    (api, session)
}
