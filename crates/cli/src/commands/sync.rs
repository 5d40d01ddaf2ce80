//! `sync`, `sync register|clone|status|logout|2fa`: a thin layer over
//! `tessera-sync`'s client.

use std::io::IsTerminal;
use std::path::Path;

use serde_json::json;
use tessera_sync::client::{
    self, Credentials, Progress, SecretKey, SyncError, SyncReport, TwoFactor, default_device_name, kit::secret_from_kit,
};
use zeroize::Zeroizing;

use super::vault::{check_new_vault, deliver_recovery_code, kdf_from_args, kdf_or_calibrate};
use crate::cli::{SyncArgs, SyncCommand, TwoFactorCommand};
use crate::exit::{CliResult, Exit, Failure, vault_exit};
use crate::output::{Out, progress, rfc3339, spinner, write_new_private};
use crate::session::{Session, read_secret_file};

impl From<SyncError> for Failure {
    fn from(e: SyncError) -> Self {
        let exit = match &e {
            SyncError::NotLinked | SyncError::AlreadyLinked { .. } | SyncError::Exists | SyncError::SignInNeeded => {
                Exit::Usage
            }
            SyncError::Vault(v) => vault_exit(v),
            SyncError::WrongCredentials | SyncError::TotpRequired | SyncError::BadSecretKey(_) => Exit::WrongKey,
            SyncError::Hostile(_) | SyncError::KeyChanged(_) | SyncError::FileRolledBack { .. } => Exit::Integrity,
            SyncError::Role(_) | SyncError::Unverified(_) => Exit::WrongKey,
            SyncError::NoSuchShare(_) => Exit::NotFound,
            SyncError::Kdf(_) => Exit::Usage,
            SyncError::Busy => Exit::Busy,
            SyncError::Unreachable { .. }
            | SyncError::RateLimited(_)
            | SyncError::Rejected(_)
            | SyncError::OverLimit(_)
            | SyncError::Local(_) => Exit::Other,
        };
        Failure::new(exit, e)
    }
}

pub fn sync(session: &mut Session, args: &SyncArgs, json: bool, out: &mut Out) -> CliResult {
    match &args.command {
        None => run(session, args.totp.as_deref(), json, out),
        Some(SyncCommand::Register { server, email, emergency_kit, device_name }) => {
            register(session, server, email, emergency_kit.as_deref(), device_name.clone(), json, out)
        }
        Some(SyncCommand::Clone { server, email, secret_key_file, device_name, init }) => clone(
            session,
            server,
            email,
            secret_key_file.as_deref(),
            device_name.clone(),
            init,
            args.totp.as_deref(),
            json,
            out,
        ),
        Some(SyncCommand::Status) => status(session, json, out),
        Some(SyncCommand::Kit { emergency_kit }) => kit(session, emergency_kit.as_deref(), json, out),
        Some(SyncCommand::Events) => events(session, args.totp.as_deref(), json, out),
        Some(SyncCommand::Devices) => devices(session, args.totp.as_deref(), json, out),
        Some(SyncCommand::Revoke { device }) => revoke(session, device, args.totp.as_deref(), json, out),
        Some(SyncCommand::Logout { forget }) => logout(session, *forget, json, out),
        Some(SyncCommand::TwoFactor(TwoFactorCommand::Enable)) => enable_2fa(session, args.totp.as_deref(), json, out),
        Some(SyncCommand::TwoFactor(TwoFactorCommand::Disable)) => {
            let code = args
                .totp
                .as_deref()
                .ok_or_else(|| Failure::usage("pass --totp CODE (a current code or a recovery code)"))?;
            disable_2fa(session, code, json, out)
        }
    }
}

/// A progress bar for pushes, a spinner for pulls; hidden off a terminal.
pub(crate) fn reporter() -> impl FnMut(Progress) {
    let pull = spinner("Pulling changes");
    let push = progress("Pushing");
    move |p| match p {
        Progress::Pulling(n) => pull.set_message(format!("Pulling changes ({n})")),
        Progress::Pushing(done, total) => {
            pull.finish_and_clear();
            push.set_length(total);
            push.set_position(done);
        }
    }
}

fn report_text(r: &SyncReport) -> String {
    let mut s = format!("Pushed {}, pulled {}", r.pushed, r.pulled);
    if r.conflicts > 0 {
        s.push_str(&format!(
            "; {} conflicting edit{} kept as \"(conflict copy …)\" items",
            r.conflicts,
            if r.conflicts == 1 { "" } else { "s" }
        ));
    }
    s.push('.');
    s
}

fn run(session: &mut Session, totp: Option<&str>, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let password = session.account_password()?;
    let report = client::sync(&mut vault, &Credentials { password: Some(&password), totp }, &mut reporter())?;
    if json {
        out.json(&report);
    } else {
        out.line(report_text(&report));
    }
    Ok(())
}

