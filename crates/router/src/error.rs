//! The one error type of the router, with the HTTP status and OpenAI error type each kind maps to.

use std::time::Duration;

use crate::wire::{ErrorBody, ErrorDetail};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouterError {
    /// The upstream answered with an error status.
    #[error("{provider} answered {status}: {message}")]
    Upstream { provider: String, status: u16, message: String, retry_after: Option<Duration> },
    /// The upstream did not answer in time.
    #[error("{provider} did not answer within {after:?}")]
    Timeout { provider: String, after: Duration },
    /// The upstream could not be reached.
    #[error("could not reach {provider}: {message}")]
    Connect { provider: String, message: String },
    /// The upstream's answer did not follow its protocol.
    #[error("{provider} sent an answer that does not follow its protocol: {message}")]
    Protocol { provider: String, message: String },
    /// A stream ended early or carried an error after it had started.
    #[error("the stream from {provider} broke: {message}")]
    StreamBroken { provider: String, message: String },
    /// No route or provider answers to this model name.
    #[error("the model `{0}` does not exist; GET /v1/models lists the models of this gateway")]
    UnknownModel(String),
    /// The request itself is wrong; the message says how.
    #[error("{0}")]
    InvalidRequest(String),
    /// Every target of the route failed or is marked unhealthy.
    #[error("every target of `{model}` is unavailable; last failure: {last}")]
    Unavailable { model: String, last: String, status: u16, retry_after: Option<Duration> },
    /// A rate limit, quota or budget of this gateway is exhausted.
    #[error("{0}")]
    RateLimited(String, Duration),
    /// The router's configuration is inconsistent.
    #[error("router configuration: {0}")]
    Config(String),
}

impl RouterError {
    /// Whether trying again (the same target later, or the next target) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            RouterError::Upstream { status, .. } => {
                matches!(*status, 408 | 409 | 425 | 429) || *status >= 500
            }
            RouterError::Timeout { .. }
            | RouterError::Connect { .. }
            | RouterError::Protocol { .. }
            | RouterError::StreamBroken { .. } => true,
            RouterError::UnknownModel(_)
            | RouterError::InvalidRequest(_)
            | RouterError::Unavailable { .. }
            | RouterError::RateLimited(..)
            | RouterError::Config(_) => false,
        }
    }

    /// Whether the failure says something about the target's health (a bad request does not).
    pub fn counts_against_target(&self) -> bool {
        match self {
            RouterError::Upstream { status, .. } => {
                *status >= 500 || *status == 401 || *status == 403
            }
            _ => self.is_retryable(),
        }
    }

    /// How long the upstream asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            RouterError::Upstream { retry_after, .. }
            | RouterError::Unavailable { retry_after, .. } => *retry_after,
            RouterError::RateLimited(_, after) => Some(*after),
            _ => None,
        }
    }

    /// The HTTP status the gateway answers with.
    pub fn status(&self) -> u16 {
        match self {
            // The client's own mistakes pass through; the gateway's credentials or an upstream
            // fault are the gateway's problem: 502.
            RouterError::Upstream { status, .. } => match *status {
                400 | 404 | 413 | 422 => *status,
                429 => 429,
                _ => 502,
            },
            RouterError::Timeout { .. } => 504,
            RouterError::Connect { .. }
            | RouterError::Protocol { .. }
            | RouterError::StreamBroken { .. } => 502,
            RouterError::UnknownModel(_) => 404,
            RouterError::InvalidRequest(_) => 400,
            RouterError::Unavailable { status, .. } => *status,
            RouterError::RateLimited(..) => 429,
            RouterError::Config(_) => 500,
        }
    }

    /// The OpenAI error `type` for this kind.
    pub fn openai_type(&self) -> &'static str {
        match self.status() {
            400 | 404 | 413 | 422 => "invalid_request_error",
            429 => "rate_limit_error",
            500 => "server_error",
            _ => "upstream_error",
        }
    }

    /// The OpenAI-shaped error body.
    pub fn to_body(&self) -> ErrorBody {
        let code = match self {
            RouterError::UnknownModel(_) => Some("model_not_found".to_owned()),
            RouterError::RateLimited(..) => Some("rate_limit_exceeded".to_owned()),
            RouterError::Timeout { .. } => Some("upstream_timeout".to_owned()),
            RouterError::Unavailable { .. } => Some("no_healthy_target".to_owned()),
            _ => None,
        };
        ErrorBody {
            error: ErrorDetail {
                message: self.to_string(),
                kind: self.openai_type().to_owned(),
                param: None,
                code,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(status: u16) -> RouterError {
        RouterError::Upstream {
            provider: "p".into(),
            status,
            message: "m".into(),
            retry_after: None,
        }
    }

    #[test]
    fn statuses_and_retryability_follow_the_upstream_status() {
        // (upstream status, retryable, counts against target, our status, openai type)
        let cases = [
            (400, false, false, 400, "invalid_request_error"),
            (401, false, true, 502, "upstream_error"),
            (404, false, false, 404, "invalid_request_error"),
            (408, true, false, 502, "upstream_error"),
            (429, true, false, 429, "rate_limit_error"),
            (500, true, true, 502, "upstream_error"),
            (503, true, true, 502, "upstream_error"),
        ];
        for (status, retryable, counts, ours, kind) in cases {
            let error = upstream(status);
            assert_eq!(error.is_retryable(), retryable, "{status}");
            assert_eq!(error.counts_against_target(), counts, "{status}");
            assert_eq!(error.status(), ours, "{status}");
            assert_eq!(error.openai_type(), kind, "{status}");
        }
        let timeout = RouterError::Timeout { provider: "p".into(), after: Duration::from_secs(1) };
        assert!(timeout.is_retryable());
        assert_eq!(timeout.status(), 504);
        assert!(!RouterError::InvalidRequest("x".into()).is_retryable());
    }

    #[test]
    fn the_body_is_openai_shaped() {
        let body = serde_json::to_value(RouterError::UnknownModel("gpt-9".into()).to_body())
            .expect("json");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["code"], "model_not_found");
        assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("gpt-9")));
    }
}
