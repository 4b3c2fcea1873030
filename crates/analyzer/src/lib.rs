//! Code analysis on tree-sitter: text in, a report out. No IO, and no input makes it panic.
//!
//! [`analyze`] detects the language (or takes the one given), parses the text once, and walks
//! the tree once to gather lines, syntax errors, imports, types and functions with their
//! complexity. The CLI and the HTTP API wrap this crate; it knows neither.

mod cognitive;
mod findings;
mod halstead;
mod kinds;
mod language;
mod names;
mod profile;
mod quality;
mod report;
mod security;
mod walk;

pub use findings::{Category, Finding, Severity};
pub use halstead::{Halstead, maintainability_index};
pub use language::{Language, UnknownLanguage};
pub use quality::Thresholds;
pub use report::{FileReport, FunctionReport, Import, LineCounts, SyntaxError, TypeDecl};
pub use walk::{MAX_SYNTAX_ERRORS, Token};

/// Why a file was not analysed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyzeError {
    /// No language is known for this file name, extension or `#!` line.
    #[error("no analyzer for {0}")]
    UnknownLanguage(String),
    /// The file looks binary (it holds NUL bytes).
    #[error("{0} is a binary file")]
    Binary(String),
    /// The parser gave up (time limit reached or cancelled).
    #[error("{0}: parsing stopped after the time limit")]
    TimedOut(String),
}

/// Files up to this size are parsed without watching the clock.
const WATCH_PARSE_FROM_BYTES: usize = 64 * 1024;

/// How to analyse one file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Use this language instead of detecting one.
    pub language: Option<Language>,
    /// Limits for quality findings.
    pub thresholds: Thresholds,
    /// Stop parsing a file after this long and report it as timed out.
    pub time_limit: Option<std::time::Duration>,
}

/// Analyses one file's text. `path` is used for language detection and in the report.
pub fn analyze(path: &str, source: &[u8], options: &Options) -> Result<FileReport, AnalyzeError> {
    analyze_file(path, source, options, false).map(|(report, _)| report)
}

/// Like [`analyze`], and also gives the file's code tokens (hashed, with their lines), for
/// finding blocks duplicated across files.
pub fn analyze_with_tokens(
    path: &str,
    source: &[u8],
    options: &Options,
) -> Result<(FileReport, Vec<Token>), AnalyzeError> {
    analyze_file(path, source, options, true)
}

fn analyze_file(
    path: &str,
    source: &[u8],
    options: &Options,
    tokens: bool,
) -> Result<(FileReport, Vec<Token>), AnalyzeError> {
    if is_binary(source) {
        return Err(AnalyzeError::Binary(path.to_owned()));
    }
    let head = &source[..source.len().min(256)];
    let language = options
        .language
        .or_else(|| Language::detect(path, head))
        .ok_or_else(|| AnalyzeError::UnknownLanguage(path.to_owned()))?;
    PARSER.with_borrow_mut(|parser| analyze_with(parser, path, source, language, options, tokens))
}

thread_local! {
    /// One parser per thread, reused across files (it keeps its allocations).
    static PARSER: std::cell::RefCell<tree_sitter::Parser> = std::cell::RefCell::new(tree_sitter::Parser::new());
}

fn analyze_with(
    parser: &mut tree_sitter::Parser,
    path: &str,
    source: &[u8],
    language: Language,
    options: &Options,
    tokens: bool,
) -> Result<(FileReport, Vec<Token>), AnalyzeError> {
    // Every grammar is compiled in and checked by a test, so this cannot fail at run time;
    // should it ever, the file is reported as not parsed rather than panicking.
    if parser.set_language(&language.grammar()).is_err() {
        return Err(AnalyzeError::UnknownLanguage(path.to_owned()));
    }
    let started = std::time::Instant::now();
    let mut within_time = |_: &tree_sitter::ParseState| match options.time_limit {
        Some(limit) if started.elapsed() > limit => std::ops::ControlFlow::Break(()),
        _ => std::ops::ControlFlow::Continue(()),
    };
    // Checking the clock costs time on every parse step; a small file cannot run long.
    let watched = options.time_limit.is_some() && source.len() > WATCH_PARSE_FROM_BYTES;
    let parse_options =
        watched.then(|| tree_sitter::ParseOptions::new().progress_callback(&mut within_time));
    let length = source.len();
    let mut read =
        |offset: usize, _| source.get(offset..).filter(|_| offset < length).unwrap_or_default();
    let tree = parser
        .parse_with_options(&mut read, None, parse_options)
        .ok_or_else(|| AnalyzeError::TimedOut(path.to_owned()))?;
    let walked = walk::walk(&tree, source, language, tokens);
    let cyclomatic = walked.functions.iter().map(|f| f.cyclomatic).sum();
    let maintainability = maintainability_index(
        walked.halstead.volume,
        cyclomatic,
        walked.lines.code,
        walked.lines.comment,
    );
    let mut findings = walked.findings;
    findings.extend(quality::findings(
        source,
        &walked.functions,
        walked.lines,
        &options.thresholds,
    ));
    findings.sort_by_key(|f| (f.line, f.column));
    let report = FileReport {
        path: path.to_owned(),
        language,
        lines: walked.lines,
        halstead: walked.halstead,
        maintainability,
        syntax_errors: walked.syntax_errors,
        imports: walked.imports,
        types: walked.types,
        functions: walked.functions,
        findings,
    };
    Ok((report, walked.tokens))
}

/// A NUL byte in the first 8 KiB marks a binary file, as git decides.
pub fn is_binary(source: &[u8]) -> bool {
    source[..source.len().min(8192)].contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_is_an_error_or_a_report_never_a_panic() {
        let cases: &[(&str, &[u8], u32)] = &[
            ("empty.py", b"", 0),
            ("invalid-utf8.py", b"x = '\xff\xfe'\ndef f(\xc3):\n  pass\n", 3),
            ("garbage.rs", b"fn ((( {{{ ]]] ;;; impl for where", 1),
            ("only-newlines.js", b"\n\n\n", 3),
            ("no-newline.go", b"package main", 1),
        ];
        for (path, source, total) in cases {
            let report = analyze(path, source, &Options::default()).expect(path);
            assert_eq!(report.lines.total, *total, "{path}");
            assert_eq!(
                report.lines.code + report.lines.comment + report.lines.blank,
                *total,
                "{path}"
            );
        }
        assert!(
            !analyze("garbage.rs", b"fn ((( {{{", &Options::default())
                .expect("report")
                .syntax_errors
                .is_empty()
        );
        assert_eq!(
            analyze("x.bin", b"\x7fELF\x00\x01", &Options::default()),
            Err(AnalyzeError::Binary("x.bin".into()))
        );
        assert_eq!(
            analyze("notes.txt", b"hello", &Options::default()),
            Err(AnalyzeError::UnknownLanguage("notes.txt".into()))
        );
    }

    #[test]
    fn a_huge_minified_file_stops_at_the_time_limit() {
        let line =
            "var a=function(b){return b&&b.c?b.d(b.e):[1,2,3].map(function(x){return x*2})};"
                .repeat(130_000);
        assert!(line.len() > 10_000_000);
        let options = Options {
            time_limit: Some(std::time::Duration::from_millis(50)),
            ..Options::default()
        };
        let started = std::time::Instant::now();
        let result = analyze("bundle.min.js", line.as_bytes(), &options);
        assert_eq!(
            result.map(|r| r.lines.total),
            Err(AnalyzeError::TimedOut("bundle.min.js".into()))
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }
}
