//! The three output formats: a readable text table, JSON (the `ScanReport` schema), and SARIF
//! 2.1.0 for code-scanning services such as GitHub's.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ql_analyzer::{Category, Finding, Severity};
use serde_json::{Value, json};

use crate::ScanReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            _ => Err(format!("unknown format `{s}` (expected text, json or sarif)")),
        }
    }
}

/// Renders a report; `version` is the tool version written into SARIF.
pub fn render(report: &ScanReport, format: Format, version: &str) -> String {
    match format {
        Format::Text => text(report),
        // Compact: reports of large trees run to tens of megabytes; `jq` pretty-prints.
        Format::Json => json(report),
        Format::Sarif => serde_json::to_string_pretty(&sarif(report, version)).unwrap_or_default(),
    }
}

/// The report as JSON, its files serialised in parallel (they are nearly all of it) and
/// spliced into the rest, which serde writes with an empty `files` list.
fn json(report: &ScanReport) -> String {
    use rayon::prelude::*;
    let files: Vec<String> =
        report.files.par_iter().map(|f| serde_json::to_string(f).unwrap_or_default()).collect();
    let rest = ScanReport {
        schema: report.schema.clone(),
        files: Vec::new(),
        skipped: report.skipped.clone(),
        unknown_language: report.unknown_language,
        totals: report.totals.clone(),
        directories: report.directories.clone(),
    };
    let rest = serde_json::to_string(&rest).unwrap_or_default();
    rest.replacen("\"files\":[]", &format!("\"files\":[{}]", files.join(",")), 1)
}

/// The longest file path shown in the table before it is shortened from the left.
const PATH_WIDTH: usize = 48;

fn text(report: &ScanReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<PATH_WIDTH$} {:<10} {:>6} {:>5} {:>6} {:>6} {:>5} {:>8}",
        "file", "language", "code", "fns", "maxCCN", "avgCCN", "MI", "findings"
    );
    for file in &report.files {
        let ccns: Vec<u32> = file.functions.iter().map(|f| f.cyclomatic).collect();
        let max = ccns.iter().max().copied().unwrap_or(0);
        let average = if ccns.is_empty() {
            0.0
        } else {
            f64::from(ccns.iter().sum::<u32>()) / ccns.len() as f64
        };
        let _ = writeln!(
            out,
            "{:<PATH_WIDTH$} {:<10} {:>6} {:>5} {:>6} {:>6.1} {:>5.0} {:>8}",
            shorten(&file.path),
            file.language.id(),
            file.lines.code,
            file.functions.len(),
            max,
            average,
            file.maintainability,
            file.findings.len()
        );
    }
    let findings: Vec<(&str, &Finding)> = report
        .files
        .iter()
        .flat_map(|f| f.findings.iter().map(move |x| (f.path.as_str(), x)))
        .collect();
    if !findings.is_empty() {
        let _ = writeln!(out, "\nfindings:");
        for (path, f) in &findings {
            let cwe = f.cwe.map(|c| format!(" CWE-{c}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "{path}:{}:{}: {} {}{cwe}: {}",
                f.line, f.column, f.severity, f.rule, f.message
            );
            let _ = writeln!(out, "    {}", f.snippet);
        }
    }
    let t = &report.totals;
    let _ = writeln!(
        out,
        "\n{} files, {} code lines ({} comment, {} blank), {} functions, total CCN {}, max CCN {}; \
         findings: {} high, {} medium, {} low; syntax errors: {}",
        t.files,
        t.lines.code,
        t.lines.comment,
        t.lines.blank,
        t.functions,
        t.cyclomatic,
        t.max_cyclomatic,
        t.findings_high,
        t.findings_medium,
        t.findings_low,
        t.syntax_errors
    );
    if !report.skipped.is_empty() || report.unknown_language > 0 {
        let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &report.skipped {
            *reasons.entry(s.reason.as_str()).or_default() += 1;
        }
        let reasons: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        let _ = writeln!(
            out,
            "skipped: {}{}{} with no known language",
            reasons.join(", "),
            if reasons.is_empty() { "" } else { ", " },
            report.unknown_language
        );
    }
    out
}

fn shorten(path: &str) -> String {
    let chars = path.chars().count();
    if chars <= PATH_WIDTH {
        return path.to_owned();
    }
    let tail: String = path.chars().skip(chars - (PATH_WIDTH - 1)).collect();
    format!("…{tail}")
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's `security-severity` scores: high ≥ 7, medium 4–7, low < 4.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn sarif(report: &ScanReport, version: &str) -> Value {
    // One rule entry per rule id seen, in first-seen order, with the index results refer to.
    let mut rules: Vec<Value> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut results = Vec::new();
    for file in &report.files {
        for finding in &file.findings {
            let rule_index = *index.entry(finding.rule.clone()).or_insert_with(|| {
                rules.push(rule(finding));
                rules.len() - 1
            });
            results.push(json!({
                "ruleId": finding.rule,
                "ruleIndex": rule_index,
                "level": level(finding.severity),
                "message": { "text": finding.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&file.path) },
                        "region": {
                            "startLine": finding.line,
                            "startColumn": finding.column,
                            "endLine": finding.end_line.max(finding.line),
                            "snippet": { "text": finding.snippet },
                        },
                    },
                }],
                "partialFingerprints": {
                    "primaryLocationLineHash": fingerprint(&finding.rule, &finding.snippet),
                },
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "quantumlayer",
                    "version": version,
                    "semanticVersion": version,
                    "rules": rules,
                },
            },
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    })
}

