//! The OpenAI-compatible API end to end in-process: keys, routing to mock upstreams that speak
//! OpenAI's wire protocol, streams, OpenAI-shaped errors and fault injection.

#![expect(clippy::expect_used, reason = "a test fails loudly at the first broken step")]

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use ql_mock_llm::{Faults, MockServer, openai};
use ql_router::config::{ProviderConfig, ProviderKind, RouteConfig, Strategy, TargetConfig};
use serde_json::{Value, json};
use server::config::Config;
use tower::ServiceExt;

struct Gateway {
    router: Router,
    services: ql_services::Services,
    key: String,
    _dir: tempfile::TempDir,
}

fn provider(name: &str, mock: &MockServer) -> ProviderConfig {
    // Names starting with `claude` speak Anthropic's protocol; the rest OpenAI's.
    let anthropic = name.starts_with("claude");
    ProviderConfig {
        name: name.into(),
        kind: if anthropic { ProviderKind::Anthropic } else { ProviderKind::Openai },
        base_url: Some(mock.base_url.clone()),
        // Anthropic refuses requests without a key: any variable that is always set stands in.
        api_key_env: anthropic.then(|| "PATH".to_owned()),
        region: None,
        connect_timeout_secs: 2,
        request_timeout_secs: 2,
    }
}

fn target(provider: &str, model: &str) -> TargetConfig {
    TargetConfig { provider: provider.into(), model: model.into(), weight: 1 }
}

impl Gateway {
    async fn new(mocks: &[(&str, &MockServer)]) -> Self {
        Self::with(mocks, |_| {}).await
    }

    async fn with(mocks: &[(&str, &MockServer)], adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            data_dir: dir.path().to_owned(),
            site_root: dir.path().join("site"),
            ..Config::default()
        };
        config.providers = mocks.iter().map(|(name, mock)| provider(name, mock)).collect();
        config.routes = vec![RouteConfig {
            model: "fast".into(),
            strategy: Strategy::Priority,
            targets: mocks.iter().map(|(name, _)| target(name, &format!("{name}-model"))).collect(),
        }];
        config.router.backoff_base_ms = 1;
        config.router.backoff_max_ms = 5;
        config.router.max_retry_after_secs = 1;
        adjust(&mut config);
        let services = server::open_services(&config).await.expect("services");
        let key =
            services.create_api_key_as_operator("default", "tests").await.expect("key").secret;
        Self { router: server::http_router(services.clone(), &config), services, key, _dir: dir }
    }

    /// The chat request sent with the key of a second organisation, created now.
    async fn chat_as_another_organisation(&self, body: &Value) -> Request<Body> {
        let store = self.services.store();
        let operator = store.accounts.local_user().await.expect("local user");
        store.accounts.create_organization("other", "Other", &operator.id).await.expect("org");
        let key = self.services.create_api_key_as_operator("other", "other").await.expect("key");
        let mut request = self.chat(body);
        let bearer = format!("Bearer {}", key.secret).parse().expect("header");
        request.headers_mut().insert(header::AUTHORIZATION, bearer);
        request
    }

    async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(request).await.expect("infallible")
    }

    /// The `/metrics` page.
    async fn metrics(&self) -> String {
        let request = Request::get("/metrics").body(Body::empty()).expect("request");
        text_of(self.send(request).await).await
    }

    fn chat(&self, body: &Value) -> Request<Body> {
        Request::post("/v1/chat/completions")
            .header(header::AUTHORIZATION, format!("Bearer {}", self.key))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request")
    }
}

fn chat_body(prompt: &str, stream: bool) -> Value {
    json!({"model": "fast", "messages": [{"role": "user", "content": prompt}], "stream": stream})
}

async fn json_of(response: Response<Body>) -> Value {
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
}

async fn text_of(response: Response<Body>) -> String {
    String::from_utf8(response.into_body().collect().await.expect("body").to_bytes().to_vec())
        .expect("utf-8")
}

/// The `data:` payloads of an SSE body.
fn events(body: &str) -> Vec<String> {
    body.split("\n\n").filter_map(|event| event.strip_prefix("data: ")).map(str::to_owned).collect()
}

