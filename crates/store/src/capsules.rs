//! Capsules of a project: the signed archive, its manifest and hash, listed newest first.

use async_trait::async_trait;

use crate::{Actor, CapsuleId, GenerationId, NewCapsule, OrgId, ProjectId, Result, StoredCapsule};

#[async_trait]
pub trait CapsuleStore: Send + Sync {
    /// Keeps a capsule of one of the actor's organisation's projects; audited.
    async fn create(
        &self,
        actor: &Actor,
        project: &ProjectId,
        capsule: NewCapsule,
    ) -> Result<StoredCapsule>;

    /// A project's capsules, newest first, without their archives.
    async fn list(&self, org: &OrgId, project: &ProjectId) -> Result<Vec<StoredCapsule>>;

    /// A capsule's archive and its record.
    async fn archive(&self, org: &OrgId, id: &CapsuleId) -> Result<(StoredCapsule, Vec<u8>)>;

    /// Keeps the capsule a generation packed, in the generation's project; audited as its
    /// creator's. A generation has at most one: when it already has one, that one is returned
    /// and `capsule` is dropped.
    async fn create_for_generation(
        &self,
        org: &OrgId,
        generation: &GenerationId,
        capsule: NewCapsule,
    ) -> Result<StoredCapsule>;
}
