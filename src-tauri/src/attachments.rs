//! Attachments beyond the file picker: files dropped on an item, the size
//! limit for the UI, and opening an attachment with the system's handler.
//!
//! Opening means handing a *file* to `xdg-open`, so the decrypted content
//! has to leave the vault for a while. It goes to a private temporary
//! file: a directory of mode 0700 per opened attachment, inside
//! `$XDG_RUNTIME_DIR/tessera-attachments` (a per-user tmpfs on systemd
//! systems, so the plaintext stays in memory and dies with the session),
//! or, without a runtime directory, inside a fresh 0700 directory in
//! `/tmp`; the file itself is 0600, created exclusively (an existing file
//! or symlink of that name makes the open fail rather than be followed).
//!
//! When to remove it: `xdg-open` hands the file to the real viewer and
//! usually exits at once, so its exit says nothing about when the viewer
//! has read the file, and the viewer is not ours to watch. The file is
//! therefore removed after [`OPEN_FILE_LIFETIME`] (long enough for any
//! viewer to have opened it; one that holds it open keeps reading the
//! unlinked file), and in any case when the vault locks (auto-lock, the
//! tray, sleep, screen lock) and when the app quits, which locks first.
//! Files a crash left behind are removed at the next start.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use tauri::{AppHandle, Listener, Manager, WebviewWindow};

use crate::commands::{changed_elsewhere, run};
use crate::desktop::{Desktop, MAX_ATTACHMENT, attachment_too_large};
use crate::dto::AttachmentChange;
use crate::error::{CommandError, CommandResult};

/// How long an opened attachment's plaintext copy stays on disk at most.
pub const OPEN_FILE_LIFETIME: Duration = Duration::from_secs(120);
/// The directory under `$XDG_RUNTIME_DIR` that holds the opened copies.
const RUNTIME_SUBDIR: &str = "tessera-attachments";
/// Each opened attachment's own directory starts with this.
const OPEN_PREFIX: &str = "open-";

/// The opened attachments' temporary copies, removed on time, at lock and
/// at quit.
pub struct OpenedAttachments {
    inner: Mutex<Opened>,
}

#[derive(Default)]
struct Opened {
    /// Where the copies go, made on first use.
    base: Option<Base>,
    /// One private directory per opened attachment, with its number (so
    /// the timer removes its own copy, never a later one).
    copies: Vec<(u64, tempfile::TempDir)>,
    next: u64,
}

enum Base {
    /// `$XDG_RUNTIME_DIR/tessera-attachments`, kept across runs.
    Runtime(PathBuf),
    /// A 0700 directory of this run in `/tmp`, removed with it.
    Temporary(tempfile::TempDir),
}

impl Base {
    fn path(&self) -> &Path {
        match self {
            Base::Runtime(p) => p,
            Base::Temporary(t) => t.path(),
        }
    }
}

/// `$XDG_RUNTIME_DIR/tessera-attachments`, when there is a runtime
/// directory (an absolute path to a directory, as the XDG spec requires).
fn runtime_base() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR")?);
    (dir.is_absolute() && dir.is_dir()).then(|| dir.join(RUNTIME_SUBDIR))
}

/// Makes `dir` a private directory of ours: created 0700, or an existing
/// real directory (not a symlink) set to 0700.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta = std::fs::symlink_metadata(dir)?;
            if !meta.is_dir() {
                return Err(std::io::Error::other("it is not a directory"));
            }
            if meta.permissions().mode() & 0o777 != 0o700 {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// A new directory in `parent` with a random name, created 0700 (not
/// created and then restricted: tempfile's default mode is 0777 less the
/// umask).
fn private_tempdir(prefix: &str, parent: &Path) -> std::io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new().prefix(prefix).permissions(std::fs::Permissions::from_mode(0o700)).tempdir_in(parent)
}

/// A file name for the copy: the attachment's own last path component
/// (the handler picks the program by its extension), never a path.
fn copy_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default().replace('\0', "");
    if last.is_empty() || last == "." || last == ".." { "attachment".to_owned() } else { last }
}

