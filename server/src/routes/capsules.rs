//! `GET /capsules/{id}/download`: a capsule's archive for the signed-in user's organisation,
//! as an attachment.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ql_services::{ServiceError, Services};
use tower_sessions::Session;

pub async fn download(
    State(services): State<Services>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let ids = match app::ssr::session_ids(&session).await {
        Ok(Some(ids)) => ids,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response(),
        Err(error) => {
            tracing::error!(error = %error.message, "session store");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let answer = async {
        let principal = services.principal(&ids.0, &ids.1).await?;
        services.capsule_archive(&principal, &id.as_str().into()).await
    };
    match answer.await {
        Ok((name, archive)) => {
            let mut response = archive.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
            // The name is an identifier and hex digits: safe inside the quotes.
            if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(ServiceError::NotFound(_)) => {
            (StatusCode::NOT_FOUND, "No such capsule.").into_response()
        }
        Err(ServiceError::Unauthenticated) => {
            (StatusCode::UNAUTHORIZED, "Sign in first.").into_response()
        }
        Err(error) => {
            tracing::error!(%error, "capsule download");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
