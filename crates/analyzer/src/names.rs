//! Finding the names and parameter lists of declarations, across grammars that put them in
//! different places.

use tree_sitter::Node;

use crate::profile::Profile;

/// The longest name kept; longer ones are cut.
const MAX_NAME_CHARS: usize = 200;
/// How deep to look below a declaration for its name.
const NAME_SEARCH_DEPTH: usize = 4;

/// The name a declaration gives itself, if any.
pub(crate) fn declared_name(node: Node<'_>, source: &[u8]) -> Option<String> {
    if let Some(name) = node.child_by_field_name("name") {
        return Some(innermost_identifier(name, source));
    }
    // C and C++ put the name inside the declarator chain.
    if let Some(declarator) = node.child_by_field_name("declarator") {
        return Some(innermost_identifier(declarator, source));
    }
    first_identifier(node, source, NAME_SEARCH_DEPTH)
}

/// A function's name, or the name it is bound to (`const f = () => …`), or `(anonymous)`.
pub(crate) fn function_name(node: Node<'_>, parent: Option<Node<'_>>, source: &[u8]) -> String {
    // R's grammar files its `function` keyword under `name`: only a named node is a name.
    if let Some(name) = node.child_by_field_name("name").filter(|n| n.is_named()) {
        return innermost_identifier(name, source);
    }
    if let Some(declarator) = node.child_by_field_name("declarator") {
        return innermost_identifier(declarator, source);
    }
    if let Some(parent) = parent {
        let bound = match parent.kind() {
            "variable_declarator" | "pair" | "public_field_definition" | "field_definition" => {
                parent.child_by_field_name("name").or_else(|| parent.child_by_field_name("key"))
            }
            "assignment_expression" | "assignment" => parent.child_by_field_name("left"),
            // R: `name <- function(x) …`
            "binary_operator" => parent.child_by_field_name("lhs"),
            _ => None,
        };
        if let Some(bound) = bound {
            return innermost_identifier(bound, source);
        }
    }
    // Dart puts the name in a signature child.
    if let Some(name) = signature(node).and_then(|s| s.child_by_field_name("name")) {
        return innermost_identifier(name, source);
    }
    let declares_name =
        node.kind().ends_with("function_definition") || node.kind() == "function_declaration";
    if let Some(name) = declares_name.then(|| first_identifier(node, source, 2)).flatten() {
        return name;
    }
    "(anonymous)".to_owned()
}

/// The `…_signature` node under a declaration (Dart: method → method/function signature).
fn signature(node: Node<'_>) -> Option<Node<'_>> {
    let mut current = node;
    for _ in 0..3 {
        let mut cursor = current.walk();
        let next = current.named_children(&mut cursor).find(|c| c.kind().ends_with("signature"))?;
        if next.child_by_field_name("name").is_some() {
            return Some(next);
        }
        current = next;
    }
    None
}

/// How many parameters a function declares (receivers such as `self` included, as lizard).
pub(crate) fn parameter_count(node: Node<'_>, profile: &Profile) -> u32 {
    let list = node
        .child_by_field_name(profile.parameters_field)
        .and_then(parameter_list)
        .or_else(|| signature(node).and_then(|s| find_child(s, "formal_parameter_list")));
    let Some(list) = list else { return 0 };
    let mut cursor = list.walk();
    let count = list
        .named_children(&mut cursor)
        .filter(|child| !profile.comments.contains(&child.kind()))
        .filter(|child| !is_void_parameter(*child) && !SEPARATORS.contains(&child.kind()))
        .count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// The node that holds the parameters themselves: C's `function_declarator` nests them.
fn parameter_list(node: Node<'_>) -> Option<Node<'_>> {
    let mut current = node;
    for _ in 0..NAME_SEARCH_DEPTH {
        if current.kind().contains("declarator") {
            match current.child_by_field_name("parameters") {
                Some(list) => return Some(list),
                None => current = current.child_by_field_name("declarator")?,
            }
        } else {
            return Some(current);
        }
    }
    None
}

/// The first named child of `node` of kind `kind`.
fn find_child<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).find(|c| c.kind() == kind)
}

/// Markers in a parameter list that are not parameters (Python's bare `*` and `/`, R's commas).
const SEPARATORS: &[&str] = &["keyword_separator", "positional_separator", "comma"];

/// C's `f(void)` declares no parameter.
fn is_void_parameter(node: Node<'_>) -> bool {
    node.kind() == "parameter_declaration"
        && node.named_child_count() == 1
        && node
            .named_child(0)
            .is_some_and(|t| t.kind() == "primitive_type" && t.byte_range().len() == 4)
        && node.child_by_field_name("declarator").is_none()
}

/// Follows `declarator`/`name` fields down to the identifier they end in.
fn innermost_identifier(node: Node<'_>, source: &[u8]) -> String {
    let mut current = node;
    for _ in 0..NAME_SEARCH_DEPTH {
        match current
            .child_by_field_name("declarator")
            .or_else(|| current.child_by_field_name("name"))
        {
            Some(inner) => current = inner,
            None => break,
        }
    }
    text(current, source)
}

/// The first identifier-like node within `depth` levels, breadth first.
fn first_identifier(node: Node<'_>, source: &[u8], depth: usize) -> Option<String> {
    let mut level = vec![node];
    for _ in 0..depth {
        let mut next = Vec::new();
        for parent in level {
            let mut cursor = parent.walk();
            for child in parent.named_children(&mut cursor) {
                let kind = child.kind();
                if kind.ends_with("identifier")
                    || kind == "name"
                    || kind == "constant"
                    || kind == "variable"
                {
                    return Some(text(child, source));
                }
                next.push(child);
            }
        }
        level = next;
    }
    None
}

fn text(node: Node<'_>, source: &[u8]) -> String {
    let raw = source.get(node.byte_range()).unwrap_or_default();
    let text = String::from_utf8_lossy(raw);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(MAX_NAME_CHARS).collect()
}
