//! Anthropic's Messages API (`POST /v1/messages`), streaming events included, spoken in
//! OpenAI's terms through `convert`.

pub mod convert;

use futures::StreamExt;
use serde_json::Value;

use crate::error::RouterError;
use crate::http::{self, HttpClient, Response, Timeouts};
use crate::provider::{ChunkStream, Completion, Provider};
use crate::wire::ChatRequest;
use convert::{Mode, Step, StreamTranslator};

/// The API version this provider speaks.
pub const API_VERSION: &str = "2023-06-01";

#[derive(Debug)]
pub struct Anthropic {
    name: String,
    /// `<root>/v1/messages` and `<root>/v1/models`, parsed once.
    messages_url: hyper::Uri,
    models_url: hyper::Uri,
    api_key: Option<String>,
    timeouts: Timeouts,
    client: HttpClient,
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
            client: HttpClient::new(timeouts)?,
        })
    }

    /// Sends a request to `uri` (a JSON body unless `body` is `None`); a non-2xx answer
    /// becomes the vendor's error.
    async fn send(
        &self,
        method: hyper::Method,
        uri: &hyper::Uri,
        body: Option<&Value>,
    ) -> Result<Response, RouterError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|error| RouterError::InvalidRequest(error.to_string()))?;
        let json = body.is_some().then_some(("content-type", "application/json"));
        let key = self.api_key.as_deref().map(|key| ("x-api-key", key));
        let headers = [("anthropic-version", API_VERSION)].into_iter().chain(json).chain(key);
        let body = body.unwrap_or_default().into();
        let request = HttpClient::request(&self.name, method, uri, headers, body)?;
        http::send(&self.name, &self.client, request).await
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
        let (_, answer) = http::within(&self.name, self.timeouts.request, async {
            let response = self.send(hyper::Method::POST, &self.messages_url, Some(&body)).await?;
            http::read_json::<Value>(&self.name, response, "a Messages API answer").await
        })
        .await?;
        let converted =
            convert::response(&answer, &mode).map_err(|message| self.protocol(message))?;
        let usage = converted.usage.unwrap_or_default();
        let body =
            serde_json::to_vec(&converted).map_err(|error| self.protocol(error.to_string()))?;
        Ok(Completion { body: body.into(), usage })
    }

    async fn stream(&self, request: &ChatRequest, model: &str) -> Result<ChunkStream, RouterError> {
        let (body, mode) = convert::request_body(request, model, true)?;
        let response = http::within(
            &self.name,
            self.timeouts.request,
            self.send(hyper::Method::POST, &self.messages_url, Some(&body)),
        )
        .await?;
        Ok(Box::pin(translate_events(
            self.name.clone(),
            Box::pin(http::sse_events(self.name.clone(), response, self.timeouts.idle)),
            mode,
        )))
    }

    async fn models(&self) -> Result<Vec<String>, RouterError> {
        let (_, list) = http::within(&self.name, self.timeouts.request, async {
            let response = self.send(hyper::Method::GET, &self.models_url, None).await?;
            http::read_json::<Value>(&self.name, response, "a model list").await
        })
        .await?;
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
