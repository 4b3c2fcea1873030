//! Writing a capsule as a deterministic zip, and verifying one: every entry a plain file
//! with a safe relative path, within the limits, listed in the manifest with its hash and
//! size, and the manifest signed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read, Write};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::CapsuleError;
use crate::manifest::{FORMAT_VERSION, FileEntry, Manifest};
use crate::signing::{self, InstallationKey, Signature};

/// The manifest's name inside the archive.
pub const MANIFEST_NAME: &str = "capsule.json";
/// The signature's name inside the archive.
pub const SIGNATURE_NAME: &str = "capsule.sig";

/// What a capsule may hold, at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Size of the archive itself.
    pub archive_bytes: u64,
    /// Entries, the manifest and signature included.
    pub entries: usize,
    /// Size of one file once unpacked.
    pub file_bytes: u64,
    /// Size of all files once unpacked.
    pub total_bytes: u64,
    /// Length of one path.
    pub path_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            archive_bytes: 64 * 1024 * 1024,
            entries: 5_000,
            file_bytes: 16 * 1024 * 1024,
            total_bytes: 256 * 1024 * 1024,
            path_chars: 255,
        }
    }
}

/// One file of the project: a relative path with `/` separators, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFile {
    pub path: String,
    pub contents: Vec<u8>,
}

/// A built capsule: the archive's bytes and the manifest inside it.
#[derive(Debug, Clone)]
pub struct Capsule {
    pub bytes: Vec<u8>,
    pub manifest: Manifest,
}

/// A capsule that verified: its manifest, signature and files.
#[derive(Debug, Clone)]
pub struct Verified {
    pub manifest: Manifest,
    pub signature: Signature,
    pub files: Vec<ProjectFile>,
}

/// Packs `files` with `manifest` (whose `files` list is filled in here, sorted by path) and
/// signs it. The same files, manifest and key give the same bytes.
pub fn build(
    mut manifest: Manifest,
    files: &[ProjectFile],
    key: &InstallationKey,
    limits: &Limits,
) -> Result<Capsule, CapsuleError> {
    if files.len() + 2 > limits.entries {
        return Err(CapsuleError::TooLarge(format!(
            "{} files; a capsule holds at most {}",
            files.len(),
            limits.entries - 2
        )));
    }
    let mut sorted: BTreeMap<&str, &[u8]> = BTreeMap::new();
    let mut total = 0u64;
    for file in files {
        check_path(&file.path, limits)?;
        if is_reserved(&file.path) {
            return Err(CapsuleError::UnsafePath(file.path.clone()));
        }
        let size = file.contents.len() as u64;
        if size > limits.file_bytes {
            return Err(CapsuleError::TooLarge(format!(
                "`{}` is {size} bytes; a file may have at most {}",
                file.path, limits.file_bytes
            )));
        }
        total += size;
        if sorted.insert(&file.path, &file.contents).is_some() {
            return Err(CapsuleError::Mismatch(format!("`{}` is listed twice", file.path)));
        }
    }
    if total > limits.total_bytes {
        return Err(CapsuleError::TooLarge(format!(
            "the files hold {total} bytes; a capsule may hold at most {}",
            limits.total_bytes
        )));
    }
    manifest.format_version = FORMAT_VERSION;
    manifest.files = sorted
        .iter()
        .map(|(path, contents)| FileEntry {
            path: (*path).to_owned(),
            sha256: hex::encode(Sha256::digest(contents)),
            size: contents.len() as u64,
        })
        .collect();
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|error| CapsuleError::Unreadable(error.to_string()))?;
    let signature = key.sign(&manifest_bytes);
    let signature_bytes = serde_json::to_vec_pretty(&signature)
        .map_err(|error| CapsuleError::Unreadable(error.to_string()))?;

    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let write_error = |error: &dyn std::fmt::Display| CapsuleError::Unreadable(error.to_string());
    let entries = [(MANIFEST_NAME, &manifest_bytes[..]), (SIGNATURE_NAME, &signature_bytes[..])]
        .into_iter()
        .chain(sorted.iter().map(|(path, contents)| (*path, *contents)));
    for (path, contents) in entries {
        writer.start_file(path, options).map_err(|error| write_error(&error))?;
        writer.write_all(contents).map_err(|error| write_error(&error))?;
    }
    let bytes = writer.finish().map_err(|error| write_error(&error))?.into_inner();
    Ok(Capsule { bytes, manifest })
}

