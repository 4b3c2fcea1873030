//! What each language's syntax tree means to the analyzer: which nodes are functions, types,
//! imports and comments, and which tokens are decision points.
//!
//! Decision tokens follow lizard's per-language sets, so that cyclomatic complexity matches
//! what teams moving from lizard already see. Every node kind named here is checked against its
//! grammar by a test, so a misspelt kind cannot silently match nothing.

use tree_sitter::Node;

use crate::Language;
use crate::cognitive::{self, CognitiveRules};

/// The analyzer's view of one grammar.
#[derive(Debug)]
pub(crate) struct Profile {
    /// Named nodes that are functions or methods with a body.
    pub functions: &'static [&'static str],
    /// Named nodes that declare classes, structs, traits, interfaces and the like.
    pub types: &'static [&'static str],
    /// Named nodes that import another module.
    pub imports: &'static [&'static str],
    /// Named nodes that are comments.
    pub comments: &'static [&'static str],
    /// Anonymous tokens that each add one to cyclomatic complexity (lizard's sets).
    pub decisions: &'static [&'static str],
    /// Named nodes that add a level of nesting (control flow with a body).
    pub nesting: &'static [&'static str],
    /// The field of a function node holding its parameter list.
    pub parameters_field: &'static str,
    /// A statement that is only a string literal (a docstring) counts as a comment.
    pub string_statements_are_comments: bool,
    /// Named nodes that are decisions in context (Rust's second and later match arms).
    pub decision_node: Option<fn(Node<'_>) -> bool>,
    /// How cognitive complexity reads this grammar, where it is known.
    pub cognitive: Option<&'static CognitiveRules>,
}

const C_DECISIONS: &[&str] = &["if", "for", "while", "&&", "||", "?", "case"];
const CPP_DECISIONS: &[&str] = &["if", "for", "while", "catch", "&&", "||", "?", "case"];
const JS_DECISIONS: &[&str] = &["if", "for", "while", "catch", "&&", "||", "??", "?", "case"];
const JS_FUNCTIONS: &[&str] = &[
    "function_declaration",
    "function_expression",
    "generator_function_declaration",
    "generator_function",
    "arrow_function",
    "method_definition",
];
const JS_NESTING: &[&str] = &[
    "if_statement",
    "for_statement",
    "for_in_statement",
    "while_statement",
    "do_statement",
    "switch_statement",
    "try_statement",
    "catch_clause",
];
const NONE: &[&str] = &[];
/// Nesting in the languages with C-style statements and `foreach`.
const FOREACH_NESTING: &[&str] = &[
    "if_statement",
    "for_statement",
    "foreach_statement",
    "while_statement",
    "do_statement",
    "switch_statement",
    "try_statement",
    "catch_clause",
];

/// What most grammars share; each profile below states only how it differs.
const BASE: Profile = Profile {
    functions: NONE,
    types: NONE,
    imports: NONE,
    comments: &["comment"],
    decisions: NONE,
    nesting: NONE,
    parameters_field: "parameters",
    string_statements_are_comments: false,
    decision_node: None,
    cognitive: None,
};

const PYTHON: Profile = Profile {
    functions: &["function_definition"],
    types: &["class_definition"],
    imports: &["import_statement", "import_from_statement", "future_import_statement"],
    decisions: &["if", "elif", "for", "while", "except", "finally", "and", "or", "case"],
    nesting: &[
        "if_statement",
        "for_statement",
        "while_statement",
        "try_statement",
        "with_statement",
        "match_statement",
    ],
    string_statements_are_comments: true,
    cognitive: Some(&cognitive::PYTHON),
    ..BASE
};

const JAVASCRIPT: Profile = Profile {
    functions: JS_FUNCTIONS,
    types: &["class_declaration", "class"],
    imports: &["import_statement"],
    decisions: JS_DECISIONS,
    nesting: JS_NESTING,
    cognitive: Some(&cognitive::C_FAMILY),
    ..BASE
};

const TYPESCRIPT: Profile = Profile {
    types: &["class_declaration", "class", "abstract_class_declaration", "interface_declaration"],
    ..JAVASCRIPT
};

const RUST: Profile = Profile {
    functions: &["function_item"],
    types: &["struct_item", "enum_item", "union_item", "trait_item", "impl_item"],
    imports: &["use_declaration", "extern_crate_declaration"],
    comments: &["line_comment", "block_comment"],
    // Match arms count through `decision_node`, as lizard counts them: all but the first.
    decisions: &["if", "for", "while", "where", "&&", "||", "?"],
    nesting: &[
        "if_expression",
        "for_expression",
        "while_expression",
        "loop_expression",
        "match_expression",
        "closure_expression",
    ],
    decision_node: Some(rust_decision),
    cognitive: Some(&cognitive::RUST),
    ..BASE
};

