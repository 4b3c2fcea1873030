//! Quality findings from the measured numbers: long or complex functions, deep nesting, many
//! parameters, large files. The thresholds are configurable; complexity limits default to
//! lizard's and SonarQube's warning level (15).

use serde::{Deserialize, Serialize};

use crate::findings::{Category, Finding, Severity, line_starts};
use crate::report::{FunctionReport, LineCounts};

/// Limits above which a quality finding is reported. A value of 0 turns that rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Code lines of one function (default 60, about a screen).
    pub function_nloc: u32,
    /// Cyclomatic complexity of one function (lizard's default warning: 15).
    pub cyclomatic: u32,
    /// Cognitive complexity of one function (SonarQube's default: 15).
    pub cognitive: u32,
    /// Nesting depth of control structures in one function.
    pub nesting: u32,
    /// Parameters of one function (default 6).
    pub parameters: u32,
    /// Code lines of one file (default 1000).
    pub file_code_lines: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            function_nloc: 60,
            cyclomatic: 15,
            cognitive: 15,
            nesting: 4,
            parameters: 6,
            file_code_lines: 1000,
        }
    }
}

/// Quality findings for a file's functions and size.
pub(crate) fn findings(
    source: &[u8],
    functions: &[FunctionReport],
    lines: LineCounts,
    limits: &Thresholds,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let over = |value: u32, limit: u32| limit > 0 && value > limit;
    // Computed once, and only when something fires: files can be megabytes long.
    let mut starts: Option<Vec<usize>> = None;
    for f in functions {
        // (value, limit, rule, severity, words before and after the value)
        let checks = [
            (
                f.nloc,
                limits.function_nloc,
                "quality.long-function",
                Severity::Low,
                ("has ", " lines of code"),
            ),
            (
                f.cyclomatic,
                limits.cyclomatic,
                "quality.cyclomatic-complexity",
                Severity::Medium,
                ("has cyclomatic complexity ", ""),
            ),
            (
                f.cognitive.unwrap_or(0),
                limits.cognitive,
                "quality.cognitive-complexity",
                Severity::Medium,
                ("has cognitive complexity ", ""),
            ),
            (
                f.max_nesting,
                limits.nesting,
                "quality.deep-nesting",
                Severity::Low,
                ("nests control structures ", " deep"),
            ),
            (
                f.parameters,
                limits.parameters,
                "quality.many-parameters",
                Severity::Low,
                ("takes ", " parameters"),
            ),
        ];
        for (value, limit, rule, severity, (before, after)) in checks {
            if over(value, limit) {
                let starts = starts.get_or_insert_with(|| line_starts(source));
                out.push(
                    Finding::at_lines(
                        source,
                        starts,
                        f.start_line,
                        f.end_line,
                        rule,
                        Category::Quality,
                    )
                    .severity(severity)
                    .message(format!("`{}` {before}{value}{after} (limit {limit})", f.name)),
                );
            }
        }
    }
    if over(lines.code, limits.file_code_lines) {
        out.push(
            Finding::at_lines(
                source,
                &[0],
                1,
                lines.total,
                "quality.large-file",
                Category::Quality,
            )
            .severity(Severity::Low)
            .message(format!(
                "the file has {} lines of code (limit {})",
                lines.code, limits.file_code_lines
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{Options, Thresholds, analyze};

    #[test]
    fn each_limit_fires_just_above_it() {
        let source =
            "def f(a, b, c):\n    if a:\n        if b:\n            return c\n    return a and b\n";
        let tight = Thresholds {
            function_nloc: 4,
            cyclomatic: 3,
            cognitive: 3,
            nesting: 1,
            parameters: 2,
            file_code_lines: 4,
        };
        let options = Options { thresholds: tight, ..Options::default() };
        let report = analyze("f.py", source.as_bytes(), &options).expect("analyze");
        let rules: Vec<_> = report.findings.iter().map(|f| (f.rule.as_str(), f.line)).collect();
        assert_eq!(
            rules,
            [
                ("quality.long-function", 1),
                ("quality.cyclomatic-complexity", 1),
                ("quality.cognitive-complexity", 1),
                ("quality.deep-nesting", 1),
                ("quality.many-parameters", 1),
                ("quality.large-file", 1),
            ]
        );
        assert_eq!(report.findings[0].snippet, "def f(a, b, c):");
        assert_eq!(report.findings[0].end_line, 5);
        // At the limit nothing fires: nloc 5, ccn 4, cognitive 4, nesting 2, params 3, 5 lines.
        let exact = Thresholds {
            function_nloc: 5,
            cyclomatic: 4,
            cognitive: 4,
            nesting: 2,
            parameters: 3,
            file_code_lines: 5,
        };
        let report = analyze(
            "f.py",
            source.as_bytes(),
            &Options { thresholds: exact, ..Options::default() },
        )
        .expect("analyze");
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        // Defaults leave a small function alone.
        let report = analyze("f.py", source.as_bytes(), &Options::default()).expect("analyze");
        assert!(report.findings.is_empty());
    }
}
