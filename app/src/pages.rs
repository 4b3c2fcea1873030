//! One module per page, named by what it shows.

pub mod audit;
pub mod capsules;
pub mod dashboard;
pub mod generation;
pub mod login;
pub mod new_app;
pub mod not_found;
pub mod projects;
pub mod providers;
pub mod settings;
pub mod usage;
