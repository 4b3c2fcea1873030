//! Finding the files under the given paths and analysing them in parallel.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ql_analyzer::{AnalyzeError, FileReport, Language, Options, Token};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Totals;

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Analyse only files of this language.
    pub language: Option<Language>,
    /// Worker threads; `None` uses one per core.
    pub jobs: Option<usize>,
    /// Files larger than this are skipped and counted.
    pub max_file_bytes: u64,
    /// What every file is analysed with (thresholds, time limit).
    pub analysis: Options,
    /// Report blocks of at least this many tokens repeated across files; 0 turns it off.
    pub duplicate_min_tokens: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            language: None,
            jobs: None,
            max_file_bytes: 20 * 1024 * 1024,
            analysis: Options {
                time_limit: Some(std::time::Duration::from_secs(10)),
                ..Options::default()
            },
            duplicate_min_tokens: 100,
        }
    }
}

/// A file that was not analysed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    /// `binary`, `too_large`, `timed_out`, `unreadable`.
    pub reason: String,
}

/// Everything one scan found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    pub schema: String,
    pub files: Vec<FileReport>,
    pub skipped: Vec<Skipped>,
    /// Files with no known language, not analysed (counted, not listed).
    pub unknown_language: u64,
    pub totals: Totals,
    /// Totals per directory (paths as given, `.` for the top), sorted by path.
    pub directories: BTreeMap<String, Totals>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
    #[error("cannot start {0} worker threads: {1}")]
    Threads(usize, String),
}

/// Outcome of one file.
enum Outcome {
    Analysed(Box<FileReport>, Vec<Token>),
    Skipped(Skipped),
    Unknown,
}

/// Scans files and directories; `progress(done, total)` is called as files finish.
pub fn scan(
    paths: &[PathBuf],
    options: &ScanOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<ScanReport, ScanError> {
    if let Some(missing) = paths.iter().find(|p| !p.exists()) {
        return Err(ScanError::Missing(missing.clone()));
    }
    let files = walk(paths, options);
    let total = files.len();
    // Largest files first, so that no thread is left with a big one while the others idle;
    // the report keeps the path order (`files` is sorted).
    let mut order: Vec<(usize, u64)> = files
        .iter()
        .enumerate()
        .map(|(i, path)| (i, std::fs::metadata(path).map_or(0, |m| m.len())))
        .collect();
    order.sort_by_key(|(i, size)| (std::cmp::Reverse(*size), *i));
    let done = AtomicUsize::new(0);
    let analyse = || {
        let mut outcomes: Vec<(usize, Outcome)> = order
            .par_iter()
            .map(|&(i, _)| {
                let outcome = analyse_file(&files[i], options);
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                (i, outcome)
            })
            .collect();
        outcomes.sort_by_key(|(i, _)| *i);
        outcomes.into_iter().map(|(_, outcome)| outcome).collect::<Vec<_>>()
    };
    let outcomes = match options.jobs {
        Some(jobs) => rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build()
            .map_err(|e| ScanError::Threads(jobs, e.to_string()))?
            .install(analyse),
        None => analyse(),
    };
    Ok(collect(outcomes, options))
}

/// Analyses in-memory files (the HTTP API): `(path, text)` pairs.
pub fn scan_sources(sources: &[(String, Vec<u8>)], options: &ScanOptions) -> ScanReport {
    let outcomes = sources
        .par_iter()
        .map(|(path, text)| classify(path, analyse(path, text, options), options))
        .collect();
    collect(outcomes, options)
}

/// Every file under the paths, honouring `.gitignore`, `.ignore` and hidden files, sorted.
fn walk(paths: &[PathBuf], options: &ScanOptions) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for root in paths {
        if root.is_file() {
            files.push(root.clone());
            continue;
        }
        let walker = ignore::WalkBuilder::new(root).require_git(false).build();
        for entry in walker.flatten() {
            if entry.file_type().is_some_and(|t| t.is_file()) {
                files.push(entry.into_path());
            }
        }
    }
    if let Some(language) = options.language {
        files.retain(|path| {
            let name = path.to_string_lossy();
            let head = read_head(path);
            Language::detect(&name, &head) == Some(language)
        });
    }
    files.sort();
    files.dedup();
    files
}

