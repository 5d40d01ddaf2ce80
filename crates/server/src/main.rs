//! `tessera-server`: the blind sync server. See the crate docs in `lib.rs`.

#![forbid(unsafe_code)]

use clap::Parser;

fn main() -> std::process::ExitCode {
    // The pepper and the token keys are the server's secrets: no core dump
    // or same-user reader gets them.
    tessera_hardening::harden_process();
    let config = tessera_server::config::Args::parse();
    match tessera_server::run(config) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera-server: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
