//! `add`, `edit`, `show`, `list`, `search`, `rm`, `restore`, `purge`, `totp`.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::generator::{PasswordPolicy, generate_password};
use tessera_core::totp::Otp;
use tessera_core::{Field, Item, ItemId, ItemSummary, ItemType, Scope, SearchIndex, Vault, VaultError};
use tessera_sync::client::sharing;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::cli::{AddArgs, EditArgs, ItemFields, ListArgs, PurgeArgs, ShowArgs};
use crate::exit::{CliResult, Failure};
use crate::output::{Out, item_json, item_text, rfc3339, summary_json, summary_line};
use crate::session::{Session, read_secret_file};

/// Largest `--from-json` input accepted.
const MAX_JSON_INPUT: u64 = 256 * 1024 * 1024;

/// Changes to an item, checked before the vault is touched so that every
/// input error is reported before any write.
#[derive(Default)]
struct Changes {
    item_type: Option<ItemType>,
    title: Option<String>,
    username: Option<String>,
    urls: Option<Vec<String>>,
    notes: Option<String>,
    otp: Option<Option<String>>,
    set_fields: Vec<(String, String, bool)>,
    remove_fields: Vec<String>,
    tags: Option<Vec<String>>,
    folder: Option<String>,
    favourite: Option<bool>,
    never_autofill: Option<bool>,
    never_for_agents: Option<bool>,
    ssh_agent: Option<bool>,
    agent_approval: Option<tessera_core::AgentApproval>,
    password: Option<Zeroizing<String>>,
    expires: Option<Option<OffsetDateTime>>,
}

impl Changes {
    fn from_args(f: &ItemFields, session: &Session) -> CliResult<Changes> {
        let mut c = Changes {
            item_type: f.item_type.as_deref().map(str::parse).transpose().map_err(Failure::usage)?,
            title: f.title.clone(),
            username: f.username.clone(),
            urls: (!f.urls.is_empty()).then(|| f.urls.clone()),
            notes: f.notes.clone(),
            tags: (!f.tags.is_empty()).then(|| f.tags.clone()),
            folder: f.folder.clone(),
            favourite: f.favourite.then_some(true),
            never_autofill: flag(f.no_autofill, f.autofill),
            never_for_agents: flag(f.never_for_agents, f.for_agents),
            ssh_agent: flag(f.ssh_agent, f.no_ssh_agent),
            agent_approval: f.agent_approval.as_deref().map(str::parse).transpose().map_err(Failure::usage)?,
            ..Changes::default()
        };
        if let Some(uri) = &f.otp {
            c.otp = Some(if uri.trim().is_empty() {
                None
            } else {
                Otp::parse_uri(uri).map_err(|e| Failure::usage(format!("--otp: {e}")))?;
                Some(uri.clone())
            });
        }
        for (list, protected) in [(&f.fields, false), (&f.protected_fields, true)] {
            for spec in list {
                // The text may be a secret: never echo it.
                let (name, value) = spec
                    .split_once('=')
                    .ok_or_else(|| Failure::usage("custom fields are NAME=VALUE, and one had no '='"))?;
                if name.trim().is_empty() {
                    return Err(Failure::usage("a custom field needs a name before '='"));
                }
                c.set_fields.push((name.trim().to_owned(), value.to_owned(), protected));
            }
        }
        match f.generate.as_deref() {
            Some(len) if len.bytes().all(|b| b.is_ascii_digit()) => {
                let length = len.parse().map_err(|_| Failure::usage("--generate: the length is too large"))?;
                let policy = PasswordPolicy { length, ..PasswordPolicy::default() };
                c.password = Some(generate_password(&policy).map_err(|e| Failure::usage(format!("--generate: {e}")))?);
            }
            Some(kind) => {
                let kind: tessera_agent::keys::KeyKind = kind.parse().map_err(|e| {
                    Failure::usage(format!(
                        "--generate takes a length, or for an SSH key ed25519, ecdsa-p256 or rsa-3072 ({e})"
                    ))
                })?;
                c.require_ssh_type("--generate KEY")?;
                let comment = f.comment.clone().or_else(|| f.title.clone()).unwrap_or_default();
                c.set_key(&tessera_agent::keys::generate(kind, &comment).map_err(Failure::usage)?)?;
            }
            None => {}
        }
        if let Some(file) = &f.import_key {
            c.require_ssh_type("--import")?;
            let bytes = read_secret_file(file)?;
            let mut key =
                tessera_agent::keys::import(&bytes, &mut || key_passphrase(f, session).ok()).map_err(|e| match e {
                    tessera_agent::keys::KeyError::WrongPassphrase => Failure::new(crate::exit::Exit::WrongKey, e),
                    other => Failure::usage(format!("{}: {other}", file.display())),
                })?;
            if let Some(comment) = &f.comment {
                key.set_comment(comment);
            } else if key.comment().is_empty() {
                key.set_comment(f.title.clone().unwrap_or_default());
            }
            c.set_key(&key)?;
        } else if let (Some(comment), None) = (&f.comment, &f.generate) {
            c.set_fields.push((tessera_core::item::SSH_COMMENT.to_owned(), comment.clone(), false));
        }
        if let Some(file) = &f.secret_file {
            if file == Path::new("-") && session.stdin_taken() {
                return Err(Failure::usage(
                    "standard input already carries the master password; give --secret-file a file",
                ));
            }
            let bytes = read_secret_file(file)?;
            let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let text = std::str::from_utf8(line).map_err(|_| Failure::usage("the secret file is not UTF-8 text"))?;
            c.password = Some(Zeroizing::new(text.to_owned()));
        }
        if let Some(date) = &f.expires {
            c.expires = Some(if date.trim().is_empty() { None } else { Some(parse_date(date)?) });
        }
        Ok(c)
    }

