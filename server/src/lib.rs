//! The QuantumLayer server: configuration, HTTP routes and the wiring of the domain crates.
//!
//! The binary (`main.rs`) parses the command line and calls into here; tests build the same
//! router with [`http_router`] and call it without a socket.

mod analyze_command;
mod capsule_command;
pub mod cli;
pub mod config;
mod generate_command;
mod middleware;
mod priority;
mod router;
mod routes;
mod secret_key;
mod session_store;
pub mod telemetry;

pub use router::{http_router, open_services};
