//! The agents, one function per role; each reads what earlier steps stored and returns its
//! own output, publishing what it does as it goes. A generation on the `builtin` model plans
//! with the engine's extractor and writes from its templates; any other model plans, writes
//! each module and repairs failing tests through the router (`models`, `writing`).

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use std::sync::Arc;

use ql_engine::EngineError;
use ql_engine::model_generation::{self as model_generation, Budget, ChatModel};
use ql_engine::spec::AppSpec;
use ql_engine::stacks::Stack;
use ql_engine::templates::{self, GeneratedFile, Module};
use ql_engine::validate::{StaticReport, TestReport};
use ql_router::wire::{ChatRequest, Message};
use ql_store::{Generation, GenerationOutcome, NewCapsule, StoreError};

use crate::OrchestratorError;
use crate::events::kind;
use crate::models::{BUILTIN, ModelUse, model_failure, model_of};
use crate::steps::{Failure, Role, Ticket, output_of};
use crate::worker::Context;
use crate::writing::write_files;

/// Most findings published one by one; the counts cover the rest.
const MAX_FINDING_EVENTS: usize = 500;
/// The most `test_result` events one test run publishes (the report keeps every case).
const MAX_TEST_RESULT_EVENTS: usize = 1_000;

/// The planner's output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Planned {
    pub spec: AppSpec,
    pub questions: Vec<String>,
    #[serde(default)]
    pub model: ModelUse,
}

/// A coder's output: its module's files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coded {
    pub files: Vec<GeneratedFile>,
    #[serde(default)]
    pub model: ModelUse,
}

/// The tester's output: the test run (none when tests are skipped) and, on a model, the files
/// its repairs rewrote with the checks of the final files.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Tested {
    pub report: Option<TestReport>,
    #[serde(default)]
    pub repaired: Vec<GeneratedFile>,
    #[serde(default)]
    pub checks: Option<StaticReport>,
    #[serde(default)]
    pub rounds: u32,
    #[serde(default)]
    pub model: ModelUse,
}

/// The packager's output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Packed {
    pub capsule_id: String,
    pub sha256: String,
    pub size_bytes: i64,
}

fn deterministic(error: EngineError) -> Failure {
    Failure::Deterministic(error.to_string())
}

async fn generation(context: &Context, ticket: &Ticket) -> Result<Generation, Failure> {
    Ok(context.store.generations.get(&ticket.org(), &ticket.id()).await?)
}

fn stack_of(generation: &Generation) -> Result<Stack, Failure> {
    Stack::parse(&generation.stack).map_err(deterministic)
}

fn on_builtin(generation: &Generation) -> bool {
    model_of(generation) == BUILTIN
}

async fn chat_model(
    context: &Context,
    generation: &Generation,
) -> Result<Arc<dyn ChatModel>, Failure> {
    context.models.chat_model(generation).await.map_err(|error| model_failure(&error))
}

pub(crate) async fn publish(
    context: &Context,
    ticket: &Ticket,
    kind: &str,
    data: serde_json::Value,
) -> Result<(), Failure> {
    context.publisher.publish(&ticket.org(), &ticket.id(), kind, data).await.map(drop).map_err(
        |error| match error {
            // Another step failed it, or someone cancelled it: no use trying again.
            OrchestratorError::Store(StoreError::Ended(_)) => {
                Failure::Deterministic(error.to_string())
            }
            other => Failure::Transient(other.to_string()),
        },
    )
}

