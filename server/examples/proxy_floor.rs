//! The floor of the router benchmark: what forwarding alone costs on the stack the gateway is
//! built on (axum's server, the router's pooled hyper client, one current-thread runtime, no
//! Nagle delay), with none of the gateway's work (keys, routing, quotas, metrics, accounting).
//!
//! A non-streaming request is parsed as JSON, written out again and sent upstream, and the
//! answer is parsed once (the least a gateway that reads usage must do); a stream's body is
//! passed through untouched, frame by frame. `scripts/bench/router.sh` runs it as a column of
//! the harness's table (`BENCH_FLOOR=1`), so the gateway's CPU per request can be read against
//! what its HTTP stack costs on the same machine in the same run.
//!
//! ```text
//! cargo run --release -p server --example proxy_floor -- --listen 127.0.0.1:8091 \
//!     --upstream http://127.0.0.1:18080/v1
//! ```

use anyhow::{Context, bail};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use ql_router::http::{HttpClient, MAX_ANSWER_BYTES, Timeouts};

#[derive(Clone)]
struct Upstream {
    client: HttpClient,
    chat_url: Uri,
}

fn main() -> anyhow::Result<()> {
    let mut listen = "127.0.0.1:8091".to_owned();
    let mut upstream = "http://127.0.0.1:18080/v1".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--listen" => listen = value,
            "--upstream" => upstream = value,
            other => bail!("unknown flag {other} (expected --listen ADDR, --upstream URL)"),
        }
    }
    let chat_url = format!("{}/chat/completions", upstream.trim_end_matches('/'))
        .parse()
        .context("--upstream is not a URL")?;
    let upstream = Upstream { client: HttpClient::new(Timeouts::default())?, chat_url };
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
        use axum::serve::ListenerExt as _;
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?
            .tap_io(|stream| {
                let _ = stream.set_nodelay(true);
            });
        let app = Router::new().route("/v1/chat/completions", post(forward)).with_state(upstream);
        axum::serve(listener, app).await.context("server failed")
    })
}

async fn forward(State(upstream): State<Upstream>, body: Bytes) -> Response {
    match try_forward(&upstream, &body).await {
        Ok(response) => response,
        Err(error) => (StatusCode::BAD_GATEWAY, format!("{error:#}")).into_response(),
    }
}

async fn try_forward(upstream: &Upstream, body: &[u8]) -> anyhow::Result<Response> {
    let request: serde_json::Value = serde_json::from_slice(body).context("not JSON")?;
    let stream = request.get("stream").and_then(serde_json::Value::as_bool).unwrap_or(false);
    let outgoing = HttpClient::request(
        "floor",
        Method::POST,
        &upstream.chat_url,
        [("content-type", "application/json")],
        serde_json::to_vec(&request)?.into(),
    )?;
    let answer = upstream.client.send(outgoing).await?;
    let status = answer.status();
    if stream {
        let mut response = Response::new(Body::new(answer.into_body()));
        *response.status_mut() = status;
        let content_type = header::HeaderValue::from_static("text/event-stream");
        response.headers_mut().insert(header::CONTENT_TYPE, content_type);
        return Ok(response);
    }
    let whole = axum::body::to_bytes(Body::new(answer.into_body()), MAX_ANSWER_BYTES).await?;
    let _usage: serde_json::Value = serde_json::from_slice(&whole).context("answer not JSON")?;
    Ok((status, [(header::CONTENT_TYPE, "application/json")], whole).into_response())
}
