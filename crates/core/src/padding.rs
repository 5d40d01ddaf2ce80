//! Padding: a ciphertext tells its size class, not its content's size.
//!
//! The threat is whoever holds a vault file or the sync server's database:
//! AES-GCM keeps lengths, so without padding the size of an item tells a
//! short PIN from a long recovery note, and a change of a few characters is
//! visible from one revision to the next. Every item, history version,
//! attachment and sync record is padded before sealing:
//!
//! ```text
//! padded = content length (u32, big-endian) ‖ content ‖ zeros
//! ```
//!
//! to [`padded_len`]: 256-byte steps up to 4 KiB (where almost every item
//! is, so a handful of classes cover them), then Padmé (Nikitin et al.,
//! "Reducing Metadata Leakage from Encrypted Files and Communication with
//! PURBs", PETS 2019): at most 12 % overhead, and a size leaks O(log log n)
//! bits. A padded blob is sealed under its AAD with [`PADDED`] set in the
//! domain byte, so the padding is authenticated like the content, a padded
//! blob never opens as an unpadded one, and the zeros are checked on read
//! anyway.
//!
//! Blobs sealed before padding existed open through the unpadded AAD:
//! existing vaults and accounts keep working, and are padded as their items
//! are rewritten (`rotate` rewrites all of them).

use std::collections::BTreeMap;

use zeroize::Zeroizing;

use crate::error::VaultError;
use crate::format::Aad;
use crate::ids::{AttachmentId, ItemId};
use crate::item::Item;
use crate::primitives::aead::{AeadFailure, Cipher, OVERHEAD};
use crate::vault::{Scope, Vault};

/// Set in an AAD's domain byte when the plaintext is padded.
pub(crate) const PADDED: u8 = 0x80;

/// The length header in front of the content.
const HEADER: usize = 4;

/// Below this, sizes step by [`STEP`].
const SMALL: usize = 4096;
const STEP: usize = 256;

/// The padded size of a plaintext of `n` bytes (header included).
pub fn padded_len(n: usize) -> usize {
    let n = n.max(1);
    if n <= SMALL {
        return n.div_ceil(STEP) * STEP;
    }
    // Padmé: keep the top ⌊log2 e⌋ + 1 bits of the length, where e is its
    // exponent; round the rest up.
    let e = usize::BITS - 1 - n.leading_zeros();
    let s = u32::BITS - e.leading_zeros();
    let mask = (1usize << (e - s)) - 1;
    (n + mask) & !mask
}

/// Pads `content` to its size class.
fn pad(content: &[u8]) -> Zeroizing<Vec<u8>> {
    let len = u32::try_from(content.len()).expect("a sealed blob is under 4 GiB");
    let mut out = Zeroizing::new(Vec::with_capacity(padded_len(HEADER + content.len())));
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(content);
    out.resize(padded_len(HEADER + content.len()), 0);
    out
}

/// The content of a padded plaintext; `None` if the header or the zeros
/// are wrong (never for a blob this code sealed: the AEAD passed).
fn unpad(mut padded: Zeroizing<Vec<u8>>) -> Option<Zeroizing<Vec<u8>>> {
    let header: [u8; HEADER] = padded.get(..HEADER)?.try_into().ok()?;
    let len = u32::from_be_bytes(header) as usize;
    let end = HEADER.checked_add(len).filter(|&end| end <= padded.len())?;
    if padded[end..].iter().any(|&b| b != 0) || padded.len() != padded_len(end) {
        return None;
    }
    padded.truncate(end);
    padded.drain(..HEADER);
    Some(padded)
}

/// Seals `content` padded, under `aad` marked as padded.
pub(crate) fn seal_padded(cipher: &Cipher, aad: &Aad<'_>, content: &[u8]) -> Vec<u8> {
    cipher.seal(&aad.to_bytes_with(PADDED), &pad(content))
}

