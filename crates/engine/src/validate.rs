//! Validation of a generated project: every file through the analyzer (syntax errors and
//! high-severity findings fail), then the project's own tests in the sandbox, with their
//! results and coverage read back.

use std::path::Path;
use std::time::Duration;

use ql_analyzer::Severity;
use serde::Serialize;

use crate::EngineError;
use crate::stacks::Stack;
use crate::templates::GeneratedFile;

/// What the analyzer found in the project's files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
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
    /// Each test and its outcome (at most [`crate::test_cases::MAX_TEST_CASES`]).
    #[serde(default)]
    pub cases: Vec<crate::test_cases::TestCase>,
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

/// The quality report a capsule's manifest carries: the analyzer's counts and, when the
/// project's tests ran, their results.
pub fn capsule_report(
    checks: &StaticReport,
    tests: Option<&TestReport>,
) -> ql_capsule::ValidationReport {
    ql_capsule::ValidationReport {
        syntax_errors: checks.syntax_errors.len() as u32,
        findings_high: checks.findings_high.len() as u32,
        findings_medium: checks.findings_medium as u32,
        findings_low: checks.findings_low as u32,
        tests_ran: tests.is_some(),
        tests_passed: tests.map_or(0, |report| report.passed),
        tests_failed: tests.map_or(0, |report| report.failed + report.errors),
        coverage_percent: tests.and_then(|report| report.coverage_percent),
    }
}

/// Where test reports are written inside the project's copy.
const REPORT_DIR: &str = ".ql-reports";

/// The Rust tests: all of them (a failure does not stop the rest), their output kept, then
/// the coverage profiles merged and exported as LCOV for the project's own sources.
const RUST_TEST_SCRIPT: &str = "mkdir -p .ql-reports /tmp/profiles; \
    cargo test $CARGO_OFFLINE --no-fail-fast 2>&1 | tee .ql-reports/test-output.txt; status=${PIPESTATUS[0]}; \
    if ls /tmp/profiles/*.profraw > /dev/null 2>&1; then \
      objects=$(cargo test $CARGO_OFFLINE --no-run --message-format=json 2>/dev/null | grep -o '\"executable\":\"[^\"]*\"' | cut -d'\"' -f4 | sed 's/^/-object=/'); \
      llvm-profdata merge -sparse /tmp/profiles/*.profraw -o /tmp/merged.profdata && \
      llvm-cov export -format=lcov -instr-profile=/tmp/merged.profdata $objects \
        -ignore-filename-regex='/(vendor|rustc|[.]cargo|tests)/|src/main[.]rs$' > .ql-reports/lcov.info; \
    fi; exit $status";

/// The Node tests: compiled by tsc, run by node:test with JUnit and LCOV reports.
const NODE_TEST_SCRIPT: &str = "node node_modules/typescript/bin/tsc -p tsconfig.json && \
    node --test --experimental-test-coverage \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=junit --test-reporter-destination=.ql-reports/junit.xml \
    --test-reporter=lcov --test-reporter-destination=.ql-reports/lcov.info \
    dist/tests/";

/// A sandbox job over a copy of `project` with its installed dependencies in reach, running
/// `script` (a shell command; by default the stack's tests) within `wall`.
pub(crate) fn sandbox_job(
    stack: Stack,
    project: &Path,
    dependencies: &Path,
    script: Option<String>,
    wall: Duration,
) -> ql_sandbox::Job {
    let limits = ql_sandbox::Limits {
        wall,
        cpu_seconds: wall.as_secs().max(1),
        ..ql_sandbox::Limits::default()
    };
    let shell = |script: String| vec!["sh".to_owned(), "-c".to_owned(), script];
    match stack {
        Stack::PythonFastapi => ql_sandbox::Job {
            project: project.to_owned(),
            command: shell(script.unwrap_or_else(|| {
                "python -m pytest -q -p no:cacheprovider --cov=app \
                 --cov-report=json:.ql-reports/coverage.json --junitxml=.ql-reports/junit.xml"
                    .to_owned()
            })),
            env: vec![
                ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
                ("COVERAGE_FILE".into(), "/tmp/.coverage".into()),
            ],
            read_only: vec![dependencies.to_owned()],
            project_mounts: Vec::new(),
            copies: Vec::new(),
            path: vec![dependencies.join("bin")],
            limits,
        },
        Stack::TypescriptExpress => ql_sandbox::Job {
            project: project.to_owned(),
            command: shell(script.unwrap_or_else(|| NODE_TEST_SCRIPT.to_owned())),
            env: vec![("NODE_ENV".into(), "test".into())],
            read_only: Vec::new(),
            project_mounts: vec![(dependencies.join("node_modules"), "node_modules".into())],
            copies: Vec::new(),
            path: Vec::new(),
            // V8 reserves far more address space than it uses.
            limits: ql_sandbox::Limits { memory_mib: 16 * 1024, ..limits },
        },
        Stack::RustAxum => crate::deps::rust::project_job(
            project,
            dependencies,
            script.unwrap_or_else(|| RUST_TEST_SCRIPT.to_owned()),
            wall,
        ),
    }
}

