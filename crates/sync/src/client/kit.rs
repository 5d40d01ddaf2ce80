//! The Emergency Kit as a printable PDF, and reading the Secret Key back
//! out of any kit file.
//!
//! The kit is what a user keeps on paper to open the account on a new
//! computer: the server, the email, the Secret Key (as text and as a QR
//! code) and a blank box for the master password. The PDF is written by
//! hand — one A4 page, PDF 1.4, the base-14 fonts (nothing embedded) and
//! one uncompressed content stream — so no PDF library sees the key, and
//! [`secret_from_kit`] can read the key back from the file with a few
//! dozen lines instead of a PDF parser.
//!
//! Every buffer this module fills with the Secret Key (the display text,
//! the QR code's modules, the content stream, the file) is zeroized when
//! dropped. The `qrcode` crate's own working copies while it encodes are
//! beyond reach.

use std::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode};
use zeroize::Zeroizing;

use super::account::{InvalidSecretKey, SecretKey};

/// A4 in points (1/72 in).
const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
/// Left margin, and the width of the text column.
const MARGIN: f32 = 56.0;
const COLUMN: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// One QR module: 4.8 pt is exactly 10 pixels at 150 dpi, so a rendering
/// at that resolution has sharp module edges.
const MODULE: f32 = 4.8;
/// The quiet zone the QR standard asks for around a code, in modules.
const QUIET_ZONE: usize = 4;
/// Lines a server address or an email may take before it is cut short.
const MAX_VALUE_LINES: usize = 3;
/// Room for the whole file, so the buffer holding the key never grows
/// (a `Vec` that grows leaves its old copy behind). A kit is about 8 KiB.
const INITIAL_CAPACITY: usize = 32 * 1024;

/// The fonts of the page's resources: all base-14, WinAnsiEncoding.
#[derive(Clone, Copy)]
enum Font {
    Helvetica,
    HelveticaBold,
    Courier,
    CourierBold,
}

impl Font {
    const ALL: [Font; 4] = [Font::Helvetica, Font::HelveticaBold, Font::Courier, Font::CourierBold];

    fn resource(self) -> &'static str {
        match self {
            Font::Helvetica => "F1",
            Font::HelveticaBold => "F2",
            Font::Courier => "F3",
            Font::CourierBold => "F4",
        }
    }

    fn base_font(self) -> &'static str {
        match self {
            Font::Helvetica => "Helvetica",
            Font::HelveticaBold => "Helvetica-Bold",
            Font::Courier => "Courier",
            Font::CourierBold => "Courier-Bold",
        }
    }
}

/// A byte buffer that may hold the Secret Key: zeroized on drop, and when
/// it must grow the old allocation is zeroized too.
struct SecretBuf(Zeroizing<Vec<u8>>);

impl SecretBuf {
    fn new() -> SecretBuf {
        SecretBuf(Zeroizing::new(Vec::with_capacity(INITIAL_CAPACITY)))
    }

    fn push(&mut self, bytes: &[u8]) {
        let needed = self.0.len() + bytes.len();
        if needed > self.0.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(needed.max(2 * self.0.capacity())));
            bigger.extend_from_slice(&self.0);
            // The old allocation is zeroized as it is dropped here.
            self.0 = bigger;
        }
        self.0.extend_from_slice(bytes);
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

impl std::fmt::Write for SecretBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

/// The page's drawing operators, top to bottom.
struct Page {
    content: SecretBuf,
    /// The baseline of the next line of text.
    y: f32,
}

impl Page {
    /// One line of text at the left margin, `leading` points below the last.
    fn line(&mut self, font: Font, size: f32, leading: f32, text: &str) {
        self.y -= leading;
        self.text_at(font, size, MARGIN, self.y, text);
    }

