//! The gateway: resolves a model name to a route and runs one request across the route's
//! targets with retries, backoff, fallbacks and circuit breakers.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use futures::StreamExt;

use crate::breaker::{Breaker, BreakerPolicy};
use crate::config::{RouteConfig, RouterSettings, Strategy};
use crate::error::RouterError;
use crate::pricing::PriceTable;
use crate::provider::{ChunkStream, Completion, Provider, StreamChunk};
use crate::route::{Route, Target, UNLISTED_MODEL};
use crate::wire::ChatRequest;

/// Which target served a request, and after how many attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    pub route: String,
    /// The route as metrics name it (see [`Route::label`]).
    pub route_label: String,
    pub provider: String,
    pub provider_kind: &'static str,
    pub model: String,
    /// The model as metrics name it (see [`Target::label`]).
    pub model_label: String,
    pub attempts: u32,
    pub price: crate::pricing::Price,
}

/// A stream that has produced its first chunk (or ended cleanly without any).
pub struct StartedStream {
    pub first: Option<StreamChunk>,
    pub rest: ChunkStream,
    pub served: Served,
}

impl std::fmt::Debug for StartedStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartedStream")
            .field("first", &self.first)
            .field("served", &self.served)
            .finish()
    }
}

/// Providers and routes, built once from configuration.
#[derive(Debug)]
pub struct Gateway {
    providers: HashMap<String, Arc<dyn Provider>>,
    routes: HashMap<String, Arc<Route>>,
    /// Targets addressed directly as `provider/model`, created on first use.
    direct: std::sync::RwLock<HashMap<String, Arc<Route>>>,
    /// The `provider/model` names some configured route targets: a direct route to one of
    /// them keeps its model as its metrics label.
    listed: HashSet<String>,
    settings: RouterSettings,
    prices: PriceTable,
}

/// Most routes and targets one gateway holds.
pub const MAX_ROUTES: usize = 1_000;
pub const MAX_TARGETS_PER_ROUTE: usize = 32;

impl Gateway {
    /// Builds the gateway. Every route's targets must name a known provider.
    pub fn new(
        providers: Vec<Arc<dyn Provider>>,
        routes: &[RouteConfig],
        settings: RouterSettings,
        prices: PriceTable,
    ) -> Result<Self, RouterError> {
        if routes.len() > MAX_ROUTES {
            return Err(RouterError::Config(format!(
                "{} routes; at most {MAX_ROUTES}",
                routes.len()
            )));
        }
        let mut by_name = HashMap::new();
        for provider in providers {
            let name = provider.name().to_owned();
            if by_name.insert(name.clone(), provider).is_some() {
                return Err(RouterError::Config(format!("two providers are named `{name}`")));
            }
        }
        let mut gateway = Self {
            providers: by_name,
            routes: HashMap::new(),
            direct: std::sync::RwLock::new(HashMap::new()),
            listed: HashSet::new(),
            settings,
            prices,
        };
        for config in routes {
            if config.targets.is_empty() || config.targets.len() > MAX_TARGETS_PER_ROUTE {
                return Err(RouterError::Config(format!(
                    "route `{}` has {} targets; it needs 1 to {MAX_TARGETS_PER_ROUTE}",
                    config.model,
                    config.targets.len()
                )));
            }
            let mut targets = Vec::with_capacity(config.targets.len());
            for target in &config.targets {
                let provider =
                    gateway.providers.get(&target.provider).cloned().ok_or_else(|| {
                        RouterError::Config(format!(
                            "route `{}` names the provider `{}`, which is not configured",
                            config.model, target.provider
                        ))
                    })?;
                targets.push(Arc::new(gateway.target(provider, &target.model, target.weight)));
                gateway.listed.insert(format!("{}/{}", target.provider, target.model));
            }
            let route = Route {
                name: config.model.clone(),
                label: config.model.clone(),
                strategy: config.strategy,
                targets,
            };
            if gateway.routes.insert(config.model.clone(), Arc::new(route)).is_some() {
                return Err(RouterError::Config(format!(
                    "two routes are named `{}`",
                    config.model
                )));
            }
        }
        Ok(gateway)
    }

    fn target(&self, provider: Arc<dyn Provider>, model: &str, weight: u32) -> Target {
        let policy = BreakerPolicy {
            failure_threshold: self.settings.breaker_failures.max(1),
            first_probe_after: Duration::from_secs(self.settings.breaker_first_probe_secs),
            max_probe_interval: Duration::from_secs(self.settings.breaker_max_probe_secs),
        };
        Target::new(
            provider,
            model.to_owned(),
            weight,
            self.prices.price(model),
            Breaker::new(policy),
        )
    }

