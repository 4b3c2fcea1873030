//! Fan-ins that wait without holding a worker slot.
//!
//! apalis-workflow's `filter_map` fans the coders out as tasks of their own and then queues a
//! *collector*, a task that waits until every coder has finished and hands their results to
//! the next step. It waits inside a worker slot. Collectors can end up holding every slot
//! while the coders they wait for sit in the queue: a coder orphaned by a dead worker comes
//! back only after its collector took the last free slot, or many generations reach their
//! fan-in at once. Nothing would ever run again.
//!
//! [`PatientFanIn`] lets a collector wait in its slot only while its worker has another slot
//! free (that slot takes the coders), or for [`HOLD`] once every slot is taken, and for a
//! minute at most. If its coders have not all finished by then, it is queued again to look
//! later (1 s, then 2, 4, up to 8 s later), and its slot goes to other work. The queue hands out the oldest task first, so
//! the coders it waits for come before it. A collector still waiting after [`GIVE_UP`] ends:
//! its generation then has nothing running and nothing to say, and the stall sweep queues
//! its workflow again (finished steps are reused).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use apalis::prelude::{Task, TaskBuilder, TaskId, WaitForCompletion};
use apalis_core::backend::BackendConfig;
use apalis_core::error::BoxDynError;
use apalis_core::task::task_id::GenerateId;
use apalis_workflow::sequential::filter_map::FilterState;
use apalis_workflow::sequential::{GoTo, StepResponse};
use futures::future::BoxFuture;
use futures::{FutureExt, Sink, SinkExt};
use serde::de::IgnoredAny;

use ql_store::now_millis;

/// The longest a collector waits in its slot when the worker has no other slot free.
pub(crate) const HOLD: Duration = Duration::from_secs(2);
/// The longest a collector waits in its slot at all.
const HOLD_AT_MOST: Duration = Duration::from_secs(60);
/// How often a collector in its slot looks at its coders: soon at first (coders on the
/// built-in engine take milliseconds), then less and less often, down to every 100 ms.
const FIRST_LOOK_AFTER: Duration = Duration::from_millis(5);
const LOOK_AT_MOST_EVERY: Duration = Duration::from_millis(100);
/// The longest pause before a collector that gave its slot up looks again.
const MAX_PAUSE: Duration = Duration::from_secs(8);
/// How long a collector keeps coming back: longer than every attempt of a coder on a model.
pub(crate) const GIVE_UP: Duration = Duration::from_secs(3_600);

/// apalis-workflow's metadata key for the ids of the tasks a collector waits for.
const CHILDREN_KEY: &str = "apalis_workflow.filter.task_ids";
/// Our metadata: how many times a collector gave its slot up, and when it began to wait.
const LOOKS_KEY: &str = "ql.fan_in.looks";
const SINCE_KEY: &str = "ql.fan_in.since_ms";

/// The layer, around the workflow's service; `backend` is the queue's storage and `slots`
/// the worker's concurrency.
#[derive(Clone)]
pub(crate) struct PatientFanIn<B> {
    backend: B,
    slots: usize,
}

impl<B> PatientFanIn<B> {
    pub(crate) fn new(backend: B, slots: usize) -> Self {
        Self { backend, slots: slots.max(1) }
    }
}

impl<S, B: Clone> tower::Layer<S> for PatientFanIn<B> {
    type Service = PatientFanInService<S, B>;

    fn layer(&self, inner: S) -> Self::Service {
        PatientFanInService {
            inner,
            backend: self.backend.clone(),
            slots: self.slots,
            running: Arc::new(AtomicUsize::new(0)),
        }
    }
}

#[derive(Clone)]
pub(crate) struct PatientFanInService<S, B> {
    inner: S,
    backend: B,
    slots: usize,
    /// Tasks of this worker running now, collectors included.
    running: Arc<AtomicUsize>,
}

/// Counts a task as running until it ends, however it ends.
struct Running(Arc<AtomicUsize>);

