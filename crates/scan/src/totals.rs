//! Sums over many files: for a directory, or for the whole run.

use ql_analyzer::{FileReport, LineCounts, Severity};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub files: u64,
    pub lines: LineCounts,
    pub functions: u64,
    /// Sum of the functions' cyclomatic complexity.
    pub cyclomatic: u64,
    /// The highest cyclomatic complexity of one function.
    pub max_cyclomatic: u32,
    pub syntax_errors: u64,
    pub findings_high: u64,
    pub findings_medium: u64,
    pub findings_low: u64,
}

impl Totals {
    pub fn add(&mut self, file: &FileReport) {
        self.files += 1;
        self.lines += file.lines;
        self.functions += file.functions.len() as u64;
        for function in &file.functions {
            self.cyclomatic += u64::from(function.cyclomatic);
            self.max_cyclomatic = self.max_cyclomatic.max(function.cyclomatic);
        }
        self.syntax_errors += file.syntax_errors.len() as u64;
        for finding in &file.findings {
            match finding.severity {
                Severity::High => self.findings_high += 1,
                Severity::Medium => self.findings_medium += 1,
                Severity::Low => self.findings_low += 1,
            }
        }
    }

    /// Findings at `severity` or above.
    pub fn findings_at_least(&self, severity: Severity) -> u64 {
        match severity {
            Severity::High => self.findings_high,
            Severity::Medium => self.findings_high + self.findings_medium,
            Severity::Low => self.findings_high + self.findings_medium + self.findings_low,
        }
    }
}
