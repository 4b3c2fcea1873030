//! One contract suite, run against every backend.
//!
//! Each check is an async function over a [`Store`]; `contract_tests!` turns each into one test
//! per backend. SQLite always runs (a file in a temporary directory). PostgreSQL runs when
//! `QL_TEST_POSTGRES_URL` is set, each test inside a private schema that it drops afterwards.

use std::str::FromStr;

use ql_common::Role;
use sqlx::postgres::PgConnectOptions;

use crate::{
    Actor, Decision, FileEdit, GenerationId, GenerationOutcome, NewApiKey, NewAuditEntry,
    NewCapsule, NewGeneration, NewProject, NewStep, NewStoredProvider, NewStoredRoute, NewUsage,
    OrgId, ProjectId, ProjectUpdate, SessionRecord, StepStart, Store, StoreError, UsageSummary,
    UserId, now_millis,
};

/// A store plus whatever must be cleaned up after the test.
struct Harness {
    store: Store,
    _dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

impl Harness {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("contract.db").display());
        let store = Store::connect(&url).await.expect("sqlite store");
        Self { store, _dir: Some(dir), pg_cleanup: None }
    }

    async fn postgres() -> Option<Self> {
        Self::postgres_keeping(0).await
    }

    /// A private schema on the test server, through a pool that keeps `warm` connections.
    async fn postgres_keeping(warm: u32) -> Option<Self> {
        let url = std::env::var("QL_TEST_POSTGRES_URL").ok()?;
        let schema = format!("contract_{}", uuid::Uuid::now_v7().simple());
        let admin = sqlx::PgPool::connect(&url).await.expect("QL_TEST_POSTGRES_URL reachable");
        // The schema name is generated above from hex digits only; identifiers cannot be bound.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await
            .expect("schema");
        admin.close().await;
        let options = PgConnectOptions::from_str(&url)
            .expect("postgres url")
            .options([("search_path", schema.as_str())]);
        let store = crate::postgres::PostgresStore::connect_with(options, &url, warm)
            .await
            .expect("postgres store");
        Some(Self {
            store: Store::from_postgres(store),
            _dir: None,
            pg_cleanup: Some((url, schema)),
        })
    }

    async fn finish(self) {
        if let Some((url, schema)) = self.pg_cleanup {
            let admin = sqlx::PgPool::connect(&url).await.expect("postgres");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&admin)
                .await
                .expect("drop schema");
        }
    }
}

macro_rules! contract_tests {
    ($($check:ident),* $(,)?) => {
        mod sqlite_backend {
            $(
                #[tokio::test]
                async fn $check() {
                    let harness = super::Harness::sqlite().await;
                    super::$check(&harness.store).await;
                    harness.finish().await;
                }
            )*
        }
        mod postgres_backend {
            $(
                #[tokio::test]
                async fn $check() {
                    let Some(harness) = super::Harness::postgres().await else {
                        eprintln!("QL_TEST_POSTGRES_URL is not set: PostgreSQL contract skipped");
                        return;
                    };
                    super::$check(&harness.store).await;
                    harness.finish().await;
                }
            )*
        }
    };
}

contract_tests!(
    fresh_database_has_default_organisation_owned_by_local_user,
    projects_round_trip_and_are_audited,
    project_names_are_unique_per_organisation,
    organisations_cannot_see_or_change_each_others_rows,
    missing_rows_are_not_found,
    audit_log_lists_newest_first_with_limit,
    sessions_expire_and_upsert,
    api_keys_are_found_by_hash_until_revoked_and_stay_in_their_organisation,
    usage_is_recorded_in_batches_and_summed_per_organisation,
    providers_are_kept_per_organisation_with_sealed_secrets_and_audited,
    routes_are_kept_per_organisation_and_audited,
    capsules_are_kept_per_project_with_their_archive,
    generation_events_are_numbered_without_gaps_and_replayed_from_any_point,
    generations_are_admitted_within_each_organisations_limit_in_queue_order,
    generation_steps_run_until_they_succeed_and_never_after,
    stalled_generations_are_released_to_be_queued_again,
    generations_are_cancelled_once_and_finish_only_while_running,
    file_versions_are_numbered_guarded_and_kept_per_organisation,
    refinements_link_their_parent_and_keep_decisions_per_organisation,
    projects_come_with_their_newest_generation_within_their_organisation,
);

#[tokio::test]
async fn postgres_backend_a_serving_store_keeps_its_connections_warm() {
    let Some(harness) = Harness::postgres_keeping(crate::WARM_CONNECTIONS).await else { return };
    let crate::Pool::Postgres(pool) = &harness.store.pool else { panic!("a PostgreSQL pool") };
    // Opened in the background after connecting, and kept.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while pool.size() < crate::WARM_CONNECTIONS && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(pool.size(), crate::WARM_CONNECTIONS);
    assert!(pool.num_idle() >= crate::WARM_CONNECTIONS as usize - 1);
    harness.finish().await;
}

async fn local_actor(store: &Store) -> Actor {
    let user = store.accounts.local_user().await.expect("local user");
    let membership = store.accounts.memberships(&user.id).await.expect("memberships");
    Actor { org: membership[0].organization.id.clone(), user: user.id }
}

/// A second organisation with its own owner.
async fn other_actor(store: &Store) -> Actor {
    let user = store.accounts.create_user(Some("eve@example.com"), "Eve").await.expect("user");
    let org = store.accounts.create_organization("other", "Other org", &user).await.expect("org");
    Actor { org, user }
}

fn new_project(name: &str) -> NewProject {
    NewProject { name: name.to_owned(), description: format!("about {name}") }
}

async fn fresh_database_has_default_organisation_owned_by_local_user(store: &Store) {
    let user = store.accounts.local_user().await.expect("local user");
    assert!(user.is_local);
    assert_eq!(user.display_name, "Local user");
    let memberships = store.accounts.memberships(&user.id).await.expect("memberships");
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].organization.slug, "default");
    assert_eq!(memberships[0].role, Role::Owner);
    let again = store
        .accounts
        .membership(&memberships[0].organization.id, &user.id)
        .await
        .expect("membership");
    assert_eq!(again, memberships[0]);
    store.health.ping().await.expect("ping");
}

