//! Project use-cases: list, create, and read the audit log they leave.

use ql_common::{FieldError, validate_project_description, validate_project_name};
use ql_store::{AuditEntry, NewProject, Project, StoreError};

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

    /// Creates a project after checking the role and the input.
    pub async fn create_project(
        &self,
        principal: &Principal,
        name: &str,
        description: &str,
    ) -> Result<Project> {
        if !principal.role.can_write() {
            return Err(ServiceError::Forbidden("viewers cannot create projects"));
        }
        let name = validate_project_name(name).map_err(ServiceError::Invalid)?;
        let description =
            validate_project_description(description).map_err(ServiceError::Invalid)?;
        let new = NewProject { name, description };
        match self.store.projects.create(&principal.actor(), new).await {
            Ok(project) => Ok(project),
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(FieldError::new(
                "name",
                "A project with this name already exists.",
            ))),
            Err(other) => Err(other.into()),
        }
    }

    /// The newest audit entries of the principal's organisation (at most [`AUDIT_PAGE_MAX`]).
    pub async fn list_audit(&self, principal: &Principal, limit: u32) -> Result<Vec<AuditEntry>> {
        let limit = limit.clamp(1, AUDIT_PAGE_MAX);
        Ok(self.store.audit.list(&principal.org_id, limit).await?)
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
        let project = services
            .create_project(&principal, "  Library ", "books")
            .await
            .expect("create");
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
            let err = services
                .create_project(&principal, name, "")
                .await
                .unwrap_err();
            let ServiceError::Invalid(field) = err else {
                panic!("expected Invalid, got {err:?}")
            };
            assert_eq!(field.field, "name");
        }
        services
            .create_project(&principal, "Twin", "")
            .await
            .expect("first");
        let err = services
            .create_project(&principal, "Twin", "")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "conflict");
        assert_eq!(
            err.to_string(),
            "name: A project with this name already exists."
        );
        assert_eq!(
            services
                .list_projects(&principal)
                .await
                .expect("list")
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn viewers_cannot_create() {
        let (services, _dir) = services().await;
        let mut principal = services.sign_in_local().await.expect("sign in");
        principal.role = ql_common::Role::Viewer;
        let err = services
            .create_project(&principal, "Nope", "")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "forbidden");
    }
}
