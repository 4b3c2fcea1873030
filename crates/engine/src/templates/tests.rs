//! Rendered projects: every file present for every stack, every source file free of syntax
//! errors and of high-severity findings, hostile names kept safe.

use super::*;
use crate::spec::extract;

pub(crate) const EXAMPLES: &[&str] = &[
    "A library where members borrow books. Books have a title, an author, an ISBN and a published year. Members have a name and an email. A loan links a member to a book, with a due date and a returned flag.",
    "A todo app: todos have a title, optional notes, a due date and a done flag. Todos belong to projects, which have a name.",
    "Track expenses: each expense has an amount, a currency (one of EUR, USD or GBP), a date, a category and an optional description.",
];

/// Names that are reserved words, or hold quotes, braces or SQL, in the target languages.
pub(crate) const HOSTILE: &str = "Classes have a type, a \"quoted\" name, a {braced} value, a select, a from, an import, a def and a `drop table users;--` note. Selects have a where and a json. Imports have a lambda. Dates have a constructor, a prototype and a function. Objects have a date, a this and an export.";

fn rendered_in(stack: Stack, description: &str) -> Vec<GeneratedFile> {
    let spec = extract(description).unwrap_or_else(|error| panic!("{error}")).spec;
    render(&spec, stack).unwrap_or_else(|error| panic!("{error}"))
}

fn rendered(description: &str) -> Vec<GeneratedFile> {
    rendered_in(Stack::PythonFastapi, description)
}

/// Every file the analyzer reads parses cleanly and has no high-severity finding.
fn check_sources(files: &[GeneratedFile]) {
    let options = ql_analyzer::Options::default();
    for file in files
        .iter()
        .filter(|file| [".py", ".ts", ".rs"].iter().any(|extension| file.path.ends_with(extension)))
    {
        let report = ql_analyzer::analyze(&file.path, file.contents.as_bytes(), &options)
            .unwrap_or_else(|error| panic!("{}: {error}", file.path));
        assert!(
            report.syntax_errors.is_empty(),
            "{}: {:?}\n{}",
            file.path,
            report.syntax_errors,
            file.contents
        );
        let high: Vec<_> = report
            .findings
            .iter()
            .filter(|finding| finding.severity == ql_analyzer::Severity::High)
            .collect();
        assert!(high.is_empty(), "{}: {high:?}", file.path);
    }
}

fn paths(files: &[GeneratedFile]) -> Vec<&str> {
    files.iter().map(|file| file.path.as_str()).collect()
}

fn contents<'a>(files: &'a [GeneratedFile], path: &str) -> &'a str {
    files
        .iter()
        .find(|file| file.path == path)
        .map(|file| file.contents.as_str())
        .unwrap_or_else(|| panic!("{path} missing from {:?}", paths(files)))
}

#[test]
fn the_examples_render_complete_projects_in_every_stack() {
    let expected: &[(Stack, &[&str])] = &[
        (
            Stack::PythonFastapi,
            &[
                "README.md",
                "requirements.txt",
                "Dockerfile",
                ".gitignore",
                "app/main.py",
                "app/models.py",
                "tests/conftest.py",
            ],
        ),
        (
            Stack::TypescriptExpress,
            &[
                "README.md",
                "package.json",
                "package-lock.json",
                "tsconfig.json",
                "Dockerfile",
                ".gitignore",
                "src/app.ts",
                "src/server.ts",
                "src/openapi.ts",
                "tests/helpers.ts",
                "tests/app.test.ts",
            ],
        ),
        (
            Stack::RustAxum,
            &[
                "README.md",
                "Cargo.toml",
                "Cargo.lock",
                "Dockerfile",
                ".gitignore",
                "src/main.rs",
                "src/lib.rs",
                "src/openapi.rs",
                "tests/common/mod.rs",
                "tests/app.rs",
            ],
        ),
    ];
    for (stack, files_expected) in expected {
        for description in EXAMPLES {
            let files = rendered_in(*stack, description);
            for path in *files_expected {
                assert!(paths(&files).contains(path), "{path} missing from {:?}", paths(&files));
            }
            // Rust's format strings have `{{`, never `{{ ` as every template writes it.
            assert!(
                files
                    .iter()
                    .all(|file| !file.contents.contains("{{ ") && !file.contents.contains("{%")),
                "a template tag leaked"
            );
            check_sources(&files);
        }
    }
    let library = rendered(EXAMPLES[0]);
    for entity in ["members", "books", "loans"] {
        assert!(paths(&library).contains(&format!("app/routes/{entity}_routes.py").as_str()));
        assert!(paths(&library).contains(&format!("tests/test_{entity}.py").as_str()));
    }
    let requirements = contents(&library, "requirements.txt");
    assert!(requirements.lines().all(|line| line.contains("==")), "every dependency is pinned");

    let library = rendered_in(Stack::TypescriptExpress, EXAMPLES[0]);
    for entity in ["members", "books", "loans"] {
        assert!(paths(&library).contains(&format!("src/entities/{entity}.ts").as_str()));
        assert!(paths(&library).contains(&format!("tests/{entity}.test.ts").as_str()));
    }
}

