//! The command layer against real vault files, without a window: what the
//! web layer would receive, serialised exactly as Tauri sends it.

use tempfile::TempDir;

use crate::desktop::Desktop;
use crate::dto::*;
use crate::error::ErrorKind;
use crate::settings::Paths;

const MASTER: &str = "correct horse battery staple 42";

fn desktop() -> (TempDir, Desktop) {
    let dir = tempfile::tempdir().unwrap();
    let paths =
        Paths { config_file: dir.path().join("config/desktop.json"), default_vault: dir.path().join("vault.tessera") };
    (dir, Desktop::new(paths))
}

fn draft(kind: tessera_core::ItemType, title: &str) -> ItemDraft {
    let mut d = ItemDraft::template(kind);
    d.title = title.into();
    d
}

/// Every marker that must never appear in a list, search or view payload.
const SECRETS: [&str; 5] =
    ["PW-CANARY-81f3", "PROTECTED-CANARY-22aa", "NOTES-CANARY-9c1d", "JBSWY3DPEHPK3PXPGEZDGNBV", "CARD-NUMBER-4111"];

fn assert_no_secret(what: &str, payload: &impl serde::Serialize) {
    let json = serde_json::to_string(payload).unwrap();
    for s in SECRETS {
        assert!(!json.contains(s), "{what} carries the secret {s}: {json}");
        assert!(!json.to_lowercase().contains(&s.to_lowercase()), "{what} carries the secret {s} (any case)");
    }
    assert!(!json.contains("otpauth"), "{what} carries an OTP URI: {json}");
}

#[test]
fn list_search_and_view_payloads_carry_no_secret() {
    let (dir, d) = desktop();
    let path = dir.path().join("v.tessera");
    let created = d.create_vault(path.to_str().unwrap(), MASTER).unwrap();
    assert_eq!(created.recovery_code.split('-').count(), 8);

    let mut login = draft(tessera_core::ItemType::Login, "Mail");
    login.username = "me@example.com".into();
    login.password = SECRETS[0].into();
    login.notes = SECRETS[2].into();
    login.otp = SECRETS[3].into();
    login.urls = vec!["https://mail.example.com".into()];
    login.fields.push(DraftField { name: "Recovery".into(), value: SECRETS[1].into(), protected: true });
    login.fields.push(DraftField { name: "Plan".into(), value: "basic".into(), protected: false });
    login.favourite = true;
    let mail = d.create_item(&login).unwrap();
    assert_no_secret("create_item", &mail);
    assert!(mail.has_password && mail.has_notes && mail.otp.is_some());

    let mut card = draft(tessera_core::ItemType::Card, "Visa");
    card.fields.iter_mut().find(|f| f.name == "Cardholder").unwrap().value = "A. Holder".into();
    card.fields.iter_mut().find(|f| f.name == "Number").unwrap().value = SECRETS[4].into();
    d.create_item(&card).unwrap();

    for scope in [SearchScope::Live, SearchScope::Favourites] {
        for q in ["", "mail", "visa", "example"] {
            let page = d.search_items(q, scope, 0, 100).unwrap();
            assert_no_secret("search_items", &page);
        }
    }
    let all = d.search_items("", SearchScope::Live, 0, 100).unwrap();
    assert_eq!(all.total, 2);
    let visa = all.items.iter().find(|i| i.title == "Visa").unwrap();
    assert_eq!(visa.subtitle, "A. Holder", "a card row shows its holder");
    let view = d.get_item(&mail.id).unwrap();
    assert_no_secret("get_item", &view);
    assert!(view.fields.iter().any(|f| f.name == "Recovery" && f.protected && f.value.is_none()));
    assert!(view.fields.iter().any(|f| f.name == "Plan" && f.value.as_deref() == Some("basic")));
    assert_no_secret("get_item(card)", &d.get_item(&visa.id).unwrap());

    // Edits leave history; history carries names of changes, never values.
    let edit = d.get_item_for_edit(&mail.id).unwrap();
    let mut changed = edit.draft.clone();
    changed.password = "PW-CANARY-81f3-new".into();
    d.update_item(&mail.id, edit.revision, &changed).unwrap();
    let history = d.item_history(&mail.id).unwrap();
    assert_eq!(history[0].changed, vec!["password".to_owned()]);
    assert_no_secret("item_history", &history);
    assert_no_secret("audit_log", &d.audit_log(None, 200).unwrap());
    let report = d.health_report(&mut |_, _| {}).unwrap();
    assert_no_secret("health_report", &report);
    d.trash_item(&mail.id).unwrap();
    assert_no_secret("search_items(trash)", &d.search_items("", SearchScope::Trash, 0, 100).unwrap());

    // The one value the user reveals is the only way out.
    assert_eq!(&*d.reveal_field(&visa.id, &RevealableField::Custom { name: "Number".into() }).unwrap(), SECRETS[4]);
}

