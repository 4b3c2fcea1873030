//! The offline pipeline: description → spec → files → checks → the project's own tests in
//! the sandbox → a signed capsule. Each step is reported as it starts, for a progress display.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};

use std::sync::Arc;

use crate::EngineError;
use crate::model_generation::{Budget, ChatModel, generate_with_model};
use crate::spec::{self, AppSpec};
use crate::stacks::{DEFAULT_PORT, Stack};
use crate::templates::{self, GeneratedFile};
use crate::validate::{self, StaticReport, TestReport};

/// How to generate.
#[derive(Clone)]
pub struct Options {
    pub stack: Stack,
    /// The model that writes the project; `None` is the built-in engine (templates).
    pub model: Option<Arc<dyn ChatModel>>,
    /// Limits on the model's rounds and tokens.
    pub budget: Budget,
    /// Run the project's tests in the sandbox.
    pub run_tests: bool,
    /// Where installed dependencies are cached.
    pub dependency_cache: PathBuf,
    /// The longest a test run may take.
    pub test_timeout: Duration,
    /// RFC 3339 time written into the capsule (the caller's clock; fixed in tests).
    pub created_at: String,
}

/// The steps, as they start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    ExtractingSpec,
    RenderingFiles,
    AskingModel,
    CheckingFiles,
    InstallingDependencies,
    RunningTests,
    PackingCapsule,
}

impl Step {
    pub fn describe(self) -> &'static str {
        match self {
            Self::ExtractingSpec => "reading the description",
            Self::RenderingFiles => "writing the project",
            Self::AskingModel => {
                "the model writes the project; failing checks and tests go back to it"
            }
            Self::CheckingFiles => "checking every file",
            Self::InstallingDependencies => "installing dependencies",
            Self::RunningTests => "running the project's tests in the sandbox",
            Self::PackingCapsule => "packing the capsule",
        }
    }
}

/// A finished generation.
#[derive(Debug)]
pub struct Generated {
    pub spec: AppSpec,
    pub questions: Vec<String>,
    pub files: Vec<GeneratedFile>,
    pub checks: StaticReport,
    /// `None` when the tests were not run.
    pub tests: Option<TestReport>,
    pub dependencies_cached: Option<bool>,
    pub capsule: ql_capsule::Capsule,
    /// Seconds per step.
    pub timings: Vec<(Step, f64)>,
}

