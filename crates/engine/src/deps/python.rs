//! A python-fastapi project's dependencies: pinned `name==version` lines of `requirements.txt`,
//! each on the allow-list, installed as prebuilt wheels (no package's own build code runs) into
//! a virtual environment made with the system's Python, which the sandbox also has.

use std::path::Path;

use crate::EngineError;
use crate::templates::GeneratedFile;

/// Packages a python-fastapi project may depend on (lowercase, `_` as `-`).
const ALLOWED: &[&str] = &[
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

/// The project's requirements, checked: the canonical text (sorted pins, one per line).
pub(super) fn canonical(files: &[GeneratedFile]) -> Result<String, EngineError> {
    let text = files
        .iter()
        .find(|file| file.path == "requirements.txt")
        .map(|file| file.contents.as_str())
        .ok_or_else(|| EngineError::Dependencies("there is no requirements.txt".into()))?;
    let pins = checked_requirements(text)?;
    Ok(pins.iter().map(|(name, version)| format!("{name}=={version}\n")).collect())
}

/// The pinned requirements, checked against the allow-list, sorted.
pub(super) fn checked_requirements(text: &str) -> Result<Vec<(String, String)>, EngineError> {
    let refuse = |message: String| Err(EngineError::Dependencies(message));
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
        if !ALLOWED.contains(&name.as_str()) {
            return refuse(format!("`{name}` is not on the python-fastapi allow-list"));
        }
        pins.push((name, version.to_owned()));
    }
    if pins.is_empty() || pins.len() > MAX_REQUIREMENTS {
        return refuse(format!("1 to {MAX_REQUIREMENTS} pinned requirements are needed"));
    }
    pins.sort();
    Ok(pins)
}

/// Installs the canonical requirements into a new environment at `target`.
pub(super) async fn install(target: &Path, canonical: &str) -> Result<(), EngineError> {
    let failed = |error: std::io::Error| EngineError::Dependencies(error.to_string());
    let requirements_file = target.with_extension("requirements.txt");
    std::fs::write(&requirements_file, canonical).map_err(failed)?;
    let installed =
        install_packages(target, &["-r", &requirements_file.display().to_string()]).await;
    let _ = std::fs::remove_file(&requirements_file);
    installed
}

/// Makes a Python environment at `path` and installs `what` into it, as prebuilt wheels only.
pub(super) async fn install_packages(path: &Path, what: &[&str]) -> Result<(), EngineError> {
    super::run(&["/usr/bin/python3", "-m", "venv", &path.display().to_string()], None).await?;
    let pip = path.join("bin/pip").display().to_string();
    let mut command = vec![
        pip.as_str(),
        "install",
        "--no-input",
        "--disable-pip-version-check",
        "--only-binary=:all:",
    ];
    command.extend_from_slice(what);
    super::run(&command, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pinned_allowed_packages_pass() {
        let pins = checked_requirements("# deps\nFastAPI==0.165.0\npydantic_core==2.50.5\n")
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
            assert!(checked_requirements(bad).is_err(), "{bad}");
        }
    }
}
