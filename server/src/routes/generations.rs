//! The generations REST API, for scripts and the pages alike; a session cookie or
//! `Authorization: Bearer <key>` says who acts, and every call stays in that organisation:
//!
//! - `POST /api/generations` `{"description", "stack", "model", "project_id"?, "run_tests"?,
//!   "spec"?}` → 202 `{"id", "status"}`; `spec` is an edited spec (the format `status` shows),
//!   generated as given instead of reading the description;
//! - `GET /api/generations/{id}` → status, steps with states and timings, spec, report,
//!   capsule id, queue position;
//! - `GET /api/generations/{id}/events` → server-sent events, each with its number as `id`;
//!   `Last-Event-ID` (or `?after=N`) resumes after that number; the stream ends after the
//!   final event (`succeeded`, `failed` or `cancelled`);
//! - `POST /api/generations/{id}/cancel`;
//! - `GET /api/capsules/{id}` → the zip, its SHA-256 in `x-ql-sha256`;
//! - `GET /api/generations/{id}/capsule` → the same for the generation's capsule with the
//!   workspace's edits: the generated capsule until a file is changed, then a new signed one.
//!
//! Errors are `{"kind", "message", "field"?}` with a stable `kind`; an unknown or another
//! organisation's id is 404.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::Stream;
use ql_services::{GenerationEvent, GenerationInput, Principal, ServiceError, Services};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

/// The largest request body: a description and a few names.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// How often a stream reads the store without being told of new events (events written by
/// another process on SQLite, where there is no `NOTIFY`).
const FALLBACK_POLL: Duration = Duration::from_secs(1);

pub fn router(services: Services) -> Router {
    Router::new()
        .route("/api/generations", post(submit))
        .route("/api/generations/{id}", get(status))
        .route("/api/generations/{id}/events", get(events))
        .route("/api/generations/{id}/cancel", post(cancel))
        .route("/api/generations/{id}/refine", post(refine))
        .route("/api/generations/{id}/capsule", get(workspace_capsule))
        .route("/api/capsules/{id}", get(capsule))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(services)
}

/// A service error as the API answers it.
struct ApiError(ServiceError);

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(&self.0)
    }
}

