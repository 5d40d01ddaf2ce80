//! Secrets for programs, through the real binary: `tessera read`, `run`
//! (environment, masking, exit codes), `inject`, and git's credential
//! helper against a real `git clone` over HTTP with basic auth (`git
//! http-backend` behind a small server on 127.0.0.1).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tessera_test_support::webdriver::{free_port, poll};
use tessera_test_support::{TestVault, assert_code, assert_success, stderr, stdout};

const TOKEN: &str = "ghp-Token-7f3Q9xLm2Kp";

fn vault() -> TestVault {
    let v = TestVault::new();
    let out = v.run_fast(&[
        "add",
        "--title",
        "GitHub",
        "--username",
        "octo",
        "--field",
        &format!("token={TOKEN}"),
        "--field",
        "db url=postgres://app@db/app",
        "--otp",
        "otpauth://totp/GitHub:octo?secret=JBSWY3DPEHPK3PXP",
        "--generate",
    ]);
    assert_success(&out, "add GitHub");
    let out = v.run_fast(&["add", "--title", "Work/VPN", "--username", "vpn-user", "--generate"]);
    assert_success(&out, "add Work/VPN");
    v
}

#[test]
fn read_prints_one_value_or_writes_it_privately() {
    let v = vault();
    let out = v.run_fast(&["read", "tessera://GitHub/token"]);
    assert_success(&out, "read");
    assert_eq!(stdout(&out).trim_end(), TOKEN);
    assert_eq!(stdout(&v.run_fast(&["read", "tessera://GitHub/username"])).trim_end(), "octo");
    assert_eq!(stdout(&v.run_fast(&["read", "tessera://GitHub/db%20url"])).trim_end(), "postgres://app@db/app");
    assert_eq!(stdout(&v.run_fast(&["read", "tessera://Work%2FVPN/username"])).trim_end(), "vpn-user");
    let code = stdout(&v.run_fast(&["read", "tessera://GitHub/totp"]));
    assert!(code.trim().len() == 6 && code.trim().bytes().all(|b| b.is_ascii_digit()), "{code}");

    let file = v.dir.path().join("token.txt");
    assert_success(&v.run_fast(&["read", "tessera://GitHub/token", "--out", file.to_str().unwrap()]), "read --out");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), TOKEN);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);

    assert_code(&v.run_fast(&["read", "tessera://Nothing/password"]), 4, "read of a missing item");
    assert_code(&v.run_fast(&["read", "tessera://GitHub/no-such-field"]), 4, "read of a missing field");
    let bad = v.run_fast(&["read", "GitHub/token"]);
    assert_code(&bad, 2, "read of a malformed reference");
    assert!(stderr(&bad).contains("tessera://ITEM/FIELD"), "{}", stderr(&bad));
}

#[test]
fn run_gives_the_child_its_values_masks_its_output_and_passes_its_exit_code() {
    let v = vault();
    let env_file = v.dir.path().join("app.env");
    std::fs::write(&env_file, "# mixed\nPLAIN=just a value\nDB='tessera://GitHub/db%20url'\n").unwrap();
    let script = format!(
        "printf 'token=%s\\n' \"$TOKEN\"; printf 'db=%s plain=%s\\n' \"$DB\" \"$PLAIN\"; \
         echo \"to stderr $TOKEN\" >&2; printf 'split {}'; sleep 0.3; printf '{} end\\n'; exit 42",
        &TOKEN[..8],
        &TOKEN[8..]
    );
    let out = v
        .fast_command()
        .env("FROM_PARENT", "tessera://GitHub/username")
        .args(["run", "--env", "TOKEN=tessera://GitHub/token", "--env-file", env_file.to_str().unwrap(), "--"])
        .args(["sh", "-c", &script])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(42), "the exit code passes through: {}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains(TOKEN) && !text.contains("postgres://app@db/app"), "{text}");
    assert!(text.contains("token=<concealed by tessera>"), "{text}");
    assert!(text.contains("db=<concealed by tessera> plain=just a value"), "{text}");
    assert!(text.contains("split <concealed by tessera> end"), "masked across two writes: {text}");
    assert!(stderr(&out).contains("to stderr <concealed by tessera>"), "{}", stderr(&out));

    // The child really sees the values (unmasked, or written to a file).
    let seen = v.dir.path().join("seen");
    let out = v
        .fast_command()
        .env("FROM_PARENT", "tessera://GitHub/username")
        .args(["run", "--env", "TOKEN=tessera://GitHub/token", "--"])
        .args(["sh", "-c", &format!("printf '%s %s' \"$TOKEN\" \"$FROM_PARENT\" > {}", seen.display())])
        .output()
        .unwrap();
    assert_success(&out, "run");
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), format!("{TOKEN} octo"));
    let out = v
        .fast_command()
        .args(["run", "--no-masking", "--env", "TOKEN=tessera://GitHub/token", "--", "printenv", "TOKEN"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out).trim(), TOKEN);

    // A missing reference stops everything before the command starts.
    let marker = v.dir.path().join("ran");
    let out = v
        .fast_command()
        .args(["run", "--env", "A=tessera://GitHub/token", "--env", "B=tessera://Missing/password", "--"])
        .args(["touch", marker.to_str().unwrap()])
        .output()
        .unwrap();
    assert_code(&out, 4, "run with a missing reference");
    assert!(stderr(&out).contains("B=tessera://Missing/password"), "{}", stderr(&out));
    assert!(!marker.exists(), "the command ran despite a missing reference");
    // A command that does not exist.
    assert_code(&v.run_fast(&["run", "--", "/no/such/program"]), 1, "run of a missing program");
}

