//! Model calls through the router on behalf of an API key's organisation: checks, metrics
//! and usage accounting around each call.

pub mod accounting;
mod metered;

use std::sync::Arc;
use std::time::Instant;

use ql_router::wire::{ChatRequest, Usage};
use ql_router::{Completion, Gateway, RouterError, Served, StartedStream};
use ql_store::NewUsage;

use crate::{KeyPrincipal, Services};

/// The most messages one chat request may carry.
pub const MAX_MESSAGES: usize = 10_000;

/// What is known about a call when it ends.
#[derive(Debug, Clone)]
pub(crate) struct CallOutcome {
    pub route: String,
    pub served: Option<Served>,
    pub usage: Usage,
    pub status: u16,
    pub started: Instant,
    pub first_token: Option<Instant>,
    pub cache_hit: bool,
    pub streamed: bool,
}

impl Services {
    /// The router every model call goes through.
    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }

    /// One non-streaming chat completion for the caller's organisation.
    pub async fn chat_complete(
        &self,
        caller: &KeyPrincipal,
        request: &ChatRequest,
    ) -> Result<(Completion, Served), RouterError> {
        check_request(request)?;
        let started = Instant::now();
        let result = self.gateway.complete(request).await;
        let (served, usage, status) = match &result {
            Ok((completion, served)) => (Some(served.clone()), completion.usage, 200),
            Err(error) => (None, Usage::default(), error.status()),
        };
        let outcome = CallOutcome {
            route: request.model.clone(),
            served,
            usage,
            status,
            started,
            first_token: None,
            cache_hit: false,
            streamed: false,
        };
        self.finish_call(caller, &outcome);
        result
    }

    /// A streaming chat completion, started (its first chunk is in hand). Metrics and usage
    /// are recorded when the stream ends, breaks or is dropped by a departing client.
    pub async fn chat_stream(
        &self,
        caller: &KeyPrincipal,
        request: &ChatRequest,
    ) -> Result<StartedStream, RouterError> {
        check_request(request)?;
        let started = Instant::now();
        match self.gateway.stream(request).await {
            Ok(mut stream) => {
                let outcome = CallOutcome {
                    route: request.model.clone(),
                    served: Some(stream.served.clone()),
                    usage: stream.first.as_ref().and_then(|chunk| chunk.usage).unwrap_or_default(),
                    status: 200,
                    started,
                    first_token: Some(Instant::now()),
                    cache_hit: false,
                    streamed: true,
                };
                let services = self.clone();
                let caller = caller.clone();
                stream.rest =
                    Box::pin(metered::Metered::new(stream.rest, outcome, move |outcome| {
                        services.finish_call(&caller, outcome);
                    }));
                Ok(stream)
            }
            Err(error) => {
                let outcome = CallOutcome {
                    route: request.model.clone(),
                    served: None,
                    usage: Usage::default(),
                    status: error.status(),
                    started,
                    first_token: None,
                    cache_hit: false,
                    streamed: true,
                };
                self.finish_call(caller, &outcome);
                Err(error)
            }
        }
    }

    /// The model names clients can send: the routes, sorted.
    pub fn model_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.gateway.routes().map(|route| route.name.clone()).collect();
        names.sort();
        names
    }

    /// Records a finished call: Prometheus metrics now, a usage row in the next batch.
    pub(crate) fn finish_call(&self, caller: &KeyPrincipal, outcome: &CallOutcome) {
        let latency = outcome.started.elapsed();
        let ttft = outcome.first_token.map(|at| at.saturating_duration_since(outcome.started));
        let (provider, model, cost) = match &outcome.served {
            Some(served) => (
                served.provider.as_str(),
                served.model.as_str(),
                served
                    .price
                    .cost_micros(outcome.usage.prompt_tokens, outcome.usage.completion_tokens),
            ),
            None => ("", "", 0),
        };
        let labels = [
            ("route", outcome.route.clone()),
            ("provider", provider.to_owned()),
            ("model", model.to_owned()),
        ];
        let status = outcome.status.to_string();
        let mut with_status = labels.to_vec();
        with_status.push(("status", status));
        metrics::counter!("ql_llm_requests_total", &with_status).increment(1);
        metrics::histogram!("ql_llm_request_duration_seconds", &labels)
            .record(latency.as_secs_f64());
        if let Some(ttft) = ttft {
            metrics::histogram!("ql_llm_time_to_first_token_seconds", &labels)
                .record(ttft.as_secs_f64());
        }
        let mut prompt = labels.to_vec();
        prompt.push(("kind", "prompt".to_owned()));
        metrics::counter!("ql_llm_tokens_total", &prompt).increment(outcome.usage.prompt_tokens);
        let mut completion = labels.to_vec();
        completion.push(("kind", "completion".to_owned()));
        metrics::counter!("ql_llm_tokens_total", &completion)
            .increment(outcome.usage.completion_tokens);
        metrics::counter!("ql_llm_cost_microdollars_total", &labels).increment(cost);

        let millis = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.accounting.record(NewUsage {
            organization_id: caller.org_id.clone(),
            api_key_id: Some(caller.key_id.clone()),
            user_id: Some(caller.user_id.clone()),
            route: outcome.route.clone(),
            provider: provider.to_owned(),
            model: model.to_owned(),
            prompt_tokens: clamp(outcome.usage.prompt_tokens),
            completion_tokens: clamp(outcome.usage.completion_tokens),
            cost_micros: clamp(cost),
            latency_ms: millis(latency),
            ttft_ms: ttft.map(millis),
            status: i32::from(outcome.status),
            cache_hit: outcome.cache_hit,
            streamed: outcome.streamed,
            created_at: ql_store::now_millis(),
        });
    }
}

fn check_request(request: &ChatRequest) -> Result<(), RouterError> {
    if request.model.trim().is_empty() {
        return Err(RouterError::InvalidRequest("`model` is empty".into()));
    }
    if request.messages.is_empty() {
        return Err(RouterError::InvalidRequest(
            "`messages` is empty; send at least one message".into(),
        ));
    }
    if request.messages.len() > MAX_MESSAGES {
        return Err(RouterError::InvalidRequest(format!(
            "{} messages; at most {MAX_MESSAGES}",
            request.messages.len()
        )));
    }
    if let Some(temperature) = request.temperature
        && !(0.0..=2.0).contains(&temperature)
    {
        return Err(RouterError::InvalidRequest(format!(
            "`temperature` is {temperature}; use 0 to 2"
        )));
    }
    Ok(())
}