/// A JSON error answer with a stable kind.
fn error_response(error: &ServiceError) -> Response {
    let status = match error {
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServiceError::Unauthenticated => StatusCode::UNAUTHORIZED,
        ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Conflict(_) => StatusCode::CONFLICT,
        ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let (message, field) = match error {
        ServiceError::Invalid(field) | ServiceError::Conflict(field) => {
            (field.message.clone(), Some(field.field.clone()))
        }
        ServiceError::Internal(detail) => {
            tracing::error!(%detail, "generations API");
            ("Something went wrong on our side; it has been logged.".to_owned(), None)
        }
        ServiceError::NotFound(what) => (format!("No such {what}."), None),
        other => (other.to_string(), None),
    };
    let body = json!({"kind": error.kind(), "message": message, "field": field});
    (status, Json(body)).into_response()
}

/// Who acts: the bearer key's owner in the key's organisation, else the session's user.
struct Acting(Principal);

impl FromRequestParts<Services> for Acting {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> Result<Self, ApiError> {
        let bearer = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if let Some(value) = bearer {
            let token = value.strip_prefix("Bearer ").unwrap_or_default().trim();
            let key = services.authenticate_api_key(token).await?;
            return Ok(Self(services.principal(&key.user_id, &key.org_id).await?));
        }
        let session = Session::from_request_parts(parts, services)
            .await
            .map_err(|(_, message)| ServiceError::Internal(message.to_owned()))?;
        match app::ssr::session_ids(&session).await {
            Ok(Some((user, org))) => Ok(Self(services.principal(&user, &org).await?)),
            Ok(None) => Err(ServiceError::Unauthenticated.into()),
            Err(error) => Err(ServiceError::Internal(error.message).into()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitBody {
    description: String,
    stack: String,
    #[serde(default = "builtin")]
    model: String,
    project_id: Option<String>,
    #[serde(default = "yes")]
    run_tests: bool,
    spec: Option<Value>,
}

fn builtin() -> String {
    "builtin".to_owned()
}

fn yes() -> bool {
    true
}

async fn submit(
    State(services): State<Services>,
    Acting(principal): Acting,
    body: Result<Json<SubmitBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|rejection| {
        ServiceError::Invalid(ql_common::FieldError::new("body", rejection.body_text()))
    })?;
    let input = GenerationInput {
        description: body.description,
        stack: body.stack,
        model: body.model,
        project_id: body.project_id,
        run_tests: body.run_tests,
        spec: body.spec.map(|spec| spec.to_string()),
    };
    let generation = services.submit_generation(&principal, input).await?;
    Ok(accepted(&generation))
}

fn parsed(text: Option<&str>) -> Value {
    text.and_then(|text| serde_json::from_str(text).ok()).unwrap_or(Value::Null)
}

async fn status(
    State(services): State<Services>,
    Acting(principal): Acting,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let view = services.generation(&principal, &id).await?;
    let generation = &view.generation;
    let steps: Vec<Value> = view
        .steps
        .iter()
        .map(|step| {
            json!({
                "step": step.step, "role": step.role, "status": step.status,
                "attempts": step.attempts, "worker": step.worker, "error": step.error,
                "started_at": step.started_at, "finished_at": step.finished_at,
                "seconds": step.finished_at.map(|end| (end - step.started_at) as f64 / 1000.0),
            })
        })
        .collect();
    Ok(Json(json!({
        "id": generation.id.0,
        "project_id": generation.project_id.0,
        "status": generation.status,
        "description": generation.description,
        "stack": generation.stack,
        "model": generation.model,
        "run_tests": generation.run_tests,
        "queue_position": view.queue_position,
        "queued_at": generation.queued_at,
        "started_at": generation.started_at,
        "finished_at": generation.finished_at,
        "error": generation.error,
        "cancelled_by": generation.cancelled_by.as_ref().map(|user| &user.0),
        "spec": parsed(generation.spec.as_deref()),
        "report": parsed(generation.report.as_deref()),
        "capsule_id": generation.capsule_id.as_ref().map(|capsule| &capsule.0),
        "parent_id": generation.parent_id.as_ref().map(|parent| &parent.0),
        "instruction": generation.instruction,
        "steps": steps,
    }))
    .into_response())
}

async fn cancel(
    State(services): State<Services>,
    Acting(principal): Acting,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let generation = services.cancel_generation(&principal, &id).await?;
    Ok(Json(json!({"id": generation.id.0, "status": generation.status})).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefineBody {
    instruction: String,
}

/// Starts a refinement of a succeeded generation: 202 and the new generation, like a submit.
async fn refine(
    State(services): State<Services>,
    Acting(principal): Acting,
    Path(id): Path<String>,
    body: Result<Json<RefineBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(|rejection| {
        ServiceError::Invalid(ql_common::FieldError::new("body", rejection.body_text()))
    })?;
    let generation = services.refine_generation(&principal, &id, &body.instruction).await?;
    Ok(accepted(&generation))
}

/// 202 with where a queued generation is followed.
fn accepted(generation: &ql_services::Generation) -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/generations/{}", generation.id.0))],
        Json(json!({"id": generation.id.0, "status": generation.status})),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    /// Read as text so that a bad number gets this API's JSON error, not axum's plain one.
    after: Option<String>,
}

async fn events(
    State(services): State<Services>,
    Acting(principal): Acting,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<EventsQuery>,
) -> Result<Response, ApiError> {
    let after_query = match query.after.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            ServiceError::Invalid(ql_common::FieldError::new(
                "after",
                format!("`after` is `{text}`; give the number of the last event you have."),
            ))
        })?),
    };
    // Subscribe before the first read, so nothing stored after it goes unannounced.
    let announcements = services.orchestrator().hub().subscribe();
    // Checks the id (and the organisation) before the stream starts: 404, not an empty stream.
    services.generation_events(&principal, &id, 0, 1).await?;
    let after = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<i64>().ok())
        .or(after_query)
        .unwrap_or(0)
        .max(0);
    let follow = Follow {
        services,
        principal,
        id,
        after,
        announcements,
        buffer: VecDeque::new(),
        finished: false,
        unannounced: true,
    };
    Ok(Sse::new(event_stream(follow)).keep_alive(KeepAlive::default()).into_response())
}

