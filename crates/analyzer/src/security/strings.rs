//! Telling a constant string from one built at run time, in every grammar.

use tree_sitter::Node;

/// Children of a string that splice a value in.
const SPLICES: &[&str] = &[
    "interpolation",
    "template_substitution",
    "variable_name",
    "dynamic_variable_name",
    "member_access_expression",
    "subscript_expression",
    "simple_variable",
];

/// Binary operators that build strings: `+` most places, `%` in Python, `.` in PHP.
const CONCATENATIONS: &[&str] = &["+", "%", "."];

/// Calls and macros that format strings.
const FORMATTERS: &[&str] = &["format", "Sprintf", "sprintf", "format!", "formatted", "concat"];

pub(crate) fn is_string(node: Node<'_>) -> bool {
    crate::kinds::STRING_KINDS.contains(&node.kind())
}

/// A string literal with nothing spliced in (adjacent literals count as one).
pub(crate) fn is_constant_string(node: Node<'_>) -> bool {
    let node = unwrap(node);
    if !is_string(node) {
        return false;
    }
    let mut cursor = node.walk();
    node.named_children(&mut cursor).all(|child| {
        !SPLICES.contains(&child.kind()) && (!is_string(child) || is_constant_string(child))
    })
}

/// A string assembled at run time: spliced, concatenated or formatted.
pub(crate) fn is_built_string(node: Node<'_>, source: &[u8]) -> bool {
    let node = unwrap(node);
    let kind = node.kind();
    if is_string(node) {
        return !is_constant_string(node);
    }
    if kind.starts_with("binary") {
        let operator = node
            .child_by_field_name("operator")
            .and_then(|o| std::str::from_utf8(&source[o.byte_range()]).ok());
        if !operator.is_some_and(|o| CONCATENATIONS.contains(&o)) {
            return false;
        }
        let sides = [node.child_by_field_name("left"), node.child_by_field_name("right")];
        return sides
            .into_iter()
            .flatten()
            .any(|side| is_string(unwrap(side)) || is_built_string(side, source));
    }
    if kind == "macro_invocation" {
        let name = node.child_by_field_name("macro").map(|m| &source[m.byte_range()]);
        return name.is_some_and(|n| n == b"format" || n.ends_with(b"::format"));
    }
    if super::calls::CALL_KINDS.contains(&kind) {
        let callee = super::calls::call(node, source).map(|c| c.callee).unwrap_or_default();
        return FORMATTERS.iter().any(|f| super::calls::callee_matches(&callee, f));
    }
    false
}

/// The text of a constant string without its quotes and prefixes.
pub(crate) fn constant_text(node: Node<'_>, source: &[u8]) -> Option<String> {
    let node = unwrap(node);
    if !is_constant_string(node) {
        return None;
    }
    let raw = String::from_utf8_lossy(&source[node.byte_range()]).into_owned();
    let body = raw.trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == '@' || c == '#');
    let quotes: &[_] = &['"', '\'', '`'];
    Some(body.trim_matches(quotes).to_owned())
}

/// Looks through parentheses, `&` references and argument wrappers.
pub(crate) fn unwrap(node: Node<'_>) -> Node<'_> {
    let mut current = node;
    for _ in 0..8 {
        match current.kind() {
            "parenthesized_expression"
            | "reference_expression"
            | "argument"
            | "literal_element" => {
                let last =
                    u32::try_from(current.named_child_count()).unwrap_or(0).saturating_sub(1);
                match current.named_child(last) {
                    Some(inner) => current = inner,
                    None => break,
                }
            }
            _ => break,
        }
    }
    current
}
