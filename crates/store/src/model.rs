//! The rows the store reads and writes, and the ids that name them.

use ql_common::Role;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type)]
        #[sqlx(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// A new, time-ordered id (UUIDv7).
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

id_type!(
    /// Names an organisation, the unit of tenancy.
    OrgId
);
id_type!(
    /// Names a user account.
    UserId
);
id_type!(
    /// Names a project inside an organisation.
    ProjectId
);

id_type!(
    /// Names an API key.
    ApiKeyId
);

id_type!(
    /// Names a provider an organisation configured.
    ProviderConfigId
);
id_type!(
    /// Names a route an organisation configured.
    RouteConfigId
);
id_type!(
    /// Names a capsule.
    CapsuleId
);

id_type!(
    /// Names a generation.
    GenerationId
);

/// Who is acting, and in which organisation: the first argument of every tenant-scoped call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub org: OrgId,
    pub user: UserId,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Organization {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub email: Option<String>,
    pub display_name: String,
    pub is_local: bool,
    pub created_at: i64,
}

/// A user's place in an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub organization: Organization,
    pub user: UserId,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Project {
    pub id: ProjectId,
    pub organization_id: OrgId,
    pub name: String,
    pub description: String,
    pub created_by: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What it takes to create a project; checked by the caller (see `ql_common::validation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProject {
    pub name: String,
    pub description: String,
}

/// A change to a project's name and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectUpdate {
    pub name: String,
    pub description: String,
}

/// One row of an organisation's audit log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: String,
    pub organization_id: OrgId,
    pub actor_user_id: Option<UserId>,
    /// The actor's display name at read time, when the user still exists.
    pub actor_name: Option<String>,
    /// `resource.verb`, such as `project.create`.
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    /// A JSON object with what changed.
    pub detail: String,
    pub created_at: i64,
}

/// What to append to the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    pub detail: serde_json::Value,
}

/// A stored web session: opaque bytes until an expiry time (Unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: String,
    pub data: Vec<u8>,
    pub expires_at: i64,
}

/// An API key as stored: its hash and the first characters shown to people, never the key.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub organization_id: OrgId,
    pub user_id: UserId,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A key to store: the caller generates the key, shows it once and passes its hash here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
}

/// A provider as stored: its secret only sealed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredProvider {
    pub id: ProviderConfigId,
    pub organization_id: OrgId,
    pub name: String,
    /// `openai`, `anthropic` or `bedrock`.
    pub kind: String,
    pub base_url: Option<String>,
    /// A JSON array of model names.
    pub models: String,
    pub secret_ciphertext: Option<Vec<u8>>,
    pub secret_nonce: Option<Vec<u8>>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// The AWS region (Bedrock only).
    pub region: Option<String>,
}

/// A provider to add; the caller has checked the fields and sealed the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStoredProvider {
    pub name: String,
    pub kind: String,
    pub base_url: Option<String>,
    pub models: String,
    pub secret_ciphertext: Option<Vec<u8>>,
    pub secret_nonce: Option<Vec<u8>>,
    pub region: Option<String>,
}

/// A route as stored: its targets as a JSON array of `{provider, model, weight}`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredRoute {
    pub id: RouteConfigId,
    pub organization_id: OrgId,
    pub model: String,
    /// `priority`, `weighted`, `latency` or `cost`.
    pub strategy: String,
    pub targets: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A route to add; the caller has checked the fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStoredRoute {
    pub model: String,
    pub strategy: String,
    pub targets: String,
}

/// A capsule as listed: its manifest and hash, not its archive.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredCapsule {
    pub id: CapsuleId,
    pub organization_id: OrgId,
    pub project_id: ProjectId,
    pub size_bytes: i64,
    /// SHA-256 of the archive, hex.
    pub sha256: String,
    /// `capsule.json`.
    pub manifest: String,
    /// `capsule.sig`.
    pub signature: Option<String>,
    pub created_at: i64,
}

/// A capsule to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCapsule {
    pub manifest: String,
    pub signature: String,
    pub archive: Vec<u8>,
}

/// A project with its newest generation in brief, as the dashboard lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectActivity {
    pub project: Project,
    pub latest: Option<GenerationBrief>,
}

/// A generation in brief: what a list shows, without its spec, report or error text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationBrief {
    pub id: GenerationId,
    pub status: String,
    pub description: String,
    pub queued_at: i64,
}

/// The row behind [`ProjectActivity`]: a project and its newest generation's columns, null
/// for a project without one.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ProjectActivityRow {
    #[sqlx(flatten)]
    pub project: Project,
    pub latest_id: Option<GenerationId>,
    pub latest_status: Option<String>,
    pub latest_description: Option<String>,
    pub latest_queued_at: Option<i64>,
}

impl From<ProjectActivityRow> for ProjectActivity {
    fn from(row: ProjectActivityRow) -> Self {
        let latest = match (row.latest_id, row.latest_status, row.latest_queued_at) {
            (Some(id), Some(status), Some(queued_at)) => Some(GenerationBrief {
                id,
                status,
                description: row.latest_description.unwrap_or_default(),
                queued_at,
            }),
            _ => None,
        };
        Self { project: row.project, latest }
    }
}

/// A generation as stored: what was asked, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Generation {
    pub id: GenerationId,
    pub organization_id: OrgId,
    pub project_id: ProjectId,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    pub description: String,
    pub stack: String,
    pub model: Option<String>,
    pub spec: Option<String>,
    pub error: Option<String>,
    pub created_by: Option<UserId>,
    pub queued_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// Whether the project's own tests run in the sandbox.
    pub run_tests: bool,
    /// The validation report of a finished generation (JSON).
    pub report: Option<String>,
    pub capsule_id: Option<CapsuleId>,
    pub cancelled_by: Option<UserId>,
    /// The generation this one refines, whose files it started from.
    pub parent_id: Option<GenerationId>,
    /// What the person asked the refinement to change.
    pub instruction: Option<String>,
}

impl Generation {
    /// Succeeded, failed or cancelled: nothing more will happen to it.
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "succeeded" | "failed" | "cancelled")
    }
}

/// A generation to queue; the caller has checked the fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewGeneration {
    pub description: String,
    pub stack: String,
    pub model: String,
    pub run_tests: bool,
    /// For a refinement: the generation it refines (of the same organisation).
    pub parent_id: Option<GenerationId>,
    pub instruction: Option<String>,
    /// The spec (JSON) when the person gave one, checked: the planner then reads no description.
    pub spec: Option<String>,
}

/// How a running generation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenerationOutcome {
    Succeeded { capsule: CapsuleId, report: String },
    Failed { error: String },
}

/// A step about to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStep {
    /// Unique within the generation: the role, or the role and its part (`coder:entity:books`).
    pub step: String,
    pub role: String,
    /// Orders the steps for people: steps of one role share it.
    pub position: i64,
    /// JSON.
    pub input: String,
    /// The worker running it.
    pub worker: String,
}

/// What beginning a step found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepStart {
    /// It had not succeeded before: it runs now, for the `attempt`-th time (1 for the first).
    Run { attempt: i64 },
    /// It succeeded before, with this output (JSON): it does not run again.
    Done { output: String },
    /// The generation has ended (failed or cancelled): nothing more runs.
    Ended,
}

/// One step of a generation, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GenerationStep {
    pub generation_id: GenerationId,
    pub step: String,
    pub role: String,
    pub position: i64,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub worker: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

/// One numbered event of a generation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GenerationEvent {
    pub generation_id: GenerationId,
    pub seq: i64,
    pub kind: String,
    /// JSON.
    pub data: String,
    pub created_at: i64,
}

/// One model call, as the gateway's accounting records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUsage {
    pub organization_id: OrgId,
    pub api_key_id: Option<ApiKeyId>,
    pub user_id: Option<UserId>,
    pub route: String,
    pub provider: String,
    pub model: String,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_micros: i64,
    pub latency_ms: i64,
    pub ttft_ms: Option<i64>,
    /// The HTTP status the client got.
    pub status: i32,
    pub cache_hit: bool,
    pub streamed: bool,
    pub created_at: i64,
}

/// Totals over an organisation's calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct UsageSummary {
    pub calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_micros: i64,
}

/// One UTC day's totals of an organisation's model calls.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DailyUsage {
    /// The day's number since the Unix epoch (its midnight is `day * 86_400_000` ms).
    pub day: i64,
    pub calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_micros: i64,
}

/// Milliseconds since the Unix epoch, the one time format of the database.
pub fn now_millis() -> i64 {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
