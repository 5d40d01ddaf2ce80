//! Process hardening (crates/hardening): a process of the same user can
//! neither read the memory of `tessera` nor trace it, a crash leaves no core
//! file, and memory is locked where the limit allows. Each check has a control
//! (an ordinary process under the same conditions) that shows the check
//! would fail if the hardening were missing.
//!
//! Playing "a process of the same user" needs a second identity, so the
//! same-user tests run the vault's processes as `nobody` (uid 65534) and are
//! skipped when the tests do not run as root.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use tessera_test_support::app::{App, write_config};
use tessera_test_support::memory::marker_hits;
use tessera_test_support::webdriver::{desktop_bin, poll};
use tessera_test_support::{TestVault, assert_success, tessera_bin};

const NOBODY: u32 = 65534;

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and touches no memory.
    unsafe { libc::geteuid() }
}

/// What a same-user attacker gets from `pid`: whether `/proc/PID/mem`
/// opens and whether `PTRACE_ATTACH` succeeds, run as `nobody`.
#[derive(Debug, PartialEq, Eq)]
struct Access {
    mem_opens: bool,
    ptrace_attaches: bool,
}

const PROBE: &str = r#"
import ctypes, errno, os, sys
pid = int(sys.argv[1])
try:
    open(f"/proc/{pid}/mem", "rb").close()
    mem = "open"
except PermissionError:
    mem = "denied"
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH, PTRACE_DETACH = 16, 17
if libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0:
    os.waitpid(pid, 0)
    libc.ptrace(PTRACE_DETACH, pid, None, None)
    trace = "attached"
else:
    trace = "denied" if ctypes.get_errno() == errno.EPERM else f"errno {ctypes.get_errno()}"
print(mem, trace)
"#;

fn probe_as_nobody(pid: u32) -> Access {
    let out = Command::new("python3").arg("-c").arg(PROBE).arg(pid.to_string()).uid(NOBODY).gid(NOBODY).output();
    let out = out.expect("python3 (scripts/setup.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(out.status.success(), "probe failed: {text} {}", String::from_utf8_lossy(&out.stderr));
    match text.split_once(' ') {
        Some((mem, trace)) if trace == "attached" || trace == "denied" => {
            Access { mem_opens: mem == "open", ptrace_attaches: trace == "attached" }
        }
        _ => panic!("unexpected probe answer {text:?}"),
    }
}

/// A vault directory `nobody` owns, so `tessera` can run as `nobody`.
fn vault_for_nobody() -> TestVault {
    let v = TestVault::new();
    chown_tree(v.dir.path(), NOBODY);
    v
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid);
        }
    }
}