/// Planner: the description read into a spec, kept on the generation.
pub(crate) async fn plan(context: &Context, ticket: &Ticket) -> Result<Planned, Failure> {
    let generation = generation(context, ticket).await?;
    if let Some(given) = &generation.spec {
        // The person's own spec, checked when it was given: no description is read again.
        let spec = serde_json::from_str(given)
            .map_err(|error| Failure::Deterministic(format!("the given spec: {error}")))?;
        let planned = Planned { spec, questions: Vec::new(), model: ModelUse::default() };
        let data = json!({"spec": planned.spec, "questions": []});
        publish(context, ticket, kind::SPEC, data).await?;
        return Ok(planned);
    }
    // A refinement changes the spec its parent was really built from, edits and all.
    let parent = built_from(context, ticket, &generation).await?;
    let planned = if on_builtin(&generation) {
        let extraction =
            ql_engine::spec::extract(&generation.description).map_err(deterministic)?;
        let spec = match &parent {
            Some((parent_spec, parent_description)) => {
                // What the earlier words alone give; a description that no longer reads
                // (the parent was built from a spec given as is) counts as unedited.
                let base = ql_engine::spec::extract(parent_description)
                    .map_or_else(|_| parent_spec.clone(), |extraction| extraction.spec);
                ql_engine::spec::refine(&base, parent_spec, &extraction.spec)
                    .map_err(deterministic)?
            }
            None => extraction.spec,
        };
        Planned { spec, questions: extraction.questions, model: ModelUse::default() }
    } else {
        let model = chat_model(context, &generation).await?;
        let (asked, prompt) = match (&parent, &generation.instruction) {
            (Some((parent_spec, _)), Some(instruction)) => (
                ql_engine::spec::refine_with_model(parent_spec, instruction, &*model).await,
                instruction,
            ),
            _ => (
                ql_engine::spec::extract_with_model(&generation.description, &*model).await,
                &generation.description,
            ),
        };
        let (spec, usage) = asked.map_err(|error| match error {
            // The call itself failed: a provider outage may pass.
            EngineError::Model(message) => Failure::Transient(message),
            other => deterministic(other),
        })?;
        let prompt_hash = hex::encode(Sha256::digest(prompt.as_bytes()));
        Planned {
            spec,
            questions: Vec::new(),
            model: ModelUse { usage, prompt_hashes: vec![prompt_hash] },
        }
    };
    let spec = serde_json::to_string(&planned.spec)
        .map_err(|error| Failure::Deterministic(error.to_string()))?;
    context.store.generations.set_spec(&ticket.org(), &ticket.id(), &spec).await?;
    publish(
        context,
        ticket,
        kind::SPEC,
        json!({"spec": planned.spec, "questions": planned.questions}),
    )
    .await?;
    Ok(planned)
}

/// For a refinement: the spec its parent was built from, and the parent's description.
async fn built_from(
    context: &Context,
    ticket: &Ticket,
    generation: &Generation,
) -> Result<Option<(AppSpec, String)>, Failure> {
    let Some(parent) = &generation.parent_id else { return Ok(None) };
    let parent = context.store.generations.get(&ticket.org(), parent).await?;
    let Some(spec) = &parent.spec else { return Ok(None) };
    let spec = serde_json::from_str(spec).map_err(|error| {
        Failure::Deterministic(format!("the earlier generation's spec is unreadable: {error}"))
    })?;
    Ok(Some((spec, parent.description)))
}

/// Architect: the project split into modules, one coder each.
pub(crate) async fn architect(context: &Context, ticket: &Ticket) -> Result<Vec<Module>, Failure> {
    let generation = generation(context, ticket).await?;
    let planned: Planned = output_of(context, ticket, Role::Planner.name()).await?;
    let modules = templates::plan(&planned.spec, stack_of(&generation)?).map_err(deterministic)?;
    publish(context, ticket, kind::PLAN, json!({"modules": modules})).await?;
    Ok(modules)
}

/// Coder: one module's files, each published as it is written — on a model, as its text
/// arrives.
pub(crate) async fn code(
    context: &Context,
    ticket: &Ticket,
    module: &str,
) -> Result<Coded, Failure> {
    let generation = generation(context, ticket).await?;
    let planned: Planned = output_of(context, ticket, Role::Planner.name()).await?;
    let stack = stack_of(&generation)?;
    if !on_builtin(&generation) {
        return code_with_model(context, ticket, &generation, &planned.spec, module).await;
    }
    let files = templates::render_module(&planned.spec, stack, module).map_err(deterministic)?;
    for file in &files {
        publish(
            context,
            ticket,
            kind::FILE_WRITTEN,
            json!({"module": module, "path": file.path, "bytes": file.contents.len(),
                   "contents": file.contents}),
        )
        .await?;
    }
    Ok(Coded { files, model: ModelUse::default() })
}