    /// `--generate KEY` and `--import` make an SSH key: the type must be
    /// `ssh-key` (or left out, and then it is).
    fn require_ssh_type(&mut self, flag: &str) -> CliResult<()> {
        match self.item_type {
            None | Some(ItemType::SshKey) => {
                self.item_type = Some(ItemType::SshKey);
                Ok(())
            }
            Some(other) => Err(Failure::usage(format!("{flag} makes an SSH key; this item's --type is {other}"))),
        }
    }

    /// The item's key fields become `key`'s.
    fn set_key(&mut self, key: &tessera_agent::ssh_key::PrivateKey) -> CliResult<()> {
        for (name, value, protected) in tessera_agent::keys::fields(key).map_err(Failure::usage)? {
            self.set_fields.push((name.to_owned(), value.to_string(), protected));
        }
        Ok(())
    }

    fn apply(self, item: &mut Item) -> Result<(), VaultError> {
        if let Some(t) = self.item_type {
            item.item_type = t;
        }
        if let Some(v) = self.title {
            item.title = v;
        }
        if let Some(v) = self.username {
            item.username = v;
        }
        if let Some(v) = self.urls {
            item.urls = v;
        }
        if let Some(v) = self.notes {
            item.notes = v;
        }
        if let Some(v) = self.otp {
            item.otp = v;
        }
        for (name, value, protected) in &self.set_fields {
            item.set_field(name, value, *protected);
        }
        for name in &self.remove_fields {
            let before = item.fields.len();
            item.fields.retain(|f| &f.name != name);
            if item.fields.len() == before {
                return Err(VaultError::NotFound(format!("a custom field named {name:?} in item {}", item.id)));
            }
        }
        if let Some(v) = self.tags {
            item.tags = v;
        }
        if let Some(v) = self.folder {
            item.folder = v;
        }
        if let Some(v) = self.favourite {
            item.favourite = v;
        }
        if let Some(v) = self.never_autofill {
            item.never_autofill = v;
        }
        if let Some(v) = self.never_for_agents {
            item.never_for_agents = v;
        }
        if let Some(v) = self.ssh_agent {
            item.ssh_agent = v;
        }
        if let Some(v) = self.agent_approval {
            item.agent_approval = v;
        }
        if let Some(p) = &self.password {
            item.password = p.to_string();
        }
        if let Some(v) = self.expires {
            item.expires = v;
        }
        Ok(())
    }
}

