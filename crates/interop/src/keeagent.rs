//! SSH keys the way KeePass users keep them: KeeAgent's convention, which
//! KeePassXC's SSH agent reads too. An entry holds the private key file as
//! an attachment and a `KeeAgent.settings` attachment, an XML document
//! (UTF-16 with a byte-order mark, as KeeAgent writes it; UTF-8 is read
//! too) that names the key's attachment and says whether the agent may use
//! it. A passphrase-protected key's passphrase is the entry's password.
//!
//! Import turns such an entry into an `ssh-key` item (the two attachments
//! become the item's key fields); export writes an `ssh-key` item back as
//! such an entry. A key Tessera cannot read (another type, a wrong
//! passphrase) stays an ordinary entry with its attachments: nothing is
//! lost.

use tessera_core::item::SSH_PRIVATE_KEY;
use tessera_core::{Item, ItemType, NewAttachment};
use zeroize::Zeroizing;

/// The settings attachment's name.
pub const SETTINGS: &str = "KeeAgent.settings";

/// What Tessera reads of the settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `AllowUseOfSshKey`: the agent may use the key.
    pub allow: bool,
    /// The attachment holding the key (`Location/AttachmentName`, when
    /// `SelectedType` is `attachment`).
    pub attachment: Option<String>,
}

/// The text of the settings, from UTF-16 (either order, byte-order mark
/// first) or UTF-8.
fn decode(bytes: &[u8]) -> Option<String> {
    let utf16 = |bytes: &[u8], little: bool| {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| if little { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) })
            .collect();
        String::from_utf16(&units).ok()
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The text of the first `<tag>…</tag>` in `xml`.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim())
}

/// Reads a `KeeAgent.settings` attachment; `None` when it is not one.
pub fn parse(bytes: &[u8]) -> Option<Settings> {
    let xml = decode(bytes)?;
    if !xml.contains("<EntrySettings") {
        return None;
    }
    let allow = element(&xml, "AllowUseOfSshKey").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let location = element(&xml, "Location").unwrap_or("");
    let attachment = (element(location, "SelectedType") == Some("attachment"))
        .then(|| element(location, "AttachmentName").map(unescape))
        .flatten()
        .filter(|n| !n.is_empty());
    Some(Settings { allow, attachment })
}

/// The settings attachment for a key in attachment `name`, as KeeAgent
/// writes it.
pub fn settings(allow: bool, name: &str) -> Vec<u8> {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n\
         <EntrySettings xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n\
         \x20 <AllowUseOfSshKey>{allow}</AllowUseOfSshKey>\n\
         \x20 <AddAtDatabaseOpen>{allow}</AddAtDatabaseOpen>\n\
         \x20 <RemoveAtDatabaseClose>true</RemoveAtDatabaseClose>\n\
         \x20 <UseConfirmConstraintWhenAdding>false</UseConfirmConstraintWhenAdding>\n\
         \x20 <UseLifetimeConstraintWhenAdding>false</UseLifetimeConstraintWhenAdding>\n\
         \x20 <LifetimeConstraintDuration>600</LifetimeConstraintDuration>\n\
         \x20 <Location>\n\
         \x20   <SelectedType>attachment</SelectedType>\n\
         \x20   <AttachmentName>{}</AttachmentName>\n\
         \x20   <SaveAttachmentToTempFile>false</SaveAttachmentToTempFile>\n\
         \x20 </Location>\n\
         </EntrySettings>\n",
        escape(name)
    );
    let mut out = vec![0xFF, 0xFE];
    for unit in xml.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

/// Makes `item` an `ssh-key` item when `attachments` hold KeeAgent
/// settings and the key they name (opened with the entry's password when
/// it is protected); the two attachments are then taken out. Anything else
/// leaves both as they are.
pub fn import(item: &mut Item, attachments: &mut Vec<NewAttachment>) {
    let Some(settings) = attachments.iter().find(|a| a.name == SETTINGS).and_then(|a| parse(&a.content)) else {
        return;
    };
    let Some(name) = settings.attachment else { return };
    let Some(file) = attachments.iter().find(|a| a.name == name) else { return };
    let passphrase = item.password.clone();
    let mut ask = || (!passphrase.is_empty()).then(|| Zeroizing::new(passphrase.clone()));
    let Ok(key) = tessera_agent::keys::import(&file.content, &mut ask) else { return };
    if tessera_agent::keys::store(item, &key).is_err() {
        return;
    }
    item.ssh_agent = settings.allow;
    attachments.retain(|a| a.name != SETTINGS && a.name != name);
}