    fn text_at(&mut self, font: Font, size: f32, x: f32, y: f32, text: &str) {
        // Writing to a `SecretBuf` cannot fail.
        let _ = write!(self.content, "BT /{} {size} Tf {x:.2} {y:.2} Td ", font.resource());
        push_string(&mut self.content, text);
        self.content.push(b" Tj ET\n");
    }

    /// A value in a monospace font, wrapped to the column and cut short
    /// after [`MAX_VALUE_LINES`] lines.
    fn wrapped(&mut self, font: Font, size: f32, leading: f32, indent: &str, text: &str, suffix: &str) {
        // Courier's glyphs are all 0.6 em wide.
        let per_line = ((COLUMN / (0.6 * size)) as usize).saturating_sub(indent.len() + suffix.len()).max(8);
        let chars: Vec<char> = text.chars().collect();
        let mut lines: Vec<String> = chars.chunks(per_line).map(|c| c.iter().collect()).collect();
        if lines.is_empty() {
            lines.push(String::new());
        }
        if lines.len() > MAX_VALUE_LINES {
            lines.truncate(MAX_VALUE_LINES);
            if let Some(last) = lines.last_mut() {
                last.pop();
                last.push('…');
            }
        }
        let count = lines.len();
        for (i, l) in lines.into_iter().enumerate() {
            let tail = if i + 1 == count { suffix } else { "" };
            self.line(font, size, leading, &format!("{indent}{l}{tail}"));
        }
    }
}

/// The Emergency Kit as a one-page A4 PDF: the server, the email and the
/// Secret Key (in text and as a QR code of its display form), a box to
/// write the master password in by hand, and how to sign in on a new
/// computer with the app or the CLI.
///
/// The base-14 fonts only draw WinAnsi (Windows-1252) characters: any
/// other character of `server` or `email` is drawn as `?`. What counts for
/// signing in is the server and email as the user typed them, which the
/// kit only reminds them of; the Secret Key itself is always ASCII.
/// A server or email longer than three lines is cut short with `…`.
pub fn pdf(server: &str, email: &str, secret: &SecretKey) -> Zeroizing<Vec<u8>> {
    let display = secret.to_display();
    let mut page = Page { content: SecretBuf::new(), y: PAGE_HEIGHT - 38.0 };

    page.line(Font::HelveticaBold, 24.0, 24.0, "Tessera Emergency Kit");
    page.line(Font::Helvetica, 11.0, 26.0, "This kit and your master password open your Tessera sync account on a new");
    page.line(
        Font::Helvetica,
        11.0,
        14.0,
        "computer. Print it, keep it offline with your recovery code, and delete the file.",
    );

    page.line(Font::HelveticaBold, 10.0, 32.0, "Server");
    page.wrapped(Font::Courier, 12.0, 16.0, "", server, "");
    page.line(Font::HelveticaBold, 10.0, 24.0, "Email");
    page.wrapped(Font::Courier, 12.0, 16.0, "", email, "");
    page.line(Font::HelveticaBold, 10.0, 24.0, "Secret Key");
    page.line(Font::CourierBold, 20.0, 24.0, &display);

    // The box for the master password, to be written by hand.
    let box_height = 44.0;
    let box_top = page.y - 18.0;
    let _ = writeln!(page.content, "0.8 w {MARGIN:.2} {:.2} {COLUMN:.2} {box_height:.2} re S", box_top - box_height);
    page.text_at(Font::HelveticaBold, 11.0, MARGIN + 8.0, box_top - 26.0, "Master password:");
    page.y = box_top - box_height;

    let side = qr(&mut page.content, &display, MARGIN - QUIET_ZONE as f32 * MODULE, page.y - 8.0);
    let caption_x = MARGIN + (side - QUIET_ZONE as f32 * MODULE) + 18.0;
    for (i, l) in ["The Secret Key as a QR code:", "scan it instead of typing", "the key on a new computer."]
        .into_iter()
        .enumerate()
    {
        page.text_at(Font::Helvetica, 10.0, caption_x, page.y - 8.0 - side / 2.0 + 14.0 - 14.0 * i as f32, l);
    }
    page.y -= 8.0 + side;

    page.line(Font::HelveticaBold, 13.0, 16.0, "Signing in on a new computer");
    page.line(
        Font::Helvetica,
        10.5,
        20.0,
        "In the Tessera app: choose \"Sign in to sync\" on the welcome screen, then enter",
    );
    page.line(
        Font::Helvetica,
        10.5,
        14.0,
        "the server, the email, the Secret Key (or read this file) and your master password.",
    );
    page.line(
        Font::Helvetica,
        10.5,
        22.0,
        "With the tessera command, where THIS_FILE is this kit's file (the PDF or the text kit):",
    );
    page.line(Font::Courier, 9.0, 16.0, "tessera --vault NEW.tessera sync clone \\");
    page.wrapped(Font::Courier, 9.0, 11.0, "    --server ", server, " \\");
    page.wrapped(Font::Courier, 9.0, 11.0, "    --email ", email, " \\");
    page.line(Font::Courier, 9.0, 11.0, "    --secret-key-file THIS_FILE");
    page.line(
        Font::Helvetica,
        9.0,
        24.0,
        "The server never sees the Secret Key. Anyone who has this kit and your master",
    );
    page.line(
        Font::Helvetica,
        9.0,
        11.0,
        "password can open your account: keep the two apart unless this page is locked away.",
    );

    document(&page.content.0)
}

