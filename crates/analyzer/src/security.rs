//! Security findings: dangerous calls (dynamic code, shell and SQL injection, weak password
//! hashes, unsafe deserialization, TLS verification off), dangerous settings, hard-coded
//! secrets, and Rust `unsafe` blocks.
//!
//! The walker calls [`check`] once per named node; rules are data (`rules.rs`), matched on a
//! call site read the same way in every grammar (`calls.rs`). Precision comes first: a rule
//! fires only when the dangerous part is really there (a built string, `shell=True`, a
//! password in the statement), not on the name of a function alone.

mod calls;
mod rules;
mod secrets;
mod strings;

use tree_sitter::Node;

use crate::Language;
use crate::findings::{Category, Finding, Severity};
use rules::{CALL_RULES, SETTING_RULES, When};

/// SQL statements, to tell a built query from any other built string.
static SQL: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(?is)\b(select\b.+\bfrom|insert\s+into|update\b.+\bset|delete\s+from|drop\s+table|create\s+table)\b").ok()
});

/// Nodes that bind a value to a name, and the fields holding each.
const BINDINGS: &[(&str, &str, &str)] = &[
    ("assignment", "left", "right"),
    ("assignment_expression", "left", "right"),
    ("augmented_assignment", "left", "right"),
    ("keyword_argument", "name", "value"),
    ("pair", "key", "value"),
    ("keyed_element", "key", "value"),
    ("variable_declarator", "name", "value"),
    ("let_declaration", "pattern", "value"),
    ("const_item", "name", "value"),
    ("static_item", "name", "value"),
    ("short_var_declaration", "left", "right"),
    ("const_spec", "name", "value"),
    ("var_spec", "name", "value"),
    ("property_declaration", "name", "value"),
    ("init_declarator", "declarator", "value"),
];

/// Node kinds other than strings that [`check`] looks at, for the walk's kind table.
pub(crate) fn watched_kinds() -> impl Iterator<Item = &'static str> {
    const OTHERS: &[&str] = &[
        "comment",
        "line_comment",
        "block_comment",
        "unsafe_block",
        "shell_command_expression",
        "subshell",
    ];
    calls::CALL_KINDS.iter().chain(BINDINGS.iter().map(|(kind, _, _)| kind)).chain(OTHERS).copied()
}

/// Reports what `node` itself shows (not its descendants, which are visited on their own).
pub(crate) fn check(
    node: Node<'_>,
    parent: Option<Node<'_>>,
    language: Language,
    source: &[u8],
    out: &mut Vec<Finding>,
) {
    let kind = node.kind();
    if calls::CALL_KINDS.contains(&kind) {
        check_call(node, language, source, out);
    } else if let Some((_, key_field, value_field)) = BINDINGS.iter().find(|(k, _, _)| *k == kind) {
        check_binding(node, language, source, key_field, value_field, out);
    } else if kind == "comment" || kind == "line_comment" || kind == "block_comment" {
        check_tokens(node, source, out);
    } else if kind == "unsafe_block" && language == Language::Rust {
        out.push(
            Finding::at(node, source, "rust.unsafe-block", Category::Security)
                .severity(Severity::Low)
                .cwe(242)
                .message("an unsafe block: the compiler no longer checks memory safety here"),
        );
    } else if (kind == "shell_command_expression" || kind == "subshell") && strings_spliced(node) {
        out.push(
            Finding::at(node, source, "shell.backticks", Category::Security)
                .severity(Severity::High)
                .cwe(78)
                .message("backticks run a command line with values spliced in"),
        );
    } else if strings::is_string(node) && !parent.is_some_and(strings::is_string) {
        check_tokens(node, source, out);
    }
}

fn strings_spliced(node: Node<'_>) -> bool {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .any(|c| c.kind() != "string_content" && c.kind() != "escape_sequence")
}

/// The last names of every rule's callees, per language: most calls match none.
static CALLEE_TAILS: std::sync::LazyLock<
    std::collections::HashMap<Language, std::collections::HashSet<&'static str>>,
> = std::sync::LazyLock::new(|| {
    let mut tails: std::collections::HashMap<Language, std::collections::HashSet<&'static str>> =
        std::collections::HashMap::new();
    for rule in CALL_RULES {
        for language in rule.languages {
            tails
                .entry(*language)
                .or_default()
                .extend(rule.callees.iter().map(|p| calls::pattern_tail(p)));
        }
    }
    tails
});

