//! Sharing figures (`--only share`, DESIGN §11), through a real
//! `tessera-server` on loopback with a recording proxy in front of it to
//! count bytes: sharing 1,000 items with a new member (invite, accept and
//! the member's first pull), re-keying a 1,000-item share on a removal,
//! and a member's one-item round trip with 10 shares of 1,000 items each.

use std::path::Path;
use std::time::Instant;

use tessera_core::{ItemId, OpenOptions, Vault};
use tessera_sync::client::sharing::{self, Role};
use tessera_sync::client::{self, Credentials};
use tessera_test_support::server::{RecordingProxy, TestServer};
use tessera_unlock::{KdfParams, Password, create_vault};

use crate::{percentile, synthetic_item};

struct Member {
    vault: Vault,
    email: String,
}

fn member(dir: &Path, url: &str, name: &str, password: &Password) -> Member {
    let (mut vault, _) =
        create_vault(&dir.join(format!("{name}.tessera")), password, KdfParams::ARGON2_FLOOR, &OpenOptions::default())
            .expect("create vault");
    let email = format!("{name}@example.com");
    client::register(&mut vault, url, &email, name, password, &mut |_| {}).expect("register");
    Member { vault, email }
}

/// Adds `n` items to a new share `name` of `m` and pushes them; returns
/// the share's id, the items' ids and their plaintext size in bytes.
fn filled_share(m: &mut Member, name: &str, n: usize, creds: &Credentials<'_>) -> (String, Vec<ItemId>, u64) {
    let info = sharing::create(&mut m.vault, creds, name, false).expect("create share");
    let mut rng = rand::rng();
    let items: Vec<_> = (0..n).map(|i| synthetic_item(i, &mut rng)).collect();
    let size: u64 = items.iter().map(|i| serde_json::to_vec(i).expect("json").len() as u64).sum();
    let ids = m.vault.add(items).expect("add");
    for id in &ids {
        sharing::assign(&mut m.vault, id, Some(&info.id)).expect("assign");
    }
    client::sync(&mut m.vault, creds, &mut |_| {}).expect("push the share");
    (info.id, ids, size)
}

fn pending_id(m: &mut Member, creds: &Credentials<'_>, share: &str) -> String {
    let list = sharing::list(&mut m.vault, creds).expect("share list");
    list.into_iter().find(|s| s.pending && s.id == share).expect("an invitation").id
}

pub fn figures(runs: usize) {
    println!("## Sharing: 1,000 items to a new member, re-key on removal, 10 shares (SQLite server, loopback)\n");
    let server = TestServer::sqlite();
    let proxy = RecordingProxy::start(server.port);
    let bytes = || proxy.traffic().len() as u64;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let password = Password::from_first_line(b"bench password").expect("password");
    let creds = Credentials { password: Some(&password), totp: None };
    let mut alice = member(dir.path(), &proxy.url, "alice", &password);
    let mut bob = member(dir.path(), &proxy.url, "bob", &password);
    let mut carol = member(dir.path(), &proxy.url, "carol", &password);

    // 1. Sharing 1,000 items with a new member.
    let (share, _, size) = filled_share(&mut alice, "Bench", 1000, &creds);
    let (t, b) = (Instant::now(), bytes());
    sharing::invite(&mut alice.vault, &creds, "Bench", &bob.email, Role::Write).expect("invite");
    let id = pending_id(&mut bob, &creds, &share);
    let (_, report) = sharing::accept(&mut bob.vault, &creds, &id, &mut |_| {}).expect("accept");
    let share_secs = t.elapsed().as_secs_f64();
    let share_bytes = bytes() - b;
    assert_eq!(report.pulled, 1000);

    // 2. Re-keying the 1,000-item share on a removal.
    sharing::invite(&mut alice.vault, &creds, "Bench", &carol.email, Role::Read).expect("invite");
    let id = pending_id(&mut carol, &creds, &share);
    sharing::accept(&mut carol.vault, &creds, &id, &mut |_| {}).expect("accept");
    let (t, b) = (Instant::now(), bytes());
    sharing::remove(&mut alice.vault, &creds, "Bench", &bob.email).expect("remove");
    let rekey_secs = t.elapsed().as_secs_f64();
    let rekey_bytes = bytes() - b;

    // 3. Carol in 10 shares of 1,000 items: one edit by Alice, pushed, then
    // pulled by Carol.
    let mut edits = Vec::new();
    for k in 1..10 {
        let name = format!("Bench {k}");
        let (share, ids, _) = filled_share(&mut alice, &name, 1000, &creds);
        sharing::invite(&mut alice.vault, &creds, &name, &carol.email, Role::Read).expect("invite");
        let id = pending_id(&mut carol, &creds, &share);
        sharing::accept(&mut carol.vault, &creds, &id, &mut |_| {}).expect("accept");
        edits.push(ids[0]);
    }
    client::sync(&mut alice.vault, &creds, &mut |_| {}).expect("sync");
    client::sync(&mut carol.vault, &creds, &mut |_| {}).expect("sync");
    let (mut trips, mut pulls) = (Vec::new(), Vec::new());
    for r in 0..(runs * 4).max(20) {
        alice
            .vault
            .update(edits[r % edits.len()], |i| {
                i.notes = format!("round trip {r}");
                Ok(())
            })
            .expect("edit");
        let t = Instant::now();
        let pushed = client::sync(&mut alice.vault, &creds, &mut |_| {}).expect("push");
        let pull = Instant::now();
        let pulled = client::sync(&mut carol.vault, &creds, &mut |_| {}).expect("pull");
        pulls.push(pull.elapsed().as_secs_f64() * 1000.0);
        trips.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!((pushed.pushed, pulled.pulled), (1, 1));
    }
    trips.sort_by(f64::total_cmp);
    pulls.sort_by(f64::total_cmp);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!("| figure | measured | target |");
    println!("|---|---|---|");
    println!(
        "| share 1,000 items with a new member (invite, accept, first pull) | {share_secs:.2} s, {:.2} MiB on the \
         wire = {:.2}× the items' {:.2} MiB | ≤ 2 s, ≤ 2× |",
        mib(share_bytes),
        share_bytes as f64 / size as f64,
        mib(size)
    );
    println!(
        "| re-key a 1,000-item share on a removal | {rekey_secs:.2} s, {:.2} MiB on the wire = {:.2}× | ≤ 2 s, ≤ 2× |",
        mib(rekey_bytes),
        rekey_bytes as f64 / size as f64
    );
    println!(
        "| one-item round trip, member of 10 shares × 1,000 items (writer's sync + member's sync; p50 / p95) | \
         {:.1} ms / {:.1} ms | p95 ≤ 60 ms |",
        percentile(&trips, 0.5),
        percentile(&trips, 0.95)
    );
    println!(
        "| … of which the member's sync (p50 / p95) | {:.1} ms / {:.1} ms | — |\n",
        percentile(&pulls, 0.5),
        percentile(&pulls, 0.95)
    );
}
