//! A generation's events: stored with their number first, then announced, so a subscriber
//! that hears of one reads everything up to it from the store — no gap, no repeat, whichever
//! process wrote it. In one process the announcement is a broadcast; across processes on
//! PostgreSQL it is a `NOTIFY` that [`EventHub::listen`] turns back into the broadcast.

use serde_json::Value;
use tokio::sync::broadcast;

use ql_store::{GenerationId, OrgId, Pool, Store};

use crate::Result;

/// The PostgreSQL channel events are announced on; the payload is the generation id.
pub const NOTIFY_CHANNEL: &str = "ql_generation_events";

/// The kinds of event, as subscribers see them in the stream's `event:` field.
pub mod kind {
    pub const QUEUED: &str = "queued";
    pub const STARTED: &str = "started";
    pub const STEP_STARTED: &str = "step_started";
    pub const STEP_FINISHED: &str = "step_finished";
    pub const STEP_FAILED: &str = "step_failed";
    pub const SPEC: &str = "spec";
    pub const PLAN: &str = "plan";
    pub const FILE_WRITTEN: &str = "file_written";
    pub const FINDING: &str = "finding";
    pub const TESTS: &str = "tests";
    pub const CAPSULE: &str = "capsule";
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
    pub const CANCELLED: &str = "cancelled";

    /// Kinds after which nothing more happens.
    pub const FINAL: [&str; 3] = [SUCCEEDED, FAILED, CANCELLED];
}

/// Announces which generation has new events, to every subscriber in this process.
#[derive(Debug, Clone)]
pub struct EventHub {
    sender: broadcast::Sender<GenerationId>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self { sender: broadcast::channel(4096).0 }
    }
}

impl EventHub {
    /// Hears of every generation with new events from now on. A receiver that falls behind
    /// is told it lagged; it then reads the store, which loses nothing.
    pub fn subscribe(&self) -> broadcast::Receiver<GenerationId> {
        self.sender.subscribe()
    }

    pub(crate) fn announce(&self, generation: &GenerationId) {
        // No subscriber is not an error: the events are stored.
        let _ = self.sender.send(generation.clone());
    }

    /// On PostgreSQL, turns other processes' `NOTIFY`s into announcements here, reconnecting
    /// after a lost connection; returns at once on SQLite (one process's events only, which
    /// subscribers complete by reading the store now and then).
    pub async fn listen(self, store: Store) {
        let Pool::Postgres(pool) = store.pool else { return };
        loop {
            match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(mut listener) => {
                    if let Err(error) = listener.listen(NOTIFY_CHANNEL).await {
                        tracing::warn!(%error, "cannot listen for generation events");
                    } else {
                        loop {
                            match listener.recv().await {
                                Ok(notification) => {
                                    self.announce(&GenerationId(notification.payload().to_owned()))
                                }
                                Err(error) => {
                                    tracing::warn!(%error, "generation event listener lost");
                                    break;
                                }
                            }
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot connect the event listener"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}

/// Stores and announces events.
#[derive(Debug, Clone)]
pub struct Publisher {
    pub(crate) store: Store,
    pub(crate) hub: EventHub,
}

impl Publisher {
    pub fn new(store: Store, hub: EventHub) -> Self {
        Self { store, hub }
    }

    /// Appends the event (numbered after the last), then announces it here and, on
    /// PostgreSQL, to every other process.
    pub async fn publish(
        &self,
        org: &OrgId,
        generation: &GenerationId,
        kind: &str,
        data: Value,
    ) -> Result<i64> {
        let event =
            self.store.generations.append_event(org, generation, kind, &data.to_string()).await?;
        self.announce(generation).await;
        Ok(event.seq)
    }

    /// Tells subscribers here and, on PostgreSQL, in every other process that the generation
    /// has new events (for events the store appended itself, such as a final one).
    pub async fn announce(&self, generation: &GenerationId) {
        self.hub.announce(generation);
        if let Pool::Postgres(pool) = &self.store.pool {
            let notified = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(NOTIFY_CHANNEL)
                .bind(&generation.0)
                .execute(pool)
                .await;
            if let Err(error) = notified {
                // The event is stored; subscribers elsewhere read it on their next look.
                tracing::warn!(%error, "cannot announce a generation event");
            }
        }
    }
}
