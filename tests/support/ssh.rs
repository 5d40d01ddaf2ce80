//! OpenSSH's tools pointed at an agent socket, for the agent tests (the
//! headless `tessera ssh-agent` and the app's).

use std::path::Path;
use std::process::{Command, Stdio};

/// `program` pointed at the agent on `socket`.
pub fn with_agent(socket: &Path, program: &str) -> Command {
    let mut c = Command::new(program);
    c.env("SSH_AUTH_SOCK", socket).stdin(Stdio::null());
    c
}

/// The lines `ssh-add -L` prints for the agent on `socket` (none when it
/// has no identities), or its error.
pub fn listed_keys(socket: &Path) -> Result<Vec<String>, String> {
    let out = with_agent(socket, "ssh-add").arg("-L").output().map_err(|e| e.to_string())?;
    match out.status.code() {
        Some(0) => Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()),
        // "The agent has no identities."
        Some(1) => Ok(Vec::new()),
        _ => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

/// `ssh-keygen -Y sign -n git` of a message in `dir` with the key whose
/// public line is `public`, through the agent on `socket`; then
/// `ssh-keygen -Y verify` must accept the signature. `Err` holds
/// `ssh-keygen`'s complaint when signing failed.
pub fn sign_and_verify(socket: &Path, dir: &Path, public: &str) -> Result<(), String> {
    let pubfile = dir.join("key.pub");
    std::fs::write(&pubfile, format!("{public}\n")).unwrap();
    let message = dir.join("message");
    std::fs::write(&message, b"the commit to sign\n").unwrap();
    let _ = std::fs::remove_file(dir.join("message.sig"));
    let out = with_agent(socket, "ssh-keygen")
        .args(["-Y", "sign", "-U", "-n", "git", "-f"])
        .arg(&pubfile)
        .arg(&message)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let allowed = dir.join("allowed_signers");
    std::fs::write(&allowed, format!("me@example.com {public}\n")).unwrap();
    let verify = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-n", "git", "-I", "me@example.com", "-f"])
        .arg(&allowed)
        .arg("-s")
        .arg(dir.join("message.sig"))
        .stdin(std::fs::File::open(&message).unwrap())
        .output()
        .unwrap();
    assert!(verify.status.success(), "ssh-keygen -Y verify: {}", String::from_utf8_lossy(&verify.stderr));
    Ok(())
}
