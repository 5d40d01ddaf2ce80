//! What `tessera` prints: the JSON shapes of the contract, the text forms,
//! and progress bars (on a terminal only, on stderr).

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use tessera_core::{Item, ItemSummary};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Collected standard output, written once at the end so a closed pipe
/// (`tessera list | head`) ends quietly instead of panicking mid-way, and
/// a command that fails prints nothing half-done. Zeroized on drop (it may
/// hold a revealed secret); reserved up front so small outputs never
/// reallocate and leave a copy behind.
pub struct Out {
    buf: zeroize::Zeroizing<Vec<u8>>,
}

impl Default for Out {
    fn default() -> Self {
        Out { buf: zeroize::Zeroizing::new(Vec::with_capacity(64 * 1024)) }
    }
}

impl Out {
    pub fn line(&mut self, s: impl AsRef<str>) {
        self.buf.extend_from_slice(s.as_ref().as_bytes());
        self.buf.push(b'\n');
    }

    /// Pretty JSON, serialised straight into the buffer (no JSON tree, no
    /// intermediate string: `list --json` of 100,000 items stays small).
    pub fn json(&mut self, v: &impl serde::Serialize) {
        serde_json::to_writer_pretty(&mut *self.buf, v).expect("our JSON shapes always serialise");
        self.buf.push(b'\n');
    }

    pub fn flush(self) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(&self.buf).and_then(|()| stdout.flush());
    }
}

/// RFC 3339 in UTC, e.g. `2026-11-25T02:04:15Z`.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// The `list`/`search` summary shape: no secret in it. Borrowed, so
/// 100,000 of them serialise without building a JSON tree first.
#[derive(serde::Serialize)]
pub struct SummaryJson<'a> {
    id: String,
    #[serde(rename = "type")]
    item_type: &'a str,
    title: &'a str,
    username: &'a str,
    urls: &'a [String],
    folder: &'a str,
    tags: &'a [String],
    favourite: bool,
    updated: String,
}

pub fn summary_json(s: &ItemSummary) -> SummaryJson<'_> {
    SummaryJson {
        id: s.id.to_hex(),
        item_type: s.item_type.as_str(),
        title: &s.title,
        username: &s.username,
        urls: &s.urls,
        folder: &s.folder,
        tags: &s.tags,
        favourite: s.favourite,
        updated: rfc3339(s.updated),
    }
}

/// The `show --json` shape. `password`, protected field values and `otp`
/// are present only when `reveal`.
pub fn item_json(item: &Item, reveal: bool) -> Value {
    let mut v = json!({
        "id": item.id.to_hex(),
        "type": item.item_type.as_str(),
        "title": item.title,
        "username": item.username,
        "urls": item.urls,
        "notes": item.notes,
        "fields": item.fields.iter().map(|f| {
            let mut field = json!({ "name": f.name, "protected": f.protected });
            if reveal || !f.protected {
                field["value"] = json!(f.value);
            }
            field
        }).collect::<Vec<_>>(),
        "tags": item.tags,
        "folder": item.folder,
        "favourite": item.favourite,
        "attachments": item.attachments.iter().map(|a| json!({ "name": a.name, "size": a.size })).collect::<Vec<_>>(),
        "created": rfc3339(item.created),
        "updated": rfc3339(item.updated),
        "expires": item.expires.map(rfc3339),
    });
    if reveal {
        v["password"] = json!(item.password);
        v["otp"] = json!(item.otp);
    }
    // Only when set, so the shape of every other item stays as it was.
    if item.never_autofill {
        v["never_autofill"] = json!(true);
    }
    if item.never_for_agents {
        v["never_for_agents"] = json!(true);
    }
    if item.item_type == tessera_core::ItemType::SshKey {
        v["ssh_agent"] = json!(item.ssh_agent);
        v["agent_approval"] = json!(item.agent_approval.as_str());
    }
    v
}