fn check_call(node: Node<'_>, language: Language, source: &[u8], out: &mut Vec<Finding>) {
    let kinds = crate::kinds::KindTable::of(language);
    let tail = calls::callee_tail(node, source, kinds).and_then(|t| std::str::from_utf8(t).ok());
    let known =
        CALLEE_TAILS.get(&language).is_some_and(|tails| tail.is_some_and(|t| tails.contains(t)));
    if !known {
        return;
    }
    let Some(call) = calls::call(node, source) else { return };
    for rule in CALL_RULES {
        if !rule.languages.contains(&language)
            || !rule.callees.iter().any(|p| calls::callee_matches(&call.callee, p))
        {
            continue;
        }
        if applies(rule.when, &call, node, source) {
            out.push(
                Finding::at(node, source, rule.id, Category::Security)
                    .severity(rule.severity)
                    .cwe(rule.cwe)
                    .message(format!("{}: `{}`", rule.message, call.callee)),
            );
            return;
        }
    }
}

fn applies(when: When, call: &calls::Call<'_>, node: Node<'_>, source: &[u8]) -> bool {
    let first = call.positional.first().copied();
    let text = |n: Node<'_>| calls::compact(n, source);
    let not_constant = |n: Option<Node<'_>>| n.is_some_and(|n| !is_constant(n));
    let named = |name: &str| call.named.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    match when {
        When::Always => true,
        When::FirstArgNotConstant => not_constant(first),
        When::LastArgNotConstant => not_constant(call.positional.last().copied()),
        When::FirstArgIsString => first.is_some_and(|n| {
            strings::is_string(strings::unwrap(n)) || strings::is_built_string(n, source)
        }),
        When::FirstArgBuiltSql => first.is_some_and(|n| {
            strings::is_built_string(n, source)
                && SQL.as_ref().is_some_and(|re| {
                    re.is_match(&String::from_utf8_lossy(&source[n.byte_range()]))
                })
        }),
        When::FirstArgIs(values) => first.is_some_and(|n| values.contains(&text(n).as_str())),
        When::NamedIs(name, values) => {
            named(name).is_some_and(|v| values.contains(&text(v).as_str())) && not_constant(first)
        }
        When::NamedSetTo(name, values) => {
            named(name).is_some_and(|v| values.contains(&text(v).as_str()))
        }
        When::NoSafeLoader => {
            let loader = named("Loader").or_else(|| call.positional.get(1).copied());
            !loader.is_some_and(|l| text(l).contains("Safe") || text(l).contains("BaseLoader"))
        }
        When::AlgorithmForPassword(algorithms) => {
            let algorithm = first.and_then(|n| strings::constant_text(n, source));
            algorithm.is_some_and(|a| algorithms.contains(&a.as_str()))
                && mentions_password(node, source)
        }
        When::ForPassword => mentions_password(node, source),
        When::ShellDashC => is_shell_dash_c(call, node, source),
        When::OptionOff(options) => {
            let option = call.positional.get(1).map(|n| text(*n));
            let value = call.positional.get(2).map(|n| text(*n));
            option.is_some_and(|o| options.iter().any(|x| o.ends_with(x)))
                && value.is_some_and(|v| matches!(v.as_str(), "false" | "0" | "0L" | "FALSE"))
        }
    }
}

/// A constant string, number or boolean, or a list of them (`["ls", "-l"]`).
fn is_constant(node: Node<'_>) -> bool {
    let node = strings::unwrap(node);
    if strings::is_constant_string(node) || is_plain_literal(node) {
        return true;
    }
    if matches!(node.kind(), "list" | "tuple" | "array" | "array_creation_expression") {
        let mut cursor = node.walk();
        return node
            .named_children(&mut cursor)
            .all(|item| item.kind() == "comment" || is_constant(item));
    }
    false
}

/// Numbers, `true`, `None` and the like: constants that are not strings.
fn is_plain_literal(node: Node<'_>) -> bool {
    let kind = strings::unwrap(node).kind();
    kind.contains("integer")
        || kind.contains("float")
        || kind.contains("number")
        || kind == "true"
        || kind == "false"
        || kind == "none"
        || kind == "null"
}

const SHELLS: &[&str] =
    &["sh", "bash", "/bin/sh", "/bin/bash", "zsh", "cmd", "cmd.exe", "powershell"];

