//! The sync client.

pub mod account;
pub mod engine;
pub mod http;
pub mod kit;
pub mod manifest;
pub mod merge;
pub mod record;
pub mod sharing;
pub mod state;
pub mod stream;

pub use account::SecretKey;
pub use engine::{
    Cloned, Credentials, Progress, Registered, Status, SyncError, SyncReport, TwoFactor, clone_account,
    default_device_name, devices, disable_totp, enable_totp, events, kit, logout, register, revoke_device, status,
    sync,
};
