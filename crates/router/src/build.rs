//! Builds providers and the gateway from configuration.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{ProviderConfig, ProviderKind, RouteConfig, RouterSettings, TargetConfig};
use crate::error::RouterError;
use crate::gateway::Gateway;
use crate::http::Timeouts;
use crate::pricing::{PriceEntry, PriceTable};
use crate::provider::Provider;
use crate::providers::anthropic::Anthropic;
use crate::providers::bedrock::Bedrock;
use crate::providers::bedrock::sign::AwsCredentials;
use crate::providers::openai::OpenAi;

/// Everything the gateway is built from.
#[derive(Debug, Clone, Default)]
pub struct GatewayConfig {
    pub providers: Vec<ProviderConfig>,
    pub routes: Vec<RouteConfig>,
    pub settings: RouterSettings,
    pub prices: Vec<PriceEntry>,
}

/// Most providers one gateway holds.
pub const MAX_PROVIDERS: usize = 200;

/// Makes the built-in offline model under a provider name (the engine supplies it: the router
/// does not know the engine).
pub type BuiltinFactory = dyn Fn(&str) -> Arc<dyn Provider>;

/// The provider and route that every gateway has, whatever its configuration.
pub const BUILTIN: &str = "builtin";

/// Builds the gateway; `secret` looks up the environment variable a provider names for its
/// key; `builtin` makes the offline model for `kind = "builtin"` providers and for the
/// provider and route named `builtin` that always exist.
pub fn gateway(
    config: &GatewayConfig,
    secret: &dyn Fn(&str) -> Option<String>,
    builtin: &BuiltinFactory,
) -> Result<Gateway, RouterError> {
    if config.providers.len() > MAX_PROVIDERS {
        return Err(RouterError::Config(format!(
            "{} providers; at most {MAX_PROVIDERS}",
            config.providers.len()
        )));
    }
    let mut providers = config
        .providers
        .iter()
        .map(|provider| match provider.kind {
            ProviderKind::Builtin => Ok(builtin(provider.name.trim())),
            _ if provider.name.trim() == BUILTIN => Err(RouterError::Config(format!(
                "the provider name `{BUILTIN}` is kept for the built-in model; rename the `{}` provider",
                provider.kind.as_str()
            ))),
            _ => self::provider(provider, secret),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !providers.iter().any(|provider| provider.name() == BUILTIN) {
        providers.push(builtin(BUILTIN));
    }
    let mut routes = config.routes.clone();
    if !routes.iter().any(|route| route.model == BUILTIN) {
        routes.push(RouteConfig {
            model: BUILTIN.to_owned(),
            strategy: Default::default(),
            targets: vec![TargetConfig {
                provider: BUILTIN.to_owned(),
                model: BUILTIN.to_owned(),
                weight: 1,
            }],
        });
    }
    Gateway::new(
        providers,
        &routes,
        config.settings.clone(),
        PriceTable::new(config.prices.clone()),
    )
}

/// One provider from its configuration.
pub fn provider(
    config: &ProviderConfig,
    secret: &dyn Fn(&str) -> Option<String>,
) -> Result<Arc<dyn Provider>, RouterError> {
    let name = config.name.trim();
    if name.is_empty() || name.contains('/') || name.len() > 100 {
        return Err(RouterError::Config(format!(
            "provider name `{}`: use 1 to 100 characters and no `/`",
            config.name
        )));
    }
    let api_key = match &config.api_key_env {
        None => None,
        Some(variable) => Some(secret(variable).ok_or_else(|| {
            RouterError::Config(format!(
                "provider `{name}`: the environment variable {variable} is not set"
            ))
        })?),
    };
    let timeouts = Timeouts {
        connect: Duration::from_secs(config.connect_timeout_secs.max(1)),
        request: Duration::from_secs(config.request_timeout_secs.max(1)),
        ..Timeouts::default()
    };
    let base_url = |default: &str| {
        let url = config.base_url.as_deref().unwrap_or(default);
        if url.starts_with("http://") || url.starts_with("https://") {
            Ok(url.to_owned())
        } else {
            Err(RouterError::Config(format!(
                "provider `{name}`: base_url `{url}` is not an http(s) URL"
            )))
        }
    };
    match config.kind {
        ProviderKind::Openai => Ok(Arc::new(OpenAi::new(
            name,
            &base_url("https://api.openai.com/v1")?,
            api_key,
            timeouts,
        )?)),
        ProviderKind::Anthropic => Ok(Arc::new(Anthropic::new(
            name,
            &base_url("https://api.anthropic.com")?,
            api_key,
            timeouts,
        )?)),
        ProviderKind::Bedrock => {
            let region = config
                .region
                .clone()
                .or_else(|| secret("AWS_REGION"))
                .or_else(|| secret("AWS_DEFAULT_REGION"))
                .ok_or_else(|| {
                    RouterError::Config(format!("provider `{name}`: set `region` (or AWS_REGION)"))
                })?;
            let variable = |name: &str| {
                secret(name).ok_or_else(|| {
                    RouterError::Config(format!(
                        "provider `{}`: the environment variable {name} is not set",
                        config.name
                    ))
                })
            };
            let credentials = AwsCredentials {
                access_key_id: variable("AWS_ACCESS_KEY_ID")?,
                secret_access_key: variable("AWS_SECRET_ACCESS_KEY")?,
                session_token: secret("AWS_SESSION_TOKEN"),
            };
            let base_url = config.base_url.as_deref().map(|_| base_url("")).transpose()?;
            Ok(Arc::new(Bedrock::new(name, base_url.as_deref(), &region, credentials, timeouts)?))
        }
        ProviderKind::Builtin => Err(RouterError::Config(format!(
            "provider `{name}`: the built-in model is always there (as the `{BUILTIN}` route); add `openai`, `anthropic` or `bedrock` providers"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openai(name: &str, base_url: Option<&str>, key_env: Option<&str>) -> ProviderConfig {
        ProviderConfig {
            name: name.into(),
            kind: ProviderKind::Openai,
            base_url: base_url.map(str::to_owned),
            api_key_env: key_env.map(str::to_owned),
            region: None,
            connect_timeout_secs: 5,
            request_timeout_secs: 120,
        }
    }

    #[test]
    fn providers_are_checked_and_keys_come_from_the_environment() {
        let env = |name: &str| (name == "GROQ_KEY").then(|| "gsk-1".to_owned());
        assert!(
            provider(
                &openai("groq", Some("https://api.groq.com/openai/v1"), Some("GROQ_KEY")),
                &env
            )
            .is_ok()
        );
        let cases = [
            (openai("groq", None, Some("MISSING_KEY")), "MISSING_KEY is not set"),
            (openai("a/b", None, None), "no `/`"),
            (openai("local", Some("ftp://x"), None), "not an http(s) URL"),
        ];
        for (config, message) in cases {
            let error = provider(&config, &env).expect_err("refused");
            assert!(error.to_string().contains(message), "{error}");
        }
    }

    #[test]
    fn bedrock_takes_its_region_and_keys_from_the_config_and_the_aws_variables() {
        let bedrock = |region: Option<&str>| ProviderConfig {
            kind: ProviderKind::Bedrock,
            region: region.map(str::to_owned),
            ..openai("aws", None, None)
        };
        let full = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("AKID".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".to_owned()),
            _ => None,
        };
        let built = provider(&bedrock(Some("eu-west-1")), &full).expect("built");
        assert_eq!(built.kind(), "bedrock");
        let with_env_region = |name: &str| {
            if name == "AWS_REGION" { Some("us-west-2".to_owned()) } else { full(name) }
        };
        assert!(provider(&bedrock(None), &with_env_region).is_ok());
        let no_region = provider(&bedrock(None), &full).expect_err("no region");
        assert!(no_region.to_string().contains("region"), "{no_region}");
        let no_secret =
            |name: &str| if name == "AWS_SECRET_ACCESS_KEY" { None } else { full(name) };
        let missing = provider(&bedrock(Some("eu-west-1")), &no_secret).expect_err("no secret");
        assert!(missing.to_string().contains("AWS_SECRET_ACCESS_KEY"), "{missing}");
    }

    fn scripted(name: &str) -> Arc<dyn Provider> {
        Arc::new(crate::providers::scripted::Scripted::new(name, []))
    }

    #[test]
    fn every_gateway_has_the_builtin_provider_and_route() {
        let empty = gateway(&GatewayConfig::default(), &|_| None, &scripted).expect("gateway");
        let names: Vec<&str> = empty.routes().map(|route| route.name.as_str()).collect();
        assert_eq!(names, ["builtin"]);
        assert_eq!(empty.resolve("builtin").expect("route").targets[0].provider.name(), "builtin");

        let mut config = GatewayConfig::default();
        config
            .providers
            .push(ProviderConfig { kind: ProviderKind::Builtin, ..openai("offline", None, None) });
        config.routes.push(RouteConfig {
            model: "builtin".into(),
            strategy: Default::default(),
            targets: vec![TargetConfig {
                provider: "offline".into(),
                model: "builtin".into(),
                weight: 1,
            }],
        });
        let renamed = gateway(&config, &|_| None, &scripted).expect("gateway");
        let route = renamed.resolve("builtin").expect("route");
        assert_eq!(
            route.targets[0].provider.name(),
            "offline",
            "a configured `builtin` route wins"
        );

        let taken = GatewayConfig {
            providers: vec![openai("builtin", None, None)],
            ..GatewayConfig::default()
        };
        let error =
            gateway(&taken, &|_| None, &scripted).expect_err("name kept for the built-in model");
        assert!(error.to_string().contains("kept for the built-in model"), "{error}");
    }
}
