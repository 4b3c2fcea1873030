//! The agents, one function per role; each reads what earlier steps stored and returns its
//! own output, publishing what it does as it goes. Only the built-in engine writes code here.

use serde::{Deserialize, Serialize};
use serde_json::json;

use ql_engine::EngineError;
use ql_engine::spec::AppSpec;
use ql_engine::stacks::Stack;
use ql_engine::templates::{self, GeneratedFile, Module};
use ql_engine::validate::{StaticReport, TestReport};
use ql_store::{Generation, GenerationOutcome, NewCapsule, StoreError};

use crate::events::kind;
use crate::steps::{Failure, Role, Ticket, output_of};
use crate::worker::Context;

/// Most findings published one by one; the counts cover the rest.
const MAX_FINDING_EVENTS: usize = 500;
/// The most `test_result` events one test run publishes (the report keeps every case).
const MAX_TEST_RESULT_EVENTS: usize = 1_000;

/// The planner's output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Planned {
    pub spec: AppSpec,
    pub questions: Vec<String>,
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

async fn publish(
    context: &Context,
    ticket: &Ticket,
    kind: &str,
    data: serde_json::Value,
) -> Result<(), Failure> {
    context
        .publisher
        .publish(&ticket.org(), &ticket.id(), kind, data)
        .await
        .map(drop)
        .map_err(|error| Failure::Transient(error.to_string()))
}

/// Planner: the description read into a spec, kept on the generation.
pub(crate) async fn plan(context: &Context, ticket: &Ticket) -> Result<Planned, Failure> {
    let generation = generation(context, ticket).await?;
    let extraction = ql_engine::spec::extract(&generation.description).map_err(deterministic)?;
    let spec = serde_json::to_string(&extraction.spec)
        .map_err(|error| Failure::Deterministic(error.to_string()))?;
    context.store.generations.set_spec(&ticket.org(), &ticket.id(), &spec).await?;
    publish(
        context,
        ticket,
        kind::SPEC,
        json!({"spec": extraction.spec, "questions": extraction.questions}),
    )
    .await?;
    Ok(Planned { spec: extraction.spec, questions: extraction.questions })
}

/// Architect: the project split into modules, one coder each.
pub(crate) async fn architect(context: &Context, ticket: &Ticket) -> Result<Vec<Module>, Failure> {
    let generation = generation(context, ticket).await?;
    let planned: Planned = output_of(context, ticket, Role::Planner.name()).await?;
    let modules = templates::plan(&planned.spec, stack_of(&generation)?).map_err(deterministic)?;
    publish(context, ticket, kind::PLAN, json!({"modules": modules})).await?;
    Ok(modules)
}

/// Coder: one module's files, each published as it is written.
pub(crate) async fn code(
    context: &Context,
    ticket: &Ticket,
    module: &str,
) -> Result<Vec<GeneratedFile>, Failure> {
    let generation = generation(context, ticket).await?;
    let planned: Planned = output_of(context, ticket, Role::Planner.name()).await?;
    let files = templates::render_module(&planned.spec, stack_of(&generation)?, module)
        .map_err(deterministic)?;
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
    Ok(files)
}

