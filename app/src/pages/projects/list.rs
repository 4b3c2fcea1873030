//! The list of project cards, each with its rename link and a two-step delete.

use leptos::prelude::*;
use leptos_router::components::A;

use super::ProjectActions;
use crate::wire::ProjectView;

#[component]
pub(super) fn ProjectList(projects: Vec<ProjectView>) -> impl IntoView {
    view! {
        <ul class="project-list" aria-label="Projects">
            {projects.into_iter().map(|project| view! { <ProjectCard project /> }).collect_view()}
        </ul>
    }
}

#[component]
fn ProjectCard(project: ProjectView) -> impl IntoView {
    let delete = expect_context::<ProjectActions>().delete;
    let confirming = RwSignal::new(false);
    let edit_href = format!("/projects/{}/edit", project.id);
    let capsules_href = format!("/projects/{}/capsules", project.id);
    let id = StoredValue::new(project.id.clone());
    let name = project.name.clone();

    view! {
        <li class="card project" data-project-id=project.id>
            <div class="project-head">
                <h2 class="project-name">{project.name}</h2>
                <div class="actions">
                    <A href=capsules_href attr:class="button-quiet" attr:aria-label=format!("Capsules of {name}")>
                        "Capsules"
                    </A>
                    <A href=edit_href attr:class="button-quiet" attr:aria-label=format!("Rename {name}")>
                        "Rename"
                    </A>
                    <Show
                        when=move || confirming.get()
                        fallback=move || {
                            view! {
                                <button
                                    type="button"
                                    class="button-quiet"
                                    on:click=move |_| confirming.set(true)
                                >
                                    "Delete"
                                </button>
                            }
                        }
                    >
                        <ActionForm action=delete attr:class="inline">
                            <input type="hidden" name="id" value=id.get_value() />
                            <button type="submit" class="button-danger">
                                "Confirm delete"
                            </button>
                        </ActionForm>
                        <button type="button" class="button-quiet" on:click=move |_| confirming.set(false)>
                            "Keep"
                        </button>
                    </Show>
                </div>
            </div>
            {(!project.description.is_empty())
                .then(|| view! { <p class="muted">{project.description}</p> })}
            <p class="meta">"Created " {project.created}</p>
        </li>
    }
}
