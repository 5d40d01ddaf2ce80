//! Auto-type from the app (DESIGN §6): the global shortcut (setting
//! `autoTypeShortcut`) reads the focused window's title, finds the items
//! whose auto-type matches it (`tessera_autotype::matching`) and types the
//! item's sequence into that window through XTEST.
//!
//! One match is typed at once. Several open the Quick Access window as a
//! chooser (`auto-type-choose`); the user's pick comes back through
//! `auto_type_choose`, which gives the focus back to the window first. No
//! match, a locked vault, Wayland or a failure show Quick Access with a
//! notice (`auto-type-notice`), from where the user can copy instead.
//!
//! Nothing here logs or reports a value: errors carry the autotype crate's
//! messages, which hold none, and window titles, which are not secret.

use std::sync::Mutex;

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};
use tessera_autotype::matching::{Candidate, MatchedBy, WindowRule, find_matches};
use tessera_autotype::{AutoType, ConnectError, Fields, Sequence, Unavailable, WindowInfo};
use tessera_core::{Item, ItemId, Scope};
use zeroize::Zeroizing;

use crate::desktop::Desktop;
use crate::dto::{FieldRef, parse_id};
use crate::error::{CommandError, CommandResult};
use crate::windows;

/// The chooser waiting for the user's pick, if any.
#[derive(Default)]
pub struct AutoTypeState {
    pending: Mutex<Option<Pending>>,
    next_request: Mutex<u64>,
}

struct Pending {
    request: u64,
    target: WindowInfo,
    choices: Vec<Choice>,
}

/// An item that matches the window, and the rule's own sequence if the
/// rule that matched has one.
#[derive(Clone)]
struct Choice {
    id: ItemId,
    rule_sequence: Option<String>,
}

/// `auto-type-choose`: several items match the window; no secret in it.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ChooseEvent {
    request: u64,
    window: String,
    items: Vec<ChoiceDto>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ChoiceDto {
    id: String,
    title: String,
    username: String,
}

/// `auto-type-notice`: why nothing (more) was typed, for people.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Notice {
    /// `unavailable` (Wayland, no X display), `no-match`, `error`.
    kind: &'static str,
    message: String,
}

/// The shortcut fired: the work (X requests, typing) runs off the event
/// loop.
pub fn on_shortcut(app: &AppHandle) {
    let app = app.clone();
    std::thread::spawn(move || start(&app));
}

fn start(app: &AppHandle) {
    let desktop = app.state::<Desktop>();
    // Locked: nothing is typed; Quick Access shows "locked" and the way
    // to unlock.
    if !desktop.is_unlocked() {
        windows::show_quick(app);
        return;
    }
    desktop.touch();
    let auto_type = match AutoType::connect() {
        Ok(a) => a,
        Err(e) => return notice(app, unavailable_kind(&e), offer_copy(&e.to_string()), true),
    };
    let target = match auto_type.focused_window() {
        Ok(t) => t,
        Err(e) => return notice(app, "error", e.to_string(), true),
    };
    if target.pid == Some(std::process::id()) {
        // Tessera's own window had the focus: the crate would refuse to
        // type, and the chooser would only cover it.
        return;
    }
    let choices = match matching_items(&desktop, &target.title) {
        Ok(c) => c,
        Err(e) => return notice(app, "error", e.message, true),
    };
    match choices.as_slice() {
        [] => notice(
            app,
            "no-match",
            format!(
                "No item's auto-type matches the window \u{201c}{}\u{201d}. Pick an item here to copy its password instead, \
                 or add a window rule to it in the editor.",
                target.title
            ),
            true,
        ),
        [only] => {
            if let Err(e) = type_choice(&desktop, &auto_type, &target, only) {
                notice(app, "error", e.message, false);
            }
        }
        _ => ask(app, &desktop, target, choices),
    }
}

fn unavailable_kind(e: &ConnectError) -> &'static str {
    match e {
        ConnectError::Unavailable(Unavailable::Wayland | Unavailable::NoDisplay) => "unavailable",
        _ => "error",
    }
}

fn offer_copy(message: &str) -> String {
    let mut message = message.to_owned();
    if let Some(first) = message.get(..1) {
        message.replace_range(..1, &first.to_uppercase());
    }
    format!("{message}. Pick an item here and press Enter to copy its password.")
}

