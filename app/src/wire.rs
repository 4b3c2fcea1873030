//! What server functions send to the browser: plain, serializable views of domain rows.

use serde::{Deserialize, Serialize};

/// The signed-in person and where they act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_name: String,
    pub org_name: String,
    pub org_slug: String,
    pub role: String,
    /// Signed in through local mode (no identity provider configured).
    pub local_mode: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// When it was created, already formatted (UTC).
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub id: String,
    /// When it happened, already formatted (UTC).
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
}
