//! Project use-cases: list, create, and read the audit log they leave.

use ql_common::{FieldError, validate_project_description, validate_project_name};
use ql_store::{AuditEntry, NewProject, Project, ProjectId, ProjectUpdate, StoreError};

use crate::{Principal, Result, ServiceError, Services};

/// The most audit entries one call returns.
pub const AUDIT_PAGE_MAX: u32 = 500;

/// A project as lists show it.
pub type ProjectSummary = Project;

impl Services {
    /// The principal's organisation's projects, newest first.
    pub async fn list_projects(&self, principal: &Principal) -> Result<Vec<Project>> {
        Ok(self.store.projects.list(&principal.org_id).await?)
    }

    /// One project of the principal's organisation.
    pub async fn project(&self, principal: &Principal, id: &ProjectId) -> Result<Project> {
        Ok(self.store.projects.get(&principal.org_id, id).await?)
    }

    /// Creates a project after checking the role and the input.
    pub async fn create_project(
        &self,
        principal: &Principal,
        name: &str,
        description: &str,
    ) -> Result<Project> {
        let (name, description) = checked_project_input(principal, name, description)?;
        let new = NewProject { name, description };
        self.store.projects.create(&principal.actor(), new).await.map_err(name_conflict)
    }

    /// Renames or redescribes a project, with the same checks as creating one.
    pub async fn update_project(
        &self,
        principal: &Principal,
        id: &ProjectId,
        name: &str,
        description: &str,
    ) -> Result<Project> {
        let (name, description) = checked_project_input(principal, name, description)?;
        let update = ProjectUpdate { name, description };
        self.store.projects.update(&principal.actor(), id, update).await.map_err(name_conflict)
    }

    /// Deletes a project and everything in it.
    pub async fn delete_project(&self, principal: &Principal, id: &ProjectId) -> Result<()> {
        if !principal.role.can_write() {
            return Err(ServiceError::Forbidden("viewers cannot delete projects"));
        }
        Ok(self.store.projects.delete(&principal.actor(), id).await?)
    }

    /// The newest audit entries of the principal's organisation (at most [`AUDIT_PAGE_MAX`]).
    pub async fn list_audit(&self, principal: &Principal, limit: u32) -> Result<Vec<AuditEntry>> {
        let limit = limit.clamp(1, AUDIT_PAGE_MAX);
        Ok(self.store.audit.list(&principal.org_id, limit).await?)
    }
}

/// Checks the role and the fields of a project create or update; returns them trimmed.
fn checked_project_input(
    principal: &Principal,
    name: &str,
    description: &str,
) -> Result<(String, String)> {
    if !principal.role.can_write() {
        return Err(ServiceError::Forbidden("viewers cannot change projects"));
    }
    let name = validate_project_name(name).map_err(ServiceError::Invalid)?;
    let description = validate_project_description(description).map_err(ServiceError::Invalid)?;
    Ok((name, description))
}

/// A taken name is a mistake in the `name` field, not a failure.
fn name_conflict(error: StoreError) -> ServiceError {
    match error {
        StoreError::Conflict(_) => ServiceError::Conflict(FieldError::new(
            "name",
            "A project with this name already exists.",
        )),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::services;

    #[tokio::test]
    async fn creates_lists_and_audits() {
        let (services, _dir) = services().await;
        let principal = services.sign_in_local().await.expect("sign in");
        let project =
            services.create_project(&principal, "  Library ", "books").await.expect("create");
        assert_eq!(project.name, "Library");
        let listed = services.list_projects(&principal).await.expect("list");
        assert_eq!(listed, vec![project.clone()]);
        let audit = services.list_audit(&principal, 1).await.expect("audit");
        assert_eq!(audit[0].action, "project.create");
        assert_eq!(audit[0].target_id.as_deref(), Some(project.id.as_str()));
    }

    #[tokio::test]
    async fn bad_input_is_a_field_error_and_writes_nothing() {
        let (services, _dir) = services().await;
        let principal = services.sign_in_local().await.expect("sign in");
        for name in ["", "   ", &"n".repeat(300)] {
            let err = services.create_project(&principal, name, "").await.unwrap_err();
            let ServiceError::Invalid(field) = err else { panic!("expected Invalid, got {err:?}") };
            assert_eq!(field.field, "name");
        }
        services.create_project(&principal, "Twin", "").await.expect("first");
        let err = services.create_project(&principal, "Twin", "").await.unwrap_err();
        assert_eq!(err.kind(), "conflict");
        assert_eq!(err.to_string(), "name: A project with this name already exists.");
        assert_eq!(services.list_projects(&principal).await.expect("list").len(), 1);
    }

    #[tokio::test]
    async fn renames_and_deletes_with_the_same_checks() {
        let (services, _dir) = services().await;
        let principal = services.sign_in_local().await.expect("sign in");
        let library = services.create_project(&principal, "Library", "").await.expect("create");
        services.create_project(&principal, "Shop", "").await.expect("create");

        let renamed = services
            .update_project(&principal, &library.id, " Lending library ", "loans")
            .await
            .expect("rename");
        assert_eq!(
            (renamed.name.as_str(), renamed.description.as_str()),
            ("Lending library", "loans")
        );
        let err = services.update_project(&principal, &library.id, "Shop", "").await.unwrap_err();
        assert_eq!(err.kind(), "conflict");
        let err = services.update_project(&principal, &library.id, "", "").await.unwrap_err();
        assert_eq!(err.kind(), "invalid");

        services.delete_project(&principal, &library.id).await.expect("delete");
        let err = services.project(&principal, &library.id).await.unwrap_err();
        assert_eq!(err.kind(), "not_found");
        let err = services.delete_project(&principal, &library.id).await.unwrap_err();
        assert_eq!(err.kind(), "not_found");
    }

    #[tokio::test]
    async fn viewers_cannot_change_anything() {
        let (services, _dir) = services().await;
        let owner = services.sign_in_local().await.expect("sign in");
        let project = services.create_project(&owner, "Mine", "").await.expect("create");
        let viewer = Principal { role: ql_common::Role::Viewer, ..owner };
        let attempts = [
            services.create_project(&viewer, "Nope", "").await.map(drop),
            services.update_project(&viewer, &project.id, "Nope", "").await.map(drop),
            services.delete_project(&viewer, &project.id).await,
        ];
        for attempt in attempts {
            assert_eq!(attempt.unwrap_err().kind(), "forbidden");
        }
        assert_eq!(services.list_projects(&viewer).await.expect("viewers read").len(), 1);
    }
}
