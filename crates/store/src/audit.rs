//! The append-only audit log of each organisation.

use async_trait::async_trait;

use crate::{Actor, AuditEntry, NewAuditEntry, OrgId, Result};

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one entry for changes that are not stored through another aggregate
    /// (sign-in, sign-out, settings).
    async fn record(&self, actor: &Actor, entry: NewAuditEntry) -> Result<()>;

    /// The newest `limit` entries of the organisation, newest first.
    async fn list(&self, org: &OrgId, limit: u32) -> Result<Vec<AuditEntry>>;
}