const GO: Profile = Profile {
    functions: &["function_declaration", "method_declaration", "func_literal"],
    types: &["type_spec"],
    imports: &["import_spec"],
    decisions: &["if", "for", "&&", "||", "case"],
    nesting: &[
        "if_statement",
        "for_statement",
        "expression_switch_statement",
        "type_switch_statement",
        "select_statement",
    ],
    cognitive: Some(&cognitive::GO),
    ..BASE
};

const JAVA: Profile = Profile {
    functions: &["method_declaration", "constructor_declaration"],
    types: &[
        "class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
    ],
    imports: &["import_declaration"],
    comments: &["line_comment", "block_comment"],
    decisions: CPP_DECISIONS,
    nesting: &[
        "if_statement",
        "for_statement",
        "enhanced_for_statement",
        "while_statement",
        "do_statement",
        "switch_expression",
        "try_statement",
        "catch_clause",
    ],
    cognitive: Some(&cognitive::C_FAMILY),
    ..BASE
};

const C: Profile = Profile {
    functions: &["function_definition"],
    types: &["struct_specifier", "union_specifier", "enum_specifier"],
    imports: &["preproc_include"],
    decisions: C_DECISIONS,
    nesting: &[
        "if_statement",
        "for_statement",
        "while_statement",
        "do_statement",
        "switch_statement",
    ],
    parameters_field: "declarator",
    cognitive: Some(&cognitive::C_FAMILY),
    ..BASE
};

const CPP: Profile = Profile {
    types: &["struct_specifier", "union_specifier", "enum_specifier", "class_specifier"],
    decisions: CPP_DECISIONS,
    nesting: &[
        "if_statement",
        "for_statement",
        "for_range_loop",
        "while_statement",
        "do_statement",
        "switch_statement",
        "try_statement",
        "catch_clause",
    ],
    ..C
};

const CSHARP: Profile = Profile {
    functions: &[
        "method_declaration",
        "constructor_declaration",
        "destructor_declaration",
        "operator_declaration",
        "local_function_statement",
    ],
    types: &[
        "class_declaration",
        "struct_declaration",
        "interface_declaration",
        "record_declaration",
        "enum_declaration",
    ],
    imports: &["using_directive"],
    decisions: &["if", "for", "foreach", "while", "catch", "&&", "||", "?", "??", "case"],
    nesting: FOREACH_NESTING,
    cognitive: Some(&cognitive::C_FAMILY),
    ..BASE
};

const RUBY: Profile = Profile {
    functions: &["method", "singleton_method"],
    types: &["class", "module"],
    decisions: &[
        "if", "elsif", "until", "for", "while", "when", "rescue", "unless", "and", "or", "||",
        "&&", "?",
    ],
    nesting: &["if", "unless", "while", "until", "for", "case", "begin"],
    ..BASE
};

const PHP: Profile = Profile {
    functions: &[
        "function_definition",
        "method_declaration",
        "anonymous_function",
        "arrow_function",
    ],
    types: &["class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"],
    imports: &[
        "namespace_use_declaration",
        "include_expression",
        "include_once_expression",
        "require_expression",
        "require_once_expression",
    ],
    decisions: &[
        "if", "elseif", "for", "foreach", "while", "catch", "match", "&&", "||", "?", "case",
    ],
    nesting: FOREACH_NESTING,
    cognitive: Some(&cognitive::C_FAMILY),
    ..BASE
};

const KOTLIN: Profile = Profile {
    functions: &["function_declaration", "anonymous_function"],
    types: &["class_declaration", "object_declaration"],
    imports: &["import"],
    comments: &["line_comment", "block_comment"],
    decisions: &["if", "for", "while", "catch", "&&", "||", "?:"],
    nesting: &[
        "if_expression",
        "for_statement",
        "while_statement",
        "do_while_statement",
        "when_expression",
        "try_expression",
    ],
    ..BASE
};

const SWIFT: Profile = Profile {
    functions: &["function_declaration", "init_declaration", "deinit_declaration"],
    types: &["class_declaration", "protocol_declaration"],
    imports: &["import_declaration"],
    comments: &["comment", "multiline_comment"],
    decisions: &["if", "for", "while", "guard", "&&", "||", "?", "case"],
    nesting: &[
        "if_statement",
        "for_statement",
        "while_statement",
        "repeat_while_statement",
        "guard_statement",
        "switch_statement",
        "do_statement",
    ],
    ..BASE
};

const SCALA: Profile = Profile {
    functions: &["function_definition"],
    types: &["class_definition", "object_definition", "trait_definition"],
    imports: &["import_declaration"],
    comments: &["comment", "block_comment"],
    // `&&` and `||` are operator identifiers in this grammar, not tokens.
    decisions: &["if", "for", "while", "catch", "do", "case"],
    nesting: &[
        "if_expression",
        "for_expression",
        "while_expression",
        "match_expression",
        "try_expression",
    ],
    ..BASE
};

const LUA: Profile = Profile {
    functions: &["function_declaration", "function_definition"],
    decisions: &["if", "elseif", "for", "while", "until", "and", "or"],
    nesting: &["if_statement", "for_statement", "while_statement", "repeat_statement"],
    ..BASE
};

