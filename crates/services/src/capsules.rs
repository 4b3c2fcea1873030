//! Capsules of a project: generated with the built-in engine (its tests run in the sandbox
//! unless asked not to), signed with the installation key, kept and listed per project.

use ql_common::FieldError;
use ql_store::{CapsuleId, NewCapsule, ProjectId, StoredCapsule};

use crate::{Principal, Result, ServiceError, Services};

/// The stacks a capsule can be generated in, as (id, name for people), in the order to offer.
pub fn stacks() -> Vec<(&'static str, &'static str)> {
    ql_engine::stacks::Stack::ALL.iter().map(|stack| (stack.id(), stack.label())).collect()
}

/// Generations one replica runs at once; more wait their turn (within the request timeout).
pub const MAX_CONCURRENT_GENERATIONS: usize = 2;

/// What a person asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapsuleInput {
    pub description: String,
    pub stack: String,
    /// Run the project's own tests in the sandbox first.
    pub validate: bool,
}

/// A kept capsule, as lists show it.
#[derive(Debug, Clone, PartialEq)]
pub struct CapsuleSummary {
    pub id: CapsuleId,
    pub created_at: i64,
    pub size_bytes: i64,
    pub sha256: String,
    pub app: String,
    pub stack: String,
    pub files: usize,
    pub tests_ran: bool,
    pub tests_passed: u32,
    pub coverage_percent: Option<f64>,
}

impl From<StoredCapsule> for CapsuleSummary {
    fn from(stored: StoredCapsule) -> Self {
        let manifest: Option<ql_capsule::Manifest> = serde_json::from_str(&stored.manifest).ok();
        let validation = manifest.as_ref().map(|m| m.validation.clone()).unwrap_or_default();
        Self {
            id: stored.id,
            created_at: stored.created_at,
            size_bytes: stored.size_bytes,
            sha256: stored.sha256,
            app: manifest
                .as_ref()
                .and_then(|m| m.spec["name"].as_str().map(str::to_owned))
                .unwrap_or_default(),
            stack: manifest.as_ref().map(|m| m.stack.clone()).unwrap_or_default(),
            files: manifest.as_ref().map_or(0, |m| m.files.len()),
            tests_ran: validation.tests_ran,
            tests_passed: validation.tests_passed,
            coverage_percent: validation.coverage_percent,
        }
    }
}

impl Services {
    /// Generates a capsule for one of the organisation's projects and keeps it.
    pub async fn generate_capsule(
        &self,
        principal: &Principal,
        project: &ProjectId,
        input: &CapsuleInput,
    ) -> Result<CapsuleSummary> {
        if !principal.role.can_write() {
            return Err(ServiceError::Forbidden("viewers cannot generate"));
        }
        self.store.projects.get(&principal.org_id, project).await?;
        let key = self
            .capsule_key
            .clone()
            .ok_or_else(|| ServiceError::Internal("no capsule signing key is configured".into()))?;
        let invalid =
            |message: String| ServiceError::Invalid(FieldError::new("description", message));
        let stack = ql_engine::stacks::Stack::parse(&input.stack)
            .map_err(|error| ServiceError::Invalid(FieldError::new("stack", error.to_string())))?;
        let options = ql_engine::generate::Options {
            stack,
            model: None,
            budget: ql_engine::model_generation::Budget::default(),
            run_tests: input.validate,
            dependency_cache: ql_engine::deps::default_cache(),
            test_timeout: std::time::Duration::from_secs(300),
            created_at: time::OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .ok()
                .and_then(|now| now.format(&time::format_description::well_known::Rfc3339).ok())
                .unwrap_or_default(),
        };
        let _turn = self
            .generations
            .acquire()
            .await
            .map_err(|_| ServiceError::Internal("the generation queue is closed".into()))?;
        let generated = ql_engine::generate::generate(&input.description, &options, &key, &|_| {})
            .await
            .map_err(|error| match error {
                ql_engine::EngineError::NothingToBuild
                | ql_engine::EngineError::DescriptionTooLong { .. } => invalid(error.to_string()),
                ql_engine::EngineError::InvalidSpec(_) | ql_engine::EngineError::Validation(_) => {
                    invalid(error.to_string())
                }
                other => ServiceError::Internal(other.to_string()),
            })?;
        let verified = ql_capsule::verify(&generated.capsule.bytes, &ql_capsule::Limits::default())
            .map_err(|error| {
                ServiceError::Internal(format!("the new capsule does not verify: {error}"))
            })?;
        let new = NewCapsule {
            manifest: serde_json::to_string(&verified.manifest)
                .map_err(|error| ServiceError::Internal(error.to_string()))?,
            signature: serde_json::to_string(&verified.signature)
                .map_err(|error| ServiceError::Internal(error.to_string()))?,
            archive: generated.capsule.bytes,
        };
        Ok(self.store.capsules.create(&principal.actor(), project, new).await?.into())
    }

