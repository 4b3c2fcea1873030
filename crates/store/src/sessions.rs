//! Web sessions, stored as opaque records so that any replica can serve any request.
//!
//! Sessions belong to a browser rather than to an organisation, so this is the one aggregate
//! whose methods take no organisation: the organisation is chosen from inside the session.

use async_trait::async_trait;

use crate::{Result, SessionRecord};

#[async_trait]
pub trait SessionRecordStore: Send + Sync {
    /// Inserts a new record; `Conflict` when the id is taken.
    async fn create(&self, record: &SessionRecord) -> Result<()>;

    /// Inserts or replaces a record.
    async fn save(&self, record: &SessionRecord) -> Result<()>;

    /// The record, if it exists and has not expired.
    async fn load(&self, id: &str) -> Result<Option<SessionRecord>>;

    /// Removes a record; removing a missing one is not an error.
    async fn delete(&self, id: &str) -> Result<()>;

    /// Removes every expired record and says how many went.
    async fn delete_expired(&self) -> Result<u64>;
}
