//! The OpenAI-compatible API: `POST /v1/chat/completions` and `GET /v1/models`, authenticated
//! by `Authorization: Bearer <key>`. Errors are OpenAI-shaped (`{"error": {...}}`).

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use ql_router::RouterError;
use ql_router::http::unix_now;
use ql_router::wire::{ChatRequest, ModelEntry, ModelList};
use ql_services::{KeyPrincipal, ServiceError, Services};

mod coalesce;

/// The largest chat request body (images travel inline as base64).
pub const MAX_CHAT_BODY_BYTES: usize = 20 * 1024 * 1024;

pub fn router(services: Services) -> Router {
    // Install the recorder before the first call records anything.
    super::metrics::handle();
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/models", get(models))
        .route("/metrics", get(super::metrics::render))
        .layer(DefaultBodyLimit::max(MAX_CHAT_BODY_BYTES))
        .with_state(services)
}

/// Probes unhealthy targets every second, so they recover without waiting for traffic.
pub fn spawn_health_probes(services: &Services) {
    let gateway = services.gateway().clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            gateway.probe_due_targets().await;
        }
    });
}

/// An OpenAI-shaped error answer.
fn error_response(error: &RouterError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = (status, axum::Json(error.to_body())).into_response();
    if let Some(wait) = error.retry_after() {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

fn unauthorized(message: &str) -> Response {
    let body = serde_json::json!({"error": {
        "message": message, "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}});
    (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
}

async fn authenticate(services: &Services, headers: &HeaderMap) -> Result<KeyPrincipal, Response> {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Err(unauthorized(
            "No API key was sent: send `Authorization: Bearer <key>` (`quantumlayer keys create` makes one).",
        ));
    };
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or("")
        .trim();
    match services.authenticate_api_key(token).await {
        Ok(principal) => Ok(principal),
        Err(ServiceError::Unauthenticated) => {
            Err(unauthorized("The API key is not valid or has been revoked."))
        }
        Err(other) => {
            tracing::error!(error = %other, "API key lookup failed");
            Err(error_response(&RouterError::Config("the key store is unavailable".into())))
        }
    }
}

async fn chat_completions(
    State(services): State<Services>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match authenticate(&services, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let request: ChatRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return error_response(&RouterError::InvalidRequest(format!(
                "the body is not a chat request: {error}"
            )));
        }
    };
    if request.stream {
        stream(&services, &caller, &request).await
    } else {
        let mode = ql_services::CacheMode::from_header(
            headers.get("x-ql-cache").and_then(|v| v.to_str().ok()),
        );
        match services.chat_complete(&caller, &request, mode).await {
            Ok(answer) => {
                let mut response = Response::new(Body::from(answer.completion.body));
                let headers = response.headers_mut();
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                served_headers(headers, &answer.served);
                if answer.cacheable {
                    let state = if answer.cache_hit { "hit" } else { "miss" };
                    headers.insert("x-ql-cache", HeaderValue::from_static(state));
                }
                response
            }
            Err(error) => error_response(&error),
        }
    }
}

fn served_headers(headers: &mut HeaderMap, served: &ql_router::Served) {
    for (name, value) in
        [("x-ql-provider", served.provider.as_str()), ("x-ql-model", served.model.as_str())]
    {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    headers.insert("x-ql-attempts", HeaderValue::from(served.attempts));
}

/// One SSE frame: `data: <json>\n\n`.
fn frame(data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(data.len() + 8);
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

async fn stream(services: &Services, caller: &KeyPrincipal, request: &ChatRequest) -> Response {
    let started = match services.chat_stream(caller, request).await {
        Ok(started) => started,
        Err(error) => return error_response(&error),
    };
    let wants_usage = request.wants_stream_usage();
    let first = started
        .first
        .filter(|chunk| wants_usage || !chunk.usage_only)
        .map(|chunk| frame(&chunk.data));
    let body = futures::stream::unfold(
        (first, started.rest, false),
        move |(first, mut rest, finished)| async move {
            if let Some(frame) = first {
                return Some((frame, (None, rest, false)));
            }
            if finished {
                return None;
            }
            loop {
                match rest.next().await {
                    Some(Ok(chunk)) if wants_usage || !chunk.usage_only => {
                        return Some((frame(&chunk.data), (None, rest, false)));
                    }
                    Some(Ok(_)) => {}
                    // `[DONE]` only after a clean end: a broken stream's last frame is its error.
                    Some(Err(error)) => {
                        tracing::warn!(%error, "stream broke after it started");
                        let body = serde_json::to_vec(&error.to_body()).unwrap_or_default();
                        return Some((frame(&body), (None, rest, true)));
                    }
                    None => {
                        return Some((Bytes::from_static(b"data: [DONE]\n\n"), (None, rest, true)));
                    }
                }
            }
        },
    );
    // Frames that arrive together go out in one write (one syscall, one TCP segment). The
    // first batch is awaited before answering, so the response head leaves with it.
    let mut body = coalesce::Coalesce::new(Box::pin(body));
    let first_batch = body.next().await;
    let body =
        futures::stream::iter(first_batch).chain(body).map(Ok::<_, std::convert::Infallible>);
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    served_headers(headers, &started.served);
    response
}

async fn models(State(services): State<Services>, headers: HeaderMap) -> Response {
    let caller = match authenticate(&services, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let created = unix_now();
    let data = services
        .model_names(&caller.org_id)
        .await
        .into_iter()
        .map(|id| ModelEntry {
            id,
            object: "model".into(),
            created,
            owned_by: "quantumlayer".into(),
        })
        .collect();
    axum::Json(ModelList { object: "list".into(), data }).into_response()
}
