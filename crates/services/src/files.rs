//! Editing a generation's files: each save is a new version; the history lists them; any two
//! versions compare side by side; an old version is restored by saving it again.
//!
//! The files a generation wrote come from its capsule. A file nobody has saved yet has one
//! version, the generated text, which is stored (as version 1) on its first save.

mod diff;
mod download;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ql_common::FieldError;
use ql_store::{
    CapsuleId, FileEdit, FileVersion, FileVersionSummary, Generation, GenerationId, StoreError,
};

pub use diff::{DiffRow, MAX_DIFF_ROWS, side_by_side};
pub use download::Download;

use crate::{Principal, Result, ServiceError, Services};

/// A file as the workspace shows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceFile {
    pub path: String,
    /// 1 until the file is first saved.
    pub version: i64,
    pub content: String,
}

/// Verified capsules by organisation and capsule id, up to 64 MB of files, each kept while
/// used in the last 10 minutes.
pub(crate) type VerifiedCapsules = moka::future::Cache<(String, String), Arc<ql_capsule::Verified>>;

pub(crate) fn verified_capsules() -> VerifiedCapsules {
    moka::future::Cache::builder()
        .weigher(|_, verified: &Arc<ql_capsule::Verified>| {
            let bytes: usize = verified.files.iter().map(|file| file.contents.len()).sum();
            u32::try_from(bytes).unwrap_or(u32::MAX)
        })
        .max_capacity(64 * 1024 * 1024)
        .time_to_idle(Duration::from_secs(600))
        .build()
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(FieldError::new(field, message))
}

impl Services {
    /// The text files the generation wrote, by path, read from its verified capsule.
    pub(crate) async fn generated_files(
        &self,
        principal: &Principal,
        generation: &GenerationId,
    ) -> Result<BTreeMap<String, String>> {
        let record = self.store.generations.get(&principal.org_id, generation).await?;
        self.generated_files_of(principal, &record).await
    }

    /// [`Services::generated_files`] of a generation already read.
    pub(crate) async fn generated_files_of(
        &self,
        principal: &Principal,
        record: &Generation,
    ) -> Result<BTreeMap<String, String>> {
        let capsule = record.capsule_id.as_ref().ok_or_else(|| {
            ServiceError::Conflict(FieldError::new(
                "generation",
                "The generation has no files to edit until it has succeeded.",
            ))
        })?;
        let verified = self.verified_capsule(principal, capsule).await?;
        Ok(verified
            .files
            .iter()
            .filter_map(|file| {
                Some((file.path.clone(), String::from_utf8(file.contents.clone()).ok()?))
            })
            .collect())
    }

    /// One of the organisation's capsules, read and verified once: a kept capsule never
    /// changes, so saves and downloads reuse the check.
    pub(crate) async fn verified_capsule(
        &self,
        principal: &Principal,
        capsule: &CapsuleId,
    ) -> Result<Arc<ql_capsule::Verified>> {
        let key = (principal.org_id.0.clone(), capsule.0.clone());
        if let Some(verified) = self.verified_capsules.get(&key).await {
            return Ok(verified);
        }
        let (_, archive) = self.store.capsules.archive(&principal.org_id, capsule).await?;
        let verified =
            ql_capsule::verify(&archive, &ql_capsule::Limits::default()).map_err(|error| {
                ServiceError::Internal(format!("the capsule does not verify: {error}"))
            })?;
        let verified = Arc::new(verified);
        self.verified_capsules.insert(key, verified.clone()).await;
        Ok(verified)
    }

    /// Every text file of the generation as it is now: the generated text, or the latest
    /// saved version (without the files a refinement added and the person rejected).
    pub async fn workspace_files(
        &self,
        principal: &Principal,
        generation: &str,
    ) -> Result<Vec<WorkspaceFile>> {
        let generation = GenerationId(generation.to_owned());
        let record = self.store.generations.get(&principal.org_id, &generation).await?;
        let generated = self.generated_files_of(principal, &record).await?;
        Ok(self.workspace_of(principal, &record, generated).await?.into_values().collect())
    }

