//! The built-in offline model: the rule-based extractor behind the router's `Provider` trait,
//! so every installation has one model that answers without a network or a key. Asked for
//! JSON (`response_format`), it answers with the spec of the last user message; otherwise with
//! a plain-text reading of it and the questions the extractor has.

use std::sync::Arc;

use bytes::Bytes;
use ql_router::providers::translate::{self, role_delta, text_delta};
use ql_router::wire::{ChatRequest, Delta, Role, Usage};
use ql_router::{ChunkStream, Completion, Provider, RouterError};

use crate::spec::{self, Extraction};

/// The model name the built-in provider offers.
pub const MODEL: &str = "builtin";

/// The built-in model under a provider name, as the router's builder wants it.
pub fn provider(name: &str) -> Arc<dyn Provider> {
    Arc::new(BuiltinModel::new(name))
}

/// The id of every built-in answer.
const ID: &str = "chatcmpl-builtin";

/// The offline engine, as a provider.
#[derive(Debug, Clone)]
pub struct BuiltinModel {
    name: String,
}

impl BuiltinModel {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }

    /// The answer's text: a spec as JSON, or a reading of it for people.
    fn answer(&self, request: &ChatRequest) -> Result<String, RouterError> {
        let description = request
            .messages
            .iter()
            .rev()
            .find(|message| message.role == Role::User)
            .map(|message| message.text_content())
            .unwrap_or_default();
        let wants_json = request
            .response_format
            .as_ref()
            .is_some_and(|format| matches!(format.kind.as_str(), "json_schema" | "json_object"));
        let extraction = spec::extract(&description);
        if wants_json {
            let extraction =
                extraction.map_err(|error| RouterError::InvalidRequest(error.to_string()))?;
            return serde_json::to_string(&extraction.spec).map_err(|error| {
                RouterError::Protocol { provider: self.name.clone(), message: error.to_string() }
            });
        }
        Ok(match extraction {
            Ok(extraction) => reading(&extraction),
            Err(error) => error.to_string(),
        })
    }
}

/// The plain-text answer: the spec's summary, then the questions.
fn reading(extraction: &Extraction) -> String {
    let mut text = format!(
        "This is the app I read from your description:\n\n{}",
        spec::summary(&extraction.spec)
    );
    if !extraction.questions.is_empty() {
        text.push_str("\nBefore generating, tell me more:\n");
        for question in &extraction.questions {
            text.push_str("- ");
            text.push_str(question);
            text.push('\n');
        }
    }
    text
}

/// Tokens counted the way the usual rule of thumb does: about four characters each.
fn estimated_tokens(text: &str) -> u64 {
    text.chars().count().div_ceil(4) as u64
}

fn usage_of(request: &ChatRequest, answer: &str) -> Usage {
    let prompt: u64 =
        request.messages.iter().map(|message| estimated_tokens(&message.text_content())).sum();
    Usage::new(prompt, estimated_tokens(answer))
}

