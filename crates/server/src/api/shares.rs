//! `/api/v1/identity`, `/identities/{email}` and `/shares/…`: published
//! identities and shares (DESIGN §11). The server stores what clients
//! signed and sealed, and enforces roles from the records' public fields;
//! every client verifies the signatures itself, so nothing here has to be
//! believed. A share the account is not in answers 404, like a missing one.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use tessera_sync::wire::{
    AppendRecord, ChainBody, ChainRecord, Changes, CreateShare, ErrorBody, IdentityRecord, MAX_PAGE, MAX_PUSH_ITEMS,
    MAX_REKEY_ITEMS, OwnIdentity, PushItem, PushResponse, Rekey, ShareIndex, SharePush, ShareSummary, from_b64,
    is_item_id,
};

use super::vault::Since;
use super::{Authed, Body, Params, PathParam, Shared, now};
use crate::db::{Caller, ShareIndexAnswer, ShareRefused};
use crate::error::ApiError;
use crate::limits::Limit;

/// The largest chain record, grant or identity field accepted.
const MAX_SMALL: usize = 4096;

fn refused(r: ShareRefused) -> ApiError {
    match r {
        ShareRefused::NotFound => ApiError::NotFound,
        ShareRefused::Forbidden(m) => ApiError::Forbidden(m),
        ShareRefused::Stale(m) => ApiError::ShareStale(m),
        ShareRefused::StaleItems(items) => ApiError::Stale(items),
        ShareRefused::BadRequest(m) => ApiError::BadRequest(m),
        ShareRefused::OverQuota(l) => ApiError::QuotaExceeded(l),
    }
}

async fn caller(state: &Shared, who: &Authed) -> Result<String, ApiError> {
    Ok(state.db.account(&who.account).await?.ok_or(ApiError::Unauthorized)?.email)
}

fn small(field: &str, value: &str) -> Result<(), ApiError> {
    if value.len() > MAX_SMALL || from_b64(value).is_none() {
        return Err(ApiError::BadRequest(format!("{field} must be base64 of at most {MAX_SMALL} characters")));
    }
    Ok(())
}

/// Reads a chain record's public fields.
fn body_of(record: &ChainRecord, share: &str) -> Result<ChainBody, ApiError> {
    small("record.body", &record.body)?;
    small("record.sig", &record.sig)?;
    let raw = from_b64(&record.body).unwrap_or_default();
    let body: ChainBody =
        serde_json::from_slice(&raw).map_err(|_| ApiError::BadRequest("record.body is not a chain record".into()))?;
    if body.share != share {
        return Err(ApiError::BadRequest("the record names another share".into()));
    }
    Ok(body)
}

pub(super) fn share_id(id: &str) -> Result<(), ApiError> {
    if is_item_id(id) { Ok(()) } else { Err(ApiError::BadRequest("a share id is 32 lowercase hex digits".into())) }
}

fn check_items(state: &Shared, items: &[PushItem], max: usize) -> Result<(), ApiError> {
    if items.len() > max {
        return Err(ApiError::BadRequest(format!("at most {max} items per request")));
    }
    let mut seen = HashSet::new();
    for item in items {
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
    Ok(())
}

/// This account's identity: its public record and sealed private keys.
#[utoipa::path(get, path = "/api/v1/identity", security(("bearer" = [])),
    responses((status = 200, body = OwnIdentity), (status = 404, body = ErrorBody)))]
pub async fn own_identity(State(state): State<Shared>, who: Authed) -> Result<Json<OwnIdentity>, ApiError> {
    let (public, sealed) = state.db.own_identity(&who.account).await?.ok_or(ApiError::NotFound)?;
    let public = serde_json::from_str(&public).map_err(|_| ApiError::Unavailable)?;
    Ok(Json(OwnIdentity { public, sealed }))
}

/// Publishes this account's identity, once (409 if it has one).
#[utoipa::path(post, path = "/api/v1/identity", request_body = OwnIdentity, security(("bearer" = [])),
    responses((status = 200), (status = 409, body = ErrorBody)))]
