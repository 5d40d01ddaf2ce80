//! Process hardening for every Tessera binary that holds a secret.
//!
//! The threat is a process of the same user, or whoever later reads a crash
//! dump: without this, any program the user runs may `ptrace` the app or read
//! `/proc/PID/mem` and take the unlocked vault, and a crash writes every
//! secret in memory to a `core` file on disk. [`harden_process`] is the first
//! statement of each `main` and does three things, as KeePassXC does at start:
//!
//! - **No core dumps**: the soft `RLIMIT_CORE` becomes 0 (the hard limit is
//!   kept, so [`spawn_with_user_core_limit`] can give a child program the user's
//!   limit back).
//! - **Not dumpable**: `PR_SET_DUMPABLE` 0. The kernel then refuses
//!   `ptrace` and `/proc/PID/mem` to processes of the same user (root keeps
//!   both: root owns the machine), makes `/proc/PID/*` root's, and writes no
//!   core whatever the limit says. `execve` resets it, so programs Tessera
//!   starts (`tessera run`) are unaffected.
//! - **Memory locked, where the limit allows**: `mlockall(CURRENT | FUTURE |
//!   ONFAULT)`, so no page of the process (key material included) is written
//!   to swap. Only when it cannot fail later: with `CAP_IPC_LOCK` or an
//!   unlimited `RLIMIT_MEMLOCK`. Under a finite limit (8 MiB is the common
//!   default) locking the future would make allocations fail once the
//!   process grows past it, which would turn a hardening step into a crash;
//!   there the pages stay swappable and an encrypted swap is the answer
//!   (docs/THREAT-MODEL.md).
//!
//! Every step is best effort and never fatal: the [`Hardening`] report says
//! what held, for `tessera doctor`-style output and for tests.
//!
//! [`ZeroOnFree`] is the fourth piece, for binaries to install as their
//! global allocator: every heap block is wiped when it is freed or moved, so
//! a secret that passed through a buffer nobody zeroized by hand (a serde
//! intermediate, a `Command`'s environment, a `String` grown by `push`) is
//! gone once the owner drops it, not left in free memory for the life of
//! the process.
//!
//! [`wipe_freed_c_heap`] extends that to the C and C++ libraries of the
//! desktop app (GLib, GTK, WebKit), whose allocators it switches to a
//! wiping `free` by executing the app again with the right settings.

#![deny(unsafe_code)]

mod c_heap;
mod zero_on_free;

pub use c_heap::{CHeap, release_free_memory, restore_user_environment, wipe_freed_c_heap};
pub use zero_on_free::ZeroOnFree;

use rustix::mm::{MlockAllFlags, mlockall};
use std::sync::OnceLock;

use rustix::process::{DumpableBehavior, Resource, Rlimit, getrlimit, set_dumpable_behavior, setrlimit};

/// The core-size limit the process started with, for its children.
static USER_CORE_LIMIT: OnceLock<Rlimit> = OnceLock::new();

/// What [`harden_process`] achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardening {
    /// The soft core-size limit is 0.
    pub core_dumps_disabled: bool,
    /// `PR_SET_DUMPABLE` is 0.
    pub not_dumpable: bool,
    /// All pages, current and future, are locked in RAM.
    pub memory_locked: MemoryLock,
}

/// Whether memory was locked, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryLock {
    /// `mlockall` succeeded.
    Locked,
    /// Not tried: `RLIMIT_MEMLOCK` is finite (bytes) and the process lacks
    /// `CAP_IPC_LOCK`, so locking future pages could fail allocations.
    LimitTooLow(u64),
    /// Tried and refused by the kernel (errno text).
    Refused(String),
}

/// Hardens the calling process (see the crate docs). Call it first in
/// `main`, before any secret is read.
pub fn harden_process() -> Hardening {
    let core = getrlimit(Resource::Core);
    // The first call sees the user's own limit; later calls would see ours.
    let _ = USER_CORE_LIMIT.set(core);
    let core_dumps_disabled = setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: core.maximum }).is_ok();
    let not_dumpable = set_dumpable_behavior(DumpableBehavior::NotDumpable).is_ok();
    let memory_locked = lock_memory();
    Hardening { core_dumps_disabled, not_dumpable, memory_locked }
}

fn lock_memory() -> MemoryLock {
    let limit = getrlimit(Resource::Memlock).current;
    if let Some(bytes) = limit
        && !has_ipc_lock_capability()
    {
        return MemoryLock::LimitTooLow(bytes);
    }
    match mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT) {
        Ok(()) => MemoryLock::Locked,
        Err(e) => MemoryLock::Refused(e.to_string()),
    }
}

/// `CAP_IPC_LOCK` (capability 14) in the effective set, read from
/// `/proc/self/status` so no capability library is needed.
fn has_ipc_lock_capability() -> bool {
    const CAP_IPC_LOCK: u32 = 14;
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return false };
    status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_IPC_LOCK) != 0)
}

/// Runs `spawn` (which starts a program: `tessera run`) with the core-size
/// limit the user had, so the program inherits it instead of our 0: it has
/// no secret of ours, and a developer expects it to dump core as it would
/// without Tessera. This process stays protected meanwhile, since a
/// non-dumpable process writes no core whatever its limit; the 0 is back as
/// soon as `spawn` returns.
pub fn spawn_with_user_core_limit<T>(spawn: impl FnOnce() -> T) -> T {
    let Some(user) = USER_CORE_LIMIT.get().copied() else { return spawn() };
    let ours = getrlimit(Resource::Core);
    let restored = setrlimit(Resource::Core, user).is_ok();
    let spawned = spawn();
    if restored {
        let _ = setrlimit(Resource::Core, ours);
    }
    spawned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardening_disables_core_dumps_and_ptrace_access() {
        let report = harden_process();
        assert!(report.core_dumps_disabled);
        assert!(report.not_dumpable);
        assert_eq!(getrlimit(Resource::Core).current, Some(0));
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(status.lines().any(|l| l.starts_with("CapEff:")));
        // A second call changes nothing and still reports success.
        assert_eq!(harden_process().not_dumpable, report.not_dumpable);
    }
}
