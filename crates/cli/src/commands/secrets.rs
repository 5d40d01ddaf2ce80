//! Secrets for programs: `read` (one value), `run` (a command with
//! references resolved into its environment, its output masked) and
//! `inject` (a template with references filled in) — so a token never sits
//! in a shell history, a dotfile or an `.env` file.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use tessera_core::Reference;
use zeroize::Zeroizing;

use crate::cli::{InjectArgs, ReadArgs, RunArgs};
use crate::commands::attachments::write_private_file;
use crate::exit::{CliResult, Failure};
use crate::output::Out;
use crate::session::Session;

/// What masked output shows instead of a secret.
pub const CONCEALED: &[u8] = b"<concealed by tessera>";
/// Values shorter than this are not masked: they would match ordinary
/// text (`1`, `on`) and garble the output without hiding anything.
pub const MIN_MASKED: usize = 3;
/// Largest template or env file read.
const MAX_INPUT: u64 = 16 * 1024 * 1024;

fn parse_reference(text: &str) -> CliResult<Reference> {
    Reference::parse(text).map_err(Failure::usage)
}

pub fn read(session: &mut Session, args: &ReadArgs, out: &mut Out) -> CliResult {
    let reference = parse_reference(&args.reference)?;
    let mut vault = session.unlock()?;
    let value = vault.read_reference(&reference)?;
    drop(vault);
    match &args.out {
        Some(path) => write_private(path, value.as_bytes(), true),
        None => {
            out.line(value.as_str());
            Ok(())
        }
    }
}

/// Writes `content` to `path` with mode 0600 (see
/// [`write_private_file`]); an existing file is replaced only if `replace`,
/// and the refusal names `--force`.
pub fn write_private(path: &Path, content: &[u8], replace: bool) -> CliResult {
    if !replace && path.symlink_metadata().is_ok() {
        return Err(Failure::usage(format!("{} already exists; --force replaces it", path.display())));
    }
    write_private_file(path, content, replace)
}

/// An environment entry's value: plain, or a reference to resolve.
enum Value {
    Plain(String),
    Reference(Reference),
}

/// `NAME=VALUE` lines: `#` comments, blank lines, an optional `export `,
/// values optionally in single or double quotes.
fn parse_env_file(text: &str) -> CliResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("env file line {}: expected NAME=VALUE", n + 1)))?;
        let name = name.trim();
        check_name(name)?;
        let value = value.trim();
        let value = match value.as_bytes() {
            [b'"', .., b'"'] | [b'\'', .., b'\''] if value.len() >= 2 => &value[1..value.len() - 1],
            _ => value,
        };
        out.push((name.to_owned(), value.to_owned()));
    }
    Ok(out)
}

fn check_name(name: &str) -> CliResult {
    let ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok { Ok(()) } else { Err(Failure::usage(format!("{name:?} is not an environment variable name"))) }
}

