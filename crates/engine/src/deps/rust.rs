//! A rust-axum project's dependencies: its `Cargo.lock` may only hold crates of the stack's
//! reference lock (same name, version, source and checksum). Their sources are vendored from
//! crates.io (fetching runs no crate's code), then compiled once in the sandbox — build scripts
//! and procedural macros are code too — and the compiled tree is cached, so that a project's
//! test run compiles only the project. The Rust toolchain itself is linked into the cache, since
//! the sandbox's user cannot enter root's home where rustup keeps it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::EngineError;
use crate::templates::GeneratedFile;

/// The stack's reference lock: every crate a project may build with.
const REFERENCE_LOCK: &str = include_str!("../../templates/rust-axum/Cargo.lock");
/// The project template's manifest, whose `[dependencies]` the warm-up build compiles.
const MANIFEST_TEMPLATE: &str = include_str!("../../templates/rust-axum/Cargo.toml.j2");
/// The root package's name in the reference lock.
const REFERENCE_ROOT: &str = "app";
/// Where the vendored sources appear inside the sandbox (fixed, so that compiled crates stay
/// fresh whatever the cache's path).
pub(crate) const VENDOR_INSIDE: &str = "vendor";
/// The longest the one-off compile of the dependencies may take.
const WARM_BUILD_TIMEOUT: Duration = Duration::from_secs(1800);
const MAX_LOCK_BYTES: usize = 1024 * 1024;

fn refuse<T>(message: impl Into<String>) -> Result<T, EngineError> {
    Err(EngineError::Dependencies(message.into()))
}

/// The `[[package]]` blocks of a lock, and its header.
fn blocks(lock: &str) -> (&str, Vec<&str>) {
    let mut parts = lock.split("\n[[package]]\n");
    let header = parts.next().unwrap_or_default();
    (header, parts.collect())
}

