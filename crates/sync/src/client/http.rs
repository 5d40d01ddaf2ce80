//! The HTTP side of the client: one method per route, JSON in and out,
//! retries with backoff while the server is away.
//!
//! No request waits for ever. An attempt may take [`ANSWER_WAIT`] (25 s)
//! for the server's whole answer, plus [`BODY_ALLOWANCE`] for each full
//! 128 KiB of request body (a large push over a slow link), and connecting may take
//! 5 s of that. A server that accepted the connection and stays silent for
//! the whole wait is reported at once ("did not answer in 25 s"): the
//! attempt is not repeated, as a second one would most likely wait as long.
//! Refused connections and 502–504 answers are retried with backoff, but
//! no new attempt starts once [`ANSWER_WAIT`] has passed since the first,
//! so one call ends within about twice [`ANSWER_WAIT`] whatever the server
//! does. `$TESSERA_SERVICE_TIMEOUT_SECS` replaces [`ANSWER_WAIT`] (tests).

use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::{Client, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::wire::{
    API_PREFIX, AppendRecord, Changes, CreateShare, ErrorBody, IdentityRecord, LoginRequest, MAX_PAGE, OwnIdentity,
    PreloginRequest, PreloginResponse, PushRequest, PushResponse, RecoveryCodes, RefreshRequest, RegisterRequest,
    Rekey, Session, ShareIndex, SharePush, ShareSummary, TotpCode, TotpEnrollment, VaultIndex, VaultInfo,
};

/// How long one attempt may wait for the server's answer (a small request).
pub const ANSWER_WAIT: Duration = Duration::from_secs(25);

/// How long connecting may take (part of [`ANSWER_WAIT`]).
const CONNECT_WAIT: Duration = Duration::from_secs(5);

/// Extra wait per 128 KiB of request body: uploads at 1 Mbit/s or more
/// finish within the bound.
pub const BODY_ALLOWANCE: Duration = Duration::from_secs(1);

/// Waits between attempts while the server cannot be reached.
const BACKOFF: [Duration; 4] =
    [Duration::from_millis(250), Duration::from_millis(500), Duration::from_secs(1), Duration::from_secs(2)];

/// A request failed.
#[derive(Debug)]
pub enum HttpError {
    /// No answer after every retry (connection refused, 503), or none
    /// within the bounded wait.
    Unreachable(String),
    /// The server answered with an error.
    Status(u16, ErrorBody),
    /// The answer was not what the API promises.
    Protocol(String),
    /// The client could not be set up (a bad `$TESSERA_SYNC_CA_FILE`).
    Setup(String),
}

/// A client for one server.
pub struct Api {
    base: String,
    http: Client,
    /// The access token for authenticated routes.
    pub access_token: Option<String>,
    /// The server said it takes gzipped request bodies (RFC 7694's
    /// `Accept-Encoding` on an answer).
    takes_gzip: std::sync::atomic::AtomicBool,
}

/// Request bodies from this size on go gzipped, once the server said it
/// takes them: pushes and re-keys, whose sealed records travel as base64.
const GZIP_FROM: usize = 4096;

/// `body` gzipped (the fast level: the gain is base64's, not the data's).
fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() * 4 / 5), flate2::Compression::fast());
    e.write_all(body).ok()?;
    e.finish().ok()
}

