//! The one body of SQL behind both adapters.
//!
//! SQLite and PostgreSQL accept the same statements here: `$n` parameters, `RETURNING`,
//! `ON CONFLICT … DO UPDATE`, and columns whose types decode the same way in both (text ids,
//! `i64` milliseconds, booleans). [`impl_sql_store!`] implements every aggregate trait for an
//! adapter type that has a `pool` field, once per backend, from this single text.

/// A batch's totals per organisation and UTC day, in key order.
pub(crate) fn daily_totals(
    records: &[crate::NewUsage],
) -> std::collections::BTreeMap<(crate::OrgId, i64), crate::DailyUsage> {
    let mut days = std::collections::BTreeMap::new();
    for record in records {
        let day = record.created_at.div_euclid(crate::DAY_MILLIS);
        let totals =
            days.entry((record.organization_id.clone(), day)).or_insert(crate::DailyUsage {
                day,
                calls: 0,
                prompt_tokens: 0,
                completion_tokens: 0,
                cost_micros: 0,
            });
        totals.calls += 1;
        totals.prompt_tokens += record.prompt_tokens;
        totals.completion_tokens += record.completion_tokens;
        totals.cost_micros += record.cost_micros;
    }
    days
}

/// Columns of `projects`, in the order `Project` reads them (a macro, so `concat!` can use it).
macro_rules! project_columns {
    () => {
        "id, organization_id, name, description, created_by, created_at, updated_at"
    };
}

/// Columns of `api_keys` that `ApiKey` reads (never the hash).
macro_rules! api_key_columns {
    () => {
        "id, organization_id, user_id, name, prefix, created_at, last_used_at, revoked_at"
    };
}

/// Columns of `provider_configs`, in the order `StoredProvider` reads them.
macro_rules! provider_columns {
    () => {
        "id, organization_id, name, kind, base_url, models, secret_ciphertext, secret_nonce, enabled, created_at, updated_at, region"
    };
}

/// Columns of `model_routes`, in the order `StoredRoute` reads them.
macro_rules! route_columns {
    () => {
        "id, organization_id, model, strategy, targets, created_at, updated_at"
    };
}

/// Columns of `capsules` that `StoredCapsule` reads (never the archive).
/// Columns of `generations`, in the order `Generation` reads them.
macro_rules! generation_columns {
    () => {
        "id, organization_id, project_id, status, description, stack, model, spec, error, \
         created_by, queued_at, started_at, finished_at, run_tests, report, capsule_id, cancelled_by, \
         parent_id, instruction"
    };
}
pub(crate) use generation_columns;

/// Appends a generation's next event: `$1` organisation, `$2` generation, `$3` kind, `$4` data,
/// `$5` time. The number is read and written in one statement.
pub(crate) const EVENT_APPEND: &str = "INSERT INTO generation_events (generation_id, organization_id, seq, kind, data, created_at) \
     SELECT g.id, g.organization_id, \
            COALESCE((SELECT MAX(e.seq) FROM generation_events e WHERE e.generation_id = g.id), 0) + 1, \
            $3, $4, $5 \
     FROM generations g WHERE g.organization_id = $1 AND g.id = $2 \
     RETURNING generation_id, seq, kind, data, created_at";

/// The same, only while the generation is queued or running: nothing is appended after a
/// generation's final event (that one is written by the statement that ends it, with
/// [`EVENT_APPEND`]). Two writers that race past each other pick the same number, so the
/// loser tries again and then sees the generation ended.
pub(crate) const EVENT_APPEND_LIVE: &str = "INSERT INTO generation_events (generation_id, organization_id, seq, kind, data, created_at) \
     SELECT g.id, g.organization_id, \
            COALESCE((SELECT MAX(e.seq) FROM generation_events e WHERE e.generation_id = g.id), 0) + 1, \
            $3, $4, $5 \
     FROM generations g WHERE g.organization_id = $1 AND g.id = $2 AND g.status IN ('queued', 'running') \
     RETURNING generation_id, seq, kind, data, created_at";

/// How often an append that lost the race for its number tries again.
pub(crate) const EVENT_ATTEMPTS: usize = 20;

macro_rules! capsule_columns {
    () => {
        "id, organization_id, project_id, size_bytes, sha256, manifest, signature, created_at"
    };
}

/// Columns of `users`, in the order `User` reads them.
macro_rules! user_columns {
    () => {
        "id, email, display_name, is_local, created_at"
    };
}

pub(crate) const MEMBERSHIPS_OF_USER: &str = "SELECT o.id, o.slug, o.name, o.created_at, m.user_id, m.role \
     FROM memberships m JOIN organizations o ON o.id = m.organization_id \
     WHERE m.user_id = $1 ORDER BY m.created_at, o.slug";

pub(crate) const MEMBERSHIP: &str = "SELECT o.id, o.slug, o.name, o.created_at, m.user_id, m.role \
     FROM memberships m JOIN organizations o ON o.id = m.organization_id \
     WHERE m.organization_id = $1 AND m.user_id = $2";

pub(crate) const MEMBER: &str = "SELECT o.id, o.slug, o.name, o.created_at, m.user_id, m.role, \
     u.email, u.display_name, u.is_local, u.created_at AS user_created_at \
     FROM memberships m JOIN organizations o ON o.id = m.organization_id \
     JOIN users u ON u.id = m.user_id \
     WHERE m.organization_id = $1 AND m.user_id = $2";

pub(crate) const AUDIT_INSERT: &str = "INSERT INTO audit_log \
     (id, organization_id, actor_user_id, action, target_kind, target_id, detail, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(crate) const AUDIT_LIST: &str = "SELECT a.id, a.organization_id, a.actor_user_id, \
     u.display_name AS actor_name, a.action, a.target_kind, a.target_id, a.detail, a.created_at \
     FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id \
     WHERE a.organization_id = $1 ORDER BY a.created_at DESC, a.id DESC LIMIT $2";

/// A membership joined with its organisation and its user, before its role is parsed.
#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    #[sqlx(flatten)]
    pub membership: MembershipRow,
    pub email: Option<String>,
    pub display_name: String,
    pub is_local: bool,
    pub user_created_at: i64,
}

impl TryFrom<MemberRow> for (crate::User, crate::Membership) {
    type Error = crate::StoreError;

    fn try_from(row: MemberRow) -> Result<Self, Self::Error> {
        let user = crate::User {
            id: row.membership.user_id.clone(),
            email: row.email,
            display_name: row.display_name,
            is_local: row.is_local,
            created_at: row.user_created_at,
        };
        Ok((user, row.membership.try_into()?))
    }
}

