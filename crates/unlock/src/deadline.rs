//! Bounded waits for the outside services a factor talks to.
//!
//! The Secret Service (over D-Bus), the TPM (through its TCTI) and PC/SC
//! (pcscd) are other processes or devices. Their client libraries wait for
//! an answer without a limit: a keyring daemon that owns its D-Bus name but
//! never replies, a TCP port that accepts and stays silent, a pcscd that
//! hangs, and the caller waits for ever. Each call to one of them therefore
//! runs on a worker thread while the caller waits on a channel for at most
//! the service's bound, then reports [`UnlockError::ServiceTimeout`]
//! naming the service, the wait and what to check.
//!
//! The libraries offer no way to cancel a call in flight, so a worker that
//! never returns is abandoned, deliberately: the caller goes on (the CLI
//! exits, the desktop app stays usable) and the thread stays blocked in the
//! library until the process ends. Whatever it returns late is dropped
//! unread; factor secrets are zeroizing types, so they are wiped on that
//! drop. A worker receives only what its call needs (a TCTI string, a PIN
//! hash or copy in zeroizing memory, public slot parameters).
//!
//! The bounds are [`SECRET_SERVICE`] 10 s, [`TPM`] 20 s (creating a key on
//! a real TPM takes seconds), [`PCSC`] 10 s and [`YUBIKEY_TOUCH`] 25 s (a
//! key operation that may wait for the user to touch the key).
//! `$TESSERA_SERVICE_TIMEOUT_SECS` (1 to 600) replaces all of them: tests
//! use a short one, and a machine with very slow hardware a longer one.

use std::sync::mpsc;
use std::time::Duration;

use crate::error::UnlockError;

/// The environment variable that replaces every bound (whole seconds).
pub const TIMEOUT_VAR: &str = "TESSERA_SERVICE_TIMEOUT_SECS";

/// An outside service a factor waits on.
#[derive(Debug)]
pub(crate) struct Service {
    /// The factor whose call this is.
    pub(crate) kind: &'static str,
    /// The service, for people.
    pub(crate) name: &'static str,
    /// How long an answer may take.
    pub(crate) wait: Duration,
    /// What to check when it does not come.
    pub(crate) next_step: &'static str,
}

/// The Secret Service (GNOME Keyring, KWallet) over D-Bus: a local daemon
/// that answers at once when it works.
pub(crate) const SECRET_SERVICE: Service = Service {
    kind: "keyring",
    name: "the Secret Service (OS keyring)",
    wait: Duration::from_secs(10),
    next_step: "check that your keyring daemon (GNOME Keyring, KWallet) runs and is unlocked",
};

/// The TPM: creating the storage key can take seconds on a real chip.
pub(crate) const TPM: Service = Service {
    kind: "tpm",
    name: "the TPM",
    wait: Duration::from_secs(20),
    next_step: "check the TPM (--tpm-tcti, $TESSERA_TPM_TCTI; for a simulator, that swtpm runs)",
};

/// PC/SC (pcscd) and the YubiKey for connecting, the PIN and key metadata.
pub(crate) const PCSC: Service = Service {
    kind: "yubikey",
    name: "the smart-card service (PC/SC)",
    wait: Duration::from_secs(10),
    next_step: "check that pcscd runs and the YubiKey is inserted",
};

/// The YubiKey's key agreement, which waits for a touch when the key's
/// touch policy asks for one (the key itself gives up after about 15 s).
pub(crate) const YUBIKEY_TOUCH: Service = Service {
    kind: "yubikey",
    name: "the YubiKey",
    wait: Duration::from_secs(25),
    next_step: "touch the YubiKey if it blinks, and check that it stays inserted",
};

impl Service {
    /// The bound in force: `$TESSERA_SERVICE_TIMEOUT_SECS` if set to a
    /// whole number of seconds from 1 to 600, else the service's own.
    pub(crate) fn wait(&self) -> Duration {
        wait_or(self.wait)
    }

