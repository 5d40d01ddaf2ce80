//! What padding costs (`--only padding`): the vault file and the first
//! push of an N-item account (`sync register` through a real
//! `tessera-server`), padded against unpadded, and the open time of the
//! padded vault. The target: at most 1.3× the bytes, open time
//! unchanged within noise.
//!
//! How "unpadded" is had without a second code path: a cargo feature on
//! `tessera-core` that seals unpadded would be unified into the shipped
//! `tessera` by `make bench`'s own build (one `cargo build` of the bench
//! and the CLI together), so there is none. Instead every sealed blob is
//! opened and its content measured (`tessera_core::padding::
//! sealed_content_lens`; each record the server holds, opened with the
//! account's sync keys); unpadded, a blob is content + AEAD overhead, as
//! blobs were sealed before padding. The padded totals so computed are
//! checked against the bytes actually stored. For the file, a copy of the
//! vault gets every blob cut to its unpadded length and both are compacted
//! by SQLite (`VACUUM INTO`), so page fill counts as it does in a real
//! file; for the push, the recorded bytes less the records' base64
//! difference (nothing else in a push depends on the padding).

use std::path::{Path, PathBuf};
use std::time::Instant;

use tessera_core::padding::{PaddingCost, SealedBlob, sealed_content_lens};
use tessera_core::{ItemId, LockedVault, OpenOptions};
use tessera_sync::client;
use tessera_sync::wire::from_b64;
use tessera_test_support::server::{RecordingProxy, TestServer};
use tessera_unlock::{Credential, Password, RecoveryCode, unlock};

use crate::{Options, big_vault, open_runs};

/// The ceiling on padded / unpadded bytes.
const TARGET: f64 = 1.3;

pub fn figures(o: &Options, work: &Path) {
    let (vault, code_file) = padded_vault(work, o.items);
    println!("## Padding: what it costs at {} items\n", o.items);
    let code = RecoveryCode::parse(&std::fs::read_to_string(&code_file).expect("code")).expect("valid code");
    let opened =
        unlock(LockedVault::open(&vault, &OpenOptions::default()).expect("open"), &Credential::Recovery(&code))
            .expect("unlock");
    let sealed = sealed_content_lens(&opened).expect("measure the sealed blobs");
    drop(opened);
    let lens: Vec<usize> = sealed.iter().map(|&(_, n)| n).collect();
    let blobs = cost_of(&lens);
    assert_eq!(blobs.padded, stored_blob_bytes(&vault), "the padded total is not what the vault file stores");
    let file = file_size(&vault);
    let (compact, compact_before) = compacted_sizes(&vault, &sealed);

    eprintln!("pushing {} items to a tessera-server…", o.items);
    let push = first_push(&vault, &code, o.items);

    let (open_inner, open_wall, open_rss) = open_runs(o.runs, &vault, &code_file);

    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let ratio = |after: u64, before: u64| after as f64 / before as f64;
    let verdict = |r: f64| if r <= TARGET { "met".to_owned() } else { format!("**missed** ({r:.2}× > {TARGET}×)") };
    println!("| figure | unpadded (before) | padded (after) | after / before | target |");
    println!("|---|---|---|---|---|");
    println!("| vault file as `make bench` writes it, {} items | | {:.1} MiB | | |", o.items, mib(file));
    let r = ratio(compact, compact_before);
    println!(
        "| the same vault compacted (`VACUUM INTO`), blobs unpadded / padded | {:.1} MiB | {:.1} MiB | {r:.2} | \
         ≤ {TARGET}×: {} |",
        mib(compact_before),
        mib(compact),
        verdict(r)
    );
    println!(
        "|   of which sealed blobs ({} items, history versions, attachments) | {:.1} MiB | {:.1} MiB | {:.2} | |",
        blobs.blobs,
        mib(blobs.unpadded),
        mib(blobs.padded),
        ratio(blobs.padded, blobs.unpadded)
    );
    let r = ratio(push.wire, push.wire_before);
    println!(
        "| first push (`sync register`, {:.1} s): HTTP bytes both ways, loopback | {:.1} MiB | {:.1} MiB | {r:.2} | ≤ {TARGET}×: {} |",
        push.seconds,
        mib(push.wire_before),
        mib(push.wire),
        verdict(r)
    );
    println!(
        "|   of which sealed records the server stores ({} records, base64) | {:.1} MiB | {:.1} MiB | {:.2} | |",
        push.records.blobs,
        mib(push.records_b64_before),
        mib(push.records_b64),
        ratio(push.records_b64, push.records_b64_before)
    );
    println!(
        "| open + decrypt + index, KDF excluded (fresh process, median of {}) | — | {open_inner:.3} s \
         (whole process {open_wall:.3} s, {open_rss:.0} MiB peak) | — | unchanged within noise |",
        o.runs
    );
    println!(
        "\nMethod: every blob is opened and its content measured; unpadded, it is content + AEAD overhead, \
         as sealed before padding. File: a copy with every blob cut to that length, both copies compacted by \
         SQLite. Push: the bytes through a recording proxy, less the records' base64 difference. No vault is \
         sealed unpadded (a cargo feature for it would reach the shipped `tessera` through feature \
         unification), so the open time has no \"before\" here: compare it with `--only open` on a vault \
         written before padding.\n"
    );
    let average = |lens: &[usize]| lens.iter().sum::<usize>() as f64 / lens.len().max(1) as f64;
    println!(
        "Average content: {:.0} bytes a vault blob, {:.0} bytes a sync record (under 4 KiB, classes step by 256 bytes).",
        average(&lens),
        average(&push.record_lens)
    );
    println!(
        "With 128-byte steps below 4 KiB instead, the sealed blobs would be {:.2}× and the records {:.2}× their unpadded size.\n",
        what_if_step(&lens, 128) as f64 / blobs.unpadded as f64,
        what_if_step(&push.record_lens, 128) as f64 / push.records.unpadded as f64
    );
}

