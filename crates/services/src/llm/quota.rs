//! Rate limits and budgets: token buckets per organisation and per API key for requests and
//! tokens per minute, and a monthly spend budget per organisation.
//!
//! Buckets refill continuously at their per-minute limit. A request takes one request token
//! at admission; tokens are checked at admission (the bucket must hold the prompt's estimate)
//! and debited with the real count when the call ends, so a bucket can go into debt and then
//! admits nothing until it refills. Counters live in memory, or in Redis when configured, so
//! that every gateway process shares one limit (one Lua script per check, on Redis's clock).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Limits applied to every organisation and key (`[quotas]`; 0 means no limit).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaSettings {
    pub org_requests_per_minute: u32,
    pub org_tokens_per_minute: u32,
    pub key_requests_per_minute: u32,
    pub key_tokens_per_minute: u32,
    /// US dollars an organisation may spend per calendar month (UTC); 0: no budget.
    pub org_monthly_budget_usd: f64,
}

impl QuotaSettings {
    /// Whether any limit counts what calls use (tokens or money) after they are answered.
    pub fn counts_usage(&self) -> bool {
        self.org_tokens_per_minute > 0
            || self.key_tokens_per_minute > 0
            || self.org_monthly_budget_usd > 0.0
    }
}

impl Default for QuotaSettings {
    fn default() -> Self {
        Self {
            org_requests_per_minute: 0,
            org_tokens_per_minute: 0,
            key_requests_per_minute: 0,
            key_tokens_per_minute: 0,
            org_monthly_budget_usd: 0.0,
        }
    }
}

/// The outcome of one bucket operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketState {
    pub allowed: bool,
    /// The level after the operation.
    pub level: f64,
}

/// Where bucket levels and spend counters live.
#[async_trait::async_trait]
pub trait Counters: Send + Sync {
    /// Refills the bucket `key` (holding at most `capacity`, refilling `capacity` per minute);
    /// if its level is at least `require`, subtracts `take` and allows.
    async fn bucket(
        &self,
        key: &str,
        capacity: f64,
        require: f64,
        take: f64,
    ) -> Result<BucketState, String>;

    /// Adds `amount` to the counter `key` (created at `initial()` if missing) and returns the
    /// new total; `amount` 0 only reads.
    async fn add(&self, key: &str, amount: i64, initial: i64, ttl: Duration)
    -> Result<i64, String>;

    /// Whether the counter `key` exists (so its initial value need not be computed).
    async fn has(&self, key: &str) -> Result<bool, String>;
}

#[derive(Debug)]
struct Bucket {
    level: f64,
    at: Instant,
}

/// Counters in this process's memory.
#[derive(Debug)]
pub struct MemoryCounters {
    buckets: moka::sync::Cache<String, Arc<Mutex<Bucket>>>,
    totals: moka::sync::Cache<String, Arc<std::sync::atomic::AtomicI64>>,
}

impl Default for MemoryCounters {
    fn default() -> Self {
        Self {
            buckets: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
            totals: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(40 * 86_400))
                .build(),
        }
    }
}

/// The bucket arithmetic both backends share (the Lua script mirrors it).
fn refill_and_take(
    level: f64,
    elapsed_secs: f64,
    capacity: f64,
    require: f64,
    take: f64,
) -> BucketState {
    let level = (level + elapsed_secs * capacity / 60.0).min(capacity);
    if level >= require {
        BucketState { allowed: true, level: level - take }
    } else {
        BucketState { allowed: false, level }
    }
}

#[async_trait::async_trait]
impl Counters for MemoryCounters {
    async fn bucket(
        &self,
        key: &str,
        capacity: f64,
        require: f64,
        take: f64,
    ) -> Result<BucketState, String> {
        let bucket = self.buckets.get_with_by_ref(key, || {
            Arc::new(Mutex::new(Bucket { level: capacity, at: Instant::now() }))
        });
        let mut bucket = bucket.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let state = refill_and_take(
            bucket.level,
            now.duration_since(bucket.at).as_secs_f64(),
            capacity,
            require,
            take,
        );
        bucket.level = state.level;
        bucket.at = now;
        Ok(state)
    }

    async fn add(
        &self,
        key: &str,
        amount: i64,
        initial: i64,
        _ttl: Duration,
    ) -> Result<i64, String> {
        let total = self
            .totals
            .get_with_by_ref(key, || Arc::new(std::sync::atomic::AtomicI64::new(initial)));
        Ok(total.fetch_add(amount, std::sync::atomic::Ordering::Relaxed) + amount)
    }

    async fn has(&self, key: &str) -> Result<bool, String> {
        Ok(self.totals.contains_key(key))
    }
}

/// The bucket in one atomic script, on Redis's clock so every process agrees.
const BUCKET_SCRIPT: &str = r"
local capacity = tonumber(ARGV[1])
local require = tonumber(ARGV[2])
local take = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(state[1])
local at = tonumber(state[2])
if level == nil or at == nil then level = capacity; at = now end
level = math.min(capacity, level + (now - at) * capacity / 60)
local allowed = 0
if level >= require then level = level - take; allowed = 1 end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 180)
return {allowed, tostring(level)}
";

