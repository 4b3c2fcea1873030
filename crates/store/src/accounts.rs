//! Organisations, users and memberships.

use async_trait::async_trait;

use crate::{Membership, OrgId, Organization, Result, User, UserId};

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The single local user that every fresh database holds (local login mode).
    async fn local_user(&self) -> Result<User>;

    /// A user by id.
    async fn user(&self, id: &UserId) -> Result<User>;

    /// Every organisation the user belongs to, oldest membership first.
    async fn memberships(&self, user: &UserId) -> Result<Vec<Membership>>;

    /// The user's membership of one organisation; `NotFound` when the user is not a member.
    async fn membership(&self, org: &OrgId, user: &UserId) -> Result<Membership>;

    /// The user and their membership of one organisation, in one query (who acts, on every
    /// request); `NotFound` when either is missing.
    async fn member(&self, org: &OrgId, user: &UserId) -> Result<(User, Membership)>;

    /// An organisation by its slug (for the command line, which names organisations so).
    async fn organization_by_slug(&self, slug: &str) -> Result<Organization>;

    /// Creates an organisation owned by `owner`. Used by sign-up and by tests.
    async fn create_organization(&self, slug: &str, name: &str, owner: &UserId) -> Result<OrgId>;

    /// Creates a user account that is not the local one.
    async fn create_user(&self, email: Option<&str>, display_name: &str) -> Result<UserId>;
}
