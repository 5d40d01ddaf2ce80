//! The server's share of metadata and cost, against a real `tessera-server`
//! on 127.0.0.1: client addresses leave the event log after the retention
//! time; per-account quotas and the body and item caps answer 413 with a
//! JSON error the CLI turns into a message naming the limit; slow request
//! heads, slow bodies and idle connections are cut off; and a property-based
//! fuzz of every endpoint never gets a 5xx, a panic or a non-JSON refusal.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use tessera_sync::wire::b64;
use tessera_test_support::server::{Backend, Database, ServerSetup, TestServer, http_login, register};
use tessera_test_support::{PASSWORD, TestVault, assert_code, assert_success, stderr};

const EMAIL: &str = "alice@example.com";

fn pending(v: &TestVault) -> u64 {
    let status: Value = serde_json::from_slice(&v.run(&["--json", "sync", "status"]).stdout).expect("status");
    status["pending"].as_u64().expect("a pending count")
}

fn add_with_secret(v: &TestVault, title: &str, bytes: usize) {
    let file = v.dir.path().join(format!("{title}.secret"));
    std::fs::write(&file, "x".repeat(bytes)).expect("write");
    let out = v.run_fast(&["add", "--title", title, "--secret-file", file.to_str().expect("utf-8")]);
    assert_success(&out, "add");
}

/// A raw HTTP/1.1 exchange: the status and the body.
fn raw(port: u16, request: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    s.write_all(request).expect("write");
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    parse_reply(&reply)
}

fn parse_reply(reply: &[u8]) -> (u16, Vec<u8>) {
    let text = String::from_utf8_lossy(reply);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("an HTTP answer: {text:?}"));
    let body = match reply.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => reply[at + 4..].to_vec(),
        None => Vec::new(),
    };
    (status, body)
}

/// The JSON error body of a refusal, checked for the shape every refusal has.
fn error_body(status: u16, body: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("HTTP {status}: the body is not JSON: {:?}", String::from_utf8_lossy(body)));
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "HTTP {status}: {v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "HTTP {status}: {v}");
    v
}

// --- addresses in the event log ----------------------------------------------------

fn addresses_are_erased_after_the_retention_time(backend: Backend) {
    let mut s = ServerSetup::start(backend, &[]);
    let v = TestVault::new();
    register(&v, &s.server.url, EMAIL);
    let db: &Database = &s.server.database;
    let account = db.sql("SELECT id FROM accounts").remove(0);
    let day = 86_400;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() as i64;
    for (age_days, address) in [(31, "203.0.113.31"), (29, "203.0.113.29")] {
        db.sql(&format!(
            "INSERT INTO account_events (account_id, at, event, device, address)
             VALUES ('{account}', {}, 'login', 'old laptop', '{address}')",
            now - age_days * day
        ));
    }
    // The erasure runs at start, before the first request is answered.
    s.server.set_extra_args(&["--keep-addresses-days", "30"]);
    s.server.restart();
    let rows = s.server.database.sql("SELECT event, device, address FROM account_events ORDER BY at");
    assert_eq!(rows[0], "login\told laptop\t", "the 31-day-old address is gone, the event stays: {rows:?}");
    assert_eq!(rows[1], "login\told laptop\t203.0.113.29", "{rows:?}");
    assert!(rows[2..].iter().all(|r| r.ends_with("\t127.0.0.1")), "today's addresses stay: {rows:?}");
    // The account's owner sees the same.
    let out = v.run(&["--json", "sync", "events"]);
    assert_success(&out, "sync events");
    let events: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert!(events.iter().any(|e| e["device"] == "old laptop" && e["address"] == ""), "{events:?}");

    // 1 day: the 29-day-old one goes too.
    s.server.set_extra_args(&["--keep-addresses-days", "1"]);
    s.server.restart();
    let erased = "SELECT COUNT(*) FROM account_events WHERE device = 'old laptop' AND address = ''";
    assert_eq!(s.server.database.sql(erased), vec!["2".to_string()]);

    // 0: no address is written at all.
    s.server.set_extra_args(&["--keep-addresses-days", "0"]);
    s.server.restart();
    let count = |sql: &str| s.server.database.sql(sql)[0].parse::<u64>().expect("a count");
    let before = count("SELECT COUNT(*) FROM account_events");
    http_login(&s.server.url, EMAIL, &v.dir.path().join("kit.txt"));
    assert!(count("SELECT COUNT(*) FROM account_events") > before, "the login was logged");
    assert_eq!(count("SELECT COUNT(*) FROM account_events WHERE address <> ''"), 0, "no address kept or written");
}

