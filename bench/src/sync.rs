//! Sync figures (`--only sync`, `--only load`): a first clone of a
//! 10,000-item account and a one-item round trip through a real
//! `tessera-server`; and a bounded load run of many simulated devices
//! doing pulls and small pushes against SQLite and PostgreSQL, with the
//! server's peak RSS, a check that no acknowledged write was lost, and a
//! second run with the server killed and restarted halfway.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::RngExt;
use tessera_core::OpenOptions;
use tessera_sync::client::{self, Credentials};
use tessera_sync::wire::{
    Changes, KdfSpec, PushItem, PushRequest, PushResponse, RegisterRequest, Session, VaultIndex, b64,
};
use tessera_test_support::server::{Postgres, TestServer};
use tessera_unlock::{KdfParams, Password, create_vault};

use crate::{median, percentile, synthetic_item};

/// Options of the load run.
#[derive(Clone, Copy)]
pub struct LoadOptions {
    pub devices: usize,
    pub seconds: u64,
    pub rate: f64,
}

// --- clone and round trip ------------------------------------------------------

pub fn clone_and_round_trip(runs: usize) {
    println!("## Sync: first clone of a 10,000-item account, one-item round trip (SQLite server, loopback)\n");
    let server = TestServer::sqlite();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let password = Password::from_first_line(b"bench password").expect("password");
    let (mut vault, _) =
        create_vault(&dir.path().join("a.tessera"), &password, KdfParams::ARGON2_FLOOR, &OpenOptions::default())
            .expect("create vault");
    let mut rng = rand::rng();
    vault.add((0..10_000).map(|i| synthetic_item(i, &mut rng)).collect()).expect("add items");
    let start = Instant::now();
    client::register(&mut vault, &server.url, "bench@example.com", "bench", &password, &mut |_| {}).expect("register");
    let first_push = start.elapsed().as_secs_f64();
    let secret = {
        let state = vault.sync_state().expect("state").expect("linked");
        let v: serde_json::Value = serde_json::from_slice(&state.root).expect("json");
        client::SecretKey::parse(v["secret_key"].as_str().expect("secret key")).expect("parse")
    };
    // The KDFs a clone runs: the account's (floor) and the new vault's slot.
    let kdf_secs = median(
        (0..3)
            .map(|_| {
                let t = Instant::now();
                KdfParams::ARGON2_FLOOR.derive(b"bench password", &[0; 16]).expect("kdf");
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let mut clones = Vec::new();
    for r in 0..runs {
        let path = dir.path().join(format!("clone-{r}.tessera"));
        let t = Instant::now();
        let cloned = client::clone_account(
            &path,
            &server.url,
            "bench@example.com",
            &secret,
            "bench clone",
            &Credentials { password: Some(&password), totp: None },
            KdfParams::ARGON2_FLOOR,
            &OpenOptions::default(),
            &mut |_| {},
        )
        .expect("clone");
        clones.push(t.elapsed().as_secs_f64());
        assert_eq!(cloned.report.pulled, 10_000);
    }
    let clone_total = median(clones);
    let clone_net = clone_total - 2.0 * kdf_secs;
    let ids: Vec<_> = vault.summaries(tessera_core::Scope::Live).expect("summaries").iter().map(|s| s.id).collect();
    let mut trips = Vec::new();
    for r in 0..(runs * 4).max(10) {
        vault
            .update(ids[r % ids.len()], |i| {
                i.notes = format!("round trip {r}");
                Ok(())
            })
            .expect("edit");
        let t = Instant::now();
        let report = client::sync(&mut vault, &Credentials { password: Some(&password), totp: None }, &mut |_| {})
            .expect("sync");
        trips.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(report.pushed, 1);
    }
    trips.sort_by(f64::total_cmp);
    println!("| figure | median | target |");
    println!("|---|---|---|");
    println!("| first push of 10,000 items (`sync register`) | {first_push:.2} s | — |");
    println!(
        "| first clone of 10,000 items, KDF excluded ({clone_total:.2} s − 2 × {kdf_secs:.2} s Argon2id floor) | \
         {clone_net:.2} s | ≤ 1 s |"
    );
    println!(
        "| one-item sync round trip (edit → push, 10,000-item account; p50 / p95) | {:.1} ms / {:.1} ms | ≤ 50 ms |\n",
        percentile(&trips, 0.5),
        percentile(&trips, 0.95)
    );
}

// --- load ------------------------------------------------------------------------

struct Device {
    session: Session,
    manifest_version: u64,
    cursor: u64,
    acked: u64,
    unknown: u64,
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    errors: AtomicU64,
    conflicts: AtomicU64,
}

fn random_b64(n: usize) -> String {
    let mut rng = rand::rng();
    b64(&(0..n).map(|_| rng.random::<u8>()).collect::<Vec<_>>())
}

fn random_id() -> String {
    let mut rng = rand::rng();
    (0..16).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
}

async fn register_device(http: &reqwest::Client, url: &str, i: usize, tag: &str) -> Device {
    let req = RegisterRequest {
        email: format!("device{i}-{tag}@load.test"),
        auth: random_b64(32),
        salt: random_b64(16),
        kdf: KdfSpec { algorithm: "argon2id".into(), memory_kib: 65536, iterations: 3, parallelism: 4 },
        wrapped_vault_key: random_b64(60),
        manifest: random_b64(80),
        device_name: format!("load {i}"),
    };
    for _ in 0..50 {
        if let Ok(r) = http.post(format!("{url}/api/v1/accounts/register")).json(&req).send().await
            && r.status().is_success()
            && let Ok(session) = r.json::<Session>().await
        {
            return Device { session, manifest_version: 1, cursor: 0, acked: 0, unknown: 0 };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not register load device {i}");
}

/// One device: a request every `interval`, one in five a push of a new
/// 256-byte item, the rest pulls. Latencies in microseconds.
async fn run_device(
    http: reqwest::Client,
    url: String,
    mut d: Device,
    interval: Duration,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
) -> (Device, Vec<u32>) {
    let mut latencies = Vec::new();
    let offset = Duration::from_micros(rand::rng().random_range(0..interval.as_micros().max(1) as u64));
    tokio::time::sleep(offset).await;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let auth = format!("Bearer {}", d.session.access_token);
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        ticker.tick().await;
        n += 1;
        let t = Instant::now();
        let push = n % 5 == 0;
        let outcome = if push {
            let req = PushRequest {
                base_manifest_version: d.manifest_version,
                manifest: random_b64(80),
                manifest_version: d.manifest_version + 1,
                items: vec![PushItem { id: random_id(), base_revision: 0, deleted: false, blob: random_b64(256) }],
            };
            match http.post(format!("{url}/api/v1/vault/push")).header("authorization", &auth).json(&req).send().await {
                Ok(r) if r.status().is_success() => match r.json::<PushResponse>().await {
                    Ok(_) => {
                        d.manifest_version += 1;
                        d.acked += 1;
                        Ok(())
                    }
                    Err(_) => {
                        d.unknown += 1;
                        Err(true)
                    }
                },
                Ok(r) if r.status() == reqwest::StatusCode::CONFLICT => Err(false),
                Ok(_) => Err(true),
                Err(_) => {
                    d.unknown += 1;
                    Err(true)
                }
            }
        } else {
            match http
                .get(format!("{url}/api/v1/vault/changes?since={}&limit=100", d.cursor))
                .header("authorization", &auth)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => match r.json::<Changes>().await {
                    Ok(c) => {
                        d.cursor = c.next;
                        Ok(())
                    }
                    Err(_) => Err(true),
                },
                _ => Err(true),
            }
        };
        let us = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        tally.requests.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Ok(()) => latencies.push(us),
            Err(false) => {
                // Our manifest version is stale (a push whose answer was
                // lost did land): learn it again.
                tally.conflicts.fetch_add(1, Ordering::Relaxed);
                if let Ok(r) = http.get(format!("{url}/api/v1/vault/index")).header("authorization", &auth).send().await
                    && let Ok(i) = r.json::<VaultIndex>().await
                {
                    d.manifest_version = i.manifest_version;
                }
            }
            Err(true) => {
                tally.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    (d, latencies)
}

fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

struct LoadResult {
    rate: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    errors: u64,
    conflicts: u64,
    rss: f64,
    acked: u64,
    stored: u64,
    lost: u64,
}

fn load_run(server: &mut TestServer, o: &LoadOptions, restart_halfway: bool, tag: &str) -> LoadResult {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let http = reqwest::Client::builder().pool_max_idle_per_host(o.devices).build().expect("client");
    let url = server.url.clone();
    eprintln!("registering {} load devices…", o.devices);
    let devices: Vec<Device> = runtime.block_on(async {
        let mut out = Vec::with_capacity(o.devices);
        for chunk in (0..o.devices).collect::<Vec<_>>().chunks(32) {
            let futures: Vec<_> = chunk.iter().map(|&i| register_device(&http, &url, i, tag)).collect();
            for f in futures {
                out.push(f.await);
            }
        }
        out
    });
    // Peak RSS of the run itself, not of the registrations' Argon2
    // (writing 5 to clear_refs resets VmHWM).
    if let Some(pid) = server.pid() {
        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let interval = Duration::from_secs_f64(o.devices as f64 / o.rate);
    let handles: Vec<_> = devices
        .into_iter()
        .map(|d| runtime.spawn(run_device(http.clone(), url.clone(), d, interval, stop.clone(), tally.clone())))
        .collect();
    eprintln!(
        "running {} devices for {} s{}…",
        o.devices,
        o.seconds,
        if restart_halfway { " (restart halfway)" } else { "" }
    );
    let start = Instant::now();
    let mut rss: f64 = 0.0;
    let mut restarted = false;
    while start.elapsed() < Duration::from_secs(o.seconds) {
        std::thread::sleep(Duration::from_millis(250));
        if let Some(pid) = server.pid() {
            rss = rss.max(peak_rss_mib(pid));
        }
        if restart_halfway && !restarted && start.elapsed() >= Duration::from_secs(o.seconds / 2) {
            server.restart();
            restarted = true;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    let results: Vec<(Device, Vec<u32>)> = runtime.block_on(futures_join(handles));
    if let Some(pid) = server.pid() {
        rss = rss.max(peak_rss_mib(pid));
    }
    // Every acknowledged push must be stored: count each account's items.
    let (acked, stored, lost) = runtime.block_on(async {
        let (mut acked, mut stored, mut lost) = (0, 0, 0);
        for (d, _) in &results {
            let index: VaultIndex = http
                .get(format!("{url}/api/v1/vault/index"))
                .header("authorization", format!("Bearer {}", d.session.access_token))
                .send()
                .await
                .expect("index")
                .json()
                .await
                .expect("index json");
            let n = index.items.len() as u64;
            assert!(n <= d.acked + d.unknown, "the server holds a push nobody sent");
            acked += d.acked;
            stored += n;
            lost += d.acked.saturating_sub(n);
        }
        (acked, stored, lost)
    });
    let mut all: Vec<f64> = results.iter().flat_map(|(_, l)| l.iter().map(|&u| f64::from(u) / 1000.0)).collect();
    all.sort_by(f64::total_cmp);
    LoadResult {
        rate: tally.requests.load(Ordering::Relaxed) as f64 / elapsed,
        p50: percentile(&all, 0.5),
        p95: percentile(&all, 0.95),
        p99: percentile(&all, 0.99),
        errors: tally.errors.load(Ordering::Relaxed),
        conflicts: tally.conflicts.load(Ordering::Relaxed),
        rss,
        acked,
        stored,
        lost,
    }
}

async fn futures_join<T: Send + 'static>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("a device task"));
    }
    out
}

pub fn load(o: &LoadOptions) {
    println!(
        "## Sync server load: {} devices, {} s, offered {:.0} req/s (80 % pulls, 20 % one-item pushes), \
         server and load generator on the same {} cores\n",
        o.devices,
        o.seconds,
        o.rate,
        crate::cores()
    );
    println!(
        "| database | run | req/s | p50 | p95 | p99 | errors | 409s | server peak RSS | pushes acked / stored / lost |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let pg = Postgres::start();
    for (name, make) in [("SQLite", None), ("PostgreSQL", Some(&pg))] {
        for restart in [false, true] {
            let mut server = match make {
                None => TestServer::sqlite(),
                Some(pg) => TestServer::start(pg.database(), Arc::new(tempfile::tempdir().expect("tempdir"))),
            };
            server.set_extra_args(&["--db-connections", "16"]);
            server.restart();
            let opts = LoadOptions { seconds: if restart { o.seconds.min(30) } else { o.seconds }, ..*o };
            let r = load_run(&mut server, &opts, restart, &format!("{name}{restart}"));
            println!(
                "| {name} | {} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} | {:.1} MiB | {} / {} / {} |",
                if restart {
                    format!("{} s, killed and restarted halfway", opts.seconds)
                } else {
                    format!("{} s", opts.seconds)
                },
                r.rate,
                r.p50,
                r.p95,
                r.p99,
                r.errors,
                r.conflicts,
                r.rss,
                r.acked,
                r.stored,
                r.lost
            );
        }
    }
    println!();
}