pub async fn publish_identity(
    State(state): State<Shared>,
    who: Authed,
    Body(req): Body<OwnIdentity>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let email = caller(&state, &who).await?;
    if req.public.email != email {
        return Err(ApiError::BadRequest("the identity must be for this account's email".into()));
    }
    for (field, value) in [("sign", &req.public.sign), ("enc", &req.public.enc), ("sig", &req.public.sig)] {
        small(field, value)?;
    }
    small("sealed", &req.sealed)?;
    let public = serde_json::to_string(&req.public).map_err(|_| ApiError::Internal)?;
    if !state.db.publish_identity(&who.account, &email, &public, &req.sealed, now()).await? {
        return Err(ApiError::ShareStale("this account already has an identity".into()));
    }
    Ok(Json(serde_json::json!({})))
}

/// Another account's published identity.
#[utoipa::path(get, path = "/api/v1/identities/{email}", security(("bearer" = [])),
    responses((status = 200, body = IdentityRecord), (status = 404, body = ErrorBody)))]
pub async fn identity_of(
    State(state): State<Shared>,
    _who: Authed,
    PathParam(email): PathParam<String>,
) -> Result<Json<IdentityRecord>, ApiError> {
    let public = state.db.identity_of(&email.trim().to_lowercase()).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(serde_json::from_str(&public).map_err(|_| ApiError::Unavailable)?))
}

/// The shares this account is in or invited to.
#[utoipa::path(get, path = "/api/v1/shares", security(("bearer" = [])),
    responses((status = 200, body = [ShareSummary])))]
pub async fn list(State(state): State<Shared>, who: Authed) -> Result<Json<Vec<ShareSummary>>, ApiError> {
    Ok(Json(state.db.shares(&who.account).await?))
}

/// A new share.
#[utoipa::path(post, path = "/api/v1/shares", request_body = CreateShare, security(("bearer" = [])),
    responses((status = 200), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(state): State<Shared>,
    who: Authed,
    Body(req): Body<CreateShare>,
) -> Result<Json<serde_json::Value>, ApiError> {
    share_id(&req.id)?;
    let email = caller(&state, &who).await?;
    let body = body_of(&req.record, &req.id)?;
    if body.kind != "create" || body.seq != 0 || body.member != email || body.signer != email {
        return Err(ApiError::BadRequest("a share starts with its creator's create record".into()));
    }
    if req.grant.member != email || req.grant.epoch != body.epoch {
        return Err(ApiError::BadRequest("the creator's grant is for the creator at the first epoch".into()));
    }
    small("grant", &req.grant.sealed)?;
    small("manifest", &req.manifest)?;
    if !state.db.create_share(&Caller { account: &who.account, email: &email }, &req, &body, now()).await? {
        return Err(ApiError::ShareStale("a share with that id exists".into()));
    }
    Ok(Json(serde_json::json!({})))
}

/// The chain, this account's grant, the manifest and the index, with an
/// `ETag` (`ShareAnswer::tag`). With `If-None-Match`
/// naming the answer as it still is, 304 and no body. The tag says only
/// that the answer is the one the client verified last; nothing is
/// believed on the server's word that would not be from the full answer.
#[utoipa::path(get, path = "/api/v1/shares/{id}", security(("bearer" = [])),
    responses((status = 200, body = ShareIndex), (status = 304, description = "unchanged since the ETag sent"),
        (status = 404, body = ErrorBody)))]
pub async fn index(
    State(state): State<Shared>,
    who: Authed,
    PathParam(id): PathParam<String>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    share_id(&id)?;
    let unless = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    match state.db.share_index(&id, &who.account, unless).await?.ok_or(ApiError::NotFound)? {
        ShareIndexAnswer::Unchanged(etag) => Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response()),
        ShareIndexAnswer::Full(index, etag) => {
            let body = serde_json::to_vec(&index).map_err(|_| ApiError::Internal)?;
            Ok(([(header::CONTENT_TYPE, "application/json".to_owned()), (header::ETAG, etag)], body).into_response())
        }
    }
}

/// A share's changes since a cursor.
#[utoipa::path(get, path = "/api/v1/shares/{id}/changes", params(Since), security(("bearer" = [])),
    responses((status = 200, body = Changes), (status = 404, body = ErrorBody)))]