#[test]
fn sqlite_client_addresses_are_erased_after_the_retention_time() {
    addresses_are_erased_after_the_retention_time(Backend::Sqlite);
}

#[test]
fn postgres_client_addresses_are_erased_after_the_retention_time() {
    addresses_are_erased_after_the_retention_time(Backend::Postgres);
}

// --- quotas --------------------------------------------------------------------------

fn quotas_refuse_with_413_naming_the_limit(backend: Backend) {
    let mut s = ServerSetup::start(backend, &["--quota-items", "3"]);
    let v = TestVault::new();
    v.add_login("One", "a");
    v.add_login("Two", "b");
    let kit = register(&v, &s.server.url, EMAIL);

    // Items: two more would make four.
    v.add_login("Three", "c");
    v.add_login("Four", "d");
    let out = v.run(&["sync"]);
    assert_code(&out, 1, "a sync over the item quota");
    let err = stderr(&out);
    assert!(err.contains("quota of 3 items"), "{err}");
    assert!(err.contains("HTTP 413") && err.contains("stay queued"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
    assert_eq!(pending(&v), 2, "nothing of the refused batch was applied");
    let count = s.server.database.sql("SELECT COUNT(*) FROM items")[0].clone();
    assert_eq!(count, "2");

    // Deleting works even when over the quota, and makes room.
    let out = v.run_fast(&["rm", "Four"]);
    assert_success(&out, "rm");
    assert_success(&v.run_fast(&["purge", "--trash"]), "purge");
    assert_success(&v.run(&["sync"]), "a sync within the quota");

    // Bytes: a 20 KB secret goes over 12 KiB.
    s.server.set_extra_args(&["--quota-items", "10", "--quota-bytes", "12KiB"]);
    s.server.restart();
    add_with_secret(&v, "Big", 20_000);
    let out = v.run(&["sync"]);
    assert_code(&out, 1, "a sync over the byte quota");
    assert!(stderr(&out).contains("storage quota of 12 KiB"), "{}", stderr(&out));

    // The wire: 413, `quota_exceeded`, and which limit.
    let token = http_login(&s.server.url, EMAIL, &kit).1.access_token;
    let index: Value = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/vault/index", s.server.url))
        .bearer_auth(&token)
        .send()
        .expect("index")
        .json()
        .expect("json");
    let version = index["manifest_version"].as_u64().expect("a version");
    let push = json!({
        "base_manifest_version": version,
        "manifest_version": version + 1,
        "manifest": b64(&[0; 64]),
        "items": (0..8).map(|i| json!({
            "id": format!("{i:032x}"), "base_revision": 0, "deleted": false, "blob": b64(&[1; 100])
        })).collect::<Vec<_>>(),
    });
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/vault/push", s.server.url))
        .bearer_auth(&token)
        .json(&push)
        .send()
        .expect("push");
    assert_eq!(r.status().as_u16(), 413);
    let body: Value = r.json().expect("a JSON error");
    assert_eq!(body["error"], "quota_exceeded", "{body}");
    assert_eq!(body["limit"], json!({"name": "items", "max": 10}), "{body}");
}

#[test]
fn sqlite_quotas_refuse_a_push_with_413_and_the_cli_names_the_limit() {
    quotas_refuse_with_413_naming_the_limit(Backend::Sqlite);
}

#[test]
fn postgres_quotas_refuse_a_push_with_413_and_the_cli_names_the_limit() {
    quotas_refuse_with_413_naming_the_limit(Backend::Postgres);
}

#[test]
fn an_item_over_max_record_is_refused_and_named() {
    // `--max-attachment` is the other name of `--max-record`.
    let s = ServerSetup::start(Backend::Sqlite, &["--max-attachment", "8KiB"]);
    let v = TestVault::new();
    register(&v, &s.server.url, EMAIL);
    add_with_secret(&v, "Big", 10_000);
    let out = v.run(&["sync"]);
    assert_code(&out, 1, "a sync with an item over --max-record");
    assert!(stderr(&out).contains("larger than this server accepts (8 KiB per item)"), "{}", stderr(&out));
    assert_eq!(pending(&v), 1);
}

#[test]
fn a_record_over_two_megabytes_syncs_under_the_default_limits() {
    // axum's own 2 MB default body limit once refused these as 400.
    let s = ServerSetup::start(Backend::Sqlite, &[]);
    let v = TestVault::new();
    register(&v, &s.server.url, EMAIL);
    let id = v.add_login("With a file", "a");
    let file = v.dir.path().join("scan.bin");
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(&file, &bytes).expect("write");
    assert_success(&v.run_fast(&["attach", &id, file.to_str().expect("utf-8")]), "attach");
    assert_success(&v.run(&["sync"]), "sync a 3 MB item");
    assert_eq!(pending(&v), 0);
}

// --- the body cap -------------------------------------------------------------------

#[test]
fn max_body_answers_413_in_json_and_the_old_flag_name_still_works() {
    for flag in ["--max-body", "--max-body-bytes"] {
        let s = ServerSetup::start(Backend::Sqlite, &[flag, "4KiB"]);
        // Declared up front: refused before a byte of it is read.
        let (status, body) = raw(
            s.server.port,
            b"POST /api/v1/accounts/prelogin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 999999999\r\n\r\n",
        );
        assert_eq!(status, 413, "{flag}");
        let v = error_body(status, &body);
        assert_eq!(v["error"], "too_large");
        assert_eq!(v["limit"], json!({"name": "body", "max": 4096}));
        // Chunked, so found while reading.
        let chunk = format!("{:x}\r\n{}\r\n", 5000, "x".repeat(5000));
        let request = format!(
            "POST /api/v1/accounts/prelogin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunk}0\r\n\r\n"
        );
        let (status, body) = raw(s.server.port, request.as_bytes());
        assert_eq!(status, 413, "{flag}");
        assert_eq!(error_body(status, &body)["limit"]["name"], "body");
    }
}

/// A gzipped body is counted inflated: 5,000 bytes that gzip to a few
/// dozen meet the 4 KiB cap like 5,000 plain ones; under the cap it is
/// read as JSON. Every answer says the server takes gzip (RFC 7694).
#[test]
fn a_gzipped_body_is_capped_by_its_inflated_size() {
    let s = ServerSetup::start(Backend::Sqlite, &["--max-body", "4KiB"]);
    let gzip = |body: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(body).expect("gzip");
        e.finish().expect("gzip")
    };
    let post = |body: &[u8]| {
        let mut request = format!(
            "POST /api/v1/accounts/prelogin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        raw(s.server.port, &request)
    };
    let bomb = gzip(format!("{{\"email\": \"{}\"}}", "x".repeat(5000)).as_bytes());
    assert!(bomb.len() < 200, "the bomb is small on the wire ({} bytes)", bomb.len());
    let (status, body) = post(&bomb);
    assert_eq!(status, 413);
    assert_eq!(error_body(status, &body)["limit"], json!({"name": "body", "max": 4096}));
    let (status, body) = post(&gzip(br#"{"email": "someone@example.com"}"#));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let mut c = TcpStream::connect(("127.0.0.1", s.server.port)).expect("connect");
    c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("write");
    let mut reply = Vec::new();
    let _ = c.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply).to_ascii_lowercase();
    assert!(reply.contains("\r\naccept-encoding: gzip\r\n"), "{reply}");
}

#[test]
fn a_push_over_max_body_is_reported_by_the_cli() {
    let s = ServerSetup::start(Backend::Sqlite, &["--max-body", "3000"]);
    let v = TestVault::new();
    register(&v, &s.server.url, EMAIL);
    add_with_secret(&v, "Big", 5000);
    let out = v.run(&["sync"]);
    assert_code(&out, 1, "a push over --max-body");
    assert!(stderr(&out).contains("a request was larger than this server accepts (3000 bytes)"), "{}", stderr(&out));
}

// --- timeouts -----------------------------------------------------------------------

/// Reads until the server closes the connection; the time that took and
/// what it sent.
fn until_closed(s: &mut TcpStream, limit: Duration) -> (Duration, Vec<u8>) {
    let start = Instant::now();
    s.set_read_timeout(Some(limit)).expect("timeout");
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server kept the connection open past {limit:?}: {e}"),
        }
    }
    (start.elapsed(), all)
}

fn slow_server() -> TestServer {
    let mut server = TestServer::sqlite();
    server.set_extra_args(&["--request-timeout", "2", "--idle-timeout", "3"]);
    server.restart();
    server
}

#[test]
fn a_request_head_sent_a_byte_at_a_time_is_cut_off() {
    let server = slow_server();
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    s.write_all(b"POST /api/v1/accounts/prelogin HTTP/1.1\r\nHost: x\r\n").expect("write");
    let start = Instant::now();
    // A header byte every 300 ms, as a slowloris client sends them.
    let mut writer = s.try_clone().expect("clone");
    let dribble = std::thread::spawn(move || {
        for b in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
            std::thread::sleep(Duration::from_millis(300));
            if writer.write_all(&[*b]).is_err() {
                return;
            }
        }
    });
    let (_, reply) = until_closed(&mut s, Duration::from_secs(10));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(1500) && took < Duration::from_secs(5), "closed after {took:?}");
    assert!(reply.is_empty() || reply.starts_with(b"HTTP/1.1 408"), "{:?}", String::from_utf8_lossy(&reply));
    dribble.join().expect("the dribbling thread");
}

