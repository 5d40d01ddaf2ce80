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

use std::path::Path;

use serde::Serialize;
use tauri::{AppHandle, Emitter, WebviewWindow};
use tessera_core::Vault;
use tessera_interop::qr;
use tessera_sync::client::sharing::{self, Invitation, Invited, MemberInfo, Role, ShareInfo};
use tessera_sync::client::{Credentials, SyncError};

use crate::commands::{changed_elsewhere, run};
use crate::desktop::Desktop;
use crate::dto::parse_id;
use crate::error::{CommandError, CommandResult};
use crate::qr_commands::{read_picture, require_unlocked, scan_error, screen_error};
use crate::screen;

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
    format!("{QR_PREFIX}{email}:{digits}")
}

const QR_PREFIX: &str = "tessera-identity:";

/// Longest email a code may name (RFC 5321's path limit, less the brackets).
const MAX_EMAIL: usize = 254;

/// A person's identity as their QR code states it: what [`qr_payload`]
/// wrote, read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityCode {
    pub email: String,
    /// The fingerprint's 40 digits, without spaces.
    pub digits: String,
}

/// Why a QR code's text is not an identity code to verify against.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityCodeError {
    /// Another kind of QR code (a one-time password, a web link, …).
    #[error("this is not a Tessera identity code: ask them for the QR code in their app's Settings → Sharing identity")]
    NotIdentity,
    /// `tessera-identity:` followed by something [`qr_payload`] never writes.
    #[error("this Tessera identity code is damaged: {0}; ask them to show it again")]
    Damaged(&'static str),
}

/// Reads `tessera-identity:EMAIL:DIGITS` strictly: exactly that prefix, one
/// email (no spaces, no colon, an `@` inside) and exactly 40 digits.
/// Anything looser would let a code that only resembles one verify a key.
/// Errors never repeat the text: a QR code that is not an identity may
/// hold a secret.
pub fn parse_identity_code(text: &str) -> Result<IdentityCode, IdentityCodeError> {
    let rest = text.strip_prefix(QR_PREFIX).ok_or(IdentityCodeError::NotIdentity)?;
    let (email, digits) = rest.split_once(':').ok_or(IdentityCodeError::Damaged("it holds no fingerprint"))?;
    let email_ok = email.len() <= MAX_EMAIL
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || c == ':')
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if !email_ok {
        return Err(IdentityCodeError::Damaged("it holds no valid email"));
    }
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdentityCodeError::Damaged("its fingerprint is not 40 digits"));
    }
    Ok(IdentityCode { email: email.to_owned(), digits: digits.to_owned() })
}

/// What "Scan their QR code" came to.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum IdentityScan {
    /// The code's person is verified: their published key has the code's
    /// fingerprint.
    Verified { email: String, fingerprint: String },
    /// Codes of several people and no email asked for: the UI asks whose,
    /// then scans again for that email.
    Choose { emails: Vec<String> },
}

/// Which code of a picture to verify.
#[derive(Debug, PartialEq, Eq)]
enum Picked {
    One(IdentityCode),
    Several(Vec<String>),
}

/// The identity codes among a picture's QR code `texts`, each once. None
/// at all is the first damaged one's error, else "not an identity code".
fn identity_codes(texts: &[impl AsRef<str>]) -> CommandResult<Vec<IdentityCode>> {
    let mut codes: Vec<IdentityCode> = Vec::new();
    let mut problem = IdentityCodeError::NotIdentity;
    for text in texts {
        match parse_identity_code(text.as_ref()) {
            Ok(code) if !codes.contains(&code) => codes.push(code),
            Ok(_) => {}
            Err(e @ IdentityCodeError::Damaged(_)) => problem = e,
            Err(IdentityCodeError::NotIdentity) => {}
        }
    }
    if codes.is_empty() { Err(CommandError::invalid(problem.to_string())) } else { Ok(codes) }
}

