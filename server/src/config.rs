//! Configuration: defaults, then `quantumlayer.toml` (or `--config FILE`), then environment
//! variables (`LEPTOS_SITE_ADDR`/`LEPTOS_SITE_ROOT` as set by cargo-leptos, then `QL_*`).
//!
//! Unknown keys are errors that name the key: a typo must not silently fall back to a default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The config file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "quantumlayer.toml";

/// Every setting of the server.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The address the server listens on. Env: `QL_LISTEN`.
    pub listen: SocketAddr,
    /// Holds the SQLite database, keys and stored artifacts. Env: `QL_DATA_DIR`.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: `quantumlayer.db` in the data directory.
    /// Env: `QL_DATABASE_URL`.
    pub database_url: Option<String>,
    /// The compiled site (wasm, JS, CSS, public assets). Env: `QL_SITE_ROOT`.
    pub site_root: PathBuf,
    pub log: LogConfig,
    pub http: HttpConfig,
    pub session: SessionConfig,
    /// LLM upstreams (`[[providers]]`).
    pub providers: Vec<ql_router::config::ProviderConfig>,
    /// Model names clients send, mapped to targets (`[[routes]]`).
    pub routes: Vec<ql_router::config::RouteConfig>,
    /// Retries, backoff and health checks of the router (`[router]`).
    pub router: ql_router::config::RouterSettings,
    /// Prices per million tokens that override the built-in list (`[[prices]]`).
    pub prices: Vec<ql_router::pricing::PriceEntry>,
    /// Rate limits and budgets of the gateway (`[quotas]`).
    pub quotas: ql_services::QuotaSettings,
    /// The gateway's exact-match answer cache (`[cache]`).
    pub cache: ql_services::CacheSettings,
    /// How generations are admitted and run (`[generations]`).
    pub generations: GenerationsConfig,
    /// Redis for counters shared by several processes, such as `redis://127.0.0.1:6379`.
    /// Env: `QL_REDIS_URL`.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so installations can share a server. Env: `QL_REDIS_NAMESPACE`.
    pub redis_namespace: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `human` or `json`. Env: `QL_LOG_FORMAT`.
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `server=debug,sqlx=warn`. Env: `QL_LOG`.
    pub filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// The largest request body accepted, in bytes. Env: `QL_MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// How long one request may take, in seconds. Env: `QL_REQUEST_TIMEOUT_SECS`.
    pub request_timeout_secs: u64,
    /// Threads serving requests; 0: one per CPU core; 1: a single-threaded scheduler (the
    /// least CPU per request). Env: `QL_WORKER_THREADS`.
    pub worker_threads: usize,
    /// The origin people reach the server at, when it differs from the `Host` header
    /// (behind a proxy), such as `https://ql.example.com`. Env: `QL_PUBLIC_URL`.
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// A session ends after this many hours without a request. Env: `QL_SESSION_TTL_HOURS`.
    pub ttl_hours: u32,
    /// Send the session cookie over HTTPS only. Env: `QL_SECURE_COOKIES`.
    pub secure_cookies: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenerationsConfig {
    /// Generations one organisation runs at once; more wait in order. Env: `QL_GENERATIONS_PER_ORG`.
    pub per_org_limit: u32,
    /// Steps one worker process runs at once. Env: `QL_GENERATION_CONCURRENCY`.
    pub concurrency: usize,
    /// Sandboxed test runs one worker process runs at once. Env: `QL_GENERATION_TEST_RUNS`.
    pub concurrent_tests: usize,
    /// The longest one sandboxed test run may take, in seconds. Env: `QL_GENERATION_TEST_TIMEOUT_SECS`.
    pub test_timeout_secs: u64,
    /// The job queue's name. On PostgreSQL the queue's tables sit in the shared `apalis`
    /// schema: installations sharing one database need names of their own. Env: `QL_GENERATION_QUEUE`.
    pub queue: String,
    /// How much a `quantumlayer worker` process yields the CPU (its nice value, 0 to 19):
    /// generations are batch work, while web processes serve pages and event streams to
    /// people waiting on them. Env: `QL_WORKER_NICE`.
    pub worker_nice: i32,
}

