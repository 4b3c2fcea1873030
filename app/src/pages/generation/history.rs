//! The selected file's version history: every saved version, any one compared side by side
//! with the newest, and restoring an old one (as a new version, so nothing is lost).

use leptos::prelude::*;

use super::editing::Editing;
use crate::api::files::{FileDiff, RestoreFile, file_history};
use crate::wire::{DiffRowView, FileVersionView};

#[component]
pub fn FileHistory(editing: Editing) -> impl IntoView {
    let history = Resource::new(
        move || (editing.selected.get(), editing.saves.get()),
        move |(path, _)| async move {
            match path {
                Some(path) => file_history(editing.generation.get_value(), path).await,
                None => Ok(Vec::new()),
            }
        },
    );
    let diff = ServerAction::<FileDiff>::new();
    let restore = ServerAction::<RestoreFile>::new();
    // A comparison belongs to the file it was made on.
    Effect::new(move |_| {
        editing.selected.track();
        diff.clear();
    });
    Effect::new(move |_| {
        if let Some(Ok(file)) = restore.value().get() {
            editing.workspace.update(|workspace| {
                workspace.replaced(&file.path, file.version, file.content.clone());
            });
            editing.saves.update(|n| *n += 1);
        }
    });
    let compared = RwSignal::new((0, 0));
    let compare = move |from: i64, to: i64| {
        if let Some(path) = editing.selected.get_untracked() {
            compared.set((from, to));
            diff.dispatch(FileDiff { generation: editing.generation.get_value(), path, from, to });
        }
    };
    let restore_version = move |version: i64| {
        if let Some(path) = editing.selected.get_untracked() {
            diff.clear();
            restore.dispatch(RestoreFile {
                generation: editing.generation.get_value(),
                path,
                version,
            });
        }
    };
    let versions_view = move |versions: Vec<FileVersionView>| {
        if versions.is_empty() {
            return view! { <p class="muted">"No saved versions yet: edits are saved as you type."</p> }
                .into_any();
        }
        let newest = versions.first().map_or(1, |version| version.version);
        view! {
            <ol class="versions">
                {versions.into_iter().map(|version| {
                    let number = version.version;
                    let when = if version.saved.is_empty() { String::new() } else { format!(" · {}", version.saved) };
                    view! {
                        <li class="version">
                            <span class="version-name">{format!("Version {number}")}</span>
                            <span class="muted">{format!("{}{when} · {} bytes", version.note, version.size_bytes)}</span>
                            <span class="version-actions">
                                <button type="button" class="button-quiet" disabled=number == newest
                                    aria-label=format!("Compare version {number} with version {newest}")
                                    on:click=move |_| compare(number, newest)>"Compare"</button>
                                <button type="button" class="button-quiet" disabled=number == newest
                                    aria-label=format!("Restore version {number}")
                                    on:click=move |_| restore_version(number)>"Restore"</button>
                            </span>
                        </li>
                    }
                }).collect_view()}
            </ol>
        }
        .into_any()
    };
    view! {
        <section class="card history" aria-label="History">
            <h2>"History"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || history.get().map(|versions| match versions {
                    Ok(versions) => versions_view(versions),
                    Err(error) => view! { <p class="error" role="alert">{error.message}</p> }.into_any(),
                })}
            </Transition>
            <p class="error" role="alert">
                {move || restore.value().get().and_then(Result::err).map(|error| error.message)}
            </p>
            {move || diff.value().get().map(|rows| match rows {
                Ok(rows) => {
                    let (from, to) = compared.get();
                    let title = format!("Version {from} against version {to}");
                    view! { <DiffTable rows title /> }.into_any()
                }
                Err(error) => view! { <p class="error" role="alert">{error.message}</p> }.into_any(),
            })}
        </section>
    }
}

/// Two versions side by side: the old one left, the new one right, changed lines marked.
#[component]
pub fn DiffTable(rows: Vec<DiffRowView>, title: String) -> impl IntoView {
    let changed = rows.iter().filter(|row| row.kind != "same").count();
    view! {
        <div class="diff-wrap">
            <p class="diff-title">{format!("{title}: {changed} lines differ")}</p>
            <table class="diff" aria-label=title>
                <tbody>
                    {rows.into_iter().map(|row| view! {
                        <tr class=format!("diff-{}", row.kind)>
                            <td class="diff-line">{row.old_line.map(|n| n.to_string())}</td>
                            <td class="diff-old">{row.old_text}</td>
                            <td class="diff-line">{row.new_line.map(|n| n.to_string())}</td>
                            <td class="diff-new">{row.new_text}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
