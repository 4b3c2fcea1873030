//! Routing behaviour against scripted providers: fallbacks, retries, breakers, streams.

use super::*;
use crate::config::TargetConfig;
use crate::providers::scripted::{Scripted, Step};
use crate::wire::{Message, Role};

fn upstream(status: u16, retry_after: Option<Duration>) -> RouterError {
    RouterError::Upstream {
        provider: "x".into(),
        status,
        message: format!("status {status}"),
        retry_after,
    }
}

fn settings() -> RouterSettings {
    RouterSettings {
        retries: 2,
        backoff_base_ms: 10,
        backoff_max_ms: 40,
        breaker_failures: 5,
        ..RouterSettings::default()
    }
}

fn gateway(providers: &[Arc<Scripted>], strategy: Strategy) -> Gateway {
    let route = RouteConfig {
        model: "fast".into(),
        strategy,
        targets: providers
            .iter()
            .map(|p| TargetConfig {
                provider: p.name().to_owned(),
                model: format!("{}-model", p.name()),
                weight: 1,
            })
            .collect(),
    };
    let providers = providers.iter().map(|p| p.clone() as Arc<dyn Provider>).collect();
    Gateway::new(providers, &[route], settings(), PriceTable::default()).expect("valid config")
}

fn request(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::text(Role::User, "say hello")],
        temperature: None,
        top_p: None,
        max_tokens: None,
        max_completion_tokens: None,
        stop: None,
        stream: false,
        stream_options: None,
        tools: None,
        tool_choice: None,
        response_format: None,
        user: None,
        seed: None,
        extra: Default::default(),
    }
}

fn scripted(name: &str, steps: Vec<Step>) -> Arc<Scripted> {
    Arc::new(Scripted::new(name, steps))
}

#[tokio::test(start_paused = true)]
async fn a_failing_target_is_retried_then_the_next_one_serves() {
    let first = scripted("first", vec![Step::Fail(upstream(500, None))]);
    let second = scripted("second", vec![Step::Reply("hello".into())]);
    let gateway = gateway(&[first.clone(), second.clone()], Strategy::Priority);
    let (completion, served) = gateway.complete(&request("fast")).await.expect("served");
    assert_eq!(
        (served.provider.as_str(), served.model.as_str(), served.attempts),
        ("second", "second-model", 4)
    );
    assert_eq!((first.calls(), second.calls()), (3, 1), "1 try + 2 retries, then the fallback");
    assert!(String::from_utf8_lossy(&completion.body).contains("hello"));
}

