//! The LLM router: OpenAI's chat format at the edge, one provider per vendor behind the
//! [`Provider`] trait, and a [`Gateway`] that routes each request across targets with retries,
//! backoff, fallbacks and circuit breakers. No HTTP server here: `server` exposes it.

pub mod breaker;
pub mod build;
pub mod config;
pub mod error;
pub mod gateway;
pub mod http;
pub mod pricing;
pub mod provider;
pub mod providers;
pub mod route;
pub mod sse;
pub mod wire;

pub use error::RouterError;
pub use gateway::{Gateway, Served, StartedStream};
pub use provider::{ChunkStream, Completion, Provider, StreamChunk};
