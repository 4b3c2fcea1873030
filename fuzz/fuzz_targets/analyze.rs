//! Any bytes, in any of the analyzer's languages: a report or an error, never a crash or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ql_analyzer::{Language, Options, analyze};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the language; the rest is the file.
    let Some((&pick, source)) = data.split_first() else { return };
    let language = Language::ALL[usize::from(pick) % Language::ALL.len()];
    let options = Options {
        language: Some(language),
        time_limit: Some(std::time::Duration::from_secs(2)),
        ..Options::default()
    };
    if let Ok(report) = analyze("fuzz", source, &options) {
        assert_eq!(report.lines.code + report.lines.comment + report.lines.blank, report.lines.total);
        for function in &report.functions {
            assert!(function.start_line <= function.end_line);
            assert!(function.cyclomatic >= 1);
        }
    }
});
