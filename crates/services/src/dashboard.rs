//! What the dashboard shows beyond lists it shares with other pages: each project with its
//! newest generation, and the organisation's model usage per day for a chart.

use std::collections::HashMap;

use ql_store::{DAY_MILLIS, DailyUsage, ProjectActivity};

use crate::{Principal, Result, Services};

/// The most days a usage chart covers.
pub const MAX_CHART_DAYS: u32 = 90;

impl Services {
    /// The organisation's `limit` most recently active projects, each with its newest
    /// generation in brief.
    pub async fn projects_with_latest_generation(
        &self,
        principal: &Principal,
        limit: u32,
    ) -> Result<Vec<ProjectActivity>> {
        Ok(self.store.projects.list_with_latest_generation(&principal.org_id, limit.into()).await?)
    }

    /// The organisation's usage for each of the `days` UTC days up to and including the day
    /// of `now` (Unix milliseconds), oldest first; a day without calls is all zeros.
    pub async fn usage_by_day(
        &self,
        principal: &Principal,
        days: u32,
        now: i64,
    ) -> Result<Vec<DailyUsage>> {
        let days = i64::from(days.clamp(1, MAX_CHART_DAYS));
        let today = now.div_euclid(DAY_MILLIS);
        let first = today - days + 1;
        let recorded = self.store.usage.daily(&principal.org_id, first).await?;
        Ok(fill_days(first, today, recorded))
    }
}

/// Every day from `first` to `last`, taking the recorded totals and zeros elsewhere.
fn fill_days(first: i64, last: i64, recorded: Vec<DailyUsage>) -> Vec<DailyUsage> {
    let mut recorded: HashMap<i64, DailyUsage> =
        recorded.into_iter().map(|day| (day.day, day)).collect();
    (first..=last)
        .map(|day| {
            recorded.remove(&day).unwrap_or(DailyUsage {
                day,
                calls: 0,
                prompt_tokens: 0,
                completion_tokens: 0,
                cost_micros: 0,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use ql_store::NewUsage;

    use super::*;
    use crate::testing::services;

    #[tokio::test]
    async fn usage_comes_per_day_with_empty_days_filled_and_projects_with_their_newest_generation()
    {
        let (services, _dir) = services().await;
        let owner = services.sign_in_local().await.expect("sign in");
        let record = |tokens: i64, at: i64| NewUsage {
            organization_id: owner.org_id.clone(),
            api_key_id: None,
            user_id: None,
            route: "fast".into(),
            provider: "builtin".into(),
            model: "builtin".into(),
            prompt_tokens: tokens,
            completion_tokens: 1,
            cost_micros: 10,
            latency_ms: 1,
            ttft_ms: None,
            status: 200,
            cache_hit: false,
            streamed: false,
            created_at: at,
        };
        let today = 20_000 * DAY_MILLIS + 3_600_000;
        let batch = [
            record(5, today),
            record(7, today - 2 * DAY_MILLIS),
            record(100, today - 9 * DAY_MILLIS),
        ];
        services.store.usage.record_batch(&batch).await.expect("usage");
        let days = services.usage_by_day(&owner, 7, today).await.expect("days");
        let shape: Vec<(i64, i64)> =
            days.iter().map(|d| (d.day - 20_000, d.prompt_tokens)).collect();
        assert_eq!(shape, [(-6, 0), (-5, 0), (-4, 0), (-3, 0), (-2, 7), (-1, 0), (0, 5)]);
        assert_eq!(services.usage_by_day(&owner, 10_000, today).await.expect("days").len(), 90);

        let project = services.create_project(&owner, "Shop", "").await.expect("project");
        let listed = services.projects_with_latest_generation(&owner, 10).await.expect("projects");
        let shop = listed.iter().find(|p| p.project.id == project.id).expect("listed");
        assert_eq!(shop.latest, None);
    }
}
