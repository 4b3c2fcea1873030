//! Language detection from any file name and any first bytes never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (name, head) = data.split_at(split);
    let name = String::from_utf8_lossy(name);
    let _ = ql_analyzer::Language::detect(&name, head);
    let _ = name.parse::<ql_analyzer::Language>();
});
