//! The HTTP surface: routes grouped by resource (`accounts`, `vault`,
//! `shares`), the one place that authenticates a request (`Authed`),
//! request ids, logs and metrics, `/health`, `/metrics` and the OpenAPI
//! document.

pub mod accounts;
pub mod shares;
pub mod vault;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::db::Db;
use crate::error::ApiError;
use crate::limits::{BodyCap, Limit, Limits};
use crate::metrics::Metrics;
use crate::rate_limit::AddressLimiter;
use crate::secrets::{ServerKeys, random_id};

/// What every handler shares.
pub struct AppState {
    pub db: Db,
    pub keys: ServerKeys,
    pub limiter: AddressLimiter,
    pub metrics: Metrics,
    /// Argon2, on its own threads.
    pub hashing: crate::hashing::HashPool,
    /// Body caps, quotas and the request deadline.
    pub limits: Limits,
    /// Whether the event log records client addresses at all
    /// (`--keep-addresses-days 0` says no).
    pub record_addresses: bool,
}

impl AppState {
    /// The address to write in the event log: the client's, or nothing.
    pub fn event_address(&self, addr: &ClientAddr) -> String {
        if self.record_addresses { addr.0.to_string() } else { String::new() }
    }
}

pub type Shared = Arc<AppState>;

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The router with every route and layer.
pub fn router(state: Shared) -> Router {
    let limits = state.limits;
    let api = Router::new()
        .route("/accounts/prelogin", post(accounts::prelogin))
        .route("/accounts/register", post(accounts::register))
        .route("/accounts/login", post(accounts::login))
        .route("/accounts/refresh", post(accounts::refresh))
        .route("/accounts/logout", post(accounts::logout))
        .route("/accounts", delete(accounts::delete_account))
        .route("/accounts/events", get(accounts::events))
        .route("/accounts/devices", get(accounts::devices))
        .route("/accounts/devices/{id}", delete(accounts::revoke_device))
        .route("/accounts/2fa/enroll", post(accounts::totp_enroll))
        .route("/accounts/2fa/verify", post(accounts::totp_verify))
        .route("/accounts/2fa/disable", post(accounts::totp_disable))
        .route("/vault", get(vault::info))
        .route("/vault/index", get(vault::index))
        .route("/sync/check", post(vault::check))
        .route("/vault/changes", get(vault::changes))
        .route("/vault/push", post(vault::push))
        .route("/identity", get(shares::own_identity).post(shares::publish_identity))
        .route("/identities/{email}", get(shares::identity_of))
        .route("/shares", get(shares::list).post(shares::create))
        .route("/shares/{id}", get(shares::index))
        .route("/shares/{id}/changes", get(shares::changes))
        .route("/shares/{id}/accept", post(shares::accept))
        .route("/shares/{id}/chain", post(shares::append))
        .route("/shares/{id}/push", post(shares::push))
        .route("/shares/{id}/rekey", post(shares::rekey))
        .route("/openapi.json", get(openapi));
    // Layers run outside in: observe (logs and metrics see every answer,
    // a caught panic's included), gzip for answers the client accepts it
    // for, catch panics, a gzip request body inflated, then the body caps
    // (on the inflated body, so a small bomb meets the same cap) and
    // deadline. axum's own 2 MB default body limit is off: `guard_request`
    // sets the caps. Sealed records travel as base64, which gzip takes
    // back to about their binary size (DESIGN §4).
    Router::new()
        .nest(tessera_sync::wire::API_PREFIX, api)
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(limits, crate::limits::guard_request))
        .layer(tower_http::decompression::RequestDecompressionLayer::new())
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            // The panic's own message went to stderr through the hook; it
            // may quote a value, so it is not sent to the client.
            ApiError::Internal.into_response()
        }))
        .layer(compression())
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// gzip for answers from 4 KiB on (an index, a page of changes), at the
/// fastest level: what it takes back is base64's third, which needs no
/// search; small answers go as they are.
fn compression() -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
    tower_http::compression::CompressionLayer::new()
        .quality(tower_http::CompressionLevel::Fastest)
        .compress_when(SizeAbove::new(4096).and(NotForContentType::IMAGES).and(NotForContentType::SSE))
}

/// Request id, one JSON log line and metrics for every request. Logs carry
/// the route template, status and time, never a body, header or query.
async fn observe(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map_or_else(random_id, str::to_string);
    let method = request.method().to_string();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |m| m.as_str()).to_string();
    let mut response = next.run(request).await;
    let took = start.elapsed();
    let status = response.status().as_u16();
    state.metrics.record(&method, &route, status, took);
    tracing::info!(
        request_id = %request_id,
        method = %method,
        route = %route,
        status,
        micros = took.as_micros() as u64,
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    // RFC 7694: request bodies may come gzipped.
    response.headers_mut().insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
    response
}

/// The client's address (for rate limits and the event log).
pub struct ClientAddr(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(ClientAddr(addr))
    }
}

/// An authenticated device: a valid access token whose device is not revoked.
pub struct Authed {
    pub account: String,
    pub device: String,
}

impl FromRequestParts<Shared> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        let claims = state.keys.check_access(token, now()).ok_or(ApiError::Unauthorized)?;
        if !state.db.device_active(&claims.account, &claims.device).await? {
            return Err(ApiError::Unauthorized);
        }
        Ok(Authed { account: claims.account, device: claims.device })
    }
}

/// A JSON body whose rejection is our error shape, not axum's plain text.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let cap = req.extensions().get::<BodyCap>().map_or(0, |c| c.0);
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e @ JsonRejection::BytesRejection(_)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::TooLarge(Limit::new("body", cap)))
            }
            Err(JsonRejection::BytesRejection(_)) => {
                Err(ApiError::BadRequest("the request body could not be read".into()))
            }
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

/// A query string whose rejection is our error shape.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// A path parameter whose rejection is our error shape.
pub struct PathParam<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for PathParam<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| PathParam(p.0))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// `GET /health`: 200 when the database answers, 503 otherwise.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "up"), (status = 503, description = "database unavailable")))]
pub async fn health(State(state): State<Shared>) -> Response {
    match state.db.health().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response(),
    }
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus metrics")))]
pub async fn metrics(State(state): State<Shared>) -> Response {
    let body = state.metrics.render(state.db.pool_stats());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera sync API", description = "The blind server: ciphertext and wrapped keys only."),
    paths(
        accounts::prelogin,
        accounts::register,
        accounts::login,
        accounts::refresh,
        accounts::logout,
        accounts::delete_account,
        accounts::events,
        accounts::devices,
        accounts::revoke_device,
        accounts::totp_enroll,
        accounts::totp_verify,
        accounts::totp_disable,
        vault::info,
        vault::index,
        vault::check,
        vault::changes,
        vault::push,
        shares::own_identity,
        shares::publish_identity,
        shares::identity_of,
        shares::list,
        shares::create,
        shares::index,
        shares::changes,
        shares::accept,
        shares::append,
        shares::push,
        shares::rekey,
        health,
        metrics,
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/v1/openapi.json`, generated from the handlers' annotations.
async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}
