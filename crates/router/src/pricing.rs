//! Prices per million tokens, for the `cost` strategy, spend budgets and usage accounting.

use serde::{Deserialize, Serialize};

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

impl Price {
    /// One number to compare prices by: a typical 3:1 input-to-output mix.
    pub fn blended(&self) -> f64 {
        (3.0 * self.input_per_mtok + self.output_per_mtok) / 4.0
    }

    /// The cost of a call in millionths of a dollar, rounded up.
    pub fn cost_micros(&self, prompt_tokens: u64, completion_tokens: u64) -> u64 {
        let dollars_micros = prompt_tokens as f64 * self.input_per_mtok
            + completion_tokens as f64 * self.output_per_mtok;
        dollars_micros.max(0.0).ceil() as u64
    }
}

/// A configured price for a model (`[[prices]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceEntry {
    /// The upstream model name, such as `gpt-4o-mini`.
    pub model: String,
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

/// List prices of widely used models (USD per million tokens), used when the configuration
/// names no price; configured entries win.
const KNOWN_PRICES: &[(&str, f64, f64)] = &[
    ("gpt-4o", 2.5, 10.0),
    ("gpt-4o-mini", 0.15, 0.6),
    ("gpt-4.1", 2.0, 8.0),
    ("gpt-4.1-mini", 0.4, 1.6),
    ("gpt-4.1-nano", 0.1, 0.4),
    ("o3-mini", 1.1, 4.4),
    ("claude-3-5-haiku-latest", 0.8, 4.0),
    ("claude-3-5-sonnet-latest", 3.0, 15.0),
    ("claude-3-7-sonnet-latest", 3.0, 15.0),
    ("claude-sonnet-4-0", 3.0, 15.0),
    ("claude-opus-4-0", 15.0, 75.0),
    ("llama-3.1-8b-instant", 0.05, 0.08),
    ("llama-3.3-70b-versatile", 0.59, 0.79),
];

/// Prices by model name.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    configured: Vec<PriceEntry>,
}

impl PriceTable {
    pub fn new(configured: Vec<PriceEntry>) -> Self {
        Self { configured }
    }

    /// The price of `model`: configured, else a known list price, else free (local models).
    pub fn price(&self, model: &str) -> Price {
        if let Some(entry) = self.configured.iter().find(|entry| entry.model == model) {
            return Price {
                input_per_mtok: entry.input_per_mtok,
                output_per_mtok: entry.output_per_mtok,
            };
        }
        KNOWN_PRICES
            .iter()
            .find(|(name, _, _)| *name == model)
            .map(|&(_, input, output)| Price { input_per_mtok: input, output_per_mtok: output })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_prices_win_and_costs_round_up() {
        let table = PriceTable::new(vec![PriceEntry {
            model: "gpt-4o".into(),
            input_per_mtok: 1.0,
            output_per_mtok: 2.0,
        }]);
        assert_eq!(table.price("gpt-4o"), Price { input_per_mtok: 1.0, output_per_mtok: 2.0 });
        assert_eq!(
            table.price("gpt-4o-mini"),
            Price { input_per_mtok: 0.15, output_per_mtok: 0.6 }
        );
        assert_eq!(table.price("llama3.1"), Price::default());
        // 1,000 in at $0.15/M + 500 out at $0.60/M = $0.00045 = 450 micro-dollars.
        assert_eq!(table.price("gpt-4o-mini").cost_micros(1_000, 500), 450);
        assert_eq!(Price { input_per_mtok: 0.15, output_per_mtok: 0.0 }.cost_micros(1, 0), 1);
    }
}
