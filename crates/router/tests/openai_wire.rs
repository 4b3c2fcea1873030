//! The `openai` provider against a local server speaking OpenAI's wire protocol: answers,
//! SSE streams, error bodies, 429 with `Retry-After`, slow answers and a stream cut short.
#![expect(clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use ql_router::RouterError;
use ql_router::http::Timeouts;
use ql_router::provider::Provider;
use ql_router::providers::openai::OpenAi;
use ql_router::wire::{ChatRequest, Usage};
use serde_json::{Value, json};

#[derive(Default)]
struct Seen {
    requests: std::sync::Mutex<Vec<(HeaderMap, Value)>>,
    calls: AtomicUsize,
}

/// The behaviour is chosen by the last user message, so one server covers every case.
async fn chat(
    State(seen): State<Arc<Seen>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    seen.calls.fetch_add(1, Ordering::SeqCst);
    seen.requests.lock().expect("lock").push((headers, body.clone()));
    let prompt = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    let model = body["model"].as_str().unwrap_or("").to_owned();
    match prompt {
        "rate-limit" => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "7")],
            Json(json!({"error": {"message": "Rate limit reached for requests", "type": "requests", "param": null, "code": "rate_limit_exceeded"}})),
        )
            .into_response(),
        "bad-key" => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}})),
        )
            .into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Json(completion(&model)).into_response()
        }
        "cut" => sse_response(vec![chunk(&model, json!({"role": "assistant", "content": ""}), None), chunk(&model, json!({"content": "Hel"}), None)], false),
        "stream-error" => sse_response(
            vec![chunk(&model, json!({"content": "Hel"}), None), json!({"error": {"message": "The server had an error while processing your request."}})],
            false,
        ),
        _ if body["stream"] == json!(true) => {
            let mut chunks = vec![
                chunk(&model, json!({"role": "assistant", "content": ""}), None),
                chunk(&model, json!({"content": "Hello"}), None),
                chunk(&model, json!({"content": " there"}), None),
                chunk(&model, json!({}), Some("stop")),
            ];
            if body["stream_options"]["include_usage"] == json!(true) {
                chunks.push(json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": [],
                    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}}));
            }
            sse_response(chunks, true)
        }
        _ => Json(completion(&model)).into_response(),
    }
}

fn completion(model: &str) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there"}, "finish_reason": "stop", "logprobs": null}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}, "system_fingerprint": "fp_1"})
}

fn chunk(model: &str, delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn sse_response(chunks: Vec<Value>, done: bool) -> Response {
    let mut body = String::new();
    for chunk in chunks {
        body.push_str(&format!("data: {chunk}\n\n"));
    }
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    ([("content-type", "text/event-stream")], Body::from(body)).into_response()
}

async fn models() -> Json<Value> {
    Json(json!({"object": "list", "data": [
        {"id": "gpt-4o-mini", "object": "model", "created": 1, "owned_by": "openai"},
        {"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "openai"}]}))
}

async fn start() -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (format!("http://{address}/v1"), seen)
}

fn provider(base_url: &str) -> OpenAi {
    let timeouts = Timeouts { request: Duration::from_secs(1), ..Timeouts::default() };
    OpenAi::new("upstream", base_url, Some("sk-test".into()), timeouts).expect("client")
}

fn request(prompt: &str) -> ChatRequest {
    serde_json::from_value(json!({"model": "fast", "messages": [{"role": "user", "content": prompt}], "temperature": 0, "logit_bias": {"50256": -100}}))
        .expect("request")
}

#[tokio::test]
async fn a_completion_passes_through_with_the_upstream_model_and_the_key() {
    let (url, seen) = start().await;
    let completion = provider(&url).complete(&request("hi"), "gpt-4o-mini").await.expect("answer");
    assert_eq!(completion.usage, Usage::new(9, 2));
    let body: Value = serde_json::from_slice(&completion.body).expect("json");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello there");
    assert_eq!(body["system_fingerprint"], "fp_1", "fields we do not model pass through");
    let requests = seen.requests.lock().expect("lock");
    let (headers, sent) = &requests[0];
    assert_eq!(headers["authorization"], "Bearer sk-test");
    assert_eq!(sent["model"], "gpt-4o-mini");
    assert_eq!(sent["logit_bias"], json!({"50256": -100}), "unknown request fields pass through");
    assert!(sent.get("stream").is_none());
}

#[tokio::test]
async fn a_stream_yields_chunks_and_usage_then_ends() {
    let (url, seen) = start().await;
    let stream = provider(&url).stream(&request("hi"), "gpt-4o-mini").await.expect("stream");
    let chunks: Vec<_> = stream.collect().await;
    let chunks: Vec<_> = chunks.into_iter().map(|c| c.expect("chunk")).collect();
    assert_eq!(chunks.len(), 5);
    assert!(chunks[..4].iter().all(|c| !c.usage_only && c.usage.is_none()));
    assert_eq!((chunks[4].usage, chunks[4].usage_only), (Some(Usage::new(9, 2)), true));
    let text: String = chunks[..4]
        .iter()
        .filter_map(|c| serde_json::from_slice::<Value>(&c.data).ok())
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, "Hello there");
    let sent = &seen.requests.lock().expect("lock")[0].1;
    assert_eq!(
        (sent["stream"].clone(), sent["stream_options"].clone()),
        (json!(true), json!({"include_usage": true}))
    );
}

#[tokio::test]
async fn errors_keep_status_message_and_retry_after() {
    let (url, _) = start().await;
    let upstream = provider(&url);
    let limited = upstream.complete(&request("rate-limit"), "m").await.expect_err("429");
    assert_eq!(
        limited,
        RouterError::Upstream {
            provider: "upstream".into(),
            status: 429,
            message: "Rate limit reached for requests".into(),
            retry_after: Some(Duration::from_secs(7)),
        }
    );
    let bad_key = upstream.stream(&request("bad-key"), "m").await.err().expect("401");
    assert_eq!((bad_key.status(), bad_key.is_retryable()), (502, false));
    assert!(bad_key.to_string().contains("Incorrect API key provided"));
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let (url, _) = start().await;
    let error = provider(&url).complete(&request("slow"), "m").await.expect_err("timeout");
    assert!(matches!(error, RouterError::Timeout { .. }), "{error:?}");
    assert_eq!(error.status(), 504);
}

#[tokio::test]
async fn a_stream_cut_short_or_carrying_an_error_ends_in_an_error() {
    let (url, _) = start().await;
    for prompt in ["cut", "stream-error"] {
        let stream = provider(&url).stream(&request(prompt), "m").await.expect("started");
        let items: Vec<_> = stream.collect().await;
        assert!(items[0].is_ok(), "{prompt}: the first chunk arrives");
        let last = items.last().expect("items");
        assert!(matches!(last, Err(RouterError::StreamBroken { .. })), "{prompt}: {last:?}");
    }
}

#[tokio::test]
async fn models_and_health_use_the_model_list() {
    let (url, _) = start().await;
    let upstream = provider(&url);
    assert_eq!(upstream.models().await.expect("models"), ["gpt-4o-mini", "gpt-4o"]);
    upstream.health().await.expect("healthy");
    let refused =
        provider("http://127.0.0.1:9/v1").health().await.expect_err("nothing listens on port 9");
    assert!(matches!(refused, RouterError::Connect { .. }), "{refused:?}");
}
