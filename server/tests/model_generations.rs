//! A generation on a model, through the real binary and the gateway: the model is an
//! OpenAI-compatible server (the mock, speaking the real wire protocol and streaming paced
//! chunks) configured as a provider and route in `quantumlayer.toml`. The planner asks it for
//! the spec, each coder for its module; the browser-facing stream carries the file text as it
//! arrives; every call is accounted to the organisation; an unknown model is refused.

#![expect(clippy::expect_used, reason = "a test fails loudly at the first broken step")]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{org_with_key, parse_sse, quantumlayer, start_server};

const LIBRARY: &str = "A library where members borrow books. Books have a title, an author and an ISBN. Members have a name and an email.";

/// Writes what the engine's templates would: the spec for a spec request, a module's files
/// for a coder's request.
fn template_writer(request: &Value) -> Option<String> {
    let messages = request["messages"].as_array()?;
    let prompt = messages.iter().rev().find(|m| m["role"] == "user")?["content"].as_str()?;
    if request.get("response_format").is_some() {
        let spec = ql_engine::spec::extract(prompt).ok()?.spec;
        return serde_json::to_string(&spec).ok();
    }
    let module = prompt.split("Write the module `").nth(1)?.split('`').next()?;
    let spec_json = prompt.split("The spec as JSON:\n").nth(1)?;
    let spec: ql_engine::spec::AppSpec = serde_json::from_str(spec_json).ok()?;
    let stack = ql_engine::stacks::Stack::PythonFastapi;
    let files = ql_engine::templates::render_module(&spec, stack, module).ok()?;
    let mut answer = format!("Here is the module {module}.\n");
    for file in files {
        let fence = if file.contents.contains("```") { "````" } else { "```" };
        answer.push_str(&format!("{fence}text path={}\n{}{fence}\n", file.path, file.contents));
    }
    Some(answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_apps_on_a_model_stream_their_files_and_are_accounted() {
    let mock = ql_mock_llm::openai::start().await.expect("mock");
    mock.set_writer(Arc::new(template_writer));
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("quantumlayer.toml"),
        format!(
            "[[providers]]\nname = \"mock\"\nkind = \"openai\"\nbase_url = \"{}\"\n\n\
             [[routes]]\nmodel = \"writer\"\ntargets = [ {{ provider = \"mock\", model = \"gpt-4o-mini\" }} ]\n",
            mock.base_url
        ),
    )
    .expect("config");
    let (_, key) = org_with_key(dir.path(), None, "Acme");
    let (_server, base) = start_server(quantumlayer(dir.path(), None));
    let client = support::http_client();
    let submit = |model: &str| {
        let body = json!({"description": LIBRARY, "stack": "python-fastapi", "model": model,
                          "run_tests": false});
        client.post(format!("{base}/api/generations")).bearer_auth(&key).json(&body).send()
    };

    let get = |url: String| {
        let request = client.get(url).bearer_auth(&key).send();
        async move { request.await.expect("GET") }
    };

    let refused = submit("nobody").await.expect("submit");
    assert_eq!(refused.status(), 422);
    let refused: Value = refused.json().await.expect("json");
    assert_eq!(refused["field"], "model", "{refused}");

    let accepted = submit("writer").await.expect("submit");
    assert_eq!(accepted.status(), 202);
    let id = accepted.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    let events =
        get(format!("{base}/api/generations/{id}/events")).await.text().await.expect("body");
    let events = parse_sse(&events);
    let kinds: Vec<&str> = events.iter().map(|(_, kind, _)| kind.as_str()).collect();
    assert_eq!(kinds.last(), Some(&"succeeded"), "{:?}", events.last());

    // Each file's deltas, joined in order, are the file as written.
    let mut streamed: BTreeMap<String, String> = BTreeMap::new();
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    for (_, kind, data) in &events {
        let path = data["path"].as_str().unwrap_or_default().to_owned();
        match kind.as_str() {
            "file_delta" => {
                let file = streamed.entry(path).or_default();
                assert_eq!(data["offset"].as_u64(), Some(file.len() as u64));
                file.push_str(data["text"].as_str().expect("text"));
            }
            "file_written" => {
                written.insert(path, data["contents"].as_str().expect("contents").to_owned());
            }
            _ => {}
        }
    }
    let deltas = kinds.iter().filter(|kind| **kind == "file_delta").count();
    assert!(deltas >= written.len(), "{deltas} deltas, {} files", written.len());
    for (path, contents) in &written {
        // An empty file has no text to stream.
        let text = streamed.get(path).map(String::as_str).unwrap_or_default();
        assert_eq!(text, contents, "{path}");
    }

    // The capsule names the model and the tokens it used.
    let status: Value =
        get(format!("{base}/api/generations/{id}")).await.json().await.expect("json");
    let capsule = status["capsule_id"].as_str().expect("capsule id");
    let archive = get(format!("{base}/api/capsules/{capsule}")).await.bytes().await.expect("bytes");
    let verified = ql_capsule::verify(&archive, &ql_capsule::Limits::default()).expect("verifies");
    assert_eq!(verified.manifest.provenance.model, "writer");
    assert!(verified.manifest.usage.completion_tokens > 0);
    let modules = kinds.iter().filter(|kind| **kind == "step_started").count();
    let calls = mock.calls();
    assert!(calls >= 3 && calls < modules, "{calls} model calls for {modules} steps");

    // Every call is a usage row of the organisation, without an API key, once written.
    let database = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("data").join("quantumlayer.db").display()
    ))
    .await
    .expect("database");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (rows, keyed, tokens): (i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(api_key_id), COALESCE(SUM(completion_tokens), 0) \
             FROM usage_records WHERE route = 'writer'",
        )
        .fetch_one(&database)
        .await
        .expect("usage");
        if rows as usize == calls {
            assert_eq!(keyed, 0, "generation calls carry no API key");
            assert!(tokens > 0);
            break;
        }
        assert!(Instant::now() < deadline, "{rows} usage rows for {calls} calls");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
