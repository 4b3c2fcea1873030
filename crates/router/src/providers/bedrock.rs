//! AWS Bedrock's Converse and ConverseStream APIs: SigV4-signed requests, and streams in
//! AWS's binary event-stream framing, spoken in OpenAI's terms through `convert`.

pub mod convert;
pub mod sign;

use std::time::SystemTime;

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use futures::StreamExt;
use serde_json::Value;

use crate::error::RouterError;
use crate::http::{self, HttpClient, Timeouts};
use crate::provider::{ChunkStream, Completion, Provider, StreamChunk};
use crate::wire::ChatRequest;
use convert::StreamTranslator;
use sign::AwsCredentials;

/// The signing name of the Bedrock runtime.
const SERVICE: &str = "bedrock";
/// The largest event-stream frame accepted.
const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug)]
pub struct Bedrock {
    name: String,
    base_url: String,
    /// The `Host` header every request signs and sends, from `base_url`.
    host: String,
    region: String,
    credentials: AwsCredentials,
    timeouts: Timeouts,
    client: HttpClient,
}

/// Percent-encodes a model id for the URL path (ids such as `anthropic.claude-v2:1` hold `:`).
fn encode_model(model: &str) -> String {
    let mut out = String::with_capacity(model.len());
    for byte in model.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `Host` header for `uri` (which `http::parse_url` checked names a host): its host, and
/// its port unless it is the scheme's default.
fn host_header(uri: &hyper::Uri) -> String {
    let host = uri.host().unwrap_or_default();
    let default_port = if uri.scheme_str() == Some("https") { 443 } else { 80 };
    match uri.port_u16() {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host.to_owned(),
    }
}

impl Bedrock {
    /// `base_url` defaults to `https://bedrock-runtime.<region>.amazonaws.com`.
    pub fn new(
        name: impl Into<String>,
        base_url: Option<&str>,
        region: &str,
        credentials: AwsCredentials,
        timeouts: Timeouts,
    ) -> Result<Self, RouterError> {
        let base_url = base_url.map_or_else(
            || format!("https://bedrock-runtime.{region}.amazonaws.com"),
            str::to_owned,
        );
        let name = name.into();
        let base_url = base_url.trim_end_matches('/').to_owned();
        let host = host_header(&http::parse_url(&name, &base_url)?);
        Ok(Self {
            name,
            base_url,
            host,
            region: region.to_owned(),
            credentials,
            timeouts,
            client: HttpClient::new(timeouts)?,
        })
    }

    /// A signed POST of `body` to `/model/<model>/<action>`.
    fn signed_post(
        &self,
        model: &str,
        action: &str,
        body: Vec<u8>,
        accept: &str,
    ) -> Result<http::Request, RouterError> {
        let url = format!("{}/model/{}/{action}", self.base_url, encode_model(model));
        let uri = http::parse_url(&self.name, &url)?;
        let headers = [
            ("content-type", "application/json"),
            ("accept", accept),
            ("host", self.host.as_str()),
        ];
        let signable = sign::Signable { method: "POST", url: &url, headers: &headers, body: &body };
        let signature = sign::signature_headers(
            &self.credentials,
            &self.region,
            SERVICE,
            signable,
            SystemTime::now(),
        )
        .map_err(|message| {
            RouterError::Config(format!("provider `{}`: cannot sign: {message}", self.name))
        })?;
        // The `host` signed is the one sent.
        let headers =
            headers.into_iter().chain(signature.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        HttpClient::request(&self.name, hyper::Method::POST, &uri, headers, body.into())
    }

    fn protocol(&self, message: impl Into<String>) -> RouterError {
        RouterError::Protocol { provider: self.name.clone(), message: message.into() }
    }
}

#[async_trait::async_trait]
impl Provider for Bedrock {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        "bedrock"
    }

    async fn complete(
        &self,
        request: &ChatRequest,
        model: &str,
    ) -> Result<Completion, RouterError> {
        let (body, mode) = convert::request_body(request)?;
        let body = serde_json::to_vec(&body)
            .map_err(|error| RouterError::InvalidRequest(error.to_string()))?;
        let request = self.signed_post(model, "converse", body, "application/json")?;
        let (_, answer) = http::within(&self.name, self.timeouts.request, async {
            let response = http::send(&self.name, &self.client, request).await?;
            http::read_json::<Value>(&self.name, response, "a Converse answer").await
        })
        .await?;
        let converted =
            convert::response(&answer, model, &mode).map_err(|message| self.protocol(message))?;
        let usage = converted.usage.unwrap_or_default();
        let body =
            serde_json::to_vec(&converted).map_err(|error| self.protocol(error.to_string()))?;
        Ok(Completion { body: body.into(), usage })
    }

    async fn stream(&self, request: &ChatRequest, model: &str) -> Result<ChunkStream, RouterError> {
        let (body, mode) = convert::request_body(request)?;
        let body = serde_json::to_vec(&body)
            .map_err(|error| RouterError::InvalidRequest(error.to_string()))?;
        let request =
            self.signed_post(model, "converse-stream", body, "application/vnd.amazon.eventstream")?;
        let response = http::within(
            &self.name,
            self.timeouts.request,
            http::send(&self.name, &self.client, request),
        )
        .await?;
        let chunks = http::body_chunks(response, self.timeouts.idle);
        Ok(Box::pin(event_stream(self.name.clone(), chunks, StreamTranslator::new(mode, model))))
    }

    async fn models(&self) -> Result<Vec<String>, RouterError> {
        // Listing needs the control-plane API (`bedrock`, not `bedrock-runtime`); routes name
        // their Bedrock models explicitly.
        Ok(Vec::new())
    }

    async fn health(&self) -> Result<(), RouterError> {
        // A minimal signed Converse call would cost tokens; reaching the endpoint is the probe.
        let uri = http::parse_url(&self.name, &format!("{}/", self.base_url))?;
        let request = HttpClient::request(
            &self.name,
            hyper::Method::GET,
            &uri,
            [("accept", "*/*")],
            Default::default(),
        )?;
        http::within(&self.name, self.timeouts.connect, async {
            self.client
                .send(request)
                .await
                .map_err(|error| http::transport_error(&self.name, &error))
        })
        .await
        .map(drop)
    }
}

/// A header value of an event-stream message, as text.
fn header(message: &aws_smithy_types::event_stream::Message, name: &str) -> Option<String> {
    message
        .headers()
        .iter()
        .find(|header| header.name().as_str() == name)
        .and_then(|header| header.value().as_string().ok().map(|value| value.as_str().to_owned()))
}

/// The OpenAI chunks of a ConverseStream body: binary frames decoded as they arrive; an
/// exception frame, a corrupt frame or an end before `messageStop` breaks the stream.
fn event_stream(
    provider: String,
    body: impl futures::Stream<Item = Result<bytes::Bytes, String>> + Send + 'static,
    translator: StreamTranslator,
) -> impl futures::Stream<Item = Result<StreamChunk, RouterError>> {
    let state = (
        Box::pin(body),
        bytes::BytesMut::new(),
        MessageFrameDecoder::new(),
        translator,
        std::collections::VecDeque::new(),
        provider,
        false,
    );
    futures::stream::unfold(
        state,
        |(mut body, mut buffer, mut decoder, mut translator, mut ready, provider, mut done)| async move {
            loop {
                if let Some(chunk) = ready.pop_front() {
                    return Some((
                        Ok(chunk),
                        (body, buffer, decoder, translator, ready, provider, done),
                    ));
                }
                if done {
                    return None;
                }
                let broken = |message: String| RouterError::StreamBroken {
                    provider: provider.clone(),
                    message,
                };
                match decoder.decode_frame(&mut buffer) {
                    Ok(DecodedFrame::Complete(message)) => {
                        let message_type = header(&message, ":message-type").unwrap_or_default();
                        if message_type != "event" {
                            let kind = header(&message, ":exception-type")
                                .or_else(|| header(&message, ":error-code"))
                                .unwrap_or(message_type);
                            let detail = http::error_message(message.payload());
                            done = true;
                            return Some((
                                Err(broken(format!("{kind}: {detail}"))),
                                (body, buffer, decoder, translator, ready, provider, done),
                            ));
                        }
                        let event_type = header(&message, ":event-type").unwrap_or_default();
                        match serde_json::from_slice::<Value>(message.payload()) {
                            Ok(payload) => ready.extend(translator.event(&event_type, &payload)),
                            Err(error) => {
                                done = true;
                                let error = broken(format!("an event is not JSON: {error}"));
                                return Some((
                                    Err(error),
                                    (body, buffer, decoder, translator, ready, provider, done),
                                ));
                            }
                        }
                        continue;
                    }
                    Ok(DecodedFrame::Incomplete) => {}
                    Err(error) => {
                        done = true;
                        let error = broken(format!("a corrupt event-stream frame: {error}"));
                        return Some((
                            Err(error),
                            (body, buffer, decoder, translator, ready, provider, done),
                        ));
                    }
                }
                match body.next().await {
                    Some(Ok(bytes)) if buffer.len() + bytes.len() <= MAX_FRAME_BYTES => {
                        buffer.extend_from_slice(&bytes)
                    }
                    Some(Ok(_)) => {
                        done = true;
                        let error = broken("an event-stream frame larger than 16 MiB".into());
                        return Some((
                            Err(error),
                            (body, buffer, decoder, translator, ready, provider, done),
                        ));
                    }
                    Some(Err(error)) => {
                        done = true;
                        let error = broken(error);
                        return Some((
                            Err(error),
                            (body, buffer, decoder, translator, ready, provider, done),
                        ));
                    }
                    None if translator.stopped() && buffer.is_empty() => return None,
                    None => {
                        done = true;
                        let error = broken("the stream ended before messageStop".into());
                        return Some((
                            Err(error),
                            (body, buffer, decoder, translator, ready, provider, done),
                        ));
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn model_ids_are_percent_encoded_for_the_path() {
        assert_eq!(
            super::encode_model("anthropic.claude-3-5-haiku-20241022-v1:0"),
            "anthropic.claude-3-5-haiku-20241022-v1%3A0"
        );
        assert_eq!(super::encode_model("a/b c"), "a%2Fb%20c");
    }
}
