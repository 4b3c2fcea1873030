//! The capsule a person downloads from a generation's workspace: the generated capsule while
//! nobody has changed its files, otherwise a new capsule of the files as they are now. The new
//! one is signed by the installation like any other; its manifest says which capsule it was
//! made from and which files differ, and its quality report describes the edited files (the
//! analyzer ran again; the project's tests did not, and the report says so). The same
//! workspace always gives the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use ql_capsule::{Edited, Limits, Manifest, ProjectFile, ValidationReport};
use ql_common::FieldError;
use ql_store::{FileVersion, GenerationId};
use sha2::{Digest, Sha256};

use crate::{Principal, Result, ServiceError, Services};

/// A capsule to download: the file name to save it as, its SHA-256 (hex), its bytes.
pub type Download = (String, String, Vec<u8>);

impl Services {
    /// The generation's capsule with the workspace's edits (see the module's documentation).
    pub async fn workspace_capsule(
        &self,
        principal: &Principal,
        generation: &str,
    ) -> Result<Download> {
        let id = GenerationId(generation.to_owned());
        let record = self.store.generations.get(&principal.org_id, &id).await?;
        let capsule = record.capsule_id.clone().ok_or_else(|| {
            ServiceError::Conflict(FieldError::new(
                "generation",
                "The generation has no capsule until it has succeeded.",
            ))
        })?;
        let verified = self.verified_capsule(principal, &capsule).await?;
        let saved = self.store.file_versions.latest(&principal.org_id, &id).await?;
        let left_out = self.rejected_additions(principal, &record).await?;
        let Some(edits) = edits_of(&verified.files, &saved, &left_out) else {
            return self.capsule_download(principal, &capsule.0).await;
        };
        let key = self
            .capsule_key
            .clone()
            .ok_or_else(|| ServiceError::Internal("no capsule signing key is configured".into()))?;
        let manifest = verified.manifest.clone();
        tokio::task::spawn_blocking(move || pack_edits(manifest, edits, &key))
            .await
            .map_err(|error| ServiceError::Internal(format!("packing stopped: {error}")))?
    }
}

/// The workspace's files where they differ from the generated ones.
#[derive(Debug)]
struct Edits {
    files: Vec<ProjectFile>,
    edited: Edited,
    /// When the newest of the edits was saved (ms since the epoch).
    last_saved_at: i64,
}

/// The generated files with the newest saved text laid over them and the left-out paths
/// taken away; `None` when that changes nothing.
fn edits_of(
    generated: &[ProjectFile],
    saved: &[FileVersion],
    left_out: &BTreeSet<String>,
) -> Option<Edits> {
    let newest: BTreeMap<&str, &FileVersion> =
        saved.iter().map(|version| (version.path.as_str(), version)).collect();
    let (mut changed, mut removed, mut files) = (Vec::new(), Vec::new(), Vec::new());
    let mut last_saved_at = 0;
    for file in generated {
        if left_out.contains(&file.path) {
            removed.push(file.path.clone());
            continue;
        }
        match newest.get(file.path.as_str()) {
            Some(version) if version.content.as_bytes() != file.contents => {
                changed.push(file.path.clone());
                last_saved_at = last_saved_at.max(version.created_at);
                files.push(ProjectFile {
                    path: file.path.clone(),
                    contents: version.content.clone().into_bytes(),
                });
            }
            _ => files.push(file.clone()),
        }
    }
    if changed.is_empty() && removed.is_empty() {
        return None;
    }
    changed.sort();
    removed.sort();
    Some(Edits { files, edited: Edited { from: String::new(), changed, removed }, last_saved_at })
}

/// Packs the edited files under the generated capsule's manifest, updated for them.
fn pack_edits(
    generated: Manifest,
    edits: Edits,
    key: &ql_capsule::InstallationKey,
) -> Result<Download> {
    let Edits { files, mut edited, last_saved_at } = edits;
    let mut manifest = generated;
    edited.from = manifest.id.clone();
    manifest.id = edited_id(&manifest.id, &files);
    manifest.created_at = rfc3339(last_saved_at).unwrap_or(manifest.created_at);
    manifest.validation = analysed_again(&files);
    manifest.edited = Some(edited);
    let app = manifest.spec["name"].as_str().unwrap_or("capsule").to_owned();
    let capsule = ql_capsule::build(manifest, &files, key, &Limits::default())
        .map_err(|error| ServiceError::Invalid(FieldError::new("files", error.to_string())))?;
    let sha256 = hex::encode(Sha256::digest(&capsule.bytes));
    Ok((format!("{app}-edited-{}.zip", &sha256[..12]), sha256, capsule.bytes))
}

/// An id for the edited capsule that follows from its files: the generated id and a hash.
fn edited_id(generated: &str, files: &[ProjectFile]) -> String {
    let mut hash = Sha256::new();
    for file in files {
        hash.update(file.path.as_bytes());
        hash.update([0]);
        hash.update((file.contents.len() as u64).to_le_bytes());
        hash.update(&file.contents);
    }
    format!("{generated}-edited-{}", &hex::encode(hash.finalize())[..16])
}

/// The analyzer's report over the edited files; their tests were not run again.
fn analysed_again(files: &[ProjectFile]) -> ValidationReport {
    let texts: Vec<ql_engine::templates::GeneratedFile> = files
        .iter()
        .filter_map(|file| {
            Some(ql_engine::templates::GeneratedFile {
                path: file.path.clone(),
                contents: String::from_utf8(file.contents.clone()).ok()?,
            })
        })
        .collect();
    ql_engine::validate::capsule_report(&ql_engine::validate::check_files(&texts), None)
}

fn rfc3339(millis: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp(millis / 1_000).ok()?;
    at.format(&time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests;