/// Opens a blob sealed by [`seal_padded`] only: for formats born padded
/// (shared items), where an unpadded blob has no excuse.
pub(crate) fn open_padded_strict(
    cipher: &Cipher,
    aad: &Aad<'_>,
    blob: &[u8],
) -> Result<Zeroizing<Vec<u8>>, AeadFailure> {
    unpad(cipher.open(&aad.to_bytes_with(PADDED), blob)?).ok_or(AeadFailure)
}

/// Opens a blob sealed by [`seal_padded`], or one sealed unpadded before
/// padding existed. The AEAD decides which it is: neither can be made to
/// pass for the other without the key.
pub(crate) fn open_padded(cipher: &Cipher, aad: &Aad<'_>, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, AeadFailure> {
    match cipher.open(&aad.to_bytes_with(PADDED), blob) {
        Ok(padded) => unpad(padded).ok_or(AeadFailure),
        Err(AeadFailure) => cipher.open(&aad.to_bytes(), blob),
    }
}

/// What padding costs a vault, for `make bench`: its sealed blobs' bytes as
/// sealed now and as they were sealed before padding existed. A count of
/// lengths only; nothing secret leaves.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaddingCost {
    /// Sealed blobs: items, history versions, attachments.
    pub blobs: u64,
    /// Their bytes padded: what [`seal_padded`] writes.
    pub padded: u64,
    /// Their bytes unpadded: content and AEAD overhead, no header, no zeros.
    pub unpadded: u64,
}

impl PaddingCost {
    /// Counts one blob whose content is `content_len` bytes.
    pub fn add(&mut self, content_len: usize) {
        self.blobs += 1;
        self.padded += (padded_len(HEADER + content_len) + OVERHEAD) as u64;
        self.unpadded += (content_len + OVERHEAD) as u64;
    }
}

/// One sealed blob of a vault, by the row that holds it.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealedBlob {
    /// The current version of an item.
    Item(ItemId),
    /// An earlier version of an item, by revision.
    History(ItemId, u64),
    /// An attachment's content.
    Attachment(AttachmentId),
}

