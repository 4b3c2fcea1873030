//! Rendered projects: every file present, every Python file free of syntax errors and of
//! high-severity findings, hostile names kept safe.

use super::*;
use crate::spec::extract;

pub(crate) const EXAMPLES: &[&str] = &[
    "A library where members borrow books. Books have a title, an author, an ISBN and a published year. Members have a name and an email. A loan links a member to a book, with a due date and a returned flag.",
    "A todo app: todos have a title, optional notes, a due date and a done flag. Todos belong to projects, which have a name.",
    "Track expenses: each expense has an amount, a currency (one of EUR, USD or GBP), a date, a category and an optional description.",
];

fn rendered(description: &str) -> Vec<GeneratedFile> {
    let spec = extract(description).unwrap_or_else(|error| panic!("{error}")).spec;
    render(&spec, Stack::PythonFastapi).unwrap_or_else(|error| panic!("{error}"))
}

fn check_python(files: &[GeneratedFile]) {
    let options = ql_analyzer::Options::default();
    for file in files.iter().filter(|file| file.path.ends_with(".py")) {
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

#[test]
fn the_examples_render_complete_projects() {
    for description in EXAMPLES {
        let files = rendered(description);
        let paths: Vec<&str> = files.iter().map(|file| file.path.as_str()).collect();
        for expected in [
            "README.md",
            "requirements.txt",
            "Dockerfile",
            ".gitignore",
            "app/main.py",
            "app/models.py",
            "tests/conftest.py",
        ] {
            assert!(paths.contains(&expected), "{expected} missing from {paths:?}");
        }
        assert!(
            files.iter().all(|file| !file.contents.contains("{{") && !file.contents.contains("{%")),
            "a template tag leaked"
        );
        check_python(&files);
    }
    let library = rendered(EXAMPLES[0]);
    let paths: Vec<&str> = library.iter().map(|file| file.path.as_str()).collect();
    for entity in ["members", "books", "loans"] {
        assert!(paths.contains(&format!("app/routes/{entity}_routes.py").as_str()));
        assert!(paths.contains(&format!("tests/test_{entity}.py").as_str()));
    }
    let requirements = &library
        .iter()
        .find(|file| file.path == "requirements.txt")
        .map(|file| file.contents.clone())
        .unwrap_or_default();
    assert!(requirements.lines().all(|line| line.contains("==")), "every dependency is pinned");
}

#[test]
fn reserved_words_quotes_braces_and_sql_in_names_stay_safe() {
    let files = rendered(
        "Classes have a type, a \"quoted\" name, a {braced} value, a select, a from, an import, a def and a `drop table users;--` note. Selects have a where and a json. Imports have a lambda.",
    );
    check_python(&files);
    let models = files
        .iter()
        .find(|file| file.path == "app/models.py")
        .map(|file| file.contents.clone())
        .unwrap_or_default();
    assert!(
        models
            .contains("type_: Annotated[StrictStr, Field(max_length=255)] = Field(alias=\"type\")"),
        "{models}"
    );
    assert!(models.contains("from_:"), "{models}");
    assert!(!models.contains("drop table"), "{models}");
}

#[test]
fn rendering_is_deterministic() {
    assert_eq!(rendered(EXAMPLES[1]), rendered(EXAMPLES[1]));
}
