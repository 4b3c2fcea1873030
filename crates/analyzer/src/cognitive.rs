//! Cognitive complexity (SonarSource's definition), as lizard's `-Ecognitive` counts it.
//!
//! * +1 plus the nesting level for each `if`, loop, `catch`/`except`, `switch`/`match` and
//!   ternary (structural increments);
//! * +1 for each `else` and `elif`/`else if` (hybrid increments, no nesting penalty);
//! * +1 for each sequence of like logical operators (`a && b && c` is one, `a && b || c` two);
//! * +1 for `goto` and for `break`/`continue` to a label, and once for recursion;
//! * the bodies of those structures, and of lambdas, nest one level deeper.
//!
//! Functions nested in functions are measured on their own, as lizard reports them.

use tree_sitter::Node;

use crate::kinds::KindTable;

/// One grammar's cognitive structures.
#[derive(Debug)]
pub(crate) struct CognitiveRules {
    /// +1 plus nesting; their bodies nest.
    pub structural: &'static [&'static str],
    /// +1; their bodies nest.
    pub hybrid: &'static [&'static str],
    /// No increment; their bodies nest (lambdas).
    pub nesting_only: &'static [&'static str],
    /// Nodes of binary operations, and the operator tokens that are logical.
    pub binary: &'static [&'static str],
    pub logical_operators: &'static [&'static str],
    /// Jumps that count when they name a label (`break outer`), and `goto`.
    pub jumps: &'static [&'static str],
    pub gotos: &'static [&'static str],
    /// Call nodes, for recursion.
    pub calls: &'static [&'static str],
}

/// Expressions `c ? a : b`; their `alternative` is no `else`.
const TERNARIES: &[&str] = &["conditional_expression", "ternary_expression"];

/// Fields holding the body of a structure; a child in one of them nests one level deeper.
const BODY_FIELDS: &[&str] = &["body", "consequence"];

pub(crate) const PYTHON: CognitiveRules = CognitiveRules {
    structural: &[
        "if_statement",
        "for_statement",
        "while_statement",
        "except_clause",
        "except_group_clause",
        "match_statement",
        "conditional_expression",
    ],
    hybrid: &["elif_clause", "else_clause"],
    nesting_only: &["lambda"],
    binary: &["boolean_operator"],
    logical_operators: &["and", "or"],
    jumps: &[],
    gotos: &[],
    calls: &["call"],
};

pub(crate) const C_FAMILY: CognitiveRules = CognitiveRules {
    structural: &[
        "if_statement",
        "for_statement",
        "for_range_loop",
        "for_in_statement",
        "enhanced_for_statement",
        "foreach_statement",
        "while_statement",
        "do_statement",
        "switch_statement",
        "switch_expression",
        "catch_clause",
        "conditional_expression",
        "ternary_expression",
    ],
    hybrid: &["else_clause"],
    nesting_only: &[
        "lambda_expression",
        "arrow_function",
        "function_expression",
        "anonymous_function",
    ],
    binary: &["binary_expression"],
    logical_operators: &["&&", "||"],
    jumps: &["break_statement", "continue_statement"],
    gotos: &["goto_statement"],
    calls: &["call_expression", "method_invocation", "invocation_expression"],
};

pub(crate) const RUST: CognitiveRules = CognitiveRules {
    structural: &[
        "if_expression",
        "for_expression",
        "while_expression",
        "loop_expression",
        "match_expression",
    ],
    hybrid: &["else_clause"],
    nesting_only: &["closure_expression"],
    binary: &["binary_expression"],
    logical_operators: &["&&", "||"],
    jumps: &["break_expression", "continue_expression"],
    gotos: &[],
    calls: &["call_expression"],
};

pub(crate) const GO: CognitiveRules = CognitiveRules {
    structural: &[
        "if_statement",
        "for_statement",
        "expression_switch_statement",
        "type_switch_statement",
        "select_statement",
    ],
    hybrid: &[],
    nesting_only: &["func_literal"],
    binary: &["binary_expression"],
    logical_operators: &["&&", "||"],
    jumps: &["break_statement", "continue_statement"],
    gotos: &["goto_statement"],
    calls: &["call_expression"],
};

/// What entering `node` (in field `field` of its parent) adds to its function's cognitive
/// complexity at nesting `depth`.
pub(crate) fn increment(
    rules: &CognitiveRules,
    kinds: &KindTable,
    node: Node<'_>,
    parent: Option<Node<'_>>,
    field: Option<&str>,
    source: &[u8],
    depth: u32,
) -> u32 {
    let kind = node.kind();
    if is_bare_else(rules, node, parent, field) {
        return 1;
    }
    if rules.structural.contains(&kind) {
        // `else if` counts once, as an `else`.
        return if is_else_if(rules, node, parent, field) { 0 } else { 1 + depth };
    }
    if rules.hybrid.contains(&kind) {
        return 1;
    }
    if rules.binary.contains(&kind) {
        return u32::from(starts_logical_sequence(rules, kinds, node, parent, source));
    }
    if rules.gotos.contains(&kind) {
        return 1;
    }
    if rules.jumps.contains(&kind) {
        return u32::from(node.named_child_count() > 0 && has_label(node));
    }
    0
}

