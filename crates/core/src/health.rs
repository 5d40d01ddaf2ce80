//! The password health report: weak (zxcvbn), reused, old and expiring.
//!
//! zxcvbn costs up to about a millisecond per password and a vault may
//! hold 100,000 items, so each *distinct* password is scored once (grouped
//! by its SHA-256, never by the password itself), in parallel. Nothing in
//! the report holds a password.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::primitives::hash::sha256;

/// One item as the report needs it.
pub struct HealthEntry<'a, I> {
    /// The item's id.
    pub id: I,
    /// Its title (also given to zxcvbn, which penalises passwords made from it).
    pub title: &'a str,
    /// Its password (empty: none, and then only expiry is checked).
    pub password: &'a str,
    /// When the password last changed.
    pub password_changed: OffsetDateTime,
    /// When it expires.
    pub expires: Option<OffsetDateTime>,
}

impl<'a> HealthEntry<'a, String> {
    /// An item as the report needs it, with its id in hex.
    pub fn of(item: &'a crate::Item) -> Self {
        HealthEntry {
            id: item.id.to_hex(),
            title: &item.title,
            password: &item.password,
            password_changed: item.password_changed,
            expires: item.expires,
        }
    }
}

/// Thresholds.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthPolicy {
    /// zxcvbn scores (0–4) below this are weak.
    pub weak_below_score: u8,
    /// Unchanged for this long is old.
    pub old_after: Duration,
    /// Expiring within this long is reported.
    pub expiring_within: Duration,
}

impl Default for HealthPolicy {
    /// Weak below score 3 ("safely unguessable" in zxcvbn's terms), old
    /// after a year, expiring within 30 days.
    fn default() -> Self {
        HealthPolicy { weak_below_score: 3, old_after: Duration::days(365), expiring_within: Duration::days(30) }
    }
}

/// The report: four lists, each sorted deterministically.
#[derive(Clone, Debug, Serialize)]
pub struct HealthReport<I> {
    /// Weak passwords, weakest first.
    pub weak: Vec<WeakPassword<I>>,
    /// Groups of items sharing one password, largest group first.
    pub reused: Vec<ReusedPassword<I>>,
    /// Passwords unchanged for long, oldest first.
    pub old: Vec<OldPassword<I>>,
    /// Expired or expiring items, soonest first.
    pub expiring: Vec<Expiring<I>>,
}

/// A weak password.
#[derive(Clone, Debug, Serialize)]
pub struct WeakPassword<I> {
    /// The item.
    pub id: I,
    /// Its title.
    pub title: String,
    /// zxcvbn score, 0–4.
    pub score: u8,
    /// log10 of the estimated guesses.
    pub guesses_log10: f64,
    /// zxcvbn's warning, if any (about the pattern, never the password).
    pub warning: Option<String>,
}

/// Items sharing one password.
#[derive(Clone, Debug, Serialize)]
pub struct ReusedPassword<I> {
    /// `(id, title)` of each, in title order.
    pub items: Vec<(I, String)>,
}

/// A password unchanged for long.
#[derive(Clone, Debug, Serialize)]
pub struct OldPassword<I> {
    /// The item.
    pub id: I,
    /// Its title.
    pub title: String,
    /// When the password last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub changed: OffsetDateTime,
    /// How many days ago.
    pub age_days: i64,
}

/// An item that expired or expires soon.
#[derive(Clone, Debug, Serialize)]
pub struct Expiring<I> {
    /// The item.
    pub id: I,
    /// Its title.
    pub title: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
    /// Already expired.
    pub expired: bool,
}

struct Strength {
    score: u8,
    guesses_log10: f64,
    warning: Option<String>,
}

