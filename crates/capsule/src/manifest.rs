//! `capsule.json`: what a capsule holds and how it was made.

use serde::{Deserialize, Serialize};

/// The manifest format this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The manifest of one capsule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format_version: u32,
    pub id: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub description: String,
    /// The application spec the project was generated from.
    pub spec: serde_json::Value,
    pub stack: String,
    /// Every project file, sorted by path.
    pub files: Vec<FileEntry>,
    pub commands: Commands,
    pub port: u16,
    pub provenance: Provenance,
    pub usage: Usage,
    pub validation: ValidationReport,
    /// Set when people edited the generated files: the capsule they started from and which
    /// files differ from it. Its `validation` then describes the edited files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited: Option<Edited>,
}

/// How an edited capsule differs from the generated one it was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edited {
    /// The `id` of the generated capsule's manifest.
    pub from: String,
    /// Paths whose text people changed, sorted.
    pub changed: Vec<String>,
    /// Generated paths left out (files a refinement added and people rejected), sorted.
    pub removed: Vec<String>,
}

/// One project file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    /// Lowercase hex.
    pub sha256: String,
    pub size: u64,
}

/// How to install, test and run the project, from its root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    pub install: String,
    pub test: String,
    pub run: String,
}

/// Which model wrote the project, and hashes of the prompts it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    pub provider: String,
    pub model: String,
    /// SHA-256 of each prompt, in order.
    pub prompt_hashes: Vec<String>,
}

/// Tokens and cost spent generating the project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Millionths of a US dollar.
    pub cost_micros: u64,
}

/// What validation found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationReport {
    /// Files with syntax errors.
    pub syntax_errors: u32,
    /// Security and quality findings, by severity.
    pub findings_high: u32,
    pub findings_medium: u32,
    pub findings_low: u32,
    /// Whether the project's own tests ran (`false` with `--no-validate`).
    pub tests_ran: bool,
    pub tests_passed: u32,
    pub tests_failed: u32,
    /// Line coverage of the project's tests, when measured.
    pub coverage_percent: Option<f64>,
}
