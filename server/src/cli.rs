//! The command line: `serve` (the default), `migrate`, `config example`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, EXAMPLE_CONFIG};

#[derive(Debug, Parser)]
#[command(name = "quantumlayer", version, about = "Describe an app; get working, tested code.")]
struct Cli {
    /// The config file (default: `quantumlayer.toml` in the working directory, if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web app and the APIs (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Analyse source files: metrics, complexity, security and quality findings.
    Analyze(crate::analyze_command::AnalyzeArgs),
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a commented example config with every key at its default.
    Example,
}

/// Runs the command line and turns any failure into one line on stderr and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The analyzer needs neither the config nor the database.
    if let Some(Command::Analyze(args)) = cli.command {
        return crate::analyze_command::run(args);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Config { command: ConfigCommand::Example }) = cli.command {
        use std::io::Write;
        std::io::stdout().write_all(EXAMPLE_CONFIG.as_bytes())?;
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref())?;
    crate::telemetry::init(&config.log)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(crate::router::serve(config)),
        Command::Migrate => runtime.block_on(async {
            crate::open_services(&config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }),
        Command::Config { .. } | Command::Analyze(_) => Ok(()),
    }
}
