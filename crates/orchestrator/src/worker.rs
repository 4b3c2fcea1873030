//! Workers: one apalis worker per process runs the generation workflow's tasks, beside a
//! scheduler that admits queued generations within each organisation's limit and hands their
//! workflows to the job queue.
//!
//! **Timeouts, on purpose.** A worker beats every [`Settings::heartbeat`] (2 s); after
//! [`Settings::missed_heartbeats`] (3) missed beats — 6 s — any other worker takes its tasks
//! over (apalis's orphan recovery), so a step killed mid-way runs again about 6 s later. Each
//! process names its worker uniquely (host, pid, random), since apalis refuses a name that is
//! still registered. A scheduler that died between admitting a generation and queueing its
//! workflow is covered by a sweep that queues again what stayed unqueued for 10 s; a workflow
//! lost on the way (a fan-in that gave up, a task acknowledged but never followed) shows as a
//! running generation with no step running and nothing said for [`Settings::stall_after`]
//! (2 min), and is queued again the same way — finished steps are reused, not re-run. A
//! worker that apalis stops (it gives up at the first failed heartbeat) is replaced. A
//! fan-in waits for its coders in a slot only while another slot is free, or
//! [`crate::fan_in::HOLD`] (2 s) once all are taken, then gives the slot up and looks again
//! later, so waiting fan-ins never starve their coders.

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
use crate::fan_in::PatientFanIn;
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
    /// How long a running generation may go with no step running and nothing said before
    /// its workflow is taken for lost and queued again.
    pub stall_after: Duration,
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
            stall_after: Duration::from_secs(120),
        }
    }
}

/// What every step of this process shares.
pub(crate) struct Context {
    pub(crate) store: Store,
    pub(crate) publisher: Publisher,
    pub(crate) key: Arc<ql_capsule::InstallationKey>,
    pub(crate) models: Arc<dyn crate::models::ModelSource>,
    pub(crate) settings: Settings,
    /// This process's worker name.
    pub(crate) worker: String,
    pub(crate) test_turns: Arc<Semaphore>,
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

/// Runs a worker and a scheduler in this process until `shutdown` resolves. A worker that
/// stops on its own — apalis gives up on the first failed heartbeat or acknowledgement, say
/// when the database was locked or restarting — is replaced by a new one (a new name, so the
/// old one's tasks are taken over as orphans), after a pause that grows while it keeps failing.
pub async fn run(
    store: Store,
    publisher: Publisher,
    (key, models): (ql_capsule::InstallationKey, Arc<dyn crate::models::ModelSource>),
    settings: Settings,
    wake: Arc<Notify>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    prepare_queue(&store.pool).await?;
    let key = Arc::new(key);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let test_turns = Arc::new(Semaphore::new(settings.concurrent_tests.max(1)));
    let mut pauses = restart_pauses();
    loop {
        let name = unique_name();
        tracing::info!(worker = %name, queue = %settings.queue, "generation worker starting");
        let context = Arc::new(Context {
            store: store.clone(),
            publisher: publisher.clone(),
            key: key.clone(),
            models: models.clone(),
            test_turns: test_turns.clone(),
            settings: settings.clone(),
            worker: name.clone(),
        });
        let started = Instant::now();
        let ran =
            run_one(&store.pool, context, wake.clone(), stop_requested(stopped.clone())).await;
        if *stopped.borrow() {
            return ran;
        }
        if started.elapsed() > HEALTHY_RUN {
            pauses = restart_pauses();
        }
        let pause = pauses.next().unwrap_or(MAX_RESTART_PAUSE);
        match ran {
            Ok(()) => {
                tracing::warn!(worker = %name, ?pause, "the generation worker stopped unasked; starting another")
            }
            Err(error) => {
                tracing::error!(%error, worker = %name, ?pause, "the generation worker failed; starting another")
            }
        }
        let mut stopping = stopped.clone();
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = stopping.wait_for(|stop| *stop) => return Ok(()),
        }
    }
}

/// A worker that ran this long was healthy: the next failure pauses briefly again.
const HEALTHY_RUN: Duration = Duration::from_secs(60);
const MAX_RESTART_PAUSE: Duration = Duration::from_secs(30);

