//! Versions of a generation's files as the person edits them.
//!
//! Version 1 is the text the generation wrote, kept when the file is first saved; each save,
//! restore or accepted refinement adds the next number. A save names the version it was made
//! on, so that an edit made on an older version (another tab, another person) is refused
//! instead of silently overwriting newer work.

use async_trait::async_trait;

use crate::{Actor, GenerationId, OrgId, Result, UserId};

/// The largest file text kept, in bytes.
pub const MAX_FILE_VERSION_BYTES: usize = 1024 * 1024;
/// The most versions one file keeps.
pub const MAX_VERSIONS_PER_FILE: i64 = 2_000;
/// The most versions one history read returns (the newest).
pub const MAX_VERSIONS_LISTED: i64 = 200;

/// One saved state of a file.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileVersion {
    pub generation_id: GenerationId,
    pub path: String,
    pub version: i64,
    pub content: String,
    /// SHA-256 of the text, hex.
    pub sha256: String,
    /// How the version came about: `generated`, `edited`, `restored version 3`, …
    pub note: String,
    pub created_by: Option<UserId>,
    pub created_at: i64,
}

/// A version as listed in a file's history: everything but the text.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileVersionSummary {
    pub version: i64,
    pub sha256: String,
    pub size_bytes: i64,
    pub note: String,
    pub created_by: Option<UserId>,
    pub created_at: i64,
}

/// A save of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    pub path: String,
    pub content: String,
    /// The text the generation wrote, kept as version 1 when the file has no version yet.
    pub original: String,
    /// The version the edit was made on; `None` saves on whatever is latest.
    pub base: Option<i64>,
    pub note: String,
}

/// Whether a refinement's change to a file is taken or left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Accepted,
    Rejected,
}

impl Decision {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }

    /// The stored word read back; `None` for anything else.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "accepted" => Some(Self::Accepted),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }
}

/// What the person decided about one file of a refinement.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefinementDecision {
    pub path: String,
    /// `accepted` or `rejected` (see [`Decision::parse`]).
    pub decision: String,
    pub decided_by: Option<UserId>,
    pub decided_at: i64,
}

#[async_trait]
pub trait FileVersionStore: Send + Sync {
    /// Saves `edit.content` as the file's next version and returns it. The latest version
    /// when the text is unchanged (nothing is stored); `Conflict` when `edit.base` is not the
    /// latest; `Limit` at [`MAX_VERSIONS_PER_FILE`] or above [`MAX_FILE_VERSION_BYTES`];
    /// `NotFound` for another organisation's generation.
    async fn save(
        &self,
        actor: &Actor,
        generation: &GenerationId,
        edit: FileEdit,
    ) -> Result<FileVersion>;

    /// A file's versions, newest first, at most [`MAX_VERSIONS_LISTED`].
    async fn history(
        &self,
        org: &OrgId,
        generation: &GenerationId,
        path: &str,
    ) -> Result<Vec<FileVersionSummary>>;

    /// One version of a file.
    async fn version(
        &self,
        org: &OrgId,
        generation: &GenerationId,
        path: &str,
        version: i64,
    ) -> Result<FileVersion>;

    /// The latest version of every file of the generation that has been saved, by path.
    async fn latest(&self, org: &OrgId, generation: &GenerationId) -> Result<Vec<FileVersion>>;

    /// Records (or changes) what the person decided about a file a refinement changed;
    /// `NotFound` for another organisation's generation.
    async fn decide(
        &self,
        actor: &Actor,
        generation: &GenerationId,
        path: &str,
        decision: Decision,
    ) -> Result<RefinementDecision>;

    /// The decisions taken on a refinement's files, by path.
    async fn decisions(
        &self,
        org: &OrgId,
        generation: &GenerationId,
    ) -> Result<Vec<RefinementDecision>>;
}