#[test]
fn inject_fills_a_template_into_a_private_file_and_never_clobbers() {
    let v = vault();
    let dir = v.dir.path();
    let template = dir.join("config.tpl");
    std::fs::write(
        &template,
        "user = {{ tessera://GitHub/username }}\ntoken = {{tessera://GitHub/token}}\nkept = {{ not.a.reference }}\n",
    )
    .unwrap();
    let out_file = dir.join("config.toml");
    let args = ["inject", "-i", template.to_str().unwrap(), "-o", out_file.to_str().unwrap()];
    assert_success(&v.run_fast(&args), "inject");
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        format!("user = octo\ntoken = {TOKEN}\nkept = {{{{ not.a.reference }}}}\n")
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&out_file).unwrap().permissions().mode() & 0o777, 0o600);
    let again = v.run_fast(&args);
    assert_code(&again, 2, "inject over an existing file");
    assert!(stderr(&again).contains("--force"));
    assert_success(&v.run_fast(&[&args[..], &["--force"]].concat()), "inject --force");
    std::fs::write(&template, "x = {{ tessera://Missing/password }}\n").unwrap();
    let other = dir.join("other.toml");
    assert_code(
        &v.run_fast(&["inject", "-i", template.to_str().unwrap(), "-o", other.to_str().unwrap()]),
        4,
        "inject with a missing reference",
    );
    assert!(!other.exists(), "nothing is written when a reference is missing");
}

/// `git http-backend` behind HTTP basic auth, on 127.0.0.1.
const GIT_SERVER: &str = r#"
import base64, os, subprocess, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
root, user, password, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
expected = 'Basic ' + base64.b64encode(f'{user}:{password}'.encode()).decode()
class Git(BaseHTTPRequestHandler):
    def do_GET(self): self.git()
    def do_POST(self): self.git()
    def git(self):
        if self.headers.get('Authorization', '') != expected:
            self.send_response(401)
            self.send_header('WWW-Authenticate', 'Basic realm="git"')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        path, _, query = self.path.partition('?')
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length)
        env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL='1', PATH_INFO=path,
                   QUERY_STRING=query, REQUEST_METHOD=self.command, REMOTE_USER=user,
                   CONTENT_TYPE=self.headers.get('Content-Type', ''), CONTENT_LENGTH=str(length),
                   HTTP_CONTENT_ENCODING=self.headers.get('Content-Encoding', ''))
        out = subprocess.run(['git', 'http-backend'], input=body, env=env, capture_output=True).stdout
        head, _, rest = out.partition(b'\r\n\r\n')
        status, headers = 200, []
        for line in head.split(b'\r\n'):
            key, _, value = line.decode().partition(':')
            if key.lower() == 'status':
                status = int(value.split()[0])
            elif key:
                headers.append((key, value.strip()))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header('Content-Length', str(len(rest)))
        self.end_headers()
        self.wfile.write(rest)
    def log_message(self, *args):
        pass
