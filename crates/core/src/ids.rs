//! Identifiers: random 128-bit tokens for vaults, items and attachments,
//! small integers for slots and data-key versions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::primitives::random::random_array;

/// Why a textual identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid identifier: expected 32 hexadecimal characters")]
pub struct InvalidId;

macro_rules! token_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 16]);

        impl $name {
            /// A fresh random identifier (128 bits from the OS generator).
            pub fn random() -> Self {
                Self(random_array())
            }

            /// The identifier's 16 bytes, as stored and bound into AAD.
            pub fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }

            /// Rebuilds an identifier from its stored bytes.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, InvalidId> {
                bytes.try_into().map(Self).map_err(|_| InvalidId)
            }

            /// Lower-case hexadecimal, 32 characters: the form users see.
            pub fn to_hex(&self) -> String {
                data_encoding::HEXLOWER.encode(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(s: &str) -> Result<Self, InvalidId> {
                let bytes = data_encoding::HEXLOWER_PERMISSIVE
                    .decode(s.as_bytes())
                    .map_err(|_| InvalidId)?;
                Self::from_slice(&bytes)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

token_id!(
    /// Names one vault for its whole life; bound into every AAD so a blob
    /// cannot be moved from one vault into another.
    VaultId
);
token_id!(
    /// Names one item across edits, trash and history.
    ItemId
);
token_id!(
    /// Names one stored attachment blob.
    AttachmentId
);

/// A key slot's number, unique within a vault (like a LUKS key slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SlotId(pub u32);

impl fmt::Display for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The version of a data key; items record the version that sealed them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeyVersion(pub u32);

impl fmt::Display for KeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_ids_round_trip_through_hex() {
        let id = ItemId::random();
        assert_eq!(id.to_hex().len(), 32);
        assert_eq!(id.to_hex().parse::<ItemId>().unwrap(), id);
        assert_eq!(id.to_hex().to_uppercase().parse::<ItemId>().unwrap(), id);
    }

    #[test]
    fn malformed_ids_are_refused() {
        assert!("abc".parse::<ItemId>().is_err());
        assert!("zz".repeat(16).parse::<ItemId>().is_err());
        assert!("00".repeat(17).parse::<ItemId>().is_err());
    }

    #[test]
    fn random_ids_differ() {
        assert_ne!(ItemId::random(), ItemId::random());
    }
}
