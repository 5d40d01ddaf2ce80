//! One-time passwords from QR codes: a picture (a PNG or JPEG file, or a
//! frame captured from the screen) in, the accounts its codes describe out.
//!
//! A site shows its TOTP secret as a QR code of an `otpauth://` URI; Google
//! Authenticator's "Transfer accounts" shows batches of accounts as
//! `otpauth-migration://` codes. Both are read by [`crate::otpauth`], so
//! an account from a QR code is exactly the one an otpauth import would
//! make. Codes are found and decoded by `rqrr` on a grey copy of the
//! picture.
//!
//! The picture comes from outside (a file the user picked, whatever the
//! screen shows), so the work is bounded before it starts: a file over
//! [`MAX_IMAGE_FILE`] bytes or a picture over [`MAX_PIXELS`] pixels is
//! refused, the decoder is held to the same limit on what it allocates,
//! and at most [`MAX_CODES`] codes of one picture are decoded. What a code
//! holds is a secret: no error here repeats it, and [`ScannedOtp`]'s
//! `Debug` leaves its URI out.

use std::fmt;
use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};
use tessera_core::totp::Otp;
use zeroize::{Zeroize, Zeroizing};

use crate::Skipped;
use crate::otpauth;

/// Most pixels in a picture searched for QR codes: an 8K screen
/// (7680 × 4320) fits, with room for a photo of a code from any phone.
/// rqrr copies the grey picture while it tries each candidate code, so
/// the work grows with the area.
pub const MAX_PIXELS: u64 = 1 << 25;
/// Largest image file read. A PNG of a whole 8K screen is a few tens of
/// megabytes at worst; a picture of one QR code is a few kilobytes.
pub const MAX_IMAGE_FILE: u64 = 64 << 20;
/// Most QR codes decoded from one picture. A migration export spans a
/// handful; more is not a picture of one-time passwords.
pub const MAX_CODES: usize = 32;
/// Most bytes the image decoder may allocate: 16-bit RGBA is the widest
/// PNG layout, 8 bytes a pixel.
const MAX_DECODE_ALLOC: u64 = MAX_PIXELS * 8;

/// The order of the four bytes of a pixel in a [`Frame`]. The fourth byte
/// (alpha, or padding in an X11 capture) is ignored: a screen is opaque.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelOrder {
    /// Red, green, blue, alpha.
    Rgba,
    /// Blue, green, red, alpha or padding: X11's 24-bit TrueColor on a
    /// little-endian machine.
    Bgra,
}

/// A raw picture of 4 bytes a pixel, rows top to bottom without padding,
/// as a screen capture gives it.
#[derive(Clone, Copy)]
pub struct Frame<'a> {
    width: u32,
    height: u32,
    order: PixelOrder,
    pixels: &'a [u8],
}

impl<'a> Frame<'a> {
    /// A frame over `pixels`, which must hold exactly `width × height × 4`
    /// bytes; a frame over [`MAX_PIXELS`] pixels is refused.
    pub fn new(width: u32, height: u32, order: PixelOrder, pixels: &'a [u8]) -> Result<Self, ScanError> {
        check_size(width, height)?;
        let expected = u64::from(width) * u64::from(height) * 4;
        if pixels.len() as u64 != expected {
            return Err(ScanError::BadFrame { width, height, len: pixels.len() });
        }
        Ok(Frame { width, height, order, pixels })
    }
}

impl fmt::Debug for Frame<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame").field("width", &self.width).field("height", &self.height).finish_non_exhaustive()
    }
}

/// One account read from a QR code, ready for an item's TOTP field.
pub struct ScannedOtp {
    /// Who issued it ("GitHub"), when the code says.
    pub issuer: Option<String>,
    /// The account at the issuer ("alice@example.com"), when the code says.
    pub account: Option<String>,
    /// The title an item of its own would get: the issuer, else the
    /// account, else "One-time password" (as an otpauth import titles it).
    pub title: String,
    /// The canonical `otpauth://` URI: holds the secret.
    pub uri: Zeroizing<String>,
}

