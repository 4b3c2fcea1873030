//! Builds the one `Services` value and the axum router around the Leptos app, and serves it.

use std::time::Duration;

use anyhow::Context as _;
use app::{App, shell};
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use ql_services::{AuthMode, Services};
use ql_store::Store;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

use crate::config::Config;
use crate::middleware::{csrf, sign_in_guard};
use crate::routes::{analyze, generations, health, v1};
use crate::session_store::DbSessionStore;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "ql_session";

/// Opens the database (migrating it) and builds the services over it.
pub async fn open_services(config: &Config) -> anyhow::Result<Services> {
    open_services_as(config, Lifetime::Command).await
}

/// How long a process that opens the services runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifetime {
    /// A command that does one thing and exits.
    Command,
    /// A server or worker: keeps database connections warm.
    Serving,
}

/// Opens the services for a process of this lifetime.
pub(crate) async fn open_services_as(
    config: &Config,
    lifetime: Lifetime,
) -> anyhow::Result<Services> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create the data directory {}", config.data_dir.display())
        })?;
    }
    let gateway = ql_router::build::gateway(
        &config.gateway_config(),
        &|name| std::env::var(name).ok(),
        &ql_engine::builtin_model::provider,
    )?;
    let store = match lifetime {
        Lifetime::Command => Store::connect(&config.database_url()).await?,
        Lifetime::Serving => Store::connect_for_serving(&config.database_url()).await?,
    };
    let (counters, cache): (
        std::sync::Arc<dyn ql_services::Counters>,
        Option<std::sync::Arc<dyn ql_services::AnswerCache>>,
    ) = match &config.redis_url {
        Some(url) => {
            let redis = ql_services::RedisCounters::connect(url, &config.redis_namespace)
                .await
                .map_err(anyhow::Error::msg)?;
            let cache = ql_services::RedisCache::new(redis.connection(), &config.redis_namespace);
            (std::sync::Arc::new(redis), Some(std::sync::Arc::new(cache)))
        }
        None => (std::sync::Arc::new(ql_services::MemoryCounters::default()), None),
    };
    let quotas = ql_services::Quotas { settings: config.quotas.clone(), counters };
    let secrets =
        crate::secret_key::load(std::env::var("QL_SECRET_KEY").ok().as_deref(), &config.data_dir)?;
    let capsule_key = crate::secret_key::capsule_key(&config.data_dir)?;
    Ok(Services::new(store, AuthMode::Local, gateway)
        .with_secrets(secrets)
        .with_capsule_key(capsule_key)
        .with_quotas(quotas)
        .with_cache(config.cache.clone(), cache)
        .with_orchestrator_settings(config.generations.settings()))
}

/// The whole HTTP surface: health checks, server functions, pages and static files.
pub fn http_router(services: Services, config: &Config) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name("quantumlayer")
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .build();
    let routes = generate_route_list(App);

    let sessions = DbSessionStore::new(services.store().sessions.clone());
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.session.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(i64::from(
            config.session.ttl_hours,
        ))));
    let csrf_policy = csrf::CsrfPolicy { public_origin: config.http.public_url.clone() };

    let health_routes = Router::new()
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .with_state(services.clone());

    let app_routes = Router::new()
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            {
                let services = services.clone();
                move || {
                    provide_context(services.clone());
                    provide_context(app::ssr::RequestPrincipal::default());
                }
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options);

    // The analyze API reads larger bodies and enforces its own limits with clear answers.
    let analyze_routes =
        Router::new().route("/api/analyze", post(analyze::analyze)).with_state(services.clone());
    let capsule_routes = Router::new()
        .route("/capsules/{id}/download", get(crate::routes::capsules::download))
        .with_state(services.clone());
    let generation_routes = generations::router(services.clone());

    let router = Router::new()
        .merge(health_routes)
        .merge(app_routes)
        .layer(RequestBodyLimitLayer::new(config.http.max_body_bytes))
        .merge(analyze_routes)
        .merge(capsule_routes)
        .merge(generation_routes)
        .layer(axum::middleware::from_fn(sign_in_guard::redirect_signed_out))
        .layer(session_layer)
        .layer(axum::middleware::from_fn_with_state(csrf_policy, csrf::verify_origin))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.http.request_timeout_secs),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // The OpenAI-compatible API authenticates by bearer key (no cookies, so no CSRF) and
        // keeps its per-request work to a minimum: it sits outside the app's layers.
        .merge(v1::router(services));
    SECURITY_HEADERS.iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(
            name.clone(),
            HeaderValue::from_static(value),
        ))
    })
}

/// Headers that every response carries (unless a handler set its own).
const SECURITY_HEADERS: &[(header::HeaderName, &str)] = &[
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
    (
        header::CONTENT_SECURITY_POLICY,
        // Leptos hydrates from an inline module script; everything else is our own origin.
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self' ws://127.0.0.1:*; object-src 'none'; base-uri 'self'; \
         frame-ancestors 'none'; form-action 'self'",
    ),
];

/// One span per request, carrying its id (also returned in `x-request-id`).
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
    )
}

/// Serves until SIGTERM or Ctrl-C, then finishes the requests in flight; with `worker`, also
/// runs generations in this process.
pub async fn serve(config: Config, worker: bool) -> anyhow::Result<()> {
    let services = open_services_as(&config, Lifetime::Serving).await?;
    DbSessionStore::new(services.store().sessions.clone())
        .spawn_expiry_task(Duration::from_secs(3600));
    v1::spawn_health_probes(&services);
    // Events other processes write reach this one's subscribers.
    let orchestrator = services.orchestrator().clone();
    tokio::spawn(async move { orchestrator.listen().await });
    if worker {
        spawn_worker(&services, &config)?;
    }
    let router = http_router(services, &config);
    serve_router(router, config.listen, "server").await
}

fn spawn_worker(services: &Services, config: &Config) -> anyhow::Result<()> {
    let key = crate::secret_key::capsule_key(&config.data_dir)?;
    let services = services.clone();
    tokio::spawn(async move {
        if let Err(error) = services.run_generation_worker(key, shutdown_signal()).await {
            tracing::error!(%error, "the generation worker stopped");
        }
    });
    Ok(())
}

/// Runs a generation worker without the web server, until SIGTERM or Ctrl-C.
pub async fn serve_worker(config: Config) -> anyhow::Result<()> {
    let services = open_services_as(&config, Lifetime::Serving).await?;
    let key = crate::secret_key::capsule_key(&config.data_dir)?;
    services.run_generation_worker(key, shutdown_signal()).await?;
    tracing::info!("worker stopped");
    Ok(())
}

/// Serves only the LLM gateway: `/v1`, `/healthz` and `/readyz`.
pub async fn serve_gateway(
    config: Config,
    listen: Option<std::net::SocketAddr>,
) -> anyhow::Result<()> {
    let services = open_services_as(&config, Lifetime::Serving).await?;
    v1::spawn_health_probes(&services);
    let router = Router::new()
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .with_state(services.clone())
        .merge(v1::router(services));
    let address = listen.unwrap_or(config.listen);
    serve_router(router, address, "gateway").await
}

async fn serve_router(
    router: Router,
    address: std::net::SocketAddr,
    what: &str,
) -> anyhow::Result<()> {
    use axum::serve::{Listener as _, ListenerExt as _};
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?
        .tap_io(|stream| {
            // Without it, Nagle's algorithm holds small writes (SSE frames) for up to 40 ms.
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY");
            }
        });
    let address = listener.local_addr()?;
    tracing::info!(serving = what, "listening on http://{address}");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
