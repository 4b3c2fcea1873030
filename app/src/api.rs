//! Server functions: each authorizes, calls one service method and returns wire types.

pub mod analysis;
pub mod audit;
pub mod capsules;
pub mod dashboard;
pub mod files;
pub mod generations;
pub mod projects;
pub mod providers;
pub mod refine;
pub mod session;
