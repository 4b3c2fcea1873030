//! Anthropic's Messages API: `POST /v1/messages` (JSON or named SSE events) and
//! `GET /v1/models`, with Anthropic's own recorded bodies. Requests without `x-api-key`,
//! `anthropic-version` or `max_tokens` are refused as the real API refuses them.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use crate::{MockServer, Shared, last_user_text};

const MESSAGE: &str = include_str!("../fixtures/anthropic/message.json");
const TOOL_USE: &str = include_str!("../fixtures/anthropic/tool_use.json");
const STREAM: &str = include_str!("../fixtures/anthropic/stream.sse");
const STREAM_TOOL_USE: &str = include_str!("../fixtures/anthropic/stream_tool_use.sse");
const RATE_LIMIT: &str = include_str!("../fixtures/anthropic/error_rate_limit.json");
const OVERLOADED: &str = include_str!("../fixtures/anthropic/error_overloaded.json");
const AUTHENTICATION: &str = include_str!("../fixtures/anthropic/error_authentication.json");
const INVALID_REQUEST: &str = include_str!("../fixtures/anthropic/error_invalid_request.json");
const MODELS: &str = include_str!("../fixtures/anthropic/models.json");

/// Starts a Messages API server; its `base_url` is the root (the provider adds `/v1`).
pub async fn start() -> std::io::Result<MockServer> {
    let router =
        axum::Router::new().route("/v1/messages", post(messages)).route("/v1/models", get(models));
    MockServer::start(router, "").await
}

fn json(status: u16, body: &'static str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [("content-type", "application/json"), ("request-id", "req_mock")], body)
        .into_response()
}

fn sse(body: String) -> Response {
    ([("content-type", "text/event-stream"), ("cache-control", "no-cache")], Body::from(body))
        .into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.contains_key("x-api-key") && headers.contains_key("anthropic-version")
}

async fn messages(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return json(400, INVALID_REQUEST);
    };
    shared.record("/v1/messages", &headers, request.clone());
    if !authorized(&headers) {
        return json(401, AUTHENTICATION);
    }
    match shared.fault_for_next_call() {
        Some(503) => return json(529, OVERLOADED),
        Some(_) => return json(500, OVERLOADED),
        None => {}
    }
    if request.get("max_tokens").is_none() {
        return json(400, INVALID_REQUEST);
    }
    let streaming = request["stream"] == Value::Bool(true);
    match last_user_text(&request).as_str() {
        "mock:rate-limit" => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "7"), ("content-type", "application/json")],
            RATE_LIMIT,
        )
            .into_response(),
        "mock:bad-key" => json(401, AUTHENTICATION),
        "mock:server-error" => json(529, OVERLOADED),
        "mock:slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            json(200, MESSAGE)
        }
        "mock:cut" if streaming => {
            sse(STREAM.split("\n\n").take(4).map(|event| format!("{event}\n\n")).collect())
        }
        "mock:stream-error" if streaming => {
            let start: String =
                STREAM.split("\n\n").take(4).map(|event| format!("{event}\n\n")).collect();
            sse(format!("{start}event: error\ndata: {}\n\n", OVERLOADED.trim()))
        }
        "mock:tool" if streaming => sse(STREAM_TOOL_USE.to_owned()),
        "mock:tool" => json(200, TOOL_USE),
        _ if streaming => sse(STREAM.to_owned()),
        _ => json(200, MESSAGE),
    }
}

async fn models(headers: HeaderMap, State(shared): State<Arc<Shared>>) -> Response {
    if !authorized(&headers) {
        return json(401, AUTHENTICATION);
    }
    if shared.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner).down {
        return json(529, OVERLOADED);
    }
    json(200, MODELS)
}
