//! Reading the organisation's audit log.

use leptos::prelude::*;

use crate::AppError;
use crate::wire::AuditView;

/// The newest `limit` audit entries, newest first.
#[server]
pub async fn list_audit(limit: u32) -> Result<Vec<AuditView>, AppError> {
    use crate::ssr::{current_principal, format_time, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let entries = services()?.list_audit(&principal, limit).await?;
        Ok(entries
            .into_iter()
            .map(|e| AuditView {
                id: e.id,
                at: format_time(e.created_at),
                actor: e.actor_name.unwrap_or_else(|| "(deleted user)".to_owned()),
                target: describe_target(&e.target_kind, e.target_id.as_deref(), &e.detail),
                action: e.action,
            })
            .collect())
    })
    .await
}

/// `project "Library"` when the entry recorded a name, else `project <id>`, else the kind.
#[cfg(feature = "ssr")]
fn describe_target(kind: &str, id: Option<&str>, detail: &str) -> String {
    let name = serde_json::from_str::<serde_json::Value>(detail)
        .ok()
        .and_then(|d| d.get("name").and_then(|n| n.as_str()).map(str::to_owned));
    match (name, id) {
        (Some(name), _) => format!("{kind} \"{name}\""),
        (None, Some(id)) => format!("{kind} {id}"),
        (None, None) => kind.to_owned(),
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::describe_target;

    #[test]
    fn targets_prefer_names() {
        let cases = [
            (("project", Some("p1"), r#"{"name":"Library"}"#), r#"project "Library""#),
            (("project", Some("p1"), "{}"), "project p1"),
            (("session", None, r#"{"local":true}"#), "session"),
            (("project", None, "not json"), "project"),
        ];
        for ((kind, id, detail), expected) in cases {
            assert_eq!(describe_target(kind, id, detail), expected);
        }
    }
}
