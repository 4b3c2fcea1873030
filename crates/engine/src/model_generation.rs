//! Generation with a model: prompts built from the spec and the stack's conventions, answers
//! in a strict format (fenced blocks tagged with paths), parsed and checked (no path outside
//! the project), then the same validation as the offline path, and a repair loop that feeds
//! failing checks and test output back — at most `max_rounds`, within a token budget, and
//! stopping early when the same failure comes back.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ql_router::wire::{ChatRequest, Message, Role, Usage};
use ql_router::{Completion, RouterError};
use sha2::{Digest, Sha256};

use crate::EngineError;
use crate::spec::AppSpec;
use crate::stacks::Stack;
use crate::templates::{GeneratedFile, Module};
use crate::validate::{self, TestReport};
pub use streaming::{FileBlockReader, FileEvent, TextPiece, TextStream};

/// Most files one answer may hold, and the largest file.
pub const MAX_FILES: usize = 200;
pub const MAX_FILE_BYTES: usize = 512 * 1024;

/// A chat model the engine can ask (the router's gateway, one provider, or a script in tests).
#[async_trait::async_trait]
pub trait ChatModel: Send + Sync {
    /// The model's name as prompts and provenance record it.
    fn name(&self) -> String;

    async fn chat(&self, request: &ChatRequest) -> Result<Completion, RouterError>;

    /// The answer's text as it arrives, its usage with the last pieces. A model that cannot
    /// stream answers its whole text as one piece.
    async fn chat_stream(&self, request: &ChatRequest) -> Result<TextStream, RouterError> {
        let completion = self.chat(request).await?;
        let text = answer_text(&completion).map_err(|error| RouterError::Protocol {
            provider: self.name(),
            message: error.to_string(),
        })?;
        let piece = TextPiece { text, usage: Some(completion.usage) };
        Ok(Box::pin(futures::stream::iter([Ok(piece)])))
    }
}

/// A model reached through the router's gateway by route name.
pub struct GatewayModel {
    pub gateway: Arc<ql_router::Gateway>,
    pub model: String,
}

#[async_trait::async_trait]
impl ChatModel for GatewayModel {
    fn name(&self) -> String {
        self.model.clone()
    }

    async fn chat(&self, request: &ChatRequest) -> Result<Completion, RouterError> {
        self.gateway.complete(request).await.map(|(completion, _)| completion)
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<TextStream, RouterError> {
        let request = streaming_request(request);
        self.gateway.stream(&request).await.map(streaming::text_stream)
    }
}

/// The request asking for a stream with its usage at the end.
pub fn streaming_request(request: &ChatRequest) -> ChatRequest {
    ChatRequest {
        stream: true,
        stream_options: Some(ql_router::wire::StreamOptions { include_usage: true }),
        ..request.clone()
    }
}

/// One provider's model, directly.
pub struct ProviderModel {
    pub provider: Arc<dyn ql_router::Provider>,
    pub model: String,
}

#[async_trait::async_trait]
impl ChatModel for ProviderModel {
    fn name(&self) -> String {
        format!("{}/{}", self.provider.name(), self.model)
    }

    async fn chat(&self, request: &ChatRequest) -> Result<Completion, RouterError> {
        self.provider.complete(request, &self.model).await
    }
}

/// Limits of one model generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Rounds of repair after the first answer.
    pub max_rounds: u32,
    /// Prompt and completion tokens over all calls.
    pub max_tokens: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Self { max_rounds: 3, max_tokens: 400_000 }
    }
}

/// What a model generation produced.
#[derive(Debug)]
pub struct ModelGeneration {
    pub files: Vec<GeneratedFile>,
    pub tests: TestReport,
    /// Rounds used (1 = the first answer passed).
    pub rounds: u32,
    pub usage: Usage,
    /// SHA-256 of each prompt sent, in order.
    pub prompt_hashes: Vec<String>,
}

