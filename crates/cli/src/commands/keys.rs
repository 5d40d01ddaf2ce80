//! `passwd` and `rotate`.

use std::path::Path;

use serde_json::json;

use crate::exit::CliResult;
use crate::output::{Out, progress};
use crate::session::Session;

pub fn passwd(session: &mut Session, new_password_file: Option<&Path>, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let new = session.new_password(new_password_file)?;
    tessera_unlock::change_password(&mut vault, &new, None)?;
    if json {
        out.json(&json!({ "changed": true }));
    } else {
        out.line("Master password changed. The recovery code still works.");
    }
    Ok(())
}

pub fn rotate(session: &mut Session, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let bar = progress("Re-encrypting");
    let report = vault.rotate(&mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    if json {
        out.json(&json!({
            "version": report.version.0,
            "reencrypted": report.reencrypted,
            "retired": report.retired.iter().map(|v| v.0).collect::<Vec<_>>(),
        }));
    } else {
        out.line(format!(
            "Now using data key version {}; re-encrypted {} item{}.",
            report.version,
            report.reencrypted,
            if report.reencrypted == 1 { "" } else { "s" }
        ));
        if !report.retired.is_empty() {
            let list: Vec<String> = report.retired.iter().map(ToString::to_string).collect();
            out.line(format!(
                "Deleted unused key version{} {}.",
                if list.len() == 1 { "" } else { "s" },
                list.join(", ")
            ));
        }
    }
    Ok(())
}
