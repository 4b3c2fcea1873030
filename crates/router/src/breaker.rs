//! A circuit breaker per target: after repeated failures the target is skipped and probed
//! at exponentially growing intervals until a probe succeeds.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When a breaker opens and how it probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// The wait before the first probe.
    pub first_probe_after: Duration,
    /// The longest wait between probes.
    pub max_probe_interval: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            first_probe_after: Duration::from_secs(1),
            max_probe_interval: Duration::from_secs(60),
        }
    }
}

/// What the breaker says about sending a request now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Healthy: send.
    Closed,
    /// Unhealthy but a probe is due: send this one request as the probe.
    Probe,
    /// Unhealthy: skip until the given instant.
    Open { until: Instant },
}

/// The state shown on the Providers page and in metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
}

#[derive(Debug)]
struct Inner {
    consecutive_failures: u32,
    /// Set while open: no request before this instant except a probe.
    open_until: Option<Instant>,
    probe_interval: Duration,
}

#[derive(Debug)]
pub struct Breaker {
    policy: BreakerPolicy,
    inner: Mutex<Inner>,
}

impl Breaker {
    pub fn new(policy: BreakerPolicy) -> Self {
        Self {
            policy,
            inner: Mutex::new(Inner {
                consecutive_failures: 0,
                open_until: None,
                probe_interval: policy.first_probe_after,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Asks to send a request at `now`. A due probe is handed out once: the next caller waits
    /// for the probe's own interval.
    pub fn admit(&self, now: Instant) -> Admission {
        let mut inner = self.lock();
        match inner.open_until {
            None => Admission::Closed,
            Some(until) if now < until => Admission::Open { until },
            Some(_) => {
                inner.open_until = Some(now + inner.probe_interval);
                Admission::Probe
            }
        }
    }

    /// Records a success; returns true when it closed an open breaker.
    pub fn record_success(&self) -> bool {
        let mut inner = self.lock();
        inner.consecutive_failures = 0;
        inner.probe_interval = self.policy.first_probe_after;
        inner.open_until.take().is_some()
    }

    /// Records a failure at `now`; returns true when this failure opened the breaker.
    pub fn record_failure(&self, now: Instant) -> bool {
        let mut inner = self.lock();
        inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
        if inner.open_until.is_some() {
            // A failed probe: wait twice as long before the next one.
            inner.probe_interval = (inner.probe_interval * 2).min(self.policy.max_probe_interval);
            inner.open_until = Some(now + inner.probe_interval);
            false
        } else if inner.consecutive_failures >= self.policy.failure_threshold {
            inner.probe_interval = self.policy.first_probe_after;
            inner.open_until = Some(now + inner.probe_interval);
            true
        } else {
            false
        }
    }

    pub fn state(&self) -> BreakerState {
        if self.lock().open_until.is_some() { BreakerState::Open } else { BreakerState::Closed }
    }

    /// When the next probe is due, while open.
    pub fn next_probe(&self) -> Option<Instant> {
        self.lock().open_until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BreakerPolicy {
        BreakerPolicy {
            failure_threshold: 3,
            first_probe_after: Duration::from_secs(1),
            max_probe_interval: Duration::from_secs(5),
        }
    }

    #[test]
    fn opens_after_the_threshold_and_probes_with_doubling_intervals() {
        let breaker = Breaker::new(policy());
        let start = Instant::now();
        assert!(!breaker.record_failure(start));
        assert!(!breaker.record_failure(start));
        assert_eq!(breaker.admit(start), Admission::Closed);
        assert!(breaker.record_failure(start), "the third failure opens it");
        assert_eq!(breaker.state(), BreakerState::Open);
        assert_eq!(breaker.admit(start), Admission::Open { until: start + Duration::from_secs(1) });

        // Probe intervals: 1 s, then after each failed probe 2 s, 4 s, 5 s (the cap), 5 s.
        let mut now = start + Duration::from_secs(1);
        for expected in [2, 4, 5, 5] {
            assert_eq!(breaker.admit(now), Admission::Probe);
            assert!(matches!(breaker.admit(now), Admission::Open { .. }), "one probe at a time");
            breaker.record_failure(now);
            assert_eq!(breaker.next_probe(), Some(now + Duration::from_secs(expected)));
            now += Duration::from_secs(expected);
        }
        assert_eq!(breaker.admit(now), Admission::Probe);
        assert!(breaker.record_success(), "the successful probe closes it");
        assert!(!breaker.record_success());
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(breaker.admit(now), Admission::Closed);
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let breaker = Breaker::new(policy());
        let now = Instant::now();
        breaker.record_failure(now);
        breaker.record_failure(now);
        breaker.record_success();
        breaker.record_failure(now);
        breaker.record_failure(now);
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
}
