//! Generations: one run from a description to a capsule, queued for a project, and the
//! numbered events it produces, replayable from any point.

use async_trait::async_trait;

use crate::{
    Actor, Generation, GenerationEvent, GenerationId, GenerationOutcome, GenerationStep,
    NewGeneration, NewStep, OrgId, ProjectId, Result, StepStart,
};

/// Most events one read answers.
pub const MAX_EVENTS_PER_READ: i64 = 1000;

#[async_trait]
pub trait GenerationStore: Send + Sync {
    /// Queues a generation for one of the actor's organisation's projects, with its first event
    /// (`queued`, with its place in line) in the same transaction; audited.
    async fn create(
        &self,
        actor: &Actor,
        project: &ProjectId,
        generation: NewGeneration,
    ) -> Result<Generation>;

    /// A generation of the organisation; `NotFound` for another organisation's.
    async fn get(&self, org: &OrgId, id: &GenerationId) -> Result<Generation>;

    /// Appends an event numbered one after the generation's last (1 for the first): never a
    /// gap, never a repeat, whoever appends at the same time.
    async fn append_event(
        &self,
        org: &OrgId,
        id: &GenerationId,
        kind: &str,
        data: &str,
    ) -> Result<GenerationEvent>;

    /// The generation's events numbered above `after` (0 for all), in order, at most `limit`
    /// (capped at [`MAX_EVENTS_PER_READ`]).
    async fn events_since(
        &self,
        org: &OrgId,
        id: &GenerationId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<GenerationEvent>>;

    /// The organisation's generations, newest first, at most `limit` (capped at 200).
    async fn list(&self, org: &OrgId, limit: i64) -> Result<Vec<Generation>>;

    /// The scheduler's call, across organisations by design: the oldest queued generation
    /// whose organisation runs fewer than `per_org_limit` becomes `running`, or `None`.
    async fn admit_next(&self, per_org_limit: i64) -> Result<Option<Generation>>;

    /// Records that a running generation's workflow is in the job queue.
    async fn mark_dispatched(&self, org: &OrgId, id: &GenerationId) -> Result<()>;

    /// Running generations admitted before `before` whose workflow was never recorded as
    /// queued (the admitting process died in between), across organisations.
    async fn undispatched(&self, before: i64) -> Result<Vec<Generation>>;

    /// Marks as never queued the running generations whose workflow looks lost: handed to
    /// the job queue before `quiet_since`, no step running and no event since then (a worker
    /// that died between two steps, a fan-in that gave up), across organisations — like
    /// [`Self::undispatched`], a sweep of the whole installation that returns only a count.
    /// That sweep then queues them again; finished steps are not run twice.
    async fn release_stalled(&self, quiet_since: i64) -> Result<u64>;

    /// 1 for the next generation of the organisation to start; `None` unless queued.
    async fn queue_position(&self, org: &OrgId, id: &GenerationId) -> Result<Option<i64>>;

    /// Cancels a queued or running generation, recording who, with its final `cancelled`
    /// event in the same transaction; audited. `Conflict` when it had already finished.
    async fn cancel(&self, actor: &Actor, id: &GenerationId) -> Result<Generation>;

    /// Keeps the spec (JSON) the planner wrote.
    async fn set_spec(&self, org: &OrgId, id: &GenerationId, spec: &str) -> Result<()>;

    /// Ends a running generation and appends its final event (`succeeded` or `failed`, with
    /// `event_data`) in the same transaction, so the event exists exactly when the ending
    /// does; `None` (and no change) when it was not running, as when it was cancelled.
    async fn finish(
        &self,
        org: &OrgId,
        id: &GenerationId,
        outcome: &GenerationOutcome,
        event_data: &str,
    ) -> Result<Option<GenerationEvent>>;

    /// Begins a step: [`StepStart::Done`] with its output when it succeeded before (it must not
    /// run again), else it is marked running with one more attempt and an event of
    /// `started_kind` (`{"step", "role", "attempt", "worker"}`) is appended in the same
    /// transaction.
    async fn begin_step(
        &self,
        org: &OrgId,
        id: &GenerationId,
        step: &NewStep,
        started_kind: &str,
    ) -> Result<StepStart>;

    /// Ends the step's running `attempt` with its output (JSON) or its error, appending the
    /// event `(kind, data)` in the same transaction: `true`. `false` (and nothing changed) when
    /// that attempt is no longer the running one — another worker took the step over.
    async fn finish_step(
        &self,
        org: &OrgId,
        id: &GenerationId,
        step: &str,
        attempt: i64,
        result: std::result::Result<&str, &str>,
        event: (&str, &str),
    ) -> Result<bool>;

    /// The generation's steps in order.
    async fn steps(&self, org: &OrgId, id: &GenerationId) -> Result<Vec<GenerationStep>>;
}