/// Counters in Redis, shared by every gateway process that uses the same server.
#[derive(Clone)]
pub struct RedisCounters {
    connection: redis::aio::ConnectionManager,
    script: Arc<redis::Script>,
    /// Prefixed to every key, so several installations can share one Redis.
    namespace: String,
}

impl std::fmt::Debug for RedisCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisCounters")
    }
}

impl RedisCounters {
    pub async fn connect(url: &str, namespace: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|error| format!("Redis URL: {error}"))?;
        let connection = redis::aio::ConnectionManager::new(client)
            .await
            .map_err(|error| format!("cannot connect to Redis: {error}"))?;
        Ok(Self {
            connection,
            script: Arc::new(redis::Script::new(BUCKET_SCRIPT)),
            namespace: namespace.to_owned(),
        })
    }

    /// The shared connection, for the answer cache.
    pub fn connection(&self) -> redis::aio::ConnectionManager {
        self.connection.clone()
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }
}

#[async_trait::async_trait]
impl Counters for RedisCounters {
    async fn bucket(
        &self,
        key: &str,
        capacity: f64,
        require: f64,
        take: f64,
    ) -> Result<BucketState, String> {
        let mut connection = self.connection.clone();
        let (allowed, level): (i64, String) = self
            .script
            .key(self.key(key))
            .arg(capacity)
            .arg(require)
            .arg(take)
            .invoke_async(&mut connection)
            .await
            .map_err(|error| error.to_string())?;
        Ok(BucketState { allowed: allowed == 1, level: level.parse().unwrap_or(0.0) })
    }

    async fn add(
        &self,
        key: &str,
        amount: i64,
        initial: i64,
        ttl: Duration,
    ) -> Result<i64, String> {
        let mut connection = self.connection.clone();
        let key = self.key(key);
        let (_, total, _): (bool, i64, bool) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(initial)
            .arg("NX")
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .cmd("INCRBY")
            .arg(&key)
            .arg(amount)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(ttl.as_secs().max(1))
            .query_async(&mut connection)
            .await
            .map_err(|error| error.to_string())?;
        Ok(total)
    }

    async fn has(&self, key: &str) -> Result<bool, String> {
        let mut connection = self.connection.clone();
        redis::cmd("EXISTS")
            .arg(key)
            .query_async(&mut connection)
            .await
            .map_err(|error| error.to_string())
    }
}

/// Why a request was refused, and when to come back.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub message: String,
    pub retry_after: Duration,
    pub scope: &'static str,
    pub limit: &'static str,
}

/// How long a bucket needs to refill from `level` to `require`.
pub fn refill_wait(level: f64, require: f64, per_minute: f64) -> Duration {
    if per_minute <= 0.0 {
        return Duration::from_secs(60);
    }
    let seconds = ((require - level).max(0.0) * 60.0 / per_minute).clamp(1.0, 3_600.0);
    Duration::from_secs_f64(seconds.ceil())
}

/// The limits, over one set of counters.
pub struct Quotas {
    pub settings: QuotaSettings,
    pub counters: Arc<dyn Counters>,
}

