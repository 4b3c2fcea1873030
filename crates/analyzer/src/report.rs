//! What the analysis of one file says. This is the stable JSON schema of the CLI and the API:
//! fields are added, never renamed or removed.

use serde::{Deserialize, Serialize};

use crate::Language;
use crate::findings::Finding;
use crate::halstead::Halstead;

/// Everything measured in one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    pub path: String,
    pub language: Language,
    pub lines: LineCounts,
    pub halstead: Halstead,
    /// 0 (unmaintainable) to 100, as radon computes it; see [`crate::maintainability_index`].
    pub maintainability: f64,
    /// `ERROR` and `MISSING` nodes, at most [`crate::MAX_SYNTAX_ERRORS`] of them.
    pub syntax_errors: Vec<SyntaxError>,
    pub imports: Vec<Import>,
    pub types: Vec<TypeDecl>,
    pub functions: Vec<FunctionReport>,
    /// Security and quality findings, in the order of the file.
    pub findings: Vec<Finding>,
}

/// Lines of a file. `code` lines hold at least one token that is not a comment; `comment`
/// lines hold comments only; `blank` lines hold only white space.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineCounts {
    pub total: u32,
    pub code: u32,
    pub comment: u32,
    pub blank: u32,
}

impl std::ops::AddAssign for LineCounts {
    fn add_assign(&mut self, other: Self) {
        self.total += other.total;
        self.code += other.code;
        self.comment += other.comment;
        self.blank += other.blank;
    }
}

/// A place where the parser found text it could not fit the grammar (`error`) or inserted a
/// token that was absent (`missing`). Lines and columns start at 1; columns count bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    /// `error` or `missing`.
    pub kind: String,
    /// For `missing`, the token the parser expected.
    pub expected: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    pub line: u32,
    /// The import statement, on one line, at most 200 characters.
    pub text: String,
}

/// A class, struct, trait, interface or similar declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeDecl {
    pub name: String,
    /// The grammar's node kind, such as `class_definition` or `struct_item`.
    pub kind: String,
    pub start_line: u32,
    pub end_line: u32,
}

/// One function or method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionReport {
    /// The bare name; `(anonymous)` for unnamed functions.
    pub name: String,
    /// The innermost enclosing type, for methods.
    pub class: Option<String>,
    pub start_line: u32,
    pub end_line: u32,
    pub parameters: u32,
    /// Lines holding code tokens of this function (not of functions nested in it).
    pub nloc: u32,
    /// McCabe's number as lizard counts it: 1 plus one per decision token.
    pub cyclomatic: u32,
    /// SonarSource's cognitive complexity, as lizard's `-Ecognitive` counts it; absent for
    /// languages without cognitive rules yet.
    pub cognitive: Option<u32>,
    /// The deepest nesting of control structures inside the function.
    pub max_nesting: u32,
}
