//! How long the server remembers where its clients were: the event log
//! keeps each client's address for `--keep-addresses-days`, then erases it
//! (the event itself stays, so the account's owner still sees "login from
//! device X" in `tessera sync events`). An address is personal data the
//! server needs only to spot a stranger's login while it is recent; a
//! stolen database or a subpoena years later should not map where the
//! account's owner has been.
//!
//! The erasure runs once at start, before the first request, then hourly;
//! an address therefore lives at most the retention time plus an hour.

use std::time::Duration;

use crate::db::Db;

/// How often the erasure runs after the first one.
pub const INTERVAL: Duration = Duration::from_secs(3600);

/// Erases every address older than `days` (all of them with 0). A failure
/// is logged; the next run tries again.
pub async fn forget_old_addresses(db: &Db, days: u32) {
    // With 0 days every address goes, including this second's.
    let before = if days == 0 { i64::MAX } else { crate::api::now() - i64::from(days) * 86_400 };
    match db.forget_addresses(before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(events = n, days, "client addresses erased from the event log"),
        Err(e) => tracing::error!(error = %e, "cannot erase old client addresses; will retry"),
    }
}

/// Runs [`forget_old_addresses`] every [`INTERVAL`], forever.
pub async fn hourly(db: Db, days: u32) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + INTERVAL, INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        forget_old_addresses(&db, days).await;
    }
}
