//! The languages the analyzer knows: how each is recognised (extension, file name, shebang)
//! and which tree-sitter grammar parses it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! languages {
    ($(
        $variant:ident {
            id: $id:literal,
            name: $name:literal,
            extensions: [$($ext:literal),* $(,)?],
            file_names: [$($file:literal),* $(,)?],
            interpreters: [$($interp:literal),* $(,)?],
            grammar: $grammar:expr $(,)?
        }
    ),* $(,)?) => {
        /// A language with a grammar compiled in.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Language {
            $($variant),*
        }

        impl Language {
            /// Every language, in a stable order.
            pub const ALL: &'static [Language] = &[$(Language::$variant),*];

            /// The stable identifier used on the command line and in reports (`python`, `tsx`).
            pub fn id(self) -> &'static str {
                match self { $(Language::$variant => $id),* }
            }

            /// The name people use (`Python`, `TSX`).
            pub fn name(self) -> &'static str {
                match self { $(Language::$variant => $name),* }
            }

            /// File extensions, lower case, without the dot.
            pub fn extensions(self) -> &'static [&'static str] {
                match self { $(Language::$variant => &[$($ext),*]),* }
            }

            /// Whole file names that identify the language (`Makefile`-style).
            pub fn file_names(self) -> &'static [&'static str] {
                match self { $(Language::$variant => &[$($file),*]),* }
            }

            /// Interpreters named on a `#!` line.
            pub fn interpreters(self) -> &'static [&'static str] {
                match self { $(Language::$variant => &[$($interp),*]),* }
            }

            /// The tree-sitter grammar.
            pub fn grammar(self) -> tree_sitter::Language {
                match self { $(Language::$variant => tree_sitter::Language::new($grammar)),* }
            }
        }
    };
}

languages! {
    Bash { id: "bash", name: "Bash", extensions: ["sh", "bash"], file_names: [".bashrc", ".bash_profile"], interpreters: ["sh", "bash", "dash", "ksh"], grammar: tree_sitter_bash::LANGUAGE },
    C { id: "c", name: "C", extensions: ["c", "h"], file_names: [], interpreters: [], grammar: tree_sitter_c::LANGUAGE },
    CSharp { id: "csharp", name: "C#", extensions: ["cs"], file_names: [], interpreters: [], grammar: tree_sitter_c_sharp::LANGUAGE },
    Cpp { id: "cpp", name: "C++", extensions: ["cc", "cpp", "cxx", "c++", "hh", "hpp", "hxx", "h++", "ipp"], file_names: [], interpreters: [], grammar: tree_sitter_cpp::LANGUAGE },
    Css { id: "css", name: "CSS", extensions: ["css"], file_names: [], interpreters: [], grammar: tree_sitter_css::LANGUAGE },
    Dart { id: "dart", name: "Dart", extensions: ["dart"], file_names: [], interpreters: ["dart"], grammar: tree_sitter_dart::LANGUAGE },
    Elixir { id: "elixir", name: "Elixir", extensions: ["ex", "exs"], file_names: ["mix.lock"], interpreters: ["elixir"], grammar: tree_sitter_elixir::LANGUAGE },
    Go { id: "go", name: "Go", extensions: ["go"], file_names: [], interpreters: [], grammar: tree_sitter_go::LANGUAGE },
    Haskell { id: "haskell", name: "Haskell", extensions: ["hs", "lhs"], file_names: [], interpreters: ["runhaskell", "runghc"], grammar: tree_sitter_haskell::LANGUAGE },
    Html { id: "html", name: "HTML", extensions: ["html", "htm", "xhtml"], file_names: [], interpreters: [], grammar: tree_sitter_html::LANGUAGE },
    Java { id: "java", name: "Java", extensions: ["java"], file_names: [], interpreters: [], grammar: tree_sitter_java::LANGUAGE },
    JavaScript { id: "javascript", name: "JavaScript", extensions: ["js", "mjs", "cjs", "jsx"], file_names: [], interpreters: ["node", "nodejs", "deno", "bun"], grammar: tree_sitter_javascript::LANGUAGE },
    Json { id: "json", name: "JSON", extensions: ["json", "jsonc", "json5"], file_names: [".babelrc", ".eslintrc"], interpreters: [], grammar: tree_sitter_json::LANGUAGE },
    Kotlin { id: "kotlin", name: "Kotlin", extensions: ["kt", "kts"], file_names: [], interpreters: [], grammar: tree_sitter_kotlin_ng::LANGUAGE },
    Lua { id: "lua", name: "Lua", extensions: ["lua"], file_names: [], interpreters: ["lua", "luajit"], grammar: tree_sitter_lua::LANGUAGE },
    OCaml { id: "ocaml", name: "OCaml", extensions: ["ml"], file_names: [], interpreters: ["ocaml"], grammar: tree_sitter_ocaml::LANGUAGE_OCAML },
    Php { id: "php", name: "PHP", extensions: ["php", "phtml", "php5", "php7", "php8"], file_names: [], interpreters: ["php"], grammar: tree_sitter_php::LANGUAGE_PHP },
    Python { id: "python", name: "Python", extensions: ["py", "pyw", "pyi"], file_names: ["SConstruct", "SConscript"], interpreters: ["python", "python2", "python3", "pypy", "pypy3"], grammar: tree_sitter_python::LANGUAGE },
    R { id: "r", name: "R", extensions: ["r"], file_names: [".Rprofile"], interpreters: ["Rscript"], grammar: tree_sitter_r::LANGUAGE },
    Ruby { id: "ruby", name: "Ruby", extensions: ["rb", "rake", "gemspec", "ru"], file_names: ["Rakefile", "Gemfile", "Vagrantfile"], interpreters: ["ruby"], grammar: tree_sitter_ruby::LANGUAGE },
    Rust { id: "rust", name: "Rust", extensions: ["rs"], file_names: [], interpreters: [], grammar: tree_sitter_rust::LANGUAGE },
    Scala { id: "scala", name: "Scala", extensions: ["scala", "sc", "sbt"], file_names: [], interpreters: ["scala"], grammar: tree_sitter_scala::LANGUAGE },
    Sql { id: "sql", name: "SQL", extensions: ["sql"], file_names: [], interpreters: [], grammar: tree_sitter_sequel::LANGUAGE },
    Swift { id: "swift", name: "Swift", extensions: ["swift"], file_names: [], interpreters: ["swift"], grammar: tree_sitter_swift::LANGUAGE },
    Toml { id: "toml", name: "TOML", extensions: ["toml"], file_names: ["Cargo.lock", "Pipfile", "poetry.lock"], interpreters: [], grammar: tree_sitter_toml_ng::LANGUAGE },
    Tsx { id: "tsx", name: "TSX", extensions: ["tsx"], file_names: [], interpreters: [], grammar: tree_sitter_typescript::LANGUAGE_TSX },
    TypeScript { id: "typescript", name: "TypeScript", extensions: ["ts", "mts", "cts"], file_names: [], interpreters: ["ts-node", "tsx"], grammar: tree_sitter_typescript::LANGUAGE_TYPESCRIPT },
    Yaml { id: "yaml", name: "YAML", extensions: ["yaml", "yml"], file_names: [".clang-format"], interpreters: [], grammar: tree_sitter_yaml::LANGUAGE },
    Zig { id: "zig", name: "Zig", extensions: ["zig", "zon"], file_names: [], interpreters: [], grammar: tree_sitter_zig::LANGUAGE },
}