fn register(
    session: &mut Session,
    server: &str,
    email: &str,
    kit: Option<&Path>,
    device_name: Option<String>,
    json: bool,
    out: &mut Out,
) -> CliResult {
    if let Some(kit) = kit
        && kit.symlink_metadata().is_ok()
    {
        return Err(Failure::usage(format!("{} already exists; not overwriting it", kit.display())));
    }
    let mut vault = session.unlock()?;
    let password = session.account_password()?;
    let device = device_name.unwrap_or_else(default_device_name);
    let done = client::register(&mut vault, server, email, &device, &password, &mut reporter())?;
    let secret = done.secret_key.to_display();
    if let Some(kit) = kit {
        write_kit(kit, server, email, &done.secret_key).map_err(|e| {
            Failure::other(format!("registered, but the emergency kit could not be written to {}: {e}", kit.display()))
        })?;
    }
    if json {
        let mut v =
            json!({ "pushed": done.report.pushed, "pulled": done.report.pulled, "conflicts": done.report.conflicts });
        if kit.is_none() {
            v["secret_key"] = json!(secret.as_str());
        }
        out.json(&v);
        return Ok(());
    }
    out.line(format!("Registered {email} on {server}. {}", report_text(&done.report)));
    match kit {
        Some(kit) => out.line(format!(
            "The emergency kit (with your Secret Key) is in {}. Print it, keep it with your recovery code, then delete the file.",
            kit.display()
        )),
        None => {
            out.line("");
            out.line("Your Secret Key (shown once; a new device needs it with your master password):");
            out.line("");
            out.line(format!("    {}", secret.as_str()));
            out.line("");
            out.line("Keep it with your recovery code. The server never sees it.");
        }
    }
    Ok(())
}

/// The emergency kit: how to join the account from a new device. A PDF
/// to print when `path` ends in `.pdf` (any case), plain text otherwise.
fn write_kit(path: &Path, server: &str, email: &str, secret: &SecretKey) -> std::io::Result<()> {
    let is_pdf = path.file_name().is_some_and(|n| {
        let n = n.as_encoded_bytes();
        n.len() >= 4 && n[n.len() - 4..].eq_ignore_ascii_case(b".pdf")
    });
    if is_pdf {
        return write_new_private(path, &client::kit::pdf(server, email, secret));
    }
    let secret = secret.to_display();
    let secret = secret.as_str();
    let text = Zeroizing::new(format!(
        "Tessera emergency kit\n\
         =====================\n\
         Keep this offline, with your recovery code. With your master password it\n\
         opens your sync account on a new device:\n\n\
         \x20   tessera --vault NEW.tessera sync clone --server {server} --email {email} --secret-key-file THIS_FILE\n\n\
         Server:      {server}\n\
         Email:       {email}\n\
         Secret Key:  {secret}\n"
    ));
    write_new_private(path, text.as_bytes())
}

#[allow(clippy::too_many_arguments)]
fn clone(
    session: &mut Session,
    server: &str,
    email: &str,
    secret_key_file: Option<&Path>,
    device_name: Option<String>,
    init: &crate::cli::InitArgs,
    totp: Option<&str>,
    json: bool,
    out: &mut Out,
) -> CliResult {
    let kdf = kdf_from_args(init)?;
    check_new_vault(session, init)?;
    let secret = match secret_key_file {
        Some(file) => {
            let bytes = read_secret_file(file)?;
            secret_from_kit(&bytes).map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?
        }
        None => {
            if !std::io::stdin().is_terminal() {
                return Err(Failure::usage("no Secret Key: pass --secret-key-file FILE (the emergency kit)"));
            }
            let typed = Zeroizing::new(
                rpassword::prompt_password("Secret Key: ")
                    .map_err(|e| Failure::other(format!("cannot read the Secret Key: {e}")))?,
            );
            SecretKey::parse(&typed).map_err(Failure::usage)?
        }
    };
    let password = session.master_password("Master password: ", false)?;
    let kdf = kdf_or_calibrate(kdf);
    let device = device_name.unwrap_or_else(default_device_name);
    let cloned = client::clone_account(
        &session.vault_path,
        server,
        email,
        &secret,
        &device,
        &Credentials { password: Some(&password), totp },
        kdf,
        &session.options,
        &mut reporter(),
    )
    .map_err(|e| {
        // Say what is (not) on disk, so nobody goes looking for a half vault.
        let mut failure = Failure::from(e);
        if session.vault_path.symlink_metadata().is_err() {
            failure.message.push_str(&format!(" (nothing was written to {})", session.vault_path.display()));
        }
        failure
    })?;
    let mut v = json!({
        "vault": session.vault_path.display().to_string(),
        "pushed": cloned.report.pushed,
        "pulled": cloned.report.pulled,
        "conflicts": cloned.report.conflicts,
    });
    if !json {
        out.line(format!(
            "Created {} from {email} on {server}: {} items.",
            session.vault_path.display(),
            cloned.report.pulled
        ));
    }
    deliver_recovery_code(init, &cloned.recovery_code, json.then_some(&mut v), out)?;
    if json {
        out.json(&v);
    }
    Ok(())
}

