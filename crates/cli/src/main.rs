//! `tessera`: the command line for everything a Tessera vault does.
//!
//! The logic lives in `tessera-core` and `tessera-unlock`; this binary
//! parses arguments, calls them and formats the results. See the README for
//! the contract (commands, JSON shapes, exit codes).

#![deny(unsafe_code)]

mod cli;
mod commands;
mod exit;
mod output;
mod session;

use clap::Parser;

use cli::{Cli, Command};
use commands::{
    attachments, browser, credential, generate, interop, items, keys, mcp, reports, rollback, secrets, share, slots,
    ssh, sync, vault,
};
use exit::CliResult;
use output::Out;
use session::Session;

/// Every freed heap block is wiped: copies of secrets that no zeroizing type
/// covers (library buffers, a command's environment) do not outlive their
/// owner (crates/hardening).
#[global_allocator]
static ALLOC: tessera_hardening::ZeroOnFree = tessera_hardening::ZeroOnFree;

fn main() {
    // Before any secret exists: no core dumps, no same-user ptrace, memory
    // locked where the limit allows (crates/hardening says why and how).
    tessera_hardening::harden_process();
    // The TPM stack (tpm2-tss) logs every TPM error response to stderr,
    // including the wrong-PIN answers we turn into one clear line. Quiet it
    // unless the user asked for its logs.
    if std::env::var_os("TSS2_LOG").is_none() {
        // SAFETY: the first statement of `main`, before any thread exists,
        // so nothing can read the environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("TSS2_LOG", "all+none");
        }
    }
    // A panic is a bug; say so in one line. Panic messages in this code
    // base never carry secrets (tested), and no backtrace is printed.
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("tessera: internal error{location}; this is a bug, please report it");
    }));

    let cli = Cli::parse();
    let mut out = Out::default();
    let result = run(&cli, &mut out);
    out.flush();
    if let Err(failure) = result {
        eprintln!("tessera: {}", failure.message);
        std::process::exit(failure.exit as i32);
    }
}

fn run(cli: &Cli, out: &mut Out) -> CliResult {
    let json = cli.json;
    if let Command::Generate(args) = &cli.command {
        // Needs no vault, so no vault path either.
        return generate::generate(args, json, out);
    }
    if let Command::Browser(command) = &cli.command {
        return browser::browser(command, json, out);
    }
    let mut session = Session::new(cli)?;
    let s = &mut session;
    match &cli.command {
        Command::Init(args) => vault::init(s, args, json, out),
        Command::Info => vault::info(s, json, out),
        Command::Add(args) => items::add(s, args, json, out),
        Command::Edit(args) => items::edit(s, args, json, out),
        Command::Show(args) => items::show(s, args, json, out),
        Command::List(args) => items::list(s, args, json, out),
        Command::Search { query } => items::search(s, query, json, out),
        Command::Rm { item } => items::rm(s, item, json, out),
        Command::Restore { item } => items::restore(s, item, json, out),
        Command::Purge(args) => items::purge(s, args, json, out),
        Command::Totp { item, at } => items::totp(s, item, *at, json, out),
        Command::Attach { item, file } => attachments::attach(s, item, file, json, out),
        Command::Attachment { item, name, output } => attachments::attachment(s, item, name, output, out),
        Command::Detach { item, name } => attachments::detach(s, item, name, json, out),
        Command::Passwd { new_password_file } => keys::passwd(s, new_password_file.as_deref(), json, out),
        Command::Rotate => keys::rotate(s, json, out),
        Command::Slot(command) => slots::slot(s, command, json, out),
        Command::Import(args) => interop::import(s, args, json, out),
        Command::Export(args) => interop::export(s, args, json, out),
        Command::Health => reports::health(s, json, out),
        Command::Audit => reports::audit(s, json, out),
        Command::Verify => reports::verify(s, json, out),
        Command::RestoreCheck { accept_older } => rollback::restore_check(s, *accept_older, json, out),
        Command::Sync(args) => sync::sync(s, args, json, out),
        Command::Share(args) => share::share(s, args, json, out),
        Command::Identity(args) => share::identity(s, args, json, out),
        Command::Generate(args) => generate::generate(args, json, out),
        Command::Browser(command) => browser::browser(command, json, out),
        Command::Ssh(command) => ssh::ssh(s, command, json, out),
        Command::SshAgent(args) => ssh::ssh_agent(s, args),
        Command::Read(args) => secrets::read(s, args, out),
        Command::Run(args) => secrets::run(s, args),
        Command::Inject(args) => secrets::inject(s, args, out),
        Command::Mcp(args) => mcp::mcp(s, args),
        Command::Credential { action } => credential::credential(s, *action, out),
    }
}
