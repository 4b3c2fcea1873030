//! Projects: the named containers of generations, files and capsules.
//!
//! Every change also appends its audit-log row in the same transaction, so that no change
//! is ever missing from the log.

use async_trait::async_trait;

use crate::{Actor, NewProject, OrgId, Project, ProjectActivity, ProjectId, ProjectUpdate, Result};

#[async_trait]
pub trait ProjectStore: Send + Sync {
    /// The organisation's projects, newest first.
    async fn list(&self, org: &OrgId) -> Result<Vec<Project>>;

    /// The organisation's most recently active projects, at most `limit` (capped at 200),
    /// each with its newest generation in brief: the project whose newest generation (or,
    /// without one, its creation) is newest comes first.
    async fn list_with_latest_generation(
        &self,
        org: &OrgId,
        limit: i64,
    ) -> Result<Vec<ProjectActivity>>;

    /// One project of the organisation; `NotFound` for another organisation's project.
    async fn get(&self, org: &OrgId, id: &ProjectId) -> Result<Project>;

    /// Creates a project; `Conflict` when the organisation already has one of that name.
    async fn create(&self, actor: &Actor, new: NewProject) -> Result<Project>;

    /// Renames or redescribes a project.
    async fn update(&self, actor: &Actor, id: &ProjectId, update: ProjectUpdate)
    -> Result<Project>;

    /// Deletes a project and everything in it.
    async fn delete(&self, actor: &Actor, id: &ProjectId) -> Result<()>;
}
