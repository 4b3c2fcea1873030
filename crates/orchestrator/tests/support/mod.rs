//! What the orchestrator's tests share: a store of their own (SQLite, or a private
//! PostgreSQL schema), an owner with a project, workers, and waiting for the end.

#![allow(dead_code, reason = "each test binary uses its own part")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use ql_orchestrator::{ModelSource, NoModels, Orchestrator, Settings};
use ql_store::{Actor, Generation, GenerationId, NewProject, Store};

/// A store of its own: a temporary SQLite file, or a private PostgreSQL schema.
pub struct Backend {
    pub store: Store,
    reach: Reach,
    _dir: tempfile::TempDir,
}

/// How a test reaches the store's database behind the store's back, to take it away.
enum Reach {
    SqliteFile(std::path::PathBuf),
    /// The server's address and the test's private schema.
    Postgres {
        url: String,
        schema: String,
    },
}

impl Backend {
    /// Takes the database away from the workers of `queue` for `outage`: on SQLite another
    /// connection holds the write lock (longer than the store waits for it); on PostgreSQL
    /// every heartbeat of theirs fails (a trigger on apalis's shared workers table, limited
    /// to this test's queue).
    pub async fn cut_off(&self, queue: &str, outage: Duration) {
        match &self.reach {
            Reach::SqliteFile(path) => {
                use sqlx::Connection;
                let url = format!("sqlite://{}", path.display());
                let mut holder = sqlx::SqliteConnection::connect(&url).await.expect("connect");
                sqlx::raw_sql("BEGIN EXCLUSIVE").execute(&mut holder).await.expect("lock");
                tokio::time::sleep(outage).await;
                sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.expect("unlock");
            }
            Reach::Postgres { url, schema } => {
                let admin = sqlx::PgPool::connect(url).await.expect("postgres");
                let refuse = format!(
                    "CREATE FUNCTION {schema}.refuse_heartbeats() RETURNS trigger LANGUAGE plpgsql \
                     AS $$ BEGIN RAISE EXCEPTION 'the database is away'; END $$; \
                     CREATE TRIGGER refuse_{schema} BEFORE UPDATE ON apalis.workers FOR EACH ROW \
                     WHEN (OLD.worker_type = '{queue}') EXECUTE FUNCTION {schema}.refuse_heartbeats();"
                );
                sqlx::raw_sql(sqlx::AssertSqlSafe(refuse)).execute(&admin).await.expect("refuse");
                tokio::time::sleep(outage).await;
                let back = format!("DROP TRIGGER refuse_{schema} ON apalis.workers");
                sqlx::raw_sql(sqlx::AssertSqlSafe(back)).execute(&admin).await.expect("back");
            }
        }
    }

    /// Drops the test's PostgreSQL schema (a SQLite file goes with its directory). Stop the
    /// test's workers first.
    pub async fn finish(self) {
        if let Reach::Postgres { url, schema } = &self.reach {
            let admin = sqlx::PgPool::connect(url).await.expect("postgres");
            let drop = format!("DROP SCHEMA {schema} CASCADE");
            sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&admin).await.expect("drop schema");
        }
    }

    /// The apalis workers ever registered on `queue`.
    pub async fn workers_registered(&self, queue: &str) -> i64 {
        match &self.store.pool {
            ql_store::Pool::Sqlite(pool) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM Workers WHERE worker_type = $1")
                    .bind(queue)
                    .fetch_one(pool)
                    .await
                    .expect("workers")
            }
            ql_store::Pool::Postgres(pool) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM apalis.workers WHERE worker_type = $1")
                    .bind(queue)
                    .fetch_one(pool)
                    .await
                    .expect("workers")
            }
        }
    }
}

pub async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("ql.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await.expect("store");
    Backend { store, reach: Reach::SqliteFile(path), _dir: dir }
}