/// A subscriber's place in one generation's events.
struct Follow {
    services: Services,
    principal: Principal,
    id: String,
    after: i64,
    announcements: tokio::sync::broadcast::Receiver<ql_store::GenerationId>,
    buffer: VecDeque<GenerationEvent>,
    finished: bool,
    /// Whether the last look at the store came without an announcement (the first look, or a
    /// fallback poll): an empty read then asks whether the generation has already ended, so
    /// a stream resumed after its final event ends at once.
    unannounced: bool,
}

fn event_stream(follow: Follow) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(follow, |mut follow| async move {
        loop {
            if let Some(event) = follow.buffer.pop_front() {
                follow.after = event.seq;
                if ql_services::event_kinds::FINAL.contains(&event.kind.as_str()) {
                    follow.finished = true;
                    follow.buffer.clear();
                }
                let sse = Event::default()
                    .id(event.seq.to_string())
                    .event(event.kind.as_str())
                    .data(event.data);
                return Some((Ok(sse), follow));
            }
            if follow.finished {
                return None;
            }
            let read = follow
                .services
                .generation_events(&follow.principal, &follow.id, follow.after, 500)
                .await;
            match read {
                Ok(events) if !events.is_empty() => {
                    follow.buffer.extend(events);
                    continue;
                }
                Ok(_) if follow.unannounced => {
                    let ended =
                        follow.services.generation_ended(&follow.principal, &follow.id).await;
                    if matches!(ended, Ok(true)) {
                        // Its final event was stored with its end: read once more, then stop.
                        let rest = follow
                            .services
                            .generation_events(&follow.principal, &follow.id, follow.after, 500)
                            .await
                            .unwrap_or_default();
                        follow.finished = rest.is_empty();
                        follow.buffer.extend(rest);
                        continue;
                    }
                }
                Ok(_) => {}
                // Gone (deleted with its project) or the store failed: end the stream; the
                // client reconnects with its last number.
                Err(error) => {
                    tracing::warn!(%error, "event stream read");
                    return None;
                }
            }
            follow.unannounced = !wait_for_news(&mut follow).await;
        }
    })
}

/// Waits until this generation is announced (`true`) or the fallback poll comes round.
async fn wait_for_news(follow: &mut Follow) -> bool {
    let deadline = tokio::time::sleep(FALLBACK_POLL);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => return false,
            announced = follow.announcements.recv() => match announced {
                Ok(id) if id.0 == follow.id => return true,
                Ok(_) => {}
                // Fell behind: read the store, which loses nothing.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return false,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    deadline.as_mut().await;
                    return false;
                }
            },
        }
    }
}

async fn capsule(
    State(services): State<Services>,
    Acting(principal): Acting,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(zip_download(services.capsule_download(&principal, &id).await?))
}

/// The generation's capsule with the workspace's edits (the generated one when none).
async fn workspace_capsule(
    State(services): State<Services>,
    Acting(principal): Acting,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(zip_download(services.workspace_capsule(&principal, &id).await?))
}

/// A capsule as a download: a zip with its file name, its SHA-256 in `x-ql-sha256`.
fn zip_download((name, sha256, archive): ql_services::Download) -> Response {
    let mut response = archive.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    // The name is an identifier and hex digits: safe inside the quotes.
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&sha256) {
        headers.insert("x-ql-sha256", value);
    }
    response
}
