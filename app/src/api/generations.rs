//! Generations from the browser: what can be asked for, starting one (it runs on the
//! workers; the page then follows its event stream at `/api/generations/{id}/events`), and
//! what a generation's page shows before its events arrive.

use leptos::prelude::*;

use crate::AppError;
use crate::wire::{GenerationOptions, GenerationSummary, SpecPreviewView};

/// The stacks and models a new generation can use.
#[server]
pub async fn new_app_choices() -> Result<GenerationOptions, AppError> {
    use crate::ssr::{current_principal, services};
    use crate::wire::StackOption;
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let stacks = ql_services::stacks()
            .into_iter()
            .map(|(id, label)| StackOption { id: id.to_owned(), label: label.to_owned() })
            .collect();
        let models = services()?.generation_models(&principal).await;
        Ok(GenerationOptions { stacks, models })
    })
    .await
}

/// Queues a generation; answers its id. `run_tests` is a checkbox: present means on. `spec`
/// is the edited spec as JSON (a `SpecDraft`); empty or absent, the description is read.
#[server]
pub async fn start_generation(
    description: String,
    stack: String,
    model: String,
    #[server(default)] run_tests: Option<String>,
    #[server(default)] spec: Option<String>,
) -> Result<String, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let input = ql_services::GenerationInput {
            description,
            stack,
            model,
            project_id: None,
            run_tests: run_tests.is_some(),
            spec,
        };
        Ok(services()?.submit_generation(&principal, input).await?.id.0)
    })
    .await
}

/// A generation of the caller's organisation.
#[server]
pub async fn generation_overview(id: String) -> Result<GenerationSummary, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let view = services()?.generation(&principal, &id).await?;
        let generation = view.generation;
        Ok(GenerationSummary {
            id: generation.id.0,
            status: generation.status,
            description: generation.description,
            stack: generation.stack,
            model: generation.model.unwrap_or_else(|| "builtin".to_owned()),
            project_id: generation.project_id.0,
            parent_id: generation.parent_id.map(|id| id.0),
            instruction: generation.instruction,
        })
    })
    .await
}

/// Cancels a queued or running generation.
#[server]
pub async fn cancel_generation(id: String) -> Result<(), AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        services()?.cancel_generation(&principal, &id).await?;
        Ok(())
    })
    .await
}

/// How the built-in extractor reads a description, before anything is generated.
#[server]
pub async fn preview_spec(description: String) -> Result<SpecPreviewView, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        current_principal().await?;
        let preview = services()?.preview_spec(&description)?;
        // The draft is the engine's spec format field for field.
        let spec = serde_json::from_str(&preview.spec_json).map_err(|error| {
            ql_services::ServiceError::Internal(format!("the spec cannot be edited: {error}"))
        })?;
        Ok(SpecPreviewView { lines: preview.lines, questions: preview.questions, spec })
    })
    .await
}