    /// The generated files with the latest saved versions laid over them, by path.
    pub(crate) async fn workspace_of(
        &self,
        principal: &Principal,
        record: &Generation,
        generated: BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, WorkspaceFile>> {
        let mut files: BTreeMap<String, WorkspaceFile> = generated
            .into_iter()
            .map(|(path, content)| (path.clone(), WorkspaceFile { path, version: 1, content }))
            .collect();
        for saved in self.store.file_versions.latest(&principal.org_id, &record.id).await? {
            if let Some(file) = files.get_mut(&saved.path) {
                file.version = saved.version;
                file.content = saved.content;
            }
        }
        for path in self.rejected_additions(principal, record).await? {
            files.remove(&path);
        }
        Ok(files)
    }

    /// Saves the person's text as the file's next version. `base` is the version the text was
    /// edited from: when someone saved a newer one meanwhile, the save is refused.
    pub async fn save_file(
        &self,
        principal: &Principal,
        generation: &str,
        path: &str,
        content: String,
        base: Option<i64>,
    ) -> Result<FileVersion> {
        self.store_version(principal, generation, path, content, base, "edited".to_owned()).await
    }

    /// Makes an old version the newest again (as a new version, so nothing is lost).
    pub async fn restore_file(
        &self,
        principal: &Principal,
        generation: &str,
        path: &str,
        version: i64,
    ) -> Result<FileVersion> {
        let old = self.file_version(principal, generation, path, version).await?;
        let note = format!("restored version {version}");
        self.store_version(principal, generation, path, old.content, None, note).await
    }

    pub(crate) async fn store_version(
        &self,
        principal: &Principal,
        generation: &str,
        path: &str,
        content: String,
        base: Option<i64>,
        note: String,
    ) -> Result<FileVersion> {
        if !principal.role.can_write() {
            return Err(ServiceError::Forbidden("viewers cannot edit files"));
        }
        if content.len() > ql_store::MAX_FILE_VERSION_BYTES {
            return Err(invalid(
                "content",
                format!("A file may hold at most {} bytes.", ql_store::MAX_FILE_VERSION_BYTES),
            ));
        }
        let generation = GenerationId(generation.to_owned());
        let mut generated = self.generated_files(principal, &generation).await?;
        let original = generated.remove(path).ok_or_else(|| {
            invalid("path", format!("`{path}` is not a text file of this generation."))
        })?;
        let edit = FileEdit { path: path.to_owned(), content, original, base, note };
        match self.store.file_versions.save(&principal.actor(), &generation, edit).await {
            Ok(saved) => Ok(saved),
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(FieldError::new(
                "base",
                "This file was saved elsewhere since you opened it: reload it to see the newer version.",
            ))),
            Err(StoreError::Limit(message)) => Err(invalid("content", message)),
            Err(other) => Err(other.into()),
        }
    }

    /// A file's saved versions, newest first; empty while it has never been saved.
    pub async fn file_history(
        &self,
        principal: &Principal,
        generation: &str,
        path: &str,
    ) -> Result<Vec<FileVersionSummary>> {
        let generation = GenerationId(generation.to_owned());
        Ok(self.store.file_versions.history(&principal.org_id, &generation, path).await?)
    }

