//! Model calls through the router on behalf of an API key's organisation: checks, metrics
//! and usage accounting around each call.

pub mod accounting;
pub mod cache;
mod call_metrics;
mod generation_models;
mod metered;
pub mod quota;

pub(crate) use call_metrics::CallMetrics;

use std::sync::Arc;
use std::time::Instant;

use ql_router::config::Strategy;
use ql_router::wire::{ChatRequest, Usage};
use ql_router::{Completion, Gateway, RouterError, Served, StartedStream};
use ql_store::NewUsage;

use crate::{KeyPrincipal, Services};

/// Whom a model call is accounted to and limited for: an API key's organisation (and the key),
/// or the organisation of a generation the platform runs (and who asked for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub org_id: ql_store::OrgId,
    pub key_id: Option<ql_store::ApiKeyId>,
    pub user_id: Option<ql_store::UserId>,
}

impl From<&KeyPrincipal> for Account {
    fn from(caller: &KeyPrincipal) -> Self {
        Self {
            org_id: caller.org_id.clone(),
            key_id: Some(caller.key_id.clone()),
            user_id: Some(caller.user_id.clone()),
        }
    }
}

/// A non-streaming answer and where it came from.
#[derive(Debug, Clone)]
pub struct Answer {
    pub completion: Completion,
    pub served: Served,
    /// Whether the request was cacheable at all (`x-ql-cache` is then `hit` or `miss`).
    pub cacheable: bool,
    pub cache_hit: bool,
}

/// The answer cache and its settings.
#[derive(Clone)]
pub struct AnswerCacheHandle {
    pub settings: cache::CacheSettings,
    pub store: Arc<dyn cache::AnswerCache>,
}

impl std::fmt::Debug for AnswerCacheHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerCacheHandle")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AnswerCacheHandle {
    pub fn memory(settings: cache::CacheSettings) -> Self {
        let store = Arc::new(cache::MemoryCache::new(&settings));
        Self { settings, store }
    }
}

/// One target of a configured route, as the Providers page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetStatus {
    pub route: String,
    pub strategy: String,
    pub provider: String,
    pub provider_kind: String,
    pub model: String,
    pub healthy: bool,
    /// Recent average latency, once the target has answered.
    pub latency_ms: Option<f64>,
}

/// Stands for a managed provider's opened key when its configuration is built.
const MANAGED_KEY: &str = "MANAGED_PROVIDER_KEY";

/// The most messages one chat request may carry.
pub const MAX_MESSAGES: usize = 10_000;

/// What is known about a call when it ends.
#[derive(Debug, Clone)]
pub(crate) struct CallOutcome {
    /// The model name the call was recorded under in usage.
    pub route: String,
    /// The same as metrics name it (see [`ql_router::route::Route::label`]).
    pub route_label: String,
    pub served: Option<Served>,
    pub usage: Usage,
    pub status: u16,
    pub started: Instant,
    pub first_token: Option<Instant>,
    pub cache_hit: bool,
    pub streamed: bool,
}

impl Services {
    /// Runs this process's generation worker until `shutdown` resolves; generations on a
    /// model other than `builtin` reach it through this gateway on their organisation's
    /// account.
    pub async fn run_generation_worker(
        &self,
        key: ql_capsule::InstallationKey,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ql_orchestrator::OrchestratorError> {
        let models = generation_models::GenerationModels { services: self.clone() };
        self.orchestrator.run_worker(key, Arc::new(models), shutdown).await
    }

    /// The router every model call goes through.
    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }

    /// One non-streaming chat completion for the caller's organisation, from the answer cache
    /// when the request is deterministic (or the client asks) and an identical one was answered.
    pub async fn chat_complete(
        &self,
        caller: &KeyPrincipal,
        request: &ChatRequest,
        mode: cache::CacheMode,
    ) -> Result<Answer, RouterError> {
        self.chat_complete_for(&Account::from(caller), request, mode).await
    }

