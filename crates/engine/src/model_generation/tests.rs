//! The answer format, path refusal and failure signatures alone; and (tests named
//! `generated_apps_*`, run with the sandbox in the services tier) the repair loop against the
//! router's scripted provider: a model that writes a bug, then fixes it after seeing the
//! failing test, and one that keeps the bug.

use ql_router::providers::scripted::{Scripted, Step};

use super::*;
use crate::templates::tests::EXAMPLES;

#[test]
fn files_are_read_from_fenced_blocks_tagged_with_paths() {
    let answer = "Here you go.\n```python path=app/main.py\nprint(1)\n```\nNotes:\n```\nno path here\n```\n```text path=\"README.md\"\n# Hi\n\n```\n";
    let files = parse_files(answer).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(files.len(), 2);
    assert_eq!(files["app/main.py"], "print(1)\n");
    assert_eq!(files["README.md"], "# Hi\n\n");
    assert!(parse_files("no files at all").unwrap_or_default().is_empty());
    assert!(parse_files("```python path=a.py\nunclosed\n").is_err());
    let nested = parse_files("````markdown path=README.md\nRun:\n```sh\nmake\n```\n````\n```python path=b.py\nx = 1\n```\n")
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(nested["README.md"], "Run:\n```sh\nmake\n```\n");
    assert_eq!(nested["b.py"], "x = 1\n");
    for path in ["../evil.py", "/etc/passwd", "a/../../b", "C:/x", "a\\b", "./a", "a//b"] {
        let error =
            parse_files(&format!("```python path={path}\nx\n```\n")).err().unwrap_or_default();
        assert!(error.contains("outside the project"), "{path}: {error}");
    }
}

#[test]
fn a_failure_is_recognised_whatever_its_numbers() {
    let first = "The tests fail (40 passed, 1 failed, 0 errors).\nFAILED tests/test_a.py::test_x - assert 200 == 201\n1 failed in 3.21s";
    let again = "The tests fail (41 passed, 1 failed, 0 errors).\nFAILED tests/test_a.py::test_x - assert 200 == 201\n1 failed in 2.95s";
    let other = "The tests fail (40 passed, 1 failed, 0 errors).\nFAILED tests/test_b.py::test_y - KeyError\n1 failed in 3.21s";
    assert_eq!(signature(first), signature(again));
    assert_ne!(signature(first), signature(other));
}

/// The offline project as a model would answer it, with one change applied.
pub(crate) fn answer(description: &str, change: impl Fn(&str, String) -> String) -> String {
    answer_in(Stack::PythonFastapi, description, change)
}

/// The same in `stack`, without the files the engine writes itself (the npm lock).
pub(crate) fn answer_in(
    stack: Stack,
    description: &str,
    change: impl Fn(&str, String) -> String,
) -> String {
    let spec = crate::spec::extract(description).unwrap_or_else(|error| panic!("{error}")).spec;
    let files = crate::templates::render(&spec, stack).unwrap_or_else(|error| panic!("{error}"));
    let mut text = String::from("Here is the project.\n");
    for file in files.into_iter().filter(|file| file.path != "package-lock.json") {
        let fence = if file.contents.contains("```") { "````" } else { "```" };
        text.push_str(&format!(
            "{fence}text path={}\n{}{fence}\n",
            file.path,
            change(&file.path, file.contents)
        ));
    }
    text
}

/// The routes file with creation answering 200 instead of 201: a bug the tests catch.
fn with_bug(path: &str, contents: String) -> String {
    if path.ends_with("_routes.py") {
        contents.replace("status_code=201", "status_code=200")
    } else {
        contents
    }
}

fn spec_and_model(steps: Vec<Step>) -> (AppSpec, Arc<Scripted>, ProviderModel) {
    let spec = crate::spec::extract(EXAMPLES[2]).unwrap_or_else(|error| panic!("{error}")).spec;
    let scripted = Arc::new(Scripted::new("scripted", steps));
    let model = ProviderModel { provider: scripted.clone(), model: "writer".into() };
    (spec, scripted, model)
}

#[tokio::test]
async fn generated_apps_a_scripted_model_fixes_its_bug_after_seeing_the_failing_test() {
    let buggy = answer(EXAMPLES[2], with_bug);
    let fixed_routes = answer(EXAMPLES[2], |_, contents| contents)
        .split("```text path=")
        .filter(|block| block.starts_with("app/routes/expenses_routes.py"))
        .map(|block| format!("```text path={block}"))
        .collect::<String>();
    let escaping = "```python path=../escape.py\nimport os\n```\n".to_owned();
    let (spec, scripted, model) = spec_and_model(vec![
        Step::Reply(escaping),
        Step::Reply(buggy),
        Step::Reply(format!("The create route answered 200; it must answer 201.\n{fixed_routes}")),
    ]);
    let cache = crate::deps::default_cache();
    let generation = generate_with_model(
        &spec,
        Stack::PythonFastapi,
        &model,
        Budget::default(),
        &cache,
        Duration::from_secs(240),
    )
    .await
    .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(generation.rounds, 3);
    assert!(generation.tests.succeeded() && generation.tests.passed > 40, "{:?}", generation.tests);
    assert_eq!(generation.prompt_hashes.len(), 3);
    assert!(generation.usage.total_tokens > 0);
    let requests = scripted.requests();
    let second = requests[1].messages.last().map(Message::text_content).unwrap_or_default();
    assert!(second.contains("`../escape.py` is outside the project"), "{second}");
    let third = requests[2].messages.last().map(Message::text_content).unwrap_or_default();
    assert_ne!(signature(&second), signature(&third));
    assert!(
        third.contains("FAILED") && third.contains("201"),
        "the model sees the failing test:\n{third}"
    );
    let routes = generation
        .files
        .iter()
        .find(|file| file.path == "app/routes/expenses_routes.py")
        .map(|file| file.contents.clone())
        .unwrap_or_default();
    assert!(routes.contains("status_code=201"));
}

/// The error of a generation with `budget` by a model that always answers the buggy project.
async fn failure_with_budget(budget: Budget) -> (String, usize) {
    let (spec, scripted, model) = spec_and_model(vec![Step::Reply(answer(EXAMPLES[2], with_bug))]);
    let cache = crate::deps::default_cache();
    let error = generate_with_model(
        &spec,
        Stack::PythonFastapi,
        &model,
        budget,
        &cache,
        Duration::from_secs(240),
    )
    .await
    .err()
    .map(|error| error.to_string())
    .unwrap_or_default();
    (error, scripted.calls())
}

#[tokio::test]
async fn generated_apps_a_model_that_keeps_its_bug_is_stopped_early() {
    let (error, calls) = failure_with_budget(Budget { max_rounds: 5, ..Budget::default() }).await;
    assert!(error.contains("same failure came back"), "{error}");
    assert_eq!(calls, 2, "stopped at the first repeat, not after five rounds");
    let (error, calls) = failure_with_budget(Budget { max_rounds: 5, max_tokens: 10 }).await;
    assert!(error.contains("token budget"), "{error}");
    assert_eq!(calls, 1);
}
