//! Each test of a run with its outcome, read from what the runner left: JUnit XML (pytest,
//! `node:test`) or `cargo test`'s lines. A report holds at most [`MAX_TEST_CASES`]; names and
//! messages are cut to a readable length.

use serde::{Deserialize, Serialize};

/// The most cases one report keeps; a larger suite keeps its first ones (and its counts).
pub const MAX_TEST_CASES: usize = 2_000;
const MAX_NAME_CHARS: usize = 300;
const MAX_MESSAGE_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestOutcome {
    Passed,
    Failed,
    Error,
    Skipped,
}

/// One test and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    /// `module::test` (pytest's class name and the test's name; `node:test`'s suite path).
    pub name: String,
    pub outcome: TestOutcome,
    pub seconds: Option<f64>,
    /// The first line of a failure's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn cut(text: &str, chars: usize) -> String {
    let line = text.lines().find(|line| !line.trim().is_empty()).unwrap_or_default().trim();
    match line.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

/// The `<testcase>` elements of a JUnit XML report; none when it is not XML.
pub fn from_junit(xml: &str) -> Vec<TestCase> {
    let Ok(document) = roxmltree::Document::parse(xml) else { return Vec::new() };
    document
        .descendants()
        .filter(|node| node.has_tag_name("testcase"))
        .take(MAX_TEST_CASES)
        .map(|node| {
            let name = node.attribute("name").unwrap_or("unnamed");
            let name = match node.attribute("classname").filter(|class| !class.is_empty()) {
                Some(class) => format!("{class}::{name}"),
                None => name.to_owned(),
            };
            let verdict = node.children().find_map(|child| {
                let outcome = match child.tag_name().name() {
                    "failure" => TestOutcome::Failed,
                    "error" => TestOutcome::Error,
                    "skipped" => TestOutcome::Skipped,
                    _ => return None,
                };
                let message = child
                    .attribute("message")
                    .filter(|message| !message.trim().is_empty())
                    .or_else(|| child.text())
                    .unwrap_or("");
                Some((outcome, message))
            });
            let (outcome, message) = verdict.unwrap_or((TestOutcome::Passed, ""));
            TestCase {
                name: cut(&name, MAX_NAME_CHARS),
                outcome,
                seconds: node.attribute("time").and_then(|time| time.parse().ok()),
                message: (!message.trim().is_empty()).then(|| cut(message, MAX_MESSAGE_CHARS)),
            }
        })
        .collect()
}

/// The `test NAME ... ok|FAILED|ignored` lines of `cargo test`'s output.
pub fn from_cargo_test(output: &str) -> Vec<TestCase> {
    output
        .lines()
        .filter_map(|line| {
            let (name, verdict) = line.strip_prefix("test ")?.rsplit_once(" ... ")?;
            let outcome = match verdict.trim() {
                "ok" => TestOutcome::Passed,
                "FAILED" => TestOutcome::Failed,
                verdict if verdict.starts_with("ignored") => TestOutcome::Skipped,
                _ => return None,
            };
            Some(TestCase {
                name: cut(name, MAX_NAME_CHARS),
                outcome,
                seconds: None,
                message: None,
            })
        })
        .take(MAX_TEST_CASES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_cases_carry_their_outcome_and_first_message_line() {
        let xml = r#"<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="4">
            <testcase classname="tests.test_books" name="test_create" time="0.012"/>
            <testcase classname="tests.test_books" name="test_isbn" time="0.003"><failure message="assert 422 == 201&#10;more">trace</failure></testcase>
            <testcase classname="tests.test_books" name="test_db" time="0.001"><error message="">boom
second</error></testcase>
            <testcase name="test later"><skipped message="todo"/></testcase>
        </testsuite></testsuites>"#;
        let cases = from_junit(xml);
        let summary: Vec<(&str, TestOutcome, Option<&str>)> = cases
            .iter()
            .map(|case| (case.name.as_str(), case.outcome, case.message.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("tests.test_books::test_create", TestOutcome::Passed, None),
                ("tests.test_books::test_isbn", TestOutcome::Failed, Some("assert 422 == 201")),
                ("tests.test_books::test_db", TestOutcome::Error, Some("boom")),
                ("test later", TestOutcome::Skipped, Some("todo")),
            ]
        );
        assert_eq!(cases[0].seconds, Some(0.012));
        assert!(from_junit("not xml <").is_empty());
    }

    #[test]
    fn cargo_test_lines_become_cases() {
        let output = "running 3 tests\ntest books::creates ... ok\ntest books::refuses_bad_isbn ... FAILED\ntest slow ... ignored, needs a network\n\ntest result: FAILED. 1 passed; 1 failed; 1 ignored\n";
        let cases = from_cargo_test(output);
        let outcomes: Vec<(&str, TestOutcome)> =
            cases.iter().map(|case| (case.name.as_str(), case.outcome)).collect();
        assert_eq!(
            outcomes,
            [
                ("books::creates", TestOutcome::Passed),
                ("books::refuses_bad_isbn", TestOutcome::Failed),
                ("slow", TestOutcome::Skipped),
            ]
        );
    }

    #[test]
    fn long_names_are_cut_and_huge_suites_capped() {
        let long = "x".repeat(1_000);
        let xml = format!(
            "<testsuite>{}</testsuite>",
            format!("<testcase name=\"{long}\"/>").repeat(MAX_TEST_CASES + 5)
        );
        let cases = from_junit(&xml);
        assert_eq!(cases.len(), MAX_TEST_CASES);
        assert_eq!(cases[0].name.chars().count(), MAX_NAME_CHARS + 1);
    }
}