/// A copy of `tessera` that `nobody` may run: the build directory is
/// usually under root's private home.
fn tessera_for_nobody() -> PathBuf {
    static COPY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        // A static is never dropped, so the copy outlives the test run: the
        // copies earlier runs left (their process gone) go first.
        for entry in std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.strip_prefix("tessera-hardening-").and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = std::env::temp_dir().join(format!("tessera-hardening-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = dir.join("tessera");
        std::fs::copy(tessera_bin(), &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        copy
    })
    .clone()
}

/// `tessera ssh-agent` as `nobody`: a `tessera` process that stays up,
/// unlocked, holding the Vault Key.
struct NobodyAgent {
    child: Child,
}

impl NobodyAgent {
    fn start(v: &TestVault, core_dir: &Path) -> NobodyAgent {
        let socket = v.dir.path().join("agent.sock");
        let mut cmd = Command::new(tessera_for_nobody());
        cmd.arg("--vault").arg(&v.path).args(["--unlock", "recovery", "--recovery-file"]).arg(&v.recovery_file);
        cmd.args(["ssh-agent", "--no-confirm", "--socket", socket.to_str().unwrap()])
            .env("HOME", v.dir.path())
            .env("XDG_RUNTIME_DIR", v.dir.path())
            .current_dir(core_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        allow_core_dumps(&mut cmd);
        cmd.uid(NOBODY).gid(NOBODY);
        let child = cmd.spawn().expect("start tessera ssh-agent as nobody");
        let up = poll(Duration::from_secs(20), || std::os::unix::net::UnixStream::connect(&socket).ok());
        assert!(up.is_some(), "the agent never listened");
        NobodyAgent { child }
    }
}

impl Drop for NobodyAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the command with an unlimited core size, as a user who ran
/// `ulimit -c unlimited` would: any core it leaves is Tessera's doing.
fn allow_core_dumps(cmd: &mut Command) {
    // SAFETY: setrlimit is async-signal-safe and touches only its argument.
    unsafe {
        cmd.pre_exec(|| {
            let unlimited = libc::rlimit { rlim_cur: libc::RLIM_INFINITY, rlim_max: libc::RLIM_INFINITY };
            if libc::setrlimit(libc::RLIMIT_CORE, &unlimited) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// A directory `nobody` may write a core file into.
fn core_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    chown_tree(dir.path(), NOBODY);
    dir
}

fn cores_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("core")))
        .collect()
}

/// Dumps land as `core` in the working directory only with this kernel
/// setting; with a pipe (systemd-coredump, apport) the control cannot see
/// them, and the core checks say so and skip.
fn cores_land_in_the_working_directory() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/core_pattern").is_ok_and(|p| p.trim().starts_with("core"))
}

/// `kill -SEGV` until it dies: Rust's runtime catches the first SIGSEGV
/// (its stack-overflow check), finds no fault, restores the default action
/// and goes on, so a second one is what a crash would be.
fn segv_and_wait(child: &mut Child) -> std::process::ExitStatus {
    for _ in 0..50 {
        // SAFETY: kill(2) on our own child, which we have not yet reaped.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGSEGV);
        }
        std::thread::sleep(Duration::from_millis(100));
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
    }
    panic!("SIGSEGV did not end the process");
}

#[test]
fn a_process_of_the_same_user_can_neither_read_nor_trace_tessera() {
    if euid() != 0 {
        eprintln!("not root: cannot play a second user; skipped");
        return;
    }
    // Control: an ordinary process of `nobody` is open to `nobody`, so the
    // probe can see access when there is any.
    let mut control = Command::new("sleep").arg("60").uid(NOBODY).gid(NOBODY).spawn().unwrap();
    let open = probe_as_nobody(control.id());
    let _ = control.kill();
    let _ = control.wait();
    assert_eq!(open, Access { mem_opens: true, ptrace_attaches: true }, "the control must be readable");

    let v = vault_for_nobody();
    let cores = core_dir();
    let agent = NobodyAgent::start(&v, cores.path());
    assert_eq!(
        probe_as_nobody(agent.child.id()),
        Access { mem_opens: false, ptrace_attaches: false },
        "a same-user process reached tessera's memory"
    );
}

#[test]
fn a_crash_of_tessera_leaves_no_core_file() {
    if euid() != 0 || !cores_land_in_the_working_directory() {
        eprintln!("needs root and core_pattern `core`; skipped");
        return;
    }
    let cores = core_dir();
    let mut control = Command::new("sleep");
    control.arg("60").current_dir(cores.path()).uid(NOBODY).gid(NOBODY);
    allow_core_dumps(&mut control);
    let mut control = control.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    segv_and_wait(&mut control);
    assert_eq!(cores_in(cores.path()).len(), 1, "the control must dump core");
    for core in cores_in(cores.path()) {
        std::fs::remove_file(core).unwrap();
    }

    let v = vault_for_nobody();
    let mut agent = NobodyAgent::start(&v, cores.path());
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", agent.child.id())).unwrap();
    let core_line = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap().to_owned();
    let status = segv_and_wait(&mut agent.child);
    assert!(!status.success());
    assert_eq!(cores_in(cores.path()), Vec::<PathBuf>::new(), "tessera dumped core ({core_line})");
    assert!(core_line.split_whitespace().nth(4) == Some("0"), "soft core limit not 0: {core_line}");
}

