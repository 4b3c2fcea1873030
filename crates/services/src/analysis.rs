//! Analysing what a person is editing: one buffer at a time, for the editor's markers.

use ql_analyzer::{AnalyzeError, FileReport, Options};

use crate::{Principal, Result, ServiceError, Services};

/// The largest buffer analysed, in bytes (the HTTP API's per-file limit).
pub const MAX_BUFFER_BYTES: usize = 1024 * 1024;

impl Services {
    /// Analyses one editor buffer. Any signed-in member may; nothing is stored.
    pub fn analyze_buffer(
        &self,
        _principal: &Principal,
        path: &str,
        content: &str,
    ) -> Result<FileReport> {
        if content.len() > MAX_BUFFER_BYTES {
            return Err(ServiceError::Invalid(ql_common::FieldError::new(
                "content",
                format!("The file is {} bytes; the limit is {MAX_BUFFER_BYTES}.", content.len()),
            )));
        }
        let options =
            Options { time_limit: Some(std::time::Duration::from_secs(2)), ..Options::default() };
        ql_analyzer::analyze(path, content.as_bytes(), &options).map_err(|e| match e {
            AnalyzeError::UnknownLanguage(_)
            | AnalyzeError::Binary(_)
            | AnalyzeError::TimedOut(_) => {
                ServiceError::Invalid(ql_common::FieldError::new("path", e.to_string()))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::services;

    #[tokio::test]
    async fn buffers_are_analysed_or_refused_clearly() {
        let (services, _dir) = services().await;
        let principal = services.sign_in_local().await.expect("sign in");
        let report = services
            .analyze_buffer(&principal, "app.py", "def f(x):\n    return eval(x)\n")
            .expect("analyze");
        assert_eq!(report.functions[0].name, "f");
        assert_eq!(report.findings[0].rule, "py.eval");

        let err = services.analyze_buffer(&principal, "notes.txt", "hello").unwrap_err();
        assert_eq!(err.to_string(), "path: no analyzer for notes.txt");
        let big = "#".repeat(super::MAX_BUFFER_BYTES + 1);
        let err = services.analyze_buffer(&principal, "big.py", &big).unwrap_err();
        assert_eq!(err.kind(), "invalid");
    }
}
