//! Code analysis on tree-sitter: text in, a report out. No IO, and no input makes it panic.
//!
//! [`analyze`] detects the language (or takes the one given), parses the text once, and walks
//! the tree once to gather lines, syntax errors, imports, types and functions with their
//! complexity. The CLI and the HTTP API wrap this crate; it knows neither.

mod cognitive;
mod findings;
mod halstead;
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
pub use walk::MAX_SYNTAX_ERRORS;

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

/// How to analyse one file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Use this language instead of detecting one.
    pub language: Option<Language>,
    /// Limits for quality findings.
    pub thresholds: Thresholds,
}

/// Analyses one file's text. `path` is used for language detection and in the report.
pub fn analyze(path: &str, source: &[u8], options: &Options) -> Result<FileReport, AnalyzeError> {
    if is_binary(source) {
        return Err(AnalyzeError::Binary(path.to_owned()));
    }
    let head = &source[..source.len().min(256)];
    let language = options
        .language
        .or_else(|| Language::detect(path, head))
        .ok_or_else(|| AnalyzeError::UnknownLanguage(path.to_owned()))?;
    let mut parser = tree_sitter::Parser::new();
    // Every grammar is compiled in and checked by a test, so this cannot fail at run time;
    // should it ever, the file is reported as not parsed rather than panicking.
    if parser.set_language(&language.grammar()).is_err() {
        return Err(AnalyzeError::UnknownLanguage(path.to_owned()));
    }
    let tree = parser.parse(source, None).ok_or_else(|| AnalyzeError::TimedOut(path.to_owned()))?;
    let walked = walk::walk(&tree, source, language);
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
    Ok(FileReport {
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
    })
}

/// A NUL byte in the first 8 KiB marks a binary file, as git decides.
pub fn is_binary(source: &[u8]) -> bool {
    source[..source.len().min(8192)].contains(&0)
}
