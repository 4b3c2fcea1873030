//! Copying a project into a run directory: plain files and directories only (links are
//! refused), within the size and count limits, owned by the sandbox user when we are root.

use std::path::{Path, PathBuf};

use crate::command::{SANDBOX_UID, running_as_root};
use crate::{Limits, SandboxError};

/// Limits on the trusted directories copied in beside the project.
const TRUSTED: Limits = Limits {
    project_files: 1_000_000,
    project_bytes: 64 * 1024 * 1024 * 1024,
    ..crate::DEFAULT_LIMITS
};

/// Copies `source` into the empty directory `target`, then each of `copies` (host directory,
/// relative path) into it.
pub fn project(
    source: &Path,
    target: &Path,
    limits: &Limits,
    copies: &[(PathBuf, String)],
) -> Result<(), SandboxError> {
    let mut files = 0usize;
    let mut bytes = 0u64;
    copy_dir(source, target, limits, &mut files, &mut bytes)?;
    for (from, relative) in copies {
        let to = target.join(relative);
        std::fs::create_dir_all(&to)
            .map_err(|error| SandboxError::Copy(format!("{}: {error}", to.display())))?;
        let (mut files, mut bytes) = (0usize, 0u64);
        copy_dir(from, &to, &TRUSTED, &mut files, &mut bytes)?;
    }
    if running_as_root() {
        chown_tree(target, SANDBOX_UID, SANDBOX_UID)
            .map_err(|error| SandboxError::Copy(format!("chown: {error}")))?;
    }
    Ok(())
}

fn copy_dir(
    source: &Path,
    target: &Path,
    limits: &Limits,
    files: &mut usize,
    bytes: &mut u64,
) -> Result<(), SandboxError> {
    let error =
        |error: std::io::Error| SandboxError::Copy(format!("{}: {error}", source.display()));
    for entry in std::fs::read_dir(source).map_err(error)? {
        let entry = entry.map_err(error)?;
        let kind = entry.file_type().map_err(error)?;
        let from = entry.path();
        let to = target.join(entry.file_name());
        if kind.is_symlink() {
            return Err(SandboxError::Copy(format!("{} is a link", from.display())));
        } else if kind.is_dir() {
            std::fs::create_dir(&to).map_err(error)?;
            copy_dir(&from, &to, limits, files, bytes)?;
        } else if kind.is_file() {
            *files += 1;
            *bytes += entry.metadata().map_err(error)?.len();
            if *files > limits.project_files || *bytes > limits.project_bytes {
                return Err(SandboxError::TooLarge(format!(
                    "more than {} files or {} bytes",
                    limits.project_files, limits.project_bytes
                )));
            }
            std::fs::copy(&from, &to).map_err(error)?;
            // Build tools compare times (cargo's fingerprints): keep each file's.
            let modified = entry.metadata().and_then(|metadata| metadata.modified());
            if let Ok(modified) = modified {
                std::fs::File::options()
                    .write(true)
                    .open(&to)
                    .and_then(|file| file.set_modified(modified))
                    .map_err(error)?;
            }
        }
    }
    Ok(())
}

/// Gives every file and directory under `root` (and `root` itself) to `uid`:`gid`.
pub fn chown_tree(root: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(root, Some(uid), Some(gid))?;
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            chown_tree(&entry.path(), uid, gid)?;
        } else {
            std::os::unix::fs::lchown(entry.path(), Some(uid), Some(gid))?;
        }
    }
    Ok(())
}