#[tokio::test(start_paused = true)]
async fn a_client_error_is_returned_at_once() {
    let first = scripted("first", vec![Step::Fail(upstream(400, None))]);
    let second = scripted("second", vec![Step::Reply("hello".into())]);
    let gateway = gateway(&[first.clone(), second.clone()], Strategy::Priority);
    let error = gateway.complete(&request("fast")).await.expect_err("client error");
    assert_eq!(error.status(), 400);
    assert_eq!((first.calls(), second.calls()), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_when_short_and_skipped_to_the_next_target_when_long() {
    let short = scripted(
        "short",
        vec![Step::Fail(upstream(429, Some(Duration::from_secs(2)))), Step::Reply("later".into())],
    );
    let gateway_short = gateway(std::slice::from_ref(&short), Strategy::Priority);
    let started = tokio::time::Instant::now();
    let (_, served) = gateway_short.complete(&request("fast")).await.expect("served after waiting");
    assert_eq!(served.attempts, 2);
    assert!(started.elapsed() >= Duration::from_secs(2), "waited {:?}", started.elapsed());

    let long = scripted("long", vec![Step::Fail(upstream(429, Some(Duration::from_secs(3600))))]);
    let other = scripted("other", vec![Step::Reply("now".into())]);
    let gateway_long = gateway(&[long.clone(), other.clone()], Strategy::Priority);
    let started = tokio::time::Instant::now();
    let (_, served) = gateway_long.complete(&request("fast")).await.expect("served by the other");
    assert_eq!((served.provider.as_str(), long.calls()), ("other", 1));
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn exhausted_rate_limits_stay_429_with_retry_after() {
    let only = scripted("only", vec![Step::Fail(upstream(429, Some(Duration::from_secs(1))))]);
    let gateway = gateway(&[only], Strategy::Priority);
    let error = gateway.complete(&request("fast")).await.expect_err("limited");
    assert_eq!((error.status(), error.retry_after()), (429, Some(Duration::from_secs(1))));
}

#[tokio::test(start_paused = true)]
async fn repeated_failures_open_the_breaker_and_a_probe_closes_it() {
    let flaky = scripted("flaky", vec![Step::Fail(upstream(503, None))]);
    let gateway = gateway(std::slice::from_ref(&flaky), Strategy::Priority);
    // 3 attempts per request: the breaker (5 failures) opens during the second request.
    for _ in 0..2 {
        let error = gateway.complete(&request("fast")).await.expect_err("down");
        assert_eq!(error.status(), 502);
    }
    let calls = flaky.calls();
    assert_eq!(calls, 5, "the breaker stops the retries once open");
    let error = gateway.complete(&request("fast")).await.expect_err("open");
    assert_eq!(error.status(), 503);
    assert!(error.retry_after().is_some());
    assert_eq!(flaky.calls(), calls, "an open target gets no traffic");

    // Not due yet: no probe. Then due: the probe fails and the interval doubles.
    assert_eq!(gateway.probe_due_targets().await, 0);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(gateway.probe_due_targets().await, 1);
    assert_eq!(gateway.probe_due_targets().await, 0);
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(gateway.probe_due_targets().await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_stream_falls_back_before_its_first_chunk_and_breaks_after_it() {
    let refusing = scripted("refusing", vec![Step::Fail(upstream(502, None))]);
    let breaking = scripted("breaking", vec![Step::BreakAfter(vec!["half".into()])]);
    let gateway = gateway(&[refusing.clone(), breaking], Strategy::Priority);
    let started = gateway.stream(&request("fast")).await.expect("started on the second target");
    assert_eq!(started.served.provider, "breaking");
    assert!(started.first.is_some());
    let rest: Vec<_> = started.rest.collect().await;
    assert!(rest.first().is_some_and(Result::is_ok), "the content chunk arrives");
    assert!(
        matches!(rest.last(), Some(Err(RouterError::StreamBroken { .. }))),
        "the stream ends in an error"
    );
    assert_eq!(refusing.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_slow_route_ends_at_the_deadline() {
    let slow = scripted(
        "slow",
        vec![Step::Delay(Duration::from_secs(3600), Box::new(Step::Reply("late".into())))],
    );
    let mut gateway = gateway(&[slow], Strategy::Priority);
    gateway.settings.request_deadline_secs = 5;
    let started = tokio::time::Instant::now();
    let error = gateway.complete(&request("fast")).await.expect_err("deadline");
    assert_eq!(error.status(), 504);
    assert_eq!(started.elapsed(), Duration::from_secs(5));
}

#[tokio::test]
async fn models_resolve_by_route_or_provider_slash_model() {
    let only = scripted("only", vec![Step::Reply("hi".into())]);
    let gateway = gateway(&[only], Strategy::Priority);
    let (_, served) = gateway.complete(&request("only/custom-model")).await.expect("direct");
    assert_eq!(
        (served.route.as_str(), served.model.as_str()),
        ("only/custom-model", "custom-model")
    );
    let unknown = gateway.complete(&request("nope")).await.expect_err("unknown");
    assert_eq!(unknown, RouterError::UnknownModel("nope".into()));
    assert_eq!(gateway.complete(&request("ghost/x")).await.expect_err("unknown").status(), 404);
}

#[test]
fn direct_routes_keep_listed_names_as_labels_and_share_one_label_for_the_rest() {
    let gateway = gateway(&[scripted("p", vec![])], Strategy::Priority);
    for (name, route_label, model, model_label) in [
        ("fast", "fast", "p-model", "p-model"),
        ("p/p-model", "p/p-model", "p-model", "p-model"),
        ("p/made-up", "p/(other)", "made-up", "(other)"),
    ] {
        let route = gateway.resolve(name).expect(name);
        let target = &route.targets[0];
        assert_eq!((route.name.as_str(), target.model.as_str()), (name, model));
        let served = gateway.served(&route, target, 1);
        assert_eq!(
            (route.label.as_str(), served.route_label.as_str(), served.model_label.as_str()),
            (route_label, route_label, model_label),
            "{name}"
        );
    }
}

#[test]
fn names_clients_make_up_cannot_lock_out_the_next_real_one() {
    let gateway = gateway(&[scripted("p", vec![])], Strategy::Priority);
    for n in 0..MAX_ROUTES {
        gateway.resolve(&format!("p/made-up-{n}")).expect("a direct route");
    }
    let route = gateway.resolve("p/p-model").expect("served though the cache is full");
    assert_eq!((route.name.as_str(), route.label.as_str()), ("p/p-model", "p/p-model"));
    let kept = gateway.direct.read().unwrap_or_else(std::sync::PoisonError::into_inner).len();
    assert_eq!(kept, MAX_ROUTES);
}

#[test]
fn configuration_mistakes_are_named() {
    let route = |provider: &str| RouteConfig {
        model: "fast".into(),
        strategy: Strategy::Priority,
        targets: vec![TargetConfig { provider: provider.into(), model: "m".into(), weight: 1 }],
    };
    let one: Arc<dyn Provider> = Arc::new(Scripted::new("one", []));
    let error = Gateway::new(vec![one.clone()], &[route("two")], settings(), PriceTable::default())
        .expect_err("bad");
    assert!(error.to_string().contains("`two`"), "{error}");
    let error =
        Gateway::new(vec![one.clone(), one.clone()], &[], settings(), PriceTable::default())
            .expect_err("dup");
    assert!(error.to_string().contains("two providers are named `one`"), "{error}");
    let error =
        Gateway::new(vec![one], &[route("one"), route("one")], settings(), PriceTable::default())
            .expect_err("dup");
    assert!(error.to_string().contains("two routes"), "{error}");
}
