//! Helpers every HTTP provider shares: the client, error mapping, `Retry-After`, bodies read
//! whole or as SSE events.

mod client;

use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http_body_util::BodyExt;

use crate::error::RouterError;
use crate::sse::{SseDecoder, SseEvent};
pub use client::{HttpClient, Request, Response};

/// Timeouts of one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting to the upstream.
    pub connect: Duration,
    /// A whole non-streaming answer, or a stream's first byte.
    pub request: Duration,
    /// The longest silence inside a stream.
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(120),
            idle: Duration::from_secs(60),
        }
    }
}

/// The longest answer body read from an upstream.
pub const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// Sends a request; a non-2xx answer becomes the vendor's error.
pub async fn send(
    provider: &str,
    client: &HttpClient,
    request: Request,
) -> Result<Response, RouterError> {
    let response = client.send(request).await.map_err(|error| transport_error(provider, &error))?;
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(error_from_response(provider, response).await)
    }
}

/// Runs `work`, giving up with a timeout error after `after`.
pub async fn within<T>(
    provider: &str,
    after: Duration,
    work: impl Future<Output = Result<T, RouterError>>,
) -> Result<T, RouterError> {
    tokio::time::timeout(after, work)
        .await
        .map_err(|_| RouterError::Timeout { provider: provider.to_owned(), after })?
}

/// Parses an endpoint URL once, when the provider is built: `http` or `https`, with a host.
pub fn parse_url(provider: &str, url: &str) -> Result<hyper::Uri, RouterError> {
    let invalid = |why: String| {
        RouterError::Config(format!("provider `{provider}`: `{url}` is not a URL: {why}"))
    };
    let uri: hyper::Uri =
        url.parse().map_err(|error: ::http::uri::InvalidUri| invalid(error.to_string()))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => Ok(uri),
        (Some("http" | "https"), _) => Err(invalid("it names no host".into())),
        _ => Err(invalid("it must start with http:// or https://".into())),
    }
}