/// The stack's lock with the project as its root package (kept in cargo's order).
pub(super) fn lock_for(project_name: &str) -> GeneratedFile {
    let (header, packages) = blocks(REFERENCE_LOCK);
    let root = format!("name = \"{REFERENCE_ROOT}\"\n");
    let mut packages: Vec<String> = packages
        .into_iter()
        .map(|block| match block.strip_prefix(&root) {
            Some(rest) => format!("name = \"{project_name}\"\n{rest}"),
            None => block.to_owned(),
        })
        .collect();
    packages.sort_by(|a, b| a.lines().next().cmp(&b.lines().next()));
    let mut contents = header.to_owned();
    for block in packages {
        contents.push_str("\n[[package]]\n");
        contents.push_str(block.trim_end_matches('\n'));
        contents.push('\n');
    }
    GeneratedFile { path: "Cargo.lock".into(), contents }
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Locked {
    name: String,
    version: String,
    source: String,
    checksum: String,
}

fn registry_packages(text: &str) -> Result<(BTreeSet<Locked>, usize), EngineError> {
    let lock: toml::Value = toml::from_str(text)
        .or_else(|error| refuse(format!("Cargo.lock is not readable: {error}")))?;
    let Some(packages) = lock.get("package").and_then(toml::Value::as_array) else {
        return refuse("Cargo.lock lists no packages");
    };
    let field = |package: &toml::Value, key: &str| {
        package.get(key).and_then(toml::Value::as_str).unwrap_or_default().to_owned()
    };
    let mut locked = BTreeSet::new();
    let mut roots = 0;
    for package in packages {
        if package.get("source").is_none() {
            roots += 1;
            continue;
        }
        locked.insert(Locked {
            name: field(package, "name"),
            version: field(package, "version"),
            source: field(package, "source"),
            checksum: field(package, "checksum"),
        });
    }
    Ok((locked, roots))
}

/// The project's lock, checked against the reference: the crates to build, one per line.
pub(super) fn canonical(files: &[GeneratedFile]) -> Result<String, EngineError> {
    let Some(lock) = files.iter().find(|file| file.path == "Cargo.lock") else {
        return refuse("there is no Cargo.lock");
    };
    if lock.contents.len() > MAX_LOCK_BYTES {
        return refuse(format!("Cargo.lock is over {MAX_LOCK_BYTES} bytes"));
    }
    let (reference, _) = registry_packages(REFERENCE_LOCK)?;
    let (project, roots) = registry_packages(&lock.contents)?;
    if roots != 1 {
        return refuse("Cargo.lock must hold exactly one package of the project's own");
    }
    if let Some(stranger) = project.iter().find(|package| !reference.contains(package)) {
        return refuse(format!(
            "`{}` {} is not among the rust-axum stack's allowed crates",
            stranger.name, stranger.version
        ));
    }
    Ok(project
        .iter()
        .map(|package| format!("{} {} {}\n", package.name, package.version, package.checksum))
        .collect())
}

/// The warm-up crate: the template's dependencies and an empty library.
fn skeleton_manifest() -> String {
    let dependencies = MANIFEST_TEMPLATE.split_once("[dependencies]").map_or("", |(_, rest)| rest);
    format!(
        "[package]\nname = \"{REFERENCE_ROOT}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         [lib]\npath = \"src/lib.rs\"\ndoctest = false\n\n[dependencies]{dependencies}"
    )
}

/// Vendors the reference crates into `target/vendor` and compiles them in the sandbox into
/// `target/target`.
pub(super) async fn install(target: &Path, cache_root: &Path) -> Result<(), EngineError> {
    let failed = |error: std::io::Error| EngineError::Dependencies(error.to_string());
    let toolchain = toolchain(cache_root).await?;
    let skeleton = target.join("skeleton");
    std::fs::create_dir_all(skeleton.join("src")).map_err(failed)?;
    std::fs::write(skeleton.join("Cargo.toml"), skeleton_manifest()).map_err(failed)?;
    std::fs::write(skeleton.join("Cargo.lock"), REFERENCE_LOCK).map_err(failed)?;
    std::fs::write(skeleton.join("src/lib.rs"), "").map_err(failed)?;
    let vendor = target.join("vendor");
    let vendor_text = vendor.display().to_string();
    super::run_in(
        &["cargo", "vendor", "--locked", "--versioned-dirs", "--quiet", &vendor_text],
        Some(&skeleton),
        &[],
    )
    .await?;
    for directory in [target, &vendor] {
        let _ = std::fs::set_permissions(
            directory,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        );
    }
    let mut job = sandbox_job(&skeleton, &toolchain, &vendor, None, WARM_BUILD_TIMEOUT);
    job.command = vec![
        "bash".into(),
        "-c".into(),
        format!("{} && cargo test $CARGO_OFFLINE --no-run --quiet", environment_script()),
    ];
    let outcome = ql_sandbox::run(&job)
        .await
        .map_err(|error| EngineError::Dependencies(error.to_string()))?;
    if !outcome.success() {
        let output = format!("{}{}", outcome.stdout, outcome.stderr);
        let tail: String =
            output.chars().rev().take(3000).collect::<Vec<_>>().into_iter().rev().collect();
        return refuse(format!("compiling the dependencies failed: {tail}"));
    }
    super::move_dir(&outcome.file("target"), &target.join("target")).map_err(failed)?;
    std::fs::remove_dir_all(&skeleton).map_err(failed)?;
    std::fs::write(target.join(TOOLCHAIN_FILE), toolchain.display().to_string()).map_err(failed)?;
    Ok(())
}

/// The file in the installed dependencies that says where the toolchain is.
const TOOLCHAIN_FILE: &str = "toolchain.txt";

/// A sandbox job that runs `command` on a copy of `project` with the installed dependencies
/// (see [`install`]): the toolchain, the vendored sources, the compiled crates.
pub(crate) fn project_job(
    project: &Path,
    dependencies: &Path,
    command: String,
    wall: Duration,
) -> ql_sandbox::Job {
    let toolchain = std::fs::read_to_string(dependencies.join(TOOLCHAIN_FILE)).unwrap_or_default();
    let mut job = sandbox_job(
        project,
        Path::new(toolchain.trim()),
        &dependencies.join("vendor"),
        Some(&dependencies.join("target")),
        wall,
    );
    job.command = vec!["bash".into(), "-c".into(), format!("{}; {command}", environment_script())];
    job
}

/// Shell lines that set up cargo inside the sandbox: a private home, the vendored sources,
/// coverage instrumentation (the same flags for the dependencies and the project, so that the
/// compiled dependencies stay fresh).
pub(crate) fn environment_script() -> String {
    format!(
        "export CARGO_HOME=/tmp/cargo-home CARGO_TARGET_DIR=/sandbox/target CARGO_TERM_COLOR=never \
         CARGO_INCREMENTAL=0 RUSTFLAGS='-C instrument-coverage' LLVM_PROFILE_FILE=/tmp/profiles/%p-%m.profraw; \
         CARGO_OFFLINE=\"--offline --config source.crates-io.replace-with=\\\"vendored\\\" \
         --config source.vendored.directory=\\\"/sandbox/{VENDOR_INSIDE}\\\"\""
    )
}

/// A sandbox job over `project` with the toolchain on PATH and the vendored sources mounted.
pub(crate) fn sandbox_job(
    project: &Path,
    toolchain: &Path,
    vendor: &Path,
    compiled: Option<&Path>,
    wall: Duration,
) -> ql_sandbox::Job {
    ql_sandbox::Job {
        project: project.to_owned(),
        command: Vec::new(),
        env: Vec::new(),
        read_only: vec![toolchain.to_owned()],
        project_mounts: vec![(vendor.to_owned(), VENDOR_INSIDE.into())],
        copies: compiled
            .map(|compiled| (compiled.to_owned(), "target".into()))
            .into_iter()
            .collect(),
        path: vec![
            toolchain.join("bin"),
            toolchain.join("lib/rustlib/x86_64-unknown-linux-gnu/bin"),
        ],
        limits: ql_sandbox::Limits {
            wall,
            cpu_seconds: wall.as_secs().max(1) * 2,
            memory_mib: 16 * 1024,
            processes: 512,
            file_mib: 2048,
            tmp_mib: 1024,
            ..ql_sandbox::Limits::default()
        },
    }
}

/// The toolchain cargo runs here, linked (or copied) into the cache where the sandbox's user
/// can read it; one directory per `rustc -vV`.
pub(crate) async fn toolchain(cache_root: &Path) -> Result<PathBuf, EngineError> {
    let output = tokio::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .await
        .map_err(|error| EngineError::Dependencies(format!("rustc: {error}")))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let version = tokio::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .await
        .map_err(|error| EngineError::Dependencies(format!("rustc: {error}")))?;
    if !sysroot.join("bin/cargo").exists() {
        return refuse(format!("no cargo in the Rust toolchain at {}", sysroot.display()));
    }
    let key = hex::encode(&Sha256::digest(&version.stdout)[..8]);
    let target = cache_root.join("toolchains").join(key);
    if target.join(".complete").exists() {
        return Ok(target);
    }
    let failed = |error: std::io::Error| EngineError::Dependencies(error.to_string());
    std::fs::create_dir_all(cache_root.join("toolchains")).map_err(failed)?;
    for directory in
        cache_root.join("toolchains").ancestors().take_while(|path| path.starts_with(cache_root))
    {
        let _ = std::fs::set_permissions(
            directory,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        );
    }
    let staging = target.with_extension(format!("staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(failed)?;
    for part in ["bin", "lib"] {
        let from = sysroot.join(part).display().to_string();
        let to = staging.display().to_string();
        // Hard links cost nothing on the same file system; a copy otherwise.
        if super::run(&["cp", "-al", &from, &to], None).await.is_err() {
            super::run(&["cp", "-a", &from, &to], None).await?;
        }
    }
    std::fs::write(staging.join(".complete"), &version.stdout).map_err(failed)?;
    if std::fs::rename(&staging, &target).is_err() && !target.join(".complete").exists() {
        return refuse(format!("cannot place the toolchain at {}", target.display()));
    }
    let _ = std::fs::remove_dir_all(&staging);
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_names_the_project_and_only_reference_crates_pass() {
        let lock = lock_for("library");
        assert!(lock.contents.contains("name = \"library\"\nversion = \"0.1.0\""));
        assert!(!lock.contents.contains("name = \"app\"\n"));
        let files = |contents: String| vec![GeneratedFile { path: "Cargo.lock".into(), contents }];
        let canonical_library =
            canonical(&files(lock.contents.clone())).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            canonical_library,
            canonical(&files(lock_for("todo").contents)).unwrap_or_default()
        );

        let tampered = lock.contents.replacen(
            "name = \"axum\"\nversion = \"0.8.9\"",
            "name = \"axum\"\nversion = \"0.8.8\"",
            1,
        );
        assert!(canonical(&files(tampered)).is_err());
        let stranger = format!(
            "{}\n[[package]]\nname = \"left-pad\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"00\"\n",
            lock.contents
        );
        assert!(canonical(&files(stranger)).is_err());
        let git = lock.contents.replacen(
            "source = \"registry+https://github.com/rust-lang/crates.io-index\"",
            "source = \"git+https://evil.example/axum\"",
            1,
        );
        assert!(canonical(&files(git)).is_err());
        assert!(canonical(&[]).is_err());
    }

    #[test]
    fn the_warm_up_crate_has_the_templates_dependencies() {
        let manifest = skeleton_manifest();
        assert!(manifest.contains("axum = { version = \"=0.8.9\""), "{manifest}");
        assert!(manifest.contains("sqlx = "), "{manifest}");
        assert!(toml::from_str::<toml::Value>(&manifest).is_ok(), "{manifest}");
    }
}