/// The code to verify: `wanted`'s when an email is asked for, else the
/// only other person's. This account's own code is left out (the Settings
/// card shows it beside the scan buttons); two different codes for one
/// email are refused rather than guessed between.
fn pick(codes: Vec<IdentityCode>, me: &str, wanted: Option<&str>) -> CommandResult<Picked> {
    let (mine, theirs): (Vec<_>, Vec<_>) = codes.into_iter().partition(|c| c.email.eq_ignore_ascii_case(me));
    if theirs.is_empty() && !mine.is_empty() {
        return Err(CommandError::invalid(format!(
            "This is your own identity code ({me}): scan the code of the person you want to verify"
        )));
    }
    let mut emails: Vec<String> = theirs.iter().map(|c| c.email.clone()).collect();
    emails.sort_by_key(|e| e.to_ascii_lowercase());
    emails.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let chosen = match wanted.map(str::trim).filter(|w| !w.is_empty()) {
        Some(wanted) => {
            if !emails.iter().any(|e| e.eq_ignore_ascii_case(wanted)) {
                let found = if emails.len() == 1 { "code found is" } else { "codes found are" };
                return Err(CommandError::invalid(format!(
                    "The identity {found} for {}, not for {wanted}",
                    emails.join(", ")
                )));
            }
            wanted
        }
        None if emails.len() > 1 => return Ok(Picked::Several(emails)),
        None => emails[0].as_str(),
    };
    let mut same: Vec<IdentityCode> = theirs.into_iter().filter(|c| c.email.eq_ignore_ascii_case(chosen)).collect();
    if same.len() > 1 {
        return Err(CommandError::invalid(format!(
            "Two different identity codes for {chosen} are showing: show only the one from their app"
        )));
    }
    Ok(Picked::One(same.remove(0)))
}

