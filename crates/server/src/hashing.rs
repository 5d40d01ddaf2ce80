//! Argon2 off the async workers, on a fixed pool of threads (one per core)
//! that each keep their Argon2 memory. A burst of logins queues here
//! instead of taking memory per request; and the memory is allocated once,
//! so the allocator has no large blocks to hold on to afterwards.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use crate::secrets::AUTH_HASH_MEMORY_KIB;

type Job = Box<dyn FnOnce(&mut [argon2::Block]) + Send>;

/// The pool.
pub struct HashPool {
    jobs: Mutex<Sender<Job>>,
}

impl HashPool {
    /// Starts `threads` workers.
    pub fn new(threads: usize) -> HashPool {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || worker(&rx))
                .expect("the system can start a thread");
        }
        HashPool { jobs: Mutex::new(tx) }
    }

    /// Runs `f` with a worker's Argon2 memory and returns its result.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut [argon2::Block]) -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = reply.send(f(memory));
        });
        self.jobs.lock().ok()?.send(job).ok()?;
        answer.await.ok()
    }
}

fn worker(rx: &Mutex<Receiver<Job>>) {
    let mut memory = Vec::new();
    loop {
        let job = match rx.lock() {
            Ok(rx) => match rx.recv() {
                Ok(job) => job,
                Err(_) => return, // the pool is gone
            },
            Err(_) => return,
        };
        if memory.is_empty() {
            memory = vec![argon2::Block::default(); AUTH_HASH_MEMORY_KIB as usize];
        }
        job(&mut memory);
    }
}
