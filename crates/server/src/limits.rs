//! What one account or one request may cost the server: request body caps,
//! the whole-request deadline, and per-account quotas.
//!
//! Status codes, decided once: anything refused for its size is
//! **413 Payload Too Large** — a body over `--max-body` (`too_large`,
//! limit `body`), a sealed item over `--max-record` (`too_large`, limit
//! `record`), and a push that would take the account past `--quota-items`
//! or `--quota-bytes` (`quota_exceeded`, limit `items` or `bytes`). 429
//! stays what it already means here, "too many requests, retry after N
//! seconds" (the rate limits); retrying a push over quota never helps, so
//! it must not look like a rate limit. 507 Insufficient Storage is
//! WebDAV's and names the server's disk, not the account's allowance.
//! Every refusal carries [`Limit`] (which limit, and its value) so the
//! client can name it without parsing a message.
//!
//! A request that takes longer than `--request-timeout` from the moment
//! the router has its head (reading the body included) is answered 408
//! `timeout` and its connection closed. The time before that — a request
//! line and headers dribbled in, an idle keep-alive connection — is
//! bounded in [`crate::connection`].

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tessera_sync::wire::API_PREFIX;
pub use tessera_sync::wire::Limit;

use crate::error::ApiError;

/// Every route but a push (of the account or a share) and a share's re-key
/// carries a few hundred bytes of JSON; they get
/// this much, so an anonymous client cannot make the server buffer
/// `--max-body` on the login route.
pub const SMALL_BODY: u64 = 64 * 1024;

/// The limits a server was started with.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest body of a push.
    pub max_body: u64,
    /// Largest sealed item.
    pub max_record: u64,
    /// Most live items per account.
    pub quota_items: u64,
    /// Most bytes of sealed items per account.
    pub quota_bytes: u64,
    /// Longest time a request may take once its head is read.
    pub request_timeout: Duration,
}

impl Limits {
    /// The body cap for a request path.
    pub fn body_cap(&self, path: &str) -> u64 {
        // The routes that carry sealed items: a push, a share's push and a
        // share's re-key (every item re-sealed).
        let push = path.strip_prefix(API_PREFIX).is_some_and(|p| {
            p == "/vault/push"
                || p.strip_prefix("/shares/").and_then(|rest| rest.split_once('/')).is_some_and(|(id, tail)| {
                    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && matches!(tail, "push" | "rekey")
                })
        });
        if push { self.max_body } else { self.max_body.min(SMALL_BODY) }
    }
}

/// The cap applied to this request's body, for the message of a refusal
/// found while reading it (a chunked body carries no length up front).
#[derive(Clone, Copy, Debug)]
pub struct BodyCap(pub u64);

/// The body cap (refused up front when `Content-Length` says so, else
/// while reading) and the request deadline.
pub async fn guard_request(State(limits): State<Limits>, mut request: Request, next: Next) -> Response {
    let cap = limits.body_cap(request.uri().path());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap) {
        // Answered before reading a byte of it; the connection goes, as
        // the rest of the body would otherwise have to be read and dropped.
        return closing(ApiError::TooLarge(Limit::new("body", cap)).into_response());
    }
    request.extensions_mut().insert(BodyCap(cap));
    let request = request.map(|body| {
        axum::body::Body::new(http_body_util::Limited::new(body, usize::try_from(cap).unwrap_or(usize::MAX)))
    });
    match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => closing(ApiError::Timeout(limits.request_timeout.as_secs()).into_response()),
    }
}

/// Marks a response as the connection's last.
fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pushes_and_rekeys_get_the_large_body_cap() {
        let limits = Limits {
            max_body: 96 << 20,
            max_record: 64 << 20,
            quota_items: 1,
            quota_bytes: 1,
            request_timeout: Duration::from_secs(30),
        };
        assert_eq!(limits.body_cap("/api/v1/vault/push"), 96 << 20);
        assert_eq!(limits.body_cap("/api/v1/accounts/login"), SMALL_BODY);
        assert_eq!(limits.body_cap("/api/v1/vault/push/x"), SMALL_BODY);
        let share = "0123456789abcdef0123456789abcdef";
        assert_eq!(limits.body_cap(&format!("/api/v1/shares/{share}/push")), 96 << 20);
        assert_eq!(limits.body_cap(&format!("/api/v1/shares/{share}/rekey")), 96 << 20);
        assert_eq!(limits.body_cap(&format!("/api/v1/shares/{share}/chain")), SMALL_BODY);
        assert_eq!(limits.body_cap(&format!("/api/v1/shares/{share}/push/x")), SMALL_BODY);
        assert_eq!(limits.body_cap("/api/v1/shares/x/push"), SMALL_BODY);
        let tiny = Limits { max_body: 2000, ..limits };
        assert_eq!(tiny.body_cap("/api/v1/accounts/register"), 2000);
    }
}
