//! The dashboard's own reads: projects with their newest generation, and usage per day.

use leptos::prelude::*;

use crate::AppError;
use crate::wire::{ProjectActivityView, UsageDayView};

/// The longest description shown on a project's line, in characters.
#[cfg(feature = "ssr")]
const DESCRIPTION_CHARS: usize = 90;

/// The most projects the dashboard lists; the projects page lists them all.
pub const DASHBOARD_PROJECTS: u32 = 12;

/// The organisation's most recently active projects, each with its newest generation.
#[server]
pub async fn projects_activity() -> Result<Vec<ProjectActivityView>, AppError> {
    use crate::ssr::{current_principal, format_time, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let projects =
            services()?.projects_with_latest_generation(&principal, DASHBOARD_PROJECTS).await?;
        Ok(projects
            .into_iter()
            .map(|entry| {
                let latest = entry.latest;
                ProjectActivityView {
                    id: entry.project.id.0,
                    name: entry.project.name,
                    description: latest.as_ref().map(|g| shorten(&g.description)),
                    queued: latest.as_ref().map(|g| format_time(g.queued_at)),
                    status: latest.as_ref().map(|g| g.status.clone()),
                    generation_id: latest.map(|g| g.id.0),
                }
            })
            .collect())
    })
    .await
}

/// Tokens, calls and cost per UTC day for the last `days` days (at most 90), oldest first.
#[server]
pub async fn usage_per_day(days: u32) -> Result<Vec<UsageDayView>, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let now = ql_store::now_millis();
        let days = services()?.usage_by_day(&principal, days, now).await?;
        Ok(days
            .into_iter()
            .map(|day| UsageDayView {
                label: day_label(day.day),
                calls: day.calls,
                tokens: day.prompt_tokens + day.completion_tokens,
                cost_micros: day.cost_micros,
            })
            .collect())
    })
    .await
}

#[cfg(feature = "ssr")]
fn shorten(text: &str) -> String {
    let mut chars = text.chars();
    let short: String = chars.by_ref().take(DESCRIPTION_CHARS).collect();
    if chars.next().is_some() { format!("{short}…") } else { short }
}

/// A day number since the epoch as `MM-DD` (UTC).
#[cfg(feature = "ssr")]
fn day_label(day: i64) -> String {
    let format = time::macros::format_description!("[month]-[day]");
    time::OffsetDateTime::from_unix_timestamp(day * 86_400)
        .ok()
        .and_then(|date| date.format(&format).ok())
        .unwrap_or_default()
}