    /// The route for a model name: a configured route, or `provider/model` for one target.
    pub fn resolve(&self, model: &str) -> Result<Arc<Route>, RouterError> {
        if let Some(route) = self.routes.get(model) {
            return Ok(route.clone());
        }
        let (provider_name, upstream_model) =
            model.split_once('/').ok_or_else(|| RouterError::UnknownModel(model.to_owned()))?;
        let provider = self
            .providers
            .get(provider_name)
            .cloned()
            .ok_or_else(|| RouterError::UnknownModel(model.to_owned()))?;
        if let Some(route) =
            self.direct.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(model)
        {
            return Ok(route.clone());
        }
        let listed = self.listed.contains(model);
        let mut direct = self.direct.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if direct.len() >= MAX_ROUTES {
            // Full: this route serves this request only, so names clients made up cannot
            // lock out the next real one.
            return Ok(self.direct_route(provider, upstream_model, listed));
        }
        let route = self.direct_route(provider, upstream_model, listed);
        Ok(direct.entry(model.to_owned()).or_insert(route).clone())
    }

    /// The one-target route `provider/model`; a model no configuration lists is labelled
    /// [`UNLISTED_MODEL`] in metrics, so the series stay as many as the configuration makes.
    pub fn direct_route(
        &self,
        provider: Arc<dyn Provider>,
        model: &str,
        listed: bool,
    ) -> Arc<Route> {
        let name = format!("{}/{model}", provider.name());
        let (label, target) = if listed {
            (name.clone(), self.target(provider, model, 1))
        } else {
            (
                format!("{}/{UNLISTED_MODEL}", provider.name()),
                self.target(provider, model, 1).unlisted(),
            )
        };
        Arc::new(Route {
            name,
            label,
            strategy: Strategy::Priority,
            targets: vec![Arc::new(target)],
        })
    }

    /// The configured routes, by name.
    pub fn routes(&self) -> impl Iterator<Item = &Arc<Route>> {
        self.routes.values()
    }

    /// The configured providers.
    pub fn providers(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.providers.values()
    }

    /// A route named `name` over `(provider, model, weight)` targets, with this gateway's
    /// breaker settings and price table (for routes and providers managed outside the
    /// configuration).
    pub fn managed_route(
        &self,
        name: &str,
        strategy: Strategy,
        targets: Vec<(Arc<dyn Provider>, String, u32)>,
    ) -> Arc<Route> {
        let targets = targets
            .into_iter()
            .take(MAX_TARGETS_PER_ROUTE)
            .map(|(provider, model, weight)| Arc::new(self.target(provider, &model, weight)))
            .collect();
        Arc::new(Route { name: name.to_owned(), label: name.to_owned(), strategy, targets })
    }

    /// A configured provider, by name.
    pub fn provider(&self, name: &str) -> Option<Arc<dyn Provider>> {
        self.providers.get(name).cloned()
    }

    /// Runs a non-streaming request on the route its model names.
    pub async fn complete(
        &self,
        request: &ChatRequest,
    ) -> Result<(Completion, Served), RouterError> {
        let route = self.resolve(&request.model)?;
        self.complete_on(&route, request).await
    }

    /// Runs a non-streaming request on `route`.
    pub async fn complete_on(
        &self,
        route: &Route,
        request: &ChatRequest,
    ) -> Result<(Completion, Served), RouterError> {
        self.run(route, |target| async move {
            let started = now();
            let completion = target.provider.complete(request, &target.model).await?;
            target.record_latency(started.elapsed());
            Ok(completion)
        })
        .await
    }

    /// Runs a streaming request until its first chunk: failures up to then fall back to the
    /// next target; later ones reach the client as an error event.
    pub async fn stream(&self, request: &ChatRequest) -> Result<StartedStream, RouterError> {
        let route = self.resolve(&request.model)?;
        self.stream_on(&route, request).await
    }

    /// Runs a streaming request on `route` until its first chunk.
    pub async fn stream_on(
        &self,
        route: &Route,
        request: &ChatRequest,
    ) -> Result<StartedStream, RouterError> {
        let ((first, rest), served) = self
            .run(route, |target| async move {
                let started = now();
                let mut stream = target.provider.stream(request, &target.model).await?;
                let first = stream.next().await.transpose()?;
                target.record_latency(started.elapsed());
                Ok((first, stream))
            })
            .await?;
        Ok(StartedStream { first, rest, served })
    }

