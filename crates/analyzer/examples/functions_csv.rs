//! Prints every function under a directory as CSV in the columns of lizard's reference
//! (`file,function,start_line,ccn,nloc,params,cogc`), for comparing with
//! `../shared/bench/analysis/bench_helpers.py compare`.
//!
//! Usage: `cargo run --release -p ql-analyzer --example functions_csv -- DIR > ours.csv`

#![expect(clippy::print_stdout, reason = "the CSV goes to stdout")]

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    let mut paths = Vec::new();
    files(&dir, &mut paths);
    paths.sort();
    println!("file,function,start_line,ccn,nloc,params,cogc");
    for path in paths {
        let relative = path.strip_prefix(&dir).unwrap_or(&path).display().to_string();
        let relative = relative.trim_start_matches("./").to_owned();
        let Ok(source) = std::fs::read(&path) else { continue };
        let Ok(report) = ql_analyzer::analyze(&relative, &source, &ql_analyzer::Options::default())
        else {
            continue;
        };
        for f in report.functions {
            let name = f.name.replace([',', '"'], "_");
            let cogc = f.cognitive.map(|c| c.to_string()).unwrap_or_default();
            println!(
                "{relative},{name},{},{},{},{},{cogc}",
                f.start_line, f.cyclomatic, f.nloc, f.parameters
            );
        }
    }
}
