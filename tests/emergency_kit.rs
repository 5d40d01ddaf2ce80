//! The Emergency Kit as a PDF, end to end: `tessera sync register
//! --emergency-kit kit.pdf` against a real `tessera-server` on 127.0.0.1
//! writes a PDF that poppler reads back (`pdftotext`: the Secret Key, the
//! server, the email), whose QR code, rendered by `pdftoppm` and decoded
//! by the same QR reader the app scans codes with, is the Secret Key; and
//! `sync clone --secret-key-file kit.pdf` opens the account on a second
//! vault.
//!
//! Needs `pdftotext` and `pdftoppm` (package poppler-utils; `make test`
//! installs it) and `cargo build -p tessera-cli -p tessera-server`.

use std::path::{Path, PathBuf};
use std::process::Command;

use tessera_test_support::server::TestServer;
use tessera_test_support::{TestVault, assert_code, assert_success, stderr};

const EMAIL: &str = "kit-owner@example.com";

/// Runs a poppler tool, saying what to install when it is missing.
fn poppler(tool: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} ({e}): install poppler-utils (scripts/setup.sh test)"));
    assert!(out.status.success(), "{tool} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn pdf_text(pdf: &Path) -> String {
    String::from_utf8(poppler("pdftotext", &[path(pdf), "-"])).expect("pdftotext prints UTF-8")
}

/// The texts of the QR codes on the kit's page, rendered at 150 dpi.
fn qr_codes(pdf: &Path) -> Vec<String> {
    let png = pdf.with_extension("png");
    let root = png.with_extension("");
    poppler("pdftoppm", &["-png", "-r", "150", "-singlefile", path(pdf), path(&root)]);
    let bytes = std::fs::read(&png).expect("pdftoppm wrote the page");
    let codes = tessera_interop::qr::decode_image(&bytes).expect("the page is a PNG with a QR code");
    codes.iter().map(|c| c.as_str().to_owned()).collect()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

fn clone_from(url: &str, kit: &Path) -> (TestVault, std::process::Output) {
    let b = TestVault::uninitialised();
    let out = b.run(&[
        "sync",
        "clone",
        "--server",
        url,
        "--email",
        EMAIL,
        "--secret-key-file",
        path(kit),
        "--kdf-memory-mib",
        "64",
        "--recovery-code-file",
        path(&b.recovery_file),
    ]);
    (b, out)
}

#[test]
fn a_pdf_kit_shows_the_key_as_text_and_qr_code_and_opens_the_account_elsewhere() {
    let server = TestServer::sqlite();
    let a = TestVault::new();
    a.add_login("Kit item", "alice");
    let kit: PathBuf = a.dir.path().join("kit.pdf");
    let out = a.run(&["sync", "register", "--server", &server.url, "--email", EMAIL, "--emergency-kit", path(&kit)]);
    assert_success(&out, "sync register --emergency-kit kit.pdf");

    let bytes = std::fs::read(&kit).expect("the kit was written");
    assert!(bytes.starts_with(b"%PDF-1.4\n"), "kit.pdf is a PDF");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kit).expect("kit metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the kit is private to its owner");
    }

    // The key the vault holds (and `sync kit` shows) is the one printed.
    let shown = a.json(&["sync", "kit"]);
    let secret = shown["secret_key"].as_str().expect("sync kit --json shows the key").to_owned();
    assert!(secret.starts_with("TSK1-"));
    let text = pdf_text(&kit);
    for needed in [secret.as_str(), server.url.as_str(), EMAIL, "Tessera Emergency Kit", "Master password:"] {
        assert!(text.contains(needed), "pdftotext finds {needed:?} in the kit");
    }
    assert_eq!(qr_codes(&kit), vec![secret.clone()], "the QR code is the Secret Key");

    // `sync kit` writes the same PDF kit for any case of `.pdf`, the text kit otherwise.
    let again = a.dir.path().join("again.PDF");
    let out = a.json(&["sync", "kit", "--emergency-kit", path(&again)]);
    assert_eq!(out["path"], path(&again));
    assert!(std::fs::read(&again).expect("written").starts_with(b"%PDF-1.4\n"));
    assert!(pdf_text(&again).contains(&secret));
    let plain = a.dir.path().join("kit.txt");
    assert_success(&a.run_fast(&["sync", "kit", "--emergency-kit", path(&plain)]), "sync kit --emergency-kit kit.txt");
    let plain_text = std::fs::read_to_string(&plain).expect("the text kit");
    assert!(plain_text.starts_with("Tessera emergency kit\n") && plain_text.contains(&secret));

    // A second vault opens the account from the PDF and sees the first one's item.
    let (b, out) = clone_from(&server.url, &kit);
    assert_success(&out, "sync clone --secret-key-file kit.pdf");
    let items = b.json(&["list"]);
    let titles: Vec<&str> = items.as_array().expect("a list").iter().filter_map(|i| i["title"].as_str()).collect();
    assert_eq!(titles, ["Kit item"]);

    // A PDF cut short before its content stream ends holds no key: a usage
    // error that names no key and leaves no vault.
    let cut = a.dir.path().join("cut.pdf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write the cut kit");
    let (c, out) = clone_from(&server.url, &cut);
    assert_code(&out, 2, "sync clone --secret-key-file cut.pdf");
    assert!(stderr(&out).contains("no Secret Key found"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&secret));
    assert!(c.path.symlink_metadata().is_err(), "no vault was made");
}