    /// [`Services::chat_complete`] for any account.
    pub async fn chat_complete_for(
        &self,
        caller: &Account,
        request: &ChatRequest,
        mode: cache::CacheMode,
    ) -> Result<Answer, RouterError> {
        check_request(request)?;
        let started = Instant::now();
        self.admit(caller, request).await?;
        let cacheable = self.cache.settings.enabled && cache::cacheable(request, mode);
        let cache_key = cacheable.then(|| cache::key(caller.org_id.as_str(), request));
        if let Some(key) = &cache_key {
            if let Some(hit) = self.cache.store.get(key).await {
                metrics::counter!("ql_llm_cache_hits_total").increment(1);
                let served = Served {
                    route: request.model.clone(),
                    route_label: hit.route_label.clone(),
                    provider: hit.provider.clone(),
                    provider_kind: "cache",
                    model: hit.model.clone(),
                    model_label: hit.model_label.clone(),
                    attempts: 0,
                    price: ql_router::pricing::Price::default(),
                };
                let outcome = CallOutcome {
                    route: request.model.clone(),
                    route_label: hit.route_label.clone(),
                    served: Some(served.clone()),
                    usage: hit.usage,
                    status: 200,
                    started,
                    first_token: None,
                    cache_hit: true,
                    streamed: false,
                };
                self.finish_call(caller, &outcome);
                let completion = Completion { body: hit.body, usage: hit.usage };
                return Ok(Answer { completion, served, cacheable, cache_hit: true });
            }
            metrics::counter!("ql_llm_cache_misses_total").increment(1);
        }
        let (result, labels) = match self.route_for(caller, &request.model).await {
            Ok(route) => (self.gateway.complete_on(&route, request).await, RouteLabels::of(&route)),
            Err(error) => (Err(error), RouteLabels::unresolved()),
        };
        let (served, usage, status) = match &result {
            Ok((completion, served)) => (Some(served.clone()), completion.usage, 200),
            Err(error) => (None, Usage::default(), error.status()),
        };
        let outcome = CallOutcome {
            route: labels.usage,
            route_label: labels.metrics,
            served,
            usage,
            status,
            started,
            first_token: None,
            cache_hit: false,
            streamed: false,
        };
        self.finish_call(caller, &outcome);
        let (completion, served) = result?;
        if let Some(key) = cache_key
            && completion.body.len() <= self.cache.settings.max_entry_bytes
        {
            let stored = cache::CachedAnswer {
                body: completion.body.clone(),
                usage: completion.usage,
                provider: served.provider.clone(),
                provider_kind: served.provider_kind.to_owned(),
                model: served.model.clone(),
                route_label: served.route_label.clone(),
                model_label: served.model_label.clone(),
            };
            self.cache
                .store
                .put(key, stored, std::time::Duration::from_secs(self.cache.settings.ttl_secs))
                .await;
        }
        Ok(Answer { completion, served, cacheable, cache_hit: false })
    }

    /// A streaming chat completion, started (its first chunk is in hand). Metrics and usage
    /// are recorded when the stream ends, breaks or is dropped by a departing client.
    pub async fn chat_stream(
        &self,
        caller: &KeyPrincipal,
        request: &ChatRequest,
    ) -> Result<StartedStream, RouterError> {
        self.chat_stream_for(&Account::from(caller), request).await
    }

