//! The facade of use-cases that the web app and the HTTP routes call.
//!
//! Every method takes the acting [`Principal`] first, checks what its role allows, and calls
//! the store. Nothing here knows HTTP, Leptos or sessions: the edge resolves who is acting and
//! converts results to wire types.

mod analysis;
mod api_keys;
mod capsules;
mod dashboard;
mod error;
mod files;
mod generations;
mod llm;
mod organizations;
mod principal;
mod projects;
mod providers;
mod refine;
mod routes;
pub mod secrets;
mod sign_in;

use ql_store::Store;

pub use api_keys::{IssuedKey, KeyPrincipal, hash_key};
pub use capsules::{CapsuleInput, CapsuleSummary, stacks};
pub use dashboard::MAX_CHART_DAYS;
pub use error::ServiceError;
pub use files::{DiffRow, Download, MAX_DIFF_ROWS, WorkspaceFile, side_by_side};
pub use generations::{GenerationInput, GenerationView, SpecPreview};
pub use llm::cache::{AnswerCache, CacheMode, CacheSettings, RedisCache};
pub use llm::quota::{Counters, MemoryCounters, QuotaSettings, Quotas, RedisCounters};
pub use llm::{Account, Answer, MAX_MESSAGES, TargetStatus};
pub use principal::Principal;
pub use projects::ProjectSummary;
pub use providers::{PROVIDER_KINDS, ProviderInput, ProviderSummary, secret_context};
pub use ql_orchestrator::events::kind as event_kinds;
pub use ql_orchestrator::{EventHub, Orchestrator, Settings as OrchestratorSettings};
pub use ql_store::Decision;
pub use ql_store::{ApiKey, ApiKeyId, AuditEntry, Project, ProjectActivity, RouteConfigId};
pub use ql_store::{FileVersion, FileVersionSummary, Generation, GenerationEvent, GenerationStep};
pub use refine::{Change, MAX_INSTRUCTION_BYTES, RefinedFile, Refinement};
pub use routes::{
    MAX_ROUTE_TARGETS, RouteInput, RouteSummary, RouteTarget, STRATEGIES, parse_targets,
};
pub use secrets::{Sealed, SecretBox, SecretError};

/// The result of every service call.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// How people sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// No identity provider is configured: one local user and organisation, no password.
    Local,
}

/// Every use-case, over one store. Cheap to clone: one shared [`ServiceParts`], so a request
/// handler's copy costs one reference count, not one per part.
#[derive(Clone)]
pub struct Services(std::sync::Arc<ServiceParts>);

/// What [`Services`] shares between its copies; its fields are the crate's own.
#[derive(Clone)]
pub struct ServiceParts {
    store: Store,
    auth_mode: AuthMode,
    key_cache: api_keys::KeyCache,
    gateway: std::sync::Arc<ql_router::Gateway>,
    accounting: llm::accounting::Accounting,
    call_metrics: llm::CallMetrics,
    quotas: std::sync::Arc<llm::quota::Quotas>,
    cache: llm::AnswerCacheHandle,
    secrets: Option<SecretBox>,
    /// The key that signs this installation's capsules.
    capsule_key: Option<std::sync::Arc<ql_capsule::InstallationKey>>,
    /// Generations running at once on this replica (each may run a sandboxed test suite).
    generations: std::sync::Arc<tokio::sync::Semaphore>,
    /// Routes to organisation-managed providers, by `org/provider/model`; a change shows
    /// within a minute on every replica (at once on the one that made it).
    managed_routes: moka::future::Cache<String, std::sync::Arc<ql_router::route::Route>>,
    /// Queues, follows and cancels generations run as workflows by the workers.
    orchestrator: ql_orchestrator::Orchestrator,
    /// Capsules already read and verified (a kept capsule never changes).
    verified_capsules: files::VerifiedCapsules,
}

impl std::ops::Deref for Services {
    type Target = ServiceParts;

    fn deref(&self) -> &ServiceParts {
        &self.0
    }
}

impl Services {
    /// The parts to change while building: shared parts are copied first.
    fn parts_mut(&mut self) -> &mut ServiceParts {
        std::sync::Arc::make_mut(&mut self.0)
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("store", &self.store)
            .field("auth_mode", &self.auth_mode)
            .finish_non_exhaustive()
    }
}

