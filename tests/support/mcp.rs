//! An AI agent's side of `tessera mcp`: the official MCP Python SDK (PyPI
//! `mcp`, pinned in tests/mcp/requirements.txt, installed into a venv by
//! `scripts/setup.sh test`) driven by tests/mcp/client.py.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// The venv's Python with the `mcp` package.
pub fn python() -> PathBuf {
    let path = std::env::var_os("TESSERA_MCP_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/tessera/mcp-venv/bin/python")
    });
    assert!(
        path.exists(),
        "{} is missing: `scripts/setup.sh test` (run by `make test`) installs the Python MCP client",
        path.display()
    );
    path
}

/// A tool call for [`session`].
pub fn call(tool: &str, arguments: Value) -> Value {
    json!({ "tool": tool, "arguments": arguments })
}

/// Runs the Python client, introducing itself as `client`, against
/// `tessera ARGS` (as `server` builds it: arguments and environment), with
/// `calls`; returns one answer per call (`{"tools": […]}` or `{"error":
/// bool, "text": …}`) and the client's standard error (which holds the
/// server's).
pub fn session(client: &str, server: &Command, calls: &[Value]) -> (Vec<Value>, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/mcp/client.py");
    let mut command = Command::new(python());
    command.arg(script).arg(client).arg("--").arg(server.get_program()).args(server.get_args());
    for (k, v) in server.get_envs() {
        match v {
            Some(v) => command.env(k, v),
            None => command.env_remove(k),
        };
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Python MCP client");
    {
        let mut stdin = child.stdin.take().unwrap();
        for call in calls {
            writeln!(stdin, "{call}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "the MCP client failed: {err}");
    let answers: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("the client prints JSON lines"))
        .collect();
    assert_eq!(answers.len(), calls.len(), "one answer per call: {answers:?}\n{err}");
    (answers, err)
}
