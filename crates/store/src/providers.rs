//! Providers an organisation manages from the UI: name, kind, base URL, models and the sealed
//! API key (ciphertext and nonce; the store never sees the key itself).

use async_trait::async_trait;

use crate::{Actor, NewStoredProvider, OrgId, ProviderConfigId, Result, StoredProvider};

#[async_trait]
pub trait ProviderConfigStore: Send + Sync {
    /// The organisation's providers, by name.
    async fn list(&self, org: &OrgId) -> Result<Vec<StoredProvider>>;

    /// Adds a provider; audited (without its secret). `Conflict` when the name is taken.
    async fn create(&self, actor: &Actor, provider: NewStoredProvider) -> Result<StoredProvider>;

    /// Removes a provider of the actor's organisation; audited.
    async fn delete(&self, actor: &Actor, id: &ProviderConfigId) -> Result<()>;
}
