//! `tessera mcp` against the official MCP Python SDK (PyPI `mcp`, pinned in
//! tests/mcp/requirements.txt, installed by scripts/setup.sh): the client
//! starts the real binary on stdio, lists the tools, searches, gets an
//! allowed secret, is refused an item not allowed and an item marked
//! "never for agents", and the vault's audit log shows each with the
//! client's name.

use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tessera_test_support::mcp::{call, session};
use tessera_test_support::{TestVault, assert_code, assert_success, stderr, tessera_bin};

const TOKEN: &str = "ghp-Agent-Token-9d2Lq";
const BANK: &str = "bank-Password-44xZ";
const DATABASE: &str = "db-Password-71mK";

fn vault() -> TestVault {
    let v = TestVault::new();
    let add = |args: &[&str]| assert_success(&v.run_fast(args), &format!("add {args:?}"));
    add(&[
        "add",
        "--title",
        "GitHub",
        "--username",
        "octo",
        "--url",
        "https://github.com",
        "--field",
        &format!("token={TOKEN}"),
        "--otp",
        "otpauth://totp/GitHub:octo?secret=JBSWY3DPEHPK3PXP",
        "--generate",
    ]);
    let more = v.dir.path().join("more.json");
    let items = json!([
        { "type": "login", "title": "Database", "username": "app", "password": DATABASE },
        { "type": "login", "title": "Bank", "username": "me", "password": BANK, "never_for_agents": true },
    ]);
    std::fs::write(&more, items.to_string()).unwrap();
    add(&["add", "--from-json", more.to_str().unwrap()]);
    assert_eq!(v.json(&["show", "Bank"])["never_for_agents"], true);
    v
}

/// `tessera --vault V --password-file F ARGS` for the MCP client to start.
fn server(v: &TestVault, args: &[&str]) -> Command {
    let mut c = Command::new(tessera_bin());
    c.arg("--vault").arg(&v.path).arg("--password-file").arg(&v.password_file).args(args);
    c
}

