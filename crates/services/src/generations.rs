//! Generations through the orchestrator, for the REST API and the pages: queued for one of
//! the organisation's projects, followed (status, steps, events), cancelled. Every call is
//! scoped to the principal's organisation; another organisation's ids are not found.

use ql_common::FieldError;
use ql_store::{
    Generation, GenerationEvent, GenerationId, GenerationStep, NewGeneration, NewProject,
    ProjectId, StoreError,
};

use crate::{Principal, Result, ServiceError, Services};

/// The longest description accepted, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 20_000;

/// The project a generation lands in when the caller names none.
pub const DEFAULT_PROJECT: &str = "Generated apps";

/// The model that runs generations without any provider configured.
pub const BUILTIN_MODEL: &str = ql_orchestrator::BUILTIN;

/// What a client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationInput {
    pub description: String,
    pub stack: String,
    pub model: String,
    pub project_id: Option<String>,
    /// Run the project's own tests in the sandbox.
    pub run_tests: bool,
    /// The spec as the person edited it (the `AppSpec` JSON format, names as typed); without
    /// one, the planner reads the description.
    pub spec: Option<String>,
}

/// A description read into a spec, for people to check before generating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecPreview {
    pub lines: Vec<String>,
    pub questions: Vec<String>,
    /// The spec itself (`AppSpec` JSON), for people to edit and give back with the generation.
    pub spec_json: String,
}

/// A generation with its steps and, while it waits, its place in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationView {
    pub generation: Generation,
    pub steps: Vec<GenerationStep>,
    pub queue_position: Option<i64>,
}

