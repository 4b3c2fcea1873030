//! Usage records of model calls: written in batches by the gateway's accounting task, read
//! per organisation for the Usage page and for spend budgets.

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

    /// The organisation's totals per UTC day at or after `since`, oldest first; days without
    /// calls are left out.
    async fn daily(&self, org: &OrgId, since: i64) -> Result<Vec<DailyUsage>>;
}
