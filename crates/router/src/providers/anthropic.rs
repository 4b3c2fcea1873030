//! Anthropic's Messages API (`POST /v1/messages`), streaming events included, spoken in
//! OpenAI's terms through `convert`.

pub mod convert;

use futures::StreamExt;
use serde_json::Value;

use crate::error::RouterError;
use crate::http::{self, Timeouts};
use crate::provider::{ChunkStream, Completion, Provider};
use crate::wire::ChatRequest;
use convert::{Mode, Step, StreamTranslator};

/// The API version this provider speaks.
pub const API_VERSION: &str = "2023-06-01";

#[derive(Debug)]
pub struct Anthropic {
    name: String,
    /// `<root>/v1/messages` and `<root>/v1/models`, parsed once.
    messages_url: reqwest::Url,
    models_url: reqwest::Url,
    api_key: Option<String>,
    timeouts: Timeouts,
    client: reqwest::Client,
}

impl Anthropic {
    /// `base_url` is the API root without `/v1`, such as `https://api.anthropic.com`.
    pub fn new(
        name: impl Into<String>,
        base_url: &str,
        api_key: Option<String>,
        timeouts: Timeouts,
    ) -> Result<Self, RouterError> {
        let name = name.into();
        let root = base_url.trim_end_matches('/').trim_end_matches("/v1");
        Ok(Self {
            messages_url: http::parse_url(&name, &format!("{root}/v1/messages"))?,
            models_url: http::parse_url(&name, &format!("{root}/v1/models"))?,
            name,
            api_key,
            timeouts,
            client: http::client(timeouts)?,
        })
    }

    fn request(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let builder = builder.header("anthropic-version", API_VERSION);
        match &self.api_key {
            Some(key) => builder.header("x-api-key", key),
            None => builder,
        }
    }

    async fn send(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, RouterError> {
        http::send(&self.name, builder, self.timeouts.request).await
    }

    fn post_messages(&self, body: &Value) -> reqwest::RequestBuilder {
        self.request(self.client.post(self.messages_url.clone())).json(body)
    }

    fn protocol(&self, message: impl Into<String>) -> RouterError {
        RouterError::Protocol { provider: self.name.clone(), message: message.into() }
    }
}

#[async_trait::async_trait]
impl Provider for Anthropic {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "anthropic"
    }

    async fn complete(
        &self,
        request: &ChatRequest,
        model: &str,
    ) -> Result<Completion, RouterError> {
        let (body, mode) = convert::request_body(request, model, false)?;
        let response = self.send(self.post_messages(&body).timeout(self.timeouts.request)).await?;
        let (_, answer) =
            http::read_json::<Value>(&self.name, response, "a Messages API answer").await?;
        let converted =
            convert::response(&answer, &mode).map_err(|message| self.protocol(message))?;
        let usage = converted.usage.unwrap_or_default();
        let body =
            serde_json::to_vec(&converted).map_err(|error| self.protocol(error.to_string()))?;
        Ok(Completion { body: body.into(), usage })
    }

    async fn stream(&self, request: &ChatRequest, model: &str) -> Result<ChunkStream, RouterError> {
        let (body, mode) = convert::request_body(request, model, true)?;
        let response =
            tokio::time::timeout(self.timeouts.request, self.send(self.post_messages(&body)))
                .await
                .map_err(|_| RouterError::Timeout {
                    provider: self.name.clone(),
                    after: self.timeouts.request,
                })??;
        Ok(Box::pin(translate_events(
            self.name.clone(),
            Box::pin(http::sse_events(self.name.clone(), response)),
            mode,
        )))
    }

    async fn models(&self) -> Result<Vec<String>, RouterError> {
        let builder =
            self.request(self.client.get(self.models_url.clone())).timeout(self.timeouts.request);
        let response = self.send(builder).await?;
        let (_, list) = http::read_json::<Value>(&self.name, response, "a model list").await?;
        let models =
            list["data"].as_array().ok_or_else(|| self.protocol("the model list has no `data`"))?;
        Ok(models.iter().filter_map(|model| model["id"].as_str().map(str::to_owned)).collect())
    }

    async fn health(&self) -> Result<(), RouterError> {
        self.models().await.map(drop)
    }
}

type Events = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<crate::sse::SseEvent, RouterError>> + Send>,
>;

/// The OpenAI chunks of a Messages API event stream; a stream that stops before
/// `message_stop`, or carries an `error` event, ends in `StreamBroken`.
fn translate_events(
    provider: String,
    events: Events,
    mode: Mode,
) -> impl futures::Stream<Item = Result<crate::provider::StreamChunk, RouterError>> {
    let state =
        (events, StreamTranslator::new(mode), std::collections::VecDeque::new(), provider, false);
    futures::stream::unfold(
        state,
        |(mut events, mut translator, mut ready, provider, mut done)| async move {
            loop {
                if let Some(chunk) = ready.pop_front() {
                    return Some((Ok(chunk), (events, translator, ready, provider, done)));
                }
                if done {
                    return None;
                }
                let broken = |message: String| RouterError::StreamBroken {
                    provider: provider.clone(),
                    message,
                };
                let error = match events.next().await {
                    Some(Ok(event)) => match serde_json::from_slice::<Value>(&event.data) {
                        Ok(value) => match translator.event(&value) {
                            Ok(Step::Chunks(chunks)) => {
                                ready.extend(chunks);
                                continue;
                            }
                            Ok(Step::End(usage)) => {
                                ready.push_back(usage);
                                done = true;
                                continue;
                            }
                            Err(message) => broken(message),
                        },
                        Err(error) => broken(format!("an event is not JSON: {error}")),
                    },
                    Some(Err(error)) => error,
                    None => broken("the stream ended before message_stop".into()),
                };
                return Some((Err(error), (events, translator, ready, provider, true)));
            }
        },
    )
}
