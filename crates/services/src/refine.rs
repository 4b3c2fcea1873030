//! Refinements: an instruction ("expenses also have a category") starts a new generation from
//! a succeeded one, and its changes are then accepted or rejected file by file.
//!
//! The refinement is written from the parent's description followed by the instruction. The
//! person's own edits to the parent's files are carried into what it proposes by a three-way
//! merge (the parent's generated text is the common ancestor), so refining never silently drops
//! work; where an edit and the refinement touch the same lines, the refinement's text is
//! proposed and the file says so. Accepting a file makes the proposal its newest version;
//! rejecting it puts the parent's text back (a file the refinement added is then left out).

use std::collections::{BTreeMap, BTreeSet};

use ql_common::FieldError;
use ql_store::{Decision, FileVersion, Generation, GenerationId, NewGeneration};

use crate::{Principal, Result, ServiceError, Services};

/// The longest instruction accepted, in bytes.
pub const MAX_INSTRUCTION_BYTES: usize = 2_000;

/// How a refinement changed a file, against the parent's current files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Modified,
    Removed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Modified => "modified",
            Self::Removed => "removed",
        }
    }
}

/// One file a refinement changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefinedFile {
    pub path: String,
    pub change: Change,
    /// The parent's text as it is now (`None` for an added file).
    pub before: Option<String>,
    /// What the refinement proposes, with the person's edits merged in (`None` when removed).
    pub proposed: Option<String>,
    /// The person's edits to the parent were merged into the proposal.
    pub edits_merged: bool,
    /// The person's edits touch the lines the refinement changed: the proposal is the
    /// refinement's text alone.
    pub edits_conflict: bool,
    pub decision: Option<Decision>,
}

/// A refinement's changes, for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refinement {
    pub parent_id: String,
    pub instruction: String,
    pub files: Vec<RefinedFile>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(FieldError::new(field, message))
}

/// What a refinement proposes for a file the parent had: its own text with the person's edits
/// (`current` against `generated`) merged in. Returns the text and whether the edits were
/// merged (`Some(true)`), conflicted (`Some(false)`) or absent (`None`).
fn merge_edits(generated: &str, current: &str, refined: &str) -> (String, Option<bool>) {
    if current == generated {
        return (refined.to_owned(), None);
    }
    match diffy::merge(generated, current, refined) {
        Ok(merged) => (merged, Some(true)),
        Err(_) => (refined.to_owned(), Some(false)),
    }
}

/// The files a refinement changed, given the parent's generated and current files and the
/// refinement's generated ones (all by path).
fn changes(
    parent_generated: &BTreeMap<String, String>,
    parent_current: &BTreeMap<String, String>,
    refined: &BTreeMap<String, String>,
) -> Vec<RefinedFile> {
    let paths: BTreeSet<&String> = parent_current.keys().chain(refined.keys()).collect();
    let mut files = Vec::new();
    for path in paths {
        let before = parent_current.get(path);
        let file = match (before, refined.get(path)) {
            (Some(before), Some(refined)) => {
                let generated = parent_generated.get(path).unwrap_or(before);
                let (proposed, merged) = merge_edits(generated, before, refined);
                if &proposed == before {
                    continue;
                }
                RefinedFile {
                    path: path.clone(),
                    change: Change::Modified,
                    before: Some(before.clone()),
                    proposed: Some(proposed),
                    edits_merged: merged == Some(true),
                    edits_conflict: merged == Some(false),
                    decision: None,
                }
            }
            (None, Some(refined)) => RefinedFile {
                path: path.clone(),
                change: Change::Added,
                before: None,
                proposed: Some(refined.clone()),
                edits_merged: false,
                edits_conflict: false,
                decision: None,
            },
            (Some(before), None) => RefinedFile {
                path: path.clone(),
                change: Change::Removed,
                before: Some(before.clone()),
                proposed: None,
                edits_merged: false,
                edits_conflict: false,
                decision: None,
            },
            (None, None) => continue,
        };
        files.push(file);
    }
    files
}

impl Services {
    /// Starts a refinement of a succeeded generation: a new generation in the same project,
    /// with the same stack and model, written from the description and the instruction.
    pub async fn refine_generation(
        &self,
        principal: &Principal,
        parent: &str,
        instruction: &str,
    ) -> Result<Generation> {
        if !principal.role.can_write() {
            return Err(ServiceError::Forbidden("viewers cannot refine"));
        }
        let instruction = instruction.trim();
        if instruction.is_empty() {
            return Err(invalid("instruction", "Say what to change."));
        }
        if instruction.len() > MAX_INSTRUCTION_BYTES {
            return Err(invalid(
                "instruction",
                format!("The instruction is longer than {MAX_INSTRUCTION_BYTES} bytes."),
            ));
        }
        let parent =
            self.store.generations.get(&principal.org_id, &GenerationId(parent.to_owned())).await?;
        if parent.status != "succeeded" {
            return Err(ServiceError::Conflict(FieldError::new(
                "generation",
                "Only a generation that succeeded can be refined.",
            )));
        }
        let description = format!("{}\n\n{instruction}", parent.description.trim_end());
        if description.len() > crate::generations::MAX_DESCRIPTION_BYTES {
            return Err(invalid(
                "instruction",
                "The description and the instruction together are too long.",
            ));
        }
        let new = NewGeneration {
            description,
            stack: parent.stack.clone(),
            model: parent.model.clone().unwrap_or_else(|| crate::generations::BUILTIN_MODEL.into()),
            run_tests: parent.run_tests,
            parent_id: Some(parent.id.clone()),
            instruction: Some(instruction.to_owned()),
            spec: None,
        };
        self.orchestrator
            .submit(&principal.actor(), &parent.project_id, new)
            .await
            .map_err(crate::generations::orchestrator_error)
    }

