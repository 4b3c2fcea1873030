//! tower-sessions storage over the store's session records, so that sessions live in the
//! same database as everything else and any replica can serve any request.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ql_store::{SessionRecord, SessionRecordStore, StoreError};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// How many fresh ids to try when a new session's id is already taken.
const CREATE_ATTEMPTS: usize = 8;

/// Sessions expire after a period of inactivity, so every request moves the expiry and asks
/// for a save. A save that changes only the expiry, by less than this, is skipped: a page view
/// then costs no database write, and a session expires at most this much early.
const EXPIRY_REFRESH_MILLIS: i64 = 60_000;

/// How many sessions' last writes this process remembers.
const REMEMBERED_WRITES: u64 = 100_000;

/// A session's data as last written, and the expiry written with it (Unix milliseconds).
#[derive(Debug)]
struct Written {
    data: std::collections::HashMap<String, serde_json::Value>,
    expires_at: i64,
}

#[derive(Clone)]
pub struct DbSessionStore {
    records: Arc<dyn SessionRecordStore>,
    /// Per session id: the data this process last wrote and the expiry it wrote with it.
    last_written: moka::sync::Cache<String, Arc<Written>>,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    pub fn new(records: Arc<dyn SessionRecordStore>) -> Self {
        let last_written = moka::sync::Cache::builder()
            .max_capacity(REMEMBERED_WRITES)
            .time_to_live(Duration::from_millis(EXPIRY_REFRESH_MILLIS as u64))
            .build();
        Self { records, last_written }
    }

    /// Whether `record` is what this process last wrote, up to an expiry moved by less than
    /// the refresh period.
    fn already_written(&self, record: &Record, expires_at: i64) -> bool {
        self.last_written.get(&record.id.to_string()).is_some_and(|written| {
            written.data == record.data && expires_at - written.expires_at < EXPIRY_REFRESH_MILLIS
        })
    }

    fn remember(&self, record: &Record, expires_at: i64) {
        let written = Written { data: record.data.clone(), expires_at };
        self.last_written.insert(record.id.to_string(), Arc::new(written));
    }

    /// Removes expired sessions every `period`, for as long as the server runs.
    pub fn spawn_expiry_task(&self, period: std::time::Duration) {
        let records = self.records.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            loop {
                ticks.tick().await;
                match records.delete_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(removed = n, "expired sessions removed"),
                    Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
                }
            }
        });
    }
}

fn encode(record: &Record) -> session_store::Result<SessionRecord> {
    let data =
        serde_json::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let expires_at = i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000)
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    Ok(SessionRecord { id: record.id.to_string(), data, expires_at })
}

fn backend(error: StoreError) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        for _ in 0..CREATE_ATTEMPTS {
            let encoded = encode(record)?;
            match self.records.create(&encoded).await {
                Ok(()) => {
                    self.remember(record, encoded.expires_at);
                    return Ok(());
                }
                Err(StoreError::Conflict(_)) => record.id = Id::default(),
                Err(other) => return Err(backend(other)),
            }
        }
        Err(session_store::Error::Backend("could not find a free session id".to_owned()))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let encoded = encode(record)?;
        if self.already_written(record, encoded.expires_at) {
            return Ok(());
        }
        self.records.save(&encoded).await.map_err(backend)?;
        self.remember(record, encoded.expires_at);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(stored) = self.records.load(&id.to_string()).await.map_err(backend)? else {
            return Ok(None);
        };
        serde_json::from_slice(&stored.data)
            .map(Some)
            .map_err(|e| session_store::Error::Decode(e.to_string()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let id = id.to_string();
        self.last_written.invalidate(&id);
        self.records.delete(&id).await.map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tower_sessions::session::Id;

    use super::*;

    /// Keeps records in memory and counts the writes that reach it.
    #[derive(Default)]
    struct CountingRecords {
        records: Mutex<std::collections::HashMap<String, SessionRecord>>,
        writes: std::sync::atomic::AtomicUsize,
    }

    #[async_trait]
    impl SessionRecordStore for CountingRecords {
        async fn create(&self, record: &SessionRecord) -> ql_store::Result<()> {
            self.save(record).await
        }
        async fn save(&self, record: &SessionRecord) -> ql_store::Result<()> {
            self.writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut records =
                self.records.lock().map_err(|_| StoreError::Corrupt("poisoned".into()))?;
            records.insert(record.id.clone(), record.clone());
            Ok(())
        }
        async fn load(&self, id: &str) -> ql_store::Result<Option<SessionRecord>> {
            let records =
                self.records.lock().map_err(|_| StoreError::Corrupt("poisoned".into()))?;
            Ok(records.get(id).cloned())
        }
        async fn delete(&self, id: &str) -> ql_store::Result<()> {
            let mut records =
                self.records.lock().map_err(|_| StoreError::Corrupt("poisoned".into()))?;
            records.remove(id);
            Ok(())
        }
        async fn delete_expired(&self) -> ql_store::Result<u64> {
            Ok(0)
        }
    }

    fn record(value: &str, expiry_seconds: i64) -> Record {
        let mut data = std::collections::HashMap::new();
        data.insert("user_id".to_owned(), serde_json::json!(value));
        Record {
            id: Id(7),
            data,
            expiry_date: time::OffsetDateTime::from_unix_timestamp(1_800_000_000 + expiry_seconds)
                .expect("a date"),
        }
    }

    #[tokio::test]
    async fn a_save_that_only_moves_the_expiry_a_little_writes_nothing() {
        let records = Arc::new(CountingRecords::default());
        let store = DbSessionStore::new(records.clone());
        let writes = || records.writes.load(std::sync::atomic::Ordering::SeqCst);
        let steps: [(&str, &str, i64, usize); 6] = [
            ("the first save writes", "ada", 0, 1),
            ("the same record again does not", "ada", 0, 1),
            ("an expiry moved by 59 s does not", "ada", 59, 1),
            ("changed data does", "grace", 59, 2),
            ("an expiry moved by a minute or more does", "grace", 120, 3),
            ("and then the same again does not", "grace", 121, 3),
        ];
        for (what, value, expiry, expected) in steps {
            store.save(&record(value, expiry)).await.expect("session store");
            assert_eq!(writes(), expected, "{what}");
        }
        // Deleted, the next save writes again (the record is gone from the database).
        store.delete(&Id(7)).await.expect("session store");
        store.save(&record("grace", 121)).await.expect("session store");
        assert_eq!(writes(), 4);
        let loaded = store.load(&Id(7)).await.expect("session store");
        assert_eq!(loaded.map(|r| r.data["user_id"].clone()), Some(serde_json::json!("grace")));
    }
}
