//! Types and rules shared by the server and the browser (this crate compiles to wasm).
//!
//! Nothing here does IO: roles, limits on user input and the checks that enforce them, so that
//! the form in the browser and the service on the server say the same thing about the same input.

pub mod role;
pub mod validation;

pub use role::Role;
pub use validation::{FieldError, validate_project_description, validate_project_name};
