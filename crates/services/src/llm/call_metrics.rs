//! The Prometheus series of model calls, by route, provider and model: each combination's
//! handles are registered once and reused, so recording a call allocates nothing.

use std::sync::{Arc, OnceLock, RwLock};

use hashbrown::{Equivalent, HashMap};
use metrics::{Counter, Histogram};

/// At most this many label combinations keep handles; past it, calls are recorded without
/// (the same series, only slower), so memory stays bounded whatever clients send.
pub const MAX_KEPT: usize = 4_096;

/// The route label of a call whose model name reached no route: names clients make up do not
/// become series.
pub const UNKNOWN_ROUTE: &str = "(unknown)";

#[derive(Hash, PartialEq, Eq)]
struct Labels {
    route: Box<str>,
    provider: Box<str>,
    model: Box<str>,
}

/// The same fields borrowed, in the same order, so it hashes as [`Labels`] does.
#[derive(Hash)]
struct LabelsRef<'a> {
    route: &'a str,
    provider: &'a str,
    model: &'a str,
}

impl Equivalent<Labels> for LabelsRef<'_> {
    fn equivalent(&self, key: &Labels) -> bool {
        (self.route, self.provider, self.model) == (&*key.route, &*key.provider, &*key.model)
    }
}

/// One call as the metrics see it.
pub struct Call<'a> {
    pub route: &'a str,
    pub provider: &'a str,
    pub model: &'a str,
    pub status: u16,
    pub latency_secs: f64,
    pub ttft_secs: Option<f64>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cost_micros: u64,
}