    /// A project's capsules, newest first.
    pub async fn list_capsules(
        &self,
        principal: &Principal,
        project: &ProjectId,
    ) -> Result<Vec<CapsuleSummary>> {
        let stored = self.store.capsules.list(&principal.org_id, project).await?;
        Ok(stored.into_iter().map(CapsuleSummary::from).collect())
    }

    /// A capsule's archive, with the file name to save it as.
    pub async fn capsule_archive(
        &self,
        principal: &Principal,
        id: &CapsuleId,
    ) -> Result<(String, Vec<u8>)> {
        let (name, _sha256, archive) = self.capsule_download(principal, &id.0).await?;
        Ok((name, archive))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::services;

    #[tokio::test]
    async fn a_capsule_is_generated_kept_listed_and_downloaded_by_its_organisation_only() {
        let (services, _dir) = services().await;
        let services = services.with_capsule_key(ql_capsule::InstallationKey::generate());
        let owner = services.sign_in_local().await.expect("sign in");
        let project = services.create_project(&owner, "Expenses", "").await.expect("project");
        let input = CapsuleInput {
            description: "Track expenses: each expense has an amount and a currency (one of EUR, USD or GBP).".into(),
            stack: "python-fastapi".into(),
            validate: false,
        };
        let summary =
            services.generate_capsule(&owner, &project.id, &input).await.expect("capsule");
        assert_eq!(
            (summary.app.as_str(), summary.stack.as_str(), summary.tests_ran),
            ("expense_tracker", "python-fastapi", false)
        );
        assert_eq!(
            services.list_capsules(&owner, &project.id).await.expect("list"),
            vec![summary.clone()]
        );
        let (name, archive) = services.capsule_archive(&owner, &summary.id).await.expect("archive");
        assert!(name.starts_with("expense_tracker-") && name.ends_with(".zip"), "{name}");
        ql_capsule::verify(&archive, &ql_capsule::Limits::default()).expect("verifies");

        for (bad, field) in [
            (CapsuleInput { description: "hello".into(), ..input.clone() }, "description"),
            (CapsuleInput { stack: "cobol".into(), ..input.clone() }, "stack"),
        ] {
            match services.generate_capsule(&owner, &project.id, &bad).await {
                Err(ServiceError::Invalid(error)) => assert_eq!(error.field, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let viewer = Principal { role: ql_common::Role::Viewer, ..owner.clone() };
        assert!(matches!(
            services.generate_capsule(&viewer, &project.id, &input).await,
            Err(ServiceError::Forbidden(_))
        ));
        // With every turn taken, a generation waits; it runs once a turn is free.
        let taken = services
            .generations
            .clone()
            .acquire_many_owned(MAX_CONCURRENT_GENERATIONS as u32)
            .await
            .expect("turns");
        let waiting = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            services.generate_capsule(&owner, &project.id, &input),
        );
        assert!(waiting.await.is_err(), "no turn was free");
        drop(taken);
        services.generate_capsule(&owner, &project.id, &input).await.expect("a free turn");
        let stranger = Principal { org_id: ql_store::OrgId::from("elsewhere"), ..owner };
        assert!(matches!(
            services.capsule_archive(&stranger, &summary.id).await,
            Err(ServiceError::NotFound(_))
        ));
    }
}