/// A membership joined with its organisation, before its role is parsed.
#[derive(sqlx::FromRow)]
pub(crate) struct MembershipRow {
    pub id: crate::OrgId,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
    pub user_id: crate::UserId,
    pub role: String,
}

impl TryFrom<MembershipRow> for crate::Membership {
    type Error = crate::StoreError;

    fn try_from(row: MembershipRow) -> Result<Self, Self::Error> {
        let role = row
            .role
            .parse()
            .map_err(|e: ql_common::role::UnknownRole| crate::StoreError::Corrupt(e.to_string()))?;
        Ok(crate::Membership {
            organization: crate::Organization {
                id: row.id,
                slug: row.slug,
                name: row.name,
                created_at: row.created_at,
            },
            user: row.user_id,
            role,
        })
    }
}

/// Implements every aggregate trait for `$store`, an adapter with a `pool: sqlx::Pool<$db>`.
macro_rules! impl_sql_store {
    ($store:ty, $db:ty) => {
        use $crate::sql::{
AUDIT_INSERT, AUDIT_LIST, MEMBERSHIP, MEMBERSHIPS_OF_USER, MembershipRow,
        };
        use $crate::model::now_millis;
        use $crate::{
            AccountStore, Actor, ApiKey, ApiKeyId, ApiKeyStore, AuditEntry, AuditStore, HealthCheck, Membership, NewApiKey, NewAuditEntry, NewStoredProvider, NewUsage, Organization, ProviderConfigId, ProviderConfigStore, StoredProvider, NewStoredRoute, RouteConfigId, RouteConfigStore, StoredRoute, CapsuleId, CapsuleStore, NewCapsule, StoredCapsule, Generation, GenerationEvent, GenerationId, GenerationOutcome, GenerationStep, GenerationStore, NewGeneration, NewStep, StepStart, MAX_EVENTS_PER_READ,
            NewProject, OrgId, Project, ProjectActivity, ProjectId, ProjectStore, ProjectUpdate, Result,
            SessionRecord, SessionRecordStore, StoreError, UsageStore, UsageSummary, User, UserId,
        };

        impl $store {
            /// Appends an audit row inside the caller's transaction.
            async fn append_audit(
                tx: &mut sqlx::Transaction<'_, $db>,
                actor: &Actor,
                entry: NewAuditEntry,
            ) -> Result<()> {
                Self::append_audit_as(tx, &actor.org, Some(&actor.user), entry).await
            }

            /// Appends an audit row for an organisation, by a user or (`None`) by the system.
            async fn append_audit_as(
                tx: &mut sqlx::Transaction<'_, $db>,
                org: &OrgId,
                user: Option<&UserId>,
                entry: NewAuditEntry,
            ) -> Result<()> {
                sqlx::query(AUDIT_INSERT)
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(org)
                    .bind(user)
                    .bind(entry.action)
                    .bind(entry.target_kind)
                    .bind(entry.target_id)
                    .bind(entry.detail.to_string())
                    .bind(now_millis())
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "audit entry"))?;
                Ok(())
            }

            /// Fails with `NotFound` unless the organisation owns the project.
            async fn require_project(
                tx: &mut sqlx::Transaction<'_, $db>,
                org: &OrgId,
                project: &ProjectId,
            ) -> Result<()> {
                sqlx::query("SELECT id FROM projects WHERE organization_id = $1 AND id = $2")
                    .bind(org)
                    .bind(project)
                    .fetch_one(&mut **tx)
                    .await
                    .map(drop)
                    .map_err(|e| StoreError::from_sqlx(e, "project"))
            }

            async fn begin(&self) -> Result<sqlx::Transaction<'static, $db>> {
                self.pool.begin_with(Self::BEGIN).await.map_err(StoreError::Database)
            }

            /// Appends a generation's next event inside the caller's transaction; a writer
            /// that took the same number makes this fail with `Conflict` (the caller retries).
            /// Appends an event in `tx`; `live`: only while the generation is queued or
            /// running (`None` otherwise, as for a generation that does not exist).
            async fn append_event_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                org: &OrgId,
                id: &GenerationId,
                (kind, data): (&str, &str),
                live: bool,
            ) -> Result<Option<GenerationEvent>> {
                let sql = if live { $crate::sql::EVENT_APPEND_LIVE } else { $crate::sql::EVENT_APPEND };
                sqlx::query_as::<_, GenerationEvent>(sql)
                    .bind(org)
                    .bind(id)
                    .bind(kind)
                    .bind(data)
                    .bind(now_millis())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "generation event"))
            }
        }

        fn commit_error(error: sqlx::Error) -> StoreError {
            StoreError::Database(error)
        }

        fn project_audit(action: &str, project: &Project) -> NewAuditEntry {
            NewAuditEntry {
                action: format!("project.{action}"),
                target_kind: "project".to_owned(),
                target_id: Some(project.id.0.clone()),
                detail: serde_json::json!({
                    "name": project.name,
                    "description": project.description,
                }),
            }
        }

        #[async_trait::async_trait]
        impl HealthCheck for $store {
            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
                    .map_err(StoreError::Database)
            }
        }

        #[async_trait::async_trait]
        impl AccountStore for $store {
            async fn local_user(&self) -> Result<User> {
                const SQL: &str = concat!("SELECT ", $crate::sql::user_columns!(), " FROM users WHERE is_local = $1 ORDER BY created_at LIMIT 1");
                sqlx::query_as::<_, User>(SQL)
                    .bind(true)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "local user"))
            }

            async fn user(&self, id: &UserId) -> Result<User> {
                const SQL: &str = concat!("SELECT ", $crate::sql::user_columns!(), " FROM users WHERE id = $1");
                sqlx::query_as::<_, User>(SQL)
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "user"))
            }

            async fn memberships(&self, user: &UserId) -> Result<Vec<Membership>> {
                let rows = sqlx::query_as::<_, MembershipRow>(MEMBERSHIPS_OF_USER)
                    .bind(user)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Database)?;
                rows.into_iter().map(Membership::try_from).collect()
            }

            async fn membership(&self, org: &OrgId, user: &UserId) -> Result<Membership> {
                sqlx::query_as::<_, MembershipRow>(MEMBERSHIP)
                    .bind(org)
                    .bind(user)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "membership"))?
                    .try_into()
            }

            async fn member(&self, org: &OrgId, user: &UserId) -> Result<(User, Membership)> {
                sqlx::query_as::<_, $crate::sql::MemberRow>($crate::sql::MEMBER)
                    .bind(org)
                    .bind(user)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "membership"))?
                    .try_into()
            }

            async fn organization_by_slug(&self, slug: &str) -> Result<Organization> {
                sqlx::query_as::<_, Organization>(
                    "SELECT id, slug, name, created_at FROM organizations WHERE slug = $1",
                )
                .bind(slug)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| StoreError::from_sqlx(e, "organization"))
            }

            async fn create_organization(
                &self,
                slug: &str,
                name: &str,
                owner: &UserId,
            ) -> Result<OrgId> {
                let id = OrgId::generate();
                let now = now_millis();
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO organizations (id, slug, name, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&id)
                .bind(slug)
                .bind(name)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::from_sqlx(e, "organization"))?;
                sqlx::query(
                    "INSERT INTO memberships (organization_id, user_id, role, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&id)
                .bind(owner)
                .bind(ql_common::Role::Owner.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::from_sqlx(e, "membership"))?;
                tx.commit().await.map_err(commit_error)?;
                Ok(id)
            }

            async fn create_user(&self, email: Option<&str>, display_name: &str) -> Result<UserId> {
                let id = UserId::generate();
                sqlx::query(
                    "INSERT INTO users (id, email, display_name, is_local, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&id)
                .bind(email)
                .bind(display_name)
                .bind(false)
                .bind(now_millis())
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::from_sqlx(e, "user"))?;
                Ok(id)
            }
        }

        #[async_trait::async_trait]
        impl ProjectStore for $store {
            async fn list(&self, org: &OrgId) -> Result<Vec<Project>> {
                const SQL: &str = concat!("SELECT ", $crate::sql::project_columns!(), " FROM projects WHERE organization_id = $1 \
                     ORDER BY created_at DESC, id DESC");
                sqlx::query_as::<_, Project>(SQL)
                    .bind(org)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Database)
            }

            async fn list_with_latest_generation(&self, org: &OrgId, limit: i64) -> Result<Vec<ProjectActivity>> {
                // Ids are UUIDv7, so the greatest id of a project is its newest generation.
                const SQL: &str = "SELECT p.id, p.organization_id, p.name, p.description, p.created_by, \
                     p.created_at, p.updated_at, g.id AS latest_id, g.status AS latest_status, \
                     g.description AS latest_description, g.queued_at AS latest_queued_at \
                     FROM projects p LEFT JOIN generations g ON g.organization_id = p.organization_id \
                     AND g.id = (SELECT MAX(l.id) FROM generations l \
                                 WHERE l.organization_id = p.organization_id AND l.project_id = p.id) \
                     WHERE p.organization_id = $1 \
                     ORDER BY COALESCE(g.queued_at, p.created_at) DESC, p.id DESC LIMIT $2";
                let rows = sqlx::query_as::<_, $crate::model::ProjectActivityRow>(SQL)
                    .bind(org)
                    .bind(limit.clamp(1, 200))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Database)?;
                Ok(rows.into_iter().map(ProjectActivity::from).collect())
            }

            async fn get(&self, org: &OrgId, id: &ProjectId) -> Result<Project> {
                const SQL: &str = concat!("SELECT ", $crate::sql::project_columns!(), " FROM projects WHERE organization_id = $1 AND id = $2");
                sqlx::query_as::<_, Project>(SQL)
                    .bind(org)
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "project"))
            }

            async fn create(&self, actor: &Actor, new: NewProject) -> Result<Project> {
                let now = now_millis();
                const SQL: &str = concat!("INSERT INTO projects (", $crate::sql::project_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     RETURNING ", $crate::sql::project_columns!());
                let mut tx = self.begin().await?;
                let project = sqlx::query_as::<_, Project>(SQL)
                    .bind(ProjectId::generate())
                    .bind(&actor.org)
                    .bind(&new.name)
                    .bind(&new.description)
                    .bind(&actor.user)
                    .bind(now)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "project"))?;
                Self::append_audit(&mut tx, actor, project_audit("create", &project)).await?;
                tx.commit().await.map_err(commit_error)?;
                Ok(project)
            }

            async fn update(
                &self,
                actor: &Actor,
                id: &ProjectId,
                update: ProjectUpdate,
            ) -> Result<Project> {
                const SQL: &str = concat!("UPDATE projects SET name = $3, description = $4, updated_at = $5 \
                     WHERE organization_id = $1 AND id = $2 RETURNING ", $crate::sql::project_columns!());
                let mut tx = self.begin().await?;
                let project = sqlx::query_as::<_, Project>(SQL)
                    .bind(&actor.org)
                    .bind(id)
                    .bind(&update.name)
                    .bind(&update.description)
                    .bind(now_millis())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "project"))?;
                Self::append_audit(&mut tx, actor, project_audit("update", &project)).await?;
                tx.commit().await.map_err(commit_error)?;
                Ok(project)
            }

            async fn delete(&self, actor: &Actor, id: &ProjectId) -> Result<()> {
                const SQL: &str = concat!("DELETE FROM projects WHERE organization_id = $1 AND id = $2 \
                     RETURNING ", $crate::sql::project_columns!());
                let mut tx = self.begin().await?;
                let project = sqlx::query_as::<_, Project>(SQL)
                    .bind(&actor.org)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "project"))?;
                Self::append_audit(&mut tx, actor, project_audit("delete", &project)).await?;
                tx.commit().await.map_err(commit_error)?;
                Ok(())
            }
        }

        fn api_key_audit(action: &str, key: &ApiKey) -> NewAuditEntry {
            NewAuditEntry {
                action: format!("api_key.{action}"),
                target_kind: "api_key".to_owned(),
                target_id: Some(key.id.0.clone()),
                detail: serde_json::json!({ "name": key.name, "prefix": key.prefix }),
            }
        }

        #[async_trait::async_trait]
        impl ApiKeyStore for $store {
            async fn create(&self, actor: &Actor, key: NewApiKey) -> Result<ApiKey> {
                const SQL: &str = concat!("INSERT INTO api_keys (id, organization_id, user_id, name, prefix, key_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ", $crate::sql::api_key_columns!());
                let mut tx = self.begin().await?;
                let created = sqlx::query_as::<_, ApiKey>(SQL)
                    .bind(ApiKeyId::generate())
                    .bind(&actor.org)
                    .bind(&actor.user)
                    .bind(&key.name)
                    .bind(&key.prefix)
                    .bind(&key.key_hash)
                    .bind(now_millis())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "api key"))?;
                Self::append_audit(&mut tx, actor, api_key_audit("create", &created)).await?;
                tx.commit().await.map_err(commit_error)?;
                Ok(created)
            }

            async fn list(&self, org: &OrgId) -> Result<Vec<ApiKey>> {
                const SQL: &str = concat!("SELECT ", $crate::sql::api_key_columns!(), " FROM api_keys \
                     WHERE organization_id = $1 ORDER BY created_at DESC, id DESC");
                sqlx::query_as::<_, ApiKey>(SQL)
                    .bind(org)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Database)
            }

            async fn find_active_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
                const SQL: &str = concat!("SELECT ", $crate::sql::api_key_columns!(), " FROM api_keys \
                     WHERE key_hash = $1 AND revoked_at IS NULL");
                sqlx::query_as::<_, ApiKey>(SQL)
                    .bind(key_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::Database)
            }

            async fn revoke(&self, actor: &Actor, id: &ApiKeyId) -> Result<ApiKey> {
                const SQL: &str = concat!("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) \
                     WHERE organization_id = $1 AND id = $2 RETURNING ", $crate::sql::api_key_columns!());
                let mut tx = self.begin().await?;
                let revoked = sqlx::query_as::<_, ApiKey>(SQL)
                    .bind(&actor.org)
                    .bind(id)
                    .bind(now_millis())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "api key"))?;
                Self::append_audit(&mut tx, actor, api_key_audit("revoke", &revoked)).await?;
                tx.commit().await.map_err(commit_error)?;
                Ok(revoked)
            }
        }

        fn provider_audit(action: &str, provider: &StoredProvider) -> NewAuditEntry {
            NewAuditEntry {
                action: format!("provider.{action}"),
                target_kind: "provider".to_owned(),
                target_id: Some(provider.id.0.clone()),
                detail: serde_json::json!({
                    "name": provider.name,
                    "kind": provider.kind,
                    "base_url": provider.base_url,
                    "region": provider.region,
                    "has_secret": provider.secret_ciphertext.is_some(),
                }),
            }
        }

        #[async_trait::async_trait]
        impl ProviderConfigStore for $store {
            async fn list(&self, org: &OrgId) -> Result<Vec<StoredProvider>> {
                const SQL: &str = concat!("SELECT ", $crate::sql::provider_columns!(), " FROM provider_configs \
                     WHERE organization_id = $1 ORDER BY name");
                sqlx::query_as::<_, StoredProvider>(SQL)
                    .bind(org)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Database)
            }

            async fn create(&self, actor: &Actor, provider: NewStoredProvider) -> Result<StoredProvider> {
                const SQL: &str = concat!("INSERT INTO provider_configs (", $crate::sql::provider_columns!(), ") \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ", $crate::sql::provider_columns!());
                let now = now_millis();
                let mut tx = self.begin().await?;
                let created = sqlx::query_as::<_, StoredProvider>(SQL)
                    .bind(ProviderConfigId::generate())
                    .bind(&actor.org)
                    .bind(&provider.name)
                    .bind(&provider.kind)
                    .bind(&provider.base_url)
                    .bind(&provider.models)
                    .bind(&provider.secret_ciphertext)
                    .bind(&provider.secret_nonce)
                    .bind(true)
                    .bind(now)
                    .bind(now)
                    .bind(&provider.region)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "provider"))?;
                Self::append_audit(&mut tx, actor, provider_audit("create", &created)).await?;
                tx.commit().await.map_err(commit_error)?;
                Ok(created)
            }

            async fn delete(&self, actor: &Actor, id: &ProviderConfigId) -> Result<()> {
                const SQL: &str = concat!("DELETE FROM provider_configs WHERE organization_id = $1 AND id = $2 \
                     RETURNING ", $crate::sql::provider_columns!());
                let mut tx = self.begin().await?;
                let deleted = sqlx::query_as::<_, StoredProvider>(SQL)
                    .bind(&actor.org)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "provider"))?;
                Self::append_audit(&mut tx, actor, provider_audit("delete", &deleted)).await?;
                tx.commit().await.map_err(commit_error)
            }
        }

        fn route_audit(action: &str, route: &StoredRoute) -> NewAuditEntry {
            NewAuditEntry {
                action: format!("route.{action}"),
                target_kind: "route".to_owned(),
                target_id: Some(route.id.0.clone()),
                detail: serde_json::json!({
                    "model": route.model,
                    "strategy": route.strategy,
                    "targets": serde_json::from_str::<serde_json::Value>(&route.targets).unwrap_or_default(),
                }),
            }
        }

        #[async_trait::async_trait]
        impl RouteConfigStore for $store {
            async fn list(&self, org: &OrgId) -> Result<Vec<StoredRoute>> {
                const SQL: &str = concat!("SELECT ", $crate::sql::route_columns!(), " FROM model_routes \
                     WHERE organization_id = $1 ORDER BY model");
                sqlx::query_as::<_, StoredRoute>(SQL)
                    .bind(org)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Database)
            }

            async fn create(&self, actor: &Actor, route: NewStoredRoute) -> Result<StoredRoute> {
                const SQL: &str = concat!("INSERT INTO model_routes (", $crate::sql::route_columns!(), ") \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ", $crate::sql::route_columns!());
                let now = now_millis();
                let mut tx = self.begin().await?;
                let created = sqlx::query_as::<_, StoredRoute>(SQL)
                    .bind(RouteConfigId::generate())
                    .bind(&actor.org)
                    .bind(&route.model)
                    .bind(&route.strategy)
                    .bind(&route.targets)
                    .bind(now)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "route"))?;
                Self::append_audit(&mut tx, actor, route_audit("create", &created)).await?;
                tx.commit().await.map_err(commit_error)?;
                Ok(created)
            }

            async fn delete(&self, actor: &Actor, id: &RouteConfigId) -> Result<()> {
                const SQL: &str = concat!("DELETE FROM model_routes WHERE organization_id = $1 AND id = $2 \
                     RETURNING ", $crate::sql::route_columns!());
                let mut tx = self.begin().await?;
                let deleted = sqlx::query_as::<_, StoredRoute>(SQL)
                    .bind(&actor.org)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "route"))?;
                Self::append_audit(&mut tx, actor, route_audit("delete", &deleted)).await?;
                tx.commit().await.map_err(commit_error)
            }
        }

        #[async_trait::async_trait]
        impl GenerationStore for $store {
            async fn create(&self, actor: &Actor, project: &ProjectId, generation: NewGeneration) -> Result<Generation> {
                const SQL: &str = concat!("INSERT INTO generations (id, organization_id, project_id, status, description, \
                     stack, model, created_by, queued_at, run_tests, parent_id, instruction, spec) \
                     VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ",
                     $crate::sql::generation_columns!());
                const PARENT: &str = "SELECT id FROM generations WHERE organization_id = $1 AND id = $2";
                let mut tx = self.begin().await?;
                Self::require_project(&mut tx, &actor.org, project).await?;
                if let Some(parent) = &generation.parent_id {
                    sqlx::query(PARENT)
                        .bind(&actor.org)
                        .bind(parent)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(|e| StoreError::from_sqlx(e, "generation"))?;
                }
                let created = sqlx::query_as::<_, Generation>(SQL)
                    .bind(GenerationId::generate())
                    .bind(&actor.org)
                    .bind(project)
                    .bind(&generation.description)
                    .bind(&generation.stack)
                    .bind(&generation.model)
                    .bind(&actor.user)
                    .bind(now_millis())
                    .bind(generation.run_tests)
                    .bind(&generation.parent_id)
                    .bind(&generation.instruction)
                    .bind(&generation.spec)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "generation"))?;
                let audit = NewAuditEntry {
                    action: "generation.create".to_owned(),
                    target_kind: "generation".to_owned(),
                    target_id: Some(created.id.0.clone()),
                    detail: serde_json::json!({"project_id": project.0, "stack": created.stack, "model": created.model}),
                };
                Self::append_audit(&mut tx, actor, audit).await?;
                // Its first event, `queued` with its place in line, is stored with it: no
                // scheduler can start it (and write `started`) before that event exists.
                const POSITION: &str = "SELECT COUNT(*) FROM generations WHERE organization_id = $1 AND status = 'queued'";
                let position: i64 = sqlx::query_scalar(POSITION)
                    .bind(&actor.org)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::Database)?;
                let data = serde_json::json!({"position": position, "stack": created.stack}).to_string();
                Self::append_event_in(&mut tx, &actor.org, &created.id, ("queued", &data), false).await?;
                tx.commit().await.map_err(commit_error)?;
                Ok(created)
            }

            async fn get(&self, org: &OrgId, id: &GenerationId) -> Result<Generation> {
                const SQL: &str = concat!("SELECT ", $crate::sql::generation_columns!(),
                    " FROM generations WHERE organization_id = $1 AND id = $2");
                sqlx::query_as::<_, Generation>(SQL)
                    .bind(org)
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "generation"))
            }

            async fn append_event(&self, org: &OrgId, id: &GenerationId, kind: &str, data: &str) -> Result<GenerationEvent> {
                // The next number is read and written in one statement; two writers that pick
                // the same one collide on the primary key, and the loser tries again.
                for _ in 0..$crate::sql::EVENT_ATTEMPTS {
                    let appended = sqlx::query_as::<_, GenerationEvent>($crate::sql::EVENT_APPEND_LIVE)
                        .bind(org)
                        .bind(id)
                        .bind(kind)
                        .bind(data)
                        .bind(now_millis())
                        .fetch_optional(&self.pool)
                        .await;
                    match appended.map_err(|e| StoreError::from_sqlx(e, "generation event")) {
                        Ok(Some(event)) => return Ok(event),
                        Ok(None) => {
                            // Ended, or not there (in this organisation).
                            GenerationStore::get(self, org, id).await?;
                            return Err(StoreError::Ended("generation"));
                        }
                        Err(StoreError::Conflict(_)) => continue,
                        Err(other) => return Err(other),
                    }
                }
                Err(StoreError::Conflict("generation event"))
            }

            async fn events_since(&self, org: &OrgId, id: &GenerationId, after: i64, limit: i64) -> Result<Vec<GenerationEvent>> {
                const SQL: &str = "SELECT generation_id, seq, kind, data, created_at FROM generation_events \
                     WHERE organization_id = $1 AND generation_id = $2 AND seq > $3 ORDER BY seq LIMIT $4";
                // Reading a generation another organisation owns is as missing as one that is not.
                GenerationStore::get(self, org, id).await?;
                sqlx::query_as::<_, GenerationEvent>(SQL)
                    .bind(org)
                    .bind(id)
                    .bind(after)
                    .bind(limit.clamp(1, MAX_EVENTS_PER_READ))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Database)
            }

            async fn list(&self, org: &OrgId, limit: i64) -> Result<Vec<Generation>> {
                const SQL: &str = concat!("SELECT ", $crate::sql::generation_columns!(),
                    " FROM generations WHERE organization_id = $1 ORDER BY queued_at DESC, id DESC LIMIT $2");
                sqlx::query_as::<_, Generation>(SQL)
                    .bind(org)
                    .bind(limit.clamp(1, 200))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Database)
            }

            async fn admit_next(&self, per_org_limit: i64) -> Result<Option<Generation>> {
                // One statement reads the organisation's running count and claims the oldest
                // queued generation; PostgreSQL serialises admissions with a lock so that two
                // schedulers cannot both pass the count.
                const SQL: &str = concat!("UPDATE generations SET status = 'running', started_at = $2 \
                     WHERE status = 'queued' AND id = (SELECT g.id FROM generations g WHERE g.status = 'queued' \
                     AND (SELECT COUNT(*) FROM generations r WHERE r.organization_id = g.organization_id \
                          AND r.status = 'running') < $1 \
                     ORDER BY g.queued_at, g.id LIMIT 1) RETURNING ", $crate::sql::generation_columns!());
                let mut tx = self.begin().await?;
                if let Some(lock) = Self::ADMISSION_LOCK {
                    sqlx::query(lock).execute(&mut *tx).await.map_err(StoreError::Database)?;
                }
                let admitted = sqlx::query_as::<_, Generation>(SQL)
                    .bind(per_org_limit)
                    .bind(now_millis())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::Database)?;
                tx.commit().await.map_err(commit_error)?;
                Ok(admitted)
            }

            async fn mark_dispatched(&self, org: &OrgId, id: &GenerationId) -> Result<()> {
                sqlx::query("UPDATE generations SET dispatched_at = $3 WHERE organization_id = $1 AND id = $2")
                    .bind(org)
                    .bind(id)
                    .bind(now_millis())
                    .execute(&self.pool)
                    .await
                    .map(drop)
                    .map_err(StoreError::Database)
            }

            async fn undispatched(&self, before: i64) -> Result<Vec<Generation>> {
                const SQL: &str = concat!("SELECT ", $crate::sql::generation_columns!(),
                    " FROM generations WHERE status = 'running' AND dispatched_at IS NULL AND started_at < $1 \
                     ORDER BY started_at LIMIT 100");
                sqlx::query_as::<_, Generation>(SQL)
                    .bind(before)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Database)
            }

            async fn release_stalled(&self, quiet_since: i64) -> Result<u64> {
                const SQL: &str = "UPDATE generations SET dispatched_at = NULL WHERE status = 'running' \
                     AND dispatched_at < $1 \
                     AND NOT EXISTS (SELECT 1 FROM generation_steps s WHERE s.generation_id = generations.id \
                         AND s.status = 'running') \
                     AND NOT EXISTS (SELECT 1 FROM generation_events e WHERE e.generation_id = generations.id \
                         AND e.created_at >= $1)";
                sqlx::query(SQL)
                    .bind(quiet_since)
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected())
                    .map_err(StoreError::Database)
            }

            async fn queue_position(&self, org: &OrgId, id: &GenerationId) -> Result<Option<i64>> {
                const SQL: &str = "SELECT COUNT(*) FROM generations q WHERE q.organization_id = $1 \
                     AND q.status = 'queued' AND (q.queued_at < $2 OR (q.queued_at = $2 AND q.id <= $3))";
                let generation = GenerationStore::get(self, org, id).await?;
                if generation.status != "queued" {
                    return Ok(None);
                }
                let ahead: i64 = sqlx::query_scalar(SQL)
                    .bind(org)
                    .bind(generation.queued_at)
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(StoreError::Database)?;
                Ok(Some(ahead))
            }

            async fn cancel(&self, actor: &Actor, id: &GenerationId) -> Result<Generation> {
                const SQL: &str = concat!("UPDATE generations SET status = 'cancelled', cancelled_by = $3, \
                     finished_at = $4 WHERE organization_id = $1 AND id = $2 AND status IN ('queued', 'running') \
                     RETURNING ", $crate::sql::generation_columns!());
                let event = serde_json::json!({"by": actor.user.0}).to_string();
                for _ in 0..$crate::sql::EVENT_ATTEMPTS {
                    let mut tx = self.begin().await?;
                    let cancelled = sqlx::query_as::<_, Generation>(SQL)
                        .bind(&actor.org)
                        .bind(id)
                        .bind(&actor.user)
                        .bind(now_millis())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(StoreError::Database)?;
                    let Some(cancelled) = cancelled else {
                        drop(tx);
                        GenerationStore::get(self, &actor.org, id).await?;
                        return Err(StoreError::Conflict("generation already finished"));
                    };
                    match Self::append_event_in(&mut tx, &actor.org, id, ("cancelled", &event), false).await {
                        Ok(_) => {}
                        Err(StoreError::Conflict(_)) => continue,
                        Err(other) => return Err(other),
                    }
                    let audit = NewAuditEntry {
                        action: "generation.cancel".to_owned(),
                        target_kind: "generation".to_owned(),
                        target_id: Some(cancelled.id.0.clone()),
                        detail: serde_json::json!({"project_id": cancelled.project_id.0}),
                    };
                    Self::append_audit(&mut tx, actor, audit).await?;
                    tx.commit().await.map_err(commit_error)?;
                    return Ok(cancelled);
                }
                Err(StoreError::Conflict("generation event"))
            }

            async fn set_spec(&self, org: &OrgId, id: &GenerationId, spec: &str) -> Result<()> {
                let updated = sqlx::query("UPDATE generations SET spec = $3 WHERE organization_id = $1 AND id = $2")
                    .bind(org)
                    .bind(id)
                    .bind(spec)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::Database)?;
                if updated.rows_affected() == 0 {
                    return Err(StoreError::NotFound("generation"));
                }
                Ok(())
            }

            async fn finish(&self, org: &OrgId, id: &GenerationId, outcome: &GenerationOutcome, event_data: &str) -> Result<Option<GenerationEvent>> {
                const SQL: &str = "UPDATE generations SET status = $3, finished_at = $4, capsule_id = $5, \
                     report = $6, error = $7 WHERE organization_id = $1 AND id = $2 AND status = 'running'";
                let (status, capsule, report, error) = match outcome {
                    GenerationOutcome::Succeeded { capsule, report } => ("succeeded", Some(capsule), Some(report.as_str()), None),
                    GenerationOutcome::Failed { error } => ("failed", None, None, Some(error.as_str())),
                };
                for _ in 0..$crate::sql::EVENT_ATTEMPTS {
                    let mut tx = self.begin().await?;
                    let updated = sqlx::query(SQL)
                        .bind(org)
                        .bind(id)
                        .bind(status)
                        .bind(now_millis())
                        .bind(capsule)
                        .bind(report)
                        .bind(error)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::Database)?;
                    if updated.rows_affected() == 0 {
                        return Ok(None);
                    }
                    match Self::append_event_in(&mut tx, org, id, (status, event_data), false).await {
                        Ok(event) => {
                            tx.commit().await.map_err(commit_error)?;
                            return Ok(event);
                        }
                        Err(StoreError::Conflict(_)) => continue,
                        Err(other) => return Err(other),
                    }
                }
                Err(StoreError::Conflict("generation event"))
            }

            async fn begin_step(&self, org: &OrgId, id: &GenerationId, step: &NewStep, started_kind: &str) -> Result<StepStart> {
                // A step that succeeded keeps its row untouched (the update's WHERE fails) and its
                // output is read back; any other row becomes running with one more attempt, and
                // its start event is appended in the same transaction.
                const SQL: &str = "INSERT INTO generation_steps (generation_id, organization_id, step, role, position, \
                     status, attempts, input, worker, started_at) \
                     SELECT g.id, g.organization_id, $3, $4, $5, 'running', 1, $6, $7, $8 FROM generations g \
                     WHERE g.organization_id = $1 AND g.id = $2 \
                     ON CONFLICT (generation_id, step) DO UPDATE SET status = 'running', \
                     attempts = generation_steps.attempts + 1, input = excluded.input, worker = excluded.worker, \
                     started_at = excluded.started_at, finished_at = NULL, output = NULL, error = NULL \
                     WHERE generation_steps.status <> 'succeeded' RETURNING attempts";
                const DONE: &str = "SELECT output FROM generation_steps WHERE organization_id = $1 \
                     AND generation_id = $2 AND step = $3 AND status = 'succeeded'";
                for _ in 0..$crate::sql::EVENT_ATTEMPTS {
                    let mut tx = self.begin().await?;
                    let attempt: Option<i64> = sqlx::query_scalar(SQL)
                        .bind(org)
                        .bind(id)
                        .bind(&step.step)
                        .bind(&step.role)
                        .bind(step.position)
                        .bind(&step.input)
                        .bind(&step.worker)
                        .bind(now_millis())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(|e| StoreError::from_sqlx(e, "generation step"))?;
                    let Some(attempt) = attempt else {
                        drop(tx);
                        let output: Option<Option<String>> = sqlx::query_scalar(DONE)
                            .bind(org)
                            .bind(id)
                            .bind(&step.step)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(StoreError::Database)?;
                        return match output {
                            Some(output) => Ok(StepStart::Done { output: output.unwrap_or_default() }),
                            None => Err(StoreError::NotFound("generation")),
                        };
                    };
                    let data = serde_json::json!({
                        "step": step.step, "role": step.role, "attempt": attempt, "worker": step.worker,
                    })
                    .to_string();
                    match Self::append_event_in(&mut tx, org, id, (started_kind, &data), true).await {
                        Ok(Some(_)) => {
                            tx.commit().await.map_err(commit_error)?;
                            return Ok(StepStart::Run { attempt });
                        }
                        // The generation ended meanwhile: the step does not start.
                        Ok(None) => return Ok(StepStart::Ended),
                        Err(StoreError::Conflict(_)) => continue,
                        Err(other) => return Err(other),
                    }
                }
                Err(StoreError::Conflict("generation event"))
            }

            async fn finish_step(&self, org: &OrgId, id: &GenerationId, step: &str, attempt: i64, result: std::result::Result<&str, &str>, event: (&str, &str)) -> Result<bool> {
                // Only the attempt that is running ends it: a late finisher whose step was
                // taken over (its worker presumed dead) changes nothing.
                const SQL: &str = "UPDATE generation_steps SET status = $4, output = $5, error = $6, finished_at = $7 \
                     WHERE organization_id = $1 AND generation_id = $2 AND step = $3 AND attempts = $8 \
                     AND status = 'running'";
                const EXISTS: &str = "SELECT 1 FROM generation_steps WHERE organization_id = $1 \
                     AND generation_id = $2 AND step = $3";
                let (status, output, error) = match result {
                    Ok(output) => ("succeeded", Some(output), None),
                    Err(error) => ("failed", None, Some(error)),
                };
                for _ in 0..$crate::sql::EVENT_ATTEMPTS {
                    let mut tx = self.begin().await?;
                    let updated = sqlx::query(SQL)
                        .bind(org)
                        .bind(id)
                        .bind(step)
                        .bind(status)
                        .bind(output)
                        .bind(error)
                        .bind(now_millis())
                        .bind(attempt)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::Database)?;
                    if updated.rows_affected() == 0 {
                        drop(tx);
                        let exists: Option<i32> = sqlx::query_scalar(EXISTS)
                            .bind(org)
                            .bind(id)
                            .bind(step)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(StoreError::Database)?;
                        return match exists {
                            Some(_) => Ok(false),
                            None => Err(StoreError::NotFound("generation step")),
                        };
                    }
                    // The step ends whether or not the generation has (no event after its last).
                    match Self::append_event_in(&mut tx, org, id, event, true).await {
                        Ok(_) => {
                            tx.commit().await.map_err(commit_error)?;
                            return Ok(true);
                        }
                        Err(StoreError::Conflict(_)) => continue,
                        Err(other) => return Err(other),
                    }
                }
                Err(StoreError::Conflict("generation event"))
            }

            async fn steps(&self, org: &OrgId, id: &GenerationId) -> Result<Vec<GenerationStep>> {
                const SQL: &str = "SELECT generation_id, step, role, position, status, attempts, input, output, \
                     error, worker, started_at, finished_at FROM generation_steps \
                     WHERE organization_id = $1 AND generation_id = $2 ORDER BY position, started_at, step";
                GenerationStore::get(self, org, id).await?;
                sqlx::query_as::<_, GenerationStep>(SQL)
                    .bind(org)
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Database)
            }
        }

        #[async_trait::async_trait]
        impl CapsuleStore for $store {
            async fn create_for_generation(&self, org: &OrgId, generation: &GenerationId, capsule: NewCapsule) -> Result<StoredCapsule> {
                const INSERT: &str = concat!("INSERT INTO capsules (id, organization_id, project_id, generation_id, \
                     storage_path, size_bytes, sha256, manifest, signature, created_at, archive) \
                     VALUES ($1, $2, $3, $4, 'database', $5, $6, $7, $8, $9, $10) RETURNING ", $crate::sql::capsule_columns!());
                const EXISTING: &str = concat!("SELECT ", $crate::sql::capsule_columns!(),
                     " FROM capsules WHERE organization_id = $1 AND generation_id = $2");
                let existing = || async {
                    sqlx::query_as::<_, StoredCapsule>(EXISTING)
                        .bind(org)
                        .bind(generation)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(StoreError::Database)
                };
                if let Some(kept) = existing().await? {
                    return Ok(kept);
                }
                let owner = GenerationStore::get(self, org, generation).await?;
                let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&capsule.archive));
                let mut tx = self.begin().await?;
                let created = sqlx::query_as::<_, StoredCapsule>(INSERT)
                    .bind(CapsuleId::generate())
                    .bind(org)
                    .bind(&owner.project_id)
                    .bind(generation)
                    .bind(capsule.archive.len() as i64)
                    .bind(&sha256)
                    .bind(&capsule.manifest)
                    .bind(&capsule.signature)
                    .bind(now_millis())
                    .bind(&capsule.archive)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "capsule"));
                let created = match created {
                    Ok(created) => created,
                    // Another run of the same step got there first: theirs is the capsule.
                    Err(StoreError::Conflict(_)) => {
                        drop(tx);
                        return existing().await?.ok_or(StoreError::NotFound("capsule"));
                    }
                    Err(other) => return Err(other),
                };
                let audit = NewAuditEntry {
                    action: "capsule.create".to_owned(),
                    target_kind: "capsule".to_owned(),
                    target_id: Some(created.id.0.clone()),
                    detail: serde_json::json!({"project_id": owner.project_id.0, "generation_id": generation.0,
                        "sha256": sha256, "size_bytes": created.size_bytes}),
                };
                Self::append_audit_as(&mut tx, org, owner.created_by.as_ref(), audit).await?;
                tx.commit().await.map_err(commit_error)?;
                Ok(created)
            }

            async fn create(&self, actor: &Actor, project: &ProjectId, capsule: NewCapsule) -> Result<StoredCapsule> {
                const SQL: &str = concat!("INSERT INTO capsules (id, organization_id, project_id, storage_path, size_bytes, \
                     sha256, manifest, signature, created_at, archive) VALUES ($1, $2, $3, 'database', $4, $5, $6, $7, $8, $9) \
                     RETURNING ", $crate::sql::capsule_columns!());
                let mut tx = self.begin().await?;
                Self::require_project(&mut tx, &actor.org, project).await?;
                let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&capsule.archive));
                let created = sqlx::query_as::<_, StoredCapsule>(SQL)
                    .bind(CapsuleId::generate())
                    .bind(&actor.org)
                    .bind(project)
                    .bind(capsule.archive.len() as i64)
                    .bind(&sha256)
                    .bind(&capsule.manifest)
                    .bind(&capsule.signature)
                    .bind(now_millis())
                    .bind(&capsule.archive)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "capsule"))?;
                let audit = NewAuditEntry {
                    action: "capsule.create".to_owned(),
                    target_kind: "capsule".to_owned(),
                    target_id: Some(created.id.0.clone()),
                    detail: serde_json::json!({"project_id": project.0, "sha256": sha256, "size_bytes": created.size_bytes}),
                };
                Self::append_audit(&mut tx, actor, audit).await?;
                tx.commit().await.map_err(commit_error)?;
                Ok(created)
            }

            async fn list(&self, org: &OrgId, project: &ProjectId) -> Result<Vec<StoredCapsule>> {
                const SQL: &str = concat!("SELECT ", $crate::sql::capsule_columns!(), " FROM capsules \
                     WHERE organization_id = $1 AND project_id = $2 ORDER BY created_at DESC, id DESC LIMIT 200");
                sqlx::query_as::<_, StoredCapsule>(SQL)
                    .bind(org)
                    .bind(project)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Database)
            }

            async fn archive(&self, org: &OrgId, id: &CapsuleId) -> Result<(StoredCapsule, Vec<u8>)> {
                const SQL: &str = concat!("SELECT ", $crate::sql::capsule_columns!(), ", archive FROM capsules \
                     WHERE organization_id = $1 AND id = $2 AND archive IS NOT NULL");
                let row = sqlx::query(SQL)
                    .bind(org)
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "capsule"))?;
                let record = <StoredCapsule as sqlx::FromRow<_>>::from_row(&row).map_err(StoreError::Database)?;
                let archive: Vec<u8> = sqlx::Row::try_get(&row, "archive").map_err(StoreError::Database)?;
                Ok((record, archive))
            }
        }

        #[async_trait::async_trait]
        impl UsageStore for $store {
            async fn record_batch(&self, records: &[NewUsage]) -> Result<()> {
                // One multi-row statement per 500 rows (16 parameters each, under SQLite's
                // and PostgreSQL's limits): one round trip to the database instead of one per row.
                let mut tx = self.begin().await?;
                for chunk in records.chunks(500) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO usage_records (id, organization_id, api_key_id, user_id, route, provider, \
                         model, prompt_tokens, completion_tokens, cost_micros, latency_ms, ttft_ms, status, cache_hit, \
                         streamed, created_at) ",
                    );
                    insert.push_values(chunk, |mut row, record| {
                        row.push_bind(uuid::Uuid::now_v7().to_string())
                            .push_bind(record.organization_id.clone())
                            .push_bind(record.api_key_id.clone())
                            .push_bind(record.user_id.clone())
                            .push_bind(record.route.clone())
                            .push_bind(record.provider.clone())
                            .push_bind(record.model.clone())
                            .push_bind(record.prompt_tokens)
                            .push_bind(record.completion_tokens)
                            .push_bind(record.cost_micros)
                            .push_bind(record.latency_ms)
                            .push_bind(record.ttft_ms)
                            .push_bind(record.status)
                            .push_bind(record.cache_hit)
                            .push_bind(record.streamed)
                            .push_bind(record.created_at);
                    });
                    insert
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| StoreError::from_sqlx(e, "usage record"))?;
                }
                // The days' totals in the same transaction, in key order so that two batches
                // that touch the same days take their row locks in the same order.
                let days: Vec<_> = $crate::sql::daily_totals(records).into_iter().collect();
                for chunk in days.chunks(500) {
                    let mut upsert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO usage_daily (organization_id, day, calls, prompt_tokens, completion_tokens, cost_micros) ",
                    );
                    upsert.push_values(chunk, |mut row, ((org, day), totals)| {
                        row.push_bind(org.clone())
                            .push_bind(*day)
                            .push_bind(totals.calls)
                            .push_bind(totals.prompt_tokens)
                            .push_bind(totals.completion_tokens)
                            .push_bind(totals.cost_micros);
                    });
                    upsert.push(
                        " ON CONFLICT (organization_id, day) DO UPDATE SET \
                         calls = usage_daily.calls + excluded.calls, \
                         prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens, \
                         completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens, \
                         cost_micros = usage_daily.cost_micros + excluded.cost_micros",
                    );
                    upsert
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| StoreError::from_sqlx(e, "daily usage"))?;
                }
                tx.commit().await.map_err(commit_error)
            }

            async fn summary(&self, org: &OrgId, since: i64) -> Result<UsageSummary> {
                sqlx::query_as::<_, UsageSummary>(
                    "SELECT COUNT(*) AS calls, CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens, \
                     CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens, \
                     CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) AS cost_micros \
                     FROM usage_records WHERE organization_id = $1 AND created_at >= $2",
                )
                .bind(org)
                .bind(since)
                .fetch_one(&self.pool)
                .await
                .map_err(StoreError::Database)
            }

            async fn daily(&self, org: &OrgId, first_day: i64) -> Result<Vec<$crate::DailyUsage>> {
                sqlx::query_as::<_, $crate::DailyUsage>(
                    "SELECT day, calls, prompt_tokens, completion_tokens, cost_micros FROM usage_daily \
                     WHERE organization_id = $1 AND day >= $2 ORDER BY day LIMIT 400",
                )
                .bind(org)
                .bind(first_day)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::Database)
            }
        }

        #[async_trait::async_trait]
        impl AuditStore for $store {
            async fn record(&self, actor: &Actor, entry: NewAuditEntry) -> Result<()> {
                let mut tx = self.begin().await?;
                Self::append_audit(&mut tx, actor, entry).await?;
                tx.commit().await.map_err(commit_error)
            }

            async fn list(&self, org: &OrgId, limit: u32) -> Result<Vec<AuditEntry>> {
                sqlx::query_as::<_, AuditEntry>(AUDIT_LIST)
                    .bind(org)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::Database)
            }
        }

        #[async_trait::async_trait]
        impl SessionRecordStore for $store {
            async fn create(&self, record: &SessionRecord) -> Result<()> {
                sqlx::query("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3)")
                    .bind(&record.id)
                    .bind(&record.data)
                    .bind(record.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "session"))?;
                Ok(())
            }

            async fn save(&self, record: &SessionRecord) -> Result<()> {
                sqlx::query(
                    "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
                )
                .bind(&record.id)
                .bind(&record.data)
                .bind(record.expires_at)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::from_sqlx(e, "session"))?;
                Ok(())
            }

            async fn load(&self, id: &str) -> Result<Option<SessionRecord>> {
                sqlx::query_as::<_, SessionRecord>(
                    "SELECT id, data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2",
                )
                .bind(id)
                .bind(now_millis())
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::Database)
            }

            async fn delete(&self, id: &str) -> Result<()> {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::Database)?;
                Ok(())
            }

            async fn delete_expired(&self) -> Result<u64> {
                sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind(now_millis())
                    .execute(&self.pool)
                    .await
                    .map(|done| done.rows_affected())
                    .map_err(StoreError::Database)
            }
        }
    };
}

pub(crate) use {
    api_key_columns, capsule_columns, impl_sql_store, project_columns, provider_columns,
    route_columns, user_columns,
};