/// The content length of every item, history version and attachment of
/// `vault`, measured as `sealed.rs` seals them (an item's JSON, an
/// attachment's bytes), to feed [`PaddingCost::add`]. Reads through the
/// public API, so it decrypts everything once.
#[doc(hidden)]
pub fn sealed_content_lens(vault: &Vault) -> Result<Vec<(SealedBlob, usize)>, VaultError> {
    let json_len = |item: &Item| Zeroizing::new(serde_json::to_vec(item).expect("an Item always serialises")).len();
    let mut lens = Vec::new();
    let mut earlier = Vec::new();
    let mut attachments = BTreeMap::new();
    vault.each_item(Scope::Any, |item| {
        lens.push((SealedBlob::Item(item.id), json_len(item)));
        attachments.extend(item.attachments.iter().map(|a| (a.id, (item.id, a.clone()))));
        // A first version has no history.
        if item.revision > 1 {
            earlier.push(item.id);
        }
    })?;
    for id in earlier {
        for version in vault.history(id)? {
            lens.push((SealedBlob::History(id, version.revision), json_len(&version)));
            attachments.extend(version.attachments.iter().map(|a| (a.id, (id, a.clone()))));
        }
    }
    for (attachment, (item, reference)) in attachments {
        lens.push((SealedBlob::Attachment(attachment), vault.attachment_content(item, &reference)?.len()));
    }
    Ok(lens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{KeyVersion, VaultId};

    #[test]
    fn small_sizes_step_by_256_and_large_ones_follow_padme() {
        assert_eq!(padded_len(0), 256);
        assert_eq!(padded_len(1), 256);
        assert_eq!(padded_len(256), 256);
        assert_eq!(padded_len(257), 512);
        assert_eq!(padded_len(4096), 4096);
        assert_eq!(padded_len(4097), 4352);
        // Padmé keeps the top 5 bits of a 21-bit length (exponent 20).
        assert_eq!(padded_len((1 << 20) + 1), (1 << 20) + (1 << 15));
        for n in [5000, 100_000, 3_000_000, 40_000_000] {
            let p = padded_len(n);
            assert!(p >= n && (p - n) as f64 / n as f64 <= 0.12, "{n} → {p}");
        }
    }

    #[test]
    fn one_to_two_thousand_characters_give_a_handful_of_sizes() {
        let sizes: std::collections::BTreeSet<usize> = (1..=2000).map(|n| pad(&vec![b'x'; n]).len()).collect();
        assert!(sizes.len() <= 8, "{sizes:?}");
    }

    fn aad_parts() -> (VaultId, ItemId) {
        (VaultId::from_slice(&[1; 16]).unwrap(), ItemId::from_slice(&[2; 16]).unwrap())
    }

    #[test]
    fn padded_blobs_open_and_unpadded_ones_still_do() {
        let c = Cipher::new(&[7; 32]);
        let (vault, item) = aad_parts();
        let aad = Aad::Item { vault: &vault, item: &item, key_version: KeyVersion(1) };
        let blob = seal_padded(&c, &aad, b"{\"title\":\"x\"}");
        assert_eq!(blob.len(), 256 + crate::primitives::aead::OVERHEAD);
        assert_eq!(&open_padded(&c, &aad, &blob).unwrap()[..], b"{\"title\":\"x\"}");
        // A blob from before padding.
        let legacy = c.seal(&aad.to_bytes(), b"legacy");
        assert_eq!(&open_padded(&c, &aad, &legacy).unwrap()[..], b"legacy");
        // A padded blob does not open as unpadded: its AAD differs.
        assert!(c.open(&aad.to_bytes(), &blob).is_err());
    }

    #[test]
    fn padding_cost_counts_what_seal_padded_writes() {
        let c = Cipher::new(&[7; 32]);
        let (vault, item) = aad_parts();
        let aad = Aad::Item { vault: &vault, item: &item, key_version: KeyVersion(1) };
        let mut cost = PaddingCost::default();
        let mut sealed = 0;
        for n in [1, 300, 5000] {
            cost.add(n);
            sealed += seal_padded(&c, &aad, &vec![b'x'; n]).len() as u64;
        }
        assert_eq!(cost.blobs, 3);
        assert_eq!(cost.padded, sealed);
        // As sealed before padding existed.
        let legacy: usize = [1, 300, 5000].iter().map(|&n| c.seal(&aad.to_bytes(), &vec![b'x'; n]).len()).sum();
        assert_eq!(cost.unpadded, legacy as u64);
    }

    #[test]
    fn wrong_padding_is_refused_even_when_authentic() {
        let c = Cipher::new(&[7; 32]);
        let (vault, item) = aad_parts();
        let aad = Aad::Item { vault: &vault, item: &item, key_version: KeyVersion(1) };
        let mut bad = pad(b"content").to_vec();
        bad[200] = 1;
        let blob = c.seal(&aad.to_bytes_with(PADDED), &bad);
        assert!(open_padded(&c, &aad, &blob).is_err());
        let mut long = pad(b"content").to_vec();
        long[..4].copy_from_slice(&1000u32.to_be_bytes());
        assert!(open_padded(&c, &aad, &c.seal(&aad.to_bytes_with(PADDED), &long)).is_err());
        let short = b"\0\0\0\x01x".to_vec();
        assert!(open_padded(&c, &aad, &c.seal(&aad.to_bytes_with(PADDED), &short)).is_err(), "not a size class");
    }

    #[test]
    fn a_flipped_byte_anywhere_fails() {
        let c = Cipher::new(&[7; 32]);
        let (vault, item) = aad_parts();
        let aad = Aad::Item { vault: &vault, item: &item, key_version: KeyVersion(1) };
        let blob = seal_padded(&c, &aad, b"x");
        for i in [0, 12, 20, 200, blob.len() - 1] {
            let mut t = blob.clone();
            t[i] ^= 1;
            assert!(open_padded(&c, &aad, &t).is_err(), "flip at {i}");
        }
    }
}
