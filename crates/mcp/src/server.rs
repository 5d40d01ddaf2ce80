//! The MCP server: four tools over [`Tools`], on any transport (`tessera
//! mcp` uses stdio).
//!
//! Failures a tool meets (locked, refused, no such item) are tool results
//! with `isError` set and a sentence for the agent, not protocol errors:
//! the agent can read them and tell its user what to do.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::json;
use tessera_core::generator::{PassphrasePolicy, PasswordPolicy, generate_passphrase, generate_password};

use crate::access::{DEFAULT_RESULTS, ToolError, Tools};

/// What the server tells agents about itself.
const INSTRUCTIONS: &str = "Tessera is the user's password manager. search_items finds items \
(titles, usernames, URLs and the names of their fields, never a secret). get_secret gives one \
field of one item and get_totp an item's current one-time code, each only after the user \
approves it in Tessera (or lists the item with `tessera mcp --allow`); items the user marked \
\"never for agents\" are refused. Ask for a secret only when the task needs it, and never \
repeat it back to the user or write it anywhere it was not asked for.";

/// The arguments of `search_items`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    /// Words to look for in titles, usernames, URLs, folders and tags; empty lists everything.
    pub query: String,
    /// How many results at most (1–50, default 20).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// The arguments of `get_secret`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SecretArgs {
    /// The item: its exact title or its id (from search_items).
    pub item: String,
    /// The field: password, username, notes, url, or a custom field's name (search_items lists them).
    pub field: String,
}

/// The arguments of `get_totp`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct TotpArgs {
    /// The item: its exact title or its id (from search_items).
    pub item: String,
}

/// The arguments of `generate_password`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct GenerateArgs {
    /// Length in characters (8–128, default 20). Ignored for a passphrase.
    #[serde(default)]
    pub length: Option<u32>,
    /// Include symbols (default true).
    #[serde(default)]
    pub symbols: Option<bool>,
    /// Make a passphrase of this many words (4–20) instead of a password.
    #[serde(default)]
    pub words: Option<u32>,
}

/// The server. Cheap to clone (the tools are shared).
#[derive(Clone)]
pub struct McpServer {
    tools: Arc<dyn Tools>,
    // Read by the code `tool_handler` generates.
    #[allow(dead_code)]
    tool_router: ToolRouter<Self>,
}

fn failure(e: ToolError) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(e.to_string())])
}

/// The client's name as it introduced itself, or a placeholder.
fn client_name(context: &RequestContext<RoleServer>) -> String {
    context
        .peer
        .peer_info()
        .map(|info| info.client_info.name.trim().chars().take(100).collect::<String>())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "an unnamed MCP client".to_owned())
}

/// Runs a blocking tool call (the vault, a question to the user) off the
/// event loop.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ToolError> + Send + 'static,
) -> Result<T, ToolError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|_| Err(ToolError::Failed("Tessera's tool failed; see its log".into())))
}

#[tool_router]
impl McpServer {
    /// A server answering from `tools`.
    pub fn new(tools: Arc<dyn Tools>) -> McpServer {
        McpServer { tools, tool_router: Self::tool_router() }
    }

    #[tool(description = "Search the user's Tessera vault. Returns items (id, title, type, username, URLs, folder, \
                       tags and the names of the fields get_secret can give) — never a secret value.")]
    async fn search_items(&self, Parameters(args): Parameters<SearchArgs>) -> Result<CallToolResult, ErrorData> {
        let tools = self.tools.clone();
        let limit = args.limit.map_or(DEFAULT_RESULTS, |l| l as usize);
        Ok(match blocking(move || tools.search(&args.query, limit)).await {
            Ok(found) => {
                let body = json!({ "items": found });
                CallToolResult::success(vec![ContentBlock::text(body.to_string())])
            }
            Err(e) => failure(e),
        })
    }

    #[tool(description = "Get one field of one item (a password, a token, a custom field). The user approves each \
                       item in Tessera first; items marked \"never for agents\" are always refused.")]
    async fn get_secret(
        &self,
        Parameters(args): Parameters<SecretArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let tools = self.tools.clone();
        let client = client_name(&context);
        Ok(match blocking(move || tools.secret(&client, &args.item, &args.field)).await {
            Ok(secret) => CallToolResult::success(vec![ContentBlock::text(secret.value.as_str())]),
            Err(e) => failure(e),
        })
    }

    #[tool(description = "Get an item's current one-time code (TOTP). Approved by the user like get_secret. \
                       Returns the code and the seconds it stays valid.")]
    async fn get_totp(
        &self,
        Parameters(args): Parameters<TotpArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let tools = self.tools.clone();
        let client = client_name(&context);
        Ok(match blocking(move || tools.totp(&client, &args.item)).await {
            Ok(code) => {
                let body = json!({ "code": code.code, "remaining_seconds": code.remaining_seconds });
                CallToolResult::success(vec![ContentBlock::text(body.to_string())])
            }
            Err(e) => failure(e),
        })
    }

    #[tool(description = "Generate a new random password (or a passphrase with `words`). Reads nothing from the \
                       vault and needs no approval.")]
    async fn generate_password(&self, Parameters(args): Parameters<GenerateArgs>) -> Result<CallToolResult, ErrorData> {
        Ok(match generate(&args) {
            Ok(value) => CallToolResult::success(vec![ContentBlock::text(value.as_str())]),
            Err(e) => failure(e),
        })
    }
}

/// A password or passphrase as `args` asks.
pub fn generate(args: &GenerateArgs) -> Result<zeroize::Zeroizing<String>, ToolError> {
    let invalid = |e: tessera_core::generator::GeneratorError| ToolError::Invalid(e.to_string());
    match args.words {
        Some(words) => {
            if !(4..=20).contains(&words) {
                return Err(ToolError::Invalid("words must be between 4 and 20".into()));
            }
            let policy = PassphrasePolicy { words: words as usize, ..PassphrasePolicy::default() };
            generate_passphrase(&policy).map_err(invalid)
        }
        None => {
            let mut policy = PasswordPolicy::default();
            if let Some(length) = args.length {
                if !(8..=128).contains(&length) {
                    return Err(ToolError::Invalid("length must be between 8 and 128".into()));
                }
                policy.length = length as usize;
            }
            if args.symbols == Some(false) {
                policy.symbols = false;
            }
            generate_password(&policy).map_err(invalid)
        }
    }
}

#[tool_handler]
impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("tessera", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

/// Serves `tools` on standard input and output until the client hangs up.
pub fn serve_stdio(tools: Arc<dyn Tools>) -> std::io::Result<()> {
    use rmcp::ServiceExt;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let service = McpServer::new(tools)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| std::io::Error::other(format!("the MCP client did not start a session: {e}")))?;
        service.waiting().await.map_err(|e| std::io::Error::other(format!("the MCP session failed: {e}")))?;
        Ok(())
    })
}