/// One module written by the generation's model, to the architect's plan. Paths another
/// module owns are refused; the shared module gets the engine's own lock files.
async fn code_with_model(
    context: &Context,
    ticket: &Ticket,
    generation: &Generation,
    spec: &AppSpec,
    module: &str,
) -> Result<Coded, Failure> {
    let stack = stack_of(generation)?;
    let modules: Vec<Module> = output_of(context, ticket, Role::Architect.name()).await?;
    let model = chat_model(context, generation).await?;
    let request = ChatRequest {
        model: model.name(),
        messages: vec![
            Message::text(ql_router::wire::Role::System, model_generation::system_prompt(stack)),
            Message::text(
                ql_router::wire::Role::User,
                model_generation::module_prompt(spec, stack, &modules, module),
            ),
        ],
        temperature: Some(0.0),
        ..ChatRequest::default()
    };
    let written = write_files(context, ticket, &*model, &request, module).await?;
    if written.files.is_empty() {
        return Err(Failure::Deterministic(format!(
            "the model wrote no file for the module `{module}` in the required format"
        )));
    }
    for file in &written.files {
        let owner =
            modules.iter().find(|other| other.name != module && other.paths.contains(&file.path));
        if let Some(owner) = owner {
            return Err(Failure::Deterministic(format!(
                "the model wrote `{}`, which the module `{}` owns",
                file.path, owner.name
            )));
        }
    }
    let mut files = written.files;
    if module == templates::SHARED_MODULE {
        // The engine's own locks win over anything the model wrote in their place.
        for locked in ql_engine::deps::locked_manifests(stack, &spec.name).map_err(deterministic)? {
            files.retain(|file| file.path != locked.path);
            files.push(locked);
        }
    }
    Ok(Coded { files, model: written.model })
}

/// Each coder's output, in the architect's order.
async fn coded_files(context: &Context, ticket: &Ticket) -> Result<Vec<Coded>, Failure> {
    let modules: Vec<Module> = output_of(context, ticket, Role::Architect.name()).await?;
    let mut coded = Vec::with_capacity(modules.len());
    for module in &modules {
        let step = Role::Coder.step(Some(&module.name));
        coded.push(output_of::<Coded>(context, ticket, &step).await?);
    }
    Ok(coded)
}