ThreadingHTTPServer(('127.0.0.1', port), Git).serve_forever()
"#;

struct GitServer {
    child: Child,
    port: u16,
}

impl Drop for GitServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "/bin/false")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("git runs")
}

fn serve_repository(dir: &Path, user: &str, password: &str) -> GitServer {
    let bare = dir.join("repos/project.git");
    std::fs::create_dir_all(&bare).unwrap();
    assert!(git(&bare, &["init", "-q", "--bare"]).status.success());
    let work = dir.join("seed");
    std::fs::create_dir_all(&work).unwrap();
    for args in [
        &["init", "-q"][..],
        &["-c", "user.name=Seed", "-c", "user.email=s@example.com", "commit", "-q", "--allow-empty", "-m", "first"],
        &["push", "-q", bare.to_str().unwrap(), "HEAD:refs/heads/main"],
    ] {
        let out = git(&work, args);
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let _ = git(&bare, &["symbolic-ref", "HEAD", "refs/heads/main"]);
    let port = free_port();
    let child = Command::new("/usr/bin/python3")
        .args(["-c", GIT_SERVER, dir.join("repos").to_str().unwrap(), user, password, &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let server = GitServer { child, port };
    assert!(poll(Duration::from_secs(10), || std::net::TcpStream::connect(("127.0.0.1", port)).ok()).is_some());
    server
}

#[test]
fn git_clones_over_http_with_the_login_the_helper_finds_and_stores_new_ones() {
    let v = vault();
    let dir = v.dir.path();
    let server = serve_repository(dir, "git-user", "git-Pass-8812");
    let base = format!("http://127.0.0.1:{}", server.port);
    let helper = format!(
        "!{} --vault {} --unlock recovery --recovery-file {} credential",
        tessera_test_support::tessera_bin().display(),
        v.path.display(),
        v.recovery_file.display()
    );
    let clone = |target: &str| {
        git(
            dir,
            &[
                "-c",
                "credential.helper=",
                "-c",
                &format!("credential.helper={helper}"),
                "clone",
                "-q",
                &format!("{base}/project.git"),
                target,
            ],
        )
    };
    // No login yet: the helper knows nothing, git may not prompt, the clone fails.
    let out = clone("first");
    assert!(!out.status.success(), "cloned without credentials");

    let secret = dir.join("git-password");
    std::fs::write(&secret, "git-Pass-8812\n").unwrap();
    assert_success(
        &v.run_fast(&[
            "add",
            "--title",
            "Git server",
            "--username",
            "git-user",
            "--url",
            &base,
            "--secret-file",
            secret.to_str().unwrap(),
        ]),
        "add the git login",
    );
    let out = clone("second");
    assert!(out.status.success(), "git clone through the helper: {}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("second/.git").exists());

    // get answers git's protocol; store saves a new login; erase keeps it.
    let helper_run = |action: &str, input: &str| {
        use std::io::Write;
        let mut child =
            v.fast_command().args(["credential", action]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let got = helper_run("get", &format!("protocol=http\nhost=127.0.0.1:{}\n\n", server.port));
    assert_eq!(stdout(&got), "username=git-user\npassword=git-Pass-8812\n");
    let none = helper_run("get", "protocol=https\nhost=unknown.example\n\n");
    assert_success(&none, "credential get for an unknown host");
    assert_eq!(stdout(&none), "");
    let stored = helper_run("store", "protocol=https\nhost=git.example.org\nusername=me\npassword=n3w-Secret\n\n");
    assert_success(&stored, "credential store");
    let again = helper_run("get", "protocol=https\nhost=git.example.org\n\n");
    assert_eq!(stdout(&again), "username=me\npassword=n3w-Secret\n");
    let list = v.json(&["list", "--folder", "Git"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_success(
        &helper_run("erase", "protocol=https\nhost=git.example.org\nusername=me\npassword=n3w-Secret\n\n"),
        "credential erase",
    );
    assert_eq!(
        stdout(&helper_run("get", "protocol=https\nhost=git.example.org\n\n")),
        "username=me\npassword=n3w-Secret\n",
        "erase deletes nothing"
    );
}
