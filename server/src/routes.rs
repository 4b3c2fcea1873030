//! HTTP routes outside the Leptos app, one module per resource.

pub mod analyze;
pub mod capsules;
pub mod generations;
pub mod health;
pub mod metrics;
pub mod v1;
