//! SSH keys and the SSH agent with OpenSSH's own tools: `ssh-add`,
//! `ssh-keygen -Y sign/verify`, a real `sshd` on 127.0.0.1, `git` signing
//! commits, all against `tessera ssh-agent` (the headless agent; the
//! desktop app's serves the same code with dialogs, in `browser.rs`'s
//! sibling `desktop` tests).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tessera_test_support::ssh::{sign_and_verify, with_agent};
use tessera_test_support::webdriver::{free_port, poll};
use tessera_test_support::{TestVault, assert_code, assert_success, stderr, stdout};

const KINDS: [&str; 3] = ["ed25519", "ecdsa-p256", "rsa-3072"];

/// A vault with one key of each kind for the agent, and one kept out.
fn vault_with_keys() -> TestVault {
    let v = TestVault::new();
    for kind in KINDS {
        let out = v.run_fast(&["add", "--type", "ssh-key", "--title", &format!("key {kind}"), "--generate", kind]);
        assert_success(&out, &format!("add --generate {kind}"));
    }
    let out =
        v.run_fast(&["add", "--type", "ssh-key", "--title", "offline key", "--generate", "ed25519", "--no-ssh-agent"]);
    assert_success(&out, "add --no-ssh-agent");
    v
}

fn public_line(v: &TestVault, title: &str) -> String {
    let out = v.run_fast(&["ssh", "public", title]);
    assert_success(&out, "ssh public");
    stdout(&out).trim().to_owned()
}

/// `tessera ssh-agent` running on a socket of its own.
struct HeadlessAgent {
    child: Child,
    socket: PathBuf,
}

