//! Cross-checks against independent implementations installed by `make
//! test`: `oathtool` for TOTP/HOTP and the reference C `argon2` tool.

use std::io::Write;
use std::process::{Command, Stdio};

use tessera_test_support::{TestVault, assert_success, stdout};
use tessera_unlock::KdfParams;

fn tool(name: &str) -> Command {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().unwrap();
    assert!(found.status.success(), "{name} is not installed; `make test` installs it (scripts/setup.sh)");
    Command::new(name)
}

#[test]
fn totp_codes_match_oathtool() {
    let v = TestVault::new();
    let cases = [
        ("sha1", 6, 30, "JBSWY3DPEHPK3PXP"),
        ("sha256", 8, 60, "KDBDVA2JA4IZBRA3MYN5QSTCCH2QJWFP"),
        ("sha512", 7, 45, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
        ("sha1", 8, 10, "UGO4WLYYOJGSIF4JZ7R3DIQKTD5WL5TT"),
    ];
    for (i, (algorithm, digits, period, secret)) in cases.iter().enumerate() {
        let uri = format!(
            "otpauth://totp/Peer:case{i}?secret={secret}&algorithm={}&digits={digits}&period={period}",
            algorithm.to_uppercase()
        );
        let title = format!("case {i}");
        assert_success(&v.run_fast(&["add", "--title", &title, "--otp", &uri]), "add");
        for t in [0u64, 59, 1_111_111_109, 1_700_000_000, 2_000_000_000, 20_000_000_000] {
            let ours = stdout(&v.run_fast(&["totp", &title, "--at", &t.to_string()])).trim().to_owned();
            let theirs = tool("oathtool")
                .args([
                    &format!("--totp={algorithm}"),
                    &format!("--digits={digits}"),
                    &format!("--time-step-size={period}s"),
                    &format!("--now=@{t}"),
                    "--base32",
                    secret,
                ])
                .output()
                .unwrap();
            assert!(theirs.status.success(), "oathtool failed: {}", String::from_utf8_lossy(&theirs.stderr));
            assert_eq!(ours, stdout(&theirs).trim(), "{algorithm}/{digits}/{period}s at {t}");
        }
    }
}

#[test]
fn hotp_codes_match_oathtool() {
    let v = TestVault::new();
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert_success(
        &v.run_fast(&[
            "add",
            "--title",
            "H",
            "--otp",
            &format!("otpauth://hotp/H:h?secret={secret}&counter=5&digits=8"),
        ]),
        "add",
    );
    for counter in 5..9 {
        let ours = stdout(&v.run_fast(&["totp", "H"])).trim().to_owned();
        let theirs = tool("oathtool")
            .args(["--hotp", "--digits=8", &format!("--counter={counter}"), "--base32", secret])
            .output()
            .unwrap();
        assert_eq!(ours, stdout(&theirs).trim(), "counter {counter}");
    }
}

#[test]
fn argon2id_matches_the_reference_c_tool() {
    for (password, salt, m_kib, t, p) in
        [("correct horse", "tessera-salt-16b", 65_536u32, 3u32, 4u32), ("pässwörd €", "another-salt-xyz", 98_304, 4, 4)]
    {
        let ours = KdfParams::argon2id(m_kib, t, p).unwrap().derive(password.as_bytes(), salt.as_bytes()).unwrap();
        let mut child = tool("argon2")
            .args([salt, "-id", "-t", &t.to_string(), "-k", &m_kib.to_string(), "-p", &p.to_string(), "-l", "32", "-r"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(data_encoding::HEXLOWER.encode(ours.as_ref()), stdout(&out).trim(), "m={m_kib} t={t} p={p}");
    }
}