async fn projects_round_trip_and_are_audited(store: &Store) {
    let actor = local_actor(store).await;
    let created = store.projects.create(&actor, new_project("Library")).await.expect("create");
    assert_eq!(created.name, "Library");
    assert_eq!(created.organization_id, actor.org);
    assert_eq!(created.created_by.as_ref(), Some(&actor.user));

    let second = store.projects.create(&actor, new_project("Shop")).await.expect("create");
    let listed = store.projects.list(&actor.org).await.expect("list");
    let names: Vec<_> = listed.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Shop", "Library"], "newest first");

    let update = ProjectUpdate { name: "Library v2".into(), description: "loans".into() };
    let updated = store.projects.update(&actor, &created.id, update).await.expect("update");
    assert_eq!(updated.name, "Library v2");
    assert_eq!(store.projects.get(&actor.org, &created.id).await.expect("get"), updated);

    store.projects.delete(&actor, &second.id).await.expect("delete");
    assert!(matches!(
        store.projects.get(&actor.org, &second.id).await,
        Err(StoreError::NotFound("project"))
    ));

    let audit = store.audit.list(&actor.org, 10).await.expect("audit");
    let actions: Vec<_> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["project.delete", "project.update", "project.create", "project.create"]);
    assert_eq!(audit[0].target_id.as_deref(), Some(second.id.as_str()));
    assert_eq!(audit[0].actor_name.as_deref(), Some("Local user"));
    let detail: serde_json::Value = serde_json::from_str(&audit[1].detail).expect("json");
    assert_eq!(detail["name"], "Library v2");
}

async fn project_names_are_unique_per_organisation(store: &Store) {
    let actor = local_actor(store).await;
    let other = other_actor(store).await;
    store.projects.create(&actor, new_project("Twin")).await.expect("first");
    let err = store.projects.create(&actor, new_project("Twin")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict("project")), "{err}");
    // The failed create left no audit row behind.
    assert_eq!(store.audit.list(&actor.org, 10).await.expect("audit").len(), 1);
    // Another organisation may use the same name.
    store.projects.create(&other, new_project("Twin")).await.expect("other org");
}

async fn organisations_cannot_see_or_change_each_others_rows(store: &Store) {
    let owner = local_actor(store).await;
    let intruder = other_actor(store).await;
    let project = store.projects.create(&owner, new_project("Secret")).await.expect("create");

    assert!(store.projects.list(&intruder.org).await.expect("list").is_empty());
    assert!(matches!(
        store.projects.get(&intruder.org, &project.id).await,
        Err(StoreError::NotFound(_))
    ));
    let update = ProjectUpdate { name: "Stolen".into(), description: String::new() };
    assert!(matches!(
        store.projects.update(&intruder, &project.id, update).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.projects.delete(&intruder, &project.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.audit.list(&intruder.org, 10).await.expect("audit").is_empty());
    assert!(matches!(
        store.accounts.membership(&owner.org, &intruder.user).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.accounts.member(&owner.org, &intruder.user).await,
        Err(StoreError::NotFound(_))
    ));

    // The owner's project is untouched.
    let still = store.projects.get(&owner.org, &project.id).await.expect("get");
    assert_eq!(still.name, "Secret");
}

async fn missing_rows_are_not_found(store: &Store) {
    let actor = local_actor(store).await;
    let missing = ProjectId::from("no-such-project");
    assert!(matches!(store.projects.get(&actor.org, &missing).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        store.accounts.user(&UserId::from("nobody")).await,
        Err(StoreError::NotFound("user"))
    ));
    assert!(matches!(
        store.accounts.membership(&OrgId::from("nowhere"), &actor.user).await,
        Err(StoreError::NotFound("membership"))
    ));
    // The user and the membership in one: the same rows as asked apart, or not found.
    let (user, membership) = store.accounts.member(&actor.org, &actor.user).await.expect("member");
    assert_eq!(user, store.accounts.user(&actor.user).await.expect("user"));
    assert_eq!(
        membership,
        store.accounts.membership(&actor.org, &actor.user).await.expect("membership")
    );
    for (org, user) in
        [(OrgId::from("nowhere"), actor.user.clone()), (actor.org.clone(), UserId::from("nobody"))]
    {
        assert!(matches!(store.accounts.member(&org, &user).await, Err(StoreError::NotFound(_))));
    }
}

async fn audit_log_lists_newest_first_with_limit(store: &Store) {
    let actor = local_actor(store).await;
    for action in ["session.sign_in", "settings.update", "session.sign_out"] {
        let entry = NewAuditEntry {
            action: action.into(),
            target_kind: "session".into(),
            target_id: None,
            detail: serde_json::json!({}),
        };
        store.audit.record(&actor, entry).await.expect("record");
    }
    let entries = store.audit.list(&actor.org, 2).await.expect("list");
    let actions: Vec<_> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["session.sign_out", "settings.update"]);
}

async fn sessions_expire_and_upsert(store: &Store) {
    let far = crate::model::now_millis() + 3_600_000;
    let live = SessionRecord { id: "live".into(), data: vec![1, 2, 3], expires_at: far };
    let gone = SessionRecord { id: "gone".into(), data: vec![9], expires_at: 1 };
    store.sessions.create(&live).await.expect("create");
    store.sessions.create(&gone).await.expect("create");
    assert!(matches!(store.sessions.create(&live).await, Err(StoreError::Conflict("session"))));

    assert_eq!(store.sessions.load("live").await.expect("load"), Some(live.clone()));
    assert_eq!(store.sessions.load("gone").await.expect("load"), None, "expired");

    let changed = SessionRecord { data: vec![4], ..live.clone() };
    store.sessions.save(&changed).await.expect("save");
    assert_eq!(store.sessions.load("live").await.expect("load"), Some(changed));

    assert_eq!(store.sessions.delete_expired().await.expect("expire"), 1);
    store.sessions.delete("live").await.expect("delete");
    store.sessions.delete("live").await.expect("deleting twice is fine");
    assert_eq!(store.sessions.load("live").await.expect("load"), None);
}

async fn api_keys_are_found_by_hash_until_revoked_and_stay_in_their_organisation(store: &Store) {
    let actor = local_actor(store).await;
    let intruder = other_actor(store).await;
    let new_key = |name: &str, hash: &str| NewApiKey {
        name: name.into(),
        prefix: "ql_abcd".into(),
        key_hash: hash.into(),
    };
    let first = store.api_keys.create(&actor, new_key("ci", "hash-1")).await.expect("create");
    let second = store.api_keys.create(&actor, new_key("bench", "hash-2")).await.expect("create");
    assert!(matches!(
        store.api_keys.create(&actor, new_key("dup", "hash-1")).await,
        Err(StoreError::Conflict("api key"))
    ));
    assert_eq!((first.organization_id.clone(), first.revoked_at), (actor.org.clone(), None));
    let names: Vec<_> =
        store.api_keys.list(&actor.org).await.expect("list").into_iter().map(|k| k.name).collect();
    assert_eq!(names, ["bench", "ci"]);
    assert_eq!(
        store.api_keys.find_active_by_hash("hash-1").await.expect("find"),
        Some(first.clone())
    );
    assert_eq!(store.api_keys.find_active_by_hash("nope").await.expect("find"), None);

    // Another organisation can neither list nor revoke the key.
    assert!(store.api_keys.list(&intruder.org).await.expect("list").is_empty());
    assert!(matches!(
        store.api_keys.revoke(&intruder, &first.id).await,
        Err(StoreError::NotFound(_))
    ));

    let revoked = store.api_keys.revoke(&actor, &first.id).await.expect("revoke");
    assert!(revoked.revoked_at.is_some());
    assert_eq!(store.api_keys.find_active_by_hash("hash-1").await.expect("find"), None);
    assert!(store.api_keys.find_active_by_hash("hash-2").await.expect("find").is_some());
    let again = store
        .api_keys
        .revoke(&actor, &first.id)
        .await
        .expect("revoking twice keeps the first time");
    assert_eq!(again.revoked_at, revoked.revoked_at);
    let _ = second;

    let actions: Vec<_> = store
        .audit
        .list(&actor.org, 10)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["api_key.revoke", "api_key.revoke", "api_key.create", "api_key.create"]);
    let org = store.accounts.organization_by_slug("other").await.expect("by slug");
    assert_eq!(org.id, intruder.org);
    assert!(matches!(
        store.accounts.organization_by_slug("none").await,
        Err(StoreError::NotFound("organization"))
    ));
}