/// Runs the pipeline; `progress` hears of each step as it starts.
pub async fn generate(
    description: &str,
    options: &Options,
    key: &ql_capsule::InstallationKey,
    progress: &(dyn Fn(Step) + Sync),
) -> Result<Generated, EngineError> {
    if options.model.is_some() && !options.run_tests {
        return Err(EngineError::Validation(
            "a model's project is always validated: its tests drive the repairs".into(),
        ));
    }
    let mut timings = Vec::new();
    let mut clock = Clock { step: Step::ExtractingSpec, started: Instant::now() };
    progress(Step::ExtractingSpec);
    // With a model, the model reads the description too; its spec obeys the same rules.
    let (extraction, spec_usage) = match &options.model {
        Some(model) => {
            let (spec, usage) = spec::extract_with_model(description, model.as_ref()).await?;
            (spec::Extraction { spec, questions: Vec::new() }, usage)
        }
        None => (spec::extract(description)?, ql_router::wire::Usage::default()),
    };

    if let Some(model) = &options.model {
        clock.next(Step::AskingModel, &mut timings, progress);
        let generation = generate_with_model(
            &extraction.spec,
            options.stack,
            model.as_ref(),
            options.budget,
            &options.dependency_cache,
            options.test_timeout,
        )
        .await?;
        let checks = validate::check_files(&generation.files);
        let mut prompt_hashes = vec![hex::encode(Sha256::digest(description.as_bytes()))];
        prompt_hashes.extend(generation.prompt_hashes.iter().cloned());
        let made = Made {
            provider: model.name(),
            prompt_hashes,
            usage: ql_router::wire::Usage::new(
                spec_usage.prompt_tokens + generation.usage.prompt_tokens,
                spec_usage.completion_tokens + generation.usage.completion_tokens,
            ),
        };
        clock.next(Step::PackingCapsule, &mut timings, progress);
        let capsule = pack(
            description,
            &extraction.spec,
            &generation.files,
            &checks,
            Some(&generation.tests),
            (options.stack, &options.created_at),
            key,
            &made,
        )?;
        clock.finish(&mut timings);
        return Ok(Generated {
            spec: extraction.spec,
            questions: extraction.questions,
            files: generation.files,
            checks,
            tests: Some(generation.tests),
            dependencies_cached: None,
            capsule,
            timings,
        });
    }

    clock.next(Step::RenderingFiles, &mut timings, progress);
    let files = templates::render(&extraction.spec, options.stack)?;

    clock.next(Step::CheckingFiles, &mut timings, progress);
    let checks = validate::check_files(&files);
    if !checks.passed() {
        return Err(EngineError::Validation(format!(
            "the generated files do not pass their checks: {}",
            checks
                .syntax_errors
                .iter()
                .chain(&checks.findings_high)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }

    let (tests, dependencies_cached) = if options.run_tests {
        clock.next(Step::InstallingDependencies, &mut timings, progress);
        let (dependencies, cached) =
            crate::deps::prepare(options.stack, &files, &options.dependency_cache).await?;
        clock.next(Step::RunningTests, &mut timings, progress);
        let project = write_project(&files)?;
        let report =
            validate::run_tests(options.stack, project.path(), &dependencies, options.test_timeout)
                .await?;
        if !report.succeeded() {
            return Err(EngineError::Validation(format!(
                "the project's tests did not pass ({} passed, {} failed, {} errors{}):\n{}",
                report.passed,
                report.failed,
                report.errors,
                if report.timed_out { ", timed out" } else { "" },
                report.output_tail
            )));
        }
        (Some(report), Some(cached))
    } else {
        (None, None)
    };

    clock.next(Step::PackingCapsule, &mut timings, progress);
    let capsule = pack(
        description,
        &extraction.spec,
        &files,
        &checks,
        tests.as_ref(),
        (options.stack, &options.created_at),
        key,
        &Made::builtin(description),
    )?;
    clock.finish(&mut timings);
    Ok(Generated {
        spec: extraction.spec,
        questions: extraction.questions,
        files,
        checks,
        tests,
        dependencies_cached,
        capsule,
        timings,
    })
}

struct Clock {
    step: Step,
    started: Instant,
}

impl Clock {
    fn next(
        &mut self,
        step: Step,
        timings: &mut Vec<(Step, f64)>,
        progress: &(dyn Fn(Step) + Sync),
    ) {
        self.finish(timings);
        self.step = step;
        self.started = Instant::now();
        progress(step);
    }

    fn finish(&self, timings: &mut Vec<(Step, f64)>) {
        timings.push((self.step, self.started.elapsed().as_secs_f64()));
    }
}

/// The files in a temporary directory, for the sandbox to copy.
pub fn write_project(files: &[GeneratedFile]) -> Result<tempfile::TempDir, EngineError> {
    let failed = |error: std::io::Error| EngineError::Sandbox(error.to_string());
    let dir = tempfile::Builder::new().prefix("ql-project-").tempdir().map_err(failed)?;
    for file in files {
        let path = dir.path().join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        std::fs::write(&path, &file.contents).map_err(failed)?;
    }
    Ok(dir)
}

/// Who wrote a project: the model, the hashes of the prompts it got, the tokens it used.
#[derive(Debug, Clone, Default)]
pub struct Made {
    pub provider: String,
    pub prompt_hashes: Vec<String>,
    pub usage: ql_router::wire::Usage,
}

impl Made {
    /// The built-in engine, whose one prompt is the description.
    pub fn builtin(description: &str) -> Self {
        Self {
            provider: crate::builtin_model::MODEL.to_owned(),
            prompt_hashes: vec![hex::encode(Sha256::digest(description.as_bytes()))],
            usage: ql_router::wire::Usage::default(),
        }
    }
}

/// Packs a project into a signed capsule whose provenance says who `made` it.
#[expect(clippy::too_many_arguments, reason = "each part of the manifest comes from one step")]
pub fn pack(
    description: &str,
    spec: &AppSpec,
    files: &[GeneratedFile],
    checks: &StaticReport,
    tests: Option<&TestReport>,
    (stack, created_at): (Stack, &str),
    key: &ql_capsule::InstallationKey,
    made: &Made,
) -> Result<ql_capsule::Capsule, EngineError> {
    let spec_json =
        serde_json::to_value(spec).map_err(|error| EngineError::Validation(error.to_string()))?;
    let mut identity = Sha256::new();
    for part in [description, stack.id(), &spec_json.to_string()] {
        identity.update(part.as_bytes());
        identity.update([0]);
    }
    for file in files {
        identity.update(file.path.as_bytes());
        identity.update(file.contents.as_bytes());
    }
    let commands = stack.commands();
    let manifest = ql_capsule::Manifest {
        format_version: ql_capsule::FORMAT_VERSION,
        id: format!("cap_{}", &hex::encode(identity.finalize())[..24]),
        created_at: created_at.to_owned(),
        description: description.to_owned(),
        spec: spec_json,
        stack: stack.id().to_owned(),
        files: Vec::new(),
        commands: ql_capsule::Commands {
            install: commands.install.to_owned(),
            test: commands.test.to_owned(),
            run: commands.run.to_owned(),
        },
        port: DEFAULT_PORT,
        provenance: ql_capsule::Provenance {
            provider: made.provider.split('/').next().unwrap_or_default().to_owned(),
            model: made.provider.clone(),
            prompt_hashes: made.prompt_hashes.clone(),
        },
        usage: ql_capsule::Usage {
            prompt_tokens: made.usage.prompt_tokens,
            completion_tokens: made.usage.completion_tokens,
            cost_micros: 0,
        },
        validation: crate::validate::capsule_report(checks, tests),
        edited: None,
    };
    let project_files: Vec<ql_capsule::ProjectFile> = files
        .iter()
        .map(|file| ql_capsule::ProjectFile {
            path: file.path.clone(),
            contents: file.contents.clone().into_bytes(),
        })
        .collect();
    ql_capsule::build(manifest, &project_files, key, &ql_capsule::Limits::default())
        .map_err(|error| EngineError::Validation(error.to_string()))
}

#[cfg(test)]
mod tests;
