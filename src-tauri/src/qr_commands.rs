//! The editor's "Scan QR code from screen" and "From image file…": the
//! one-time passwords of a QR code, for the TOTP field (ui/API.md).
//!
//! Each account comes back as the `otpauth://` URI the editor's TOTP field
//! holds, as `get_item_for_edit` gives it: a secret on its way into the
//! draft, which the UI drops when the editor closes. Nothing is stored
//! here; the user saves the item (or the new items) as usual.
//!
//! Sharing's "Scan their QR code" (`crate::sharing`) reads the screen and
//! picture files through the same helpers.

use std::io::Read;
use std::path::Path;

use serde::Serialize;
use tauri::AppHandle;
use tauri_plugin_dialog::DialogExt;
use tessera_interop::qr::{self, ScanError, Scanned};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::commands::run;
use crate::desktop::Desktop;
use crate::error::{CommandError, CommandResult};
use crate::screen::{self, ScreenError};

/// One account of a QR code, for the editor.
#[derive(Serialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub struct ScannedAccount {
    /// What a new item of its own is titled: issuer, else account.
    pub title: String,
    pub issuer: Option<String>,
    pub account: Option<String>,
    /// The canonical otpauth:// URI, for the draft's `otp`.
    pub otp: String,
}

/// What a scan found: every account (a migration code holds several) and
/// why any it named could not be used.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QrScan {
    pub accounts: Vec<ScannedAccount>,
    /// One sentence per left-out account; never a secret.
    pub skipped: Vec<String>,
}

impl From<Scanned> for QrScan {
    fn from(scanned: Scanned) -> Self {
        QrScan {
            accounts: scanned
                .accounts
                .into_iter()
                .map(|a| ScannedAccount {
                    title: a.title.clone(),
                    issuer: a.issuer.clone(),
                    account: a.account.clone(),
                    otp: a.uri.as_str().to_owned(),
                })
                .collect(),
            skipped: scanned.skipped.into_iter().map(|s| s.reason).collect(),
        }
    }
}

pub(crate) fn scan_error(e: ScanError) -> CommandError {
    CommandError::invalid(e.to_string())
}

pub(crate) fn screen_error(e: ScreenError) -> CommandError {
    match e {
        ScreenError::Scan(e) => scan_error(e),
        ScreenError::Unavailable { .. } => CommandError::invalid(e.to_string()),
        ScreenError::Capture(_) | ScreenError::PixelFormat(_) | ScreenError::TimedOut => {
            CommandError::io(e.to_string())
        }
    }
}

/// A locked app reads no screen and no picture.
pub(crate) fn require_unlocked(d: &Desktop) -> CommandResult<()> {
    if d.is_unlocked() { Ok(()) } else { Err(CommandError::locked()) }
}

#[tauri::command]
pub async fn totp_scan_screen(app: AppHandle) -> CommandResult<QrScan> {
    run(&app, false, |d, _| {
        require_unlocked(d)?;
        screen::scan_screen().map(QrScan::from).map_err(screen_error)
    })
    .await
}

#[tauri::command]
pub async fn pick_qr_image(app: AppHandle) -> CommandResult<Option<String>> {
    run(&app, false, |d, app| {
        require_unlocked(d)?;
        let picked = app
            .dialog()
            .file()
            .set_title("A picture of the QR code")
            .add_filter("PNG or JPEG picture", &["png", "jpg", "jpeg"])
            .blocking_pick_file();
        let Some(file) = picked else { return Ok(None) };
        let path = file.into_path().map_err(|_| CommandError::invalid("That file cannot be read"))?;
        Ok(Some(path.display().to_string()))
    })
    .await
}

#[tauri::command]
pub async fn totp_scan_file(app: AppHandle, path: String) -> CommandResult<QrScan> {
    run(&app, false, move |d, _| {
        require_unlocked(d)?;
        let bytes = read_picture(Path::new(&path))?;
        qr::scan_image(&bytes).map(QrScan::from).map_err(scan_error)
    })
    .await
}

/// The file's bytes, refusing one over [`qr::MAX_IMAGE_FILE`] before
/// reading it (and reading no more than that if it grows meanwhile).
pub(crate) fn read_picture(path: &Path) -> CommandResult<zeroize::Zeroizing<Vec<u8>>> {
    let cannot = |e: std::io::Error| CommandError::io(format!("Cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(cannot)?;
    if file.metadata().map_err(cannot)?.len() > qr::MAX_IMAGE_FILE {
        return Err(scan_error(ScanError::FileTooLarge));
    }
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    file.take(qr::MAX_IMAGE_FILE + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > qr::MAX_IMAGE_FILE {
        return Err(scan_error(ScanError::FileTooLarge));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn a_scan_reaches_the_ui_in_camel_case_with_the_uri_as_otp() {
        let texts = [zeroize::Zeroizing::new(
            "otpauth://totp/Mail:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Mail".to_owned(),
        )];
        let scan = QrScan::from(qr::otp_accounts(&texts).unwrap());
        let json = serde_json::to_value(&scan).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "accounts": [{
                    "title": "Mail",
                    "issuer": "Mail",
                    "account": "alice@example.com",
                    "otp": "otpauth://totp/Mail:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Mail",
                }],
                "skipped": [],
            })
        );
    }

    #[test]
    fn a_file_over_the_limit_is_refused_unread_and_a_missing_one_named() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("huge.png");
        // Sparse: the size is what counts, not the bytes.
        std::fs::File::create(&big).unwrap().set_len(qr::MAX_IMAGE_FILE + 1).unwrap();
        let err = read_picture(&big).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid);
        assert!(err.message.contains("larger than 64 MB"), "{}", err.message);
        let missing = dir.path().join("nothing-here.png");
        let err = read_picture(&missing).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Io);
        assert!(err.message.contains("nothing-here.png"), "{}", err.message);
    }

    #[test]
    fn scan_and_screen_errors_map_to_kinds_the_ui_shows() {
        assert_eq!(scan_error(ScanError::NotOtp).kind, ErrorKind::Invalid);
        let unavailable = screen_error(ScreenError::Unavailable { why: "in a Wayland session" });
        assert_eq!(unavailable.kind, ErrorKind::Invalid);
        assert!(unavailable.message.starts_with("Scanning the screen is not available"), "{}", unavailable.message);
        assert_eq!(screen_error(ScreenError::TimedOut).kind, ErrorKind::Io);
        assert_eq!(screen_error(ScreenError::Scan(ScanError::NoCode)).kind, ErrorKind::Invalid);
    }
}
