//! One pass over a syntax tree that gathers lines, errors, imports, types and functions.
//!
//! The walk uses a tree cursor (no queries, no recursion, so no stack overflow on deep trees)
//! and visits every node once. Functions nested in functions are separate entries, and their
//! tokens count for the inner function only, as lizard counts them.

use std::hash::BuildHasher as _;

use tree_sitter::{Node, Tree};

use crate::Language;
use crate::cognitive;
use crate::findings::Finding;
use crate::halstead::{Halstead, Tally};
use crate::kinds::{self, KindTable};
use crate::profile::Profile;
use crate::report::{FunctionReport, Import, LineCounts, SyntaxError, TypeDecl};

/// The most syntax errors kept per file; a garbled file would otherwise list thousands.
pub const MAX_SYNTAX_ERRORS: usize = 100;
/// The longest import text kept.
const MAX_IMPORT_CHARS: usize = 200;

/// One code token: a 32-bit hash of its text and the line it starts on (8 bytes, as the
/// tokens of a whole tree are kept for duplicate detection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub hash: u32,
    pub line: u32,
}

/// What the walk found.
#[derive(Debug, Default)]
pub(crate) struct Walked {
    pub lines: LineCounts,
    pub tokens: Vec<Token>,
    pub findings: Vec<Finding>,
    pub halstead: Halstead,
    pub syntax_errors: Vec<SyntaxError>,
    pub imports: Vec<Import>,
    pub types: Vec<TypeDecl>,
    pub functions: Vec<FunctionReport>,
}

/// What a node opened on the way down, to be closed on the way up.
struct Frame<'t> {
    node: Node<'t>,
    flags: u32,
    function: bool,
    type_decl: bool,
    nesting: bool,
    cognitive_nesting: bool,
    string: bool,
}

/// A function whose subtree the walk is inside.
struct OpenFunction {
    index: usize,
    /// Control-structure nesting, for `max_nesting`.
    depth: u32,
    /// Nesting as cognitive complexity counts it.
    cognitive_depth: u32,
    recursed: bool,
    last_line: Option<usize>,
}

struct Walker<'a> {
    source: &'a [u8],
    language: Language,
    kinds: &'static KindTable,
    collect_tokens: bool,
    halstead: Tally,
    /// How many string literals the walk is inside (their parts are not tokens of their own).
    string_depth: u32,
    profile: &'a Profile,
    code_lines: Vec<bool>,
    comment_lines: Vec<bool>,
    frames: Vec<Frame<'a>>,
    functions: Vec<OpenFunction>,
    type_names: Vec<String>,
    out: Walked,
}

pub(crate) fn walk<'a>(
    tree: &'a Tree,
    source: &'a [u8],
    language: Language,
    tokens: bool,
) -> Walked {
    let total = line_count(source);
    let profile = language.profile();
    let mut walker = Walker {
        source,
        language,
        kinds: KindTable::of(language),
        collect_tokens: tokens,
        halstead: Tally::default(),
        string_depth: 0,
        profile,
        code_lines: vec![false; total],
        comment_lines: vec![false; total],
        frames: Vec::new(),
        functions: Vec::new(),
        type_names: Vec::new(),
        out: Walked::default(),
    };
    let mut cursor = tree.walk();
    'tree: loop {
        let descend = walker.enter(cursor.node(), &cursor);
        if descend && cursor.goto_first_child() {
            continue;
        }
        loop {
            walker.leave();
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                break 'tree;
            }
        }
    }
    walker.finish(total)
}

/// Lines in the text: a final line without a newline still counts.
fn line_count(source: &[u8]) -> usize {
    let newlines = source.iter().filter(|&&b| b == b'\n').count();
    newlines + usize::from(!source.is_empty() && !source.ends_with(b"\n"))
}

impl<'a> Walker<'a> {
    /// Opens a node; `false` when its subtree is to be skipped (comments). The cursor is
    /// asked for the node's field name only when cognitive complexity needs it.
    fn enter(&mut self, node: Node<'a>, cursor: &tree_sitter::TreeCursor<'a>) -> bool {
        let flags = self.kinds.flags(node.kind_id());
        if node.is_error() || node.is_missing() {
            self.syntax_error(node);
        }
        let parent_frame = self.frames.last();
        let parent = parent_frame.map(|f| f.node);
        let parent_flags = parent_frame.map_or(0, |f| f.flags);
        let mut frame = Frame {
            node,
            flags,
            function: false,
            type_decl: false,
            nesting: false,
            cognitive_nesting: false,
            string: false,
        };
        if flags & kinds::SECURITY != 0 {
            crate::security::check(
                node,
                parent,
                self.language,
                self.source,
                &mut self.out.findings,
            );
        }
        if flags & kinds::COMMENT != 0 || (flags & kinds::STATEMENT != 0 && self.is_docstring(node))
        {
            mark(&mut self.comment_lines, node);
            self.frames.push(frame);
            return false;
        }
        let leaf = node.child_count() == 0;
        if flags & kinds::STRING != 0 {
            frame.string = true;
            self.string(node);
        } else if leaf {
            self.leaf(node, flags);
        }
        if !leaf
            && flags & kinds::DECISION_NODE != 0
            && self.profile.decision_node.is_some_and(|is_decision| is_decision(node))
        {
            self.decision();
        }
        let cognitive_candidate =
            flags & kinds::COGNITIVE != 0 || parent_flags & kinds::COGNITIVE_PARENT != 0;
        if cognitive_candidate && !self.functions.is_empty() {
            frame.cognitive_nesting = self.cognitive(node, flags, parent, cursor.field_name());
        }
        if flags & kinds::FUNCTION != 0 {
            self.open_function(node, parent);
            frame.function = true;
        } else if flags & kinds::TYPE != 0 {
            self.open_type(node);
            frame.type_decl = true;
        } else if flags & kinds::NESTING != 0
            && !self.functions.is_empty()
            && !is_else_if(node, parent)
        {
            self.nest();
            frame.nesting = true;
        } else if flags & kinds::IMPORT != 0 {
            self.import(node);
        }
        self.frames.push(frame);
        true
    }

