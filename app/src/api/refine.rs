//! Refining a succeeded generation from its workspace: start a refinement with an instruction,
//! review its changes file by file, accept or reject each.

use leptos::prelude::*;

use crate::AppError;
use crate::wire::{DecisionView, RefinementView};
#[cfg(feature = "ssr")]
use crate::wire::{RefinedFileView, WorkspaceFileView};

#[cfg(feature = "ssr")]
fn refined_file_view(file: ql_services::RefinedFile) -> RefinedFileView {
    let before = file.before.as_deref().unwrap_or_default();
    let proposed = file.proposed.as_deref().unwrap_or_default();
    RefinedFileView {
        rows: ql_services::side_by_side(before, proposed)
            .into_iter()
            .map(super::files::diff_row_view)
            .collect(),
        path: file.path,
        change: file.change.as_str().to_owned(),
        decision: file.decision.map(|decision| decision.as_str().to_owned()),
        edits_merged: file.edits_merged,
        edits_conflict: file.edits_conflict,
    }
}

/// Starts a refinement of a succeeded generation; answers the new generation's id.
#[server]
pub async fn refine_generation(
    generation: String,
    instruction: String,
) -> Result<String, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let refined = services()?.refine_generation(&principal, &generation, &instruction).await?;
        Ok(refined.id.0)
    })
    .await
}

/// A succeeded refinement's changes, each as a side-by-side diff, with the decisions so far.
#[server]
pub async fn refinement(generation: String) -> Result<RefinementView, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let refinement = services()?.refinement(&principal, &generation).await?;
        Ok(RefinementView {
            parent_id: refinement.parent_id,
            instruction: refinement.instruction,
            files: refinement.files.into_iter().map(refined_file_view).collect(),
        })
    })
    .await
}

/// Accepts (`accept`) or rejects one file of a refinement.
#[server]
pub async fn decide_refined_file(
    generation: String,
    path: String,
    accept: bool,
) -> Result<DecisionView, AppError> {
    use crate::ssr::{current_principal, services};
    use ql_services::Decision;
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let decision = if accept { Decision::Accepted } else { Decision::Rejected };
        let (file, version) =
            services()?.decide_refined_file(&principal, &generation, &path, decision).await?;
        let workspace = version.map(|version| WorkspaceFileView {
            path: version.path,
            version: version.version,
            content: version.content,
        });
        Ok(DecisionView { file: refined_file_view(file), workspace })
    })
    .await
}