impl OpenedAttachments {
    fn new() -> Self {
        OpenedAttachments { inner: Mutex::new(Opened::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Opened> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `content` to a new private file named after the attachment;
    /// returns its number (for [`OpenedAttachments::remove`]) and path.
    fn write(&self, name: &str, content: &[u8]) -> CommandResult<(u64, PathBuf)> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let cannot = |e: std::io::Error| CommandError::io(format!("Cannot make a private temporary file: {e}"));
        let mut opened = self.lock();
        if opened.base.is_none() {
            let base = match runtime_base() {
                Some(dir) => {
                    private_dir(&dir).map_err(cannot)?;
                    Base::Runtime(dir)
                }
                None => {
                    Base::Temporary(private_tempdir("tessera-attachments-", &std::env::temp_dir()).map_err(cannot)?)
                }
            };
            opened.base = Some(base);
        }
        let base = opened.base.as_ref().map(|b| b.path().to_path_buf()).expect("set just above");
        let dir = private_tempdir(OPEN_PREFIX, &base).map_err(cannot)?;
        let path = dir.path().join(copy_name(name));
        // create_new is O_CREAT|O_EXCL, which never follows a symlink.
        let mut file =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(cannot)?;
        file.write_all(content).and_then(|()| file.sync_all()).map_err(cannot)?;
        opened.next += 1;
        let number = opened.next;
        opened.copies.push((number, dir));
        Ok((number, path))
    }

    /// Removes the copy `number` if it is still there.
    fn remove(&self, number: u64) {
        let removed: Vec<_> = {
            let mut opened = self.lock();
            let (gone, kept) = std::mem::take(&mut opened.copies).into_iter().partition(|(n, _)| *n == number);
            opened.copies = kept;
            gone
        };
        drop(removed); // TempDir removes its directory on drop.
    }

    /// Removes every copy (lock, quit).
    pub fn remove_all(&self) {
        let removed = std::mem::take(&mut self.lock().copies);
        drop(removed);
    }
}

/// Manages the opened copies and removes them whenever the vault locks;
/// clears what an earlier run that crashed left behind.
pub fn setup(app: &AppHandle) {
    app.manage(OpenedAttachments::new());
    if let Some(base) = runtime_base() {
        if let Ok(entries) = std::fs::read_dir(&base) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(OPEN_PREFIX) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }
    // Every lock (the lock button, the tray, idle, sleep, screen lock,
    // and quitting, which locks first) says "vault-locked".
    let handle = app.clone();
    app.listen_any("vault-locked", move |_| handle.state::<OpenedAttachments>().remove_all());
}

/// Checks a file before it is attached: a regular file (not a folder, a
/// pipe or a device, which could hang the read) within the size limit.
fn check_source(path: &Path) -> CommandResult<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    let meta = std::fs::metadata(path).map_err(|e| CommandError::io(format!("Cannot read “{name}”: {e}")))?;
    if meta.is_dir() {
        return Err(CommandError::invalid(format!("“{name}” is a folder: only files can be attached")));
    }
    if !meta.is_file() {
        return Err(CommandError::invalid(format!("“{name}” is not a regular file")));
    }
    if meta.len() > MAX_ATTACHMENT {
        return Err(attachment_too_large(&name, meta.len()));
    }
    Ok(())
}

/// The largest attachment in bytes, for the UI to say.
#[tauri::command]
pub async fn attachment_limit() -> CommandResult<u64> {
    Ok(MAX_ATTACHMENT)
}

/// Attaches files dropped on an item (the paths of Tauri's drag-drop
/// event). Every file is checked before any is attached, so one too large
/// file attaches none and the message names it.
#[tauri::command]
pub async fn attach_files(
    app: AppHandle,
    window: WebviewWindow,
    id: String,
    paths: Vec<PathBuf>,
) -> CommandResult<AttachmentChange> {
    let caller = window.label().to_owned();
    run(&app, false, move |d, app| {
        if paths.is_empty() {
            return Err(CommandError::invalid("No file was dropped"));
        }
        for p in &paths {
            check_source(p)?;
        }
        let mut change = None;
        for p in &paths {
            change = Some(d.add_attachment(&id, p)?);
        }
        changed_elsewhere(app, &caller, vec![id]);
        change.ok_or_else(|| CommandError::internal("No file was attached"))
    })
    .await
}

/// Opens an attachment with the system's handler through a private
/// temporary copy (see the module's documentation for its lifetime).
#[tauri::command]
pub async fn open_attachment(app: AppHandle, id: String, name: String) -> CommandResult<()> {
    run(&app, false, move |d: &Desktop, app| {
        let content = d.attachment_content(&id, &name)?;
        let opened = app.state::<OpenedAttachments>();
        let (number, path) = opened.write(&name, &content)?;
        drop(content);
        let child = tessera_hardening::restore_user_environment(&mut std::process::Command::new("xdg-open"))
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                opened.remove(number);
                return Err(CommandError::io(format!("Cannot start xdg-open to open “{name}”: {e}")));
            }
        };
        let handle = app.clone();
        let _ = std::thread::Builder::new().name("attachment-copy".into()).spawn(move || {
            let _ = child.wait(); // reaps xdg-open; says nothing about the viewer
            std::thread::sleep(OPEN_FILE_LIFETIME);
            handle.state::<OpenedAttachments>().remove(number);
        });
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_named_after_the_last_component_only() {
        assert_eq!(copy_name("report.pdf"), "report.pdf");
        assert_eq!(copy_name("../../.bashrc"), ".bashrc");
        assert_eq!(copy_name("a/b\\c.txt"), "c.txt");
        assert_eq!(copy_name(".."), "attachment");
        assert_eq!(copy_name(""), "attachment");
    }

    #[test]
    fn an_opened_copy_is_private_and_goes_at_remove_all() {
        use std::os::unix::fs::PermissionsExt;
        let opened = OpenedAttachments::new();
        let (_, path) = opened.write("notes.txt", b"hello").expect("write a copy");
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(std::fs::read(&path).expect("read the copy"), b"hello");
        assert_eq!(mode(&path), 0o600);
        let dir = path.parent().expect("a directory");
        assert_eq!(mode(dir), 0o700);
        opened.remove_all();
        assert!(!path.exists() && !dir.exists(), "the copy outlived remove_all");
    }

    #[test]
    fn a_folder_and_a_too_large_file_are_refused_by_name() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let e = check_source(dir.path()).expect_err("a folder");
        assert!(e.message.contains("is a folder"), "{}", e.message);
        let big = dir.path().join("big.bin");
        std::fs::File::create(&big).and_then(|f| f.set_len(MAX_ATTACHMENT + 1)).expect("a sparse file");
        let e = check_source(&big).expect_err("too large");
        assert!(e.message.contains("“big.bin”") && e.message.contains("25 MiB"), "{}", e.message);
    }
}