/// Implements [`FileVersionStore`] for an adapter with a `pool` and a `begin` method, in the
/// SQL both databases accept.
macro_rules! impl_file_version_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::FileVersionStore for $store {
            async fn save(
                &self,
                actor: &$crate::Actor,
                generation: &$crate::GenerationId,
                edit: $crate::FileEdit,
            ) -> $crate::Result<$crate::FileVersion> {
                use $crate::StoreError;
                use $crate::file_versions::{MAX_FILE_VERSION_BYTES, MAX_VERSIONS_PER_FILE};
                const OWNER: &str =
                    "SELECT id FROM generations WHERE organization_id = $1 AND id = $2";
                const LATEST: &str = concat!(
                    "SELECT ",
                    $crate::file_versions::file_version_columns!(),
                    " FROM file_versions WHERE organization_id = $1 AND generation_id = $2 \
                     AND path = $3 ORDER BY version DESC LIMIT 1"
                );
                const INSERT: &str = concat!(
                    "INSERT INTO file_versions (generation_id, organization_id, path, version, \
                     content, sha256, note, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
                    $crate::file_versions::file_version_columns!()
                );
                if edit.content.len() > MAX_FILE_VERSION_BYTES
                    || edit.original.len() > MAX_FILE_VERSION_BYTES
                {
                    return Err(StoreError::Limit(format!(
                        "a file may hold at most {MAX_FILE_VERSION_BYTES} bytes"
                    )));
                }
                let digest = |text: &str| {
                    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()))
                };
                let mut tx = self.begin().await?;
                sqlx::query(OWNER)
                    .bind(&actor.org)
                    .bind(generation)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "generation"))?;
                let latest = sqlx::query_as::<_, $crate::FileVersion>(LATEST)
                    .bind(&actor.org)
                    .bind(generation)
                    .bind(&edit.path)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::Database)?;
                let insert = |version: i64, content: &str, note: &str, by: Option<&$crate::UserId>| {
                    sqlx::query_as::<_, $crate::FileVersion>(INSERT)
                        .bind(generation)
                        .bind(&actor.org)
                        .bind(edit.path.clone())
                        .bind(version)
                        .bind(content.to_owned())
                        .bind(digest(content))
                        .bind(note.to_owned())
                        .bind(by.cloned())
                        .bind($crate::now_millis())
                };
                let latest = match latest {
                    Some(latest) => latest,
                    None => insert(1, &edit.original, "generated", None)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(|e| StoreError::from_sqlx(e, "newer version of the file"))?,
                };
                if edit.base.is_some_and(|base| base != latest.version) {
                    return Err(StoreError::Conflict("newer version of the file"));
                }
                if latest.sha256 == digest(&edit.content) {
                    tx.commit().await.map_err(StoreError::Database)?;
                    return Ok(latest);
                }
                if latest.version >= MAX_VERSIONS_PER_FILE {
                    return Err(StoreError::Limit(format!(
                        "`{}` has {MAX_VERSIONS_PER_FILE} versions, the most a file keeps",
                        edit.path
                    )));
                }
                let saved = insert(latest.version + 1, &edit.content, &edit.note, Some(&actor.user))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "newer version of the file"))?;
                tx.commit().await.map_err(StoreError::Database)?;
                Ok(saved)
            }

            async fn history(
                &self,
                org: &$crate::OrgId,
                generation: &$crate::GenerationId,
                path: &str,
            ) -> $crate::Result<Vec<$crate::FileVersionSummary>> {
                const SQL: &str = "SELECT version, sha256, CAST(octet_length(content) AS BIGINT) AS size_bytes, note, \
                     created_by, created_at FROM file_versions \
                     WHERE organization_id = $1 AND generation_id = $2 AND path = $3 \
                     ORDER BY version DESC LIMIT $4";
                sqlx::query_as::<_, $crate::FileVersionSummary>(SQL)
                    .bind(org)
                    .bind(generation)
                    .bind(path)
                    .bind($crate::file_versions::MAX_VERSIONS_LISTED)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::StoreError::Database)
            }

            async fn version(
                &self,
                org: &$crate::OrgId,
                generation: &$crate::GenerationId,
                path: &str,
                version: i64,
            ) -> $crate::Result<$crate::FileVersion> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::file_versions::file_version_columns!(),
                    " FROM file_versions WHERE organization_id = $1 AND generation_id = $2 \
                     AND path = $3 AND version = $4"
                );
                sqlx::query_as::<_, $crate::FileVersion>(SQL)
                    .bind(org)
                    .bind(generation)
                    .bind(path)
                    .bind(version)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| $crate::StoreError::from_sqlx(e, "file version"))
            }

            async fn latest(
                &self,
                org: &$crate::OrgId,
                generation: &$crate::GenerationId,
            ) -> $crate::Result<Vec<$crate::FileVersion>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::file_versions::file_version_columns!(),
                    " FROM file_versions v WHERE organization_id = $1 AND generation_id = $2 \
                     AND version = (SELECT MAX(l.version) FROM file_versions l \
                     WHERE l.organization_id = v.organization_id \
                     AND l.generation_id = v.generation_id AND l.path = v.path) ORDER BY path"
                );
                sqlx::query_as::<_, $crate::FileVersion>(SQL)
                    .bind(org)
                    .bind(generation)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::StoreError::Database)
            }

            async fn decide(
                &self,
                actor: &$crate::Actor,
                generation: &$crate::GenerationId,
                path: &str,
                decision: $crate::Decision,
            ) -> $crate::Result<$crate::RefinementDecision> {
                use $crate::StoreError;
                const OWNER: &str =
                    "SELECT id FROM generations WHERE organization_id = $1 AND id = $2";
                const UPSERT: &str = "INSERT INTO refinement_decisions (generation_id, \
                     organization_id, path, decision, decided_by, decided_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (generation_id, path) DO UPDATE SET decision = excluded.decision, \
                     decided_by = excluded.decided_by, decided_at = excluded.decided_at \
                     WHERE refinement_decisions.organization_id = excluded.organization_id \
                     RETURNING path, decision, decided_by, decided_at";
                let mut tx = self.begin().await?;
                sqlx::query(OWNER)
                    .bind(&actor.org)
                    .bind(generation)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "generation"))?;
                let decided = sqlx::query_as::<_, $crate::RefinementDecision>(UPSERT)
                    .bind(generation)
                    .bind(&actor.org)
                    .bind(path)
                    .bind(decision.as_str())
                    .bind(&actor.user)
                    .bind($crate::now_millis())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::from_sqlx(e, "decision"))?;
                tx.commit().await.map_err(StoreError::Database)?;
                Ok(decided)
            }

            async fn decisions(
                &self,
                org: &$crate::OrgId,
                generation: &$crate::GenerationId,
            ) -> $crate::Result<Vec<$crate::RefinementDecision>> {
                const SQL: &str = "SELECT path, decision, decided_by, decided_at \
                     FROM refinement_decisions WHERE organization_id = $1 AND generation_id = $2 \
                     ORDER BY path";
                sqlx::query_as::<_, $crate::RefinementDecision>(SQL)
                    .bind(org)
                    .bind(generation)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::StoreError::Database)
            }
        }
    };
}
pub(crate) use impl_file_version_store;

/// Columns of `file_versions`, in the order [`FileVersion`] reads them.
macro_rules! file_version_columns {
    () => {
        "generation_id, path, version, content, sha256, note, created_by, created_at"
    };
}
pub(crate) use file_version_columns;
