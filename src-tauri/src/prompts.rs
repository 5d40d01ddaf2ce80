//! Questions for the user from outside the app — a browser extension, a
//! program asking the SSH agent to sign, an AI agent asking for a value.
//! Each is shown in the main window (an event the UI queues), and the
//! asking thread waits for the answer, for at most [`PROMPT_TIMEOUT`];
//! no answer counts as "no". Locking the vault ends every open question.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::Duration;

use serde::Serialize;
use tauri::{AppHandle, Emitter};

use crate::windows;

/// How long a question waits for the user before it counts as "no".
pub const PROMPT_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, Serialize)]
struct PromptClosed {
    id: u64,
}

/// A question on screen and where its answer goes.
type Waiting<P, A> = (P, SyncSender<Option<A>>);

/// Open questions of one kind: `P` is what the UI shows (no secret in
/// it), `A` the answer it sends back.
pub struct Prompts<P, A> {
    /// The event that shows a question, and the one that ends it.
    events: (&'static str, &'static str),
    next: AtomicU64,
    waiting: Mutex<BTreeMap<u64, Waiting<P, A>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<P: Clone + Serialize, A> Prompts<P, A> {
    /// Questions shown with event `show`, ended with `closed`.
    pub fn new(show: &'static str, closed: &'static str) -> Self {
        Prompts { events: (show, closed), next: AtomicU64::new(0), waiting: Mutex::default() }
    }

    /// Shows `make(id)` in the main window and waits for the answer; `None`
    /// when the user dismissed it, the vault locked or time ran out.
    pub fn ask(&self, app: &AppHandle, make: impl FnOnce(u64) -> P) -> Option<A> {
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let prompt = make(id);
        let (tx, rx) = sync_channel(1);
        lock(&self.waiting).insert(id, (prompt.clone(), tx));
        windows::show_main(app);
        let _ = app.emit_to(windows::MAIN, self.events.0, prompt);
        let answer = rx.recv_timeout(PROMPT_TIMEOUT).ok().flatten();
        lock(&self.waiting).remove(&id);
        let _ = app.emit(self.events.1, PromptClosed { id });
        answer
    }

    /// Delivers the user's answer; `false` when the question had ended.
    pub fn answer(&self, id: u64, answer: Option<A>) -> bool {
        match lock(&self.waiting).remove(&id) {
            Some((_, tx)) => tx.try_send(answer).is_ok(),
            None => false,
        }
    }

    /// Ends every open question with "no answer".
    pub fn dismiss_all(&self) {
        for (_, (_, tx)) in std::mem::take(&mut *lock(&self.waiting)) {
            let _ = tx.try_send(None);
        }
    }

    /// The open questions, oldest first.
    pub fn pending(&self) -> Vec<P> {
        lock(&self.waiting).values().map(|(p, _)| p.clone()).collect()
    }
}
