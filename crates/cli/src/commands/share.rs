//! `share …` and `identity`: a thin layer over `tessera-sync`'s sharing
//! (DESIGN §11). Exit 5 for anything a hostile server did, 3 for a role or
//! policy that does not allow the change, 4 for an unknown share.

use serde_json::json;
use tessera_sync::client::sharing::{self, Role};
use tessera_sync::client::{Credentials, SyncReport};

use super::sync::reporter;
use crate::cli::{IdentityArgs, IdentityCommand, ShareArgs, ShareCommand};
use crate::exit::{CliResult, Failure};
use crate::output::Out;
use crate::session::Session;

pub fn share(session: &mut Session, args: &ShareArgs, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let password = session.account_password()?;
    let creds = Credentials { password: Some(&password), totp: args.totp.as_deref() };
    match &args.command {
        ShareCommand::Create { name, require_verified } => {
            let info = sharing::create(&mut vault, &creds, name, *require_verified)?;
            if json {
                out.json(&info);
            } else {
                out.line(format!(
                    "Created share \"{}\" ({}). Invite people with `tessera share invite`.",
                    info.name, info.id
                ));
            }
        }
        ShareCommand::List => {
            let shares = sharing::list(&mut vault, &creds)?;
            if json {
                out.json(&shares);
            } else if shares.is_empty() {
                out.line("No shares and no invitations.");
            } else {
                for s in &shares {
                    let pending = if s.pending {
                        format!("  invitation: `tessera share accept {}` or `tessera share decline {}`", s.id, s.id)
                    } else {
                        String::new()
                    };
                    out.line(format!(
                        "{}  {}  {}  {} member{}{pending}",
                        s.id,
                        s.name,
                        s.role.as_str(),
                        s.members,
                        if s.members == 1 { "" } else { "s" }
                    ));
                }
            }
        }
        ShareCommand::Invite { name, email, role } => {
            let role = Role::parse(role).ok_or_else(|| Failure::usage("--role is read, write or manage"))?;
            let invited = sharing::invite(&mut vault, &creds, name, email, role)?;
            if json {
                out.json(&invited);
            } else {
                out.line(format!("Invited {} ({}).", invited.email, invited.role.as_str()));
                out.line(format!("Their fingerprint: {}", invited.fingerprint));
                if !invited.verified {
                    out.line(format!(
                        "Not verified: ask {} to read you theirs (`tessera identity`); if it matches, run `tessera \
                         identity verify {} FINGERPRINT`.",
                        invited.email, invited.email
                    ));
                }
            }
        }
        ShareCommand::Accept { id } => {
            let (info, report) = sharing::accept(&mut vault, &creds, id, &mut reporter())?;
            if json {
                out.json(&json!({ "share": info, "pulled": report.pulled }));
            } else {
                out.line(format!("Joined \"{}\" as {}; {}.", info.name, info.role.as_str(), pulled(&report)));
            }
        }
        ShareCommand::Decline { id } => {
            let name = sharing::leave(&mut vault, &creds, id)?;
            if json {
                out.json(&json!({ "declined": id, "name": name }));
            } else {
                out.line(format!("Declined \"{name}\"."));
            }
        }
        ShareCommand::Members { name } => {
            let members = sharing::members(&mut vault, &creds, name)?;
            if json {
                out.json(&members);
            } else {
                for m in &members {
                    out.line(format!(
                        "{}  {}  {}{}",
                        m.email,
                        m.role.as_str(),
                        m.fingerprint,
                        if m.verified { "  verified" } else { "" }
                    ));
                }
            }
        }
        ShareCommand::Remove { name, email } => {
            sharing::remove(&mut vault, &creds, name, email)?;
            if json {
                out.json(&json!({ "removed": email }));
            } else {
                out.line(format!("Removed {email}; the share has a new key and its items were re-encrypted."));
            }
        }
        ShareCommand::Leave { name } => {
            let left = sharing::leave(&mut vault, &creds, name)?;
            if json {
                out.json(&json!({ "left": left }));
            } else {
                out.line(format!("Left \"{left}\"; your copies of its items stay, tagged unshared:{left}."));
            }
        }
    }
    Ok(())
}

fn pulled(r: &SyncReport) -> String {
    format!("{} item{} received", r.pulled, if r.pulled == 1 { "" } else { "s" })
}

pub fn identity(session: &mut Session, args: &IdentityArgs, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let password = session.account_password()?;
    let creds = Credentials { password: Some(&password), totp: args.totp.as_deref() };
    match &args.command {
        None => {
            let me = sharing::identity(&mut vault, &creds)?;
            if json {
                out.json(&me);
            } else {
                out.line(me.email);
                out.line(me.fingerprint);
            }
        }
        Some(IdentityCommand::Verify { email, fingerprint }) => {
            let who = sharing::verify_contact(&mut vault, &creds, email, fingerprint)?;
            if json {
                out.json(&json!({ "email": who.email, "fingerprint": who.fingerprint, "verified": true }));
            } else {
                out.line(format!("Verified {} ({}).", who.email, who.fingerprint));
            }
        }
    }
    Ok(())
}
