//! Usage records of model calls: written in batches by the gateway's accounting task, read
//! per organisation for the Usage page and for spend budgets, with totals per day kept as
//! they are written.

use async_trait::async_trait;

use crate::{DailyUsage, NewUsage, OrgId, Result, UsageSummary};

/// One day in milliseconds: days are counted in UTC from the Unix epoch.
pub const DAY_MILLIS: i64 = 86_400_000;

#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Inserts many records in one transaction. Each record names its own organisation.
    async fn record_batch(&self, records: &[NewUsage]) -> Result<()>;

    /// Totals of the organisation's calls at or after `since` (Unix milliseconds).
    async fn summary(&self, org: &OrgId, since: i64) -> Result<UsageSummary>;

    /// The organisation's totals per UTC day from day `first_day` (days since the epoch) on,
    /// oldest first; days without calls are left out. Kept per day as batches are recorded,
    /// so this reads one row a day however many calls there were.
    async fn daily(&self, org: &OrgId, first_day: i64) -> Result<Vec<DailyUsage>>;
}
