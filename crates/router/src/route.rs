//! A route's targets and the order a strategy tries them in.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rand::Rng;

use crate::breaker::{Admission, Breaker};
use crate::config::Strategy;
use crate::pricing::Price;
use crate::provider::Provider;

/// The metrics label of a model that a client named and no configuration lists.
pub const UNLISTED_MODEL: &str = "(other)";

/// One provider and model a route can send to, with its health and latency.
pub struct Target {
    pub provider: Arc<dyn Provider>,
    pub model: String,
    /// The model as metrics name it: [`UNLISTED_MODEL`] for a model a client named that no
    /// configuration lists, so names clients make up never become series.
    pub label: String,
    pub weight: u32,
    pub price: Price,
    pub breaker: Breaker,
    /// EWMA of recent latencies in microseconds, as `f64` bits; 0 before the first sample.
    latency_ewma_bits: AtomicU64,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("provider", &self.provider.name())
            .field("model", &self.model)
            .finish()
    }
}

/// Weight of the newest sample in the latency average.
const EWMA_ALPHA: f64 = 0.3;

impl Target {
    pub fn new(
        provider: Arc<dyn Provider>,
        model: String,
        weight: u32,
        price: Price,
        breaker: Breaker,
    ) -> Self {
        let label = model.clone();
        Self {
            provider,
            model,
            label,
            weight,
            price,
            breaker,
            latency_ewma_bits: AtomicU64::new(0),
        }
    }

    /// The same target with [`UNLISTED_MODEL`] as its metrics label.
    pub fn unlisted(self) -> Self {
        Self { label: UNLISTED_MODEL.to_owned(), ..self }
    }

    /// The average latency in milliseconds, or `None` before the first call.
    pub fn latency_ms(&self) -> Option<f64> {
        let micros = f64::from_bits(self.latency_ewma_bits.load(Ordering::Relaxed));
        (micros > 0.0).then_some(micros / 1000.0)
    }

    pub fn record_latency(&self, elapsed: std::time::Duration) {
        let sample = elapsed.as_secs_f64() * 1e6;
        let _ = self.latency_ewma_bits.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            let old = f64::from_bits(bits);
            let new =
                if old == 0.0 { sample } else { EWMA_ALPHA * sample + (1.0 - EWMA_ALPHA) * old };
            Some(new.max(f64::MIN_POSITIVE).to_bits())
        });
    }
}

/// A model name and its targets.
#[derive(Debug)]
pub struct Route {
    pub name: String,
    /// The route as metrics name it: its name, or `provider/(other)` for an unlisted model.
    pub label: String,
    pub strategy: Strategy,
    pub targets: Vec<Arc<Target>>,
}

/// The targets to try for one request, in order, and the earliest time a skipped one reopens.
#[derive(Debug)]
pub struct Plan {
    pub targets: Vec<Arc<Target>>,
    pub next_reopen: Option<Instant>,
}

