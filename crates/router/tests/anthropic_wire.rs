//! The `anthropic` provider against a local server speaking the Messages API with recorded
//! bodies: answers and tool use translated to OpenAI's format, named SSE events, error bodies,
//! 429 with `Retry-After`, 529 overloaded, slow answers and broken streams.
#![expect(clippy::expect_used, reason = "tests fail loudly")]

use std::time::Duration;

use futures::StreamExt;
use ql_mock_llm::anthropic;
use ql_router::RouterError;
use ql_router::http::Timeouts;
use ql_router::provider::Provider;
use ql_router::providers::anthropic::Anthropic;
use ql_router::wire::{ChatRequest, ChatResponse, Usage};
use serde_json::{Value, json};

fn provider(base_url: &str) -> Anthropic {
    let timeouts = Timeouts { request: Duration::from_secs(1), ..Timeouts::default() };
    Anthropic::new("claude", base_url, Some("sk-ant-test".into()), timeouts).expect("client")
}

fn request(prompt: &str) -> ChatRequest {
    serde_json::from_value(json!({"model": "smart", "messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": prompt}]}))
    .expect("request")
}

fn content(chunk: &ql_router::StreamChunk) -> Value {
    serde_json::from_slice(&chunk.data).expect("chunk json")
}

#[tokio::test]
async fn an_answer_comes_back_in_openai_shape_with_the_headers_anthropic_needs() {
    let mock = anthropic::start().await.expect("mock");
    let completion = provider(&mock.base_url)
        .complete(&request("hi"), "claude-3-5-haiku-latest")
        .await
        .expect("answer");
    let response: ChatResponse = serde_json::from_slice(&completion.body).expect("openai shape");
    assert_eq!(response.choices[0].message.content.as_deref(), Some("Hello there"));
    assert_eq!(response.choices[0].finish_reason.as_deref(), Some("stop"));
    assert_eq!(completion.usage, Usage::new(12, 6));
    let sent = &mock.recorded()[0];
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-test"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.body["system"], "Be brief.");
    assert_eq!(sent.body["max_tokens"], 4096);
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    );
}

#[tokio::test]
async fn tool_use_becomes_tool_calls() {
    let mock = anthropic::start().await.expect("mock");
    let completion =
        provider(&mock.base_url).complete(&request("mock:tool"), "claude").await.expect("answer");
    let response: ChatResponse = serde_json::from_slice(&completion.body).expect("openai shape");
    let call = &response.choices[0].message.tool_calls.as_ref().expect("calls")[0];
    assert_eq!(call.function.name, "get_current_weather");
    assert_eq!(call.function.arguments, r#"{"location":"Boston, MA"}"#);
    assert_eq!(response.choices[0].finish_reason.as_deref(), Some("tool_calls"));
}

#[tokio::test]
async fn a_stream_translates_events_into_chunks_and_usage() {
    let mock = anthropic::start().await.expect("mock");
    let chunks: Vec<_> = provider(&mock.base_url)
        .stream(&request("hi"), "claude")
        .await
        .expect("stream")
        .collect()
        .await;
    let chunks: Vec<_> = chunks.into_iter().map(|c| c.expect("chunk")).collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| content(c)["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, "Hello there");
    let last = chunks.last().expect("chunks");
    assert_eq!((last.usage, last.usage_only), (Some(Usage::new(25, 15)), true));
    assert_eq!(content(&chunks[chunks.len() - 2])["choices"][0]["finish_reason"], "stop");

    let tool: Vec<_> = provider(&mock.base_url)
        .stream(&request("mock:tool"), "claude")
        .await
        .expect("stream")
        .collect()
        .await;
    let arguments: String = tool
        .iter()
        .map(|c| content(c.as_ref().expect("chunk")))
        .filter_map(|v| {
            v["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(arguments, r#"{"location": "San Francisco, CA"}"#);
}

#[tokio::test]
async fn errors_keep_status_message_and_retry_after() {
    let mock = anthropic::start().await.expect("mock");
    let upstream = provider(&mock.base_url);
    match upstream.complete(&request("mock:rate-limit"), "claude").await.expect_err("429") {
        RouterError::Upstream { status: 429, message, retry_after, .. } => {
            assert!(message.starts_with("Number of request tokens has exceeded"), "{message}");
            assert_eq!(retry_after, Some(Duration::from_secs(7)));
        }
        other => panic!("expected 429, got {other:?}"),
    }
    let overloaded =
        upstream.complete(&request("mock:server-error"), "claude").await.expect_err("529");
    assert!(
        matches!(&overloaded, RouterError::Upstream { status: 529, message, .. } if message == "Overloaded")
    );
    assert!(overloaded.is_retryable());
    let keyless =
        Anthropic::new("claude", &mock.base_url, None, Timeouts::default()).expect("client");
    let denied = keyless.complete(&request("hi"), "claude").await.expect_err("401");
    assert!(denied.to_string().contains("invalid x-api-key"), "{denied}");
    assert_eq!(denied.status(), 502);
    let slow = upstream.complete(&request("mock:slow"), "claude").await.expect_err("timeout");
    assert_eq!(slow.status(), 504);
}

#[tokio::test]
async fn broken_streams_end_in_an_error() {
    let mock = anthropic::start().await.expect("mock");
    for prompt in ["mock:cut", "mock:stream-error"] {
        let items: Vec<_> = provider(&mock.base_url)
            .stream(&request(prompt), "claude")
            .await
            .expect("started")
            .collect()
            .await;
        assert!(items[0].is_ok(), "{prompt}");
        assert!(
            matches!(items.last(), Some(Err(RouterError::StreamBroken { .. }))),
            "{prompt}: {:?}",
            items.last()
        );
    }
}

#[tokio::test]
async fn models_and_health() {
    let mock = anthropic::start().await.expect("mock");
    let upstream = provider(&format!("{}/v1", mock.base_url));
    assert_eq!(
        upstream.models().await.expect("models"),
        ["claude-3-5-haiku-20241022", "claude-sonnet-4-20250514"]
    );
    mock.set_faults(ql_mock_llm::Faults { down: true, fail_every: None });
    assert!(upstream.health().await.is_err());
}