/// Verifies the person of one of `texts`' identity codes with the check
/// `identity_verify` makes: their published key's fingerprint must be the
/// code's, or it is `hostile` and nothing is marked.
fn verify_scanned(d: &Desktop, texts: &[impl AsRef<str>], wanted: Option<&str>) -> CommandResult<IdentityScan> {
    let codes = identity_codes(texts)?;
    on_vault(d, |v| {
        let me = sharing::identity(v, &SESSION)?;
        Ok(match pick(codes, &me.email, wanted) {
            Ok(Picked::One(code)) => {
                let who = sharing::verify_contact(v, &SESSION, &code.email, &code.digits)?;
                Ok(IdentityScan::Verified { email: who.email, fingerprint: who.fingerprint })
            }
            Ok(Picked::Several(emails)) => Ok(IdentityScan::Choose { emails }),
            Err(e) => Err(e),
        })
    })?
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

/// "Scan their QR code" from the screen: `email` when verifying a given
/// person, `None` to verify whoever's code it is.
#[tauri::command]
pub async fn identity_scan_screen(app: AppHandle, email: Option<String>) -> CommandResult<IdentityScan> {
    run(&app, false, move |d, _| {
        require_unlocked(d)?;
        let texts = screen::read_codes().map_err(screen_error)?;
        verify_scanned(d, &texts, email.as_deref())
    })
    .await
}

/// "Scan their QR code" from a picture file (a photo, a screenshot).
#[tauri::command]
pub async fn identity_scan_file(app: AppHandle, path: String, email: Option<String>) -> CommandResult<IdentityScan> {
    run(&app, false, move |d, _| {
        require_unlocked(d)?;
        let bytes = read_picture(Path::new(&path))?;
        let texts = qr::decode_image(&bytes).map_err(scan_error)?;
        verify_scanned(d, &texts, email.as_deref())
    })
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

    const BOB_DIGITS: &str = "9999988888777776666655555444443333322222";

    fn code(email: &str, digits: &str) -> IdentityCode {
        IdentityCode { email: email.into(), digits: digits.into() }
    }

    #[test]
    fn an_identity_code_reads_back_what_qr_payload_wrote() {
        let payload = qr_payload("bob@example.org", "99999 88888 77777 66666 55555 44444 33333 22222");
        assert_eq!(parse_identity_code(&payload), Ok(code("bob@example.org", BOB_DIGITS)));
    }

    #[test]
    fn other_qr_content_is_not_an_identity_code() {
        for text in [
            "otpauth://totp/Mail:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Mail",
            "https://example.org/",
            "",
            // Near misses of the prefix are other content, not a damaged code.
            "Tessera-Identity:bob@example.org:9999988888777776666655555444443333322222",
            " tessera-identity:bob@example.org:9999988888777776666655555444443333322222",
            "tessera-identity bob@example.org 9999988888777776666655555444443333322222",
        ] {
            assert_eq!(parse_identity_code(text), Err(IdentityCodeError::NotIdentity), "{text:?}");
        }
        let err = identity_codes(&["otpauth://totp/Mail?secret=JBSWY3DPEHPK3PXP"]).unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::Invalid);
        assert!(err.message.contains("not a Tessera identity code"), "{}", err.message);
        // The message never repeats what the code held.
        assert!(!err.message.contains("JBSWY3DPEHPK3PXP"), "{}", err.message);
    }

    #[test]
    fn a_fingerprint_of_other_than_40_digits_is_refused() {
        for digits in [
            &BOB_DIGITS[..39],
            &format!("{BOB_DIGITS}1"),
            "99999 88888 77777 66666 55555 44444 33333 22222",
            "999998888877777666665555544444333332222x",
            "",
        ] {
            let text = format!("tessera-identity:bob@example.org:{digits}");
            assert_eq!(
                parse_identity_code(&text),
                Err(IdentityCodeError::Damaged("its fingerprint is not 40 digits")),
                "{text:?}"
            );
        }
    }

    #[test]
    fn an_identity_code_without_a_plain_email_is_refused() {
        for text in [
            format!("tessera-identity::{BOB_DIGITS}"),
            format!("tessera-identity:bob:{BOB_DIGITS}"),
            format!("tessera-identity:@example.org:{BOB_DIGITS}"),
            format!("tessera-identity:bob @example.org:{BOB_DIGITS}"),
            format!("tessera-identity:bob@example.org:extra:{BOB_DIGITS}"),
            format!("tessera-identity:{}@example.org:{BOB_DIGITS}", "b".repeat(250)),
        ] {
            assert!(matches!(parse_identity_code(&text), Err(IdentityCodeError::Damaged(_))), "{text:?}");
        }
        assert!(matches!(parse_identity_code("tessera-identity:bob@example.org"), Err(IdentityCodeError::Damaged(_))));
        let err = identity_codes(&["https://example.org/", "tessera-identity:bob@example.org:123"]).unwrap_err();
        assert!(err.message.contains("damaged"), "{}", err.message);
    }

    #[test]
    fn the_code_verified_is_the_one_asked_for_or_the_only_other_person() {
        let bob = code("bob@example.org", BOB_DIGITS);
        let carol = code("carol@example.org", &"1".repeat(40));
        let me = code("alice@example.org", &"2".repeat(40));
        let texts = [qr_payload(&bob.email, &bob.digits), qr_payload(&bob.email, &bob.digits)];
        assert_eq!(
            identity_codes(&texts).unwrap(),
            [code("bob@example.org", BOB_DIGITS)],
            "the same code twice counts once"
        );

        // Alice's own code (her Settings card) is beside Bob's.
        let both = vec![me.clone(), bob.clone()];
        assert_eq!(pick(both.clone(), "alice@example.org", None).unwrap(), Picked::One(bob.clone()));
        assert_eq!(
            pick(both.clone(), "alice@example.org", Some(" BOB@example.org ")).unwrap(),
            Picked::One(bob.clone())
        );
        let wrong = pick(both, "alice@example.org", Some("dave@example.org")).unwrap_err();
        assert_eq!(wrong.message, "The identity code found is for bob@example.org, not for dave@example.org.");
        let own = pick(vec![me.clone()], "alice@example.org", None).unwrap_err();
        assert!(own.message.contains("your own identity code"), "{}", own.message);

        let several = vec![me, carol.clone(), bob.clone()];
        assert_eq!(
            pick(several.clone(), "alice@example.org", None).unwrap(),
            Picked::Several(vec!["bob@example.org".into(), "carol@example.org".into()])
        );
        assert_eq!(pick(several, "alice@example.org", Some("carol@example.org")).unwrap(), Picked::One(carol));
        let twice = vec![bob.clone(), code(&bob.email, &"3".repeat(40))];
        let err = pick(twice, "alice@example.org", None).unwrap_err();
        assert!(err.message.contains("Two different identity codes for bob@example.org"), "{}", err.message);
    }

    #[test]
    fn a_scan_reaches_the_ui_tagged_with_its_outcome() {
        let verified = IdentityScan::Verified { email: "bob@example.org".into(), fingerprint: "99999 88888".into() };
        assert_eq!(
            serde_json::to_value(verified).unwrap(),
            serde_json::json!({ "outcome": "verified", "email": "bob@example.org", "fingerprint": "99999 88888" })
        );
        let choose = IdentityScan::Choose { emails: vec!["bob@example.org".into()] };
        assert_eq!(
            serde_json::to_value(choose).unwrap(),
            serde_json::json!({ "outcome": "choose", "emails": ["bob@example.org"] })
        );
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
        let mut state: tessera_sync::client::state::SyncState = serde_json::from_value(state).unwrap();
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