async fn usage_is_recorded_in_batches_and_summed_per_organisation(store: &Store) {
    let actor = local_actor(store).await;
    let other = other_actor(store).await;
    let record = |org: &OrgId, prompt: i64, completion: i64, cost: i64, at: i64| NewUsage {
        organization_id: org.clone(),
        api_key_id: None,
        user_id: None,
        route: "fast".into(),
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
        prompt_tokens: prompt,
        completion_tokens: completion,
        cost_micros: cost,
        latency_ms: 120,
        ttft_ms: Some(40),
        status: 200,
        cache_hit: false,
        streamed: true,
        created_at: at,
    };
    let batch = [
        record(&actor.org, 10, 5, 100, 1_000),
        record(&actor.org, 20, 7, 250, 2_000),
        record(&actor.org, 1, 1, 1, 500),
        record(&other.org, 999, 999, 999, 2_000),
    ];
    store.usage.record_batch(&batch).await.expect("batch");
    store.usage.record_batch(&[]).await.expect("empty batch");
    let summary = store.usage.summary(&actor.org, 1_000).await.expect("summary");
    assert_eq!(
        summary,
        UsageSummary { calls: 2, prompt_tokens: 30, completion_tokens: 12, cost_micros: 350 }
    );
    let all = store.usage.summary(&actor.org, 0).await.expect("summary");
    assert_eq!(all.calls, 3);
    // A batch larger than one statement's 500 rows.
    let many: Vec<NewUsage> = (0..1_201).map(|i| record(&other.org, 1, 0, 0, 10_000 + i)).collect();
    store.usage.record_batch(&many).await.expect("large batch");
    assert_eq!(store.usage.summary(&other.org, 10_000).await.expect("summary").calls, 1_201);
    let nobody = store.usage.summary(&OrgId::from("nowhere"), 0).await.expect("summary");
    assert_eq!(nobody, UsageSummary::default());

    // Per UTC day, oldest first, days without calls left out, only the organisation's own.
    let day = crate::DAY_MILLIS;
    let days = [
        record(&actor.org, 3, 2, 30, 20 * day + 5),
        record(&actor.org, 4, 1, 40, 20 * day + day - 1),
        record(&actor.org, 5, 5, 50, 22 * day),
        record(&other.org, 100, 100, 100, 21 * day),
    ];
    store.usage.record_batch(&days).await.expect("days");
    let totals = |daily: Vec<crate::DailyUsage>| -> Vec<(i64, i64, i64, i64, i64)> {
        daily
            .iter()
            .map(|d| (d.day, d.calls, d.prompt_tokens, d.completion_tokens, d.cost_micros))
            .collect()
    };
    let daily = store.usage.daily(&actor.org, 20).await.expect("daily");
    assert_eq!(totals(daily), [(20, 2, 7, 3, 70), (22, 1, 5, 5, 50)]);
    // A later batch adds to the days already kept, and starts new ones.
    let later = [record(&actor.org, 1, 1, 1, 22 * day + 7), record(&actor.org, 2, 2, 2, 23 * day)];
    store.usage.record_batch(&later).await.expect("later");
    let daily = store.usage.daily(&actor.org, 21).await.expect("daily");
    assert_eq!(totals(daily), [(22, 2, 6, 6, 51), (23, 1, 2, 2, 2)]);
    // The days of the first batches, from the same records.
    let early = store.usage.daily(&other.org, 0).await.expect("daily");
    assert_eq!(totals(early), [(0, 1_202, 2_200, 999, 999), (21, 1, 100, 100, 100)]);
}

