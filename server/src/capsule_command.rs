//! `quantumlayer capsule verify FILE`: checks a capsule's signature, every file's hash and
//! size, and that it holds nothing unsafe. Exit 0 when it verifies, 1 when it does not, 2
//! when the file cannot be read. Needs neither config nor database.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum CapsuleCommand {
    /// Verify a capsule (.zip): signature, hashes, sizes, paths and limits.
    Verify {
        /// The capsule file.
        file: PathBuf,
    },
}

pub fn run(command: CapsuleCommand) -> ExitCode {
    let CapsuleCommand::Verify { file } = command;
    let limits = ql_capsule::Limits::default();
    let bytes = match read_limited(&file, limits.archive_bytes) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", file.display());
            return ExitCode::from(2);
        }
    };
    match ql_capsule::verify(&bytes, &limits) {
        Ok(verified) => {
            let manifest = &verified.manifest;
            let report = &manifest.validation;
            let coverage = report
                .coverage_percent
                .map_or_else(|| "not measured".to_owned(), |c| format!("{c:.1}%"));
            let summary = format!(
                "{} verifies: capsule {} ({}), {} files, signed by ed25519 key {}\n\
                 tests: {} passed, {} failed; coverage {coverage}; findings: {} high, {} medium, {} low\n",
                file.display(),
                manifest.id,
                manifest.stack,
                manifest.files.len(),
                verified.signature.public_key,
                report.tests_passed,
                report.tests_failed,
                report.findings_high,
                report.findings_medium,
                report.findings_low,
            );
            let _ = std::io::stdout().write_all(summary.as_bytes());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {} does not verify: {error}", file.display());
            ExitCode::FAILURE
        }
    }
}

/// The file's bytes, refusing to read more than `limit` (plus one byte to notice).
fn read_limited(path: &std::path::Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}
