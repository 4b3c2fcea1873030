//! OpenAI's Chat Completions protocol: `POST /v1/chat/completions` (JSON or SSE) and
//! `GET /v1/models`, with OpenAI's own recorded bodies.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
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
    if !prompt.starts_with("mock:")
        && let Some(text) = shared.written(&request)
    {
        return if streaming { written_stream(text, usage) } else { written_completion(&text) };
    }
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
        "mock:stall" if streaming => {
            // The first chunk, then a silence longer than any test waits.
            let first = STREAM.split("\n\n").next().unwrap_or_default();
            let frames = futures::stream::iter([Bytes::from(format!("{first}\n\n"))])
                .chain(futures::stream::once(async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Bytes::new()
                }))
                .map(Ok::<_, std::convert::Infallible>);
            ([("content-type", "text/event-stream")], Body::from_stream(frames)).into_response()
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

/// Chunks of a written answer, in characters, and the pause between them.
const WRITTEN_CHUNK_CHARS: usize = 32;
const WRITTEN_CHUNK_PAUSE: Duration = Duration::from_millis(2);

/// Four characters a token, as a rough count.
fn written_usage(text: &str) -> Value {
    let completion = text.chars().count().div_ceil(4);
    serde_json::json!({"prompt_tokens": 100, "completion_tokens": completion,
                       "total_tokens": 100 + completion})
}

fn written_completion(text: &str) -> Response {
    let body = serde_json::json!({
        "id": "chatcmpl-written", "object": "chat.completion", "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": written_usage(text),
    });
    (StatusCode::OK, [("content-type", "application/json")], body.to_string()).into_response()
}

/// A written answer as OpenAI streams it: a role chunk, content chunks, a finish chunk, the
/// usage chunk when asked for, `[DONE]`; a short pause between chunks.
fn written_stream(text: String, include_usage: bool) -> Response {
    let chunk = |delta: Value, finish: Value| {
        let chunk = serde_json::json!({
            "id": "chatcmpl-written", "object": "chat.completion.chunk", "created": 1741569952,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
            "usage": null,
        });
        format!("data: {chunk}\n\n")
    };
    let mut frames =
        vec![chunk(serde_json::json!({"role": "assistant", "content": ""}), Value::Null)];
    let chars: Vec<char> = text.chars().collect();
    for piece in chars.chunks(WRITTEN_CHUNK_CHARS) {
        let piece: String = piece.iter().collect();
        frames.push(chunk(serde_json::json!({"content": piece}), Value::Null));
    }
    frames.push(chunk(serde_json::json!({}), Value::from("stop")));
    if include_usage {
        let usage = serde_json::json!({
            "id": "chatcmpl-written", "object": "chat.completion.chunk", "created": 1741569952,
            "model": "gpt-4o-mini-2024-07-18", "choices": [], "usage": written_usage(&text),
        });
        frames.push(format!("data: {usage}\n\n"));
    }
    frames.push("data: [DONE]\n\n".to_owned());
    let paced = futures::stream::iter(frames).then(|frame| async move {
        tokio::time::sleep(WRITTEN_CHUNK_PAUSE).await;
        Ok::<_, std::convert::Infallible>(Bytes::from(frame))
    });
    (
        [("content-type", "text/event-stream"), ("cache-control", "no-cache")],
        Body::from_stream(paced),
    )
        .into_response()
}
