//! The small trait every provider implements, and what it returns.

use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;

use crate::error::RouterError;
use crate::wire::{ChatRequest, Usage};

/// A finished non-streaming answer: the OpenAI-shaped JSON body and its token counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub body: Bytes,
    pub usage: Usage,
}

/// One chunk of a stream: the JSON of an OpenAI `chat.completion.chunk`.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamChunk {
    pub data: Bytes,
    /// Token counts, when this chunk carries them.
    pub usage: Option<Usage>,
    /// The chunk only carries usage (no choices): sent to the client only when it asked.
    pub usage_only: bool,
}

/// The chunks of a streaming answer. It ends after the last chunk; a broken stream yields an
/// error instead of ending.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<StreamChunk, RouterError>> + Send>>;

/// A vendor's API, spoken in OpenAI's terms.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The configured name of this provider.
    fn name(&self) -> &str;

    /// The kind (`openai`, `anthropic`, …).
    fn kind(&self) -> &'static str;

    /// One non-streaming answer from `model`.
    async fn complete(&self, request: &ChatRequest, model: &str)
    -> Result<Completion, RouterError>;

    /// A streaming answer from `model`; returns once the upstream accepted the request.
    async fn stream(&self, request: &ChatRequest, model: &str) -> Result<ChunkStream, RouterError>;

    /// The models the upstream offers.
    async fn models(&self) -> Result<Vec<String>, RouterError>;

    /// A cheap call that succeeds when the upstream is up.
    async fn health(&self) -> Result<(), RouterError>;
}

impl std::fmt::Debug for dyn Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.kind(), self.name())
    }
}
