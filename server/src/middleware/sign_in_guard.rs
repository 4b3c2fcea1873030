//! Sends signed-out visitors of app pages to `/login`, and signed-in ones away from it.
//!
//! It guards page navigations only: server functions check the session themselves (and
//! answer `unauthenticated`), and static files, health checks and the wasm bundle are public.

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// Paths anyone may fetch without a session.
const PUBLIC_PREFIXES: &[&str] = &["/api/", "/pkg/", "/healthz", "/readyz"];

pub async fn redirect_signed_out(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_page = request.method() == Method::GET
        && !PUBLIC_PREFIXES.iter().any(|prefix| path.starts_with(prefix))
        && !path.rsplit('/').next().is_some_and(|last| last.contains('.'));
    if !is_page {
        return next.run(request).await;
    }
    let signed_in = match request.extensions().get::<Session>() {
        Some(session) => matches!(session.get::<String>(app::ssr::SESSION_USER).await, Ok(Some(_))),
        None => false,
    };
    match (path == "/login", signed_in) {
        (true, true) => Redirect::to("/").into_response(),
        (false, false) => Redirect::to("/login").into_response(),
        _ => next.run(request).await,
    }
}
