//! The models agents write with: `builtin` (the engine's extractor and templates, offline),
//! or a chat model the generation's organisation reaches through the router — found by a
//! [`ModelSource`] the process hands its workers, which also accounts each call's usage to
//! that organisation.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use ql_engine::model_generation::ChatModel;
use ql_router::RouterError;
use ql_router::wire::Usage;
use ql_store::Generation;

use crate::steps::Failure;

/// The model name of the built-in engine.
pub const BUILTIN: &str = "builtin";

/// The model a generation names (`builtin` when it names none).
pub fn model_of(generation: &Generation) -> &str {
    generation.model.as_deref().unwrap_or(BUILTIN)
}

/// Finds the chat model a generation names.
#[async_trait]
pub trait ModelSource: Send + Sync {
    /// The model `generation.model` as its organisation reaches it; calls are accounted to
    /// the organisation and the person who asked for the generation.
    async fn chat_model(&self, generation: &Generation) -> Result<Arc<dyn ChatModel>, RouterError>;
}

/// A source with no models: only `builtin` generations run.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoModels;

#[async_trait]
impl ModelSource for NoModels {
    async fn chat_model(&self, generation: &Generation) -> Result<Arc<dyn ChatModel>, RouterError> {
        Err(RouterError::UnknownModel(model_of(generation).to_owned()))
    }
}

/// What a step spent on its model: tokens and the hashes of the prompts it sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelUse {
    pub usage: Usage,
    pub prompt_hashes: Vec<String>,
}

impl ModelUse {
    pub(crate) fn add(&mut self, other: &ModelUse) {
        self.usage = Usage::new(
            self.usage.prompt_tokens + other.usage.prompt_tokens,
            self.usage.completion_tokens + other.usage.completion_tokens,
        );
        self.prompt_hashes.extend(other.prompt_hashes.iter().cloned());
    }
}

/// A provider outage, a rate limit or a broken stream may pass; an unknown model, a refused
/// request or a bad configuration will not.
pub(crate) fn model_failure(error: &RouterError) -> Failure {
    let passes = error.is_retryable()
        || matches!(error, RouterError::Unavailable { .. } | RouterError::RateLimited(..));
    let message = format!("the model failed: {error}");
    if passes { Failure::Transient(message) } else { Failure::Deterministic(message) }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn outages_are_retried_and_refusals_are_not() {
        let provider = || "p".to_owned();
        let transient = [
            RouterError::Upstream {
                provider: provider(),
                status: 503,
                message: "down".into(),
                retry_after: None,
            },
            RouterError::Timeout { provider: provider(), after: Duration::from_secs(1) },
            RouterError::StreamBroken { provider: provider(), message: "cut".into() },
            RouterError::Unavailable {
                model: "m".into(),
                last: "down".into(),
                status: 503,
                retry_after: None,
            },
            RouterError::RateLimited("slow down".into(), Duration::from_secs(1)),
        ];
        for error in &transient {
            assert!(matches!(model_failure(error), Failure::Transient(_)), "{error}");
        }
        let deterministic = [
            RouterError::UnknownModel("m".into()),
            RouterError::InvalidRequest("bad".into()),
            RouterError::Config("no key".into()),
            RouterError::Upstream {
                provider: provider(),
                status: 400,
                message: "bad".into(),
                retry_after: None,
            },
        ];
        for error in &deterministic {
            assert!(matches!(model_failure(error), Failure::Deterministic(_)), "{error}");
        }
    }
}