#[test]
fn a_body_slower_than_the_request_timeout_gets_408_in_json_and_the_connection_closes() {
    let server = slow_server();
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    s.write_all(
        b"POST /api/v1/accounts/prelogin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"email\": \"",
    )
    .expect("write");
    let mut writer = s.try_clone().expect("clone");
    let dribble = std::thread::spawn(move || {
        for _ in 0..60 {
            std::thread::sleep(Duration::from_millis(200));
            if writer.write_all(b"a").is_err() {
                return;
            }
        }
    });
    let (took, reply) = until_closed(&mut s, Duration::from_secs(10));
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    let (status, body) = parse_reply(&reply);
    assert_eq!(status, 408);
    assert_eq!(error_body(status, &body)["error"], "timeout");
    dribble.join().expect("the dribbling thread");
}

#[test]
fn idle_connections_are_closed_after_the_idle_timeout_but_kept_until_then() {
    let server = slow_server();
    let get = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut buf = [0u8; 4096];
    for pause in [0, 2200] {
        // Longer than the request timeout, shorter than the idle one: kept.
        std::thread::sleep(Duration::from_millis(pause));
        s.write_all(get).expect("write");
        let n = s.read(&mut buf).expect("an answer on the same connection");
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&buf[..n]));
    }
    let (took, rest) = until_closed(&mut s, Duration::from_secs(10));
    assert!(rest.is_empty());
    assert!(took >= Duration::from_millis(2500) && took < Duration::from_secs(6), "closed after {took:?}");

    // A connection that never sends a byte goes the same way.
    let mut silent = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    let (took, _) = until_closed(&mut silent, Duration::from_secs(10));
    assert!(took >= Duration::from_millis(2500) && took < Duration::from_secs(6), "closed after {took:?}");
    // The server is still fine.
    assert_eq!(raw(server.port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").0, 200);
}

// --- fuzz ---------------------------------------------------------------------------

/// Cases per class of endpoint; `TESSERA_FUZZ_CASES` raises it.
fn fuzz_cases() -> u32 {
    std::env::var("TESSERA_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
}

/// Any JSON value, a few levels deep, with the numbers that break parsers.
fn any_json() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        Just("18446744073709551616".to_string()),
        Just("-9223372036854775809".to_string()),
        Just("1e400".to_string()),
        Just("-0".to_string()),
        Just("123456789012345678901234567890123456789012345678901234567890".to_string()),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| f.to_string()),
    ];
    let leaf = prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        number,
        ".{0,40}".prop_map(|s| serde_json::to_string(&s).expect("a string")),
        "[A-Za-z0-9+/=]{0,64}".prop_map(|s| format!("\"{s}\"")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((field_name(), inner), 0..6).prop_map(|v| {
                let fields: Vec<String> = v.into_iter().map(|(k, v)| format!("{}:{v}", json!(k))).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// Field names the API uses, and some it does not.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "email",
            "auth",
            "salt",
            "kdf",
            "algorithm",
            "memory_kib",
            "iterations",
            "parallelism",
            "wrapped_vault_key",
            "manifest",
            "device_name",
            "totp",
            "refresh_token",
            "code",
            "items",
            "id",
            "blob",
            "deleted",
            "base_revision",
            "base_manifest_version",
            "manifest_version",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,12}",
    ]
}