impl Language {
    /// Recognises a file by its name, then by its extension, then by a `#!` first line.
    pub fn detect(path: &str, head: &[u8]) -> Option<Language> {
        let file_name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        if let Some(language) = Self::ALL.iter().find(|l| l.file_names().contains(&file_name)) {
            return Some(*language);
        }
        if let Some((_, extension)) = file_name.rsplit_once('.') {
            let extension = extension.to_ascii_lowercase();
            if let Some(language) =
                Self::ALL.iter().find(|l| l.extensions().contains(&extension.as_str()))
            {
                return Some(*language);
            }
        }
        Self::from_shebang(head)
    }

    /// The language named by a `#!/usr/bin/env python3`-style first line.
    pub fn from_shebang(head: &[u8]) -> Option<Language> {
        let line = head.strip_prefix(b"#!")?;
        let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
        let line = std::str::from_utf8(line).ok()?;
        let mut words = line.split_whitespace();
        let mut program = words.next()?.rsplit('/').next()?;
        if program == "env" {
            program = words.find(|w| !w.starts_with('-'))?;
        }
        // `python3.11` → `python3`, then `python`.
        let trimmed = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        Self::ALL
            .iter()
            .copied()
            .find(|l| l.interpreters().iter().any(|i| *i == program || *i == trimmed))
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text was not one of the language identifiers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language `{0}`")]
pub struct UnknownLanguage(pub String);

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.to_ascii_lowercase();
        let alias = match wanted.as_str() {
            "js" => "javascript",
            "ts" => "typescript",
            "py" => "python",
            "rs" => "rust",
            "c++" => "cpp",
            "c#" | "cs" => "csharp",
            "sh" => "bash",
            "rb" => "ruby",
            "kt" => "kotlin",
            other => other,
        };
        Self::ALL
            .iter()
            .copied()
            .find(|l| l.id() == alias)
            .ok_or_else(|| UnknownLanguage(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grammar_loads_and_parses_without_errors() {
        assert!(Language::ALL.len() >= 29, "{} languages", Language::ALL.len());
        for language in Language::ALL {
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&language.grammar()).unwrap_or_else(|e| panic!("{language}: {e}"));
            let tree = parser.parse("", None).expect("parse");
            assert!(!tree.root_node().has_error(), "{language}");
        }
    }

    #[test]
    fn detection_by_name_extension_and_shebang() {
        let cases: &[(&str, &[u8], Option<Language>)] = &[
            ("src/main.rs", b"", Some(Language::Rust)),
            ("app/component.TSX", b"", Some(Language::Tsx)),
            ("lib/x.d.ts", b"", Some(Language::TypeScript)),
            ("Rakefile", b"", Some(Language::Ruby)),
            ("dir\\Cargo.lock", b"", Some(Language::Toml)),
            ("bin/tool", b"#!/usr/bin/env python3\nprint(1)", Some(Language::Python)),
            ("bin/tool", b"#!/usr/bin/python3.11 -u\n", Some(Language::Python)),
            ("bin/tool", b"#!/bin/sh\n", Some(Language::Bash)),
            ("bin/tool", b"#!/usr/bin/env -S node --harmony\n", Some(Language::JavaScript)),
            ("bin/tool", b"no shebang", None),
            ("README", b"", None),
            ("image.png", b"\x89PNG", None),
        ];
        for (path, head, expected) in cases {
            assert_eq!(Language::detect(path, head), *expected, "{path}");
        }
    }

    #[test]
    fn ids_parse_back_with_aliases() {
        for language in Language::ALL {
            assert_eq!(language.id().parse::<Language>(), Ok(*language));
        }
        assert_eq!("TS".parse::<Language>(), Ok(Language::TypeScript));
        assert_eq!("c++".parse::<Language>(), Ok(Language::Cpp));
        assert!("cobol".parse::<Language>().is_err());
    }
}