#[tokio::test]
async fn requests_without_a_valid_key_get_an_openai_shaped_401() {
    let mock = openai::start().await.expect("mock");
    let gateway = Gateway::new(&[("primary", &mock)]).await;
    let cases = [
        None,
        Some("Bearer sk-not-ours".to_owned()),
        Some(format!("Bearer {}x", gateway.key)),
        Some(gateway.key.clone()),
    ];
    for authorization in cases {
        let mut request =
            Request::post("/v1/chat/completions").header(header::CONTENT_TYPE, "application/json");
        if let Some(value) = &authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let response = gateway
            .send(request.body(Body::from(chat_body("hi", false).to_string())).expect("request"))
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!(json_of(response).await["error"]["code"], "invalid_api_key");
    }
    assert_eq!(mock.calls(), 0);
}

#[tokio::test]
async fn a_completion_is_routed_and_passed_through() {
    let mock = openai::start().await.expect("mock");
    let gateway = Gateway::new(&[("primary", &mock)]).await;
    let response = gateway.send(gateway.chat(&chat_body("hi", false))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-ql-provider"], "primary");
    assert_eq!(response.headers()["x-ql-model"], "primary-model");
    let body = json_of(response).await;
    assert_eq!(body["choices"][0]["message"]["content"], "Hello there");
    assert_eq!(body["usage"]["total_tokens"], 11);
    assert_eq!(mock.recorded()[0].body["model"], "primary-model");
}

#[tokio::test]
async fn a_stream_ends_with_done_and_carries_usage_only_when_asked() {
    let mock = openai::start().await.expect("mock");
    let gateway = Gateway::new(&[("primary", &mock)]).await;
    let response = gateway.send(gateway.chat(&chat_body("hi", true))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
    let plain = events(&text_of(response).await);
    assert_eq!(plain.len(), 5, "{plain:?}");
    assert_eq!(plain.last().map(String::as_str), Some("[DONE]"));
    assert!(!plain.iter().any(|e| e.contains("\"usage\":{")), "no usage chunk unless asked");

    let mut with_usage = chat_body("hi", true);
    with_usage["stream_options"] = json!({"include_usage": true});
    let events = events(&text_of(gateway.send(gateway.chat(&with_usage)).await).await);
    assert_eq!(events.len(), 6);
    let usage: Value = serde_json::from_str(&events[4]).expect("usage chunk");
    assert_eq!(usage["usage"]["total_tokens"], 11);
}

#[tokio::test]
async fn a_stream_that_breaks_after_starting_ends_with_an_error_event_not_done() {
    let mock = openai::start().await.expect("mock");
    let gateway = Gateway::new(&[("primary", &mock)]).await;
    for prompt in ["mock:cut", "mock:stream-error"] {
        let response = gateway.send(gateway.chat(&chat_body(prompt, true))).await;
        assert_eq!(response.status(), StatusCode::OK, "the stream had started");
        let events = events(&text_of(response).await);
        let last: Value =
            serde_json::from_str(events.last().expect("events")).expect("error event");
        assert_eq!(last["error"]["type"], "upstream_error", "{prompt}");
        assert!(!events.iter().any(|e| e == "[DONE]"), "{prompt}: {events:?}");
    }
}

#[tokio::test]
async fn bad_requests_and_unknown_models_get_openai_errors() {
    let mock = openai::start().await.expect("mock");
    let gateway = Gateway::new(&[("primary", &mock)]).await;
    let cases = [
        (
            json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}),
            StatusCode::NOT_FOUND,
            "model_not_found",
        ),
        (json!({"model": "fast", "messages": []}), StatusCode::BAD_REQUEST, "messages"),
        (
            json!({"model": "m".repeat(257), "messages": [{"role": "user", "content": "x"}]}),
            StatusCode::BAD_REQUEST,
            "longer than 256 characters",
        ),
        (json!({"model": "fast"}), StatusCode::BAD_REQUEST, "missing field `messages`"),
        (
            json!({"model": "fast", "messages": [{"role": "user", "content": "x"}], "temperature": 7}),
            StatusCode::BAD_REQUEST,
            "temperature",
        ),
    ];
    for (body, status, needle) in cases {
        let response = gateway.send(gateway.chat(&body)).await;
        assert_eq!(response.status(), status, "{body}");
        let error = json_of(response).await;
        assert!(error.to_string().contains(needle), "{body}: {error}");
        assert_eq!(error["error"]["type"], "invalid_request_error");
    }
    let limited = gateway.send(gateway.chat(&chat_body("mock:rate-limit", false))).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()[header::RETRY_AFTER], "7");
    assert_eq!(mock.calls(), 1, "a Retry-After beyond the configured maximum is not waited for");
    assert_eq!(json_of(limited).await["error"]["type"], "rate_limit_error");
}

