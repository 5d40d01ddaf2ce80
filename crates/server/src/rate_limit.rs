//! Rate limits for the authentication routes, per client address (a token
//! bucket) and per account (exponential backoff after failed logins, kept
//! in the database so every instance sees it).
//!
//! The address buckets live in this instance's memory: with several
//! instances behind a load balancer each enforces its own share, which
//! still bounds online guessing per instance; the per-account backoff is
//! global.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Failed logins allowed before the account backs off.
pub const FREE_FAILURES: i64 = 5;
/// The longest backoff.
pub const MAX_BACKOFF_SECS: i64 = 15 * 60;

/// Seconds an account must wait after `failures` consecutive failures.
pub fn backoff_secs(failures: i64) -> i64 {
    if failures < FREE_FAILURES { 0 } else { (1i64 << (failures - FREE_FAILURES).min(10)).min(MAX_BACKOFF_SECS) }
}

/// What to store as `locked_until` after `failures` consecutive failures
/// at `t`, in whole seconds (0: not locked). `t` dropped a fraction of a
/// second, so one more second makes the wait at least the backoff: with
/// `t + backoff` a 1 s backoff could end a few milliseconds later.
pub fn locked_until(t: i64, failures: i64) -> i64 {
    match backoff_secs(failures) {
        0 => 0,
        backoff => t + backoff + 1,
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets per client address.
pub struct AddressLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl AddressLimiter {
    pub fn new(per_minute: u32) -> AddressLimiter {
        AddressLimiter { per_minute: f64::from(per_minute.max(1)), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `addr`, or says how many seconds until one frees up.
    pub fn take(&self, addr: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Forget full buckets rather than grow without bound.
            let cap = self.per_minute;
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * cap / 60.0 < cap);
        }
        let b = buckets.entry(addr).or_insert(Bucket { tokens: self.per_minute, at: now });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * self.per_minute / 60.0).min(self.per_minute);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) * 60.0 / self.per_minute).ceil() as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_its_rate_then_refuses_with_a_wait() {
        let l = AddressLimiter::new(3);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(l.take(a).is_ok() && l.take(a).is_ok() && l.take(a).is_ok());
        let wait = l.take(a).unwrap_err();
        assert!((1..=20).contains(&wait));
        assert!(l.take("127.0.0.2".parse().unwrap()).is_ok());
    }

    #[test]
    fn a_lockout_lasts_at_least_its_backoff() {
        assert_eq!(locked_until(100, 4), 0);
        // Failure 5 at 100.99 s (t = 100): a try at 101.01 s (t = 101) is refused.
        assert!(locked_until(100, 5) > 101);
        assert_eq!(locked_until(100, 8), 109);
    }

    #[test]
    fn backoff_grows_after_the_free_failures() {
        assert_eq!(backoff_secs(4), 0);
        assert_eq!(backoff_secs(5), 1);
        assert_eq!(backoff_secs(8), 8);
        assert_eq!(backoff_secs(60), MAX_BACKOFF_SECS);
    }
}