/// A pair of `--x` / `--no-x` flags: set, cleared, or left as it is.
fn flag(on: bool, off: bool) -> Option<bool> {
    if on { Some(true) } else { off.then_some(false) }
}

/// An imported key's passphrase: `--passphrase-file`, else asked on the
/// terminal, else the first line of standard input (when the master
/// password is not there).
fn key_passphrase(f: &ItemFields, session: &Session) -> CliResult<Zeroizing<String>> {
    let line = |bytes: &[u8]| -> CliResult<Zeroizing<String>> {
        let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let first = first.strip_suffix(b"\r").unwrap_or(first);
        Ok(Zeroizing::new(
            std::str::from_utf8(first).map_err(|_| Failure::usage("the passphrase is not UTF-8 text"))?.to_owned(),
        ))
    };
    if let Some(file) = &f.passphrase_file {
        return line(&read_secret_file(file)?);
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return rpassword::prompt_password("Passphrase of the key: ")
            .map(Zeroizing::new)
            .map_err(|e| Failure::usage(format!("cannot read the passphrase: {e}")));
    }
    if !session.stdin_taken() {
        let mut input = Zeroizing::new(Vec::new());
        std::io::stdin().take(64 * 1024).read_to_end(&mut input).map_err(|e| Failure::usage(e.to_string()))?;
        if !input.is_empty() {
            return line(&input);
        }
    }
    Err(Failure::usage("the key has a passphrase: give it with --passphrase-file FILE"))
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339.
fn parse_date(text: &str) -> CliResult<OffsetDateTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Ok(t.to_offset(time::UtcOffset::UTC));
    }
    let day = time::format_description::parse("[year]-[month]-[day]").expect("a valid format description");
    time::Date::parse(text, &day)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| Failure::usage(format!("{text:?} is not a date: use YYYY-MM-DD or RFC 3339")))
}

pub fn add(session: &mut Session, args: &AddArgs, json: bool, out: &mut Out) -> CliResult {
    let items = match &args.from_json {
        Some(file) => items_from_json(file, session)?,
        None => {
            let changes = Changes::from_args(&args.fields, session)?;
            let title =
                changes.title.clone().ok_or_else(|| Failure::usage("add needs --title (or --from-json FILE)"))?;
            let mut item = Item::new(changes.item_type.unwrap_or(ItemType::Login), title);
            changes.apply(&mut item)?;
            vec![item]
        }
    };
    let single = args.from_json.is_none();
    let mut vault = session.unlock()?;
    // Checked before anything is added: a share this account may not write
    // to leaves the vault as it was.
    let share = match &args.fields.share {
        Some(name) if !name.is_empty() => Some(sharing::writable_share(&vault, name)?),
        _ => None,
    };
    let ids = vault.add(items)?;
    for id in &ids {
        if let Some(share) = &share {
            sharing::assign(&mut vault, id, Some(share))?;
        }
    }
    if json {
        out.json(&if single { json!({ "id": ids[0].to_hex() }) } else { json!({ "ids": ids }) });
    } else {
        for id in ids {
            out.line(id.to_hex());
        }
    }
    Ok(())
}

pub fn edit(session: &mut Session, args: &EditArgs, json: bool, out: &mut Out) -> CliResult {
    let mut changes = Changes::from_args(&args.fields, session)?;
    if args.no_favourite {
        changes.favourite = Some(false);
    }
    changes.remove_fields = args.remove_fields.clone();
    let mut vault = session.unlock()?;
    let id = vault.resolve(&args.item, Scope::Live)?;
    sharing::check_may_change(&vault, &id)?;
    if let Some(share) = &args.fields.share {
        sharing::assign(&mut vault, &id, (!share.is_empty()).then_some(share.as_str()))?;
    }
    let item = vault.update(id, |item| changes.apply(item))?;
    if json {
        out.json(&json!({ "id": item.id.to_hex(), "revision": item.revision }));
    } else {
        out.line(format!("Saved {:?} ({}).", item.title, item.id));
    }
    Ok(())
}

