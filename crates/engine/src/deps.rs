//! Installing a generated project's dependencies, outside the sandbox (it has no network):
//! only what the stack allows (pinned Python wheels on an allow-list; npm packages of the
//! stack's reference lock), from the registry, into a cache keyed by exactly what is
//! installed, so the next project with the same pins installs nothing. An install happens in a
//! staging directory that is renamed into place when complete: a half-done install is never
//! used, and two processes installing the same set at once both end up with one.

mod node;
mod python;
pub(crate) mod rust;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::EngineError;
use crate::stacks::Stack;
use crate::templates::GeneratedFile;

/// How long one install command may take.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(900);

/// Where dependencies are cached by default. The sandbox's user must be able to reach it:
/// as root (whose home others cannot enter) that is `/var/cache/quantumlayer/dependencies`,
/// otherwise `~/.cache/quantumlayer/dependencies`.
pub fn default_cache() -> PathBuf {
    if ql_sandbox::running_as_root() {
        PathBuf::from("/var/cache/quantumlayer/dependencies")
    } else {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join(".cache/quantumlayer/dependencies")
    }
}

/// The paths of the manifests [`locked_manifests`] writes for `stack`.
pub fn locked_manifest_paths(stack: Stack) -> Vec<String> {
    match stack {
        Stack::PythonFastapi => Vec::new(),
        Stack::TypescriptExpress => vec!["package-lock.json".to_owned()],
        Stack::RustAxum => vec!["Cargo.lock".to_owned()],
    }
}

/// Dependency files the engine writes itself for a stack (the npm lock: a model or a template
/// cannot know its integrity hashes).
pub fn locked_manifests(
    stack: Stack,
    project_name: &str,
) -> Result<Vec<GeneratedFile>, EngineError> {
    match stack {
        Stack::PythonFastapi => Ok(Vec::new()),
        Stack::TypescriptExpress => Ok(vec![node::lock_for(project_name)?]),
        Stack::RustAxum => Ok(vec![rust::lock_for(project_name)]),
    }
}

/// Checks a project's dependencies against the stack's rules, installing nothing.
pub fn check(stack: Stack, files: &[GeneratedFile]) -> Result<(), EngineError> {
    match stack {
        Stack::PythonFastapi => python::canonical(files).map(drop),
        Stack::TypescriptExpress => node::canonical(files).map(drop),
        Stack::RustAxum => rust::canonical(files).map(drop),
    }
}

/// The installed dependencies of a project: a cached directory under `cache_root`, installed
/// now if missing. Answers the directory and whether it was cached.
///
/// For python-fastapi it is a virtual environment (`bin/python`); for typescript-express it
/// holds `node_modules`; for rust-axum, `vendor` (the crates' sources), `target` (them
/// compiled) and `toolchain.txt` (where the toolchain is).
pub async fn prepare(
    stack: Stack,
    files: &[GeneratedFile],
    cache_root: &Path,
) -> Result<(PathBuf, bool), EngineError> {
    match stack {
        Stack::PythonFastapi => {
            let canonical = python::canonical(files)?;
            let text = canonical.clone();
            install_once(stack.id(), &canonical, cache_root, |staging| async move {
                python::install(&staging, &text).await
            })
            .await
        }
        Stack::TypescriptExpress => {
            let canonical = node::canonical(files)?;
            let text = canonical.clone();
            let root = cache_root.to_owned();
            install_once(stack.id(), &canonical, cache_root, |staging| async move {
                node::install(&staging, &text, &root).await
            })
            .await
        }
        Stack::RustAxum => {
            // The compiled crates depend on the compiler too.
            let toolchain = rust::toolchain(cache_root).await?;
            let canonical = format!("{}{}", rust::canonical(files)?, toolchain.display());
            let root = cache_root.to_owned();
            install_once(stack.id(), &canonical, cache_root, |staging| async move {
                rust::install(&staging, &root).await
            })
            .await
        }
    }
}

/// The lock of one cache entry's install in this process.
fn install_turn(target: &Path) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    static TURNS: std::sync::OnceLock<
        std::sync::Mutex<
            std::collections::HashMap<PathBuf, std::sync::Arc<tokio::sync::Mutex<()>>>,
        >,
    > = std::sync::OnceLock::new();
    let turns = TURNS.get_or_init(Default::default);
    let mut turns = turns.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    turns.entry(target.to_owned()).or_default().clone()
}

