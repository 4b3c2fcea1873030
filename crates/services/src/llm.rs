//! Model calls through the router on behalf of an API key's organisation.

use std::sync::Arc;

use ql_router::wire::ChatRequest;
use ql_router::{Completion, Gateway, RouterError, Served, StartedStream};

use crate::{KeyPrincipal, Services};

/// The most messages one chat request may carry.
pub const MAX_MESSAGES: usize = 10_000;

impl Services {
    /// The router every model call goes through.
    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }

    /// One non-streaming chat completion for the caller's organisation.
    pub async fn chat_complete(
        &self,
        _caller: &KeyPrincipal,
        request: &ChatRequest,
    ) -> Result<(Completion, Served), RouterError> {
        check_request(request)?;
        self.gateway.complete(request).await
    }

    /// A streaming chat completion, started (its first chunk is in hand).
    pub async fn chat_stream(
        &self,
        _caller: &KeyPrincipal,
        request: &ChatRequest,
    ) -> Result<StartedStream, RouterError> {
        check_request(request)?;
        self.gateway.stream(request).await
    }

    /// The model names clients can send: the routes, sorted.
    pub fn model_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.gateway.routes().map(|route| route.name.clone()).collect();
        names.sort();
        names
    }
}

fn check_request(request: &ChatRequest) -> Result<(), RouterError> {
    if request.model.trim().is_empty() {
        return Err(RouterError::InvalidRequest("`model` is empty".into()));
    }
    if request.messages.is_empty() {
        return Err(RouterError::InvalidRequest(
            "`messages` is empty; send at least one message".into(),
        ));
    }
    if request.messages.len() > MAX_MESSAGES {
        return Err(RouterError::InvalidRequest(format!(
            "{} messages; at most {MAX_MESSAGES}",
            request.messages.len()
        )));
    }
    if let Some(temperature) = request.temperature
        && !(0.0..=2.0).contains(&temperature)
    {
        return Err(RouterError::InvalidRequest(format!(
            "`temperature` is {temperature}; use 0 to 2"
        )));
    }
    Ok(())
}
