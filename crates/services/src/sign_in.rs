//! Signing in and out, and turning a stored session back into a [`Principal`].

use ql_store::{NewAuditEntry, OrgId, StoreError, UserId};

use crate::{AuthMode, Principal, Result, ServiceError, Services};

impl Services {
    /// Signs in as the single local user, in its first organisation. Only in local mode.
    pub async fn sign_in_local(&self) -> Result<Principal> {
        if self.auth_mode != AuthMode::Local {
            return Err(ServiceError::Forbidden(
                "local sign-in is off when an identity provider is configured",
            ));
        }
        let user = self.store.accounts.local_user().await?;
        let membership = self
            .store
            .accounts
            .memberships(&user.id)
            .await?
            .into_iter()
            .next()
            .ok_or(ServiceError::NotFound("organisation of the local user"))?;
        let principal = Principal::new(user, membership);
        self.audit_session(&principal, "session.sign_in").await?;
        Ok(principal)
    }

    /// Records a sign-out in the audit log.
    pub async fn sign_out(&self, principal: &Principal) -> Result<()> {
        self.audit_session(principal, "session.sign_out").await
    }

    /// The principal behind a session's user and organisation ids, checked against the
    /// database each time so that a removed member loses access at once.
    pub async fn principal(&self, user: &UserId, org: &OrgId) -> Result<Principal> {
        let not_member = |error: StoreError| match error {
            StoreError::NotFound(_) => ServiceError::Unauthenticated,
            other => other.into(),
        };
        let (user, membership) = self.store.accounts.member(org, user).await.map_err(not_member)?;
        Ok(Principal::new(user, membership))
    }

    async fn audit_session(&self, principal: &Principal, action: &str) -> Result<()> {
        let entry = NewAuditEntry {
            action: action.to_owned(),
            target_kind: "session".to_owned(),
            target_id: None,
            detail: serde_json::json!({ "local": principal.is_local }),
        };
        self.store.audit.record(&principal.actor(), entry).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::services;

    #[tokio::test]
    async fn local_sign_in_gives_owner_of_default_org_and_is_audited() {
        let (services, _dir) = services().await;
        let principal = services.sign_in_local().await.expect("sign in");
        assert_eq!(principal.org_slug, "default");
        assert_eq!(principal.role, ql_common::Role::Owner);
        assert!(principal.is_local);

        let again =
            services.principal(&principal.user_id, &principal.org_id).await.expect("resolve");
        assert_eq!(again, principal);

        services.sign_out(&principal).await.expect("sign out");
        let audit = services.list_audit(&principal, 10).await.expect("audit");
        let actions: Vec<_> = audit.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["session.sign_out", "session.sign_in"]);
    }

    #[tokio::test]
    async fn unknown_session_ids_are_unauthenticated() {
        let (services, _dir) = services().await;
        let principal = services.sign_in_local().await.expect("sign in");
        let err = services.principal(&UserId::from("ghost"), &principal.org_id).await.unwrap_err();
        assert!(matches!(err, ServiceError::Unauthenticated));
        let err =
            services.principal(&principal.user_id, &OrgId::from("elsewhere")).await.unwrap_err();
        assert!(matches!(err, ServiceError::Unauthenticated));
    }
}
