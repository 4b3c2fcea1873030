//! Providers an organisation manages itself (the Providers page): checked, their API keys
//! sealed with the installation key, listed without secrets, audited.

use ql_common::FieldError;
use ql_store::{NewStoredProvider, ProviderConfigId, StoreError, StoredProvider};

use crate::{Principal, Result, ServiceError, Services};

/// The kinds a managed provider may have.
pub const PROVIDER_KINDS: &[&str] = &["openai", "anthropic", "bedrock"];
/// The most models one provider may list.
pub const MAX_MODELS: usize = 100;

/// What a person fills in to add a provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderInput {
    pub name: String,
    pub kind: String,
    pub base_url: String,
    /// Model names, one per entry.
    pub models: Vec<String>,
    /// The API key; empty for none. For Bedrock: `ACCESS_KEY_ID:SECRET_ACCESS_KEY`, with
    /// `:SESSION_TOKEN` after it for temporary credentials. Never stored in clear, never
    /// returned.
    pub api_key: String,
    /// The AWS region (Bedrock only).
    pub region: String,
}

/// A provider as the UI shows it: whether it has a key, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSummary {
    pub id: ProviderConfigId,
    pub name: String,
    pub kind: String,
    pub base_url: Option<String>,
    pub models: Vec<String>,
    pub has_secret: bool,
    pub enabled: bool,
    pub region: Option<String>,
}

impl From<StoredProvider> for ProviderSummary {
    fn from(stored: StoredProvider) -> Self {
        Self {
            id: stored.id,
            name: stored.name,
            kind: stored.kind,
            base_url: stored.base_url,
            models: serde_json::from_str(&stored.models).unwrap_or_default(),
            has_secret: stored.secret_ciphertext.is_some(),
            enabled: stored.enabled,
            region: stored.region,
        }
    }
}

/// What a sealed secret is bound to: its organisation and provider name.
pub fn secret_context(org: &str, provider: &str) -> String {
    format!("provider/{org}/{provider}")
}

fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(FieldError::new(field, message))
}

