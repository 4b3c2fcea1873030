//! Generations on a model: the planner asks it for the spec, each coder for its module with
//! the answer streamed into `file_delta` events, a transient outage retried, a broken
//! answer repaired by the tester, and refusals that fail the generation at once. The model is
//! a writer that answers from the engine's templates (so what it writes is known), streamed
//! in small pieces with pauses, like a real one.

#![expect(clippy::expect_used, reason = "a test fails loudly at the first broken step")]

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ql_engine::model_generation::{ChatModel, TextPiece, TextStream};
use ql_engine::spec::AppSpec;
use ql_engine::stacks::Stack;
use ql_orchestrator::{ModelSource, Orchestrator, Settings};
use ql_router::wire::{ChatRequest, Usage};
use ql_router::{Completion, RouterError};
use ql_store::{Generation, GenerationEvent, NewGeneration};
use support::{
    Backend, assert_complete_stream, owner, postgres, settings, sqlite, start_killable_worker_with,
    start_worker_with, wait_finished,
};

const LIBRARY: &str = "A library where members borrow books. Books have a title, an author and an ISBN. Members have a name and an email.";

/// How the writer misbehaves.
#[derive(Debug, Clone, Default)]
struct Script {
    /// Modules whose first request fails with a 503 before any text.
    outage: Vec<String>,
    /// Modules whose first answer breaks off mid-way.
    broken_stream: Vec<String>,
    /// A module whose files first come with a syntax error, fixed when asked to repair.
    syntax_error_in: Option<String>,
    /// Answer every module with a file outside the project.
    escape: bool,
    /// The first module asked for never gets an answer (a worker stuck on it can only die).
    stall_first_module: bool,
}

/// A model that writes what the built-in templates would, as a stream.
struct TemplateWriter {
    script: Script,
    spec: Mutex<Option<AppSpec>>,
    /// Requests per module (and `repair`, `spec`).
    calls: Mutex<BTreeMap<String, usize>>,
    /// The path given a syntax error, and its correct contents.
    broken: Mutex<Option<(String, String)>>,
    /// Whether a module's request was left without an answer.
    stalled: AtomicBool,
}

impl TemplateWriter {
    fn new(script: Script) -> Self {
        Self {
            script,
            spec: Mutex::new(None),
            calls: Mutex::default(),
            broken: Mutex::new(None),
            stalled: AtomicBool::new(false),
        }
    }

    fn count(&self, what: &str) -> usize {
        let mut calls = self.calls.lock().expect("calls");
        let count = calls.entry(what.to_owned()).or_default();
        *count += 1;
        *count
    }

    fn calls(&self, what: &str) -> usize {
        self.calls.lock().expect("calls").get(what).copied().unwrap_or_default()
    }

    /// The answer to a request, and which module (or task) it was for.
    fn answer(&self, request: &ChatRequest) -> Result<(String, String), RouterError> {
        let prompt =
            request.messages.last().map(|message| message.text_content()).unwrap_or_default();
        if request.response_format.is_some() {
            self.count("spec");
            let spec = ql_engine::spec::extract(&prompt).expect("extracts").spec;
            *self.spec.lock().expect("spec") = Some(spec.clone());
            return Ok(("spec".into(), serde_json::to_string(&spec).expect("json")));
        }
        if prompt.contains("The project does not pass yet.") {
            self.count("repair");
            let (path, contents) =
                self.broken.lock().expect("broken").clone().expect("something broke");
            return Ok((
                "repair".into(),
                format!("The fix:\n```python path={path}\n{contents}```\n"),
            ));
        }
        let module = prompt
            .split("Write the module `")
            .nth(1)
            .and_then(|rest| rest.split('`').next())
            .expect("a module prompt")
            .to_owned();
        let call = self.count(&module);
        if call == 1 && self.script.outage.contains(&module) {
            return Err(RouterError::Upstream {
                provider: "writer".into(),
                status: 503,
                message: "overloaded".into(),
                retry_after: None,
            });
        }
        let spec = self.spec.lock().expect("spec").clone().expect("the spec came first");
        let files = ql_engine::templates::render_module(&spec, Stack::PythonFastapi, &module)
            .expect("renders");
        let mut text = format!("Module {module}:\n");
        for file in files.iter().filter(|file| !file.path.ends_with(".lock")) {
            let mut contents = file.contents.clone();
            if self.script.syntax_error_in.as_deref() == Some(module.as_str())
                && call == 1
                && file.path.ends_with(".py")
                && self.broken.lock().expect("broken").is_none()
            {
                *self.broken.lock().expect("broken") = Some((file.path.clone(), contents.clone()));
                contents.push_str("def broken(:\n    pass\n");
            }
            let path =
                if self.script.escape { format!("../{}", file.path) } else { file.path.clone() };
            let fence = if contents.contains("```") { "````" } else { "```" };
            text.push_str(&format!("{fence}python path={path}\n{contents}{fence}\n"));
        }
        Ok((module, text))
    }
}

