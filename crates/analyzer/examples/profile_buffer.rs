//! Times parsing alone against the whole analysis of one file, to see what the walk costs.
//!
//! Usage: `cargo run --release -p ql-analyzer --example profile_buffer -- FILE [ROUNDS]`

#![expect(clippy::print_stdout, reason = "a measurement tool prints its numbers")]

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "buffer.py".into());
    let rounds: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(20);
    let Ok(text) = std::fs::read(&path) else {
        println!("cannot read {path}");
        return;
    };
    let Some(language) = ql_analyzer::Language::detect(&path, &text) else {
        println!("no language for {path}");
        return;
    };
    let mut parser = tree_sitter::Parser::new();
    if parser.set_language(&language.grammar()).is_err() {
        return;
    }
    let started = Instant::now();
    for _ in 0..rounds {
        let _ = parser.parse(&text, None);
    }
    let parse = started.elapsed() / rounds;
    let options = ql_analyzer::Options::default();
    let started = Instant::now();
    for _ in 0..rounds {
        let _ = ql_analyzer::analyze(&path, &text, &options);
    }
    let full = started.elapsed() / rounds;
    println!(
        "{path}: {} bytes; parse {parse:?}; analyze {full:?} ({:.2}x the parse)",
        text.len(),
        full.as_secs_f64() / parse.as_secs_f64()
    );
}
