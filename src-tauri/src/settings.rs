//! App settings and the remembered vault path, kept outside the vault in
//! `$XDG_CONFIG_HOME/tessera/desktop.json` so they are readable while
//! locked. Nothing secret is stored here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{CommandError, CommandResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    System,
    Light,
    Dark,
}

/// ui/API.md `Settings`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub auto_lock_minutes: u32,
    pub lock_on_sleep: bool,
    pub lock_on_screen_lock: bool,
    pub clipboard_clear_seconds: u32,
    pub theme: Theme,
    pub quick_access_shortcut: String,
    /// The global shortcut that auto-types into the focused window (X11).
    pub auto_type_shortcut: String,
    /// Serve the KeePassXC-Browser extension (off until the user turns it on).
    pub browser_integration: bool,
    /// Offer https logins on http pages of the same host.
    pub browser_allow_http: bool,
    /// Folder for logins saved from the browser.
    pub browser_save_folder: String,
    /// Serve the SSH agent's socket (keys only while unlocked).
    pub ssh_agent: bool,
    /// Closing the main window keeps the app running in the tray (locked,
    /// it then holds no web view at all) instead of quitting.
    pub close_to_tray: bool,
}

pub const DEFAULT_SHORTCUT: &str = "Ctrl+Shift+Space";
/// KeePassXC's global auto-type shortcut.
pub const DEFAULT_AUTO_TYPE_SHORTCUT: &str = "Ctrl+Alt+A";

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auto_lock_minutes: 5,
            lock_on_sleep: true,
            lock_on_screen_lock: true,
            clipboard_clear_seconds: 20,
            theme: Theme::System,
            quick_access_shortcut: DEFAULT_SHORTCUT.to_owned(),
            auto_type_shortcut: DEFAULT_AUTO_TYPE_SHORTCUT.to_owned(),
            browser_integration: false,
            browser_allow_http: false,
            browser_save_folder: "Browser".to_owned(),
            ssh_agent: true,
            close_to_tray: false,
        }
    }
}

impl Settings {
    /// Range checks; the shortcut is checked by the caller, which can try
    /// to register it.
    pub fn validate(&self) -> CommandResult<()> {
        if self.auto_lock_minutes > 24 * 60 {
            return Err(CommandError::invalid("Auto-lock can be at most 1440 minutes (a day)"));
        }
        if self.clipboard_clear_seconds > 3600 {
            return Err(CommandError::invalid("The clipboard timeout can be at most 3600 seconds"));
        }
        if self.quick_access_shortcut.trim().is_empty() {
            return Err(CommandError::invalid("The Quick Access shortcut is empty"));
        }
        if self.auto_type_shortcut.trim().is_empty() {
            return Err(CommandError::invalid("The auto-type shortcut is empty"));
        }
        if self.auto_type_shortcut.trim().eq_ignore_ascii_case(self.quick_access_shortcut.trim()) {
            return Err(CommandError::invalid("Quick Access and auto-type need two different shortcuts"));
        }
        if self.browser_save_folder.len() > 1024 {
            return Err(CommandError::invalid("The folder for logins saved from the browser is too long"));
        }
        Ok(())
    }
}

/// What the file holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Config {
    pub vault_path: Option<PathBuf>,
    pub settings: Settings,
}

/// Where the config and the default vault live.
#[derive(Clone, Debug)]
pub struct Paths {
    pub config_file: PathBuf,
    pub default_vault: PathBuf,
}

impl Paths {
    /// `$TESSERA_VAULT` overrides the default vault path, as for the CLI.
    pub fn from_environment() -> Paths {
        let dirs = directories::ProjectDirs::from("", "", "tessera");
        let config_dir = dirs.as_ref().map(|d| d.config_dir().to_path_buf()).unwrap_or_else(|| PathBuf::from("."));
        let default_vault =
            std::env::var_os("TESSERA_VAULT").filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or_else(|| {
                dirs.as_ref()
                    .map(|d| d.data_dir().join("vault.tessera"))
                    .unwrap_or_else(|| PathBuf::from("vault.tessera"))
            });
        Paths { config_file: config_dir.join("desktop.json"), default_vault }
    }
}

impl Config {
    /// Reads the file; a missing file is the defaults. A damaged one is
    /// reported to stderr and replaced by defaults on the next save, never
    /// a reason not to start.
    pub fn load(path: &Path) -> Config {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                eprintln!("tessera-desktop: ignoring {} (not valid settings: {e})", path.display());
                Config::default()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
            Err(e) => {
                eprintln!("tessera-desktop: cannot read {}: {e}", path.display());
                Config::default()
            }
        }
    }

    /// Writes atomically (temp file, fsync, rename) so a crash leaves the
    /// old or the new file, never half of one.
    pub fn save(&self, path: &Path) -> CommandResult<()> {
        let fail = |e: std::io::Error| CommandError::io(format!("Cannot save the settings to {}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let temp = path.with_extension(format!("json.{}.partial", std::process::id()));
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| CommandError::internal(e.to_string()))?;
        let result = (|| {
            use std::io::Write;
            let mut f = std::fs::File::create(&temp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&temp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result.map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_fill_missing_keys_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub/desktop.json");
        assert_eq!(Config::load(&file), Config::default());
        let mut c = Config { vault_path: Some(dir.path().join("v.tessera")), ..Config::default() };
        c.settings.clipboard_clear_seconds = 7;
        c.save(&file).unwrap();
        assert_eq!(Config::load(&file), c);
        std::fs::write(&file, br#"{"settings":{"theme":"dark"}}"#).unwrap();
        let loaded = Config::load(&file);
        assert_eq!(loaded.settings.theme, Theme::Dark);
        assert_eq!(loaded.settings.clipboard_clear_seconds, 20);
        std::fs::write(&file, b"{not json").unwrap();
        assert_eq!(Config::load(&file), Config::default());
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        let s = Settings { auto_lock_minutes: 100_000, ..Settings::default() };
        assert!(s.validate().is_err());
        let s = Settings { quick_access_shortcut: " ".into(), ..Settings::default() };
        assert!(s.validate().is_err());
        assert!(Settings::default().validate().is_ok());
    }
}
