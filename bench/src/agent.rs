//! SSH agent and secrets-for-programs figures (issue "SSH keys and
//! developer secrets"):
//!
//! - Signature latency through the agent protocol, approval excluded:
//!   `tessera ssh-agent --no-confirm` and OpenSSH's own `ssh-agent` holding
//!   the same key (exported from the vault and `ssh-add`ed), one connection
//!   each, requests alternating between the two in one run; p50 and p95 per
//!   key type, and the ratio.
//! - `tessera run --env T=tessera://… -- true` against `true` alone, each a
//!   fresh process, the vault unlocked with the recovery code (no KDF): the
//!   difference is what a reference costs a command.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tessera_test_support::TestVault;

use crate::percentile;

const KINDS: [&str; 3] = ["ed25519", "ecdsa-p256", "rsa-3072"];
/// Signatures timed per agent and key type.
const SIGNATURES: usize = 300;
/// `tessera run` starts timed.
const RUNS: usize = 30;

const REQUEST_IDENTITIES: u8 = 11;
const IDENTITIES_ANSWER: u8 = 12;
const SIGN_REQUEST: u8 = 13;
const SIGN_RESPONSE: u8 = 14;
const RSA_SHA2_256: u32 = 2;

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A running agent process on a socket, killed on drop.
struct Running {
    child: Child,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(socket: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while UnixStream::connect(socket).is_err() {
        assert!(Instant::now() < deadline, "{} never answered", socket.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

fn take_string(buf: &[u8], at: &mut usize) -> Vec<u8> {
    let len = u32::from_be_bytes(buf[*at..*at + 4].try_into().unwrap()) as usize;
    *at += 4;
    let s = buf[*at..*at + len].to_vec();
    *at += len;
    s
}

/// One request and its reply (type byte and body).
fn round_trip(stream: &mut UnixStream, kind: u8, body: &[u8]) -> (u8, Vec<u8>) {
    let mut msg = Vec::with_capacity(5 + body.len());
    msg.extend_from_slice(&((body.len() + 1) as u32).to_be_bytes());
    msg.push(kind);
    msg.extend_from_slice(body);
    stream.write_all(&msg).unwrap();
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).unwrap();
    let mut reply = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut reply).unwrap();
    (reply[0], reply[1..].to_vec())
}

/// The agent's keys as (blob, comment).
fn identities(stream: &mut UnixStream) -> Vec<(Vec<u8>, String)> {
    let (kind, body) = round_trip(stream, REQUEST_IDENTITIES, &[]);
    assert_eq!(kind, IDENTITIES_ANSWER);
    let count = u32::from_be_bytes(body[..4].try_into().unwrap());
    let mut at = 4;
    (0..count)
        .map(|_| {
            let blob = take_string(&body, &mut at);
            let comment = String::from_utf8_lossy(&take_string(&body, &mut at)).into_owned();
            (blob, comment)
        })
        .collect()
}

fn sign(stream: &mut UnixStream, blob: &[u8], data: &[u8], flags: u32) -> Duration {
    let mut body = Vec::new();
    put_string(&mut body, blob);
    put_string(&mut body, data);
    body.extend_from_slice(&flags.to_be_bytes());
    let t = Instant::now();
    let (kind, _) = round_trip(stream, SIGN_REQUEST, &body);
    let took = t.elapsed();
    assert_eq!(kind, SIGN_RESPONSE, "the agent refused to sign");
    took
}

fn ms(sorted: &[f64], p: f64) -> String {
    format!("{:.3}", percentile(sorted, p))
}

pub fn figures() {
    if !(have("ssh-agent") && have("ssh-add")) {
        println!("(the agent figures need OpenSSH's ssh-agent and ssh-add: `make bench` installs them)\n");
        return;
    }
    let v = TestVault::new();
    for kind in KINDS {
        let out = v.run_fast(&["add", "--type", "ssh-key", "--title", &format!("key {kind}"), "--generate", kind]);
        assert!(out.status.success(), "add {kind}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let dir = v.dir.path();

    // Tessera's agent, headless, signing without asking.
    let ours = dir.join("tessera.sock");
    let _tessera = Running {
        child: v
            .fast_command()
            .args(["ssh-agent", "--no-confirm", "--socket", ours.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tessera ssh-agent"),
    };
    // OpenSSH's, with the same keys.
    let theirs = dir.join("openssh.sock");
    let _openssh = Running {
        child: Command::new("ssh-agent")
            .args(["-D", "-a"])
            .arg(&theirs)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ssh-agent"),
    };
    wait_for(&ours);
    wait_for(&theirs);
    for kind in KINDS {
        let file = dir.join(format!("id_{kind}"));
        let out = v.run_fast(&["read", &format!("tessera://key {kind}/Private key"), "--out", file.to_str().unwrap()]);
        assert!(out.status.success(), "read the key: {}", String::from_utf8_lossy(&out.stderr));
        let added = Command::new("ssh-add").arg(&file).env("SSH_AUTH_SOCK", &theirs).stderr(Stdio::null()).status();
        assert!(added.is_ok_and(|s| s.success()), "ssh-add {kind}");
        let _ = std::fs::remove_file(&file);
    }

    let mut a = UnixStream::connect(&ours).unwrap();
    let mut b = UnixStream::connect(&theirs).unwrap();
    let listed = identities(&mut a);
    let openssh_listed = identities(&mut b);
    println!("## SSH agent: signature latency, approval excluded ({SIGNATURES} each, alternating)\n");
    println!("| key | Tessera p50 / p95 (ms) | OpenSSH ssh-agent p50 / p95 (ms) | ratio (p50) |");
    println!("| --- | --- | --- | --- |");
    for kind in KINDS {
        let (blob, _) = listed.iter().find(|(_, c)| c == &format!("key {kind}")).expect("the key is listed").clone();
        assert!(openssh_listed.iter().any(|(b, _)| *b == blob), "OpenSSH's agent holds the same {kind} key");
        let flags = if kind.starts_with("rsa") { RSA_SHA2_256 } else { 0 };
        // What ssh signs: a session hash and a little more (~100 bytes).
        let data: Vec<u8> = (0..128u8).collect();
        for _ in 0..10 {
            sign(&mut a, &blob, &data, flags);
            sign(&mut b, &blob, &data, flags);
        }
        let (mut t, mut o) = (Vec::new(), Vec::new());
        for _ in 0..SIGNATURES {
            t.push(sign(&mut a, &blob, &data, flags).as_secs_f64() * 1000.0);
            o.push(sign(&mut b, &blob, &data, flags).as_secs_f64() * 1000.0);
        }
        t.sort_by(f64::total_cmp);
        o.sort_by(f64::total_cmp);
        println!(
            "| {kind} | {} / {} | {} / {} | {:.2}× |",
            ms(&t, 0.5),
            ms(&t, 0.95),
            ms(&o, 0.5),
            ms(&o, 0.95),
            percentile(&t, 0.5) / percentile(&o, 0.5)
        );
    }
    println!();

    // `tessera run` with one reference.
    let secret = dir.join("token");
    std::fs::write(&secret, "bench-Token-0123456789\n").unwrap();
    let out = v.run_fast(&["add", "--title", "API", "--secret-file", secret.to_str().unwrap()]);
    assert!(out.status.success(), "add API: {}", String::from_utf8_lossy(&out.stderr));
    let time = |cmd: &mut Command| {
        let t = Instant::now();
        let status = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
        assert!(status.success());
        t.elapsed().as_secs_f64() * 1000.0
    };
    let (mut plain, mut run) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        plain.push(time(&mut Command::new("true")));
        run.push(time(v.fast_command().args(["run", "--env", "TOKEN=tessera://API/password", "--", "true"])));
    }
    plain.sort_by(f64::total_cmp);
    run.sort_by(f64::total_cmp);
    println!("## `tessera run` with one reference (KDF excluded: recovery-code unlock; {RUNS} runs)\n");
    println!("| command | p50 (ms) | p95 (ms) |");
    println!("| --- | --- | --- |");
    println!("| `true` | {} | {} |", ms(&plain, 0.5), ms(&plain, 0.95));
    println!("| `tessera run --env TOKEN=tessera://API/password -- true` | {} | {} |", ms(&run, 0.5), ms(&run, 0.95));
    println!("\nOverhead of `tessera run` (p50): {:.1} ms\n", percentile(&run, 0.5) - percentile(&plain, 0.5));
}