impl Route {
    /// Orders the targets by the strategy and drops those whose breaker is open (a due probe
    /// goes first, so an unhealthy target is tested by live traffic as well as by probes).
    pub fn plan(&self, now: Instant, rng: &mut impl Rng) -> Plan {
        let mut ordered: Vec<Arc<Target>> = self.targets.clone();
        match self.strategy {
            Strategy::Priority => {}
            Strategy::Weighted => {
                // Efraimidis–Spirakis: a weighted random permutation.
                let mut keyed: Vec<(f64, Arc<Target>)> = ordered
                    .into_iter()
                    .map(|target| {
                        let weight = f64::from(target.weight.max(1));
                        (rng.random::<f64>().powf(1.0 / weight), target)
                    })
                    .collect();
                keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
                ordered = keyed.into_iter().map(|(_, target)| target).collect();
            }
            Strategy::Latency => {
                ordered.sort_by(|a, b| {
                    a.latency_ms().unwrap_or(0.0).total_cmp(&b.latency_ms().unwrap_or(0.0))
                });
            }
            Strategy::Cost => {
                ordered.sort_by(|a, b| a.price.blended().total_cmp(&b.price.blended()))
            }
        }
        let mut probes = Vec::new();
        let mut healthy = Vec::new();
        let mut next_reopen: Option<Instant> = None;
        for target in ordered {
            match target.breaker.admit(now) {
                Admission::Closed => healthy.push(target),
                Admission::Probe => probes.push(target),
                Admission::Open { until } => {
                    next_reopen = Some(next_reopen.map_or(until, |t| t.min(until)))
                }
            }
        }
        probes.extend(healthy);
        Plan { targets: probes, next_reopen }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breaker::BreakerPolicy;
    use crate::providers::scripted::Scripted;
    use rand::SeedableRng;
    use std::time::Duration;

    fn target(name: &str, weight: u32, price: f64) -> Arc<Target> {
        let provider: Arc<dyn Provider> = Arc::new(Scripted::new(name, []));
        let price = Price { input_per_mtok: price, output_per_mtok: price };
        Arc::new(Target::new(
            provider,
            name.to_owned(),
            weight,
            price,
            Breaker::new(BreakerPolicy::default()),
        ))
    }

    fn names(plan: &Plan) -> Vec<&str> {
        plan.targets.iter().map(|t| t.model.as_str()).collect()
    }

    fn route(strategy: Strategy, targets: Vec<Arc<Target>>) -> Route {
        Route { name: "r".into(), label: "r".into(), strategy, targets }
    }

    #[test]
    fn priority_keeps_order_and_skips_open_breakers() {
        let targets = vec![target("a", 1, 0.0), target("b", 1, 0.0), target("c", 1, 0.0)];
        let now = Instant::now();
        for _ in 0..5 {
            targets[0].breaker.record_failure(now);
        }
        let route = route(Strategy::Priority, targets);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let plan = route.plan(now, &mut rng);
        assert_eq!(names(&plan), ["b", "c"]);
        assert_eq!(plan.next_reopen, Some(now + Duration::from_secs(1)));
        // Once the probe is due, the unhealthy target goes first as the probe.
        let later = now + Duration::from_secs(1);
        assert_eq!(names(&route.plan(later, &mut rng)), ["a", "b", "c"]);
    }

    #[test]
    fn cost_and_latency_sort_ascending() {
        let cost = route(
            Strategy::Cost,
            vec![target("dear", 1, 10.0), target("cheap", 1, 0.5), target("mid", 1, 3.0)],
        );
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert_eq!(names(&cost.plan(Instant::now(), &mut rng)), ["cheap", "mid", "dear"]);

        let latency =
            route(Strategy::Latency, vec![target("slow", 1, 0.0), target("fast", 1, 0.0)]);
        latency.targets[0].record_latency(Duration::from_millis(900));
        latency.targets[1].record_latency(Duration::from_millis(100));
        assert_eq!(names(&latency.plan(Instant::now(), &mut rng)), ["fast", "slow"]);
        // The average moves towards new samples: 0.3 × 2000 + 0.7 × 100 = 670 ms.
        latency.targets[1].record_latency(Duration::from_millis(2000));
        assert!((latency.targets[1].latency_ms().expect("sampled") - 670.0).abs() < 0.01);
        assert_eq!(names(&latency.plan(Instant::now(), &mut rng)), ["fast", "slow"]);
        latency.targets[1].record_latency(Duration::from_millis(2000));
        assert_eq!(names(&latency.plan(Instant::now(), &mut rng)), ["slow", "fast"]);
    }

    #[test]
    fn weighted_order_follows_the_weights() {
        let route =
            route(Strategy::Weighted, vec![target("heavy", 3, 0.0), target("light", 1, 0.0)]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let firsts = (0..4000)
            .filter(|_| names(&route.plan(Instant::now(), &mut rng))[0] == "heavy")
            .count();
        // Expected share 3/4 = 3000 of 4000; the bound is five standard deviations (~137).
        assert!((2860..=3140).contains(&firsts), "heavy first {firsts} times of 4000");
    }
}
