//! Wiping the C libraries' freed memory too.
//!
//! [`crate::ZeroOnFree`] wipes what Rust frees. The desktop app also runs
//! C and C++ that see secrets: WebKit's UI process receives the text of the
//! field being edited (for input methods) and the selection, GLib buffers
//! IPC bodies. Their allocators leave freed blocks as they were, so a
//! revealed or typed secret outlived the lock in the app's own process (the
//! memory canary in tests/desktop_memory.rs found it there). Two settings
//! make every `free` wipe, both read only when a process starts:
//!
//! - `Malloc=1`: WebKit's own allocator (bmalloc/libpas) hands every
//!   allocation to the system `malloc` instead of keeping its own heap;
//! - `GLIBC_TUNABLES=glibc.malloc.perturb=N:glibc.malloc.tcache_count=0`:
//!   glibc fills each freed block with a pattern, and with the per-thread
//!   cache off no free skips that (the cache's fast path does).
//!
//! [`wipe_freed_c_heap`] therefore executes the binary again, once, with
//! both set. The web and network processes WebKit starts inherit them.
//! Programs the app starts for the user (an attachment's viewer) should not:
//! [`restore_user_environment`] gives them the user's environment back.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Set in the re-executed process; its value is the user's own
/// `GLIBC_TUNABLES` (empty when there was none) after a `=`, for children.
const MARK: &str = "TESSERA_WIPED_HEAP";
/// The byte glibc writes over freed memory (it writes its complement over
/// new allocations).
const PERTURB: u8 = 0xa5;

/// What [`wipe_freed_c_heap`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CHeap {
    /// This process runs with the wiping settings.
    Wiped,
    /// It could not execute itself again (the reason); it runs without them.
    NotWiped(String),
}

/// Executes the running binary again with the settings that make the C
/// heap wipe freed memory, unless this process already has them. Call it
/// first in `main`, before any thread or secret exists: on success it does
/// not return in the first process, and the second returns
/// [`CHeap::Wiped`] at once.
pub fn wipe_freed_c_heap() -> CHeap {
    if std::env::var_os(MARK).is_some() {
        return CHeap::Wiped;
    }
    let user_tunables = std::env::var_os("GLIBC_TUNABLES");
    let mut tunables = user_tunables.clone().unwrap_or_default();
    if !tunables.is_empty() {
        tunables.push(":");
    }
    // Later settings win: ours come last.
    tunables.push(format!("glibc.malloc.perturb={PERTURB}:glibc.malloc.tcache_count=0"));
    let mut mark = OsString::from("=");
    mark.push(user_tunables.unwrap_or_default());
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_else(|| OsString::from("tessera"));
    // The binary's own path, not /proc/self/exe: the process keeps its name.
    let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    let error = Command::new(exe)
        .arg0(argv0)
        .args(args)
        .env("Malloc", "1")
        .env("GLIBC_TUNABLES", tunables)
        .env(MARK, mark)
        .exec();
    CHeap::NotWiped(error.to_string())
}

/// Gives a program the app starts for the user the environment the user
/// started the app with: none of the heap settings, the user's own
/// `GLIBC_TUNABLES` back.
pub fn restore_user_environment(command: &mut Command) -> &mut Command {
    let Some(mark) = std::env::var_os(MARK) else { return command };
    command.env_remove(MARK).env_remove("Malloc");
    let user = mark.to_string_lossy().strip_prefix('=').map(str::to_owned).unwrap_or_default();
    if user.is_empty() { command.env_remove("GLIBC_TUNABLES") } else { command.env("GLIBC_TUNABLES", user) }
}

/// Gives the memory `malloc` holds free back to the system (`malloc_trim`):
/// after the app lets go of its web views in the tray, glibc would keep
/// their freed heap in the process. The freed blocks were wiped already.
#[allow(unsafe_code)]
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks;
    // it takes no pointer from us and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