/// Turns a transport error into the router's terms.
pub fn transport_error(provider: &str, error: &client::TransportError) -> RouterError {
    if error.is_connect() {
        RouterError::Connect { provider: provider.to_owned(), message: root_cause(error) }
    } else {
        RouterError::Protocol { provider: provider.to_owned(), message: root_cause(error) }
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// `Retry-After` in seconds or as an HTTP date; also the `retry-after-ms` some vendors send.
pub fn retry_after(headers: &::http::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<f64>().ok())
    {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    let value = headers.get(::http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return Some(Duration::from_secs_f64(seconds.clamp(0.0, 86_400.0)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// Reads an error answer and builds the error, taking the message from a JSON body when
/// the vendor sent one (`{"error": {"message"}}`, `{"error": "…"}` or `{"message"}`).
pub async fn error_from_response(provider: &str, response: Response) -> RouterError {
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let body = read_limited(response, 64 * 1024).await.unwrap_or_default();
    RouterError::Upstream {
        provider: provider.to_owned(),
        status,
        message: error_message(&body),
        retry_after,
    }
}

/// The human message inside a vendor's error body.
pub fn error_message(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let candidates = [
            value.pointer("/error/message"),
            value.get("error").filter(|e| e.is_string()),
            value.get("message"),
            value.get("Message"),
        ];
        if let Some(message) = candidates.into_iter().flatten().find_map(|v| v.as_str()) {
            return message.to_owned();
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() { "no message".to_owned() } else { text.chars().take(500).collect() }
}

/// Reads a body, refusing more than `limit` bytes.
pub async fn read_limited(response: Response, limit: usize) -> Result<Bytes, String> {
    let too_large = || format!("the answer is larger than {limit} bytes");
    let declared = response
        .headers()
        .get(::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let body = http_body_util::Limited::new(response.into_body(), limit);
    match body.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(error) => Err(root_cause(error.as_ref())),
    }
}

/// Reads a JSON answer (at most [`MAX_ANSWER_BYTES`]) and parses it as `T`, keeping the bytes;
/// `what` names the expected document in the error.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    provider: &str,
    response: Response,
    what: &str,
) -> Result<(Bytes, T), RouterError> {
    let protocol = |message| RouterError::Protocol { provider: provider.to_owned(), message };
    let body = read_limited(response, MAX_ANSWER_BYTES).await.map_err(protocol)?;
    let parsed = serde_json::from_slice(&body)
        .map_err(|error| protocol(format!("the answer is not {what}: {error}")))?;
    Ok((body, parsed))
}

/// A body's data as it arrives; a silence longer than `idle` or a transport failure ends it
/// with an error.
pub fn body_chunks(
    response: Response,
    idle: Duration,
) -> impl Stream<Item = Result<Bytes, String>> {
    futures::stream::unfold(Some(response.into_body()), move |body| async move {
        let mut body = body?;
        loop {
            match tokio::time::timeout(idle, body.frame()).await {
                Err(_) => {
                    let silence = format!("no data for {} s", idle.as_secs_f64());
                    return Some((Err(silence), None));
                }
                Ok(None) => return None,
                Ok(Some(Err(error))) => return Some((Err(root_cause(&error)), None)),
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) if !data.is_empty() => return Some((Ok(data), Some(body))),
                    _ => {} // an empty chunk or trailers
                },
            }
        }
    })
}

/// The SSE events of a response body, in order; a transport failure, a silence longer than
/// `idle` or an oversized event ends the stream with an error.
pub fn sse_events(
    provider: String,
    response: Response,
    idle: Duration,
) -> impl Stream<Item = Result<SseEvent, RouterError>> {
    let body = Box::pin(body_chunks(response, idle));
    futures::stream::unfold(
        (body, SseDecoder::default(), std::collections::VecDeque::new(), provider, false),
        |(mut body, mut decoder, mut ready, provider, mut finished)| async move {
            loop {
                if let Some(event) = ready.pop_front() {
                    return Some((Ok(event), (body, decoder, ready, provider, finished)));
                }
                if finished {
                    return None;
                }
                match body.next().await {
                    Some(Ok(chunk)) => {
                        let mut out = Vec::new();
                        if decoder.feed(&chunk, &mut out).is_err() {
                            finished = true;
                            let error = RouterError::StreamBroken {
                                provider: provider.clone(),
                                message: "an event was larger than 16 MiB".into(),
                            };
                            return Some((Err(error), (body, decoder, ready, provider, finished)));
                        }
                        ready.extend(out);
                    }
                    Some(Err(message)) => {
                        finished = true;
                        let error =
                            RouterError::StreamBroken { provider: provider.clone(), message };
                        return Some((Err(error), (body, decoder, ready, provider, finished)));
                    }
                    None => return None,
                }
            }
        },
    )
}

/// Seconds since the Unix epoch, for `created` fields.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_come_from_each_vendor_shape() {
        let cases: [(&[u8], &str); 5] = [
            (br#"{"error":{"message":"bad key","type":"x"}}"#, "bad key"),
            (
                br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                "Overloaded",
            ),
            (br#"{"error":"model not found"}"#, "model not found"),
            (
                br#"{"message":"The security token included in the request is invalid."}"#,
                "The security token included in the request is invalid.",
            ),
            (b"  upstream exploded \n", "upstream exploded"),
        ];
        for (body, expected) in cases {
            assert_eq!(error_message(body), expected);
        }
        assert_eq!(error_message(b""), "no message");
    }

    #[test]
    fn retry_after_reads_seconds_milliseconds_and_dates() {
        let mut headers = ::http::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", "3".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after-ms", "250".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        let mut dated = ::http::HeaderMap::new();
        let later = std::time::SystemTime::now() + Duration::from_secs(30);
        dated.insert("retry-after", httpdate::fmt_http_date(later).parse().expect("header"));
        let wait = retry_after(&dated).expect("parsed");
        assert!(wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28), "{wait:?}");
    }
}