pub fn run(session: &mut Session, args: &RunArgs) -> CliResult {
    let (program, program_args) =
        args.command.split_first().ok_or_else(|| Failure::usage("run needs a command after --"))?;
    // Every variable to set: the parent's that hold references, then the
    // env file's, then --env (later ones win).
    let mut wanted: BTreeMap<String, Value> = BTreeMap::new();
    for (name, value) in std::env::vars_os() {
        if let (Some(name), Some(value)) = (name.to_str(), value.to_str()) {
            if Reference::looks_like(value) {
                wanted.insert(name.to_owned(), Value::Reference(parse_reference(value)?));
            }
        }
    }
    if let Some(file) = &args.env_file {
        let text = read_text(file)?;
        for (name, value) in parse_env_file(&text)? {
            let value = if Reference::looks_like(&value) {
                Value::Reference(parse_reference(&value)?)
            } else {
                Value::Plain(value)
            };
            wanted.insert(name, value);
        }
    }
    for spec in &args.env {
        let (name, value) =
            spec.split_once('=').ok_or_else(|| Failure::usage("--env takes NAME=tessera://ITEM/FIELD"))?;
        check_name(name)?;
        wanted.insert(name.to_owned(), Value::Reference(parse_reference(value)?));
    }
    // Resolve everything before the command starts: a missing reference
    // stops here, with nothing run.
    let mut resolved: Vec<(String, Zeroizing<String>)> = Vec::new();
    let mut secrets: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    if wanted.values().any(|v| matches!(v, Value::Reference(_))) {
        let mut vault = session.unlock()?;
        for (name, value) in &wanted {
            let value = match value {
                Value::Plain(v) => Zeroizing::new(v.clone()),
                Value::Reference(r) => {
                    let v = vault.read_reference(r).map_err(|e| {
                        let failure = Failure::from(e);
                        Failure::new(failure.exit, format!("{name}={r}: {}", failure.message))
                    })?;
                    secrets.push(Zeroizing::new(v.as_bytes().to_vec()));
                    v
                }
            };
            resolved.push((name.clone(), value));
        }
    } else {
        resolved.extend(wanted.into_iter().map(|(n, v)| match v {
            Value::Plain(v) => (n, Zeroizing::new(v)),
            Value::Reference(_) => unreachable!("no references here"),
        }));
    }

    let mut command = Command::new(program);
    command.args(program_args).stdin(Stdio::inherit());
    for (name, value) in &resolved {
        command.env(name, value.as_str());
    }
    drop(resolved);
    let mask = !args.no_masking && secrets.iter().any(|s| s.len() >= MIN_MASKED);
    if mask {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    // Ctrl+C and a termination reach the command (same process group, or
    // forwarded below); this process stays to pass its exit code on.
    let forwarded = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ])
    .map_err(|e| Failure::other(format!("cannot watch for signals: {e}")))?;
    // The command is the user's, not ours: it gets the core-size limit the
    // user had before this process hardened itself.
    let mut child = tessera_hardening::spawn_with_user_core_limit(|| command.spawn())
        .map_err(|e| Failure::new(crate::exit::Exit::Other, format!("cannot start {program:?}: {e}")))?;
    let pid = child.id();
    // The command has its environment; ours goes now, and so do the
    // resolved values unless the masking needs them.
    drop(command);
    if !mask {
        secrets.clear();
    }
    let handle = forwarded.handle();
    let forwarder = std::thread::spawn(move || {
        let mut signals = forwarded;
        for signal in signals.forever() {
            if let Ok(pid) = libc::pid_t::try_from(pid) {
                // SAFETY: kill(2) on the child this process started and
                // still waits for (so the pid is not reused); no memory.
                #[allow(unsafe_code)]
                unsafe {
                    libc::kill(pid, signal);
                }
            }
        }
    });
    let mut copiers = Vec::new();
    if mask {
        let secrets: Vec<Zeroizing<Vec<u8>>> = secrets.into_iter().filter(|s| s.len() >= MIN_MASKED).collect();
        if let Some(stdout) = child.stdout.take() {
            let masker = Masker::new(secrets.clone());
            copiers.push(std::thread::spawn(move || copy_masked(stdout, std::io::stdout(), masker)));
        }
        if let Some(stderr) = child.stderr.take() {
            let masker = Masker::new(secrets);
            copiers.push(std::thread::spawn(move || copy_masked(stderr, std::io::stderr(), masker)));
        }
    }
    let status = child.wait().map_err(|e| Failure::other(format!("waiting for {program:?}: {e}")))?;
    for c in copiers {
        let _ = c.join();
    }
    handle.close();
    let _ = forwarder.join();
    use std::os::unix::process::ExitStatusExt;
    let code = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(1));
    std::process::exit(code);
}

fn read_text(path: &Path) -> CliResult<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_INPUT + 1).read_to_end(&mut bytes))
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(Failure::usage(format!("{} is larger than 16 MiB", path.display())));
    }
    String::from_utf8(bytes).map_err(|_| Failure::usage(format!("{} is not UTF-8 text", path.display())))
}

fn copy_masked(mut from: impl Read, mut to: impl Write, mut masker: Masker) {
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let out = masker.feed(&buf[..n]);
                if to.write_all(&out).and_then(|()| to.flush()).is_err() {
                    return;
                }
            }
        }
    }
    let _ = to.write_all(&masker.finish());
    let _ = to.flush();
}

/// Replaces every occurrence of any secret in a byte stream by
/// [`CONCEALED`], across chunk boundaries: a tail that could still become
/// a secret is held back until the next chunk decides it.
pub struct Masker {
    secrets: Vec<Zeroizing<Vec<u8>>>,
    pending: Zeroizing<Vec<u8>>,
}

impl Masker {
    /// A masker for `secrets` (empty ones are ignored).
    pub fn new(mut secrets: Vec<Zeroizing<Vec<u8>>>) -> Masker {
        secrets.retain(|s| !s.is_empty());
        // Longest first: of two secrets where one contains the other, the
        // longer is hidden whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Masker { secrets, pending: Zeroizing::new(Vec::new()) }
    }

