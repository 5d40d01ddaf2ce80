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
//! Storage is SQLite by default or PostgreSQL (`--database postgres://…`),
//! through one set of migrations and queries ([`db`]). Instances keep no
//! state of their own but per-address rate-limit buckets, so any number can
//! serve one PostgreSQL database.

#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod db;
pub mod error;
pub mod hashing;
pub mod metrics;
pub mod rate_limit;
pub mod secrets;

use std::net::SocketAddr;
use std::sync::Arc;

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
    let state = Arc::new(AppState {
        db,
        keys: secrets::ServerKeys::new(pepper),
        limiter: rate_limit::AddressLimiter::new(args.auth_rate_per_minute),
        metrics: metrics::Metrics::default(),
        hashing: hashing::HashPool::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
    });
    let app = api::router(state, args.max_body_bytes).into_make_service_with_connect_info::<SocketAddr>();
    let listener =
        std::net::TcpListener::bind(args.listen).with_context(|| format!("cannot listen on {}", args.listen))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let scheme = if args.tls_cert.is_some() { "https" } else { "http" };
    tracing::info!(address = %local, database = %db::redact_url(&url), tls = args.tls_cert.is_some(), "listening");
    // One machine-readable line on stdout, for scripts and tests that ask
    // for port 0.
    println!("listening on {scheme}://{local}");

    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .context("cannot load the TLS certificate and key")?;
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            axum_server::from_tcp_rustls(listener, tls).handle(handle).serve(app).await?;
        }
        _ => {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
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
