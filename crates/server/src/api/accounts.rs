//! `/api/v1/accounts/…`: register, prelogin, login, refresh, logout,
//! delete, the event log and the account's TOTP second factor.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tessera_sync::wire::{
    AccountEvent, DeleteAccountRequest, DeviceInfo, ErrorBody, KdfSpec, LoginRequest, PreloginRequest,
    PreloginResponse, RecoveryCodes, RefreshRequest, RegisterRequest, Session, TotpCode, TotpEnrollment, from_b64,
};

use super::{Authed, Body, ClientAddr, PathParam, Shared, now};
use crate::db::{NewAccount, Refresh};
use crate::error::ApiError;
use crate::rate_limit::locked_until;
use crate::secrets::{self, REFRESH_TTL_SECS, new_recovery_codes, new_refresh_token, random_id, totp};

/// The KDF a client is told to use for an unknown email (the client's floor).
fn default_kdf() -> KdfSpec {
    KdfSpec { algorithm: "argon2id".into(), memory_kib: 64 * 1024, iterations: 3, parallelism: 4 }
}

/// Normalised email: trimmed, lowercase; refused unless it looks like one.
fn email(raw: &str) -> Result<String, ApiError> {
    let e = raw.trim().to_lowercase();
    if e.len() > 254 || e.len() < 3 || !e.contains('@') || e.chars().any(char::is_whitespace) {
        return Err(ApiError::BadRequest("not an email address".into()));
    }
    Ok(e)
}

fn decode(field: &str, value: &str, len: std::ops::RangeInclusive<usize>) -> Result<Vec<u8>, ApiError> {
    from_b64(value)
        .filter(|b| len.contains(&b.len()))
        .ok_or_else(|| ApiError::BadRequest(format!("{field} must be base64 of {}..{} bytes", len.start(), len.end())))
}

fn limit(state: &Shared, addr: &ClientAddr) -> Result<(), ApiError> {
    state.limiter.take(addr.0).map_err(ApiError::RateLimited)
}

/// Runs Argon2 on the hashing pool.
async fn hashing<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&mut [argon2::Block]) -> T + Send + 'static,
) -> Result<T, ApiError> {
    state.hashing.run(f).await.ok_or(ApiError::Unavailable)
}

async fn new_session(state: &Shared, account: &str, device_name: &str) -> Result<Session, ApiError> {
    let device = random_id();
    let refresh = new_refresh_token();
    let t = now();
    let name: String = device_name.chars().filter(|c| !c.is_control()).take(64).collect();
    state.db.create_device(account, &device, &name, &state.keys.lookup_hash(&refresh), t + REFRESH_TTL_SECS, t).await?;
    Ok(Session {
        account_id: account.to_string(),
        access_token: state.keys.issue_access(account, &device, t),
        expires_in: secrets::ACCESS_TTL_SECS as u64,
        device_id: device,
        refresh_token: refresh,
    })
}

/// Salt and KDF parameters for an email.
#[utoipa::path(post, path = "/api/v1/accounts/prelogin", request_body = PreloginRequest,
    responses((status = 200, body = PreloginResponse), (status = 429, body = ErrorBody)))]
pub async fn prelogin(
    State(state): State<Shared>,
    addr: ClientAddr,
    Body(req): Body<PreloginRequest>,
) -> Result<Json<PreloginResponse>, ApiError> {
    limit(&state, &addr)?;
    let email = email(&req.email)?;
    Ok(Json(match state.db.account_by_email(&email).await? {
        Some(a) => {
            PreloginResponse { salt: a.salt, kdf: serde_json::from_str(&a.kdf).map_err(|_| ApiError::Unavailable)? }
        }
        None => PreloginResponse { salt: tessera_sync::wire::b64(&state.keys.fake_salt(&email)), kdf: default_kdf() },
    }))
}

