//! `make bench`: Tessera's performance figures, medians of repeated runs,
//! with the peers the issues name run side by side on the same data.
//!
//! ```text
//! tessera-bench [--items N] [--runs R] [--skip-keepassxc]
//!               [--only argon2|open|search|passwd|import|unlock|sync|load|desktop|browser|agent|padding|autotype|share]
//!               [--devices N] [--load-seconds S] [--rate REQ_PER_S]
//! ```
//!
//! Figures:
//! 1. Argon2id, in-process (`tessera-unlock`), against the reference C
//!    `argon2` tool on the same parameters (each a fresh process, alternating).
//! 2. Open + decrypt + index an N-item vault (100,000 by default), KDF
//!    excluded (unlocked with the recovery code, which is HKDF only): wall
//!    time and peak RSS of a fresh process, against `keepassxc-cli ls -R -f`
//!    on a KDBX holding the same entries.
//! 3. Search-as-you-type over the N-item index: p50 and p99 per query.
//! 4. Master-password change at 1,000 and at N items.
//! 5. `tessera import` of KeePassXC's 10,000-entry KDBX 3.1 peer file and of
//!    the N-entry KDBX, the source's KDF excluded (the same import with a
//!    wrong source password, which stops right after the KDF, is subtracted),
//!    against `keepassxc-cli ls -R -f` on the same file.
//! 6. Unlock time per factor (median of 10, in process): the password slot
//!    (Argon2id calibrated to 1 s, as `init` does), the recovery code, the OS
//!    keyring (a private gnome-keyring), the TPM (swtpm on loopback) and the
//!    YubiKey (the PIV simulator behind pcscd's virtual reader).
//! 7. Sync: the first clone of a 10,000-item account (KDF excluded) and a
//!    one-item round trip through a real `tessera-server` (`sync.rs`).
//! 8. Sync server load: simulated devices pulling and pushing against
//!    SQLite and PostgreSQL: req/s, latency percentiles, errors, peak RSS,
//!    lost writes, and a run with the server killed and restarted halfway.
//! 9. Browser integration: `get-logins` through the host and the release
//!    app at N items, the host's memory, the app's memory with it on and
//!    off (`browser.rs`).
//! 10. SSH agent signature latency per key type next to OpenSSH's
//!     `ssh-agent` holding the same key, and `tessera run`'s overhead with
//!     one reference (`agent.rs`).
//! 11. What padding costs at N items: the vault file and the first push
//!     to a real `tessera-server`, padded against unpadded, and the open
//!     time of the padded vault (`padding.rs`).
//! 12. Auto-type: shortcut to last character delivered into a real X
//!     client under Xvfb, for a 40-character sequence (`autotype.rs`).
//!
//! Wall time and peak RSS of child processes come from GNU time
//! (`/usr/bin/time -f "%e %M"`), so ours and the peers' are measured alike.

mod agent;
mod autotype;
mod browser;
mod desktop;
mod padding;
mod share;
mod sync;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use rand::RngExt;
use tessera_core::{Item, ItemType, LockedVault, OpenOptions};
use tessera_unlock::{Credential, KdfParams, Password, RecoveryCode, create_vault, unlock};

struct Options {
    items: usize,
    runs: usize,
    keepassxc: bool,
    /// Run only this figure: argon2, open, search, passwd, import, unlock, sync, load, desktop, browser, agent,
    /// padding, autotype or share.
    only: Option<String>,
    load: sync::LoadOptions,
}

