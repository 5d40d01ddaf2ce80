//! The password health report (weak, reused, old, expiring) and the
//! vault's audit log.

use tessera_core::health::{self, HealthEntry, HealthPolicy};
use tessera_core::{Item, Scope};

use super::Desktop;
use crate::dto::{AuditEntryDto, AuditPage, unix};
use crate::error::CommandResult;

impl Desktop {
    /// Scores outside the state lock: zxcvbn takes seconds on a large
    /// vault, and Quick Access must keep answering meanwhile.
    pub fn health_report(&self, progress: &mut dyn FnMut(usize, usize)) -> CommandResult<serde_json::Value> {
        let items = self.with_open(|open| {
            let mut items: Vec<Item> = Vec::new();
            open.vault.each_item(Scope::Live, |item| items.push(item.clone()))?;
            Ok(items)
        })?;
        let entries: Vec<HealthEntry<'_, String>> = items.iter().map(HealthEntry::of).collect();
        {
            let report = health::report(&entries, tessera_core::item::now(), &HealthPolicy::default(), progress);
            Ok(serde_json::json!({
                "weak": report.weak.iter().map(|w| serde_json::json!({
                    "id": w.id, "title": w.title, "score": w.score, "warning": w.warning,
                })).collect::<Vec<_>>(),
                "reused": report.reused.iter().map(|r| serde_json::json!({
                    "items": r.items.iter().map(|(id, title)| serde_json::json!({"id": id, "title": title})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "old": report.old.iter().map(|o| serde_json::json!({
                    "id": o.id, "title": o.title, "changedAt": unix(o.changed), "ageDays": o.age_days,
                })).collect::<Vec<_>>(),
                "expiring": report.expiring.iter().map(|x| serde_json::json!({
                    "id": x.id, "title": x.title, "expiresAt": unix(x.expires), "expired": x.expired,
                })).collect::<Vec<_>>(),
            }))
        }
    }

    pub fn audit_log(&self, before_seq: Option<u64>, limit: usize) -> CommandResult<AuditPage> {
        self.with_open(|open| {
            let log = open.vault.audit_log()?;
            let total = log.len();
            let entries = log
                .iter()
                .rev()
                .filter(|e| before_seq.is_none_or(|b| e.seq < b))
                .take(limit.min(1000))
                .map(|e| {
                    let value = serde_json::to_value(&e.event).unwrap_or_default();
                    AuditEntryDto {
                        seq: e.seq,
                        at: unix(e.at),
                        event: value.get("event").and_then(|v| v.as_str()).unwrap_or("unknown").to_owned(),
                        description: e.event.describe(),
                        item_id: value.get("item").and_then(|v| v.as_str()).map(str::to_owned),
                    }
                })
                .collect();
            Ok(AuditPage { entries, total })
        })
    }
}