struct Series {
    labels: [(&'static str, String); 3],
    /// Registered on a first success only, so labels that only ever failed have no zero series.
    succeeded: OnceLock<Counter>,
    duration: Histogram,
    /// Registered on a first streamed call only, so non-streaming routes have no empty series.
    ttft: OnceLock<Histogram>,
    prompt_tokens: Counter,
    completion_tokens: Counter,
    cost: Counter,
}

impl Series {
    fn register(route: &str, provider: &str, model: &str) -> Self {
        let labels = [
            ("route", route.to_owned()),
            ("provider", provider.to_owned()),
            ("model", model.to_owned()),
        ];
        let with = |extra: (&'static str, &'static str)| {
            let mut all: Vec<(&'static str, String)> = labels.to_vec();
            all.push((extra.0, extra.1.to_owned()));
            all
        };
        Self {
            succeeded: OnceLock::new(),
            duration: metrics::histogram!("ql_llm_request_duration_seconds", &labels),
            ttft: OnceLock::new(),
            prompt_tokens: metrics::counter!("ql_llm_tokens_total", &with(("kind", "prompt"))),
            completion_tokens: metrics::counter!(
                "ql_llm_tokens_total",
                &with(("kind", "completion"))
            ),
            cost: metrics::counter!("ql_llm_cost_microdollars_total", &labels),
            labels,
        }
    }

    fn requests_with_status(&self, status: &str) -> Counter {
        let mut labels = self.labels.to_vec();
        labels.push(("status", status.to_owned()));
        metrics::counter!("ql_llm_requests_total", &labels)
    }

    fn record(&self, call: &Call<'_>) {
        if call.status == 200 {
            self.succeeded.get_or_init(|| self.requests_with_status("200")).increment(1);
        } else {
            self.requests_with_status(&call.status.to_string()).increment(1);
        }
        self.duration.record(call.latency_secs);
        if let Some(ttft) = call.ttft_secs {
            self.ttft
                .get_or_init(|| {
                    metrics::histogram!("ql_llm_time_to_first_token_seconds", &self.labels)
                })
                .record(ttft);
        }
        self.prompt_tokens.increment(call.prompt_tokens);
        self.completion_tokens.increment(call.completion_tokens);
        self.cost.increment(call.cost_micros);
    }
}

/// Handles by label combination; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct CallMetrics {
    kept: Arc<RwLock<HashMap<Labels, Arc<Series>>>>,
}

impl CallMetrics {
    pub fn record(&self, call: &Call<'_>) {
        let wanted = LabelsRef { route: call.route, provider: call.provider, model: call.model };
        let found = self.kept.read().ok().and_then(|kept| kept.get(&wanted).cloned());
        if let Some(series) = found {
            series.record(call);
            return;
        }
        let series = Arc::new(Series::register(call.route, call.provider, call.model));
        series.record(call);
        if let Ok(mut kept) = self.kept.write()
            && kept.len() < MAX_KEPT
        {
            let labels = Labels {
                route: call.route.into(),
                provider: call.provider.into(),
                model: call.model.into(),
            };
            kept.entry(labels).or_insert(series);
        }
    }
}

#[cfg(test)]
mod tests {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use super::*;

    fn call(route: &'static str, status: u16) -> Call<'static> {
        Call {
            route,
            provider: "mock",
            model: "m",
            status,
            latency_secs: 0.5,
            ttft_secs: (status == 200).then_some(0.1),
            prompt_tokens: 3,
            completion_tokens: 4,
            cost_micros: 7,
        }
    }

    #[test]
    fn calls_are_counted_by_labels_and_status_and_handles_are_kept_once() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let metrics = CallMetrics::default();
        metrics::with_local_recorder(&recorder, || {
            for (route, status) in
                [("fast", 200), ("fast", 200), ("fast", 502), ("slow", 200), ("down", 502)]
            {
                metrics.record(&call(route, status));
            }
        });
        assert_eq!(metrics.kept.read().expect("lock").len(), 3);
        let mut counters: Vec<(String, u64)> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter_map(|(key, _, _, value)| match value {
                DebugValue::Counter(count) => {
                    let key = key.key();
                    let mut labels: Vec<String> =
                        key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
                    labels.sort();
                    Some((format!("{} {}", key.name(), labels.join(",")), count))
                }
                _ => None,
            })
            .collect();
        counters.sort();
        // `down` only ever failed: it has no `status=200` series.
        let expected = [
            ("ql_llm_cost_microdollars_total model=m,provider=mock,route=down", 7),
            ("ql_llm_cost_microdollars_total model=m,provider=mock,route=fast", 21),
            ("ql_llm_cost_microdollars_total model=m,provider=mock,route=slow", 7),
            ("ql_llm_requests_total model=m,provider=mock,route=down,status=502", 1),
            ("ql_llm_requests_total model=m,provider=mock,route=fast,status=200", 2),
            ("ql_llm_requests_total model=m,provider=mock,route=fast,status=502", 1),
            ("ql_llm_requests_total model=m,provider=mock,route=slow,status=200", 1),
            ("ql_llm_tokens_total kind=completion,model=m,provider=mock,route=down", 4),
            ("ql_llm_tokens_total kind=completion,model=m,provider=mock,route=fast", 12),
            ("ql_llm_tokens_total kind=completion,model=m,provider=mock,route=slow", 4),
            ("ql_llm_tokens_total kind=prompt,model=m,provider=mock,route=down", 3),
            ("ql_llm_tokens_total kind=prompt,model=m,provider=mock,route=fast", 9),
            ("ql_llm_tokens_total kind=prompt,model=m,provider=mock,route=slow", 3),
        ];
        assert_eq!(counters, expected.map(|(name, count)| (name.to_owned(), count)).to_vec());
    }

    #[test]
    fn past_the_limit_calls_are_still_counted_but_no_more_handles_are_kept() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let metrics = CallMetrics::default();
        let routes: Vec<&'static str> = (0..=MAX_KEPT).map(|i| &*format!("r{i}").leak()).collect();
        metrics::with_local_recorder(&recorder, || {
            for route in &routes {
                metrics.record(&call(route, 200));
            }
            metrics.record(&call(routes[MAX_KEPT], 200));
        });
        assert_eq!(metrics.kept.read().expect("lock").len(), MAX_KEPT);
        let last = snapshotter.snapshot().into_vec().into_iter().find_map(|(key, _, _, value)| {
            let key = key.key();
            let is_last = key.name() == "ql_llm_requests_total"
                && key.labels().any(|l| l.key() == "route" && l.value() == routes[MAX_KEPT]);
            match value {
                DebugValue::Counter(count) if is_last => Some(count),
                _ => None,
            }
        });
        assert_eq!(last, Some(2));
    }
}
