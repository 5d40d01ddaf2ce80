//! Sharing in the app (DESIGN §11, ui/API.md "Sharing"): the sidebar's
//! shares and invitations, the invite and members dialogs, the editor's
//! "Share" choice and the identity card in Settings.
//!
//! Every check of what the server says — members, roles, keys, the
//! membership chain — is `tessera_sync::client::sharing`'s; this file only
//! runs it on a background session of the vault (`crate::sync`: the window
//! never waits on the server) and shapes the answers. The app keeps no
//! master password after unlocking, so each call rides the stored sync
//! session; an expired one is a `sign_in_needed` error, and the app asks
//! for the password once.

use serde::Serialize;
use tauri::{AppHandle, Emitter, WebviewWindow};
use tessera_core::Vault;
use tessera_sync::client::sharing::{self, Invitation, Invited, MemberInfo, Role, ShareInfo};
use tessera_sync::client::{Credentials, SyncError};

use crate::commands::{changed_elsewhere, run};
use crate::desktop::Desktop;
use crate::dto::parse_id;
use crate::error::{CommandError, CommandResult};

/// The stored session only: there is no password to log in again with.
const SESSION: Credentials<'static> = Credentials { password: None, totp: None };

/// This account's identity, for the Settings card.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityCard {
    pub email: String,
    /// 8 groups of 5 digits.
    pub fingerprint: String,
    /// A QR code of [`qr_payload`], as an SVG document (dark on white,
    /// whatever the theme: scanners want the contrast).
    pub qr_svg: String,
}

/// An accepted invitation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Joined {
    pub share: ShareInfo,
    /// Items that arrived with it.
    pub pulled: u64,
}

/// Where an item went, and whether the move reached the server yet.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareMove {
    /// The share's name; `None`: the account's own items.
    pub share: Option<String>,
    /// The sync that carries the move went through.
    pub synced: bool,
    /// Why it did not (the move stays queued for the next sync).
    pub message: Option<String>,
}

/// What the identity QR code says: `tessera-identity:EMAIL:DIGITS`, the
/// fingerprint's 40 digits without spaces, so a phone reading it compares
/// the same digits people read aloud.
pub fn qr_payload(email: &str, fingerprint: &str) -> String {
    let digits: String = fingerprint.chars().filter(char::is_ascii_digit).collect();
    format!("tessera-identity:{email}:{digits}")
}

pub(crate) fn qr_svg(payload: &str) -> CommandResult<String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::new(payload.as_bytes())
        .map_err(|e| CommandError::internal(format!("Cannot draw the QR code: {e}")))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

/// Runs a sharing call that changes no item on the unlocked vault.
fn on_vault<T>(d: &Desktop, f: impl FnOnce(&mut Vault) -> Result<T, SyncError>) -> CommandResult<T> {
    crate::sync::on_network_session(d, false, f)
}

/// Runs a sharing call that may change items (joining pulls them, leaving
/// re-tags them); the list is rebuilt after it.
fn changing<T>(d: &Desktop, f: impl FnOnce(&mut Vault) -> Result<T, SyncError>) -> CommandResult<T> {
    crate::sync::on_network_session(d, true, f)
}

/// Every window's list shows the change, the caller's too.
fn items_changed(app: &AppHandle) {
    let _ = app.emit("vault-changed", serde_json::json!({ "ids": [] }));
    crate::tray::refresh(app);
}

fn role(text: &str) -> CommandResult<Role> {
    Role::parse(text).ok_or_else(|| CommandError::invalid("The role is read, write or manage"))
}

#[tauri::command]
pub async fn identity_info(app: AppHandle) -> CommandResult<IdentityCard> {
    let me = run(&app, false, |d, _| on_vault(d, |v| sharing::identity(v, &SESSION))).await?;
    let qr_svg = qr_svg(&qr_payload(&me.email, &me.fingerprint))?;
    Ok(IdentityCard { email: me.email, fingerprint: me.fingerprint, qr_svg })
}

#[tauri::command]
pub async fn identity_verify(
    app: AppHandle,
    email: String,
    fingerprint: String,
) -> CommandResult<sharing::IdentityInfo> {
    run(&app, false, move |d, _| on_vault(d, |v| sharing::verify_contact(v, &SESSION, email.trim(), &fingerprint)))
        .await
}