impl Api {
    /// A client for `server` (its base URL).
    /// `$TESSERA_SYNC_CA_FILE` names a PEM file of extra trusted roots (a
    /// server with a private or self-signed certificate).
    pub fn new(server: &str) -> Result<Api, HttpError> {
        let mut builder = Client::builder()
            .connect_timeout(CONNECT_WAIT)
            .https_only(!server.starts_with("http://"))
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")));
        if let Some(file) = std::env::var_os("TESSERA_SYNC_CA_FILE") {
            let pem = std::fs::read(&file).map_err(|e| {
                HttpError::Setup(format!("cannot read $TESSERA_SYNC_CA_FILE {}: {e}", file.to_string_lossy()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| HttpError::Setup(format!("$TESSERA_SYNC_CA_FILE is not PEM certificates: {e}")))?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| HttpError::Setup(format!("cannot set up HTTP: {e}")))?;
        Ok(Api {
            base: server.trim_end_matches('/').to_string(),
            http,
            access_token: None,
            takes_gzip: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn send<B: Serialize, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<R, HttpError> {
        let (r, wait) = self.send_raw(method, path, body, None)?;
        decode(r, wait)
    }

    /// Sends a request (`If-None-Match: etag` with `etag`); the response
    /// as it came, with the time it may take to arrive.
    fn send_raw<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        etag: Option<&str>,
    ) -> Result<(Response, Duration), HttpError> {
        let url = format!("{}{API_PREFIX}{path}", self.base);
        let body = match body {
            Some(b) => {
                Some(serde_json::to_vec(b).map_err(|e| HttpError::Setup(format!("cannot encode the request: {e}")))?)
            }
            None => None,
        };
        let wait = attempt_wait(body.as_ref().map_or(0, Vec::len));
        let gzipped = body
            .as_ref()
            .filter(|b| b.len() >= GZIP_FROM && self.takes_gzip.load(std::sync::atomic::Ordering::Relaxed))
            .and_then(|b| gzip(b));
        let first = Instant::now();
        let mut attempt = 0;
        loop {
            let mut req = self.http.request(method.clone(), &url).timeout(wait);
            if let Some(t) = &self.access_token {
                req = req.bearer_auth(t);
            }
            if let Some(z) = &gzipped {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(reqwest::header::CONTENT_ENCODING, "gzip")
                    .body(z.clone());
            } else if let Some(b) = &body {
                req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(b.clone());
            }
            if let Some(etag) = etag {
                req = req.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            let outcome = req.send();
            if let Err(e) = &outcome {
                // Connected, then silence: waiting again would only double it.
                if e.is_timeout() && !e.is_connect() {
                    return Err(no_answer(wait));
                }
            }
            let retry = match &outcome {
                Err(e) => e.is_connect(),
                // The server's own 503, or a proxy in front of it that
                // cannot reach it.
                Ok(r) => matches!(r.status().as_u16(), 502..=504),
            };
            if retry && attempt < BACKOFF.len() && first.elapsed() + BACKOFF[attempt] < answer_wait() {
                std::thread::sleep(BACKOFF[attempt]);
                attempt += 1;
                continue;
            }
            return match outcome {
                Err(e) => Err(HttpError::Unreachable(without_url(&e))),
                Ok(r) => {
                    if r.headers()
                        .get(reqwest::header::ACCEPT_ENCODING)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.split(',').any(|c| c.trim().eq_ignore_ascii_case("gzip")))
                    {
                        self.takes_gzip.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    Ok((r, wait))
                }
            };
        }
    }

    fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, HttpError> {
        self.send::<(), R>(Method::GET, path, None)
    }

    fn post<B: Serialize, R: DeserializeOwned>(&self, path: &str, body: &B) -> Result<R, HttpError> {
        self.send(Method::POST, path, Some(body))
    }

    /// `POST /accounts/prelogin`.
    pub fn prelogin(&self, email: &str) -> Result<PreloginResponse, HttpError> {
        self.post("/accounts/prelogin", &PreloginRequest { email: email.into() })
    }

    /// `POST /accounts/register`.
    pub fn register(&self, req: &RegisterRequest) -> Result<Session, HttpError> {
        self.post("/accounts/register", req)
    }

    /// `POST /accounts/login`.
    pub fn login(&self, req: &LoginRequest) -> Result<Session, HttpError> {
        self.post("/accounts/login", req)
    }

    /// `POST /accounts/refresh`.
    pub fn refresh(&self, token: &str) -> Result<Session, HttpError> {
        self.post("/accounts/refresh", &RefreshRequest { refresh_token: token.into() })
    }

    /// `POST /accounts/logout`.
    pub fn logout(&self) -> Result<(), HttpError> {
        self.send::<(), Empty>(Method::POST, "/accounts/logout", None).map(|_| ())
    }

    /// `GET /vault`.
    pub fn vault_info(&self) -> Result<VaultInfo, HttpError> {
        self.get("/vault")
    }

    /// `GET /vault/index`.
    pub fn index(&self) -> Result<VaultIndex, HttpError> {
        self.get("/vault/index")
    }

    /// `GET /vault/changes`, one page.
    pub fn changes(&self, since: u64) -> Result<Changes, HttpError> {
        self.get(&format!("/vault/changes?since={since}&limit={MAX_PAGE}"))
    }

    /// `POST /vault/push`.
    pub fn push(&self, req: &PushRequest) -> Result<PushResponse, HttpError> {
        self.post("/vault/push", req)
    }

    /// `GET /identity`: this account's identity; `None` before it has one.
    pub fn own_identity(&self) -> Result<Option<OwnIdentity>, HttpError> {
        match self.get("/identity") {
            Ok(i) => Ok(Some(i)),
            Err(HttpError::Status(404, _)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /identity`: publishes this account's identity (once).
    pub fn publish_identity(&self, identity: &OwnIdentity) -> Result<(), HttpError> {
        self.post::<_, Empty>("/identity", identity).map(|_| ())
    }

    /// `GET /identities/{email}`: another account's published identity.
    pub fn identity_of(&self, email: &str) -> Result<Option<IdentityRecord>, HttpError> {
        let escaped: String = email
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let path = format!("/identities/{escaped}");
        match self.get(&path) {
            Ok(i) => Ok(Some(i)),
            Err(HttpError::Status(404, _)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /shares`.
    pub fn shares(&self) -> Result<Vec<ShareSummary>, HttpError> {
        self.get("/shares")
    }

    /// `POST /shares`.
    pub fn create_share(&self, req: &CreateShare) -> Result<(), HttpError> {
        self.post::<_, Empty>("/shares", req).map(|_| ())
    }

    /// `GET /shares/{id}`.
    pub fn share_index(&self, id: &str) -> Result<ShareIndex, HttpError> {
        self.get(&format!("/shares/{id}"))
    }

    /// `GET /shares/{id}` with `If-None-Match`: `None` when the server's
    /// answer is still the one whose `ETag` is `etag` (304); otherwise the
    /// index and its `ETag`.
    pub fn share_index_unless(
        &self,
        id: &str,
        etag: Option<&str>,
    ) -> Result<Option<(ShareIndex, Option<String>)>, HttpError> {
        let (r, wait) = self.send_raw::<()>(Method::GET, &format!("/shares/{id}"), None, etag)?;
        if r.status() == reqwest::StatusCode::NOT_MODIFIED && etag.is_some() {
            return Ok(None);
        }
        let tag = r.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(Some((decode(r, wait)?, tag)))
    }

    /// `POST /sync/check`: the account's salt and KDF, its accepted
    /// shares, and which of these shares still answer with the tag given.
    pub fn sync_check(
        &self,
        shares: &std::collections::BTreeMap<String, String>,
    ) -> Result<crate::wire::SyncChecked, HttpError> {
        self.post("/sync/check", &crate::wire::SyncCheck { shares: shares.clone() })
    }

    /// `GET /shares/{id}/changes`, one page.
    pub fn share_changes(&self, id: &str, since: u64) -> Result<Changes, HttpError> {
        self.get(&format!("/shares/{id}/changes?since={since}&limit={MAX_PAGE}"))
    }

    /// `POST /shares/{id}/push`.
    pub fn share_push(&self, id: &str, req: &SharePush) -> Result<PushResponse, HttpError> {
        self.post(&format!("/shares/{id}/push"), req)
    }

    /// `POST /shares/{id}/chain`.
    pub fn append_record(&self, id: &str, req: &AppendRecord) -> Result<(), HttpError> {
        self.post::<_, Empty>(&format!("/shares/{id}/chain"), req).map(|_| ())
    }

    /// `POST /shares/{id}/rekey`.
    pub fn rekey(&self, id: &str, req: &Rekey) -> Result<PushResponse, HttpError> {
        self.post(&format!("/shares/{id}/rekey"), req)
    }

    /// `POST /shares/{id}/accept`.
    pub fn accept_share(&self, id: &str) -> Result<(), HttpError> {
        self.send::<(), Empty>(Method::POST, &format!("/shares/{id}/accept"), None).map(|_| ())
    }

    /// `POST /accounts/2fa/enroll`.
    pub fn totp_enroll(&self) -> Result<TotpEnrollment, HttpError> {
        self.send::<(), TotpEnrollment>(Method::POST, "/accounts/2fa/enroll", None)
    }

    /// `POST /accounts/2fa/verify`.
    pub fn totp_verify(&self, code: &str) -> Result<RecoveryCodes, HttpError> {
        self.post("/accounts/2fa/verify", &TotpCode { code: code.into() })
    }

    /// `POST /accounts/2fa/disable`.
    pub fn totp_disable(&self, code: &str) -> Result<(), HttpError> {
        self.post::<_, Empty>("/accounts/2fa/disable", &TotpCode { code: code.into() }).map(|_| ())
    }

    /// `DELETE /accounts`: deletes the account and all its data.
    pub fn delete_account(&self, auth: &[u8]) -> Result<(), HttpError> {
        self.send::<_, Empty>(
            Method::DELETE,
            "/accounts",
            Some(&crate::wire::DeleteAccountRequest { auth: crate::wire::b64(auth) }),
        )
        .map(|_| ())
    }

    /// `GET /accounts/devices`.
    pub fn devices(&self) -> Result<Vec<crate::wire::DeviceInfo>, HttpError> {
        self.get("/accounts/devices")
    }

    /// `DELETE /accounts/devices/{id}`.
    pub fn revoke_device(&self, id: &str) -> Result<(), HttpError> {
        if !crate::wire::is_item_id(id) {
            return Err(HttpError::Setup(format!("{id:?} is not a device id (32 hex digits)")));
        }
        self.send::<(), Empty>(Method::DELETE, &format!("/accounts/devices/{id}"), None).map(|_| ())
    }

    /// `GET /accounts/events`.
    pub fn events(&self) -> Result<Vec<crate::wire::AccountEvent>, HttpError> {
        self.get("/accounts/events")
    }
}

/// A 204 or any body we do not need.
struct Empty;

impl<'de> serde::Deserialize<'de> for Empty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Empty)
    }
}

/// [`ANSWER_WAIT`], or `$TESSERA_SERVICE_TIMEOUT_SECS`.
fn answer_wait() -> Duration {
    tessera_unlock::deadline::wait_or(ANSWER_WAIT)
}

/// The bound for one attempt carrying `body_len` bytes: a small request
/// gets [`ANSWER_WAIT`] exactly.
fn attempt_wait(body_len: usize) -> Duration {
    let chunks = u32::try_from(body_len / (128 * 1024)).unwrap_or(u32::MAX);
    answer_wait().saturating_add(BODY_ALLOWANCE.saturating_mul(chunks))
}

fn no_answer(wait: Duration) -> HttpError {
    HttpError::Unreachable(format!(
        "the server accepted the connection but did not answer in {} s; check that it runs and is not overloaded",
        wait.as_secs()
    ))
}

fn decode<R: DeserializeOwned>(r: Response, wait: Duration) -> Result<R, HttpError> {
    let status = r.status();
    let bytes = r
        .bytes()
        .map_err(|e| if e.is_timeout() { no_answer(wait) } else { HttpError::Unreachable(without_url(&e)) })?;
    if status.is_success() {
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        return serde_json::from_slice(bytes).map_err(|e| HttpError::Protocol(format!("unexpected answer: {e}")));
    }
    // An error without our JSON body comes from something in front of the
    // server (a proxy's error page, a body-size limit): a refusal to report,
    // not a sign of tampering.
    let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| ErrorBody {
        error: format!("http_{}", status.as_u16()),
        message: format!("HTTP {status}"),
        retry_after: None,
        stale: Vec::new(),
        limit: None,
    });
    Err(HttpError::Status(status.as_u16(), body))
}

/// reqwest's messages include the URL, which may carry a query; keep the kind.
fn without_url(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    if let Some(url) = e.url() {
        msg = msg.replace(url.as_str(), "the server");
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_requests_wait_25_s_and_large_uploads_a_second_more_per_128_kib() {
        if std::env::var_os(tessera_unlock::deadline::TIMEOUT_VAR).is_some() {
            return; // the bound is overridden in this environment
        }
        assert_eq!(attempt_wait(0), Duration::from_secs(25));
        assert_eq!(attempt_wait(100 * 1024), Duration::from_secs(25));
        assert_eq!(attempt_wait(32 * 1024 * 1024), Duration::from_secs(25 + 256));
    }
}
