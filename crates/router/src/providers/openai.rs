//! The OpenAI Chat Completions protocol: OpenAI itself, and Groq, Ollama, vLLM, llama.cpp's
//! server, OpenRouter, Together and any other compatible server through `base_url`.

use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;

use crate::error::RouterError;
use crate::http::{self, Timeouts};
use crate::provider::{ChunkStream, Completion, Provider, StreamChunk};
use crate::wire::{ChatRequest, ModelList, StreamOptions, Usage};

/// A provider speaking OpenAI's protocol at `base_url` (which ends in `/v1` or its equivalent).
#[derive(Debug)]
pub struct OpenAi {
    name: String,
    /// `<base_url>/chat/completions` and `<base_url>/models`, parsed once.
    chat_url: reqwest::Url,
    models_url: reqwest::Url,
    api_key: Option<String>,
    timeouts: Timeouts,
    client: reqwest::Client,
}

impl OpenAi {
    pub fn new(
        name: impl Into<String>,
        base_url: &str,
        api_key: Option<String>,
        timeouts: Timeouts,
    ) -> Result<Self, RouterError> {
        let name = name.into();
        let base = base_url.trim_end_matches('/');
        Ok(Self {
            chat_url: http::parse_url(&name, &format!("{base}/chat/completions"))?,
            models_url: http::parse_url(&name, &format!("{base}/models"))?,
            name,
            api_key,
            timeouts,
            client: http::client(timeouts)?,
        })
    }

    fn post(&self, body: Vec<u8>) -> reqwest::RequestBuilder {
        let builder = self
            .client
            .post(self.chat_url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.authorize(builder)
    }

    fn authorize(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.api_key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    /// The request as this upstream should see it: its own model name, streaming as asked.
    fn upstream_body(
        &self,
        request: &ChatRequest,
        model: &str,
        stream: bool,
    ) -> Result<Vec<u8>, RouterError> {
        let mut outgoing = request.clone();
        outgoing.model = model.to_owned();
        outgoing.stream = stream;
        // Usage is always asked for, to account for every call; the chunk that carries it
        // alone is passed on only when the client asked for it.
        outgoing.stream_options = stream.then_some(StreamOptions { include_usage: true });
        serde_json::to_vec(&outgoing)
            .map_err(|error| RouterError::InvalidRequest(error.to_string()))
    }

    async fn send(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, RouterError> {
        http::send(&self.name, builder, self.timeouts.request).await
    }
}

#[derive(Deserialize)]
struct UsageOnly {
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct ChunkShape {
    #[serde(default)]
    choices: Option<Vec<serde::de::IgnoredAny>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

/// Classifies one `data:` payload of an OpenAI stream.
pub(crate) fn chunk_from_data(provider: &str, data: Bytes) -> Result<StreamChunk, RouterError> {
    let shape: ChunkShape =
        serde_json::from_slice(&data).map_err(|error| RouterError::StreamBroken {
            provider: provider.to_owned(),
            message: format!("a chunk is not JSON: {error}"),
        })?;
    if let Some(error) = shape.error {
        let message = http::error_message(error.to_string().as_bytes());
        return Err(RouterError::StreamBroken { provider: provider.to_owned(), message });
    }
    let usage_only = shape.usage.is_some() && shape.choices.as_ref().is_none_or(Vec::is_empty);
    Ok(StreamChunk { data, usage: shape.usage, usage_only })
}

#[async_trait::async_trait]
impl Provider for OpenAi {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "openai"
    }

    async fn complete(
        &self,
        request: &ChatRequest,
        model: &str,
    ) -> Result<Completion, RouterError> {
        let body = self.upstream_body(request, model, false)?;
        let response = self.send(self.post(body).timeout(self.timeouts.request)).await?;
        let (body, parsed) =
            http::read_json::<UsageOnly>(&self.name, response, "a chat completion").await?;
        Ok(Completion { body, usage: parsed.usage.unwrap_or_default() })
    }

    async fn stream(&self, request: &ChatRequest, model: &str) -> Result<ChunkStream, RouterError> {
        let body = self.upstream_body(request, model, true)?;
        let response = tokio::time::timeout(self.timeouts.request, self.send(self.post(body)))
            .await
            .map_err(|_| RouterError::Timeout {
                provider: self.name.clone(),
                after: self.timeouts.request,
            })??;
        let provider = self.name.clone();
        let events = http::sse_events(provider.clone(), response);
        let chunks = futures::stream::unfold(
            (Box::pin(events), provider, false),
            |(mut events, provider, done)| async move {
                if done {
                    return None;
                }
                match events.next().await {
                    Some(Ok(event)) if event.data.as_ref() == b"[DONE]" => None,
                    Some(Ok(event)) if event.data.is_empty() => {
                        let chunk = Err(RouterError::StreamBroken {
                            provider: provider.clone(),
                            message: "an empty event".into(),
                        });
                        Some((chunk, (events, provider, true)))
                    }
                    Some(Ok(event)) => {
                        let chunk = chunk_from_data(&provider, event.data);
                        let done = chunk.is_err();
                        Some((chunk, (events, provider, done)))
                    }
                    Some(Err(error)) => Some((Err(error), (events, provider, true))),
                    None => {
                        let error = RouterError::StreamBroken {
                            provider: provider.clone(),
                            message: "the stream ended before [DONE]".into(),
                        };
                        Some((Err(error), (events, provider, true)))
                    }
                }
            },
        );
        Ok(Box::pin(chunks))
    }

    async fn models(&self) -> Result<Vec<String>, RouterError> {
        let builder =
            self.authorize(self.client.get(self.models_url.clone()).timeout(self.timeouts.request));
        let response = self.send(builder).await?;
        let (_, list) = http::read_json::<ModelList>(&self.name, response, "a model list").await?;
        Ok(list.data.into_iter().map(|model| model.id).collect())
    }

    async fn health(&self) -> Result<(), RouterError> {
        self.models().await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_classified() {
        let content = chunk_from_data(
            "p",
            Bytes::from_static(br#"{"id":"1","choices":[{"index":0,"delta":{"content":"a"}}]}"#),
        )
        .expect("chunk");
        assert_eq!((content.usage, content.usage_only), (None, false));
        let usage = chunk_from_data(
            "p",
            Bytes::from_static(br#"{"id":"1","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#),
        )
        .expect("chunk");
        assert_eq!((usage.usage, usage.usage_only), (Some(Usage::new(3, 4)), true));
        let error =
            chunk_from_data("p", Bytes::from_static(br#"{"error":{"message":"overloaded"}}"#));
        assert!(
            matches!(error, Err(RouterError::StreamBroken { message, .. }) if message == "overloaded")
        );
        assert!(chunk_from_data("p", Bytes::from_static(b"not json")).is_err());
    }
}
