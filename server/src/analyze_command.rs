//! `quantumlayer analyze PATH...`: the analyzer as a command for CI.
//!
//! Exit codes: 0 when the run is clean (or nothing reaches `--fail-on`), 1 when findings at
//! or above `--fail-on` exist, 2 when the command could not run (bad arguments, missing path).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use ql_analyzer::{Language, Severity, Thresholds};
use ql_scan::{Format, ScanOptions};

/// Files above this many trigger a progress bar (on a terminal).
const PROGRESS_FROM_FILES: usize = 200;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Files and directories to analyse (directories are walked, honouring .gitignore).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = parse_format)]
    format: Format,
    /// Analyse only files of this language (python, rust, typescript, …).
    #[arg(long = "lang", value_parser = parse_language)]
    language: Option<Language>,
    /// Worker threads (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: Option<u16>,
    /// Exit with 1 when findings at or above this severity exist.
    #[arg(long, value_parser = parse_severity)]
    fail_on: Option<Severity>,
    /// Quality limit: code lines of a function (0 turns the rule off).
    #[arg(long, default_value_t = Thresholds::default().function_nloc)]
    max_function_lines: u32,
    /// Quality limit: cyclomatic complexity of a function.
    #[arg(long, default_value_t = Thresholds::default().cyclomatic)]
    max_cyclomatic: u32,
    /// Quality limit: cognitive complexity of a function.
    #[arg(long, default_value_t = Thresholds::default().cognitive)]
    max_cognitive: u32,
    /// Quality limit: nesting depth in a function.
    #[arg(long, default_value_t = Thresholds::default().nesting)]
    max_nesting: u32,
    /// Quality limit: parameters of a function.
    #[arg(long, default_value_t = Thresholds::default().parameters)]
    max_parameters: u32,
    /// Quality limit: code lines of a file.
    #[arg(long, default_value_t = Thresholds::default().file_code_lines)]
    max_file_lines: u32,
    /// Report blocks of at least this many tokens repeated across files (0 turns it off).
    #[arg(long, default_value_t = ScanOptions::default().duplicate_min_tokens)]
    min_duplicate_tokens: usize,
    /// Skip files larger than this many bytes.
    #[arg(long, default_value_t = ScanOptions::default().max_file_bytes)]
    max_file_bytes: u64,
    /// Stop parsing one file after this many milliseconds and report it as timed out.
    #[arg(long, default_value_t = 10_000)]
    file_timeout_ms: u64,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_language(s: &str) -> Result<Language, String> {
    s.parse().map_err(|e: ql_analyzer::UnknownLanguage| {
        let known: Vec<_> = Language::ALL.iter().map(|l| l.id()).collect();
        format!("{e}; known: {}", known.join(", "))
    })
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

pub fn run(args: AnalyzeArgs) -> ExitCode {
    let thresholds = Thresholds {
        function_nloc: args.max_function_lines,
        cyclomatic: args.max_cyclomatic,
        cognitive: args.max_cognitive,
        nesting: args.max_nesting,
        parameters: args.max_parameters,
        file_code_lines: args.max_file_lines,
    };
    let options = ScanOptions {
        language: args.language,
        jobs: args.jobs.map(usize::from),
        max_file_bytes: args.max_file_bytes,
        analysis: ql_analyzer::Options {
            language: None,
            thresholds,
            time_limit: Some(std::time::Duration::from_millis(args.file_timeout_ms)),
        },
        duplicate_min_tokens: args.min_duplicate_tokens,
    };
    let bar = indicatif::ProgressBar::hidden();
    let progress = |done: usize, total: usize| {
        if done == 1 && total >= PROGRESS_FROM_FILES {
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "analysing {bar:40} {pos}/{len} files, {elapsed} (about {eta} left)",
            ) {
                bar.set_style(style);
            }
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_length(total as u64);
        }
        bar.set_position(done as u64);
    };
    let report = match ql_scan::scan(&args.paths, &options, &progress) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    bar.finish_and_clear();
    let rendered = ql_scan::render(&report, args.format, env!("CARGO_PKG_VERSION"));
    let mut stdout = std::io::stdout().lock();
    let newline = if rendered.ends_with('\n') { "" } else { "\n" };
    if write!(stdout, "{rendered}{newline}").is_err() {
        return ExitCode::from(2);
    }
    match args.fail_on {
        Some(severity) if report.totals.findings_at_least(severity) > 0 => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}
