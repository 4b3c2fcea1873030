//! Workers: one apalis worker per process runs the generation workflow's tasks, beside a
//! scheduler that admits queued generations within each organisation's limit and hands their
//! workflows to the job queue.
//!
//! **Timeouts, on purpose.** A worker beats every [`Settings::heartbeat`] (2 s); after
//! [`Settings::missed_heartbeats`] (3) missed beats — 6 s — any other worker takes its tasks
//! over (apalis's orphan recovery), so a step killed mid-way runs again about 6 s later. Each
//! process names its worker uniquely (host, pid, random), since apalis refuses a name that is
//! still registered. A scheduler that died between admitting a generation and queueing its
//! workflow is covered by a sweep that queues again what stayed unqueued for 10 s.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use apalis_workflow::{SteppedFlow, WorkflowSink};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::{Notify, Semaphore};

use ql_store::{Generation, Pool, Store, now_millis};

use crate::agents;
use crate::events::{Publisher, kind};
use crate::steps::{self, QueueError, Role, Ticket};
use crate::{OrchestratorError, Result};

/// How workers run; [`Settings::default`] is what `serve` and `worker` use.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Generations an organisation runs at once; more wait their turn, in order.
    pub per_org_limit: i64,
    /// Tasks one worker process runs at once (steps of several generations).
    pub concurrency: usize,
    /// Sandboxed test runs one process runs at once (they use whole cores).
    pub concurrent_tests: usize,
    pub heartbeat: Duration,
    pub missed_heartbeats: usize,
    /// The job queue's name; tests use their own.
    pub queue: String,
    pub test_timeout: Duration,
    pub dependency_cache: PathBuf,
    /// The longest a planner's or coder's attempt may wait on a model.
    pub model_step_timeout: Duration,
    /// Retries of a step that failed for a reason that may pass.
    pub transient_retries: usize,
    /// How often the scheduler looks for generations to admit when nobody wakes it.
    pub admission_interval: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            per_org_limit: 2,
            concurrency: 16,
            concurrent_tests: 2,
            heartbeat: Duration::from_secs(2),
            missed_heartbeats: 3,
            queue: "ql-generations".to_owned(),
            test_timeout: Duration::from_secs(300),
            model_step_timeout: Duration::from_secs(600),
            dependency_cache: ql_engine::deps::default_cache(),
            transient_retries: 3,
            admission_interval: Duration::from_millis(200),
        }
    }
}

/// What every step of this process shares.
pub(crate) struct Context {
    pub(crate) store: Store,
    pub(crate) publisher: Publisher,
    pub(crate) key: ql_capsule::InstallationKey,
    pub(crate) models: Arc<dyn crate::models::ModelSource>,
    pub(crate) settings: Settings,
    /// This process's worker name.
    pub(crate) worker: String,
    pub(crate) test_turns: Semaphore,
}

/// One coder's task: a module of a generation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeTask {
    pub ticket: Ticket,
    pub module: String,
}

/// A name no other live process has.
fn unique_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "host".to_owned());
    format!("ql-{host}-{}-{:08x}", std::process::id(), rand::random::<u32>())
}

async fn planner(context: &Context, ticket: Ticket) -> Result<Option<Ticket>, QueueError> {
    let planned = steps::run(context, &ticket, (Role::Planner, None), json!({}), || {
        agents::plan(context, &ticket)
    })
    .await?;
    Ok(planned.map(|_| ticket))
}

async fn architect(context: &Context, ticket: Option<Ticket>) -> Result<Vec<CodeTask>, QueueError> {
    let Some(ticket) = ticket else { return Ok(Vec::new()) };
    let modules = steps::run(context, &ticket, (Role::Architect, None), json!({}), || {
        agents::architect(context, &ticket)
    })
    .await?;
    Ok(modules
        .unwrap_or_default()
        .into_iter()
        .map(|module| CodeTask { ticket: ticket.clone(), module: module.name })
        .collect())
}

async fn coder(context: &Context, task: CodeTask) -> Result<Option<Ticket>, QueueError> {
    let CodeTask { ticket, module } = task;
    let input = json!({"module": module});
    let written = steps::run(context, &ticket, (Role::Coder, Some(&module)), input, || {
        agents::code(context, &ticket, &module)
    })
    .await?;
    Ok(written.map(|_| ticket))
}

