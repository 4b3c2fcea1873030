//! CSRF protection: a state-changing request must come from our own origin.
//!
//! Browsers send `Sec-Fetch-Site` and `Origin` on every cross-origin and every POST request,
//! and a page on another site cannot forge either. So a request with a method other than
//! GET, HEAD or OPTIONS passes only when `Sec-Fetch-Site` says `same-origin` (or `none`: typed
//! by the user), or, for browsers without it, when `Origin` (else `Referer`) names this server.
//! A request with none of the three is refused. Session cookies are also `SameSite=Lax`.
//! A request carrying `Authorization: Bearer` passes: it is authenticated by its key alone.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Which origins count as ours besides the one the `Host` header names.
#[derive(Debug, Clone, Default)]
pub struct CsrfPolicy {
    /// The configured public origin, such as `https://ql.example.com`.
    pub public_origin: Option<String>,
}

pub async fn verify_origin(
    State(policy): State<CsrfPolicy>,
    request: Request,
    next: Next,
) -> Response {
    if is_safe(request.method()) || is_bearer(request.headers()) {
        return next.run(request).await;
    }
    match check(&policy, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(reason) => {
            tracing::warn!(reason, path = %request.uri().path(), "cross-site request refused");
            (StatusCode::FORBIDDEN, Body::from(format!("cross-site request refused: {reason}")))
                .into_response()
        }
    }
}

/// A request that authenticates with `Authorization: Bearer`: the routes that accept one then
/// ignore the session cookie, and no page on another site can set that header without this
/// server's CORS consent (it gives none), so there is nothing to forge.
fn is_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("Bearer "))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn check(policy: &CsrfPolicy, headers: &HeaderMap) -> Result<(), &'static str> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return match site {
            "same-origin" | "none" => Ok(()),
            _ => Err("the request came from another site"),
        };
    }
    let origin = match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) if origin != "null" => origin.to_owned(),
        (_, Some(referer)) => origin_of(referer).ok_or("the Referer is not a URL")?,
        _ => return Err("the request names no Origin"),
    };
    let host = text(header::HOST);
    let ours = |candidate: &str| {
        host.is_some_and(|host| origin_of(candidate).is_some_and(|o| host_of(&o) == Some(host)))
            || policy.public_origin.as_deref() == Some(candidate)
    };
    if ours(&origin) { Ok(()) } else { Err("the Origin is not this server") }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

fn host_of(origin: &str) -> Option<&str> {
    origin.split_once("://").map(|(_, authority)| authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn decides_by_fetch_metadata_then_origin_then_referer() {
        let policy = CsrfPolicy { public_origin: Some("https://ql.example.com".into()) };
        let host = ("host", "127.0.0.1:3000");
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[host, ("sec-fetch-site", "same-origin")], true),
            (&[host, ("sec-fetch-site", "none")], true),
            (&[host, ("sec-fetch-site", "cross-site"), ("origin", "http://127.0.0.1:3000")], false),
            (&[host, ("sec-fetch-site", "same-site")], false),
            (&[host, ("origin", "http://127.0.0.1:3000")], true),
            (&[host, ("origin", "http://evil.example")], false),
            (&[host, ("origin", "http://127.0.0.1:3000.evil.example")], false),
            (&[host, ("origin", "https://ql.example.com")], true),
            (&[host, ("origin", "null")], false),
            (&[host, ("referer", "http://127.0.0.1:3000/projects/new")], true),
            (&[host, ("referer", "http://evil.example/127.0.0.1:3000")], false),
            (&[host], false),
            (&[("origin", "http://127.0.0.1:3000")], false),
        ];
        for (pairs, allowed) in cases {
            let got = check(&policy, &headers(pairs));
            assert_eq!(got.is_ok(), *allowed, "{pairs:?} gave {got:?}");
        }
    }
}
