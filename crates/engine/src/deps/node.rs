//! A typescript-express project's dependencies: its `package-lock.json` may only hold packages
//! of the stack's reference lock (same path, version and integrity hash), so nothing outside
//! that reviewed set is ever fetched. `npm ci` installs them from the registry with every
//! install script off; then the one native package, better-sqlite3, is compiled from its own
//! sources against the system's Node headers inside the sandbox (its usual script would fetch
//! a binary from GitHub instead, and its build files are code).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::EngineError;
use crate::templates::GeneratedFile;

/// The stack's reference lock: every package a project may install.
const REFERENCE_LOCK: &str = include_str!("../../templates/typescript-express/package-lock.json");

/// Packages with native code, built after the install.
const NATIVE: &[&str] = &["better-sqlite3"];

/// Largest lock file read.
const MAX_LOCK_BYTES: usize = 2 * 1024 * 1024;

fn refuse<T>(message: impl Into<String>) -> Result<T, EngineError> {
    Err(EngineError::Dependencies(message.into()))
}

fn reference() -> Result<Value, EngineError> {
    serde_json::from_str(REFERENCE_LOCK)
        .or_else(|error| refuse(format!("the reference lock is unreadable: {error}")))
}

/// The stack's lock file, named after the project.
pub(super) fn lock_for(project_name: &str) -> Result<GeneratedFile, EngineError> {
    let mut lock = reference()?;
    let name = Value::String(project_name.replace('_', "-"));
    lock["name"] = name.clone();
    lock["packages"][""]["name"] = name;
    let contents = serde_json::to_string_pretty(&lock)
        .or_else(|error| refuse(format!("the lock cannot be written: {error}")))?;
    Ok(GeneratedFile { path: "package-lock.json".into(), contents: contents + "\n" })
}

/// The project's lock, checked against the reference: what to install, as canonical JSON.
pub(super) fn canonical(files: &[GeneratedFile]) -> Result<String, EngineError> {
    let Some(lock) = files.iter().find(|file| file.path == "package-lock.json") else {
        return refuse("there is no package-lock.json");
    };
    if lock.contents.len() > MAX_LOCK_BYTES {
        return refuse(format!("package-lock.json is over {MAX_LOCK_BYTES} bytes"));
    }
    let lock: Value = serde_json::from_str(&lock.contents)
        .or_else(|error| refuse(format!("package-lock.json is not JSON: {error}")))?;
    if lock["lockfileVersion"] != json!(3) {
        return refuse("package-lock.json must have lockfileVersion 3");
    }
    let reference = reference()?;
    let Some(packages) = lock["packages"].as_object() else {
        return refuse("package-lock.json has no packages");
    };
    let mut checked = BTreeMap::new();
    for (path, entry) in packages {
        if path.is_empty() {
            continue;
        }
        let known = &reference["packages"][path.as_str()];
        let same = |key: &str| entry[key] == known[key];
        let resolved_ok = entry["resolved"].is_null()
            || entry["resolved"]
                .as_str()
                .is_some_and(|url| url.starts_with("https://registry.npmjs.org/"));
        if known.is_null() || !same("version") || !same("integrity") || !resolved_ok {
            let name = path.rsplit("node_modules/").next().unwrap_or(path);
            return refuse(format!(
                "`{name}` {} is not in the typescript-express stack's allowed packages",
                entry["version"].as_str().unwrap_or("(no version)")
            ));
        }
        if entry.get("link").is_some() {
            return refuse(format!("`{path}` is a linked folder, not a package"));
        }
        checked.insert(path.clone(), known.clone());
    }
    let root = &lock["packages"][""];
    let reference_root = &reference["packages"][""];
    for kind in ["dependencies", "devDependencies"] {
        for (name, version) in root[kind].as_object().into_iter().flatten() {
            if reference_root[kind][name.as_str()] != *version {
                return refuse(format!("`{name}` {version} is not an allowed {kind} entry"));
            }
        }
    }
    let mut root_entry = Map::new();
    root_entry.insert("name".into(), json!("dependencies"));
    root_entry.insert("version".into(), json!("0.0.0"));
    for kind in ["dependencies", "devDependencies"] {
        if let Some(listed) = root[kind].as_object() {
            root_entry.insert(kind.into(), Value::Object(listed.clone()));
        }
    }
    let mut all = Map::new();
    all.insert(String::new(), Value::Object(root_entry));
    all.extend(checked);
    let canonical = json!({
        "name": "dependencies",
        "version": "0.0.0",
        "lockfileVersion": 3,
        "requires": true,
        "packages": all,
    });
    serde_json::to_string_pretty(&canonical)
        .or_else(|error| refuse(format!("the lock cannot be written: {error}")))
}