impl Services {
    /// Services with the given router (see `ql_router::build::gateway`). Starts the usage
    /// accounting task, so it must run inside a tokio runtime.
    pub fn new(store: Store, auth_mode: AuthMode, gateway: ql_router::Gateway) -> Self {
        let accounting = llm::accounting::Accounting::start(store.usage.clone());
        let orchestrator =
            ql_orchestrator::Orchestrator::new(store.clone(), ql_orchestrator::Settings::default());
        Self(std::sync::Arc::new(ServiceParts {
            orchestrator,
            store,
            auth_mode,
            key_cache: api_keys::key_cache(),
            gateway: std::sync::Arc::new(gateway),
            accounting,
            call_metrics: llm::CallMetrics::default(),
            quotas: std::sync::Arc::new(llm::quota::Quotas {
                settings: llm::quota::QuotaSettings::default(),
                counters: std::sync::Arc::new(llm::quota::MemoryCounters::default()),
            }),
            cache: llm::AnswerCacheHandle::memory(llm::cache::CacheSettings::default()),
            secrets: None,
            capsule_key: None,
            generations: std::sync::Arc::new(tokio::sync::Semaphore::new(
                capsules::MAX_CONCURRENT_GENERATIONS,
            )),
            managed_routes: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(60))
                .build(),
            verified_capsules: files::verified_capsules(),
        }))
    }

    /// The same services running generations with these settings.
    pub fn with_orchestrator_settings(mut self, settings: ql_orchestrator::Settings) -> Self {
        let orchestrator = ql_orchestrator::Orchestrator::new(self.store.clone(), settings);
        self.parts_mut().orchestrator = orchestrator;
        self
    }

    /// The orchestrator, to run workers and follow events.
    pub fn orchestrator(&self) -> &ql_orchestrator::Orchestrator {
        &self.orchestrator
    }

    /// The same services sealing secrets at rest with this installation key.
    pub fn with_secrets(mut self, secrets: SecretBox) -> Self {
        self.parts_mut().secrets = Some(secrets);
        self
    }

    /// Signs capsules with this installation key.
    pub fn with_capsule_key(mut self, key: ql_capsule::InstallationKey) -> Self {
        self.parts_mut().capsule_key = Some(std::sync::Arc::new(key));
        self
    }

    /// The installation key's box, when one is configured.
    pub fn secrets(&self) -> Option<&SecretBox> {
        self.secrets.as_ref()
    }

    /// The same services with this answer cache.
    pub fn with_cache(
        mut self,
        settings: llm::cache::CacheSettings,
        store: Option<std::sync::Arc<dyn llm::cache::AnswerCache>>,
    ) -> Self {
        self.parts_mut().cache = match store {
            Some(store) => llm::AnswerCacheHandle { settings, store },
            None => llm::AnswerCacheHandle::memory(settings),
        };
        self
    }

    /// The same services with these rate limits and budgets.
    pub fn with_quotas(mut self, quotas: llm::quota::Quotas) -> Self {
        self.parts_mut().quotas = std::sync::Arc::new(quotas);
        self
    }

    /// The store, for the edge's plumbing (the web session layer).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn auth_mode(&self) -> AuthMode {
        self.auth_mode
    }

    /// `Ok` when the database answers: what `/readyz` reports.
    pub async fn ready(&self) -> Result<()> {
        self.store.health.ping().await.map_err(ServiceError::from)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A service over a fresh SQLite database in a temporary directory.

    pub(crate) async fn services() -> (super::Services, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("services.db").display());
        let store = ql_store::Store::connect(&url).await.expect("store");
        let gateway = ql_router::build::gateway(
            &Default::default(),
            &|_| None,
            &ql_engine::builtin_model::provider,
        )
        .expect("empty gateway");
        (super::Services::new(store, super::AuthMode::Local, gateway), dir)
    }

    pub(crate) const EXPENSES: &str = "Track expenses: each expense has an amount and a note.";

    /// A generation of a new project that succeeded with a capsule the built-in engine made
    /// from `description` (tests not run); its id.
    pub(crate) async fn succeeded_generation(
        services: &super::Services,
        owner: &super::Principal,
        description: &str,
    ) -> String {
        let project = services.create_project(owner, "Edits", "").await.expect("project");
        let input = crate::CapsuleInput {
            description: description.into(),
            stack: "python-fastapi".into(),
            validate: false,
        };
        let capsule = services.generate_capsule(owner, &project.id, &input).await.expect("capsule");
        let store = &services.store.generations;
        let new = ql_store::NewGeneration {
            description: input.description,
            stack: input.stack,
            model: "builtin".into(),
            run_tests: false,
            ..ql_store::NewGeneration::default()
        };
        let generation = store.create(&owner.actor(), &project.id, new).await.expect("create");
        store.admit_next(4).await.expect("admit").expect("admitted");
        let outcome =
            ql_store::GenerationOutcome::Succeeded { capsule: capsule.id, report: "{}".into() };
        store.finish(&owner.org_id, &generation.id, &outcome, "{}").await.expect("finish");
        generation.id.0
    }
}
