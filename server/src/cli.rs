//! The command line: `serve` (the default), `worker`, `migrate`, `analyze`, `generate`, `capsule verify`,
//! `gateway`, `orgs`, `keys`, `config example`.

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
    /// Serve the web app and the APIs, with a generation worker (the default).
    Serve {
        /// Serve only: leave generations to `quantumlayer worker` processes.
        #[arg(long)]
        no_worker: bool,
    },
    /// Run only a generation worker (and its scheduler), without the web server.
    Worker,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Analyse source files: metrics, complexity, security and quality findings.
    Analyze(crate::analyze_command::AnalyzeArgs),
    /// Run only the OpenAI-compatible LLM gateway (`/v1`, `/metrics`, `/healthz`).
    Gateway {
        /// The address to listen on (default: the configured `listen`).
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Generate an app from a description: spec, project, checks, tests in the sandbox, capsule.
    Generate(crate::generate_command::GenerateArgs),
    /// Work with capsules (verify one).
    Capsule {
        #[command(subcommand)]
        command: crate::capsule_command::CapsuleCommand,
    },
    /// Manage organisations (as the operator: the local user owns what it creates).
    Orgs {
        #[command(subcommand)]
        command: OrgsCommand,
    },
    /// Manage API keys for the gateway.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key and print it once: it cannot be shown again.
    Create {
        /// The organisation's slug (`default` on a fresh install).
        #[arg(long, value_name = "ORG")]
        org: String,
        /// A name that says what the key is for.
        #[arg(long)]
        name: String,
    },
    /// List an organisation's keys (their prefixes, never the keys).
    List {
        #[arg(long, value_name = "ORG")]
        org: String,
    },
}

#[derive(Debug, Subcommand)]
enum OrgsCommand {
    /// Create an organisation and print its slug (what `keys create --org` takes).
    Create {
        /// Its name, such as "Acme Labs" (slug `acme-labs`).
        name: String,
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
    match cli.command {
        Some(Command::Analyze(args)) => return crate::analyze_command::run(args),
        Some(Command::Capsule { command }) => return crate::capsule_command::run(command),
        _ => {}
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
    if matches!(cli.command, Some(Command::Worker)) {
        crate::priority::yield_to_interactive_work(config.generations.worker_nice);
    }
    // One thread: tokio's current-thread scheduler, which wakes no other thread per event —
    // the least CPU per request for a gateway on a small machine.
    let mut runtime = match config.http.worker_threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        threads => {
            let mut runtime = tokio::runtime::Builder::new_multi_thread();
            if threads > 0 {
                runtime.worker_threads(threads);
            }
            runtime
        }
    };
    let runtime = runtime.enable_all().build()?;
    match cli.command.unwrap_or(Command::Serve { no_worker: false }) {
        Command::Serve { no_worker } => runtime.block_on(crate::router::serve(config, !no_worker)),
        Command::Worker => runtime.block_on(crate::router::serve_worker(config)),
        Command::Migrate => runtime.block_on(async {
            crate::open_services(&config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }),
        Command::Gateway { listen } => {
            runtime.block_on(crate::router::serve_gateway(config, listen))
        }
        Command::Keys { command } => runtime.block_on(keys(&config, command)),
        Command::Orgs { command } => runtime.block_on(orgs(&config, command)),
        Command::Generate(args) => runtime.block_on(crate::generate_command::run(&config, args)),
        Command::Config { .. } | Command::Analyze(_) | Command::Capsule { .. } => Ok(()),
    }
}

async fn orgs(config: &Config, command: OrgsCommand) -> anyhow::Result<()> {
    use std::io::Write;
    let services = crate::open_services(config).await?;
    match command {
        OrgsCommand::Create { name } => {
            let organization = services.create_organization_as_operator(&name).await?;
            writeln!(std::io::stdout().lock(), "{}", organization.slug)?;
            eprintln!(
                "Created `{}`; make it a key with `quantumlayer keys create --org {} --name NAME`.",
                organization.name, organization.slug
            );
        }
    }
    Ok(())
}

async fn keys(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    use std::io::Write;
    let services = crate::open_services(config).await?;
    let mut out = std::io::stdout().lock();
    match command {
        KeysCommand::Create { org, name } => {
            let issued = services.create_api_key_as_operator(&org, &name).await?;
            writeln!(out, "{}", issued.secret)?;
            eprintln!(
                "Created key `{}` ({}…) for `{org}`. Keep it now: it is not shown again.",
                issued.key.name, issued.key.prefix
            );
        }
        KeysCommand::List { org } => {
            for key in services.list_api_keys_as_operator(&org).await? {
                let state = if key.revoked_at.is_some() { "revoked" } else { "active" };
                writeln!(out, "{}\t{}…\t{}\t{}", key.id, key.prefix, state, key.name)?;
            }
        }
    }
    Ok(())
}
