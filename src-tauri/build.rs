//! The build script: Tauri's context, plus one permission per command so the
//! capabilities in `capabilities/` decide which window may call what (the
//! Quick Access window gets six commands, the main window all of them).

const COMMANDS: &[&str] = &[
    "app_state",
    "pick_vault_path",
    "create_vault",
    "open_vault",
    "unlock_factors",
    "unlock",
    "lock",
    "password_strength",
    "search_items",
    "get_item",
    "reveal_field",
    "copy_field",
    "totp_code",
    "open_url",
    "new_item_template",
    "get_item_for_edit",
    "create_item",
    "update_item",
    "set_favourite",
    "trash_item",
    "restore_item",
    "purge_item",
    "empty_trash",
    "item_history",
    "restore_version",
    "add_attachment",
    "remove_attachment",
    "save_attachment",
    "generate_password",
    "copy_text",
    "health_report",
    "audit_log",
    "get_settings",
    "update_settings",
    "list_slots",
    "add_slot",
    "remove_slot",
    "change_master_password",
    "pick_import_file",
    "import_items",
    "export_vault",
    "sync_status",
    "sync_now",
    "quick_access_hide",
    "show_main_window",
    "user_active",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