#[tauri::command]
pub async fn share_list(app: AppHandle) -> CommandResult<Vec<ShareInfo>> {
    run(&app, false, |d, _| on_vault(d, |v| sharing::list(v, &SESSION))).await
}

#[tauri::command]
pub async fn share_create(app: AppHandle, name: String, require_verified: bool) -> CommandResult<ShareInfo> {
    run(&app, false, move |d, _| on_vault(d, |v| sharing::create(v, &SESSION, &name, require_verified))).await
}

#[tauri::command]
pub async fn share_invite(app: AppHandle, name: String, email: String, role: String) -> CommandResult<Invited> {
    let role = self::role(&role)?;
    run(&app, false, move |d, _| on_vault(d, |v| sharing::invite(v, &SESSION, &name, email.trim(), role))).await
}

#[tauri::command]
pub async fn share_invitation(app: AppHandle, id: String) -> CommandResult<Invitation> {
    run(&app, false, move |d, _| on_vault(d, |v| sharing::invitation(v, &SESSION, &id))).await
}

#[tauri::command]
pub async fn share_accept(app: AppHandle, id: String) -> CommandResult<Joined> {
    let joined = run(&app, false, move |d, _| {
        changing(d, |v| {
            let (share, report) = sharing::accept(v, &SESSION, &id, &mut |_| {})?;
            Ok(Joined { share, pulled: report.pulled })
        })
    })
    .await?;
    items_changed(&app);
    Ok(joined)
}

#[tauri::command]
pub async fn share_decline(app: AppHandle, id: String) -> CommandResult<String> {
    run(&app, false, move |d, _| changing(d, |v| sharing::leave(v, &SESSION, &id))).await
}

#[tauri::command]
pub async fn share_members(app: AppHandle, name: String) -> CommandResult<Vec<MemberInfo>> {
    run(&app, false, move |d, _| on_vault(d, |v| sharing::members(v, &SESSION, &name))).await
}

#[tauri::command]
pub async fn share_remove(app: AppHandle, name: String, email: String) -> CommandResult<()> {
    run(&app, false, move |d, _| changing(d, |v| sharing::remove(v, &SESSION, &name, &email))).await?;
    items_changed(&app);
    Ok(())
}

#[tauri::command]
pub async fn share_leave(app: AppHandle, name: String) -> CommandResult<String> {
    let left = run(&app, false, move |d, _| changing(d, |v| sharing::leave(v, &SESSION, &name))).await?;
    items_changed(&app);
    Ok(left)
}

