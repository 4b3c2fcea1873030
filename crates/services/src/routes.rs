//! Routes an organisation manages itself (the Providers page): a model name its clients send,
//! mapped to targets on the server's providers or the organisation's own, with a strategy.

use ql_common::FieldError;
use ql_store::{NewStoredRoute, RouteConfigId, StoreError, StoredRoute};
use serde::{Deserialize, Serialize};

use crate::{Principal, Result, ServiceError, Services};

/// The strategies a route may use.
pub const STRATEGIES: &[&str] = &["priority", "weighted", "latency", "cost"];
/// The most targets a managed route may have.
pub const MAX_ROUTE_TARGETS: usize = 16;
/// The largest weight of one target.
pub const MAX_WEIGHT: u32 = 1000;

/// One target of a route: a provider (the server's or the organisation's), its model, and its
/// share of traffic under the `weighted` strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTarget {
    pub provider: String,
    pub model: String,
    pub weight: u32,
}

/// What a person fills in to add a route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteInput {
    pub model: String,
    pub strategy: String,
    pub targets: Vec<RouteTarget>,
}

/// A route as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSummary {
    pub id: RouteConfigId,
    pub model: String,
    pub strategy: String,
    pub targets: Vec<RouteTarget>,
}

impl From<StoredRoute> for RouteSummary {
    fn from(stored: StoredRoute) -> Self {
        Self {
            id: stored.id,
            model: stored.model,
            strategy: stored.strategy,
            targets: serde_json::from_str(&stored.targets).unwrap_or_default(),
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(FieldError::new(field, message))
}

/// Reads targets written one per line or comma: `provider/model`, with `*3` for a weight.
pub fn parse_targets(text: &str) -> Result<Vec<RouteTarget>> {
    let entries: Vec<&str> =
        text.split(['\n', ',']).map(str::trim).filter(|entry| !entry.is_empty()).collect();
    if entries.is_empty() || entries.len() > MAX_ROUTE_TARGETS {
        return Err(invalid(
            "targets",
            format!("List 1 to {MAX_ROUTE_TARGETS} targets as provider/model, in order."),
        ));
    }
    entries
        .into_iter()
        .map(|entry| {
            let (target, weight) = match entry.rsplit_once('*') {
                Some((target, weight)) => (target.trim(), weight.trim().parse::<u32>().ok()),
                None => (entry, Some(1)),
            };
            let weight =
                weight.filter(|weight| (1..=MAX_WEIGHT).contains(weight)).ok_or_else(|| {
                    invalid("targets", format!("`{entry}`: a weight is 1 to {MAX_WEIGHT}."))
                })?;
            let (provider, model) = target
                .split_once('/')
                .filter(|(provider, model)| !provider.is_empty() && !model.is_empty())
                .ok_or_else(|| {
                    invalid("targets", format!("`{entry}`: write a target as provider/model."))
                })?;
            Ok(RouteTarget { provider: provider.into(), model: model.into(), weight })
        })
        .collect()
}

impl Services {
    /// The organisation's routes.
    pub async fn list_routes(&self, principal: &Principal) -> Result<Vec<RouteSummary>> {
        let stored = self.store.routes.list(&principal.org_id).await?;
        Ok(stored.into_iter().map(RouteSummary::from).collect())
    }

    /// Adds a route; admins and owners only. Every target must name a provider the
    /// organisation can reach: one of the server's, or one of its own.
    pub async fn create_route(
        &self,
        principal: &Principal,
        input: &RouteInput,
    ) -> Result<RouteSummary> {
        if !principal.role.can_administer() {
            return Err(ServiceError::Forbidden("only admins and owners manage routes"));
        }
        let model = input.model.trim();
        let valid_name = !model.is_empty()
            && model.len() <= 100
            && model.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
        if !valid_name {
            return Err(invalid(
                "model",
                "Use 1 to 100 letters, digits, dots, colons, dashes or underscores (no `/`).",
            ));
        }
        if self.gateway.routes().any(|route| route.name == model) {
            return Err(invalid("model", "The server's configuration already has this route."));
        }
        if !STRATEGIES.contains(&input.strategy.as_str()) {
            return Err(invalid("strategy", format!("Choose one of: {}.", STRATEGIES.join(", "))));
        }
        if input.targets.is_empty() || input.targets.len() > MAX_ROUTE_TARGETS {
            return Err(invalid("targets", format!("Give 1 to {MAX_ROUTE_TARGETS} targets.")));
        }
        let own = self.store.providers.list(&principal.org_id).await?;
        for target in &input.targets {
            let known = self.gateway.provider(&target.provider).is_some()
                || own.iter().any(|provider| provider.name == target.provider);
            if !known {
                return Err(invalid(
                    "targets",
                    format!("There is no provider named `{}`.", target.provider),
                ));
            }
            if target.model.trim().is_empty() || target.model.len() > 200 {
                return Err(invalid("targets", "A target's model is 1 to 200 characters."));
            }
            if !(1..=MAX_WEIGHT).contains(&target.weight) {
                return Err(invalid("targets", format!("A weight is 1 to {MAX_WEIGHT}.")));
            }
        }
        let new = NewStoredRoute {
            model: model.to_owned(),
            strategy: input.strategy.clone(),
            targets: serde_json::to_string(&input.targets)
                .map_err(|error| ServiceError::Internal(error.to_string()))?,
        };
        match self.store.routes.create(&principal.actor(), new).await {
            Ok(stored) => {
                self.managed_routes.invalidate_all();
                Ok(stored.into())
            }
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(FieldError::new(
                "model",
                "A route with this model name already exists.",
            ))),
            Err(other) => Err(other.into()),
        }
    }

    /// Removes a route; admins and owners only.
    pub async fn delete_route(&self, principal: &Principal, id: &RouteConfigId) -> Result<()> {
        if !principal.role.can_administer() {
            return Err(ServiceError::Forbidden("only admins and owners manage routes"));
        }
        self.store.routes.delete(&principal.actor(), id).await?;
        self.managed_routes.invalidate_all();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::services;

    fn input(model: &str, targets: &str) -> RouteInput {
        RouteInput {
            model: model.into(),
            strategy: "priority".into(),
            targets: parse_targets(targets).expect("targets"),
        }
    }

    #[test]
    fn targets_are_read_from_text() {
        assert_eq!(
            parse_targets("builtin/builtin\n groq/llama-3.1*3 , x/a/b").expect("targets"),
            [
                RouteTarget { provider: "builtin".into(), model: "builtin".into(), weight: 1 },
                RouteTarget { provider: "groq".into(), model: "llama-3.1".into(), weight: 3 },
                RouteTarget { provider: "x".into(), model: "a/b".into(), weight: 1 },
            ]
        );
        for bad in ["", "no-slash", "/model", "p/", "p/m*0", "p/m*x", &"p/m,".repeat(17)] {
            assert!(
                matches!(parse_targets(bad), Err(ServiceError::Invalid(error)) if error.field == "targets"),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn routes_are_checked_kept_and_removed() {
        let (services, _dir) = services().await;
        let owner = services.sign_in_local().await.expect("sign in");
        let created = services
            .create_route(&owner, &input("team-fast", "builtin/builtin"))
            .await
            .expect("created");
        assert_eq!(services.list_routes(&owner).await.expect("list"), vec![created.clone()]);
        let cases = [
            (input("a/b", "builtin/builtin"), "model"),
            (input("builtin", "builtin/builtin"), "model"),
            (RouteInput { strategy: "random".into(), ..input("x", "builtin/builtin") }, "strategy"),
            (input("x", "nobody/model"), "targets"),
            (RouteInput { targets: Vec::new(), ..input("x", "builtin/builtin") }, "targets"),
        ];
        for (bad, field) in cases {
            match services.create_route(&owner, &bad).await {
                Err(ServiceError::Invalid(error)) => assert_eq!(error.field, field, "{bad:?}"),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert!(matches!(
            services.create_route(&owner, &input("team-fast", "builtin/builtin")).await,
            Err(ServiceError::Conflict(_))
        ));
        let member = Principal { role: ql_common::Role::Member, ..owner.clone() };
        assert!(matches!(
            services.create_route(&member, &input("y", "builtin/builtin")).await,
            Err(ServiceError::Forbidden(_))
        ));
        assert!(matches!(
            services.delete_route(&member, &created.id).await,
            Err(ServiceError::Forbidden(_))
        ));
        services.delete_route(&owner, &created.id).await.expect("delete");
        assert!(services.list_routes(&owner).await.expect("list").is_empty());
    }
}