#[test]
fn lock_unlock_conflict_and_errors_are_reported_by_kind() {
    let (dir, d) = desktop();
    let path = dir.path().join("v.tessera");
    assert_eq!(d.app_state().state, VaultState::NoVault);
    d.create_vault(path.to_str().unwrap(), MASTER).unwrap();
    let item = d.create_item(&draft(tessera_core::ItemType::Note, "Note")).unwrap();
    assert!(d.lock());
    assert_eq!(d.app_state().state, VaultState::Locked);
    assert_eq!(d.search_items("", SearchScope::Live, 0, 10).unwrap_err().kind, ErrorKind::Locked);

    let wrong = d.unlock(&Credential::Password { password: "nope".into() }).unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::WrongPassword);
    assert!(!wrong.message.contains("nope"));
    assert_eq!(d.app_state().state, VaultState::Locked);
    d.unlock(&Credential::Password { password: MASTER.into() }).unwrap();
    assert_eq!(d.search_items("", SearchScope::Live, 0, 10).unwrap().total, 1);

    // A stale base revision is a conflict, never a silent overwrite.
    let edit = d.get_item_for_edit(&item.id).unwrap();
    let mut first = edit.draft.clone();
    first.title = "First".into();
    d.update_item(&item.id, edit.revision, &first).unwrap();
    let mut second = edit.draft.clone();
    second.title = "Second".into();
    assert_eq!(d.update_item(&item.id, edit.revision, &second).unwrap_err().kind, ErrorKind::Conflict);
    assert_eq!(d.get_item(&item.id).unwrap().title, "First");

    // Creating over an existing file is refused; so is a bad OTP.
    assert_eq!(d.create_vault(path.to_str().unwrap(), MASTER).unwrap_err().kind, ErrorKind::Invalid);
    let mut bad = draft(tessera_core::ItemType::Login, "Bad");
    bad.otp = "not a secret!".into();
    assert_eq!(d.create_item(&bad).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(d.get_item("zz").unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(d.get_item(&"0".repeat(32)).unwrap_err().kind, ErrorKind::NotFound);

    // Only http(s) URLs are opened.
    let mut l = draft(tessera_core::ItemType::Login, "Links");
    l.urls = vec!["javascript:alert(1)".into(), "https://ok.example".into()];
    let links = d.create_item(&l).unwrap();
    assert_eq!(d.url_to_open(&links.id, 0).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(d.url_to_open(&links.id, 1).unwrap(), "https://ok.example");
}

#[test]
fn search_pages_keep_the_core_rank_order() {
    let (dir, d) = desktop();
    d.create_vault(dir.path().join("v.tessera").to_str().unwrap(), MASTER).unwrap();
    for title in ["Git", "GitHub", "Forgejo (git)", "Other"] {
        d.create_item(&draft(tessera_core::ItemType::Login, title)).unwrap();
    }
    let page = d.search_items("git", SearchScope::Live, 0, 100).unwrap();
    let titles: Vec<&str> = page.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["Git", "GitHub", "Forgejo (git)"]);
    let second = d.search_items("git", SearchScope::Live, 1, 1).unwrap();
    assert_eq!((second.total, second.offset, second.items[0].title.as_str()), (3, 1, "GitHub"));
    assert_eq!(d.live_types().len(), 4);
}

#[test]
fn the_remembered_vault_is_reopened_locked() {
    let (dir, d) = desktop();
    let path = dir.path().join("kept.tessera");
    d.create_vault(path.to_str().unwrap(), MASTER).unwrap();
    let again = Desktop::new(d.paths.clone());
    let state = again.app_state();
    assert_eq!(state.state, VaultState::Locked);
    assert_eq!(state.vault_path.as_deref(), Some(path.to_str().unwrap()));
}

#[test]
fn auto_type_settings_round_trip_through_the_editor_and_bad_ones_are_refused() {
    let (dir, d) = desktop();
    d.create_vault(dir.path().join("v.tessera").to_str().unwrap(), MASTER).unwrap();
    let mut login = draft(tessera_core::ItemType::Login, "Shell");
    let created = d.create_item(&login).unwrap();
    let edit = d.get_item_for_edit(&created.id).unwrap();
    assert!(edit.draft.auto_type.enabled && edit.draft.auto_type.rules.is_empty(), "the default");

    login.auto_type = AutoTypeDraft {
        enabled: true,
        sequence: " {USERNAME}{ENTER} ".into(),
        rules: vec![
            AutoTypeRuleDraft { window: "*xterm*".into(), sequence: "{PASSWORD}{ENTER}".into() },
            AutoTypeRuleDraft { window: " ".into(), sequence: String::new() },
        ],
    };
    let updated = d.update_item(&created.id, edit.revision, &login).unwrap();
    let edit = d.get_item_for_edit(&created.id).unwrap();
    assert_eq!(edit.draft.auto_type.sequence, "{USERNAME}{ENTER}");
    let rules: Vec<(&str, &str)> =
        edit.draft.auto_type.rules.iter().map(|r| (r.window.as_str(), r.sequence.as_str())).collect();
    assert_eq!(rules, [("*xterm*", "{PASSWORD}{ENTER}")], "the empty rule is dropped");
    let history = d.item_history(&created.id).unwrap();
    assert!(history[0].changed.iter().any(|c| c == "autotype"), "{:?}", history[0].changed);

    for (sequence, window) in [("{NOPE}", "*x*"), ("", "//([//")] {
        login.auto_type.sequence = sequence.into();
        login.auto_type.rules = vec![AutoTypeRuleDraft { window: window.into(), sequence: String::new() }];
        let err = d.update_item(&created.id, updated.revision, &login).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid, "{sequence:?} {window:?}: {}", err.message);
    }
}
