//! The exact-match answer cache: deterministic non-streaming requests (temperature 0, or a
//! client that asks with `x-ql-cache: use`) are answered from a previous identical request of
//! the same organisation. In memory (moka, bounded by bytes) or in Redis when configured.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ql_router::wire::{ChatRequest, Usage};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `[cache]` settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheSettings {
    pub enabled: bool,
    /// How long an answer is reused, in seconds.
    pub ttl_secs: u64,
    /// Memory the in-process cache may hold, in bytes.
    pub max_bytes: u64,
    /// Answers larger than this are not cached.
    pub max_entry_bytes: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            ttl_secs: 3_600,
            max_bytes: 256 * 1024 * 1024,
            max_entry_bytes: 1024 * 1024,
        }
    }
}

/// What the client asked of the cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CacheMode {
    /// Cache deterministic requests (temperature 0).
    #[default]
    Auto,
    /// Cache this request whatever its temperature.
    Use,
    /// Neither read nor write the cache.
    Skip,
}

impl CacheMode {
    /// The mode named by an `x-ql-cache` request header.
    pub fn from_header(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("use") => CacheMode::Use,
            Some(v) if v.eq_ignore_ascii_case("skip") => CacheMode::Skip,
            _ => CacheMode::Auto,
        }
    }
}

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedAnswer {
    #[serde(with = "body_text")]
    pub body: Bytes,
    pub usage: Usage,
    pub provider: String,
    pub provider_kind: String,
    pub model: String,
    /// The route and model as metrics name them (see `ql_router::route::Route::label`);
    /// entries stored before these were kept count as unlisted.
    #[serde(default = "unlisted")]
    pub route_label: String,
    #[serde(default = "unlisted")]
    pub model_label: String,
}

fn unlisted() -> String {
    ql_router::route::UNLISTED_MODEL.to_owned()
}

mod body_text {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(body: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&String::from_utf8_lossy(body))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
        String::deserialize(deserializer).map(Bytes::from)
    }
}

/// Whether the request may be answered from, and stored in, the cache.
pub fn cacheable(request: &ChatRequest, mode: CacheMode) -> bool {
    !request.stream
        && match mode {
            CacheMode::Skip => false,
            CacheMode::Use => true,
            CacheMode::Auto => request.temperature == Some(0.0),
        }
}

/// The cache key: the organisation and the request in a canonical form (object keys sorted,
/// the end-user id left out), hashed.
pub fn key(org: &str, request: &ChatRequest) -> String {
    let mut value = serde_json::to_value(request).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("user");
    }
    let mut hasher = Sha256::new();
    hasher.update(org.as_bytes());
    hasher.update([0]);
    hash_canonical(&value, &mut hasher);
    format!("cache:{}", hex::encode(hasher.finalize()))
}

fn hash_canonical(value: &Value, hasher: &mut Sha256) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            hasher.update(b"{");
            for key in keys {
                hasher.update(serde_json::to_string(key).unwrap_or_default().as_bytes());
                hasher.update(b":");
                hash_canonical(&map[key], hasher);
                hasher.update(b",");
            }
            hasher.update(b"}");
        }
        Value::Array(items) => {
            hasher.update(b"[");
            for item in items {
                hash_canonical(item, hasher);
                hasher.update(b",");
            }
            hasher.update(b"]");
        }
        other => hasher.update(other.to_string().as_bytes()),
    }
}

/// Where answers are kept.
#[async_trait::async_trait]
pub trait AnswerCache: Send + Sync {
    async fn get(&self, key: &str) -> Option<CachedAnswer>;
    async fn put(&self, key: String, answer: CachedAnswer, ttl: Duration);
}

/// In memory, bounded by the bytes of the answers.
pub struct MemoryCache {
    entries: moka::future::Cache<String, Arc<CachedAnswer>>,
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryCache")
    }
}

impl MemoryCache {
    pub fn new(settings: &CacheSettings) -> Self {
        let entries = moka::future::Cache::builder()
            .max_capacity(settings.max_bytes)
            .weigher(|key: &String, answer: &Arc<CachedAnswer>| {
                u32::try_from(key.len() + answer.body.len() + 128).unwrap_or(u32::MAX)
            })
            .time_to_live(Duration::from_secs(settings.ttl_secs.max(1)))
            .build();
        Self { entries }
    }
}

#[async_trait::async_trait]
impl AnswerCache for MemoryCache {
    async fn get(&self, key: &str) -> Option<CachedAnswer> {
        self.entries.get(key).await.map(|answer| (*answer).clone())
    }

