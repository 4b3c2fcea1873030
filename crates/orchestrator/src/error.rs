//! The orchestrator's one error type.

/// What can go wrong submitting, running or following a generation.
#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    #[error(transparent)]
    Store(#[from] ql_store::StoreError),
    #[error("the job queue failed: {0}")]
    Queue(String),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = OrchestratorError> = std::result::Result<T, E>;

impl OrchestratorError {
    pub(crate) fn queue(error: impl std::fmt::Display) -> Self {
        Self::Queue(error.to_string())
    }
}