/// For an `ssh-key` item whose key Tessera can read: the key file's name
/// (`id_ed25519`, `id_ecdsa`, `id_rsa`), its content (OpenSSH format, not
/// encrypted: the KDBX file is) and the settings attachment.
pub fn export(item: &Item) -> Option<[(String, Zeroizing<Vec<u8>>); 2]> {
    if item.item_type != ItemType::SshKey {
        return None;
    }
    let key = tessera_agent::keys::private_key(item).ok()?;
    let name = match key.algorithm() {
        tessera_agent::ssh_key::Algorithm::Ed25519 => "id_ed25519",
        tessera_agent::ssh_key::Algorithm::Ecdsa { .. } => "id_ecdsa",
        _ => "id_rsa",
    };
    let text = item.field(SSH_PRIVATE_KEY)?.value.as_bytes().to_vec();
    Some([
        (name.to_owned(), Zeroizing::new(text)),
        (SETTINGS.to_owned(), Zeroizing::new(settings(item.ssh_agent, name))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_in_utf16_and_read_utf8() {
        let bytes = settings(true, "id_ed25519");
        assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
        assert_eq!(parse(&bytes), Some(Settings { allow: true, attachment: Some("id_ed25519".into()) }));
        let utf8 = "<?xml version=\"1.0\"?><EntrySettings><AllowUseOfSshKey>false</AllowUseOfSshKey>\
                    <Location><SelectedType>attachment</SelectedType><AttachmentName>a &amp; b</AttachmentName>\
                    </Location></EntrySettings>";
        assert_eq!(parse(utf8.as_bytes()), Some(Settings { allow: false, attachment: Some("a & b".into()) }));
        let file = "<EntrySettings><AllowUseOfSshKey>true</AllowUseOfSshKey><Location><SelectedType>file\
                    </SelectedType><FileName>/home/me/.ssh/id</FileName></Location></EntrySettings>";
        assert_eq!(parse(file.as_bytes()), Some(Settings { allow: true, attachment: None }));
        assert_eq!(parse(b"not settings"), None);
    }

    #[test]
    fn an_entry_with_a_keeagent_key_becomes_an_ssh_key_item_and_back() {
        let key = tessera_agent::keys::generate(tessera_agent::keys::KeyKind::Ed25519, "me@host").unwrap();
        let encrypted = key
            .encrypt(&mut rand_core::OsRng, b"entry password")
            .unwrap()
            .to_openssh(tessera_agent::ssh_key::LineEnding::LF)
            .unwrap();
        let mut item = Item::new(ItemType::Login, "Server key");
        item.password = "entry password".into();
        let mut attachments = vec![
            NewAttachment { name: "id_ed25519".into(), content: Zeroizing::new(encrypted.as_bytes().to_vec()) },
            NewAttachment { name: SETTINGS.into(), content: Zeroizing::new(settings(true, "id_ed25519")) },
            NewAttachment { name: "notes.txt".into(), content: Zeroizing::new(b"kept".to_vec()) },
        ];
        import(&mut item, &mut attachments);
        assert_eq!(item.item_type, ItemType::SshKey);
        assert!(item.ssh_agent);
        assert_eq!(attachments.len(), 1, "the key and its settings became fields; other attachments stay");
        let public = tessera_agent::keys::public_line(&item).unwrap();
        assert_eq!(public.split_whitespace().nth(1), key.public_key().to_openssh().unwrap().split_whitespace().nth(1));

        let [(name, content), (settings_name, settings_bytes)] = export(&item).unwrap();
        assert_eq!((name.as_str(), settings_name.as_str()), ("id_ed25519", SETTINGS));
        let again = tessera_agent::keys::import(&content, &mut || None).unwrap();
        assert_eq!(again.public_key().key_data(), key.public_key().key_data());
        assert_eq!(parse(&settings_bytes).unwrap().attachment.as_deref(), Some("id_ed25519"));

        // A wrong passphrase leaves the entry as it was.
        let mut other = Item::new(ItemType::Login, "Locked key");
        other.password = "not it".into();
        let mut attachments = vec![
            NewAttachment { name: "id".into(), content: Zeroizing::new(encrypted.as_bytes().to_vec()) },
            NewAttachment { name: SETTINGS.into(), content: Zeroizing::new(settings(true, "id")) },
        ];
        import(&mut other, &mut attachments);
        assert_eq!((other.item_type, attachments.len()), (ItemType::Login, 2));
    }
}