fn status(session: &mut Session, json: bool, out: &mut Out) -> CliResult {
    let vault = session.unlock()?;
    let s = client::status(&vault)?;
    if json {
        out.json(&s);
        return Ok(());
    }
    let when = |t: Option<i64>| {
        t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok()).map_or_else(|| "never".into(), rfc3339)
    };
    out.line(format!("Account:   {} on {}", s.email, s.server));
    out.line(format!("Device:    {}", if s.logged_in { "logged in" } else { "logged out (the next sync logs in)" }));
    out.line(format!("Last sync: {}", when(s.last_sync)));
    out.line(format!("Pending:   {} local change{} to push", s.pending, if s.pending == 1 { "" } else { "s" }));
    Ok(())
}

fn kit(session: &mut Session, file: Option<&Path>, json: bool, out: &mut Out) -> CliResult {
    if let Some(file) = file
        && file.symlink_metadata().is_ok()
    {
        return Err(Failure::usage(format!("{} already exists; not overwriting it", file.display())));
    }
    let vault = session.unlock()?;
    let (server, email, secret) = client::kit(&vault)?;
    match file {
        Some(file) => {
            // The vault keeps the key in its display form; it was checked when stored.
            let key = SecretKey::parse(&secret)
                .map_err(|e| Failure::other(format!("this vault's sync settings are damaged: {e}")))?;
            write_kit(file, &server, &email, &key)
                .map_err(|e| Failure::other(format!("cannot write the emergency kit to {}: {e}", file.display())))?;
            if json {
                out.json(&json!({ "server": server, "email": email, "path": file.display().to_string() }));
            } else {
                out.line(format!("The emergency kit is in {}.", file.display()));
            }
        }
        None if json => out.json(&json!({ "server": server, "email": email, "secret_key": secret.as_str() })),
        None => {
            out.line(format!("Server:      {server}"));
            out.line(format!("Email:       {email}"));
            out.line(format!("Secret Key:  {}", secret.as_str()));
        }
    }
    Ok(())
}

fn unix_time(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t).map_or_else(|_| t.to_string(), rfc3339)
}

fn events(session: &mut Session, totp: Option<&str>, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let password = session.account_password()?;
    let list = client::events(&mut vault, &Credentials { password: Some(&password), totp })?;
    if json {
        out.json(&list);
    } else {
        for e in &list {
            out.line(format!("{}  {:<14} {:<24} {}", unix_time(e.at), e.event, e.device, e.address));
        }
    }
    Ok(())
}

fn devices(session: &mut Session, totp: Option<&str>, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let password = session.account_password()?;
    let list = client::devices(&mut vault, &Credentials { password: Some(&password), totp })?;
    if json {
        out.json(&list);
    } else {
        for d in &list {
            let state = if d.current {
                "this device"
            } else if d.revoked {
                "revoked"
            } else {
                "active"
            };
            out.line(format!("{}  {:<24} since {}  {state}", d.id, d.name, unix_time(d.created)));
        }
    }
    Ok(())
}

fn revoke(session: &mut Session, device: &str, totp: Option<&str>, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let password = session.account_password()?;
    client::revoke_device(&mut vault, &Credentials { password: Some(&password), totp }, device)?;
    if json {
        out.json(&json!({ "revoked": device }));
    } else {
        out.line(format!("Revoked device {device}: its tokens no longer work."));
    }
    Ok(())
}

fn logout(session: &mut Session, forget: bool, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let confirmed = client::logout(&mut vault, forget)?;
    if json {
        out.json(&json!({ "revoked": confirmed, "forgot": forget }));
        return Ok(());
    }
    out.line(match (confirmed, forget) {
        (true, false) => "Logged out: this device's session is revoked. The next `tessera sync` logs in again.",
        (true, true) => "Logged out and unlinked this vault from the account.",
        (false, _) => "The server could not be reached to revoke the session; this device's tokens are forgotten.",
    });
    Ok(())
}

fn enable_2fa(session: &mut Session, code: Option<&str>, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let password = session.account_password()?;
    match client::enable_totp(&mut vault, &password, code)? {
        TwoFactor::Enroll(e) => {
            if json {
                out.json(&json!({ "enabled": false, "secret": e.secret, "uri": e.uri }));
            } else {
                out.line("Add this account to your authenticator app:");
                out.line(format!("    secret: {}", e.secret));
                out.line(format!("    {}", e.uri));
                out.line("Then switch two-factor login on with: tessera sync 2fa enable --totp CODE");
            }
        }
        TwoFactor::Enabled(codes) => {
            if json {
                out.json(&json!({ "enabled": true, "recovery_codes": codes.codes }));
            } else {
                out.line("Two-factor login is on. Recovery codes (each works once in place of a code; shown once):");
                for c in &codes.codes {
                    out.line(format!("    {c}"));
                }
            }
        }
    }
    Ok(())
}

fn disable_2fa(session: &mut Session, code: &str, json: bool, out: &mut Out) -> CliResult {
    let mut vault = session.unlock()?;
    let password = session.account_password()?;
    client::disable_totp(&mut vault, &password, code)?;
    if json {
        out.json(&json!({ "enabled": false }));
    } else {
        out.line("Two-factor login is off.");
    }
    Ok(())
}
