//! The agents in the real desktop app (under Xvfb, driven through
//! WebDriver to answer its dialogs): the SSH agent against OpenSSH's own
//! tools, and `tessera mcp` relaying an AI agent (the official MCP Python
//! client) to the app.
//!
//! - An SSH key made in the app's editor and one made with the CLI are
//!   listed by `ssh-add -L`; one kept out of the agent is not.
//! - Each signature asks, naming the process and the key: a denial fails
//!   `ssh-keygen -Y sign`, "Allow once" lets it through and
//!   `ssh-keygen -Y verify` accepts the signature.
//! - Locking while a signature waits refuses it; the locked agent lists
//!   nothing; unlocking lists the keys again.
//! - Settings → SSH agent says where the socket is and that it answers.
//! - An AI agent's `get_secret` waits for the app's dialog: "for this
//!   session" covers the item's other fields, a denial is refused, and the
//!   audit log has each with the client's name.
//!
//! Screenshots for the README go to `$TESSERA_SCREENSHOTS`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use tessera_test_support::app::*;
use tessera_test_support::mcp::{call, session};
use tessera_test_support::ssh::{listed_keys, sign_and_verify};
use tessera_test_support::webdriver::keys;
use tessera_test_support::{PASSWORD, TestVault, assert_success, stdout, tessera_bin};

const GITHUB_PASSWORD: &str = "gh-Agent-Relay-8841!";

fn vault() -> TestVault {
    let v = TestVault::new();
    let run = |args: &[&str]| {
        let out = v.run_fast(args);
        assert_success(&out, &args.join(" "));
        stdout(&out).trim().to_owned()
    };
    run(&["add", "--type", "ssh-key", "--title", "CLI key", "--generate", "ecdsa-p256"]);
    run(&["add", "--type", "ssh-key", "--title", "Offline key", "--generate", "ed25519", "--no-ssh-agent"]);
    let items = v.dir.path().join("logins.json");
    let logins = json!([
        { "title": "GitHub", "username": "octo", "password": GITHUB_PASSWORD },
        { "title": "Bank", "username": "me", "password": "bank-Secret-1" },
    ]);
    std::fs::write(&items, logins.to_string()).unwrap();
    run(&["add", "--from-json", items.to_str().unwrap()]);
    v
}

fn public_line(v: &TestVault, title: &str) -> String {
    let out = v.run_fast(&["ssh", "public", title]);
    assert_success(&out, "ssh public");
    stdout(&out).trim().to_owned()
}

fn unlock(app: &App) {
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", PASSWORD);
    app.type_into("unlock-password", keys::ENTER);
    app.screen("main-screen", KDF);
}

/// Waits for the app's question while `pending` waits for its answer;
/// fails with what `pending` got if it ended without one.
fn question<T: std::fmt::Debug>(app: &App, pending: std::thread::JoinHandle<T>) -> std::thread::JoinHandle<T> {
    app.wait("the agent's question in the app", SHORT, || {
        if pending.is_finished() {
            return Some(());
        }
        app.exists("agent-prompt").then_some(())
    });
    if pending.is_finished() {
        let got = pending.join();
        app.fail(format!("the request ended without asking: {got:?}"));
    }
    app.el("agent-prompt");
    pending
}

/// Signs in a thread (it waits for the dialog) while the test drives the app.
fn sign_in_background(socket: &Path, dir: PathBuf, public: String) -> std::thread::JoinHandle<Result<(), String>> {
    let socket = socket.to_path_buf();
    std::thread::spawn(move || sign_and_verify(&socket, &dir, &public))
}

