//! Refining from the workspace: an instruction starts a new generation from this one's current
//! files; on a refinement's own page, its changes are reviewed as diffs and accepted or
//! rejected file by file.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::editing::Editing;
use super::history::DiffTable;
use crate::api::refine::{DecideRefinedFile, RefineGeneration, refinement};
use crate::wire::RefinedFileView;

/// "What should change?" and a button that starts the refinement, then opens its page.
#[component]
pub fn RefineForm(generation: String) -> impl IntoView {
    let refine = ServerAction::<RefineGeneration>::new();
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(id)) = refine.value().get() {
            navigate(&format!("/generations/{id}"), Default::default());
        }
    });
    view! {
        <section class="card refine" aria-label="Refine">
            <h2>"Refine"</h2>
            <ActionForm action=refine>
                <input type="hidden" name="generation" value=generation />
                <label>
                    "What should change?"
                    <input type="text" name="instruction" required maxlength="2000"
                        placeholder="Expenses also have a category." />
                </label>
                <button type="submit" class="button-primary" disabled=move || refine.pending().get()>
                    {move || if refine.pending().get() { "Starting…" } else { "Refine" }}
                </button>
            </ActionForm>
            <p class="error" role="alert">
                {move || refine.value().get().and_then(Result::err).map(|error| error.message)}
            </p>
        </section>
    }
}

/// A succeeded refinement's changes against the generation it refines, file by file.
#[component]
pub fn RefinementReview(editing: Editing) -> impl IntoView {
    let decide = ServerAction::<DecideRefinedFile>::new();
    let changes = Resource::new(
        move || decide.version().get(),
        move |_| refinement(editing.generation.get_value()),
    );
    Effect::new(move |_| {
        let Some(Ok(decided)) = decide.value().get() else { return };
        match decided.workspace {
            Some(file) => {
                editing.workspace.update(|workspace| {
                    workspace.replaced(&file.path, file.version, file.content.clone());
                });
                editing.saves.update(|n| *n += 1);
            }
            // A rejected addition leaves the workspace (and the editor, if it was shown).
            None if decided.file.change == "added" => {
                let path = decided.file.path;
                editing.workspace.update(|workspace| workspace.omit(&path));
                if editing.selected.get_untracked().as_deref() == Some(path.as_str()) {
                    editing.selected.set(None);
                }
            }
            None => {}
        }
    });
    let file_view = move |file: RefinedFileView| {
        let path = StoredValue::new(file.path.clone());
        let choose = move |accept: bool| {
            decide.dispatch(DecideRefinedFile {
                generation: editing.generation.get_value(),
                path: path.get_value(),
                accept,
            });
        };
        let state = match file.decision.as_deref() {
            Some("accepted") => "Accepted",
            Some("rejected") => "Rejected",
            _ => "Undecided",
        };
        let note = if file.edits_conflict {
            "Your edits to this file touch the same lines: they are not in the proposal."
        } else if file.edits_merged {
            "Your edits to this file are kept in the proposal."
        } else {
            ""
        };
        let can_reject = file.change != "removed";
        let title = format!("{}: earlier text against the refinement", file.path);
        view! {
            <li class=format!("refined-file refined-{}", file.change)>
                <div class="refined-head">
                    <span class="refined-path">{file.path.clone()}</span>
                    <span class="muted">{file.change.clone()}</span>
                    <span class="refined-state" role="status"
                        aria-label=format!("Decision on {}", file.path)>{state}</span>
                    <button type="button" class="button-quiet"
                        aria-label=format!("Accept {}", file.path)
                        disabled=move || decide.pending().get()
                        on:click=move |_| choose(true)>"Accept"</button>
                    <button type="button" class="button-quiet"
                        aria-label=format!("Reject {}", file.path)
                        disabled=move || decide.pending().get() || !can_reject
                        on:click=move |_| choose(false)>"Reject"</button>
                </div>
                <p class="muted">{note}</p>
                <details>
                    <summary>{format!("Show the changes to {}", file.path)}</summary>
                    <DiffTable rows=file.rows title />
                </details>
            </li>
        }
    };
    view! {
        <section class="card refinement" aria-label="Review the refinement">
            <h2>"Review the refinement"</h2>
            <Transition fallback=|| view! { <p class="muted">"Comparing…"</p> }>
                {move || changes.get().map(|changes| match changes {
                    Ok(changes) => {
                        let count = changes.files.len();
                        view! {
                            <p>
                                {format!("\u{201c}{}\u{201d} changed {count} files of ", changes.instruction)}
                                <a href=format!("/generations/{}", changes.parent_id)>"the earlier generation"</a>
                                ". Accept or reject each."
                            </p>
                            <ul class="refined-files">
                                {changes.files.into_iter().map(file_view).collect_view()}
                            </ul>
                        }.into_any()
                    }
                    Err(error) => view! { <p class="error" role="alert">{error.message}</p> }.into_any(),
                })}
            </Transition>
            <p class="error" role="alert">
                {move || decide.value().get().and_then(Result::err).map(|error| error.message)}
            </p>
        </section>
    }
}