    /// A statement made of one string literal, in languages where that is documentation.
    fn is_docstring(&self, node: Node<'_>) -> bool {
        self.profile.string_statements_are_comments
            && node.kind() == "expression_statement"
            && node.named_child_count() == 1
            && node.named_child(0).is_some_and(|child| {
                child.kind() == "string" && is_triple_quoted(&self.source[child.byte_range()])
            })
    }

    fn leave(&mut self) {
        let Some(frame) = self.frames.pop() else { return };
        if frame.string {
            self.string_depth -= 1;
        }
        if frame.function {
            self.functions.pop();
        }
        if frame.type_decl {
            self.type_names.pop();
        }
        if let Some(open) = self.functions.last_mut() {
            if frame.nesting {
                open.depth = open.depth.saturating_sub(1);
            }
            if frame.cognitive_nesting {
                open.cognitive_depth = open.cognitive_depth.saturating_sub(1);
            }
        }
    }

    /// Adds `node`'s cognitive increment to the innermost function; `true` when the node
    /// opens a level of cognitive nesting (to be closed when it is left).
    fn cognitive(
        &mut self,
        node: Node<'_>,
        flags: u32,
        parent: Option<Node<'_>>,
        field: Option<&str>,
    ) -> bool {
        let Some(rules) = self.profile.cognitive else { return false };
        let Some(open) = self.functions.last_mut() else { return false };
        let function = &mut self.out.functions[open.index];
        let Some(total) = function.cognitive.as_mut() else { return false };
        // A body that is itself a structure (a lambda whose body is a ternary) counts at the
        // depth it opens.
        let nests = cognitive::nests(rules, node, parent, field);
        if nests {
            open.cognitive_depth += 1;
        }
        // Go hangs a bare `else` block off the `if` as its `alternative`.
        if flags & kinds::COGNITIVE != 0 || field == Some("alternative") {
            *total += cognitive::increment(
                rules,
                self.kinds,
                node,
                parent,
                field,
                self.source,
                open.cognitive_depth,
            );
        }
        if flags & kinds::CALL != 0
            && !open.recursed
            && cognitive::is_recursive_call(self.kinds, node, self.source, &function.name)
        {
            open.recursed = true;
            *total += 1;
        }
        nests
    }

    /// A string literal: one operand, whose parts are not tallied on their own.
    fn string(&mut self, node: Node<'_>) {
        if self.string_depth == 0 {
            self.halstead.operand(hash_of(&self.source[node.byte_range()]));
        }
        self.string_depth += 1;
        if node.child_count() == 0 {
            // A string the grammar does not split: still a code token.
            self.code_token(node);
        }
    }

    /// A leaf: a code token, an operator or operand, maybe a decision.
    fn leaf(&mut self, node: Node<'_>, flags: u32) {
        let hash = self.code_token(node);
        if self.string_depth == 0 {
            if let Some(hash) = hash.filter(|_| node.is_named()) {
                self.halstead.operand(hash);
            } else if hash.is_some() {
                self.halstead.operator(node.kind_id());
            }
        }
        if flags & kinds::DECISION != 0 {
            self.decision();
        }
    }

    /// Marks the token's lines as code and counts them for the function; gives the hash of
    /// its text, or `None` for a zero-width token (one the parser inserted).
    fn code_token(&mut self, node: Node<'_>) -> Option<u64> {
        let (start, end) = (node.start_byte(), node.end_byte());
        if end <= start {
            return None;
        }
        let (first, last) = (node.start_position().row, node.end_position().row);
        mark_rows(&mut self.code_lines, first, last, node.end_position().column);
        self.count_lines(first, last);
        let hash = hash_of(&self.source[start..end]);
        if self.collect_tokens {
            // The high bits: FxHash mixes them best.
            let hash = u32::try_from(hash >> 32).unwrap_or_default();
            self.out.tokens.push(Token { hash, line: line_of(first) });
        }
        Some(hash)
    }

