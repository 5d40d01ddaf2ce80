//! `attach`, `attachment`, `detach`.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde_json::json;
use tessera_core::Scope;
use tessera_core::item::MAX_ATTACHMENT_SIZE;
use zeroize::Zeroizing;

use crate::exit::{CliResult, Failure};
use crate::output::{Out, human_size};
use crate::session::Session;

pub fn attach(session: &mut Session, query: &str, file: &Path, json: bool, out: &mut Out) -> CliResult {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Failure::usage(format!("{} has no usable file name", file.display())))?
        .to_owned();
    let f = std::fs::File::open(file).map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
    let mut content = Zeroizing::new(Vec::new());
    // Read one byte past the limit to tell "exactly 25 MiB" from "more".
    f.take(MAX_ATTACHMENT_SIZE + 1)
        .read_to_end(&mut content)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?;
    if content.len() as u64 > MAX_ATTACHMENT_SIZE {
        return Err(Failure::usage(format!("{} is larger than 25 MiB, the attachment limit", file.display())));
    }
    let mut vault = session.unlock()?;
    let id = vault.resolve(query, Scope::Live)?;
    vault.attach(id, &name, &content)?;
    if json {
        out.json(&json!({ "id": id.to_hex(), "name": name, "size": content.len() }));
    } else {
        out.line(format!("Attached {name} ({}) to {id}.", human_size(content.len() as u64)));
    }
    Ok(())
}

pub fn attachment(session: &mut Session, query: &str, name: &str, output: &Path, out: &mut Out) -> CliResult {
    let vault = session.unlock()?;
    let id = vault.resolve(query, Scope::Live)?;
    let (_, content) = vault.attachment(id, name)?;
    if output == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(&content)
            .and_then(|()| stdout.flush())
            .map_err(|e| Failure::other(format!("cannot write the attachment: {e}")));
    }
    write_private_file(output, &content, true)?;
    let _ = out;
    Ok(())
}

/// Writes `content` to `path` (mode 0600) through a temporary file and a
/// rename, so a failure never leaves half a file under the final name.
/// Without `replace`, an existing `path` is left alone and reported.
pub fn write_private_file(path: &Path, content: &[u8], replace: bool) -> CliResult {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{file_name}.{}.tessera-partial", std::process::id()));
    let fail = |e: std::io::Error| Failure::other(format!("cannot write {}: {e}", path.display()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp)?;
        f.write_all(content)?;
        f.sync_all()?;
        if replace {
            std::fs::rename(&temp, path)
        } else {
            // A hard link never replaces an existing file, unlike rename.
            std::fs::hard_link(&temp, path).and_then(|()| std::fs::remove_file(&temp))
        }
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            Failure::usage(format!("{} already exists; not overwriting it", path.display()))
        }
        _ => fail(e),
    })
}

pub fn detach(session: &mut Session, query: &str, name: &str, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let id = vault.resolve(query, Scope::Live)?;
    vault.detach(id, name)?;
    if json {
        out.json(&json!({ "id": id.to_hex(), "name": name }));
    } else {
        out.line(format!("Removed attachment {name} from {id}."));
    }
    Ok(())
}