#[test]
fn tessera_run_gives_the_command_the_users_core_limit_back() {
    let v = TestVault::new();
    v.add_login("API", "svc");
    let mut cmd = v.fast_command();
    cmd.args(["run", "--env", "T=tessera://API/password", "--", "sh", "-c", "ulimit -c"]);
    allow_core_dumps(&mut cmd);
    let out: Output = cmd.output().unwrap();
    assert_success(&out, "tessera run");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "unlimited", "tessera's own 0 leaked to the command");
}

#[test]
fn memory_is_locked_when_the_limit_allows() {
    if euid() != 0 {
        eprintln!("not root: CAP_IPC_LOCK is root's here; skipped");
        return;
    }
    let v = TestVault::new();
    let cores = tempfile::tempdir().unwrap();
    let socket = v.dir.path().join("agent.sock");
    let mut child = v
        .fast_command()
        .args(["ssh-agent", "--no-confirm", "--socket", socket.to_str().unwrap()])
        .current_dir(cores.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let up = poll(Duration::from_secs(20), || std::os::unix::net::UnixStream::connect(&socket).ok());
    let locked = vm_locked_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    assert!(up.is_some());
    assert!(locked.is_some_and(|kib| kib > 0), "VmLck {locked:?}");
}

fn vm_locked_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmLck:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn the_desktop_app_is_hardened_too() {
    let app = App::start(|d| write_config(d, None, serde_json::json!({})));
    let bin = desktop_bin().canonicalize().unwrap();
    let pid = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == bin))
        .unwrap_or_else(|| app.fail("no tessera-desktop process"));
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core_line = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap();
    app.check(core_line.split_whitespace().nth(4) == Some("0"), || format!("soft core limit not 0: {core_line}"));
    if euid() == 0 {
        let locked = vm_locked_kib(pid);
        app.check(locked.is_some_and(|kib| kib > 0), || format!("the app's memory is not locked: VmLck {locked:?}"));
    }
}

/// `tessera run` waits for its command; with masking off it needs none of
/// the secrets it resolved, so none may be left in its memory while it
/// waits. With masking on it must keep them (it looks for them in the
/// output): that run is the control that shows the search finds a marker.
#[test]
fn tessera_run_keeps_no_secret_in_memory_while_the_command_runs() {
    if euid() != 0 {
        eprintln!("not root: cannot read another process's memory; skipped");
        return;
    }
    const MARKER: &str = "Canary-Pw-7Qz4-Xylophone-Harbour";
    let v = TestVault::new();
    let secret = v.dir.path().join("secret");
    std::fs::write(&secret, MARKER).unwrap();
    let out = v.run_fast(&["add", "--title", "API", "--username", "svc", "--secret-file", secret.to_str().unwrap()]);
    assert_success(&out, "add");
    let hits_while_running = |extra: &[&str]| {
        let mut cmd = v.fast_command();
        cmd.arg("run").args(extra).args(["--env", "T=tessera://API/password", "--", "sleep", "30"]);
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        // Once `sleep` runs, tessera only waits.
        let command = poll(Duration::from_secs(20), || {
            let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id())).ok()?;
            children.split_whitespace().next()?.parse::<libc::pid_t>().ok()
        });
        let command = command.expect("the command never started");
        std::thread::sleep(Duration::from_millis(300));
        let hits = marker_hits(child.id(), MARKER);
        // Ending the command ends tessera, which passes its status on.
        // SAFETY: kill(2) on a pid read just above, a child of our child.
        unsafe {
            libc::kill(command, libc::SIGKILL);
        }
        let _ = child.wait();
        hits
    };
    let control = hits_while_running(&[]);
    assert!(control > 0, "the control (masking keeps the secret) found no marker: the search is broken");
    let hits = hits_while_running(&["--no-masking"]);
    assert_eq!(hits, 0, "{hits} copies of the secret in tessera's memory while its command runs");
}
