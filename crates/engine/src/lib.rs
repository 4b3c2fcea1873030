//! The generation engine: a plain-language description becomes an [`spec::AppSpec`]; the
//! built-in offline model ([`builtin_model::BuiltinModel`]) answers through the LLM router
//! with the same extractor, so a fresh install always has a model that works.

#![recursion_limit = "256"]

pub mod builtin_model;
pub mod deps;
pub mod error;
pub mod generate;
pub mod model_generation;
pub mod spec;
pub mod stacks;
pub mod templates;
pub mod test_cases;
pub mod validate;

pub use error::EngineError;