/// Installs the canonical lock into `target` (`target/node_modules`), then builds the native
/// packages from source.
pub(super) async fn install(
    target: &Path,
    canonical: &str,
    cache_root: &Path,
) -> Result<(), EngineError> {
    let failed = |error: std::io::Error| EngineError::Dependencies(error.to_string());
    let lock: Value = serde_json::from_str(canonical)
        .or_else(|error| refuse(format!("the lock is unreadable: {error}")))?;
    let root = &lock["packages"][""];
    let manifest = json!({
        "name": "dependencies",
        "version": "0.0.0",
        "private": true,
        "dependencies": root["dependencies"],
        "devDependencies": root["devDependencies"],
    });
    std::fs::create_dir_all(target).map_err(failed)?;
    std::fs::write(target.join("package.json"), manifest.to_string()).map_err(failed)?;
    std::fs::write(target.join("package-lock.json"), canonical).map_err(failed)?;
    let npm_cache = cache_root.join("npm-cache").display().to_string();
    let environment =
        [("npm_config_cache", npm_cache.as_str()), ("npm_config_update_notifier", "false")];
    super::run_in(
        &["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        Some(target),
        &environment,
    )
    .await?;
    let node_gyp = node_gyp()?;
    let node_gyp = node_gyp.display().to_string();
    for package in NATIVE {
        let directory = target.join("node_modules").join(package);
        if !directory.exists() {
            continue;
        }
        build_native(&directory, &node_gyp).await?;
    }
    Ok(())
}

/// How long compiling one native package may take.
const NATIVE_BUILD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(900);

/// Compiles a native package from its own sources inside the sandbox (its build files are code
/// too), then puts the compiled `build/` beside its sources.
async fn build_native(directory: &Path, node_gyp: &str) -> Result<(), EngineError> {
    let failed = |error: String| EngineError::Dependencies(error);
    let job = ql_sandbox::Job {
        project: directory.to_owned(),
        command: ["node", node_gyp, "rebuild", "--release", "--nodedir=/usr"]
            .iter()
            .map(|part| (*part).to_owned())
            .collect(),
        env: vec![("npm_config_update_notifier".into(), "false".into())],
        read_only: Vec::new(),
        project_mounts: Vec::new(),
        copies: Vec::new(),
        path: Vec::new(),
        limits: ql_sandbox::Limits {
            wall: NATIVE_BUILD_TIMEOUT,
            cpu_seconds: NATIVE_BUILD_TIMEOUT.as_secs() * 2,
            memory_mib: 8 * 1024,
            file_mib: 512,
            tmp_mib: 1024,
            ..ql_sandbox::Limits::default()
        },
    };
    let outcome = ql_sandbox::run(&job).await.map_err(|error| failed(error.to_string()))?;
    if !outcome.success() {
        let output = format!("{}{}", outcome.stdout, outcome.stderr);
        let tail: String =
            output.chars().rev().take(2000).collect::<Vec<_>>().into_iter().rev().collect();
        return refuse(format!("compiling {} failed: {tail}", directory.display()));
    }
    let build = directory.join("build");
    let _ = std::fs::remove_dir_all(&build);
    super::move_dir(&outcome.file("build"), &build).map_err(|error| failed(error.to_string()))
}

/// npm's own node-gyp, which builds native packages against the system's Node headers.
fn node_gyp() -> Result<PathBuf, EngineError> {
    if !Path::new("/usr/include/node/node_api.h").exists() {
        return refuse(
            "Node's headers are missing (/usr/include/node); install Node.js from Debian's packages",
        );
    }
    [
        "/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
        "/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
        "/usr/share/nodejs/node-gyp/bin/node-gyp.js",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|path| path.exists())
    .ok_or_else(|| EngineError::Dependencies("node-gyp (which comes with npm) is missing".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_file(contents: String) -> Vec<GeneratedFile> {
        vec![GeneratedFile { path: "package-lock.json".into(), contents }]
    }

    #[test]
    fn the_reference_lock_passes_and_its_canonical_form_ignores_the_project_name() {
        let library = lock_for("library").unwrap_or_else(|error| panic!("{error}"));
        let todo = lock_for("todo_app").unwrap_or_else(|error| panic!("{error}"));
        assert!(todo.contents.contains("\"name\": \"todo-app\""));
        let canonical =
            |file: GeneratedFile| canonical(&[file]).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(canonical(library), canonical(todo));
    }

    #[test]
    fn packages_outside_the_reference_lock_are_refused() {
        let mut lock: Value =
            serde_json::from_str(REFERENCE_LOCK).unwrap_or_else(|error| panic!("{error}"));
        let original = lock.clone();
        type Change = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(&str, Change)> = vec![
            (
                "a package not in the set",
                Box::new(|lock| {
                    lock["packages"]["node_modules/left-pad"] =
                        json!({"version": "1.3.0", "integrity": "sha512-x"});
                }),
            ),
            (
                "another version",
                Box::new(|lock| {
                    lock["packages"]["node_modules/express"]["version"] = json!("4.0.0");
                }),
            ),
            (
                "another integrity hash",
                Box::new(|lock| {
                    lock["packages"]["node_modules/express"]["integrity"] = json!("sha512-AAAA");
                }),
            ),
            (
                "another registry",
                Box::new(|lock| {
                    lock["packages"]["node_modules/express"]["resolved"] =
                        json!("https://evil.example/express.tgz");
                }),
            ),
            (
                "a linked folder",
                Box::new(|lock| {
                    lock["packages"]["node_modules/express"]["link"] = json!(true);
                }),
            ),
            (
                "a root dependency from elsewhere",
                Box::new(|lock| {
                    lock["packages"][""]["dependencies"]["express"] = json!("github:evil/express");
                }),
            ),
            (
                "an old lock format",
                Box::new(|lock| {
                    lock["lockfileVersion"] = json!(1);
                }),
            ),
        ];
        for (what, change) in cases {
            lock.clone_from(&original);
            change(&mut lock);
            assert!(canonical(&lock_file(lock.to_string())).is_err(), "{what} was accepted");
        }
        assert!(canonical(&lock_file("not json".into())).is_err());
        assert!(canonical(&[]).is_err(), "a project without a lock");
    }
}