impl fmt::Debug for ScannedOtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScannedOtp")
            .field("issuer", &self.issuer)
            .field("account", &self.account)
            .field("title", &self.title)
            .field("uri", &"<redacted>")
            .finish()
    }
}

/// What the QR codes of one picture held.
#[derive(Debug)]
pub struct Scanned {
    /// Every account, in the order of the codes' text (one for an
    /// `otpauth://` code, all of a migration batch).
    pub accounts: Vec<ScannedOtp>,
    /// Accounts a code named but that cannot be used (an MD5 one, say),
    /// with why; never a secret.
    pub skipped: Vec<Skipped>,
}

/// Why no one-time password came out of a picture. No variant carries
/// what a code holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The file is larger than [`MAX_IMAGE_FILE`].
    #[error("the file is larger than {max} MB, too large for a picture of a QR code", max = MAX_IMAGE_FILE >> 20)]
    FileTooLarge,
    /// The picture has more than [`MAX_PIXELS`] pixels.
    #[error(
        "the picture is {width} × {height} pixels, more than the {max} million read: crop it to the QR code",
        max = MAX_PIXELS / 1_000_000
    )]
    TooManyPixels {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
    },
    /// A raw frame's byte count does not match its size.
    #[error("a {width} × {height} frame needs {} bytes, not {len}", u64::from(*width) * u64::from(*height) * 4)]
    BadFrame {
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
        /// The bytes given.
        len: usize,
    },
    /// Neither PNG nor JPEG.
    #[error("the file is not a PNG or JPEG picture")]
    NotAnImage,
    /// A PNG or JPEG that cannot be decoded.
    #[error("the picture cannot be read: {0}")]
    DamagedImage(String),
    /// No QR code anywhere in the picture.
    #[error("no QR code was found: make sure the whole code is visible and not too small")]
    NoCode,
    /// QR codes were found but none could be decoded.
    #[error("a QR code was found but could not be read: make it larger or sharper and try again")]
    Unreadable,
    /// The codes hold something else (a web address, Wi-Fi settings, …).
    #[error("this QR code is not a one-time-password code (it holds no otpauth:// link)")]
    NotOtp,
    /// The code is an `otpauth://` one, but none of its accounts can be
    /// used; `reason` is the first account's, from [`crate::otpauth`].
    #[error("the QR code's one-time password cannot be used: {reason}")]
    InvalidOtp {
        /// Why, naming the problem and never the value.
        reason: String,
    },
}

/// The accounts in the QR codes of a PNG or JPEG file's `bytes`.
pub fn scan_image(bytes: &[u8]) -> Result<Scanned, ScanError> {
    otp_accounts(&decode_image(bytes)?)
}

/// The accounts in the QR codes of a captured screen.
pub fn scan_frame(frame: &Frame<'_>) -> Result<Scanned, ScanError> {
    otp_accounts(&decode_frame(frame)?)
}

/// The text of every QR code in a PNG or JPEG file, in the order found.
pub fn decode_image(bytes: &[u8]) -> Result<Vec<Zeroizing<String>>, ScanError> {
    if bytes.len() as u64 > MAX_IMAGE_FILE {
        return Err(ScanError::FileTooLarge);
    }
    let reader = || -> Result<ImageReader<Cursor<&[u8]>>, ScanError> {
        let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| ScanError::NotAnImage)?;
        match reader.format() {
            Some(ImageFormat::Png | ImageFormat::Jpeg) => Ok(reader),
            _ => Err(ScanError::NotAnImage),
        }
    };
    // The header first, so a huge picture is refused by its size alone.
    let (width, height) = reader()?.into_dimensions().map_err(|e| ScanError::DamagedImage(e.to_string()))?;
    check_size(width, height)?;
    let mut reader = reader()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let picture = reader.decode().map_err(|e| ScanError::DamagedImage(e.to_string()))?;
    // Grey over white: a code drawn on a transparent background is dark
    // on light once its transparent pixels count as the paper.
    let mut grey = picture.to_luma_alpha8();
    drop(picture);
    let (w, h) = (grey.width() as usize, grey.height() as usize);
    let samples = grey.as_raw();
    let texts = decode_grey(w, h, |x, y| {
        let i = (y * w + x) * 2;
        let (l, a) = (u32::from(samples[i]), u32::from(samples[i + 1]));
        ((l * a + 255 * (255 - a)) / 255) as u8
    });
    // The picture is the secret in another form. The decoders' own copies
    // are beyond reach; ours, at least, does not outlive the scan.
    (*grey).zeroize();
    texts
}

