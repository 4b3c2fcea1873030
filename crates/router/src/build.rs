//! Builds providers and the gateway from configuration.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{ProviderConfig, ProviderKind, RouteConfig, RouterSettings};
use crate::error::RouterError;
use crate::gateway::Gateway;
use crate::http::Timeouts;
use crate::pricing::{PriceEntry, PriceTable};
use crate::provider::Provider;
use crate::providers::anthropic::Anthropic;
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

/// Builds the gateway; `secret` looks up the environment variable a provider names for its key.
pub fn gateway(
    config: &GatewayConfig,
    secret: &dyn Fn(&str) -> Option<String>,
) -> Result<Gateway, RouterError> {
    if config.providers.len() > MAX_PROVIDERS {
        return Err(RouterError::Config(format!(
            "{} providers; at most {MAX_PROVIDERS}",
            config.providers.len()
        )));
    }
    let providers = config
        .providers
        .iter()
        .map(|provider| self::provider(provider, secret))
        .collect::<Result<Vec<_>, _>>()?;
    Gateway::new(
        providers,
        &config.routes,
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
        other => Err(RouterError::Config(format!(
            "provider `{name}`: the kind `{}` is not available yet; use `openai` (any OpenAI-compatible server)",
            other.as_str()
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
}