    /// Tries the route's targets in the strategy's order, retrying each on retryable failures.
    async fn run<T, F, Fut>(&self, route: &Route, call: F) -> Result<(T, Served), RouterError>
    where
        F: Fn(Arc<Target>) -> Fut,
        Fut: Future<Output = Result<T, RouterError>>,
    {
        let deadline = Duration::from_secs(self.settings.request_deadline_secs.max(1));
        let attempts = async {
            let plan = route.plan(now(), &mut rand::rng());
            if plan.targets.is_empty() {
                let retry_after = plan.next_reopen.map(|at| at.saturating_duration_since(now()));
                return Err(RouterError::Unavailable {
                    model: route.name.clone(),
                    last: "every target is marked unhealthy after repeated failures".into(),
                    status: 503,
                    retry_after: retry_after.map(|wait| wait.max(Duration::from_secs(1))),
                });
            }
            let mut last_error = None;
            let mut attempts = 0;
            for target in plan.targets {
                let mut backoff = backon::ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(self.settings.backoff_base_ms))
                    .with_max_delay(Duration::from_millis(self.settings.backoff_max_ms))
                    .with_max_times(self.settings.retries as usize)
                    .with_jitter()
                    .build();
                loop {
                    attempts += 1;
                    match call(target.clone()).await {
                        Ok(value) => {
                            if target.breaker.record_success() {
                                breaker_gauge(&target, false);
                            }
                            return Ok((value, self.served(route, &target, attempts)));
                        }
                        Err(error) => {
                            tracing::debug!(route = %route.name, provider = target.provider.name(), %error, "attempt failed");
                            metrics::counter!("ql_llm_attempt_failures_total", "provider" => target.provider.name().to_owned())
                                .increment(1);
                            let opened = error.counts_against_target()
                                && target.breaker.record_failure(now());
                            if opened {
                                breaker_gauge(&target, true);
                                tracing::warn!(provider = target.provider.name(), model = %target.model, "target marked unhealthy");
                            }
                            if !error.is_retryable() {
                                return Err(error);
                            }
                            let wait = match (error.retry_after(), backoff.next()) {
                                _ if opened => None,
                                (_, None) => None,
                                (Some(asked), Some(_))
                                    if asked
                                        > Duration::from_secs(
                                            self.settings.max_retry_after_secs,
                                        ) =>
                                {
                                    None
                                }
                                (Some(asked), Some(_)) => Some(asked),
                                (None, Some(delay)) => Some(delay),
                            };
                            last_error = Some(error);
                            match wait {
                                Some(wait) => tokio::time::sleep(wait).await,
                                None => break,
                            }
                        }
                    }
                }
            }
            Err(exhausted(&route.name, last_error))
        };
        tokio::time::timeout(deadline, attempts).await.unwrap_or_else(|_| {
            Err(RouterError::Unavailable {
                model: route.name.clone(),
                last: format!("no target answered within {deadline:?}"),
                status: 504,
                retry_after: None,
            })
        })
    }

    fn served(&self, route: &Route, target: &Target, attempts: u32) -> Served {
        Served {
            route: route.name.clone(),
            route_label: route.label.clone(),
            provider: target.provider.name().to_owned(),
            provider_kind: target.provider.kind(),
            model: target.model.clone(),
            model_label: target.label.clone(),
            attempts,
            price: target.price,
        }
    }

    /// Probes every target whose breaker has a probe due, with the provider's health call.
    /// Returns how many probes ran. The server calls this on a timer.
    pub async fn probe_due_targets(&self) -> usize {
        let probe_time = now();
        let direct: Vec<Arc<Route>> = self
            .direct
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let mut probed = 0;
        for route in self.routes.values().chain(direct.iter()) {
            for target in &route.targets {
                if target.breaker.next_probe().is_some_and(|due| due <= probe_time)
                    && target.breaker.admit(probe_time) == crate::breaker::Admission::Probe
                {
                    probed += 1;
                    match target.provider.health().await {
                        Ok(()) => {
                            tracing::info!(
                                provider = target.provider.name(),
                                "target healthy again"
                            );
                            target.breaker.record_success();
                        }
                        Err(_) => {
                            target.breaker.record_failure(now());
                        }
                    }
                }
            }
        }
        probed
    }
}

/// `ql_llm_breaker_open{provider, model}`: 1 while the target is marked unhealthy.
fn breaker_gauge(target: &Target, open: bool) {
    let labels = [("provider", target.provider.name().to_owned()), ("model", target.label.clone())];
    metrics::gauge!("ql_llm_breaker_open", &labels).set(if open { 1.0 } else { 0.0 });
    if open {
        metrics::counter!("ql_llm_breaker_opened_total", &labels).increment(1);
    }
}

/// The current instant on tokio's clock (which tests can pause and advance).
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// The error for a route whose every attempt failed: a rate limit stays a 429 (with its
/// `Retry-After`), a timeout a 504, anything else a 502.
fn exhausted(route: &str, last: Option<RouterError>) -> RouterError {
    let Some(last) = last else {
        return RouterError::Unavailable {
            model: route.to_owned(),
            last: "no attempt".into(),
            status: 503,
            retry_after: None,
        };
    };
    let status = match last.status() {
        429 => 429,
        504 => 504,
        _ => 502,
    };
    RouterError::Unavailable {
        model: route.to_owned(),
        last: last.to_string(),
        status,
        retry_after: last.retry_after(),
    }
}

#[cfg(test)]
mod tests;