    /// What a succeeded refinement changed against its parent's current files, with the
    /// decisions taken so far.
    pub async fn refinement(&self, principal: &Principal, generation: &str) -> Result<Refinement> {
        let (record, parent) = self.refinement_parent(principal, generation).await?;
        let parent = self.store.generations.get(&principal.org_id, &parent).await?;
        let parent_generated = self.generated_files_of(principal, &parent).await?;
        let parent_current: BTreeMap<String, String> = self
            .workspace_of(principal, &parent, parent_generated.clone())
            .await?
            .into_iter()
            .map(|(path, file)| (path, file.content))
            .collect();
        let refined = self.generated_files_of(principal, &record).await?;
        let mut files = changes(&parent_generated, &parent_current, &refined);
        let decisions: BTreeMap<String, Option<Decision>> = self
            .store
            .file_versions
            .decisions(&principal.org_id, &record.id)
            .await?
            .into_iter()
            .map(|decided| (decided.path, Decision::parse(&decided.decision)))
            .collect();
        for file in &mut files {
            file.decision = decisions.get(&file.path).copied().flatten();
        }
        Ok(Refinement {
            parent_id: parent.id.0,
            instruction: record.instruction.unwrap_or_default(),
            files,
        })
    }

    /// Accepts or rejects one file of a refinement: accepting makes the proposal the file's
    /// newest version, rejecting puts the parent's text back. A decision can be changed.
    /// Answers the file's review entry and its newest version (`None` when the file is now
    /// left out or removed).
    pub async fn decide_refined_file(
        &self,
        principal: &Principal,
        generation: &str,
        path: &str,
        decision: Decision,
    ) -> Result<(RefinedFile, Option<FileVersion>)> {
        if !principal.role.can_write() {
            return Err(ServiceError::Forbidden("viewers cannot decide on changes"));
        }
        let refinement = self.refinement(principal, generation).await?;
        let mut file =
            refinement.files.into_iter().find(|file| file.path == path).ok_or_else(|| {
                invalid("path", format!("The refinement did not change `{path}`."))
            })?;
        let text = match (decision, file.change) {
            (Decision::Accepted, Change::Added | Change::Modified) => file.proposed.clone(),
            (Decision::Rejected, Change::Modified) => file.before.clone(),
            (Decision::Accepted, Change::Removed) | (Decision::Rejected, Change::Added) => None,
            (Decision::Rejected, Change::Removed) => {
                return Err(invalid(
                    "decision",
                    format!(
                        "The refinement has no `{path}` to put back: copy it from the earlier generation."
                    ),
                ));
            }
        };
        let version = match text {
            Some(text) => {
                let note = match decision {
                    Decision::Accepted => "accepted the refinement",
                    Decision::Rejected => "rejected the refinement",
                };
                Some(
                    self.store_version(principal, generation, path, text, None, note.to_owned())
                        .await?,
                )
            }
            None => None,
        };
        self.store
            .file_versions
            .decide(&principal.actor(), &GenerationId(generation.to_owned()), path, decision)
            .await?;
        file.decision = Some(decision);
        Ok((file, version))
    }

    /// Paths of a refinement's files that were added and then rejected: the workspace leaves
    /// them out.
    pub(crate) async fn rejected_additions(
        &self,
        principal: &Principal,
        record: &Generation,
    ) -> Result<BTreeSet<String>> {
        let Some(parent) = &record.parent_id else { return Ok(BTreeSet::new()) };
        let rejected: BTreeSet<String> = self
            .store
            .file_versions
            .decisions(&principal.org_id, &record.id)
            .await?
            .into_iter()
            .filter(|decided| Decision::parse(&decided.decision) == Some(Decision::Rejected))
            .map(|decided| decided.path)
            .collect();
        if rejected.is_empty() {
            return Ok(rejected);
        }
        let parent_files = self.generated_files(principal, parent).await?;
        Ok(rejected.into_iter().filter(|path| !parent_files.contains_key(path)).collect())
    }

    async fn refinement_parent(
        &self,
        principal: &Principal,
        generation: &str,
    ) -> Result<(Generation, GenerationId)> {
        let record = self
            .store
            .generations
            .get(&principal.org_id, &GenerationId(generation.to_owned()))
            .await?;
        let parent = record.parent_id.clone().ok_or_else(|| {
            ServiceError::Conflict(FieldError::new(
                "generation",
                "This generation is not a refinement of another.",
            ))
        })?;
        Ok((record, parent))
    }
}

#[cfg(test)]
mod tests;