    fn timed_out(&self, waited: Duration) -> UnlockError {
        UnlockError::ServiceTimeout { kind: self.kind, service: self.name, waited, next_step: self.next_step }
    }
}

/// `default`, unless `$TESSERA_SERVICE_TIMEOUT_SECS` gives another bound
/// (whole seconds, 1 to 600; other values are ignored). The sync client
/// bounds its requests with the same variable.
pub fn wait_or(default: Duration) -> Duration {
    std::env::var(TIMEOUT_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| (1..=600).contains(s))
        .map(Duration::from_secs)
        .unwrap_or(default)
}

/// Runs `call` on a worker thread and waits at most `service`'s bound for
/// its result. On time-out the worker is abandoned (see the module docs)
/// and the error names the service and what to check.
pub(crate) fn bounded<T: Send + 'static>(
    service: &Service,
    call: impl FnOnce() -> Result<T, UnlockError> + Send + 'static,
) -> Result<T, UnlockError> {
    let wait = service.wait();
    // Room for the one result, so a late worker's send never blocks: it
    // fails once the receiver is gone, and the result is dropped.
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name(format!("tessera-{}", service.kind))
        .spawn(move || {
            let _ = tx.send(call());
        })
        .map_err(|e| UnlockError::FactorUnavailable {
            kind: service.kind,
            reason: format!("cannot start a thread to wait for {} ({e})", service.name),
        })?;
    match rx.recv_timeout(wait) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(service.timed_out(wait)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(UnlockError::FactorUnavailable {
            kind: service.kind,
            reason: format!("the call to {} stopped unexpectedly", service.name),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    use super::*;

    const QUICK: Service =
        Service { kind: "test", name: "the test service", wait: Duration::from_secs(1), next_step: "check it" };

    #[test]
    fn an_answer_within_the_bound_is_returned() {
        let out = bounded(&QUICK, || Ok(7));
        assert_eq!(out.unwrap(), 7);
    }

    #[test]
    fn an_error_within_the_bound_is_returned_as_is() {
        let out: Result<(), _> = bounded(&QUICK, || Err(UnlockError::WrongPassword));
        assert!(matches!(out, Err(UnlockError::WrongPassword)));
    }

    #[test]
    fn a_call_that_never_returns_ends_at_the_bound_naming_the_service() {
        let start = Instant::now();
        let out: Result<(), _> = bounded(&QUICK, || {
            std::thread::sleep(Duration::from_secs(3600));
            Ok(())
        });
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(3), "{took:?}");
        let e = out.unwrap_err();
        assert!(e.is_service_timeout(), "{e}");
        assert!(matches!(e, UnlockError::ServiceTimeout { kind: "test", .. }));
        assert_eq!(e.to_string(), "cannot use the test factor: the test service did not answer in 1 s: check it");
    }

    #[test]
    fn a_late_result_is_dropped_and_the_worker_does_not_block() {
        struct Wiped(Arc<AtomicBool>);
        impl Drop for Wiped {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = dropped.clone();
        let out = bounded(&QUICK, move || {
            std::thread::sleep(Duration::from_millis(1500));
            Ok(Wiped(flag))
        });
        assert!(out.is_err());
        let until = Instant::now() + Duration::from_secs(5);
        while !dropped.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(dropped.load(Ordering::SeqCst), "the late result was never dropped");
    }

    #[test]
    fn a_panicking_call_is_an_error_not_a_panic() {
        let out: Result<(), _> = bounded(&QUICK, || panic!("boom"));
        let e = out.unwrap_err();
        assert!(!e.is_service_timeout());
        assert!(e.to_string().contains("stopped unexpectedly"), "{e}");
    }

    #[test]
    fn the_default_bounds_are_the_documented_ones() {
        assert_eq!(SECRET_SERVICE.wait, Duration::from_secs(10));
        assert_eq!(TPM.wait, Duration::from_secs(20));
        assert_eq!(PCSC.wait, Duration::from_secs(10));
        assert_eq!(YUBIKEY_TOUCH.wait, Duration::from_secs(25));
    }
}