/// Every file the coders wrote, sorted by path.
async fn files_of(context: &Context, ticket: &Ticket) -> Result<Vec<GeneratedFile>, Failure> {
    let modules: Vec<Module> = output_of(context, ticket, Role::Architect.name()).await?;
    let mut files = Vec::new();
    for module in &modules {
        let step = Role::Coder.step(Some(&module.name));
        files.extend(output_of::<Vec<GeneratedFile>>(context, ticket, &step).await?);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Reviewer: the analyzer over every file; each finding published; a syntax error or a
/// high-severity finding fails the generation.
pub(crate) async fn review(context: &Context, ticket: &Ticket) -> Result<StaticReport, Failure> {
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
    if !report.passed() {
        let problems: Vec<String> =
            report.syntax_errors.iter().chain(&report.findings_high).cloned().collect();
        return Err(Failure::Deterministic(format!(
            "the files do not pass their checks: {}",
            problems.join("; ")
        )));
    }
    Ok(report)
}

/// Tester: the project's own tests in the sandbox (unless the generation skips them); failing
/// tests fail the generation.
pub(crate) async fn test(
    context: &Context,
    ticket: &Ticket,
) -> Result<Option<TestReport>, Failure> {
    let generation = generation(context, ticket).await?;
    if !generation.run_tests {
        publish(context, ticket, kind::TESTS, json!({"skipped": true})).await?;
        return Ok(None);
    }
    let stack = stack_of(&generation)?;
    let files = files_of(context, ticket).await?;
    let _turn = context
        .test_turns
        .acquire()
        .await
        .map_err(|error| Failure::Transient(error.to_string()))?;
    let (dependencies, _cached) =
        ql_engine::deps::prepare(stack, &files, &context.settings.dependency_cache)
            .await
            // Fetching dependencies is the network's doing: worth another try.
            .map_err(|error| Failure::Transient(error.to_string()))?;
    let project = ql_engine::generate::write_project(&files).map_err(deterministic)?;
    let report = ql_engine::validate::run_tests(
        stack,
        project.path(),
        &dependencies,
        context.settings.test_timeout,
    )
    .await
    .map_err(deterministic)?;
    for case in report.cases.iter().take(MAX_TEST_RESULT_EVENTS) {
        publish(context, ticket, kind::TEST_RESULT, json!(case)).await?;
    }
    let summary = ql_engine::validate::TestReport { cases: Vec::new(), ..report.clone() };
    publish(context, ticket, kind::TESTS, json!({"skipped": false, "report": summary})).await?;
    if !report.succeeded() {
        return Err(Failure::Deterministic(format!(
            "the project's tests did not pass ({} passed, {} failed, {} errors{})",
            report.passed,
            report.failed,
            report.errors,
            if report.timed_out { ", timed out" } else { "" },
        )));
    }
    Ok(Some(report))
}

/// Packager: the signed capsule, the same bytes however often this runs (its time is the
/// generation's), kept once per generation.
pub(crate) async fn pack(context: &Context, ticket: &Ticket) -> Result<Packed, Failure> {
    let generation = generation(context, ticket).await?;
    let stack = stack_of(&generation)?;
    let planned: Planned = output_of(context, ticket, Role::Planner.name()).await?;
    let files = files_of(context, ticket).await?;
    let checks: StaticReport = output_of(context, ticket, Role::Reviewer.name()).await?;
    let tests: Option<TestReport> = output_of(context, ticket, Role::Tester.name()).await?;
    let created_at = time::OffsetDateTime::from_unix_timestamp(generation.queued_at / 1000)
        .ok()
        .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    let capsule = ql_engine::generate::pack_builtin(
        &generation.description,
        &planned.spec,
        &files,
        &checks,
        tests.as_ref(),
        (stack, &created_at),
        &context.key,
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
    let checks: Option<StaticReport> = output_of(context, ticket, Role::Reviewer.name()).await.ok();
    let tests: Option<TestReport> =
        output_of(context, ticket, Role::Tester.name()).await.ok().flatten();
    let report = json!({"checks": checks, "tests": tests}).to_string();
    let outcome = GenerationOutcome::Succeeded {
        capsule: ql_store::CapsuleId(packed.capsule_id.clone()),
        report,
    };
    let last = json!(packed).to_string();
    match context.store.generations.finish(&ticket.org(), &ticket.id(), &outcome, &last).await {
        Ok(Some(_)) => {
            context.publisher.announce(&ticket.id()).await;
            Ok(())
        }
        // Cancelled meanwhile: the capsule stays, the generation stays cancelled.
        Ok(None) | Err(StoreError::NotFound(_)) => Ok(()),
        Err(error) => Err(error),
    }
}
