//! `tessera-server`: the blind sync server. See the crate docs in `lib.rs`.

#![forbid(unsafe_code)]

use clap::Parser;

fn main() -> std::process::ExitCode {
    let config = tessera_server::config::Args::parse();
    match tessera_server::run(config) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera-server: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