/// Asks `model` for the project, validates it, and repairs it until its tests pass.
pub async fn generate_with_model(
    spec: &AppSpec,
    stack: Stack,
    model: &dyn ChatModel,
    budget: Budget,
    dependency_cache: &Path,
    test_timeout: Duration,
) -> Result<ModelGeneration, EngineError> {
    let mut messages = vec![
        Message::text(Role::System, system_prompt(stack)),
        Message::text(Role::User, first_prompt(spec, stack)),
    ];
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut usage = Usage::default();
    let mut prompt_hashes = Vec::new();
    let mut last_failure: Option<String> = None;
    for round in 1..=budget.max_rounds + 1 {
        let request = ChatRequest {
            model: model.name(),
            messages: messages.clone(),
            temperature: Some(0.0),
            ..ChatRequest::default()
        };
        prompt_hashes.push(hex::encode(Sha256::digest(
            messages.last().map(Message::text_content).unwrap_or_default().as_bytes(),
        )));
        let answer = ask(model, &request, &mut usage).await?;
        let failure = match parse_files(&answer) {
            Ok(answered) if answered.is_empty() => {
                "The answer held no files in the required format.".to_owned()
            }
            Ok(answered) => {
                files.extend(answered);
                // The engine's own lock wins over anything the model wrote in its place.
                for locked in crate::deps::locked_manifests(stack, &spec.name)? {
                    files.insert(locked.path, locked.contents);
                }
                let generated: Vec<GeneratedFile> = files
                    .iter()
                    .map(|(path, contents)| GeneratedFile {
                        path: path.clone(),
                        contents: contents.clone(),
                    })
                    .collect();
                let checked =
                    check_and_test(stack, &generated, dependency_cache, test_timeout, true).await?;
                match (checked.failure, checked.tests) {
                    (None, Some(tests)) => {
                        return Ok(ModelGeneration {
                            files: generated,
                            tests,
                            rounds: round,
                            usage,
                            prompt_hashes,
                        });
                    }
                    (failure, _) => failure.unwrap_or_default(),
                }
            }
            Err(refusal) => refusal,
        };
        if last_failure.as_deref().map(signature) == Some(signature(&failure)) {
            return Err(EngineError::Validation(format!(
                "the same failure came back after a repair (round {round}); stopping:\n{failure}"
            )));
        }
        if usage.total_tokens > budget.max_tokens {
            return Err(EngineError::Validation(format!(
                "the token budget ({}) is spent after {round} rounds; the project still fails:\n{failure}",
                budget.max_tokens
            )));
        }
        messages.push(Message::text(Role::Assistant, answer));
        messages.push(Message::text(Role::User, repair_prompt(&failure)));
        last_failure = Some(failure);
    }
    Err(EngineError::Validation(format!(
        "the project still fails after {} repair rounds:\n{}",
        budget.max_rounds,
        last_failure.unwrap_or_default()
    )))
}

/// What the checks and tests said of a set of files.
#[derive(Debug, Clone)]
pub struct Checked {
    pub checks: validate::StaticReport,
    /// The test run, when the checks passed, the dependencies were accepted and tests ran.
    pub tests: Option<TestReport>,
    /// Why the files fail, in words a model can act on; `None` when they pass.
    pub failure: Option<String>,
}

/// Static checks, then (when `run_tests`) dependencies and the tests in the sandbox. Failures
/// a model can repair are in [`Checked::failure`]; errors are failures of the platform.
pub async fn check_and_test(
    stack: Stack,
    files: &[GeneratedFile],
    dependency_cache: &Path,
    test_timeout: Duration,
    run_tests: bool,
) -> Result<Checked, EngineError> {
    let checks = validate::check_files(files);
    if !checks.passed() {
        let problems: Vec<String> =
            checks.syntax_errors.iter().chain(&checks.findings_high).cloned().collect();
        let failure = format!("The files fail their checks:\n{}", problems.join("\n"));
        return Ok(Checked { checks, tests: None, failure: Some(failure) });
    }
    if !run_tests {
        return Ok(Checked { checks, tests: None, failure: None });
    }
    let dependencies = match crate::deps::prepare(stack, files, dependency_cache).await {
        Ok((dependencies, _)) => dependencies,
        Err(EngineError::Dependencies(problem)) => {
            let failure = format!("The dependencies are refused: {problem}");
            return Ok(Checked { checks, tests: None, failure: Some(failure) });
        }
        Err(other) => return Err(other),
    };
    let project = crate::generate::write_project(files)?;
    let report = validate::run_tests(stack, project.path(), &dependencies, test_timeout).await?;
    let failure = (!report.succeeded()).then(|| {
        format!(
            "The tests fail ({} passed, {} failed, {} errors{}). The end of their output:\n{}",
            report.passed,
            report.failed,
            report.errors,
            if report.timed_out { ", timed out" } else { "" },
            report.output_tail
        )
    });
    Ok(Checked { checks, tests: Some(report), failure })
}

/// What identifies a failure across rounds: its lines without numbers (timings, counts of
/// passing tests and addresses change from run to run).
pub fn signature(failure: &str) -> String {
    let failing: Vec<&str> = failure
        .lines()
        .filter(|line| line.contains("FAILED") || line.contains("Error") || line.contains("fail"))
        .collect();
    let lines = if failing.is_empty() { failure.lines().collect() } else { failing };
    let without_numbers: String =
        lines.join("\n").chars().filter(|c| !c.is_ascii_digit()).collect();
    hex::encode(Sha256::digest(without_numbers.as_bytes()))
}

