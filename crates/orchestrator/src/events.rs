//! A generation's events: stored with their number first, then announced, so a subscriber
//! that hears of one reads everything up to it from the store — no gap, no repeat, whichever
//! process wrote it. In one process the announcement is a broadcast; across processes on
//! PostgreSQL it is a `NOTIFY` sent by a trigger when the insert commits, which
//! [`EventHub::listen`] turns back into the broadcast, and on
//! SQLite (no `NOTIFY`) a watch over the tail of the events table every
//! [`SQLITE_WATCH_INTERVAL`].

use serde_json::Value;
use tokio::sync::broadcast;

use ql_store::{GenerationId, OrgId, Pool, Store};

use crate::Result;

/// The PostgreSQL channel events are announced on; the payload is the generation id.
pub const NOTIFY_CHANNEL: &str = "ql_generation_events";

/// How often a process serving streams on SQLite looks for events other processes appended.
pub const SQLITE_WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(10);

/// The kinds of event, as subscribers see them in the stream's `event:` field.
pub mod kind {
    pub const QUEUED: &str = "queued";
    pub const STARTED: &str = "started";
    pub const STEP_STARTED: &str = "step_started";
    pub const STEP_FINISHED: &str = "step_finished";
    pub const STEP_FAILED: &str = "step_failed";
    pub const SPEC: &str = "spec";
    pub const PLAN: &str = "plan";
    /// More of a file's text as a model writes it: `{module, path, offset, text}`.
    pub const FILE_DELTA: &str = "file_delta";
    pub const FILE_WRITTEN: &str = "file_written";
    pub const FINDING: &str = "finding";
    /// One test of the project's suite and its outcome.
    pub const TEST_RESULT: &str = "test_result";
    /// The test run's summary (counts, coverage, time).
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

    /// Turns other processes' events into announcements here, for as long as the process
    /// runs: `NOTIFY`s on PostgreSQL (reconnecting after a lost connection), a watch over the
    /// events table's tail on SQLite (while anyone here subscribes).
    pub async fn listen(self, store: Store) {
        match store.pool {
            Pool::Postgres(pool) => self.listen_postgres(pool).await,
            Pool::Sqlite(pool) => self.watch_sqlite(pool).await,
        }
    }

    async fn watch_sqlite(self, pool: sqlx::SqlitePool) {
        let mut cursor = None;
        let mut ticks = tokio::time::interval(SQLITE_WATCH_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if self.sender.receiver_count() == 0 {
                // Nobody to tell: start again from the end when someone subscribes.
                cursor = None;
                continue;
            }
            let from = match cursor {
                Some(from) => from,
                None => match ql_store::event_tail_end(&pool).await {
                    Ok(end) => end,
                    Err(error) => {
                        tracing::warn!(%error, "cannot watch generation events");
                        continue;
                    }
                },
            };
            match ql_store::events_appended_after(&pool, from).await {
                Ok((generations, next)) => {
                    for generation in &generations {
                        self.announce(generation);
                    }
                    cursor = Some(next);
                }
                Err(error) => tracing::warn!(%error, "cannot watch generation events"),
            }
        }
    }

    async fn listen_postgres(self, pool: sqlx::PgPool) {
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
        self.announce(generation);
        Ok(event.seq)
    }

    /// Tells subscribers in this process that the generation has new events (for events the
    /// store appended itself, such as a final one). Other processes hear of every stored
    /// event from the database: on PostgreSQL a trigger NOTIFYs at the insert's commit
    /// (migration 0007), on SQLite they watch the events table.
    pub fn announce(&self, generation: &GenerationId) {
        self.hub.announce(generation);
    }
}
