//! Generations run end to end by a worker on SQLite (and on PostgreSQL when
//! `QL_TEST_POSTGRES_URL` is set): every step once, complete numbered event streams, one
//! verified capsule each; cancellation.

#![expect(clippy::expect_used, reason = "a test fails loudly at the first broken step")]

use std::time::{Duration, Instant};

use ql_orchestrator::{Orchestrator, Settings};
use ql_store::{Actor, Generation, GenerationId, NewGeneration, NewProject, Store};

const LIBRARY: &str = "A library where members borrow books. Books have a title, an author, an ISBN and a published year. Members have a name and an email.";
const TODO: &str = "A todo app: todos have a title, optional notes, a due date and a done flag.";

/// A store of its own: a temporary SQLite file, or a private PostgreSQL schema.
struct Backend {
    store: Store,
    _dir: tempfile::TempDir,
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("ql.db").display());
    Backend { store: Store::connect(&url).await.expect("store"), _dir: dir }
}

async fn postgres() -> Option<Backend> {
    let url = std::env::var("QL_TEST_POSTGRES_URL").ok()?;
    let schema = format!("orchestrator_{}", uuid_like());
    let admin = sqlx::PgPool::connect(&url).await.expect("postgres");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("schema");
    let url = format!("{url}?options=-c%20search_path%3D{schema},public");
    let store = Store::connect(&url).await.expect("store");
    Some(Backend { store, _dir: tempfile::tempdir().expect("dir") })
}

fn uuid_like() -> String {
    format!("{:016x}{:08x}", rand_u64(), std::process::id())
}

fn rand_u64() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    (nanos as u64).wrapping_mul(6364136223846793005)
}

fn settings() -> Settings {
    Settings {
        queue: format!("test-{}", uuid_like()),
        heartbeat: Duration::from_secs(1),
        missed_heartbeats: 2,
        admission_interval: Duration::from_millis(50),
        ..Settings::default()
    }
}

async fn owner(store: &Store) -> (Actor, ql_store::ProjectId) {
    let user = store.accounts.local_user().await.expect("local user");
    let memberships = store.accounts.memberships(&user.id).await.expect("memberships");
    let actor = Actor { org: memberships[0].organization.id.clone(), user: user.id };
    let new = NewProject { name: "Apps".into(), description: String::new() };
    let project = store.projects.create(&actor, new).await.expect("project");
    (actor, project.id)
}

fn skipping_tests(description: &str) -> NewGeneration {
    NewGeneration {
        description: description.to_owned(),
        stack: "python-fastapi".into(),
        model: "builtin".into(),
        run_tests: false,
    }
}

/// Starts a worker; dropping the sender stops it.
fn start_worker(orchestrator: &Orchestrator) -> tokio::sync::oneshot::Sender<()> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let orchestrator = orchestrator.clone();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        orchestrator
            .run_worker(ql_capsule::InstallationKey::generate(), shutdown)
            .await
            .expect("worker");
    });
    stop
}

async fn wait_finished(store: &Store, actor: &Actor, ids: &[GenerationId]) -> Vec<Generation> {
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
async fn assert_complete_stream(store: &Store, actor: &Actor, id: &GenerationId, last: &str) {
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

async fn generations_run_to_one_verified_capsule_each(backend: Backend) {
    let store = backend.store.clone();
    let (actor, project) = owner(&store).await;
    let orchestrator = Orchestrator::new(store.clone(), settings());
    let mut ids = Vec::new();
    for description in [LIBRARY, TODO, LIBRARY] {
        let generation = orchestrator
            .submit(&actor, &project, skipping_tests(description))
            .await
            .expect("submit");
        assert_eq!(generation.status, "queued");
        ids.push(generation.id);
    }
    let _worker = start_worker(&orchestrator);
    let finished = wait_finished(&store, &actor, &ids).await;
    for generation in &finished {
        assert_eq!(generation.status, "succeeded", "{generation:?}");
        assert!(generation.spec.is_some() && generation.report.is_some());
        let capsule = generation.capsule_id.clone().expect("capsule id");
        let (_, archive) = store.capsules.archive(&actor.org, &capsule).await.expect("archive");
        ql_capsule::verify(&archive, &ql_capsule::Limits::default()).expect("verifies");
        assert_complete_stream(&store, &actor, &generation.id, "succeeded").await;
        let steps = store.generations.steps(&actor.org, &generation.id).await.expect("steps");
        let roles: Vec<&str> = steps.iter().map(|step| step.role.as_str()).collect();
        assert_eq!(roles.first(), Some(&"planner"));
        assert_eq!(roles.last(), Some(&"packager"));
        assert!(roles.iter().filter(|role| **role == "coder").count() >= 2, "{roles:?}");
        assert!(steps.iter().all(|step| step.status == "succeeded" && step.attempts == 1));
        let events = store
            .generations
            .events_since(&actor.org, &generation.id, 0, 1000)
            .await
            .expect("events");
        let files = events.iter().filter(|event| event.kind == "file_written").count();
        assert!(files > 10, "{files} files");
    }
    let capsules = store.capsules.list(&actor.org, &project).await.expect("capsules");
    assert_eq!(capsules.len(), 3, "one capsule per generation");
}

async fn cancelled_generations_stop_and_say_who(backend: Backend) {
    let store = backend.store.clone();
    let (actor, project) = owner(&store).await;
    let orchestrator = Orchestrator::new(store.clone(), settings());
    let queued = orchestrator.submit(&actor, &project, skipping_tests(TODO)).await.expect("submit");
    let cancelled = orchestrator.cancel(&actor, &queued.id).await.expect("cancel");
    assert_eq!(cancelled.cancelled_by.as_ref(), Some(&actor.user));
    let _worker = start_worker(&orchestrator);
    // A later one runs; the cancelled one never starts.
    let next = orchestrator.submit(&actor, &project, skipping_tests(TODO)).await.expect("submit");
    let finished = wait_finished(&store, &actor, std::slice::from_ref(&next.id)).await;
    assert_eq!(finished[0].status, "succeeded");
    let events =
        store.generations.events_since(&actor.org, &queued.id, 0, 100).await.expect("events");
    assert_eq!(
        events.iter().map(|event| event.kind.as_str()).collect::<Vec<_>>(),
        ["queued", "cancelled"]
    );
    assert!(store.generations.steps(&actor.org, &queued.id).await.expect("steps").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backend_generations_run_to_one_verified_capsule_each() {
    generations_run_to_one_verified_capsule_each(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backend_cancelled_generations_stop_and_say_who() {
    cancelled_generations_stop_and_say_who(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backend_generations_run_to_one_verified_capsule_each() {
    let Some(backend) = postgres().await else { return };
    generations_run_to_one_verified_capsule_each(backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backend_cancelled_generations_stop_and_say_who() {
    let Some(backend) = postgres().await else { return };
    cancelled_generations_stop_and_say_who(backend).await;
}
