//! The HTTP client every provider shares: hyper's pooled HTTP/1.1 client over TCP, or TLS
//! (rustls, the Mozilla roots) for `https` URLs. A gateway sends every request to an endpoint
//! parsed once, so it needs none of a general client's layers (URL re-parsing, redirects,
//! proxies), which cost about a tenth of a proxied call's CPU.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::Timeouts;
use crate::error::RouterError;

/// A request to an upstream, its body whole.
pub type Request = hyper::Request<Full<Bytes>>;
/// An upstream's answer, its body still arriving.
pub type Response = hyper::Response<hyper::body::Incoming>;
/// A failure to connect or to exchange a request and its answer's head.
pub type TransportError = hyper_util::client::legacy::Error;

/// How long an idle pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(90);
/// Idle connections kept per upstream, at most.
const POOL_IDLE_PER_HOST: usize = 256;

/// An HTTP client tuned for a gateway: no Nagle delay, kept-alive connections. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HttpClient {
    pub fn new(timeouts: Timeouts) -> Result<Self, RouterError> {
        let mut tcp = HttpConnector::new();
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(timeouts.connect));
        tcp.enforce_http(false); // `https` URLs pass through to the TLS layer
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(provider)
            .map_err(|error| RouterError::Config(format!("TLS: {error}")))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_max_idle_per_host(POOL_IDLE_PER_HOST)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(Self { inner })
    }

    /// A request to `uri` with `headers`, its body `body`; a header value that cannot be sent
    /// (a key with a line break, say) is a configuration error of `provider`.
    pub fn request(
        provider: &str,
        method: hyper::Method,
        uri: &hyper::Uri,
        headers: impl IntoIterator<Item = (impl AsRef<str>, impl AsRef<str>)>,
        body: Bytes,
    ) -> Result<Request, RouterError> {
        let mut builder = hyper::Request::builder().method(method).uri(uri.clone());
        for (name, value) in headers {
            builder = builder.header(name.as_ref(), value.as_ref());
        }
        builder.body(Full::new(body)).map_err(|error| {
            RouterError::Config(format!("provider `{provider}`: cannot build a request: {error}"))
        })
    }

    /// Sends `request` and waits for the answer's head.
    pub async fn send(&self, request: Request) -> Result<Response, TransportError> {
        self.inner.request(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn https_urls_are_spoken_to_in_tls() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut first = [0u8; 3];
            socket.read_exact(&mut first).await.expect("read");
            first // dropping the socket fails the handshake
        });
        let client = HttpClient::new(Timeouts::default()).expect("client");
        let uri: hyper::Uri = format!("https://127.0.0.1:{port}/v1/models").parse().expect("uri");
        let request =
            HttpClient::request("p", hyper::Method::GET, &uri, [("accept", "*/*")], Bytes::new())
                .expect("request");
        assert!(client.send(request).await.is_err());
        // A TLS handshake record (22) of TLS 1.x (3, _), not an HTTP request line.
        assert_eq!(&server.await.expect("server")[..2], &[22, 3]);
    }

    #[test]
    fn header_values_that_cannot_be_sent_are_refused() {
        let uri: hyper::Uri = "http://127.0.0.1/".parse().expect("uri");
        let bad = HttpClient::request(
            "p",
            hyper::Method::GET,
            &uri,
            [("x-api-key", "line\nbreak")],
            Bytes::new(),
        );
        assert!(matches!(bad, Err(RouterError::Config(message)) if message.contains("`p`")));
    }
}
