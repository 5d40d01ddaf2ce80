//! Browser integration in the app: the socket `tessera-browser-host` relays
//! the KeePassXC-Browser extension to, served by `tessera_browser`'s engine
//! over this app's vault, with the user's answers coming from dialogs in
//! the main window.
//!
//! The engine, the matching and the access rules live in the
//! `tessera-browser` and `tessera-sites` crates; this module only plugs them
//! into the app: it opens the vault for the engine, asks the questions the
//! engine asks (as `browser-prompt` events, answered by `browser_answer`),
//! locks and shows the unlock window when the extension asks, and tells the
//! extension when the vault locks and unlocks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};
use tessera_browser::server::Server;
use tessera_browser::service::{AccessAnswer, AccessRequest, Backend, ConnectRequest, Options, Service, VaultView};

use crate::desktop::Desktop;
use crate::error::{CommandError, CommandResult};
use crate::prompts::Prompts;
use crate::windows;

type BrowserPrompts = Prompts<Prompt, Answer>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A question for the user, as the main window shows it (ui/API.md
/// `BrowserPrompt`). Holds no secret.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase", rename_all_fields = "camelCase")]
pub enum Prompt {
    /// "A browser wants to connect to Tessera".
    Connect { id: u64, fingerprint: String },
    /// "Allow HOST to use ITEM?"
    Access { id: u64, host: String, connection: String, items: Vec<PromptItem> },
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptItem {
    pub id: String,
    pub title: String,
    pub username: String,
}

/// The user's answer (ui/API.md `BrowserAnswer`).
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Answer {
    /// Connect under `name`, or refuse (`null`).
    Connect { name: Option<String> },
    /// `once`, `always`, `deny` or `dismiss`.
    Access { decision: String },
}

/// What the engine sees of the app.
pub struct AppBackend {
    app: AppHandle,
    prompts: Arc<BrowserPrompts>,
}

impl Backend for AppBackend {
    fn database_hash(&self) -> Option<String> {
        self.app.try_state::<Browser>().and_then(|b| lock(&b.hash).clone())
    }

    fn with_vault(&self, f: &mut dyn FnMut(&mut VaultView<'_>)) -> bool {
        let desktop = self.app.state::<Desktop>();
        match desktop.with_browser_view(f) {
            None => false,
            Some(changed) => {
                if !changed.is_empty() {
                    // A login saved from the browser shows in the list now.
                    let ids = changed.iter().map(|id| id.to_hex()).collect();
                    crate::commands::changed_elsewhere(&self.app, "", ids);
                }
                true
            }
        }
    }

    fn ask_connect(&self, request: &ConnectRequest) -> Option<String> {
        let fingerprint = request.fingerprint.clone();
        match self.prompts.ask(&self.app, |id| Prompt::Connect { id, fingerprint }) {
            Some(Answer::Connect { name: Some(name) }) if !name.trim().is_empty() => Some(name),
            _ => None,
        }
    }

    fn ask_access(&self, request: &AccessRequest) -> AccessAnswer {
        let items = request
            .items
            .iter()
            .map(|i| PromptItem { id: i.id.to_hex(), title: i.title.clone(), username: i.username.clone() })
            .collect();
        let (host, connection) = (request.host.clone(), request.connection.clone());
        match self.prompts.ask(&self.app, |id| Prompt::Access { id, host, connection, items }) {
            Some(Answer::Access { decision }) => match decision.as_str() {
                "once" => AccessAnswer::AllowOnce,
                "always" => AccessAnswer::Always,
                "deny" => AccessAnswer::Deny,
                _ => AccessAnswer::Dismissed,
            },
            _ => AccessAnswer::Dismissed,
        }
    }

    fn show_unlock(&self) {
        windows::show_main(&self.app);
    }

    fn lock(&self) {
        crate::autolock::lock_app(&self.app, "browser", false);
    }

    fn options(&self) -> Options {
        let s = self.app.state::<Desktop>().settings();
        let folder = tessera_core::item::normalize_folder(&s.browser_save_folder);
        Options {
            allow_http: s.browser_allow_http,
            save_folder: if folder.is_empty() { "Browser".into() } else { folder },
        }
    }
}

/// The integration's state, managed by Tauri.
pub struct Browser {
    service: Arc<Service<AppBackend>>,
    prompts: Arc<BrowserPrompts>,
    server: Mutex<Option<Server>>,
    /// Why the socket could not be opened, for Settings.
    error: Mutex<Option<String>>,
    /// The unlocked vault's hash for the extension, set at unlock and
    /// cleared at lock, so the extension's polling never waits on the
    /// vault (it gives up after 500 ms).
    hash: Mutex<Option<String>>,
}

impl Browser {
    pub fn new(app: &AppHandle) -> Browser {
        let prompts = Arc::new(Prompts::new("browser-prompt", "browser-prompt-closed"));
        let backend = AppBackend { app: app.clone(), prompts: prompts.clone() };
        Browser {
            service: Arc::new(Service::new(backend)),
            prompts,
            server: Mutex::new(None),
            error: Mutex::new(None),
            hash: Mutex::new(None),
        }
    }

    /// Opens the socket (if not open). An error is kept for Settings and
    /// returned.
    pub fn start(&self) -> CommandResult<()> {
        let mut server = lock(&self.server);
        if server.is_some() {
            return Ok(());
        }
        match Server::start(self.service.clone(), &tessera_browser::socket_path()) {
            Ok(s) => {
                *server = Some(s);
                *lock(&self.error) = None;
                crate::timing("browser-listening");
                Ok(())
            }
            Err(e) => {
                let message = format!("Cannot open the browser socket: {e}");
                *lock(&self.error) = Some(message.clone());
                Err(CommandError::io(message))
            }
        }
    }

    /// Closes the socket: connected extensions see Tessera as closed.
    pub fn stop(&self) {
        self.prompts.dismiss_all();
        if let Some(server) = lock(&self.server).take() {
            server.stop();
        }
    }

    fn broadcast(&self, action: &str) {
        if let Some(server) = lock(&self.server).as_ref() {
            server.broadcast(action);
        }
    }

    pub fn answer(&self, id: u64, answer: Option<Answer>) -> bool {
        self.prompts.answer(id, answer)
    }

    pub fn pending(&self) -> Vec<Prompt> {
        self.prompts.pending()
    }

    pub fn status(&self) -> (bool, Option<String>, usize) {
        let server = lock(&self.server);
        (server.is_some(), lock(&self.error).clone(), server.as_ref().map_or(0, Server::connected))
    }
}

/// After the vault locks: open questions end unanswered and the extension
/// is told (it then shows Tessera as locked).
pub fn on_lock(app: &AppHandle) {
    if let Some(browser) = app.try_state::<Browser>() {
        *lock(&browser.hash) = None;
        browser.prompts.dismiss_all();
        browser.broadcast("database-locked");
    }
}

/// After the vault unlocks.
pub fn on_unlock(app: &AppHandle) {
    if let Some(browser) = app.try_state::<Browser>() {
        let mut hash = None;
        app.state::<Desktop>()
            .with_browser_view(&mut |v| hash = Some(tessera_browser::service::database_hash(v.vault)));
        *lock(&browser.hash) = hash;
        browser.broadcast("database-unlocked");
    }
}

/// At start: serve browsers if the user turned it on.
pub fn start_if_enabled(app: &AppHandle) {
    let enabled = app.state::<Desktop>().settings().browser_integration;
    if enabled {
        if let Err(e) = app.state::<Browser>().start() {
            eprintln!("tessera-desktop: {}", e.message);
        }
    }
}

/// The Settings switch: on writes the browsers' manifests and opens the
/// socket; off closes it and takes Tessera's manifests away again.
pub fn set_enabled(app: &AppHandle, enabled: bool) -> CommandResult<()> {
    let browser = app.state::<Browser>();
    let homes = tessera_browser::install::Homes::from_env()
        .ok_or_else(|| CommandError::io("$HOME is not set; cannot find the browsers' folders"))?;
    let all = tessera_browser::install::Browser::ALL;
    if enabled {
        let host = tessera_browser::install::find_host().ok_or_else(|| {
            CommandError::io(format!(
                "{} is not installed beside Tessera; reinstall Tessera",
                tessera_browser::install::HOST_BINARY
            ))
        })?;
        tessera_browser::install::install(&homes, &all, &host)
            .map_err(|e| CommandError::io(format!("Cannot write the browsers' native-messaging manifests: {e}")))?;
        browser.start()
    } else {
        browser.stop();
        tessera_browser::install::uninstall(&homes, &all)
            .map_err(|e| CommandError::io(format!("Cannot remove the browsers' native-messaging manifests: {e}")))?;
        Ok(())
    }
}

// --- Settings → Browsers ----------------------------------------------------------------

/// ui/API.md `BrowserStatus`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowserStatus {
    pub enabled: bool,
    pub listening: bool,
    pub error: Option<String>,
    pub socket_path: String,
    pub connected_hosts: usize,
    pub browsers: Vec<BrowserManifest>,
    /// `None` while the vault is locked.
    pub connections: Option<Vec<BrowserConnection>>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowserManifest {
    pub browser: String,
    pub path: String,
    pub installed: bool,
    /// Another program's manifest of the same name (KeePassXC's).
    pub other_host: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowserConnection {
    pub name: String,
    pub created_at: i64,
    pub last_used_at: i64,
}

/// One remembered decision (ui/API.md `SiteRuleDto`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteRuleDto {
    pub item_id: String,
    pub title: String,
    pub host: String,
    pub allow: bool,
    pub decided_at: i64,
}

fn with_record<T>(
    desktop: &Desktop,
    f: impl FnOnce(&mut VaultView<'_>, &mut tessera_browser::access::BrowserRecord) -> CommandResult<T>,
) -> CommandResult<T> {
    let mut f = Some(f);
    let mut out = None;
    let ran = desktop.with_browser_view(&mut |view| {
        let Some(f) = f.take() else { return };
        out = Some(match tessera_browser::service::read_record(view.vault) {
            Ok(mut record) => f(view, &mut record),
            Err(e) => Err(CommandError::io(e.message)),
        });
    });
    match (ran, out) {
        (Some(_), Some(result)) => result,
        _ => Err(CommandError::locked()),
    }
}

fn save(
    view: &mut VaultView<'_>,
    record: &tessera_browser::access::BrowserRecord,
    events: Vec<tessera_core::AuditEvent>,
) -> CommandResult<()> {
    tessera_browser::service::write_record(view.vault, record, events).map_err(|e| CommandError::io(e.message))
}

pub fn status(app: &AppHandle) -> BrowserStatus {
    let desktop = app.state::<Desktop>();
    let (listening, error, connected_hosts) = app.state::<Browser>().status();
    let browsers = tessera_browser::install::Homes::from_env()
        .map(|homes| {
            tessera_browser::install::status(&homes)
                .iter()
                .map(|s| BrowserManifest {
                    browser: s.browser.name().to_owned(),
                    path: s.path.display().to_string(),
                    installed: matches!(s.manifest, tessera_browser::install::Manifest::Tessera { .. }),
                    other_host: s.other_host().map(|(_, program)| program.to_owned()),
                })
                .collect()
        })
        .unwrap_or_default();
    let connections = with_record(&desktop, |_, record| {
        Ok(record
            .connections
            .iter()
            .map(|c| BrowserConnection { name: c.name.clone(), created_at: c.created, last_used_at: c.last_used })
            .collect())
    })
    .ok();
    BrowserStatus {
        enabled: desktop.settings().browser_integration,
        listening,
        error,
        socket_path: tessera_browser::socket_path().display().to_string(),
        connected_hosts,
        browsers,
        connections,
    }
}

pub fn revoke(desktop: &Desktop, name: &str) -> CommandResult<()> {
    with_record(desktop, |view, record| {
        if !record.revoke(name) {
            return Err(CommandError::not_found(format!("No browser connection is called {name:?}")));
        }
        save(view, record, vec![tessera_core::AuditEvent::BrowserRevoked { name: name.to_owned() }])
    })
}

pub fn site_rules(desktop: &Desktop) -> CommandResult<Vec<SiteRuleDto>> {
    with_record(desktop, |view, record| {
        let titles: HashMap<_, _> = view.summaries.iter().map(|s| (s.id, s.title.clone())).collect();
        let mut rules: Vec<SiteRuleDto> = record
            .sites
            .iter()
            .map(|r| SiteRuleDto {
                item_id: r.item.to_hex(),
                title: titles.get(&r.item).cloned().unwrap_or_else(|| "(deleted item)".into()),
                host: r.host.clone(),
                allow: r.allow,
                decided_at: r.decided,
            })
            .collect();
        rules.sort_by(|a, b| a.host.cmp(&b.host).then(a.title.cmp(&b.title)));
        Ok(rules)
    })
}

pub fn forget_site(desktop: &Desktop, item_id: &str, host: &str) -> CommandResult<()> {
    let item: tessera_core::ItemId = item_id.parse().map_err(|_| CommandError::invalid("That is not an item id"))?;
    with_record(desktop, |view, record| {
        if !record.forget(item, host) {
            return Err(CommandError::not_found("There is no such decision"));
        }
        let event = tessera_core::AuditEvent::SiteAccess { item, host: host.to_owned(), decision: "forget".to_owned() };
        save(view, record, vec![event])
    })
}

// --- commands ---------------------------------------------------------------------------

#[tauri::command]
pub async fn browser_status(app: AppHandle) -> CommandResult<BrowserStatus> {
    crate::commands::run(&app, true, |_, app| Ok(status(app))).await
}

#[tauri::command]
pub async fn browser_revoke(app: AppHandle, name: String) -> CommandResult<()> {
    crate::commands::run(&app, false, move |d, _| revoke(d, &name)).await
}

#[tauri::command]
pub async fn browser_sites(app: AppHandle) -> CommandResult<Vec<SiteRuleDto>> {
    crate::commands::run(&app, false, |d, _| site_rules(d)).await
}

#[tauri::command]
pub async fn browser_forget_site(app: AppHandle, item_id: String, host: String) -> CommandResult<()> {
    crate::commands::run(&app, false, move |d, _| forget_site(d, &item_id, &host)).await
}

#[tauri::command]
pub async fn browser_prompts(app: AppHandle) -> CommandResult<Vec<Prompt>> {
    crate::commands::run(&app, true, |_, app| Ok(app.state::<Browser>().pending())).await
}

#[tauri::command]
pub async fn browser_answer(app: AppHandle, id: u64, answer: Option<Answer>) -> CommandResult<bool> {
    crate::commands::run(&app, false, move |_, app| Ok(app.state::<Browser>().answer(id, answer))).await
}