/// The text form of `show`.
pub fn item_text(item: &Item, reveal: bool) -> String {
    let mut s = String::new();
    let hidden = "•••••••• (hidden; --reveal shows it)";
    let _ = writeln!(s, "Title:      {}", item.title);
    let _ = writeln!(s, "ID:         {}", item.id);
    let _ = writeln!(s, "Type:       {}", item.item_type);
    if !item.username.is_empty() {
        let _ = writeln!(s, "Username:   {}", item.username);
    }
    if !item.password.is_empty() {
        let _ = writeln!(s, "Password:   {}", if reveal { item.password.as_str() } else { hidden });
    }
    for (i, url) in item.urls.iter().enumerate() {
        let _ = writeln!(s, "{}{url}", if i == 0 { "URL:        " } else { "            " });
    }
    if let Some(otp) = &item.otp {
        let shown = if reveal { otp.as_str() } else { "configured (`tessera totp` prints the code)" };
        let _ = writeln!(s, "TOTP:       {shown}");
    }
    if !item.folder.is_empty() {
        let _ = writeln!(s, "Folder:     {}", item.folder);
    }
    if !item.tags.is_empty() {
        let _ = writeln!(s, "Tags:       {}", item.tags.join(", "));
    }
    if item.favourite {
        let _ = writeln!(s, "Favourite:  yes");
    }
    if item.never_autofill {
        let _ = writeln!(s, "Browser:    never filled in the browser");
    }
    if item.never_for_agents {
        let _ = writeln!(s, "AI agents:  never given to AI agents");
    }
    if item.item_type == tessera_core::ItemType::SshKey {
        let agent = if item.ssh_agent { "offered" } else { "not offered" };
        let _ = writeln!(
            s,
            "SSH agent:  {agent}; asks {}",
            match item.agent_approval {
                tessera_core::AgentApproval::Every => "before every signature",
                tessera_core::AgentApproval::OncePerUnlock => "once per unlock",
                tessera_core::AgentApproval::Never => "never",
            }
        );
    }
    for f in &item.fields {
        let value = if f.protected && !reveal { hidden } else { f.value.as_str() };
        let _ = writeln!(s, "{:<11} {value}", format!("{}:", f.name));
    }
    for a in &item.attachments {
        let _ = writeln!(s, "Attachment: {} ({})", a.name, human_size(a.size));
    }
    if let Some(e) = item.expires {
        let _ = writeln!(s, "Expires:    {}", rfc3339(e));
    }
    let _ = writeln!(s, "Created:    {}", rfc3339(item.created));
    let _ = writeln!(s, "Updated:    {}", rfc3339(item.updated));
    if let Some(d) = item.deleted {
        let _ = writeln!(s, "In trash:   since {}", rfc3339(d));
    }
    if !item.notes.is_empty() {
        let _ = writeln!(s, "Notes:");
        for line in item.notes.lines() {
            let _ = writeln!(s, "  {line}");
        }
    }
    s
}

/// One line of a `list`/`search` table.
pub fn summary_line(s: &ItemSummary) -> String {
    let star = if s.favourite { "★" } else { " " };
    let folder = if s.folder.is_empty() { String::new() } else { format!("  [{}]", s.folder) };
    format!("{}  {star} {:<32}  {}{folder}", &s.id.to_hex()[..8], s.title, s.username)
}

pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{size:.1} {}", UNITS[unit]) }
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
pub fn progress(message: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar
}

/// A spinner on stderr for work of unknown length (reading and decrypting
/// an import source); hidden when stderr is not a terminal.
pub fn spinner(message: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.set_message(message.to_owned());
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner
}

/// Prints a note for people on stderr.
pub fn note(message: impl AsRef<str>) {
    eprintln!("{}", message.as_ref());
}

/// Writes `bytes` to a new file at `path` (never an existing one), mode
/// 0600, synced: recovery codes and emergency kits.
pub fn write_new_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