fn read_head(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut head = vec![0; 256];
    let read = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
    head.truncate(read);
    head
}

fn analyse_file(path: &Path, options: &ScanOptions) -> Outcome {
    let name = display(path);
    let skipped =
        |reason: &str| Outcome::Skipped(Skipped { path: name.clone(), reason: reason.to_owned() });
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() > options.max_file_bytes => return skipped("too_large"),
        Ok(_) => {}
        Err(_) => return skipped("unreadable"),
    }
    match std::fs::read(path) {
        Ok(text) => classify(&name, analyse(&name, &text, options), options),
        Err(_) => skipped("unreadable"),
    }
}

/// Analyses one file, keeping its tokens when duplicates are looked for.
fn analyse(
    path: &str,
    text: &[u8],
    options: &ScanOptions,
) -> Result<(FileReport, Vec<Token>), AnalyzeError> {
    if options.duplicate_min_tokens > 0 {
        ql_analyzer::analyze_with_tokens(path, text, &options.analysis)
    } else {
        ql_analyzer::analyze(path, text, &options.analysis).map(|report| (report, Vec::new()))
    }
}

fn classify(
    path: &str,
    result: Result<(FileReport, Vec<Token>), AnalyzeError>,
    options: &ScanOptions,
) -> Outcome {
    let skipped = |reason: &str| {
        Outcome::Skipped(Skipped { path: path.to_owned(), reason: reason.to_owned() })
    };
    match result {
        Ok((report, tokens)) if options.language.is_none_or(|l| l == report.language) => {
            Outcome::Analysed(Box::new(report), tokens)
        }
        Ok(_) | Err(AnalyzeError::UnknownLanguage(_)) => Outcome::Unknown,
        Err(AnalyzeError::Binary(_)) => skipped("binary"),
        Err(AnalyzeError::TimedOut(_)) => skipped("timed_out"),
    }
}

fn collect(outcomes: Vec<Outcome>, options: &ScanOptions) -> ScanReport {
    let mut report = ScanReport {
        schema: crate::SCHEMA.to_owned(),
        files: Vec::new(),
        skipped: Vec::new(),
        unknown_language: 0,
        totals: Totals::default(),
        directories: BTreeMap::new(),
    };
    let mut tokens = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Analysed(file, file_tokens) => {
                report.files.push(*file);
                tokens.push(file_tokens);
            }
            Outcome::Skipped(skipped) => report.skipped.push(skipped),
            Outcome::Unknown => report.unknown_language += 1,
        }
    }
    if options.duplicate_min_tokens > 0 {
        let repeats = crate::duplicates::find(&tokens, options.duplicate_min_tokens);
        let paths: Vec<String> = report.files.iter().map(|f| f.path.clone()).collect();
        for (file, finding) in crate::duplicates::findings(&repeats, &tokens, &paths) {
            report.files[file].findings.push(finding);
        }
    }
    for file in &mut report.files {
        file.findings.sort_by_key(|f| (f.line, f.column));
        report.totals.add(file);
        report.directories.entry(directory_of(&file.path)).or_default().add(file);
    }
    report
}

fn directory_of(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((dir, _)) if !dir.is_empty() => dir.to_owned(),
        _ => ".".to_owned(),
    }
}