#[test]
fn agents_in_the_app_serve_keys_while_unlocked_and_ask_the_user() {
    let _serial = serial();
    let shots = Shots::from_env();
    let v = vault();
    let app = App::start(|d| write_config(d, Some(&v.path), json!({ "theme": "light" })));
    unlock(&app);
    let socket = app.desktop.dir().join("run/tessera/ssh-agent.sock");
    app.wait("the SSH agent's socket", SHORT, || socket.exists().then_some(()));

    // A key made in the editor.
    let entry = Entry { kind: "ssh-key", title: "App key", username: "", password: "", url: "", otp: "", notes: "" };
    let app_key = app.add(&entry, |app| {
        app.click("editor-ssh-generate");
        app.wait("the generated key in the editor", SHORT, || {
            let fields = app.wd.find_all(&sel("editor-field-value-1")).ok()?;
            let value = app.wd.property(fields.first()?, "value").ok()?;
            value.as_str().filter(|v| v.starts_with("ssh-ed25519 ")).map(|_| ())
        });
    });
    let app_public = app.text("ssh-public-key");
    assert!(app_public.starts_with("ssh-ed25519 "), "{app_public}");
    assert!(app.text("ssh-fingerprint").starts_with("SHA256:"));
    app.shot(&shots, "light", "ssh-key-view");
    let cli_public = public_line(&v, "CLI key");
    assert_eq!(public_line(&v, &app_key), app_public, "the CLI reads the key the app made");

    // ssh-add -L lists exactly the keys marked for the agent.
    let listed = listed_keys(&socket).unwrap();
    let body = |line: &str| line.split_whitespace().nth(1).unwrap().to_owned();
    let mut bodies: Vec<String> = listed.iter().map(|l| body(l)).collect();
    bodies.sort();
    let mut expected = vec![body(&cli_public), body(&app_public)];
    expected.sort();
    assert_eq!(bodies, expected, "{listed:?}");
    assert!(!listed.iter().any(|l| l.contains(&body(&public_line(&v, "Offline key")))));

    // A signature asks, naming the process and the key; Deny fails it.
    let dir = v.dir.path().to_path_buf();
    let pending = question(&app, sign_in_background(&socket, dir.clone(), cli_public.clone()));
    assert_eq!(app.attr("agent-prompt", "data-kind").as_deref(), Some("ssh"));
    let process = app.text("agent-prompt-process");
    assert!(process.contains("ssh-keygen"), "{process}");
    let fingerprint = app.attr("agent-prompt-key", "data-fingerprint").unwrap();
    let out = Command::new("ssh-keygen").arg("-lf").arg(dir.join("key.pub")).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&fingerprint), "{fingerprint}");
    app.shot(&shots, "light", "agent-ssh-prompt");
    app.click("agent-deny");
    app.wait_gone("agent-prompt", SHORT);
    assert!(pending.join().unwrap().is_err(), "a denied signature fails");

    // Allow once: signed and verified.
    let pending = question(&app, sign_in_background(&socket, dir.clone(), cli_public.clone()));
    app.click("agent-allow-once");
    app.wait_gone("agent-prompt", SHORT);
    pending.join().unwrap().expect("an approved signature verifies");

    // Settings → SSH agent.
    let status = app.invoke("agent_status", json!({})).unwrap();
    assert_eq!(status["listening"], true, "{status}");
    assert_eq!(status["reachable"], true, "{status}");
    assert_eq!(status["keys"], 2, "{status}");
    assert_eq!(status["exportLine"], format!("export SSH_AUTH_SOCK={}", socket.display()));
    app.click("nav-settings");
    app.el("settings-ssh-agent");
    app.wait_attr("ssh-agent-reachable", "data-reachable", SHORT, |r| r == "true");
    app.ok(
        app.wd.execute("document.querySelector('[data-testid=\"settings-ssh-agent\"]').scrollIntoView();", vec![]),
        "scroll to Settings → SSH agent",
    );
    app.shot(&shots, "light", "settings-ssh-agent");
    app.click("nav-items");

    // Locking while a signature waits: refused, and the agent is empty.
    let pending = question(&app, sign_in_background(&socket, dir.clone(), cli_public.clone()));
    app.invoke("lock", json!({})).unwrap();
    app.screen("unlock-screen", SHORT);
    assert!(pending.join().unwrap().is_err(), "a signature waiting at lock is refused");
    assert_eq!(listed_keys(&socket).unwrap(), Vec::<String>::new(), "the locked agent lists nothing");
    assert!(sign_and_verify(&socket, &dir, &cli_public).is_err());
    assert_eq!(app.invoke("agent_status", json!({})).unwrap()["keys"], Value::Null);
    unlock(&app);
    assert_eq!(listed_keys(&socket).unwrap().len(), 2, "unlocking serves the keys again");

    // An AI agent through `tessera mcp`, approved in the app.
    let mut tessera = Command::new(tessera_bin());
    tessera.arg("--vault").arg(&v.path).arg("mcp");
    app.desktop.env(&mut tessera);
    let calls = vec![
        call("search_items", json!({ "query": "git" })),
        call("get_secret", json!({ "item": "GitHub", "field": "password" })),
        call("get_secret", json!({ "item": "GitHub", "field": "username" })),
        call("get_secret", json!({ "item": "Bank", "field": "password" })),
    ];
    let agent = question(&app, std::thread::spawn(move || session("test-agent", &tessera, &calls)));
    assert_eq!(app.attr("agent-prompt", "data-kind").as_deref(), Some("mcp"));
    assert_eq!(app.text("agent-prompt-client"), "test-agent");
    assert_eq!(app.text("agent-prompt-item"), "GitHub");
    assert_eq!(app.attr("agent-prompt-field", "data-field").as_deref(), Some("password"));
    app.shot(&shots, "light", "agent-mcp-prompt");
    app.click("agent-allow-session");
    // The session covers GitHub's username; Bank asks, and is denied.
    let bank = v.json(&["show", "Bank"])["id"].as_str().unwrap().to_owned();
    app.wait_attr("agent-prompt-item", "data-id", SHORT, |id| id == bank);
    app.click("agent-deny");
    let (answers, log) = agent.join().unwrap();
    assert_eq!(answers[0]["error"], false, "{log}");
    assert!(answers[0]["text"].as_str().unwrap().contains("GitHub"));
    assert_eq!(answers[1], json!({ "error": false, "text": GITHUB_PASSWORD }), "{log}");
    assert_eq!(answers[2], json!({ "error": false, "text": "octo" }));
    assert_eq!(answers[3]["error"], true);
    assert!(answers[3]["text"].as_str().unwrap().contains("refused"), "{}", answers[3]);

    let audit = app.invoke("audit_log", json!({ "beforeSeq": null, "limit": 200 })).unwrap();
    let text = audit.to_string();
    assert!(text.contains("test-agent"), "the audit log names the client: {text}");
    assert!(!text.contains(GITHUB_PASSWORD));
    let cli_log = v.json(&["audit"]);
    let agent_events: Vec<(String, bool)> = cli_log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "agent_access")
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["allowed"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        agent_events,
        [("password".to_owned(), true), ("username".to_owned(), true), ("password".to_owned(), false)]
    );
}
