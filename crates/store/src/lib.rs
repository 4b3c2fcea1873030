//! The storage port: what QuantumLayer keeps, behind one trait per aggregate.
//!
//! [`Store::connect`] picks the adapter from the URL scheme (`sqlite://` or `postgres://`),
//! opens a pool and applies pending migrations, then hands out the aggregates as trait objects.
//! Both adapters are generated from one body of SQL (see `sql.rs`), so they cannot drift apart,
//! and one contract suite (`contract.rs`) runs against each.
//!
//! Architecture invariant: every method that reads or writes tenant data takes the acting
//! organisation first, and every such query has `organization_id` in its `WHERE` clause.

mod accounts;
mod api_keys;
mod audit;
mod capsules;
mod error;
mod file_versions;
mod generations;
mod model;
mod postgres;
mod projects;
mod providers;
mod routes;
mod sessions;
mod sql;
mod sqlite;
mod usage;

#[cfg(test)]
mod contract;

use std::sync::Arc;

pub use accounts::AccountStore;
pub use api_keys::ApiKeyStore;
pub use audit::AuditStore;
pub use capsules::CapsuleStore;
pub use error::StoreError;
pub use file_versions::{
    Decision, FileEdit, FileVersion, FileVersionStore, FileVersionSummary, MAX_FILE_VERSION_BYTES,
    MAX_VERSIONS_LISTED, MAX_VERSIONS_PER_FILE, RefinementDecision,
};
pub use generations::{GenerationStore, MAX_EVENTS_PER_READ};
pub use model::now_millis;
pub use model::{
    Actor, ApiKey, ApiKeyId, AuditEntry, CapsuleId, DailyUsage, Generation, GenerationBrief,
    GenerationEvent, GenerationId, GenerationOutcome, GenerationStep, Membership, NewApiKey,
    NewAuditEntry, NewCapsule, NewGeneration, NewProject, NewStep, NewStoredProvider,
    NewStoredRoute, NewUsage, OrgId, Organization, Project, ProjectActivity, ProjectId,
    ProjectUpdate, ProviderConfigId, RouteConfigId, SessionRecord, StepStart, StoredCapsule,
    StoredProvider, StoredRoute, UsageSummary, User, UserId,
};
pub use projects::ProjectStore;
pub use providers::ProviderConfigStore;
pub use routes::RouteConfigStore;
pub use sessions::SessionRecordStore;
pub use sqlite::{EventCursor, event_tail_end, events_appended_after};
pub use usage::{DAY_MILLIS, UsageStore};

/// The result of every store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Connections to a [`Store`]'s database for what shares it (the job queue, the event watch);
/// on SQLite a pool of their own, without the store's prepared-statement cache.
#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Liveness of the database behind a store.
#[async_trait::async_trait]
pub trait HealthCheck: Send + Sync {
    /// Runs a trivial query; `Ok` when the database answers.
    async fn ping(&self) -> Result<()>;
}

/// Every aggregate of one database, as trait objects so that callers need not be generic.
#[derive(Clone)]
pub struct Store {
    pub backend: Backend,
    pub pool: Pool,
    pub accounts: Arc<dyn AccountStore>,
    pub api_keys: Arc<dyn ApiKeyStore>,
    pub projects: Arc<dyn ProjectStore>,
    pub audit: Arc<dyn AuditStore>,
    pub sessions: Arc<dyn SessionRecordStore>,
    pub usage: Arc<dyn UsageStore>,
    pub providers: Arc<dyn ProviderConfigStore>,
    pub routes: Arc<dyn RouteConfigStore>,
    pub capsules: Arc<dyn CapsuleStore>,
    pub generations: Arc<dyn GenerationStore>,
    pub file_versions: Arc<dyn FileVersionStore>,
    pub health: Arc<dyn HealthCheck>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// PostgreSQL connections a serving process keeps open (of at most 16).
pub const WARM_CONNECTIONS: u32 = 8;

impl Store {
    /// Opens the database named by `url`, creating a SQLite file if it does not exist,
    /// and applies every pending migration.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_keeping(url, 0).await
    }

    /// The same, for a long-running process: on PostgreSQL it keeps
    /// [`WARM_CONNECTIONS`] open once made, so that a burst of queries (an event announced to
    /// many streams) does not wait for new server processes to start — each costs tens of
    /// milliseconds on a busy machine, which showed as the tail of event delivery.
    pub async fn connect_for_serving(url: &str) -> Result<Self> {
        Self::connect_keeping(url, WARM_CONNECTIONS).await
    }

    async fn connect_keeping(url: &str, warm: u32) -> Result<Self> {
        if url.starts_with("sqlite:") {
            sqlite::SqliteStore::connect(url).await.map(Self::from_sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            postgres::PostgresStore::connect(url, warm).await.map(Self::from_postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    fn from_sqlite(store: sqlite::SqliteStore) -> Self {
        let pool = Pool::Sqlite(store.shared.clone());
        let store = Arc::new(store);
        Self {
            backend: Backend::Sqlite,
            pool,
            accounts: store.clone(),
            api_keys: store.clone(),
            projects: store.clone(),
            audit: store.clone(),
            sessions: store.clone(),
            usage: store.clone(),
            providers: store.clone(),
            routes: store.clone(),
            capsules: store.clone(),
            generations: store.clone(),
            file_versions: store.clone(),
            health: store,
        }
    }

    fn from_postgres(store: postgres::PostgresStore) -> Self {
        let pool = Pool::Postgres(store.pool.clone());
        let store = Arc::new(store);
        Self {
            backend: Backend::Postgres,
            pool,
            accounts: store.clone(),
            api_keys: store.clone(),
            projects: store.clone(),
            audit: store.clone(),
            sessions: store.clone(),
            usage: store.clone(),
            providers: store.clone(),
            routes: store.clone(),
            capsules: store.clone(),
            generations: store.clone(),
            file_versions: store.clone(),
            health: store,
        }
    }
}

/// A database URL with any password replaced, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        let cases = [
            ("postgres://app:secret@db:5432/app", "postgres://app:***@db:5432/app"),
            ("postgres://app@db/app", "postgres://app@db/app"),
            ("sqlite://data/ql.db", "sqlite://data/ql.db"),
            ("nonsense", "nonsense"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_url(input), expected);
        }
    }

    #[tokio::test]
    async fn rejects_unknown_schemes() {
        let err = Store::connect("mysql://root@localhost/x").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported database URL `mysql://root@localhost/x`: use sqlite://… or postgres://…"
        );
    }
}
