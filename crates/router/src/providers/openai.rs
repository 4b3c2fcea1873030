//! The OpenAI Chat Completions protocol: OpenAI itself, and Groq, Ollama, vLLM, llama.cpp's
//! server, OpenRouter, Together and any other compatible server through `base_url`.

use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;

use crate::error::RouterError;
use crate::http::{self, HttpClient, Response, Timeouts};
use crate::provider::{ChunkStream, Completion, Provider, StreamChunk};
use crate::wire::{ChatRequest, ModelList, StreamOptions, Usage};

/// A provider speaking OpenAI's protocol at `base_url` (which ends in `/v1` or its equivalent).
#[derive(Debug)]
pub struct OpenAi {
    name: String,
    /// `<base_url>/chat/completions` and `<base_url>/models`, parsed once.
    chat_url: hyper::Uri,
    models_url: hyper::Uri,
    /// `Bearer <key>`, when the upstream wants a key.
    authorization: Option<String>,
    timeouts: Timeouts,
    client: HttpClient,
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
            authorization: api_key.map(|key| format!("Bearer {key}")),
            timeouts,
            client: HttpClient::new(timeouts)?,
        })
    }

    /// Sends a request to `uri`; a non-2xx answer becomes the vendor's error.
    async fn send(
        &self,
        method: hyper::Method,
        uri: &hyper::Uri,
        body: Vec<u8>,
    ) -> Result<Response, RouterError> {
        let json = (!body.is_empty()).then_some(("content-type", "application/json"));
        let key = self.authorization.as_deref().map(|key| ("authorization", key));
        let headers = json.into_iter().chain(key);
        let request = HttpClient::request(&self.name, method, uri, headers, body.into())?;
        http::send(&self.name, &self.client, request).await
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
        http::within(&self.name, self.timeouts.request, async {
            let response = self.send(hyper::Method::POST, &self.chat_url, body).await?;
            let (body, parsed) =
                http::read_json::<UsageOnly>(&self.name, response, "a chat completion").await?;
            Ok(Completion { body, usage: parsed.usage.unwrap_or_default() })
        })
        .await
    }

    async fn stream(&self, request: &ChatRequest, model: &str) -> Result<ChunkStream, RouterError> {
        let body = self.upstream_body(request, model, true)?;
        let response = http::within(
            &self.name,
            self.timeouts.request,
            self.send(hyper::Method::POST, &self.chat_url, body),
        )
        .await?;
        let provider = self.name.clone();
        let events = http::sse_events(provider.clone(), response, self.timeouts.idle);
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
        http::within(&self.name, self.timeouts.request, async {
            let response = self.send(hyper::Method::GET, &self.models_url, Vec::new()).await?;
            let (_, list) =
                http::read_json::<ModelList>(&self.name, response, "a model list").await?;
            Ok(list.data.into_iter().map(|model| model.id).collect())
        })
        .await
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
