//! Installing a generated project's dependencies, outside the sandbox (it has no network):
//! only pinned packages on the stack's allow-list, from the registry, as prebuilt wheels (no
//! package's own build code runs), into a cache keyed by the exact requirements, so the next
//! project with the same pins installs nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::EngineError;
use crate::stacks::Stack;

/// Packages a python-fastapi project may depend on (lowercase, `_` as `-`).
const PYTHON_ALLOWED: &[&str] = &[
    "annotated-doc",
    "annotated-types",
    "anyio",
    "certifi",
    "click",
    "coverage",
    "fastapi",
    "h11",
    "httpcore",
    "httpx",
    "idna",
    "iniconfig",
    "opentelemetry-api",
    "packaging",
    "pluggy",
    "pydantic",
    "pydantic-core",
    "pygments",
    "pytest",
    "pytest-cov",
    "starlette",
    "typing-inspection",
    "typing-extensions",
    "uvicorn",
    "sniffio",
    "email-validator",
    "python-multipart",
    "importlib-metadata",
    "zipp",
];

/// Most requirement lines read.
const MAX_REQUIREMENTS: usize = 100;
/// How long an install may take.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);

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

/// The pinned requirements of a project, checked against the allow-list.
pub fn checked_requirements(
    stack: Stack,
    text: &str,
) -> Result<Vec<(String, String)>, EngineError> {
    let refuse = |message: String| Err(EngineError::Dependencies(message));
    let allowed = match stack {
        Stack::PythonFastapi => PYTHON_ALLOWED,
    };
    let mut pins = Vec::new();
    for line in
        text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#'))
    {
        let Some((name, version)) = line.split_once("==") else {
            return refuse(format!("`{line}` is not pinned as name==version"));
        };
        let name = name.trim().to_ascii_lowercase().replace('_', "-");
        let version = version.trim();
        let version_ok = !version.is_empty()
            && version.len() <= 40
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '+');
        if !version_ok {
            return refuse(format!("`{line}`: the version is not a plain version number"));
        }
        if !allowed.contains(&name.as_str()) {
            return refuse(format!("`{name}` is not on the {} allow-list", stack.id()));
        }
        pins.push((name, version.to_owned()));
    }
    if pins.is_empty() || pins.len() > MAX_REQUIREMENTS {
        return refuse(format!("1 to {MAX_REQUIREMENTS} pinned requirements are needed"));
    }
    pins.sort();
    Ok(pins)
}

/// The installed dependencies for these requirements: a cached environment under
/// `cache_root`, installed now if missing. Answers its directory and whether it was cached.
pub async fn prepare(
    stack: Stack,
    requirements: &str,
    cache_root: &Path,
) -> Result<(PathBuf, bool), EngineError> {
    let pins = checked_requirements(stack, requirements)?;
    let canonical: String =
        pins.iter().map(|(name, version)| format!("{name}=={version}\n")).collect();
    let key = hex::encode(&Sha256::digest(canonical.as_bytes())[..12]);
    let target = cache_root.join(stack.id()).join(&key);
    if target.join(".complete").exists() {
        return Ok((target, true));
    }
    let failed = |message: String| EngineError::Dependencies(message);
    std::fs::create_dir_all(cache_root.join(stack.id()))
        .map_err(|error| failed(error.to_string()))?;
    // The sandbox's user reads the cache: every directory on the way must let it through.
    for directory in
        cache_root.join(stack.id()).ancestors().take_while(|path| path.starts_with(cache_root))
    {
        let _ = std::fs::set_permissions(
            directory,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        );
    }
    // Install beside the target, then rename: a half-done install is never used.
    let staging = cache_root.join(stack.id()).join(format!(".{key}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    match stack {
        Stack::PythonFastapi => {
            let requirements_file = cache_root.join(stack.id()).join(format!(".{key}.txt"));
            std::fs::write(&requirements_file, &canonical)
                .map_err(|error| failed(error.to_string()))?;
            let installed =
                install_python(&staging, &["-r", &requirements_file.display().to_string()]).await;
            let _ = std::fs::remove_file(&requirements_file);
            installed?;
        }
    }
    std::fs::write(staging.join(".complete"), &canonical)
        .map_err(|error| failed(error.to_string()))?;
    match std::fs::rename(&staging, &target) {
        Ok(()) => {}
        // Another process finished the same install first: use theirs.
        Err(_) if target.join(".complete").exists() => {
            let _ = std::fs::remove_dir_all(&staging);
        }
        Err(error) => return Err(failed(error.to_string())),
    }
    Ok((target, false))
}

/// Makes a Python environment at `path` (with the system's Python, which the sandbox also
/// has) and installs `what` into it, as prebuilt wheels only.
async fn install_python(path: &Path, what: &[&str]) -> Result<(), EngineError> {
    run(&["/usr/bin/python3", "-m", "venv", &path.display().to_string()]).await?;
    let pip = path.join("bin/pip").display().to_string();
    let mut command = vec![
        pip.as_str(),
        "install",
        "--no-input",
        "--disable-pip-version-check",
        "--only-binary=:all:",
    ];
    command.extend_from_slice(what);
    run(&command).await
}

async fn run(command: &[&str]) -> Result<(), EngineError> {
    let output = tokio::time::timeout(
        INSTALL_TIMEOUT,
        tokio::process::Command::new(command[0]).args(&command[1..]).kill_on_drop(true).output(),
    )
    .await
    .map_err(|_| {
        EngineError::Dependencies(format!("`{}` took over {INSTALL_TIMEOUT:?}", command.join(" ")))
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
    let tools = cache_root.join("tools");
    let target = tools.join(pin.replace("==", "-"));
    if target.join(".complete").exists() {
        return Ok(target);
    }
    std::fs::create_dir_all(&tools)
        .map_err(|error| EngineError::Dependencies(error.to_string()))?;
    for directory in tools.ancestors().take_while(|path| path.starts_with(cache_root)) {
        let _ = std::fs::set_permissions(
            directory,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        );
    }
    let staging = tools.join(format!(".{}-{}", pin.replace("==", "-"), std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    install_python(&staging, &[pin]).await?;
    std::fs::write(staging.join(".complete"), pin)
        .map_err(|error| EngineError::Dependencies(error.to_string()))?;
    if std::fs::rename(&staging, &target).is_err() && !target.join(".complete").exists() {
        return Err(EngineError::Dependencies(format!(
            "cannot install {pin} into {}",
            target.display()
        )));
    }
    let _ = std::fs::remove_dir_all(&staging);
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pinned_allowed_packages_pass() {
        let pins = checked_requirements(
            Stack::PythonFastapi,
            "# deps\nFastAPI==0.165.0\npydantic_core==2.50.5\n",
        )
        .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            pins,
            [("fastapi".into(), "0.165.0".into()), ("pydantic-core".into(), "2.50.5".into())]
        );
        for bad in [
            "fastapi>=0.1",
            "evil-package==1.0",
            "fastapi==1.0; os_name=='posix'",
            "fastapi==1.0 --index-url http://evil",
            "-e git+https://example.com/x.git",
            "",
        ] {
            assert!(checked_requirements(Stack::PythonFastapi, bad).is_err(), "{bad}");
        }
    }
}
