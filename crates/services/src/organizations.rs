//! Organisations made by the operator of an installation from the command line
//! (`quantumlayer orgs create NAME`): owned by the local user, who can then make them keys.

use ql_common::FieldError;
use ql_store::{Organization, StoreError};

use crate::{Result, ServiceError, Services};

/// Longest organisation name, and longest slug made from it.
const MAX_NAME_CHARS: usize = 100;
const MAX_SLUG_CHARS: usize = 40;

impl Services {
    /// Creates an organisation called `name`, owned by the local user; its slug (what the
    /// command line and keys name it by) is made from the name.
    pub async fn create_organization_as_operator(&self, name: &str) -> Result<Organization> {
        let name = name.trim();
        let slug = slug_of(name);
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || slug.is_empty() {
            return Err(ServiceError::Invalid(FieldError::new(
                "name",
                format!(
                    "An organisation needs a name of 1 to {MAX_NAME_CHARS} characters with at least one letter or digit."
                ),
            )));
        }
        let operator = self.store.accounts.local_user().await?;
        match self.store.accounts.create_organization(&slug, name, &operator.id).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(ServiceError::Conflict(FieldError::new(
                    "name",
                    format!("An organisation with the slug `{slug}` already exists."),
                )));
            }
            Err(other) => return Err(other.into()),
        }
        Ok(self.store.accounts.organization_by_slug(&slug).await?)
    }
}

/// `Acme Labs, Inc.` → `acme-labs-inc`: lowercase ASCII letters and digits, runs of anything
/// else as one hyphen, none at either end.
fn slug_of(name: &str) -> String {
    let mut slug = String::new();
    for character in name.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(MAX_SLUG_CHARS).collect();
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::services;

    #[test]
    fn slugs_are_lowercase_words_joined_by_hyphens() {
        for (name, slug) in [
            ("Acme Labs, Inc.", "acme-labs-inc"),
            ("  second   team ", "second-team"),
            ("Équipe 7", "quipe-7"),
            ("---", ""),
            ("日本", ""),
        ] {
            assert_eq!(slug_of(name), slug, "{name}");
        }
        assert_eq!(slug_of(&"a".repeat(80)).len(), MAX_SLUG_CHARS);
    }

    #[tokio::test]
    async fn the_operator_creates_an_organisation_and_can_make_it_keys() {
        let (services, _dir) = services().await;
        let created = services.create_organization_as_operator("Acme Labs").await.expect("created");
        assert_eq!((created.slug.as_str(), created.name.as_str()), ("acme-labs", "Acme Labs"));
        let key = services.create_api_key_as_operator("acme-labs", "ci").await.expect("key");
        assert!(key.secret.starts_with("ql_"));

        let taken = services.create_organization_as_operator("acme labs").await;
        assert!(matches!(taken, Err(ServiceError::Conflict(_))), "{taken:?}");
        for bad in ["", "   ", "!!!", &"x".repeat(101)] {
            let refused = services.create_organization_as_operator(bad).await;
            assert!(matches!(refused, Err(ServiceError::Invalid(_))), "{bad}: {refused:?}");
        }
    }
}
