//! Folders and tags in the real app's sidebar, end to end: items filed by
//! the `tessera` CLI, the tree and tag counts the app shows for them, the
//! list filtered by a folder (with its subfolders) and by a tag, an item
//! moved with "Move to…" by keyboard only and another by drag and drop,
//! a folder renamed (F2) and one deleted (Delete; its items go to its
//! parent) — each result read back by the CLI from the vault file after
//! the app quit, which locks it.
//!
//! Screenshots of the sidebar and of the Move-to dialog, light and dark, go
//! to `$TESSERA_SCREENSHOTS/{light,dark}/` (`docs/screenshots` for the docs).
//!
//! Needs what tests/desktop.rs needs (`tessera-desktop` built with the
//! current UI, `tauri-driver`, Xvfb).

use std::collections::BTreeMap;

use serde_json::json;
use tessera_test_support::app::*;
use tessera_test_support::webdriver::keys;
use tessera_test_support::{PASSWORD, TestVault, assert_success, stdout};

/// W3C WebDriver key codes the support module does not name.
const F2: &str = "\u{E032}";
const DELETE: &str = "\u{E017}";
const ARROW_RIGHT: &str = "\u{E014}";
const ARROW_DOWN: &str = "\u{E015}";

/// (title, folder, tags) filed before the app starts.
const ITEMS: [(&str, &str, &[&str]); 6] = [
    ("GitHub", "Work/Dev", &["dev"]),
    ("Router", "Work/Servers", &["ops"]),
    ("NAS", "Work/Servers/Old", &["ops"]),
    ("Bank", "Home", &["money"]),
    ("Wi-Fi", "Home", &[]),
    ("Diary", "", &[]),
];

fn step(what: &str) {
    eprintln!("[desktop-folders] {what}");
}

fn node(path: &str) -> String {
    format!("{}[data-path=\"{path}\"]", sel("folder-node"))
}

/// Waits until the tree shows folder `path` with `total` items.
fn wait_count(app: &App, path: &str, total: usize) {
    app.wait(&format!("folder {path:?} to count {total}"), SHORT, || {
        let el = app.wd.find(&node(path)).ok()??;
        (app.wd.attribute(&el, "data-total").ok()?? == total.to_string()).then_some(())
    });
}

/// Waits until the list shows `total` items.
fn wait_list(app: &App, total: usize) {
    app.wait_attr("item-list", "data-total", SHORT, |t| t == total.to_string());
}

/// Sends keys to the tree's row of `path` (which WebDriver focuses first).
fn keys_on(app: &App, path: &str, text: &str) {
    let el = app.el_css(&node(path), SHORT);
    app.ok(app.wd.send_keys(&el, text), &format!("press keys on folder {path:?}"));
}

