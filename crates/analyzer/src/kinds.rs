//! What each node kind of a grammar means, as bits in a table indexed by kind id.
//!
//! `Node::kind()` converts the kind's C string to `&str` on every call, and comparing it
//! against lists costs more than the parse itself on large files. The walk instead looks up
//! `Node::kind_id()` in this table, built once per language from the profile's lists. Every
//! symbol whose name matches is marked, so aliased and duplicated symbols are covered too.

use std::sync::OnceLock;

use crate::Language;

pub(crate) const FUNCTION: u32 = 1 << 0;
pub(crate) const TYPE: u32 = 1 << 1;
pub(crate) const IMPORT: u32 = 1 << 2;
pub(crate) const COMMENT: u32 = 1 << 3;
pub(crate) const NESTING: u32 = 1 << 4;
/// An anonymous token that adds one to cyclomatic complexity.
pub(crate) const DECISION: u32 = 1 << 5;
/// A string literal: one Halstead operand, however many parts.
pub(crate) const STRING: u32 = 1 << 6;
/// Something a security rule may look at.
pub(crate) const SECURITY: u32 = 1 << 7;
/// Something cognitive complexity counts (structure, `else`, logical operation, jump, call).
pub(crate) const COGNITIVE: u32 = 1 << 8;
/// A node whose children may nest for cognitive complexity (structures, lambdas, ternaries).
pub(crate) const COGNITIVE_PARENT: u32 = 1 << 9;
/// `expression_statement`, which may be a docstring.
pub(crate) const STATEMENT: u32 = 1 << 10;
/// A node that may be a decision in context (`decision_node` of the profile).
pub(crate) const DECISION_NODE: u32 = 1 << 11;
/// A call, which cognitive complexity checks for recursion.
pub(crate) const CALL: u32 = 1 << 12;

/// String literal kinds, across grammars.
pub(crate) const STRING_KINDS: &[&str] = &[
    "string",
    "string_literal",
    "raw_string_literal",
    "interpreted_string_literal",
    "template_string",
    "encapsed_string",
    "text_block",
    "heredoc",
    "nowdoc",
    "concatenated_string",
    "char_literal",
    "character_literal",
];

#[derive(Debug)]
pub(crate) struct KindTable {
    flags: Vec<u32>,
    /// Field name → id. `Node::child_by_field_name` finds the id by comparing the name with
    /// every field name of the grammar, on every call; the walk asks for fields often.
    fields: rustc_hash::FxHashMap<&'static str, u16>,
}

impl KindTable {
    pub(crate) fn of(language: Language) -> &'static KindTable {
        static TABLES: [OnceLock<KindTable>; 64] = [const { OnceLock::new() }; 64];
        TABLES[language as usize % 64].get_or_init(|| KindTable::build(language))
    }

    pub(crate) fn flags(&self, kind_id: u16) -> u32 {
        self.flags.get(usize::from(kind_id)).copied().unwrap_or(0)
    }

    /// The child of `node` in field `name` (as `Node::child_by_field_name`, without the search).
    pub(crate) fn child<'t>(
        &self,
        node: tree_sitter::Node<'t>,
        name: &str,
    ) -> Option<tree_sitter::Node<'t>> {
        self.fields.get(name).and_then(|&id| node.child_by_field_id(id))
    }

    fn build(language: Language) -> KindTable {
        let grammar = language.grammar();
        let profile = language.profile();
        let count = grammar.node_kind_count();
        let mut flags = vec![0; count];
        let watched: Vec<&str> = crate::security::watched_kinds().collect();
        for (id, slot) in flags.iter_mut().enumerate() {
            let Ok(id) = u16::try_from(id) else { break };
            let Some(name) = grammar.node_kind_for_id(id) else { continue };
            let named = grammar.node_kind_is_named(id);
            let mut bits = 0;
            let mut set = |flag: u32, kinds: &[&str], wanted_named: bool| {
                if named == wanted_named && kinds.contains(&name) {
                    bits |= flag;
                }
            };
            set(FUNCTION, profile.functions, true);
            set(TYPE, profile.types, true);
            set(IMPORT, profile.imports, true);
            set(COMMENT, profile.comments, true);
            set(NESTING, profile.nesting, true);
            set(DECISION, profile.decisions, false);
            set(STRING, STRING_KINDS, true);
            set(SECURITY, &watched, true);
            set(SECURITY, STRING_KINDS, true);
            set(STATEMENT, &["expression_statement"], true);
            if profile.decision_node.is_some() {
                set(
                    DECISION_NODE,
                    &["match_arm", "let_declaration", "conditional_expression"],
                    true,
                );
            }
            if let Some(rules) = profile.cognitive {
                for kinds in [
                    rules.structural,
                    rules.hybrid,
                    rules.binary,
                    rules.jumps,
                    rules.gotos,
                    rules.calls,
                ] {
                    set(COGNITIVE, kinds, true);
                }
                for kinds in [rules.structural, rules.hybrid, rules.nesting_only] {
                    set(COGNITIVE_PARENT, kinds, true);
                }
                set(CALL, rules.calls, true);
            }
            *slot = bits;
        }
        let fields = (1..=grammar.field_count())
            .filter_map(|id| u16::try_from(id).ok())
            .filter_map(|id| grammar.field_name_for_id(id).map(|name| (name, id)))
            .collect();
        KindTable { flags, fields }
    }
}