/// Live items first; a title or prefix only in the trash still resolves.
fn resolve_any(vault: &Vault, query: &str) -> Result<ItemId, VaultError> {
    match vault.resolve(query, Scope::Live) {
        Err(VaultError::NotFound(_)) => vault.resolve(query, Scope::Trash),
        other => other,
    }
}

pub fn show(session: &mut Session, args: &ShowArgs, json: bool, out: &mut Out) -> CliResult {
    let vault = session.unlock()?;
    let id = resolve_any(&vault, &args.item)?;
    let item = vault.get(id)?;
    let history = if args.history { Some(vault.history(id)?) } else { None };
    if json {
        let mut v = item_json(&item, args.reveal);
        if let Some(history) = &history {
            v["history"] = Value::Array(
                history
                    .iter()
                    .map(|h| {
                        let mut e = item_json(h, args.reveal);
                        e["revision"] = json!(h.revision);
                        e
                    })
                    .collect(),
            );
        }
        out.json(&v);
    } else {
        out.line(item_text(&item, args.reveal).trim_end());
        if let Some(history) = history {
            out.line(format!("\nHistory ({} earlier versions, newest first):", history.len()));
            for h in &history {
                out.line(format!("\n— revision {} of {}", h.revision, rfc3339(h.updated)));
                out.line(item_text(h, args.reveal).trim_end());
            }
        }
    }
    Ok(())
}

fn print_summaries(list: &[&ItemSummary], json: bool, out: &mut Out) {
    if json {
        out.json(&list.iter().map(|s| summary_json(s)).collect::<Vec<_>>());
    } else {
        for s in list {
            out.line(summary_line(s));
        }
    }
}

pub fn list(session: &mut Session, args: &ListArgs, json: bool, out: &mut Out) -> CliResult {
    if let Some(url) = &args.url {
        return list_for_url(session, url, json, out);
    }
    let vault = session.unlock()?;
    let scope = if args.trash { Scope::Trash } else { Scope::Live };
    let index = SearchIndex::new(vault.summaries(scope)?);
    let in_share = args.share.as_deref().map(|name| sharing::items_of(&vault, name)).transpose()?;
    let folder = args.folder.as_deref().map(tessera_core::item::normalize_folder);
    let shown: Vec<&ItemSummary> = index
        .all()
        .iter()
        .filter(|s| match &folder {
            None => true,
            Some(f) if f.is_empty() => true,
            Some(f) => s.folder == *f || s.folder.strip_prefix(f.as_str()).is_some_and(|rest| rest.starts_with('/')),
        })
        .filter(|s| args.tag.as_ref().is_none_or(|t| s.tags.contains(t)))
        .filter(|s| in_share.as_ref().is_none_or(|ids| ids.contains(&s.id.to_hex())))
        .collect();
    print_summaries(&shown, json, out);
    Ok(())
}

/// `list --url`: the logins the browser extension would be offered on
/// `url`, best match first, through the same matcher (`tessera-sites`).
/// The text form says how each matches, and marks items that are never
/// filled in the browser.
fn list_for_url(session: &mut Session, url: &str, json: bool, out: &mut Out) -> CliResult {
    let page = tessera_sites::Page::parse(url).map_err(|e| Failure::usage(format!("--url {url:?}: {e}")))?;
    let vault = session.unlock()?;
    let index = SearchIndex::new(vault.summaries(Scope::Live)?);
    let logins = index.all().iter().filter(|s| s.item_type == ItemType::Login);
    let sites = tessera_sites::SiteIndex::new(logins.clone().map(|s| (s.id, s.urls.iter())));
    let by_id: std::collections::HashMap<ItemId, &ItemSummary> = logins.map(|s| (s.id, s)).collect();
    let hits = sites.lookup(&page, &tessera_sites::Policy::default());
    if json {
        let shown: Vec<&ItemSummary> = hits.iter().filter_map(|(id, _)| by_id.get(id).copied()).collect();
        out.json(&shown.iter().map(|s| summary_json(s)).collect::<Vec<_>>());
        return Ok(());
    }
    if hits.is_empty() {
        out.line(format!("No login matches {}.", page.origin_label()));
    }
    for (id, kind) in &hits {
        let Some(s) = by_id.get(id) else { continue };
        let never = vault.get(*id).is_ok_and(|item| item.never_autofill);
        let note = if never { "  (never filled in the browser)" } else { "" };
        out.line(format!("{}  [{} match]{note}", summary_line(s), kind.as_str()));
    }
    Ok(())
}

