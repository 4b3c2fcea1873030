//! Scanning trees of files: a gitignore-aware walk (`ignore`), analysis in parallel across
//! files (`rayon`), totals per directory and for the run, and the three output formats.
//!
//! This is the IO side of the analyzer: it reads files and knows about directories; the
//! analysis itself stays in the pure `ql-analyzer` crate.

mod duplicates;
mod render;
mod scan;
mod totals;

pub use render::{Format, render};
pub use scan::{ScanError, ScanOptions, ScanReport, Skipped, scan, scan_sources};
pub use totals::Totals;

/// The schema name and version written into JSON output; `SCHEMA.md` beside this crate
/// describes every field.
pub const SCHEMA: &str = "quantumlayer.analysis/v1";
