//! Helpers every HTTP provider shares: the client, error mapping, `Retry-After`, SSE bodies.

use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::error::RouterError;
use crate::sse::{SseDecoder, SseEvent};

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

/// An HTTP client tuned for a gateway: no Nagle delay, kept-alive connections.
pub fn client(timeouts: Timeouts) -> Result<reqwest::Client, RouterError> {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .connect_timeout(timeouts.connect)
        .read_timeout(timeouts.idle)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        // An API answer is never a redirect to follow: without a policy no URL is re-parsed
        // per request.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| RouterError::Config(format!("HTTP client: {error}")))
}

/// Sends a request; a non-2xx answer becomes the vendor's error (`timeout` names the wait in a
/// timeout error).
pub async fn send(
    provider: &str,
    builder: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<reqwest::Response, RouterError> {
    let response =
        builder.send().await.map_err(|error| transport_error(provider, &error, timeout))?;
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(error_from_response(provider, response).await)
    }
}

/// Parses an endpoint URL once, when the provider is built.
pub fn parse_url(provider: &str, url: &str) -> Result<reqwest::Url, RouterError> {
    reqwest::Url::parse(url).map_err(|error| {
        RouterError::Config(format!("provider `{provider}`: `{url}` is not a URL: {error}"))
    })
}

/// Turns a transport error into the router's terms.
pub fn transport_error(provider: &str, error: &reqwest::Error, after: Duration) -> RouterError {
    if error.is_timeout() {
        RouterError::Timeout { provider: provider.to_owned(), after }
    } else if error.is_connect() {
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
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<f64>().ok())
    {
        return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return Some(Duration::from_secs_f64(seconds.clamp(0.0, 86_400.0)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// Reads an error answer and builds the error, taking the message from a JSON body when
/// the vendor sent one (`{"error": {"message"}}`, `{"error": "…"}` or `{"message"}`).
pub async fn error_from_response(provider: &str, response: reqwest::Response) -> RouterError {
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
pub async fn read_limited(response: reqwest::Response, limit: usize) -> Result<Bytes, String> {
    if response.content_length().is_some_and(|length| length as usize > limit) {
        return Err(format!("the answer is larger than {limit} bytes"));
    }
    let mut body = bytes::BytesMut::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| root_cause(&error))?;
        if body.len() + chunk.len() > limit {
            return Err(format!("the answer is larger than {limit} bytes"));
        }
        if body.is_empty() && stream.size_hint().1 == Some(0) {
            return Ok(chunk);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Reads a JSON answer (at most [`MAX_ANSWER_BYTES`]) and parses it as `T`, keeping the bytes;
/// `what` names the expected document in the error.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    provider: &str,
    response: reqwest::Response,
    what: &str,
) -> Result<(Bytes, T), RouterError> {
    let protocol = |message| RouterError::Protocol { provider: provider.to_owned(), message };
    let body = read_limited(response, MAX_ANSWER_BYTES).await.map_err(protocol)?;
    let parsed = serde_json::from_slice(&body)
        .map_err(|error| protocol(format!("the answer is not {what}: {error}")))?;
    Ok((body, parsed))
}

/// The SSE events of a response body, in order; a transport failure or an oversized event
/// ends the stream with an error.
pub fn sse_events(
    provider: String,
    response: reqwest::Response,
) -> impl Stream<Item = Result<SseEvent, RouterError>> {
    let body = response.bytes_stream();
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
                    Some(Err(error)) => {
                        finished = true;
                        let error = RouterError::StreamBroken {
                            provider: provider.clone(),
                            message: root_cause(&error),
                        };
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
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", "3".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after-ms", "250".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        let mut dated = reqwest::header::HeaderMap::new();
        let later = std::time::SystemTime::now() + Duration::from_secs(30);
        dated.insert("retry-after", httpdate::fmt_http_date(later).parse().expect("header"));
        let wait = retry_after(&dated).expect("parsed");
        assert!(wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28), "{wait:?}");
    }
}
