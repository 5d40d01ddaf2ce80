//! Native-messaging manifests: the small JSON files that tell a browser
//! which program to start for the extension's host name.
//!
//! The host name is KeePassXC-Browser's, `org.keepassxc.keepassxc_browser`
//! — the extension asks for no other — so Tessera's manifest and
//! KeePassXC's occupy the same file. Installing over KeePassXC's keeps a
//! copy beside it (`….json.keepassxc`) and says so; `status` reports which
//! program each browser would start.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// The host name the extension connects to.
pub const HOST_NAME: &str = "org.keepassxc.keepassxc_browser";
/// The extension's id in Firefox.
pub const FIREFOX_EXTENSION: &str = "keepassxc-browser@keepassxc.org";
/// The extension's origins in the Chrome Web Store and Edge Add-ons.
pub const CHROMIUM_EXTENSIONS: [&str; 2] =
    ["chrome-extension://oboonakemofpalcgghocfoadofidjkkk/", "chrome-extension://pdffhmdngciaglkoonimfcmckehcpafo/"];
/// The file name of the host binary.
pub const HOST_BINARY: &str = "tessera-browser-host";
/// What the manifest's `description` says, so `status` knows its own.
const DESCRIPTION: &str = "Tessera: serves the KeePassXC-Browser extension";

/// A browser Tessera can install a manifest for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Browser {
    /// Firefox (and Firefox ESR).
    Firefox,
    /// Chromium.
    Chromium,
    /// Google Chrome.
    Chrome,
    /// Brave.
    Brave,
}

impl Browser {
    /// Every supported browser.
    pub const ALL: [Browser; 4] = [Browser::Firefox, Browser::Chromium, Browser::Chrome, Browser::Brave];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Browser::Firefox => "firefox",
            Browser::Chromium => "chromium",
            Browser::Chrome => "chrome",
            Browser::Brave => "brave",
        }
    }

    /// Parses a command-line name.
    pub fn parse(name: &str) -> Option<Browser> {
        Browser::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The user's manifest directory for this browser.
    pub fn manifest_dir(self, home: &Path, config: &Path) -> PathBuf {
        match self {
            Browser::Firefox => home.join(".mozilla/native-messaging-hosts"),
            Browser::Chromium => config.join("chromium/NativeMessagingHosts"),
            Browser::Chrome => config.join("google-chrome/NativeMessagingHosts"),
            Browser::Brave => config.join("BraveSoftware/Brave-Browser/NativeMessagingHosts"),
        }
    }

    /// System-wide manifest directories the browser also reads (packages
    /// put manifests there).
    pub fn system_dirs(self) -> &'static [&'static str] {
        match self {
            Browser::Firefox => {
                &["/usr/lib/mozilla/native-messaging-hosts", "/usr/lib64/mozilla/native-messaging-hosts"]
            }
            Browser::Chromium => &["/etc/chromium/native-messaging-hosts"],
            Browser::Chrome => &["/etc/opt/chrome/native-messaging-hosts"],
            Browser::Brave => &["/etc/opt/chrome/native-messaging-hosts"],
        }
    }

    /// The manifest pointing at `host`.
    pub fn manifest(self, host: &Path) -> Value {
        let mut m = json!({
            "name": HOST_NAME,
            "description": DESCRIPTION,
            "path": host,
            "type": "stdio",
        });
        match self {
            Browser::Firefox => m["allowed_extensions"] = json!([FIREFOX_EXTENSION]),
            _ => m["allowed_origins"] = json!(CHROMIUM_EXTENSIONS),
        }
        m
    }
}