impl Options {
    fn wants(&self, figure: &str) -> bool {
        self.only.as_deref().is_none_or(|o| o == figure)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("child-open") => return child_open(Path::new(&args[2]), Path::new(&args[3])),
        Some("child-argon2") => return child_argon2(&args[2..]),
        Some("child-kdbx-read") => return child_kdbx_read(Path::new(&args[2]), &args[3]),
        Some("child-unlock") => return child_unlock(Path::new(&args[2]), &args[3], &args[4..]),
        _ => {}
    }
    let mut options = Options {
        items: 100_000,
        runs: 5,
        keepassxc: true,
        only: None,
        load: sync::LoadOptions { devices: 1000, seconds: 60, rate: 5000.0 },
    };
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--items" => options.items = it.next().and_then(|v| v.parse().ok()).expect("--items N"),
            "--runs" => options.runs = it.next().and_then(|v| v.parse().ok()).expect("--runs R"),
            "--skip-keepassxc" => options.keepassxc = false,
            "--only" => options.only = it.next().cloned(),
            "--devices" => options.load.devices = it.next().and_then(|v| v.parse().ok()).expect("--devices N"),
            "--load-seconds" => {
                options.load.seconds = it.next().and_then(|v| v.parse().ok()).expect("--load-seconds S")
            }
            "--rate" => options.load.rate = it.next().and_then(|v| v.parse().ok()).expect("--rate REQ_PER_S"),
            other => {
                eprintln!(
                    "unknown argument {other}; usage: tessera-bench [--items N] [--runs R] [--skip-keepassxc] \
                     [--only argon2|open|search|passwd|import|unlock|sync|load|desktop|browser|agent|padding|autotype|share] [--devices N] [--load-seconds S] [--rate R]"
                );
                std::process::exit(2);
            }
        }
    }
    let work = cache_dir();
    println!("# Tessera benchmarks ({} items, medians of {} runs, {} cores)\n", options.items, options.runs, cores());
    if options.wants("argon2") {
        argon2_vs_reference(&options);
    }
    if options.only.as_deref() == Some("unlock") {
        return unlock_per_factor();
    }
    if options.wants("sync") {
        sync::clone_and_round_trip(options.runs);
    }
    if options.wants("load") {
        sync::load(&options.load);
    }
    if options.wants("agent") {
        agent::figures();
    }
    if options.wants("autotype") {
        autotype::figures(20);
    }
    if options.wants("share") {
        share::figures(options.runs);
    }
    if matches!(options.only.as_deref(), Some("sync" | "load" | "agent" | "autotype" | "share")) {
        return;
    }
    if options.wants("padding") {
        // First: it remakes a cached vault written before padding.
        padding::figures(&options, &work);
    }
    if options.only.as_deref() == Some("padding") {
        return;
    }
    let (vault, code_file) = big_vault(&work, options.items);
    if options.wants("open") {
        open_vs_keepassxc(&options, &work, &vault, &code_file);
    }
    if options.wants("search") {
        search_latency(&vault, &code_file);
    }
    if options.wants("passwd") {
        password_change(&work, &options);
    }
    if options.wants("import") {
        import_vs_keepassxc(&options, &work, &vault, &code_file);
    }
    if options.wants("desktop") {
        desktop::figures(&vault, &code_file, options.runs);
    }
    if options.wants("browser") {
        browser::figures(&vault, &code_file, options.items);
    }
    if options.wants("unlock") {
        unlock_per_factor();
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Benchmark data is kept between runs (a 100,000-entry KDBX takes minutes
/// to make).
fn cache_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/tessera")))
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join("bench-data");
    std::fs::create_dir_all(&dir).expect("create the benchmark data directory");
    dir
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Runs `cmd` under GNU time; returns (wall seconds, peak RSS in MiB,
/// stdout). Wall time is measured here (GNU time's has 10 ms resolution);
/// GNU time gives the child's peak RSS.
fn timed(cmd: &mut Command, stdin: Option<&[u8]>) -> (f64, f64, String) {
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped.args(["-f", "TESSERA_BENCH %M"]).arg(cmd.get_program()).args(cmd.get_args());
    wrapped.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    wrapped.stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = wrapped.spawn().expect("/usr/bin/time (package `time`) runs");
    if let Some(input) = stdin {
        child.stdin.take().expect("piped stdin").write_all(input).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait for the benchmark child");
    let wall = start.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?} failed: {err}", cmd.get_program());
    let line = err.lines().rev().find(|l| l.starts_with("TESSERA_BENCH ")).expect("GNU time output");
    let rss_kib: f64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("max RSS");
    (wall, rss_kib / 1024.0, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn me() -> PathBuf {
    std::env::current_exe().expect("own path")
}

// --- 1. Argon2id -------------------------------------------------------------

fn child_argon2(args: &[String]) {
    let n = |i: usize| args[i].parse::<u32>().expect("number");
    let params = KdfParams::argon2id(n(0), n(1), n(2)).expect("valid parameters");
    let out = params.derive(b"benchmark password", b"benchmark-salt16").expect("derive");
    println!("{}", out.iter().map(|b| format!("{b:02x}")).collect::<String>());
}

fn argon2_vs_reference(o: &Options) {
    println!("## Argon2id against the reference C implementation\n");
    println!("| parameters | tessera (s) | argon2 C tool (s) | ratio |");
    println!("|---|---|---|---|");
    for (m, t, p) in [(65_536u32, 3u32, 4u32), (262_144, 3, 4)] {
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for _ in 0..o.runs {
            let (w, _, our_hash) =
                timed(Command::new(me()).args(["child-argon2", &m.to_string(), &t.to_string(), &p.to_string()]), None);
            ours.push(w);
            let (w, _, their_hash) = timed(
                Command::new("argon2").args([
                    "benchmark-salt16",
                    "-id",
                    "-t",
                    &t.to_string(),
                    "-k",
                    &m.to_string(),
                    "-p",
                    &p.to_string(),
                    "-l",
                    "32",
                    "-r",
                ]),
                Some(b"benchmark password"),
            );
            theirs.push(w);
            assert_eq!(our_hash.trim(), their_hash.trim(), "Argon2id output differs from the reference");
        }
        let (a, b) = (median(ours), median(theirs));
        println!("| m={} MiB t={t} p={p} | {a:.3} | {b:.3} | {:.2} |", m / 1024, a / b);
    }
    println!();

    // What `init` picks for its one-second target, and what it costs.
    let start = Instant::now();
    let chosen = KdfParams::calibrate(std::time::Duration::from_secs(1));
    let calibration = start.elapsed().as_secs_f64();
    let times: Vec<f64> = (0..o.runs)
        .map(|_| {
            let start = Instant::now();
            chosen.derive(b"benchmark password", b"benchmark-salt16").expect("derive");
            start.elapsed().as_secs_f64()
        })
        .collect();
    println!(
        "`init` calibration (target 1 s) chose {} in {calibration:.1} s; one derivation then takes {:.3} s.\n",
        chosen.describe(),
        median(times)
    );
}

// --- 2. Open + decrypt + index --------------------------------------------------

/// Entries like KeePassXC's 10k sample: title, username, password, URL.
fn synthetic_item(i: usize, rng: &mut impl rand::Rng) -> Item {
    let mut item = Item::new(ItemType::Login, format!("Site {i:06}"));
    item.username = format!("user{i}@example.org");
    let alphabet = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%&*+-?@";
    item.password = (0..18).map(|_| alphabet[rng.random_range(0..alphabet.len())] as char).collect();
    item.urls = vec![format!("https://site{i}.example.org/login")];
    item
}

fn big_vault(work: &Path, n: usize) -> (PathBuf, PathBuf) {
    let path = work.join(format!("vault-{n}.tessera"));
    let code_file = work.join(format!("vault-{n}.recovery"));
    if path.exists() && code_file.exists() {
        return (path, code_file);
    }
    let _ = std::fs::remove_file(&path);
    eprintln!("making a {n}-item vault…");
    let password = Password::from_first_line(b"bench password").expect("password");
    let (mut vault, code) =
        create_vault(&path, &password, KdfParams::ARGON2_FLOOR, &OpenOptions::default()).expect("create vault");
    let mut rng = rand::rng();
    for chunk in (0..n).collect::<Vec<_>>().chunks(20_000) {
        vault.add(chunk.iter().map(|&i| synthetic_item(i, &mut rng)).collect()).expect("add items");
    }
    std::fs::write(&code_file, code.to_display().as_bytes()).expect("write code");
    (path, code_file)
}

/// In a fresh process: open, unlock with the recovery code (HKDF, no slow
/// KDF), decrypt every item and build the search index. Prints seconds.
fn child_open(vault: &Path, code_file: &Path) {
    let code = RecoveryCode::parse(&std::fs::read_to_string(code_file).expect("code")).expect("valid code");
    let start = Instant::now();
    let locked = LockedVault::open(vault, &OpenOptions::default()).expect("open");
    let vault = unlock(locked, &Credential::Recovery(&code)).expect("unlock");
    let index = vault.search_index().expect("index");
    let elapsed = start.elapsed();
    assert!(!index.is_empty());
    println!("{} {}", elapsed.as_secs_f64(), index.len());
}

/// [`child_open`] `runs` times: medians of the in-process seconds, the
/// whole process's seconds and its peak RSS in MiB.
fn open_runs(runs: usize, vault: &Path, code_file: &Path) -> (f64, f64, f64) {
    let mut inner = Vec::new();
    let mut walls = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..runs {
        let (wall, mib, out) = timed(Command::new(me()).arg("child-open").arg(vault).arg(code_file), None);
        inner.push(out.split_whitespace().next().and_then(|v| v.parse().ok()).expect("child time"));
        walls.push(wall);
        rss.push(mib);
    }
    (median(inner), median(walls), median(rss))
}

fn open_vs_keepassxc(o: &Options, work: &Path, vault: &Path, code_file: &Path) {
    println!("## Open + decrypt + index {} items (KDF excluded)\n", o.items);
    let (t_inner, t_wall, peak) = open_runs(o.runs, vault, code_file);
    println!("| | time (s) | peak RSS (MiB) |");
    println!("|---|---|---|");
    println!("| tessera: open + decrypt + index (in process) | {t_inner:.3} | |");
    println!("| tessera: whole process | {t_wall:.3} | {peak:.0} |");
    if !o.keepassxc {
        println!("\n(keepassxc-cli skipped)\n");
        return;
    }
    let kdbx = keepass_file(work, vault, code_file, o.items);
    let mut kx_wall = Vec::new();
    let mut kx_rss = Vec::new();
    for _ in 0..o.runs {
        let (wall, mib, _) =
            timed(Command::new("keepassxc-cli").args(["ls", "-R", "-f", "-q"]).arg(&kdbx), Some(b"bench password\n"));
        kx_wall.push(wall);
        kx_rss.push(mib);
    }
    let (k_wall, k_rss) = (median(kx_wall), median(kx_rss));
    println!("| keepassxc-cli ls -R -f (its KDF set to 100 ms) | {k_wall:.3} | {k_rss:.0} |");
    println!(
        "\nRatio tessera/KeePassXC: time {:.3} (whole process; {:.3} with KeePassXC's 0.1 s KDF taken out), peak memory {:.2}.\n",
        t_wall / k_wall,
        t_wall / (k_wall - 0.1).max(0.001),
        peak / k_rss
    );
}

/// The same entries as the vault, as a KDBX made by `keepassxc-cli import`
/// of KeePass 2 XML (KDF target 100 ms).
fn keepass_file(work: &Path, vault: &Path, code_file: &Path, n: usize) -> PathBuf {
    let kdbx = work.join(format!("keepass-{n}.kdbx"));
    if kdbx.exists() {
        return kdbx;
    }
    eprintln!("making a {n}-entry KDBX with keepassxc-cli import (this takes a while, once)…");
    let code = RecoveryCode::parse(&std::fs::read_to_string(code_file).expect("code")).expect("valid code");
    let v = unlock(LockedVault::open(vault, &OpenOptions::default()).expect("open"), &Credential::Recovery(&code))
        .expect("unlock");
    let mut xml = String::with_capacity(n * 600);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<KeePassFile><Meta><Generator>tessera-bench</Generator></Meta><Root><Group><UUID>");
    xml.push_str(&uuid_b64(0));
    xml.push_str("</UUID><Name>Root</Name>");
    let mut i = 0u128;
    v.each_item(tessera_core::Scope::Live, |item| {
        i += 1;
        xml.push_str("<Entry><UUID>");
        xml.push_str(&uuid_b64(i));
        xml.push_str("</UUID>");
        for (k, value) in [
            ("Title", item.title.as_str()),
            ("UserName", item.username.as_str()),
            ("Password", item.password.as_str()),
            ("URL", item.urls.first().map_or("", String::as_str)),
            ("Notes", item.notes.as_str()),
        ] {
            xml.push_str("<String><Key>");
            xml.push_str(k);
            xml.push_str("</Key><Value>");
            xml.push_str(&escape(value));
            xml.push_str("</Value></String>");
        }
        xml.push_str("</Entry>");
    })
    .expect("read items");
    xml.push_str("</Group></Root></KeePassFile>\n");
    let xml_path = work.join(format!("keepass-{n}.xml"));
    std::fs::write(&xml_path, xml).expect("write XML");
    let partial = work.join(format!("keepass-{n}.kdbx.partial"));
    let _ = std::fs::remove_file(&partial);
    let mut child = Command::new("keepassxc-cli")
        .args(["import", "-q", "-p", "-t", "100"])
        .arg(&xml_path)
        .arg(&partial)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("keepassxc-cli (package keepassxc) runs");
    child.stdin.take().expect("stdin").write_all(b"bench password\nbench password\n").expect("password");
    assert!(child.wait().expect("import").success(), "keepassxc-cli import failed");
    std::fs::rename(&partial, &kdbx).expect("rename");
    let _ = std::fs::remove_file(&xml_path);
    kdbx
}

fn uuid_b64(i: u128) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = (i + 1).to_be_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

// --- 3. Search ------------------------------------------------------------------

fn search_latency(vault: &Path, code_file: &Path) {
    let code = RecoveryCode::parse(&std::fs::read_to_string(code_file).expect("code")).expect("valid code");
    let v = unlock(LockedVault::open(vault, &OpenOptions::default()).expect("open"), &Credential::Recovery(&code))
        .expect("unlock");
    let index = v.search_index().expect("index");
    let mut rng = rand::rng();
    // Search as you type: every prefix of titles, usernames and domains
    // of random items, plus words that match nothing.
    let mut queries: Vec<String> = Vec::new();
    for _ in 0..200 {
        let s = &index.all()[rng.random_range(0..index.len())];
        let words = [s.title.to_lowercase(), s.username.clone(), s.urls[0].replace("https://", "")];
        let word = &words[rng.random_range(0..words.len())];
        for end in 1..=word.len().min(12) {
            if word.is_char_boundary(end) {
                queries.push(word[..end].to_owned());
            }
        }
    }
    queries.extend(["zzzz", "no such thing", "qqq xyz"].map(String::from));
    let mut times = Vec::with_capacity(queries.len());
    let mut hits = 0usize;
    for q in &queries {
        let start = Instant::now();
        let r = index.search(q);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        hits += r.len();
    }
    times.sort_by(f64::total_cmp);
    println!("## Search in {} items ({} queries typed as you type)\n", index.len(), queries.len());
    println!("| p50 (ms) | p99 (ms) | max (ms) |");
    println!("|---|---|---|");
    println!(
        "| {:.3} | {:.3} | {:.3} |\n",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or_default()
    );
    assert!(hits > 0);
}

// --- 4. Master-password change --------------------------------------------------

fn password_change(work: &Path, o: &Options) {
    println!("## Master-password change (one Argon2id at m=64 MiB t=3 p=4, one re-wrap)\n");
    println!("| items | passwd (s) |");
    println!("|---|---|");
    let mut rng = rand::rng();
    for n in [1_000usize, o.items] {
        let path = work.join(format!("passwd-{n}.tessera"));
        let _ = std::fs::remove_file(&path);
        let old = Password::from_first_line(b"old password").expect("password");
        let (mut vault, _) =
            create_vault(&path, &old, KdfParams::ARGON2_FLOOR, &OpenOptions::default()).expect("create");
        for chunk in (0..n).collect::<Vec<_>>().chunks(20_000) {
            vault.add(chunk.iter().map(|&i| synthetic_item(i, &mut rng)).collect()).expect("add");
        }
        let mut times = Vec::new();
        for r in 0..o.runs {
            let new = Password::from_first_line(format!("new password {r}").as_bytes()).expect("password");
            let start = Instant::now();
            tessera_unlock::change_password(&mut vault, &new, None).expect("change password");
            times.push(start.elapsed().as_secs_f64());
        }
        println!("| {n} | {:.3} |", median(times));
        drop(vault);
        let _ = std::fs::remove_file(&path);
    }
    println!();
}

// --- 5. Import from KeePass ----------------------------------------------------

/// KeePassXC's 10,000-entry KDBX 3.1 file, from the project's test data.
fn peer_10k() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/peers/large-10k-kdbx31.kdbx")
}

/// Like [`timed`], for a command that may fail: returns wall seconds only.
fn timed_any(cmd: &mut Command) -> f64 {
    let start = Instant::now();
    let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).stdin(Stdio::null()).status().expect("run");
    start.elapsed().as_secs_f64()
}

/// In a fresh process: only the `keepass` crate's reading of a KDBX (its
/// KDF included), to show how much of an import is the crate's. Prints
/// seconds.
fn child_kdbx_read(file: &Path, password: &str) {
    let bytes = std::fs::read(file).expect("read the KDBX");
    let key = tessera_interop::SourceKey { password: Some(zeroize::Zeroizing::new(password.into())), key_file: None };
    let start = Instant::now();
    let db = tessera_interop::keepass::open(&bytes, &key).expect("open the KDBX");
    println!("{}", start.elapsed().as_secs_f64());
    drop(db);
}

fn import_vs_keepassxc(o: &Options, work: &Path, vault: &Path, code_file: &Path) {
    println!("## Import from KeePass (source KDF excluded)\n");
    println!(
        "| file | entries | tessera import (s) | tessera peak RSS (MiB) | keepassxc-cli ls -R -f (s) | its peak RSS (MiB) |"
    );
    println!("|---|---|---|---|---|---|");
    let tessera = me().with_file_name("tessera");
    assert!(tessera.exists(), "{} is missing: build tessera-cli in release", tessera.display());
    let mut files =
        vec![(peer_10k(), "sample-password", 10_000usize, "large-10k-kdbx31.kdbx (KeePassXC, KDBX 3.1)".to_owned())];
    if o.keepassxc {
        let kdbx = keepass_file(work, vault, code_file, o.items);
        files.push((
            kdbx,
            "bench password",
            o.items,
            format!("keepass-{}.kdbx (keepassxc-cli import, KDBX 4)", o.items),
        ));
    }
    for (file, password, entries, label) in files {
        let right = work.join("import-source-password");
        let wrong = work.join("import-wrong-password");
        std::fs::write(&right, format!("{password}\n")).expect("password file");
        std::fs::write(&wrong, "not the password\n").expect("password file");
        let (mut walls, mut rss, mut kdf) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..o.runs {
            let target = work.join("import-target.tessera");
            let code = work.join("import-target.recovery");
            let _ = std::fs::remove_file(&target);
            let pw = Password::from_first_line(b"bench password").expect("password");
            let (v, c) = create_vault(&target, &pw, KdfParams::ARGON2_FLOOR, &OpenOptions::default()).expect("create");
            drop(v);
            std::fs::write(&code, c.to_display().as_bytes()).expect("code");
            let command = |password_file: &Path| {
                let mut cmd = Command::new(&tessera);
                cmd.arg("--vault").arg(&target).args(["--unlock", "recovery", "--recovery-file"]).arg(&code);
                cmd.args(["--json", "import"]).arg(&file).arg("--source-password-file").arg(password_file);
                cmd
            };
            // The failed import costs process start, unlock, reading the file
            // and the source's KDF: everything but the import itself.
            kdf.push(timed_any(&mut command(&wrong)));
            let (wall, mib, out) = timed(&mut command(&right), None);
            let summary: serde_json::Value = serde_json::from_str(&out).expect("import --json");
            assert_eq!(summary["imported"], entries, "{summary}");
            walls.push(wall);
            rss.push(mib);
            let _ = std::fs::remove_file(&target);
        }
        let (kx_wall, kx_rss) = if o.keepassxc {
            let mut w = Vec::new();
            let mut r = Vec::new();
            for _ in 0..o.runs {
                let (wall, mib, _) = timed(
                    Command::new("keepassxc-cli").args(["ls", "-R", "-f", "-q"]).arg(&file),
                    Some(format!("{password}\n").as_bytes()),
                );
                w.push(wall);
                r.push(mib);
            }
            (format!("{:.2}", median(w)), format!("{:.0}", median(r)))
        } else {
            ("skipped".into(), "".into())
        };
        let (mut crate_read, mut crate_rss) = (Vec::new(), Vec::new());
        for _ in 0..o.runs {
            let (_, mib, out) = timed(Command::new(me()).arg("child-kdbx-read").arg(&file).arg(password), None);
            crate_read.push(out.trim().parse::<f64>().expect("child time"));
            crate_rss.push(mib);
        }
        let (total, source_kdf) = (median(walls), median(kdf));
        println!(
            "| {label} | {entries} | {:.2} ({total:.2} with {source_kdf:.2} of process start, unlock and source KDF) | {:.0} | {kx_wall} | {kx_rss} |",
            (total - source_kdf).max(0.0),
            median(rss)
        );
        println!(
            "|   of which the `keepass` crate reading the file (its KDF included) | | {:.2} | {:.0} | | |",
            median(crate_read),
            median(crate_rss)
        );
    }
    println!();
}

// --- 6. Unlock per factor ----------------------------------------------------

const UNLOCK_RUNS: usize = 10;

/// In a fresh process (so the Secret Service address can come from the
/// environment): unlocks `vault` with `factor` ten times; prints the
/// median seconds.
fn child_unlock(vault: &Path, factor: &str, extra: &[String]) {
    use tessera_unlock::{Factor, TpmFactor, UnlockError, unlock_with_factors};
    let mut times = Vec::new();
    for _ in 0..UNLOCK_RUNS {
        let locked = LockedVault::open(vault, &OpenOptions::default()).expect("open");
        let start = Instant::now();
        let opened = match factor {
            "password" => {
                let password = Password::from_first_line(extra[0].as_bytes()).expect("password");
                unlock(locked, &Credential::Password(&password))
            }
            "recovery" => {
                let code = RecoveryCode::parse(&extra[0]).expect("code");
                unlock(locked, &Credential::Recovery(&code))
            }
            "keyring" => unlock(locked, &Credential::Keyring),
            "tpm" => {
                let tpm = TpmFactor::new(Some(&extra[0]), extra[1].as_bytes());
                let factors: [&dyn Factor; 1] = [&tpm];
                unlock_with_factors(locked, &factors, UnlockError::WrongPassword)
            }
            "yubikey" => {
                let yubikey = tessera_unlock::YubiKeyFactor::new(None, extra[0].as_bytes(), false);
                let factors: [&dyn Factor; 1] = [&yubikey];
                unlock_with_factors(locked, &factors, UnlockError::WrongPassword)
            }
            other => panic!("unknown factor {other}"),
        };
        times.push(start.elapsed().as_secs_f64());
        opened.expect("unlock");
    }
    println!("{}", median(times));
}

fn unlock_per_factor() {
    use tessera_test_support::{Pcscd, PivCard, SecretService, Swtpm};
    use tessera_unlock::{Factor, TpmFactor, add_slot};
    println!("## Unlock per factor (median of {UNLOCK_RUNS}, in process)\n");
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("unlock.tessera");
    let service = SecretService::start();
    let tpm = Swtpm::start();
    let password = Password::from_first_line(b"bench password").expect("password");
    eprintln!("calibrating the password slot's Argon2id to about 1 s…");
    let kdf = KdfParams::calibrate(std::time::Duration::from_secs(1));
    let (mut vault, code) = create_vault(&path, &password, kdf, &OpenOptions::default()).expect("create");
    // The keyring factor must talk to the private Secret Service: enrol in
    // a child that has its address.
    drop(vault);
    let status = service
        .env(&mut Command::new(me().with_file_name("tessera")))
        .arg("--vault")
        .arg(&path)
        .arg("--password-stdin")
        .args(["slot", "add", "keyring"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().expect("stdin").write_all(b"bench password\n")?;
            child.wait()
        })
        .expect("tessera slot add keyring");
    assert!(status.success(), "slot add keyring failed");
    vault = unlock(LockedVault::open(&path, &OpenOptions::default()).expect("open"), &Credential::Password(&password))
        .expect("unlock");
    let tpm_factor = TpmFactor::new(Some(&tpm.tcti()), b"2468");
    let factors: [&dyn Factor; 1] = [&tpm_factor];
    add_slot(&mut vault, "TPM", &factors).expect("add the TPM slot");
    let _pcscd = Pcscd::start();
    let _card = PivCard::insert(4242, "123456");
    let yubikey = tessera_unlock::YubiKeyFactor::new(None, b"123456", false);
    let factors: [&dyn Factor; 1] = [&yubikey];
    add_slot(&mut vault, "YubiKey", &factors).expect("add the YubiKey slot");
    drop(vault);

    let run = |factor: &str, extra: &[&str]| -> f64 {
        let mut cmd = Command::new(me());
        cmd.arg("child-unlock").arg(&path).arg(factor).args(extra);
        let out = service.env(&mut cmd).stderr(Stdio::inherit()).output().expect("child");
        assert!(out.status.success(), "child-unlock {factor} failed");
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("seconds")
    };
    let ms = |s: f64| s * 1000.0;
    println!("| factor | unlock (ms) |");
    println!("|---|---|");
    println!("| password ({}) | {:.0} |", kdf.describe(), ms(run("password", &["bench password"])));
    println!("| recovery code (HKDF) | {:.2} |", ms(run("recovery", &[&code.to_display()])));
    println!("| OS keyring (gnome-keyring over D-Bus) | {:.2} |", ms(run("keyring", &[])));
    println!(
        "| TPM 2.0 (swtpm on loopback: primary key, load, unseal) | {:.2} |",
        ms(run("tpm", &[&tpm.tcti(), "2468"]))
    );
    println!(
        "| YubiKey PIV (simulated card behind pcscd + vpcd: PIN, ECDH) | {:.2} |",
        ms(run("yubikey", &["123456"]))
    );
    println!();
    rollback_counter_cost();
}

// --- 6b. The TPM counter (whole-file rollback) --------------------------------

const COUNTER_WRITES: usize = 50;

/// One write (an item added) to a vault without and with the TPM counter
/// that guards against whole-file rollback (swtpm on loopback): the bound
/// write also takes the counter lock, reads the counter before its commit
/// and increments it after. Median of 50 writes each, in process.
fn rollback_counter_cost() {
    use tessera_test_support::Swtpm;
    use tessera_unlock::TpmCounter;
    println!("## The TPM counter: one write (median of {COUNTER_WRITES}, in process)\n");
    let dir = tempfile::tempdir().expect("temporary directory");
    let tpm = Swtpm::start();
    let password = Password::from_first_line(b"bench password").expect("password");
    let new_vault = |name: &str| {
        let path = dir.path().join(name);
        create_vault(&path, &password, KdfParams::ARGON2_FLOOR, &OpenOptions::default()).expect("create").0
    };
    let write_median = |vault: &mut tessera_core::Vault| -> f64 {
        let mut times = Vec::with_capacity(COUNTER_WRITES);
        for i in 0..COUNTER_WRITES {
            let item = Item::new(ItemType::Login, format!("Login {i}"));
            let start = Instant::now();
            vault.add(vec![item]).expect("add an item");
            times.push(start.elapsed().as_secs_f64());
        }
        median(times)
    };
    let mut plain = new_vault("plain.tessera");
    let mut bound = new_vault("bound.tessera");
    bound.set_rollback_counter(Box::new(TpmCounter::define(Some(&tpm.tcti())).expect("define the TPM counter")));
    bound.bind_rollback_counter().expect("bind the vault to the counter");
    let without = write_median(&mut plain);
    let with = write_median(&mut bound);
    println!("| one write (an item added) | ms |");
    println!("|---|---|");
    println!("| without the TPM counter | {:.2} |", without * 1000.0);
    println!(
        "| with it (swtpm on loopback: counter lock, read before the commit, increment after) | {:.2} (+{:.2}) |",
        with * 1000.0,
        (with - without) * 1000.0
    );
    println!();
}