fn rule(finding: &Finding) -> Value {
    let mut tags = vec![match finding.category {
        Category::Security => "security".to_owned(),
        Category::Quality => "maintainability".to_owned(),
    }];
    if let Some(cwe) = finding.cwe {
        tags.push(format!("external/cwe/cwe-{cwe}"));
    }
    let mut properties = json!({ "tags": tags });
    if finding.category == Category::Security {
        properties["security-severity"] = json!(security_severity(finding.severity));
    }
    json!({
        "id": finding.rule,
        "name": finding.rule.replace(['.', '-'], "_"),
        "shortDescription": { "text": finding.rule },
        "fullDescription": { "text": finding.message },
        "defaultConfiguration": { "level": level(finding.severity) },
        "properties": properties,
    })
}

/// A relative URI with forward slashes, as code-scanning services expect.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    path.trim_start_matches("./").trim_start_matches('/').to_owned()
}

/// A stable hash of what a finding is about, so a result keeps its identity when lines move.
fn fingerprint(rule: &str, snippet: &str) -> String {
    // FNV-1a, 64 bits.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in rule.bytes().chain([0]).chain(snippet.split_whitespace().flat_map(str::bytes)) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ScanOptions, scan_sources};

    fn report() -> ScanReport {
        let sources = vec![
            (
                "app/main.py".to_owned(),
                b"import os\n\ndef run(p):\n    os.system('ls ' + p)\n".to_vec(),
            ),
            ("app/ok.py".to_owned(), b"def ok():\n    return 1\n".to_vec()),
        ];
        scan_sources(&sources, &ScanOptions::default())
    }

    #[test]
    fn sarif_has_the_shape_code_scanning_reads() {
        let value: Value =
            serde_json::from_str(&render(&report(), Format::Sarif, "0.1.0")).expect("json");
        assert_eq!(value["version"], "2.1.0");
        let run = &value["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "quantumlayer");
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0]["id"], "py.os-system");
        assert_eq!(rules[0]["properties"]["security-severity"], "8.0");
        assert_eq!(rules[0]["properties"]["tags"][1], "external/cwe/cwe-78");
        let result = &run["results"][0];
        assert_eq!(result["ruleIndex"], 0);
        assert_eq!(result["level"], "error");
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "app/main.py");
        assert_eq!(location["region"]["startLine"], 4);
        assert_eq!(location["region"]["startColumn"], 5);
        assert_eq!(
            result["partialFingerprints"]["primaryLocationLineHash"].as_str().map(str::len),
            Some(16)
        );
    }

    #[test]
    fn json_round_trips_and_text_summarises() {
        let report = report();
        let json = render(&report, Format::Json, "0.1.0");
        let back: ScanReport = serde_json::from_str(&json).expect("schema round trip");
        assert_eq!(back, report);
        assert_eq!(back.schema, crate::SCHEMA);

        let text = render(&report, Format::Text, "0.1.0");
        assert!(text.contains("app/main.py:4:5: high py.os-system CWE-78:"), "{text}");
        assert!(text.contains("2 files, 5 code lines"), "{text}");
        assert!(text.contains("findings: 1 high, 0 medium, 0 low"), "{text}");
    }

    #[test]
    fn long_paths_are_shortened_from_the_left() {
        let long = format!("{}/file.py", "deep".repeat(20));
        let short = shorten(&long);
        assert_eq!(short.chars().count(), PATH_WIDTH);
        assert!(short.ends_with("/file.py"));
        assert_eq!(uri(".\\src\\a.py"), "src/a.py");
    }
}

#[cfg(test)]
mod schema_doc {
    use crate::{Format, ScanOptions, render, scan_sources};

    fn keys(
        value: &serde_json::Value,
        out: &mut std::collections::BTreeSet<String>,
        skip_map: bool,
    ) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    if !skip_map {
                        out.insert(key.clone());
                    }
                    // `directories` is keyed by path, not by field name.
                    keys(inner, out, key == "directories");
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| keys(item, out, false)),
            _ => {}
        }
    }

    #[test]
    fn every_field_of_the_json_report_is_documented() {
        let sources = vec![(
            "app/run.py".to_owned(),
            b"import os\n\nclass A:\n    def run(self, p):\n        os.system('ls ' + p)\n\ndef broken(:\n".to_vec(),
        )];
        let report = scan_sources(&sources, &ScanOptions::default());
        let json: serde_json::Value =
            serde_json::from_str(&render(&report, Format::Json, "0")).expect("json");
        let mut fields = std::collections::BTreeSet::new();
        keys(&json, &mut fields, false);
        let doc = include_str!("../SCHEMA.md");
        let missing: Vec<_> =
            fields.iter().filter(|f| !doc.contains(&format!("\"{f}\""))).collect();
        assert!(missing.is_empty(), "SCHEMA.md does not mention {missing:?}");
        assert!(fields.len() > 40, "{fields:?}");
    }
}