impl Default for GenerationsConfig {
    fn default() -> Self {
        let defaults = ql_services::OrchestratorSettings::default();
        Self {
            per_org_limit: u32::try_from(defaults.per_org_limit).unwrap_or(2),
            concurrency: defaults.concurrency,
            concurrent_tests: defaults.concurrent_tests,
            test_timeout_secs: defaults.test_timeout.as_secs(),
            queue: defaults.queue,
            worker_nice: 10,
        }
    }
}

impl GenerationsConfig {
    /// The orchestrator's settings: these values over its defaults.
    pub fn settings(&self) -> ql_services::OrchestratorSettings {
        ql_services::OrchestratorSettings {
            per_org_limit: i64::from(self.per_org_limit.max(1)),
            concurrency: self.concurrency.max(1),
            concurrent_tests: self.concurrent_tests.max(1),
            test_timeout: std::time::Duration::from_secs(self.test_timeout_secs.max(1)),
            queue: if self.queue.trim().is_empty() {
                ql_services::OrchestratorSettings::default().queue
            } else {
                self.queue.trim().to_owned()
            },
            ..ql_services::OrchestratorSettings::default()
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            site_root: PathBuf::from("target/site"),
            log: LogConfig::default(),
            http: HttpConfig::default(),
            session: SessionConfig::default(),
            providers: Vec::new(),
            routes: Vec::new(),
            router: ql_router::config::RouterSettings::default(),
            prices: Vec::new(),
            quotas: ql_services::QuotaSettings::default(),
            cache: ql_services::CacheSettings::default(),
            generations: GenerationsConfig::default(),
            redis_url: None,
            redis_namespace: "ql".to_owned(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Human, filter: "info".to_owned() }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_secs: 60,
            worker_threads: 0,
            public_url: None,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { ttl_hours: 24 * 7, secure_cookies: false }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error(
        "unknown environment variable {0} (see `quantumlayer config example` for the known ones)"
    )]
    UnknownEnv(String),
}

/// `QL_*` variables that belong to scripts and tests, not to the server.
/// `QL_SECRET_KEY` is read on its own (see `secret_key.rs`), never kept in `Config`.
const FOREIGN_ENV_PREFIXES: &[&str] =
    &["QL_TEST_", "QL_E2E_", "QL_CACHE_DIR", "QL_BENCH_", "QL_SECRET_KEY"];

type Setter = fn(&mut Config, &str) -> Result<(), String>;

/// Each environment variable the server reads, and where it goes.
const ENV_VARS: &[(&str, Setter)] = &[
    ("QL_LISTEN", |c, v| parse_into(&mut c.listen, v)),
    ("QL_DATA_DIR", |c, v| set(&mut c.data_dir, PathBuf::from(v))),
    ("QL_DATABASE_URL", |c, v| set(&mut c.database_url, Some(v.to_owned()))),
    ("QL_SITE_ROOT", |c, v| set(&mut c.site_root, PathBuf::from(v))),
    ("QL_REDIS_URL", |c, v| set(&mut c.redis_url, Some(v.to_owned()))),
    ("QL_REDIS_NAMESPACE", |c, v| set(&mut c.redis_namespace, v.to_owned())),
    ("QL_LOG_FORMAT", |c, v| {
        c.log.format = match v {
            "human" => LogFormat::Human,
            "json" => LogFormat::Json,
            _ => return Err("expected `human` or `json`".to_owned()),
        };
        Ok(())
    }),
    ("QL_LOG", |c, v| set(&mut c.log.filter, v.to_owned())),
    ("QL_MAX_BODY_BYTES", |c, v| parse_into(&mut c.http.max_body_bytes, v)),
    ("QL_REQUEST_TIMEOUT_SECS", |c, v| parse_into(&mut c.http.request_timeout_secs, v)),
    ("QL_WORKER_THREADS", |c, v| parse_into(&mut c.http.worker_threads, v)),
    ("QL_PUBLIC_URL", |c, v| set(&mut c.http.public_url, Some(v.trim_end_matches('/').to_owned()))),
    ("QL_SESSION_TTL_HOURS", |c, v| parse_into(&mut c.session.ttl_hours, v)),
    ("QL_SECURE_COOKIES", |c, v| parse_into(&mut c.session.secure_cookies, v)),
    ("QL_GENERATIONS_PER_ORG", |c, v| parse_into(&mut c.generations.per_org_limit, v)),
    ("QL_GENERATION_CONCURRENCY", |c, v| parse_into(&mut c.generations.concurrency, v)),
    ("QL_GENERATION_TEST_RUNS", |c, v| parse_into(&mut c.generations.concurrent_tests, v)),
    ("QL_GENERATION_TEST_TIMEOUT_SECS", |c, v| parse_into(&mut c.generations.test_timeout_secs, v)),
    ("QL_GENERATION_QUEUE", |c, v| set(&mut c.generations.queue, v.to_owned())),
    ("QL_WORKER_NICE", |c, v| parse_into(&mut c.generations.worker_nice, v)),
];

/// What cargo-leptos sets when it runs the server; below `QL_*` in priority.
const LEPTOS_ENV_VARS: &[(&str, Setter)] = &[
    ("LEPTOS_SITE_ADDR", |c, v| parse_into(&mut c.listen, v)),
    ("LEPTOS_SITE_ROOT", |c, v| set(&mut c.site_root, PathBuf::from(v))),
];

fn set<T>(slot: &mut T, value: T) -> Result<(), String> {
    *slot = value;
    Ok(())
}

fn parse_into<T: std::str::FromStr>(slot: &mut T, value: &str) -> Result<(), String>
where
    T::Err: std::fmt::Display,
{
    *slot = value.trim().parse().map_err(|e: T::Err| e.to_string())?;
    Ok(())
}

impl Config {
    /// Loads the layers from the real file system and process environment.
    pub fn load(explicit_file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(explicit_file, std::env::vars())
    }

