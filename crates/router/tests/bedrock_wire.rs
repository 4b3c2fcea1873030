//! The `bedrock` provider against a local server speaking Converse and ConverseStream: SigV4
//! checked by the server, answers and tool use translated, binary event-stream frames, AWS
//! error bodies, throttling, and exception frames inside a stream.
#![expect(clippy::expect_used, reason = "tests fail loudly")]

use std::time::Duration;

use futures::StreamExt;
use ql_mock_llm::bedrock;
use ql_router::RouterError;
use ql_router::http::Timeouts;
use ql_router::provider::Provider;
use ql_router::providers::bedrock::Bedrock;
use ql_router::providers::bedrock::sign::AwsCredentials;
use ql_router::wire::{ChatRequest, ChatResponse, Usage};
use serde_json::{Value, json};

const MODEL: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

fn provider(base_url: &str, secret: &str) -> Bedrock {
    let credentials = AwsCredentials {
        access_key_id: bedrock::ACCESS_KEY_ID.into(),
        secret_access_key: secret.into(),
        session_token: None,
    };
    let timeouts = Timeouts { request: Duration::from_secs(1), ..Timeouts::default() };
    Bedrock::new("bedrock", Some(base_url), bedrock::REGION, credentials, timeouts).expect("client")
}

fn request(prompt: &str) -> ChatRequest {
    serde_json::from_value(json!({"model": "smart", "messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": prompt}], "max_tokens": 100}))
    .expect("request")
}

fn content(chunk: &ql_router::StreamChunk) -> Value {
    serde_json::from_slice(&chunk.data).expect("chunk json")
}

#[tokio::test]
async fn a_signed_converse_call_comes_back_in_openai_shape() {
    let mock = bedrock::start().await.expect("mock");
    let completion = provider(&mock.base_url, bedrock::SECRET_ACCESS_KEY)
        .complete(&request("hi"), MODEL)
        .await
        .expect("answer");
    let response: ChatResponse = serde_json::from_slice(&completion.body).expect("openai shape");
    assert_eq!(response.choices[0].message.content.as_deref(), Some("Hello there"));
    assert_eq!(completion.usage, Usage::new(14, 3));
    let sent = &mock.recorded()[0];
    assert_eq!(sent.path, "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse");
    assert_eq!(sent.body["system"], json!([{"text": "Be brief."}]));
    assert_eq!(sent.body["inferenceConfig"]["maxTokens"], 100);
    assert!(
        sent.header("authorization")
            .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256 Credential=AKIDMOCKBEDROCK/"))
    );
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_signature_check() {
    let mock = bedrock::start().await.expect("mock");
    let error = provider(&mock.base_url, "not-the-secret")
        .complete(&request("hi"), MODEL)
        .await
        .expect_err("403");
    assert!(
        matches!(&error, RouterError::Upstream { status: 403, message, .. } if message.contains("signature")),
        "{error:?}"
    );
    assert_eq!(error.status(), 502);
}

#[tokio::test]
async fn tool_use_and_streams_translate() {
    let mock = bedrock::start().await.expect("mock");
    let upstream = provider(&mock.base_url, bedrock::SECRET_ACCESS_KEY);
    let completion = upstream.complete(&request("mock:tool"), MODEL).await.expect("answer");
    let response: ChatResponse = serde_json::from_slice(&completion.body).expect("openai shape");
    let call = &response.choices[0].message.tool_calls.as_ref().expect("calls")[0];
    assert_eq!(
        (call.function.name.as_str(), call.function.arguments.as_str()),
        ("get_current_weather", r#"{"location":"Boston, MA"}"#)
    );

    let chunks: Vec<_> =
        upstream.stream(&request("hi"), MODEL).await.expect("stream").collect().await;
    let chunks: Vec<_> = chunks.into_iter().map(|c| c.expect("chunk")).collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| content(c)["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, "Hello there");
    assert_eq!(chunks.last().and_then(|c| c.usage), Some(Usage::new(14, 3)));

    let tool: Vec<_> =
        upstream.stream(&request("mock:tool"), MODEL).await.expect("stream").collect().await;
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
async fn errors_and_broken_streams() {
    let mock = bedrock::start().await.expect("mock");
    let upstream = provider(&mock.base_url, bedrock::SECRET_ACCESS_KEY);
    let throttled = upstream.complete(&request("mock:rate-limit"), MODEL).await.expect_err("429");
    assert!(
        matches!(&throttled, RouterError::Upstream { status: 429, message, .. } if message.starts_with("Too many requests"))
    );
    let unavailable =
        upstream.complete(&request("mock:server-error"), MODEL).await.expect_err("503");
    assert!(unavailable.is_retryable());
    assert_eq!(
        upstream.complete(&request("mock:slow"), MODEL).await.expect_err("timeout").status(),
        504
    );
    for prompt in ["mock:cut", "mock:stream-error"] {
        let items: Vec<_> =
            upstream.stream(&request(prompt), MODEL).await.expect("started").collect().await;
        assert!(items[0].is_ok(), "{prompt}");
        match items.last() {
            Some(Err(RouterError::StreamBroken { message, .. })) => {
                if prompt == "mock:stream-error" {
                    assert!(message.starts_with("modelStreamErrorException"), "{message}");
                }
            }
            other => panic!("{prompt}: {other:?}"),
        }
    }
    upstream.health().await.expect("the endpoint answers");
    assert!(provider("http://127.0.0.1:9", "x").health().await.is_err());
}
