//! The router's configuration as it appears in `quantumlayer.toml` (`[[providers]]`,
//! `[[routes]]`, `[router]`); the server reads the file, this crate gives it meaning.

use serde::{Deserialize, Serialize};

/// One upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The name routes refer to.
    pub name: String,
    pub kind: ProviderKind,
    /// The API root, such as `https://api.openai.com/v1`; each kind has a default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The environment variable holding the API key; the key itself never sits in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// AWS region, for `bedrock`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Seconds to connect.
    #[serde(default = "default_connect_secs")]
    pub connect_timeout_secs: u64,
    /// Seconds for a whole answer, or for a stream's first byte.
    #[serde(default = "default_request_secs")]
    pub request_timeout_secs: u64,
}

fn default_connect_secs() -> u64 {
    5
}

fn default_request_secs() -> u64 {
    120
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Openai,
    Anthropic,
    Bedrock,
    Builtin,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Bedrock => "bedrock",
            ProviderKind::Builtin => "builtin",
        }
    }
}

/// A model name clients send, mapped to an ordered list of targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub model: String,
    #[serde(default)]
    pub strategy: Strategy,
    pub targets: Vec<TargetConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    pub provider: String,
    pub model: String,
    /// Share of traffic under the `weighted` strategy.
    #[serde(default = "default_weight")]
    pub weight: u32,
}

fn default_weight() -> u32 {
    1
}

/// How a route orders its targets for each request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// In the listed order.
    #[default]
    Priority,
    /// At random, in proportion to the weights.
    Weighted,
    /// Lowest recent latency (an exponentially weighted moving average) first.
    Latency,
    /// Cheapest first, by the price table.
    Cost,
}

/// Retry and health settings (`[router]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouterSettings {
    /// Retries of one target on a retryable failure, before falling back to the next.
    pub retries: u32,
    /// The first backoff, in milliseconds; it doubles on each retry, with jitter.
    pub backoff_base_ms: u64,
    /// The longest backoff, in milliseconds.
    pub backoff_max_ms: u64,
    /// A `Retry-After` longer than this many seconds moves on to the next target instead.
    pub max_retry_after_secs: u64,
    /// Consecutive failures that mark a target unhealthy.
    pub breaker_failures: u32,
    /// Seconds before the first health probe of an unhealthy target; doubles per failed probe.
    pub breaker_first_probe_secs: u64,
    /// The longest interval between probes, in seconds.
    pub breaker_max_probe_secs: u64,
    /// The most time one request may spend across all its attempts, in seconds.
    pub request_deadline_secs: u64,
}

impl Default for RouterSettings {
    fn default() -> Self {
        Self {
            retries: 2,
            backoff_base_ms: 100,
            backoff_max_ms: 5_000,
            max_retry_after_secs: 10,
            breaker_failures: 5,
            breaker_first_probe_secs: 1,
            breaker_max_probe_secs: 60,
            request_deadline_secs: 300,
        }
    }
}