    /// Loads the layers with the given environment (tests pass their own).
    pub fn load_from(
        explicit_file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut config = match explicit_file {
            Some(path) => Self::from_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                Self::from_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => Self::default(),
        };
        let env: Vec<(String, String)> = env.into_iter().collect();
        for table in [LEPTOS_ENV_VARS, ENV_VARS] {
            for (name, setter) in table {
                if let Some((_, value)) = env.iter().find(|(key, _)| key == name) {
                    setter(&mut config, value).map_err(|message| ConfigError::Env {
                        name: (*name).to_owned(),
                        message,
                    })?;
                }
            }
        }
        let unknown = env.iter().map(|(key, _)| key).find(|key| {
            key.starts_with("QL_")
                && !ENV_VARS.iter().any(|(name, _)| name == key)
                && !FOREIGN_ENV_PREFIXES.iter().any(|prefix| key.starts_with(prefix))
        });
        if let Some(name) = unknown {
            return Err(ConfigError::UnknownEnv(name.clone()));
        }
        Ok(config)
    }

    /// Parses one TOML file; the error names the file, the line and the key.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Self::from_toml(&text)
            .map_err(|message| ConfigError::Parse { path: path.to_owned(), message })
    }

    fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
    }

    /// The database to open: the configured URL, or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("quantumlayer.db").display()),
        }
    }
}

impl Config {
    /// The router's part of the configuration.
    pub fn gateway_config(&self) -> ql_router::build::GatewayConfig {
        ql_router::build::GatewayConfig {
            providers: self.providers.clone(),
            routes: self.routes.clone(),
            settings: self.router.clone(),
            prices: self.prices.clone(),
        }
    }
}

/// What `quantumlayer config example` prints: every key, commented, at its default.
pub const EXAMPLE_CONFIG: &str = r#"# quantumlayer.toml: every key is optional; these are the defaults.
# Each can also be set by an environment variable (named beside it), which wins over this file.