#[test]
fn the_package_json_pins_exactly_what_the_lock_holds() {
    let files = rendered_in(Stack::TypescriptExpress, EXAMPLES[1]);
    let manifest: serde_json::Value = serde_json::from_str(contents(&files, "package.json"))
        .unwrap_or_else(|error| panic!("{error}"));
    let lock: serde_json::Value = serde_json::from_str(contents(&files, "package-lock.json"))
        .unwrap_or_else(|error| panic!("{error}"));
    let name = extract(EXAMPLES[1]).unwrap_or_else(|error| panic!("{error}")).spec.name;
    assert_eq!(manifest["name"], name.replace('_', "-"));
    assert_eq!(lock["name"], manifest["name"]);
    for kind in ["dependencies", "devDependencies"] {
        assert_eq!(manifest[kind], lock["packages"][""][kind], "{kind}");
        for (name, version) in manifest[kind].as_object().into_iter().flatten() {
            let version = version.as_str().unwrap_or_default();
            assert!(version.chars().all(|c| c.is_ascii_digit() || c == '.'), "{name} {version}");
        }
    }
    assert_eq!(manifest["dependencies"]["better-sqlite3"].as_str().map(|v| &v[..3]), Some("12."));
    crate::deps::check(Stack::TypescriptExpress, &files).unwrap_or_else(|error| panic!("{error}"));
}

#[test]
fn reserved_words_quotes_braces_and_sql_in_names_stay_safe() {
    let files = rendered(HOSTILE);
    check_sources(&files);
    let models = contents(&files, "app/models.py");
    assert!(
        models
            .contains("type_: Annotated[StrictStr, Field(max_length=255)] = Field(alias=\"type\")"),
        "{models}"
    );
    assert!(models.contains("from_:"), "{models}");
    assert!(!models.contains("drop table"), "{models}");

    let files = rendered_in(Stack::TypescriptExpress, HOSTILE);
    check_sources(&files);
    let helpers = contents(&files, "tests/helpers.ts");
    // Entity names never become bare identifiers that shadow JavaScript's globals.
    assert!(helpers.contains("export async function createDate("), "{helpers}");
    assert!(!helpers.contains("function Date"), "{helpers}");
    let entities = contents(&files, "src/entities/index.ts");
    assert!(entities.contains("datesEntity"), "{entities}");
    // The SQL in a name only ever appears inside a string (the summary, a sample value).
    for file in files
        .iter()
        .filter(|file| file.path.starts_with("src/entities/") || file.path == "src/db.ts")
    {
        assert!(!file.contents.contains("drop table"), "{}", file.path);
    }
}

#[test]
fn rendering_is_deterministic() {
    for stack in Stack::ALL {
        assert_eq!(rendered_in(*stack, EXAMPLES[1]), rendered_in(*stack, EXAMPLES[1]));
    }
}

/// The modules of a plan, rendered one at a time, give exactly the whole project, for every
/// stack and example; an unknown module is refused.
#[test]
fn modules_rendered_apart_make_the_whole_project() {
    for stack in Stack::ALL {
        for description in EXAMPLES.iter().chain([&HOSTILE]) {
            let spec = extract(description).unwrap_or_else(|error| panic!("{error}")).spec;
            let whole = render(&spec, *stack).unwrap_or_else(|error| panic!("{error}"));
            let modules = plan(&spec, *stack).unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(modules[0].name, SHARED_MODULE);
            assert_eq!(modules.len(), spec.entities.len() + 1, "{stack:?}");
            let mut parts = Vec::new();
            for module in &modules {
                let files = render_module(&spec, *stack, &module.name)
                    .unwrap_or_else(|error| panic!("{}: {error}", module.name));
                assert_eq!(paths(&files), module.paths, "{stack:?} {}", module.name);
                parts.extend(files);
            }
            parts.sort_by(|a, b| a.path.cmp(&b.path));
            assert_eq!(parts, whole, "{stack:?}");
            for unknown in ["entity:nothing", "everything", ""] {
                assert!(render_module(&spec, *stack, unknown).is_err(), "{unknown}");
            }
        }
    }
}
