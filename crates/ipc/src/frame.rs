//! Frames: a 4-byte length in the machine's byte order, then that many
//! bytes of UTF-8 JSON — the browser's native-messaging framing. The
//! browser speaks it on the host's stdin and stdout; the host and the app
//! speak it on their socket too (so the host relays frames without
//! re-encoding them), as do `tessera mcp` and the app.
//!
//! A frame over [`MAX_FRAME`] is refused without being held in memory: its
//! bytes are read and thrown away, so the stream stays in step and the
//! next frame is read normally.

use std::io::{self, Read, Write};

/// Largest frame accepted either way (1 MiB, as KeePassXC and Chromium's
/// host-to-browser limit).
pub const MAX_FRAME: usize = 1024 * 1024;

/// What reading one frame gave.
#[derive(Debug)]
pub enum Frame {
    /// A whole frame within the limit.
    Message(Vec<u8>),
    /// A frame of `len` bytes, over the limit; its bytes were skipped.
    TooLarge(u64),
}

/// Why no frame could be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The stream ended cleanly between frames.
    #[error("the peer closed the connection")]
    Closed,
    /// The stream ended inside a frame.
    #[error("the stream ended in the middle of a frame ({got} of {expected} bytes)")]
    Truncated {
        /// Bytes received.
        got: u64,
        /// Bytes announced.
        expected: u64,
    },
    /// Reading failed.
    #[error("cannot read a frame: {0}")]
    Io(#[from] io::Error),
}

/// Reads one frame from `r`.
pub fn read_frame(r: &mut impl Read) -> Result<Frame, FrameError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Closed),
            Ok(0) => return Err(FrameError::Truncated { got: got as u64, expected: 4 }),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = u64::from(u32::from_ne_bytes(len));
    if len > MAX_FRAME as u64 {
        let skipped = io::copy(&mut r.take(len), &mut io::sink())?;
        if skipped < len {
            return Err(FrameError::Truncated { got: skipped, expected: len });
        }
        return Ok(Frame::TooLarge(len));
    }
    let mut body = Vec::with_capacity(len as usize);
    let read = r.take(len).read_to_end(&mut body)? as u64;
    if read < len {
        return Err(FrameError::Truncated { got: read, expected: len });
    }
    Ok(Frame::Message(body))
}

/// Writes `body` as one frame and flushes. Refuses a body over
/// [`MAX_FRAME`]: the browser would drop the connection.
pub fn write_frame(w: &mut impl Write, body: &[u8]) -> io::Result<()> {
    if body.len() > MAX_FRAME {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "a frame over 1 MiB cannot be sent to the browser"));
    }
    // One write for length and body, so two writers sharing a stream under
    // a lock never interleave, and a pipe reader never sees half a header.
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_ne_bytes());
    out.extend_from_slice(body);
    w.write_all(&out)?;
    zeroize::Zeroize::zeroize(&mut out);
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_ne_bytes().to_vec();
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn frames_round_trip_in_sequence() {
        let mut buf = Vec::new();
        write_frame(&mut buf, br#"{"a":1}"#).unwrap();
        write_frame(&mut buf, b"{}").unwrap();
        let mut r = buf.as_slice();
        assert!(matches!(read_frame(&mut r), Ok(Frame::Message(m)) if m == br#"{"a":1}"#));
        assert!(matches!(read_frame(&mut r), Ok(Frame::Message(m)) if m == b"{}"));
        assert!(matches!(read_frame(&mut r), Err(FrameError::Closed)));
    }

    #[test]
    fn an_oversized_frame_is_skipped_and_the_next_one_read() {
        let mut stream = framed(&vec![b'x'; MAX_FRAME + 1]);
        stream.extend(framed(b"{}"));
        let mut r = stream.as_slice();
        assert!(matches!(read_frame(&mut r), Ok(Frame::TooLarge(n)) if n == MAX_FRAME as u64 + 1));
        assert!(matches!(read_frame(&mut r), Ok(Frame::Message(m)) if m == b"{}"));
    }

    #[test]
    fn a_truncated_frame_is_reported() {
        let stream = framed(b"{\"long\":true}");
        let mut r = &stream[..8];
        assert!(matches!(read_frame(&mut r), Err(FrameError::Truncated { got: 4, expected: 13 })));
        let mut r = &stream[..2];
        assert!(matches!(read_frame(&mut r), Err(FrameError::Truncated { got: 2, expected: 4 })));
        let huge = u32::MAX.to_ne_bytes();
        let mut r = &huge[..];
        assert!(matches!(read_frame(&mut r), Err(FrameError::Truncated { got: 0, .. })));
    }

    #[test]
    fn writing_an_oversized_frame_is_refused() {
        assert!(write_frame(&mut Vec::new(), &vec![0; MAX_FRAME + 1]).is_err());
    }
}
