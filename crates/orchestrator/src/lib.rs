//! The orchestrator: a generation is a durable workflow of steps on apalis (SQLite or
//! PostgreSQL, the store's own database), each step run by an agent with one role — planner,
//! architect, coders fanned out per module, reviewer, tester, packager. Steps record their
//! input, output, attempts and times in the store; a step that succeeded never runs again, a
//! step killed mid-way runs again on another worker, and a generation packs exactly one
//! capsule. Everything that happens is a numbered event (`events`), stored before it is
//! announced, so subscribers replay from any number with no gap and no repeat.

mod agents;
mod error;
pub mod events;
mod fan_in;
pub mod models;
mod steps;
mod worker;
mod writing;

use std::sync::Arc;

use tokio::sync::Notify;

use ql_store::{Actor, Generation, GenerationId, NewGeneration, OrgId, ProjectId, Store};

pub use agents::{Coded, Packed, Planned, Tested};
pub use error::{OrchestratorError, Result};
pub use events::{EventHub, Publisher};
pub use models::{BUILTIN, ModelSource, ModelUse, NoModels};
pub use steps::{Role, Ticket};
pub use worker::{CodeTask, Settings};

/// Submits, cancels and runs generations; one per process, shared by its web server and
/// its workers.
#[derive(Clone)]
pub struct Orchestrator {
    store: Store,
    publisher: Publisher,
    settings: Settings,
    /// Wakes this process's scheduler when a generation is submitted here.
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Orchestrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orchestrator").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Orchestrator {
    pub fn new(store: Store, settings: Settings) -> Self {
        let publisher = Publisher::new(store.clone(), EventHub::default());
        Self { store, publisher, settings, wake: Arc::new(Notify::new()) }
    }

    /// The announcements of new events in this process, for subscribers.
    pub fn hub(&self) -> &EventHub {
        &self.publisher.hub
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Queues a generation for a project (the caller has checked the input); its first event
    /// says where it stands in its organisation's queue.
    pub async fn submit(
        &self,
        actor: &Actor,
        project: &ProjectId,
        new: NewGeneration,
    ) -> Result<Generation> {
        // The store writes its `queued` event with it.
        let generation = self.store.generations.create(actor, project, new).await?;
        self.publisher.announce(&generation.id);
        self.wake.notify_one();
        Ok(generation)
    }

    /// Cancels a queued or running generation; a running step stops within a second.
    pub async fn cancel(&self, actor: &Actor, id: &GenerationId) -> Result<Generation> {
        let cancelled = self.store.generations.cancel(actor, id).await?;
        self.publisher.announce(id);
        self.wake.notify_one();
        Ok(cancelled)
    }

    /// Where a queued generation stands in its organisation's queue (1 is next).
    pub async fn queue_position(&self, org: &OrgId, id: &GenerationId) -> Result<Option<i64>> {
        Ok(self.store.generations.queue_position(org, id).await?)
    }

    /// Runs a worker and the scheduler in this process until `shutdown` resolves.
    /// Generations on a model other than `builtin` find it through `models`.
    pub async fn run_worker(
        &self,
        key: ql_capsule::InstallationKey,
        models: Arc<dyn ModelSource>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        worker::run(
            self.store.clone(),
            self.publisher.clone(),
            (key, models),
            self.settings.clone(),
            self.wake.clone(),
            shutdown,
        )
        .await
    }

    /// Relays other processes' events to this one's subscribers (PostgreSQL); runs forever.
    pub async fn listen(&self) {
        self.hub().clone().listen(self.store.clone()).await
    }
}
