//! # tessera-server
//!
//! The blind sync server (DESIGN §5). It keeps, per account: the Vault Key
//! wrapped by a key only the client can derive, a signed manifest it cannot
//! verify or forge, and per item an id, a server revision, a sequence
//! number, a tombstone flag and one sealed blob. It depends on
//! `tessera-sync`'s wire types only, never on `tessera-core`: it has no code
//! that could open a record.
//!
//! Accounts authenticate with `auth`, a key the client derives from the
//! master password and its Secret Key; the server stores Argon2id(auth)
//! keyed with a pepper read from a file outside the database. Access tokens
//! are short-lived and signed; refresh tokens rotate, and a reused one
//! revokes its device.
//!
//! What the server keeps about its clients is bounded too: client
//! addresses in the event log are erased after `--keep-addresses-days`
//! ([`retention`]); each account has quotas, each request a size cap and a
//! deadline ([`limits`]), each connection idle and slow-head deadlines
//! ([`connection`]).
//!
//! Storage is SQLite by default or PostgreSQL (`--database postgres://…`),
//! through one set of migrations and queries ([`db`]). Instances keep no
//! state of their own but per-address rate-limit buckets, so any number can
//! serve one PostgreSQL database.

#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod connection;
pub mod db;
pub mod error;
pub mod hashing;
pub mod limits;
pub mod metrics;
pub mod rate_limit;
pub mod retention;
pub mod secrets;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

use crate::api::AppState;
use crate::config::Args;

/// Starts the server and serves until SIGINT or SIGTERM.
pub fn run(args: Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_span_list(false)
        .with_env_filter(EnvFilter::try_new(&args.log).context("bad --log filter")?)
        .with_writer(std::io::stderr)
        .init();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        runtime.worker_threads(n.max(1));
    }
    runtime.enable_all().build().context("cannot start the async runtime")?.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let url = args.database_url()?;
    let pepper_path = args.pepper_path()?;
    let pepper = config::load_or_create_pepper(&pepper_path)?;
    let db = db::Db::connect(&url, args.db_connections).await?;
    let request_timeout = Duration::from_secs(args.request_timeout);
    let limits = limits::Limits {
        max_body: args.max_body,
        max_record: args.max_record,
        quota_items: args.quota_items,
        quota_bytes: args.quota_bytes,
        request_timeout,
    };
    if args.max_body < args.max_record / 3 * 4 + limits::SMALL_BODY {
        tracing::warn!(
            max_body = args.max_body,
            max_record = args.max_record,
            "--max-body is below 4/3 of --max-record: items near the record limit cannot be pushed"
        );
    }
    // The first erasure runs before the server answers anyone.
    retention::forget_old_addresses(&db, args.keep_addresses_days).await;
    tokio::spawn(retention::hourly(db.clone(), args.keep_addresses_days));
    let state = Arc::new(AppState {
        db,
        keys: secrets::ServerKeys::new(pepper),
        limiter: rate_limit::AddressLimiter::new(args.auth_rate_per_minute),
        metrics: metrics::Metrics::default(),
        hashing: hashing::HashPool::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
        limits,
        record_addresses: args.keep_addresses_days > 0,
    });
    let app = api::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let listener =
        std::net::TcpListener::bind(args.listen).with_context(|| format!("cannot listen on {}", args.listen))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let scheme = if args.tls_cert.is_some() { "https" } else { "http" };
    tracing::info!(address = %local, database = %db::redact_url(&url), tls = args.tls_cert.is_some(), "listening");

    let guard = connection::GuardAcceptor {
        deadlines: connection::Deadlines { request: request_timeout, idle: Duration::from_secs(args.idle_timeout) },
    };
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stopper.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let server = axum_server::from_tcp(listener).handle(handle);
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .context("cannot load the TLS certificate and key")?;
            // One machine-readable line on stdout, for scripts and tests
            // that ask for port 0.
            println!("listening on {scheme}://{local}");
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls).acceptor(guard);
            server.acceptor(acceptor).serve(app).await?;
        }
        _ => {
            println!("listening on {scheme}://{local}");
            server.acceptor(guard).serve(app).await?;
        }
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