#[tokio::test]
async fn models_lists_the_routes() {
    let mock = openai::start().await.expect("mock");
    let gateway = Gateway::new(&[("primary", &mock)]).await;
    let request =
        Request::get("/v1/models").header(header::AUTHORIZATION, format!("Bearer {}", gateway.key));
    let body = json_of(gateway.send(request.body(Body::empty()).expect("request")).await).await;
    assert_eq!(body["object"], "list");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|model| model["id"].as_str())
        .collect();
    assert!(ids.contains(&"fast") && ids.contains(&"builtin"), "{ids:?}");
}

#[tokio::test]
async fn a_fresh_install_answers_with_the_builtin_model() {
    let gateway = Gateway::with(&[], |config| config.routes.clear()).await;
    let description = "A todo app: todos have a title, optional notes and a done flag.";
    let body = json!({
        "model": "builtin",
        "messages": [{"role": "user", "content": description}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "app_spec"}}
    });
    let response = gateway.send(gateway.chat(&body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-ql-provider"], "builtin");
    let answer = json_of(response).await;
    let content = answer["choices"][0]["message"]["content"].as_str().expect("content");
    let spec = ql_engine::spec::from_json(content).expect("a valid spec");
    assert_eq!(spec.entities[0].name, "todo");
    assert!(answer["usage"]["completion_tokens"].as_u64() > Some(0));

    let mut streaming = body.clone();
    streaming["stream"] = json!(true);
    streaming["response_format"] = Value::Null;
    let response = gateway.send(gateway.chat(&streaming)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let events = events(&text_of(response).await);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let text: String = events[..events.len() - 1]
        .iter()
        .map(|event| serde_json::from_str::<Value>(event).expect("chunk"))
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
        .collect();
    assert!(text.contains("todo (todos): title string, notes? text, done boolean"), "{text}");

    let meaningless = json!({"model": "builtin", "messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_object"}});
    let response = gateway.send(gateway.chat(&meaningless)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        json_of(response).await["error"]["message"]
            .as_str()
            .expect("message")
            .contains("keep track of")
    );
}

#[tokio::test]
async fn the_builtin_model_is_the_last_resort_of_a_route() {
    let mock = openai::start().await.expect("mock");
    mock.set_faults(Faults { down: true, fail_every: None });
    let gateway = Gateway::with(&[("primary", &mock)], |config| {
        config.routes[0].targets.push(target("builtin", "builtin"));
    })
    .await;
    let response = gateway.send(gateway.chat(&chat_body("Members borrow books.", false))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-ql-provider"], "builtin");
    let answer = json_of(response).await;
    assert!(
        answer["choices"][0]["message"]["content"]
            .as_str()
            .expect("content")
            .contains("member can borrow a book")
    );
}

#[tokio::test]
async fn with_the_first_target_failing_half_its_requests_clients_see_no_errors() {
    let flaky = openai::start().await.expect("mock");
    let healthy = openai::start().await.expect("mock");
    flaky.set_faults(Faults { fail_every: Some(2), down: false });
    let gateway = Gateway::new(&[("flaky", &flaky), ("healthy", &healthy)]).await;
    for round in 0..100 {
        let stream = round % 2 == 1;
        let response = gateway.send(gateway.chat(&chat_body("hi", stream))).await;
        assert_eq!(response.status(), StatusCode::OK, "request {round}");
        let body = text_of(response).await;
        assert!(body.contains("Hello") && !body.contains("\"error\""), "request {round}: {body}");
    }
    assert!(flaky.calls() >= 100, "the flaky target keeps serving: {} calls", flaky.calls());
}

#[tokio::test]
async fn with_every_target_down_clients_get_a_clear_error_in_bounded_time() {
    let first = openai::start().await.expect("mock");
    let second = openai::start().await.expect("mock");
    for mock in [&first, &second] {
        mock.set_faults(Faults { down: true, fail_every: None });
    }
    let gateway = Gateway::new(&[("first", &first), ("second", &second)]).await;
    for round in 0..4 {
        let started = Instant::now();
        let response = gateway.send(gateway.chat(&chat_body("hi", round % 2 == 0))).await;
        let status = response.status();
        assert!(
            status == StatusCode::BAD_GATEWAY || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}"
        );
        let error = json_of(response).await;
        assert!(error["error"]["message"].as_str().is_some_and(|m| m.contains("fast")), "{error}");
        assert!(started.elapsed() < Duration::from_secs(2), "answered in {:?}", started.elapsed());
    }
    // After five failures each, both breakers are open: the answer is 503 without any call.
    let calls = first.calls() + second.calls();
    let response = gateway.send(gateway.chat(&chat_body("hi", false))).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(first.calls() + second.calls(), calls);
}

#[tokio::test]
async fn an_anthropic_target_serves_openai_clients_and_falls_back_when_overloaded() {
    let claude = ql_mock_llm::anthropic::start().await.expect("mock");
    let backup = openai::start().await.expect("mock");
    let gateway = Gateway::new(&[("claude", &claude), ("backup", &backup)]).await;
    let response = gateway.send(gateway.chat(&chat_body("hi", false))).await;
    assert_eq!(response.headers()["x-ql-provider"], "claude");
    let body = json_of(response).await;
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello there");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18})
    );

    let mut streaming = chat_body("hi", true);
    streaming["stream_options"] = json!({"include_usage": true});
    let events = events(&text_of(gateway.send(gateway.chat(&streaming)).await).await);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let usage: Value = serde_json::from_str(&events[events.len() - 2]).expect("usage chunk");
    assert_eq!(usage["usage"]["total_tokens"], 40);

    claude.set_faults(Faults { down: true, fail_every: None });
    let response = gateway.send(gateway.chat(&chat_body("hi", false))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-ql-provider"], "backup");
}

#[tokio::test]
async fn calls_are_counted_in_metrics_and_recorded_as_usage() {
    let mock = openai::start().await.expect("mock");
    let gateway = Gateway::new(&[("metered", &mock)]).await;
    let mut streaming = chat_body("hi", true);
    streaming["stream_options"] = json!({"include_usage": true});
    let with_model = |model: &str| {
        let mut body = chat_body("hi", false);
        body["model"] = json!(model);
        body
    };
    for body in [
        chat_body("hi", false),
        streaming,
        chat_body("mock:bad-key", false),
        with_model("a-model-nobody-routes"),
        // Direct to the provider: a model a route lists keeps its name, others share one.
        with_model("metered/metered-model"),
        with_model("metered/a-model-a-client-made-up"),
    ] {
        let _ = text_of(gateway.send(gateway.chat(&body)).await).await;
    }
    let metrics = gateway.metrics().await;
    for needle in [
        r#"ql_llm_requests_total{route="fast",provider="metered",model="metered-model",status="200"} 2"#,
        // Failed calls of other tests share these labels: no count.
        r#"ql_llm_requests_total{route="fast",provider="",model="",status="502"} "#,
        r#"ql_llm_tokens_total{route="fast",provider="metered",model="metered-model",kind="prompt"} 18"#,
        "ql_llm_time_to_first_token_seconds_bucket{",
        "ql_llm_request_duration_seconds_count{",
        // Model names that reach no route share one label.
        r#"ql_llm_requests_total{route="(unknown)",provider="",model="",status="404"} "#,
        r#"ql_llm_requests_total{route="metered/metered-model",provider="metered",model="metered-model",status="200"} 1"#,
        r#"ql_llm_requests_total{route="metered/(other)",provider="metered",model="(other)",status="200"} 1"#,
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    for made_up in ["a-model-nobody-routes", "a-model-a-client-made-up"] {
        assert!(!metrics.contains(made_up), "{made_up} in {metrics}");
    }

    // Usage rows arrive in the next batch, off the request path.
    let org =
        gateway.services.store().accounts.organization_by_slug("default").await.expect("org").id;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let summary = gateway.services.store().usage.summary(&org, 0).await.expect("summary");
        if summary.calls == 6 {
            // The two direct calls served as the first did.
            assert_eq!((summary.prompt_tokens, summary.completion_tokens), (36, 8));
            break;
        }
        assert!(Instant::now() < deadline, "usage not recorded: {summary:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn rate_limits_and_budgets_answer_429_with_retry_after() {
    let mock = openai::start().await.expect("mock");
    let limited =
        Gateway::with(&[("primary", &mock)], |config| config.quotas.key_requests_per_minute = 3)
            .await;
    for _ in 0..3 {
        assert_eq!(
            limited.send(limited.chat(&chat_body("hi", false))).await.status(),
            StatusCode::OK
        );
    }
    let refused = limited.send(limited.chat(&chat_body("hi", true))).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 =
        refused.headers()[header::RETRY_AFTER].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=20).contains(&wait), "{wait}");
    let body = json_of(refused).await;
    assert_eq!(
        (body["error"]["type"].as_str(), body["error"]["code"].as_str()),
        (Some("rate_limit_error"), Some("rate_limit_exceeded"))
    );
    assert_eq!(mock.calls(), 3, "a refused request never reaches the upstream");

    // $1 a month, and 11 tokens at $100,000 per million cost $1.10: the second call is refused.
    let budget = Gateway::with(&[("primary", &mock)], |config| {
        config.quotas.org_monthly_budget_usd = 1.0;
        config.prices = vec![ql_router::pricing::PriceEntry {
            model: "primary-model".into(),
            input_per_mtok: 100_000.0,
            output_per_mtok: 100_000.0,
        }];
    })
    .await;
    assert_eq!(budget.send(budget.chat(&chat_body("hi", false))).await.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = budget.send(budget.chat(&chat_body("hi", false))).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            let body = json_of(response).await;
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("monthly budget of $1.00")),
                "{body}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "the budget was never applied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn deterministic_answers_are_cached_per_organisation() {
    let mock = openai::start().await.expect("mock");
    let gateway = Gateway::new(&[("primary", &mock)]).await;
    let mut deterministic = chat_body("cache me", false);
    deterministic["temperature"] = json!(0);
    let first = gateway.send(gateway.chat(&deterministic)).await;
    assert_eq!(first.headers()["x-ql-cache"], "miss");
    let first = json_of(first).await;
    let second = gateway.send(gateway.chat(&deterministic)).await;
    assert_eq!(second.headers()["x-ql-cache"], "hit");
    assert_eq!(json_of(second).await, first, "the same answer");
    assert_eq!(mock.calls(), 1, "the hit never reached the upstream");

    // Not deterministic: no cache header, every call goes upstream.
    for _ in 0..2 {
        let response = gateway.send(gateway.chat(&chat_body("cache me", false))).await;
        assert!(!response.headers().contains_key("x-ql-cache"));
    }
    assert_eq!(mock.calls(), 3);
    // `x-ql-cache: skip` bypasses it; `use` caches any temperature.
    let mut skip = gateway.chat(&deterministic);
    skip.headers_mut().insert("x-ql-cache", "skip".parse().expect("header"));
    assert!(!gateway.send(skip).await.headers().contains_key("x-ql-cache"));
    assert_eq!(mock.calls(), 4);
    for expected in ["miss", "hit"] {
        let mut forced = gateway.chat(&chat_body("warm", false));
        forced.headers_mut().insert("x-ql-cache", "use".parse().expect("header"));
        assert_eq!(gateway.send(forced).await.headers()["x-ql-cache"], expected);
    }

    // Another organisation's identical request is not served from this one's cache.
    let request = gateway.chat_as_another_organisation(&deterministic).await;
    let calls = mock.calls();
    assert_eq!(gateway.send(request).await.headers()["x-ql-cache"], "miss");
    assert_eq!(mock.calls(), calls + 1);
}

#[tokio::test]
async fn an_organisations_own_provider_serves_its_models_with_its_sealed_key() {
    let mock = openai::start().await.expect("mock");
    let gateway = Gateway::new(&[("primary", &mock)]).await;
    let owner = gateway.services.sign_in_local().await.expect("sign in");
    let input = ql_services::ProviderInput {
        name: "mine".into(),
        kind: "openai".into(),
        base_url: mock.base_url.clone(),
        models: vec!["gpt-4o-mini".into()],
        api_key: "sk-org-own-key".into(),
        region: String::new(),
    };
    gateway.services.create_provider(&owner, &input).await.expect("provider");

    let request =
        Request::get("/v1/models").header(header::AUTHORIZATION, format!("Bearer {}", gateway.key));
    let models = json_of(gateway.send(request.body(Body::empty()).expect("request")).await).await;
    let ids: Vec<&str> =
        models["data"].as_array().expect("list").iter().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(ids, ["builtin", "fast", "mine/gpt-4o-mini"]);

    let mut body = chat_body("hi", false);
    body["model"] = json!("mine/gpt-4o-mini");
    let response = gateway.send(gateway.chat(&body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-ql-provider"], "mine");
    let sent = mock.recorded().pop().expect("the upstream got the call");
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer sk-org-own-key"),
        "the opened key is sent upstream"
    );
    assert_eq!(sent.body["model"], "gpt-4o-mini");

    // A model the provider does not list still reaches it, under one label in metrics.
    body["model"] = json!("mine/a-model-a-client-made-up");
    assert_eq!(gateway.send(gateway.chat(&body)).await.status(), StatusCode::OK);
    let sent = mock.recorded().pop().expect("the upstream got the call");
    assert_eq!(sent.body["model"], "a-model-a-client-made-up");
    let metrics = gateway.metrics().await;
    for needle in [
        r#"ql_llm_requests_total{route="mine/gpt-4o-mini",provider="mine",model="gpt-4o-mini",status="200"} 1"#,
        r#"ql_llm_requests_total{route="mine/(other)",provider="mine",model="(other)",status="200"} 1"#,
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    assert!(!metrics.contains("a-model-a-client-made-up"), "{metrics}");
    body["model"] = json!("mine/gpt-4o-mini");

    // Another organisation's key does not reach it.
    let request = gateway.chat_as_another_organisation(&body).await;
    let refused = gateway.send(request).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(refused).await["error"]["code"], "model_not_found");
}

#[tokio::test]
async fn an_organisations_own_route_falls_back_across_server_and_own_providers() {
    let mock = openai::start().await.expect("mock");
    let gateway = Gateway::new(&[("primary", &mock)]).await;
    let owner = gateway.services.sign_in_local().await.expect("sign in");
    let input = ql_services::RouteInput {
        model: "team-fast".into(),
        strategy: "priority".into(),
        targets: ql_services::parse_targets("primary/gpt-4o-mini, builtin/builtin")
            .expect("targets"),
    };
    gateway.services.create_route(&owner, &input).await.expect("route");

    let request =
        Request::get("/v1/models").header(header::AUTHORIZATION, format!("Bearer {}", gateway.key));
    let models = json_of(gateway.send(request.body(Body::empty()).expect("request")).await).await;
    let ids: Vec<&str> =
        models["data"].as_array().expect("list").iter().filter_map(|m| m["id"].as_str()).collect();
    assert!(ids.contains(&"team-fast"), "{ids:?}");

    let mut body = chat_body("Members borrow books.", false);
    body["model"] = json!("team-fast");
    let response = gateway.send(gateway.chat(&body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-ql-provider"], "primary");
    assert_eq!(mock.recorded().pop().expect("upstream call").body["model"], "gpt-4o-mini");

    // The first target down: the route's next target answers.
    mock.set_faults(Faults { down: true, fail_every: None });
    let response = gateway.send(gateway.chat(&body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-ql-provider"], "builtin");

    // Another organisation does not see the route.
    let request = gateway.chat_as_another_organisation(&body).await;
    assert_eq!(gateway.send(request).await.status(), StatusCode::NOT_FOUND);

    // Deleted, it is gone at once (the cache is dropped).
    let id = gateway.services.list_routes(&owner).await.expect("list")[0].id.clone();
    gateway.services.delete_route(&owner, &id).await.expect("delete");
    assert_eq!(gateway.send(gateway.chat(&body)).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_organisations_bedrock_provider_signs_with_its_own_credentials_and_region() {
    let mock = ql_mock_llm::bedrock::start().await.expect("mock");
    let gateway = Gateway::with(&[], |config| config.routes.clear()).await;
    let owner = gateway.services.sign_in_local().await.expect("sign in");
    let input = ql_services::ProviderInput {
        name: "aws".into(),
        kind: "bedrock".into(),
        base_url: mock.base_url.clone(),
        models: vec!["anthropic.claude-3-5-haiku-20241022-v1:0".into()],
        api_key: format!(
            "{}:{}",
            ql_mock_llm::bedrock::ACCESS_KEY_ID,
            ql_mock_llm::bedrock::SECRET_ACCESS_KEY
        ),
        region: ql_mock_llm::bedrock::REGION.into(),
    };
    let created = gateway.services.create_provider(&owner, &input).await.expect("provider");
    assert_eq!(created.region.as_deref(), Some(ql_mock_llm::bedrock::REGION));

    let mut body = chat_body("hi", false);
    body["model"] = json!("aws/anthropic.claude-3-5-haiku-20241022-v1:0");
    let response = gateway.send(gateway.chat(&body)).await;
    assert_eq!(response.status(), StatusCode::OK, "the mock checks the SigV4 signature");
    assert_eq!(response.headers()["x-ql-provider"], "aws");
    let answer = json_of(response).await;
    assert!(answer["choices"][0]["message"]["content"].is_string(), "{answer}");
    let sent = mock.recorded().pop().expect("the upstream got the call");
    assert!(
        sent.header("authorization")
            .is_some_and(|value| value.contains(ql_mock_llm::bedrock::ACCESS_KEY_ID)),
        "signed with the organisation's access key"
    );
}