    /// One version of a file; version 1 of a file never saved is the generated text.
    pub async fn file_version(
        &self,
        principal: &Principal,
        generation: &str,
        path: &str,
        version: i64,
    ) -> Result<FileVersion> {
        let id = GenerationId(generation.to_owned());
        match self.store.file_versions.version(&principal.org_id, &id, path, version).await {
            Err(StoreError::NotFound(_)) if version == 1 => {
                let content = self
                    .generated_files(principal, &id)
                    .await?
                    .remove(path)
                    .ok_or(ServiceError::NotFound("file"))?;
                let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&content));
                Ok(FileVersion {
                    generation_id: id,
                    path: path.to_owned(),
                    version: 1,
                    content,
                    sha256,
                    note: "generated".to_owned(),
                    created_by: None,
                    created_at: 0,
                })
            }
            other => Ok(other?),
        }
    }

    /// Two versions of a file side by side, `from` on the left.
    pub async fn file_diff(
        &self,
        principal: &Principal,
        generation: &str,
        path: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<DiffRow>> {
        let old = self.file_version(principal, generation, path, from).await?;
        let new = self.file_version(principal, generation, path, to).await?;
        Ok(side_by_side(&old.content, &new.content))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{EXPENSES, services, succeeded_generation};

    #[tokio::test]
    async fn files_are_edited_as_versions_compared_and_restored_by_their_organisation_only() {
        let (services, _dir) = services().await;
        let services = services.with_capsule_key(ql_capsule::InstallationKey::generate());
        let owner = services.sign_in_local().await.expect("sign in");
        let id = succeeded_generation(&services, &owner, EXPENSES).await;
        let files = services.workspace_files(&owner, &id).await.expect("files");
        let main = files.iter().find(|file| file.path == "app/main.py").expect("app/main.py");
        assert_eq!(main.version, 1);
        let generated = main.content.clone();
        assert!(
            services.file_history(&owner, &id, "app/main.py").await.expect("history").is_empty()
        );

        let edited = format!("{generated}\n# edited\n");
        let saved = services.save_file(&owner, &id, "app/main.py", edited.clone(), Some(1)).await;
        assert_eq!(saved.expect("save").version, 2);
        let files = services.workspace_files(&owner, &id).await.expect("files");
        let main = files.iter().find(|file| file.path == "app/main.py").expect("app/main.py");
        assert_eq!((main.version, main.content.as_str()), (2, edited.as_str()));

        let diff = services.file_diff(&owner, &id, "app/main.py", 1, 2).await.expect("diff");
        let changed: Vec<_> = diff.iter().filter(|row| row.kind != "same").collect();
        assert_eq!(changed.len(), 2, "{changed:?}");
        assert_eq!(changed[1].new.as_ref().map(|(_, text)| text.as_str()), Some("# edited"));

        let restored = services.restore_file(&owner, &id, "app/main.py", 1).await.expect("restore");
        assert_eq!((restored.version, restored.note.as_str()), (3, "restored version 1"));
        assert_eq!(restored.content, generated);

        // Refusals, each with its reason.
        match services.save_file(&owner, &id, "app/main.py", "stale".into(), Some(2)).await {
            Err(ServiceError::Conflict(error)) => assert_eq!(error.field, "base"),
            other => panic!("a stale base: {other:?}"),
        }
        for path in ["app/new.py", "../etc/passwd"] {
            match services.save_file(&owner, &id, path, "x".into(), None).await {
                Err(ServiceError::Invalid(error)) => assert_eq!(error.field, "path"),
                other => panic!("{path}: {other:?}"),
            }
        }
        let huge = "x".repeat(ql_store::MAX_FILE_VERSION_BYTES + 1);
        assert!(matches!(
            services.save_file(&owner, &id, "app/main.py", huge, None).await,
            Err(ServiceError::Invalid(_))
        ));
        let viewer = Principal { role: ql_common::Role::Viewer, ..owner.clone() };
        assert!(matches!(
            services.save_file(&viewer, &id, "app/main.py", "x".into(), None).await,
            Err(ServiceError::Forbidden(_))
        ));
        let outsider = Principal { org_id: ql_store::OrgId("another".into()), ..owner.clone() };
        assert!(matches!(
            services.workspace_files(&outsider, &id).await,
            Err(ServiceError::NotFound(_))
        ));
        assert!(matches!(
            services.file_version(&outsider, &id, "app/main.py", 1).await,
            Err(ServiceError::NotFound(_))
        ));
    }
}
