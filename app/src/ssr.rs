//! Server-side plumbing of the server functions: the services from context, the session,
//! and who is acting.

use std::sync::Arc;

use leptos::prelude::*;
use ql_services::{Principal, Services};
use ql_store::{OrgId, UserId};
use tower_sessions::Session;

use crate::AppError;

/// Session keys of the signed-in user and the organisation they act in.
pub const SESSION_USER: &str = "user_id";
pub const SESSION_ORG: &str = "org_id";

/// The services that the server put into the Leptos context.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| AppError::new("internal", "services are not wired"))
}

/// The request's web session.
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| AppError::new("internal", format!("no session layer: {e}")))
}

/// The user and organisation ids stored in the session, if someone signed in.
pub async fn session_ids(session: &Session) -> Result<Option<(UserId, OrgId)>, AppError> {
    let read = |key| async move {
        session
            .get::<String>(key)
            .await
            .map_err(|e| AppError::new("internal", format!("session store: {e}")))
    };
    let user = read(SESSION_USER).await?;
    let org = read(SESSION_ORG).await?;
    Ok(user.zip(org).map(|(user, org)| (UserId(user), OrgId(org))))
}

/// Who acts in this request, once looked up: a page's resources all ask at once, and the
/// answer cannot change within one request (signing in or out answers without asking again).
/// The server provides a fresh one per request; the first resource to ask looks it up while
/// the others wait for its answer.
#[derive(Debug, Clone, Default)]
pub struct RequestPrincipal(Arc<tokio::sync::OnceCell<Principal>>);

/// Who is acting, checked against the database once per request; `unauthenticated` when
/// nobody signed in.
pub async fn current_principal() -> Result<Principal, AppError> {
    match use_context::<RequestPrincipal>() {
        Some(known) => known.0.get_or_try_init(look_up_principal).await.cloned(),
        None => look_up_principal().await,
    }
}

async fn look_up_principal() -> Result<Principal, AppError> {
    let services = services()?;
    let session = session().await?;
    let (user, org) = session_ids(&session)
        .await?
        .ok_or_else(|| AppError::new("unauthenticated", "Sign in first."))?;
    Ok(services.principal(&user, &org).await?)
}

/// Runs a server function's body and sets the HTTP status of a failure from its error kind, so that clients and
/// logs see 401/403/404/409/422 rather than a blanket 500.
pub async fn respond<T>(work: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    let result = work.await;
    if let (Err(error), Some(response)) = (&result, use_context::<leptos_axum::ResponseOptions>()) {
        use http::StatusCode;
        response.set_status(match error.kind.as_str() {
            "unauthenticated" => StatusCode::UNAUTHORIZED,
            "forbidden" => StatusCode::FORBIDDEN,
            "not_found" => StatusCode::NOT_FOUND,
            "conflict" => StatusCode::CONFLICT,
            "invalid" => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        });
    }
    result
}

/// Unix milliseconds as `2026-11-26 05:20 UTC`.
pub fn format_time(millis: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| millis.to_string())
}
