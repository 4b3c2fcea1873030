//! Projects: the named containers of generations, files and capsules.
//!
//! Every change also appends its audit-log row in the same transaction, so that no change
//! is ever missing from the log.

use async_trait::async_trait;

use crate::{Actor, NewProject, OrgId, Project, ProjectId, ProjectUpdate, Result};

#[async_trait]
pub trait ProjectStore: Send + Sync {
    /// The organisation's projects, newest first.
    async fn list(&self, org: &OrgId) -> Result<Vec<Project>>;

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
