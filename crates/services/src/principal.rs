//! Who is acting: a user inside one organisation, with their role there.

use ql_common::Role;
use ql_store::{Actor, Membership, OrgId, User, UserId};

/// A signed-in user acting in one organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub user_name: String,
    pub is_local: bool,
    pub org_id: OrgId,
    pub org_slug: String,
    pub org_name: String,
    pub role: Role,
}

impl Principal {
    pub(crate) fn new(user: User, membership: Membership) -> Self {
        Self {
            user_id: user.id,
            user_name: user.display_name,
            is_local: user.is_local,
            org_id: membership.organization.id,
            org_slug: membership.organization.slug,
            org_name: membership.organization.name,
            role: membership.role,
        }
    }

    /// The store's view of who acts where.
    pub fn actor(&self) -> Actor {
        Actor { org: self.org_id.clone(), user: self.user_id.clone() }
    }
}