/// Draws the QR code of `text` with its top-left corner (quiet zone
/// included) at `(x, top)`; returns the side of the square in points.
fn qr(content: &mut SecretBuf, text: &str, x: f32, top: f32) -> f32 {
    // Level Q survives a quarter of the code smudged or folded; the key's
    // 36 characters are all in QR's alphanumeric set, so the code stays
    // small (version 3 or 4).
    let Ok(code) = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q) else {
        // Unreachable for a Secret Key; the text above still holds it.
        return 0.0;
    };
    let width = code.width();
    let mut modules = code.into_colors();
    // One rectangle per run of dark modules in a row.
    for row in 0..width {
        let y = top - (QUIET_ZONE + row + 1) as f32 * MODULE;
        let mut col = 0;
        while col < width {
            if modules[row * width + col] != Color::Dark {
                col += 1;
                continue;
            }
            let start = col;
            while col < width && modules[row * width + col] == Color::Dark {
                col += 1;
            }
            let rx = x + (QUIET_ZONE + start) as f32 * MODULE;
            let _ = writeln!(content, "{rx:.2} {y:.2} {:.2} {MODULE:.2} re", (col - start) as f32 * MODULE);
        }
    }
    content.push(b"f\n");
    // `Color` has no `Zeroize`; overwrite the modules and keep the writes
    // from being optimised away before the vector is freed.
    modules.iter_mut().for_each(|m| *m = Color::Light);
    std::hint::black_box(&modules);
    (width + 2 * QUIET_ZONE) as f32 * MODULE
}

