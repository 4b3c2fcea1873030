//! Bedrock's Converse (`POST /model/{id}/converse`) and ConverseStream
//! (`POST /model/{id}/converse-stream`, AWS event-stream frames) with recorded bodies.
//! Every request's SigV4 signature is checked against [`ACCESS_KEY_ID`] and
//! [`SECRET_ACCESS_KEY`]: a wrong or missing signature gets Bedrock's 403.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use crate::{MockServer, Shared, last_user_text};

/// The credentials the mock accepts.
pub const ACCESS_KEY_ID: &str = "AKIDMOCKBEDROCK";
pub const SECRET_ACCESS_KEY: &str = "mock/SECRET+key/for/tests";
pub const REGION: &str = "us-east-1";

const CONVERSE: &str = include_str!("../fixtures/bedrock/converse.json");
const CONVERSE_TOOL_USE: &str = include_str!("../fixtures/bedrock/converse_tool_use.json");
const STREAM: &str = include_str!("../fixtures/bedrock/stream.jsonl");
const STREAM_TOOL_USE: &str = include_str!("../fixtures/bedrock/stream_tool_use.jsonl");
const THROTTLING: &str = include_str!("../fixtures/bedrock/error_throttling.json");
const SIGNATURE: &str = include_str!("../fixtures/bedrock/error_signature.json");
const UNAVAILABLE: &str = include_str!("../fixtures/bedrock/error_service_unavailable.json");
const MODEL_STREAM_ERROR: &str = include_str!("../fixtures/bedrock/error_model_stream.json");

/// Starts a Bedrock runtime endpoint; its `base_url` is the root.
pub async fn start() -> std::io::Result<MockServer> {
    let router = axum::Router::new()
        .route("/model/{model}/converse", post(converse))
        .route("/model/{model}/converse-stream", post(converse_stream))
        .route("/", get(|| async { StatusCode::NOT_FOUND }));
    MockServer::start(router, "").await
}

fn error(status: u16, kind: &str, body: &'static str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = [
        ("content-type", "application/json".to_owned()),
        (
            "x-amzn-errortype",
            format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
        ),
    ];
    (status, headers, body).into_response()
}

/// Re-signs the request as received and compares with its `authorization` header.
fn signature_is_valid(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(authorization), Some(date), Some(host)) =
        (text("authorization"), text("x-amz-date"), text("host"))
    else {
        return false;
    };
    let Ok(at) = time::PrimitiveDateTime::parse(
        date,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    ) else {
        return false;
    };
    let time = SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::try_from(at.assume_utc().unix_timestamp()).unwrap_or(0));
    let identity = Credentials::new(
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        text("x-amz-security-token").map(str::to_owned),
        None,
        "mock",
    )
    .into();
    let Ok(params) = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("bedrock")
        .time(time)
        .settings(SigningSettings::default())
        .build()
    else {
        return false;
    };
    let params = params.into();
    let url = format!("http://{host}{}", uri.path());
    let signed = [
        ("content-type", text("content-type").unwrap_or("")),
        ("accept", text("accept").unwrap_or("")),
        ("host", host),
    ];
    let Ok(request) =
        SignableRequest::new("POST", url, signed.into_iter(), SignableBody::Bytes(body))
    else {
        return false;
    };
    let Ok(output) = sign(request, &params) else { return false };
    let (instructions, _) = output.into_parts();
    instructions.headers().any(|(name, value)| name == "authorization" && value == authorization)
}

/// Checks the signature and faults, and records the request; `Err` is the answer to send.
fn admit(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Value, Box<Response>> {
    let request = serde_json::from_slice::<Value>(body)
        .map_err(|_| Box::new(error(400, "ValidationException", THROTTLING)))?;
    shared.record(uri.path(), headers, request.clone());
    if !signature_is_valid(uri, headers, body) {
        return Err(Box::new(error(403, "AccessDeniedException", SIGNATURE)));
    }
    match shared.fault_for_next_call() {
        Some(503) => Err(Box::new(error(503, "ServiceUnavailableException", UNAVAILABLE))),
        Some(_) => Err(Box::new(error(500, "InternalServerException", UNAVAILABLE))),
        None => Ok(request),
    }
}

async fn converse(
    State(shared): State<Arc<Shared>>,
    Path(_model): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = match admit(&shared, &uri, &headers, &body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let json = |body: &'static str| ([("content-type", "application/json")], body).into_response();
    match last_user_text(&request).as_str() {
        "mock:rate-limit" => error(429, "ThrottlingException", THROTTLING),
        "mock:server-error" => error(503, "ServiceUnavailableException", UNAVAILABLE),
        "mock:slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            json(CONVERSE)
        }
        "mock:tool" => json(CONVERSE_TOOL_USE),
        _ => json(CONVERSE),
    }
}

/// One event-stream frame.
fn frame(headers: Vec<Header>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let message = Message::new_from_parts(headers, Bytes::copy_from_slice(payload));
    // Writing to a Vec cannot fail for the small frames of the fixtures.
    let _ = write_message_to(&message, &mut out);
    out
}

fn event_frame(event: &str, payload: &Value) -> Vec<u8> {
    let headers = vec![
        Header::new(":event-type", HeaderValue::String(event.to_owned().into())),
        Header::new(":content-type", HeaderValue::String("application/json".into())),
        Header::new(":message-type", HeaderValue::String("event".into())),
    ];
    frame(headers, payload.to_string().as_bytes())
}

fn exception_frame(kind: &str, payload: &str) -> Vec<u8> {
    let headers = vec![
        Header::new(":exception-type", HeaderValue::String(kind.to_owned().into())),
        Header::new(":content-type", HeaderValue::String("application/json".into())),
        Header::new(":message-type", HeaderValue::String("exception".into())),
    ];
    frame(headers, payload.as_bytes())
}

fn events(script: &str) -> Vec<Vec<u8>> {
    script
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|line| event_frame(line["event"].as_str().unwrap_or_default(), &line["payload"]))
        .collect()
}

async fn converse_stream(
    State(shared): State<Arc<Shared>>,
    Path(_model): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = match admit(&shared, &uri, &headers, &body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let frames: Vec<Vec<u8>> = match last_user_text(&request).as_str() {
        "mock:rate-limit" => return error(429, "ThrottlingException", THROTTLING),
        "mock:tool" => events(STREAM_TOOL_USE),
        "mock:cut" => events(STREAM).into_iter().take(2).collect(),
        "mock:stream-error" => {
            let mut frames: Vec<Vec<u8>> = events(STREAM).into_iter().take(2).collect();
            frames.push(exception_frame("modelStreamErrorException", MODEL_STREAM_ERROR));
            frames
        }
        _ => events(STREAM),
    };
    ([("content-type", "application/vnd.amazon.eventstream")], Body::from(frames.concat()))
        .into_response()
}
