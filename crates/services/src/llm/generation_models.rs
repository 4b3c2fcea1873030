//! The chat models generations write with: a generation's model name is resolved for its
//! organisation like an API call's (configured routes, then the organisation's own), and every
//! call is admitted by the organisation's quotas and accounted to it and to the person who
//! asked for the generation.

use std::sync::Arc;

use ql_engine::model_generation::{ChatModel, TextStream, streaming, streaming_request};
use ql_orchestrator::ModelSource;
use ql_router::wire::ChatRequest;
use ql_router::{Completion, RouterError};
use ql_store::Generation;

use super::{Account, cache::CacheMode};
use crate::Services;

/// The models of this process's services, for its generation workers.
#[derive(Clone)]
pub(crate) struct GenerationModels {
    pub(crate) services: Services,
}

#[async_trait::async_trait]
impl ModelSource for GenerationModels {
    async fn chat_model(&self, generation: &Generation) -> Result<Arc<dyn ChatModel>, RouterError> {
        let account = Account {
            org_id: generation.organization_id.clone(),
            key_id: None,
            user_id: generation.created_by.clone(),
        };
        let model = ql_orchestrator::models::model_of(generation).to_owned();
        // Fails now for a model the organisation cannot reach.
        self.services.route_for(&account, &model).await?;
        Ok(Arc::new(AccountedModel { services: self.services.clone(), account, model }))
    }
}

/// One model as one account reaches it.
struct AccountedModel {
    services: Services,
    account: Account,
    model: String,
}

#[async_trait::async_trait]
impl ChatModel for AccountedModel {
    fn name(&self) -> String {
        self.model.clone()
    }

    async fn chat(&self, request: &ChatRequest) -> Result<Completion, RouterError> {
        let request = ChatRequest { model: self.model.clone(), ..request.clone() };
        let answer =
            self.services.chat_complete_for(&self.account, &request, CacheMode::Auto).await?;
        Ok(answer.completion)
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<TextStream, RouterError> {
        let request = ChatRequest { model: self.model.clone(), ..streaming_request(request) };
        let started = self.services.chat_stream_for(&self.account, &request).await?;
        Ok(streaming::text_stream(started))
    }
}
