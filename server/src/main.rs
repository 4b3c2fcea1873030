//! `quantumlayer`: serve the app, migrate the database, or print an example config.

use std::process::ExitCode;

fn main() -> ExitCode {
    server::cli::main()
}