/// Whether `node`, found in field `field` of its parent, is a body that nests one level.
pub(crate) fn nests(
    rules: &CognitiveRules,
    node: Node<'_>,
    parent: Option<Node<'_>>,
    field: Option<&str>,
) -> bool {
    let Some(parent) = parent else { return false };
    let parent_kind = parent.kind();
    if rules.nesting_only.contains(&parent_kind) {
        return field == Some("body");
    }
    let structure = rules.structural.contains(&parent_kind) || rules.hybrid.contains(&parent_kind);
    if !structure {
        return false;
    }
    // The `if` of an `else if` nests its own body; the `else` adds no level of its own.
    if rules.hybrid.contains(&parent_kind) && rules.structural.contains(&node.kind()) {
        return false;
    }
    // A ternary nests what follows its first operand.
    if TERNARIES.contains(&parent_kind) {
        return node.prev_named_sibling().is_some();
    }
    if is_bare_else(rules, node, Some(parent), field) {
        return true;
    }
    match field {
        Some(field) => BODY_FIELDS.contains(&field),
        // Bodies without a field name: Python's `except:` block, an `else` clause's statement.
        None => node.is_named() && (node.kind() == "block" || rules.hybrid.contains(&parent_kind)),
    }
}

/// A structure that is the whole of an `else`: `else if`, with or without an `else` node.
fn is_else_if(
    rules: &CognitiveRules,
    node: Node<'_>,
    parent: Option<Node<'_>>,
    field: Option<&str>,
) -> bool {
    parent.is_some_and(|p| {
        (rules.hybrid.contains(&p.kind()) && p.kind() == "else_clause")
            || (field == Some("alternative") && p.kind() == node.kind())
    })
}

/// An `else` body that grammars such as Go's hang straight off the `if` (no `else` node).
fn is_bare_else(
    rules: &CognitiveRules,
    node: Node<'_>,
    parent: Option<Node<'_>>,
    field: Option<&str>,
) -> bool {
    field == Some("alternative")
        && !rules.hybrid.contains(&node.kind())
        && !rules.structural.contains(&node.kind())
        && parent.is_some_and(|p| !TERNARIES.contains(&p.kind()))
}

/// A logical operation whose operator differs from that of the operation it is part of.
fn starts_logical_sequence(
    rules: &CognitiveRules,
    kinds: &KindTable,
    node: Node<'_>,
    parent: Option<Node<'_>>,
    source: &[u8],
) -> bool {
    let Some(operator) = operator_of(kinds, node, source) else { return false };
    if !rules.logical_operators.contains(&operator) {
        return false;
    }
    let parent_operator =
        parent.filter(|p| p.kind() == node.kind()).and_then(|p| operator_of(kinds, p, source));
    parent_operator != Some(operator)
}

fn operator_of<'s>(kinds: &KindTable, node: Node<'_>, source: &'s [u8]) -> Option<&'s str> {
    let operator = kinds.child(node, "operator")?;
    std::str::from_utf8(source.get(operator.byte_range())?).ok()
}

fn has_label(node: Node<'_>) -> bool {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).any(|c| c.kind().contains("identifier") || c.kind() == "label")
}

/// Whether `node` calls the function named `name` (directly, or through `self`/`this`).
pub(crate) fn is_recursive_call(
    kinds: &KindTable,
    node: Node<'_>,
    source: &[u8],
    name: &str,
) -> bool {
    let Some(callee) = kinds.child(node, "function").or_else(|| kinds.child(node, "name")) else {
        return false;
    };
    let text = |n: Node<'_>| source.get(n.byte_range()).and_then(|b| std::str::from_utf8(b).ok());
    match callee.kind() {
        "identifier" => text(callee) == Some(name),
        "attribute" | "member_expression" | "field_expression" | "selector_expression" => {
            let attribute = kinds
                .child(callee, "attribute")
                .or_else(|| kinds.child(callee, "property"))
                .or_else(|| kinds.child(callee, "field"));
            if attribute.and_then(text) != Some(name) {
                return false;
            }
            let object = kinds.child(callee, "object").or_else(|| kinds.child(callee, "value"));
            object.and_then(text).is_some_and(|o| matches!(o, "self" | "this" | "cls"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::{Options, analyze};

    /// (file, source, cyclomatic, cognitive), each worked out by hand from SonarSource's rules
    /// and checked against lizard 1.24.3 `-Ecognitive`.
    const CASES: &[(&str, &str, u32, u32)] = &[
        (
            // if 1, `and` 1, `or` 1, for 2, if 3, elif 1, else 1, recursion 1
            "f.py",
            "def f(a, b, c):\n    if a and b or c:\n        for x in a:\n            if x:\n                pass\n            elif b:\n                pass\n            else:\n                pass\n    return f(a, b, c)\n",
            7,
            11,
        ),
        (
            // if 1, else if 1, && 1, switch 2, else 1, goto 1, ternary 1, recursion 1
            "g.c",
            "int g(int n) {\n    if (n > 1) {\n        return 1;\n    } else if (n == 0 && n < 5) {\n        switch (n) {\n        case 1:\n            break;\n        }\n    } else {\n        goto out;\n    }\nout:\n    return n ? g(n - 1) : 0;\n}\n",
            6,
            9,
        ),
        (
            // for 1, if 2, || 1, else 1
            "h.go",
            "package main\n\nfunc h(xs []int) int {\n\tfor _, x := range xs {\n\t\tif x > 0 || x < -5 {\n\t\t\treturn x\n\t\t} else {\n\t\t\tcontinue\n\t\t}\n\t}\n\treturn 0\n}\n",
            4,
            5,
        ),
        (
            // a lambda nests: the ternary inside it counts 1 + 1
            "l.py",
            "def k(items):\n    return sorted(items, key=lambda x: x.a if x else 0)\n",
            2,
            2,
        ),
    ];

    #[test]
    fn worked_examples() {
        for (path, source, cyclomatic, cognitive) in CASES {
            let report = analyze(path, source.as_bytes(), &Options::default()).expect("analyze");
            let function = &report.functions[0];
            assert_eq!(
                (function.cyclomatic, function.cognitive),
                (*cyclomatic, Some(*cognitive)),
                "{path}"
            );
        }
    }
}