/// Checks a capsule: the archive is within `limits`, holds only plain files with safe
/// relative paths, its signature verifies over its manifest, and every file matches the
/// manifest's hash and size, with none missing and none extra.
pub fn verify(bytes: &[u8], limits: &Limits) -> Result<Verified, CapsuleError> {
    if bytes.len() as u64 > limits.archive_bytes {
        return Err(CapsuleError::TooLarge(format!(
            "the archive is {} bytes; at most {} are read",
            bytes.len(),
            limits.archive_bytes
        )));
    }
    let mut archive = ZipArchive::new(Cursor::new(bytes))
        .map_err(|error| CapsuleError::Unreadable(error.to_string()))?;
    if archive.len() > limits.entries {
        return Err(CapsuleError::TooLarge(format!(
            "{} entries; a capsule holds at most {}",
            archive.len(),
            limits.entries
        )));
    }
    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut entry =
            archive.by_index(index).map_err(|error| CapsuleError::Unreadable(error.to_string()))?;
        let name = entry.name().to_owned();
        check_path(&name, limits)?;
        let is_link = entry.unix_mode().is_some_and(|mode| mode & 0o170000 == 0o120000);
        if entry.is_dir() || is_link {
            return Err(CapsuleError::NotAFile(name));
        }
        if entry.size() > limits.file_bytes {
            return Err(CapsuleError::TooLarge(format!(
                "`{name}` is {} bytes; a file may have at most {}",
                entry.size(),
                limits.file_bytes
            )));
        }
        // Read at most one byte past the limit: a header that lies about the size is caught.
        let mut data = Vec::new();
        (&mut entry)
            .take(limits.file_bytes + 1)
            .read_to_end(&mut data)
            .map_err(|error| CapsuleError::Unreadable(format!("`{name}`: {error}")))?;
        if data.len() as u64 > limits.file_bytes {
            return Err(CapsuleError::TooLarge(format!(
                "`{name}` unpacks to more than {} bytes",
                limits.file_bytes
            )));
        }
        total += data.len() as u64;
        if total > limits.total_bytes {
            return Err(CapsuleError::TooLarge(format!(
                "the files unpack to more than {} bytes",
                limits.total_bytes
            )));
        }
        if contents.insert(name.clone(), data).is_some() {
            return Err(CapsuleError::Mismatch(format!("`{name}` appears twice")));
        }
    }
    let manifest_bytes = contents
        .remove(MANIFEST_NAME)
        .ok_or_else(|| CapsuleError::Mismatch(format!("no {MANIFEST_NAME}")))?;
    let signature_bytes = contents
        .remove(SIGNATURE_NAME)
        .ok_or_else(|| CapsuleError::Mismatch(format!("no {SIGNATURE_NAME}")))?;
    let signature: Signature = serde_json::from_slice(&signature_bytes)
        .map_err(|error| CapsuleError::Unreadable(format!("{SIGNATURE_NAME}: {error}")))?;
    signing::check(&signature, &manifest_bytes)?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|error| CapsuleError::Unreadable(format!("{MANIFEST_NAME}: {error}")))?;
    if manifest.format_version != FORMAT_VERSION {
        return Err(CapsuleError::Unreadable(format!(
            "format version {}; this version reads {FORMAT_VERSION}",
            manifest.format_version
        )));
    }
    let listed: BTreeSet<&str> = manifest.files.iter().map(|file| file.path.as_str()).collect();
    if let Some(extra) = contents.keys().find(|path| !listed.contains(path.as_str())) {
        return Err(CapsuleError::Mismatch(format!("`{extra}` is not in the manifest")));
    }
    let mut files = Vec::with_capacity(manifest.files.len());
    for entry in &manifest.files {
        let data = contents
            .remove(&entry.path)
            .ok_or_else(|| CapsuleError::Mismatch(format!("`{}` is missing", entry.path)))?;
        if data.len() as u64 != entry.size || hex::encode(Sha256::digest(&data)) != entry.sha256 {
            return Err(CapsuleError::Mismatch(format!(
                "`{}` does not match its hash and size in the manifest",
                entry.path
            )));
        }
        files.push(ProjectFile { path: entry.path.clone(), contents: data });
    }
    Ok(Verified { manifest, signature, files })
}

fn is_reserved(path: &str) -> bool {
    path == MANIFEST_NAME || path == SIGNATURE_NAME
}

/// A safe relative path: `/` separators, no empty, `.` or `..` part, no leading `/`, no
/// backslash, drive letter or control character.
fn check_path(path: &str, limits: &Limits) -> Result<(), CapsuleError> {
    let unsafe_path = || CapsuleError::UnsafePath(path.chars().take(300).collect());
    if path.is_empty() || path.chars().count() > limits.path_chars {
        return Err(unsafe_path());
    }
    if path.starts_with('/') || path.contains('\\') || path.contains(':') {
        return Err(unsafe_path());
    }
    if path.chars().any(char::is_control) {
        return Err(unsafe_path());
    }
    if path.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return Err(unsafe_path());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
