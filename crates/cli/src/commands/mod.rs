//! One module per group of commands; each parses nothing and prints only
//! through [`crate::output::Out`].

pub mod attachments;
pub mod browser;
pub mod credential;
pub mod generate;
pub mod interop;
pub mod items;
pub mod keys;
pub mod mcp;
pub mod reports;
pub mod rollback;
pub mod secrets;
pub mod share;
pub mod slots;
pub mod ssh;
pub mod sync;
pub mod vault;
