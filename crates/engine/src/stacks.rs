//! The stacks a project can be generated in, with how each installs, tests and runs.

use crate::EngineError;

/// A target stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stack {
    /// FastAPI, pydantic, SQLite, pytest with coverage.
    PythonFastapi,
    /// Node 20, TypeScript, Express 5, better-sqlite3, node:test with coverage.
    TypescriptExpress,
    /// axum and sqlx over SQLite on tokio, `cargo test` with coverage.
    RustAxum,
}

/// How to install, test and run a generated project, from its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackCommands {
    pub install: &'static str,
    pub test: &'static str,
    pub run: &'static str,
}

/// The port every generated app listens on unless `PORT` says otherwise.
pub const DEFAULT_PORT: u16 = 8000;

impl Stack {
    /// Every stack, in the order the UI offers them.
    pub const ALL: &'static [Stack] =
        &[Stack::PythonFastapi, Stack::TypescriptExpress, Stack::RustAxum];

    /// The stack's id (`python-fastapi`).
    pub fn id(self) -> &'static str {
        match self {
            Self::PythonFastapi => "python-fastapi",
            Self::TypescriptExpress => "typescript-express",
            Self::RustAxum => "rust-axum",
        }
    }

    /// The stack's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::PythonFastapi => "Python · FastAPI · SQLite · pytest",
            Self::TypescriptExpress => "TypeScript · Express · better-sqlite3 · node:test",
            Self::RustAxum => "Rust · axum · sqlx · SQLite · cargo test",
        }
    }

    /// The stack with this id.
    pub fn parse(id: &str) -> Result<Self, EngineError> {
        Self::ALL.iter().copied().find(|stack| stack.id() == id).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|stack| stack.id()).collect();
            EngineError::UnknownStack { stack: id.to_owned(), known: known.join(", ") }
        })
    }

    pub fn commands(self) -> StackCommands {
        match self {
            Self::PythonFastapi => StackCommands {
                install: "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt",
                test: "python -m pytest",
                run: "python -m app",
            },
            Self::TypescriptExpress => StackCommands {
                install: "npm ci",
                test: "npm test",
                run: "npm run build && npm start",
            },
            Self::RustAxum => StackCommands {
                install: "cargo fetch",
                test: "cargo test",
                run: "cargo run --release",
            },
        }
    }
}
