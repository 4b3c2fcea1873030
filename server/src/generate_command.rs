//! `quantumlayer generate "DESCRIPTION" [--stack S] [--model M] [--out FILE] [--no-validate]
//! [--json]`: the offline engine from the command line. Shows each step, then the spec, the
//! validation report and where the capsule was written; `--json` prints one object instead.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// What the app should do, in plain words.
    pub description: String,
    /// The stack to generate.
    #[arg(long, default_value = "python-fastapi", value_parser = clap::builder::PossibleValuesParser::new(
        ql_engine::stacks::Stack::ALL.iter().map(|stack| stack.id())
    ))]
    pub stack: String,
    /// The model that writes the project (`builtin` is the offline engine).
    #[arg(long, default_value = "builtin")]
    pub model: String,
    /// Where to write the capsule (default: `<app name>.zip` in the working directory).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Skip the project's own tests (the files are still checked).
    #[arg(long)]
    pub no_validate: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(config: &Config, args: GenerateArgs) -> anyhow::Result<()> {
    // `builtin` is the offline engine; any other name is a route of the gateway.
    let model: Option<std::sync::Arc<dyn ql_engine::model_generation::ChatModel>> =
        if args.model == ql_engine::builtin_model::MODEL {
            None
        } else {
            let gateway = ql_router::build::gateway(
                &config.gateway_config(),
                &|name| std::env::var(name).ok(),
                &ql_engine::builtin_model::provider,
            )?;
            gateway.resolve(&args.model).with_context(|| format!("the model `{}`", args.model))?;
            Some(std::sync::Arc::new(ql_engine::model_generation::GatewayModel {
                gateway: std::sync::Arc::new(gateway),
                model: args.model.clone(),
            }))
        };
    let stack = ql_engine::stacks::Stack::parse(&args.stack)?;
    let key = crate::secret_key::capsule_key(&config.data_dir)?;
    let options = ql_engine::generate::Options {
        stack,
        model,
        budget: ql_engine::model_generation::Budget::default(),
        run_tests: !args.no_validate,
        dependency_cache: ql_engine::deps::default_cache(),
        test_timeout: Duration::from_secs(300),
        created_at: time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .ok()
            .and_then(|now| now.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default(),
    };
    let display = StepDisplay::new(args.json);
    let progress = |step: ql_engine::generate::Step| display.start(step);
    let generated =
        ql_engine::generate::generate(&args.description, &options, &key, &progress).await;
    display.finish(generated.is_ok());
    let generated = generated?;
    let out = args.out.unwrap_or_else(|| PathBuf::from(format!("{}.zip", generated.spec.name)));
    std::fs::write(&out, &generated.capsule.bytes)
        .with_context(|| format!("cannot write the capsule to {}", out.display()))?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let summary = serde_json::json!({
            "capsule": out.display().to_string(),
            "id": generated.capsule.manifest.id,
            "stack": stack.id(),
            "spec": generated.spec,
            "questions": generated.questions,
            "files": generated.files.len(),
            "checks": generated.checks,
            "tests": generated.tests,
            "dependencies_cached": generated.dependencies_cached,
            "seconds": generated.timings.iter().map(|(step, seconds)| (format!("{step:?}"), *seconds)).collect::<std::collections::BTreeMap<_, _>>(),
        });
        writeln!(stdout, "{summary}")?;
        return Ok(());
    }
    write!(stdout, "\n{}", ql_engine::spec::summary(&generated.spec))?;
    for question in &generated.questions {
        writeln!(stdout, "? {question}")?;
    }
    let checks = &generated.checks;
    writeln!(
        stdout,
        "\n{} files checked: {} syntax errors, {} high, {} medium and {} low findings",
        checks.files,
        checks.syntax_errors.len(),
        checks.findings_high.len(),
        checks.findings_medium,
        checks.findings_low
    )?;
    match &generated.tests {
        Some(report) => writeln!(
            stdout,
            "tests: {} passed, {} failed in {:.1} s; coverage {}",
            report.passed,
            report.failed + report.errors,
            report.seconds,
            report
                .coverage_percent
                .map_or_else(|| "not measured".to_owned(), |c| format!("{c:.1}%"))
        )?,
        None => writeln!(stdout, "tests: not run (--no-validate)")?,
    }
    writeln!(
        stdout,
        "capsule: {} ({} bytes, {})",
        out.display(),
        generated.capsule.bytes.len(),
        generated.capsule.manifest.id
    )?;
    Ok(())
}

/// The steps as they go: a spinner with the running step and a line per finished one on a
/// terminal, one plain line per step otherwise, nothing with `--json`.
struct StepDisplay {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    current: std::sync::Mutex<Option<(ql_engine::generate::Step, std::time::Instant)>>,
}

impl StepDisplay {
    fn new(quiet: bool) -> Self {
        use std::io::IsTerminal;
        let terminal = !quiet && std::io::stderr().is_terminal();
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self { bar, plain: !quiet && !terminal, current: std::sync::Mutex::new(None) }
    }

    fn start(&self, step: ql_engine::generate::Step) {
        self.close_current(true);
        if let Some(bar) = &self.bar {
            bar.set_message(step.describe());
        } else if self.plain {
            let _ = writeln!(std::io::stderr(), "… {}", step.describe());
        }
        *self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((step, std::time::Instant::now()));
    }

    fn close_current(&self, succeeded: bool) {
        let finished =
            self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let (Some(bar), Some((step, started))) = (&self.bar, finished) {
            let mark = if succeeded { "✓" } else { "✗" };
            bar.println(format!(
                "{mark} {} ({:.2} s)",
                step.describe(),
                started.elapsed().as_secs_f64()
            ));
        }
    }

    fn finish(&self, succeeded: bool) {
        self.close_current(succeeded);
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
