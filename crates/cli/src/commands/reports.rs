//! `health`, `audit`, `verify`.

use serde_json::{Value, json};
use tessera_core::health::{HealthEntry, HealthPolicy, report};
use tessera_core::{Item, Scope};

use crate::exit::{CliResult, Exit, Failure};
use crate::output::{Out, progress, rfc3339};
use crate::session::Session;

pub fn health(session: &mut Session, json: bool, out: &mut Out) -> CliResult {
    let vault = session.unlock()?;
    let mut items: Vec<Item> = Vec::new();
    vault.each_item(Scope::Live, |item| items.push(item.clone()))?;
    let entries: Vec<HealthEntry<'_, String>> = items.iter().map(HealthEntry::of).collect();
    let bar = progress("Checking password strength");
    let health = report(&entries, tessera_core::item::now(), &HealthPolicy::default(), &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    if json {
        out.json(&serde_json::to_value(&health).map_err(Failure::other)?);
        return Ok(());
    }
    out.line(format!("Weak passwords: {}", health.weak.len()));
    for w in &health.weak {
        let hint = w.warning.as_deref().map(|h| format!(" — {h}")).unwrap_or_default();
        out.line(format!("  {}  {}  (strength {}/4){hint}", &w.id[..8], w.title, w.score));
    }
    out.line(format!(
        "Reused passwords: {} group{}",
        health.reused.len(),
        if health.reused.len() == 1 { "" } else { "s" }
    ));
    for group in &health.reused {
        let titles: Vec<String> = group.items.iter().map(|(id, t)| format!("{t} ({})", &id[..8])).collect();
        out.line(format!("  {}", titles.join(", ")));
    }
    out.line(format!("Old passwords (unchanged for a year or more): {}", health.old.len()));
    for o in &health.old {
        out.line(format!("  {}  {}  ({} days)", &o.id[..8], o.title, o.age_days));
    }
    out.line(format!("Expired or expiring within 30 days: {}", health.expiring.len()));
    for e in &health.expiring {
        let state = if e.expired { "expired" } else { "expires" };
        out.line(format!("  {}  {}  ({state} {})", &e.id[..8], e.title, rfc3339(e.expires)));
    }
    Ok(())
}

pub fn audit(session: &mut Session, json: bool, out: &mut Out) -> CliResult {
    let vault = session.unlock()?;
    let log = vault.audit_log()?;
    if json {
        out.json(&Value::Array(
            log.iter()
                .map(|e| {
                    let mut v = serde_json::to_value(&e.event).unwrap_or(Value::Null);
                    v["seq"] = json!(e.seq);
                    v["at"] = json!(rfc3339(e.at));
                    v["description"] = json!(e.event.describe());
                    v
                })
                .collect(),
        ));
    } else {
        for e in &log {
            out.line(format!("{:>6}  {}  {}", e.seq, rfc3339(e.at), e.event.describe()));
        }
    }
    Ok(())
}

pub fn verify(session: &mut Session, json: bool, out: &mut Out) -> CliResult {
    let vault = session.unlock()?;
    let bar = progress("Verifying");
    let mut report = vault.verify(&mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let mut problems: Vec<String> = report.problems.drain(..).map(|p| p.to_string()).collect();
    for slot in vault.slots()? {
        if let Err(e) = tessera_unlock::describe_slot(&slot) {
            problems.push(e.to_string());
        }
    }
    if json {
        out.json(&json!({
            "ok": problems.is_empty(),
            "slots": report.slots,
            "key_versions": report.key_versions,
            "items": report.items,
            "history": report.history,
            "attachments": report.attachments,
            "audit_entries": report.audit_entries,
            "problems": problems,
        }));
    } else if problems.is_empty() {
        out.line(format!(
            "Vault OK: {} slots, {} items, {} history versions, {} attachments, {} audit entries, key versions {:?}.",
            report.slots, report.items, report.history, report.attachments, report.audit_entries, report.key_versions
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let n = problems.len();
        Err(Failure::new(
            Exit::Integrity,
            format!(
                "the vault failed verification ({n} problem{}):\n  {}",
                if n == 1 { "" } else { "s" },
                problems.join("\n  ")
            ),
        ))
    }
}