/// Every file the coders wrote, sorted by path.
async fn files_of(context: &Context, ticket: &Ticket) -> Result<Vec<GeneratedFile>, Failure> {
    let mut files: Vec<GeneratedFile> =
        coded_files(context, ticket).await?.into_iter().flat_map(|coded| coded.files).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// `files` with `changed` written over them (new paths added), sorted by path.
fn overlay(files: &[GeneratedFile], changed: &[GeneratedFile]) -> Vec<GeneratedFile> {
    let mut merged: std::collections::BTreeMap<&str, &GeneratedFile> =
        files.iter().map(|file| (file.path.as_str(), file)).collect();
    for file in changed {
        merged.insert(&file.path, file);
    }
    merged.into_values().cloned().collect()
}

/// Reviewer: the analyzer over every file; each finding published; a syntax error or a
/// high-severity finding fails a built-in generation (a model's goes to the tester's repairs).
pub(crate) async fn review(context: &Context, ticket: &Ticket) -> Result<StaticReport, Failure> {
    let generation = generation(context, ticket).await?;
    let files = files_of(context, ticket).await?;
    let options = ql_analyzer::Options::default();
    let mut published = 0;
    for file in &files {
        let Ok(report) = ql_analyzer::analyze(&file.path, file.contents.as_bytes(), &options)
        else {
            continue;
        };
        for finding in &report.findings {
            if published == MAX_FINDING_EVENTS {
                break;
            }
            publish(context, ticket, kind::FINDING, json!({"path": file.path, "finding": finding}))
                .await?;
            published += 1;
        }
    }
    let report = ql_engine::validate::check_files(&files);
    if !report.passed() && on_builtin(&generation) {
        let problems: Vec<String> =
            report.syntax_errors.iter().chain(&report.findings_high).cloned().collect();
        return Err(Failure::Deterministic(format!(
            "the files do not pass their checks: {}",
            problems.join("; ")
        )));
    }
    Ok(report)
}

/// Tester: the project's own tests in the sandbox (unless the generation skips them). On the
/// built-in engine failing tests fail the generation; a model gets the failure back and
/// rewrites files, round after round, within its budget and until a failure repeats.
pub(crate) async fn test(context: &Context, ticket: &Ticket) -> Result<Tested, Failure> {
    let generation = generation(context, ticket).await?;
    let stack = stack_of(&generation)?;
    let files = files_of(context, ticket).await?;
    if !on_builtin(&generation) {
        return test_and_repair(context, ticket, &generation, stack, files).await;
    }
    if !generation.run_tests {
        publish(context, ticket, kind::TESTS, json!({"skipped": true})).await?;
        return Ok(Tested::default());
    }
    let checked = check_and_test(context, stack, &files, true).await?;
    let report = publish_tests(context, ticket, checked.tests).await?;
    if let Some(failure) = checked.failure {
        return Err(Failure::Deterministic(failure));
    }
    Ok(Tested { report, ..Tested::default() })
}

/// Checks and (when `run_tests`) tests `files`, one sandboxed run per turn of this process.
async fn check_and_test(
    context: &Context,
    stack: Stack,
    files: &[GeneratedFile],
    run_tests: bool,
) -> Result<model_generation::Checked, Failure> {
    let _turn = context
        .test_turns
        .acquire()
        .await
        .map_err(|error| Failure::Transient(error.to_string()))?;
    let settings = &context.settings;
    model_generation::check_and_test(
        stack,
        files,
        &settings.dependency_cache,
        settings.test_timeout,
        run_tests,
    )
    .await
    .map_err(|error| match error {
        // Fetching dependencies is the network's doing: worth another try.
        EngineError::Dependencies(message) => Failure::Transient(message),
        other => deterministic(other),
    })
}

/// Publishes a test run: each case, then the summary; answers the report.
async fn publish_tests(
    context: &Context,
    ticket: &Ticket,
    report: Option<TestReport>,
) -> Result<Option<TestReport>, Failure> {
    let Some(report) = report else { return Ok(None) };
    for case in report.cases.iter().take(MAX_TEST_RESULT_EVENTS) {
        publish(context, ticket, kind::TEST_RESULT, json!(case)).await?;
    }
    let summary = TestReport { cases: Vec::new(), ..report.clone() };
    publish(context, ticket, kind::TESTS, json!({"skipped": false, "report": summary})).await?;
    Ok(Some(report))
}

/// The repair loop of a model's generation.
async fn test_and_repair(
    context: &Context,
    ticket: &Ticket,
    generation: &Generation,
    stack: Stack,
    files: Vec<GeneratedFile>,
) -> Result<Tested, Failure> {
    let budget = Budget::default();
    let mut tested = Tested::default();
    let mut last_signature = None;
    let mut round = 0;
    loop {
        round += 1;
        let current = overlay(&files, &tested.repaired);
        let checked = check_and_test(context, stack, &current, generation.run_tests).await?;
        tested.rounds = round;
        tested.report = publish_tests(context, ticket, checked.tests).await?;
        tested.checks = Some(checked.checks);
        let Some(failure) = checked.failure else {
            if !generation.run_tests {
                publish(context, ticket, kind::TESTS, json!({"skipped": true})).await?;
            }
            return Ok(tested);
        };
        let signature = model_generation::signature(&failure);
        let stop = if round > budget.max_rounds {
            Some(format!("still failing after {} repair rounds", budget.max_rounds))
        } else if last_signature.as_ref() == Some(&signature) {
            Some(format!("the same failure came back after a repair (round {round})"))
        } else if tested.model.usage.total_tokens > budget.max_tokens {
            Some(format!("the token budget ({}) is spent", budget.max_tokens))
        } else {
            None
        };
        if let Some(reason) = stop {
            return Err(Failure::Deterministic(format!("{reason}:\n{failure}")));
        }
        last_signature = Some(signature);
        let model = chat_model(context, generation).await?;
        let request = ChatRequest {
            model: model.name(),
            messages: vec![
                Message::text(
                    ql_router::wire::Role::System,
                    model_generation::system_prompt(stack),
                ),
                Message::text(
                    ql_router::wire::Role::User,
                    model_generation::repair_files_prompt(&failure, &current),
                ),
            ],
            temperature: Some(0.0),
            ..ChatRequest::default()
        };
        let written = write_files(context, ticket, &*model, &request, "repair").await?;
        if written.files.is_empty() {
            return Err(Failure::Deterministic(format!(
                "the model answered the failure with no file:\n{failure}"
            )));
        }
        tested.model.add(&written.model);
        tested.repaired = overlay(&tested.repaired, &written.files);
    }
}

/// Packager: the signed capsule, the same bytes however often this runs (its time is the
/// generation's), kept once per generation.
pub(crate) async fn pack(context: &Context, ticket: &Ticket) -> Result<Packed, Failure> {
    let generation = generation(context, ticket).await?;
    let stack = stack_of(&generation)?;
    let planned: Planned = output_of(context, ticket, Role::Planner.name()).await?;
    let coded = coded_files(context, ticket).await?;
    let reviewed: StaticReport = output_of(context, ticket, Role::Reviewer.name()).await?;
    let tested: Tested = output_of(context, ticket, Role::Tester.name()).await?;
    let files = overlay(&files_of(context, ticket).await?, &tested.repaired);
    let checks = tested.checks.clone().unwrap_or(reviewed);
    let created_at = time::OffsetDateTime::from_unix_timestamp(generation.queued_at / 1000)
        .ok()
        .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    let made = if on_builtin(&generation) {
        ql_engine::generate::Made::builtin(&generation.description)
    } else {
        let mut used = planned.model.clone();
        for each in &coded {
            used.add(&each.model);
        }
        used.add(&tested.model);
        ql_engine::generate::Made {
            provider: model_of(&generation).to_owned(),
            prompt_hashes: used.prompt_hashes,
            usage: used.usage,
        }
    };
    let capsule = ql_engine::generate::pack(
        &generation.description,
        &planned.spec,
        &files,
        &checks,
        tested.report.as_ref(),
        (stack, &created_at),
        &context.key,
        &made,
    )
    .map_err(deterministic)?;
    let verified = ql_capsule::verify(&capsule.bytes, &ql_capsule::Limits::default())
        .map_err(|error| Failure::Deterministic(format!("the capsule does not verify: {error}")))?;
    let new = NewCapsule {
        manifest: serde_json::to_string(&verified.manifest)
            .map_err(|error| Failure::Deterministic(error.to_string()))?,
        signature: serde_json::to_string(&verified.signature)
            .map_err(|error| Failure::Deterministic(error.to_string()))?,
        archive: capsule.bytes,
    };
    let kept =
        context.store.capsules.create_for_generation(&ticket.org(), &ticket.id(), new).await?;
    let packed =
        Packed { capsule_id: kept.id.0.clone(), sha256: kept.sha256, size_bytes: kept.size_bytes };
    publish(context, ticket, kind::CAPSULE, json!(packed)).await?;
    Ok(packed)
}

/// Ends the generation with its capsule and report, and the final event — after the
/// packager's step is recorded, so that event is the stream's last. Runs again harmlessly.
pub(crate) async fn succeed(
    context: &Context,
    ticket: &Ticket,
    packed: &Packed,
) -> Result<(), StoreError> {
    let reviewed: Option<StaticReport> =
        output_of(context, ticket, Role::Reviewer.name()).await.ok();
    let tested: Option<Tested> = output_of(context, ticket, Role::Tester.name()).await.ok();
    let (checks, tests) = match tested {
        Some(tested) => (tested.checks.or(reviewed), tested.report),
        None => (reviewed, None),
    };
    let report = json!({"checks": checks, "tests": tests}).to_string();
    let outcome = GenerationOutcome::Succeeded {
        capsule: ql_store::CapsuleId(packed.capsule_id.clone()),
        report,
    };
    let last = json!(packed).to_string();
    match context.store.generations.finish(&ticket.org(), &ticket.id(), &outcome, &last).await {
        Ok(Some(_)) => {
            context.publisher.announce(&ticket.id());
            Ok(())
        }
        // Cancelled meanwhile: the capsule stays, the generation stays cancelled.
        Ok(None) | Err(StoreError::NotFound(_)) => Ok(()),
        Err(error) => Err(error),
    }
}