/// A valid body for each route, to mutate.
fn valid_bodies() -> Vec<(&'static str, Value)> {
    let kdf = json!({"algorithm": "argon2id", "memory_kib": 65536, "iterations": 3, "parallelism": 4});
    vec![
        ("/api/v1/accounts/prelogin", json!({"email": "fuzz@example.com"})),
        (
            "/api/v1/accounts/register",
            json!({"email": "fuzz@example.com", "auth": b64(&[1; 32]), "salt": b64(&[2; 16]), "kdf": kdf,
                   "wrapped_vault_key": b64(&[3; 40]), "manifest": b64(&[4; 64]), "device_name": "fuzz"}),
        ),
        (
            "/api/v1/accounts/login",
            json!({"email": EMAIL, "auth": b64(&[1; 32]), "totp": "123456", "device_name": "fuzz"}),
        ),
        ("/api/v1/accounts/refresh", json!({"refresh_token": "abc"})),
        ("/api/v1/accounts/2fa/verify", json!({"code": "123456"})),
        ("/api/v1/accounts/2fa/disable", json!({"code": "123456"})),
        (
            "/api/v1/vault/push",
            json!({"base_manifest_version": 1, "manifest_version": 2, "manifest": b64(&[4; 64]),
                   "items": [{"id": "0123456789abcdef0123456789abcdef", "base_revision": 0, "deleted": false,
                              "blob": b64(&[5; 64])}]}),
        ),
    ]
}