/// Tells the user; with `show`, in Quick Access (which then lets them copy).
fn notice(app: &AppHandle, kind: &'static str, message: String, show: bool) {
    eprintln!("tessera-desktop: auto-type: {message}");
    if show {
        windows::show_quick(app);
    }
    let _ = app.emit("auto-type-notice", Notice { kind, message });
}

/// The live items with auto-type on whose rules, URL host or title match
/// `title`, best first.
fn matching_items(desktop: &Desktop, title: &str) -> CommandResult<Vec<Choice>> {
    struct Row {
        id: ItemId,
        title: String,
        url: String,
        rules: Vec<WindowRule>,
    }
    let rows = desktop
        .with_unlocked(|vault, _, _| {
            let mut rows = Vec::new();
            vault.each_item(Scope::Live, |item| {
                if item.auto_type.enabled {
                    rows.push(Row {
                        id: item.id,
                        title: item.title.clone(),
                        url: item.urls.first().cloned().unwrap_or_default(),
                        rules: item
                            .auto_type
                            .rules
                            .iter()
                            .map(|r| WindowRule { window: r.window.clone(), sequence: r.sequence.clone() })
                            .collect(),
                    });
                }
            })?;
            Ok::<_, CommandError>(rows)
        })
        .ok_or_else(CommandError::locked)??;
    let candidates: Vec<Candidate<'_, usize>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| Candidate { id: i, title: &r.title, url: &r.url, rules: &r.rules })
        .collect();
    Ok(find_matches(title, &candidates)
        .into_iter()
        .map(|m| {
            let row = &rows[m.id];
            let rule_sequence = match m.by {
                MatchedBy::Rule(i) => row.rules.get(i).and_then(|r| r.sequence.clone()),
                _ => None,
            };
            Choice { id: row.id, rule_sequence }
        })
        .collect())
}

/// Shows the chooser in Quick Access and waits for `auto_type_choose`.
fn ask(app: &AppHandle, desktop: &Desktop, target: WindowInfo, choices: Vec<Choice>) {
    let items: Vec<ChoiceDto> = choices
        .iter()
        .filter_map(|c| {
            desktop.with_unlocked(|_, summaries, _| {
                summaries.iter().find(|s| s.id == c.id).map(|s| ChoiceDto {
                    id: s.id.to_hex(),
                    title: s.title.clone(),
                    username: s.username.clone(),
                })
            })?
        })
        .collect();
    let state = app.state::<AutoTypeState>();
    let request = {
        let mut next = state.next_request.lock().unwrap_or_else(|e| e.into_inner());
        *next += 1;
        *next
    };
    let window = target.title.clone();
    *state.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(Pending { request, target, choices });
    windows::show_quick(app);
    let _ = app.emit_to(windows::QUICK, "auto-type-choose", ChooseEvent { request, window, items });
    focus_chooser();
}

/// The chooser's answer: `id` is the item to type, `None` cancels. Hides
/// Quick Access, gives the focus back to the window the shortcut was
/// pressed in, and types there.
#[tauri::command]
pub async fn auto_type_choose(app: AppHandle, request: u64, id: Option<String>) -> CommandResult<()> {
    let pending = {
        let state = app.state::<AutoTypeState>();
        let mut pending = state.pending.lock().unwrap_or_else(|e| e.into_inner());
        match pending.take() {
            Some(p) if p.request == request => p,
            other => {
                *pending = other;
                return Err(CommandError::not_found(
                    "This auto-type choice is no longer open; press the shortcut again",
                ));
            }
        }
    };
    windows::hide_quick(&app);
    let Some(id) = id else { return Ok(()) };
    let id = parse_id(&id)?;
    let choice = pending
        .choices
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or_else(|| CommandError::invalid("That item was not one of the auto-type choices"))?;
    crate::commands::run(&app, false, move |desktop, app| {
        let auto_type = AutoType::connect().map_err(|e| CommandError::invalid(e.to_string()))?;
        focus_window(pending.target.id);
        let result = type_choice(desktop, &auto_type, &pending.target, &choice);
        if let Err(e) = &result {
            notice(app, "error", e.message.clone(), false);
        }
        result
    })
    .await
}