/// Wraps a content stream in the objects of a one-page document.
fn document(content: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = SecretBuf::new();
    // The comment of high bytes marks the file as binary for transfer tools.
    out.push(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
    let mut offsets = Vec::new();
    let mut object = |out: &mut SecretBuf, body: &[u8]| {
        offsets.push(out.len());
        let _ = writeln!(out, "{} 0 obj", offsets.len());
        out.push(body);
        out.push(b"\nendobj\n");
    };
    object(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    let fonts: String =
        Font::ALL.iter().enumerate().map(|(i, f)| format!("/{} {} 0 R ", f.resource(), 4 + i)).collect();
    let page = format!(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
         /Resources << /Font << {fonts}>> >> /Contents {} 0 R >>",
        4 + Font::ALL.len()
    );
    object(&mut out, page.as_bytes());
    for f in Font::ALL {
        let font = format!("<< /Type /Font /Subtype /Type1 /BaseFont /{} /Encoding /WinAnsiEncoding >>", f.base_font());
        object(&mut out, font.as_bytes());
    }
    let mut stream = SecretBuf::new();
    let _ = write!(stream, "<< /Length {} >>\nstream\n", content.len());
    stream.push(content);
    stream.push(b"\nendstream");
    object(&mut out, &stream.0);
    drop(stream);
    object(&mut out, b"<< /Title (Tessera Emergency Kit) /Producer (Tessera) >>");
    let info = offsets.len();

    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for o in &offsets {
        // Each entry is exactly 20 bytes, its end-of-line included (PDF 1.4 §3.4.3).
        let _ = writeln!(out, "{o:010} 00000 n ");
    }
    let _ = write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R /Info {info} 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    );
    out.0
}

/// `text` as a PDF literal string in WinAnsiEncoding: `(`, `)` and `\`
/// escaped, characters WinAnsi lacks (and control characters) as `?`.
fn push_string(out: &mut SecretBuf, text: &str) {
    out.push(b"(");
    for c in text.chars() {
        match winansi(c) {
            b @ (b'(' | b')' | b'\\') => out.push(&[b'\\', b]),
            b => out.push(&[b]),
        }
    }
    out.push(b")");
}

/// The characters of WinAnsiEncoding between 0x80 and 0x9F (PDF 1.4
/// Appendix D); from 0xA0 on it is Latin-1.
const WINANSI_HIGH: [(char, u8); 27] = [
    ('€', 0x80),
    ('‚', 0x82),
    ('ƒ', 0x83),
    ('„', 0x84),
    ('…', 0x85),
    ('†', 0x86),
    ('‡', 0x87),
    ('ˆ', 0x88),
    ('‰', 0x89),
    ('Š', 0x8A),
    ('‹', 0x8B),
    ('Œ', 0x8C),
    ('Ž', 0x8E),
    ('‘', 0x91),
    ('’', 0x92),
    ('“', 0x93),
    ('”', 0x94),
    ('•', 0x95),
    ('–', 0x96),
    ('—', 0x97),
    ('˜', 0x98),
    ('™', 0x99),
    ('š', 0x9A),
    ('›', 0x9B),
    ('œ', 0x9C),
    ('ž', 0x9E),
    ('Ÿ', 0x9F),
];

/// The WinAnsiEncoding byte of `c`, `?` if none.
fn winansi(c: char) -> u8 {
    match c as u32 {
        0x20..=0x7E | 0xA0..=0xFF => c as u8,
        _ => WINANSI_HIGH.iter().find(|(h, _)| *h == c).map_or(b'?', |(_, b)| *b),
    }
}

/// The Secret Key in a kit file's `bytes`: a bare key, the text kit, or
/// a PDF kit written by [`pdf`] (whose content streams' text is searched;
/// a PDF from elsewhere, with compressed streams, is not read).
///
/// The bytes come from a file the user named, so nothing here indexes
/// unchecked or trusts a length from the file without a bound check.
pub fn secret_from_kit(bytes: &[u8]) -> Result<SecretKey, InvalidSecretKey> {
    if bytes.starts_with(b"%PDF-") {
        return SecretKey::parse(&pdf_text(bytes));
    }
    let text = Zeroizing::new(String::from_utf8_lossy(bytes).into_owned());
    // A byte-order mark would otherwise stick to the first word.
    SecretKey::parse(text.trim_start_matches('\u{feff}'))
}

/// The literal strings of every unfiltered content stream with a direct
/// `/Length`, one a line.
fn pdf_text(pdf: &[u8]) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::new());
    let mut at = 0;
    while let Some(found) = find(&pdf[at..], b"stream") {
        let keyword = at + found;
        at = keyword + b"stream".len();
        let data_start = match &pdf[at..] {
            [b'\r', b'\n', ..] => at + 2,
            [b'\n', ..] => at + 1,
            _ => continue,
        };
        let Some(length) = stream_length(&pdf[..keyword]) else { continue };
        let Some(data) = data_start.checked_add(length).and_then(|end| pdf.get(data_start..end)) else { continue };
        let after = &pdf[data_start + length..];
        let after = after.strip_prefix(b"\r\n").or_else(|| after.strip_prefix(b"\n")).unwrap_or(after);
        if !after.starts_with(b"endstream") {
            continue;
        }
        literal_strings(data, &mut text);
        at = data_start + length;
    }
    text
}