/// Creates an account and logs this device in.
#[utoipa::path(post, path = "/api/v1/accounts/register", request_body = RegisterRequest,
    responses((status = 200, body = Session), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn register(
    State(state): State<Shared>,
    addr: ClientAddr,
    Body(req): Body<RegisterRequest>,
) -> Result<Json<Session>, ApiError> {
    limit(&state, &addr)?;
    let email = email(&req.email)?;
    let auth = decode("auth", &req.auth, 32..=32)?;
    decode("salt", &req.salt, 16..=64)?;
    decode("wrapped_vault_key", &req.wrapped_vault_key, 16..=1024)?;
    decode("manifest", &req.manifest, 16..=1024)?;
    let k = &req.kdf;
    if k.algorithm != "argon2id" || k.memory_kib < 64 * 1024 || k.iterations < 3 || k.parallelism < 1 {
        return Err(ApiError::BadRequest("KDF parameters below the floor (Argon2id m=64 MiB t=3)".into()));
    }
    let kdf = serde_json::to_string(k).map_err(|_| ApiError::Unavailable)?;
    let hash = {
        let keys = state.clone();
        hashing(&state, move |m| keys.keys.hash_auth(&auth, m)).await?
    };
    let id = random_id();
    let created = state
        .db
        .create_account(&NewAccount {
            id: &id,
            email: &email,
            auth_hash: &hash,
            salt: &req.salt,
            kdf: &kdf,
            wrapped_vault_key: &req.wrapped_vault_key,
            manifest: &req.manifest,
            now: now(),
        })
        .await?;
    if !created {
        return Err(ApiError::Exists);
    }
    let session = new_session(&state, &id, &req.device_name).await?;
    state.db.log_event(&id, "registered", &req.device_name, &state.event_address(&addr)).await?;
    Ok(Json(session))
}

/// Checks `auth` (and the second factor) and logs a new device in.
#[utoipa::path(post, path = "/api/v1/accounts/login", request_body = LoginRequest,
    responses((status = 200, body = Session), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<Shared>,
    addr: ClientAddr,
    Body(req): Body<LoginRequest>,
) -> Result<Json<Session>, ApiError> {
    limit(&state, &addr)?;
    let email = email(&req.email)?;
    let auth = decode("auth", &req.auth, 32..=32)?;
    let Some(account) = state.db.account_by_email(&email).await? else {
        // Same work as a real check, so timing does not tell accounts apart.
        let keys = state.clone();
        hashing(&state, move |m| keys.keys.verify_auth(&auth, "AAAAAAAAAAAAAAAAAAAAAA==$AAAA", m)).await?;
        return Err(ApiError::InvalidCredentials);
    };
    let t = now();
    if account.locked_until > t {
        return Err(ApiError::RateLimited((account.locked_until - t) as u64));
    }
    let ok = {
        let (keys, stored) = (state.clone(), account.auth_hash.clone());
        hashing(&state, move |m| keys.keys.verify_auth(&auth, &stored, m)).await?
    };
    let address = state.event_address(&addr);
    let second_ok = if !ok || !account.totp_enabled {
        ok
    } else {
        match req.totp.as_deref().map(str::trim) {
            None | Some("") => return Err(ApiError::TotpRequired),
            Some(code) => second_factor(&state, &account, code, t).await?,
        }
    };
    if !second_ok {
        let failures = account.failed_logins + 1;
        state.db.set_login_failures(&account.id, failures, locked_until(t, failures)).await?;
        state.db.log_event(&account.id, "login_failed", &req.device_name, &address).await?;
        return Err(ApiError::InvalidCredentials);
    }
    if account.failed_logins != 0 {
        state.db.set_login_failures(&account.id, 0, 0).await?;
    }
    let session = new_session(&state, &account.id, &req.device_name).await?;
    state.db.log_event(&account.id, "login", &req.device_name, &address).await?;
    Ok(Json(session))
}

/// A TOTP code (each time step once) or an unused recovery code.
async fn second_factor(state: &Shared, account: &crate::db::Account, code: &str, t: i64) -> Result<bool, ApiError> {
    if let Some(secret) = &account.totp_secret
        && let Some(step) = totp::verify(secret, code, t)
    {
        return Ok(state.db.use_totp_step(&account.id, step).await?);
    }
    let normalised = code.to_lowercase();
    Ok(state.db.use_recovery_code(&account.id, &state.keys.lookup_hash(&normalised)).await?)
}

/// Trades a refresh token for a new pair. A reused token revokes its device.
#[utoipa::path(post, path = "/api/v1/accounts/refresh", request_body = RefreshRequest,
    responses((status = 200, body = Session), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<Shared>,
    addr: ClientAddr,
    Body(req): Body<RefreshRequest>,
) -> Result<Json<Session>, ApiError> {
    limit(&state, &addr)?;
    let t = now();
    let new = new_refresh_token();
    let old_hash = state.keys.lookup_hash(&req.refresh_token);
    match state.db.rotate_refresh(&old_hash, &state.keys.lookup_hash(&new), t + REFRESH_TTL_SECS, t).await? {
        Refresh::Rotated { account, device } => Ok(Json(Session {
            access_token: state.keys.issue_access(&account, &device, t),
            expires_in: secrets::ACCESS_TTL_SECS as u64,
            account_id: account,
            device_id: device,
            refresh_token: new,
        })),
        Refresh::Reused { account, device } => {
            let name = state.db.device_name(&device).await?;
            state.db.log_event(&account, "refresh_reuse", &name, &state.event_address(&addr)).await?;
            Err(ApiError::Unauthorized)
        }
        Refresh::Invalid => Err(ApiError::Unauthorized),
    }
}

/// Revokes this device's tokens.
#[utoipa::path(post, path = "/api/v1/accounts/logout", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<Shared>, addr: ClientAddr, who: Authed) -> Result<StatusCode, ApiError> {
    state.db.revoke_device(&who.device).await?;
    let name = state.db.device_name(&who.device).await?;
    state.db.log_event(&who.account, "logout", &name, &state.event_address(&addr)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes the account and all its data; needs `auth` again.
#[utoipa::path(delete, path = "/api/v1/accounts", request_body = DeleteAccountRequest, security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn delete_account(
    State(state): State<Shared>,
    addr: ClientAddr,
    who: Authed,
    Body(req): Body<DeleteAccountRequest>,
) -> Result<StatusCode, ApiError> {
    limit(&state, &addr)?;
    let auth = decode("auth", &req.auth, 32..=32)?;
    let account = state.db.account(&who.account).await?.ok_or(ApiError::Unauthorized)?;
    let ok = {
        let keys = state.clone();
        hashing(&state, move |m| keys.keys.verify_auth(&auth, &account.auth_hash, m)).await?
    };
    if !ok {
        return Err(ApiError::InvalidCredentials);
    }
    state.db.delete_account(&who.account).await?;
    tracing::info!(account = %who.account, "account deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// The account's event log, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/events", security(("bearer" = [])),
    responses((status = 200, body = [AccountEvent]), (status = 401, body = ErrorBody)))]
pub async fn events(State(state): State<Shared>, who: Authed) -> Result<Json<Vec<AccountEvent>>, ApiError> {
    Ok(Json(state.db.events(&who.account).await?))
}

/// The account's devices, newest first.
#[utoipa::path(get, path = "/api/v1/accounts/devices", security(("bearer" = [])),
    responses((status = 200, body = [DeviceInfo]), (status = 401, body = ErrorBody)))]