async fn reviewer(context: &Context, tickets: Vec<Ticket>) -> Result<Option<Ticket>, QueueError> {
    // Every coder hands on the same ticket.
    let Some(ticket) = tickets.into_iter().next() else { return Ok(None) };
    let reviewed = steps::run(context, &ticket, (Role::Reviewer, None), json!({}), || {
        agents::review(context, &ticket)
    })
    .await?;
    Ok(reviewed.map(|_| ticket))
}

async fn tester(context: &Context, ticket: Option<Ticket>) -> Result<Option<Ticket>, QueueError> {
    let Some(ticket) = ticket else { return Ok(None) };
    let tested = steps::run(context, &ticket, (Role::Tester, None), json!({}), || {
        agents::test(context, &ticket)
    })
    .await?;
    Ok(tested.map(|_| ticket))
}

async fn packager(context: &Context, ticket: Option<Ticket>) -> Result<Option<String>, QueueError> {
    let Some(ticket) = ticket else { return Ok(None) };
    let packed = steps::run(context, &ticket, (Role::Packager, None), json!({}), || {
        agents::pack(context, &ticket)
    })
    .await?;
    let Some(packed) = packed else { return Ok(None) };
    agents::succeed(context, &ticket, &packed).await?;
    Ok(Some(packed.capsule_id))
}

/// The generation workflow: planner → architect → coders (one task per module, spread over
/// the workers) → reviewer → tester → packager. Each step is its own task in the queue.
macro_rules! generation_flow {
    ($context:expr) => {{
        let context: Arc<Context> = $context;
        let (planner_context, architect_context, coder_context) =
            (context.clone(), context.clone(), context.clone());
        let (reviewer_context, tester_context, packager_context) =
            (context.clone(), context.clone(), context);
        SteppedFlow::new("generation")
            .and_then(move |ticket: Ticket| {
                let context = planner_context.clone();
                async move { planner(&context, ticket).await }
            })
            .and_then(move |ticket: Option<Ticket>| {
                let context = architect_context.clone();
                async move { architect(&context, ticket).await }
            })
            .filter_map(move |task: CodeTask| {
                let context = coder_context.clone();
                async move { coder(&context, task).await }
            })
            .and_then(move |tickets: Vec<Ticket>| {
                let context = reviewer_context.clone();
                async move { reviewer(&context, tickets).await }
            })
            .and_then(move |ticket: Option<Ticket>| {
                let context = tester_context.clone();
                async move { tester(&context, ticket).await }
            })
            .and_then(move |ticket: Option<Ticket>| {
                let context = packager_context.clone();
                async move { packager(&context, ticket).await }
            })
    }};
}

/// Applies apalis's own migrations beside ours: its migration table is its own, so neither
/// set of migrations mistakes the other's for missing ones.
/// On PostgreSQL that table sits in apalis's schema, shared by every schema of ours.
fn queue_migrator(
    mut migrator: sqlx::migrate::Migrator,
    schema: Option<&'static str>,
) -> sqlx::migrate::Migrator {
    match schema {
        Some(schema) => {
            migrator.create_schema(schema);
            migrator.dangerous_set_table_name(format!("{schema}._ql_migrations"));
        }
        None => {
            migrator.dangerous_set_table_name("_apalis_migrations");
        }
    }
    migrator.set_ignore_missing(true);
    migrator
}