    /// Takes a chunk; returns what can be written now.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(chunk);
        self.drain(false)
    }

    /// The end of the stream: whatever is held back.
    pub fn finish(&mut self) -> Vec<u8> {
        self.drain(true)
    }

    fn drain(&mut self, at_end: bool) -> Vec<u8> {
        let p = &self.pending;
        let mut out = Vec::with_capacity(p.len());
        let mut i = 0;
        'scan: while i < p.len() {
            let rest = &p[i..];
            for s in &self.secrets {
                if rest.starts_with(s) {
                    out.extend_from_slice(CONCEALED);
                    i += s.len();
                    continue 'scan;
                }
            }
            if !at_end && self.secrets.iter().any(|s| s.len() > rest.len() && s.starts_with(rest)) {
                break;
            }
            out.push(p[i]);
            i += 1;
        }
        let rest = Zeroizing::new(self.pending[i..].to_vec());
        self.pending = rest;
        out
    }
}

pub fn inject(session: &mut Session, args: &InjectArgs, out: &mut Out) -> CliResult {
    let template = read_text(&args.input)?;
    if let Some(path) = &args.output {
        if !args.force && path.symlink_metadata().is_ok() {
            return Err(Failure::usage(format!("{} already exists; --force replaces it", path.display())));
        }
    }
    // Every {{ tessera://… }}; other {{ … }} (a template language's own) stay.
    let mut pieces: Vec<(usize, usize, Reference)> = Vec::new();
    let mut at = 0;
    while let Some(open) = template[at..].find("{{") {
        let start = at + open;
        let Some(close) = template[start + 2..].find("}}") else { break };
        let end = start + 2 + close + 2;
        let inside = template[start + 2..end - 2].trim();
        if Reference::looks_like(inside) {
            pieces.push((start, end, parse_reference(inside)?));
        }
        at = end;
    }
    let mut rendered = Zeroizing::new(String::with_capacity(template.len() + 256 * pieces.len()));
    if !pieces.is_empty() {
        let mut vault = session.unlock()?;
        let mut last = 0;
        for (start, end, reference) in &pieces {
            rendered.push_str(&template[last..*start]);
            let value = vault.read_reference(reference).map_err(|e| {
                let failure = Failure::from(e);
                Failure::new(failure.exit, format!("{reference}: {}", failure.message))
            })?;
            rendered.push_str(&value);
            last = *end;
        }
        rendered.push_str(&template[last..]);
    } else {
        rendered.push_str(&template);
    }
    match &args.output {
        Some(path) => write_private(path, rendered.as_bytes(), args.force),
        None => {
            out.line(rendered.trim_end_matches('\n'));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(secrets: &[&str], chunks: &[&str]) -> String {
        let mut m = Masker::new(secrets.iter().map(|s| Zeroizing::new(s.as_bytes().to_vec())).collect());
        let mut out = Vec::new();
        for c in chunks {
            out.extend(m.feed(c.as_bytes()));
        }
        out.extend(m.finish());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn secrets_are_masked_even_split_across_writes() {
        assert_eq!(masked(&["hunter2"], &["the pass is hunter2."]), "the pass is <concealed by tessera>.");
        assert_eq!(
            masked(&["hunter2"], &["the pass is hun", "ter", "2 and hunter2"]),
            "the pass is <concealed by tessera> and <concealed by tessera>"
        );
        assert_eq!(masked(&["hunter2"], &["hunt", "er3"]), "hunter3");
        assert_eq!(masked(&["abc", "abcdef"], &["xabcdefy abc"]), "x<concealed by tessera>y <concealed by tessera>");
        assert_eq!(masked(&["secret"], &["secre"]), "secre", "a partial match at the end is written at the end");
    }

    #[test]
    fn env_files_mix_values_and_references() {
        let text = "# comment\n\nexport A=1\nB = \"two words\"\nC='tessera://GitHub/token'\nD=tessera://X/password\n";
        let parsed = parse_env_file(text).unwrap();
        assert_eq!(
            parsed,
            [
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), "two words".to_owned()),
                ("C".to_owned(), "tessera://GitHub/token".to_owned()),
                ("D".to_owned(), "tessera://X/password".to_owned())
            ]
        );
        assert!(parse_env_file("no equals sign").is_err());
        assert!(parse_env_file("1BAD=x").is_err());
    }
}