fn restart_pauses() -> impl Iterator<Item = Duration> {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(500))
        .with_max_delay(MAX_RESTART_PAUSE)
        .without_max_times()
        .with_jitter()
        .build()
}

/// Resolves when the process is asked to stop, in the form apalis takes.
async fn stop_requested(mut stopped: tokio::sync::watch::Receiver<bool>) -> std::io::Result<()> {
    // A dropped sender means nobody can ask any more: keep running.
    if stopped.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
    Ok(())
}

/// The job queue's tables, created or brought up to date once per process.
async fn prepare_queue(pool: &Pool) -> Result<()> {
    match pool {
        Pool::Sqlite(pool) => queue_migrator(SqliteStorage::migrations(), None)
            .run(pool)
            .await
            .map_err(OrchestratorError::queue),
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
                .run(pool)
                .await
                .map_err(OrchestratorError::queue)
        }
    }
}

/// Runs an apalis worker on `storage` (either backend's) beside the scheduler that feeds it.
macro_rules! run_on_storage {
    ($storage:expr, $context:expr, $wake:expr, $signal:expr) => {{
        let (storage, context) = ($storage, $context);
        let push = storage.clone();
        // A set, so that the scheduler stops with the worker however this future ends.
        let mut scheduler = tokio::task::JoinSet::new();
        scheduler.spawn(schedule(context.clone(), $wake, move |ticket| {
            let mut push = push.clone();
            async move { push.push_start(ticket).await.map_err(OrchestratorError::queue) }
        }));
        let worker = WorkerBuilder::new(context.worker.as_str())
            .backend(storage.clone())
            .concurrency(context.settings.concurrency)
            .layer(PatientFanIn::new(storage, context.settings.concurrency))
            .build(generation_flow!(context.clone()));
        let ran = worker.run_until($signal).await;
        scheduler.abort_all();
        ran.map_err(OrchestratorError::queue)
    }};
}

/// One apalis worker and the scheduler beside it, until `signal` or the worker's first error.
async fn run_one(
    pool: &Pool,
    context: Arc<Context>,
    wake: Arc<Notify>,
    signal: impl std::future::Future<Output = std::io::Result<()>> + Send + 'static,
) -> Result<()> {
    let settings = &context.settings;
    match pool {
        Pool::Sqlite(pool) => {
            let config = apalis_sqlite::Config::default()
                .queue(settings.queue.as_str())
                .batch_size(FETCH_BATCH)
                .heartbeat_interval(settings.heartbeat)
                .missed_heartbeats(settings.missed_heartbeats);
            let storage = SqliteStorage::<Ticket>::new(pool).with_config(config);
            run_on_storage!(storage, context, wake, signal)
        }
        Pool::Postgres(pool) => {
            let config = apalis_postgres::Config::default()
                .queue(settings.queue.as_str())
                .batch_size(FETCH_BATCH)
                .heartbeat_interval(settings.heartbeat)
                .missed_heartbeats(settings.missed_heartbeats);
            let storage = PostgresStorage::<Ticket>::new(pool).with_config(config);
            run_on_storage!(storage, context, wake, signal)
        }
    }
}

/// Tasks a worker takes from the queue at a time: few, so that idle workers elsewhere get
/// the rest and a killed worker strands little until its tasks are orphaned.
const FETCH_BATCH: usize = 2;

/// How often the scheduler looks for generations whose workflow is not in the queue.
const SWEEP_INTERVAL: Duration = Duration::from_secs(5);

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
        if last_sweep.is_none_or(|at| at.elapsed() > SWEEP_INTERVAL) {
            last_sweep = Some(Instant::now());
            let quiet_since = now_millis() - context.settings.stall_after.as_millis() as i64;
            match generations.release_stalled(quiet_since).await {
                Ok(0) => {}
                Ok(count) => tracing::warn!(
                    count,
                    "generations went quiet with no step running; queueing their workflows again"
                ),
                Err(error) => tracing::warn!(%error, "cannot look for stalled generations"),
            }
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
