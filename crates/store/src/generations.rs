//! Generations: one run from a description to a capsule, queued for a project, and the
//! numbered events it produces, replayable from any point.

use async_trait::async_trait;

use crate::{
    Actor, Generation, GenerationEvent, GenerationId, NewGeneration, OrgId, ProjectId, Result,
};

/// Most events one read answers.
pub const MAX_EVENTS_PER_READ: i64 = 1000;

#[async_trait]
pub trait GenerationStore: Send + Sync {
    /// Queues a generation for one of the actor's organisation's projects; audited.
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
}
