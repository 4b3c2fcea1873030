//! Routes an organisation manages from the UI: the model name clients send, the strategy and
//! the ordered targets (a JSON array the services check before storing).

use async_trait::async_trait;

use crate::{Actor, NewStoredRoute, OrgId, Result, RouteConfigId, StoredRoute};

#[async_trait]
pub trait RouteConfigStore: Send + Sync {
    /// The organisation's routes, by model name.
    async fn list(&self, org: &OrgId) -> Result<Vec<StoredRoute>>;

    /// Adds a route; audited. `Conflict` when the organisation already has the model name.
    async fn create(&self, actor: &Actor, route: NewStoredRoute) -> Result<StoredRoute>;

    /// Removes a route of the actor's organisation; audited.
    async fn delete(&self, actor: &Actor, id: &RouteConfigId) -> Result<()>;
}