/// A staging directory's suffix no other install in this process uses.
fn staging_number() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Runs `install` into a staging directory unless `cache_root/<kind>/<hash of canonical>` is
/// complete already, then renames the staging directory into place.
async fn install_once<F, Fut>(
    kind: &str,
    canonical: &str,
    cache_root: &Path,
    install: F,
) -> Result<(PathBuf, bool), EngineError>
where
    F: FnOnce(PathBuf) -> Fut,
    Fut: Future<Output = Result<(), EngineError>>,
{
    let key = hex::encode(&Sha256::digest(canonical.as_bytes())[..12]);
    let parent = cache_root.join(kind);
    let target = parent.join(&key);
    if target.join(".complete").exists() {
        return Ok((target, true));
    }
    // One install of a key at a time in this process: the others wait and take its result.
    let turn = install_turn(&target);
    let _turn = turn.lock().await;
    if target.join(".complete").exists() {
        return Ok((target, true));
    }
    let failed = |error: std::io::Error| EngineError::Dependencies(error.to_string());
    std::fs::create_dir_all(&parent).map_err(failed)?;
    // The sandbox's user reads the cache: every directory on the way must let it through.
    for directory in parent.ancestors().take_while(|path| path.starts_with(cache_root)) {
        let _ = std::fs::set_permissions(
            directory,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        );
    }
    let staging = parent.join(format!(".{key}-{}-{:08x}", std::process::id(), staging_number()));
    let _ = std::fs::remove_dir_all(&staging);
    if let Err(error) = install(staging.clone()).await {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error);
    }
    std::fs::write(staging.join(".complete"), canonical).map_err(failed)?;
    match std::fs::rename(&staging, &target) {
        Ok(()) => {}
        // Another process finished the same install first: use theirs.
        Err(_) if target.join(".complete").exists() => {
            let _ = std::fs::remove_dir_all(&staging);
        }
        Err(error) => return Err(failed(error)),
    }
    Ok((target, false))
}

/// Moves a directory (a sandbox's output into the cache): renamed, or copied across file
/// systems with the files' times kept (build tools compare them).
fn move_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            move_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
            let modified = entry.metadata()?.modified()?;
            std::fs::File::options().write(true).open(&target)?.set_modified(modified)?;
        }
    }
    Ok(())
}

async fn run(command: &[&str], directory: Option<&Path>) -> Result<(), EngineError> {
    run_in(command, directory, &[]).await
}

/// Runs an install command (never generated code) with a time limit; its error output goes
/// into the error.
async fn run_in(
    command: &[&str],
    directory: Option<&Path>,
    environment: &[(&str, &str)],
) -> Result<(), EngineError> {
    let mut process = tokio::process::Command::new(command[0]);
    process.args(&command[1..]).kill_on_drop(true);
    if let Some(directory) = directory {
        process.current_dir(directory);
    }
    for (name, value) in environment {
        process.env(name, value);
    }
    let output = tokio::time::timeout(INSTALL_TIMEOUT, process.output())
        .await
        .map_err(|_| {
            EngineError::Dependencies(format!(
                "`{}` took over {INSTALL_TIMEOUT:?}",
                command.join(" ")
            ))
        })?
        .map_err(|error| EngineError::Dependencies(format!("{}: {error}", command[0])))?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: String =
            stderr.chars().rev().take(2000).collect::<Vec<_>>().into_iter().rev().collect();
        Err(EngineError::Dependencies(format!("`{}` failed: {tail}", command[..2].join(" "))))
    }
}

/// A pinned Python tool (`name==version`) in an environment of its own under the cache, for
/// the engine's own tests (schemathesis); installed once, readable by the sandbox's user.
pub async fn prepare_python_tool(pin: &str, cache_root: &Path) -> Result<PathBuf, EngineError> {
    let safe = !pin.is_empty()
        && pin.contains("==")
        && pin.chars().all(|c| c.is_ascii_alphanumeric() || "=.-_".contains(c));
    if !safe {
        return Err(EngineError::Dependencies(format!("`{pin}` is not a pinned package")));
    }
    let package = pin.to_owned();
    let (directory, _) = install_once("tools", pin, cache_root, |staging| async move {
        python::install_packages(&staging, &[&package]).await
    })
    .await?;
    Ok(directory)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_installs_of_one_entry_run_once_and_share_it() {
        let cache = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let runs = Arc::new(AtomicUsize::new(0));
        let install = |runs: Arc<AtomicUsize>| {
            move |staging: PathBuf| async move {
                runs.fetch_add(1, Ordering::SeqCst);
                std::fs::create_dir_all(&staging)
                    .map_err(|error| EngineError::Dependencies(error.to_string()))?;
                // Long enough for the others to arrive while this one works.
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                std::fs::write(staging.join("installed"), "yes")
                    .map_err(|error| EngineError::Dependencies(error.to_string()))
            }
        };
        let installs =
            (0..4).map(|_| install_once("kind", "same", cache.path(), install(runs.clone())));
        let results = futures::future::join_all(installs).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1, "installed once");
        let paths: Vec<PathBuf> = results
            .into_iter()
            .map(|result| result.unwrap_or_else(|error| panic!("{error}")).0)
            .collect();
        assert!(paths.windows(2).all(|pair| pair[0] == pair[1]));
        assert!(paths[0].join("installed").exists() && paths[0].join(".complete").exists());
        let leftovers = std::fs::read_dir(cache.path().join("kind"))
            .unwrap_or_else(|error| panic!("{error}"))
            .count();
        assert_eq!(leftovers, 1, "no staging directory left behind");
    }
}