/// The text of every QR code in a raw frame, in the order found.
pub fn decode_frame(frame: &Frame<'_>) -> Result<Vec<Zeroizing<String>>, ScanError> {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let (r, b) = match frame.order {
        PixelOrder::Rgba => (0, 2),
        PixelOrder::Bgra => (2, 0),
    };
    let pixels = frame.pixels;
    decode_grey(w, h, |x, y| {
        let i = (y * w + x) * 4;
        luma(pixels[i + r], pixels[i + 1], pixels[i + b])
    })
}

/// The accounts the codes' `texts` describe. Codes that are not one-time
/// passwords are ignored when another one is; alone they are
/// [`ScanError::NotOtp`].
pub fn otp_accounts(texts: &[Zeroizing<String>]) -> Result<Scanned, ScanError> {
    let mut scanned = Scanned { accounts: Vec::new(), skipped: Vec::new() };
    let mut seen: Vec<&str> = Vec::new();
    for text in texts {
        let text = text.trim();
        // The same code twice on the screen gives its accounts once.
        if !text.lines().any(otpauth::is_otp_line) || seen.contains(&text) {
            continue;
        }
        seen.push(text);
        // A QR code of otpauth lines is an otpauth file of one line (or a
        // few): the import reads it, and its items are what we offer.
        let imported = otpauth::parse(text.as_bytes()).map_err(|e| ScanError::InvalidOtp { reason: e.to_string() })?;
        scanned.skipped.extend(imported.skipped);
        for new in imported.items {
            let item = &new.current.item;
            let Some(uri) = item.otp.as_deref() else { continue };
            let otp = Otp::parse_uri(uri).map_err(|e| ScanError::InvalidOtp { reason: e.to_string() })?;
            scanned.accounts.push(ScannedOtp {
                issuer: otp.issuer.clone(),
                account: otp.account.clone(),
                title: item.title.clone(),
                uri: otp.to_uri(),
            });
        }
    }
    if scanned.accounts.is_empty() {
        return Err(match scanned.skipped.first() {
            Some(skipped) => ScanError::InvalidOtp { reason: skipped.reason.clone() },
            None => ScanError::NotOtp,
        });
    }
    Ok(scanned)
}

/// Refuses a picture of more than [`MAX_PIXELS`] pixels: what a caller
/// checks before fetching the pixels at all (a screen capture).
pub fn check_size(width: u32, height: u32) -> Result<(), ScanError> {
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ScanError::TooManyPixels { width, height });
    }
    Ok(())
}

/// ITU-R BT.601 luma in fixed point (weights × 256).
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b)) >> 8) as u8
}

