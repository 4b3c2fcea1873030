//! The pipeline end to end. Without the test run it needs nothing; with it (tests named
//! `generated_apps_*`, run in the services tier) it needs bubblewrap and the package registry
//! for the first dependency install.

use super::*;
use crate::templates::tests::EXAMPLES;

fn options(run_tests: bool) -> Options {
    Options {
        stack: Stack::PythonFastapi,
        run_tests,
        dependency_cache: crate::deps::default_cache(),
        test_timeout: Duration::from_secs(240),
        created_at: "2026-11-26T10:00:00Z".into(),
    }
}

#[tokio::test]
async fn without_tests_each_example_becomes_a_verified_deterministic_capsule() {
    let key = ql_capsule::InstallationKey::generate();
    for description in EXAMPLES {
        let steps = std::sync::Mutex::new(Vec::new());
        let record =
            |step: Step| steps.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(step);
        let generated = generate(description, &options(false), &key, &record)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            *steps.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
            [Step::ExtractingSpec, Step::RenderingFiles, Step::CheckingFiles, Step::PackingCapsule]
        );
        let verified = ql_capsule::verify(&generated.capsule.bytes, &ql_capsule::Limits::default())
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(verified.files.len(), generated.files.len());
        assert_eq!(verified.manifest.stack, "python-fastapi");
        assert!(!verified.manifest.validation.tests_ran);
        let again = generate(description, &options(false), &key, &|_| {})
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            again.capsule.bytes, generated.capsule.bytes,
            "byte-identical for the same input"
        );
    }
}

#[tokio::test]
async fn meaningless_and_oversized_descriptions_are_refused_with_a_sentence() {
    let key = ql_capsule::InstallationKey::generate();
    let error = generate("hello", &options(false), &key, &|_| {})
        .await
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(error.contains("keep track of"), "{error}");
    let error = generate(&"x ".repeat(20_000), &options(false), &key, &|_| {})
        .await
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(error.contains("20480"), "{error}");
}

#[tokio::test]
async fn generated_apps_pass_their_own_tests_in_the_sandbox() {
    let key = ql_capsule::InstallationKey::generate();
    for description in EXAMPLES {
        let generated = generate(description, &options(true), &key, &|_| {})
            .await
            .unwrap_or_else(|error| panic!("{description}: {error}"));
        let report = generated.tests.as_ref().unwrap_or_else(|| panic!("tests ran"));
        assert!(report.succeeded() && report.passed >= 40, "{report:?}");
        assert!(report.coverage_percent.is_some_and(|coverage| coverage >= 85.0), "{report:?}");
        let manifest = &generated.capsule.manifest;
        assert_eq!(
            (manifest.validation.tests_passed, manifest.validation.tests_failed),
            (report.passed, 0)
        );
        eprintln!(
            "{}: {} tests passed, coverage {:?}%, {:.1} s",
            generated.spec.name, report.passed, report.coverage_percent, report.seconds
        );
    }
}
