//! "Scan QR code from screen": one picture of the whole X11 screen (the
//! root window, through `GetImage`), handed to [`tessera_interop::qr`].
//!
//! Only X11 can be read this way. Under Wayland an X client sees nothing
//! of other programs' windows (XWayland's root is empty), and reading the
//! screen there needs the desktop portal's consent dialog; so a Wayland
//! session, or no display at all, gets a plain "not available: use an
//! image file" instead of a black picture with no code in it.
//!
//! The capture runs on a thread of its own and is given up after
//! [`CAPTURE_TIMEOUT`]: a hung X server must not hang the command. The
//! pixels (which may show anything, secrets included) are wiped when the
//! scan is done.

use std::sync::mpsc;
use std::time::Duration;

use tessera_interop::qr::{self, Frame, PixelOrder, ScanError, Scanned};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, ImageFormat, ImageOrder, Screen, Setup};
use zeroize::Zeroizing;

/// The longest a capture and its decoding may take. Reading an 8K screen
/// and searching it takes about a second; much longer means the X server
/// or the picture is not what we think.
pub const CAPTURE_TIMEOUT: Duration = Duration::from_secs(15);

/// Why the screen could not be scanned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScreenError {
    /// Not an X11 session.
    #[error(
        "scanning the screen is not available {why}: show the QR code in a picture and use \"From image file…\" instead"
    )]
    Unavailable {
        /// "in a Wayland session", "without an X display".
        why: &'static str,
    },
    /// The X server could not be reached or refused the capture.
    #[error("the screen could not be captured: {0}")]
    Capture(String),
    /// The screen's pixels are in a layout this reader does not know.
    #[error("the screen could not be read: its pixel format ({0}) is not supported; use \"From image file…\" instead")]
    PixelFormat(String),
    /// The capture or the search took longer than [`CAPTURE_TIMEOUT`].
    #[error("scanning the screen took longer than {} s and was stopped", CAPTURE_TIMEOUT.as_secs())]
    TimedOut,
    /// The capture worked; the picture held no usable code.
    #[error(transparent)]
    Scan(#[from] ScanError),
}

/// Captures the screen and reads the one-time passwords of the QR codes on
/// it, within [`CAPTURE_TIMEOUT`].
pub fn scan_screen() -> Result<Scanned, ScreenError> {
    Ok(qr::otp_accounts(&read_codes()?)?)
}

/// Captures the screen and reads the text of every QR code on it, within
/// [`CAPTURE_TIMEOUT`]: what each kind of scan (one-time passwords, a
/// person's identity) makes sense of. The texts may be secrets.
pub fn read_codes() -> Result<Vec<Zeroizing<String>>, ScreenError> {
    let display = std::env::var("DISPLAY").ok();
    let session_type = std::env::var("XDG_SESSION_TYPE").ok();
    let wayland_display = std::env::var_os("WAYLAND_DISPLAY").is_some_and(|v| !v.is_empty());
    check_available(display.as_deref(), session_type.as_deref(), wayland_display)?;
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("screen-scan".into())
        .spawn(move || {
            // The receiver may have given up waiting: nothing to tell then.
            let _ = tx.send(capture_and_decode(display.as_deref()));
        })
        .map_err(|e| ScreenError::Capture(format!("cannot start the capture: {e}")))?;
    rx.recv_timeout(CAPTURE_TIMEOUT).map_err(|_| ScreenError::TimedOut)?
}

/// Whether this session's screen can be read as an X11 root window.
fn check_available(
    display: Option<&str>,
    session_type: Option<&str>,
    wayland_display: bool,
) -> Result<(), ScreenError> {
    if session_type.is_some_and(|t| t.eq_ignore_ascii_case("wayland")) || wayland_display {
        return Err(ScreenError::Unavailable { why: "in a Wayland session" });
    }
    if display.is_none_or(|d| d.trim().is_empty()) {
        return Err(ScreenError::Unavailable { why: "without an X display" });
    }
    Ok(())
}