async fn providers_are_kept_per_organisation_with_sealed_secrets_and_audited(store: &Store) {
    let actor = local_actor(store).await;
    let intruder = other_actor(store).await;
    let new = |name: &str| NewStoredProvider {
        name: name.into(),
        kind: "openai".into(),
        base_url: Some("https://api.groq.com/openai/v1".into()),
        models: "[\"llama-3.1-8b-instant\"]".into(),
        secret_ciphertext: Some(vec![1, 2, 3]),
        secret_nonce: Some(vec![9; 24]),
        region: (name == "alpha").then(|| "eu-west-1".to_owned()),
    };
    let groq = store.providers.create(&actor, new("groq")).await.expect("create");
    store.providers.create(&actor, new("alpha")).await.expect("create");
    assert!(matches!(
        store.providers.create(&actor, new("groq")).await,
        Err(StoreError::Conflict("provider"))
    ));
    store
        .providers
        .create(&intruder, new("groq"))
        .await
        .expect("another organisation may use the name");
    let names: Vec<_> =
        store.providers.list(&actor.org).await.expect("list").into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["alpha", "groq"]);
    assert_eq!(groq.secret_ciphertext.as_deref(), Some(&[1u8, 2, 3][..]));
    let regions: Vec<_> = store
        .providers
        .list(&actor.org)
        .await
        .expect("list")
        .into_iter()
        .map(|p| p.region)
        .collect();
    assert_eq!(regions, [Some("eu-west-1".to_owned()), None]);
    assert!(matches!(
        store.providers.delete(&intruder, &groq.id).await,
        Err(StoreError::NotFound(_))
    ));
    store.providers.delete(&actor, &groq.id).await.expect("delete");
    assert_eq!(store.providers.list(&actor.org).await.expect("list").len(), 1);
    let audit = store.audit.list(&actor.org, 10).await.expect("audit");
    assert_eq!(audit[0].action, "provider.delete");
    assert!(
        audit.iter().all(|entry| !entry.detail.contains("[1,2,3]")),
        "no secret in the audit log"
    );
    assert!(audit[0].detail.contains("\"has_secret\":true"), "{}", audit[0].detail);
}

async fn routes_are_kept_per_organisation_and_audited(store: &Store) {
    let actor = local_actor(store).await;
    let intruder = other_actor(store).await;
    let new = |model: &str| NewStoredRoute {
        model: model.into(),
        strategy: "priority".into(),
        targets: r#"[{"provider":"groq","model":"llama","weight":1}]"#.into(),
    };
    let fast = store.routes.create(&actor, new("fast")).await.expect("create");
    store.routes.create(&actor, new("cheap")).await.expect("create");
    assert!(matches!(
        store.routes.create(&actor, new("fast")).await,
        Err(StoreError::Conflict("route"))
    ));
    store
        .routes
        .create(&intruder, new("fast"))
        .await
        .expect("another organisation may use the name");
    let models: Vec<_> =
        store.routes.list(&actor.org).await.expect("list").into_iter().map(|r| r.model).collect();
    assert_eq!(models, ["cheap", "fast"]);
    assert_eq!(fast.targets, new("fast").targets);
    assert!(matches!(store.routes.delete(&intruder, &fast.id).await, Err(StoreError::NotFound(_))));
    store.routes.delete(&actor, &fast.id).await.expect("delete");
    assert_eq!(store.routes.list(&actor.org).await.expect("list").len(), 1);
    let audit = store.audit.list(&actor.org, 10).await.expect("audit");
    assert_eq!(
        (audit[0].action.as_str(), audit[1].action.as_str()),
        ("route.delete", "route.create")
    );
    assert!(audit[0].detail.contains("\"model\":\"fast\""), "{}", audit[0].detail);
}

