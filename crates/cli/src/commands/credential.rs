//! `tessera credential get|store|erase`: git's credential helper protocol
//! (`git config credential.helper '!tessera credential'`), logins found by
//! the same URL matcher the browser uses.
//!
//! git writes `key=value` lines (protocol, host, path, username, password)
//! and a blank line; `get` answers `username=` and `password=` lines, or
//! nothing when no login matches (git then asks the user). `store` saves a
//! login git used successfully: the matching login of that username gets
//! the new password (the old one goes to its history), or a new login is
//! made in the folder `Git`. `erase` — git found a login refused — deletes
//! nothing: a password manager does not throw a password away because one
//! server said no; the user decides.

use std::collections::HashMap;
use std::io::Read;

use tessera_core::{Item, ItemType, Scope, SearchIndex};
use tessera_sites::{Page, Policy, SiteIndex};

use crate::cli::CredentialAction;
use crate::exit::{CliResult, Failure};
use crate::output::Out;
use crate::session::Session;

/// Folder for logins git stores.
const GIT_FOLDER: &str = "Git";

pub fn credential(session: &mut Session, action: CredentialAction, out: &mut Out) -> CliResult {
    let mut input = zeroize::Zeroizing::new(Vec::new());
    std::io::stdin().take(64 * 1024).read_to_end(&mut input).map_err(|e| Failure::usage(e.to_string()))?;
    let text = String::from_utf8_lossy(&input);
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once('=') {
            fields.insert(k, v);
        }
    }
    if action == CredentialAction::Erase {
        return Ok(());
    }
    let (Some(protocol), Some(host)) = (fields.get("protocol"), fields.get("host")) else {
        // Nothing git could use: say nothing, as a helper that knows nothing.
        return Ok(());
    };
    let path = fields.get("path").copied().unwrap_or_default();
    let url = format!("{protocol}://{host}/{path}");
    let Ok(page) = Page::parse(&url) else { return Ok(()) };
    let username = fields.get("username").copied();

    let mut vault = session.unlock()?;
    let index = SearchIndex::new(vault.summaries(Scope::Live)?);
    let logins = index.all().iter().filter(|s| s.item_type == ItemType::Login);
    let sites = SiteIndex::new(logins.map(|s| (s.id, s.urls.iter())));
    let mut matches = Vec::new();
    for (id, _) in sites.lookup(&page, &Policy::default()) {
        let item = vault.get(id)?;
        if username.is_some_and(|u| u != item.username) {
            continue;
        }
        matches.push(item);
    }
    match action {
        CredentialAction::Get => {
            if let Some(item) = matches.first() {
                let clean = |s: &str| !s.contains(['\n', '\0']);
                if !item.username.is_empty() && clean(&item.username) {
                    out.line(format!("username={}", item.username));
                }
                if !item.password.is_empty() && clean(&item.password) {
                    out.line(format!("password={}", item.password));
                }
            }
        }
        CredentialAction::Store => {
            let (Some(username), Some(password)) = (username, fields.get("password").copied()) else {
                return Ok(());
            };
            match matches.first() {
                Some(item) if item.password == password => {}
                Some(item) => {
                    vault.update(item.id, |i| {
                        i.password = password.to_owned();
                        Ok(())
                    })?;
                }
                None => {
                    let mut item = Item::new(ItemType::Login, host.to_string());
                    item.username = username.to_owned();
                    item.password = password.to_owned();
                    item.urls = vec![if path.is_empty() { format!("{protocol}://{host}") } else { url.clone() }];
                    item.folder = GIT_FOLDER.to_owned();
                    vault.add(vec![item])?;
                }
            }
        }
        CredentialAction::Erase => {}
    }
    Ok(())
}
