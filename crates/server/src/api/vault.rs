//! `/api/v1/vault/…`: the wrapped Vault Key, the index, pulls and pushes;
//! and `/api/v1/sync/check`, the first question of every sync.
//! Every query is scoped to the authenticated account: another account's
//! ids look exactly like missing ones.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use tessera_sync::wire::{
    Changes, ErrorBody, MAX_CHECKED_SHARES, MAX_PAGE, MAX_PUSH_ITEMS, PushRequest, PushResponse, SyncCheck,
    SyncChecked, VaultIndex, VaultInfo, from_b64, is_item_id,
};

use super::{Authed, Body, Params, Shared};
use crate::db::{PushRefused, Quotas};
use crate::error::ApiError;
use crate::limits::Limit;

/// What a new device needs to join: the wrapped Vault Key, salt and KDF.
#[utoipa::path(get, path = "/api/v1/vault", security(("bearer" = [])),
    responses((status = 200, body = VaultInfo), (status = 401, body = ErrorBody)))]
pub async fn info(State(state): State<Shared>, who: Authed) -> Result<Json<VaultInfo>, ApiError> {
    let a = state.db.account(&who.account).await?.ok_or(ApiError::Unauthorized)?;
    Ok(Json(VaultInfo {
        wrapped_vault_key: a.wrapped_vault_key,
        salt: a.salt,
        kdf: serde_json::from_str(&a.kdf).map_err(|_| ApiError::Unavailable)?,
    }))
}

/// The first request of every sync: the account's salt and KDF, the
/// shares it has accepted, and which of the shares' answers the device
/// remembers (by `ETag`) are still current. A member of many shares asks
/// about all of them at once, and fetches only the ones that changed; a
/// share the account is not in is never unchanged.
#[utoipa::path(post, path = "/api/v1/sync/check", request_body = SyncCheck, security(("bearer" = [])),
    responses((status = 200, body = SyncChecked), (status = 401, body = ErrorBody)))]
pub async fn check(
    State(state): State<Shared>,
    who: Authed,
    Body(req): Body<SyncCheck>,
) -> Result<Json<SyncChecked>, ApiError> {
    if req.shares.len() > MAX_CHECKED_SHARES {
        return Err(ApiError::BadRequest(format!("at most {MAX_CHECKED_SHARES} shares per check")));
    }
    for id in req.shares.keys() {
        super::shares::share_id(id)?;
    }
    let a = state.db.account(&who.account).await?.ok_or(ApiError::Unauthorized)?;
    let ids: Vec<&str> = req.shares.keys().map(String::as_str).collect();
    let (tags, accepted) = state.db.share_check(&who.account, &ids).await?;
    let unchanged = tags.into_iter().filter(|(id, tag)| req.shares.get(id) == Some(tag)).map(|(id, _)| id).collect();
    Ok(Json(SyncChecked {
        salt: a.salt,
        kdf: serde_json::from_str(&a.kdf).map_err(|_| ApiError::Unavailable)?,
        accepted,
        unchanged,
    }))
}

/// The signed manifest and every item's revision.
#[utoipa::path(get, path = "/api/v1/vault/index", security(("bearer" = [])),
    responses((status = 200, body = VaultIndex), (status = 401, body = ErrorBody)))]
pub async fn index(State(state): State<Shared>, who: Authed) -> Result<Json<VaultIndex>, ApiError> {
    state.db.index(&who.account, &who.device).await?.map(Json).ok_or(ApiError::Unauthorized)
}

/// Pull query: changes after `since`, at most `limit` (≤ 1000).
#[derive(Deserialize, utoipa::IntoParams)]
pub struct Since {
    /// The cursor: the `next` of the previous page, 0 at first.
    #[serde(default)]
    pub since: u64,
    /// Page size, at most 1000.
    pub limit: Option<u32>,
}

/// Changes since a cursor, paged.
#[utoipa::path(get, path = "/api/v1/vault/changes", params(Since), security(("bearer" = [])),
    responses((status = 200, body = Changes), (status = 401, body = ErrorBody)))]
pub async fn changes(
    State(state): State<Shared>,
    who: Authed,
    Params(q): Params<Since>,
) -> Result<Json<Changes>, ApiError> {
    let limit = q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    Ok(Json(state.db.changes(&who.account, q.since, limit).await?))
}

/// A batch of changes in one transaction. A stale base revision (or a
/// manifest another device replaced) refuses the whole batch with 409; a
/// sealed item over `--max-record`, or a batch that would take the account
/// past a quota, with 413.
#[utoipa::path(post, path = "/api/v1/vault/push", request_body = PushRequest, security(("bearer" = [])),
    responses((status = 200, body = PushResponse), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody)))]
pub async fn push(
    State(state): State<Shared>,
    who: Authed,
    Body(req): Body<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    if req.items.len() > MAX_PUSH_ITEMS {
        return Err(ApiError::BadRequest(format!("at most {MAX_PUSH_ITEMS} items per push")));
    }
    if req.base_manifest_version.checked_add(1) != Some(req.manifest_version) {
        return Err(ApiError::BadRequest("manifest_version must be base_manifest_version + 1".into()));
    }
    if from_b64(&req.manifest).is_none_or(|m| m.len() > 1024) {
        return Err(ApiError::BadRequest("manifest must be base64 of at most 1024 bytes".into()));
    }
    let mut seen = HashSet::new();
    for item in &req.items {
        if !is_item_id(&item.id) || !seen.insert(item.id.as_str()) {
            return Err(ApiError::BadRequest(format!("bad or repeated item id {:?}", item.id)));
        }
        let Some(sealed) = from_b64(&item.blob) else {
            return Err(ApiError::BadRequest(format!("item {}: blob is not base64", item.id)));
        };
        if sealed.len() as u64 > state.limits.max_record {
            return Err(ApiError::TooLarge(Limit::new("record", state.limits.max_record)));
        }
    }
    let quotas = Quotas { items: state.limits.quota_items, bytes: state.limits.quota_bytes };
    match state.db.push(&who.account, &who.device, &req, quotas).await? {
        Ok(seq) => Ok(Json(PushResponse { seq, etag: None })),
        Err(PushRefused::OverQuota(limit)) => Err(ApiError::QuotaExceeded(limit)),
        Err(PushRefused::Stale(items)) => Err(ApiError::Stale(items)),
        Err(PushRefused::ManifestStale) => Err(ApiError::ManifestStale),
        Err(PushRefused::NoAccount) => Err(ApiError::Unauthorized),
    }
}