/// Types the chosen item's sequence: the matching rule's, else the item's,
/// else `{USERNAME}{TAB}{PASSWORD}{ENTER}`.
fn type_choice(desktop: &Desktop, auto_type: &AutoType, target: &WindowInfo, choice: &Choice) -> CommandResult<()> {
    let item: Item = desktop
        .with_unlocked(|vault, _, _| vault.get(choice.id))
        .ok_or_else(CommandError::locked)?
        .map_err(|_| CommandError::not_found("The item to auto-type is gone"))?;
    let text = choice.rule_sequence.clone().or_else(|| item.auto_type.sequence.clone());
    let sequence = match text {
        Some(text) => Sequence::parse(&text).map_err(|e| CommandError::invalid(e.to_string()))?,
        None => Sequence::default(),
    };
    let totp = if sequence.uses_totp() && item.otp.is_some() {
        Some(desktop.field_value(&item.id.to_hex(), &FieldRef::Totp)?.0)
    } else {
        None
    };
    let fields = Fields {
        username: Zeroizing::new(item.username.clone()),
        password: Zeroizing::new(item.password.clone()),
        title: Zeroizing::new(item.title.clone()),
        url: Zeroizing::new(item.urls.first().cloned().unwrap_or_default()),
        notes: Zeroizing::new(item.notes.clone()),
        totp,
        custom: item.fields.iter().map(|f| (f.name.clone(), Zeroizing::new(f.value.clone()))).collect(),
    };
    wait_for_keys_up();
    auto_type.type_sequence(target, &sequence, &fields).map_err(|e| CommandError::invalid(e.to_string()))
}

/// Waits (≤ 1 s) until no key at all is down. While the shortcut's own key
/// is held, the X server sends every key to the shortcut's grab, not to the
/// window: typed then, the first characters would be lost. (The typing
/// side waits for the modifiers only.)
fn wait_for_keys_up() {
    use x11rb::protocol::xproto::ConnectionExt;
    let Ok((conn, _)) = x11rb::connect(None) else { return };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while std::time::Instant::now() < deadline {
        match conn.query_keymap().map(|c| c.reply()) {
            Ok(Ok(map)) if map.keys.iter().any(|&k| k != 0) => std::thread::sleep(std::time::Duration::from_millis(10)),
            _ => return,
        }
    }
}

/// The title of the Quick Access window (`windows.rs`), to find it on X.
const QUICK_TITLE: &str = "Tessera Quick Access";

/// Gives the keyboard focus to `window` (an X window id):
/// `_NET_ACTIVE_WINDOW` for a window manager, `SetInputFocus` without one.
/// Best effort: the typing side waits for the focus and refuses to type
/// anywhere else.
fn focus_window(window: u32) {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt, EventMask, InputFocus};
    use x11rb::wrapper::ConnectionExt as _;
    let Ok((conn, screen)) = x11rb::connect(None) else { return };
    let root = conn.setup().roots[screen].root;
    if let Ok(Ok(atom)) = conn.intern_atom(false, b"_NET_ACTIVE_WINDOW").map(|c| c.reply()) {
        // Source 2: a pager-like request on the user's behalf.
        let event = ClientMessageEvent::new(32, window, atom.atom, [2, 0, 0, 0, 0]);
        let mask = EventMask::SUBSTRUCTURE_REDIRECT | EventMask::SUBSTRUCTURE_NOTIFY;
        let _ = conn.send_event(false, root, mask, event);
    }
    let _ = conn.set_input_focus(InputFocus::PARENT, window, x11rb::CURRENT_TIME);
    let _ = conn.sync();
}

/// Puts the keyboard on the chooser. Showing Quick Access asks GTK for the
/// focus, which a window manager grants; without one, GTK's request does
/// not move the X focus off the window the shortcut was pressed in, and
/// Enter or Esc would go there. So: wait (≤ 1 s) for the window to be
/// mapped, then give it the focus directly.
fn focus_chooser() {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{AtomEnum, ConnectionExt, MapState};
    let Ok((conn, screen)) = x11rb::connect(None) else { return };
    let root = conn.setup().roots[screen].root;
    let quick = || -> Option<u32> {
        let tree = conn.query_tree(root).ok()?.reply().ok()?;
        tree.children.into_iter().find(|&w| {
            let mapped = conn
                .get_window_attributes(w)
                .ok()
                .and_then(|c| c.reply().ok())
                .is_some_and(|a| a.map_state == MapState::VIEWABLE);
            let name =
                conn.get_property(false, w, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 64).ok().and_then(|c| c.reply().ok());
            mapped && name.is_some_and(|n| n.value == QUICK_TITLE.as_bytes())
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        if let Some(window) = quick() {
            focus_window(window);
            return;
        }
        if std::time::Instant::now() > deadline {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
