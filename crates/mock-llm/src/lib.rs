//! Local servers speaking LLM vendors' wire protocols, for tests: they replay recorded answer
//! bodies, streams and error bodies (see `fixtures/`), and can be told to fail.
//!
//! The last user message picks a scenario when it starts with `mock:`:
//! `mock:rate-limit` (429 with `Retry-After: 7`), `mock:bad-key` (401), `mock:server-error`
//! (500), `mock:slow` (answers after 5 s), `mock:cut` (a stream that stops mid-way),
//! `mock:stream-error` (an error event inside a stream), `mock:tool` (a tool call).
//! Anything else gets the recorded answer — unless a [`Writer`] is set, which can write the
//! answer's text from the request (streamed in small, paced chunks in the vendor's framing).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

pub mod anthropic;
pub mod bedrock;
pub mod openai;

/// How the whole server misbehaves, whatever the request says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// Every n-th chat call (the 1st, the (n+1)-th, …) answers 500; `None`: never.
    pub fail_every: Option<usize>,
    /// Every call answers 503.
    pub down: bool,
}

/// One request as the mock saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Writes the text of an answer from a request's JSON; `None` leaves the recorded answer.
pub type Writer = Arc<dyn Fn(&Value) -> Option<String> + Send + Sync>;

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) writer: Mutex<Option<Writer>>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) calls: AtomicUsize,
    pub(crate) recorded: Mutex<Vec<Recorded>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("calls", &self.calls).finish_non_exhaustive()
    }
}

impl Shared {
    /// The text the writer answers `request` with, if one is set and writes it.
    pub(crate) fn written(&self, request: &Value) -> Option<String> {
        let writer =
            self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()?;
        writer(request)
    }

    /// Counts a chat call and says whether the configured faults make it fail (and how).
    pub(crate) fn fault_for_next_call(&self) -> Option<u16> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let faults = *self.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if faults.down {
            return Some(503);
        }
        match faults.fail_every {
            Some(every) if every > 0 && call.is_multiple_of(every) => Some(500),
            _ => None,
        }
    }

    pub(crate) fn record(&self, path: &str, headers: &axum::http::HeaderMap, body: Value) {
        let headers = headers
            .iter()
            .map(|(name, value)| {
                (name.to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned())
            })
            .collect();
        self.recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Recorded {
            path: path.to_owned(),
            headers,
            body,
        });
    }
}

/// A running mock server; it stops when the test's runtime ends.
#[derive(Debug, Clone)]
pub struct MockServer {
    /// The API root to configure as `base_url`, such as `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    pub(crate) shared: Arc<Shared>,
}

impl MockServer {
    pub(crate) async fn start(
        router: axum::Router<Arc<Shared>>,
        root: &str,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let app = router.with_state(shared.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("mock server stopped: {error}");
            }
        });
        Ok(Self { base_url: format!("http://{address}{root}"), shared })
    }

    /// Changes how the server misbehaves from now on.
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = faults;
    }

    /// Answers from now on with what `writer` writes, where it writes something.
    pub fn set_writer(&self, writer: Writer) {
        *self.shared.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(writer);
    }

    /// Chat calls received so far.
    pub fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }

    /// Every chat request received so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// The text of the last user message, which picks the scenario.
pub(crate) fn last_user_text(body: &Value) -> String {
    let Some(messages) = body["messages"].as_array() else { return String::new() };
    let Some(last) = messages.iter().rev().find(|m| m["role"] == "user") else {
        return String::new();
    };
    match &last["content"] {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => String::new(),
    }
}
