//! Editing a generation's files from the workspace: the files as they are now, saving a
//! version, a file's history, two versions side by side, restoring an old version.

use leptos::prelude::*;

use crate::AppError;
use crate::wire::{DiffRowView, FileVersionView, WorkspaceFileView};

/// When a version was saved, for people; empty for the generated text's version.
#[cfg(feature = "ssr")]
fn saved_at(created_at: i64) -> String {
    if created_at == 0 { String::new() } else { crate::ssr::format_time(created_at) }
}

#[cfg(feature = "ssr")]
fn version_view(version: &ql_services::FileVersion) -> FileVersionView {
    FileVersionView {
        version: version.version,
        note: version.note.clone(),
        size_bytes: version.content.len() as i64,
        saved: saved_at(version.created_at),
    }
}

/// A diff row as the page shows it.
#[cfg(feature = "ssr")]
pub(crate) fn diff_row_view(row: ql_services::DiffRow) -> DiffRowView {
    let (old_line, old_text) = row.old.map_or((None, None), |(n, t)| (Some(n), Some(t)));
    let (new_line, new_text) = row.new.map_or((None, None), |(n, t)| (Some(n), Some(t)));
    DiffRowView { kind: row.kind.to_owned(), old_line, old_text, new_line, new_text }
}

/// Every text file of a succeeded generation, with its latest saved text.
#[server]
pub async fn workspace_files(generation: String) -> Result<Vec<WorkspaceFileView>, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let files = services()?.workspace_files(&principal, &generation).await?;
        Ok(files
            .into_iter()
            .map(|file| WorkspaceFileView {
                path: file.path,
                version: file.version,
                content: file.content,
            })
            .collect())
    })
    .await
}

/// Saves the text as the file's next version; `base` is the version it was edited from.
#[server]
pub async fn save_file(
    generation: String,
    path: String,
    content: String,
    base: Option<i64>,
) -> Result<FileVersionView, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let saved = services()?.save_file(&principal, &generation, &path, content, base).await?;
        Ok(version_view(&saved))
    })
    .await
}

/// A file's saved versions, newest first.
#[server]
pub async fn file_history(
    generation: String,
    path: String,
) -> Result<Vec<FileVersionView>, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let history = services()?.file_history(&principal, &generation, &path).await?;
        Ok(history
            .into_iter()
            .map(|summary| FileVersionView {
                version: summary.version,
                note: summary.note,
                size_bytes: summary.size_bytes,
                saved: saved_at(summary.created_at),
            })
            .collect())
    })
    .await
}

/// Version `from` (left) against version `to` (right), line by line.
#[server]
pub async fn file_diff(
    generation: String,
    path: String,
    from: i64,
    to: i64,
) -> Result<Vec<DiffRowView>, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let rows = services()?.file_diff(&principal, &generation, &path, from, to).await?;
        Ok(rows.into_iter().map(diff_row_view).collect())
    })
    .await
}

/// Makes an old version the newest again; answers the file as it is now.
#[server]
pub async fn restore_file(
    generation: String,
    path: String,
    version: i64,
) -> Result<WorkspaceFileView, AppError> {
    use crate::ssr::{current_principal, services};
    crate::ssr::respond(async move {
        let principal = current_principal().await?;
        let restored = services()?.restore_file(&principal, &generation, &path, version).await?;
        Ok(WorkspaceFileView { path, version: restored.version, content: restored.content })
    })
    .await
}