/// The benchmark vault, remade if the cached one was written before
/// padding existed (its blobs then measure as unpadded).
fn padded_vault(work: &Path, n: usize) -> (PathBuf, PathBuf) {
    let (vault, code_file) = big_vault(work, n);
    let code = RecoveryCode::parse(&std::fs::read_to_string(&code_file).expect("code")).expect("valid code");
    let opened =
        unlock(LockedVault::open(&vault, &OpenOptions::default()).expect("open"), &Credential::Recovery(&code))
            .expect("unlock");
    let lens: Vec<usize> =
        sealed_content_lens(&opened).expect("measure the sealed blobs").into_iter().map(|(_, n)| n).collect();
    drop(opened);
    if cost_of(&lens).padded == stored_blob_bytes(&vault) {
        return (vault, code_file);
    }
    eprintln!("the cached {n}-item vault predates padding: making it again");
    for path in [&vault, &code_file] {
        std::fs::remove_file(path).expect("remove the stale benchmark vault");
    }
    big_vault(work, n)
}

fn cost_of(lens: &[usize]) -> PaddingCost {
    let mut cost = PaddingCost::default();
    for &n in lens {
        cost.add(n);
    }
    cost
}

/// What the blobs would take in `step`-byte classes: content, the 4-byte
/// length header and the 28-byte AEAD overhead (`tessera_core::padding`),
/// for contents under 4 KiB (larger ones as now).
fn what_if_step(lens: &[usize], step: usize) -> u64 {
    let now = |n: usize| {
        let mut one = PaddingCost::default();
        one.add(n);
        one.padded
    };
    lens.iter().map(|&n| if n + 4 <= 4096 { ((n + 4).div_ceil(step) * step + 28) as u64 } else { now(n) }).sum()
}

