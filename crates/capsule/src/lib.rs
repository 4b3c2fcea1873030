//! Capsules: a generated project packed as a deterministic zip (sorted entries, fixed times
//! and modes: the same input gives the same bytes) with `capsule.json` (what it is, how to
//! install, test and run it, every file's SHA-256 and size, how it was made and checked) and
//! `capsule.sig` (an ed25519 signature of `capsule.json` with the installation's public key).
//! [`verify`] checks all of it and refuses unsafe archives.

mod archive;
mod error;
mod manifest;
mod signing;

pub use archive::{Capsule, Limits, ProjectFile, Verified, build, verify};
pub use error::CapsuleError;
pub use manifest::{
    Commands, Edited, FORMAT_VERSION, FileEntry, Manifest, Provenance, Usage, ValidationReport,
};
pub use signing::{InstallationKey, SIGNATURE_ALGORITHM, Signature};
