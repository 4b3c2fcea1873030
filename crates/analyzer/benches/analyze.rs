//! How long one editor buffer takes to analyse (the UI asks for a 2,000-line file in under
//! 20 ms), in Python, TypeScript and Rust.

use criterion::{Criterion, criterion_group, criterion_main};

/// A realistic 2,000-line file: many small functions with branches, loops and strings.
fn python_buffer() -> String {
    let mut out = String::from("import os\nimport json\n\n");
    let mut i = 0;
    while out.lines().count() < 2_000 {
        out.push_str(&format!(
            "def handler_{i}(request, items, limit=10):\n    \"\"\"Handle request {i}.\"\"\"\n    total = 0\n    for item in items:\n        if item.price > limit and not item.free:\n            total += item.price\n        elif item.kind == 'gift':\n            continue\n    return json.dumps({{'total': total, 'id': {i}}})\n\n"
        ));
        i += 1;
    }
    out
}

fn typescript_buffer() -> String {
    let mut out = String::from("import { readFile } from 'fs';\n\n");
    let mut i = 0;
    while out.lines().count() < 2_000 {
        out.push_str(&format!(
            "export function handler{i}(items: Item[], limit: number): number {{\n  let total = 0;\n  for (const item of items) {{\n    if (item.price > limit && !item.free) {{\n      total += item.price;\n    }} else if (item.kind === 'gift') {{\n      continue;\n    }}\n  }}\n  return total > 0 ? total : 0;\n}}\n\n"
        ));
        i += 1;
    }
    out
}

fn rust_buffer() -> String {
    let mut out = String::from("use std::collections::HashMap;\n\n");
    let mut i = 0;
    while out.lines().count() < 2_000 {
        out.push_str(&format!(
            "pub fn handler_{i}(items: &[Item], limit: u32) -> u32 {{\n    let mut total = 0;\n    for item in items {{\n        if item.price > limit && !item.free {{\n            total += item.price;\n        }} else if item.kind == \"gift\" {{\n            continue;\n        }}\n    }}\n    match total {{ 0 => 0, n => n }}\n}}\n\n"
        ));
        i += 1;
    }
    out
}

fn buffers(c: &mut Criterion) {
    let options = ql_analyzer::Options::default();
    for (path, text) in [
        ("buffer.py", python_buffer()),
        ("buffer.ts", typescript_buffer()),
        ("buffer.rs", rust_buffer()),
    ] {
        c.bench_function(&format!("analyze 2000-line {path}"), |b| {
            b.iter(|| ql_analyzer::analyze(path, text.as_bytes(), &options))
        });
    }
}

criterion_group!(benches, buffers);
criterion_main!(benches);