pub fn search(session: &mut Session, query: &str, json: bool, out: &mut Out) -> CliResult {
    let vault = session.unlock()?;
    let index = vault.search_index()?;
    print_summaries(&index.search(query), json, out);
    Ok(())
}

pub fn rm(session: &mut Session, query: &str, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let id = vault.resolve(query, Scope::Live)?;
    vault.trash(id)?;
    report(out, json, id, "Moved to the trash");
    Ok(())
}

pub fn restore(session: &mut Session, query: &str, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let id = vault.resolve(query, Scope::Trash)?;
    vault.restore(id)?;
    report(out, json, id, "Restored from the trash");
    Ok(())
}

pub fn purge(session: &mut Session, args: &PurgeArgs, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    if args.trash {
        let n = vault.empty_trash()?;
        if json {
            out.json(&json!({ "purged": n }));
        } else {
            out.line(format!("Deleted {n} trashed item{} for good.", if n == 1 { "" } else { "s" }));
        }
        return Ok(());
    }
    let query = args.item.as_deref().ok_or_else(|| Failure::usage("purge needs ITEM or --trash"))?;
    let id = vault.resolve(query, Scope::Trash)?;
    vault.purge(id)?;
    report(out, json, id, "Deleted for good");
    Ok(())
}

fn report(out: &mut Out, json: bool, id: ItemId, what: &str) {
    if json {
        out.json(&json!({ "id": id.to_hex() }));
    } else {
        out.line(format!("{what}: {id}"));
    }
}

pub fn totp(session: &mut Session, query: &str, at: Option<u64>, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let id = vault.resolve(query, Scope::Live)?;
    let code = vault.otp_code(id, at)?;
    if json {
        out.json(&json!({ "code": code.code.as_str(), "remaining": code.remaining }));
    } else {
        out.line(code.code.as_str());
    }
    Ok(())
}

/// One item in the `show --json` shape, as `add --from-json` reads it.
/// Read-only parts of that shape (id, dates, attachments, history) are
/// accepted and ignored; anything else unknown is an error, so a typo
/// never drops data silently.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonItem {
    #[serde(rename = "type", default)]
    item_type: Option<String>,
    title: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    urls: Vec<String>,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    otp: Option<String>,
    #[serde(default)]
    fields: Vec<JsonField>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    folder: String,
    #[serde(default)]
    favourite: bool,
    #[serde(default)]
    never_autofill: bool,
    #[serde(default)]
    never_for_agents: bool,
    #[serde(default)]
    ssh_agent: Option<bool>,
    #[serde(default)]
    agent_approval: Option<String>,
    #[serde(default)]
    expires: Option<String>,
    #[serde(default, rename = "id")]
    _id: Option<Value>,
    #[serde(default, rename = "created")]
    _created: Option<Value>,
    #[serde(default, rename = "updated")]
    _updated: Option<Value>,
    #[serde(default, rename = "attachments")]
    _attachments: Option<Value>,
    #[serde(default, rename = "history")]
    _history: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonField {
    name: String,
    value: Option<String>,
    #[serde(default)]
    protected: bool,
}