/// Asks `model`, adds the call's tokens to `usage`, and answers the reply's text.
pub(crate) async fn ask(
    model: &dyn ChatModel,
    request: &ChatRequest,
    usage: &mut Usage,
) -> Result<String, EngineError> {
    let completion =
        model.chat(request).await.map_err(|error| EngineError::Model(error.to_string()))?;
    *usage = Usage::new(
        usage.prompt_tokens + completion.usage.prompt_tokens,
        usage.completion_tokens + completion.usage.completion_tokens,
    );
    answer_text(&completion)
}

fn answer_text(completion: &Completion) -> Result<String, EngineError> {
    let body: serde_json::Value = serde_json::from_slice(&completion.body)
        .map_err(|error| EngineError::Model(format!("the answer is not JSON: {error}")))?;
    body["choices"][0]["message"]["content"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| EngineError::Model("the answer has no text".into()))
}

/// Reads every file of an answer: a fenced block whose opening line names its path,
/// ```` ```python path=app/main.py ````. Paths outside the project are refused.
pub fn parse_files(answer: &str) -> Result<BTreeMap<String, String>, String> {
    let mut files = BTreeMap::new();
    let mut lines = answer.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        let fence_length = trimmed.chars().take_while(|c| *c == '`').count();
        if fence_length < 3 {
            continue;
        }
        let fence = &trimmed[..fence_length];
        let info = &trimmed[fence_length..];
        // A fence closes on a line of at least as many backticks and nothing else.
        let closes = |inner: &str| {
            let inner = inner.trim();
            inner.len() >= fence.len() && inner.chars().all(|c| c == '`')
        };
        let Some(path) = info.split_whitespace().find_map(|part| part.strip_prefix("path=")) else {
            // A fence without a path: skip to its end.
            for inner in lines.by_ref() {
                if closes(inner) {
                    break;
                }
            }
            continue;
        };
        let path = path.trim_matches(|c| c == '"' || c == '\'');
        check_path(path)?;
        let mut contents = String::new();
        let mut closed = false;
        for inner in lines.by_ref() {
            if closes(inner) {
                closed = true;
                break;
            }
            contents.push_str(inner);
            contents.push('\n');
            if contents.len() > MAX_FILE_BYTES {
                return Err(format!("`{path}` is over {MAX_FILE_BYTES} bytes."));
            }
        }
        if !closed {
            return Err(format!("The block for `{path}` is not closed with ```."));
        }
        files.insert(path.to_owned(), contents);
        if files.len() > MAX_FILES {
            return Err(format!("The answer holds over {MAX_FILES} files."));
        }
    }
    Ok(files)
}

/// A relative path inside the project: no `..`, no absolute path, no backslash or drive.
pub(crate) fn check_path(path: &str) -> Result<(), String> {
    let refused =
        || Err(format!("The path `{path}` is outside the project; use a relative path inside it."));
    if path.is_empty()
        || path.len() > 255
        || path.starts_with('/')
        || path.contains('\\')
        || path.contains(':')
    {
        return refused();
    }
    if path.split('/').any(|part| part.is_empty() || part == "." || part == "..")
        || path.chars().any(char::is_control)
    {
        return refused();
    }
    Ok(())
}

