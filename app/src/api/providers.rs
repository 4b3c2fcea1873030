//! The gateway's routes with their health, and the providers the organisation manages.

use leptos::prelude::*;

use crate::AppError;
use crate::wire::{ProviderView, RouteTargetView, RouteView};

#[cfg(feature = "ssr")]
fn view_of(provider: ql_services::ProviderSummary) -> ProviderView {
    ProviderView {
        id: provider.id.0,
        name: provider.name,
        kind: provider.kind,
        base_url: provider.base_url.unwrap_or_default(),
        models: provider.models,
        has_key: provider.has_secret,
        region: provider.region.unwrap_or_default(),
    }
}

#[cfg(feature = "ssr")]
fn route_view_of(route: ql_services::RouteSummary) -> RouteView {
    RouteView {
        id: route.id.0,
        model: route.model,
        strategy: route.strategy,
        targets: route
            .targets
            .into_iter()
            .map(|t| match t.weight {
                1 => format!("{}/{}", t.provider, t.model),
                weight => format!("{}/{}*{weight}", t.provider, t.model),
            })
            .collect(),
    }
}

/// Every target of every configured route, with its health and recent latency.
#[server]
pub async fn list_route_targets() -> Result<Vec<RouteTargetView>, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        current_principal().await?;
        Ok(services()?
            .route_status()
            .into_iter()
            .map(|t| RouteTargetView {
                route: t.route,
                strategy: t.strategy,
                provider: t.provider,
                kind: t.provider_kind,
                model: t.model,
                healthy: t.healthy,
                latency_ms: t.latency_ms,
            })
            .collect())
    })
    .await
}

/// The organisation's own providers.
#[server]
pub async fn list_providers() -> Result<Vec<ProviderView>, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        Ok(services()?.list_providers(&principal).await?.into_iter().map(view_of).collect())
    })
    .await
}

/// Adds a provider; `models` holds one name per line or comma. The key is sealed at once.
/// A Bedrock provider takes a region and `ACCESS_KEY_ID:SECRET_ACCESS_KEY` as its key.
#[server]
pub async fn create_provider(
    name: String,
    kind: String,
    base_url: String,
    models: String,
    api_key: String,
    #[server(default)] region: String,
) -> Result<ProviderView, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let input = ql_services::ProviderInput {
            name,
            kind,
            base_url,
            models: models.split([',', '\n']).map(str::to_owned).collect(),
            api_key,
            region,
        };
        Ok(view_of(services()?.create_provider(&principal, &input).await?))
    })
    .await
}

/// Removes one of the organisation's providers.
#[server]
pub async fn delete_provider(id: String) -> Result<(), AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        Ok(services()?.delete_provider(&principal, &id.as_str().into()).await?)
    })
    .await
}

/// The organisation's own routes.
#[server]
pub async fn list_routes() -> Result<Vec<RouteView>, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        Ok(services()?.list_routes(&principal).await?.into_iter().map(route_view_of).collect())
    })
    .await
}

/// Adds a route; `targets` holds `provider/model` entries (optionally `*weight`), one per
/// line or comma, in order.
#[server]
pub async fn create_route(
    model: String,
    strategy: String,
    targets: String,
) -> Result<RouteView, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let input = ql_services::RouteInput {
            model,
            strategy,
            targets: ql_services::parse_targets(&targets)?,
        };
        Ok(route_view_of(services()?.create_route(&principal, &input).await?))
    })
    .await
}

/// Removes one of the organisation's routes.
#[server]
pub async fn delete_route(id: String) -> Result<(), AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        Ok(services()?.delete_route(&principal, &id.as_str().into()).await?)
    })
    .await
}