/// Where the user's directories are.
#[derive(Clone, Debug)]
pub struct Homes {
    /// `$HOME`.
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME`, else `~/.config`.
    pub config: PathBuf,
}

impl Homes {
    /// From the environment.
    pub fn from_env() -> Option<Homes> {
        let home = PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?);
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|c| !c.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".config"));
        Some(Homes { home, config })
    }

    /// The user manifest's path for `browser`.
    pub fn manifest_path(&self, browser: Browser) -> PathBuf {
        browser.manifest_dir(&self.home, &self.config).join(format!("{HOST_NAME}.json"))
    }
}

/// What a manifest file says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Manifest {
    /// No file.
    Missing,
    /// Tessera's, starting `host` (which may no longer exist).
    Tessera {
        /// The host program.
        host: PathBuf,
    },
    /// Another program's — KeePassXC's `keepassxc-proxy`, usually.
    Other {
        /// The program it starts.
        program: String,
    },
    /// A file that is not a readable manifest.
    Unreadable,
}

/// Reads the manifest at `path`.
pub fn read_manifest(path: &Path) -> Manifest {
    let Ok(bytes) = std::fs::read(path) else { return Manifest::Missing };
    let Ok(v) = serde_json::from_slice::<Value>(&bytes) else { return Manifest::Unreadable };
    let program = v["path"].as_str().unwrap_or_default().to_owned();
    if v["description"] == DESCRIPTION || program.ends_with(HOST_BINARY) {
        Manifest::Tessera { host: PathBuf::from(program) }
    } else {
        Manifest::Other { program }
    }
}

/// One browser's state, for `tessera browser status`.
#[derive(Clone, Debug)]
pub struct BrowserStatus {
    /// The browser.
    pub browser: Browser,
    /// The user manifest's path.
    pub path: PathBuf,
    /// What it says.
    pub manifest: Manifest,
    /// System-wide manifests of the same name (which the user's overrides).
    pub system: Vec<(PathBuf, Manifest)>,
}

impl BrowserStatus {
    /// Whether a manifest of another program (KeePassXC's) is present,
    /// here or system-wide.
    pub fn other_host(&self) -> Option<(&Path, &str)> {
        std::iter::once((self.path.as_path(), &self.manifest))
            .chain(self.system.iter().map(|(p, m)| (p.as_path(), m)))
            .find_map(|(p, m)| match m {
                Manifest::Other { program } => Some((p, program.as_str())),
                _ => None,
            })
    }
}

/// Every browser's manifests.
pub fn status(homes: &Homes) -> Vec<BrowserStatus> {
    Browser::ALL
        .into_iter()
        .map(|browser| {
            let path = homes.manifest_path(browser);
            let system = browser
                .system_dirs()
                .iter()
                .map(|d| Path::new(d).join(format!("{HOST_NAME}.json")))
                .filter(|p| p.exists())
                .map(|p| {
                    let m = read_manifest(&p);
                    (p, m)
                })
                .collect();
            BrowserStatus { browser, manifest: read_manifest(&path), path, system }
        })
        .collect()
}

/// What installing one manifest did.
#[derive(Clone, Debug)]
pub struct Installed {
    /// The browser.
    pub browser: Browser,
    /// The manifest written.
    pub path: PathBuf,
    /// Where another program's manifest was kept, if one was replaced.
    pub kept: Option<(PathBuf, String)>,
}

/// Writes the manifest for each of `browsers`, pointing at `host`.
pub fn install(homes: &Homes, browsers: &[Browser], host: &Path) -> io::Result<Vec<Installed>> {
    let mut done = Vec::new();
    for &browser in browsers {
        let path = homes.manifest_path(browser);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let kept = match read_manifest(&path) {
            Manifest::Other { program } => {
                let backup = path.with_extension("json.keepassxc");
                std::fs::rename(&path, &backup)?;
                Some((backup, program))
            }
            _ => None,
        };
        let body = serde_json::to_vec_pretty(&browser.manifest(host)).expect("JSON serialises");
        let temp = path.with_extension("json.tmp");
        std::fs::write(&temp, body)?;
        std::fs::rename(&temp, &path)?;
        done.push(Installed { browser, path, kept });
    }
    Ok(done)
}

/// Removes Tessera's manifests (and puts back a kept KeePassXC one).
pub fn uninstall(homes: &Homes, browsers: &[Browser]) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for &browser in browsers {
        let path = homes.manifest_path(browser);
        if let Manifest::Tessera { .. } = read_manifest(&path) {
            std::fs::remove_file(&path)?;
            let backup = path.with_extension("json.keepassxc");
            if backup.exists() {
                std::fs::rename(&backup, &path)?;
            }
            removed.push(path);
        }
    }
    Ok(removed)
}

/// The installed host program: beside the running program (a build
/// directory, or `/usr/bin` for the package), else on `PATH`.
pub fn find_host() -> Option<PathBuf> {
    let beside = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join(HOST_BINARY)));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).map(|d| d.join(HOST_BINARY)).collect::<Vec<_>>());
    beside.into_iter().chain(on_path).chain([PathBuf::from("/usr/bin").join(HOST_BINARY)]).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn homes(dir: &Path) -> Homes {
        Homes { home: dir.join("home"), config: dir.join("config") }
    }

    #[test]
    fn install_writes_each_browsers_manifest_and_status_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let h = homes(dir.path());
        let host = dir.path().join("bin/tessera-browser-host");
        install(&h, &Browser::ALL, &host).unwrap();
        let firefox: Value =
            serde_json::from_slice(&std::fs::read(h.manifest_path(Browser::Firefox)).unwrap()).unwrap();
        assert_eq!(firefox["allowed_extensions"], json!([FIREFOX_EXTENSION]));
        assert_eq!(firefox["type"], "stdio");
        let chromium: Value =
            serde_json::from_slice(&std::fs::read(h.manifest_path(Browser::Chromium)).unwrap()).unwrap();
        assert_eq!(chromium["allowed_origins"][0], CHROMIUM_EXTENSIONS[0]);
        assert!(
            h.manifest_path(Browser::Firefox)
                .ends_with(".mozilla/native-messaging-hosts/org.keepassxc.keepassxc_browser.json")
        );
        for s in status(&h) {
            assert_eq!(s.manifest, Manifest::Tessera { host: host.clone() });
        }
    }

    #[test]
    fn keepassxcs_manifest_is_kept_and_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let h = homes(dir.path());
        let path = h.manifest_path(Browser::Firefox);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, br#"{"name":"org.keepassxc.keepassxc_browser","path":"/usr/bin/keepassxc-proxy"}"#)
            .unwrap();
        let s = &status(&h)[0];
        assert_eq!(s.other_host().map(|(_, p)| p), Some("/usr/bin/keepassxc-proxy"));
        let done = install(&h, &[Browser::Firefox], Path::new("/opt/tessera-browser-host")).unwrap();
        assert_eq!(done[0].kept.as_ref().map(|(_, p)| p.as_str()), Some("/usr/bin/keepassxc-proxy"));
        uninstall(&h, &[Browser::Firefox]).unwrap();
        assert_eq!(read_manifest(&path), Manifest::Other { program: "/usr/bin/keepassxc-proxy".into() });
    }
}