    fn decision(&mut self) {
        if let Some(open) = self.functions.last() {
            self.out.functions[open.index].cyclomatic += 1;
        }
    }

    /// Adds the rows `first..=last` to the innermost function's NLOC, each row once.
    fn count_lines(&mut self, first: usize, last: usize) {
        let Some(open) = self.functions.last_mut() else { return };
        let from = match open.last_line {
            Some(seen) if seen >= first => seen + 1,
            _ => first,
        };
        if last >= from {
            self.out.functions[open.index].nloc +=
                u32::try_from(last - from + 1).unwrap_or(u32::MAX);
            open.last_line = Some(last);
        }
    }

    fn open_function(&mut self, node: Node<'_>, parent: Option<Node<'_>>) {
        // The line that opens a nested function also belongs to the enclosing one (lizard
        // gives the `def`/`function` keyword to the outer function).
        let row = node.start_position().row;
        self.count_lines(row, row);
        let function = FunctionReport {
            name: crate::names::function_name(node, parent, self.source),
            class: self.type_names.last().cloned(),
            start_line: line_of(node.start_position().row),
            end_line: line_of(node.end_position().row),
            parameters: crate::names::parameter_count(node, self.profile),
            nloc: 0,
            cyclomatic: 1,
            cognitive: self.profile.cognitive.map(|_| 0),
            max_nesting: 0,
        };
        self.functions.push(OpenFunction {
            index: self.out.functions.len(),
            depth: 0,
            cognitive_depth: 0,
            recursed: false,
            last_line: None,
        });
        self.out.functions.push(function);
    }

    fn open_type(&mut self, node: Node<'_>) {
        let name =
            crate::names::declared_name(node, self.source).unwrap_or_else(|| "(anonymous)".into());
        self.type_names.push(name.clone());
        self.out.types.push(TypeDecl {
            name,
            kind: node.kind().to_owned(),
            start_line: line_of(node.start_position().row),
            end_line: line_of(node.end_position().row),
        });
    }

    fn nest(&mut self) {
        if let Some(open) = self.functions.last_mut() {
            open.depth += 1;
            let function = &mut self.out.functions[open.index];
            function.max_nesting = function.max_nesting.max(open.depth);
        }
    }

    fn import(&mut self, node: Node<'_>) {
        let text = String::from_utf8_lossy(&self.source[node.byte_range()]);
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let text = text.chars().take(MAX_IMPORT_CHARS).collect();
        self.out.imports.push(Import { line: line_of(node.start_position().row), text });
    }

    fn syntax_error(&mut self, node: Node<'_>) {
        if self.out.syntax_errors.len() >= MAX_SYNTAX_ERRORS {
            return;
        }
        let position = node.start_position();
        let missing = node.is_missing();
        self.out.syntax_errors.push(SyntaxError {
            line: line_of(position.row),
            column: u32::try_from(position.column + 1).unwrap_or(u32::MAX),
            kind: if missing { "missing" } else { "error" }.to_owned(),
            expected: missing.then(|| node.kind().to_owned()),
        });
    }

    fn finish(mut self, total: usize) -> Walked {
        let mut lines =
            LineCounts { total: u32::try_from(total).unwrap_or(u32::MAX), ..LineCounts::default() };
        for (code, comment) in self.code_lines.iter().zip(&self.comment_lines) {
            match (code, comment) {
                (true, _) => lines.code += 1,
                (false, true) => lines.comment += 1,
                (false, false) => {}
            }
        }
        lines.blank = lines.total - lines.code - lines.comment;
        self.out.lines = lines;
        self.out.halstead = self.halstead.measures();
        self.out
    }
}

/// `"""…"""` or `'''…'''`, after any `r`, `u`, `b` or `f` prefix.
fn is_triple_quoted(literal: &[u8]) -> bool {
    let body = literal.trim_ascii_start();
    let body = &body[body.iter().take_while(|b| b.is_ascii_alphabetic()).count()..];
    body.starts_with(b"\"\"\"") || body.starts_with(b"'''")
}

/// An `if` that is the `else` of another (`else if`): the same level, not a deeper one.
fn is_else_if(node: Node<'_>, parent: Option<Node<'_>>) -> bool {
    parent.is_some_and(|p| p.kind_id() == node.kind_id() || p.kind() == "else_clause")
}

/// Marks every line the node spans.
fn mark(lines: &mut [bool], node: Node<'_>) {
    let end = node.end_position();
    mark_rows(lines, node.start_position().row, end.row, end.column);
}

/// Marks rows `first..=last`; a span ending at column 0 ends on the row before (its newline).
fn mark_rows(lines: &mut [bool], first: usize, last: usize, last_column: usize) {
    let last = if last_column == 0 && last > first { last - 1 } else { last };
    for flag in lines.iter_mut().take(last + 1).skip(first) {
        *flag = true;
    }
}

/// The hash that tells token texts apart.
fn hash_of(text: &[u8]) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(text)
}

/// Tree-sitter rows start at 0; reports count lines from 1.
fn line_of(row: usize) -> u32 {
    u32::try_from(row + 1).unwrap_or(u32::MAX)
}