fn capture_and_decode(display: Option<&str>) -> Result<Vec<Zeroizing<String>>, ScreenError> {
    let (conn, screen_num) = x11rb::connect(display).map_err(|e| ScreenError::Capture(e.to_string()))?;
    let setup = conn.setup();
    let screen = setup.roots.get(screen_num).ok_or_else(|| ScreenError::Capture("no such X screen".into()))?;
    let (width, height) = (screen.width_in_pixels, screen.height_in_pixels);
    // Refuse a huge screen before asking the server for its pixels.
    qr::check_size(u32::from(width), u32::from(height))?;
    let reply = conn
        .get_image(ImageFormat::Z_PIXMAP, screen.root, 0, 0, width, height, u32::MAX)
        .map_err(|e| ScreenError::Capture(e.to_string()))?
        .reply()
        .map_err(|e| ScreenError::Capture(e.to_string()))?;
    let pixels = Zeroizing::new(reply.data);
    let order = pixel_order(setup, screen, reply.depth, reply.visual)?;
    let frame = Frame::new(u32::from(width), u32::from(height), order, &pixels)?;
    Ok(qr::decode_frame(&frame)?)
}

/// The byte order of a `ZPixmap` capture at `depth` with `visual`, if it is
/// one [`Frame`] reads: 32 bits a pixel, 8 bits a colour. That is every
/// 24- and 32-bit TrueColor screen of today's X servers (Xorg, Xvfb,
/// XWayland); a 16-bit or paletted one is refused rather than misread.
fn pixel_order(setup: &Setup, screen: &Screen, depth: u8, visual: u32) -> Result<PixelOrder, ScreenError> {
    let bits_per_pixel = setup.pixmap_formats.iter().find(|f| f.depth == depth).map(|f| f.bits_per_pixel);
    let masks = screen
        .allowed_depths
        .iter()
        .flat_map(|d| &d.visuals)
        .find(|v| v.visual_id == visual)
        .map(|v| (v.red_mask, v.green_mask, v.blue_mask));
    let describe = || format!("depth {depth}, {} bits a pixel", bits_per_pixel.unwrap_or(0));
    match (bits_per_pixel, masks) {
        (Some(32), Some(masks)) => {
            order_of(masks, setup.image_byte_order).ok_or_else(|| ScreenError::PixelFormat(describe()))
        }
        _ => Err(ScreenError::PixelFormat(describe())),
    }
}

/// Where red and blue sit in the 4 bytes of a 32-bit pixel with these
/// channel masks, stored in `byte_order`.
fn order_of((red, green, blue): (u32, u32, u32), byte_order: ImageOrder) -> Option<PixelOrder> {
    if green != 0x0000_ff00 {
        return None;
    }
    let lsb_first = byte_order == ImageOrder::LSB_FIRST;
    match (red, blue, lsb_first) {
        // 0x00RRGGBB stored little-end first: B, G, R, pad.
        (0x00ff_0000, 0x0000_00ff, true) => Some(PixelOrder::Bgra),
        // 0x00BBGGRR stored little-end first: R, G, B, pad.
        (0x0000_00ff, 0x00ff_0000, true) => Some(PixelOrder::Rgba),
        // Big-endian servers put the padding byte first: not a layout Frame reads.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wayland_or_no_display_says_to_use_an_image_file() {
        for (display, session, wayland) in [
            (Some(":0"), Some("wayland"), false),
            (Some(":0"), None, true),
            (None, Some("x11"), false),
            (Some(""), None, false),
        ] {
            let err = check_available(display, session, wayland).unwrap_err();
            assert!(matches!(err, ScreenError::Unavailable { .. }), "{err:?}");
            let message = err.to_string();
            assert!(message.contains("not available") && message.contains("From image file"), "{message}");
        }
        assert_eq!(check_available(Some(":0"), Some("x11"), false), Ok(()));
        assert_eq!(check_available(Some(":1"), None, false), Ok(()));
    }

    #[test]
    fn truecolor_pixels_map_to_their_byte_order() {
        let (rgb, bgr) = ((0x00ff_0000, 0x0000_ff00, 0x0000_00ff), (0x0000_00ff, 0x0000_ff00, 0x00ff_0000));
        assert_eq!(order_of(rgb, ImageOrder::LSB_FIRST), Some(PixelOrder::Bgra));
        assert_eq!(order_of(bgr, ImageOrder::LSB_FIRST), Some(PixelOrder::Rgba));
        assert_eq!(order_of(rgb, ImageOrder::MSB_FIRST), None);
        // 16-bit RGB565 masks are not read as if they were 8 bits a colour.
        assert_eq!(order_of((0xf800, 0x07e0, 0x001f), ImageOrder::LSB_FIRST), None);
    }

    #[test]
    fn no_x_server_is_an_error_not_a_hang() {
        // A display number nobody serves: the connection fails at once.
        let err = capture_and_decode(Some(":4999")).unwrap_err();
        assert!(matches!(err, ScreenError::Capture(_)), "{err:?}");
    }
}