/// Runs the project's tests in the sandbox with its installed dependencies.
pub async fn run_tests(
    stack: Stack,
    project: &Path,
    dependencies: &Path,
    wall: Duration,
) -> Result<TestReport, EngineError> {
    std::fs::create_dir_all(project.join(REPORT_DIR))
        .map_err(|error| EngineError::Sandbox(error.to_string()))?;
    let job = sandbox_job(stack, project, dependencies, None, wall);
    let outcome =
        ql_sandbox::run(&job).await.map_err(|error| EngineError::Sandbox(error.to_string()))?;
    let report =
        |name: &str| std::fs::read_to_string(outcome.file(&format!("{REPORT_DIR}/{name}")));
    let junit = report("junit.xml").unwrap_or_default();
    let coverage = match stack {
        Stack::PythonFastapi => report("coverage.json")
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|value| value["totals"]["percent_covered"].as_f64()),
        Stack::TypescriptExpress | Stack::RustAxum => {
            report("lcov.info").ok().and_then(|text| lcov_line_coverage(&text, "src/"))
        }
    };
    let (counts, cases) = match stack {
        Stack::RustAxum => {
            let output = report("test-output.txt").unwrap_or_default();
            (cargo_test_counts(&output), crate::test_cases::from_cargo_test(&output))
        }
        _ => (junit_counts(&junit), crate::test_cases::from_junit(&junit)),
    };
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
        cases,
    })
}

/// The percentage of lines hit in an LCOV report, over the files whose path has `under` in it
/// (the app's sources, not its tests).
fn lcov_line_coverage(lcov: &str, under: &str) -> Option<f64> {
    let (mut found, mut hit) = (0u64, 0u64);
    let mut counted = false;
    for line in lcov.lines() {
        if let Some(path) = line.strip_prefix("SF:") {
            counted = path.contains(under) && !path.contains("tests/");
        } else if let Some(number) = line.strip_prefix("LF:").filter(|_| counted) {
            found += number.trim().parse::<u64>().unwrap_or(0);
        } else if let Some(number) = line.strip_prefix("LH:").filter(|_| counted) {
            hit += number.trim().parse::<u64>().unwrap_or(0);
        }
    }
    (found > 0).then(|| hit as f64 * 100.0 / found as f64)
}

/// The sums of `cargo test`'s `test result:` lines (one per test binary).
fn cargo_test_counts(output: &str) -> JunitCounts {
    let mut counts = JunitCounts::default();
    for line in output.lines().filter_map(|line| line.trim().strip_prefix("test result: ")) {
        let number = |label: &str| -> u32 {
            line.split(';')
                .map(str::trim)
                .find_map(|part| {
                    part.strip_suffix(label).and_then(|n| n.trim().rsplit(' ').next()?.parse().ok())
                })
                .unwrap_or(0)
        };
        let (passed, failed, ignored) = (number("passed"), number("failed"), number("ignored"));
        counts.tests += passed + failed + ignored;
        counts.failures += failed;
        counts.skipped += ignored;
    }
    counts
}

#[derive(Debug, Default, PartialEq, Eq)]
struct JunitCounts {
    tests: u32,
    failures: u32,
    errors: u32,
    skipped: u32,
}

/// The counts of a JUnit XML report: Node's summary comments (`<!-- pass 3 -->`), or else the
/// first `<testsuite …>` element's attributes (pytest).
fn junit_counts(xml: &str) -> JunitCounts {
    let comment = |name: &str| -> Option<u32> {
        let key = format!("<!-- {name} ");
        let at = xml.rfind(&key)?;
        xml[at + key.len()..].split_whitespace().next()?.parse().ok()
    };
    if let (Some(tests), Some(failures)) = (comment("tests"), comment("fail")) {
        return JunitCounts {
            tests,
            failures,
            errors: comment("cancelled").unwrap_or(0),
            skipped: comment("skipped").unwrap_or(0) + comment("todo").unwrap_or(0),
        };
    }
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
        let node = "<testsuites>\n\t<testcase name=\"one\"/>\n\t<!-- tests 52 -->\n\t<!-- suites 2 -->\n\t<!-- pass 49 -->\n\t<!-- fail 2 -->\n\t<!-- cancelled 1 -->\n\t<!-- skipped 0 -->\n\t<!-- todo 0 -->\n</testsuites>";
        assert_eq!(
            junit_counts(node),
            JunitCounts { tests: 52, failures: 2, errors: 1, skipped: 0 }
        );
    }

    #[test]
    fn cargo_test_counts_add_up_every_binary() {
        let output = "running 2 tests\ntest a ... ok\n\ntest result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s\n\n     Running tests/books.rs\n\ntest result: FAILED. 30 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.20s\n";
        assert_eq!(
            cargo_test_counts(output),
            JunitCounts { tests: 35, failures: 2, errors: 0, skipped: 1 }
        );
        assert_eq!(cargo_test_counts("error[E0425]: cannot find value"), JunitCounts::default());
    }

    #[test]
    fn lcov_coverage_counts_the_apps_sources_only() {
        let lcov = "TN:\nSF:/sandbox/dist/src/app.js\nLF:10\nLH:9\nend_of_record\nSF:/sandbox/dist/src/fields.js\nLF:30\nLH:21\nend_of_record\nSF:/sandbox/dist/tests/helpers.js\nLF:50\nLH:10\nend_of_record\n";
        assert_eq!(lcov_line_coverage(lcov, "src/"), Some(75.0));
        assert_eq!(lcov_line_coverage("TN:\n", "src/"), None);
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