/// Runs a worker and a scheduler in this process until `shutdown` resolves.
pub async fn run(
    store: Store,
    publisher: Publisher,
    (key, models): (ql_capsule::InstallationKey, Arc<dyn crate::models::ModelSource>),
    settings: Settings,
    wake: Arc<Notify>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let name = unique_name();
    tracing::info!(worker = %name, queue = %settings.queue, "generation worker starting");
    let context = Arc::new(Context {
        store: store.clone(),
        publisher,
        key,
        models,
        test_turns: Semaphore::new(settings.concurrent_tests.max(1)),
        settings: settings.clone(),
        worker: name.clone(),
    });
    let signal = async move {
        shutdown.await;
        Ok::<(), std::io::Error>(())
    };
    match store.pool {
        Pool::Sqlite(pool) => {
            queue_migrator(SqliteStorage::migrations(), None)
                .run(&pool)
                .await
                .map_err(OrchestratorError::queue)?;
            let config = apalis_sqlite::Config::default()
                .queue(settings.queue.as_str())
                .batch_size(FETCH_BATCH)
                .heartbeat_interval(settings.heartbeat)
                .missed_heartbeats(settings.missed_heartbeats);
            let storage = SqliteStorage::<Ticket>::new(&pool).with_config(config);
            let push = storage.clone();
            let scheduler = tokio::spawn(schedule(context.clone(), wake, move |ticket| {
                let mut push = push.clone();
                async move { push.push_start(ticket).await.map_err(OrchestratorError::queue) }
            }));
            let worker = WorkerBuilder::new(name.as_str())
                .backend(storage)
                .concurrency(settings.concurrency)
                .build(generation_flow!(context));
            let ran = worker.run_until(signal).await;
            scheduler.abort();
            ran.map_err(OrchestratorError::queue)
        }
        Pool::Postgres(pool) => {
            // apalis's migrations create these where the search path begins; in `public`
            // every schema of ours sees them. Processes starting together on a fresh
            // database would race to create them (a unique violation): one at a time.
            let mut tx = pool.begin().await.map_err(OrchestratorError::queue)?;
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('ql_extensions'))")
                .execute(&mut *tx)
                .await
                .map_err(OrchestratorError::queue)?;
            for extension in ["hstore", "pgcrypto"] {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "CREATE EXTENSION IF NOT EXISTS {extension} WITH SCHEMA public"
                )))
                .execute(&mut *tx)
                .await
                .map_err(OrchestratorError::queue)?;
            }
            tx.commit().await.map_err(OrchestratorError::queue)?;
            queue_migrator(PostgresStorage::<()>::migrations(), Some("apalis"))
                .run(&pool)
                .await
                .map_err(OrchestratorError::queue)?;
            let config = apalis_postgres::Config::default()
                .queue(settings.queue.as_str())
                .batch_size(FETCH_BATCH)
                .heartbeat_interval(settings.heartbeat)
                .missed_heartbeats(settings.missed_heartbeats);
            let storage = PostgresStorage::<Ticket>::new(&pool).with_config(config);
            let push = storage.clone();
            let scheduler = tokio::spawn(schedule(context.clone(), wake, move |ticket| {
                let mut push = push.clone();
                async move { push.push_start(ticket).await.map_err(OrchestratorError::queue) }
            }));
            let worker = WorkerBuilder::new(name.as_str())
                .backend(storage)
                .concurrency(settings.concurrency)
                .build(generation_flow!(context));
            let ran = worker.run_until(signal).await;
            scheduler.abort();
            ran.map_err(OrchestratorError::queue)
        }
    }
}

/// Tasks a worker takes from the queue at a time: few, so that idle workers elsewhere get
/// the rest and a killed worker strands little until its tasks are orphaned.
const FETCH_BATCH: usize = 2;

/// How long an admitted generation may stay unqueued before the sweep queues it again.
const UNQUEUED_GRACE_MS: i64 = 10_000;

/// Admits generations while their organisations have room, and queues their workflows.
async fn schedule<P, Fut>(context: Arc<Context>, wake: Arc<Notify>, push: P)
where
    P: Fn(Ticket) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let generations = &context.store.generations;
    let mut last_sweep: Option<Instant> = None;
    loop {
        loop {
            match generations.admit_next(context.settings.per_org_limit).await {
                Ok(Some(generation)) => {
                    let started = json!({"worker": context.worker});
                    let published = context
                        .publisher
                        .publish(
                            &generation.organization_id,
                            &generation.id,
                            kind::STARTED,
                            started,
                        )
                        .await;
                    if let Err(error) = published {
                        tracing::warn!(%error, "cannot record a generation's start");
                    }
                    dispatch(&context, &push, &generation).await;
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(%error, "cannot admit generations");
                    break;
                }
            }
        }
        if last_sweep.is_none_or(|at| at.elapsed() > Duration::from_secs(5)) {
            last_sweep = Some(Instant::now());
            match generations.undispatched(now_millis() - UNQUEUED_GRACE_MS).await {
                Ok(stranded) => {
                    for generation in &stranded {
                        dispatch(&context, &push, generation).await;
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot look for unqueued generations"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(context.settings.admission_interval) => {}
            () = wake.notified() => {}
        }
    }
}

async fn dispatch<P, Fut>(context: &Context, push: &P, generation: &Generation)
where
    P: Fn(Ticket) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let ticket =
        Ticket { org: generation.organization_id.0.clone(), generation: generation.id.0.clone() };
    match push(ticket).await {
        Ok(()) => {
            if let Err(error) = context
                .store
                .generations
                .mark_dispatched(&generation.organization_id, &generation.id)
                .await
            {
                tracing::warn!(%error, "cannot record a queued workflow");
            }
        }
        Err(error) => tracing::warn!(%error, "cannot queue a generation's workflow"),
    }
}
