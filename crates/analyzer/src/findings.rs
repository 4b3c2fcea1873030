//! Findings: what the analyzer reports as worth a person's attention, with a rule id, a
//! severity and a place. Security rules live in `security/`, quality rules in `quality.rs`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tree_sitter::Node;

/// How much a finding matters; ordered, so `--fail-on medium` can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            _ => Err(format!("unknown severity `{s}` (expected low, medium or high)")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Security,
    Quality,
}

/// One finding in one file. Lines and columns start at 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// A stable id such as `py.subprocess-shell` or `quality.long-function`.
    pub rule: String,
    pub category: Category,
    pub severity: Severity,
    /// The CWE number, for security findings.
    pub cwe: Option<u32>,
    pub message: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    /// The first line of the code concerned, trimmed, at most 160 characters.
    pub snippet: String,
}

/// The longest snippet kept.
const MAX_SNIPPET_CHARS: usize = 160;

impl Finding {
    /// A finding about `node`, with its first line as the snippet.
    pub(crate) fn at(
        node: Node<'_>,
        source: &[u8],
        rule: &str,
        category: Category,
    ) -> FindingBuilder {
        let start = node.start_position();
        let place =
            (to_u32(start.row + 1), to_u32(start.column + 1), to_u32(node.end_position().row + 1));
        Self::at_byte(source, node.start_byte(), place, rule, category)
    }

    /// A finding about lines `line..=end_line` (from 1), such as a whole function;
    /// `line_starts` holds the byte offset where each line begins.
    pub(crate) fn at_lines(
        source: &[u8],
        line_starts: &[usize],
        line: u32,
        end_line: u32,
        rule: &str,
        category: Category,
    ) -> FindingBuilder {
        let index = usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX);
        let offset = line_starts.get(index).copied().unwrap_or(source.len());
        Self::at_byte(source, offset, (line, 1, end_line), rule, category)
    }

    fn at_byte(
        source: &[u8],
        offset: usize,
        place: (u32, u32, u32),
        rule: &str,
        category: Category,
    ) -> FindingBuilder {
        let offset = offset.min(source.len());
        let line_start = source[..offset].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line_end = source[line_start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(source.len(), |i| line_start + i);
        let snippet: String = String::from_utf8_lossy(&source[line_start..line_end])
            .trim()
            .chars()
            .take(MAX_SNIPPET_CHARS)
            .collect();
        let (line, column, end_line) = place;
        FindingBuilder(Finding {
            rule: rule.to_owned(),
            category,
            severity: Severity::Low,
            cwe: None,
            message: String::new(),
            line,
            column,
            end_line,
            snippet,
        })
    }
}

/// The byte offset where each line of `source` begins.
pub(crate) fn line_starts(source: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(source.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1))
        .collect()
}

/// Fills in a finding's remaining fields.
pub(crate) struct FindingBuilder(Finding);

impl FindingBuilder {
    pub(crate) fn severity(mut self, severity: Severity) -> Self {
        self.0.severity = severity;
        self
    }

    pub(crate) fn cwe(mut self, cwe: u32) -> Self {
        self.0.cwe = Some(cwe);
        self
    }

    pub(crate) fn message(mut self, message: impl Into<String>) -> Finding {
        self.0.message = message.into();
        self.0
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}
