//! Deadlines for the parts of a connection no request handler sees.
//!
//! The threat: a client that opens connections and never finishes a
//! request (slowloris: half a request line, a header byte every few
//! seconds), or parks idle keep-alive connections, holds a socket and a
//! task each until the server runs out of either. The router's deadline
//! (`limits::guard_request`) starts only once hyper has a request head, so
//! it cannot see these. hyper's own `header_read_timeout` cannot tell an
//! idle keep-alive connection from a slow request head either: its clock
//! starts the moment the previous answer is written.
//!
//! So every accepted stream is wrapped in [`Guarded`], which knows whether
//! a request is being handled (the per-connection service [`Tracked`]
//! counts them) and when the connection last turned idle:
//!
//! - no request in flight, no byte since: closed `--idle-timeout` after
//!   the connection turned idle;
//! - no request in flight, some bytes of the next one read: closed
//!   `--request-timeout` after its first byte;
//! - a request in flight: the router's deadline applies; reads are not
//!   timed here;
//! - an answer the client does not read: closed when a write has waited
//!   `--request-timeout`.
//!
//! Closing is an I/O error from the stream; hyper then drops the
//! connection. With TLS the wrapper sits under the TLS layer, so a
//! dribbled handshake is bounded the same way (and by the acceptor's own
//! handshake timeout).

use std::future::{Future, Ready};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// The two connection deadlines.
#[derive(Clone, Copy, Debug)]
pub struct Deadlines {
    /// From a request's first byte to its head being read; and the longest
    /// a write may wait for the client to read.
    pub request: Duration,
    /// How long a connection may sit idle between requests.
    pub idle: Duration,
}

/// No time recorded.
const NONE: u64 = u64::MAX;

/// What the stream and the service of one connection share.
struct Activity {
    origin: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds since `origin` when the connection last turned idle.
    idle_since: AtomicU64,
    /// Milliseconds since `origin` of the first byte of a request not yet
    /// handed to the service, or `NONE`.
    request_since: AtomicU64,
    /// The reader, parked while a request is in flight, to wake when the
    /// connection turns idle so its idle clock starts.
    reader: Mutex<Option<Waker>>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            origin: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            request_since: AtomicU64::new(NONE),
            reader: Mutex::new(None),
        }
    }

    fn now(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    fn at(&self, ms: u64) -> Instant {
        self.origin + Duration::from_millis(ms)
    }

    /// When reading must give up, if it must.
    fn read_deadline(&self, d: &Deadlines) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        match self.request_since.load(Ordering::Acquire) {
            NONE => Some(self.at(self.idle_since.load(Ordering::Acquire)) + d.idle),
            since => Some(self.at(since) + d.request),
        }
    }

    fn bytes_read(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0 {
            let _ = self.request_since.compare_exchange(NONE, self.now(), Ordering::AcqRel, Ordering::Acquire);
        }
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.request_since.store(NONE, Ordering::Release);
    }

    fn request_ended(&self) {
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle_since.store(self.now(), Ordering::Release);
            if let Some(w) = self.reader.lock().ok().and_then(|mut r| r.take()) {
                w.wake();
            }
        }
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what.to_string())
}

/// A stream with the connection deadlines.
pub struct Guarded<S> {
    inner: S,
    activity: Arc<Activity>,
    deadlines: Deadlines,
    read_timer: Pin<Box<Sleep>>,
    write_timer: Pin<Box<Sleep>>,
    /// When the current wait to write began.
    write_blocked: Option<Instant>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.activity.bytes_read();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                let Some(deadline) = this.activity.read_deadline(&this.deadlines) else {
                    if let Ok(mut r) = this.activity.reader.lock() {
                        *r = Some(cx.waker().clone());
                    }
                    // The request may have ended between the check and
                    // parking the waker; look once more.
                    if this.activity.in_flight.load(Ordering::Acquire) == 0 {
                        cx.waker().wake_by_ref();
                    }
                    return Poll::Pending;
                };
                this.read_timer.as_mut().reset(deadline.into());
                match this.read_timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(timed_out("connection idle or request head too slow"))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> Guarded<S> {
    /// Runs a write, bounding how long it may wait for the client.
    fn bounded<T>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnOnce(Pin<&mut S>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match op(Pin::new(&mut self.inner), cx) {
            Poll::Ready(r) => {
                self.write_blocked = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let since = *self.write_blocked.get_or_insert_with(Instant::now);
                self.write_timer.as_mut().reset((since + self.deadlines.request).into());
                match self.write_timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(timed_out("the client stopped reading"))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().bounded(cx, |s, cx| s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().bounded(cx, |s, cx| s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().bounded(cx, |s, cx| s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().bounded(cx, |s, cx| s.poll_shutdown(cx))
    }
}

/// The per-connection service: counts requests in flight.
#[derive(Clone)]
pub struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

/// Ends a request's count when its answer is ready, or when the request is
/// dropped half-way (the connection closed).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

impl<S, R> tower::Service<R> for Tracked<S>
where
    S: tower::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.activity.request_started();
        let busy = InFlight(self.activity.clone());
        let answer = self.inner.call(request);
        Box::pin(async move {
            let r = answer.await;
            drop(busy);
            r
        })
    }
}

/// The acceptor that wraps each connection (under TLS, if any).
#[derive(Clone, Copy, Debug)]
pub struct GuardAcceptor {
    /// The deadlines every connection gets.
    pub deadlines: Deadlines,
}

impl<S> axum_server::accept::Accept<TcpStream, S> for GuardAcceptor {
    type Stream = Guarded<TcpStream>;
    type Service = Tracked<S>;
    type Future = Ready<io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        // Answers are small JSON; do not hold their last segment back.
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let far = tokio::time::Instant::now() + Duration::from_secs(86400);
        let guarded = Guarded {
            inner: stream,
            activity: activity.clone(),
            deadlines: self.deadlines,
            read_timer: Box::pin(tokio::time::sleep_until(far)),
            write_timer: Box::pin(tokio::time::sleep_until(far)),
            write_blocked: None,
        };
        std::future::ready(Ok((guarded, Tracked { inner: service, activity })))
    }
}