# The address the server listens on.                           QL_LISTEN
listen = "127.0.0.1:3000"
# Holds the SQLite database, keys and stored artifacts.          QL_DATA_DIR
data_dir = "data"
# sqlite://… or postgres://…; default: quantumlayer.db in data_dir.  QL_DATABASE_URL
# database_url = "postgres://user@127.0.0.1:5432/quantumlayer"
# The compiled site (wasm, JS, CSS, public assets).             QL_SITE_ROOT
site_root = "target/site"
# Redis, for rate-limit and budget counters shared by several processes. QL_REDIS_URL
# redis_url = "redis://127.0.0.1:6379"
# The prefix of every key there, so several installations can share one server. QL_REDIS_NAMESPACE
redis_namespace = "ql"

[log]
# human or json.                                                QL_LOG_FORMAT
format = "human"
# A tracing filter, such as "info" or "server=debug,sqlx=warn". QL_LOG
filter = "info"

[http]
# The largest request body accepted, in bytes.                  QL_MAX_BODY_BYTES
max_body_bytes = 2097152
# How long one request may take, in seconds.                    QL_REQUEST_TIMEOUT_SECS
request_timeout_secs = 60
# Threads serving requests; 0: one per core; 1: single-threaded. QL_WORKER_THREADS
worker_threads = 0
# The origin people reach the server at, behind a proxy.        QL_PUBLIC_URL
# public_url = "https://ql.example.com"

[session]
# A session ends after this many hours without a request.      QL_SESSION_TTL_HOURS
ttl_hours = 168
# Send the session cookie over HTTPS only.                      QL_SECURE_COOKIES
secure_cookies = false

# LLM router: upstreams and the routes clients reach them by, for example:
#
# [[providers]]
# name = "local-llama"
# kind = "openai"                    # openai | anthropic | bedrock | builtin
# base_url = "http://127.0.0.1:11434/v1"
# api_key_env = "OLLAMA_KEY"         # optional; the secret itself never sits in this file
#                                    # (bedrock: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, and
#                                    # AWS_SESSION_TOKEN if set; `region` or AWS_REGION)
# connect_timeout_secs = 5
# request_timeout_secs = 120         # a whole answer, or a stream's first byte
#
# [[routes]]
# model = "fast"                     # the name clients send
# strategy = "priority"              # priority | weighted | latency | cost
# targets = [ { provider = "local-llama", model = "llama3.1" }, { provider = "groq", model = "llama-3.1-8b-instant" } ]
#
# [[prices]]                         # USD per million tokens, for costs and the cost strategy
# model = "llama3.1"
# input_per_mtok = 0.0
# output_per_mtok = 0.0

[quotas]
# Token buckets per organisation and per API key (0: no limit). Over a limit the answer is
# 429 with Retry-After. Tokens are debited when a call ends, so a bucket can go into debt.
org_requests_per_minute = 0
org_tokens_per_minute = 0
key_requests_per_minute = 0
key_tokens_per_minute = 0
# US dollars an organisation may spend per calendar month (UTC), priced by [[prices]] and the
# built-in list; 0: no budget.
org_monthly_budget_usd = 0.0

[cache]
# Non-streaming answers to deterministic requests (temperature 0, or the request header
# `x-ql-cache: use`) are reused for identical requests of the same organisation;
# `x-ql-cache: skip` bypasses it. In memory, or in Redis when redis_url is set.
enabled = true
ttl_secs = 3600
# Memory the in-process cache may hold, and the largest answer it keeps, in bytes.
max_bytes = 268435456
max_entry_bytes = 1048576