    async fn put(&self, key: String, answer: CachedAnswer, _ttl: Duration) {
        self.entries.insert(key, Arc::new(answer)).await;
    }
}

/// In Redis, shared by every process, each entry with its own expiry.
#[derive(Clone)]
pub struct RedisCache {
    connection: redis::aio::ConnectionManager,
    namespace: String,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisCache")
    }
}

impl RedisCache {
    /// Entries live under `namespace:` (see `RedisCounters`).
    pub fn new(connection: redis::aio::ConnectionManager, namespace: &str) -> Self {
        Self { connection, namespace: namespace.to_owned() }
    }
}

#[async_trait::async_trait]
impl AnswerCache for RedisCache {
    async fn get(&self, key: &str) -> Option<CachedAnswer> {
        let mut connection = self.connection.clone();
        let text: Option<String> = redis::cmd("GET")
            .arg(format!("{}:{key}", self.namespace))
            .query_async(&mut connection)
            .await
            .map_err(|error| tracing::warn!(%error, "cache read failed"))
            .ok()?;
        serde_json::from_str(&text?).ok()
    }

    async fn put(&self, key: String, answer: CachedAnswer, ttl: Duration) {
        let Ok(text) = serde_json::to_string(&answer) else { return };
        let mut connection = self.connection.clone();
        let written: redis::RedisResult<()> = redis::cmd("SET")
            .arg(format!("{}:{key}", self.namespace))
            .arg(text)
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async(&mut connection)
            .await;
        if let Err(error) = written {
            tracing::warn!(%error, "cache write failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(value: Value) -> ChatRequest {
        serde_json::from_value(value).expect("request")
    }

    #[test]
    fn only_deterministic_or_requested_non_streaming_calls_are_cacheable() {
        let cases = [
            (json!({"temperature": 0}), CacheMode::Auto, true),
            (json!({"temperature": 0.7}), CacheMode::Auto, false),
            (json!({}), CacheMode::Auto, false),
            (json!({"temperature": 0.7}), CacheMode::Use, true),
            (json!({"temperature": 0}), CacheMode::Skip, false),
            (json!({"temperature": 0, "stream": true}), CacheMode::Use, false),
        ];
        for (extra, mode, expected) in cases {
            let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
            for (k, v) in extra.as_object().expect("object") {
                body[k] = v.clone();
            }
            assert_eq!(cacheable(&request(body.clone()), mode), expected, "{body} {mode:?}");
        }
        assert_eq!(CacheMode::from_header(Some(" USE ")), CacheMode::Use);
        assert_eq!(CacheMode::from_header(Some("skip")), CacheMode::Skip);
        assert_eq!(CacheMode::from_header(None), CacheMode::Auto);
    }

    #[test]
    fn keys_ignore_field_order_and_user_but_not_content_or_organisation() {
        let a = request(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0, "x": {"b": 1, "a": 2}}),
        );
        let b = request(
            json!({"temperature": 0, "x": {"a": 2, "b": 1}, "user": "someone", "messages": [{"content": "hi", "role": "user"}], "model": "m"}),
        );
        let c = request(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi!"}], "temperature": 0}),
        );
        assert_eq!(key("org", &a), key("org", &b));
        assert_ne!(key("org", &a), key("org", &c));
        assert_ne!(key("org", &a), key("other", &a));
    }

    #[tokio::test]
    async fn the_memory_cache_returns_what_it_stored() {
        let cache = MemoryCache::new(&CacheSettings::default());
        let answer = CachedAnswer {
            body: Bytes::from_static(b"{}"),
            usage: Usage::new(1, 2),
            provider: "p".into(),
            provider_kind: "openai".into(),
            model: "m".into(),
            route_label: "r".into(),
            model_label: "m".into(),
        };
        assert_eq!(cache.get("k").await, None);
        cache.put("k".into(), answer.clone(), Duration::from_secs(60)).await;
        assert_eq!(cache.get("k").await, Some(answer));
    }

    #[test]
    fn entries_stored_before_labels_were_kept_count_as_unlisted() {
        let stored = r#"{"body":"{}","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"provider":"p","provider_kind":"openai","model":"made-up"}"#;
        let answer: CachedAnswer = serde_json::from_str(stored).expect("an older entry");
        assert_eq!(
            (answer.route_label.as_str(), answer.model_label.as_str()),
            ("(other)", "(other)")
        );
    }
}
