//! OpenAI's Chat Completions protocol: `POST /v1/chat/completions` (JSON or SSE) and
//! `GET /v1/models`, with OpenAI's own recorded bodies.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use crate::{MockServer, Shared, last_user_text};

const COMPLETION: &str = include_str!("../fixtures/openai/completion.json");
const TOOL_CALL: &str = include_str!("../fixtures/openai/tool_call.json");
const STREAM: &str = include_str!("../fixtures/openai/stream.sse");
const STREAM_USAGE: &str = include_str!("../fixtures/openai/stream_usage.sse");
const STREAM_TOOL_CALL: &str = include_str!("../fixtures/openai/stream_tool_call.sse");
const RATE_LIMIT: &str = include_str!("../fixtures/openai/error_rate_limit.json");
const INVALID_KEY: &str = include_str!("../fixtures/openai/error_invalid_key.json");
const SERVER_ERROR: &str = include_str!("../fixtures/openai/error_server.json");
const MODELS: &str = include_str!("../fixtures/openai/models.json");

/// Starts an OpenAI-compatible server; its `base_url` ends in `/v1`.
pub async fn start() -> std::io::Result<MockServer> {
    let router = axum::Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models));
    MockServer::start(router, "/v1").await
}

fn json(status: StatusCode, body: &'static str) -> Response {
    (status, [("content-type", "application/json")], body).into_response()
}

fn sse(body: String) -> Response {
    ([("content-type", "text/event-stream"), ("cache-control", "no-cache")], Body::from(body))
        .into_response()
}

async fn chat(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "We could not parse the JSON body of your request.")
            .into_response();
    };
    shared.record("/v1/chat/completions", &headers, request.clone());
    match shared.fault_for_next_call() {
        Some(503) => return json(StatusCode::SERVICE_UNAVAILABLE, SERVER_ERROR),
        Some(_) => return json(StatusCode::INTERNAL_SERVER_ERROR, SERVER_ERROR),
        None => {}
    }
    let streaming = request["stream"] == Value::Bool(true);
    let usage = request["stream_options"]["include_usage"] == Value::Bool(true);
    let prompt = last_user_text(&request);
    match prompt.as_str() {
        "mock:rate-limit" => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "7"), ("content-type", "application/json")],
            RATE_LIMIT,
        )
            .into_response(),
        "mock:bad-key" => json(StatusCode::UNAUTHORIZED, INVALID_KEY),
        "mock:server-error" => json(StatusCode::INTERNAL_SERVER_ERROR, SERVER_ERROR),
        "mock:slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            json(StatusCode::OK, COMPLETION)
        }
        "mock:cut" if streaming => {
            sse(STREAM.split("\n\n").take(2).map(|event| format!("{event}\n\n")).collect())
        }
        "mock:stream-error" if streaming => {
            let first = STREAM.split("\n\n").next().unwrap_or_default();
            sse(format!("{first}\n\ndata: {}\n\n", SERVER_ERROR.replace('\n', "")))
        }
        "mock:tool" if streaming => sse(format!("{STREAM_TOOL_CALL}data: [DONE]\n\n")),
        "mock:tool" => json(StatusCode::OK, TOOL_CALL),
        _ if streaming => {
            let usage = if usage { STREAM_USAGE } else { "" };
            sse(format!("{STREAM}{usage}data: [DONE]\n\n"))
        }
        _ => json(StatusCode::OK, COMPLETION),
    }
}

async fn models(State(shared): State<Arc<Shared>>) -> Response {
    if shared.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner).down {
        return json(StatusCode::SERVICE_UNAVAILABLE, SERVER_ERROR);
    }
    json(StatusCode::OK, MODELS)
}
