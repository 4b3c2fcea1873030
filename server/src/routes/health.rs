//! `/healthz` (the process answers) and `/readyz` (the database answers too).

use axum::extract::State;
use axum::http::StatusCode;
use ql_services::Services;

pub async fn alive() -> &'static str {
    "ok"
}

pub async fn ready(State(services): State<Services>) -> (StatusCode, &'static str) {
    match services.ready().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
