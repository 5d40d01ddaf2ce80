//! Reading another process's memory for secrets: the memory canaries of
//! tests/hardening.rs. Root reads `/proc/PID/mem` whatever the process's
//! dumpable flag; the tests that use this skip when not root.

use std::io::{Read, Seek, SeekFrom};

/// `marker` as the three encodings a secret may take in memory: UTF-8 (Rust,
/// GLib, the network), UTF-16LE (JavaScript engines' strings) and Latin-1
/// (JavaScriptCore's 8-bit strings).
pub fn marker_forms(marker: &str) -> Vec<Vec<u8>> {
    let mut forms = vec![marker.as_bytes().to_vec(), marker.encode_utf16().flat_map(u16::to_le_bytes).collect()];
    if marker.chars().all(|c| (c as u32) < 256) {
        let latin1: Vec<u8> = marker.chars().map(|c| c as u32 as u8).collect();
        if latin1 != forms[0] {
            forms.push(latin1);
        }
    }
    forms
}

/// How many times `marker` (in any of [`marker_forms`]) occurs in the
/// readable memory of `pid`. A process that ended counts 0.
///
/// Only pages present in RAM or swap are read (from `/proc/PID/pagemap`):
/// WebKit reserves readable regions of many GiB that are never touched, and
/// an untouched page reads as zeros anyway.
pub fn marker_hits(pid: u32, marker: &str) -> usize {
    let forms = marker_forms(marker);
    let longest = forms.iter().map(Vec::len).max().unwrap_or(0);
    let Ok(maps) = std::fs::read_to_string(format!("/proc/{pid}/maps")) else { return 0 };
    let (Ok(mut mem), Ok(mut pagemap)) =
        (std::fs::File::open(format!("/proc/{pid}/mem")), std::fs::File::open(format!("/proc/{pid}/pagemap")))
    else {
        return 0;
    };
    let mut hits = 0;
    let mut count = |bytes: &[u8], overlap: usize| {
        // `overlap` bytes at the start were searched with the previous chunk.
        for form in &forms {
            hits += bytes
                .windows(form.len())
                .enumerate()
                .filter(|(i, w)| i + form.len() > overlap && w == &form.as_slice())
                .count();
        }
    };
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else { continue };
        let path = fields.nth(3).unwrap_or("");
        if !perms.starts_with('r') || path == "[vvar]" || path == "[vsyscall]" || path == "[vvar_vclock]" {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else { continue };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16)) else { continue };
        for (run_start, run_end) in present_runs(&mut pagemap, start, end) {
            let mut carry: Vec<u8> = Vec::new();
            let mut at = run_start;
            while at < run_end {
                let len = (run_end - at).min(CHUNK);
                let mut chunk = std::mem::take(&mut carry);
                let overlap = chunk.len();
                chunk.resize(overlap + len as usize, 0);
                if mem.seek(SeekFrom::Start(at)).is_err() || mem.read_exact(&mut chunk[overlap..]).is_err() {
                    break;
                }
                if std::env::var_os("TESSERA_MEMORY_DEBUG").is_some() {
                    where_found(&chunk, at - overlap as u64, &forms, &format!("{} ({pid}): {line}", process_name(pid)));
                }
                count(&chunk, overlap);
                let keep = longest.saturating_sub(1).min(chunk.len());
                carry = chunk[chunk.len() - keep..].to_vec();
                at += len;
            }
        }
    }
    hits
}

/// With `TESSERA_MEMORY_DEBUG` set: where each hit is, and what is around
/// it, to find which code left it.
fn where_found(chunk: &[u8], base: u64, forms: &[Vec<u8>], mapping: &str) {
    for form in forms {
        for (i, _) in chunk.windows(form.len()).enumerate().filter(|(_, w)| w == &form.as_slice()) {
            let from = i.saturating_sub(96);
            let to = (i + form.len() + 96).min(chunk.len());
            let context: String =
                chunk[from..to].iter().map(|&b| if (32..127).contains(&b) { b as char } else { '.' }).collect();
            eprintln!("[memory-debug] {:#x} in {mapping}\n    {context}", base + i as u64);
        }
    }
}

const PAGE: u64 = 4096;
const CHUNK: u64 = 16 << 20;

/// The runs of pages in `[start, end)` that are in RAM or swap.
fn present_runs(pagemap: &mut std::fs::File, start: u64, end: u64) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    let mut page = start / PAGE;
    let last = end / PAGE;
    let mut entries = vec![0u8; 8 * 4096];
    while page < last {
        let n = (last - page).min(4096);
        let buf = &mut entries[..(n * 8) as usize];
        if pagemap.seek(SeekFrom::Start(page * 8)).is_err() || pagemap.read_exact(buf).is_err() {
            break;
        }
        for (i, entry) in buf.chunks_exact(8).enumerate() {
            let entry = u64::from_le_bytes(entry.try_into().expect("8 bytes"));
            if entry & (3 << 62) == 0 {
                continue; // neither present nor swapped
            }
            let at = (page + i as u64) * PAGE;
            match runs.last_mut() {
                Some((_, run_end)) if *run_end == at => *run_end = at + PAGE,
                _ => runs.push((at, at + PAGE)),
            }
        }
        page += n;
    }
    runs
}

/// `pid` and every process descending from it (WebKit's web and network
/// processes are children of the app, some through `bwrap`).
pub fn process_tree(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let child = e.ok()?.file_name().to_str()?.parse::<u32>().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
            // The command name is in parentheses and may hold spaces.
            let after = &stat[stat.rfind(')')? + 2..];
            let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((child, ppid))
        })
        .collect();
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(parents.iter().filter(|(_, p)| *p == parent).map(|(c, _)| *c));
        i += 1;
    }
    tree
}

/// The proportional set size (MiB) of `pids` together: shared pages count
/// once across them.
pub fn pss_mib(pids: &[u32]) -> f64 {
    let kib: u64 = pids
        .iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok())
        .flat_map(|rollup| {
            rollup
                .lines()
                .filter(|l| l.starts_with("Pss:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum();
    kib as f64 / 1024.0
}

/// A process's name, for messages.
pub fn process_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).map(|s| s.trim().to_owned()).unwrap_or_default()
}

/// Hits of each marker in each process of `pids`, as (process, marker,
/// count) for the counts above zero.
pub fn hits_in(pids: &[u32], markers: &[&str]) -> Vec<(String, String, usize)> {
    let mut found = Vec::new();
    for &pid in pids {
        for marker in markers {
            let n = marker_hits(pid, marker);
            if n > 0 {
                found.push((format!("{} ({pid})", process_name(pid)), (*marker).to_owned(), n));
            }
        }
    }
    found
}

/// The pid of the `exe` process among this test process's descendants: the
/// app this test started (tests of other binaries may run apps of their
/// own at the same time).
pub fn own_descendant(exe: &std::path::Path) -> Option<u32> {
    process_tree(std::process::id())
        .into_iter()
        .find(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == exe))
}