/// An engine's spec error as a sentence for people: "The spec: every entity needs a name."
fn spec_error_sentence(error: &ql_engine::EngineError) -> String {
    match error {
        ql_engine::EngineError::InvalidSpec(reason) => format!("The spec: {reason}."),
        other => other.to_string(),
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(FieldError::new(field, message))
}

impl Services {
    /// Queues a generation; it starts when its organisation has a free turn.
    pub async fn submit_generation(
        &self,
        principal: &Principal,
        input: GenerationInput,
    ) -> Result<Generation> {
        if !principal.role.can_write() {
            return Err(ServiceError::Forbidden("viewers cannot generate"));
        }
        let description = input.description.trim();
        if description.is_empty() {
            return Err(invalid("description", "Describe the app to generate."));
        }
        if description.len() > MAX_DESCRIPTION_BYTES {
            return Err(invalid(
                "description",
                format!("The description is longer than {MAX_DESCRIPTION_BYTES} bytes."),
            ));
        }
        let stack = ql_engine::stacks::Stack::parse(&input.stack)
            .map_err(|error| invalid("stack", error.to_string()))?;
        if input.model != BUILTIN_MODEL {
            let account = crate::Account {
                org_id: principal.org_id.clone(),
                key_id: None,
                user_id: Some(principal.user_id.clone()),
            };
            match self.route_for(&account, &input.model).await {
                Ok(_) => {}
                Err(ql_router::RouterError::UnknownModel(_)) => {
                    return Err(invalid(
                        "model",
                        format!(
                            "No model is called \"{}\"; use \"{BUILTIN_MODEL}\" or a model GET /v1/models lists.",
                            input.model
                        ),
                    ));
                }
                Err(other) => return Err(invalid("model", other.to_string())),
            }
        }
        let spec = match input.spec.as_deref().map(str::trim) {
            Some(given) if !given.is_empty() => {
                let spec = ql_engine::spec::edited(given)
                    .map_err(|error| invalid("spec", spec_error_sentence(&error)))?;
                Some(serde_json::to_string(&spec).map_err(|error| {
                    ServiceError::Internal(format!("the spec cannot be written: {error}"))
                })?)
            }
            _ => None,
        };
        let project = match &input.project_id {
            Some(id) => {
                self.store.projects.get(&principal.org_id, &ProjectId(id.clone())).await?.id
            }
            None => self.default_project(principal).await?,
        };
        let new = NewGeneration {
            description: description.to_owned(),
            stack: stack.id().to_owned(),
            model: input.model,
            run_tests: input.run_tests,
            spec,
            ..NewGeneration::default()
        };
        self.orchestrator
            .submit(&principal.actor(), &project, new)
            .await
            .map_err(orchestrator_error)
    }

    /// What the built-in extractor reads in a description, before anything is generated: the
    /// spec as lines for people (the app, each entity with its fields, each relation and
    /// action) and the questions about what it could not place.
    pub fn preview_spec(&self, description: &str) -> Result<SpecPreview> {
        let description = description.trim();
        if description.len() > MAX_DESCRIPTION_BYTES {
            return Err(invalid(
                "description",
                format!("The description is longer than {MAX_DESCRIPTION_BYTES} bytes."),
            ));
        }
        let extraction = ql_engine::spec::extract(description)
            .map_err(|error| invalid("description", error.to_string()))?;
        let lines = ql_engine::spec::summary(&extraction.spec).lines().map(str::to_owned).collect();
        let spec_json = serde_json::to_string(&extraction.spec).map_err(|error| {
            ServiceError::Internal(format!("the spec cannot be written: {error}"))
        })?;
        Ok(SpecPreview { lines, questions: extraction.questions, spec_json })
    }

    /// The models a generation can name: `builtin` first, then every model the caller's
    /// organisation reaches through the gateway.
    pub async fn generation_models(&self, principal: &Principal) -> Vec<String> {
        let mut models = vec![BUILTIN_MODEL.to_owned()];
        let reachable = self.model_names(&principal.org_id).await;
        models.extend(reachable.into_iter().filter(|model| model != BUILTIN_MODEL));
        models
    }

    async fn default_project(&self, principal: &Principal) -> Result<ProjectId> {
        let projects = self.store.projects.list(&principal.org_id).await?;
        if let Some(project) = projects.into_iter().find(|project| project.name == DEFAULT_PROJECT)
        {
            return Ok(project.id);
        }
        let new = NewProject {
            name: DEFAULT_PROJECT.to_owned(),
            description: "Apps generated through the API.".to_owned(),
        };
        match self.store.projects.create(&principal.actor(), new).await {
            Ok(project) => Ok(project.id),
            // Made by a concurrent request meanwhile.
            Err(StoreError::Conflict(_)) => {
                let projects = self.store.projects.list(&principal.org_id).await?;
                projects
                    .into_iter()
                    .find(|project| project.name == DEFAULT_PROJECT)
                    .map(|project| project.id)
                    .ok_or(ServiceError::NotFound("project"))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// A generation with its steps and queue position.
    pub async fn generation(&self, principal: &Principal, id: &str) -> Result<GenerationView> {
        let id = GenerationId(id.to_owned());
        let generation = self.store.generations.get(&principal.org_id, &id).await?;
        let steps = self.store.generations.steps(&principal.org_id, &id).await?;
        let queue_position = self.store.generations.queue_position(&principal.org_id, &id).await?;
        Ok(GenerationView { generation, steps, queue_position })
    }

    /// Whether the generation has ended (succeeded, failed or cancelled): its final event is
    /// then stored, since it is written in the transaction that ends it.
    pub async fn generation_ended(&self, principal: &Principal, id: &str) -> Result<bool> {
        let id = GenerationId(id.to_owned());
        let generation = self.store.generations.get(&principal.org_id, &id).await?;
        Ok(ql_orchestrator::events::kind::FINAL.contains(&generation.status.as_str()))
    }

    /// Cancels a queued or running generation; `Conflict` once it has finished.
    pub async fn cancel_generation(&self, principal: &Principal, id: &str) -> Result<Generation> {
        if !principal.role.can_write() {
            return Err(ServiceError::Forbidden("viewers cannot cancel generations"));
        }
        self.orchestrator
            .cancel(&principal.actor(), &GenerationId(id.to_owned()))
            .await
            .map_err(orchestrator_error)
    }

    /// The generation's events numbered above `after`, in order, at most `limit`.
    pub async fn generation_events(
        &self,
        principal: &Principal,
        id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<GenerationEvent>> {
        let id = GenerationId(id.to_owned());
        Ok(self.store.generations.events_since(&principal.org_id, &id, after, limit).await?)
    }

    /// A capsule's archive with its file name and SHA-256.
    pub async fn capsule_download(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<(String, String, Vec<u8>)> {
        let (record, archive) = self.store.capsules.archive(&principal.org_id, &id.into()).await?;
        let sha256 = record.sha256.clone();
        let summary = crate::CapsuleSummary::from(record);
        let name = if summary.app.is_empty() { "capsule".to_owned() } else { summary.app };
        Ok((format!("{name}-{}.zip", &sha256[..12.min(sha256.len())]), sha256, archive))
    }
}

pub(crate) fn orchestrator_error(error: ql_orchestrator::OrchestratorError) -> ServiceError {
    match error {
        ql_orchestrator::OrchestratorError::Store(StoreError::Conflict(_)) => {
            ServiceError::Conflict(FieldError::new(
                "status",
                "The generation has already finished.",
            ))
        }
        ql_orchestrator::OrchestratorError::Store(store) => store.into(),
        ql_orchestrator::OrchestratorError::Invalid(message) => invalid("input", message),
        other => ServiceError::Internal(other.to_string()),
    }
}