/// Replaces one value somewhere in `v` (walking `path` choices) with `with`.
fn mutate(v: &mut Value, path: &[usize], with: Value) {
    let slot = match v {
        Value::Object(m) if !m.is_empty() => {
            let key = m.keys().nth(path.first().copied().unwrap_or(0) % m.len()).cloned().expect("a key");
            m.get_mut(&key).expect("the key")
        }
        Value::Array(a) if !a.is_empty() => {
            let n = a.len();
            &mut a[path.first().copied().unwrap_or(0) % n]
        }
        _ => {
            *v = with;
            return;
        }
    };
    if path.len() > 1 && (slot.is_object() || slot.is_array()) {
        mutate(slot, &path[1..], with);
    } else {
        *slot = with;
    }
}

struct Target {
    port: u16,
    token: String,
}

impl Target {
    /// Sends one request; checks it is answered below 500, and a refusal
    /// is our JSON error.
    fn check(&self, method: &str, path: &str, body: &[u8], authed: bool, content_type: &str) {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        if authed {
            head.push_str(&format!("Authorization: Bearer {}\r\n", self.token));
        }
        if !content_type.is_empty() {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        let (status, reply) = raw(self.port, &request);
        let shown = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        assert!(status < 500, "{method} {path} {shown:?} → {status} {:?}", String::from_utf8_lossy(&reply));
        if status >= 400 {
            let v: Value = serde_json::from_slice(&reply).unwrap_or_else(|_| {
                panic!("{method} {path} {shown:?} → {status}, not JSON: {:?}", String::from_utf8_lossy(&reply))
            });
            assert!(v["error"].is_string() && v["message"].is_string(), "{method} {path} → {status} {v}");
        }
    }
}

#[test]
fn fuzzing_every_endpoint_never_gets_a_5xx_a_panic_or_a_non_json_refusal() {
    let s = ServerSetup::start(Backend::Sqlite, &[]);
    let v = TestVault::new();
    v.add_login("Fuzzed", "f");
    let kit = register(&v, &s.server.url, EMAIL);
    let target = Target { port: s.server.port, token: http_login(&s.server.url, EMAIL, &kit).1.access_token };
    let config = Config { cases: fuzz_cases(), failure_persistence: None, ..Config::default() };
    let routes = valid_bodies();
    let all_paths: Vec<&str> = routes
        .iter()
        .map(|(p, _)| *p)
        .chain([
            "/api/v1/accounts/logout",
            "/api/v1/accounts",
            "/api/v1/accounts/events",
            "/api/v1/accounts/devices",
            "/api/v1/accounts/devices/0123456789abcdef0123456789abcdef",
            "/api/v1/accounts/2fa/enroll",
            "/api/v1/vault",
            "/api/v1/vault/index",
            "/api/v1/vault/changes",
            "/api/v1/openapi.json",
            "/api/v1/nothing",
        ])
        .collect();

    // 1. Random JSON to every route, with and without a token.
    let mut runner = TestRunner::new(config.clone());
    runner
        .run(&(prop::sample::select(all_paths.clone()), any_json(), any::<bool>()), |(path, body, authed)| {
            for method in ["POST", "DELETE"] {
                target.check(method, path, body.as_bytes(), authed, "application/json");
            }
            Ok(())
        })
        .expect("random JSON");

    // 2. Valid bodies with one value replaced (wrong types, huge numbers).
    let mut runner = TestRunner::new(config.clone());
    let strategy =
        (prop::sample::select(routes.clone()), prop::collection::vec(0usize..8, 1..4), any_json(), any::<bool>());
    runner
        .run(&strategy, |((path, mut body), at, with, authed)| {
            let with: Value = serde_json::from_str(&with).unwrap_or(Value::Null);
            mutate(&mut body, &at, with);
            target.check("POST", path, body.to_string().as_bytes(), authed, "application/json");
            Ok(())
        })
        .expect("mutated JSON");

    // 3. Bytes that are not JSON, wrong content types, truncated bodies.
    let mut runner = TestRunner::new(config.clone());
    let strategy = (
        prop::sample::select(routes.clone()),
        prop::collection::vec(any::<u8>(), 0..200),
        0usize..200,
        prop::sample::select(vec!["application/json", "text/plain", "", "application/json; charset=latin1"]),
    );
    runner
        .run(&strategy, |((path, body), noise, cut, content_type)| {
            let text = body.to_string();
            let truncated = &text.as_bytes()[..cut.min(text.len())];
            target.check("POST", path, truncated, true, content_type);
            target.check("POST", path, &noise, true, "application/json");
            Ok(())
        })
        .expect("not JSON");

    // 4. Query strings and path parameters. Only what a URI may hold: a
    // request line that is not HTTP is refused by hyper itself (400, no
    // body) before any route sees it.
    let mut runner = TestRunner::new(config.clone());
    let strategy = (".{0,30}", "[0-9a-z-]{0,24}", "[%0-9A-Za-z._~-]{0,40}", any::<bool>());
    runner
        .run(&strategy, |(any_text, plain, id, authed)| {
            let q = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
            for query in [
                format!("since={}&limit={}", q(&any_text), plain),
                format!("since={plain}&limit={}", q(&any_text)),
                format!("since={plain}&since=1&limit"),
                "since=18446744073709551616&limit=-1".to_string(),
                "since=18446744073709551615&limit=4294967295".to_string(),
            ] {
                target.check("GET", &format!("/api/v1/vault/changes?{query}"), b"", authed, "");
            }
            target.check("DELETE", &format!("/api/v1/accounts/devices/{id}x"), b"", authed, "");
            Ok(())
        })
        .expect("queries and paths");

    // 5. Methods a route does not take.
    for path in &all_paths {
        for method in ["GET", "PUT", "PATCH", "OPTIONS", "DELETE", "POST"] {
            target.check(method, path, b"", true, "");
        }
    }

    // 6. Deep nesting: 10,000 arrays, and 10,000 objects, in every body.
    let arrays = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let objects = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    for (path, body) in &routes {
        for deep in [&arrays, &objects] {
            target.check("POST", path, deep.as_bytes(), true, "application/json");
            let mut nested = body.clone();
            mutate(&mut nested, &[0], Value::Null);
            let text = nested.to_string().replacen("null", deep, 1);
            target.check("POST", path, text.as_bytes(), true, "application/json");
        }
    }

    // The account still works, and the server never panicked.
    assert_success(&v.run(&["sync"]), "a sync after the fuzz");
    let logs = String::from_utf8_lossy(&s.server.logs()).into_owned();
    assert!(!logs.contains("panicked"), "the server panicked: {logs}");
    assert!(!logs.contains("\"status\":5"), "a 5xx was logged");
}