#[test]
fn the_official_client_searches_gets_what_is_allowed_and_is_refused_the_rest() {
    let v = vault();
    let calls = [
        json!({ "list_tools": true }),
        call("search_items", json!({ "query": "git" })),
        call("search_items", json!({ "query": "" })),
        call("get_secret", json!({ "item": "GitHub", "field": "token" })),
        call("get_totp", json!({ "item": "GitHub" })),
        call("get_secret", json!({ "item": "Database", "field": "password" })),
        call("get_secret", json!({ "item": "Bank", "field": "password" })),
        call("get_secret", json!({ "item": "GitHub", "field": "no such field" })),
        call("generate_password", json!({ "length": 24 })),
        call("generate_password", json!({ "words": 5 })),
    ];
    let (a, _) = session("test-agent", &server(&v, &["mcp", "--allow", "GitHub"]), &calls);

    assert_eq!(a[0]["tools"], json!(["generate_password", "get_secret", "get_totp", "search_items"]));

    assert_eq!(a[1]["error"], false, "{}", a[1]);
    let found: Value = serde_json::from_str(a[1]["text"].as_str().unwrap()).unwrap();
    let github = &found["items"][0];
    assert_eq!(github["title"], "GitHub");
    assert_eq!(github["username"], "octo");
    assert_eq!(github["urls"], json!(["https://github.com"]));
    assert_eq!(github["fields"], json!(["password", "username", "totp", "url", "token"]));

    let everything = a[2]["text"].as_str().unwrap();
    assert!(everything.contains("Database") && !everything.contains("\"Bank\""), "{everything}");
    for secret in [TOKEN, BANK, DATABASE, "JBSWY3DP"] {
        assert!(!a[1]["text"].as_str().unwrap().contains(secret) && !everything.contains(secret));
    }

    assert_eq!(a[3], json!({ "error": false, "text": TOKEN }));
    let code: Value = serde_json::from_str(a[4]["text"].as_str().unwrap()).unwrap();
    assert!(code["code"].as_str().is_some_and(|c| c.len() == 6), "{code}");
    assert!(code["remaining_seconds"].as_u64().is_some_and(|r| (1..=30).contains(&r)), "{code}");

    assert_eq!(a[5]["error"], true, "an item not allowed: {}", a[5]);
    assert!(a[5]["text"].as_str().unwrap().contains("--allow"), "{}", a[5]);
    assert!(!a[5]["text"].as_str().unwrap().contains(DATABASE));
    assert_eq!(a[6]["error"], true, "a never-for-agents item: {}", a[6]);
    assert!(a[6]["text"].as_str().unwrap().contains("never for agents"), "{}", a[6]);
    assert!(!a[6]["text"].as_str().unwrap().contains(BANK));
    assert_eq!(a[7]["error"], true);
    assert!(a[7]["text"].as_str().unwrap().contains("it has: password, username, totp, url, token"), "{}", a[7]);

    assert_eq!(a[8]["error"], false);
    assert_eq!(a[8]["text"].as_str().unwrap().chars().count(), 24);
    assert_eq!(
        a[9]["text"].as_str().unwrap().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).count(),
        5
    );

    // The audit log has each answer and refusal, with the client's name.
    let log = v.json(&["audit"]);
    let agent: Vec<(String, String, bool)> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "agent_access")
        .map(|e| {
            assert_eq!(e["client"], "test-agent", "{e}");
            let title = match e["description"].as_str().unwrap() {
                d if d.contains(&id_of(&v, "GitHub")) => "GitHub",
                d if d.contains(&id_of(&v, "Database")) => "Database",
                d if d.contains(&id_of(&v, "Bank")) => "Bank",
                d => panic!("an event about an unknown item: {d}"),
            };
            (title.to_owned(), e["field"].as_str().unwrap().to_owned(), e["allowed"].as_bool().unwrap())
        })
        .collect();
    let row = |t: &str, f: &str, ok| (t.to_owned(), f.to_owned(), ok);
    assert_eq!(
        agent,
        [
            row("GitHub", "token", true),
            row("GitHub", "totp", true),
            row("Database", "password", false),
            row("Bank", "password", false)
        ]
    );
    let text = log.to_string();
    for secret in [TOKEN, BANK, DATABASE] {
        assert!(!text.contains(secret), "the audit log holds a secret");
    }
}

fn id_of(v: &TestVault, title: &str) -> String {
    v.json(&["show", title])["id"].as_str().unwrap().to_owned()
}

#[test]
fn without_the_app_every_call_says_how_to_go_on() {
    let v = vault();
    let runtime = tempfile::tempdir().unwrap();
    let calls = [
        call("search_items", json!({ "query": "git" })),
        call("get_secret", json!({ "item": "GitHub", "field": "token" })),
    ];
    let mut tessera = server(&v, &["mcp"]);
    tessera.env("XDG_RUNTIME_DIR", runtime.path());
    let (a, err) = session("test-agent", &tessera, &calls);
    for answer in &a {
        assert_eq!(answer["error"], true, "{answer}");
        let text = answer["text"].as_str().unwrap();
        assert!(text.contains("not running") && text.contains("--allow"), "{text}");
    }
    assert!(err.contains("the Tessera app is not running"), "{err}");
}

#[test]
fn a_bad_allow_list_or_a_password_on_stdin_is_a_clear_error() {
    let v = vault();
    let out = v.run_fast(&["mcp", "--allow", "No such item"]);
    assert_code(&out, 4, "mcp --allow of a missing item");
    assert!(stderr(&out).contains("--allow No such item"), "{}", stderr(&out));

    let out = Command::new(tessera_bin())
        .args(["--vault", v.path.to_str().unwrap(), "--password-stdin", "mcp", "--allow", "GitHub"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_code(&out, 2, "mcp with --password-stdin");
    assert!(stderr(&out).contains("--password-file"), "{}", stderr(&out));
}
