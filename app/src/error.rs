//! The one error that server functions return, serializable, with a stable kind to match on.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// An error as the browser sees it: a stable `kind`, a sentence for people, and the form field
/// it concerns, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// `not_found`, `forbidden`, `unauthenticated`, `invalid`, `conflict`, `internal` or
    /// `transport`.
    pub kind: String,
    pub message: String,
    pub field: Option<String>,
}

impl AppError {
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        Self { kind: kind.to_owned(), message: message.into(), field: None }
    }

    /// The message when it concerns `field`, for showing beside that field.
    pub fn for_field(&self, field: &str) -> Option<String> {
        (self.field.as_deref() == Some(field)).then(|| self.message.clone())
    }

    pub fn is_unauthenticated(&self) -> bool {
        self.kind == "unauthenticated"
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::new("transport", value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<ql_services::ServiceError> for AppError {
    fn from(error: ql_services::ServiceError) -> Self {
        use ql_services::ServiceError;
        match &error {
            ServiceError::Invalid(field) | ServiceError::Conflict(field) => AppError {
                kind: error.kind().to_owned(),
                message: field.message.clone(),
                field: Some(field.field.clone()),
            },
            // Details of internal failures are logged by the services, never sent.
            ServiceError::Internal(_) => {
                AppError::new("internal", "Something went wrong on our side. Please try again.")
            }
            _ => AppError::new(error.kind(), error.to_string()),
        }
    }
}