#[async_trait::async_trait]
impl Provider for BuiltinModel {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "builtin"
    }

    async fn complete(
        &self,
        request: &ChatRequest,
        model: &str,
    ) -> Result<Completion, RouterError> {
        let text = self.answer(request)?;
        let usage = usage_of(request, &text);
        let response =
            translate::response(ID.into(), model.to_owned(), text, Vec::new(), "stop", usage);
        let body = serde_json::to_vec(&response).map_err(|error| RouterError::Protocol {
            provider: self.name.clone(),
            message: error.to_string(),
        })?;
        Ok(Completion { body: Bytes::from(body), usage })
    }

    async fn stream(&self, request: &ChatRequest, model: &str) -> Result<ChunkStream, RouterError> {
        let text = self.answer(request)?;
        let usage = usage_of(request, &text);
        let chunk = |delta: Delta, finish: Option<&str>, usage: Option<Usage>| {
            Ok(translate::chunk(ID, model, delta, finish.map(str::to_owned), usage))
        };
        let mut chunks = vec![chunk(role_delta(), None, None)];
        chunks.extend(
            text.split_inclusive([' ', '\n']).map(|piece| chunk(text_delta(piece), None, None)),
        );
        chunks.push(chunk(Delta::default(), Some("stop"), None));
        chunks.push(chunk(Delta::default(), None, Some(usage)));
        Ok(Box::pin(futures::stream::iter(chunks)))
    }

    async fn models(&self) -> Result<Vec<String>, RouterError> {
        Ok(vec![MODEL.to_owned()])
    }

    async fn health(&self) -> Result<(), RouterError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;
    use ql_router::wire::{Message, ResponseFormat};

    use super::*;

    fn request(text: &str, json: bool) -> ChatRequest {
        let mut request: ChatRequest = serde_json::from_value(serde_json::json!({
            "model": "builtin",
            "messages": [{"role": "system", "content": "You extract app specs."}, {"role": "user", "content": text}]
        }))
        .unwrap_or_else(|error| panic!("request: {error}"));
        request.messages.push(Message::text(Role::Assistant, "noted"));
        if json {
            request.response_format =
                Some(ResponseFormat { kind: "json_schema".into(), json_schema: None });
        }
        request
    }

    const TODO: &str =
        "A todo app: todos have a title, optional notes, a due date and a done flag.";

    #[tokio::test]
    async fn json_requests_get_the_spec() {
        let model = BuiltinModel::new("builtin");
        let completion = model
            .complete(&request(TODO, true), MODEL)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let body: serde_json::Value = serde_json::from_slice(&completion.body).unwrap_or_default();
        let content = body["choices"][0]["message"]["content"].as_str().unwrap_or_default();
        let spec = spec::from_json(content).unwrap_or_else(|error| panic!("{error}: {content}"));
        assert_eq!(spec.entities[0].name, "todo");
        assert!(completion.usage.prompt_tokens > 0 && completion.usage.completion_tokens > 0);
    }

    #[tokio::test]
    async fn plain_requests_get_a_reading_and_questions() {
        let model = BuiltinModel::new("builtin");
        let completion = model
            .complete(&request("Members borrow books.", false), MODEL)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let body: serde_json::Value = serde_json::from_slice(&completion.body).unwrap_or_default();
        let content = body["choices"][0]["message"]["content"].as_str().unwrap_or_default();
        assert!(content.contains("member can borrow a book"), "{content}");
        assert!(content.contains("What should a book record?"), "{content}");
    }

    #[tokio::test]
    async fn meaningless_input_is_an_answer_in_text_and_an_error_in_json() {
        let model = BuiltinModel::new("builtin");
        let completion = model
            .complete(&request("hello?", false), MODEL)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert!(String::from_utf8_lossy(&completion.body).contains("keep track of"));
        let error = model.complete(&request("hello?", true), MODEL).await.err();
        assert!(
            matches!(error, Some(RouterError::InvalidRequest(message)) if message.contains("keep track of"))
        );
    }

    #[tokio::test]
    async fn streams_carry_the_same_text_then_usage() {
        let model = BuiltinModel::new("builtin");
        let chunks: Vec<_> = model
            .stream(&request(TODO, false), MODEL)
            .await
            .unwrap_or_else(|error| panic!("{error}"))
            .collect()
            .await;
        let mut text = String::new();
        for chunk in &chunks[..chunks.len() - 1] {
            let chunk = chunk.as_ref().unwrap_or_else(|error| panic!("{error}"));
            let value: serde_json::Value = serde_json::from_slice(&chunk.data).unwrap_or_default();
            text.push_str(value["choices"][0]["delta"]["content"].as_str().unwrap_or_default());
        }
        assert!(text.starts_with("This is the app I read"), "{text}");
        assert!(text.contains("done boolean"), "{text}");
        let last =
            chunks.last().and_then(|chunk| chunk.as_ref().ok()).map(|chunk| chunk.usage_only);
        assert_eq!(last, Some(true));
    }
}