[generations]
# Generations one organisation runs at once; more wait their turn, in order. QL_GENERATIONS_PER_ORG
per_org_limit = 2
# Steps one worker process runs at once.                       QL_GENERATION_CONCURRENCY
concurrency = 16
# Sandboxed test runs one worker process runs at once.          QL_GENERATION_TEST_RUNS
concurrent_tests = 2
# The longest one sandboxed test run may take, in seconds.      QL_GENERATION_TEST_TIMEOUT_SECS
test_timeout_secs = 300
# The job queue's name; on PostgreSQL, installations sharing a database need their own. QL_GENERATION_QUEUE
queue = "ql-generations"
# How much a `quantumlayer worker` process yields the CPU to web processes (nice, 0-19). QL_WORKER_NICE
worker_nice = 10
# A worker beats every 2 s; one silent for 6 s is presumed dead and its steps run again elsewhere.

[router]
# Retries of one target on a retryable failure (429, 5xx, timeouts, refused connections).
retries = 2
# Backoff before a retry: doubles from the base up to the maximum, with jitter.
backoff_base_ms = 100
backoff_max_ms = 5000
# A Retry-After longer than this moves on to the next target instead of waiting.
max_retry_after_secs = 10
# Consecutive failures that mark a target unhealthy; it is then probed after
# breaker_first_probe_secs, doubling after each failed probe up to breaker_max_probe_secs.
breaker_failures = 5
breaker_first_probe_secs = 1
breaker_max_probe_secs = 60
# The most time one request may spend across all its attempts.
request_deadline_secs = 300
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn example_is_the_defaults() {
        assert_eq!(Config::from_toml(EXAMPLE_CONFIG), Ok(Config::default()));
    }

    #[test]
    fn layers_file_then_leptos_then_ql_env() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("ql.toml");
        std::fs::write(&file, "data_dir = \"/srv/ql\"\n[log]\nformat = \"json\"\n").expect("write");
        let config = Config::load_from(
            Some(&file),
            env(&[
                ("LEPTOS_SITE_ADDR", "127.0.0.1:4000"),
                ("QL_LOG_FORMAT", "human"),
                ("QL_DATABASE_URL", "postgres://u@h/db"),
                ("QL_TEST_POSTGRES_URL", "ignored: belongs to tests"),
                ("PATH", "/usr/bin"),
            ]),
        )
        .expect("config");
        assert_eq!(config.data_dir, PathBuf::from("/srv/ql"));
        assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 4000)));
        assert_eq!(config.log.format, LogFormat::Human);
        assert_eq!(config.database_url(), "postgres://u@h/db");
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let config = Config { data_dir: PathBuf::from("/var/ql"), ..Config::default() };
        assert_eq!(config.database_url(), "sqlite:///var/ql/quantumlayer.db");
    }

    #[test]
    fn unknown_keys_name_the_file_line_and_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:3000\"\n\n[log]\nformt = \"json\"\n")
            .expect("write");
        let message = Config::load_from(Some(&file), env(&[])).unwrap_err().to_string();
        assert!(message.contains(&file.display().to_string()), "{message}");
        assert!(message.contains("line 4"), "{message}");
        assert!(message.contains("unknown field `formt`"), "{message}");
    }

    #[test]
    fn malformed_values_are_errors() {
        let cases = [
            ("listen = 3000\n", "line 1"),
            ("listen = \"not an address\"\n", "invalid socket address"),
            ("[log\n", "line 1"),
        ];
        for (text, expected) in cases {
            let message = Config::from_toml(text).unwrap_err();
            assert!(message.contains(expected), "{text:?} gave {message}");
        }
    }

    #[test]
    fn environment_mistakes_are_named() {
        let cases = [
            (("QL_LISTEN", "nowhere"), "invalid environment variable QL_LISTEN"),
            (("QL_LOG_FORMAT", "xml"), "expected `human` or `json`"),
            (("QL_DATABSE_URL", "sqlite://x"), "unknown environment variable QL_DATABSE_URL"),
        ];
        for ((name, value), expected) in cases {
            let message = Config::load_from(None, env(&[(name, value)])).unwrap_err().to_string();
            assert!(message.contains(expected), "{name}={value} gave {message}");
        }
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        let message = Config::load_from(Some(Path::new("/no/such/ql.toml")), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("cannot read config file /no/such/ql.toml"), "{message}");
    }
}