async fn capsules_are_kept_per_project_with_their_archive(store: &Store) {
    let actor = local_actor(store).await;
    let intruder = other_actor(store).await;
    let project = store.projects.create(&actor, new_project("Capsules")).await.expect("project");
    let new = |archive: &[u8]| NewCapsule {
        manifest: "{\"id\":\"cap\"}".into(),
        signature: "{\"algorithm\":\"ed25519\"}".into(),
        archive: archive.to_vec(),
    };
    let first = store.capsules.create(&actor, &project.id, new(b"PK first")).await.expect("create");
    let second =
        store.capsules.create(&actor, &project.id, new(b"PK second")).await.expect("create");
    assert_eq!(first.size_bytes, 8);
    assert_eq!(first.sha256.len(), 64);
    let listed: Vec<_> = store
        .capsules
        .list(&actor.org, &project.id)
        .await
        .expect("list")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, [second.id.clone(), first.id.clone()], "newest first");
    let (record, archive) = store.capsules.archive(&actor.org, &first.id).await.expect("archive");
    assert_eq!((record, archive), (first.clone(), b"PK first".to_vec()));
    assert!(matches!(
        store.capsules.archive(&intruder.org, &first.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.capsules.list(&intruder.org, &project.id).await.expect("list").is_empty());
    assert!(matches!(
        store.capsules.create(&intruder, &project.id, new(b"PK")).await,
        Err(StoreError::NotFound("project"))
    ));
    let audit = store.audit.list(&actor.org, 10).await.expect("audit");
    assert_eq!(audit[0].action, "capsule.create");
}

async fn generation_events_are_numbered_without_gaps_and_replayed_from_any_point(store: &Store) {
    let actor = local_actor(store).await;
    let intruder = other_actor(store).await;
    let project = store.projects.create(&actor, new_project("Generations")).await.expect("project");
    let new = NewGeneration {
        description: "A todo app".into(),
        stack: "python-fastapi".into(),
        model: "builtin".into(),
        run_tests: false,
        ..NewGeneration::default()
    };
    let generation =
        store.generations.create(&actor, &project.id, new.clone()).await.expect("create");
    assert_eq!(generation.status, "queued");
    assert_eq!(generation.created_by, Some(actor.user.clone()));
    assert_eq!(store.generations.get(&actor.org, &generation.id).await.expect("get"), generation);
    assert!(matches!(
        store.generations.create(&intruder, &project.id, new).await,
        Err(StoreError::NotFound(_))
    ));

    // Created with its first event, in the same transaction.
    let first = store.generations.events_since(&actor.org, &generation.id, 0, 10).await;
    let first = first.expect("first event");
    assert_eq!(first.len(), 1);
    assert_eq!((first[0].seq, first[0].kind.as_str()), (1, "queued"));
    let data: serde_json::Value = serde_json::from_str(&first[0].data).expect("json");
    assert_eq!(data, serde_json::json!({"position": 1, "stack": "python-fastapi"}));

    // Four writers at once: every number from 2 to 101 exactly once.
    let writers = (0..4).map(|writer| {
        let (generations, org, id) =
            (store.generations.clone(), actor.org.clone(), generation.id.clone());
        tokio::spawn(async move {
            for n in 0..25 {
                let data = format!("{{\"writer\":{writer},\"n\":{n}}}");
                generations.append_event(&org, &id, "step", &data).await.expect("append");
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.expect("writer");
    }
    let all =
        store.generations.events_since(&actor.org, &generation.id, 0, 1000).await.expect("all");
    assert_eq!(
        all.iter().map(|event| event.seq).collect::<Vec<_>>(),
        (1..=101).collect::<Vec<_>>()
    );
    let tail =
        store.generations.events_since(&actor.org, &generation.id, 98, 1000).await.expect("tail");
    assert_eq!(tail.iter().map(|event| event.seq).collect::<Vec<_>>(), [99, 100, 101]);
    let page =
        store.generations.events_since(&actor.org, &generation.id, 10, 5).await.expect("page");
    assert_eq!(page.first().map(|event| event.seq), Some(11));
    assert_eq!(page.len(), 5);

    for denied in [
        store.generations.get(&intruder.org, &generation.id).await.map(drop),
        store.generations.append_event(&intruder.org, &generation.id, "x", "{}").await.map(drop),
        store.generations.events_since(&intruder.org, &generation.id, 0, 10).await.map(drop),
    ] {
        assert!(matches!(denied, Err(StoreError::NotFound(_))), "{denied:?}");
    }
}

fn queued(description: &str) -> NewGeneration {
    NewGeneration {
        description: description.to_owned(),
        stack: "python-fastapi".into(),
        model: "builtin".into(),
        run_tests: true,
        ..NewGeneration::default()
    }
}

async fn generations_are_admitted_within_each_organisations_limit_in_queue_order(store: &Store) {
    let actor = local_actor(store).await;
    let other = other_actor(store).await;
    let mine = store.projects.create(&actor, new_project("Mine")).await.expect("project");
    let theirs = store.projects.create(&other, new_project("Theirs")).await.expect("project");
    let mut ours = Vec::new();
    for n in 0..3 {
        let generation =
            store.generations.create(&actor, &mine.id, queued(&format!("app {n}"))).await;
        ours.push(generation.expect("create").id);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let foreign = store.generations.create(&other, &theirs.id, queued("theirs")).await;
    let foreign = foreign.expect("create").id;
    let positions = |ids: Vec<GenerationId>, org: OrgId| async move {
        let mut positions = Vec::new();
        for id in ids {
            positions.push(store.generations.queue_position(&org, &id).await.expect("position"));
        }
        positions
    };
    assert_eq!(positions(ours.clone(), actor.org.clone()).await, [Some(1), Some(2), Some(3)]);

    // With a limit of two per organisation: our two oldest, then theirs, then nothing.
    let mut admitted = Vec::new();
    while let Some(generation) = store.generations.admit_next(2).await.expect("admit") {
        assert_eq!(generation.status, "running");
        assert!(generation.started_at.is_some());
        admitted.push(generation.id);
    }
    assert_eq!(admitted, [ours[0].clone(), ours[1].clone(), foreign.clone()]);
    assert_eq!(positions(ours.clone(), actor.org.clone()).await, [None, None, Some(1)]);
    assert!(matches!(
        store.generations.queue_position(&other.org, &ours[2]).await,
        Err(StoreError::NotFound(_))
    ));

    // Admitted but not yet handed to the job queue: found again once old enough.
    let later = now_millis() + 1;
    let undispatched = store.generations.undispatched(later).await.expect("undispatched");
    assert_eq!(undispatched.len(), 3);
    store.generations.mark_dispatched(&actor.org, &ours[0]).await.expect("dispatched");
    let undispatched = store.generations.undispatched(later).await.expect("undispatched");
    assert_eq!(
        undispatched.iter().map(|g| g.id.clone()).collect::<Vec<_>>(),
        [ours[1].clone(), foreign.clone()]
    );
    assert!(store.generations.undispatched(0).await.expect("none").is_empty());

    // A finished generation frees its turn.
    let failed = GenerationOutcome::Failed { error: "no".into() };
    assert!(
        store
            .generations
            .finish(&actor.org, &ours[0], &failed, "{}")
            .await
            .expect("finish")
            .is_some()
    );
    let next = store.generations.admit_next(2).await.expect("admit").map(|g| g.id);
    assert_eq!(next, Some(ours[2].clone()));
    let listed = store.generations.list(&actor.org, 10).await.expect("list");
    assert_eq!(listed.len(), 3, "only the organisation's own");
}

async fn generation_steps_run_until_they_succeed_and_never_after(store: &Store) {
    let actor = local_actor(store).await;
    let intruder = other_actor(store).await;
    let project = store.projects.create(&actor, new_project("Steps")).await.expect("project");
    let generation = store.generations.create(&actor, &project.id, queued("app")).await;
    let id = generation.expect("create").id;
    let step = |name: &str, position: i64| NewStep {
        step: name.to_owned(),
        role: name.split(':').next().unwrap_or_default().to_owned(),
        position,
        input: "{}".into(),
        worker: "w1".into(),
    };
    let planner = step("planner", 1);
    let (org, generation_id) = (&actor.org, &id);
    let begin = |step: NewStep| async move {
        store.generations.begin_step(org, generation_id, &step, "step_started").await
    };
    let finish = |attempt: i64, result: Result<&'static str, &'static str>| async move {
        let event = ("step_finished", "{}");
        store.generations.finish_step(org, generation_id, "planner", attempt, result, event).await
    };
    assert_eq!(begin(planner.clone()).await.expect("begin"), StepStart::Run { attempt: 1 });
    // The worker died: the step runs again, counted; the first attempt can no longer end it.
    assert_eq!(begin(planner.clone()).await.expect("again"), StepStart::Run { attempt: 2 });
    assert!(!finish(1, Ok("{\"stale\":1}")).await.expect("superseded"));
    assert!(finish(2, Err("flaky")).await.expect("failed"));
    assert!(!finish(2, Ok("{}")).await.expect("ended already"));
    assert_eq!(begin(planner.clone()).await.expect("retry"), StepStart::Run { attempt: 3 });
    assert!(finish(3, Ok("{\"spec\":1}")).await.expect("ok"));
    // Each start and each recorded end appended its event in its transaction.
    let events = store.generations.events_since(org, generation_id, 0, 100).await.expect("events");
    let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "queued",
            "step_started",
            "step_started",
            "step_finished",
            "step_started",
            "step_finished"
        ]
    );
    let third: serde_json::Value = serde_json::from_str(&events[4].data).expect("json");
    assert_eq!(
        third,
        serde_json::json!({"step": "planner", "role": "planner", "attempt": 3, "worker": "w1"})
    );
    // Succeeded: never again, its output instead.
    assert_eq!(
        begin(planner.clone()).await.expect("done"),
        StepStart::Done { output: "{\"spec\":1}".into() }
    );
    assert_eq!(begin(step("coder:b", 3)).await.expect("b"), StepStart::Run { attempt: 1 });
    assert_eq!(begin(step("coder:a", 3)).await.expect("a"), StepStart::Run { attempt: 1 });
    let steps = store.generations.steps(&actor.org, &id).await.expect("steps");
    let summary: Vec<_> = steps
        .iter()
        .map(|s| (s.step.as_str(), s.status.as_str(), s.attempts, s.output.as_deref()))
        .collect();
    assert_eq!(summary[0], ("planner", "succeeded", 3, Some("{\"spec\":1}")));
    assert_eq!(summary.len(), 3);
    assert!(steps[0].finished_at.is_some() && steps[1].finished_at.is_none());

    for denied in [
        store.generations.begin_step(&intruder.org, &id, &planner, "step_started").await.map(drop),
        store
            .generations
            .finish_step(&intruder.org, &id, "planner", 3, Ok("{}"), ("step_finished", "{}"))
            .await
            .map(drop),
        store.generations.steps(&intruder.org, &id).await.map(drop),
        store.generations.set_spec(&intruder.org, &id, "{}").await,
    ] {
        assert!(matches!(denied, Err(StoreError::NotFound(_))), "{denied:?}");
    }
    store.generations.set_spec(&actor.org, &id, "{\"name\":\"x\"}").await.expect("spec");
    let kept = store.generations.get(&actor.org, &id).await.expect("get");
    assert_eq!(kept.spec.as_deref(), Some("{\"name\":\"x\"}"));
}

async fn stalled_generations_are_released_to_be_queued_again(store: &Store) {
    let actor = local_actor(store).await;
    let project = store.projects.create(&actor, new_project("Stalls")).await.expect("project");
    let id = store.generations.create(&actor, &project.id, queued("app")).await.expect("create").id;
    let generations = &store.generations;
    while generations.admit_next(100).await.expect("admit").is_some() {}
    generations.mark_dispatched(&actor.org, &id).await.expect("dispatched");
    let dispatched = now_millis() + 1;
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let target = &id;
    let undispatched = |before: i64| async move {
        let found = generations.undispatched(before).await.expect("undispatched");
        found.into_iter().any(|generation| &generation.id == target)
    };
    // Dispatched after the quiet began: not stalled.
    assert_eq!(generations.release_stalled(0).await.expect("release"), 0);
    let step = NewStep {
        step: "planner".into(),
        role: "planner".into(),
        position: 1,
        input: "{}".into(),
        worker: "w1".into(),
    };
    let attempt = match generations.begin_step(&actor.org, &id, &step, "step_started").await {
        Ok(StepStart::Run { attempt }) => attempt,
        other => panic!("{other:?}"),
    };
    // A running step is progress, however quiet.
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    assert_eq!(generations.release_stalled(now_millis()).await.expect("release"), 0);
    let finished = ("step_finished", "{}");
    let done = generations.finish_step(&actor.org, &id, "planner", attempt, Ok("{}"), finished);
    assert!(done.await.expect("finish"));
    // Events since the quiet began are progress too.
    assert_eq!(generations.release_stalled(dispatched).await.expect("release"), 0);
    assert!(!undispatched(now_millis() + 1).await);
    // Nothing running and nothing said since: released, then found by the sweep.
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    assert!(generations.release_stalled(now_millis()).await.expect("release") >= 1);
    assert!(undispatched(now_millis() + 1).await);
    // A finished generation is never released.
    let failed = GenerationOutcome::Failed { error: "no".into() };
    generations.finish(&actor.org, &id, &failed, "{}").await.expect("finish");
    generations.mark_dispatched(&actor.org, &id).await.expect("dispatched");
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    generations.release_stalled(now_millis()).await.expect("release");
    assert!(!undispatched(now_millis() + 1).await);
}

async fn generations_are_cancelled_once_and_finish_only_while_running(store: &Store) {
    let actor = local_actor(store).await;
    let intruder = other_actor(store).await;
    let project = store.projects.create(&actor, new_project("Cancel")).await.expect("project");
    let first = store.generations.create(&actor, &project.id, queued("one")).await.expect("one");
    let second = store.generations.create(&actor, &project.id, queued("two")).await.expect("two");

    assert!(matches!(
        store.generations.cancel(&intruder, &first.id).await,
        Err(StoreError::NotFound(_))
    ));
    let cancelled = store.generations.cancel(&actor, &first.id).await.expect("cancel");
    assert_eq!(
        (cancelled.status.as_str(), cancelled.cancelled_by.as_ref()),
        ("cancelled", Some(&actor.user))
    );
    assert!(cancelled.is_finished() && cancelled.finished_at.is_some());
    assert!(matches!(
        store.generations.cancel(&actor, &first.id).await,
        Err(StoreError::Conflict(_))
    ));
    let audit = store.audit.list(&actor.org, 5).await.expect("audit");
    assert_eq!(audit[0].action, "generation.cancel");
    let events =
        store.generations.events_since(&actor.org, &first.id, 0, 10).await.expect("events");
    assert_eq!(events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["queued", "cancelled"]);

    // A cancelled generation is never admitted, nor finished afterwards.
    let admitted = store.generations.admit_next(5).await.expect("admit").expect("second");
    assert_eq!(admitted.id, second.id);
    let failed = GenerationOutcome::Failed { error: "late".into() };
    assert!(
        store
            .generations
            .finish(&actor.org, &first.id, &failed, "{}")
            .await
            .expect("no-op")
            .is_none()
    );
    assert!(
        store
            .generations
            .finish(&intruder.org, &second.id, &failed, "{}")
            .await
            .expect("no-op")
            .is_none()
    );

    // One capsule per generation, whoever packs it and however often.
    let capsule = |bytes: &[u8]| NewCapsule {
        manifest: "{}".into(),
        signature: "{}".into(),
        archive: bytes.to_vec(),
    };
    let kept =
        store.capsules.create_for_generation(&actor.org, &second.id, capsule(b"PK one")).await;
    let kept = kept.expect("capsule");
    let again =
        store.capsules.create_for_generation(&actor.org, &second.id, capsule(b"PK two")).await;
    assert_eq!(again.expect("same capsule"), kept);
    assert_eq!(kept.project_id, project.id);
    assert!(matches!(
        store.capsules.create_for_generation(&intruder.org, &second.id, capsule(b"PK")).await,
        Err(StoreError::NotFound(_))
    ));
    let step = |name: &str| NewStep {
        step: name.to_owned(),
        role: "coder".into(),
        position: 3,
        input: "{}".into(),
        worker: "w1".into(),
    };
    let (coder_a, coder_b) = (step("coder:a"), step("coder:b"));
    let started = store.generations.begin_step(&actor.org, &second.id, &coder_a, "step_started");
    assert_eq!(started.await.expect("begin"), StepStart::Run { attempt: 1 });
    let succeeded = GenerationOutcome::Succeeded { capsule: kept.id.clone(), report: "{}".into() };
    let last = store.generations.finish(&actor.org, &second.id, &succeeded, "{\"ok\":1}").await;
    let last = last.expect("finish").expect("final event");
    assert_eq!((last.seq, last.kind.as_str(), last.data.as_str()), (3, "succeeded", "{\"ok\":1}"));
    // Nothing follows the final event: a step still running ends without one, no step
    // starts, no event is appended.
    let ended = ("step_finished", "{}");
    let late = store.generations.finish_step(&actor.org, &second.id, "coder:a", 1, Ok("{}"), ended);
    assert!(late.await.expect("the step ends"));
    let started = store.generations.begin_step(&actor.org, &second.id, &coder_b, "step_started");
    assert_eq!(started.await.expect("begin"), StepStart::Ended);
    assert!(matches!(
        store.generations.append_event(&actor.org, &second.id, "file_written", "{}").await,
        Err(StoreError::Ended(_))
    ));
    assert!(matches!(
        store.generations.append_event(&intruder.org, &second.id, "file_written", "{}").await,
        Err(StoreError::NotFound(_))
    ));
    let events = store.generations.events_since(&actor.org, &second.id, 0, 10).await;
    let kinds: Vec<String> = events.expect("events").into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["queued", "step_started", "succeeded"]);
    let finished = store.generations.get(&actor.org, &second.id).await.expect("get");
    assert_eq!(
        (finished.status.as_str(), finished.capsule_id.as_ref(), finished.report.as_deref()),
        ("succeeded", Some(&kept.id), Some("{}"))
    );
    assert!(matches!(
        store.generations.cancel(&actor, &second.id).await,
        Err(StoreError::Conflict(_))
    ));
}

/// SQLite only: the watch over appended events names each generation with new events once,
/// from any connection, and then nothing until more are appended.
#[tokio::test]
async fn sqlite_event_watch_names_generations_with_new_events() {
    let harness = Harness::sqlite().await;
    let store = &harness.store;
    let crate::Pool::Sqlite(pool) = &store.pool else { panic!("a SQLite store") };
    let actor = local_actor(store).await;
    let project = store.projects.create(&actor, new_project("Watch")).await.expect("project");
    let first = store.generations.create(&actor, &project.id, queued("a")).await.expect("a").id;
    let second = store.generations.create(&actor, &project.id, queued("b")).await.expect("b").id;
    let start = crate::event_tail_end(pool).await.expect("end");
    for (id, kind) in [(&first, "one"), (&second, "one"), (&first, "two")] {
        store.generations.append_event(&actor.org, id, kind, "{}").await.expect("append");
    }
    let (mut named, cursor) = crate::events_appended_after(pool, start).await.expect("watch");
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(named, expected);
    let (quiet, same) = crate::events_appended_after(pool, cursor).await.expect("again");
    assert!(quiet.is_empty());
    assert_eq!(same, cursor);
    store.generations.append_event(&actor.org, &second, "three", "{}").await.expect("append");
    let (later, _) = crate::events_appended_after(pool, cursor).await.expect("later");
    assert_eq!(later, vec![second]);
}

async fn file_versions_are_numbered_guarded_and_kept_per_organisation(store: &Store) {
    let actor = local_actor(store).await;
    let intruder = other_actor(store).await;
    let project = store.projects.create(&actor, new_project("Edits")).await.expect("project");
    let new = NewGeneration {
        description: "A todo app".into(),
        stack: "python-fastapi".into(),
        model: "builtin".into(),
        run_tests: false,
        ..NewGeneration::default()
    };
    let generation = store.generations.create(&actor, &project.id, new).await.expect("create");
    let versions = &store.file_versions;
    let edit = |content: &str, base: Option<i64>| FileEdit {
        path: "app/main.py".into(),
        content: content.into(),
        original: "print('generated')\n".into(),
        base,
        note: "edited".into(),
    };
    assert!(versions.latest(&actor.org, &generation.id).await.expect("latest").is_empty());

    // The first save keeps the generated text as version 1.
    let second =
        versions.save(&actor, &generation.id, edit("print(2)\n", Some(1))).await.expect("save");
    assert_eq!((second.version, second.content.as_str()), (2, "print(2)\n"));
    assert_eq!(second.created_by, Some(actor.user.clone()));
    let first = versions.version(&actor.org, &generation.id, "app/main.py", 1).await.expect("v1");
    assert_eq!(
        (first.content.as_str(), first.note.as_str(), first.created_by),
        ("print('generated')\n", "generated", None)
    );

    // An edit made on version 1 after version 2 was saved is refused; the same text again
    // stores nothing.
    assert!(matches!(
        versions.save(&actor, &generation.id, edit("stale\n", Some(1))).await,
        Err(StoreError::Conflict(_))
    ));
    let same =
        versions.save(&actor, &generation.id, edit("print(2)\n", Some(2))).await.expect("same");
    assert_eq!(same.version, 2);
    let third =
        versions.save(&actor, &generation.id, edit("print(3)\n", None)).await.expect("save");
    assert_eq!(third.version, 3);

    let history =
        versions.history(&actor.org, &generation.id, "app/main.py").await.expect("history");
    let listed: Vec<(i64, &str, i64)> =
        history.iter().map(|v| (v.version, v.note.as_str(), v.size_bytes)).collect();
    assert_eq!(listed, [(3, "edited", 9), (2, "edited", 9), (1, "generated", 19)]);
    let latest = versions.latest(&actor.org, &generation.id).await.expect("latest");
    assert_eq!(
        latest.iter().map(|v| (v.path.as_str(), v.version)).collect::<Vec<_>>(),
        [("app/main.py", 3)]
    );

    // Limits and another organisation.
    let huge = "x".repeat(crate::MAX_FILE_VERSION_BYTES + 1);
    assert!(matches!(
        versions.save(&actor, &generation.id, edit(&huge, None)).await,
        Err(StoreError::Limit(_))
    ));
    assert!(matches!(
        versions.save(&intruder, &generation.id, edit("mine\n", None)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        versions
            .history(&intruder.org, &generation.id, "app/main.py")
            .await
            .expect("history")
            .is_empty()
    );
    assert!(versions.latest(&intruder.org, &generation.id).await.expect("latest").is_empty());
    assert!(matches!(
        versions.version(&intruder.org, &generation.id, "app/main.py", 3).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn refinements_link_their_parent_and_keep_decisions_per_organisation(store: &Store) {
    let actor = local_actor(store).await;
    let intruder = other_actor(store).await;
    let project = store.projects.create(&actor, new_project("Refined")).await.expect("project");
    let new = |parent: Option<GenerationId>| NewGeneration {
        description: "A todo app".into(),
        stack: "python-fastapi".into(),
        model: "builtin".into(),
        instruction: parent.is_some().then(|| "Todos also have a due date.".to_owned()),
        parent_id: parent,
        ..NewGeneration::default()
    };
    let parent = store.generations.create(&actor, &project.id, new(None)).await.expect("parent");
    assert_eq!((parent.parent_id.as_ref(), parent.instruction.as_deref()), (None, None));
    let given = NewGeneration { spec: Some("{\"name\":\"given\"}".into()), ..new(None) };
    let given = store.generations.create(&actor, &project.id, given).await.expect("given spec");
    assert_eq!(given.spec.as_deref(), Some("{\"name\":\"given\"}"));
    let child = store.generations.create(&actor, &project.id, new(Some(parent.id.clone()))).await;
    let child = child.expect("child");
    assert_eq!(child.parent_id.as_ref(), Some(&parent.id));
    assert_eq!(child.instruction.as_deref(), Some("Todos also have a due date."));
    let read = store.generations.get(&actor.org, &child.id).await.expect("get");
    assert_eq!(read, child);

    // Another organisation can neither refine this one's generation nor decide on its files.
    let theirs = store.projects.create(&intruder, new_project("Theirs")).await.expect("project");
    assert!(matches!(
        store.generations.create(&intruder, &theirs.id, new(Some(parent.id.clone()))).await,
        Err(StoreError::NotFound(_))
    ));
    let versions = &store.file_versions;
    assert!(matches!(
        versions.decide(&intruder, &child.id, "app/main.py", Decision::Accepted).await,
        Err(StoreError::NotFound(_))
    ));

    // A decision is recorded, changed, and listed by path.
    let first = versions.decide(&actor, &child.id, "b.py", Decision::Rejected).await;
    assert_eq!(first.expect("decide").decision, "rejected");
    versions.decide(&actor, &child.id, "a.py", Decision::Rejected).await.expect("decide");
    let changed = versions.decide(&actor, &child.id, "a.py", Decision::Accepted).await;
    assert_eq!(changed.expect("change").decided_by, Some(actor.user.clone()));
    let listed = versions.decisions(&actor.org, &child.id).await.expect("decisions");
    assert_eq!(
        listed.iter().map(|d| (d.path.as_str(), Decision::parse(&d.decision))).collect::<Vec<_>>(),
        [("a.py", Some(Decision::Accepted)), ("b.py", Some(Decision::Rejected))]
    );
    assert!(versions.decisions(&intruder.org, &child.id).await.expect("decisions").is_empty());
}

async fn projects_come_with_their_newest_generation_within_their_organisation(store: &Store) {
    let actor = local_actor(store).await;
    let intruder = other_actor(store).await;
    let new = |description: &str| NewGeneration {
        description: description.into(),
        stack: "python-fastapi".into(),
        model: "builtin".into(),
        run_tests: false,
        ..NewGeneration::default()
    };
    let first = store.projects.create(&actor, new_project("First")).await.expect("project");
    let second = store.projects.create(&actor, new_project("Second")).await.expect("project");
    store.projects.create(&actor, new_project("Empty")).await.expect("project");
    let theirs = store.projects.create(&intruder, new_project("Theirs")).await.expect("project");
    // Creations and generations in distinct milliseconds, so that the order is the activity's.
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let mut newest = None;
    for description in ["one", "two", "three"] {
        newest = Some(
            store.generations.create(&actor, &first.id, new(description)).await.expect("create"),
        );
    }
    let only = store.generations.create(&actor, &second.id, new("only")).await.expect("create");
    store.generations.create(&intruder, &theirs.id, new("theirs")).await.expect("create");
    let listed = store.projects.list_with_latest_generation(&actor.org, 50).await.expect("list");
    let found: Vec<(&str, Option<&GenerationId>)> = listed
        .iter()
        .map(|entry| (entry.project.name.as_str(), entry.latest.as_ref().map(|g| &g.id)))
        .collect();
    // The newest activity first: a generation counts as activity, and so does a creation.
    let newest = newest.expect("made");
    assert_eq!(found, [("Second", Some(&only.id)), ("First", Some(&newest.id)), ("Empty", None)],);
    let brief = listed[1].latest.as_ref().expect("brief");
    assert_eq!(
        (brief.status.as_str(), brief.description.as_str(), brief.queued_at),
        ("queued", "three", newest.queued_at),
    );
    let first_only = store.projects.list_with_latest_generation(&actor.org, 1).await.expect("list");
    assert_eq!(first_only.len(), 1);
}
