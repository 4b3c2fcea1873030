//! Request filters that wrap every route.

pub mod csrf;
pub mod sign_in_guard;
