//! Validation of a generated project: every file through the analyzer (syntax errors and
//! high-severity findings fail), then the project's own tests in the sandbox, with their
//! results and coverage read back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ql_analyzer::Severity;
use serde::Serialize;

use crate::EngineError;
use crate::stacks::Stack;
use crate::templates::GeneratedFile;

/// What the analyzer found in the project's files.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StaticReport {
    pub files: usize,
    /// Files with syntax errors, with the first error of each.
    pub syntax_errors: Vec<String>,
    pub findings_high: Vec<String>,
    pub findings_medium: usize,
    pub findings_low: usize,
}

impl StaticReport {
    /// Whether the files may go on to their tests.
    pub fn passed(&self) -> bool {
        self.syntax_errors.is_empty() && self.findings_high.is_empty()
    }
}

/// How the project's own tests went.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TestReport {
    pub passed: u32,
    pub failed: u32,
    pub errors: u32,
    pub skipped: u32,
    pub coverage_percent: Option<f64>,
    pub timed_out: bool,
    pub exit_code: Option<i32>,
    pub seconds: f64,
    /// The end of the test output, for people and for a repair prompt.
    pub output_tail: String,
}

impl TestReport {
    pub fn succeeded(&self) -> bool {
        !self.timed_out
            && self.exit_code == Some(0)
            && self.failed == 0
            && self.errors == 0
            && self.passed > 0
    }
}

/// Runs the analyzer over every file it knows the language of.
pub fn check_files(files: &[GeneratedFile]) -> StaticReport {
    let options = ql_analyzer::Options::default();
    let mut report = StaticReport { files: files.len(), ..StaticReport::default() };
    for file in files {
        let Ok(analysis) = ql_analyzer::analyze(&file.path, file.contents.as_bytes(), &options)
        else {
            continue;
        };
        if let Some(error) = analysis.syntax_errors.first() {
            let what = match &error.expected {
                Some(expected) => format!("`{expected}` expected"),
                None => "syntax error".to_owned(),
            };
            report
                .syntax_errors
                .push(format!("{}:{}:{}: {what}", file.path, error.line, error.column));
        }
        for finding in &analysis.findings {
            match finding.severity {
                Severity::High => report.findings_high.push(format!(
                    "{}:{}: {} ({})",
                    file.path, finding.line, finding.message, finding.rule
                )),
                Severity::Medium => report.findings_medium += 1,
                Severity::Low => report.findings_low += 1,
            }
        }
    }
    report
}

/// Where test reports are written inside the project's copy.
const REPORT_DIR: &str = ".ql-reports";

/// Runs the project's tests in the sandbox with its installed dependencies.
pub async fn run_tests(
    stack: Stack,
    project: &Path,
    dependencies: &Path,
    wall: Duration,
) -> Result<TestReport, EngineError> {
    let (command, path): (Vec<String>, Vec<PathBuf>) = match stack {
        Stack::PythonFastapi => (
            [
                "python",
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "--cov=app",
                "--cov-report=json:.ql-reports/coverage.json",
                "--junitxml=.ql-reports/junit.xml",
            ]
            .iter()
            .map(|part| (*part).to_owned())
            .collect(),
            vec![dependencies.join("bin")],
        ),
    };
    std::fs::create_dir_all(project.join(REPORT_DIR))
        .map_err(|error| EngineError::Sandbox(error.to_string()))?;
    let job = ql_sandbox::Job {
        project: project.to_owned(),
        command,
        env: vec![
            ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
            ("COVERAGE_FILE".into(), "/tmp/.coverage".into()),
        ],
        read_only: vec![dependencies.to_owned()],
        path,
        limits: ql_sandbox::Limits {
            wall,
            cpu_seconds: wall.as_secs().max(1),
            ..ql_sandbox::Limits::default()
        },
    };
    let outcome =
        ql_sandbox::run(&job).await.map_err(|error| EngineError::Sandbox(error.to_string()))?;
    let junit = std::fs::read_to_string(outcome.file(&format!("{REPORT_DIR}/junit.xml")))
        .unwrap_or_default();
    let coverage = std::fs::read_to_string(outcome.file(&format!("{REPORT_DIR}/coverage.json")))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| value["totals"]["percent_covered"].as_f64());
    let counts = junit_counts(&junit);
    let output = format!("{}{}", outcome.stdout, outcome.stderr);
    let tail_start = output.char_indices().rev().nth(4_000).map_or(0, |(index, _)| index);
    Ok(TestReport {
        passed: counts.tests.saturating_sub(counts.failures + counts.errors + counts.skipped),
        failed: counts.failures,
        errors: counts.errors,
        skipped: counts.skipped,
        coverage_percent: coverage.map(|percent| (percent * 10.0).round() / 10.0),
        timed_out: outcome.timed_out,
        exit_code: outcome.code,
        seconds: outcome.elapsed.as_secs_f64(),
        output_tail: output[tail_start..].to_owned(),
    })
}

#[derive(Debug, Default, PartialEq, Eq)]
struct JunitCounts {
    tests: u32,
    failures: u32,
    errors: u32,
    skipped: u32,
}

/// The counts on the first `<testsuite …>` element of a JUnit XML report.
fn junit_counts(xml: &str) -> JunitCounts {
    let Some(start) = xml.find("<testsuite ") else { return JunitCounts::default() };
    let tag = &xml[start..xml[start..].find('>').map_or(xml.len(), |end| start + end)];
    let attribute = |name: &str| -> u32 {
        let key = format!(" {name}=\"");
        tag.find(&key)
            .and_then(|at| tag[at + key.len()..].split('"').next())
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    JunitCounts {
        tests: attribute("tests"),
        failures: attribute("failures"),
        errors: attribute("errors"),
        skipped: attribute("skipped"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_counts_are_read_from_the_suite() {
        let xml = r#"<?xml version="1.0"?><testsuites name="pytest"><testsuite name="pytest" errors="1" failures="2" skipped="3" tests="117" time="15.6"><testcase/></testsuite></testsuites>"#;
        assert_eq!(
            junit_counts(xml),
            JunitCounts { tests: 117, failures: 2, errors: 1, skipped: 3 }
        );
        assert_eq!(junit_counts("not xml"), JunitCounts::default());
    }

    #[test]
    fn syntax_errors_and_high_findings_fail_the_static_checks() {
        let files = vec![
            GeneratedFile { path: "ok.py".into(), contents: "x = 1\n".into() },
            GeneratedFile { path: "broken.py".into(), contents: "def f(:\n".into() },
            GeneratedFile {
                path: "unsafe.py".into(),
                contents: "import subprocess\ndef run(name):\n    subprocess.call('ls ' + name, shell=True)\n".into(),
            },
        ];
        let report = check_files(&files);
        assert_eq!(report.files, 3);
        assert_eq!(report.syntax_errors.len(), 1, "{report:?}");
        assert!(report.syntax_errors[0].starts_with("broken.py:1"));
        assert!(
            report.findings_high.iter().any(|finding| finding.starts_with("unsafe.py")),
            "{report:?}"
        );
        assert!(!report.passed());
        assert!(check_files(&files[..1]).passed());
    }
}