/// The `/Length` of the stream dictionary that ends just before `before`
/// (`<< … /Length N >>` and whitespace), if it is a plain, unfiltered one.
fn stream_length(before: &[u8]) -> Option<usize> {
    let end = before.iter().rposition(|b| !b.is_ascii_whitespace())?;
    let dict_end = end.checked_sub(1).filter(|&e| before.get(e..=end) == Some(&b">>"[..]))?;
    let dict_start = before[..dict_end].windows(2).rposition(|w| w == b"<<")?;
    let dict = &before[dict_start + 2..dict_end];
    if find(dict, b"/Filter").is_some() {
        return None;
    }
    let after = &dict[find(dict, b"/Length")? + b"/Length".len()..];
    let mut words = after.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty());
    let digits = words.next()?;
    // `N 0 R` would be an indirect length: not one of ours.
    if words.next().is_some_and(|w| w.first().is_some_and(u8::is_ascii_digit)) {
        return None;
    }
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Appends the text of each complete literal string `( … )` in a content
/// stream to `out`, one a line (PDF 1.4 §3.2.3: balanced parentheses,
/// backslash escapes, octal codes, line continuations).
fn literal_strings(data: &[u8], out: &mut Zeroizing<String>) {
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'%' => {
                while i < data.len() && data[i] != b'\n' && data[i] != b'\r' {
                    i += 1;
                }
            }
            b'(' => {
                let mut s = Zeroizing::new(Vec::new());
                match literal_string(data, i + 1, &mut s) {
                    Some(end) => {
                        for &b in s.iter() {
                            out.push(from_winansi(b));
                        }
                        out.push('\n');
                        i = end;
                    }
                    // Unterminated: the stream was cut; nothing after it is text.
                    None => return,
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// Reads a literal string whose `(` is just before `start` into `out`;
/// returns the index after its closing `)`, or `None` if it never closes.
fn literal_string(data: &[u8], start: usize, out: &mut Zeroizing<Vec<u8>>) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while let Some(&b) = data.get(i) {
        i += 1;
        match b {
            b'\\' => {
                let e = *data.get(i)?;
                i += 1;
                match e {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0C),
                    b'0'..=b'7' => {
                        let mut value = u32::from(e - b'0');
                        for _ in 0..2 {
                            match data.get(i) {
                                Some(&d @ b'0'..=b'7') => {
                                    value = value * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        // High-order overflow is ignored (§3.2.3).
                        out.push((value & 0xFF) as u8);
                    }
                    // A backslash before an end of line continues the string.
                    b'\r' => {
                        if data.get(i) == Some(&b'\n') {
                            i += 1;
                        }
                    }
                    b'\n' => {}
                    // `\(`, `\)`, `\\`, and any other: the character itself.
                    other => out.push(other),
                }
            }
            b'(' => {
                depth += 1;
                out.push(b);
            }
            b')' if depth == 0 => return Some(i),
            b')' => {
                depth -= 1;
                out.push(b);
            }
            _ => out.push(b),
        }
    }
    None
}

/// A WinAnsi byte as text; control characters and unused codes as `?`.
fn from_winansi(b: u8) -> char {
    match b {
        0x20..=0x7E | 0xA0..=0xFF | b'\n' | b'\r' | b'\t' => char::from(b),
        _ => WINANSI_HIGH.iter().find(|(_, h)| *h == b).map_or('?', |(c, _)| *c),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "https://sync.example.org:8443";
    const EMAIL: &str = "alice (work)@example.org";

    fn same(a: &SecretKey, b: &SecretKey) -> bool {
        *a.to_display() == *b.to_display()
    }

    /// The object offsets the xref table lists, and where the table is.
    fn xref(pdf: &[u8]) -> (Vec<usize>, usize) {
        let tail = &pdf[find(pdf, b"startxref\n").unwrap() + b"startxref\n".len()..];
        let startxref: usize = std::str::from_utf8(tail).unwrap().lines().next().unwrap().parse().unwrap();
        let table = std::str::from_utf8(&pdf[startxref..]).expect("the table and trailer are ASCII");
        assert!(table.starts_with("xref\n0 "), "startxref points at the table");
        let mut lines = table.lines().skip(1);
        let count: usize = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let entries: Vec<&str> = lines.take(count).collect();
        assert_eq!(entries[0], "0000000000 65535 f ");
        let offsets = entries[1..]
            .iter()
            .map(|e| {
                assert_eq!(e.len() + 1, 20, "each xref entry is 20 bytes: {e:?}");
                assert!(e.ends_with(" 00000 n "));
                e[..10].parse().unwrap()
            })
            .collect();
        (offsets, startxref)
    }

    #[test]
    fn a_pdf_kit_round_trips_to_its_secret_key() {
        let key = SecretKey::generate();
        let pdf = pdf(SERVER, EMAIL, &key);
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let back = secret_from_kit(&pdf).expect("the PDF kit holds the key");
        assert!(same(&key, &back));
    }

    #[test]
    fn the_pdf_says_what_a_new_computer_needs() {
        let key = SecretKey::generate();
        let text = pdf_text(&pdf(SERVER, EMAIL, &key));
        for needed in [
            "Tessera Emergency Kit",
            "Server",
            "Email",
            "Secret Key",
            "Master password:",
            "Sign in to sync",
            "tessera --vault NEW.tessera sync clone \\",
            "    --secret-key-file THIS_FILE",
            SERVER,
            EMAIL,
            key.to_display().as_str(),
        ] {
            assert!(text.contains(needed), "the kit says {needed:?}");
        }
        assert!(text.contains(&format!("    --email {EMAIL} \\")));
    }

    #[test]
    fn xref_offsets_point_at_their_objects() {
        let pdf = pdf(SERVER, EMAIL, &SecretKey::generate());
        let (offsets, startxref) = xref(&pdf);
        assert_eq!(offsets.len(), 9);
        for (i, &o) in offsets.iter().enumerate() {
            let expected = format!("{} 0 obj\n", i + 1);
            assert!(pdf[o..].starts_with(expected.as_bytes()), "object {} is at {o}", i + 1);
        }
        assert!(offsets.iter().all(|&o| o < startxref));
        assert!(String::from_utf8_lossy(&pdf).contains("trailer\n<< /Size 10 /Root 1 0 R"));
    }

    #[test]
    fn the_content_stream_length_is_exact() {
        let pdf = pdf(SERVER, EMAIL, &SecretKey::generate());
        let at = find(&pdf, b"stream\n").unwrap() + b"stream\n".len();
        let length = stream_length(&pdf[..at - b"stream\n".len()]).unwrap();
        assert!(pdf[at + length..].starts_with(b"\nendstream\nendobj\n"));
    }

    #[test]
    fn strings_are_escaped_and_other_characters_drawn_as_question_marks() {
        let key = SecretKey::generate();
        let pdf = pdf("https://x.example/a\\b)(c", "zoë (ζ) €@example.org", &key);
        let text = pdf_text(&pdf);
        assert!(text.contains("https://x.example/a\\b)(c"), "{}", text.as_str());
        assert!(text.contains("zoë (?) €@example.org"), "{}", text.as_str());
        assert!(find(&pdf, b"(zo\xEB \\(?\\) \x80@example.org)").is_some(), "WinAnsi bytes");
        assert!(find(&pdf, b"(https://x.example/a\\\\b\\)\\(c)").is_some());
        assert!(same(&secret_from_kit(&pdf).unwrap(), &key));
    }

    #[test]
    fn a_long_server_or_email_is_wrapped_and_the_file_stays_small() {
        let key = SecretKey::generate();
        let long = format!("https://{}.example.org", "a".repeat(500));
        let pdf = pdf(&long, &format!("{}@example.org", "b".repeat(300)), &key);
        assert!(pdf.len() < INITIAL_CAPACITY, "{} bytes", pdf.len());
        let text = pdf_text(&pdf);
        assert!(text.contains('…'));
        assert!(same(&secret_from_kit(&pdf).unwrap(), &key));
        // Even then every line stays on the page, clear of a printer's margin.
        let lowest = String::from_utf8_lossy(&pdf)
            .lines()
            .filter_map(|l| l.split_once(" Td ")?.0.rsplit(' ').next()?.parse::<f32>().ok())
            .fold(f32::MAX, f32::min);
        assert!(lowest > 36.0 && lowest < 100.0, "the lowest line is at {lowest} pt");
    }

    #[test]
    fn the_text_kit_and_a_bare_key_are_read() {
        let key = SecretKey::generate();
        let shown = key.to_display();
        let kit = format!(
            "Tessera emergency kit\n=====================\n\n\
             \x20   tessera --vault NEW.tessera sync clone --server {SERVER} --email {EMAIL} --secret-key-file THIS_FILE\n\n\
             Server:      {SERVER}\nEmail:       {EMAIL}\nSecret Key:  {}\n",
            shown.as_str()
        );
        assert!(same(&secret_from_kit(kit.as_bytes()).unwrap(), &key));
        assert!(same(&secret_from_kit(format!("{}\n", shown.as_str()).as_bytes()).unwrap(), &key));
        assert!(same(&secret_from_kit(format!("\u{feff}{}", shown.as_str()).as_bytes()).unwrap(), &key));
    }

    #[test]
    fn garbage_is_not_a_kit() {
        for bytes in [
            &b""[..],
            b"%PDF-",
            b"%PDF-1.4\nstream\n",
            b"%PDF-1.4\n<< /Length 999999999999 >>\nstream\n(abc)",
            b"%PDF-1.4\n<< /Length 5 >>\nstream\n(TSK1\nendstream",
            b"%PDF-1.4\n>>stream\n",
            b"(\\",
            b"\xff\xfe\x00TSK1-",
            b"TSK1-AAAAA-AAAAA",
        ] {
            assert!(secret_from_kit(bytes).is_err(), "{bytes:?}");
        }
        // Pseudo-random bytes, with and without a PDF header, never panic.
        const ALPHABET: &[u8] = b"(()\\)<</Length 12>>stream\nendstream 0123%\r\n";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for round in 0..200 {
            let mut bytes: Vec<u8> = if round % 2 == 0 { b"%PDF-1.4\n".to_vec() } else { Vec::new() };
            for _ in 0..(round * 7) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push(ALPHABET[(state % ALPHABET.len() as u64) as usize]);
            }
            assert!(secret_from_kit(&bytes).is_err());
        }
    }

    #[test]
    fn a_truncated_pdf_kit_is_refused_without_panics() {
        let key = SecretKey::generate();
        let pdf = pdf(SERVER, EMAIL, &key);
        let end_of_stream = find(&pdf, b"endstream").unwrap();
        for cut in 0..end_of_stream {
            assert!(secret_from_kit(&pdf[..cut]).is_err(), "cut at {cut}");
        }
        // Cut after the content stream, the key is whole and still read.
        for cut in end_of_stream + b"endstream".len()..pdf.len() {
            assert!(same(&secret_from_kit(&pdf[..cut]).unwrap(), &key));
        }
    }
}
