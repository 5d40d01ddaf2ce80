//! `browser install`, `browser status`: the native-messaging manifests
//! that let a browser start `tessera-browser-host` for the
//! KeePassXC-Browser extension (see `tessera_browser::install`).

use serde_json::json;
use tessera_browser::install::{self, Browser, Homes, Manifest};

use crate::cli::{BrowserChoice, BrowserCommand};
use crate::exit::{CliResult, Failure};
use crate::output::Out;

pub fn browser(command: &BrowserCommand, json: bool, out: &mut Out) -> CliResult {
    let homes =
        Homes::from_env().ok_or_else(|| Failure::other("$HOME is not set; cannot find the browsers' folders"))?;
    match command {
        BrowserCommand::Install { browser } => install(&homes, *browser, json, out),
        BrowserCommand::Status => status(&homes, json, out),
    }
}

fn install(homes: &Homes, choice: BrowserChoice, json: bool, out: &mut Out) -> CliResult {
    let browsers: Vec<Browser> = match choice {
        BrowserChoice::Firefox => vec![Browser::Firefox],
        BrowserChoice::Chromium => vec![Browser::Chromium],
        BrowserChoice::Chrome => vec![Browser::Chrome],
        BrowserChoice::Brave => vec![Browser::Brave],
        BrowserChoice::All => Browser::ALL.to_vec(),
    };
    let host = install::find_host().ok_or_else(|| {
        Failure::other(format!(
            "cannot find {}: it is installed beside `tessera` (build it with `cargo build -p tessera-browser`)",
            install::HOST_BINARY
        ))
    })?;
    let done = install::install(homes, &browsers, &host)
        .map_err(|e| Failure::other(format!("cannot write a native-messaging manifest: {e}")))?;
    if json {
        out.json(&json!({
            "host": host,
            "installed": done.iter().map(|d| json!({
                "browser": d.browser.name(),
                "path": d.path,
                "replaced": d.kept.as_ref().map(|(_, program)| program),
                "kept_as": d.kept.as_ref().map(|(path, _)| path),
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    for d in &done {
        out.line(format!("{:<9} {}", d.browser.name(), d.path.display()));
        if let Some((kept, program)) = &d.kept {
            out.line(format!(
                "          replaced KeePassXC's manifest (it started {program}); kept as {}",
                kept.display()
            ));
        }
    }
    out.line(format!(
        "The browsers now start {} for the KeePassXC-Browser extension. Turn on browser integration in \
         Tessera's Settings → Browsers, then click Connect in the extension.",
        host.display()
    ));
    Ok(())
}

fn status(homes: &Homes, json: bool, out: &mut Out) -> CliResult {
    let all = install::status(homes);
    let socket = tessera_browser::socket_path();
    let app_running = tessera_ipc::connect(&socket).is_ok();
    if json {
        out.json(&json!({
            "socket": socket,
            "app_running": app_running,
            "browsers": all.iter().map(|s| json!({
                "browser": s.browser.name(),
                "path": s.path,
                "installed": matches!(s.manifest, Manifest::Tessera { .. }),
                "host": match &s.manifest { Manifest::Tessera { host } => Some(host), _ => None },
                "host_exists": match &s.manifest { Manifest::Tessera { host } => host.is_file(), _ => false },
                "other_host": s.other_host().map(|(path, program)| json!({ "path": path, "program": program })),
            })).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    for s in &all {
        let state = match &s.manifest {
            Manifest::Missing => "not installed".to_owned(),
            Manifest::Tessera { host } if host.is_file() => format!("installed, starts {}", host.display()),
            Manifest::Tessera { host } => {
                format!("installed, but {} is missing: run `tessera browser install`", host.display())
            }
            Manifest::Other { program } => format!("KeePassXC's host is installed ({program})"),
            Manifest::Unreadable => "a damaged manifest is there".to_owned(),
        };
        out.line(format!("{:<9} {state}  ({})", s.browser.name(), s.path.display()));
        if let Some((path, program)) = s.other_host() {
            out.line(format!(
                "          warning: {} belongs to KeePassXC ({program}); both use the extension's host name, \
                 so only one of them can serve this browser",
                path.display()
            ));
        }
    }
    out.line(if app_running {
        format!("The Tessera app is serving browsers at {}.", socket.display())
    } else {
        "The Tessera app is not serving browsers: start it and turn on Settings → Browsers.".to_owned()
    });
    Ok(())
}