impl std::fmt::Debug for Quotas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quotas").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Quotas {
    /// Checks the request and token buckets of the organisation and the key (when the call
    /// has one), taking one request from each; `estimated_tokens` must be available in the
    /// token buckets.
    pub async fn admit(
        &self,
        org: &str,
        key: Option<&str>,
        estimated_tokens: u64,
    ) -> Result<(), Refusal> {
        let key_limit = |per_minute: u32| if key.is_some() { per_minute } else { 0 };
        let key = key.unwrap_or_default();
        let checks = [
            (
                "organization",
                "requests",
                format!("rpm:org:{org}"),
                self.settings.org_requests_per_minute,
                1.0,
                1.0,
            ),
            (
                "api_key",
                "requests",
                format!("rpm:key:{key}"),
                key_limit(self.settings.key_requests_per_minute),
                1.0,
                1.0,
            ),
            (
                "organization",
                "tokens",
                format!("tpm:org:{org}"),
                self.settings.org_tokens_per_minute,
                estimated_tokens as f64,
                0.0,
            ),
            (
                "api_key",
                "tokens",
                format!("tpm:key:{key}"),
                key_limit(self.settings.key_tokens_per_minute),
                estimated_tokens as f64,
                0.0,
            ),
        ];
        for (scope, limit, bucket, per_minute, require, take) in checks {
            if per_minute == 0 {
                continue;
            }
            let capacity = f64::from(per_minute);
            let require = require.min(capacity);
            match self.counters.bucket(&bucket, capacity, require, take).await {
                Ok(state) if state.allowed => {}
                Ok(state) => {
                    return Err(Refusal {
                        message: format!(
                            "This {} has used its {per_minute} {limit} per minute; try again shortly.",
                            scope.replace('_', " ")
                        ),
                        retry_after: refill_wait(state.level, require, capacity),
                        scope,
                        limit,
                    });
                }
                Err(error) => {
                    // Fail open: a limit store outage must not take the gateway down.
                    tracing::warn!(%error, "rate limit store unavailable; request admitted");
                    metrics::counter!("ql_llm_quota_errors_total").increment(1);
                }
            }
        }
        Ok(())
    }

    /// Debits the tokens a finished call used from the organisation's and key's buckets.
    pub async fn debit_tokens(&self, org: &str, key: Option<&str>, tokens: u64) {
        let key_limit = if key.is_some() { self.settings.key_tokens_per_minute } else { 0 };
        let buckets = [
            (format!("tpm:org:{org}"), self.settings.org_tokens_per_minute),
            (format!("tpm:key:{}", key.unwrap_or_default()), key_limit),
        ];
        for (bucket, per_minute) in buckets {
            if per_minute > 0 && tokens > 0 {
                let capacity = f64::from(per_minute);
                if let Err(error) =
                    self.counters.bucket(&bucket, capacity, f64::NEG_INFINITY, tokens as f64).await
                {
                    tracing::warn!(%error, "token debit not recorded");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_continuously_up_to_capacity() {
        // (level, seconds since, capacity, require, take) → (allowed, level after)
        let cases = [
            (10.0, 0.0, 10.0, 1.0, 1.0, true, 9.0),
            (0.0, 0.0, 10.0, 1.0, 1.0, false, 0.0),
            (0.0, 6.0, 10.0, 1.0, 1.0, true, 0.0), // 6 s at 10/min refills 1
            (0.0, 600.0, 10.0, 1.0, 1.0, true, 9.0), // never above capacity
            (-50.0, 60.0, 100.0, 1.0, 0.0, true, 50.0), // a debt is paid back first
            (5.0, 0.0, 10.0, f64::NEG_INFINITY, 30.0, true, -25.0),
        ];
        for (level, elapsed, capacity, require, take, allowed, after) in cases {
            let state = refill_and_take(level, elapsed, capacity, require, take);
            assert_eq!(
                (state.allowed, state.level),
                (allowed, after),
                "{level} {elapsed} {capacity} {require} {take}"
            );
        }
        assert_eq!(refill_wait(0.0, 1.0, 60.0), Duration::from_secs(1));
        assert_eq!(refill_wait(-100.0, 0.0, 600.0), Duration::from_secs(10));
    }

    fn quotas(settings: QuotaSettings) -> Quotas {
        Quotas { settings, counters: Arc::new(MemoryCounters::default()) }
    }

    #[tokio::test]
    async fn request_limits_apply_per_key_and_per_organisation() {
        let limits = quotas(QuotaSettings {
            org_requests_per_minute: 5,
            key_requests_per_minute: 3,
            ..QuotaSettings::default()
        });
        for _ in 0..3 {
            limits.admit("org", Some("key-a"), 0).await.expect("within the key's limit");
        }
        let refused = limits.admit("org", Some("key-a"), 0).await.expect_err("key limit");
        assert_eq!((refused.scope, refused.limit), ("api_key", "requests"));
        assert!(refused.retry_after >= Duration::from_secs(1));
        limits.admit("org", Some("key-b"), 0).await.expect("another key");
        // The organisation has now admitted 4 + 1 refused-by-key (which took the org's token
        // before the key check): its fifth request is the last.
        let refused = limits.admit("org", Some("key-b"), 0).await.expect_err("org limit");
        assert_eq!((refused.scope, refused.limit), ("organization", "requests"));
        limits.admit("other-org", Some("key-c"), 0).await.expect("organisations are separate");
    }

    #[tokio::test]
    async fn a_call_without_a_key_meets_only_the_organisations_limits() {
        let limits = quotas(QuotaSettings {
            org_requests_per_minute: 3,
            key_requests_per_minute: 1,
            ..QuotaSettings::default()
        });
        for _ in 0..3 {
            limits.admit("org", None, 0).await.expect("no key limit applies");
        }
        let refused = limits.admit("org", None, 0).await.expect_err("the organisation's limit");
        assert_eq!((refused.scope, refused.limit), ("organization", "requests"));
    }

    #[tokio::test]
    async fn token_limits_admit_until_the_debited_tokens_exceed_the_bucket() {
        let limits =
            quotas(QuotaSettings { org_tokens_per_minute: 1_000, ..QuotaSettings::default() });
        limits.admit("org", Some("key"), 400).await.expect("room");
        limits.debit_tokens("org", Some("key"), 900).await;
        let refused = limits.admit("org", Some("key"), 400).await.expect_err("only ~100 left");
        assert_eq!(refused.limit, "tokens");
        assert!(refused.message.contains("1000 tokens per minute"), "{}", refused.message);
        limits.admit("org", Some("key"), 50).await.expect("a small request still fits");
        limits.admit("org", Some("key"), 5_000).await.expect_err("more than remains");
    }
}
