//! What a generation's page knows, built from its events in order: each step's state and
//! time, the files as they are written (streamed text included), findings, the test run, the
//! capsule and how it ended. Pure, so the server-rendered page and the browser agree, and it
//! is tested without a browser.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::components::code_editor::EditorMarker;

/// One step of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct StepState {
    /// The step's key (`planner`, `coder:entity:books`, …).
    pub step: String,
    pub role: String,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    pub attempt: i64,
    pub seconds: Option<f64>,
    pub error: Option<String>,
}

/// A finding placed in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingState {
    pub path: String,
    pub severity: String,
    pub rule: String,
    pub message: String,
    pub line: Option<u64>,
}

/// The test run's summary.
#[derive(Debug, Clone, PartialEq)]
pub struct TestsState {
    pub skipped: bool,
    pub passed: u64,
    pub failed: u64,
    pub coverage_percent: Option<f64>,
}

/// Everything the page shows, as of the last event applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveState {
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    pub queue_position: Option<i64>,
    pub steps: Vec<StepState>,
    /// Each file's text so far, by path.
    pub files: BTreeMap<String, String>,
    /// Files a model is still writing.
    pub writing: Vec<String>,
    pub findings: Vec<FindingState>,
    /// Test cases reported one by one so far.
    pub test_cases: u64,
    pub tests: Option<TestsState>,
    pub capsule: Option<(String, String)>,
    pub error: Option<String>,
    /// The number of the last event applied.
    pub last_seq: i64,
}

/// The kinds of event a generation's stream carries.
pub const KINDS: [&str; 16] = [
    "queued",
    "started",
    "step_started",
    "step_finished",
    "step_failed",
    "spec",
    "plan",
    "file_delta",
    "file_written",
    "finding",
    "test_result",
    "tests",
    "capsule",
    "succeeded",
    "failed",
    "cancelled",
];

/// The kinds after which nothing more comes.
pub const FINAL: [&str; 3] = ["succeeded", "failed", "cancelled"];

/// The most findings kept for the problems list.
const MAX_FINDINGS: usize = 500;

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

impl LiveState {
    pub fn new(status: &str) -> Self {
        Self { status: status.to_owned(), ..Self::default() }
    }

    pub fn is_over(&self) -> bool {
        FINAL.contains(&self.status.as_str())
    }

    /// Applies event number `seq`; an event already applied (a replay) changes nothing.
    pub fn apply(&mut self, seq: i64, kind: &str, data: &Value) {
        if seq <= self.last_seq {
            return;
        }
        self.last_seq = seq;
        match kind {
            "queued" => {
                self.status = "queued".into();
                self.queue_position = data["position"].as_i64();
            }
            "started" => {
                self.status = "running".into();
                self.queue_position = None;
            }
            "step_started" => {
                let step = StepState {
                    step: text(data, "step"),
                    role: text(data, "role"),
                    status: "running".into(),
                    attempt: data["attempt"].as_i64().unwrap_or(1),
                    seconds: None,
                    error: None,
                };
                match self.steps.iter_mut().find(|known| known.step == step.step) {
                    Some(known) => *known = step,
                    None => self.steps.push(step),
                }
            }
            "step_finished" | "step_failed" => {
                let name = text(data, "step");
                if let Some(step) = self.steps.iter_mut().find(|known| known.step == name) {
                    step.status =
                        if kind == "step_finished" { "succeeded" } else { "failed" }.into();
                    step.seconds = data["seconds"].as_f64();
                    step.error = data["error"].as_str().map(str::to_owned);
                }
            }
            "file_delta" => {
                let path = text(data, "path");
                let file = self.files.entry(path.clone()).or_default();
                if data["offset"].as_u64() == Some(0) {
                    file.clear();
                }
                file.push_str(data["text"].as_str().unwrap_or_default());
                if !self.writing.contains(&path) {
                    self.writing.push(path);
                }
            }
            "file_written" => {
                let path = text(data, "path");
                self.writing.retain(|writing| *writing != path);
                self.files.insert(path, text(data, "contents"));
            }
            "finding" if self.findings.len() < MAX_FINDINGS => {
                let finding = &data["finding"];
                self.findings.push(FindingState {
                    path: text(data, "path"),
                    severity: text(finding, "severity"),
                    rule: text(finding, "rule"),
                    message: text(finding, "message"),
                    line: finding["line"].as_u64(),
                });
            }
            "test_result" => self.test_cases += 1,
            "tests" => {
                let report = &data["report"];
                self.tests = Some(TestsState {
                    skipped: data["skipped"].as_bool().unwrap_or(false),
                    passed: report["passed"].as_u64().unwrap_or(0),
                    failed: report["failed"].as_u64().unwrap_or(0)
                        + report["errors"].as_u64().unwrap_or(0),
                    coverage_percent: report["coverage_percent"].as_f64(),
                });
            }
            "capsule" => {
                self.capsule = Some((text(data, "capsule_id"), text(data, "sha256")));
            }
            "succeeded" | "failed" | "cancelled" => {
                self.status = kind.to_owned();
                self.writing.clear();
                if kind == "failed" {
                    self.error = Some(text(data, "error"));
                }
            }
            _ => {}
        }
    }