/// What every request for code starts with: the stack's conventions, the REST contract every
/// stack serves, and the answer format.
pub fn system_prompt(stack: Stack) -> String {
    let conventions = match stack {
        Stack::PythonFastapi => {
            "Python 3.11, FastAPI and pydantic v2 over SQLite (the standard sqlite3 module), pytest with pytest-cov. \
             Pin every dependency in requirements.txt as name==version. The app is the package `app` (`python -m app` \
             serves on $PORT, default 8000; `create_app(database_path)` in app/main.py builds it); tests live in tests/ \
             and use fastapi.testclient."
        }
        Stack::TypescriptExpress => {
            "Node.js 20, TypeScript 5.9 (strict, module node16, compiled by tsc from src/ and tests/ into dist/), \
             Express 5 and better-sqlite3 12 over SQLite, tests with node:test and node:assert in tests/*.test.ts \
             (run as `node --test dist/tests/`). package.json's dependencies are exactly: better-sqlite3 12.9.0, \
             express 5.3.0; devDependencies: @types/better-sqlite3 9.6.0, @types/express 5.0.6, @types/node 20.19.43, \
             typescript 5.9.3. The platform writes package-lock.json itself; do not write it. src/app.ts exports \
             `createApp(databasePath)` answering `{ app, database }`; src/server.ts serves on $PORT (default 8000)."
        }
        Stack::RustAxum => {
            "Rust 2024 edition, axum 0.8, sqlx 0.9 over SQLite (runtime-tokio, no compile-time checked queries), tokio, \
             serde_json; integration tests in tests/ driving the router with tower::ServiceExt::oneshot. Cargo.toml's \
             [lib] is named `app` (src/lib.rs with `pub fn create_app(pool: SqlitePool) -> Router` and \
             `pub mod db` with `pub async fn connect(path: &str)`); its [dependencies] are exactly: axum =0.8.9 \
             (default-features = false, features http1, json, query, tokio), serde =1.0.229, serde_json =1.0.154, \
             sqlx =0.9.0 (default-features = false, features runtime-tokio, sqlite), tokio =1.54.1 (rt-multi-thread, \
             macros, net, signal), tower =0.5.3 (default-features = false, features util). The platform writes \
             Cargo.lock itself; do not write it. src/main.rs serves on $PORT (default 8000)."
        }
    };
    format!(
        "You write complete, working projects. Stack: {} — {conventions}\n\
         Every resource serves: GET /<plural> (a JSON array; ?limit= 1..1000 and ?offset= >= 0), POST /<plural> \
         (201 and the object with its id), GET, PUT and DELETE /<plural>/{{id}} (DELETE answers 204); 404 for an \
         unknown id; 422 for an invalid body; GET /healthz; the OpenAPI document at /openapi.json. No request may \
         cause a 5xx.\n\
         Answer with files only, each as a fenced block whose opening line names its path, for example:\n\
         ```python path=app/main.py\n...\n```\n\
         A file that itself holds ``` lines goes in a longer fence (````).\n\
         Paths are relative to the project root. When asked to repair, answer only the files you change, whole.",
        stack.id()
    )
}

fn first_prompt(spec: &AppSpec, stack: Stack) -> String {
    format!(
        "Write the {} project for this application spec, with tests that cover every endpoint and every \
         validation rule:\n\n{}\n\nThe spec as JSON:\n{}",
        stack.id(),
        crate::spec::summary(spec),
        serde_json::to_string_pretty(spec).unwrap_or_default()
    )
}

/// The request to one coder of a project written module by module: the spec, the plan of
/// every module's paths (so modules written apart agree), and the paths this one writes.
pub fn module_prompt(spec: &AppSpec, stack: Stack, modules: &[Module], module: &str) -> String {
    let mut plan = String::new();
    for each in modules {
        let marker = if each.name == module { "  <- yours" } else { "" };
        plan.push_str(&format!("- module `{}`{marker}: {}\n", each.name, each.paths.join(", ")));
    }
    let own = modules
        .iter()
        .find(|each| each.name == module)
        .map(|each| each.paths.join(", "))
        .unwrap_or_default();
    format!(
        "The {} project for this application spec is written module by module, each by its own writer, \
         to this plan:\n{plan}\nWrite the module `{module}`: the files {own}, with tests that cover its \
         endpoints and validation rules. Other modules' files exist at their paths and follow the same \
         conventions; use them as the plan implies and write no file of theirs.\n\n{}\n\nThe spec as JSON:\n{}",
        stack.id(),
        crate::spec::summary(spec),
        serde_json::to_string_pretty(spec).unwrap_or_default()
    )
}

/// The most bytes of the project's files a repair request quotes; beyond it, paths only.
pub const MAX_REPAIR_CONTEXT_BYTES: usize = 256 * 1024;

/// A repair request that carries the project itself (for a writer that has not seen it).
pub fn repair_files_prompt(failure: &str, files: &[GeneratedFile]) -> String {
    let mut quoted = String::new();
    let mut unquoted = Vec::new();
    for file in files {
        if quoted.len() + file.contents.len() > MAX_REPAIR_CONTEXT_BYTES {
            unquoted.push(file.path.as_str());
            continue;
        }
        let fence = if file.contents.contains("```") { "````" } else { "```" };
        quoted.push_str(&format!("{fence}text path={}\n{}{fence}\n", file.path, file.contents));
    }
    let rest = if unquoted.is_empty() {
        String::new()
    } else {
        format!("\nAlso in the project, not quoted: {}\n", unquoted.join(", "))
    };
    format!("The project:\n{quoted}{rest}\n{}", repair_prompt(failure))
}

fn repair_prompt(failure: &str) -> String {
    format!(
        "The project does not pass yet. {failure}\n\nFix it: answer the changed files, whole, in the same format."
    )
}

pub mod streaming;
#[cfg(test)]
pub(crate) mod tests;