/// Finds and decodes the QR codes of a `w × h` grey picture whose pixel
/// (x, y) is `grey(x, y)`.
fn decode_grey(w: usize, h: usize, grey: impl FnMut(usize, usize) -> u8) -> Result<Vec<Zeroizing<String>>, ScanError> {
    if w == 0 || h == 0 {
        return Err(ScanError::NoCode);
    }
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, grey);
    let grids = prepared.detect_grids();
    if grids.is_empty() {
        return Err(ScanError::NoCode);
    }
    let mut texts = Vec::new();
    for grid in grids.iter().take(MAX_CODES) {
        let mut bytes = Zeroizing::new(Vec::new());
        if grid.decode_to(&mut *bytes).is_err() {
            continue;
        }
        // Binary content cannot be an otpauth:// URI; the caller says so.
        match String::from_utf8(std::mem::take(&mut *bytes)) {
            Ok(text) => texts.push(Zeroizing::new(text)),
            Err(e) => drop(Zeroizing::new(e.into_bytes())),
        }
    }
    if texts.is_empty() {
        return Err(ScanError::Unreadable);
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otpauth::tests::{P, migration_line, payload};
    use image::{GrayImage, ImageEncoder, Luma, RgbaImage};

    const SECRET_B32: &str = "JBSWY3DPEHPK3PXP";

    /// A QR code of `text`: `scale` pixels a module, dark on light, with
    /// the 4-module quiet zone the standard asks for.
    fn qr_picture(text: &str, scale: u32) -> GrayImage {
        let code = qrcode::QrCode::new(text.as_bytes()).expect("the text fits a QR code");
        let modules = code.width() as u32;
        let colors = code.to_colors();
        let side = (modules + 8) * scale;
        GrayImage::from_fn(side, side, |x, y| {
            let (mx, my) = ((x / scale).wrapping_sub(4), (y / scale).wrapping_sub(4));
            let on = mx < modules && my < modules && colors[(my * modules + mx) as usize] == qrcode::Color::Dark;
            Luma([if on { 0 } else { 255 }])
        })
    }

    fn png(picture: &GrayImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(picture.as_raw(), picture.width(), picture.height(), image::ExtendedColorType::L8)
            .unwrap();
        out
    }

    fn jpeg(picture: &GrayImage, quality: u8) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .write_image(picture.as_raw(), picture.width(), picture.height(), image::ExtendedColorType::L8)
            .unwrap();
        out
    }

    /// A small deterministic noise source (xorshift32): the same picture
    /// on every run.
    struct Noise(u32);

    impl Noise {
        fn next(&mut self) -> u32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            self.0
        }
    }

    /// CRC-32 (ISO-HDLC, as PNG uses it), bit by bit.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn titles_and_accounts(scanned: &Scanned) -> Vec<(&str, Option<&str>, Option<&str>)> {
        scanned.accounts.iter().map(|a| (a.title.as_str(), a.issuer.as_deref(), a.account.as_deref())).collect()
    }

    #[test]
    fn a_png_of_one_otpauth_uri_gives_its_account() {
        let uri = format!("otpauth://totp/GitHub:octocat?secret={SECRET_B32}&issuer=GitHub");
        let scanned = scan_image(&png(&qr_picture(&uri, 4))).unwrap();
        assert_eq!(titles_and_accounts(&scanned), [("GitHub", Some("GitHub"), Some("octocat"))]);
        assert!(scanned.skipped.is_empty());
        let otp = Otp::parse_uri(&scanned.accounts[0].uri).unwrap();
        assert_eq!(otp.secret().to_base32().as_str(), SECRET_B32);
        // RFC 6238's SHA-1 code for this secret at T = 59 s, as oathtool gives it.
        assert_eq!(otp.code_at(59).unwrap().code.as_str(), "996554");
    }

    #[test]
    fn a_migration_batch_of_three_gives_all_three_accounts() {
        let batch = [
            P::totp(b"first-secret", "alice@example.com", "Mail"),
            P::totp(b"second", "Bank:bob", ""),
            P::totp(b"third-secret-bytes", "carol", ""),
        ];
        let line = migration_line(&payload(&batch));
        let scanned = scan_image(&png(&qr_picture(&line, 3))).unwrap();
        assert_eq!(
            titles_and_accounts(&scanned),
            [
                ("Mail", Some("Mail"), Some("alice@example.com")),
                ("Bank", Some("Bank"), Some("bob")),
                ("carol", None, Some("carol")),
            ]
        );
        let secrets: Vec<Vec<u8>> =
            scanned.accounts.iter().map(|a| Otp::parse_uri(&a.uri).unwrap().secret().as_bytes().to_vec()).collect();
        assert_eq!(secrets, [&b"first-secret"[..], b"second", b"third-secret-bytes"]);
    }

    #[test]
    fn a_noisy_scaled_jpeg_photo_of_a_code_is_read() {
        let uri = format!("otpauth://totp/Shop:dave?secret={SECRET_B32}&issuer=Shop&digits=8");
        let code = qr_picture(&uri, 1);
        // 3.4 pixels a module (no whole number), grey ink on grey paper,
        // off centre on a shaded page, with noise, through a lossy JPEG.
        let scale = 3.4;
        let (left, top) = (57.0, 41.0);
        let side = f64::from(code.width()) * scale;
        let mut noise = Noise(0x2545_f491);
        let page = GrayImage::from_fn(640, 480, |x, y| {
            let shade = 150 + (x * 60 / 640) as i32;
            let (u, v) = ((f64::from(x) - left) / scale, (f64::from(y) - top) / scale);
            let base = if (0.0..side / scale).contains(&u) && (0.0..side / scale).contains(&v) {
                if code.get_pixel(u as u32, v as u32).0[0] == 0 { 45 } else { 225 }
            } else {
                shade
            };
            let jitter = (noise.next() % 61) as i32 - 30;
            Luma([(base + jitter).clamp(0, 255) as u8])
        });
        let scanned = scan_image(&jpeg(&page, 70)).unwrap();
        assert_eq!(titles_and_accounts(&scanned), [("Shop", Some("Shop"), Some("dave"))]);
        assert_eq!(Otp::parse_uri(&scanned.accounts[0].uri).unwrap().digits, 8);
    }

    #[test]
    fn a_screen_frame_in_x11_byte_order_is_read() {
        let uri = format!("otpauth://totp/Forum:erin?secret={SECRET_B32}");
        let code = qr_picture(&uri, 3);
        // Blue, green, red, padding; the code drawn in dark blue on a
        // pale yellow window, at (200, 100) of a 800 × 600 screen.
        let screen = RgbaImage::from_fn(800, 600, |x, y| {
            let inside = (200..200 + code.width()).contains(&x) && (100..100 + code.height()).contains(&y);
            let dark = inside && code.get_pixel(x - 200, y - 100).0[0] == 0;
            if dark { image::Rgba([90, 20, 10, 0]) } else { image::Rgba([200, 250, 255, 0]) }
        });
        let frame = Frame::new(800, 600, PixelOrder::Bgra, screen.as_raw()).unwrap();
        let scanned = scan_frame(&frame).unwrap();
        assert_eq!(titles_and_accounts(&scanned), [("Forum", Some("Forum"), Some("erin"))]);
    }

    #[test]
    fn a_picture_without_a_code_says_so() {
        let mut noise = Noise(7);
        let page = GrayImage::from_fn(300, 200, |_, _| Luma([(noise.next() % 256) as u8]));
        assert_eq!(scan_image(&png(&page)).unwrap_err(), ScanError::NoCode);
        let blank = GrayImage::from_pixel(64, 64, Luma([255]));
        assert_eq!(scan_image(&jpeg(&blank, 90)).unwrap_err(), ScanError::NoCode);
    }

    #[test]
    fn a_code_of_a_web_address_is_not_a_one_time_password() {
        for text in ["https://example.com/login", "WIFI:S:home;T:WPA;P:hunter2;;", "JBSWY3DPEHPK3PXP"] {
            let err = scan_image(&png(&qr_picture(text, 4))).unwrap_err();
            assert_eq!(err, ScanError::NotOtp, "{text}");
            assert_eq!(err.to_string(), "this QR code is not a one-time-password code (it holds no otpauth:// link)");
        }
    }

    #[test]
    fn a_broken_otpauth_code_names_the_problem_not_the_secret() {
        let uri = "otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP&algorithm=MD5";
        let err = scan_image(&png(&qr_picture(uri, 4))).unwrap_err();
        assert!(matches!(err, ScanError::InvalidOtp { .. }), "{err:?}");
        assert!(err.to_string().contains("unsupported algorithm"), "{err}");
        assert!(!err.to_string().contains("JBSWY3DPEHPK3PXP"), "{err}");
    }

    #[test]
    fn the_same_code_twice_gives_its_account_once_and_other_codes_are_ignored() {
        let uri = format!("otpauth://totp/Twice:t?secret={SECRET_B32}");
        let texts: Vec<Zeroizing<String>> = [uri.as_str(), "https://example.com", uri.as_str()]
            .into_iter()
            .map(|t| Zeroizing::new(t.to_owned()))
            .collect();
        let scanned = otp_accounts(&texts).unwrap();
        assert_eq!(titles_and_accounts(&scanned), [("Twice", Some("Twice"), Some("t"))]);
    }

    #[test]
    fn oversized_pictures_are_refused_before_decoding() {
        // A PNG header that declares 10 000 × 10 000 pixels: refused by
        // its size, never decoded (the rest of the file is missing).
        let mut header = png(&GrayImage::new(1, 1));
        header[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        header[20..24].copy_from_slice(&10_000u32.to_be_bytes());
        // The IHDR chunk's CRC-32 (PNG §5.3) covers its type and data.
        let crc = crc32(&header[12..29]);
        header[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = decode_image(&header).unwrap_err();
        assert_eq!(err, ScanError::TooManyPixels { width: 10_000, height: 10_000 });
        assert!(err.to_string().contains("crop it"), "{err}");
        assert_eq!(
            Frame::new(10_000, 10_000, PixelOrder::Rgba, &[]).unwrap_err(),
            ScanError::TooManyPixels { width: 10_000, height: 10_000 }
        );
        assert!(matches!(Frame::new(2, 2, PixelOrder::Rgba, &[0; 15]), Err(ScanError::BadFrame { len: 15, .. })));
        let huge = vec![0u8; MAX_IMAGE_FILE as usize + 1];
        assert_eq!(decode_image(&huge).unwrap_err(), ScanError::FileTooLarge);
    }

    #[test]
    fn files_that_are_not_png_or_jpeg_are_refused_without_panicking() {
        assert_eq!(decode_image(b"").unwrap_err(), ScanError::NotAnImage);
        assert_eq!(decode_image(b"GIF89a....").unwrap_err(), ScanError::NotAnImage);
        assert_eq!(decode_image(b"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP").unwrap_err(), ScanError::NotAnImage);
        let whole = png(&qr_picture("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", 2));
        for cut in [20, 40, whole.len() / 2, whole.len() - 12] {
            assert!(matches!(decode_image(&whole[..cut]), Err(ScanError::DamagedImage(_))), "cut at {cut}");
        }
    }

    #[test]
    fn a_code_on_a_transparent_background_is_read() {
        let uri = format!("otpauth://totp/Clear:c?secret={SECRET_B32}");
        let code = qr_picture(&uri, 4);
        let clear = RgbaImage::from_fn(code.width(), code.height(), |x, y| {
            if code.get_pixel(x, y).0[0] == 0 { image::Rgba([0, 0, 0, 255]) } else { image::Rgba([0, 0, 0, 0]) }
        });
        let mut bytes = Vec::new();
        image::codecs::png::PngEncoder::new(&mut bytes)
            .write_image(clear.as_raw(), clear.width(), clear.height(), image::ExtendedColorType::Rgba8)
            .unwrap();
        let scanned = scan_image(&bytes).unwrap();
        assert_eq!(titles_and_accounts(&scanned), [("Clear", Some("Clear"), Some("c"))]);
    }

    #[test]
    fn debug_output_never_shows_the_uri() {
        let texts = [Zeroizing::new(format!("otpauth://totp/D:d?secret={SECRET_B32}"))];
        let scanned = otp_accounts(&texts).unwrap();
        let debug = format!("{scanned:?}");
        assert!(!debug.contains(SECRET_B32) && !debug.contains("otpauth"), "{debug}");
    }
}