fn display(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, text: &[u8]| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        };
        write("app/main.py", b"import os\n\ndef run(p):\n    os.system('ls ' + p)\n");
        write("app/util.js", b"function add(a, b) {\n  return a && b ? a + b : 0;\n}\n");
        write("lib/core.rs", b"fn main() {\n    println!(\"hi\");\n}\n");
        write("notes.txt", b"not code");
        write("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00");
        write("build/generated.py", b"x = 1\n");
        write(".gitignore", b"build/\n");
        dir
    }

    #[test]
    fn walks_honouring_gitignore_and_counts_what_it_skips() {
        let dir = tree();
        let report =
            scan(&[dir.path().to_owned()], &ScanOptions::default(), &|_, _| {}).expect("scan");
        let mut names: Vec<_> = report
            .files
            .iter()
            .map(|f| f.path.rsplit('/').next().unwrap_or_default().to_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["core.rs", "main.py", "util.js"]);
        assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
        assert_eq!(report.skipped[0].reason, "binary");
        assert_eq!(report.unknown_language, 1, "notes.txt (.gitignore is hidden, so not walked)");
        assert_eq!(report.totals.files, 3);
        assert_eq!(report.totals.functions, 3);
        assert_eq!(report.totals.findings_high, 1);
        assert_eq!(report.totals.lines.total, 4 + 3 + 3);
        assert_eq!(report.directories.len(), 2, "app and lib");
    }

    #[test]
    fn language_filter_jobs_and_progress() {
        let dir = tree();
        let options = ScanOptions {
            language: Some(Language::Python),
            jobs: Some(1),
            ..ScanOptions::default()
        };
        let calls = AtomicUsize::new(0);
        let report = scan(&[dir.path().to_owned()], &options, &|done, total| {
            calls.fetch_add(1, Ordering::Relaxed);
            assert!(done <= total);
        })
        .expect("scan");
        assert_eq!(report.files.len(), 1);
        assert_eq!(report.files[0].language, Language::Python);
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn missing_paths_and_large_files() {
        let err = scan(&[PathBuf::from("/no/such/dir")], &ScanOptions::default(), &|_, _| {})
            .unwrap_err();
        assert_eq!(err.to_string(), "/no/such/dir: no such file or directory");
        let dir = tree();
        let options = ScanOptions { max_file_bytes: 50, ..ScanOptions::default() };
        let report = scan(&[dir.path().join("app")], &options, &|_, _| {}).expect("scan");
        let too_large: Vec<_> = report.skipped.iter().filter(|s| s.reason == "too_large").collect();
        assert_eq!(too_large.len(), 1, "util.js is 52 bytes, main.py 48");
        assert!(too_large[0].path.ends_with("util.js"));
    }
}

#[cfg(test)]
mod duplicate_tests {
    use super::*;

    #[test]
    fn a_function_copied_into_another_file_is_reported_on_the_copy() {
        let body = (0..12)
            .map(|i| {
                format!("    total = total + item.price * {i} if item.price > {i} else total\n")
            })
            .collect::<String>();
        let original = format!(
            "def price(items):\n    total = 0\n    for item in items:\n{body}    return total\n"
        );
        let copy = format!(
            "import os\n\n\ndef cost(items):\n    total = 0\n    for item in items:\n{body}    return total\n"
        );
        let sources = vec![
            ("a.py".to_owned(), original.into_bytes()),
            ("b.py".to_owned(), copy.into_bytes()),
        ];
        let report = scan_sources(&sources, &ScanOptions::default());
        assert!(report.files[0].findings.iter().all(|f| f.rule != "quality.duplicate-block"));
        let duplicate = report.files[1]
            .findings
            .iter()
            .find(|f| f.rule == "quality.duplicate-block")
            .expect("the copy is reported");
        assert_eq!((duplicate.line, duplicate.end_line), (4, 19));
        assert!(
            duplicate.message.starts_with("lines 4-19 repeat a.py:1-16 ("),
            "{}",
            duplicate.message
        );
        assert_eq!(report.totals.findings_low, 1);

        let off = ScanOptions { duplicate_min_tokens: 0, ..ScanOptions::default() };
        assert_eq!(scan_sources(&sources, &off).totals.findings_low, 0);
    }
}