/// The bytes in the vault file's ciphertext columns, read as anyone
/// holding the file could.
fn stored_blob_bytes(vault: &Path) -> u64 {
    let c = rusqlite::Connection::open_with_flags(vault, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the vault file read-only");
    let total: i64 = c
        .query_row(
            "SELECT (SELECT COALESCE(SUM(LENGTH(ciphertext)), 0) FROM items) \
                  + (SELECT COALESCE(SUM(LENGTH(ciphertext)), 0) FROM item_history) \
                  + (SELECT COALESCE(SUM(LENGTH(ciphertext)), 0) FROM attachments)",
            [],
            |r| r.get(0),
        )
        .expect("sum the ciphertext columns");
    total as u64
}

/// The sizes of `vault` compacted, as it is and with every blob cut to
/// its unpadded length: the same rows, the same indexes, SQLite's own
/// page fill.
fn compacted_sizes(vault: &Path, sealed: &[(SealedBlob, usize)]) -> (u64, u64) {
    use rusqlite::{Connection, OpenFlags, params};
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (padded, shrunk, unpadded) =
        (dir.path().join("padded.tessera"), dir.path().join("shrunk.tessera"), dir.path().join("unpadded.tessera"));
    let vacuum_into = |from: &Path, to: &Path| {
        let c = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open a vault copy");
        c.execute("VACUUM INTO ?1", [to.to_str().expect("a UTF-8 path")]).expect("VACUUM INTO");
    };
    vacuum_into(vault, &padded);
    std::fs::copy(&padded, &shrunk).expect("copy the vault");
    let mut c = Connection::open(&shrunk).expect("open the copy");
    let tx = c.transaction().expect("a transaction");
    for &(blob, n) in sealed {
        let mut one = PaddingCost::default();
        one.add(n);
        let len = one.unpadded as i64;
        let changed = match blob {
            SealedBlob::Item(id) => {
                tx.execute("UPDATE items SET ciphertext = zeroblob(?1) WHERE id = ?2", params![len, id.as_bytes()])
            }
            SealedBlob::History(id, revision) => tx.execute(
                "UPDATE item_history SET ciphertext = zeroblob(?1) WHERE item_id = ?2 AND revision = ?3",
                params![len, id.as_bytes(), revision as i64],
            ),
            SealedBlob::Attachment(id) => tx
                .execute("UPDATE attachments SET ciphertext = zeroblob(?1) WHERE id = ?2", params![len, id.as_bytes()]),
        }
        .expect("cut a blob");
        assert_eq!(changed, 1, "{blob:?} is one row");
    }
    tx.commit().expect("commit");
    drop(c);
    vacuum_into(&shrunk, &unpadded);
    (file_size(&padded), file_size(&unpadded))
}

/// The vault file with its write-ahead log.
fn file_size(vault: &Path) -> u64 {
    let mut wal = vault.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(vault).expect("vault file").len() + std::fs::metadata(wal).map_or(0, |m| m.len())
}

struct FirstPush {
    seconds: f64,
    /// Every byte through the proxy, both ways.
    wire: u64,
    wire_before: u64,
    records: PaddingCost,
    record_lens: Vec<usize>,
    /// The records' base64, as they travel and as the server keeps them.
    records_b64: u64,
    records_b64_before: u64,
}

/// `sync register` of a copy of `vault` through a recording proxy to a
/// real server; then every record the server holds, opened.
fn first_push(vault: &Path, code: &RecoveryCode, items: usize) -> FirstPush {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let copy = dir.path().join("push.tessera");
    std::fs::copy(vault, &copy).expect("copy the vault");
    let mut v = unlock(LockedVault::open(&copy, &OpenOptions::default()).expect("open"), &Credential::Recovery(code))
        .expect("unlock");
    let mut server = TestServer::sqlite();
    server.set_extra_args(&["--quota-items", &(items * 2).to_string()]);
    server.restart();
    let proxy = RecordingProxy::start(server.port);
    let password = Password::from_first_line(b"bench password").expect("password");
    let start = Instant::now();
    client::register(&mut v, &proxy.url, "padding@example.com", "bench", &password, &mut |_| {}).expect("register");
    let seconds = start.elapsed().as_secs_f64();
    // HTTP bytes as sent before gzip (bodies inflated): padding's own cost,
    // comparable with the unpadded estimate below; gzip's saving is the
    // sharing bench's figure.
    let wire = proxy.decoded_traffic().0.len() as u64;

    let keys = v.sync_keys();
    let b64_len = |n: usize| n.div_ceil(3) as u64 * 4;
    let (mut records, mut record_lens, mut stored) = (PaddingCost::default(), Vec::new(), 0u64);
    let (mut records_b64, mut records_b64_before) = (0, 0);
    for row in server.database.sql("SELECT item_id, revision, deleted, blob FROM items") {
        let cols: Vec<&str> = row.split('\t').collect();
        let id: ItemId = cols[0].parse().expect("an item id");
        let revision: u64 = cols[1].parse().expect("a revision");
        let blob = from_b64(cols[3]).expect("base64");
        let plain = keys.open_record(&id, revision, cols[2] == "1", &blob).expect("the record opens");
        let mut one = PaddingCost::default();
        one.add(plain.len());
        records.add(plain.len());
        record_lens.push(plain.len());
        stored += blob.len() as u64;
        records_b64 += cols[3].len() as u64;
        records_b64_before += b64_len(one.unpadded as usize);
    }
    assert_eq!(records.blobs as usize, items, "the server holds every item");
    assert_eq!(records.padded, stored, "the padded total is not what the server stores");
    FirstPush {
        seconds,
        wire,
        wire_before: wire - (records_b64 - records_b64_before),
        records,
        record_lens,
        records_b64,
        records_b64_before,
    }
}
