//! AWS Signature Version 4 for Bedrock requests, through the `aws-sigv4` crate.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

/// An access key pair, and the session token of temporary credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The parts of a request that the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Signable<'a> {
    pub method: &'a str,
    /// The URL as sent, path already percent-encoded.
    pub url: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// The headers (`authorization`, `x-amz-date`, and `x-amz-security-token` for temporary
/// credentials) that sign `request` for `service` in `region` at `time`.
pub fn signature_headers(
    credentials: &AwsCredentials,
    region: &str,
    service: &str,
    request: Signable<'_>,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let identity = Credentials::new(
        credentials.access_key_id.clone(),
        credentials.secret_access_key.clone(),
        credentials.session_token.clone(),
        None,
        "quantumlayer",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|error| error.to_string())?
        .into();
    let request = SignableRequest::new(
        request.method,
        request.url,
        request.headers.iter().copied(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|error| error.to_string())?;
    let (instructions, _signature) =
        sign(request, &params).map_err(|error| error.to_string())?.into_parts();
    Ok(instructions.headers().map(|(name, value)| (name.to_owned(), value.to_owned())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_signature_covers_the_body_and_carries_the_scope() {
        let credentials = AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: Some("session".into()),
        };
        // 2026-11-26T00:00:00Z
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_651_200);
        let url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/m%3A0/converse";
        let headers = [
            ("content-type", "application/json"),
            ("host", "bedrock-runtime.us-east-1.amazonaws.com"),
        ];
        let sign = |body: &[u8]| {
            let request = Signable { method: "POST", url, headers: &headers, body };
            signature_headers(&credentials, "us-east-1", "bedrock", request, time).expect("signs")
        };
        let signed = sign(b"{}");
        let find = |name: &str| signed.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let authorization = find("authorization").expect("authorization");
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261126/us-east-1/bedrock/aws4_request"
            ),
            "{authorization}"
        );
        assert_eq!(find("x-amz-date").as_deref(), Some("20261126T000000Z"));
        assert_eq!(find("x-amz-security-token").as_deref(), Some("session"));
        let other = sign(b"{\"a\":1}");
        assert_ne!(other, signed, "a different body gives a different signature");
        assert!(!format!("{credentials:?}").contains("wJalr"), "the secret is never printed");
    }
}
