//! Listing and creating the organisation's projects.

use leptos::prelude::*;

use crate::AppError;
use crate::wire::ProjectView;

#[cfg(feature = "ssr")]
fn view_of(project: ql_services::Project) -> ProjectView {
    ProjectView {
        id: project.id.0,
        name: project.name,
        description: project.description,
        created: crate::ssr::format_time(project.created_at),
    }
}

/// The organisation's projects, newest first.
#[server]
pub async fn list_projects() -> Result<Vec<ProjectView>, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let projects = services()?.list_projects(&principal).await?;
        Ok(projects.into_iter().map(view_of).collect())
    })
    .await
}

/// Creates a project; a bad name comes back as an error for the `name` field.
#[server]
pub async fn create_project(name: String, description: String) -> Result<ProjectView, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let project = services()?.create_project(&principal, &name, &description).await?;
        Ok(view_of(project))
    })
    .await
}

/// One project, for the edit form.
#[server]
pub async fn get_project(id: String) -> Result<ProjectView, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let project = services()?.project(&principal, &id.as_str().into()).await?;
        Ok(view_of(project))
    })
    .await
}

/// Renames or redescribes a project; errors concern the `name` or `description` field.
#[server]
pub async fn update_project(
    id: String,
    name: String,
    description: String,
) -> Result<ProjectView, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let project = services()?
            .update_project(&principal, &id.as_str().into(), &name, &description)
            .await?;
        Ok(view_of(project))
    })
    .await
}

/// Deletes a project and everything in it.
#[server]
pub async fn delete_project(id: String) -> Result<(), AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        Ok(services()?.delete_project(&principal, &id.as_str().into()).await?)
    })
    .await
}