#[async_trait::async_trait]
impl ChatModel for TemplateWriter {
    fn name(&self) -> String {
        "writer".into()
    }

    async fn chat(&self, request: &ChatRequest) -> Result<Completion, RouterError> {
        let (_, text) = self.answer(request)?;
        let body = serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]});
        Ok(Completion { body: body.to_string().into(), usage: Usage::new(100, 50) })
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<TextStream, RouterError> {
        let (module, text) = self.answer(request)?;
        let is_module = module != "spec" && module != "repair";
        if self.script.stall_first_module && is_module && !self.stalled.swap(true, SeqCst) {
            return Ok(Box::pin(futures::stream::pending()));
        }
        let breaks = self.script.broken_stream.contains(&module) && self.calls(&module) == 1;
        let chars: Vec<char> = text.chars().collect();
        let mut pieces: Vec<Result<TextPiece, RouterError>> = chars
            .chunks(48)
            .map(|piece| Ok(TextPiece { text: piece.iter().collect(), usage: None }))
            .collect();
        if breaks {
            pieces.truncate(pieces.len() / 2);
            pieces.push(Err(RouterError::StreamBroken {
                provider: "writer".into(),
                message: "cut".into(),
            }));
        } else {
            let tokens = (text.len() / 4) as u64;
            pieces
                .push(Ok(TextPiece { text: String::new(), usage: Some(Usage::new(200, tokens)) }));
        }
        let paced = futures::stream::iter(pieces).then(|piece| async move {
            tokio::time::sleep(Duration::from_millis(3)).await;
            piece
        });
        Ok(Box::pin(paced))
    }
}

/// Hands every generation the same writer (an unknown name is refused).
struct Writers(Arc<TemplateWriter>);

#[async_trait::async_trait]
impl ModelSource for Writers {
    async fn chat_model(&self, generation: &Generation) -> Result<Arc<dyn ChatModel>, RouterError> {
        let model = ql_orchestrator::models::model_of(generation);
        if model != "writer" {
            return Err(RouterError::UnknownModel(model.to_owned()));
        }
        Ok(self.0.clone())
    }
}

use futures::StreamExt;

fn on(model: &str, description: &str) -> NewGeneration {
    NewGeneration {
        description: description.to_owned(),
        stack: "python-fastapi".into(),
        model: model.to_owned(),
        run_tests: false,
        ..NewGeneration::default()
    }
}

async fn run_one(
    backend: &Backend,
    script: Script,
    model: &str,
) -> (Generation, Vec<GenerationEvent>, Arc<TemplateWriter>) {
    let store = backend.store.clone();
    let (actor, project) = owner(&store).await;
    let orchestrator = Orchestrator::new(store.clone(), settings());
    let writer = Arc::new(TemplateWriter::new(script));
    let generation =
        orchestrator.submit(&actor, &project, on(model, LIBRARY)).await.expect("submit");
    let _worker = start_worker_with(&orchestrator, Arc::new(Writers(writer.clone())));
    let finished = wait_finished(&store, &actor, std::slice::from_ref(&generation.id)).await;
    let generation = finished.into_iter().next().expect("one");
    let last = if generation.status == "succeeded" { "succeeded" } else { "failed" };
    assert_complete_stream(&store, &actor, &generation.id, last).await;
    let events = store
        .generations
        .events_since(&actor.org, &generation.id, 0, 100_000)
        .await
        .expect("events");
    (generation, events, writer)
}

