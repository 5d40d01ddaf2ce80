//! The few cryptographic primitives the vault is built from, each behind a
//! small function so the rest of the crate never touches a cipher directly.

pub(crate) mod aead;
pub(crate) mod hash;
pub(crate) mod random;
