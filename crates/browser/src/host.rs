//! The native-messaging host the browser starts (`tessera-browser-host`):
//! it relays frames between the browser (stdin/stdout) and the running app
//! (the socket), unchanged — they are sealed end to end, so the host never
//! sees a secret.
//!
//! When the app is not running the host stays up and answers every request
//! at once with error 5 ("Tessera is not running"), trying the socket again
//! at each request, so the extension says so instead of waiting, and starts
//! working as soon as the app does. When the app goes away after serving,
//! the host exits: the extension sees the disconnect and reconnects with a
//! fresh key exchange when the app is back. A frame over 1 MiB is refused
//! with an error and skipped; the host never buffers it.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::protocol::{Envelope, ErrorCode, ErrorReply};
use tessera_ipc as socket;
use tessera_ipc::frame::{Frame, FrameError, read_frame, write_frame};

/// What the extension is told while the app is not running.
pub const NOT_RUNNING: &str =
    "Tessera is not running. Start Tessera and turn on browser integration in Settings → Browsers.";

/// Why the relay stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The browser closed stdin.
    BrowserClosed,
    /// The app closed the connection.
    AppClosed,
}

/// Relays between `input`/`output` (the browser) and the app's socket at
/// `path` until one side closes.
pub fn relay<R, W>(mut input: R, output: W, path: &Path) -> Ended
where
    R: Read,
    W: Write + Send + 'static,
{
    let output = Arc::new(Mutex::new(output));
    let mut app: Option<UnixStream> = None;
    loop {
        let body = match read_frame(&mut input) {
            Ok(Frame::Message(body)) => body,
            Ok(Frame::TooLarge(len)) => {
                let e = ErrorReply::with(
                    ErrorCode::EmptyMessageReceived,
                    format!("A message of {len} bytes is over the 1 MiB limit; refused"),
                );
                send(&output, &e.to_json("", None));
                continue;
            }
            Err(FrameError::Closed | FrameError::Truncated { .. } | FrameError::Io(_)) => return Ended::BrowserClosed,
        };
        if app.is_none() {
            app = socket::connect(path).ok().and_then(|stream| {
                let reader = stream.try_clone().ok()?;
                let output = output.clone();
                std::thread::Builder::new()
                    .name("from-app".into())
                    .spawn(move || {
                        from_app(reader, &output);
                        // The app went away: end, so the extension reconnects.
                        std::process::exit(0);
                    })
                    .ok()?;
                Some(stream)
            });
        }
        let sent = app.as_mut().is_some_and(|stream| write_frame(stream, &body).is_ok());
        if !sent {
            if app.take().is_some() {
                return Ended::AppClosed;
            }
            let envelope = Envelope::parse(&body).unwrap_or_default();
            let e = ErrorReply::with(ErrorCode::TimeoutOrNotConnected, NOT_RUNNING);
            send(&output, &e.to_json(&envelope.action, envelope.request_id.as_deref()));
        }
    }
}

fn from_app<W: Write>(mut stream: UnixStream, output: &Mutex<W>) {
    loop {
        match read_frame(&mut stream) {
            Ok(Frame::Message(body)) => {
                if write_frame(&mut *output.lock().unwrap_or_else(|p| p.into_inner()), &body).is_err() {
                    return;
                }
            }
            // The app never sends more than 1 MiB; if it did, the browser
            // would drop the port, so drop the frame instead.
            Ok(Frame::TooLarge(_)) => {}
            Err(_) => return,
        }
    }
}

fn send<W: Write>(output: &Mutex<W>, reply: &serde_json::Value) {
    let body = serde_json::to_vec(reply).unwrap_or_default();
    let _ = write_frame(&mut *output.lock().unwrap_or_else(|p| p.into_inner()), &body);
}
