//! API keys for the OpenAI-compatible gateway: stored as a SHA-256 hash and a display prefix,
//! never as the key itself.
//!
//! `find_active_by_hash` is the one lookup without an organisation: it is how a request's
//! organisation is found in the first place (the hash of a 256-bit random key identifies it).

use async_trait::async_trait;

use crate::{Actor, ApiKey, ApiKeyId, NewApiKey, OrgId, Result};

#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key (its hash) for the actor's organisation; audited.
    async fn create(&self, actor: &Actor, key: NewApiKey) -> Result<ApiKey>;

    /// The organisation's keys, newest first, revoked ones included.
    async fn list(&self, org: &OrgId) -> Result<Vec<ApiKey>>;

    /// The key with this hash, unless it is revoked.
    async fn find_active_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>>;

    /// Revokes a key of the actor's organisation; audited. `NotFound` for another's key.
    async fn revoke(&self, actor: &Actor, id: &ApiKeyId) -> Result<ApiKey>;
}
