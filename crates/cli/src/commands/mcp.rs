//! `mcp`: the Model Context Protocol server on stdio, for AI agents.
//!
//! Without `--allow` this process holds no vault: each call goes to the
//! desktop app, which asks the user. With `--allow ITEM…` it unlocks the
//! vault itself (the password from `--password-file`, or `--unlock
//! keyring`/`tpm`: standard input is the protocol) and gives the listed
//! items without asking. Standard output carries only the protocol;
//! everything for people goes to standard error.

use std::sync::{Arc, Mutex};

use tessera_core::Scope;
use tessera_mcp::access::{AllowList, Tools, VaultTools};
use tessera_mcp::relay::{self, Relay};

use crate::cli::McpArgs;
use crate::exit::{CliResult, Failure};
use crate::session::Session;

pub fn mcp(session: &mut Session, args: &McpArgs) -> CliResult {
    if session.stdin_taken() {
        return Err(Failure::usage(
            "tessera mcp speaks MCP on standard input, so it cannot read the password there: \
             use --password-file FILE or --unlock keyring",
        ));
    }
    let tools: Arc<dyn Tools> = if args.allow.is_empty() {
        let path = relay::socket_path();
        let relay = Relay::new(path.clone());
        if relay.reachable() {
            eprintln!("tessera mcp: asking the Tessera app ({}) before each value", path.display());
        } else {
            eprintln!(
                "tessera mcp: the Tessera app is not running; searches and values will fail until it is \
                 (or run `tessera mcp --allow ITEM…` headless)"
            );
        }
        Arc::new(relay)
    } else {
        let vault = session.unlock()?;
        let mut allowed = Vec::new();
        for query in &args.allow {
            let id = vault.resolve(query, Scope::Live).map_err(|e| {
                let f = Failure::from(e);
                Failure::new(f.exit, format!("--allow {query}: {}", f.message))
            })?;
            let item = vault.get(id)?;
            if item.never_for_agents {
                eprintln!("tessera mcp: {:?} is marked \"never for agents\"; it stays refused", item.title);
            }
            allowed.push(id);
        }
        eprintln!("tessera mcp: serving the vault headless; {} item(s) allowed, the rest refused", allowed.len());
        Arc::new(VaultTools::new(Mutex::new(vault), AllowList::new(allowed)))
    };
    tessera_mcp::server::serve_stdio(tools).map_err(|e| Failure::other(format!("MCP: {e}")))
}