impl Running {
    fn start(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Self(count.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

type Compact = Vec<u8>;

impl<S, B> tower::Service<Task<Compact>> for PatientFanInService<S, B>
where
    S: tower::Service<Task<Compact>, Response = GoTo<StepResponse>, Error = BoxDynError>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: WaitForCompletion<IgnoredAny>
        + Sink<Task<Compact>, Error = <B as apalis::prelude::Backend>::Error>
        + BackendConfig
        + Clone
        + Send
        + Unpin
        + 'static,
    <B as apalis::prelude::Backend>::Error: std::error::Error + Send + Sync + 'static,
    B::Id: GenerateId,
{
    type Response = GoTo<StepResponse>;
    type Error = BoxDynError;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, task: Task<Compact>) -> Self::Future {
        let running = Running::start(&self.running);
        let Some(children) = children_of_collector(&task) else {
            let step = self.inner.call(task);
            return async move {
                let _running = running;
                step.await
            }
            .boxed();
        };
        // The service that was made ready goes with the task; a clone takes its place.
        let fresh = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, fresh);
        let mut backend = self.backend.clone();
        let (count, slots) = (self.running.clone(), self.slots);
        let worker_full = move || count.load(Ordering::Acquire) >= slots;
        async move {
            let _running = running;
            if all_finish(&mut backend, &children, worker_full).await {
                return ready.call(task).await;
            }
            look_again_later::<B>(&mut backend, &task).await?;
            Ok(GoTo::Done)
        }
        .boxed()
    }
}

/// The tasks a collector waits for, or `None` for any other task.
fn children_of_collector(task: &Task<Compact>) -> Option<Vec<TaskId>> {
    let metadata = task.ctx().metadata();
    if !matches!(metadata.extract_as::<FilterState>(), Ok(FilterState::Collector)) {
        return None;
    }
    let ids = metadata.get(CHILDREN_KEY)?;
    if ids.is_empty() {
        return Some(Vec::new());
    }
    // Ids we cannot read: the collector waits its own way, as it would without this layer.
    ids.split(',').map(|id| TaskId::from_str(id).ok()).collect()
}

/// Whether every task in `children` finishes while the collector may hold its slot: as long
/// as the worker has a free slot (which takes the coders when they come back to the queue),
/// otherwise [`HOLD`], and never more than [`HOLD_AT_MOST`]. A failed look counts as "not
/// yet": the collector comes back later.
async fn all_finish<B>(backend: &mut B, children: &[TaskId], worker_full: impl Fn() -> bool) -> bool
where
    B: WaitForCompletion<IgnoredAny>,
    B::Error: std::fmt::Display,
{
    let started = Instant::now();
    let mut pause = FIRST_LOOK_AFTER;
    loop {
        match backend.check_status(children.to_vec()).await {
            Ok(finished) if finished.len() >= children.len() => return true,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "cannot look at a fan-in's coders");
                return false;
            }
        }
        let held = started.elapsed();
        if held >= HOLD_AT_MOST || (held >= HOLD && worker_full()) {
            return false;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LOOK_AT_MOST_EVERY);
    }
}

/// Queues a copy of the collector to look again after a pause that grows each time; a
/// collector that has waited [`GIVE_UP`] is not queued again.
async fn look_again_later<B>(backend: &mut B, task: &Task<Compact>) -> Result<(), BoxDynError>
where
    B: Sink<Task<Compact>> + BackendConfig + Unpin,
    B::Id: GenerateId,
    <B as Sink<Task<Compact>>>::Error: std::error::Error + Send + Sync + 'static,
{
    let mut metadata = task.ctx().metadata().clone();
    let looks: u32 = metadata.get(LOOKS_KEY).and_then(|n| n.parse().ok()).unwrap_or(0);
    let now = now_millis();
    let since: i64 = metadata.get(SINCE_KEY).and_then(|ms| ms.parse().ok()).unwrap_or(now);
    if now - since > GIVE_UP.as_millis() as i64 {
        tracing::warn!(
            waited_s = (now - since) / 1_000,
            "a fan-in's coders never finished; leaving the generation to the stall sweep"
        );
        return Ok(());
    }
    metadata.replace(LOOKS_KEY, (looks + 1).to_string());
    metadata.replace(SINCE_KEY, since.to_string());
    let again = TaskBuilder::new(task.args.clone())
        .with_metadata(metadata)
        .task_id(B::Id::generate())
        .run_after(pause_after(looks))
        .build();
    backend.send(again).await?;
    Ok(())
}

/// 1 s after the first time a collector gives its slot up, then 2, 4 and 8 s.
fn pause_after(looks: u32) -> Duration {
    Duration::from_secs(1u64 << looks.min(3)).min(MAX_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_to_a_ceiling() {
        let pauses: Vec<u64> = (0..6).map(|looks| pause_after(looks).as_secs()).collect();
        assert_eq!(pauses, [1, 2, 4, 8, 8, 8]);
    }

    fn task_with(metadata: &[(&str, &str)]) -> Task<Compact> {
        let store = apalis::prelude::MetadataStore::from_map(
            metadata.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect(),
        );
        TaskBuilder::new(Vec::new()).with_metadata(store).build()
    }

    #[test]
    fn only_collectors_are_recognised_with_the_tasks_they_wait_for() {
        let a = TaskId::from_str("01JDW5Y3T3P6Z7QH1Q3V8D6W9K").expect("ulid");
        let b = TaskId::from_str("01JDW5Y3T3P6Z7QH1Q3V8D6W9M").expect("ulid");
        let both = format!("{a},{b}");
        type Metadata<'a> = Vec<(&'a str, &'a str)>;
        let cases: Vec<(Metadata, Option<Vec<TaskId>>)> = vec![
            (vec![], None),
            (vec![("apalis_workflow.filter.state", "SingleStep"), (CHILDREN_KEY, &both)], None),
            (
                vec![("apalis_workflow.filter.state", "Collector"), (CHILDREN_KEY, &both)],
                Some(vec![a, b]),
            ),
            (vec![("apalis_workflow.filter.state", "Collector"), (CHILDREN_KEY, "")], Some(vec![])),
            (vec![("apalis_workflow.filter.state", "Collector"), (CHILDREN_KEY, "what,")], None),
            (vec![("apalis_workflow.filter.state", "Collector")], None),
        ];
        for (metadata, expected) in cases {
            assert_eq!(children_of_collector(&task_with(&metadata)), expected, "{metadata:?}");
        }
    }
}
