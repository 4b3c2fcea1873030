//! `POST /api/analyze`: the analyzer over HTTP for one snippet or a set of files, answering
//! the same JSON schema as `quantumlayer analyze --format json`.
//!
//! Body: `{"path": "app.py", "content": "…", "language": "python"}` for one snippet (language
//! optional), or `{"files": [{"path": "…", "content": "…"}, …]}`. Limits: 1 MiB a file,
//! 20 MiB a request, 2,000 files; beyond them the answer is 413 with a sentence saying which.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ql_analyzer::Language;
use ql_scan::ScanOptions;
use ql_services::Services;
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

pub const MAX_REQUEST_BYTES: usize = 20 * 1024 * 1024;
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
pub const MAX_FILES: usize = 2_000;
const MAX_PATH_CHARS: usize = 1_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnalyzeRequest {
    path: Option<String>,
    content: Option<String>,
    language: Option<String>,
    files: Option<Vec<SourceFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    path: String,
    content: String,
}

/// A refusal: a status and a sentence, answered as `{"error": "…"}`.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    ApiError(status, message.into()).into_response()
}

fn refuse<T>(status: StatusCode, message: impl Into<String>) -> Result<T, ApiError> {
    Err(ApiError(status, message.into()))
}

pub async fn analyze(
    State(_services): State<Services>,
    session: Session,
    request: Request,
) -> Response {
    let signed_in = matches!(session.get::<String>(app::ssr::SESSION_USER).await, Ok(Some(_)));
    if !signed_in {
        return error(StatusCode::UNAUTHORIZED, "sign in first");
    }
    let body = match axum::body::to_bytes(request.into_body(), MAX_REQUEST_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request is over 20 MiB; send fewer files per request",
            );
        }
    };
    let request: AnalyzeRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid request: {e}")),
    };
    let (sources, language) = match sources_of(request) {
        Ok(parts) => parts,
        Err(refusal) => return refusal.into_response(),
    };
    let options = ScanOptions {
        analysis: ql_analyzer::Options { language, ..ScanOptions::default().analysis },
        ..ScanOptions::default()
    };
    match tokio::task::spawn_blocking(move || ql_scan::scan_sources(&sources, &options)).await {
        Ok(report) => Json(report).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "analysis task failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "the analysis failed")
        }
    }
}

type Sources = Vec<(String, Vec<u8>)>;

/// The files to analyse, checked against the limits.
fn sources_of(request: AnalyzeRequest) -> Result<(Sources, Option<Language>), ApiError> {
    let language = match request.language.as_deref().map(str::parse::<Language>) {
        Some(Ok(language)) => Some(language),
        Some(Err(e)) => return refuse(StatusCode::BAD_REQUEST, e.to_string()),
        None => None,
    };
    let files = match (request.files, request.content) {
        (Some(files), None) if request.path.is_none() && language.is_none() => files,
        (None, Some(content)) => {
            vec![SourceFile { path: request.path.unwrap_or_else(|| "snippet".to_owned()), content }]
        }
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "send either `content` (with an optional `path` and `language`) or `files` alone",
            );
        }
    };
    if files.len() > MAX_FILES {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{} files is over the limit of {MAX_FILES} a request", files.len()),
        );
    }
    if let Some(big) = files.iter().find(|f| f.content.len() > MAX_FILE_BYTES) {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{} is over the limit of 1 MiB a file", big.path),
        );
    }
    if let Some(long) =
        files.iter().find(|f| f.path.chars().count() > MAX_PATH_CHARS || f.path.is_empty())
    {
        let shown: String = long.path.chars().take(40).collect();
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("file path `{shown}` must be 1 to {MAX_PATH_CHARS} characters"),
        );
    }
    if files.is_empty() {
        return refuse(StatusCode::BAD_REQUEST, "`files` is empty");
    }
    Ok((files.into_iter().map(|f| (f.path, f.content.into_bytes())).collect(), language))
}
