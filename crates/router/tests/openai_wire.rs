//! The `openai` provider against a local server speaking OpenAI's wire protocol with recorded
//! bodies: answers, SSE streams, tool calls, error bodies, 429 with `Retry-After`, slow
//! answers and streams that break.
#![expect(clippy::expect_used, reason = "tests fail loudly")]

use std::time::Duration;

use futures::StreamExt;
use ql_mock_llm::openai;
use ql_router::RouterError;
use ql_router::http::Timeouts;
use ql_router::provider::Provider;
use ql_router::providers::openai::OpenAi;
use ql_router::wire::{ChatRequest, ChatResponse, Usage};
use serde_json::{Value, json};

fn provider(base_url: &str) -> OpenAi {
    let timeouts = Timeouts { request: Duration::from_secs(1), ..Timeouts::default() };
    OpenAi::new("upstream", base_url, Some("sk-test".into()), timeouts).expect("client")
}

fn request(prompt: &str) -> ChatRequest {
    serde_json::from_value(
        json!({"model": "fast", "messages": [{"role": "user", "content": prompt}],
        "temperature": 0, "logit_bias": {"50256": -100}}),
    )
    .expect("request")
}

#[tokio::test]
async fn a_completion_passes_through_with_the_upstream_model_and_the_key() {
    let mock = openai::start().await.expect("mock");
    let completion =
        provider(&mock.base_url).complete(&request("hi"), "gpt-4o-mini").await.expect("answer");
    assert_eq!(completion.usage, Usage::new(9, 2));
    let body: Value = serde_json::from_slice(&completion.body).expect("json");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello there");
    assert_eq!(body["system_fingerprint"], "fp_06737a9306", "fields we do not model pass through");
    let sent = &mock.recorded()[0];
    assert_eq!(sent.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(sent.body["model"], "gpt-4o-mini");
    assert_eq!(
        sent.body["logit_bias"],
        json!({"50256": -100}),
        "unknown request fields pass through"
    );
    assert!(sent.body.get("stream").is_none());
}

#[tokio::test]
async fn a_tool_call_answer_parses_as_a_chat_response() {
    let mock = openai::start().await.expect("mock");
    let completion = provider(&mock.base_url)
        .complete(&request("mock:tool"), "gpt-4o-mini")
        .await
        .expect("answer");
    let response: ChatResponse = serde_json::from_slice(&completion.body).expect("chat response");
    let call = &response.choices[0].message.tool_calls.as_ref().expect("tool calls")[0];
    assert_eq!(
        (call.id.as_str(), call.function.name.as_str()),
        ("call_abc123", "get_current_weather")
    );
    assert_eq!(completion.usage, Usage::new(82, 17));
}

#[tokio::test]
async fn a_stream_yields_chunks_and_usage_then_ends() {
    let mock = openai::start().await.expect("mock");
    let stream =
        provider(&mock.base_url).stream(&request("hi"), "gpt-4o-mini").await.expect("stream");
    let chunks: Vec<_> =
        stream.collect::<Vec<_>>().await.into_iter().map(|c| c.expect("chunk")).collect();
    assert_eq!(chunks.len(), 5);
    assert!(chunks[..4].iter().all(|c| !c.usage_only && c.usage.is_none()));
    assert_eq!((chunks[4].usage, chunks[4].usage_only), (Some(Usage::new(9, 2)), true));
    let text: String = chunks[..4]
        .iter()
        .filter_map(|c| serde_json::from_slice::<Value>(&c.data).ok())
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, "Hello there");
    let sent = &mock.recorded()[0].body;
    assert_eq!(
        (sent["stream"].clone(), sent["stream_options"].clone()),
        (json!(true), json!({"include_usage": true}))
    );
}

#[tokio::test]
async fn errors_keep_status_message_and_retry_after() {
    let mock = openai::start().await.expect("mock");
    let upstream = provider(&mock.base_url);
    let limited = upstream.complete(&request("mock:rate-limit"), "m").await.expect_err("429");
    match &limited {
        RouterError::Upstream { status: 429, message, retry_after: Some(wait), .. } => {
            assert!(message.starts_with("Rate limit reached for gpt-4o-mini"), "{message}");
            assert_eq!(*wait, Duration::from_secs(7));
        }
        other => panic!("expected a 429, got {other:?}"),
    }
    let bad_key = upstream.stream(&request("mock:bad-key"), "m").await.err().expect("401");
    assert_eq!((bad_key.status(), bad_key.is_retryable()), (502, false));
    assert!(bad_key.to_string().contains("Incorrect API key provided"), "{bad_key}");
    let server = upstream.complete(&request("mock:server-error"), "m").await.expect_err("500");
    assert!(server.is_retryable() && server.counts_against_target());
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let mock = openai::start().await.expect("mock");
    let error =
        provider(&mock.base_url).complete(&request("mock:slow"), "m").await.expect_err("timeout");
    assert!(matches!(error, RouterError::Timeout { .. }), "{error:?}");
    assert_eq!(error.status(), 504);
}

#[tokio::test]
async fn a_stream_cut_short_or_carrying_an_error_ends_in_an_error() {
    let mock = openai::start().await.expect("mock");
    for prompt in ["mock:cut", "mock:stream-error"] {
        let mut request = request(prompt);
        request.stream = true;
        let stream = provider(&mock.base_url).stream(&request, "m").await.expect("started");
        let items: Vec<_> = stream.collect().await;
        assert!(items[0].is_ok(), "{prompt}: the first chunk arrives");
        let last = items.last().expect("items");
        assert!(matches!(last, Err(RouterError::StreamBroken { .. })), "{prompt}: {last:?}");
    }
}

#[tokio::test]
async fn a_stream_that_goes_silent_ends_in_an_error_after_the_idle_timeout() {
    let mock = openai::start().await.expect("mock");
    let timeouts = Timeouts { idle: Duration::from_millis(200), ..Timeouts::default() };
    let upstream = OpenAi::new("upstream", &mock.base_url, None, timeouts).expect("client");
    let mut request = request("mock:stall");
    request.stream = true;
    let started = std::time::Instant::now();
    let items: Vec<_> = upstream.stream(&request, "m").await.expect("started").collect().await;
    assert!(items[0].is_ok(), "the first chunk arrives");
    let last = items.last().expect("items");
    assert!(
        matches!(last, Err(RouterError::StreamBroken { message, .. }) if message.contains("no data for 0.2 s")),
        "{last:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn models_and_health_use_the_model_list() {
    let mock = openai::start().await.expect("mock");
    let upstream = provider(&mock.base_url);
    assert_eq!(upstream.models().await.expect("models"), ["gpt-4o-mini", "gpt-4o"]);
    upstream.health().await.expect("healthy");
    mock.set_faults(ql_mock_llm::Faults { down: true, ..Default::default() });
    assert_eq!(upstream.health().await.expect_err("down").status(), 502);
    let refused =
        provider("http://127.0.0.1:9/v1").health().await.expect_err("nothing listens on port 9");
    assert!(matches!(refused, RouterError::Connect { .. }), "{refused:?}");
}