impl HeadlessAgent {
    fn start(v: &TestVault, extra: &[&str]) -> HeadlessAgent {
        let socket = v.dir.path().join("agent.sock");
        let mut cmd = v.fast_command();
        cmd.args(["ssh-agent", "--socket", socket.to_str().unwrap()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = cmd.spawn().expect("start tessera ssh-agent");
        let agent = HeadlessAgent { child, socket };
        let up = poll(Duration::from_secs(20), || UnixStream::connect(&agent.socket).ok());
        assert!(up.is_some(), "the agent socket never appeared");
        agent
    }

    fn ssh(&self, program: &str) -> Command {
        with_agent(&self.socket, program)
    }
}

impl Drop for HeadlessAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn ssh_add_lists_the_agent_keys_and_each_kind_signs_for_ssh_keygen() {
    let v = vault_with_keys();
    let agent = HeadlessAgent::start(&v, &["--no-confirm"]);
    let out = agent.ssh("ssh-add").arg("-L").output().unwrap();
    assert!(out.status.success(), "ssh-add -L: {}", String::from_utf8_lossy(&out.stderr));
    let listed: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    for kind in KINDS {
        let public = public_line(&v, &format!("key {kind}"));
        let key = public.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        assert!(listed.iter().any(|l| l.starts_with(&key)), "{kind} not listed");
        sign_and_verify(&agent.socket, v.dir.path(), &public).unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
    let offline = public_line(&v, "offline key");
    assert!(!listed.iter().any(|l| l.starts_with(offline.split_whitespace().nth(1).unwrap())));
    assert!(
        sign_and_verify(&agent.socket, v.dir.path(), &offline).is_err(),
        "a key kept out of the agent signs nothing"
    );
}

#[test]
fn a_real_sshd_accepts_the_agents_key() {
    let v = vault_with_keys();
    let agent = HeadlessAgent::start(&v, &["--no-confirm"]);
    let dir = v.dir.path();
    let port = free_port();
    let host_key = dir.join("host_key");
    assert!(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&host_key)
            .status()
            .unwrap()
            .success()
    );
    let authorized = dir.join("authorized_keys");
    std::fs::write(&authorized, format!("{}\n", public_line(&v, "key ed25519"))).unwrap();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile {}\nPermitRootLogin prohibit-password\n",
            host_key.display(),
            authorized.display(),
            dir.join("sshd.pid").display()
        ),
    )
    .unwrap();
    // sshd's privilege-separation directory (made by the service at boot).
    let _ = std::fs::create_dir_all("/run/sshd");
    let mut sshd = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("sshd.log")).unwrap())
        .spawn()
        .expect("sshd runs (package openssh-server; `make test` installs it)");
    let up = poll(Duration::from_secs(10), || std::net::TcpStream::connect(("127.0.0.1", port)).ok());
    let user = std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".into());
    let login = agent
        .ssh("ssh")
        .args(["-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
        .args(["-o", "BatchMode=yes", "-o", "PubkeyAuthentication=yes", "-o"])
        .arg(format!("IdentityAgent={}", agent.socket.display()))
        .args(["-p", &port.to_string(), &format!("{user}@127.0.0.1"), "echo", "logged-in-with-tessera"])
        .output()
        .unwrap();
    let _ = sshd.kill();
    let _ = sshd.wait();
    assert!(up.is_some(), "sshd did not listen: {}", std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default());
    assert!(
        String::from_utf8_lossy(&login.stdout).contains("logged-in-with-tessera"),
        "ssh did not log in: {}\n{}",
        String::from_utf8_lossy(&login.stderr),
        std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
    );
}

#[test]
fn git_signs_a_commit_through_the_agent_and_verifies_it() {
    let v = vault_with_keys();
    let agent = HeadlessAgent::start(&v, &["--no-confirm"]);
    let repo = v.dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let public = public_line(&v, "key ed25519");
    let allowed = v.dir.path().join("allowed_signers");
    std::fs::write(&allowed, format!("me@example.com {public}\n")).unwrap();
    let git = |args: &[&str]| {
        let out = agent
            .ssh("git")
            .current_dir(&repo)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    git(&["init", "-q"]);
    for (k, value) in [
        ("user.name", "Me"),
        ("user.email", "me@example.com"),
        ("gpg.format", "ssh"),
        ("user.signingkey", &format!("key::{public}")),
        ("gpg.ssh.allowedSignersFile", allowed.to_str().unwrap()),
    ] {
        git(&["config", k, value]);
    }
    std::fs::write(repo.join("README"), "signed\n").unwrap();
    git(&["add", "README"]);
    git(&["commit", "-q", "-S", "-m", "A signed commit"]);
    let verified = git(&["verify-commit", "-v", "HEAD"]);
    assert!(verified.contains("Good \"git\" signature for me@example.com"), "{verified}");
}

/// Talks the agent protocol by hand.
fn request(socket: &Path, body: &[u8]) -> Option<Vec<u8>> {
    let mut s = UnixStream::connect(socket).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(body);
    s.write_all(&frame).ok()?;
    let mut len = [0u8; 4];
    s.read_exact(&mut len).ok()?;
    let mut reply = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut reply).ok()?;
    Some(reply)
}

const SSH_AGENT_FAILURE: u8 = 5;
const SSH_AGENT_IDENTITIES_ANSWER: u8 = 12;

#[test]
fn hostile_messages_are_refused_and_the_agent_stays_up() {
    let v = vault_with_keys();
    let agent = HeadlessAgent::start(&v, &["--no-confirm"]);
    let s = &agent.socket;
    // Unknown request, truncated sign request, garbage, add-identity (keys
    // are items: refused), lock (refused).
    for body in [&[200u8][..], &[13, 0, 0], &[0xff; 64], &[17, 0, 0, 0, 1, b'x'], &[22, 0, 0, 0, 2, b'p', b'w']] {
        assert_eq!(request(s, body), Some(vec![SSH_AGENT_FAILURE]), "{body:?}");
    }
    // Oversized: failure, then the connection ends.
    let mut big = UnixStream::connect(s).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    big.write_all(&(10u32 * 1024 * 1024).to_be_bytes()).unwrap();
    let mut reply = Vec::new();
    let _ = big.read_to_end(&mut reply);
    assert_eq!(reply, [0, 0, 0, 1, SSH_AGENT_FAILURE]);
    // Still serving.
    let answer = request(s, &[11]).expect("the agent still answers");
    assert_eq!(answer[0], SSH_AGENT_IDENTITIES_ANSWER);
    assert_eq!(u32::from_be_bytes(answer[1..5].try_into().unwrap()), 3);
}

#[test]
fn a_process_of_another_user_is_refused() {
    if euid() == 0 {
        let v = vault_with_keys();
        let agent = HeadlessAgent::start(&v, &["--no-confirm"]);
        use std::os::unix::fs::PermissionsExt;
        for p in [v.dir.path().to_path_buf(), agent.socket.clone()] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let out = Command::new("ssh-add")
            .arg("-L")
            .env("SSH_AUTH_SOCK", &agent.socket)
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        assert!(!out.status.success(), "another user listed keys: {}", String::from_utf8_lossy(&out.stdout));
        assert!(String::from_utf8_lossy(&out.stdout).is_empty());
        assert_eq!(request(&agent.socket, &[11]).unwrap()[0], SSH_AGENT_IDENTITIES_ANSWER, "still serving its user");
    } else {
        eprintln!("not root: cannot play another user; skipped");
    }
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and touches no memory.
    unsafe { libc::geteuid() }
}

#[test]
fn without_a_terminal_the_agent_says_it_needs_no_confirm() {
    let v = vault_with_keys();
    let out = v
        .fast_command()
        .args(["ssh-agent", "--socket", v.dir.path().join("a.sock").to_str().unwrap()])
        .stdin(Stdio::null())
        .env_remove("TERM")
        .output_without_tty();
    assert_code(&out, 2, "ssh-agent without a terminal");
    assert!(stderr(&out).contains("--no-confirm"), "{}", stderr(&out));
}

trait NoTty {
    fn output_without_tty(&mut self) -> std::process::Output;
}

impl NoTty for Command {
    /// Runs in a new session, so it has no controlling terminal (/dev/tty
    /// does not open), whatever terminal the tests run from.
    fn output_without_tty(&mut self) -> std::process::Output {
        // SAFETY: setsid is async-signal-safe and touches no memory.
        unsafe {
            self.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        self.output().unwrap()
    }
}

#[test]
fn the_terminal_asks_naming_the_process_and_a_refusal_fails_the_signature() {
    let v = vault_with_keys();
    let session = format!("tessera-agent-{}", std::process::id());
    let socket = v.dir.path().join("asking.sock");
    let command = format!(
        "{} --vault {} --unlock recovery --recovery-file {} ssh-agent --socket {}",
        tessera_test_support::tessera_bin().display(),
        v.path.display(),
        v.recovery_file.display(),
        socket.display()
    );
    let tmux = |args: &[&str]| Command::new("tmux").args(["-L", &session]).args(args).output().expect("tmux runs");
    let started = tmux(&["new-session", "-d", "-x", "200", "-y", "50", &command]);
    assert!(started.status.success(), "tmux: {}", String::from_utf8_lossy(&started.stderr));
    struct Kill(String);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = Command::new("tmux").args(["-L", &self.0, "kill-server"]).output();
        }
    }
    let _kill = Kill(session.clone());
    assert!(poll(Duration::from_secs(20), || UnixStream::connect(&socket).ok()).is_some(), "no agent socket");
    let public = public_line(&v, "key ed25519");
    let screen = || String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-J"]).stdout).into_owned();
    for (answer, ok) in [("n", false), ("o", true)] {
        let dir = v.dir.path().to_path_buf();
        let public2 = public.clone();
        let socket2 = socket.clone();
        let signer = std::thread::spawn(move || sign_and_verify(&socket2, &dir, &public2));
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut asked = String::new();
        while Instant::now() < deadline {
            asked = screen();
            if asked.matches("wants to sign with").count() > usize::from(ok) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(asked.contains("ssh-keygen -Y sign"), "the question names the process:\n{asked}");
        assert!(asked.contains("\"key ed25519\""), "and the key:\n{asked}");
        tmux(&["send-keys", answer, "Enter"]);
        let result = signer.join().unwrap();
        assert_eq!(result.is_ok(), ok, "answer {answer}: {result:?}");
    }
}

#[test]
fn keys_made_by_ssh_keygen_are_imported_with_their_passphrase() {
    let v = TestVault::new();
    let dir = v.dir.path();
    let pass = dir.join("passphrase");
    std::fs::write(&pass, "correct pass phrase\n").unwrap();
    let wrong = dir.join("wrong");
    std::fs::write(&wrong, "not it\n").unwrap();
    // (ssh-keygen type, bits, format, passphrase): OpenSSH with and without
    // a passphrase, PEM (PKCS#1, SEC1) and PKCS#8, encrypted too.
    let cases: [(&str, &str, &str, &str); 6] = [
        ("ed25519", "", "RFC4716", "correct pass phrase"),
        ("ecdsa", "256", "RFC4716", ""),
        ("rsa", "3072", "RFC4716", "correct pass phrase"),
        ("rsa", "2048", "PEM", ""),
        ("ecdsa", "256", "PEM", ""),
        ("rsa", "2048", "PKCS8", "correct pass phrase"),
    ];
    for (i, (kind, bits, format, passphrase)) in cases.iter().enumerate() {
        let key = dir.join(format!("key{i}"));
        let mut keygen = Command::new("ssh-keygen");
        keygen.args(["-q", "-t", kind, "-N", passphrase, "-C", &format!("made-by-ssh-keygen-{i}"), "-f"]).arg(&key);
        if !bits.is_empty() {
            keygen.args(["-b", bits]);
        }
        if *format != "RFC4716" {
            keygen.args(["-m", format]);
        }
        assert!(keygen.status().unwrap().success(), "ssh-keygen case {i}");
        let title = format!("imported {i}");
        let mut args = vec!["add", "--type", "ssh-key", "--title", &title, "--import", key.to_str().unwrap()];
        if !passphrase.is_empty() {
            let refused = v.run_fast(&[&args[..], &["--passphrase-file", wrong.to_str().unwrap()]].concat());
            assert_code(&refused, 3, &format!("import case {i} with a wrong passphrase"));
            args.extend_from_slice(&["--passphrase-file", pass.to_str().unwrap()]);
        }
        assert_success(&v.run_fast(&args), &format!("import case {i}"));
        let ours = public_line(&v, &title);
        let theirs = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let key_part = |l: &str| l.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        assert_eq!(key_part(&ours), key_part(&theirs), "case {i}");
        let shown = v.json(&["show", &title, "--reveal"]);
        let private = shown["fields"][0]["value"].as_str().unwrap();
        assert!(private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"), "kept in OpenSSH form, case {i}");
        assert_eq!(shown["ssh_agent"], true);
    }
    // A passphrase-protected key without a passphrase and without a terminal.
    let out = v
        .fast_command()
        .args(["add", "--type", "ssh-key", "--title", "x", "--import", dir.join("key0").to_str().unwrap()])
        .output_without_tty();
    assert_code(&out, 2, "import of a protected key without its passphrase");
    assert!(stderr(&out).contains("passphrase"), "{}", stderr(&out));
}