pub async fn changes(
    State(state): State<Shared>,
    who: Authed,
    PathParam(id): PathParam<String>,
    Params(q): Params<Since>,
) -> Result<Json<Changes>, ApiError> {
    share_id(&id)?;
    let limit = q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    state.db.share_changes(&id, &who.account, q.since, limit).await?.map(Json).ok_or(ApiError::NotFound)
}

/// Accepts an invitation.
#[utoipa::path(post, path = "/api/v1/shares/{id}/accept", security(("bearer" = [])),
    responses((status = 200), (status = 404, body = ErrorBody)))]
pub async fn accept(
    State(state): State<Shared>,
    who: Authed,
    PathParam(id): PathParam<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    share_id(&id)?;
    if !state.db.accept_share(&id, &who.account).await? {
        return Err(ApiError::NotFound);
    }
    Ok(Json(serde_json::json!({})))
}

/// Appends an `add`, `role` or `leave` record.
#[utoipa::path(post, path = "/api/v1/shares/{id}/chain", request_body = AppendRecord, security(("bearer" = [])),
    responses((status = 200), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn append(
    State(state): State<Shared>,
    who: Authed,
    PathParam(id): PathParam<String>,
    Body(req): Body<AppendRecord>,
) -> Result<Json<serde_json::Value>, ApiError> {
    share_id(&id)?;
    let email = caller(&state, &who).await?;
    let body = body_of(&req.record, &id)?;
    if req.grants.len() > 1 {
        return Err(ApiError::BadRequest("at most one grant per record".into()));
    }
    for g in &req.grants {
        small("grant", &g.sealed)?;
    }
    state
        .db
        .append_record(&id, &Caller { account: &who.account, email: &email }, &req.record, &body, &req.grants)
        .await?
        .map_err(refused)?;
    Ok(Json(serde_json::json!({})))
}

/// A push to a share (write or manage).
#[utoipa::path(post, path = "/api/v1/shares/{id}/push", request_body = SharePush, security(("bearer" = [])),
    responses((status = 200, body = PushResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn push(
    State(state): State<Shared>,
    who: Authed,
    PathParam(id): PathParam<String>,
    Body(req): Body<SharePush>,
) -> Result<Json<PushResponse>, ApiError> {
    share_id(&id)?;
    let p = &req.push;
    if p.base_manifest_version.checked_add(1) != Some(p.manifest_version) {
        return Err(ApiError::BadRequest("manifest_version must be base_manifest_version + 1".into()));
    }
    small("manifest", &p.manifest)?;
    check_items(&state, &p.items, MAX_PUSH_ITEMS)?;
    let (seq, etag) = state
        .db
        .share_push(
            &id,
            &who.account,
            req.epoch,
            p.base_manifest_version,
            &p.manifest,
            &p.items,
            state.limits.quota_items,
            req.verified.as_deref(),
        )
        .await?
        .map_err(refused)?;
    Ok(Json(PushResponse { seq, etag }))
}

/// Removes a member or re-keys after a leave: one transaction.
#[utoipa::path(post, path = "/api/v1/shares/{id}/rekey", request_body = Rekey, security(("bearer" = [])),
    responses((status = 200, body = PushResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rekey(
    State(state): State<Shared>,
    who: Authed,
    PathParam(id): PathParam<String>,
    Body(req): Body<Rekey>,
) -> Result<Json<PushResponse>, ApiError> {
    share_id(&id)?;
    let email = caller(&state, &who).await?;
    let body = body_of(&req.record, &id)?;
    if req.base_manifest_version.checked_add(1) != Some(req.manifest_version) {
        return Err(ApiError::BadRequest("manifest_version must be base_manifest_version + 1".into()));
    }
    small("manifest", &req.manifest)?;
    for g in &req.grants {
        small("grant", &g.sealed)?;
    }
    check_items(&state, &req.items, MAX_REKEY_ITEMS)?;
    let seq = state
        .db
        .rekey(
            &id,
            &Caller { account: &who.account, email: &email },
            &req.record,
            &body,
            &req.grants,
            req.base_manifest_version,
            &req.manifest,
            &req.items,
        )
        .await?
        .map_err(refused)?;
    Ok(Json(PushResponse { seq, etag: None }))
}
