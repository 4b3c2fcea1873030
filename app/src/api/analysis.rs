//! Analysing the buffer open in the editor.

use leptos::prelude::*;

use crate::AppError;
use crate::wire::BufferAnalysis;

/// Metrics and findings of one buffer, for editor markers and the problems list.
#[server]
pub async fn analyze_buffer(path: String, content: String) -> Result<BufferAnalysis, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let report = services()?.analyze_buffer(&principal, &path, &content)?;
        Ok(crate::wire::buffer_analysis(report))
    })
    .await
}