/// `exec.Command("sh", "-c", cmd)` or `Command::new("sh").arg("-c").arg(cmd)` with `cmd` not
/// a constant.
fn is_shell_dash_c(call: &calls::Call<'_>, node: Node<'_>, source: &[u8]) -> bool {
    let program = call.positional.first().and_then(|n| strings::constant_text(*n, source));
    if !program.is_some_and(|p| SHELLS.contains(&p.as_str())) {
        return false;
    }
    // Go: the flag and the command are further arguments of the same call.
    if let (Some(flag), Some(command)) = (call.positional.get(1), call.positional.get(2)) {
        let flag = strings::constant_text(*flag, source);
        return flag.is_some_and(|f| f == "-c" || f == "/c")
            && !strings::is_constant_string(*command);
    }
    // Rust: the builder chain around `Command::new("sh")` holds `.arg("-c")` and a built arg.
    let mut chain = node;
    for _ in 0..12 {
        match chain.parent() {
            Some(parent)
                if matches!(
                    parent.kind(),
                    "call_expression" | "field_expression" | "arguments"
                ) =>
            {
                chain = parent
            }
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&source[chain.byte_range()]);
    (text.contains("\"-c\"") || text.contains("\"/c\"")) && chain_has_variable_arg(chain)
}

/// Whether any argument list in the builder chain passes something other than a constant.
fn chain_has_variable_arg(chain: Node<'_>) -> bool {
    let mut stack = vec![chain];
    while let Some(node) = stack.pop() {
        let mut cursor = node.walk();
        if node.kind() == "arguments"
            && node.named_children(&mut cursor).any(|a| !strings::is_constant_string(a))
        {
            return true;
        }
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
    }
    false
}

/// Whether the statement around `node` speaks of passwords.
fn mentions_password(node: Node<'_>, source: &[u8]) -> bool {
    let mut statement = node;
    for _ in 0..6 {
        let kind = statement.kind();
        if kind.ends_with("statement")
            || kind.ends_with("declaration")
            || kind == "assignment"
            || kind.ends_with("_item")
        {
            break;
        }
        match statement.parent() {
            Some(parent) => statement = parent,
            None => break,
        }
    }
    let text = String::from_utf8_lossy(&source[statement.byte_range()]).to_ascii_lowercase();
    text.contains("passw") || text.contains("pwd") || text.contains("passphrase")
}

/// The longest value compared with setting rules (`false`, `ssl.CERT_NONE`, …).
const MAX_SETTING_VALUE_BYTES: usize = 64;

fn check_binding(
    node: Node<'_>,
    language: Language,
    source: &[u8],
    key_field: &str,
    value_field: &str,
    out: &mut Vec<Finding>,
) {
    let kinds = crate::kinds::KindTable::of(language);
    let (Some(key), Some(value)) = (kinds.child(node, key_field), kinds.child(node, value_field))
    else {
        return;
    };
    let has_setting_rules = SETTING_RULES.iter().any(|r| r.languages.contains(&language));
    let value_is_short = value.byte_range().len() <= MAX_SETTING_VALUE_BYTES;
    let key_text = calls::compact(key, source);
    let key_name = key_text.trim_matches(|c| c == '"' || c == '\'' || c == ':');
    if has_setting_rules && value_is_short {
        let value_text = calls::compact(value, source);
        for rule in SETTING_RULES {
            let key_matches = rule.keys.iter().any(|k| {
                key_name == *k || key_name.strip_suffix(k).is_some_and(|head| head.ends_with('.'))
            });
            if rule.languages.contains(&language)
                && key_matches
                && rule.values.contains(&value_text.as_str())
            {
                out.push(
                    Finding::at(node, source, rule.id, Category::Security)
                        .severity(rule.severity)
                        .cwe(rule.cwe)
                        .message(rule.message),
                );
                return;
            }
        }
    }
    // A high-entropy constant bound to a secret-sounding name (known token formats are
    // reported by the string itself). The cheap tests go first.
    let Some(literal) = strings::constant_text(value, source) else { return };
    if secrets::looks_random(&literal)
        && secrets::is_secret_name(key_name)
        && secrets::known_tokens(&literal).is_empty()
    {
        out.push(
            Finding::at(node, source, "secret.hardcoded", Category::Security)
                .severity(Severity::Medium)
                .cwe(798)
                .message(format!(
                    "a secret-looking value is written into the code as `{key_name}`; \
                     read it from the environment or a secret store"
                )),
        );
    }
}

fn check_tokens(node: Node<'_>, source: &[u8], out: &mut Vec<Finding>) {
    let text = String::from_utf8_lossy(&source[node.byte_range()]);
    for (id, what) in secrets::known_tokens(&text) {
        out.push(
            Finding::at(node, source, id, Category::Security)
                .severity(Severity::High)
                .cwe(798)
                .message(format!(
                    "{what} is written into the code; revoke it and read it from a secret store"
                )),
        );
    }
}

#[cfg(test)]
mod tests;