fn checked(input: &ProviderInput) -> Result<(String, Option<String>, Vec<String>)> {
    let name = input.name.trim();
    if name.is_empty()
        || name.len() > 100
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(invalid("name", "Use 1 to 100 letters, digits, dots, dashes or underscores."));
    }
    if !PROVIDER_KINDS.contains(&input.kind.as_str()) {
        return Err(invalid("kind", format!("Choose one of: {}.", PROVIDER_KINDS.join(", "))));
    }
    let base_url = input.base_url.trim();
    let web_address = base_url.starts_with("https://") || base_url.starts_with("http://");
    if !(base_url.is_empty() || web_address) {
        return Err(invalid(
            "base_url",
            "Give an http:// or https:// address, or leave it empty for the vendor's own.",
        ));
    }
    let models: Vec<String> =
        input.models.iter().map(|m| m.trim().to_owned()).filter(|m| !m.is_empty()).collect();
    if models.len() > MAX_MODELS || models.iter().any(|m| m.len() > 200) {
        return Err(invalid(
            "models",
            format!("List at most {MAX_MODELS} model names of up to 200 characters."),
        ));
    }
    let region = input.region.trim();
    if input.kind == "bedrock" {
        let valid_region = region.len() <= 30
            && region.split('-').count() >= 3
            && region.split('-').all(|part| {
                !part.is_empty()
                    && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        if !valid_region {
            return Err(invalid("region", "Give the AWS region, for example us-east-1."));
        }
        let parts = input.api_key.trim().split(':').filter(|part| !part.is_empty()).count();
        if !(2..=3).contains(&parts) {
            return Err(invalid(
                "api_key",
                "For Bedrock, give ACCESS_KEY_ID:SECRET_ACCESS_KEY (and :SESSION_TOKEN for temporary credentials).",
            ));
        }
    } else if !region.is_empty() {
        return Err(invalid("region", "Only Bedrock providers take a region."));
    }
    Ok((name.to_owned(), (!base_url.is_empty()).then(|| base_url.to_owned()), models))
}

/// The AWS credentials a Bedrock provider's opened key holds, by environment variable name.
pub(crate) fn aws_credential(secret: &str, variable: &str) -> Option<String> {
    let mut parts = secret.trim().splitn(3, ':');
    let (access_key_id, secret_access_key, session_token) =
        (parts.next(), parts.next(), parts.next());
    match variable {
        "AWS_ACCESS_KEY_ID" => access_key_id,
        "AWS_SECRET_ACCESS_KEY" => secret_access_key,
        "AWS_SESSION_TOKEN" => session_token,
        _ => None,
    }
    .filter(|part| !part.is_empty())
    .map(str::to_owned)
}

impl Services {
    /// The organisation's providers, without their secrets.
    pub async fn list_providers(&self, principal: &Principal) -> Result<Vec<ProviderSummary>> {
        let stored = self.store.providers.list(&principal.org_id).await?;
        Ok(stored.into_iter().map(ProviderSummary::from).collect())
    }

    /// Adds a provider; admins and owners only. The API key is sealed before it is stored.
    pub async fn create_provider(
        &self,
        principal: &Principal,
        input: &ProviderInput,
    ) -> Result<ProviderSummary> {
        if !principal.role.can_administer() {
            return Err(ServiceError::Forbidden("only admins and owners manage providers"));
        }
        let (name, base_url, models) = checked(input)?;
        let sealed = match input.api_key.trim() {
            "" => None,
            key => {
                let secrets = self
                    .secrets
                    .as_ref()
                    .ok_or_else(|| ServiceError::Internal("no secret key is configured".into()))?;
                let context = secret_context(principal.org_id.as_str(), &name);
                Some(
                    secrets
                        .seal(key, &context)
                        .map_err(|error| invalid("api_key", error.to_string()))?,
                )
            }
        };
        let new = NewStoredProvider {
            name,
            kind: input.kind.clone(),
            base_url,
            models: serde_json::to_string(&models).unwrap_or_else(|_| "[]".into()),
            secret_ciphertext: sealed.as_ref().map(|s| s.ciphertext.clone()),
            secret_nonce: sealed.map(|s| s.nonce),
            region: (input.kind == "bedrock").then(|| input.region.trim().to_owned()),
        };
        match self.store.providers.create(&principal.actor(), new).await {
            Ok(stored) => {
                self.managed_routes.invalidate_all();
                Ok(stored.into())
            }
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(FieldError::new(
                "name",
                "A provider with this name already exists.",
            ))),
            Err(other) => Err(other.into()),
        }
    }

    /// Removes a provider; admins and owners only.
    pub async fn delete_provider(
        &self,
        principal: &Principal,
        id: &ProviderConfigId,
    ) -> Result<()> {
        if !principal.role.can_administer() {
            return Err(ServiceError::Forbidden("only admins and owners manage providers"));
        }
        self.store.providers.delete(&principal.actor(), id).await?;
        self.managed_routes.invalidate_all();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretBox;
    use crate::testing::services;

    fn input(name: &str) -> ProviderInput {
        ProviderInput {
            name: name.into(),
            kind: "openai".into(),
            base_url: "https://api.groq.com/openai/v1".into(),
            models: vec!["llama-3.1-8b-instant".into(), " ".into()],
            api_key: "gsk-secret-value".into(),
            region: String::new(),
        }
    }

    #[tokio::test]
    async fn a_provider_keeps_its_key_sealed_and_never_shows_it() {
        let (services, _dir) = services().await;
        let key = SecretBox::generate_hex();
        let services = services.with_secrets(SecretBox::from_hex(&key).expect("key"));
        let owner = services.sign_in_local().await.expect("sign in");
        let created = services.create_provider(&owner, &input("groq")).await.expect("created");
        assert_eq!(
            (created.has_secret, created.models.clone()),
            (true, vec!["llama-3.1-8b-instant".to_owned()])
        );
        assert!(!format!("{created:?}").contains("gsk-secret-value"));
        let stored = &services.store().providers.list(&owner.org_id).await.expect("list")[0];
        let sealed = crate::Sealed {
            ciphertext: stored.secret_ciphertext.clone().expect("sealed"),
            nonce: stored.secret_nonce.clone().expect("nonce"),
        };
        assert!(
            !sealed.ciphertext.windows(16).any(|w| w == b"gsk-secret-value"),
            "no plaintext at rest"
        );
        let opened = SecretBox::from_hex(&key)
            .expect("key")
            .open(&sealed, &secret_context(owner.org_id.as_str(), "groq"));
        assert_eq!(opened.expect("opens with its context"), "gsk-secret-value");
        assert_eq!(services.list_providers(&owner).await.expect("list"), vec![created.clone()]);
        services.delete_provider(&owner, &created.id).await.expect("delete");
        assert!(services.list_providers(&owner).await.expect("list").is_empty());
    }

    #[tokio::test]
    async fn bad_input_and_roles_are_refused() {
        let (services, _dir) = services().await;
        let services =
            services.with_secrets(SecretBox::from_hex(&SecretBox::generate_hex()).expect("key"));
        let owner = services.sign_in_local().await.expect("sign in");
        let cases = [
            (ProviderInput { name: "a b".into(), ..input("x") }, "name"),
            (ProviderInput { kind: "cohere".into(), ..input("x") }, "kind"),
            (ProviderInput { base_url: "ftp://x".into(), ..input("x") }, "base_url"),
            (ProviderInput { models: vec!["m".into(); 101], ..input("x") }, "models"),
            (ProviderInput { region: "us-east-1".into(), ..input("x") }, "region"),
            (ProviderInput { kind: "bedrock".into(), ..input("x") }, "region"),
            (
                ProviderInput {
                    kind: "bedrock".into(),
                    region: "us-east-1'; --".into(),
                    ..input("x")
                },
                "region",
            ),
            (
                ProviderInput { kind: "bedrock".into(), region: "eu-west-1".into(), ..input("x") },
                "api_key",
            ),
        ];
        for (bad, field) in cases {
            match services.create_provider(&owner, &bad).await {
                Err(ServiceError::Invalid(error)) => assert_eq!(error.field, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        services.create_provider(&owner, &input("dup")).await.expect("first");
        assert!(matches!(
            services.create_provider(&owner, &input("dup")).await,
            Err(ServiceError::Conflict(_))
        ));
        let member = Principal { role: ql_common::Role::Member, ..owner };
        assert!(matches!(
            services.create_provider(&member, &input("y")).await,
            Err(ServiceError::Forbidden(_))
        ));
        assert_eq!(services.list_providers(&member).await.expect("members may look").len(), 1);
    }
}
