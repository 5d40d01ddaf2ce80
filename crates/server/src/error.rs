//! API errors: one JSON shape (`wire::ErrorBody`) with a stable code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tessera_sync::wire::{ErrorBody, Limit, StaleItem};

use crate::db::DbError;

/// Every way a request can fail.
#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    Unauthorized,
    InvalidCredentials,
    TotpRequired,
    NotFound,
    MethodNotAllowed,
    Exists,
    Stale(Vec<StaleItem>),
    ManifestStale,
    /// A share's membership or epoch moved on since the client looked
    /// (409 `stale`, with what changed).
    ShareStale(String),
    /// The account's role does not allow the change (403).
    Forbidden(String),
    RateLimited(u64),
    /// A body or a sealed item over its cap (413; see `limits`).
    TooLarge(Limit),
    /// A push that would take the account over a quota (413; see `limits`).
    QuotaExceeded(Limit),
    /// The request took longer than `--request-timeout` seconds.
    Timeout(u64),
    Unavailable,
    /// A handler panicked: a bug, answered like any error.
    Internal,
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        // Logged without the query's values; the client sees only "unavailable".
        tracing::error!(error = %e, "database error");
        ApiError::Unavailable
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut limit = None;
        let (status, code, message, retry_after, stale) = match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m, None, vec![]),
            ApiError::Unauthorized => {
                (StatusCode::UNAUTHORIZED, "unauthorized", "log in again".to_string(), None, vec![])
            }
            ApiError::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "wrong email, password, Secret Key or code".into(),
                None,
                vec![],
            ),
            ApiError::TotpRequired => (
                StatusCode::UNAUTHORIZED,
                "totp_required",
                "this account needs a TOTP code or a recovery code".into(),
                None,
                vec![],
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "no such resource".into(), None, vec![]),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method".into(),
                None,
                vec![],
            ),
            ApiError::Exists => {
                (StatusCode::CONFLICT, "exists", "an account with that email exists".into(), None, vec![])
            }
            ApiError::Stale(items) => (
                StatusCode::CONFLICT,
                "stale",
                "some items changed on the server since your last pull".into(),
                None,
                items,
            ),
            ApiError::ManifestStale => {
                (StatusCode::CONFLICT, "stale", "another device pushed since your last pull".into(), None, vec![])
            }
            ApiError::ShareStale(m) => (StatusCode::CONFLICT, "stale", m, None, vec![]),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m, None, vec![]),
            ApiError::RateLimited(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many attempts; try again in {secs} s"),
                Some(secs),
                vec![],
            ),
            ApiError::TooLarge(l) => {
                let message = match l.name.as_str() {
                    "record" => format!("a sealed item is larger than this server accepts ({} bytes)", l.max),
                    _ => format!("the request body is larger than this server accepts ({} bytes)", l.max),
                };
                limit = Some(Box::new(l));
                (StatusCode::PAYLOAD_TOO_LARGE, "too_large", message, None, vec![])
            }
            ApiError::QuotaExceeded(l) => {
                let message = match l.name.as_str() {
                    "items" => format!("the account would hold more than its quota of {} items", l.max),
                    _ => format!("the account would store more than its quota of {} bytes", l.max),
                };
                limit = Some(Box::new(l));
                (StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded", message, None, vec![])
            }
            ApiError::Timeout(secs) => (
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!("the request was not completed within {secs} s"),
                None,
                vec![],
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the server failed on this request; try again".into(),
                None,
                vec![],
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server's database is unavailable; try again".into(),
                None,
                vec![],
            ),
        };
        let mut response =
            (status, Json(ErrorBody { error: code.into(), message, retry_after, stale, limit })).into_response();
        if let Some(secs) = retry_after
            && let Ok(v) = secs.to_string().parse()
        {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        response
    }
}
