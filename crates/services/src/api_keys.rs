//! API keys: created once and shown once, stored as a SHA-256 hash, resolved to their
//! organisation on every gateway request (through a short-lived in-memory cache).

use std::time::Duration;

use ql_common::FieldError;
use ql_store::{ApiKey, ApiKeyId, NewApiKey, OrgId, StoreError, UserId};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{Principal, Result, ServiceError, Services};

/// Every key starts with this, so secret scanners and people recognise it.
pub const KEY_PREFIX: &str = "ql_";
/// The longest key name, in characters.
pub const KEY_NAME_MAX_CHARS: usize = 100;
/// How long a resolved key is trusted without asking the database: a revoked key stops
/// working within this time on every replica.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(30);

/// A new key: the secret (shown once) and what is stored about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedKey {
    pub secret: String,
    pub key: ApiKey,
}

/// Who a gateway request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrincipal {
    pub key_id: ApiKeyId,
    pub org_id: OrgId,
    pub user_id: UserId,
}

/// The hex SHA-256 of a key: what the database holds. Keys carry 256 random bits, so a fast
/// hash is enough (nothing to brute-force, unlike a password).
pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", hex::encode(bytes))
}

fn checked_key_name(name: &str) -> Result<String> {
    let name = name.trim();
    let chars = name.chars().count();
    if name.is_empty() || chars > KEY_NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(ServiceError::Invalid(FieldError::new(
            "name",
            format!("Name the key with 1 to {KEY_NAME_MAX_CHARS} printable characters."),
        )));
    }
    Ok(name.to_owned())
}

/// Resolved keys by hash, shared by every request of this process.
pub(crate) type KeyCache = moka::future::Cache<String, KeyPrincipal>;

pub(crate) fn key_cache() -> KeyCache {
    moka::future::Cache::builder().max_capacity(100_000).time_to_live(KEY_CACHE_TTL).build()
}

impl Services {
    /// Creates a key for the principal's organisation; only admins and owners may.
    pub async fn create_api_key(&self, principal: &Principal, name: &str) -> Result<IssuedKey> {
        if !principal.role.can_administer() {
            return Err(ServiceError::Forbidden("only admins and owners create API keys"));
        }
        self.issue_key(&principal.actor(), name).await
    }

    /// Creates a key from the command line for the organisation with this slug, acting as the
    /// local user (the operator of this installation), who must be a member.
    pub async fn create_api_key_as_operator(
        &self,
        org_slug: &str,
        name: &str,
    ) -> Result<IssuedKey> {
        let org = self.store.accounts.organization_by_slug(org_slug).await?;
        let operator = self.store.accounts.local_user().await?;
        let membership = match self.store.accounts.membership(&org.id, &operator.id).await {
            Err(StoreError::NotFound(_)) => {
                return Err(ServiceError::Forbidden(
                    "the local user is not a member of that organisation",
                ));
            }
            other => other?,
        };
        self.issue_key(
            &ql_store::Actor { org: membership.organization.id, user: operator.id },
            name,
        )
        .await
    }

    /// The keys of the organisation with this slug, for the command line.
    pub async fn list_api_keys_as_operator(&self, org_slug: &str) -> Result<Vec<ApiKey>> {
        let org = self.store.accounts.organization_by_slug(org_slug).await?;
        Ok(self.store.api_keys.list(&org.id).await?)
    }

    async fn issue_key(&self, actor: &ql_store::Actor, name: &str) -> Result<IssuedKey> {
        let name = checked_key_name(name)?;
        let secret = generate_secret();
        let new = NewApiKey {
            name,
            prefix: secret[..KEY_PREFIX.len() + 8].to_owned(),
            key_hash: hash_key(&secret),
        };
        let key = self.store.api_keys.create(actor, new).await?;
        Ok(IssuedKey { secret, key })
    }

    /// The principal's organisation's keys (never their secrets).
    pub async fn list_api_keys(&self, principal: &Principal) -> Result<Vec<ApiKey>> {
        Ok(self.store.api_keys.list(&principal.org_id).await?)
    }

    /// Revokes a key of the principal's organisation.
    pub async fn revoke_api_key(&self, principal: &Principal, id: &ApiKeyId) -> Result<ApiKey> {
        if !principal.role.can_administer() {
            return Err(ServiceError::Forbidden("only admins and owners revoke API keys"));
        }
        let revoked = self.store.api_keys.revoke(&principal.actor(), id).await?;
        self.key_cache.invalidate_all();
        Ok(revoked)
    }

    /// The organisation and key behind a bearer token; `Unauthenticated` for an unknown or
    /// revoked key.
    pub async fn authenticate_api_key(&self, secret: &str) -> Result<KeyPrincipal> {
        if !secret.starts_with(KEY_PREFIX) || secret.len() > 256 {
            return Err(ServiceError::Unauthenticated);
        }
        let hash = hash_key(secret);
        if let Some(found) = self.key_cache.get(&hash).await {
            return Ok(found);
        }
        let key = self
            .store
            .api_keys
            .find_active_by_hash(&hash)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let principal =
            KeyPrincipal { key_id: key.id, org_id: key.organization_id, user_id: key.user_id };
        self.key_cache.insert(hash, principal.clone()).await;
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::services;

    #[tokio::test]
    async fn a_key_is_shown_once_stored_hashed_and_authenticates_until_revoked() {
        let (services, _dir) = services().await;
        let owner = services.sign_in_local().await.expect("local sign-in");
        let issued = services.create_api_key(&owner, "  ci  ").await.expect("issued");
        assert!(issued.secret.starts_with("ql_") && issued.secret.len() == 3 + 64);
        assert_eq!(issued.key.name, "ci");
        assert_eq!(issued.key.prefix, &issued.secret[..11]);
        let listed = services.list_api_keys(&owner).await.expect("list");
        assert_eq!(listed, vec![issued.key.clone()]);

        let principal = services.authenticate_api_key(&issued.secret).await.expect("valid");
        assert_eq!(
            (principal.org_id, principal.key_id.clone()),
            (owner.org_id.clone(), issued.key.id.clone())
        );
        for wrong in ["", "ql_", "sk-abc", &format!("{}x", issued.secret)] {
            assert!(
                matches!(
                    services.authenticate_api_key(wrong).await,
                    Err(ServiceError::Unauthenticated)
                ),
                "{wrong}"
            );
        }

        services.revoke_api_key(&owner, &issued.key.id).await.expect("revoke");
        assert!(matches!(
            services.authenticate_api_key(&issued.secret).await,
            Err(ServiceError::Unauthenticated)
        ));
    }

    #[tokio::test]
    async fn names_are_checked_and_operators_act_in_member_organisations_only() {
        let (services, _dir) = services().await;
        let owner = services.sign_in_local().await.expect("local sign-in");
        for bad in ["", "   ", &"x".repeat(101), "a\u{7}b"] {
            assert!(
                matches!(services.create_api_key(&owner, bad).await, Err(ServiceError::Invalid(_))),
                "{bad:?}"
            );
        }
        let issued =
            services.create_api_key_as_operator("default", "bench").await.expect("operator key");
        assert_eq!(issued.key.organization_id, owner.org_id);
        assert!(matches!(
            services.create_api_key_as_operator("nope", "x").await,
            Err(ServiceError::NotFound(_))
        ));
        let viewer = Principal { role: ql_common::Role::Viewer, ..owner };
        assert!(matches!(
            services.create_api_key(&viewer, "x").await,
            Err(ServiceError::Forbidden(_))
        ));
    }
}
