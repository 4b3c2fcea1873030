//! Usage accounting off the request path: calls are queued in memory and written in batches
//! by one background task, so a slow database never slows a request. When the queue is full
//! a record is dropped and counted (`ql_llm_usage_dropped_total`), never waited for.

use std::sync::Arc;
use std::time::Duration;

use ql_store::{NewUsage, UsageStore};
use tokio::sync::mpsc;

/// Records waiting to be written, at most.
pub const QUEUE_CAPACITY: usize = 100_000;
/// Records written in one transaction, at most (in statements of 500 rows).
pub const BATCH_SIZE: usize = 5_000;
/// How long a record may wait for others to share its transaction.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(500);

/// The sending side; cheap to clone.
#[derive(Debug, Clone)]
pub struct Accounting {
    sender: mpsc::Sender<NewUsage>,
}

impl Accounting {
    /// Starts the writer task on the current tokio runtime.
    pub fn start(store: Arc<dyn UsageStore>) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(write_batches(store, receiver));
        Self { sender }
    }

    /// Queues a record without waiting.
    pub fn record(&self, usage: NewUsage) {
        if self.sender.try_send(usage).is_err() {
            metrics::counter!("ql_llm_usage_dropped_total").increment(1);
        }
    }
}

/// Waits for a first record, then sleeps out the flush interval and takes everything queued
/// meanwhile: under load the task wakes twice per interval, not once per record.
async fn write_batches(store: Arc<dyn UsageStore>, mut receiver: mpsc::Receiver<NewUsage>) {
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    loop {
        if receiver.recv_many(&mut batch, BATCH_SIZE).await == 0 {
            return; // every sender is gone
        }
        if batch.len() < BATCH_SIZE {
            tokio::time::sleep(FLUSH_INTERVAL).await;
            while batch.len() < BATCH_SIZE {
                match receiver.try_recv() {
                    Ok(record) => batch.push(record),
                    Err(_) => break,
                }
            }
        }
        write_with_retries(store.as_ref(), &batch).await;
        batch.clear();
    }
}

async fn write_with_retries(store: &dyn UsageStore, batch: &[NewUsage]) {
    for attempt in 0..3u32 {
        match store.record_batch(batch).await {
            Ok(()) => {
                metrics::counter!("ql_llm_usage_written_total").increment(batch.len() as u64);
                return;
            }
            Err(error) => {
                tracing::warn!(%error, attempt, records = batch.len(), "usage batch not written");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
        }
    }
    tracing::error!(records = batch.len(), "usage records dropped after three failed writes");
    metrics::counter!("ql_llm_usage_dropped_total").increment(batch.len() as u64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ql_store::{OrgId, UsageSummary};
    use std::sync::Mutex;

    /// A store that is slow and remembers batch sizes.
    struct SlowStore {
        batches: Mutex<Vec<usize>>,
    }

    #[async_trait::async_trait]
    impl UsageStore for SlowStore {
        async fn record_batch(&self, records: &[NewUsage]) -> ql_store::Result<()> {
            tokio::time::sleep(Duration::from_secs(2)).await;
            self.batches.lock().expect("lock").push(records.len());
            Ok(())
        }

        async fn summary(&self, _org: &OrgId, _since: i64) -> ql_store::Result<UsageSummary> {
            Ok(UsageSummary::default())
        }

        async fn daily(
            &self,
            _org: &OrgId,
            _since: i64,
        ) -> ql_store::Result<Vec<ql_store::DailyUsage>> {
            Ok(Vec::new())
        }
    }

    fn usage() -> NewUsage {
        NewUsage {
            organization_id: OrgId::from("org"),
            api_key_id: None,
            user_id: None,
            route: "r".into(),
            provider: "p".into(),
            model: "m".into(),
            prompt_tokens: 1,
            completion_tokens: 1,
            cost_micros: 0,
            latency_ms: 1,
            ttft_ms: None,
            status: 200,
            cache_hit: false,
            streamed: false,
            created_at: 0,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn records_are_batched_and_a_slow_store_never_blocks_the_caller() {
        let store = Arc::new(SlowStore { batches: Mutex::new(Vec::new()) });
        let accounting = Accounting::start(store.clone());
        let started = tokio::time::Instant::now();
        for _ in 0..12_000 {
            accounting.record(usage());
        }
        assert_eq!(started.elapsed(), Duration::ZERO, "recording never waits");
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(*store.batches.lock().expect("lock"), vec![5_000, 5_000, 2_000]);
        // A record arriving alone waits out the flush interval, then is written.
        accounting.record(usage());
        tokio::time::sleep(FLUSH_INTERVAL + Duration::from_secs(3)).await;
        assert_eq!(store.batches.lock().expect("lock").last(), Some(&1));
    }
}
