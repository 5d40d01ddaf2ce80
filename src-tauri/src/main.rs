//! `tessera-desktop`: see the library crate.

// No console window on Windows release builds.
#![cfg_attr(all(not(debug_assertions), target_os = "windows"), windows_subsystem = "windows")]
#![forbid(unsafe_code)]

/// Every freed heap block of the app's Rust side is wiped (crates/hardening).
#[global_allocator]
static ALLOC: tessera_hardening::ZeroOnFree = tessera_hardening::ZeroOnFree;

fn main() {
    // Before any thread or secret exists: GLib's, GTK's and WebKit's freed
    // memory is wiped like Rust's (this executes the app again, once).
    if let tessera_hardening::CHeap::NotWiped(e) = tessera_hardening::wipe_freed_c_heap() {
        eprintln!("tessera-desktop: freed memory of the C libraries will not be wiped: {e}");
    }
    // Before any secret exists: no core dumps, no same-user ptrace.
    tessera_hardening::harden_process();
    if let Err(e) = tessera_desktop::run() {
        eprintln!("tessera-desktop: cannot start: {e}");
        std::process::exit(1);
    }
}