pub async fn postgres() -> Option<Backend> {
    let url = std::env::var("QL_TEST_POSTGRES_URL").ok()?;
    let schema = format!("orchestrator_{}", uuid_like());
    let admin = sqlx::PgPool::connect(&url).await.expect("postgres");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("schema");
    let store_url = format!("{url}?options=-c%20search_path%3D{schema},public");
    let store = Store::connect(&store_url).await.expect("store");
    let reach = Reach::Postgres { url, schema };
    Some(Backend { store, reach, _dir: tempfile::tempdir().expect("dir") })
}

pub fn uuid_like() -> String {
    format!("{:016x}{:08x}", rand_u64(), std::process::id())
}

pub fn rand_u64() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    (nanos as u64).wrapping_mul(6364136223846793005)
}

pub fn settings() -> Settings {
    Settings {
        queue: format!("test-{}", uuid_like()),
        heartbeat: Duration::from_secs(1),
        missed_heartbeats: 2,
        admission_interval: Duration::from_millis(50),
        ..Settings::default()
    }
}

pub async fn owner(store: &Store) -> (Actor, ql_store::ProjectId) {
    let user = store.accounts.local_user().await.expect("local user");
    let memberships = store.accounts.memberships(&user.id).await.expect("memberships");
    let actor = Actor { org: memberships[0].organization.id.clone(), user: user.id };
    let new = NewProject { name: "Apps".into(), description: String::new() };
    let project = store.projects.create(&actor, new).await.expect("project");
    (actor, project.id)
}

/// Starts a worker that finds models in `models`; dropping the sender stops it.
pub fn start_worker_with(
    orchestrator: &Orchestrator,
    models: Arc<dyn ModelSource>,
) -> tokio::sync::oneshot::Sender<()> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let orchestrator = orchestrator.clone();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        orchestrator
            .run_worker(ql_capsule::InstallationKey::generate(), models, shutdown)
            .await
            .expect("worker");
    });
    stop
}

/// A worker that can also end the way a killed process's would: at once, its tasks
/// unacknowledged and its heartbeats stopped, so other workers take them over as orphans.
pub struct Killable(tokio::task::JoinHandle<()>);

impl Killable {
    pub fn kill(self) {
        self.0.abort();
    }
}

pub fn start_killable_worker_with(
    orchestrator: &Orchestrator,
    models: Arc<dyn ModelSource>,
) -> Killable {
    let orchestrator = orchestrator.clone();
    Killable(tokio::spawn(async move {
        orchestrator
            .run_worker(ql_capsule::InstallationKey::generate(), models, std::future::pending())
            .await
            .expect("worker");
    }))
}

/// Starts a worker for `builtin` generations only.
pub fn start_worker(orchestrator: &Orchestrator) -> tokio::sync::oneshot::Sender<()> {
    start_worker_with(orchestrator, Arc::new(NoModels))
}

pub async fn wait_finished(store: &Store, actor: &Actor, ids: &[GenerationId]) -> Vec<Generation> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut finished = Vec::new();
        for id in ids {
            let generation = store.generations.get(&actor.org, id).await.expect("get");
            if generation.is_finished() {
                finished.push(generation);
            }
        }
        if finished.len() == ids.len() {
            return finished;
        }
        assert!(Instant::now() < deadline, "not finished: {finished:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every event numbered 1..=n, the first `queued`, one final event and it is last.
pub async fn assert_complete_stream(store: &Store, actor: &Actor, id: &GenerationId, last: &str) {
    let events = store.generations.events_since(&actor.org, id, 0, 1000).await.expect("events");
    let numbers: Vec<i64> = events.iter().map(|event| event.seq).collect();
    assert_eq!(numbers, (1..=events.len() as i64).collect::<Vec<_>>());
    assert_eq!(events.first().map(|event| event.kind.as_str()), Some("queued"));
    assert_eq!(events.last().map(|event| event.kind.as_str()), Some(last));
    let finals = events
        .iter()
        .filter(|event| ["succeeded", "failed", "cancelled"].contains(&event.kind.as_str()))
        .count();
    assert_eq!(finals, 1, "{events:?}");
}