const DART: Profile = Profile {
    functions: &[
        "function_declaration",
        "method_declaration",
        "local_function_declaration",
        "function_expression",
    ],
    types: &["class_declaration", "mixin_declaration", "enum_declaration"],
    imports: &["library_import"],
    comments: &["comment", "documentation_comment", "block_comment", "documentation_block_comment"],
    // `?` also marks nullable types (`int?`), so ternaries count as nodes instead.
    decisions: &["if", "for", "while", "catch", "case", "&&", "||", "??"],
    nesting: &[
        "if_statement",
        "for_statement",
        "while_statement",
        "do_statement",
        "switch_statement",
        "try_statement",
    ],
    decision_node: Some(dart_decision),
    ..BASE
};

const R: Profile = Profile {
    functions: &["function_definition"],
    decisions: &["if", "for", "while", "repeat", "&&", "||"],
    nesting: &["if_statement", "for_statement", "while_statement", "repeat_statement"],
    ..BASE
};

const BASH: Profile = Profile {
    functions: &["function_definition"],
    decisions: &["if", "elif", "for", "while", "until", "&&", "||"],
    nesting: &["if_statement", "for_statement", "while_statement", "case_statement"],
    ..BASE
};

const ZIG: Profile = Profile {
    functions: &["function_declaration"],
    decisions: &["if", "for", "while", "catch", "and", "or", "orelse", "=>"],
    nesting: &["if_statement", "for_statement", "while_statement", "switch_expression"],
    ..BASE
};

const HASKELL: Profile = Profile {
    functions: &["function"],
    types: &["data_type", "class", "newtype"],
    imports: &["import"],
    // `&&` and `||` are ordinary operators in this grammar, not tokens.
    decisions: &["if", "case", "|"],
    parameters_field: "patterns",
    ..BASE
};

const ELIXIR: Profile = Profile {
    // `if`, `case` and `cond` are ordinary calls in this grammar; only operators are tokens.
    decisions: &["and", "or", "&&", "||", "->"],
    parameters_field: "arguments",
    ..BASE
};

const OCAML: Profile = Profile {
    types: &["type_definition", "module_definition"],
    imports: &["open_module"],
    decisions: &["if", "match", "function", "&&", "||", "when"],
    parameters_field: "parameter",
    ..BASE
};

/// Formats without functions: only lines, comments and syntax errors apply.
const MARKUP: Profile = BASE;

const SQL: Profile = Profile { comments: &["comment", "marginalia"], ..MARKUP };

/// Every match arm after the first, and `let … else`, as lizard counts Rust.
fn rust_decision(node: Node<'_>) -> bool {
    match node.kind() {
        "match_arm" => node.prev_named_sibling().is_some_and(|p| p.kind() == "match_arm"),
        "let_declaration" => node.child_by_field_name("alternative").is_some(),
        _ => false,
    }
}

/// Dart's `c ? a : b`.
fn dart_decision(node: Node<'_>) -> bool {
    node.kind() == "conditional_expression"
}

impl Language {
    pub(crate) fn profile(self) -> &'static Profile {
        match self {
            Language::Python => &PYTHON,
            Language::JavaScript => &JAVASCRIPT,
            Language::TypeScript | Language::Tsx => &TYPESCRIPT,
            Language::Rust => &RUST,
            Language::Go => &GO,
            Language::Java => &JAVA,
            Language::C => &C,
            Language::Cpp => &CPP,
            Language::CSharp => &CSHARP,
            Language::Ruby => &RUBY,
            Language::Php => &PHP,
            Language::Kotlin => &KOTLIN,
            Language::Swift => &SWIFT,
            Language::Scala => &SCALA,
            Language::Lua => &LUA,
            Language::Bash => &BASH,
            Language::Dart => &DART,
            Language::R => &R,
            Language::Zig => &ZIG,
            Language::Haskell => &HASKELL,
            Language::Elixir => &ELIXIR,
            Language::OCaml => &OCAML,
            Language::Sql => &SQL,
            Language::Html | Language::Css | Language::Json | Language::Yaml | Language::Toml => {
                &MARKUP
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_kind_exists_in_its_grammar() {
        let mut missing = Vec::new();
        for language in Language::ALL {
            let grammar = language.grammar();
            let profile = language.profile();
            let named = [
                profile.functions,
                profile.types,
                profile.imports,
                profile.comments,
                profile.nesting,
            ];
            for kind in named.iter().flat_map(|kinds| kinds.iter()) {
                if grammar.id_for_node_kind(kind, true) == 0 {
                    missing.push(format!("{}: node `{kind}`", language.id()));
                }
            }
            for token in profile.decisions {
                if grammar.id_for_node_kind(token, false) == 0 {
                    missing.push(format!("{}: token `{token}`", language.id()));
                }
            }
        }
        assert!(missing.is_empty(), "unknown kinds:\n{}", missing.join("\n"));
    }
}