    /// [`Services::chat_stream`] for any account.
    pub async fn chat_stream_for(
        &self,
        caller: &Account,
        request: &ChatRequest,
    ) -> Result<StartedStream, RouterError> {
        check_request(request)?;
        let started = Instant::now();
        self.admit(caller, request).await?;
        let (started_stream, labels) = match self.route_for(caller, &request.model).await {
            Ok(route) => (self.gateway.stream_on(&route, request).await, RouteLabels::of(&route)),
            Err(error) => (Err(error), RouteLabels::unresolved()),
        };
        match started_stream {
            Ok(mut stream) => {
                let outcome = CallOutcome {
                    route: labels.usage,
                    route_label: labels.metrics,
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
                    route: labels.usage,
                    route_label: labels.metrics,
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

    /// Every target of every configured route with its health and recent latency, by route.
    pub fn route_status(&self) -> Vec<TargetStatus> {
        let mut routes: Vec<_> = self.gateway.routes().collect();
        routes.sort_by(|a, b| a.name.cmp(&b.name));
        routes
            .into_iter()
            .flat_map(|route| {
                route.targets.iter().map(move |target| TargetStatus {
                    route: route.name.clone(),
                    strategy: format!("{:?}", route.strategy).to_lowercase(),
                    provider: target.provider.name().to_owned(),
                    provider_kind: target.provider.kind().to_owned(),
                    model: target.model.clone(),
                    healthy: target.breaker.state() == ql_router::breaker::BreakerState::Closed,
                    latency_ms: target.latency_ms(),
                })
            })
            .collect()
    }

    /// The model names the caller can send: the configured routes, then `provider/model` for
    /// each model of the organisation's own providers.
    pub async fn model_names(&self, org: &ql_store::OrgId) -> Vec<String> {
        let mut names: Vec<String> =
            self.gateway.routes().map(|route| route.name.clone()).collect();
        if let Ok(routes) = self.store.routes.list(org).await {
            names.extend(routes.into_iter().map(|route| route.model));
        }
        names.sort();
        if let Ok(managed) = self.store.providers.list(org).await {
            for provider in managed.into_iter().filter(|provider| provider.enabled) {
                let models: Vec<String> =
                    serde_json::from_str(&provider.models).unwrap_or_default();
                names.extend(models.into_iter().map(|model| format!("{}/{model}", provider.name)));
            }
        }
        names
    }

    /// The route a model name reaches for this caller: a configured route or provider, else
    /// one of the organisation's own routes, else `provider/model` on one of its own providers
    /// (built once, then cached for a minute).
    pub(crate) async fn route_for(
        &self,
        caller: &Account,
        model: &str,
    ) -> Result<Arc<ql_router::route::Route>, RouterError> {
        let configured = self.gateway.resolve(model);
        let Err(RouterError::UnknownModel(_)) = configured else { return configured };
        let cache_key = format!("{}/{model}", caller.org_id);
        if let Some(route) = self.managed_routes.get(&cache_key).await {
            return Ok(route);
        }
        let unavailable = |error: ql_store::StoreError| {
            tracing::error!(%error, "managed providers or routes unavailable");
            RouterError::Config("the provider store is unavailable".into())
        };
        let own_providers = self.store.providers.list(&caller.org_id).await.map_err(unavailable)?;
        let route = match model.split_once('/') {
            Some((name, upstream_model)) => {
                let Some(stored) = own_providers
                    .into_iter()
                    .find(|provider| provider.name == name && provider.enabled)
                else {
                    return configured;
                };
                let listed = serde_json::from_str::<Vec<String>>(&stored.models)
                    .is_ok_and(|models| models.iter().any(|listed| listed == upstream_model));
                let provider = self.build_managed_provider(caller, stored)?;
                self.gateway.direct_route(provider, upstream_model, listed)
            }
            None => {
                let routes = self.store.routes.list(&caller.org_id).await.map_err(unavailable)?;
                let Some(stored) = routes.into_iter().find(|route| route.model == model) else {
                    return configured;
                };
                self.build_managed_route(caller, stored, own_providers)?
            }
        };
        self.managed_routes.insert(cache_key, route.clone()).await;
        Ok(route)
    }

    /// An organisation's route over the server's providers and its own.
    fn build_managed_route(
        &self,
        caller: &Account,
        stored: ql_store::StoredRoute,
        own_providers: Vec<ql_store::StoredProvider>,
    ) -> Result<Arc<ql_router::route::Route>, RouterError> {
        let summary = crate::routes::RouteSummary::from(stored);
        let strategy = match summary.strategy.as_str() {
            "weighted" => Strategy::Weighted,
            "latency" => Strategy::Latency,
            "cost" => Strategy::Cost,
            _ => Strategy::Priority,
        };
        let mut targets = Vec::with_capacity(summary.targets.len());
        for target in summary.targets {
            let provider = match self.gateway.provider(&target.provider) {
                Some(provider) => provider,
                None => {
                    let stored = own_providers
                        .iter()
                        .find(|provider| provider.name == target.provider && provider.enabled)
                        .cloned()
                        .ok_or_else(|| {
                            RouterError::Config(format!(
                                "the route `{}` names the provider `{}`, which no longer exists",
                                summary.model, target.provider
                            ))
                        })?;
                    self.build_managed_provider(caller, stored)?
                }
            };
            targets.push((provider, target.model, target.weight));
        }
        Ok(self.gateway.managed_route(&summary.model, strategy, targets))
    }

    fn build_managed_provider(
        &self,
        caller: &Account,
        stored: ql_store::StoredProvider,
    ) -> Result<Arc<dyn ql_router::Provider>, RouterError> {
        let secret = match (&stored.secret_ciphertext, &stored.secret_nonce, &self.secrets) {
            (Some(ciphertext), Some(nonce), Some(secrets)) => {
                let sealed = crate::Sealed { ciphertext: ciphertext.clone(), nonce: nonce.clone() };
                let context = crate::secret_context(caller.org_id.as_str(), &stored.name);
                Some(
                    secrets
                        .open(&sealed, &context)
                        .map_err(|error| RouterError::Config(error.to_string()))?,
                )
            }
            (Some(_), _, None) => {
                return Err(RouterError::Config("no secret key is configured".into()));
            }
            _ => None,
        };
        let kind = match stored.kind.as_str() {
            "anthropic" => ql_router::config::ProviderKind::Anthropic,
            "bedrock" => ql_router::config::ProviderKind::Bedrock,
            _ => ql_router::config::ProviderKind::Openai,
        };
        let config = ql_router::config::ProviderConfig {
            name: stored.name,
            kind,
            base_url: stored.base_url,
            api_key_env: (secret.is_some() && kind != ql_router::config::ProviderKind::Bedrock)
                .then(|| MANAGED_KEY.to_owned()),
            region: stored.region,
            connect_timeout_secs: 5,
            request_timeout_secs: 120,
        };
        // The key answers the variable a provider names; Bedrock's holds the AWS credentials.
        ql_router::build::provider(&config, &|variable| {
            let secret = secret.as_deref()?;
            match variable {
                MANAGED_KEY => Some(secret.to_owned()),
                _ => crate::providers::aws_credential(secret, variable),
            }
        })
    }

    /// Records a finished call: Prometheus metrics now, a usage row in the next batch.
    pub(crate) fn finish_call(&self, caller: &Account, outcome: &CallOutcome) {
        let latency = outcome.started.elapsed();
        let ttft = outcome.first_token.map(|at| at.saturating_duration_since(outcome.started));
        let (provider, model, model_label, cost) = match &outcome.served {
            Some(served) => (
                served.provider.as_str(),
                served.model.as_str(),
                served.model_label.as_str(),
                served
                    .price
                    .cost_micros(outcome.usage.prompt_tokens, outcome.usage.completion_tokens),
            ),
            None => ("", "", "", 0),
        };
        self.call_metrics.record(&call_metrics::Call {
            route: &outcome.route_label,
            provider,
            model: model_label,
            status: outcome.status,
            latency_secs: latency.as_secs_f64(),
            ttft_secs: ttft.map(|ttft| ttft.as_secs_f64()),
            prompt_tokens: outcome.usage.prompt_tokens,
            completion_tokens: outcome.usage.completion_tokens,
            cost_micros: cost,
        });

        let tokens = if outcome.cache_hit {
            0
        } else {
            outcome.usage.prompt_tokens + outcome.usage.completion_tokens
        };
        // Nothing to count without a token or spend limit: no task per call then.
        if (tokens > 0 || cost > 0) && self.quotas.settings.counts_usage() {
            let quotas = self.quotas.clone();
            let (org, key) = (caller.org_id.to_string(), caller.key_id.clone());
            tokio::spawn(async move {
                quotas.debit_tokens(&org, key.as_ref().map(|key| key.as_str()), tokens).await;
                if cost > 0 && quotas.settings.org_monthly_budget_usd > 0.0 {
                    let _ = quotas
                        .counters
                        .add(
                            &spend_key(&org),
                            i64::try_from(cost).unwrap_or(i64::MAX),
                            0,
                            SPEND_TTL,
                        )
                        .await;
                }
            });
        }
        let millis = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.accounting.record(NewUsage {
            organization_id: caller.org_id.clone(),
            api_key_id: caller.key_id.clone(),
            user_id: caller.user_id.clone(),
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

/// How long a month's spend counter is kept.
const SPEND_TTL: std::time::Duration = std::time::Duration::from_secs(40 * 86_400);

/// The spend counter of an organisation for the current calendar month (UTC).
fn spend_key(org: &str) -> String {
    let now = time::OffsetDateTime::now_utc();
    format!("spend:{org}:{}-{:02}", now.year(), u8::from(now.month()))
}

/// The start of the current month and of the next, in Unix milliseconds (UTC).
fn month_bounds() -> (i64, i64) {
    let now = time::OffsetDateTime::now_utc();
    let start = now.replace_day(1).map(|d| d.replace_time(time::Time::MIDNIGHT)).unwrap_or(now);
    let next = if start.month() == time::Month::December {
        start.replace_year(start.year() + 1).and_then(|d| d.replace_month(time::Month::January))
    } else {
        start.replace_month(start.month().next())
    }
    .unwrap_or(start);
    let millis = |at: time::OffsetDateTime| {
        i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
    };
    (millis(start), millis(next))
}

/// A rough count of the prompt's tokens (four characters a token), for admission.
fn estimate_tokens(request: &ChatRequest) -> u64 {
    let chars: usize = request.messages.iter().map(|message| message.text_content().len()).sum();
    (chars / 4) as u64 + 1
}

impl Services {
    /// Applies the rate limits and the monthly budget to a request about to be sent.
    async fn admit(&self, caller: &Account, request: &ChatRequest) -> Result<(), RouterError> {
        let (org, key) = (caller.org_id.as_str(), caller.key_id.as_ref().map(|key| key.as_str()));
        if let Err(refusal) = self.quotas.admit(org, key, estimate_tokens(request)).await {
            metrics::counter!("ql_llm_quota_rejections_total", "scope" => refusal.scope, "limit" => refusal.limit)
                .increment(1);
            return Err(RouterError::RateLimited(refusal.message, refusal.retry_after));
        }
        let budget = self.quotas.settings.org_monthly_budget_usd;
        if budget > 0.0 {
            let counter = spend_key(org);
            let (month_start, next_month) = month_bounds();
            let initial = match self.quotas.counters.has(&counter).await {
                Ok(true) => 0,
                // First use in this month (or after a restart without Redis): start from the
                // usage already recorded in the database.
                _ => self
                    .store
                    .usage
                    .summary(&caller.org_id, month_start)
                    .await
                    .map(|s| s.cost_micros)
                    .unwrap_or(0),
            };
            let spent =
                self.quotas.counters.add(&counter, 0, initial, SPEND_TTL).await.unwrap_or(0);
            let budget_micros = (budget * 1e6) as i64;
            if spent >= budget_micros {
                metrics::counter!("ql_llm_quota_rejections_total", "scope" => "organization", "limit" => "budget")
                    .increment(1);
                let wait = u64::try_from((next_month - ql_store::now_millis()).max(1_000) / 1_000)
                    .unwrap_or(1);
                return Err(RouterError::RateLimited(
                    format!(
                        "This organization has spent its monthly budget of ${budget:.2}; it renews at the start of next month."
                    ),
                    std::time::Duration::from_secs(wait),
                ));
            }
        }
        Ok(())
    }
}

/// The longest model name a request may send.
pub const MAX_MODEL_NAME_CHARS: usize = 256;

/// The route a call is recorded under, in usage and in metrics.
struct RouteLabels {
    usage: String,
    metrics: String,
}

impl RouteLabels {
    /// A resolved route: usage keeps the name sent, metrics the route's label (names clients
    /// make up must not become series).
    fn of(route: &ql_router::route::Route) -> Self {
        Self { usage: route.name.clone(), metrics: route.label.clone() }
    }

    /// A name that reached no route, or a route that could not be loaded.
    fn unresolved() -> Self {
        let unknown = call_metrics::UNKNOWN_ROUTE.to_owned();
        Self { usage: unknown.clone(), metrics: unknown }
    }
}

fn check_request(request: &ChatRequest) -> Result<(), RouterError> {
    if request.model.trim().is_empty() {
        return Err(RouterError::InvalidRequest("`model` is empty".into()));
    }
    if request.model.chars().count() > MAX_MODEL_NAME_CHARS {
        return Err(RouterError::InvalidRequest(format!(
            "`model` is longer than {MAX_MODEL_NAME_CHARS} characters"
        )));
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
