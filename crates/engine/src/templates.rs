//! Offline generation: a spec rendered through a stack's minijinja templates into a complete
//! project (code, tests, README, pinned dependencies, Dockerfile). Pure: text in, files out.

mod view;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, context};

use crate::EngineError;
use crate::spec::AppSpec;
use crate::stacks::Stack;

pub use view::{MAX_STRING, MAX_TEXT, ProjectView, camel, lower_camel, python_string};

/// One file of a generated project.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GeneratedFile {
    /// Relative, with `/` separators.
    pub path: String,
    pub contents: String,
}

/// A template: its name, and the path it renders to (`{plural}` for one file per entity).
struct Template {
    name: &'static str,
    source: &'static str,
    path: &'static str,
}

macro_rules! templates {
    ($stack:literal: $($path:literal),* $(,)?) => {
        &[$(Template {
            name: $path,
            source: include_str!(concat!("../templates/", $stack, "/", $path, ".j2")),
            path: $path,
        }),*]
    };
}

const PYTHON_FASTAPI: &[Template] = templates!("python-fastapi":
    "README.md",
    "requirements.txt",
    "pyproject.toml",
    "Dockerfile",
    ".gitignore",
    ".dockerignore",
    "app/__init__.py",
    "app/__main__.py",
    "app/main.py",
    "app/db.py",
    "app/models.py",
    "app/routes/__init__.py",
    "app/routes/{plural}_routes.py",
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/test_app.py",
    "tests/test_{plural}.py",
);

const TYPESCRIPT_EXPRESS: &[Template] = templates!("typescript-express":
    "README.md",
    "package.json",
    "tsconfig.json",
    "Dockerfile",
    ".gitignore",
    ".dockerignore",
    "src/server.ts",
    "src/app.ts",
    "src/db.ts",
    "src/errors.ts",
    "src/fields.ts",
    "src/openapi.ts",
    "src/resource.ts",
    "src/entities/index.ts",
    "src/entities/{plural}.ts",
    "tests/helpers.ts",
    "tests/app.test.ts",
    "tests/fields.test.ts",
    "tests/{plural}.test.ts",
);

const RUST_AXUM: &[Template] = templates!("rust-axum":
    "README.md",
    "Cargo.toml",
    "Dockerfile",
    ".gitignore",
    ".dockerignore",
    "src/main.rs",
    "src/lib.rs",
    "src/db.rs",
    "src/error.rs",
    "src/fields.rs",
    "src/openapi.rs",
    "src/resource.rs",
    "src/entities/mod.rs",
    "src/entities/{plural}.rs",
    "tests/common/mod.rs",
    "tests/app.rs",
    "tests/{plural}.rs",
);

fn templates(stack: Stack) -> &'static [Template] {
    match stack {
        Stack::PythonFastapi => PYTHON_FASTAPI,
        Stack::TypescriptExpress => TYPESCRIPT_EXPRESS,
        Stack::RustAxum => RUST_AXUM,
    }
}

/// The module every project has: the files shared by all entities, and the locked manifests.
pub const SHARED_MODULE: &str = "shared";

/// A unit of work for one coder: the shared files, or the files of one entity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Module {
    /// [`SHARED_MODULE`] or `entity:<plural>`.
    pub name: String,
    /// The paths the module writes, sorted.
    pub paths: Vec<String>,
}

/// Splits the project for `spec` in `stack` into modules, each of which renders on its own:
/// the shared files first, then one module per entity in dependency order.
pub fn plan(spec: &AppSpec, stack: Stack) -> Result<Vec<Module>, EngineError> {
    spec.check()?;
    let project = view::project(spec);
    let mut shared: Vec<String> = templates(stack)
        .iter()
        .filter(|template| !template.path.contains("{plural}"))
        .map(|template| template.path.to_owned())
        .collect();
    shared.extend(crate::deps::locked_manifest_paths(stack));
    shared.sort();
    let mut modules = vec![Module { name: SHARED_MODULE.to_owned(), paths: shared }];
    for entity in &project.entities {
        let mut paths: Vec<String> = templates(stack)
            .iter()
            .filter(|template| template.path.contains("{plural}"))
            .map(|template| template.path.replace("{plural}", &entity.plural))
            .collect();
        paths.sort();
        modules.push(Module { name: format!("entity:{}", entity.plural), paths });
    }
    Ok(modules)
}

/// Renders the project for `spec` in `stack`, files sorted by path.
pub fn render(spec: &AppSpec, stack: Stack) -> Result<Vec<GeneratedFile>, EngineError> {
    render_selected(spec, stack, None)
}

/// Renders one module of [`plan`]'s, files sorted by path.
pub fn render_module(
    spec: &AppSpec,
    stack: Stack,
    module: &str,
) -> Result<Vec<GeneratedFile>, EngineError> {
    render_selected(spec, stack, Some(module))
}

fn render_selected(
    spec: &AppSpec,
    stack: Stack,
    module: Option<&str>,
) -> Result<Vec<GeneratedFile>, EngineError> {
    spec.check()?;
    let project = view::project(spec);
    let wanted_entity = match module {
        None => None,
        Some(SHARED_MODULE) => Some(None),
        Some(name) => {
            let plural = name
                .strip_prefix("entity:")
                .filter(|plural| project.entities.iter().any(|entity| entity.plural == *plural));
            match plural {
                Some(plural) => Some(Some(plural)),
                None => return Err(EngineError::Template(format!("no module is named {name:?}"))),
            }
        }
    };
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    // Templates say how each value is quoted; nothing is escaped behind their back (minijinja
    // would otherwise JSON-escape every value in `package.json`).
    environment.set_auto_escape_callback(|_| AutoEscape::None);
    environment.set_trim_blocks(true);
    environment.set_lstrip_blocks(true);
    environment.set_keep_trailing_newline(true);
    environment.add_filter("py_string", |text: String| python_string(&text));
    environment.add_filter("camel", |text: String| camel(&text));
    // Rust's string literal of any text (its `Debug` form).
    environment.add_filter("rs_string", |text: String| format!("{text:?}"));
    environment.add_filter("lower_camel", |text: String| lower_camel(&text));
    for template in templates(stack) {
        environment
            .add_template(template.name, template.source)
            .map_err(|error| EngineError::Template(format!("{}: {error}", template.name)))?;
    }
    let mut files = Vec::new();
    for template in templates(stack) {
        let per_entity = template.path.contains("{plural}");
        match wanted_entity {
            Some(None) if per_entity => continue,
            Some(Some(_)) if !per_entity => continue,
            _ => {}
        }
        let compiled = environment
            .get_template(template.name)
            .map_err(|error| EngineError::Template(format!("{}: {error}", template.name)))?;
        let render_error = |error: minijinja::Error| {
            EngineError::Template(format!("{}: {error:#}", template.name))
        };
        if per_entity {
            for entity in &project.entities {
                if wanted_entity.is_some_and(|wanted| wanted != Some(entity.plural.as_str())) {
                    continue;
                }
                let contents = compiled
                    .render(context! { project => &project, entity => entity })
                    .map_err(render_error)?;
                files.push(GeneratedFile {
                    path: template.path.replace("{plural}", &entity.plural),
                    contents,
                });
            }
        } else {
            let contents =
                compiled.render(context! { project => &project }).map_err(render_error)?;
            files.push(GeneratedFile { path: template.path.to_owned(), contents });
        }
    }
    if matches!(wanted_entity, None | Some(None)) {
        files.extend(crate::deps::locked_manifests(stack, &project.name)?);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

#[cfg(test)]
pub(crate) mod tests;