    /// The findings placed on a line of `path`, as editor markers.
    pub fn markers_of(&self, path: &str) -> Vec<EditorMarker> {
        markers_on(&self.findings, path)
    }

    /// The findings as they stand while people edit: a file analysed again since it was typed
    /// in shows that analysis; every other file keeps the generation's findings, in order.
    pub fn current_findings(
        &self,
        reanalysed: &BTreeMap<String, Vec<FindingState>>,
    ) -> Vec<FindingState> {
        let mut findings: Vec<FindingState> = self
            .findings
            .iter()
            .filter(|finding| !reanalysed.contains_key(&finding.path))
            .cloned()
            .collect();
        findings.extend(reanalysed.values().flatten().cloned());
        findings
    }
}

/// Findings by severity: high (critical and syntax errors too), medium, low.
pub fn count_by_severity(findings: &[FindingState]) -> (usize, usize, usize) {
    findings.iter().fold((0, 0, 0), |(high, medium, low), finding| {
        match finding.severity.as_str() {
            "critical" | "high" | "error" => (high + 1, medium, low),
            "medium" => (high, medium + 1, low),
            _ => (high, medium, low + 1),
        }
    })
}

/// The findings placed on a line of `path`, as editor markers.
pub fn markers_on(findings: &[FindingState], path: &str) -> Vec<EditorMarker> {
    findings
        .iter()
        .filter(|finding| finding.path == path)
        .filter_map(|finding| {
            let line = finding.line?;
            Some(EditorMarker::for_finding(
                line,
                &finding.severity,
                &finding.rule,
                &finding.message,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn applied(events: &[(&str, Value)]) -> LiveState {
        let mut state = LiveState::new("queued");
        for (seq, (kind, data)) in events.iter().enumerate() {
            state.apply(seq as i64 + 1, kind, data);
        }
        state
    }

    #[test]
    fn a_generation_is_followed_from_queue_to_capsule() {
        let events = [
            ("queued", json!({"position": 2})),
            ("started", json!({"worker": "w"})),
            ("step_started", json!({"step": "planner", "role": "planner", "attempt": 1})),
            ("step_finished", json!({"step": "planner", "seconds": 0.25})),
            ("step_started", json!({"step": "coder:shared", "role": "coder", "attempt": 1})),
            ("file_delta", json!({"path": "app/main.py", "offset": 0, "text": "import os\n"})),
            ("file_delta", json!({"path": "app/main.py", "offset": 10, "text": "print(1)\n"})),
            ("file_delta", json!({"path": "app/main.py", "offset": 0, "text": "import sys\n"})),
            ("step_failed", json!({"step": "coder:shared", "error": "the stream broke"})),
            ("step_started", json!({"step": "coder:shared", "role": "coder", "attempt": 2})),
            ("file_written", json!({"path": "app/main.py", "contents": "import sys\nok()\n"})),
            ("step_finished", json!({"step": "coder:shared", "seconds": 1.5})),
            (
                "finding",
                json!({"path": "app/main.py", "finding": {"severity": "low", "rule": "r", "message": "m", "line": 2}}),
            ),
            ("test_result", json!({"name": "t1"})),
            (
                "tests",
                json!({"skipped": false, "report": {"passed": 41, "failed": 0, "errors": 0, "coverage_percent": 92.5}}),
            ),
            ("capsule", json!({"capsule_id": "c1", "sha256": "ab"})),
            ("succeeded", json!({"capsule_id": "c1"})),
        ];
        let state = applied(&events);
        assert_eq!(state.status, "succeeded");
        assert!(state.is_over());
        let steps: Vec<(&str, &str, i64)> =
            state.steps.iter().map(|s| (s.step.as_str(), s.status.as_str(), s.attempt)).collect();
        assert_eq!(steps, [("planner", "succeeded", 1), ("coder:shared", "succeeded", 2)]);
        assert_eq!(state.steps[1].seconds, Some(1.5));
        assert_eq!(state.files["app/main.py"], "import sys\nok()\n");
        assert!(state.writing.is_empty());
        assert_eq!(count_by_severity(&state.findings), (0, 0, 1));
        assert_eq!(
            state.markers_of("app/main.py"),
            [EditorMarker::for_finding(2, "low", "r", "m")]
        );
        assert!(state.markers_of("app/other.py").is_empty());
        assert_eq!(state.test_cases, 1);
        assert_eq!(
            state.tests,
            Some(TestsState {
                skipped: false,
                passed: 41,
                failed: 0,
                coverage_percent: Some(92.5)
            })
        );
        assert_eq!(state.capsule, Some(("c1".into(), "ab".into())));
    }

    #[test]
    fn a_file_analysed_again_replaces_its_findings_and_only_its_own() {
        let finding = |path: &str, severity: &str, line: u64| FindingState {
            path: path.into(),
            severity: severity.into(),
            rule: "r".into(),
            message: format!("{severity} at {line}"),
            line: Some(line),
        };
        let mut state = LiveState::new("succeeded");
        state.findings =
            vec![finding("a.py", "high", 1), finding("b.py", "low", 2), finding("a.py", "low", 3)];
        /// Files analysed again, the messages listed, and the counts by severity.
        type Case<'a> = (&'a [(&'a str, Vec<FindingState>)], &'a [&'a str], (usize, usize, usize));
        let cases: [Case; 3] = [
            (&[], &["high at 1", "low at 2", "low at 3"], (1, 0, 2)),
            (&[("a.py", vec![])], &["low at 2"], (0, 0, 1)),
            (
                &[
                    ("a.py", vec![finding("a.py", "error", 9)]),
                    ("c.py", vec![finding("c.py", "medium", 4)]),
                ],
                &["low at 2", "error at 9", "medium at 4"],
                (1, 1, 1),
            ),
        ];
        for (reanalysed, expected, counts) in cases {
            let reanalysed: BTreeMap<String, Vec<FindingState>> = reanalysed
                .iter()
                .map(|(path, found)| ((*path).to_owned(), found.clone()))
                .collect();
            let current = state.current_findings(&reanalysed);
            let messages: Vec<&str> = current.iter().map(|f| f.message.as_str()).collect();
            assert_eq!(messages, expected);
            assert_eq!(count_by_severity(&current), counts);
        }
        assert_eq!(markers_on(&[finding("a.py", "error", 9)], "a.py")[0].severity, "error");
    }

    #[test]
    fn streamed_text_shows_while_it_is_written_and_replays_change_nothing() {
        let mut state = LiveState::new("running");
        state.apply(1, "file_delta", &json!({"path": "a.py", "offset": 0, "text": "x = 1\n"}));
        assert_eq!(state.files["a.py"], "x = 1\n");
        assert_eq!(state.writing, ["a.py"]);
        let before = state.clone();
        state.apply(1, "file_delta", &json!({"path": "a.py", "offset": 0, "text": "x = 1\n"}));
        assert_eq!(state, before, "an event seen before is skipped");
        state.apply(2, "failed", &json!({"step": "coder:x", "error": "no"}));
        assert_eq!((state.status.as_str(), state.error.as_deref()), ("failed", Some("no")));
    }
}