/// Builds the report. `progress(done, total)` counts distinct passwords
/// scored (called at most about a hundred times).
pub fn report<I: Clone + Send + Sync>(
    entries: &[HealthEntry<'_, I>],
    now: OffsetDateTime,
    policy: &HealthPolicy,
    progress: &mut dyn FnMut(usize, usize),
) -> HealthReport<I> {
    // Group by a digest of the password: one zxcvbn run per distinct one.
    let mut groups: HashMap<[u8; 32], Vec<usize>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if !e.password.is_empty() {
            groups.entry(sha256(&[e.password.as_bytes()])).or_default().push(i);
        }
    }
    let mut distinct: Vec<&Vec<usize>> = groups.values().collect();
    distinct.sort_by_key(|members| members[0]);

    let total = distinct.len();
    let step = (total / 100).max(1);
    let mut strengths: Vec<Strength> = Vec::with_capacity(total);
    for (chunk_index, chunk) in distinct.chunks(step).enumerate() {
        strengths.par_extend(chunk.par_iter().map(|members| {
            let e = &entries[members[0]];
            let estimate = zxcvbn::zxcvbn(e.password, &[e.title]);
            Strength {
                score: u8::from(estimate.score()),
                guesses_log10: estimate.guesses_log10(),
                warning: estimate.feedback().and_then(|f| f.warning()).map(|w| w.to_string()),
            }
        }));
        progress((chunk_index * step + chunk.len()).min(total), total);
    }
    if total == 0 {
        progress(0, 0);
    }

    let mut weak = Vec::new();
    let mut reused = Vec::new();
    for (members, s) in distinct.iter().zip(&strengths) {
        if s.score < policy.weak_below_score {
            for &i in members.iter() {
                let e = &entries[i];
                weak.push(WeakPassword {
                    id: e.id.clone(),
                    title: e.title.to_owned(),
                    score: s.score,
                    guesses_log10: s.guesses_log10,
                    warning: s.warning.clone(),
                });
            }
        }
        if members.len() > 1 {
            let mut items: Vec<(I, String)> =
                members.iter().map(|&i| (entries[i].id.clone(), entries[i].title.to_owned())).collect();
            items.sort_by(|a, b| a.1.cmp(&b.1));
            reused.push(ReusedPassword { items });
        }
    }
    weak.sort_by(|a, b| a.score.cmp(&b.score).then_with(|| a.title.cmp(&b.title)));
    reused.sort_by(|a, b| b.items.len().cmp(&a.items.len()).then_with(|| a.items[0].1.cmp(&b.items[0].1)));

    let mut old: Vec<OldPassword<I>> = entries
        .iter()
        .filter(|e| !e.password.is_empty() && now - e.password_changed >= policy.old_after)
        .map(|e| OldPassword {
            id: e.id.clone(),
            title: e.title.to_owned(),
            changed: e.password_changed,
            age_days: (now - e.password_changed).whole_days(),
        })
        .collect();
    old.sort_by(|a, b| b.age_days.cmp(&a.age_days).then_with(|| a.title.cmp(&b.title)));

    let mut expiring: Vec<Expiring<I>> = entries
        .iter()
        .filter_map(|e| {
            let at = e.expires?;
            (at <= now + policy.expiring_within).then(|| Expiring {
                id: e.id.clone(),
                title: e.title.to_owned(),
                expires: at,
                expired: at <= now,
            })
        })
        .collect();
    expiring.sort_by(|a, b| a.expires.cmp(&b.expires).then_with(|| a.title.cmp(&b.title)));

    HealthReport { weak, reused, old, expiring }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: OffsetDateTime = time::macros::datetime!(2026-06-01 12:00 UTC);

    fn entry<'a>(id: u32, title: &'a str, password: &'a str) -> HealthEntry<'a, u32> {
        HealthEntry { id, title, password, password_changed: NOW, expires: None }
    }

    fn run(entries: &[HealthEntry<'_, u32>]) -> HealthReport<u32> {
        report(entries, NOW, &HealthPolicy::default(), &mut |_, _| {})
    }

    #[test]
    fn weak_passwords_are_found_and_strong_ones_are_not() {
        let r = run(&[entry(1, "a", "password"), entry(2, "b", "123456"), entry(3, "c", "v9#Lq2!xT7@pZ4&mW8^k")]);
        let weak: Vec<u32> = r.weak.iter().map(|w| w.id).collect();
        assert_eq!(weak.len(), 2);
        assert!(weak.contains(&1) && weak.contains(&2));
        assert!(r.weak.iter().all(|w| w.score < 3));
    }

    #[test]
    fn reused_passwords_are_grouped() {
        let r = run(&[
            entry(1, "b", "shared-Passw0rd-XyZ!9"),
            entry(2, "a", "shared-Passw0rd-XyZ!9"),
            entry(3, "c", "unique-Passw0rd-QqQ!8"),
            entry(4, "d", "shared-Passw0rd-XyZ!9"),
        ]);
        assert_eq!(r.reused.len(), 1);
        let ids: Vec<u32> = r.reused[0].items.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [2, 1, 4], "title order");
    }

    #[test]
    fn old_and_expiring_thresholds_are_inclusive() {
        let mut at_limit = entry(1, "old", "x-Strong-Enough-9!");
        at_limit.password_changed = NOW - Duration::days(365);
        let mut just_under = entry(2, "fresh", "y-Strong-Enough-9!");
        just_under.password_changed = NOW - Duration::days(365) + Duration::seconds(1);
        let mut expires_at_limit = entry(3, "soon", "");
        expires_at_limit.expires = Some(NOW + Duration::days(30));
        let mut expires_later = entry(4, "later", "");
        expires_later.expires = Some(NOW + Duration::days(30) + Duration::seconds(1));
        let mut expired = entry(5, "gone", "");
        expired.expires = Some(NOW);
        let r = run(&[at_limit, just_under, expires_at_limit, expires_later, expired]);
        assert_eq!(r.old.iter().map(|o| o.id).collect::<Vec<_>>(), [1]);
        assert_eq!(r.old[0].age_days, 365);
        assert_eq!(r.expiring.iter().map(|e| (e.id, e.expired)).collect::<Vec<_>>(), [(5, true), (3, false)]);
    }

    #[test]
    fn empty_passwords_are_not_weak_reused_or_old() {
        let mut a = entry(1, "note", "");
        a.password_changed = NOW - Duration::days(1000);
        let r = run(&[a, entry(2, "note 2", "")]);
        assert!(r.weak.is_empty() && r.reused.is_empty() && r.old.is_empty());
    }

    #[test]
    fn progress_ends_at_the_total_of_distinct_passwords() {
        let passwords: Vec<String> = (0..250).map(|i| format!("pw-{}", i % 200)).collect();
        let entries: Vec<_> = passwords.iter().enumerate().map(|(i, p)| entry(i as u32, "t", p)).collect();
        let mut calls = Vec::new();
        report(&entries, NOW, &HealthPolicy::default(), &mut |done, total| calls.push((done, total)));
        assert_eq!(calls.last(), Some(&(200, 200)));
        assert!(calls.len() <= 101);
        assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn the_report_never_contains_a_password() {
        let r = run(&[entry(1, "a", "password123"), entry(2, "b", "password123")]);
        let text = format!("{r:?} {}", serde_json::to_string(&r).unwrap());
        assert!(!text.contains("password123"), "{text}");
    }
}
