//! A project's capsules: generated with the built-in engine, kept, listed, downloaded (the
//! download itself is a plain route, `/capsules/{id}/download`).

use leptos::prelude::*;

use crate::AppError;
use crate::wire::{CapsuleView, StackOption};

#[cfg(feature = "ssr")]
fn view_of(capsule: ql_services::CapsuleSummary) -> CapsuleView {
    CapsuleView {
        id: capsule.id.0,
        app: capsule.app,
        stack: capsule.stack,
        files: capsule.files as i64,
        size_bytes: capsule.size_bytes,
        sha256: capsule.sha256,
        tests_ran: capsule.tests_ran,
        tests_passed: i64::from(capsule.tests_passed),
        coverage_percent: capsule.coverage_percent,
        created_at: capsule.created_at,
    }
}

/// The stacks the engine generates, in the order to offer them.
#[server]
pub async fn list_stacks() -> Result<Vec<StackOption>, AppError> {
    Ok(ql_services::stacks()
        .into_iter()
        .map(|(id, label)| StackOption { id: id.to_owned(), label: label.to_owned() })
        .collect())
}

/// A project's capsules, newest first.
#[server]
pub async fn list_capsules(project_id: String) -> Result<Vec<CapsuleView>, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let capsules = services()?.list_capsules(&principal, &project_id.as_str().into()).await?;
        Ok(capsules.into_iter().map(view_of).collect())
    })
    .await
}

/// Generates a capsule for a project from a description; `validate` runs its tests in the
/// sandbox first (a checkbox: present means on).
#[server]
pub async fn generate_capsule(
    project_id: String,
    description: String,
    stack: String,
    #[server(default)] validate: Option<String>,
) -> Result<CapsuleView, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let input = ql_services::CapsuleInput { description, stack, validate: validate.is_some() };
        Ok(view_of(
            services()?.generate_capsule(&principal, &project_id.as_str().into(), &input).await?,
        ))
    })
    .await
}
