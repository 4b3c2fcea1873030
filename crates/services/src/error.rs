//! The one error type of the services, with a stable kind for clients to match on.

use ql_common::FieldError;
use ql_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The thing does not exist, or belongs to another organisation.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The principal's role does not allow this.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// Nobody is signed in, or the session no longer matches a member.
    #[error("sign in first")]
    Unauthenticated,
    /// One field of the input is wrong; the message says how.
    #[error("{0}")]
    Invalid(FieldError),
    /// The input clashes with what exists, such as a taken name.
    #[error("{0}")]
    Conflict(FieldError),
    /// The database or another dependency failed; details are logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// A stable `snake_case` name for the kind of error, for clients to match on.
    pub fn kind(&self) -> &'static str {
        match self {
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::Unauthenticated => "unauthenticated",
            ServiceError::Invalid(_) => "invalid",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            other => {
                tracing::error!(error = %other, "store failure");
                ServiceError::Internal(other.to_string())
            }
        }
    }
}
