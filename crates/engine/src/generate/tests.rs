//! The pipeline end to end. Without the test run it needs nothing; with it (tests named
//! `generated_apps_*`, run in the services tier) it needs bubblewrap and the package registry
//! for the first dependency install.

use super::*;
use crate::templates::tests::EXAMPLES;

fn options(run_tests: bool) -> Options {
    options_for(Stack::PythonFastapi, run_tests)
}

fn options_for(stack: Stack, run_tests: bool) -> Options {
    Options {
        stack,
        model: None,
        budget: crate::model_generation::Budget::default(),
        run_tests,
        dependency_cache: crate::deps::default_cache(),
        test_timeout: Duration::from_secs(240),
        created_at: "2026-11-26T10:00:00Z".into(),
    }
}

#[tokio::test]
async fn without_tests_each_example_becomes_a_verified_deterministic_capsule() {
    let key = ql_capsule::InstallationKey::generate();
    for (stack, description) in
        Stack::ALL.iter().flat_map(|stack| EXAMPLES.iter().map(move |example| (*stack, *example)))
    {
        let steps = std::sync::Mutex::new(Vec::new());
        let record =
            |step: Step| steps.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(step);
        let generated = generate(description, &options_for(stack, false), &key, &record)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            *steps.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
            [Step::ExtractingSpec, Step::RenderingFiles, Step::CheckingFiles, Step::PackingCapsule]
        );
        let verified = ql_capsule::verify(&generated.capsule.bytes, &ql_capsule::Limits::default())
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(verified.files.len(), generated.files.len());
        assert_eq!(verified.manifest.stack, stack.id());
        assert!(!verified.manifest.validation.tests_ran);
        let again = generate(description, &options_for(stack, false), &key, &|_| {})
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
    for stack in &stacks_under_test() {
        for description in EXAMPLES {
            let generated = generate(description, &options_for(*stack, true), &key, &|_| {})
                .await
                .unwrap_or_else(|error| panic!("{} {description}: {error}", stack.id()));
            let report = generated.tests.as_ref().unwrap_or_else(|| panic!("tests ran"));
            assert!(report.succeeded() && report.passed >= 40, "{report:?}");
            assert!(report.coverage_percent.is_some_and(|coverage| coverage >= 85.0), "{report:?}");
            let manifest = &generated.capsule.manifest;
            assert_eq!(
                (manifest.validation.tests_passed, manifest.validation.tests_failed),
                (report.passed, 0)
            );
            eprintln!(
                "{} {}: {} tests passed, coverage {:?}%, {:.1} s",
                stack.id(),
                generated.spec.name,
                report.passed,
                report.coverage_percent,
                report.seconds
            );
        }
    }
}

/// The stacks the sandboxed tests cover: every stack, or those `QL_TEST_STACKS` names
/// (comma-separated), to try one stack alone.
fn stacks_under_test() -> Vec<Stack> {
    match std::env::var("QL_TEST_STACKS") {
        Ok(names) => names
            .split(',')
            .map(|name| Stack::parse(name.trim()).unwrap_or_else(|error| panic!("{error}")))
            .collect(),
        Err(_) => Stack::ALL.to_vec(),
    }
}

#[tokio::test]
async fn generated_apps_with_reserved_words_quotes_and_sql_in_their_names_build_and_pass() {
    let key = ql_capsule::InstallationKey::generate();
    for stack in &stacks_under_test() {
        let generated =
            generate(crate::templates::tests::HOSTILE, &options_for(*stack, true), &key, &|_| {})
                .await
                .unwrap_or_else(|error| panic!("{}: {error}", stack.id()));
        let report = generated.tests.as_ref().unwrap_or_else(|| panic!("tests ran"));
        assert!(report.succeeded() && report.passed >= 100, "{}: {report:?}", stack.id());
        eprintln!("{} hostile names: {} tests passed", stack.id(), report.passed);
    }
}

/// The schemathesis release the fuzz test runs.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// How the fuzz test starts a stack's app inside the sandbox.
fn serve_command(stack: Stack) -> &'static str {
    match stack {
        Stack::PythonFastapi => "python -m app",
        Stack::TypescriptExpress => {
            "node node_modules/typescript/bin/tsc -p tsconfig.json && node dist/src/server.js"
        }
        Stack::RustAxum => "cargo run $CARGO_OFFLINE --quiet",
    }
}