pub async fn devices(State(state): State<Shared>, who: Authed) -> Result<Json<Vec<DeviceInfo>>, ApiError> {
    let list = state.db.devices(&who.account).await?;
    Ok(Json(
        list.into_iter()
            .map(|(id, name, created, revoked)| DeviceInfo { current: id == who.device, id, name, created, revoked })
            .collect(),
    ))
}

/// Revokes one of the account's devices (a lost laptop): its tokens stop
/// working at once. Another account's device id is simply not found.
#[utoipa::path(delete, path = "/api/v1/accounts/devices/{id}", security(("bearer" = [])),
    params(("id" = String, Path, description = "device id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn revoke_device(
    State(state): State<Shared>,
    addr: ClientAddr,
    who: Authed,
    PathParam(id): PathParam<String>,
) -> Result<StatusCode, ApiError> {
    if !state.db.revoke_device_of(&who.account, &id).await? {
        return Err(ApiError::NotFound);
    }
    let name = state.db.device_name(&who.device).await?;
    state.db.log_event(&who.account, "device_revoked", &name, &state.event_address(&addr)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts TOTP enrolment: a secret that is not active until verified (the
/// same one until then).
#[utoipa::path(post, path = "/api/v1/accounts/2fa/enroll", security(("bearer" = [])),
    responses((status = 200, body = TotpEnrollment), (status = 400, body = ErrorBody)))]
pub async fn totp_enroll(State(state): State<Shared>, who: Authed) -> Result<Json<TotpEnrollment>, ApiError> {
    let account = state.db.account(&who.account).await?.ok_or(ApiError::Unauthorized)?;
    if account.totp_enabled {
        return Err(ApiError::BadRequest("two-factor login is already on; disable it first".into()));
    }
    // A pending secret is shown again rather than replaced, so "enroll,
    // then confirm with a code" works in two separate calls.
    let secret = match account.totp_secret {
        Some(pending) => pending,
        None => {
            let secret = totp::new_secret();
            state.db.set_totp(&who.account, Some(&secret), false).await?;
            secret
        }
    };
    let uri = format!("otpauth://totp/Tessera:{}?secret={secret}&issuer=Tessera", account.email.replace('@', "%40"));
    Ok(Json(TotpEnrollment { secret, uri }))
}

/// Switches TOTP on with a first valid code; returns one-time recovery codes.
#[utoipa::path(post, path = "/api/v1/accounts/2fa/verify", request_body = TotpCode, security(("bearer" = [])),
    responses((status = 200, body = RecoveryCodes), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn totp_verify(
    State(state): State<Shared>,
    addr: ClientAddr,
    who: Authed,
    Body(req): Body<TotpCode>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    limit(&state, &addr)?;
    let account = state.db.account(&who.account).await?.ok_or(ApiError::Unauthorized)?;
    let (Some(secret), false) = (&account.totp_secret, account.totp_enabled) else {
        return Err(ApiError::BadRequest("start with /accounts/2fa/enroll".into()));
    };
    let t = now();
    let step = totp::verify(secret, &req.code, t).ok_or(ApiError::InvalidCredentials)?;
    if !state.db.use_totp_step(&who.account, step).await? {
        return Err(ApiError::InvalidCredentials);
    }
    let codes = new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| state.keys.lookup_hash(c)).collect();
    state.db.replace_recovery_codes(&who.account, &hashes).await?;
    state.db.set_totp(&who.account, Some(secret), true).await?;
    let name = state.db.device_name(&who.device).await?;
    state.db.log_event(&who.account, "2fa_enabled", &name, &state.event_address(&addr)).await?;
    Ok(Json(RecoveryCodes { codes }))
}

/// Switches TOTP off; needs a current code or a recovery code.
#[utoipa::path(post, path = "/api/v1/accounts/2fa/disable", request_body = TotpCode, security(("bearer" = [])),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn totp_disable(
    State(state): State<Shared>,
    addr: ClientAddr,
    who: Authed,
    Body(req): Body<TotpCode>,
) -> Result<StatusCode, ApiError> {
    limit(&state, &addr)?;
    let account = state.db.account(&who.account).await?.ok_or(ApiError::Unauthorized)?;
    if !account.totp_enabled {
        return Err(ApiError::BadRequest("two-factor login is not on".into()));
    }
    if !second_factor(&state, &account, req.code.trim(), now()).await? {
        return Err(ApiError::InvalidCredentials);
    }
    state.db.set_totp(&who.account, None, false).await?;
    state.db.replace_recovery_codes(&who.account, &[]).await?;
    let name = state.db.device_name(&who.device).await?;
    state.db.log_event(&who.account, "2fa_disabled", &name, &state.event_address(&addr)).await?;
    Ok(StatusCode::NO_CONTENT)
}
