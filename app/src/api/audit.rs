//! Reading the organisation's audit log.

use leptos::prelude::*;

use crate::AppError;
use crate::wire::AuditView;

/// The newest `limit` audit entries, newest first.
#[server]
pub async fn list_audit(limit: u32) -> Result<Vec<AuditView>, AppError> {
    use crate::ssr::{current_principal, format_time, services};
    let principal = current_principal().await?;
    let entries = services()?.list_audit(&principal, limit).await?;
    Ok(entries
        .into_iter()
        .map(|e| AuditView {
            id: e.id,
            at: format_time(e.created_at),
            actor: e.actor_name.unwrap_or_else(|| "(deleted user)".to_owned()),
            target: match e.target_id {
                Some(id) => format!("{} {id}", e.target_kind),
                None => e.target_kind,
            },
            action: e.action,
        })
        .collect())
}