#[tokio::test]
async fn generated_apps_survive_schemathesis_fuzzing_from_their_openapi_document() {
    let cache = crate::deps::default_cache();
    let schemathesis = crate::deps::prepare_python_tool(SCHEMATHESIS, &cache)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    for stack in &stacks_under_test() {
        for description in EXAMPLES {
            let spec =
                crate::spec::extract(description).unwrap_or_else(|error| panic!("{error}")).spec;
            let files = templates::render(&spec, *stack).unwrap_or_else(|error| panic!("{error}"));
            let (dependencies, _) = crate::deps::prepare(*stack, &files, &cache)
                .await
                .unwrap_or_else(|error| panic!("{error}"));
            let project = write_project(&files).unwrap_or_else(|error| panic!("{error}"));
            // The app and its fuzzer share the sandbox's own loopback; nothing leaves it.
            let script = format!(
                "({serve}) > /tmp/app.log 2>&1 &\n\
                 for i in $(seq 1800); do python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:8000/healthz\")' 2>/dev/null && break; sleep 0.1; done\n\
                 {tool}/bin/python -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = \"schemathesis\"; sys.exit(schemathesis())' \
                 run http://127.0.0.1:8000/openapi.json --checks all --max-examples 25 --seed 1\n\
                 status=$?; [ $status -ne 0 ] && tail -20 /tmp/app.log; exit $status",
                serve = serve_command(*stack),
                tool = schemathesis.display()
            );
            let mut job = crate::validate::sandbox_job(
                *stack,
                project.path(),
                &dependencies,
                Some(script),
                Duration::from_secs(300),
            );
            job.env.extend([
                ("PORT".into(), "8000".into()),
                ("DATABASE_PATH".into(), "/tmp/app.db".into()),
            ]);
            job.read_only.push(schemathesis.clone());
            let outcome = ql_sandbox::run(&job).await.unwrap_or_else(|error| panic!("{error}"));
            let output = format!("{}{}", outcome.stdout, outcome.stderr);
            assert!(
                outcome.success(),
                "{} {}: schemathesis found problems:\n{output}",
                stack.id(),
                spec.name
            );
            let summary =
                output.lines().rev().find(|line| line.contains("generated")).unwrap_or_default();
            eprintln!("{} {}: {}", stack.id(), spec.name, summary.trim());
        }
    }
}

#[tokio::test]
async fn generated_apps_a_models_project_becomes_a_capsule_that_names_the_model() {
    let written = crate::model_generation::tests::answer(EXAMPLES[2], |_, contents| contents);
    let spec = crate::spec::extract(EXAMPLES[2]).unwrap_or_else(|error| panic!("{error}")).spec;
    let spec_json = serde_json::to_string(&spec).unwrap_or_default();
    let scripted = std::sync::Arc::new(ql_router::providers::scripted::Scripted::new(
        "scripted",
        [
            ql_router::providers::scripted::Step::Reply(spec_json),
            ql_router::providers::scripted::Step::Reply(written),
        ],
    ));
    let model =
        crate::model_generation::ProviderModel { provider: scripted, model: "writer".into() };
    let options = Options { model: Some(std::sync::Arc::new(model)), ..options(true) };
    let key = ql_capsule::InstallationKey::generate();
    let generated = generate(EXAMPLES[2], &options, &key, &|_| {})
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let manifest = &generated.capsule.manifest;
    assert_eq!(manifest.provenance.model, "scripted/writer");
    assert_eq!(manifest.provenance.prompt_hashes.len(), 2, "the spec's prompt and the project's");
    assert_eq!(generated.spec, spec);
    assert!(manifest.usage.prompt_tokens > 0 && manifest.usage.completion_tokens > 0);
    assert!(manifest.validation.tests_ran && manifest.validation.tests_passed > 40);
    ql_capsule::verify(&generated.capsule.bytes, &ql_capsule::Limits::default())
        .unwrap_or_else(|error| panic!("{error}"));

    let unvalidated = Options { run_tests: false, ..options };
    let error = generate(EXAMPLES[2], &unvalidated, &key, &|_| {})
        .await
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(error.contains("always validated"), "{error}");
}

#[tokio::test]
async fn generated_apps_a_models_typescript_project_is_installed_from_the_engines_own_lock() {
    // The model writes no lock (it cannot know the integrity hashes); the engine adds its own.
    let written = crate::model_generation::tests::answer_in(
        Stack::TypescriptExpress,
        EXAMPLES[2],
        |_, contents| contents,
    );
    assert!(!written.contains("path=package-lock.json"));
    let spec = crate::spec::extract(EXAMPLES[2]).unwrap_or_else(|error| panic!("{error}")).spec;
    let scripted = std::sync::Arc::new(ql_router::providers::scripted::Scripted::new(
        "scripted",
        [
            ql_router::providers::scripted::Step::Reply(
                serde_json::to_string(&spec).unwrap_or_default(),
            ),
            ql_router::providers::scripted::Step::Reply(written),
        ],
    ));
    let model =
        crate::model_generation::ProviderModel { provider: scripted, model: "writer".into() };
    let options = Options {
        model: Some(std::sync::Arc::new(model)),
        ..options_for(Stack::TypescriptExpress, true)
    };
    let key = ql_capsule::InstallationKey::generate();
    let generated = generate(EXAMPLES[2], &options, &key, &|_| {})
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(generated.files.iter().any(|file| file.path == "package-lock.json"));
    let validation = &generated.capsule.manifest.validation;
    assert!(validation.tests_ran && validation.tests_passed > 40, "{validation:?}");
    assert_eq!(generated.capsule.manifest.stack, "typescript-express");
}