fn items_from_json(file: &Path, session: &Session) -> CliResult<Vec<Item>> {
    let mut input = Zeroizing::new(Vec::new());
    let read = if file == Path::new("-") {
        if session.stdin_taken() {
            return Err(Failure::usage("standard input already carries the master password; give --from-json a file"));
        }
        std::io::stdin().take(MAX_JSON_INPUT + 1).read_to_end(&mut input)
    } else {
        std::fs::File::open(file)
            .and_then(|f| f.take(MAX_JSON_INPUT + 1).read_to_end(&mut input))
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
        Ok(input.len())
    };
    read.map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
    if input.len() as u64 > MAX_JSON_INPUT {
        return Err(Failure::usage("the JSON input is larger than 256 MiB"));
    }
    let value: Value =
        serde_json::from_slice(&input).map_err(|e| Failure::usage(format!("--from-json: {}", json_error(&e))))?;
    let values = match value {
        Value::Array(v) => v,
        v @ Value::Object(_) => vec![v],
        _ => return Err(Failure::usage("--from-json takes an item object or an array of them")),
    };
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let parsed: JsonItem = serde_json::from_value(v)
                .map_err(|e| Failure::usage(format!("--from-json item {}: {}", i + 1, json_error(&e))))?;
            json_to_item(parsed).map_err(|e| Failure::usage(format!("--from-json item {}: {}", i + 1, e.message)))
        })
        .collect()
}

/// serde_json's message without the values it quotes: `invalid type:
/// string "hunter2", expected a boolean` must not print a password put
/// under the wrong key. An unknown key's name is kept (it points at a
/// typo); every quoted value becomes `…`.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default();
        return format!("unknown key `{key}` (the keys are those of `show --json`)");
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest[open..].chars().next().unwrap_or('"');
        let Some(close) = rest[open + 1..].find(quote) else { break };
        out.push_str(&rest[..open]);
        out.push('…');
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

fn json_to_item(j: JsonItem) -> CliResult<Item> {
    let item_type = j.item_type.as_deref().unwrap_or("login").parse::<ItemType>().map_err(Failure::usage)?;
    let mut item = Item::new(item_type, j.title);
    item.username = j.username;
    item.password = j.password.unwrap_or_default();
    item.urls = j.urls;
    item.notes = j.notes;
    if let Some(uri) = j.otp.filter(|u| !u.trim().is_empty()) {
        Otp::parse_uri(&uri).map_err(|e| Failure::usage(format!("otp: {e}")))?;
        item.otp = Some(uri);
    }
    for f in j.fields {
        let value = f.value.ok_or_else(|| {
            Failure::usage(format!(
                "field {:?} has no value (`show --json` hides protected values unless --reveal)",
                f.name
            ))
        })?;
        item.fields.push(Field { name: f.name.clone(), value, protected: f.protected });
    }
    item.tags = j.tags;
    item.folder = j.folder;
    item.favourite = j.favourite;
    item.never_autofill = j.never_autofill;
    item.never_for_agents = j.never_for_agents;
    if let Some(on) = j.ssh_agent {
        item.ssh_agent = on;
    }
    if let Some(approval) = j.agent_approval {
        item.agent_approval = approval.parse().map_err(Failure::usage)?;
    }
    item.expires = j.expires.as_deref().map(parse_date).transpose()?;
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_do_not_repeat_values() {
        let cases = [
            r#"{"title": "t", "favourite": "hunter2-secret"}"#,
            r#"{"title": "t", "password": 424242424242}"#,
            r#"{"title": "t", "fields": [{"name": "n", "value": "v", "protected": "hunter2-secret"}]}"#,
        ];
        for case in cases {
            let v: Value = serde_json::from_str(case).unwrap();
            let e = serde_json::from_value::<JsonItem>(v).map(|_| ()).unwrap_err();
            let shown = json_error(&e);
            assert!(!shown.contains("hunter2") && !shown.contains("424242"), "{shown}");
            assert!(shown.contains("invalid type"), "{shown}");
        }
        let v: Value = serde_json::from_str(r#"{"title": "t", "pasword": "hunter2"}"#).unwrap();
        let shown = json_error(&serde_json::from_value::<JsonItem>(v).map(|_| ()).unwrap_err());
        assert_eq!(shown, "unknown key `pasword` (the keys are those of `show --json`)");
    }
}