/// Each item's folder, by title, as the CLI reads the vault file.
fn folders_on_disk(vault: &TestVault) -> BTreeMap<String, String> {
    let list = vault.json(&["list"]);
    list.as_array()
        .expect("list --json is an array")
        .iter()
        .map(|i| {
            (i["title"].as_str().unwrap_or_default().to_owned(), i["folder"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// Starts the app on `vault` in `theme` and unlocks it.
fn start_unlocked(vault: &TestVault, theme: &str) -> App {
    let app = App::start(|d| write_config(d, Some(&vault.path), json!({ "theme": theme })));
    app.screen("unlock-screen", SHORT);
    app.replace("unlock-password", PASSWORD);
    app.click("unlock-submit");
    app.screen("main-screen", KDF);
    app.screen("folder-tree", SHORT);
    app
}

/// Selects item `title` (the only match of its search) and waits for its view.
fn select(app: &App, title: &str) -> String {
    let rows = app.search(title, 1);
    let id = rows[0].0.clone();
    app.wait_attr("item-view", "data-id", SHORT, |v| v == id);
    id
}

/// Opens "Move to…" with Ctrl+M from the search box, types `path` and presses Enter.
fn move_by_keyboard(app: &App, path: &str, shots: Option<(&Shots, &str)>) {
    app.chord_on("search-input", &[keys::CONTROL, "m"]);
    app.screen("folder-chooser-dialog", SHORT);
    let focused = app.ok(app.wd.execute("return document.activeElement?.dataset?.testid ?? '';", vec![]), "focus");
    app.check(focused == json!("folder-chooser-input"), || format!("Move to… opened with the focus on {focused}"));
    if let Some((shots, theme)) = shots {
        // Every folder on offer, before anything is typed.
        app.wait("the chooser to offer No folder and the folders", SHORT, || {
            (app.count("folder-chooser-option") >= 3).then_some(())
        });
        app.shot(shots, theme, "folder-move-to");
    }
    app.type_into("folder-chooser-input", path);
    app.wait("the chooser to offer the folder first", SHORT, || {
        let first = app.wd.find(&sel("folder-chooser-option")).ok()??;
        (app.wd.attribute(&first, "data-path").ok()??.as_str() == path).then_some(())
    });
    app.type_into("folder-chooser-input", keys::ENTER);
    app.wait_gone("folder-chooser-dialog", SHORT);
}

#[test]
fn folders_and_tags_in_the_sidebar_browse_move_rename_and_delete() {
    let _serial = serial();
    let shots = Shots::from_env();
    let vault = TestVault::new();
    let mut ids = BTreeMap::new();
    for (title, folder, tags) in ITEMS {
        let mut args = vec!["add", "--type", "login", "--title", title, "--username", "me", "--folder", folder];
        for t in tags {
            args.extend(["--tag", t]);
        }
        let out = vault.run_fast(&args);
        assert_success(&out, "add");
        ids.insert(title, stdout(&out).trim().to_owned());
    }

    let app = start_unlocked(&vault, "light");

    step("the tree and the tags count what the CLI filed");
    for (path, total) in [("", 6), ("Home", 2), ("Work", 3)] {
        wait_count(&app, path, total);
    }
    app.check(app.wd.find(&node("Work/Servers")).ok().flatten().is_none(), || {
        "Work's subfolders show before it is opened".into()
    });
    keys_on(&app, "Work", ARROW_RIGHT);
    for (path, total) in [("Work/Dev", 1), ("Work/Servers", 2)] {
        wait_count(&app, path, total);
    }
    let tags: Vec<(String, String)> = app
        .ok(app.wd.find_all(&sel("tag-filter")), "tags")
        .iter()
        .map(|t| {
            let attr = |n: &str| app.wd.attribute(t, n).ok().flatten().unwrap_or_default();
            (attr("data-tag"), attr("data-count"))
        })
        .collect();
    let want: Vec<(String, String)> =
        [("dev", "1"), ("money", "1"), ("ops", "2")].iter().map(|(t, c)| (t.to_string(), c.to_string())).collect();
    app.check(tags == want, || format!("the tag list is {tags:?}"));

    step("a folder lists its items and its subfolders'; a tag its items");
    app.click_css(&node("Work"));
    wait_list(&app, 3);
    app.click_css(&node("Work/Servers"));
    wait_list(&app, 2);
    app.click_css(&format!("{}[data-tag=\"ops\"]", sel("tag-filter")));
    wait_list(&app, 2);
    app.click_css(&node("Work"));
    wait_list(&app, 3);
    app.shot(&shots, "light", "folders");
    app.click_css(&node(""));
    wait_list(&app, 6);

    step("Move to… by keyboard: Diary into Home");
    select(&app, "Diary");
    move_by_keyboard(&app, "Home", Some((&shots, "light")));
    app.wait_toast("Moved “Diary” to “Home”");
    wait_count(&app, "Home", 3);

    step("drag and drop: GitHub onto Home");
    // WebKitWebDriver does not drive native HTML5 drag and drop (its
    // pointer actions never start a drag session), so the test dispatches
    // the drag events a real drag fires — dragstart on the row, dragover
    // and drop on the folder — with one DataTransfer, as WebKit would. The
    // app's own handlers fill and read it.
    app.dismiss_toasts();
    app.search("", 6);
    let script = r#"
        const [rowCss, targetCss] = arguments;
        const row = document.querySelector(rowCss);
        const target = document.querySelector(targetCss);
        if (!row || !target) return 'missing';
        const dataTransfer = new DataTransfer();
        const fire = (el, type) => {
            let e = new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer });
            if (e.dataTransfer !== dataTransfer) {
                // A WebKit that ignores the init dictionary's dataTransfer.
                e = new Event(type, { bubbles: true, cancelable: true });
                Object.defineProperty(e, 'dataTransfer', { value: dataTransfer });
            }
            return el.dispatchEvent(e);
        };
        fire(row, 'dragstart');
        fire(target, 'dragenter');
        const accepted = !fire(target, 'dragover');
        fire(target, 'drop');
        fire(row, 'dragend');
        return accepted ? 'dropped' : 'refused';
    "#;
    let row = format!("{}[data-id=\"{}\"]", sel("item-row"), ids["GitHub"]);
    let dropped = app.ok(app.wd.execute(script, vec![json!(row), json!(node("Home"))]), "drag and drop");
    app.check(dropped == json!("dropped"), || format!("the drop on Home was {dropped}"));
    app.wait_toast("to “Home”");
    wait_count(&app, "Home", 4);
    app.wait("Work/Dev to go away with its last item", SHORT, || {
        app.wd.find(&node("Work/Dev")).ok()?.is_none().then_some(())
    });

    step("F2 renames Work to Job");
    app.dismiss_toasts();
    keys_on(&app, "Work", F2);
    app.screen("folder-rename-dialog", SHORT);
    app.replace("folder-rename-input", "Job");
    app.type_into("folder-rename-input", keys::ENTER);
    app.wait_gone("folder-rename-dialog", SHORT);
    wait_count(&app, "Job", 2);

    step("Delete deletes Job/Servers: its items and its subfolder's go to Job");
    keys_on(&app, "Job", ARROW_RIGHT);
    wait_count(&app, "Job/Servers", 2);
    keys_on(&app, "Job", ARROW_DOWN);
    let focused = app.ok(app.wd.execute("return document.activeElement?.dataset?.path ?? null;", vec![]), "focus");
    app.check(focused == json!("Job/Servers"), || format!("↓ from Job focused {focused}"));
    keys_on(&app, "Job/Servers", DELETE);
    app.screen("confirm-dialog", SHORT);
    let message = app.text("confirm-dialog");
    app.check(message.contains("2 items in it and its subfolders will move to “Job”"), || {
        format!("the confirmation says {message:?}")
    });
    app.click("confirm-ok");
    app.wait_gone("confirm-dialog", SHORT);
    app.wait("Job/Servers to go away", SHORT, || app.wd.find(&node("Job/Servers")).ok()?.is_none().then_some(()));
    wait_count(&app, "Job", 2);
    app.check(trash_is_empty(&app), || "deleting a folder put items in the trash".into());

    step("the app quits (which locks the vault); the CLI reads every change from the vault file");
    drop(app);
    let on_disk = folders_on_disk(&vault);
    let want: BTreeMap<String, String> =
        [("Bank", "Home"), ("Diary", "Home"), ("GitHub", "Home"), ("NAS", "Job"), ("Router", "Job"), ("Wi-Fi", "Home")]
            .iter()
            .map(|(t, f)| (t.to_string(), f.to_string()))
            .collect();
    assert_eq!(on_disk, want, "the items' folders in the vault file");
    let in_job = vault.json(&["list", "--folder", "Job"]);
    assert!(in_job.as_array().map(Vec::len) == Some(2), "tessera list --folder Job gives {in_job}");
    // A move is a normal edit: the old folder is in the item's history.
    let nas = vault.json(&["show", &ids["NAS"], "--history"]);
    let earlier: Vec<&str> =
        nas["history"].as_array().into_iter().flatten().filter_map(|h| h["folder"].as_str()).collect();
    assert!(
        earlier == ["Job/Servers/Old", "Work/Servers/Old"],
        "NAS's earlier folders are {earlier:?}, its history is {}",
        nas["history"]
    );

    step("the dark theme's pictures");
    let app = start_unlocked(&vault, "dark");
    app.check(app.page_theme() == "dark", || "the app is not in the dark theme".into());
    app.click_css(&node("Home"));
    wait_list(&app, 4);
    app.shot(&shots, "dark", "folders");
    select(&app, "Bank");
    move_by_keyboard(&app, "Home/Money", Some((&shots, "dark")));
    app.wait_toast("Moved “Bank” to “Home/Money”");
    wait_count(&app, "Home", 4);
}

/// Whether the trash is empty (through the command the Trash screen uses).
fn trash_is_empty(app: &App) -> bool {
    let page = app
        .invoke("search_items", json!({ "query": "", "scope": "trash", "offset": 0, "limit": 10 }))
        .unwrap_or_else(|e| app.fail(format!("search_items trash: {e}")));
    page["total"] == 0
}
