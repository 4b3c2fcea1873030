//! tower-sessions storage over the store's session records, so that sessions live in the
//! same database as everything else and any replica can serve any request.

use std::sync::Arc;

use async_trait::async_trait;
use ql_store::{SessionRecord, SessionRecordStore, StoreError};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// How many fresh ids to try when a new session's id is already taken.
const CREATE_ATTEMPTS: usize = 8;

#[derive(Clone)]
pub struct DbSessionStore {
    records: Arc<dyn SessionRecordStore>,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    pub fn new(records: Arc<dyn SessionRecordStore>) -> Self {
        Self { records }
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
            match self.records.create(&encode(record)?).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict(_)) => record.id = Id::default(),
                Err(other) => return Err(backend(other)),
            }
        }
        Err(session_store::Error::Backend("could not find a free session id".to_owned()))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.records.save(&encode(record)?).await.map_err(backend)
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
        self.records.delete(&id.to_string()).await.map_err(backend)
    }
}
