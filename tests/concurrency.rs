//! Two processes writing one vault: no lost update, no corruption; a writer
//! that cannot get the lock in time exits 6.

use std::time::{Duration, Instant};

use tessera_test_support::{TestVault, assert_code, assert_success, stderr};

/// Runs `tessera ARGS…` for each of `count` iterations in each of two
/// threads at once, each thread a stream of real processes.
fn two_writers(v: &TestVault, count: usize, args: impl Fn(&str, usize) -> Vec<String> + Sync) {
    let cmd = v.fast_command();
    let program = cmd.get_program().to_owned();
    let base: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    std::thread::scope(|scope| {
        for who in ["a", "b"] {
            let (program, base, args) = (&program, &base, &args);
            scope.spawn(move || {
                for i in 0..count {
                    let out = std::process::Command::new(program).args(base).args(args(who, i)).output().unwrap();
                    assert!(out.status.success(), "{who} {i}: {}", String::from_utf8_lossy(&out.stderr));
                }
            });
        }
    });
}

#[test]
fn two_writers_adding_at_once_lose_nothing() {
    let v = TestVault::new();
    two_writers(&v, 40, |who, i| vec!["add".into(), "--title".into(), format!("{who}-{i}"), "--generate".into()]);
    let titles: Vec<String> =
        v.json(&["list"]).as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap().to_owned()).collect();
    assert_eq!(titles.len(), 80);
    for who in ["a", "b"] {
        for i in 0..40 {
            assert!(titles.contains(&format!("{who}-{i}")), "{who}-{i} was lost");
        }
    }
    assert_success(&v.run(&["verify"]), "verify after concurrent adds");
}

#[test]
fn two_writers_editing_one_item_lose_no_update() {
    let v = TestVault::new();
    let id = v.add_login("Shared", "s");
    // Each edit reads the item, adds one field and writes it back: a lost
    // update would drop a field.
    two_writers(&v, 25, |who, i| vec!["edit".into(), id.clone(), "--field".into(), format!("{who}{i}=x")]);
    let shown = v.json(&["show", &id]);
    let fields = shown["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 50, "every read-modify-write landed: {fields:?}");
    assert_success(&v.run(&["verify"]), "verify after concurrent edits");
}

#[test]
fn a_writer_that_cannot_get_the_lock_exits_6() {
    let v = TestVault::new();
    // Another process holds the write lock: a real SQLite writer.
    let holder = v.sqlite();
    holder.execute_batch("BEGIN IMMEDIATE; UPDATE sync_state SET value = value;").unwrap();
    let start = Instant::now();
    let out = v.fast_command().args(["--lock-timeout", "0.5", "add", "--title", "blocked"]).output().unwrap();
    let waited = start.elapsed();
    assert_code(&out, 6, "add while another process writes");
    assert!(stderr(&out).contains("busy"), "{}", stderr(&out));
    assert!(waited >= Duration::from_millis(450), "it waited for the lock ({waited:?})");
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_success(&v.run_fast(&["add", "--title", "unblocked"]), "add after the lock is released");
    // Readers are never blocked by a writer (WAL).
    let holder = v.sqlite();
    holder.execute_batch("BEGIN IMMEDIATE; UPDATE sync_state SET value = value;").unwrap();
    assert_success(&v.fast_command().args(["--lock-timeout", "0.2", "list"]).output().unwrap(), "list while locked");
    holder.execute_batch("ROLLBACK").unwrap();
}