/// Puts an item into a share (or back to the account's own items with
/// `None`), then syncs so the move reaches the other members now. A sync
/// that fails leaves the move queued, as every local change is.
#[tauri::command]
pub async fn item_set_share(
    app: AppHandle,
    window: WebviewWindow,
    id: String,
    share: Option<String>,
) -> CommandResult<ShareMove> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        let item = parse_id(&id)?;
        let share = share.filter(|s| !s.is_empty());
        changing(d, |v| sharing::assign(v, &item, share.as_deref()))?;
        let synced = crate::sync::sync_and_wait(d);
        changed_elsewhere(app, &caller, vec![id]);
        Ok(ShareMove { share, synced: synced.is_ok(), message: synced.err().map(|e| e.message) })
    })
    .await
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn the_qr_code_carries_the_email_and_the_fingerprint_digits() {
        let payload = qr_payload("alice@example.org", "01234 56789 01234 56789 01234 56789 01234 56789");
        assert_eq!(payload, "tessera-identity:alice@example.org:0123456789012345678901234567890123456789");
        let svg = qr_svg(&payload).unwrap();
        assert!(svg.contains("<svg") && svg.contains("#ffffff"), "{svg:.80}");
    }

    /// A vault with two items, "Netflix" in share "Family" (where this
    /// account's role is `role`) and "Diary" of its own, as a sync that
    /// joined the share leaves the sync state.
    pub(crate) fn vault_with_a_share(role: &str) -> (tempfile::TempDir, Desktop, String, String) {
        use crate::dto::ItemDraft;
        use crate::settings::Paths;
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            config_file: dir.path().join("config/desktop.json"),
            default_vault: dir.path().join("vault.tessera"),
        };
        let d = Desktop::new(paths);
        d.create_vault(dir.path().join("v.tessera").to_str().unwrap(), "correct horse battery staple 42").unwrap();
        let mut ids = Vec::new();
        for title in ["Netflix", "Diary"] {
            let mut draft = ItemDraft::template(tessera_core::ItemType::Login);
            draft.title = title.into();
            ids.push(d.create_item(&draft).unwrap().id);
        }
        let stream = serde_json::json!({"cursor": 0, "manifest_version": 0, "manifest_count": 0, "manifest_sum": "", "items": {}});
        let state = serde_json::json!({
            "server": "http://127.0.0.1:9", "email": "me@example.org", "account_id": "1", "secret_key": "",
            "salt": "", "kdf": {"algorithm": "argon2id", "memory_kib": 65536, "iterations": 3, "parallelism": 1},
            "device_name": "test", "session": null, "last_sync": null,
            "cursor": 0, "manifest_version": 0, "manifest_count": 0, "manifest_sum": "", "items": {},
            "shares": {"a".repeat(32): {
                "name": "Family", "chain_len": 1, "chain_head": "", "epoch": 1, "key": "", "role": role,
                "members": [ids[0]], "stream": stream,
            }},
        });
        let state: tessera_sync::client::state::SyncState = serde_json::from_value(state).unwrap();
        d.change(|vault| Ok(state.save(vault)?)).unwrap();
        let diary = ids.pop().unwrap();
        (dir, d, ids.pop().unwrap(), diary)
    }

    #[test]
    fn shared_items_carry_their_share_and_the_list_filters_to_one_share() {
        use crate::dto::SearchScope;
        let (_dir, d, netflix, diary) = vault_with_a_share("write");
        let all = d.search_items("", SearchScope::Live, 0, 10).unwrap();
        let marks: Vec<(&str, Option<&str>)> =
            all.items.iter().map(|s| (s.title.as_str(), s.share.as_deref())).collect();
        assert_eq!(marks, [("Diary", None), ("Netflix", Some("Family"))]);
        let family = d.search_in_share("", SearchScope::Live, Some("Family"), 0, 10).unwrap();
        assert_eq!(family.total, 1);
        assert_eq!(family.items[0].id, netflix);
        assert_eq!(d.get_item(&netflix).unwrap().share.as_deref(), Some("Family"));
        assert_eq!(d.get_item(&diary).unwrap().share, None);
        let unknown = d.search_in_share("", SearchScope::Live, Some("Work"), 0, 10).unwrap_err();
        assert_eq!(unknown.kind, crate::error::ErrorKind::NotFound);
    }

    #[test]
    fn a_read_member_cannot_change_a_shared_item_in_the_app() {
        let (_dir, d, netflix, diary) = vault_with_a_share("read");
        let editable = d.get_item_for_edit(&netflix).unwrap();
        let err = d.update_item(&netflix, editable.revision, &editable.draft).unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::Invalid);
        assert!(err.message.contains("read"), "{}", err.message);
        let editable = d.get_item_for_edit(&diary).unwrap();
        d.update_item(&diary, editable.revision, &editable.draft).unwrap();
        // Nor any other change: favourite, trash, attachments, an old version.
        let file = _dir.path().join("note.txt");
        std::fs::write(&file, b"attached").unwrap();
        let refusals = [
            d.set_favourite(&netflix, true).unwrap_err(),
            d.trash_item(&netflix).unwrap_err(),
            d.purge_item(&netflix).unwrap_err(),
            d.add_attachment(&netflix, &file).unwrap_err(),
            d.remove_attachment(&netflix, "note.txt").unwrap_err(),
            d.restore_version(&netflix, 1).unwrap_err(),
        ];
        for err in refusals {
            assert!(err.message.contains("role in share \"Family\" is read"), "{}", err.message);
        }
        assert!(!d.get_item(&netflix).unwrap().favourite);
        // The personal item is the user's own.
        d.set_favourite(&diary, true).unwrap();
        d.trash_item(&diary).unwrap();
    }

    #[test]
    fn a_role_is_read_write_or_manage() {
        assert_eq!(role("write").unwrap(), Role::Write);
        assert_eq!(role("owner").unwrap_err().message, "The role is read, write or manage.");
    }
}