/// The generation's capsule, verified.
async fn capsule_of(backend: &Backend, generation: &Generation) -> ql_capsule::Verified {
    let capsule = generation.capsule_id.clone().expect("capsule");
    let (_, archive) = backend
        .store
        .capsules
        .archive(&generation.organization_id, &capsule)
        .await
        .expect("archive");
    ql_capsule::verify(&archive, &ql_capsule::Limits::default()).expect("verifies")
}

fn data(event: &GenerationEvent) -> serde_json::Value {
    serde_json::from_str(&event.data).expect("event data is JSON")
}

/// Each file's text as the `file_delta` events of its last attempt spelled it out.
fn streamed_files(events: &[GenerationEvent]) -> BTreeMap<String, String> {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for event in events.iter().filter(|event| event.kind == "file_delta") {
        let delta = data(event);
        let path = delta["path"].as_str().expect("path").to_owned();
        let offset = delta["offset"].as_u64().expect("offset") as usize;
        let text = delta["text"].as_str().expect("text");
        let file = files.entry(path.clone()).or_default();
        if offset == 0 {
            file.clear();
        }
        assert_eq!(file.len(), offset, "{path}: a delta continues where the last one ended");
        file.push_str(text);
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_writes_every_module_as_a_stream_and_outages_are_retried() {
    let backend = sqlite().await;
    let script = Script {
        outage: vec!["shared".into()],
        broken_stream: vec!["entity:books".into()],
        ..Script::default()
    };
    let (generation, events, writer) = run_one(&backend, script, "writer").await;
    assert_eq!(generation.status, "succeeded", "{generation:?}");
    assert_eq!(writer.calls("spec"), 1);
    assert_eq!(writer.calls("shared"), 2, "the outage was retried");
    assert_eq!(writer.calls("entity:books"), 2, "the broken stream was retried");
    assert_eq!(writer.calls("entity:members"), 1);
    let streamed = streamed_files(&events);
    let written: BTreeMap<String, String> = events
        .iter()
        .filter(|event| event.kind == "file_written")
        .map(|event| {
            let file = data(event);
            (
                file["path"].as_str().expect("path").to_owned(),
                file["contents"].as_str().expect("contents").to_owned(),
            )
        })
        .collect();
    let deltas = events.iter().filter(|event| event.kind == "file_delta").count();
    assert!(deltas > written.len(), "{deltas} deltas for {} files", written.len());
    for (path, contents) in &written {
        // An empty file has no text to stream.
        let streamed = streamed.get(path).map(String::as_str).unwrap_or_default();
        assert_eq!(streamed, contents, "{path} streamed whole");
    }
    let steps = backend
        .store
        .generations
        .steps(&generation.organization_id, &generation.id)
        .await
        .expect("steps");
    // Retried within the step's attempt, with backoff; each step succeeded once.
    assert!(steps.iter().all(|step| step.status == "succeeded" && step.attempts == 1), "{steps:?}");
    let restarts = events
        .iter()
        .filter(|event| event.kind == "file_delta" && data(event)["offset"] == 0)
        .filter(|event| data(event)["module"] == "entity:books")
        .count();
    let books_files = written.keys().filter(|path| path.contains("book")).count();
    assert!(restarts > books_files, "the broken answer's files streamed again from 0");
    let verified = capsule_of(&backend, &generation).await;
    assert_eq!(verified.manifest.provenance.model, "writer");
    assert!(verified.manifest.usage.completion_tokens > 0, "{:?}", verified.manifest.usage);
    assert!(verified.manifest.provenance.prompt_hashes.len() >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tester_has_the_model_repair_what_fails_its_checks() {
    let backend = sqlite().await;
    let script = Script { syntax_error_in: Some("entity:members".into()), ..Script::default() };
    let (generation, events, writer) = run_one(&backend, script, "writer").await;
    assert_eq!(generation.status, "succeeded", "{generation:?}");
    assert_eq!(writer.calls("repair"), 1);
    let repaired: Vec<serde_json::Value> = events
        .iter()
        .filter(|event| event.kind == "file_written")
        .map(data)
        .filter(|file| file["module"] == "repair")
        .collect();
    assert_eq!(repaired.len(), 1, "{repaired:?}");
    let (path, good) = writer.broken.lock().expect("broken").clone().expect("broke one");
    assert_eq!(repaired[0]["path"], path.as_str());
    let verified = capsule_of(&backend, &generation).await;
    assert_eq!(verified.manifest.validation.syntax_errors, 0);
    let packed = verified.files.iter().find(|file| file.path == path).expect("packed");
    assert_eq!(String::from_utf8(packed.contents.clone()).expect("utf-8"), good);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_fail_the_generation_without_retries() {
    let (generation, events, writer) =
        run_one(&sqlite().await, Script { escape: true, ..Script::default() }, "writer").await;
    assert_eq!(generation.status, "failed");
    let failed = events.last().map(data).expect("final event");
    assert!(failed.to_string().contains("outside the project"), "{failed}");
    // The first refusal fails the generation; coders running beside it may not get to ask.
    let calls = writer.calls.lock().expect("calls").clone();
    let coders: Vec<usize> =
        calls.iter().filter(|(what, _)| *what != "spec").map(|(_, n)| *n).collect();
    assert!(coders.contains(&1) && coders.iter().all(|n| *n <= 1), "asked again: {calls:?}");

    let (generation, events, _) = run_one(&sqlite().await, Script::default(), "nobody").await;
    assert_eq!(generation.status, "failed");
    let failed = events.last().map(data).expect("final event");
    assert!(failed.to_string().contains("nobody"), "{failed}");
}

/// A worker dies while one of its coders waits on the model. The other worker, with one slot,
/// runs the remaining coders and then the fan-in's collector, which waits for the dead
/// worker's coders; those come back to the queue only after that (as orphans, once the dead
/// worker missed its heartbeats). The collector must give its slot up to them, or the
/// generation never finishes.
async fn a_fan_in_gives_way_to_the_coders_it_waits_for(backend: Backend) {
    let store = backend.store.clone();
    let (actor, project) = owner(&store).await;
    // Orphans are taken over 5 s after their worker's last beat: by then the collector
    // has long had the second worker's only slot.
    let settings = Settings {
        concurrency: 1,
        heartbeat: Duration::from_secs(1),
        missed_heartbeats: 5,
        ..settings()
    };
    let orchestrator = Orchestrator::new(store.clone(), settings);
    let script = Script { stall_first_module: true, ..Script::default() };
    let writer = Arc::new(TemplateWriter::new(script));
    let generation =
        orchestrator.submit(&actor, &project, on("writer", LIBRARY)).await.expect("submit");
    let first = start_killable_worker_with(&orchestrator, Arc::new(Writers(writer.clone())));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !writer.stalled.load(SeqCst) {
        assert!(std::time::Instant::now() < deadline, "no coder started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill();
    let second = start_worker_with(&orchestrator, Arc::new(Writers(writer.clone())));
    let finished = wait_finished(&store, &actor, std::slice::from_ref(&generation.id)).await;
    assert_eq!(finished[0].status, "succeeded", "{:?}", finished[0].error);
    assert_complete_stream(&store, &actor, &generation.id, "succeeded").await;
    let steps = store.generations.steps(&actor.org, &generation.id).await.expect("steps");
    let stalled: Vec<_> = steps.iter().filter(|step| step.attempts > 1).collect();
    assert_eq!(stalled.len(), 1, "only the stalled coder ran twice: {steps:?}");
    drop(second);
    backend.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backend_a_fan_in_gives_way_to_the_coders_it_waits_for() {
    a_fan_in_gives_way_to_the_coders_it_waits_for(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backend_a_fan_in_gives_way_to_the_coders_it_waits_for() {
    let Some(backend) = postgres().await else { return };
    a_fan_in_gives_way_to_the_coders_it_waits_for(backend).await;
}
